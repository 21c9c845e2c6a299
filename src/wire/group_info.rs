//! Claim group key information (protocol-06 §5.6).

use serde::Serialize;

use super::common::{
    put, tls_via_wire, wire_enum, wire_struct, Opaque, Protocol, Reader, WireDecode, WireError,
};
use super::mls::{
    CipherSuite, HpkeCiphertext, HpkePublicKey, MlsCredential, MlsExternalSender, MlsGroupInfo,
    MlsMessage, SignaturePublicKey,
};
use super::update::RatchetTreeOption;

/// SignWithLabel label for [`GroupInfoRequestTBS`].
pub const GROUP_INFO_REQUEST_TBS_LABEL: &str = "GroupInfoRequestTBS";
/// SignWithLabel label for [`GroupInfoResponseTBS`].
pub const GROUP_INFO_RESPONSE_TBS_LABEL: &str = "GroupInfoResponseTBS";
/// EncryptWithLabel label for [`GroupInfoRatchetTreeTBE`].
pub const GROUP_INFO_ENCRYPTION_LABEL: &str = "GroupInfo and ratchet_tree encryption";

wire_struct! {
    /// `GroupInfoRequestTBS` (protocol-06 §5.6).
    pub struct GroupInfoRequestTBS = "GroupInfoRequestTBS" {
        /// `Protocol protocol`.
        pub protocol: Protocol => "protocol",
        /// `CipherSuite cipher_suite`.
        pub cipher_suite: CipherSuite => "cipher_suite",
        /// `SignaturePublicKey requestingSignatureKey`.
        pub requesting_signature_key: SignaturePublicKey => "requestingSignatureKey",
        /// `Credential requestingCredential`.
        pub requesting_credential: MlsCredential => "requestingCredential",
        /// `HPKEPublicKey groupInfoPublicKey`.
        pub group_info_public_key: HpkePublicKey => "groupInfoPublicKey",
        /// `optional opaque joiningCode<V>`.
        pub joining_code: Option<Opaque> => "joiningCode",
    }
}

wire_struct! {
    /// `GroupInfoRequest` (protocol-06 §5.6). The draft has a plain `opaque joiningCode<V>`
    /// here but `optional` in the TBS; we use `optional` in both so the TBS is a prefix of
    /// the request (see `spec/deviations.md`).
    pub struct GroupInfoRequest = "GroupInfoRequest" {
        /// `Protocol protocol`.
        pub protocol: Protocol => "protocol",
        /// `CipherSuite cipher_suite`.
        pub cipher_suite: CipherSuite => "cipher_suite",
        /// `SignaturePublicKey requestingSignatureKey`.
        pub requesting_signature_key: SignaturePublicKey => "requestingSignatureKey",
        /// `Credential requestingCredential`.
        pub requesting_credential: MlsCredential => "requestingCredential",
        /// `HPKEPublicKey groupInfoPublicKey`.
        pub group_info_public_key: HpkePublicKey => "groupInfoPublicKey",
        /// `optional<opaque joiningCode<V>>`.
        pub joining_code: Option<Opaque> => "joiningCode",
        /// `opaque signature<V>`.
        pub signature: Opaque => "signature",
    }
}

impl GroupInfoRequest {
    /// The to-be-signed part.
    pub fn tbs(&self) -> GroupInfoRequestTBS {
        GroupInfoRequestTBS {
            protocol: self.protocol,
            cipher_suite: self.cipher_suite,
            requesting_signature_key: self.requesting_signature_key.clone(),
            requesting_credential: self.requesting_credential.clone(),
            group_info_public_key: self.group_info_public_key.clone(),
            joining_code: self.joining_code.clone(),
        }
    }
}

wire_enum! {
    /// `GroupInfoCode` (protocol-06 §5.6).
    pub enum GroupInfoCode: u8 = "GroupInfoCode" {
        /// `reserved(0)`.
        Reserved = 0 => "reserved",
        /// `success(1)`.
        Success = 1 => "success",
        /// `notAuthorized(2)`.
        NotAuthorized = 2 => "notAuthorized",
        /// `noSuchRoom(3)`.
        NoSuchRoom = 3 => "noSuchRoom",
    }
}

wire_struct! {
    /// `PendingProposal` (protocol-06 §5.6).
    pub struct PendingProposal = "PendingProposal" {
        /// `MLSMessage proposal`.
        pub proposal: MlsMessage => "proposal",
        /// `uint64 hub_accepted_time`.
        pub hub_accepted_time: u64 => "hub_accepted_time",
    }
}

wire_struct! {
    /// `GroupInfoRatchetTreeTBE` (protocol-06 §5.6): encrypted to `groupInfoPublicKey`.
    pub struct GroupInfoRatchetTreeTBE = "GroupInfoRatchetTreeTBE" {
        /// `GroupInfo groupInfo` (without ratchet_tree).
        pub group_info: MlsGroupInfo => "groupInfo",
        /// `RatchetTreeOption ratchetTreeOption`.
        pub ratchet_tree_option: RatchetTreeOption => "ratchetTreeOption",
        /// `PendingProposal pending_proposals<V>`.
        pub pending_proposals: Vec<PendingProposal> => "pending_proposals",
    }
}

wire_struct! {
    /// `GroupInfoResponseTBS` (protocol-06 §5.6). The draft's `select (protocol)` has only
    /// the mls10 case, so its fields are always present (also for error statuses).
    pub struct GroupInfoResponseTBS = "GroupInfoResponseTBS" {
        /// `Protocol version`.
        pub version: Protocol => "version",
        /// `opaque room_id<V>`.
        pub room_id: Opaque => "room_id",
        /// `GroupInfoCode status`.
        pub status: GroupInfoCode => "status",
        /// `CipherSuite cipher_suite`.
        pub cipher_suite: CipherSuite => "cipher_suite",
        /// `ExternalSender hub_sender`.
        pub hub_sender: MlsExternalSender => "hub_sender",
        /// `HPKECiphertext encrypted_groupinfo_and_tree`.
        pub encrypted_groupinfo_and_tree: HpkeCiphertext => "encrypted_groupinfo_and_tree",
    }
}

/// `GroupInfoResponse` (protocol-06 §5.6). Its inner `select (protocol)` reads the
/// `version` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupInfoResponse {
    /// `Protocol version`.
    pub version: Protocol,
    /// `opaque room_id<V>`.
    pub room_id: Opaque,
    /// `status` and its arm.
    #[serde(flatten)]
    pub status: GroupInfoStatus,
}

/// `status` with the `select (status)` arms of [`GroupInfoResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status")]
pub enum GroupInfoStatus {
    /// `success`: the encrypted GroupInfo, signed by the hub.
    #[serde(rename = "success")]
    Success {
        /// `CipherSuite cipher_suite`.
        cipher_suite: CipherSuite,
        /// `ExternalSender hub_sender`.
        hub_sender: MlsExternalSender,
        /// `HPKECiphertext encrypted_groupinfo_and_tree`.
        encrypted_groupinfo_and_tree: HpkeCiphertext,
        /// `opaque signature<V>`.
        signature: Opaque,
    },
    /// `reserved(0)` (default arm: empty).
    #[serde(rename = "reserved")]
    Reserved,
    /// `notAuthorized` (default arm: empty).
    #[serde(rename = "notAuthorized")]
    NotAuthorized,
    /// `noSuchRoom` (default arm: empty).
    #[serde(rename = "noSuchRoom")]
    NoSuchRoom,
}

impl GroupInfoStatus {
    /// The status code.
    pub fn code(&self) -> GroupInfoCode {
        match self {
            Self::Success { .. } => GroupInfoCode::Success,
            Self::Reserved => GroupInfoCode::Reserved,
            Self::NotAuthorized => GroupInfoCode::NotAuthorized,
            Self::NoSuchRoom => GroupInfoCode::NoSuchRoom,
        }
    }
}

impl GroupInfoResponse {
    fn write(&self, out: &mut Vec<u8>) -> Result<(), tls_codec::Error> {
        put(out, &self.version)?;
        put(out, &self.room_id)?;
        put(out, &self.status.code())?;
        if let GroupInfoStatus::Success {
            cipher_suite,
            hub_sender,
            encrypted_groupinfo_and_tree,
            signature,
        } = &self.status
        {
            put(out, cipher_suite)?;
            put(out, hub_sender)?;
            put(out, encrypted_groupinfo_and_tree)?;
            put(out, signature)?;
        }
        Ok(())
    }

    /// The to-be-signed part of a successful response.
    pub fn tbs(&self) -> Option<GroupInfoResponseTBS> {
        match &self.status {
            GroupInfoStatus::Success {
                cipher_suite,
                hub_sender,
                encrypted_groupinfo_and_tree,
                ..
            } => Some(GroupInfoResponseTBS {
                version: self.version,
                room_id: self.room_id.clone(),
                status: GroupInfoCode::Success,
                cipher_suite: *cipher_suite,
                hub_sender: hub_sender.clone(),
                encrypted_groupinfo_and_tree: encrypted_groupinfo_and_tree.clone(),
            }),
            _ => None,
        }
    }
}
impl WireDecode for GroupInfoResponse {
    const NAME: &'static str = "GroupInfoResponse";
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let version = Protocol::decode(r).map_err(|e| e.field("version"))?;
        let room_id = Opaque::decode(r).map_err(|e| e.field("room_id"))?;
        let status = match GroupInfoCode::decode(r).map_err(|e| e.field("status"))? {
            GroupInfoCode::Success => GroupInfoStatus::Success {
                cipher_suite: CipherSuite::decode(r).map_err(|e| e.field("cipher_suite"))?,
                hub_sender: MlsExternalSender::decode(r).map_err(|e| e.field("hub_sender"))?,
                encrypted_groupinfo_and_tree: HpkeCiphertext::decode(r)
                    .map_err(|e| e.field("encrypted_groupinfo_and_tree"))?,
                signature: Opaque::decode(r).map_err(|e| e.field("signature"))?,
            },
            GroupInfoCode::Reserved => GroupInfoStatus::Reserved,
            GroupInfoCode::NotAuthorized => GroupInfoStatus::NotAuthorized,
            GroupInfoCode::NoSuchRoom => GroupInfoStatus::NoSuchRoom,
        };
        Ok(Self {
            version,
            room_id,
            status,
        })
    }
}
tls_via_wire!(GroupInfoResponse);
