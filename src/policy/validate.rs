//! Well-formedness of a policy (the static parts of the invariants in room-policy-03 §3–§6,
//! digest A.12 I2–I17).

use std::collections::BTreeSet;

use serde::Serialize;
use thiserror::Error;

use super::capability::Capability;
use super::components::{
    AssetPolicy, AssetUploadLocation, BaseRoomPolicy, BotPolicy, HistoryPolicy, LinkPreviewPolicy,
    LoggingPolicy, MessageExpiration, Optionality, PreAuthData, RoleData, RoleIndex,
};
use super::state::{RoomPolicyState, UserId};

/// A well-formedness violation.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
pub enum PolicyError {
    /// §3: role indexes are unique.
    #[error("role index {0} defined twice (room-policy-03 §3)")]
    DuplicateRoleIndex(RoleIndex),
    /// §3: role 0 never has participants, so it cannot require any.
    #[error("role 0 has a non-zero minimum constraint (room-policy-03 §3)")]
    NoRoleMinimum,
    /// §3: the banned role holds no capabilities.
    #[error("role 1 \"banned\" holds capabilities (room-policy-03 §3)")]
    BannedRoleHasCapabilities,
    /// §3: a transition names an undefined role.
    #[error("role {role} has a transition naming undefined role {referenced} (room-policy-03 §3)")]
    UnknownTransitionRole {
        /// The role holding the transition list.
        role: RoleIndex,
        /// The undefined role.
        referenced: RoleIndex,
    },
    /// §3: a minimum exceeds its maximum.
    #[error("role {role} has inconsistent min/max constraints (room-policy-03 §3)")]
    InconsistentConstraints {
        /// The role.
        role: RoleIndex,
    },
    /// §8.1.1: canOpenJoin only on role 0 (I10).
    #[error(
        "role {role} holds canOpenJoin, which is only meaningful on role 0 (room-policy-03 §8.1.1)"
    )]
    OpenJoinOutsideRoleZero {
        /// The role.
        role: RoleIndex,
    },
    /// §8.1.1: open join needs a (0 → r) entry on role 0 (I10).
    #[error("role 0 holds canOpenJoin without a transition from role 0 to a non-zero role (room-policy-03 §8.1.1)")]
    OpenJoinWithoutTargets,
    /// §8.1.1: canAddParticipant needs a (0 → r) entry (I11).
    #[error("role {role} holds canAddParticipant without a transition from role 0 (room-policy-03 §8.1.1)")]
    AddWithoutTransition {
        /// The role.
        role: RoleIndex,
    },
    /// §5: fixed membership forbids canAddParticipant outside roles 0 and banned (I8).
    #[error("fixed-membership room, but role {role} holds canAddParticipant (room-policy-03 §5)")]
    FixedMembershipAllowsAdd {
        /// The role.
        role: RoleIndex,
    },
    /// §5: parent_room holds exactly one URI iff parent-dependent (I9).
    #[error("parent_room must hold one URI iff parent_dependant is true (room-policy-03 §5)")]
    ParentRoomMismatch,
    /// §4: preauthorization targets a defined, non-zero role.
    #[error("preauthorization entry {entry} targets role {role}, which is 0 or undefined (room-policy-03 §4)")]
    PreauthBadRole {
        /// Entry position.
        entry: usize,
        /// Its target.
        role: RoleIndex,
    },
    /// I2: no participant holds role 0.
    #[error("participant {0} holds role 0 (room-policy-03 §3)")]
    ParticipantRoleZero(UserId),
    /// Every participant's role is defined.
    #[error("participant {user} holds undefined role {role} (room-policy-03 §3)")]
    ParticipantUnknownRole {
        /// The user.
        user: UserId,
        /// Its role.
        role: RoleIndex,
    },
    /// Clients belong to listed users.
    #[error("user {0} has clients but no participant-list entry (protocol-06 §7.5)")]
    ClientsOfUnlistedUser(UserId),
    /// A client id appears under two users.
    #[error("client {0} belongs to more than one user")]
    SharedClient(String),
    /// I3/I4: maximum constraints hold.
    #[error("role {role} exceeds its maximum (active) participants (room-policy-03 §3)")]
    RoleOverMaximum {
        /// The role.
        role: RoleIndex,
    },
    /// I5–I7: base-policy caps hold.
    #[error("room exceeds max_clients, max_users or single-device limit (room-policy-03 §5)")]
    BaseLimitExceeded,
    /// I12: autodetection of hyperlinks cannot be required.
    #[error("autodetect_hyperlinks_in_text must not be required (room-policy-03 §6.3)")]
    AutodetectRequired,
    /// I13: hub uploads name exactly one provider.
    #[error(
        "asset_upload_location hub needs exactly one upload_domains entry (room-policy-03 §6.4)"
    )]
    HubUploadDomains,
    /// I15: required logging needs a logging client.
    #[error("logging is required but no logging client is listed (room-policy-03 §6.5)")]
    LoggingWithoutClients,
    /// I16: roles that cannot be active cannot share history.
    #[error("role {0} may not share history (room-policy-03 §6.6)")]
    HistoryRoleNotAllowed(RoleIndex),
    /// I17: a local client bot acts in role 0.
    #[error("local client bot {0} has a non-zero role (room-policy-03 §6.7)")]
    LocalBotWithRole(usize),
    /// §6.8: min ≤ default ≤ max.
    #[error(
        "message expiration durations are not ordered min <= default <= max (room-policy-03 §6.8)"
    )]
    ExpirationOrder,
}

/// Check a roles list on its own (§3, §8.1.1; I10, I11).
pub fn validate_roles(roles: &RoleData) -> Result<(), PolicyError> {
    let mut seen = BTreeSet::new();
    for r in &roles.roles {
        if !seen.insert(r.role_index) {
            return Err(PolicyError::DuplicateRoleIndex(r.role_index));
        }
    }
    for r in &roles.roles {
        let idx = r.role_index;
        if idx == 0
            && (r.minimum_participants_constraint > 0
                || r.minimum_active_participants_constraint > 0)
        {
            return Err(PolicyError::NoRoleMinimum);
        }
        if idx == 1 && r.role_name.as_slice() == b"banned" && !r.role_capabilities.is_empty() {
            return Err(PolicyError::BannedRoleHasCapabilities);
        }
        for e in &r.authorized_role_changes {
            for &referenced in std::iter::once(&e.from_role_index).chain(&e.target_role_indexes) {
                if referenced != 0 && !seen.contains(&referenced) {
                    return Err(PolicyError::UnknownTransitionRole {
                        role: idx,
                        referenced,
                    });
                }
            }
        }
        let min_p = r.minimum_participants_constraint;
        let min_a = r.minimum_active_participants_constraint;
        let bad = r
            .maximum_participants_constraint
            .is_some_and(|m| min_p > m || min_a > m)
            || r.maximum_active_participants_constraint
                .is_some_and(|m| min_a > m);
        if bad {
            return Err(PolicyError::InconsistentConstraints { role: idx });
        }
        if r.has(Capability::CanOpenJoin) {
            if idx != 0 {
                return Err(PolicyError::OpenJoinOutsideRoleZero { role: idx });
            }
            let has_target = r
                .authorized_role_changes
                .iter()
                .any(|e| e.from_role_index == 0 && e.target_role_indexes.iter().any(|&t| t != 0));
            if !has_target {
                return Err(PolicyError::OpenJoinWithoutTargets);
            }
        }
        if r.has(Capability::CanAddParticipant)
            && !r
                .authorized_role_changes
                .iter()
                .any(|e| e.from_role_index == 0)
        {
            return Err(PolicyError::AddWithoutTransition { role: idx });
        }
    }
    Ok(())
}

/// Check a preauthorization list against a roles list (§4).
pub fn validate_preauth(preauth: &PreAuthData, roles: &RoleData) -> Result<(), PolicyError> {
    for (entry, e) in preauth.preauthorized_entries.iter().enumerate() {
        if e.target_role == 0 || roles.get(e.target_role).is_none() {
            return Err(PolicyError::PreauthBadRole {
                entry,
                role: e.target_role,
            });
        }
    }
    Ok(())
}

/// Check a base policy against a roles list (§5; I8, I9).
pub fn validate_base(base: &BaseRoomPolicy, roles: &RoleData) -> Result<(), PolicyError> {
    if base.parent_dependant != (base.parent_room.len() == 1) || base.parent_room.len() > 1 {
        return Err(PolicyError::ParentRoomMismatch);
    }
    if base.parent_room.iter().any(|u| u.is_empty()) {
        return Err(PolicyError::ParentRoomMismatch);
    }
    if base.fixed_membership {
        for r in &roles.roles {
            let banned = r.role_index == 1 && r.role_name.as_slice() == b"banned";
            if r.role_index != 0 && !banned && r.has(Capability::CanAddParticipant) {
                return Err(PolicyError::FixedMembershipAllowsAdd { role: r.role_index });
            }
        }
    }
    Ok(())
}

/// Check a whole room state: roles, preauthorization, base policy, and the participant
/// invariants I2, I3, the maximum half of I4, I5–I7.
pub fn validate_state(state: &RoomPolicyState) -> Result<(), PolicyError> {
    validate_roles(&state.roles)?;
    validate_preauth(&state.preauth, &state.roles)?;
    validate_base(&state.base, &state.roles)?;
    for (user, &role) in &state.participants {
        if role == 0 {
            return Err(PolicyError::ParticipantRoleZero(user.clone()));
        }
        if state.role(role).is_none() {
            return Err(PolicyError::ParticipantUnknownRole {
                user: user.clone(),
                role,
            });
        }
    }
    let mut all_clients = BTreeSet::new();
    for (user, clients) in &state.clients {
        if !clients.is_empty() && !state.participants.contains_key(user) {
            return Err(PolicyError::ClientsOfUnlistedUser(user.clone()));
        }
        for c in clients {
            if !all_clients.insert(c) {
                return Err(PolicyError::SharedClient(c.clone()));
            }
        }
    }
    for r in &state.roles.roles {
        let over_p = r
            .maximum_participants_constraint
            .is_some_and(|m| state.participants_in(r.role_index) > m as usize);
        let over_a = r
            .maximum_active_participants_constraint
            .is_some_and(|m| state.active_in(r.role_index) > m as usize);
        if over_p || over_a {
            return Err(PolicyError::RoleOverMaximum { role: r.role_index });
        }
    }
    let b = &state.base;
    let over_clients = b
        .max_clients
        .is_some_and(|m| state.total_clients() > m as usize);
    let over_users = b
        .max_users
        .is_some_and(|m| state.non_banned_users() > m as usize);
    let multi = !b.multi_device && state.clients.values().any(|c| c.len() > 1);
    if over_clients || over_users || multi {
        return Err(PolicyError::BaseLimitExceeded);
    }
    Ok(())
}

impl LinkPreviewPolicy {
    /// §6.3 (I12).
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.autodetect_hyperlinks_in_text == Optionality::Required {
            return Err(PolicyError::AutodetectRequired);
        }
        Ok(())
    }
}

impl AssetPolicy {
    /// §6.4 (I13; the hub-domain half needs the hub's name and is left to the caller).
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.asset_upload_location == AssetUploadLocation::Hub && self.upload_domains.len() != 1
        {
            return Err(PolicyError::HubUploadDomains);
        }
        Ok(())
    }
}

impl LoggingPolicy {
    /// §6.5 (I15).
    pub fn validate(&self) -> Result<(), PolicyError> {
        match self {
            LoggingPolicy::Required(d) if d.logging_clients.is_empty() => {
                Err(PolicyError::LoggingWithoutClients)
            }
            _ => Ok(()),
        }
    }
}

impl HistoryPolicy {
    /// §6.6 (I16): no sharing by roles 0, 1, or roles that can never be active.
    pub fn validate(&self, roles: &RoleData) -> Result<(), PolicyError> {
        let sharing = match self {
            HistoryPolicy::Optional(s) | HistoryPolicy::Required(s) => s,
            HistoryPolicy::Forbidden => return Ok(()),
        };
        for &r in &sharing.roles_that_can_share {
            let inactive = roles
                .get(r)
                .is_some_and(|role| role.maximum_active_participants_constraint == Some(0));
            if r == 0 || r == 1 || inactive {
                return Err(PolicyError::HistoryRoleNotAllowed(r));
            }
        }
        Ok(())
    }
}

impl BotPolicy {
    /// §6.7 (I17).
    pub fn validate(&self) -> Result<(), PolicyError> {
        match self
            .allowed_bots
            .iter()
            .position(|b| b.local_client_bot && b.bot_role_index != 0)
        {
            Some(i) => Err(PolicyError::LocalBotWithRole(i)),
            None => Ok(()),
        }
    }
}

impl MessageExpiration {
    /// §6.8: min ≤ default ≤ max (implied by the draft).
    pub fn validate(&self) -> Result<(), PolicyError> {
        let d = match self {
            MessageExpiration::Optional(d) | MessageExpiration::Required(d) => d,
            MessageExpiration::Forbidden => return Ok(()),
        };
        let ordered = d.min_expiration_duration <= d.max_expiration_duration
            && d.default_expiration_duration
                .is_none_or(|x| d.min_expiration_duration <= x && x <= d.max_expiration_duration);
        if ordered {
            Ok(())
        } else {
            Err(PolicyError::ExpirationOrder)
        }
    }
}
