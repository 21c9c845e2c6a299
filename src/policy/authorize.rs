//! The authorization decision (room-policy-03 §3–§5, §8; protocol-06 §7.5–§7.6).
//!
//! [`authorize_commit`] is the one decision: it takes the room state before a commit, the
//! committer and every proposal of the commit, and answers allowed or a typed [`Denial`].
//! [`authorize`] is the single-change view (a commit of one change proposed and committed by
//! the same actor, or one application message).
//!
//! Order of evaluation (the first failing rule is reported):
//! 1. an application message is judged alone (§8.3);
//! 2. commit-composition rules (one participant-list change per user, one metadata update,
//!    roles/preauth updates vs. participant-list changes, no self-committed leave or client
//!    removal);
//! 3. each proposal against the pre-commit state: the proposer's capabilities and
//!    `authorized_role_changes` (§3, §8);
//! 4. the post-commit state: removed/banned users have no clients, clients belong to listed
//!    users, a changed policy is well-formed;
//! 5. constraints on the post-commit state (§3 min/max (active) participants, §5
//!    `max_clients`, `max_users`, `multi_device`, parent-dependent rooms). A constraint is
//!    only enforced in the direction the commit moves a count, so a room that starts below a
//!    minimum is not frozen.

use std::collections::{BTreeMap, BTreeSet};

use super::capability::Capability;
use super::components::{component_id, RoleIndex};
use super::denial::{capability_section, Denial, SameCommitRule};
use super::state::{Actor, Change, JoinMethod, MessageAction, Proposal, RoomPolicyState, UserId};
use super::validate::{validate_base, validate_preauth, validate_roles, PolicyError};

/// Decide one change proposed and committed by `actor` (or one application message).
pub fn authorize(room: &RoomPolicyState, actor: &Actor, change: &Change) -> Result<(), Denial> {
    authorize_commit(room, actor, &[Proposal::by(actor, change.clone())])
}

/// Decide a whole commit: `committer` commits `proposals` (each with its proposer) on top of
/// `room`. Pure: reads `room`, returns the verdict.
pub fn authorize_commit(
    room: &RoomPolicyState,
    committer: &Actor,
    proposals: &[Proposal],
) -> Result<(), Denial> {
    if let Some(action) = proposals.iter().find_map(|p| match p.change {
        Change::SendMessage(a) => Some(a),
        _ => None,
    }) {
        return match proposals {
            [only] => authorize_message(room, &only.proposer, action),
            _ => Err(SameCommitRule::MessageInCommit.into()),
        };
    }
    check_composition(committer, proposals)?;
    let ctx = Ctx { room, proposals };
    for p in proposals {
        ctx.authorize_one(p)?;
    }
    let post = apply_commit(room, proposals);
    check_post_state(room, &post, proposals)?;
    check_constraints(room, &post)
}

/// §8.3: the sender needs an active client and the capability for the message kind.
fn authorize_message(
    room: &RoomPolicyState,
    sender: &Actor,
    action: MessageAction,
) -> Result<(), Denial> {
    let active = sender
        .client
        .as_deref()
        .is_some_and(|c| room.has_client(&sender.user, c));
    if !active {
        return Err(Denial::NotActive {
            user: sender.user.clone(),
        });
    }
    require(room, room.role_of(&sender.user), action.capability())
}

/// The user whose participant-list entry a change touches, if any.
fn list_target(p: &Proposal) -> Option<&UserId> {
    match &p.change {
        Change::AddUser { user, .. }
        | Change::RemoveUser { user }
        | Change::ChangeRole { user, .. } => Some(user),
        Change::Join { .. } => Some(&p.proposer.user),
        _ => None,
    }
}

fn check_composition(committer: &Actor, proposals: &[Proposal]) -> Result<(), Denial> {
    // protocol-06 §7.5: each user at most once.
    let mut users = BTreeSet::new();
    let mut clients = BTreeSet::new();
    let mut metadata = 0usize;
    let mut list_changes = false;
    let mut non_removal = false;
    let mut roles_update = false;
    let mut preauth_update = false;
    for p in proposals {
        if let Some(u) = list_target(p) {
            if !users.insert(u) {
                return Err(SameCommitRule::UserChangedTwice { user: u.clone() }.into());
            }
            list_changes = true;
            non_removal |= !matches!(p.change, Change::RemoveUser { .. });
        }
        match &p.change {
            Change::AddClient { client, .. } | Change::RemoveClient { client, .. }
                if !clients.insert(client) =>
            {
                return Err(SameCommitRule::ClientChangedTwice {
                    client: client.clone(),
                }
                .into());
            }
            Change::UpdateMetadata { .. } => metadata += 1,
            Change::UpdateRoles(_) => roles_update = true,
            Change::UpdatePreauth(_) => preauth_update = true,
            _ => {}
        }
        // §8.1.2: a leave is committed by someone else; a client never commits its own
        // removal.
        match &p.change {
            Change::RemoveUser { user } if *user == p.proposer.user && *user == committer.user => {
                return Err(SameCommitRule::LeaveCommittedByLeaver { user: user.clone() }.into());
            }
            Change::RemoveClient { client, .. } if committer.client.as_ref() == Some(client) => {
                return Err(SameCommitRule::RemovalCommittedByRemovedClient {
                    client: client.clone(),
                }
                .into());
            }
            _ => {}
        }
    }
    if metadata > 1 {
        return Err(SameCommitRule::MetadataUpdatedTwice.into());
    }
    // §3
    if roles_update && list_changes {
        return Err(SameCommitRule::RolesWithParticipantChange.into());
    }
    // §4
    if preauth_update && non_removal {
        return Err(SameCommitRule::PreauthWithNonRemoval.into());
    }
    Ok(())
}

/// Require `cap` on role `role`.
fn require(room: &RoomPolicyState, role: RoleIndex, cap: Capability) -> Result<(), Denial> {
    if room.role(role).is_some_and(|r| r.has(cap)) {
        Ok(())
    } else {
        Err(Denial::MissingCapability {
            capability: cap,
            role,
            section: capability_section(cap),
        })
    }
}

/// Require `allowed(actor_role, from, to)` (§3 `authorized_role_changes`).
fn transition(
    room: &RoomPolicyState,
    actor_role: RoleIndex,
    from: RoleIndex,
    to: RoleIndex,
) -> Result<(), Denial> {
    if room.role(actor_role).is_some_and(|r| r.allows(from, to)) {
        Ok(())
    } else {
        Err(Denial::TransitionNotAllowed {
            from,
            to,
            actor_role,
        })
    }
}

/// A role that may be assigned: defined and non-zero.
fn assignable(room: &RoomPolicyState, role: RoleIndex) -> Result<(), Denial> {
    if role == 0 {
        Err(Denial::RoleZeroAssigned)
    } else if room.role(role).is_none() {
        Err(Denial::UnknownRole { role })
    } else {
        Ok(())
    }
}

struct Ctx<'a> {
    room: &'a RoomPolicyState,
    proposals: &'a [Proposal],
}

impl Ctx<'_> {
    fn joins(&self, user: &str) -> bool {
        self.proposals
            .iter()
            .any(|p| matches!(p.change, Change::Join { .. }) && p.proposer.user == user)
    }

    fn added(&self, user: &str) -> bool {
        self.proposals
            .iter()
            .any(|p| matches!(&p.change, Change::AddUser { user: u, .. } if u == user))
    }

    /// The user leaves the list or is banned by this commit (its client removals are then
    /// part of that operation, §8.1.2, §8.1.3).
    fn removed_or_banned(&self, user: &str) -> bool {
        self.proposals.iter().any(|p| match &p.change {
            Change::RemoveUser { user: u } => u == user,
            Change::ChangeRole { user: u, role: 1 } => u == user && self.room.has_banned_role(),
            _ => false,
        })
    }

    fn authorize_one(&self, p: &Proposal) -> Result<(), Denial> {
        let room = self.room;
        let proposer = &p.proposer;
        let pr = room.role_of(&proposer.user);
        match &p.change {
            // §8.1.1 canAddParticipant; pre-ban of an outsider via canBan.
            Change::AddUser { user, role } => {
                if *user == proposer.user {
                    return Err(Denial::TargetsSelf {
                        capability: Capability::CanAddParticipant,
                        section: capability_section(Capability::CanAddParticipant),
                    });
                }
                if room.participants.contains_key(user) {
                    return Err(Denial::AlreadyListed { user: user.clone() });
                }
                assignable(room, *role)?;
                if room.base.fixed_membership {
                    return Err(Denial::FixedMembership);
                }
                if *role == 1 && room.has_banned_role() {
                    let can = room.role(pr).is_some_and(|r| {
                        r.has(Capability::CanBan) || r.has(Capability::CanAddParticipant)
                    });
                    if !can {
                        require(room, pr, Capability::CanBan)?;
                    }
                } else {
                    require(room, pr, Capability::CanAddParticipant)?;
                }
                transition(room, pr, 0, *role)
            }
            // §8.1.1 canOpenJoin / canJoinIfPreauthorized / canUseJoinCode.
            Change::Join { role, method } => {
                if room.participants.contains_key(&proposer.user) {
                    return Err(Denial::AlreadyListed {
                        user: proposer.user.clone(),
                    });
                }
                assignable(room, *role)?;
                if room.base.fixed_membership {
                    return Err(Denial::FixedMembership);
                }
                match method {
                    JoinMethod::Open => {
                        require(room, 0, Capability::CanOpenJoin)?;
                        transition(room, 0, 0, *role)
                    }
                    JoinMethod::Preauthorized => {
                        let matched = room
                            .preauth_match(&proposer.claims, false)
                            .ok_or(Denial::PreauthNoMatch)?;
                        if matched != *role {
                            return Err(Denial::PreauthRoleMismatch {
                                matched,
                                requested: *role,
                            });
                        }
                        require(room, *role, Capability::CanJoinIfPreauthorized)
                    }
                    JoinMethod::Code(code) => {
                        require(room, 0, Capability::CanUseJoinCode)?;
                        let code_role =
                            *room.join_codes.get(code).ok_or(Denial::InvalidJoinCode)?;
                        if code_role != *role {
                            return Err(Denial::JoinCodeRoleMismatch {
                                code_role,
                                requested: *role,
                            });
                        }
                        Ok(())
                    }
                }
            }
            // §8.1.2 canRemoveParticipant / canRemoveSelf.
            Change::RemoveUser { user } => {
                if !room.participants.contains_key(user) {
                    return Err(Denial::NotListed { user: user.clone() });
                }
                if room.base.fixed_membership {
                    return Err(Denial::FixedMembership);
                }
                let rt = room.role_of(user);
                if *user == proposer.user {
                    require(room, rt, Capability::CanRemoveSelf)?;
                    transition(room, rt, rt, 0)
                } else {
                    require(room, pr, Capability::CanRemoveParticipant)?;
                    transition(room, pr, rt, 0)
                }
            }
            // §8.1.3 canChangeOwnRole / canBan / canUnBan / canChangeUserRole.
            Change::ChangeRole { user, role } => {
                if !room.participants.contains_key(user) {
                    return Err(Denial::NotListed { user: user.clone() });
                }
                assignable(room, *role)?;
                let from = room.role_of(user);
                if from == *role {
                    return Err(Denial::RoleUnchanged {
                        user: user.clone(),
                        role: from,
                    });
                }
                if *user == proposer.user {
                    require(room, from, Capability::CanChangeOwnRole)?;
                    let matched = room
                        .preauth_match(&proposer.claims, true)
                        .ok_or(Denial::PreauthNoMatch)?;
                    if matched != *role {
                        return Err(Denial::PreauthRoleMismatch {
                            matched,
                            requested: *role,
                        });
                    }
                    Ok(())
                } else if *role == 1 && room.has_banned_role() {
                    require(room, pr, Capability::CanBan)?;
                    transition(room, pr, from, 1)
                } else if from == 1 && room.has_banned_role() {
                    require(room, pr, Capability::CanUnBan)?;
                    transition(room, pr, 1, *role)
                } else {
                    require(room, pr, Capability::CanChangeUserRole)?;
                    transition(room, pr, from, *role)
                }
            }
            // §8.1.1 canAddOwnClient; clients of a user added or joining in this commit.
            Change::AddClient { user, client } => {
                if room.owner_of(client).is_some() {
                    return Err(Denial::DuplicateClient {
                        client: client.clone(),
                    });
                }
                if self.joins(user) {
                    return if *user == proposer.user {
                        Ok(())
                    } else {
                        Err(Denial::NotOwnClient { user: user.clone() })
                    };
                }
                if self.added(user) {
                    return Ok(());
                }
                if !room.participants.contains_key(user) {
                    return Err(Denial::ClientOfUnlistedUser { user: user.clone() });
                }
                if *user != proposer.user {
                    return Err(Denial::NotOwnClient { user: user.clone() });
                }
                require(room, room.role_of(user), Capability::CanAddOwnClient)?;
                let member_or_self = proposer
                    .client
                    .as_deref()
                    .is_some_and(|c| c == client || room.has_client(user, c));
                if member_or_self {
                    Ok(())
                } else {
                    Err(Denial::NotMemberClient { user: user.clone() })
                }
            }
            // §8.1.2 canRemoveOwnClient / canKick; part of a removal or ban.
            Change::RemoveClient { user, client } => {
                if !room.has_client(user, client) {
                    return Err(Denial::UnknownClient {
                        user: user.clone(),
                        client: client.clone(),
                    });
                }
                if self.removed_or_banned(user) {
                    Ok(())
                } else if *user == proposer.user {
                    require(room, room.role_of(user), Capability::CanRemoveOwnClient)
                } else {
                    require(room, pr, Capability::CanKick)
                }
            }
            Change::UpdateRoles(_) => require(room, pr, Capability::CanChangeRoleDefinitions),
            Change::UpdatePreauth(_) => {
                require(room, pr, Capability::CanChangePreauthorizedUserList)
            }
            // §8.6 "membership style" read as the base room policy.
            Change::UpdateBasePolicy(_) => {
                require(room, pr, Capability::CanChangeRoomMembershipStyle)
            }
            // §8.2: one capability per changed field.
            Change::UpdateMetadata { fields } => {
                for f in fields {
                    let cap = f
                        .capability()
                        .ok_or(Denial::NoCapabilityDefined { what: "room_uri" })?;
                    require(room, pr, cap)?;
                }
                Ok(())
            }
            // §6.2 with the reserved canCreateJoinCode / canDeleteJoinCode.
            Change::UpdateJoinLinks { adds, removes } => {
                if *adds {
                    require(room, pr, Capability::CanCreateJoinCode)?;
                }
                if *removes {
                    require(room, pr, Capability::CanDeleteJoinCode)?;
                }
                Ok(())
            }
            // §6, §7 with the reserved canChangeOtherPolicyAttribute /
            // canChangeMlsOperationalPolicies.
            Change::UpdateComponent { component } => match *component {
                component_id::MLS_OPERATIONAL_POLICY => {
                    require(room, pr, Capability::CanChangeMlsOperationalPolicies)
                }
                component_id::STATUS_NOTIFICATION_POLICY
                | component_id::JOIN_LINK_POLICY
                | component_id::LINK_PREVIEW_POLICY
                | component_id::ASSET_POLICY
                | component_id::LOGGING_POLICY
                | component_id::CHAT_HISTORY_POLICY
                | component_id::BOT_POLICY
                | component_id::MESSAGE_EXPIRATION_POLICY => {
                    require(room, pr, Capability::CanChangeOtherPolicyAttribute)
                }
                other => Err(Denial::UnknownComponent { component: other }),
            },
            Change::ReInit => require(room, pr, Capability::CanSendMLSReinitProposal),
            Change::DestroyRoom => require(room, pr, Capability::CanDestroyRoom),
            Change::SendMessage(_) => Err(SameCommitRule::MessageInCommit.into()),
        }
    }
}

/// The state after applying `proposals` to `room` (participant list, clients, roles,
/// preauthorization and base policy). Meaningful only for a commit that
/// [`authorize_commit`] allowed; metadata, other components and messages leave the policy
/// view unchanged.
pub fn apply_commit(room: &RoomPolicyState, proposals: &[Proposal]) -> RoomPolicyState {
    let mut post = room.clone();
    for p in proposals {
        match &p.change {
            Change::AddUser { user, role } | Change::ChangeRole { user, role } => {
                post.participants.insert(user.clone(), *role);
            }
            Change::Join { role, .. } => {
                post.participants.insert(p.proposer.user.clone(), *role);
            }
            Change::RemoveUser { user } => {
                post.participants.remove(user);
            }
            Change::AddClient { user, client } => {
                post.clients
                    .entry(user.clone())
                    .or_default()
                    .insert(client.clone());
            }
            Change::RemoveClient { user, client } => {
                if let Some(cs) = post.clients.get_mut(user) {
                    cs.remove(client);
                }
            }
            Change::UpdateRoles(r) => post.roles = r.clone(),
            Change::UpdatePreauth(p) => post.preauth = p.clone(),
            Change::UpdateBasePolicy(b) => post.base = b.clone(),
            _ => {}
        }
    }
    post.clients.retain(|_, cs| !cs.is_empty());
    post
}

fn check_post_state(
    room: &RoomPolicyState,
    post: &RoomPolicyState,
    proposals: &[Proposal],
) -> Result<(), Denial> {
    // §8.1.2, §8.1.3: removal, leave and ban take all the user's clients with them.
    for p in proposals {
        let gone = match &p.change {
            Change::RemoveUser { user } => Some(user),
            Change::ChangeRole { user, role: 1 } if room.has_banned_role() => Some(user),
            _ => None,
        };
        if let Some(user) = gone {
            if post.client_count(user) > 0 {
                return Err(SameCommitRule::ClientsNotRemoved { user: user.clone() }.into());
            }
        }
    }
    if let Some(user) = post
        .clients
        .keys()
        .find(|u| !post.participants.contains_key(*u))
    {
        return Err(Denial::ClientOfUnlistedUser { user: user.clone() });
    }
    let policy_changed = proposals.iter().any(|p| {
        matches!(
            p.change,
            Change::UpdateRoles(_) | Change::UpdatePreauth(_) | Change::UpdateBasePolicy(_)
        )
    });
    if policy_changed {
        validate_roles(&post.roles)?;
        validate_preauth(&post.preauth, &post.roles)?;
        validate_base(&post.base, &post.roles)?;
        for (user, &role) in &post.participants {
            if post.role(role).is_none() {
                return Err(PolicyError::ParticipantUnknownRole {
                    user: user.clone(),
                    role,
                }
                .into());
            }
        }
    }
    Ok(())
}

/// Per role: (participants holding it, active participants holding it), i.e.
/// [`RoomPolicyState::participants_in`] and [`RoomPolicyState::active_in`] of every role
/// that has participants.
fn role_counts(state: &RoomPolicyState) -> BTreeMap<RoleIndex, (usize, usize)> {
    let mut counts: BTreeMap<RoleIndex, (usize, usize)> = BTreeMap::new();
    for (user, &role) in &state.participants {
        let c = counts.entry(role).or_default();
        c.0 += 1;
        c.1 += usize::from(state.client_count(user) > 0);
    }
    counts
}

fn check_constraints(room: &RoomPolicyState, post: &RoomPolicyState) -> Result<(), Denial> {
    // §3 per-role constraints, in the direction the commit moves each count — except
    // that a commit which redefines a limit (a roles-list or base-policy update) must
    // leave the room within the new limit: tightening a maximum below the current
    // count would otherwise produce a room that violates its own policy.
    let roles_redefined = post.roles != room.roles;
    let base_redefined = post.base != room.base;
    // Performance: every role's counts from one pass over each state (instead of one
    // pass per role and count); `tests::role_counts_match_the_per_role_counts`.
    let (pre_counts, post_counts) = (role_counts(room), role_counts(post));
    let count = |counts: &BTreeMap<RoleIndex, (usize, usize)>, idx| {
        counts.get(&idx).copied().unwrap_or((0, 0))
    };
    for r in &post.roles.roles {
        let idx = r.role_index;
        if idx == 0 {
            continue;
        }
        let (pre_p, pre_a) = count(&pre_counts, idx);
        let (post_p, post_a) = count(&post_counts, idx);
        let min_p = r.minimum_participants_constraint;
        let min_a = r.minimum_active_participants_constraint;
        if post_p < pre_p && post_p < min_p as usize {
            return Err(Denial::MinParticipants {
                role: idx,
                limit: min_p,
                actual: post_p,
            });
        }
        if post_a < pre_a && post_a < min_a as usize {
            return Err(Denial::MinActiveParticipants {
                role: idx,
                limit: min_a,
                actual: post_a,
            });
        }
        if let Some(max) = r.maximum_participants_constraint {
            if (post_p > pre_p || roles_redefined) && post_p > max as usize {
                return Err(Denial::MaxParticipants {
                    role: idx,
                    limit: max,
                    actual: post_p,
                });
            }
        }
        if let Some(max) = r.maximum_active_participants_constraint {
            if (post_a > pre_a || roles_redefined) && post_a > max as usize {
                return Err(Denial::MaxActiveParticipants {
                    role: idx,
                    limit: max,
                    actual: post_a,
                });
            }
        }
    }
    // §5 base policy.
    let base = &post.base;
    if let Some(max) = base.max_clients {
        let (pre, now) = (room.total_clients(), post.total_clients());
        if (now > pre || base_redefined) && now > max as usize {
            return Err(Denial::MaxClients {
                limit: max,
                actual: now,
            });
        }
    }
    if let Some(max) = base.max_users {
        let (pre, now) = (room.non_banned_users(), post.non_banned_users());
        if (now > pre || base_redefined) && now > max as usize {
            return Err(Denial::MaxUsers {
                limit: max,
                actual: now,
            });
        }
    }
    if !base.multi_device {
        for (user, cs) in &post.clients {
            if cs.len() > 1 && (cs.len() > room.client_count(user) || base_redefined) {
                return Err(Denial::MultiDevice {
                    user: user.clone(),
                    clients: cs.len(),
                });
            }
        }
    }
    if base.parent_dependant {
        let added: Vec<&UserId> = post
            .participants
            .keys()
            .filter(|u| !room.participants.contains_key(*u))
            .collect();
        if !added.is_empty() {
            let parent = post
                .parent_participants
                .as_ref()
                .ok_or(Denial::ParentRoomRule)?;
            if let Some(u) = added.iter().find(|u| !parent.contains(**u)) {
                return Err(Denial::NotInParentRoom { user: (*u).clone() });
            }
            let ours: BTreeSet<&UserId> = post.participants.keys().collect();
            if ours.len() >= parent.len() {
                return Err(Denial::ParentRoomRule);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_counts_match_the_per_role_counts() {
        let mut state = RoomPolicyState::default();
        for i in 0..40u32 {
            let user = format!("mimi://p.example/u/u{i}");
            state.participants.insert(user.clone(), i % 5);
            // Every third user has a client, every seventh an emptied client set.
            if i % 3 == 0 {
                state
                    .clients
                    .entry(user.clone())
                    .or_default()
                    .insert(format!("mimi://p.example/d/u{i}/1"));
            } else if i % 7 == 0 {
                state.clients.entry(user).or_default();
            }
        }
        // A client of an unlisted user counts for no role.
        state
            .clients
            .entry("mimi://p.example/u/ghost".into())
            .or_default()
            .insert("mimi://p.example/d/ghost/1".into());
        let counts = role_counts(&state);
        for idx in 0..8 {
            let got = counts.get(&idx).copied().unwrap_or((0, 0));
            assert_eq!(
                got,
                (state.participants_in(idx), state.active_in(idx)),
                "role {idx}"
            );
        }
        assert_eq!(counts.get(&0), Some(&(8, 3)));
        assert!(role_counts(&RoomPolicyState::default()).is_empty());
    }
}
