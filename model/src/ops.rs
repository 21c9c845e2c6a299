//! Applying participant-list and MLS operations to a room state and member set, as both
//! the hub and the clients do (protocol-06 §7.5 apply order: role changes, then removals,
//! then additions appended; RFC 9420 §12.3 proposal application).

use crate::config::Config;
use crate::state::{Op, RoomState, Target};
use std::collections::BTreeSet;

/// Resolves a target against a room state (index into the list, or user).
pub fn resolve(room: &RoomState, t: Target) -> Option<u8> {
    match t {
        Target::User(u) => Some(u),
        Target::Index(i) => room.participants.get(usize::from(i)).map(|(u, _)| *u),
    }
}

/// Builds a target for user `u` as seen in `room` under the addressing variant.
pub fn target_for(cfg: &Config, room: &RoomState, u: u8) -> Target {
    if cfg.variants.index_addressing {
        let i = room
            .participants
            .iter()
            .position(|(x, _)| *x == u)
            .unwrap_or(usize::from(u8::MAX));
        let off = usize::from(cfg.mutated(crate::mutations::Mutation::ClientMiscomputesIndex));
        Target::Index(((i + off) % 256) as u8)
    } else {
        Target::User(u)
    }
}

/// Applies `ops` to (room, members). Unresolvable targets are skipped (the hub rejects
/// them before; clients skip what they cannot resolve).
pub fn apply_ops(
    cfg: &Config,
    room: &RoomState,
    members: &BTreeSet<u8>,
    ops: &[Op],
) -> (RoomState, BTreeSet<u8>) {
    let mut r = room.clone();
    let mut m = members.clone();
    // role changes (resolved against the pre-state)
    for op in ops {
        if let Op::PlSetRole { target, role, .. } = op {
            if let Some(u) = resolve(room, *target) {
                for p in r.participants.iter_mut() {
                    if p.0 == u {
                        p.1 = *role;
                    }
                }
            }
        }
    }
    // removals (resolved against the pre-state)
    let removed: Vec<u8> = ops
        .iter()
        .filter_map(|op| match op {
            Op::PlRemove { target, .. } => resolve(room, *target),
            _ => None,
        })
        .collect();
    r.participants.retain(|(u, _)| !removed.contains(u));
    // additions appended
    for op in ops {
        match op {
            Op::PlAdd { user, role } => r.participants.push((*user, *role)),
            Op::MlsAdd { kp } => {
                m.insert(kp.client);
            }
            Op::MlsRemove { client } => {
                m.remove(client);
            }
            Op::SetRoles(v) => r.roles = *v,
            Op::SetPreauth(v) => r.preauth = *v,
            Op::SetBase(v) => r.base = *v,
            Op::SetMeta(v) => r.meta = *v,
            _ => {}
        }
    }
    let _ = cfg;
    (r, m)
}

/// Users touched by participant-list operations, resolved against `room` (with repeats).
pub fn touched_users(room: &RoomState, ops: &[Op]) -> Vec<u8> {
    ops.iter()
        .filter_map(|op| match op {
            Op::PlAdd { user, .. } => Some(*user),
            Op::PlRemove { target, .. } | Op::PlSetRole { target, .. } => resolve(room, *target),
            _ => None,
        })
        .collect()
}

/// Whether an op is a participant-list operation.
pub fn is_pl(op: &Op) -> bool {
    matches!(
        op,
        Op::PlAdd { .. } | Op::PlRemove { .. } | Op::PlSetRole { .. }
    )
}
