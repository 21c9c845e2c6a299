//! Wire types of every room-policy-03 component (§3–§7), carried as `ComponentData` in the
//! MLS `app_data_dictionary` and changed with `AppDataUpdate` (draft-ietf-mls-extensions).
//!
//! Encoding is the TLS presentation language with RFC 9420 conventions: `<V>` is a QUIC
//! varint length prefix, `optional T` a one-byte presence flag. The draft's `bool` is an
//! enum `{ false(0), true(1) }`; any other octet is a typed decoding error.

use serde::{Deserialize, Serialize};
use tls_codec::{TlsDeserialize, TlsSerialize, TlsSize, VLBytes};

use super::capability::{Capability, CapabilityType};

/// An MLS application component id (draft-ietf-mls-extensions-09: `uint16`).
pub type ComponentId = u16;
/// A role index (room-policy-03 §3).
pub type RoleIndex = u32;
/// An MLS credential type (RFC 9420 §5.3).
pub type CredentialType = u16;

/// Component ids (room-policy-03 §10.1 and protocol-06 IANA). The room-policy ids are TBD
/// in the draft; these are its suggested values.
pub mod component_id {
    use super::ComponentId;
    /// protocol-06: franking AAD.
    pub const FRANK_AAD: ComponentId = 0x0020;
    /// protocol-06: franking signature key.
    pub const FRANKING_SIGNATURE_KEY: ComponentId = 0x0021;
    /// protocol-06 §7.5: participant list.
    pub const PARTICIPANT_LIST: ComponentId = 0x0022;
    /// protocol-06 §7.6: room metadata.
    pub const ROOM_METADATA: ComponentId = 0x0023;
    /// room-policy-03 §7 (TBD0): MLS operational policy.
    pub const MLS_OPERATIONAL_POLICY: ComponentId = 0x0024;
    /// room-policy-03 §3 (TBD1): roles list.
    pub const ROLES_LIST: ComponentId = 0x0025;
    /// room-policy-03 §4 (TBD2): preauthorization list.
    pub const PREAUTH_LIST: ComponentId = 0x0026;
    /// room-policy-03 §5 (TBD3): base room policy.
    pub const BASE_ROOM_POLICY: ComponentId = 0x0027;
    /// room-policy-03 §6.1 (TBD4).
    pub const STATUS_NOTIFICATION_POLICY: ComponentId = 0x0028;
    /// room-policy-03 §6.2 (TBD5).
    pub const JOIN_LINK_POLICY: ComponentId = 0x0029;
    /// room-policy-03 §6.2 (TBD6).
    pub const JOIN_LINKS: ComponentId = 0x002A;
    /// room-policy-03 §6.3 (TBD7).
    pub const LINK_PREVIEW_POLICY: ComponentId = 0x002B;
    /// room-policy-03 §6.4 (TBD8).
    pub const ASSET_POLICY: ComponentId = 0x002C;
    /// room-policy-03 §6.5 (TBD9).
    pub const LOGGING_POLICY: ComponentId = 0x002D;
    /// room-policy-03 §6.6 (TBD10).
    pub const CHAT_HISTORY_POLICY: ComponentId = 0x002E;
    /// room-policy-03 §6.7 (TBD11).
    pub const BOT_POLICY: ComponentId = 0x002F;
    /// room-policy-03 §6.8 (TBD12).
    pub const MESSAGE_EXPIRATION_POLICY: ComponentId = 0x0030;
}

/// `bool` as room-policy-03 §5 defines it: one octet, 0 or 1; anything else is
/// `tls_codec::Error::UnknownValue`.
pub mod tls_bool {
    use std::io::{Read, Write};
    use tls_codec::{Deserialize, Error, Serialize};

    /// Encoded length (always 1).
    pub fn tls_serialized_len(_v: &bool) -> usize {
        1
    }
    /// Encode as one octet.
    pub fn tls_serialize<W: Write>(v: &bool, writer: &mut W) -> Result<usize, Error> {
        u8::from(*v).tls_serialize(writer)
    }
    /// Decode one octet; values other than 0 and 1 are refused.
    pub fn tls_deserialize<R: Read>(bytes: &mut R) -> Result<bool, Error> {
        match u8::tls_deserialize(bytes)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(Error::UnknownValue(u64::from(other))),
        }
    }
}

/// `Uri` (room-policy-03 Appendix B): an opaque URI string.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
pub struct Uri {
    /// The URI bytes (should be UTF-8).
    pub uri: VLBytes,
}

impl Default for Uri {
    /// The zero-length URI.
    fn default() -> Self {
        Uri::new("")
    }
}

impl Uri {
    /// A URI from a string.
    pub fn new(s: &str) -> Self {
        Uri {
            uri: s.as_bytes().into(),
        }
    }
    /// Whether the URI is zero-length.
    pub fn is_empty(&self) -> bool {
        self.uri.as_slice().is_empty()
    }
}

// ---------------------------------------------------------------------------------------
// §3 roles
// ---------------------------------------------------------------------------------------

/// `SingleSourceRoleChangeTargets` (room-policy-03 §3): the roles a holder may move a user
/// in `from_role_index` to.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
pub struct SingleSourceRoleChangeTargets {
    /// Source role (0 = not in the participant list: an addition).
    pub from_role_index: RoleIndex,
    /// Allowed targets (0 = removal from the participant list).
    pub target_role_indexes: Vec<RoleIndex>,
}

/// `Role` (room-policy-03 §3).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
pub struct Role {
    /// The role's handle (0 = no role, 1 = banned by convention).
    pub role_index: RoleIndex,
    /// Human-readable name.
    pub role_name: VLBytes,
    /// Human-readable description (may be empty).
    pub role_description: VLBytes,
    /// Capability code points ([`Capability`]); unknown ones grant nothing.
    pub role_capabilities: Vec<CapabilityType>,
    /// Minimum number of participants in this role (0 = none).
    pub minimum_participants_constraint: u32,
    /// Maximum number of participants in this role (absent = unbounded).
    pub maximum_participants_constraint: Option<u32>,
    /// Minimum number of active participants (with ≥1 client) in this role.
    pub minimum_active_participants_constraint: u32,
    /// Maximum number of active participants in this role (absent = unbounded).
    pub maximum_active_participants_constraint: Option<u32>,
    /// Role transitions a holder of this role may perform on other users.
    pub authorized_role_changes: Vec<SingleSourceRoleChangeTargets>,
}

impl Role {
    /// Whether the role lists `cap`.
    pub fn has(&self, cap: Capability) -> bool {
        self.role_capabilities.contains(&cap.code())
    }

    /// The name as text (lossy for non-UTF-8 names).
    pub fn name(&self) -> String {
        String::from_utf8_lossy(self.role_name.as_slice()).into_owned()
    }

    /// `allowed(self, from, to)`: an `authorized_role_changes` entry permits `from → to`.
    pub fn allows(&self, from: RoleIndex, to: RoleIndex) -> bool {
        self.authorized_role_changes
            .iter()
            .any(|e| e.from_role_index == from && e.target_role_indexes.contains(&to))
    }
}

/// `RoleData` / `RoleUpdate` (room-policy-03 §3): the roles list; an update replaces it.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    Default,
    TlsSerialize,
    TlsDeserialize,
    TlsSize,
    Serialize,
    Deserialize,
)]
pub struct RoleData {
    /// The roles.
    pub roles: Vec<Role>,
}

impl RoleData {
    /// The role with index `index`, if defined (first one if duplicated).
    pub fn get(&self, index: RoleIndex) -> Option<&Role> {
        self.roles.iter().find(|r| r.role_index == index)
    }
}

/// `RoleUpdate` has the same syntax as `RoleData` (§3).
pub type RoleUpdate = RoleData;

// ---------------------------------------------------------------------------------------
// §4 preauthorization
// ---------------------------------------------------------------------------------------

/// `ClaimId` (room-policy-03 §4).
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    TlsSerialize,
    TlsDeserialize,
    TlsSize,
    Serialize,
    Deserialize,
)]
pub struct ClaimId {
    /// MLS credential type the claim comes from.
    pub credential_type: CredentialType,
    /// Claim identifier (X.509 OID bytes, JWT claim name, CWT key).
    pub id: VLBytes,
}

/// `Claim` (room-policy-03 §4).
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    TlsSerialize,
    TlsDeserialize,
    TlsSize,
    Serialize,
    Deserialize,
)]
pub struct Claim {
    /// Which claim.
    pub claim_id: ClaimId,
    /// Its value; matching is exact byte equality.
    pub claim_value: VLBytes,
}

/// `PreAuthRoleEntry` (room-policy-03 §4). The draft types `target_role` as a whole `Role`;
/// we carry the role index (see `spec/deviations.md`).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
pub struct PreAuthRoleEntry {
    /// All claims must be present with equal values for the entry to match.
    pub claimset: Vec<Claim>,
    /// The role a matching requester is preauthorized for.
    pub target_role: RoleIndex,
}

impl PreAuthRoleEntry {
    /// Whether every claim of the claimset is among `presented` (exact equality, §4).
    pub fn matches(&self, presented: &[Claim]) -> bool {
        self.claimset.iter().all(|c| presented.contains(c))
    }
}

/// `PreAuthData` / `PreAuthUpdate` (room-policy-03 §4); an update replaces it.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    Default,
    TlsSerialize,
    TlsDeserialize,
    TlsSize,
    Serialize,
    Deserialize,
)]
pub struct PreAuthData {
    /// Entries, evaluated in order; first match wins.
    pub preauthorized_entries: Vec<PreAuthRoleEntry>,
}

/// `PreAuthUpdate` has the same syntax as `PreAuthData` (§4).
pub type PreAuthUpdate = PreAuthData;

// ---------------------------------------------------------------------------------------
// §5 base room policy
// ---------------------------------------------------------------------------------------

/// `BaseRoomPolicy` (room-policy-03 §5).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
pub struct BaseRoomPolicy {
    /// Participants fixed at creation.
    #[tls_codec(with = "tls_bool")]
    pub fixed_membership: bool,
    /// The room depends on a parent room (draft spelling `parent_dependant`).
    #[tls_codec(with = "tls_bool")]
    pub parent_dependant: bool,
    /// The parent room: one entry iff `parent_dependant`, else empty (`Uri parent_room<V>`).
    pub parent_room: Vec<Uri>,
    /// More than one client per user allowed.
    #[tls_codec(with = "tls_bool")]
    pub multi_device: bool,
    /// Cap on the MLS group size, if present.
    pub max_clients: Option<u32>,
    /// Cap on non-banned participant-list entries, if present.
    pub max_users: Option<u32>,
    /// Pseudonymous credentials allowed.
    #[tls_codec(with = "tls_bool")]
    pub pseudonyms_allowed: bool,
    /// Policy survives the MLS group.
    #[tls_codec(with = "tls_bool")]
    pub persistent_room: bool,
    /// The room may be found by search.
    #[tls_codec(with = "tls_bool")]
    pub discoverable: bool,
    /// The other policy components that apply to this room.
    pub policy_component_ids: Vec<ComponentId>,
}

impl Default for BaseRoomPolicy {
    /// An ordinary multi-device, persistent, non-discoverable room with no caps.
    fn default() -> Self {
        BaseRoomPolicy {
            fixed_membership: false,
            parent_dependant: false,
            parent_room: Vec::new(),
            multi_device: true,
            max_clients: None,
            max_users: None,
            pseudonyms_allowed: false,
            persistent_room: true,
            discoverable: false,
            policy_component_ids: vec![component_id::ROLES_LIST, component_id::PREAUTH_LIST],
        }
    }
}

// ---------------------------------------------------------------------------------------
// §6 other components
// ---------------------------------------------------------------------------------------

/// `Optionality` (room-policy-03 §6).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    TlsSerialize,
    TlsDeserialize,
    TlsSize,
    Serialize,
    Deserialize,
)]
#[repr(u8)]
pub enum Optionality {
    /// Local configuration decides.
    Optional = 0,
    /// Required (the draft's `select`s call it `mandatory`).
    Required = 1,
    /// Forbidden.
    Forbidden = 2,
}

/// `StatusNotificationPolicy` (room-policy-03 §6.1).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
pub struct StatusNotificationPolicy {
    /// Delivery notifications.
    pub delivery_notifications: Optionality,
    /// Read receipts.
    pub read_receipts: Optionality,
}

/// `JoinLinkPolicy` (room-policy-03 §6.2).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
pub struct JoinLinkPolicy {
    /// Links are generated on request (at most one persisted).
    #[tls_codec(with = "tls_bool")]
    pub on_request: bool,
    /// Where to request a link.
    pub join_link: Uri,
    /// A link may serve several users.
    #[tls_codec(with = "tls_bool")]
    pub multiuser: bool,
    /// Validity in seconds after creation.
    pub expiration: u32,
}

/// `JoinLink` (room-policy-03 §6.2; the draft omits `<V>`, we read `opaque join_link<V>`).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
pub struct JoinLink {
    /// The link.
    pub join_link: VLBytes,
}

/// `JoinLinksData` (room-policy-03 §6.2): a bare vector of links on the wire.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    Default,
    TlsSerialize,
    TlsDeserialize,
    TlsSize,
    Serialize,
    Deserialize,
)]
pub struct JoinLinksData {
    /// The active links.
    pub links: Vec<JoinLink>,
}

/// `JoinLinksUpdate` (room-policy-03 §6.2): a diff.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    Default,
    TlsSerialize,
    TlsDeserialize,
    TlsSize,
    Serialize,
    Deserialize,
)]
pub struct JoinLinksUpdate {
    /// Indices (into the current links) to remove.
    pub removed_indices: Vec<u32>,
    /// Links to append.
    pub added_links: Vec<JoinLink>,
}

/// `link_preview_proxy_use` with its `select` (room-policy-03 §6.3).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
#[repr(u8)]
pub enum LinkPreviewProxyUse {
    /// `optional`: proxies that may be used.
    #[tls_codec(discriminant = 0)]
    Optional(Vec<Uri>),
    /// `required` (`mandatory`): proxies that must be used.
    #[tls_codec(discriminant = 1)]
    Required(Vec<Uri>),
    /// `forbidden`.
    #[tls_codec(discriminant = 2)]
    Forbidden,
}

/// `LinkPreviewPolicy` (room-policy-03 §6.3).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
pub struct LinkPreviewPolicy {
    /// Composer turns link-like text into links; MUST NOT be required.
    pub autodetect_hyperlinks_in_text: Optionality,
    /// Sender-generated previews.
    pub send_link_previews: Optionality,
    /// Receiver-generated previews.
    pub automatic_link_previews: Optionality,
    /// Use of a preview proxy and its URIs.
    pub link_preview_proxy_use: LinkPreviewProxyUse,
}

/// `AssetUploadLocation` (room-policy-03 §6.4).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    TlsSerialize,
    TlsDeserialize,
    TlsSize,
    Serialize,
    Deserialize,
)]
#[repr(u8)]
pub enum AssetUploadLocation {
    /// Anywhere.
    Unspecified = 0,
    /// Each client uploads to its own provider.
    LocalProvider = 1,
    /// Upload to the hub.
    Hub = 2,
}

/// `DomainName` (room-policy-03 §6.4).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
pub struct DomainName {
    /// The domain.
    pub domain: VLBytes,
}

/// `ProviderAssetUploadDomains` (room-policy-03 §6.4).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
pub struct ProviderAssetUploadDomains {
    /// The provider.
    pub provider: DomainName,
    /// Where its users may upload.
    pub asset_upload_destinations: Vec<DomainName>,
}

/// `DownloadPrivacyType` (room-policy-03 §6.4).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    TlsSerialize,
    TlsDeserialize,
    TlsSize,
    Serialize,
    Deserialize,
)]
#[repr(u8)]
pub enum DownloadPrivacyType {
    /// Direct download (protocol-06 §5.10.1).
    Direct = 0,
    /// Through the hub (protocol-06 §5.10.2).
    HubProxy = 1,
    /// Oblivious HTTP through the hub (protocol-06 §5.10.3).
    Ohttp = 2,
}

/// `DownloadPrivacy` (room-policy-03 §6.4).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
pub struct DownloadPrivacy {
    /// Allowed mechanisms.
    pub allowed_download_types: Vec<DownloadPrivacyType>,
    /// Forbidden mechanisms.
    pub forbidden_download_types: Vec<DownloadPrivacyType>,
    /// Default mechanism.
    pub default_download_type: DownloadPrivacyType,
}

/// `Parameter` of a media type (draft-ietf-mls-extensions content advertisement).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
pub struct Parameter {
    /// Parameter name.
    pub parameter_name: VLBytes,
    /// Parameter value.
    pub parameter_value: VLBytes,
}

/// `MediaType` (draft-ietf-mls-extensions, used by room-policy-03 §6.4 and §7).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
pub struct MediaType {
    /// `type/subtype`.
    pub media_type: VLBytes,
    /// Parameters.
    pub parameters: Vec<Parameter>,
}

/// `AssetPolicy` (room-policy-03 §6.4).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
pub struct AssetPolicy {
    /// Where assets are uploaded.
    pub asset_upload_location: AssetUploadLocation,
    /// Allowed upload destinations per provider.
    pub upload_domains: Vec<ProviderAssetUploadDomains>,
    /// Download mechanisms.
    pub download_privacy: DownloadPrivacy,
    /// Max image size in octets.
    pub max_image: u64,
    /// Max audio size in octets.
    pub max_audio: u64,
    /// Max video size in octets.
    pub max_video: u64,
    /// Max attachment size in octets.
    pub max_attachment: u64,
    /// Forbidden media types.
    pub forbidden_media_types: Vec<MediaType>,
    /// If present, only these media types are allowed.
    pub permitted_media_types: Option<Vec<MediaType>>,
}

/// The `select` of `LoggingPolicy` (room-policy-03 §6.5).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
pub struct LoggingDetails {
    /// Logging clients.
    pub logging_clients: Vec<Uri>,
    /// Machine-readable policy of the owning provider (may be empty).
    pub machine_readable_policy: Uri,
    /// Human-readable policy (may be empty).
    pub human_readable_policy: Uri,
}

/// `LoggingPolicy` (room-policy-03 §6.5): `logging` with its `select`.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
#[repr(u8)]
pub enum LoggingPolicy {
    /// Logging optional.
    #[tls_codec(discriminant = 0)]
    Optional(LoggingDetails),
    /// Logging required.
    #[tls_codec(discriminant = 1)]
    Required(LoggingDetails),
    /// Logging forbidden.
    #[tls_codec(discriminant = 2)]
    Forbidden,
}

/// The `select` of `HistoryPolicy` (room-policy-03 §6.6).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
pub struct HistorySharing {
    /// Roles allowed to share history.
    pub roles_that_can_share: Vec<RoleIndex>,
    /// Share without user action.
    #[tls_codec(with = "tls_bool")]
    pub automatically_share: bool,
    /// Maximum shared period in seconds.
    pub max_time_period: u32,
}

/// `HistoryPolicy` (room-policy-03 §6.6): `history_sharing` with its `select`.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
#[repr(u8)]
pub enum HistoryPolicy {
    /// Sharing optional.
    #[tls_codec(discriminant = 0)]
    Optional(HistorySharing),
    /// Sharing required.
    #[tls_codec(discriminant = 1)]
    Required(HistorySharing),
    /// Sharing forbidden.
    #[tls_codec(discriminant = 2)]
    Forbidden,
}

/// `Bot` (room-policy-03 §6.7).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
pub struct Bot {
    /// Name.
    pub name: VLBytes,
    /// Description.
    pub description: VLBytes,
    /// Homepage.
    pub homepage: Uri,
    /// Runs inside a human's client (then `bot_role_index` is 0).
    #[tls_codec(with = "tls_bool")]
    pub local_client_bot: bool,
    /// Role the bot acts in.
    pub bot_role_index: RoleIndex,
    /// May message individual members.
    #[tls_codec(with = "tls_bool")]
    pub can_target_message_in_group: bool,
    /// May send per-member content.
    #[tls_codec(with = "tls_bool")]
    pub per_user_content: bool,
}

/// `BotPolicy` (room-policy-03 §6.7).
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    Default,
    TlsSerialize,
    TlsDeserialize,
    TlsSize,
    Serialize,
    Deserialize,
)]
pub struct BotPolicy {
    /// Allowed bots.
    pub allowed_bots: Vec<Bot>,
}

/// The `select` of `MessageExpiration` (room-policy-03 §6.8). Durations in seconds.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
pub struct ExpirationDurations {
    /// Minimum.
    pub min_expiration_duration: u32,
    /// Maximum.
    pub max_expiration_duration: u32,
    /// Default, if any.
    pub default_expiration_duration: Option<u32>,
}

/// `MessageExpiration` (room-policy-03 §6.8): `expiring_messages` with its `select`.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
#[repr(u8)]
pub enum MessageExpiration {
    /// Expiring messages optional.
    #[tls_codec(discriminant = 0)]
    Optional(ExpirationDurations),
    /// Expiring messages required.
    #[tls_codec(discriminant = 1)]
    Required(ExpirationDurations),
    /// Expiring messages forbidden.
    #[tls_codec(discriminant = 2)]
    Forbidden,
}

// ---------------------------------------------------------------------------------------
// §7 operational policy
// ---------------------------------------------------------------------------------------

/// `ExtendedCapabilities` (room-policy-03 §7).
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    Default,
    TlsSerialize,
    TlsDeserialize,
    TlsSize,
    Serialize,
    Deserialize,
)]
pub struct ExtendedCapabilities {
    /// MLS protocol versions.
    pub versions: Vec<u16>,
    /// Cipher suites.
    pub cipher_suites: Vec<u16>,
    /// Extension types.
    pub extensions: Vec<u16>,
    /// Proposal types.
    pub proposals: Vec<u16>,
    /// Credential types.
    pub credentials: Vec<u16>,
    /// Wire formats (draft: `WireFormats`; RFC 9420 `WireFormat` is `uint16`).
    pub wire_formats: Vec<u16>,
    /// Component ids.
    pub component_ids: Vec<ComponentId>,
    /// Safe AAD component ids.
    pub safe_aad_types: Vec<ComponentId>,
    /// Media types.
    pub media_types: Vec<MediaType>,
    /// Content types (undefined in the draft; RFC 9420 `ContentType` is `uint8`).
    pub content_types: Vec<u8>,
}

/// `PendingProposalPolicy` (room-policy-03 §7): strategy with its `select`.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
#[repr(u8)]
pub enum PendingProposalPolicy {
    /// `unspecified(0)`.
    #[tls_codec(discriminant = 0)]
    Unspecified,
    /// `immediate_commit(1)`.
    #[tls_codec(discriminant = 1)]
    ImmediateCommit,
    /// `random_delay(2)` with its bounds.
    #[tls_codec(discriminant = 2)]
    RandomDelay {
        /// Lower bound in ms.
        minimum_delay_ms: u64,
        /// Upper bound in ms.
        maximum_delay_ms: u64,
    },
}

/// `MinDefaultMaxTime` (room-policy-03 §7).
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    Default,
    TlsSerialize,
    TlsDeserialize,
    TlsSize,
    Serialize,
    Deserialize,
)]
pub struct MinDefaultMaxTime {
    /// Minimum.
    pub minimum_time: u64,
    /// Default.
    pub default_time: u64,
    /// Maximum.
    pub maximum_time: u64,
}

/// `AppMessagePolicy` (room-policy-03 §7).
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    Default,
    TlsSerialize,
    TlsDeserialize,
    TlsSize,
    Serialize,
    Deserialize,
)]
pub struct AppMessagePolicy {
    /// Epochs of tolerance for application messages.
    pub epoch_tolerance: u8,
    /// Padding target size.
    pub pad_to_size: u16,
    /// Max generations to skip ahead.
    pub max_generations_skipahead: u32,
}

/// `OperationalParameters` (room-policy-03 §7).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize, Serialize, Deserialize,
)]
pub struct OperationalParameters {
    /// Capabilities every client must have.
    pub mandatory_capabilities: ExtendedCapabilities,
    /// Capabilities used by default.
    pub default_capabilities: ExtendedCapabilities,
    /// Capabilities that must not be used.
    pub forbidden_capabilities: ExtendedCapabilities,
    /// Wire formats for handshake messages.
    pub handshake_formats: Vec<u16>,
    /// External proposals allowed.
    #[tls_codec(with = "tls_bool")]
    pub external_proposal_allowed: bool,
    /// External commits allowed.
    #[tls_codec(with = "tls_bool")]
    pub external_commit_allowed: bool,
    /// How pending proposals are committed.
    pub pending_proposal_policy: PendingProposalPolicy,
    /// Leaf node update interval.
    pub leaf_node_update_time: MinDefaultMaxTime,
    /// Application message handling.
    pub app_message_policy: AppMessagePolicy,
    /// Max key package lifetime (draft typo `unit64`).
    pub max_kp_lifetime: u64,
    /// Max credential lifetime.
    pub max_credential_lifetime: u64,
    /// Resumption PSK lifetime.
    pub resumption_psk_lifetime: u64,
    /// Sender nonce key pair lifetime.
    pub sender_nonce_keypair_lifetime: MinDefaultMaxTime,
    /// Max key pairs.
    pub max_keypairs: u32,
    /// Buffering time for incoming messages.
    pub buffer_incoming_message_time: MinDefaultMaxTime,
    /// Max buffered messages.
    pub max_buffered_messages: u32,
}
