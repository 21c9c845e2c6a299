//! Typed reasons for refusing a change (room-policy-03 §3–§8, protocol-06 §7.5).
//!
//! Every variant names the rule and section that failed; [`Denial::rule_id`] gives a stable
//! short identifier suitable for an `errorDescription`.

use serde::Serialize;
use thiserror::Error;

use super::capability::Capability;
use super::components::{ComponentId, RoleIndex};
use super::state::{ClientId, UserId};
use super::validate::PolicyError;

/// Which section of room-policy-03 defines a capability's authorization rule.
pub fn capability_section(cap: Capability) -> &'static str {
    use Capability as C;
    match cap {
        C::CanAddParticipant
        | C::CanAddOwnClient
        | C::CanOpenJoin
        | C::CanJoinIfPreauthorized
        | C::CanUseJoinCode
        | C::CanCreateJoinCode
        | C::CanDeleteJoinCode
        | C::CanKnock
        | C::CanAcceptKnock
        | C::CanCreateSubgroup => "room-policy-03 §8.1.1",
        C::CanRemoveParticipant | C::CanRemoveOwnClient | C::CanRemoveSelf | C::CanKick => {
            "room-policy-03 §8.1.2"
        }
        C::CanBan | C::CanUnBan | C::CanChangeUserRole | C::CanChangeOwnRole => {
            "room-policy-03 §8.1.3"
        }
        c => match c.code() >> 8 {
            0x01 => "room-policy-03 §8.3",
            0x02 => "room-policy-03 §8.4",
            0x03 => "room-policy-03 §8.2",
            0x04 => "room-policy-03 §8.5",
            0x05 => "room-policy-03 §8.6",
            _ => "room-policy-03 §8.7",
        },
    }
}

/// A rule about what may share one commit.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
pub enum SameCommitRule {
    /// protocol-06 §7.5: a commit touches each user's participant-list entry at most once.
    #[error(
        "user {user} has more than one participant-list change in the commit (protocol-06 §7.5)"
    )]
    UserChangedTwice {
        /// The user.
        user: UserId,
    },
    /// A commit adds or removes the same client more than once.
    #[error("client {client} is added or removed more than once in the commit (RFC 9420 §12.2)")]
    ClientChangedTwice {
        /// The client.
        client: ClientId,
    },
    /// protocol-06 §7.6: at most one room-metadata update per commit.
    #[error("more than one room_metadata update in the commit (protocol-06 §7.6)")]
    MetadataUpdatedTwice,
    /// room-policy-03 §3: a roles-list update never shares a commit with a participant-list
    /// change.
    #[error(
        "roles_list update in the same commit as a participant-list change (room-policy-03 §3)"
    )]
    RolesWithParticipantChange,
    /// room-policy-03 §4: a preauth update shares a commit only with user removals.
    #[error("preauth_list update in the same commit as a participant-list change other than a removal (room-policy-03 §4)")]
    PreauthWithNonRemoval,
    /// §8.1.2/§8.1.3: a removed or banned user's clients are all removed by the same commit.
    #[error("user {user} is removed or banned but keeps clients in the group (room-policy-03 §8.1.2, §8.1.3)")]
    ClientsNotRemoved {
        /// The user.
        user: UserId,
    },
    /// §8.1.2: a leave is never committed by the leaving user.
    #[error("the leave of {user} is committed by that user (room-policy-03 §8.1.2)")]
    LeaveCommittedByLeaver {
        /// The user.
        user: UserId,
    },
    /// §8.1.2, RFC 9420: a client never commits its own removal.
    #[error("client {client} commits its own removal (room-policy-03 §8.1.2)")]
    RemovalCommittedByRemovedClient {
        /// The client.
        client: ClientId,
    },
    /// An application message is not a commit content.
    #[error("an application message cannot be part of a commit (room-policy-03 §8.3)")]
    MessageInCommit,
}

/// Why a change or commit is not authorized.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
pub enum Denial {
    /// The acting role lacks a capability.
    #[error("role {role} lacks {capability} ({section})")]
    MissingCapability {
        /// The capability needed.
        capability: Capability,
        /// The role consulted (the actor's, or role 0 / the target role for joins).
        role: RoleIndex,
        /// Where the rule is.
        section: &'static str,
    },
    /// No `authorized_role_changes` entry of the actor's role allows `from → to`.
    #[error(
        "role {actor_role} may not move a user from role {from} to role {to} (room-policy-03 §3)"
    )]
    TransitionNotAllowed {
        /// From role.
        from: RoleIndex,
        /// To role.
        to: RoleIndex,
        /// The role whose transitions were consulted.
        actor_role: RoleIndex,
    },
    /// The role is not in the roles list.
    #[error("role {role} is not defined in the roles list (room-policy-03 §3)")]
    UnknownRole {
        /// The role.
        role: RoleIndex,
    },
    /// Role 0 is "not in the list"; nobody is added into or moved to it.
    #[error("role 0 cannot be assigned; removal is a separate operation (room-policy-03 §3)")]
    RoleZeroAssigned,
    /// A role change to the role the user already holds.
    #[error("user {user} already holds role {role} (protocol-06 §7.5)")]
    RoleUnchanged {
        /// The user.
        user: UserId,
        /// Its role.
        role: RoleIndex,
    },
    /// The user already has a participant-list entry.
    #[error("user {user} is already in the participant list (room-policy-03 §4, §8.1.1)")]
    AlreadyListed {
        /// The user.
        user: UserId,
    },
    /// The user has no participant-list entry.
    #[error("user {user} is not in the participant list (protocol-06 §7.5)")]
    NotListed {
        /// The user.
        user: UserId,
    },
    /// The capability may not target the proposer itself.
    #[error("{capability} cannot target the proposer itself ({section})")]
    TargetsSelf {
        /// The capability.
        capability: Capability,
        /// Where the rule is.
        section: &'static str,
    },
    /// No preauthorization entry matches the requester's claims.
    #[error("no preauthorization entry matches the requester's credential (room-policy-03 §4)")]
    PreauthNoMatch,
    /// The first matching preauthorization entry names another role.
    #[error("first matching preauthorization entry is for role {matched}, not {requested} (room-policy-03 §4)")]
    PreauthRoleMismatch {
        /// Role of the first match.
        matched: RoleIndex,
        /// Role requested.
        requested: RoleIndex,
    },
    /// The join code is not valid.
    #[error("join code is not valid (room-policy-03 §8.1.1)")]
    InvalidJoinCode,
    /// The join code admits into another role.
    #[error("join code admits into role {code_role}, not {requested} (room-policy-03 §8.1.1)")]
    JoinCodeRoleMismatch {
        /// The code's role.
        code_role: RoleIndex,
        /// Role requested.
        requested: RoleIndex,
    },
    /// A client of another user may only be added as part of adding that user.
    #[error("client of {user} added by someone else (room-policy-03 §8.1.1)")]
    NotOwnClient {
        /// Owner of the client.
        user: UserId,
    },
    /// Adding one's own client by Add proposal needs a member client of the same user.
    #[error("proposer is not a member client of {user} (room-policy-03 §8.1.1)")]
    NotMemberClient {
        /// The user.
        user: UserId,
    },
    /// The client is not (or no longer) in the group under this user.
    #[error("client {client} of {user} is not in the group")]
    UnknownClient {
        /// Owner.
        user: UserId,
        /// The client.
        client: ClientId,
    },
    /// The client is already in the group.
    #[error("client {client} is already in the group")]
    DuplicateClient {
        /// The client.
        client: ClientId,
    },
    /// After the commit a user without a participant-list entry would have clients.
    #[error("user {user} would have clients but no participant-list entry (protocol-06 §7.5)")]
    ClientOfUnlistedUser {
        /// The user.
        user: UserId,
    },
    /// Sending needs an active client of the sender.
    #[error("sender {user} has no client in the group")]
    NotActive {
        /// The sender.
        user: UserId,
    },
    /// Fixed-membership rooms keep their participant set (§5).
    #[error("participant set of a fixed-membership room cannot change (room-policy-03 §5)")]
    FixedMembership,
    /// Parent-dependent room: participants must be a strict subset of the parent's (§5).
    #[error("user {user} is not a participant of the parent room (room-policy-03 §5)")]
    NotInParentRoom {
        /// The user.
        user: UserId,
    },
    /// Parent-dependent room whose parent participants are unknown, or which would equal
    /// the parent's participant set.
    #[error("parent-dependent room: participants must be a strict subset of the known parent room's (room-policy-03 §5)")]
    ParentRoomRule,
    /// §3 minimum participants constraint, post-commit.
    #[error("role {role} would have {actual} participants, minimum {limit} (room-policy-03 §3)")]
    MinParticipants {
        /// Role.
        role: RoleIndex,
        /// Constraint.
        limit: u32,
        /// Post-commit count.
        actual: usize,
    },
    /// §3 maximum participants constraint, post-commit.
    #[error("role {role} would have {actual} participants, maximum {limit} (room-policy-03 §3)")]
    MaxParticipants {
        /// Role.
        role: RoleIndex,
        /// Constraint.
        limit: u32,
        /// Post-commit count.
        actual: usize,
    },
    /// §3 minimum active participants constraint, post-commit.
    #[error(
        "role {role} would have {actual} active participants, minimum {limit} (room-policy-03 §3)"
    )]
    MinActiveParticipants {
        /// Role.
        role: RoleIndex,
        /// Constraint.
        limit: u32,
        /// Post-commit count.
        actual: usize,
    },
    /// §3 maximum active participants constraint, post-commit.
    #[error(
        "role {role} would have {actual} active participants, maximum {limit} (room-policy-03 §3)"
    )]
    MaxActiveParticipants {
        /// Role.
        role: RoleIndex,
        /// Constraint.
        limit: u32,
        /// Post-commit count.
        actual: usize,
    },
    /// §5 `max_clients`, post-commit.
    #[error("group would have {actual} clients, maximum {limit} (room-policy-03 §5)")]
    MaxClients {
        /// Constraint.
        limit: u32,
        /// Post-commit count.
        actual: usize,
    },
    /// §5 `max_users`, post-commit.
    #[error(
        "room would have {actual} non-banned participants, maximum {limit} (room-policy-03 §5)"
    )]
    MaxUsers {
        /// Constraint.
        limit: u32,
        /// Post-commit count.
        actual: usize,
    },
    /// §5 `multi_device = false`, post-commit.
    #[error(
        "user {user} would have {clients} clients in a single-device room (room-policy-03 §5)"
    )]
    MultiDevice {
        /// The user.
        user: UserId,
        /// Post-commit client count.
        clients: usize,
    },
    /// A commit-composition rule.
    #[error(transparent)]
    SameCommitRule(#[from] SameCommitRule),
    /// The component's update has no authorizing capability (e.g. `room_uri`).
    #[error("no capability authorizes changing {what} (room-policy-03 §8)")]
    NoCapabilityDefined {
        /// What was to be changed.
        what: &'static str,
    },
    /// The component id is not a policy component this decision handles generically.
    #[error("component 0x{component:04x} cannot be updated generically (room-policy-03 §10.1)")]
    UnknownComponent {
        /// The id.
        component: ComponentId,
    },
    /// The policy that would result is not well-formed.
    #[error("resulting policy is not well-formed: {0}")]
    InvalidPolicy(#[from] PolicyError),
}

impl Denial {
    /// The draft section whose rule failed.
    pub fn section(&self) -> &'static str {
        match self {
            Denial::MissingCapability { section, .. } | Denial::TargetsSelf { section, .. } => {
                section
            }
            Denial::TransitionNotAllowed { .. }
            | Denial::UnknownRole { .. }
            | Denial::RoleZeroAssigned
            | Denial::MinParticipants { .. }
            | Denial::MaxParticipants { .. }
            | Denial::MinActiveParticipants { .. }
            | Denial::MaxActiveParticipants { .. } => "room-policy-03 §3",
            Denial::PreauthNoMatch | Denial::PreauthRoleMismatch { .. } => "room-policy-03 §4",
            Denial::FixedMembership
            | Denial::NotInParentRoom { .. }
            | Denial::ParentRoomRule
            | Denial::MaxClients { .. }
            | Denial::MaxUsers { .. }
            | Denial::MultiDevice { .. } => "room-policy-03 §5",
            Denial::AlreadyListed { .. }
            | Denial::InvalidJoinCode
            | Denial::JoinCodeRoleMismatch { .. }
            | Denial::NotOwnClient { .. }
            | Denial::NotMemberClient { .. } => "room-policy-03 §8.1.1",
            Denial::NotActive { .. } => "room-policy-03 §8.3",
            Denial::NoCapabilityDefined { .. } => "room-policy-03 §8",
            Denial::UnknownComponent { .. } => "room-policy-03 §10.1",
            Denial::InvalidPolicy(_) => "room-policy-03 §3-§6",
            Denial::RoleUnchanged { .. }
            | Denial::NotListed { .. }
            | Denial::UnknownClient { .. }
            | Denial::DuplicateClient { .. }
            | Denial::ClientOfUnlistedUser { .. } => "protocol-06 §7.5",
            Denial::SameCommitRule(r) => match r {
                SameCommitRule::UserChangedTwice { .. } => "protocol-06 §7.5",
                SameCommitRule::ClientChangedTwice { .. } => "RFC 9420 §12.2",
                SameCommitRule::MetadataUpdatedTwice => "protocol-06 §7.6",
                SameCommitRule::RolesWithParticipantChange => "room-policy-03 §3",
                SameCommitRule::PreauthWithNonRemoval => "room-policy-03 §4",
                SameCommitRule::ClientsNotRemoved { .. }
                | SameCommitRule::LeaveCommittedByLeaver { .. }
                | SameCommitRule::RemovalCommittedByRemovedClient { .. } => "room-policy-03 §8.1.2",
                SameCommitRule::MessageInCommit => "room-policy-03 §8.3",
            },
        }
    }

    /// A stable identifier of the failed rule.
    pub fn rule_id(&self) -> &'static str {
        match self {
            Denial::MissingCapability { .. } => "policy.missing-capability",
            Denial::TransitionNotAllowed { .. } => "policy.transition-not-allowed",
            Denial::UnknownRole { .. } => "policy.unknown-role",
            Denial::RoleZeroAssigned => "policy.role-zero-assigned",
            Denial::RoleUnchanged { .. } => "policy.role-unchanged",
            Denial::AlreadyListed { .. } => "policy.already-listed",
            Denial::NotListed { .. } => "policy.not-listed",
            Denial::TargetsSelf { .. } => "policy.targets-self",
            Denial::PreauthNoMatch => "policy.preauth-no-match",
            Denial::PreauthRoleMismatch { .. } => "policy.preauth-role-mismatch",
            Denial::InvalidJoinCode => "policy.invalid-join-code",
            Denial::JoinCodeRoleMismatch { .. } => "policy.join-code-role-mismatch",
            Denial::NotOwnClient { .. } => "policy.not-own-client",
            Denial::NotMemberClient { .. } => "policy.not-member-client",
            Denial::UnknownClient { .. } => "policy.unknown-client",
            Denial::DuplicateClient { .. } => "policy.duplicate-client",
            Denial::ClientOfUnlistedUser { .. } => "policy.client-of-unlisted-user",
            Denial::NotActive { .. } => "policy.not-active",
            Denial::FixedMembership => "policy.fixed-membership",
            Denial::NotInParentRoom { .. } => "policy.not-in-parent-room",
            Denial::ParentRoomRule => "policy.parent-room",
            Denial::MinParticipants { .. } => "policy.min-participants",
            Denial::MaxParticipants { .. } => "policy.max-participants",
            Denial::MinActiveParticipants { .. } => "policy.min-active-participants",
            Denial::MaxActiveParticipants { .. } => "policy.max-active-participants",
            Denial::MaxClients { .. } => "policy.max-clients",
            Denial::MaxUsers { .. } => "policy.max-users",
            Denial::MultiDevice { .. } => "policy.multi-device",
            Denial::SameCommitRule(r) => match r {
                SameCommitRule::UserChangedTwice { .. } => "commit.user-changed-twice",
                SameCommitRule::ClientChangedTwice { .. } => "commit.client-changed-twice",
                SameCommitRule::MetadataUpdatedTwice => "commit.metadata-updated-twice",
                SameCommitRule::RolesWithParticipantChange => {
                    "commit.roles-with-participant-change"
                }
                SameCommitRule::PreauthWithNonRemoval => "commit.preauth-with-non-removal",
                SameCommitRule::ClientsNotRemoved { .. } => "commit.clients-not-removed",
                SameCommitRule::LeaveCommittedByLeaver { .. } => "commit.leave-committed-by-leaver",
                SameCommitRule::RemovalCommittedByRemovedClient { .. } => {
                    "commit.removal-committed-by-removed-client"
                }
                SameCommitRule::MessageInCommit => "commit.message-in-commit",
            },
            Denial::NoCapabilityDefined { .. } => "policy.no-capability-defined",
            Denial::UnknownComponent { .. } => "policy.unknown-component",
            Denial::InvalidPolicy(_) => "policy.invalid-policy",
        }
    }
}
