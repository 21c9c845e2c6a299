//! The in-memory view of a room that the authorization decision reads
//! ([`RoomPolicyState`]), who acts ([`Actor`]) and what they ask for ([`Change`]).
//!
//! This module depends on nothing else in the crate; the room layer converts its own state
//! into a [`RoomPolicyState`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::capability::Capability;
use super::components::{
    BaseRoomPolicy, Claim, ClaimId, ComponentId, CredentialType, PreAuthData, Role, RoleData,
    RoleIndex,
};

/// A user identifier (a `mimi://…/u/…` URI in practice; compared as bytes).
pub type UserId = String;
/// A client identifier (one MLS leaf).
pub type ClientId = String;

/// The policy-relevant state of one room (room-policy-03 §1–§5, protocol-06 §7.5).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RoomPolicyState {
    /// Participant list: user → role index. Users absent here hold role 0.
    pub participants: BTreeMap<UserId, RoleIndex>,
    /// Clients of each user in the MLS group (a user with none is inactive).
    pub clients: BTreeMap<UserId, BTreeSet<ClientId>>,
    /// The roles list (§3).
    pub roles: RoleData,
    /// The preauthorization list (§4).
    pub preauth: PreAuthData,
    /// The base room policy (§5).
    pub base: BaseRoomPolicy,
    /// Valid join codes and the role each one admits into (§6.2, §8.1.1; the draft leaves
    /// code format and the code → role binding open, so the hub supplies them).
    pub join_codes: BTreeMap<String, RoleIndex>,
    /// For a parent-dependent room: the parent room's participants, when known (§5).
    pub parent_participants: Option<BTreeSet<UserId>>,
}

impl RoomPolicyState {
    /// A room with the given roles list, no participants, default base policy.
    pub fn new(roles: RoleData) -> Self {
        RoomPolicyState {
            roles,
            ..RoomPolicyState::default()
        }
    }

    /// `role(user)`: the user's role index, 0 when not listed (§3).
    pub fn role_of(&self, user: &str) -> RoleIndex {
        self.participants.get(user).copied().unwrap_or(0)
    }

    /// The role definition for `index`.
    pub fn role(&self, index: RoleIndex) -> Option<&Role> {
        self.roles.get(index)
    }

    /// Whether the user's role lists `cap` (role 0's capabilities for unlisted users).
    pub fn has_capability(&self, user: &str, cap: Capability) -> bool {
        self.role(self.role_of(user)).is_some_and(|r| r.has(cap))
    }

    /// Number of clients the user has in the MLS group.
    pub fn client_count(&self, user: &str) -> usize {
        self.clients.get(user).map_or(0, BTreeSet::len)
    }

    /// Whether `client` is one of `user`'s clients.
    pub fn has_client(&self, user: &str, client: &str) -> bool {
        self.clients.get(user).is_some_and(|c| c.contains(client))
    }

    /// The user owning `client`, if any.
    pub fn owner_of(&self, client: &str) -> Option<&UserId> {
        self.clients
            .iter()
            .find(|(_, cs)| cs.contains(client))
            .map(|(u, _)| u)
    }

    /// Number of participants holding `role`.
    pub fn participants_in(&self, role: RoleIndex) -> usize {
        self.participants.values().filter(|&&r| r == role).count()
    }

    /// Number of active participants (≥1 client) holding `role`.
    pub fn active_in(&self, role: RoleIndex) -> usize {
        self.participants
            .iter()
            .filter(|(u, &r)| r == role && self.client_count(u) > 0)
            .count()
    }

    /// Total number of clients (MLS leaves).
    pub fn total_clients(&self) -> usize {
        self.clients.values().map(BTreeSet::len).sum()
    }

    /// Whether role 1 exists and is named exactly `banned` (§3), enabling ban/unban.
    pub fn has_banned_role(&self) -> bool {
        self.role(1)
            .is_some_and(|r| r.role_name.as_slice() == b"banned")
    }

    /// Participant-list entries that do not hold the banned role (§5 `max_users`).
    pub fn non_banned_users(&self) -> usize {
        let banned = self.has_banned_role();
        self.participants
            .values()
            .filter(|&&r| !(banned && r == 1))
            .count()
    }

    /// The first preauthorization entry matching `claims` (§4), optionally skipping
    /// entries that target role 0.
    pub fn preauth_match(&self, claims: &[Claim], skip_zero: bool) -> Option<RoleIndex> {
        self.preauth
            .preauthorized_entries
            .iter()
            .filter(|e| !(skip_zero && e.target_role == 0))
            .find(|e| e.matches(claims))
            .map(|e| e.target_role)
    }
}

/// Credential type used by the typed claim helpers (RFC 9420 `basic`).
pub const TYPED_CLAIM_CREDENTIAL_TYPE: CredentialType = 0x0001;
/// Claim id of the provider-domain claim of the typed claim helpers.
pub const CLAIM_ID_DOMAIN: &[u8] = b"domain";
/// Claim id of the user-URI claim of the typed claim helpers.
pub const CLAIM_ID_USER: &[u8] = b"user";

impl Claim {
    /// A claim with an arbitrary credential type, id and value (§4 `Claim`).
    pub fn named(credential_type: CredentialType, id: &[u8], value: &[u8]) -> Self {
        Claim {
            claim_id: ClaimId {
                credential_type,
                id: id.into(),
            },
            claim_value: value.into(),
        }
    }
    /// The requester's provider domain (our convention, see `spec/deviations.md`).
    pub fn domain(domain: &str) -> Self {
        Claim::named(
            TYPED_CLAIM_CREDENTIAL_TYPE,
            CLAIM_ID_DOMAIN,
            domain.as_bytes(),
        )
    }
    /// The requester's user URI (our convention, see `spec/deviations.md`).
    pub fn user(uri: &str) -> Self {
        Claim::named(TYPED_CLAIM_CREDENTIAL_TYPE, CLAIM_ID_USER, uri.as_bytes())
    }
}

/// Who proposes or commits: a user, the client it acts through, and the claims its
/// credential carries (for preauthorization, §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The acting user.
    pub user: UserId,
    /// The acting client (`None` for a non-member sender such as a hub policy enforcer).
    pub client: Option<ClientId>,
    /// Claims of the actor's credential.
    pub claims: Vec<Claim>,
}

impl Actor {
    /// A user acting through `client`.
    pub fn new(user: &str, client: &str) -> Self {
        Actor {
            user: user.to_owned(),
            client: Some(client.to_owned()),
            claims: Vec::new(),
        }
    }
    /// A user acting without a client in the group (e.g. an external sender).
    pub fn without_client(user: &str) -> Self {
        Actor {
            user: user.to_owned(),
            client: None,
            claims: Vec::new(),
        }
    }
    /// The same actor presenting `claims`.
    pub fn with_claims(mut self, claims: Vec<Claim>) -> Self {
        self.claims = claims;
        self
    }
}

/// How an unlisted user joins on its own (§8.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JoinMethod {
    /// `canOpenJoin` on role 0.
    Open,
    /// First matching preauthorization entry (`canJoinIfPreauthorized`).
    Preauthorized,
    /// A join code (`canUseJoinCode`).
    Code(String),
}

/// A field of `RoomMetaData` (protocol-06 §7.6) whose change needs a capability (§8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MetadataField {
    /// `room_uri` (no capability defined: never changeable).
    RoomUri,
    /// `room_name`.
    Name,
    /// `room_descriptions`.
    Description,
    /// `room_avatar`.
    Avatar,
    /// `room_subject`.
    Subject,
    /// `room_mood`.
    Mood,
}

impl MetadataField {
    /// The capability that authorizes changing this field, if one is defined (§8.2).
    pub fn capability(self) -> Option<Capability> {
        match self {
            MetadataField::RoomUri => None,
            MetadataField::Name => Some(Capability::CanChangeRoomName),
            MetadataField::Description => Some(Capability::CanChangeRoomDescription),
            MetadataField::Avatar => Some(Capability::CanChangeRoomAvatar),
            MetadataField::Subject => Some(Capability::CanChangeRoomSubject),
            MetadataField::Mood => Some(Capability::CanChangeRoomMood),
        }
    }
}

/// What an application message does (§8.3, §8.4). Each kind needs its own capability;
/// the draft does not make e.g. reactions depend on `canSendMessage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MessageAction {
    /// A plain message (hub-enforced).
    Send,
    /// A reply (`inReplyTo`).
    Reply,
    /// A reaction.
    React,
    /// Replace one's own reaction.
    EditReaction,
    /// Retract one's own reaction.
    DeleteOwnReaction,
    /// Delete another user's reaction.
    DeleteOtherReaction,
    /// Edit one's own message.
    EditOwn,
    /// Retract one's own message.
    DeleteOwn,
    /// Retract another user's message.
    DeleteOther,
    /// Start a topic.
    StartTopic,
    /// Reply within a topic.
    ReplyInTopic,
    /// Change the topic of one's own message.
    EditOwnTopic,
    /// Change the topic of another user's message.
    EditOtherTopic,
    /// Send an image.
    UploadImage,
    /// Send audio.
    UploadAudio,
    /// Send video.
    UploadVideo,
    /// Send an attachment.
    UploadAttachment,
    /// Send an inline link.
    SendLink,
    /// Send an inline link with a preview.
    SendLinkPreview,
}

impl MessageAction {
    /// The capability this kind of message needs.
    pub fn capability(self) -> Capability {
        use Capability as C;
        match self {
            MessageAction::Send => C::CanSendMessage,
            MessageAction::Reply => C::CanReplyToMessage,
            MessageAction::React => C::CanReactToMessage,
            MessageAction::EditReaction => C::CanEditReaction,
            MessageAction::DeleteOwnReaction => C::CanDeleteOwnReaction,
            MessageAction::DeleteOtherReaction => C::CanDeleteOtherReaction,
            MessageAction::EditOwn => C::CanEditOwnMessage,
            MessageAction::DeleteOwn => C::CanDeleteOwnMessage,
            MessageAction::DeleteOther => C::CanDeleteOtherMessage,
            MessageAction::StartTopic => C::CanStartTopic,
            MessageAction::ReplyInTopic => C::CanReplyInTopic,
            MessageAction::EditOwnTopic => C::CanEditOwnTopic,
            MessageAction::EditOtherTopic => C::CanEditOtherTopic,
            MessageAction::UploadImage => C::CanUploadImage,
            MessageAction::UploadAudio => C::CanUploadAudio,
            MessageAction::UploadVideo => C::CanUploadVideo,
            MessageAction::UploadAttachment => C::CanUploadAttachment,
            MessageAction::SendLink => C::CanSendLink,
            MessageAction::SendLinkPreview => C::CanSendLinkPreview,
        }
    }
}

/// One requested change (a participant-list entry, an MLS proposal, an AppDataUpdate, or an
/// application message). The kind of operation in the A.10 table (e.g. ban vs. role change,
/// leave vs. removal) follows from the change, the proposer and the room state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// `addedParticipants`: add another (unlisted) user with `role` (§8.1.1); with the
    /// banned role this is a pre-ban.
    AddUser {
        /// The user added.
        user: UserId,
        /// Its role.
        role: RoleIndex,
    },
    /// The (unlisted) proposer adds itself with `role` by external commit/proposal (§8.1.1).
    Join {
        /// Requested role.
        role: RoleIndex,
        /// Open join, preauthorization or join code.
        method: JoinMethod,
    },
    /// `removedIndices`: remove a user; a leave when the user is the proposer (§8.1.2).
    RemoveUser {
        /// The user removed.
        user: UserId,
    },
    /// `changedRoleParticipants`: ban, unban, change another's role or change one's own
    /// role (§8.1.3).
    ChangeRole {
        /// Whose role changes.
        user: UserId,
        /// New role.
        role: RoleIndex,
    },
    /// MLS Add / external join of a client of `user` (§8.1.1).
    AddClient {
        /// Owner of the client.
        user: UserId,
        /// The client.
        client: ClientId,
    },
    /// MLS Remove / SelfRemove of a client of `user`: own-client removal or kick (§8.1.2).
    RemoveClient {
        /// Owner of the client.
        user: UserId,
        /// The client.
        client: ClientId,
    },
    /// AppDataUpdate of roles_list (§3).
    UpdateRoles(RoleData),
    /// AppDataUpdate of preauth_list (§4).
    UpdatePreauth(PreAuthData),
    /// AppDataUpdate of base_room_policy (§5).
    UpdateBasePolicy(BaseRoomPolicy),
    /// AppDataUpdate of room_metadata changing the listed fields (protocol-06 §7.6, §8.2).
    UpdateMetadata {
        /// Fields whose value changes.
        fields: BTreeSet<MetadataField>,
    },
    /// AppDataUpdate of join_links (§6.2).
    UpdateJoinLinks {
        /// The update adds links.
        adds: bool,
        /// The update removes links.
        removes: bool,
    },
    /// AppDataUpdate of another component (§6 components, §7 operational policy).
    UpdateComponent {
        /// Its id.
        component: ComponentId,
    },
    /// MLS ReInit proposal (§8.7).
    ReInit,
    /// Destroy the room (§8.6).
    DestroyRoom,
    /// An application message (§8.3).
    SendMessage(MessageAction),
}

/// A change together with the actor that proposed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The proposer (for inline changes: the committer).
    pub proposer: Actor,
    /// The change.
    pub change: Change,
}

impl Proposal {
    /// `change` proposed by `proposer`.
    pub fn by(proposer: &Actor, change: Change) -> Self {
        Proposal {
            proposer: proposer.clone(),
            change,
        }
    }
}
