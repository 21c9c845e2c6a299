//! The model's own small room-policy code, written from room-policy-03 (§3 roles,
//! §4 preauthorization, §5 base policy, §8 capabilities) and protocol-06 §7.5/§7.6.

use crate::config::Config;
use crate::state::RoomState;
use std::collections::BTreeSet;

/// Capability bit (room-policy-03 §8 / IANA "MIMI Capability Types").
pub type Caps = u32;
/// canAddParticipant (§8.1.1)
pub const ADD_PARTICIPANT: Caps = 1;
/// canRemoveParticipant (§8.1.2)
pub const REMOVE_PARTICIPANT: Caps = 1 << 1;
/// canAddOwnClient (§8.1.1)
pub const ADD_OWN_CLIENT: Caps = 1 << 2;
/// canRemoveOwnClient (§8.1.2)
pub const REMOVE_OWN_CLIENT: Caps = 1 << 3;
/// canRemoveSelf (§8.1.2)
pub const REMOVE_SELF: Caps = 1 << 4;
/// canSendMessage (§8.2)
pub const SEND_MESSAGE: Caps = 1 << 5;
/// canChangeOwnRole (§8.1.3)
pub const CHANGE_OWN_ROLE: Caps = 1 << 6;
/// canJoinIfPreauthorized (§8.1.1)
pub const JOIN_IF_PREAUTHORIZED: Caps = 1 << 7;
/// canBan (§8.1.3)
pub const BAN: Caps = 1 << 8;
/// canUnBan (§8.1.3)
pub const UNBAN: Caps = 1 << 9;
/// canKick (§8.1.3)
pub const KICK: Caps = 1 << 10;
/// canChangeUserRole (§8.1.3)
pub const CHANGE_USER_ROLE: Caps = 1 << 11;
/// canChangeRoleDefinitions (§8.6)
pub const CHANGE_ROLE_DEFINITIONS: Caps = 1 << 12;
/// canChangePreauthorizedUserList (§8.6)
pub const CHANGE_PREAUTH: Caps = 1 << 13;
/// canChangeRoomMembershipStyle (§8.6, inferred for BaseRoomUpdate)
pub const CHANGE_MEMBERSHIP_STYLE: Caps = 1 << 14;
/// canChangeRoomName (§8.5) — the model's metadata update needs it
pub const CHANGE_ROOM_NAME: Caps = 1 << 15;
/// canOpenJoin (§8.1.1), only meaningful on role 0
pub const OPEN_JOIN: Caps = 1 << 16;

/// Role 0: not in the participant list (room-policy-03 §3).
pub const NO_ROLE: u8 = 0;
/// Role 1: banned, by convention (room-policy-03 §3).
pub const BANNED: u8 = 1;
/// Role 2: member.
pub const MEMBER: u8 = 2;
/// Role 3: admin.
pub const ADMIN: u8 = 3;

/// A role definition (room-policy-03 §3 `Role`), reduced to what the model needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleDef {
    /// role_capabilities
    pub caps: Caps,
    /// minimum_participants_constraint
    pub min_p: u8,
    /// maximum_participants_constraint
    pub max_p: Option<u8>,
    /// minimum_active_participants_constraint
    pub min_a: u8,
    /// maximum_active_participants_constraint
    pub max_a: Option<u8>,
    /// authorized_role_changes (from, targets)
    pub arc: &'static [(u8, &'static [u8])],
}

const MEMBER_CAPS: Caps = ADD_PARTICIPANT
    | REMOVE_PARTICIPANT
    | ADD_OWN_CLIENT
    | REMOVE_OWN_CLIENT
    | REMOVE_SELF
    | SEND_MESSAGE
    | CHANGE_OWN_ROLE
    | JOIN_IF_PREAUTHORIZED
    | CHANGE_ROOM_NAME;
const ADMIN_CAPS: Caps = MEMBER_CAPS
    | BAN
    | UNBAN
    | KICK
    | CHANGE_USER_ROLE
    | CHANGE_ROLE_DEFINITIONS
    | CHANGE_PREAUTH
    | CHANGE_MEMBERSHIP_STYLE;
const ADMIN_ARC: &[(u8, &[u8])] = &[
    (0, &[1, 2, 3]),
    (1, &[0, 2, 3]),
    (2, &[0, 1, 3]),
    (3, &[0, 1, 2]),
];
const MEMBER_ARC: &[(u8, &[u8])] = &[(0, &[2]), (2, &[0])];

/// The role definition of `idx` in roles table `table` (0 = cooperative, 1 = locked:
/// members lose add/remove/send), modelled on room-policy-03 Appendix A.1/A.2.
pub fn role_def(cfg: &Config, table: u8, idx: u8) -> Option<RoleDef> {
    match idx {
        NO_ROLE => Some(RoleDef {
            caps: if cfg.raw.open_join { OPEN_JOIN } else { 0 },
            min_p: 0,
            max_p: None,
            min_a: 0,
            max_a: Some(0),
            arc: if cfg.raw.open_join { &[(0, &[2])] } else { &[] },
        }),
        BANNED => Some(RoleDef {
            caps: 0,
            min_p: 0,
            max_p: None,
            min_a: 0,
            max_a: Some(0),
            arc: &[],
        }),
        MEMBER => Some(RoleDef {
            caps: if table == 0 {
                MEMBER_CAPS
            } else {
                MEMBER_CAPS & !(ADD_PARTICIPANT | REMOVE_PARTICIPANT | SEND_MESSAGE)
            },
            min_p: 0,
            max_p: None,
            min_a: 0,
            max_a: None,
            arc: MEMBER_ARC,
        }),
        ADMIN => Some(RoleDef {
            caps: ADMIN_CAPS,
            min_p: 1,
            max_p: None,
            min_a: 0,
            max_a: None,
            arc: ADMIN_ARC,
        }),
        _ => None,
    }
}

/// Role of user `u` in `room` (0 if unlisted).
pub fn role_of(room: &RoomState, u: u8) -> u8 {
    room.participants
        .iter()
        .find(|(x, _)| *x == u)
        .map(|(_, r)| *r)
        .unwrap_or(NO_ROLE)
}

/// Capabilities of user `u` in `room`.
pub fn caps_of(cfg: &Config, room: &RoomState, u: u8) -> Caps {
    role_def(cfg, room.roles, role_of(room, u))
        .map(|d| d.caps)
        .unwrap_or(0)
}

/// `allowed(r, from, to)` of room-policy-03 §3 (authorized_role_changes of role `r`).
pub fn allowed(cfg: &Config, room: &RoomState, actor_role: u8, from: u8, to: u8) -> bool {
    role_def(cfg, room.roles, actor_role)
        .map(|d| d.arc.iter().any(|(f, ts)| *f == from && ts.contains(&to)))
        .unwrap_or(false)
}

/// First matching preauthorization entry for user `u` (room-policy-03 §4: first match wins).
pub fn preauth_match(cfg: &Config, room: &RoomState, u: u8) -> Option<u8> {
    if room.preauth == 0 {
        return None;
    }
    cfg.preauth.iter().find(|(pu, _)| *pu == u).map(|(_, r)| *r)
}

/// Base-policy flags of table `base` (room-policy-03 §5): (multi_device, max_clients).
pub fn base_policy(cfg: &Config, base: u8) -> (bool, Option<u8>) {
    if base == 0 {
        (true, None)
    } else {
        (false, Some(cfg.raw.alt_max_clients))
    }
}

/// Per-state constraint check (room-policy-03 §3 min/max, §5 multi_device/max_clients).
/// Returns the name of the first broken constraint.
pub fn constraints_ok(
    cfg: &Config,
    room: &RoomState,
    members: &BTreeSet<u8>,
) -> Result<(), &'static str> {
    for r in [BANNED, MEMBER, ADMIN] {
        let Some(d) = role_def(cfg, room.roles, r) else {
            continue;
        };
        let p = room.participants.iter().filter(|(_, x)| *x == r).count() as u8;
        let a = room
            .participants
            .iter()
            .filter(|(u, x)| {
                *x == r
                    && members
                        .iter()
                        .any(|c| cfg.client_user[usize::from(*c)] == *u)
            })
            .count() as u8;
        if p < d.min_p {
            return Err("minimum_participants_constraint");
        }
        if d.max_p.is_some_and(|m| p > m) {
            return Err("maximum_participants_constraint");
        }
        if a < d.min_a {
            return Err("minimum_active_participants_constraint");
        }
        if d.max_a.is_some_and(|m| a > m) {
            return Err("maximum_active_participants_constraint");
        }
    }
    let (multi, max_clients) = base_policy(cfg, room.base);
    if max_clients.is_some_and(|m| members.len() > usize::from(m)) {
        return Err("max_clients");
    }
    if !multi {
        for u in 0..cfg.n_users() as u8 {
            if members
                .iter()
                .filter(|c| cfg.client_user[usize::from(**c)] == u)
                .count()
                > 1
            {
                return Err("multi_device");
            }
        }
    }
    Ok(())
}
