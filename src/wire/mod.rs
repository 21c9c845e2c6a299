//! Wire structs of draft-ietf-mimi-protocol-06.
//!
//! Every TLS presentation-language struct and enum of the protocol draft (§5 endpoints,
//! §6.1 pseudonymous credentials, §7.5/§7.6 room components), with the draft's code points,
//! as Rust types that implement `tls_codec`'s `Serialize`/`Deserialize`/`Size`, serde
//! `Serialize` (JSON pretty-printing with the draft's field names), `Debug, Clone,
//! PartialEq, Eq`. One file per endpoint family; [`registry()`] lists every type by its
//! draft name for `mimi-ref decode`; [`directory`] is the `/.well-known` directory JSON.
//!
//! # Encoding rules
//! * `opaque x<V>` is [`common::Opaque`] (a newtype over `tls_codec::VLBytes`); lengths use
//!   the MLS varint (RFC 9420 §2.1.2): shortest form only, at most 2^30 − 1.
//! * The draft's undefined `string` is [`common::WireString`], UTF-8 validated on decode;
//!   `UTF8String` (§7.6) is [`common::Utf8String`], which also rejects NUL.
//! * `optional<T>` is `Option<T>`; `T x<V>` is `Vec<T>`.
//! * Enums are `#[repr(u8)]` Rust enums with the draft's code points; an unknown value is a
//!   typed error ([`common::WireErrorKind::UnknownValue`]). A defined value with no case in
//!   a `select` (e.g. `reserved(0)`) is [`common::WireErrorKind::NoSelectCase`].
//! * Structs with a `select` are Rust structs whose select arms are a Rust enum (the tag is
//!   not stored separately, so tag and arm cannot disagree); their codecs are hand-written.
//!
//! # Decoding and errors
//! Every type implements [`common::WireDecode`], a field-by-field decoder over an
//! offset-tracking [`common::Reader`]. Errors ([`WireError`]) name the struct path, the byte
//! offset and the rule broken, e.g.
//! `UpdateRoomResponse.errorDescription at byte 1: length 70000 exceeds remaining 12 bytes`.
//! Plain structs also *derive* `TlsDeserialize`; hand-written types implement
//! `tls_codec::Deserialize` through the same `WireDecode` code. Decoding is canonical:
//! whatever decodes re-encodes to the same bytes.
//!
//! # MLS objects
//! Composite MLS objects (MLSMessage, KeyPackage, Welcome, GroupInfo, Capabilities,
//! RequiredCapabilities, Credential, ExternalSender, the ratchet tree, GroupInfo extension
//! lists) are held as [`mls::Mls<K>`]: the exact bytes openmls 0.9.2's own deserializer
//! consumed, with `parse()` returning the openmls type. Reasons, applied to all of them for
//! consistency: openmls's `*In` types lack `Eq`/serde/proptest strategies; MLSMessage
//! fields are inline (not length-prefixed), so only openmls can find where they end; and
//! keeping the bytes makes re-encoding byte-identical by construction (signatures stay
//! valid). Primitive aliases (CipherSuite = uint16, SignaturePublicKey / HPKEPublicKey /
//! ProposalRef = `opaque<V>`, HPKECiphertext) are native types with conversions to openmls.
//! JSON shows MLS objects as `{"mls": type, "len": n, "summary": {...}, "hex": ...}`.
//!
//! # Context-dependent selects
//! * `ClientKeyMaterial` selects on the enclosing `KeyMaterialResponse.protocol`:
//!   [`key_material::ClientKeyMaterial::decode_for`] takes it.
//! * `UpdateRequest` selects on `room.protocol`, which is not on the wire:
//!   [`update::UpdateRequest::decode_for`] takes it.
//! * `HandshakeBundle` and `FanoutMessage` select on the wire format / content type of the
//!   MLSMessage they start with: the decoder parses it with openmls first.
//!   Stand-alone decoding (registry, `tls_codec::Deserialize`) assumes `mls10`, the only
//!   protocol defined.
//!
//! Where the draft's syntax is broken, the choice made is recorded in `spec/deviations.md`
//! under "wire (protocol -06)".

pub mod abuse;
pub mod common;
pub mod consent;
pub mod directory;
pub mod fanout;
pub mod franking;
pub mod group_info;
pub mod identifier;
pub mod key_material;
pub mod mls;
pub mod mmr;
pub mod registry;
pub mod room;
pub mod submit;
pub mod update;

pub use abuse::{AbuseReport, AbuseType, AbusiveMessage};
pub use common::{
    decode_exact, encode, IdentifierUri, Opaque, Protocol, Utf8String, WireDecode, WireError,
    WireErrorKind, WireString,
};
pub use consent::{ConsentEntry, ConsentOp, ConsentOperation, ConsentScope};
pub use directory::{Directory, Endpoint};
pub use fanout::{FanoutBody, FanoutMessage, FanoutMessages};
pub use franking::{
    Frank, FrankAAD, FrankingAgentData, FrankingIntegrityTBS, ServerFrankingContext,
};
pub use group_info::{
    GroupInfoCode, GroupInfoRatchetTreeTBE, GroupInfoRequest, GroupInfoRequestTBS,
    GroupInfoResponse, GroupInfoResponseTBS, GroupInfoStatus, PendingProposal,
};
pub use identifier::{
    FieldSource, IdentifierQueryCode, IdentifierRequest, IdentifierResponse, ProfileField,
    QueryElement, SearchIdentifierType, SearchType, UserProfile,
};
pub use key_material::{
    ClientKeyMaterial, ClientKeyMaterialStatus, KeyMaterialClientCode, KeyMaterialRequest,
    KeyMaterialRequestTBS, KeyMaterialResponse, KeyMaterialUserCode,
};
pub use mmr::{IdentityLinkTBE, PseudonymousCredential, PseudonymousCredentialTBS};
pub use registry::{lookup, registry, TypeInfo};
pub use room::{
    ParticipantListData, ParticipantListUpdate, RichDescription, RoomMetaData, RoomMetaUpdate, Uri,
    UserRolePair, UserindexRolePair,
};
pub use submit::{SubmitMessageRequest, SubmitMessageResponse, SubmitResponseCode, SubmitStatus};
pub use update::{
    GroupInfoOption, GroupInfoRepresentation, HandshakeBundle, HandshakeBundleBody,
    PartialGroupInfo, RatchetTreeOption, RatchetTreePresence, RatchetTreeRepresentation,
    UpdateRequest, UpdateResponseCode, UpdateResult, UpdateRoomResponse,
};

/// Code points of protocol-06 §10 (MLS component ids) and of the mls-extensions components
/// MIMI uses.
pub mod codepoints {
    /// `frank_aad` (SafeAAD item): [`super::FrankAAD`].
    pub const FRANK_AAD: u16 = super::franking::FRANK_AAD_COMPONENT_ID;
    /// `franking_signature_key` / `franking_agent` (GroupContext): [`super::FrankingAgentData`].
    pub const FRANKING_AGENT: u16 = super::franking::FRANKING_AGENT_COMPONENT_ID;
    /// `participant_list` (GroupContext): [`super::ParticipantListData`].
    pub const PARTICIPANT_LIST: u16 = super::room::PARTICIPANT_LIST_COMPONENT_ID;
    /// `room_metadata` (GroupContext): [`super::RoomMetaData`].
    pub const ROOM_METADATA: u16 = super::room::ROOM_METADATA_COMPONENT_ID;
    /// mls-extensions `app_components`.
    pub const APP_COMPONENTS: u16 = 0x0001;
    /// mls-extensions `safe_aad`.
    pub const SAFE_AAD: u16 = 0x0002;
    /// mls-extensions `content_media_types`.
    pub const CONTENT_MEDIA_TYPES: u16 = 0x0003;
    /// mls-extensions `last_resort_key_package`.
    pub const LAST_RESORT_KEY_PACKAGE: u16 = 0x0004;
    /// mls-extensions `app_ack`.
    pub const APP_ACK: u16 = 0x0005;
    /// MLS extension type `app_data_dictionary` (mls-extensions, suggested).
    pub const EXT_APP_DATA_DICTIONARY: u16 = 0x0006;
    /// MLS proposal type `app_data_update` (mls-extensions, suggested).
    pub const PROPOSAL_APP_DATA_UPDATE: u16 = 0x0008;
    /// MLS proposal type `app_ephemeral` (mls-extensions, suggested).
    pub const PROPOSAL_APP_EPHEMERAL: u16 = 0x0009;
    /// MLS proposal type `self_remove` (mls-extensions, suggested).
    pub const PROPOSAL_SELF_REMOVE: u16 = 0x000a;

    /// Labels used with SignWithLabel / EncryptWithLabel (not IANA-registered in -06).
    pub const LABELS: &[&str] = &[
        super::key_material::KEY_MATERIAL_REQUEST_TBS_LABEL,
        super::franking::FRANKING_INTEGRITY_TBS_LABEL,
        super::group_info::GROUP_INFO_REQUEST_TBS_LABEL,
        super::group_info::GROUP_INFO_RESPONSE_TBS_LABEL,
        super::mmr::PSEUDONYMOUS_CREDENTIAL_TBS_LABEL,
        super::group_info::GROUP_INFO_ENCRYPTION_LABEL,
    ];
}
