//! Franking (protocol-06 §5.4.1): the Frank returned by the hub, the AAD and GroupContext
//! components, and the structs that are MACed and signed.

use super::common::{wire_struct, Bytes32, IdentifierUri};
use super::mls::{CipherSuite, MlsCredential, SignaturePublicKey};

/// SignWithLabel label for [`FrankingIntegrityTBS`].
pub const FRANKING_INTEGRITY_TBS_LABEL: &str = "FrankingIntegrityTBS";

wire_struct! {
    /// `Frank` (protocol-06 §5.4): what the hub returns and fans out with a franked message.
    pub struct Frank = "Frank" {
        /// `uint8 server_frank[32]`.
        pub server_frank: Bytes32 => "server_frank",
        /// `CipherSuite franking_signature_ciphersuite`.
        pub franking_signature_ciphersuite: CipherSuite => "franking_signature_ciphersuite",
        /// `opaque franking_integrity_signature<V>`.
        pub franking_integrity_signature: super::common::Opaque => "franking_integrity_signature",
    }
}

wire_struct! {
    /// `FrankAAD` (protocol-06 §5.4.1.1): SafeAAD item `frank_aad` (component 0x0020).
    pub struct FrankAAD = "FrankAAD" {
        /// `uint8 franking_tag[32]`: HMAC_SHA256(salt, application_data).
        pub franking_tag: Bytes32 => "franking_tag",
    }
}

wire_struct! {
    /// `FrankingAgentData` (protocol-06 §5.4.1.2): GroupContext component 0x0021; also the
    /// `FrankingAgentUpdate` payload.
    pub struct FrankingAgentData = "FrankingAgentData" {
        /// `SignaturePublicKey franking_signature_key`.
        pub franking_signature_key: SignaturePublicKey => "franking_signature_key",
        /// `Credential credential`.
        pub credential: MlsCredential => "credential",
    }
}

/// `FrankingAgentUpdate` (protocol-06 §5.4.1.2) has the same syntax as [`FrankingAgentData`].
pub type FrankingAgentUpdate = FrankingAgentData;

wire_struct! {
    /// `ServerFrankingContext` (protocol-06 §5.4.1.3): the `context` in
    /// `server_frank = HMAC_SHA256(hub_key, franking_tag || context)`.
    pub struct ServerFrankingContext = "ServerFrankingContext" {
        /// `IdentifierUri sender_uri`.
        pub sender_uri: IdentifierUri => "sender_uri",
        /// `IdentifierUri room_uri`.
        pub room_uri: IdentifierUri => "room_uri",
        /// `uint64 accepted_timestamp`.
        pub accepted_timestamp: u64 => "accepted_timestamp",
    }
}

wire_struct! {
    /// `FrankingIntegrityTBS` (protocol-06 §5.4.1.3): signed with the franking agent's key.
    pub struct FrankingIntegrityTBS = "FrankingIntegrityTBS" {
        /// `opaque server_frank[32]`.
        pub server_frank: Bytes32 => "server_frank",
        /// `CipherSuite franking_signature_ciphersuite`.
        pub franking_signature_ciphersuite: CipherSuite => "franking_signature_ciphersuite",
        /// `ServerFrankingContext context`.
        pub context: ServerFrankingContext => "context",
    }
}

impl FrankAAD {
    /// As the SafeAAD item `frank_aad` (component 0x0020).
    pub fn to_safe_aad_item(&self) -> super::mls::SafeAadItem {
        super::mls::SafeAadItem {
            component_id: FRANK_AAD_COMPONENT_ID,
            aad_item_data: super::common::Opaque::new(self.franking_tag.0.to_vec()),
        }
    }
}

impl FrankingAgentData {
    /// As the GroupContext `ComponentData` for the franking agent (0x0021).
    pub fn to_component(&self) -> Result<super::mls::ComponentData, tls_codec::Error> {
        use tls_codec::Serialize as _;
        Ok(super::mls::ComponentData {
            component_id: FRANKING_AGENT_COMPONENT_ID,
            data: super::common::Opaque::new(self.tls_serialize_detached()?),
        })
    }
}

/// Component id of `frank_aad` (protocol-06 §10).
pub const FRANK_AAD_COMPONENT_ID: u16 = 0x0020;
/// Component id of `franking_signature_key` / `franking_agent` (protocol-06 §10).
pub const FRANKING_AGENT_COMPONENT_ID: u16 = 0x0021;
