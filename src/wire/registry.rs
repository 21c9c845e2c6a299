//! The type registry behind `mimi-ref decode`: every wire struct by its draft name.

use serde::Serialize;

use super::abuse::*;
use super::common::*;
use super::consent::*;
use super::fanout::*;
use super::franking::*;
use super::group_info::*;
use super::identifier::*;
use super::key_material::*;
use super::mls::*;
use super::mmr::*;
use super::room::*;
use super::submit::*;
use super::update::*;

/// One decodable type.
pub struct TypeInfo {
    /// The draft's struct name, e.g. `UpdateRoomResponse`.
    pub name: &'static str,
    /// Where it is defined, e.g. `protocol-06 §5.3`.
    pub section: &'static str,
    /// One line on what it is.
    pub summary: &'static str,
    decode: fn(&[u8]) -> Result<serde_json::Value, WireError>,
    reencode: fn(&[u8]) -> Result<Vec<u8>, WireError>,
}

impl std::fmt::Debug for TypeInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypeInfo")
            .field("name", &self.name)
            .field("section", &self.section)
            .finish()
    }
}

impl TypeInfo {
    /// Decodes `bytes` (all of them) as this type and renders it as JSON.
    pub fn decode_json(&self, bytes: &[u8]) -> Result<serde_json::Value, WireError> {
        (self.decode)(bytes)
    }

    /// Decodes `bytes` as this type and encodes the value again. Decoding is canonical, so
    /// on success the result equals the input.
    pub fn reencode(&self, bytes: &[u8]) -> Result<Vec<u8>, WireError> {
        (self.reencode)(bytes)
    }
}

fn json<T: WireDecode + Serialize>(b: &[u8]) -> Result<serde_json::Value, WireError> {
    let v = decode_exact::<T>(b)?;
    serde_json::to_value(&v).map_err(|e| WireError::new(0, WireErrorKind::Json(e.to_string())))
}

fn again<T: WireDecode + tls_codec::Serialize>(b: &[u8]) -> Result<Vec<u8>, WireError> {
    let v = decode_exact::<T>(b)?;
    encode(&v).map_err(|e| WireError::new(0, WireErrorKind::Encode(format!("{e:?}"))).root(T::NAME))
}

macro_rules! entries {
    ($( $t:ty => $name:literal, $sec:literal, $sum:literal; )*) => {
        &[ $( TypeInfo {
            name: $name,
            section: $sec,
            summary: $sum,
            decode: json::<$t>,
            reencode: again::<$t>,
        }, )* ]
    };
}

static REGISTRY: &[TypeInfo] = entries! {
    // §5 / §5.2
    Protocol => "Protocol", "protocol-06 §5", "protocol enum (mls10)";
    IdentifierUri => "IdentifierUri", "protocol-06 §5.2", "a URI as opaque<V>";
    KeyMaterialRequest => "KeyMaterialRequest", "protocol-06 §5.2", "claim KeyPackages of a user's clients";
    KeyMaterialRequestTBS => "KeyMaterialRequestTBS", "protocol-06 §5.2", "signed part of KeyMaterialRequest";
    KeyMaterialUserCode => "KeyMaterialUserCode", "protocol-06 §5.2", "per-user status of a key material response";
    KeyMaterialClientCode => "KeyMaterialClientCode", "protocol-06 §5.2", "per-client status of a key material response";
    ClientKeyMaterial => "ClientKeyMaterial", "protocol-06 §5.2", "one client's key material (protocol mls10)";
    KeyMaterialResponse => "KeyMaterialResponse", "protocol-06 §5.2", "answer to KeyMaterialRequest";
    // §5.3
    HandshakeBundle => "HandshakeBundle", "protocol-06 §5.3", "a commit with Welcome/GroupInfo/tree, or a proposal batch";
    GroupInfoRepresentation => "GroupInfoRepresentation", "protocol-06 §5.3", "full or partial GroupInfo";
    GroupInfoOption => "GroupInfoOption", "protocol-06 §5.3", "GroupInfo or PartialGroupInfo";
    RatchetTreeRepresentation => "RatchetTreeRepresentation", "ratchet-tree-options", "how a ratchet tree is conveyed";
    RatchetTreeOption => "RatchetTreeOption", "ratchet-tree-options", "the ratchet tree or where to get it";
    RatchetTreePresence => "RatchetTreePresence", "ratchet-tree-options", "ratchet tree presence in a PartialGroupInfo";
    PartialGroupInfo => "PartialGroupInfo", "ratchet-tree-options", "what the hub needs to rebuild a GroupInfo";
    UpdateRequest => "UpdateRequest", "protocol-06 §5.3", "follower to hub: a HandshakeBundle (room protocol mls10)";
    UpdateResponseCode => "UpdateResponseCode", "protocol-06 §5.3", "result code of an update";
    UpdateRoomResponse => "UpdateRoomResponse", "protocol-06 §5.3", "hub's answer to UpdateRequest";
    // §5.4
    SubmitMessageRequest => "SubmitMessageRequest", "protocol-06 §5.4", "follower to hub: an application message";
    SubmitResponseCode => "SubmitResponseCode", "protocol-06 §5.4", "result code of a submit";
    SubmitMessageResponse => "SubmitMessageResponse", "protocol-06 §5.4", "hub's answer to SubmitMessageRequest";
    Frank => "Frank", "protocol-06 §5.4", "the hub's frank of a message";
    FrankAAD => "FrankAAD", "protocol-06 §5.4.1", "SafeAAD component 0x0020: franking tag";
    FrankingAgentData => "FrankingAgentData", "protocol-06 §5.4.1", "GroupContext component 0x0021: hub franking key";
    ServerFrankingContext => "ServerFrankingContext", "protocol-06 §5.4.1", "context MACed into server_frank";
    FrankingIntegrityTBS => "FrankingIntegrityTBS", "protocol-06 §5.4.1", "what the franking signature covers";
    // §5.5
    FanoutMessage => "FanoutMessage", "protocol-06 §5.5", "hub to follower: one accepted message";
    FanoutMessages => "FanoutMessages", "protocol-06 §5.5", "a /notify body: concatenated FanoutMessages";
    // §5.6
    GroupInfoRequestTBS => "GroupInfoRequestTBS", "protocol-06 §5.6", "signed part of GroupInfoRequest";
    GroupInfoRequest => "GroupInfoRequest", "protocol-06 §5.6", "ask the hub for GroupInfo to join externally";
    GroupInfoCode => "GroupInfoCode", "protocol-06 §5.6", "result code of a GroupInfo request";
    PendingProposal => "PendingProposal", "protocol-06 §5.6", "a proposal the hub accepted this epoch";
    GroupInfoRatchetTreeTBE => "GroupInfoRatchetTreeTBE", "protocol-06 §5.6", "plaintext of the encrypted GroupInfo";
    GroupInfoResponseTBS => "GroupInfoResponseTBS", "protocol-06 §5.6", "signed part of GroupInfoResponse";
    GroupInfoResponse => "GroupInfoResponse", "protocol-06 §5.6", "hub's answer to GroupInfoRequest";
    // §5.7
    ConsentOperation => "ConsentOperation", "protocol-06 §5.7", "cancel / request / grant / revoke";
    ConsentEntry => "ConsentEntry", "protocol-06 §5.7", "a consent request, cancel, grant or revoke";
    ConsentScope => "ConsentScope", "protocol-06 §5.7", "requester, target and optional room";
    // §5.8
    SearchIdentifierType => "SearchIdentifierType", "protocol-06 §5.8", "what a query element matches";
    QueryElement => "QueryElement", "protocol-06 §5.8", "one search criterion";
    IdentifierRequest => "IdentifierRequest", "protocol-06 §5.8", "find users by identifier (AND of elements)";
    IdentifierQueryCode => "IdentifierQueryCode", "protocol-06 §5.8", "result code of an identifier query";
    FieldSource => "FieldSource", "protocol-06 §5.8", "origin of a profile field";
    ProfileField => "ProfileField", "protocol-06 §5.8", "one profile field";
    UserProfile => "UserProfile", "protocol-06 §5.8", "a found user's profile";
    IdentifierResponse => "IdentifierResponse", "protocol-06 §5.8", "answer to IdentifierRequest";
    // §5.9
    AbusiveMessage => "AbusiveMessage", "protocol-06 §5.9", "a reported message with its frank";
    AbuseType => "AbuseType", "protocol-06 §5.9", "abuse reason code";
    AbuseReport => "AbuseReport", "protocol-06 §5.9", "report of abusive messages to the hub";
    // §6.1
    PseudonymousCredential => "PseudonymousCredential", "protocol-06 §6.1", "pseudonymous MLS credential";
    PseudonymousCredentialTBS => "PseudonymousCredentialTBS", "protocol-06 §6.1", "signed part of PseudonymousCredential";
    IdentityLinkTBE => "IdentityLinkTBE", "protocol-06 §6.1", "plaintext of identity_link_ciphertext";
    // §7.5, §7.6
    UserRolePair => "UserRolePair", "protocol-06 §7.5", "a participant and its role";
    ParticipantListData => "ParticipantListData", "protocol-06 §7.5", "component 0x0022: the participant list";
    UserindexRolePair => "UserindexRolePair", "protocol-06 §7.5", "a participant index and its new role";
    ParticipantListUpdate => "ParticipantListUpdate", "protocol-06 §7.5", "AppDataUpdate payload for 0x0022";
    Uri => "Uri", "protocol-06 §7.6", "a URI";
    Utf8String => "UTF8String", "protocol-06 §7.6", "UTF-8 text without NUL";
    RichDescription => "RichDescription", "protocol-06 §7.6", "a room description with media type and language";
    RoomMetaData => "RoomMetaData", "protocol-06 §7.6", "component 0x0023: room metadata (also RoomMetaUpdate)";
    // External types used above
    CipherSuite => "CipherSuite", "RFC 9420 §17.1", "MLS cipher suite code point";
    HpkeCiphertext => "HPKECiphertext", "RFC 9420 §5.1.3", "HPKE KEM output and ciphertext";
    ComponentData => "ComponentData", "mls-extensions", "one entry of an AppDataDictionary";
    AppDataDictionary => "AppDataDictionary", "mls-extensions", "sorted component data";
    AppDataUpdateOperation => "AppDataUpdateOperation", "mls-extensions", "update / remove";
    AppDataUpdate => "AppDataUpdate", "mls-extensions", "proposal body updating one component";
    SafeAadItem => "SafeAADItem", "mls-extensions", "one SafeAAD item";
    SafeAad => "SafeAAD", "mls-extensions", "sorted SafeAAD items";
    ComponentsList => "ComponentsList", "mls-extensions", "list of component ids";
    MlsMessage => "MLSMessage", "RFC 9420 §6", "an MLS message (parsed by openmls)";
    KeyPackage => "KeyPackage", "RFC 9420 §10", "a bare KeyPackage (parsed by openmls)";
    MlsWelcome => "Welcome", "RFC 9420 §12.4.3.1", "a bare Welcome (parsed by openmls)";
    MlsGroupInfo => "GroupInfo", "RFC 9420 §12.4.3", "a bare GroupInfo (parsed by openmls)";
    MlsCredential => "Credential", "RFC 9420 §5.3", "an MLS credential (parsed by openmls)";
    MlsCapabilities => "Capabilities", "RFC 9420 §7.2", "leaf capabilities (parsed by openmls)";
    RequiredCapabilities => "RequiredCapabilities", "RFC 9420 §11.1", "required capabilities (parsed by openmls)";
    MlsExternalSender => "ExternalSender", "RFC 9420 §12.1.8.1", "an external sender (parsed by openmls)";
};

/// Every registered type.
pub fn registry() -> &'static [TypeInfo] {
    REGISTRY
}

/// Finds a type by name, case-insensitively.
pub fn lookup(name: &str) -> Option<&'static TypeInfo> {
    REGISTRY.iter().find(|t| t.name.eq_ignore_ascii_case(name))
}
