//! Convey explicit consent (protocol-06 §5.7).

use serde::Serialize;

use super::common::{
    put, tls_via_wire, wire_enum, wire_struct, IdentifierUri, Reader, WireDecode, WireError,
};
use super::mls::{AppDataDictionary, KeyPackage};

wire_enum! {
    /// `ConsentOperation` (protocol-06 §5.7).
    pub enum ConsentOperation: u8 = "ConsentOperation" {
        /// `cancel(0)`.
        Cancel = 0 => "cancel",
        /// `request(1)`.
        Request = 1 => "request",
        /// `grant(2)`.
        Grant = 2 => "grant",
        /// `revoke(3)`.
        Revoke = 3 => "revoke",
    }
}

/// `ConsentEntry` (protocol-06 §5.7). The draft's undefined `RoomId` is read as
/// [`IdentifierUri`] (see `spec/deviations.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentEntry {
    /// `consentOperation` and its arm.
    #[serde(flatten)]
    pub operation: ConsentOp,
    /// `IdentifierUri requesterUri`.
    #[serde(rename = "requesterUri")]
    pub requester_uri: IdentifierUri,
    /// `IdentifierUri targetUri`.
    #[serde(rename = "targetUri")]
    pub target_uri: IdentifierUri,
    /// `optional<RoomId> roomId`.
    #[serde(rename = "roomId")]
    pub room_id: Option<IdentifierUri>,
    /// `AppDataDictionary consent_extensions`.
    pub consent_extensions: AppDataDictionary,
}

/// `consentOperation` with the `select (consentOperation)` arm of [`ConsentEntry`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "consentOperation")]
pub enum ConsentOp {
    /// `cancel`.
    #[serde(rename = "cancel")]
    Cancel,
    /// `request`.
    #[serde(rename = "request")]
    Request,
    /// `grant`: `KeyPackage clientKeyPackages<V>` (may be empty).
    #[serde(rename = "grant")]
    Grant {
        /// KeyPackages of the granting user's clients.
        #[serde(rename = "clientKeyPackages")]
        client_key_packages: Vec<KeyPackage>,
    },
    /// `revoke`.
    #[serde(rename = "revoke")]
    Revoke,
}

impl ConsentOp {
    /// The operation code.
    pub fn code(&self) -> ConsentOperation {
        match self {
            Self::Cancel => ConsentOperation::Cancel,
            Self::Request => ConsentOperation::Request,
            Self::Grant { .. } => ConsentOperation::Grant,
            Self::Revoke => ConsentOperation::Revoke,
        }
    }
}

impl ConsentEntry {
    fn write(&self, out: &mut Vec<u8>) -> Result<(), tls_codec::Error> {
        put(out, &self.operation.code())?;
        put(out, &self.requester_uri)?;
        put(out, &self.target_uri)?;
        put(out, &self.room_id)?;
        if let ConsentOp::Grant {
            client_key_packages,
        } = &self.operation
        {
            put(out, client_key_packages)?;
        }
        put(out, &self.consent_extensions)
    }

    /// The scope of this entry.
    pub fn scope(&self) -> ConsentScope {
        ConsentScope {
            requester_uri: self.requester_uri.clone(),
            target_uri: self.target_uri.clone(),
            room_id: self.room_id.clone(),
        }
    }
}
impl WireDecode for ConsentEntry {
    const NAME: &'static str = "ConsentEntry";
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let code = ConsentOperation::decode(r).map_err(|e| e.field("consentOperation"))?;
        let requester_uri = IdentifierUri::decode(r).map_err(|e| e.field("requesterUri"))?;
        let target_uri = IdentifierUri::decode(r).map_err(|e| e.field("targetUri"))?;
        let room_id = Option::<IdentifierUri>::decode(r).map_err(|e| e.field("roomId"))?;
        let operation = match code {
            ConsentOperation::Cancel => ConsentOp::Cancel,
            ConsentOperation::Request => ConsentOp::Request,
            ConsentOperation::Grant => ConsentOp::Grant {
                client_key_packages: Vec::<KeyPackage>::decode(r)
                    .map_err(|e| e.field("clientKeyPackages"))?,
            },
            ConsentOperation::Revoke => ConsentOp::Revoke,
        };
        let consent_extensions =
            AppDataDictionary::decode(r).map_err(|e| e.field("consent_extensions"))?;
        Ok(Self {
            operation,
            requester_uri,
            target_uri,
            room_id,
            consent_extensions,
        })
    }
}
tls_via_wire!(ConsentEntry);

wire_struct! {
    /// `ConsentScope` (protocol-06 §5.7).
    pub struct ConsentScope = "ConsentScope" {
        /// `IdentifierUri requesterUri`.
        pub requester_uri: IdentifierUri => "requesterUri",
        /// `IdentifierUri targetUri`.
        pub target_uri: IdentifierUri => "targetUri",
        /// `optional<RoomId> roomId`.
        pub room_id: Option<IdentifierUri> => "roomId",
    }
}
