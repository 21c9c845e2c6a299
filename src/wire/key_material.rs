//! Fetch key material (protocol-06 §5.2).

use serde::Serialize;

use super::common::{
    put, tls_via_wire, wire_enum, wire_struct, IdentifierUri, Opaque, Protocol, Reader, WireDecode,
    WireError,
};
use super::mls::{
    CipherSuite, KeyPackage, MlsCapabilities, MlsCredential, RequiredCapabilities,
    SignaturePublicKey,
};

/// SignWithLabel label for [`KeyMaterialRequestTBS`].
pub const KEY_MATERIAL_REQUEST_TBS_LABEL: &str = "KeyMaterialRequestTBS";

wire_struct! {
    /// `KeyMaterialRequest` (protocol-06 §5.2). The `select (protocol)` has only the mls10
    /// case, whose fields follow `roomId` directly.
    pub struct KeyMaterialRequest = "KeyMaterialRequest" {
        /// `Protocol protocol`.
        pub protocol: Protocol => "protocol",
        /// `IdentifierUri requestingUser`.
        pub requesting_user: IdentifierUri => "requestingUser",
        /// `IdentifierUri targetUser`.
        pub target_user: IdentifierUri => "targetUser",
        /// `IdentifierUri roomId` (an empty URI when the fetch is not for a room).
        pub room_id: IdentifierUri => "roomId",
        /// `CipherSuite acceptableCiphersuites<V>`.
        pub acceptable_ciphersuites: Vec<CipherSuite> => "acceptableCiphersuites",
        /// `RequiredCapabilities requiredCapabilities`.
        pub required_capabilities: RequiredCapabilities => "requiredCapabilities",
        /// `SignaturePublicKey requesterSignatureKey`.
        pub requester_signature_key: SignaturePublicKey => "requesterSignatureKey",
        /// `Credential requesterCredential`.
        pub requester_credential: MlsCredential => "requesterCredential",
        /// `opaque key_material_request_signature<V>`.
        pub key_material_request_signature: Opaque => "key_material_request_signature",
    }
}

wire_struct! {
    /// `KeyMaterialRequestTBS` (protocol-06 §5.2): the request without its signature.
    pub struct KeyMaterialRequestTBS = "KeyMaterialRequestTBS" {
        /// `Protocol protocol`.
        pub protocol: Protocol => "protocol",
        /// `IdentifierUri requestingUser`.
        pub requesting_user: IdentifierUri => "requestingUser",
        /// `IdentifierUri targetUser`.
        pub target_user: IdentifierUri => "targetUser",
        /// `IdentifierUri roomId`.
        pub room_id: IdentifierUri => "roomId",
        /// `CipherSuite acceptableCiphersuites<V>`.
        pub acceptable_ciphersuites: Vec<CipherSuite> => "acceptableCiphersuites",
        /// `RequiredCapabilities requiredCapabilities`.
        pub required_capabilities: RequiredCapabilities => "requiredCapabilities",
        /// `SignaturePublicKey requesterSignatureKey`.
        pub requester_signature_key: SignaturePublicKey => "requesterSignatureKey",
        /// `Credential requesterCredential`.
        pub requester_credential: MlsCredential => "requesterCredential",
    }
}

impl KeyMaterialRequest {
    /// The to-be-signed part (every field but the signature).
    pub fn tbs(&self) -> KeyMaterialRequestTBS {
        KeyMaterialRequestTBS {
            protocol: self.protocol,
            requesting_user: self.requesting_user.clone(),
            target_user: self.target_user.clone(),
            room_id: self.room_id.clone(),
            acceptable_ciphersuites: self.acceptable_ciphersuites.clone(),
            required_capabilities: self.required_capabilities.clone(),
            requester_signature_key: self.requester_signature_key.clone(),
            requester_credential: self.requester_credential.clone(),
        }
    }
}

wire_enum! {
    /// `KeyMaterialUserCode` (protocol-06 §5.2; the draft's `;` separators read as `,`).
    pub enum KeyMaterialUserCode: u8 = "KeyMaterialUserCode" {
        /// `success(0)`.
        Success = 0 => "success",
        /// `partialSuccess(1)`.
        PartialSuccess = 1 => "partialSuccess",
        /// `incompatibleProtocol(2)`.
        IncompatibleProtocol = 2 => "incompatibleProtocol",
        /// `noCompatibleMaterial(3)`.
        NoCompatibleMaterial = 3 => "noCompatibleMaterial",
        /// `userUnknown(4)`.
        UserUnknown = 4 => "userUnknown",
        /// `noConsent(5)`.
        NoConsent = 5 => "noConsent",
        /// `noConsentForThisRoom(6)`.
        NoConsentForThisRoom = 6 => "noConsentForThisRoom",
        /// `userDeleted(7)`.
        UserDeleted = 7 => "userDeleted",
    }
}

wire_enum! {
    /// `KeyMaterialClientCode` (protocol-06 §5.2).
    pub enum KeyMaterialClientCode: u8 = "KeyMaterialClientCode" {
        /// `success(0)`.
        Success = 0 => "success",
        /// `keyMaterialExhausted(1)`.
        KeyMaterialExhausted = 1 => "keyMaterialExhausted",
        /// `nothingCompatible(2)`.
        NothingCompatible = 2 => "nothingCompatible",
    }
}

/// `ClientKeyMaterial` (protocol-06 §5.2). Its outer `select (protocol)` takes the protocol
/// of the enclosing [`KeyMaterialResponse`]; see [`ClientKeyMaterial::decode_for`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientKeyMaterial {
    /// `IdentifierUri clientUri`.
    #[serde(rename = "clientUri")]
    pub client_uri: IdentifierUri,
    /// `clientStatus` and the per-status payload.
    #[serde(flatten)]
    pub status: ClientKeyMaterialStatus,
}

/// `clientStatus` with the `select (clientStatus)` arms of [`ClientKeyMaterial`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "clientStatus")]
pub enum ClientKeyMaterialStatus {
    /// `success`: `KeyPackage keyPackage`.
    #[serde(rename = "success")]
    Success {
        /// The claimed KeyPackage.
        #[serde(rename = "keyPackage")]
        key_package: KeyPackage,
    },
    /// `keyMaterialExhausted`: no payload.
    #[serde(rename = "keyMaterialExhausted")]
    KeyMaterialExhausted,
    /// `nothingCompatible`: `optional<Capabilities> clientCapabilities`.
    #[serde(rename = "nothingCompatible")]
    NothingCompatible {
        /// The client's capabilities, if disclosed.
        #[serde(rename = "clientCapabilities")]
        client_capabilities: Option<MlsCapabilities>,
    },
}

impl ClientKeyMaterialStatus {
    /// The status code.
    pub fn code(&self) -> KeyMaterialClientCode {
        match self {
            Self::Success { .. } => KeyMaterialClientCode::Success,
            Self::KeyMaterialExhausted => KeyMaterialClientCode::KeyMaterialExhausted,
            Self::NothingCompatible { .. } => KeyMaterialClientCode::NothingCompatible,
        }
    }
}

impl ClientKeyMaterial {
    pub(crate) fn write(&self, out: &mut Vec<u8>) -> Result<(), tls_codec::Error> {
        put(out, &self.status.code())?;
        put(out, &self.client_uri)?;
        match &self.status {
            ClientKeyMaterialStatus::Success { key_package } => put(out, key_package),
            ClientKeyMaterialStatus::KeyMaterialExhausted => Ok(()),
            ClientKeyMaterialStatus::NothingCompatible {
                client_capabilities,
            } => put(out, client_capabilities),
        }
    }

    /// Decodes with the protocol taken from the enclosing struct (protocol-06 §5.2: the
    /// `select (protocol)` refers to `KeyMaterialResponse.protocol`).
    pub fn decode_for(protocol: Protocol, r: &mut Reader<'_>) -> Result<Self, WireError> {
        let code = KeyMaterialClientCode::decode(r).map_err(|e| e.field("clientStatus"))?;
        let client_uri = IdentifierUri::decode(r).map_err(|e| e.field("clientUri"))?;
        let status = match protocol {
            Protocol::Mls10 => match code {
                KeyMaterialClientCode::Success => ClientKeyMaterialStatus::Success {
                    key_package: KeyPackage::decode(r).map_err(|e| e.field("keyPackage"))?,
                },
                KeyMaterialClientCode::KeyMaterialExhausted => {
                    ClientKeyMaterialStatus::KeyMaterialExhausted
                }
                KeyMaterialClientCode::NothingCompatible => {
                    ClientKeyMaterialStatus::NothingCompatible {
                        client_capabilities: Option::<MlsCapabilities>::decode(r)
                            .map_err(|e| e.field("clientCapabilities"))?,
                    }
                }
            },
        };
        Ok(Self { client_uri, status })
    }
}

impl WireDecode for ClientKeyMaterial {
    const NAME: &'static str = "ClientKeyMaterial";
    /// Stand-alone decoding assumes `mls10`, the only protocol defined.
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Self::decode_for(Protocol::Mls10, r)
    }
}
tls_via_wire!(ClientKeyMaterial);

/// `KeyMaterialResponse` (protocol-06 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyMaterialResponse {
    /// `Protocol protocol`.
    pub protocol: Protocol,
    /// `KeyMaterialUserCode userStatus`.
    #[serde(rename = "userStatus")]
    pub user_status: KeyMaterialUserCode,
    /// `IdentifierUri userUri`.
    #[serde(rename = "userUri")]
    pub user_uri: IdentifierUri,
    /// `ClientKeyMaterial clients<V>`.
    pub clients: Vec<ClientKeyMaterial>,
}

impl KeyMaterialResponse {
    fn write(&self, out: &mut Vec<u8>) -> Result<(), tls_codec::Error> {
        put(out, &self.protocol)?;
        put(out, &self.user_status)?;
        put(out, &self.user_uri)?;
        put(out, &self.clients)
    }
}
impl WireDecode for KeyMaterialResponse {
    const NAME: &'static str = "KeyMaterialResponse";
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let protocol = Protocol::decode(r).map_err(|e| e.field("protocol"))?;
        let user_status = KeyMaterialUserCode::decode(r).map_err(|e| e.field("userStatus"))?;
        let user_uri = IdentifierUri::decode(r).map_err(|e| e.field("userUri"))?;
        let clients = (|| {
            let len = r.vl_len()?;
            r.vector(len, |r| ClientKeyMaterial::decode_for(protocol, r))
        })()
        .map_err(|e: WireError| e.field("clients"))?;
        Ok(Self {
            protocol,
            user_status,
            user_uri,
            clients,
        })
    }
}
tls_via_wire!(KeyMaterialResponse);
