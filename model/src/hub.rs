//! Hub transitions (protocol-06 §4.3, §5.3 update, §5.4 submitMessage, §5.5 fanout,
//! §5.6 groupInfo, §7.1 the hub as the single policy enforcement point).

use crate::config::RoomMode;
use crate::model::MimiModel;
use crate::mutations::Mutation as M;
use crate::ops::{apply_ops, is_pl, resolve, touched_users};
use crate::policy::{
    self, allowed, caps_of, constraints_ok, preauth_match, role_def, role_of, BANNED, NO_ROLE,
};
use crate::properties::{self, V, W};
use crate::state::{
    AppMsg, Commit, Fact, Handshake, Item, Label, Msg, Notify, Op, Proposal, RoomState, State,
};
use std::collections::BTreeSet;

/// Why the hub rejected a request (UpdateResponseCode / SubmitMessage codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    /// wrongEpoch (§5.3)
    WrongEpoch,
    /// notAllowed with the rule broken
    NotAllowed(&'static str),
    /// invalidProposal with the rule broken
    InvalidProposal(&'static str),
}

impl MimiModel {
    fn mut_(&self, m: M) -> bool {
        self.cfg.mutated(m)
    }

    /// Authorizes one participant-list/policy op of `actor` (None = the hub) against
    /// `pre` (room-policy-03 §8, digest A.10). `commit_ops` is the whole op list.
    #[allow(clippy::too_many_arguments)]
    fn authorize_op(
        &self,
        pre: &RoomState,
        members: &BTreeSet<u8>,
        actor: u8,
        committer: Option<u8>,
        external: bool,
        op: &Op,
        commit_ops: &[Op],
    ) -> Result<(), &'static str> {
        let cfg = &self.cfg;
        let skip_caps = self.mut_(M::HubSkipsPolicyCheck);
        let skip_arc = skip_caps || self.mut_(M::HubSkipsRoleChangeCheck);
        let ra = role_of(pre, actor);
        let caps = caps_of(cfg, pre, actor);
        let need = |cap: policy::Caps, what: &'static str| {
            if skip_caps || caps & cap != 0 {
                Ok(())
            } else {
                Err(what)
            }
        };
        let arc = |from: u8, to: u8| {
            if skip_arc || allowed(cfg, pre, ra, from, to) {
                Ok(())
            } else {
                Err("authorized_role_changes")
            }
        };
        match op {
            Op::PlAdd { user, role } => {
                if role_of(pre, *user) != NO_ROLE && !self.mut_(M::HubSkipsListedCheck) {
                    return Err("user already in participant list");
                }
                if *role == NO_ROLE || role_def(cfg, pre.roles, *role).is_none() {
                    return Err("invalid role index");
                }
                if *user == actor && external {
                    // open join or preauth (room-policy-03 §4, §8.1.1)
                    let open = role_def(cfg, pre.roles, 0)
                        .is_some_and(|d| d.caps & policy::OPEN_JOIN != 0)
                        && allowed(cfg, pre, 0, 0, *role);
                    let pre_ok = preauth_match(cfg, pre, *user) == Some(*role)
                        && role_def(cfg, pre.roles, *role)
                            .is_some_and(|d| d.caps & policy::JOIN_IF_PREAUTHORIZED != 0);
                    if skip_caps || open || pre_ok {
                        Ok(())
                    } else {
                        Err("joiner not preauthorized and room not open")
                    }
                } else if *role == BANNED {
                    need(policy::BAN, "canBan")?;
                    arc(0, BANNED)
                } else {
                    need(policy::ADD_PARTICIPANT, "canAddParticipant")?;
                    arc(0, *role)
                }
            }
            Op::PlRemove { target, .. } => {
                let t = resolve(pre, *target).ok_or("removedIndices out of range")?;
                let rt = role_of(pre, t);
                if rt == NO_ROLE {
                    return Err("removed user not in list");
                }
                if t == actor {
                    if committer.is_some() {
                        return Err("own leave committed by the leaver (T8)");
                    }
                    need(policy::REMOVE_SELF, "canRemoveSelf")?;
                    arc(rt, 0)
                } else {
                    need(policy::REMOVE_PARTICIPANT, "canRemoveParticipant")?;
                    arc(rt, 0)
                }
            }
            Op::PlSetRole { target, role, .. } => {
                let t =
                    resolve(pre, *target).ok_or("changedRoleParticipants index out of range")?;
                let rt = role_of(pre, t);
                if rt == NO_ROLE || *role == NO_ROLE || role_def(cfg, pre.roles, *role).is_none() {
                    return Err("role change from/to role 0");
                }
                if t == actor {
                    need(policy::CHANGE_OWN_ROLE, "canChangeOwnRole")?;
                    if skip_caps || preauth_match(cfg, pre, t) == Some(*role) {
                        Ok(())
                    } else {
                        Err("own role not preauthorized")
                    }
                } else if *role == BANNED {
                    need(policy::BAN, "canBan")?;
                    arc(rt, BANNED)
                } else if rt == BANNED {
                    need(policy::UNBAN, "canUnBan")?;
                    arc(BANNED, *role)
                } else {
                    need(policy::CHANGE_USER_ROLE, "canChangeUserRole")?;
                    arc(rt, *role)
                }
            }
            Op::MlsAdd { kp } => {
                let t = cfg.client_user[usize::from(kp.client)];
                if members.contains(&kp.client) {
                    return Err("client already a member");
                }
                let listed_in_commit = commit_ops
                    .iter()
                    .any(|o| matches!(o, Op::PlAdd { user, .. } if *user == t));
                if listed_in_commit || skip_caps {
                    Ok(())
                } else if t == actor {
                    need(policy::ADD_OWN_CLIENT, "canAddOwnClient")
                } else if role_of(pre, t) != NO_ROLE && role_of(pre, t) != BANNED {
                    need(policy::ADD_PARTICIPANT, "canAddParticipant (re-activate)")
                } else {
                    // ordering rule, checked on the post state (§5.3)
                    Ok(())
                }
            }
            Op::MlsRemove { client } => {
                let t = cfg.client_user[usize::from(*client)];
                if !members.contains(client) {
                    return Err("removed client not a member");
                }
                let list_change = commit_ops.iter().any(|o| match o {
                    Op::PlRemove { target, .. } => resolve(pre, *target) == Some(t),
                    Op::PlSetRole { target, role, .. } => {
                        *role == BANNED && resolve(pre, *target) == Some(t)
                    }
                    _ => false,
                });
                if list_change {
                    Ok(())
                } else if t == actor {
                    if committer == Some(*client) {
                        return Err("client removes itself (T8)");
                    }
                    need(policy::REMOVE_OWN_CLIENT, "canRemoveOwnClient")
                } else {
                    need(policy::KICK, "canKick")
                }
            }
            Op::SetRoles(_) => need(policy::CHANGE_ROLE_DEFINITIONS, "canChangeRoleDefinitions"),
            Op::SetPreauth(_) => need(policy::CHANGE_PREAUTH, "canChangePreauthorizedUserList"),
            Op::SetBase(_) => need(
                policy::CHANGE_MEMBERSHIP_STYLE,
                "canChangeRoomMembershipStyle",
            ),
            Op::SetMeta(_) => need(policy::CHANGE_ROOM_NAME, "canChangeRoomName"),
        }
    }

    /// Structural per-commit rules: T1–T4, protocol-06 §7.5/§7.6.
    fn structural(&self, pre: &RoomState, ops: &[Op]) -> Result<(), &'static str> {
        let touched = touched_users(pre, ops);
        let mut seen = BTreeSet::new();
        if !self.mut_(M::HubSkipsOneOpPerUser) && touched.iter().any(|u| !seen.insert(*u)) {
            return Err("user touched twice in one commit (§7.5)");
        }
        // RFC 9420 §12.2: a commit removes a member at most once (e.g. an inline kick of
        // a client whose queued leave already removes it).
        let mut removed = BTreeSet::new();
        if ops
            .iter()
            .any(|o| matches!(o, Op::MlsRemove { client } if !removed.insert(*client)))
        {
            return Err("client removed twice in one commit (RFC 9420 §12.2)");
        }
        if !self.mut_(M::HubSkipsMetadataOnce)
            && ops.iter().filter(|o| matches!(o, Op::SetMeta(_))).count() > 1
        {
            return Err("two room metadata updates in one commit (§7.6)");
        }
        if !self.mut_(M::HubSkipsCommitRules) {
            let has_pl = ops.iter().any(is_pl);
            let non_removal_pl = ops
                .iter()
                .any(|o| is_pl(o) && !matches!(o, Op::PlRemove { .. }));
            if ops.iter().any(|o| matches!(o, Op::SetRoles(_))) && has_pl {
                return Err("roles update with participant-list change (room-policy §3)");
            }
            if ops.iter().any(|o| matches!(o, Op::SetPreauth(_))) && non_removal_pl {
                return Err("preauth update with non-removal list change (room-policy §4)");
            }
        }
        Ok(())
    }

    /// Post-state rules: add ordering, same-commit removal, constraints (§5.3; room-policy §3, §5).
    fn post_rules(
        &self,
        pre: &RoomState,
        pre_members: &BTreeSet<u8>,
        ops: &[Op],
        post: &RoomState,
        members: &BTreeSet<u8>,
    ) -> Result<(), Reject> {
        let cfg = &self.cfg;
        if !self.mut_(M::HubSkipsAddOrdering) {
            for c in members {
                let r = role_of(post, cfg.client_user[usize::from(*c)]);
                if !pre_members.contains(c) && (r == NO_ROLE || r == BANNED) {
                    return Err(Reject::NotAllowed(
                        "MLS Add of a user not in the participant list (§5.3)",
                    ));
                }
            }
        }
        if !self.mut_(M::HubSkipsRemoveClients) {
            for u in 0..cfg.n_users() as u8 {
                let gone = role_of(pre, u) != NO_ROLE && role_of(post, u) == NO_ROLE;
                let banned = role_of(pre, u) != BANNED && role_of(post, u) == BANNED;
                if (gone || banned) && cfg.clients_of(u).any(|c| members.contains(&c)) {
                    return Err(Reject::NotAllowed(
                        "removed/banned user keeps clients (§5.3)",
                    ));
                }
            }
        }
        if !self.mut_(M::HubSkipsConstraints) {
            if cfg.variants.minmax_before {
                // each change checked alone against the pre-commit state
                for op in ops.iter().filter(|o| is_pl(o)) {
                    let u = touched_users(pre, std::slice::from_ref(op))
                        .first()
                        .copied();
                    let mut group: Vec<Op> = vec![op.clone()];
                    for o in ops {
                        match o {
                            Op::MlsRemove { client }
                            | Op::MlsAdd {
                                kp: crate::state::KpRef { client, .. },
                            } if Some(cfg.client_user[usize::from(*client)]) == u => {
                                group.push(o.clone())
                            }
                            _ => {}
                        }
                    }
                    let (r1, m1) = apply_ops(cfg, pre, pre_members, &group);
                    constraints_ok(cfg, &r1, &m1).map_err(Reject::NotAllowed)?;
                }
                // non-list changes (client adds/removes, policy) on the whole post state's members
                let (r2, _) = apply_ops(
                    cfg,
                    pre,
                    pre_members,
                    &ops.iter()
                        .filter(|o| !is_pl(o))
                        .cloned()
                        .collect::<Vec<_>>(),
                );
                let _ = r2;
                if let Err(e) = constraints_ok(cfg, &pre.clone(), members) {
                    if e == "multi_device" || e == "max_clients" {
                        return Err(Reject::NotAllowed(e));
                    }
                }
            } else {
                constraints_ok(cfg, post, members).map_err(Reject::NotAllowed)?;
            }
        }
        Ok(())
    }

    /// `/update` with a commit (§5.3).
    fn check_commit(
        &self,
        s: &State,
        cm: &Commit,
    ) -> Result<(Vec<Op>, RoomState, BTreeSet<u8>), Reject> {
        let cfg = &self.cfg;
        let h = &s.hub;
        if cm.epoch != h.epoch && !self.mut_(M::HubSkipsEpochCheck) {
            return Err(Reject::WrongEpoch);
        }
        let user = cfg.client_user[usize::from(cm.committer)];
        if h.blocked.contains(&user) && !self.mut_(M::HubSkipsRemovedBlock) {
            return Err(Reject::NotAllowed(
                "committer's user was removed/banned (§5.3)",
            ));
        }
        if cfg.raw.mode == RoomMode::Mmr
            && cm.real_cred
            && !self.mut_(M::HubSkipsCredentialTypeCheck)
        {
            return Err(Reject::NotAllowed(
                "non-pseudonymous credential in a minimal-metadata room (§6.1)",
            ));
        }
        let mut all: Vec<Op> = Vec::new();
        if cm.external {
            if h.members.contains(&cm.committer) {
                // RFC 9420 §12.4.3.2 allows such a "resync" (the old leaf is removed and
                // the client re-added), so it is valid MLS; what forbids it is the
                // one-change-per-client rule of the commit (protocol-06 §7.5): notAllowed.
                return Err(Reject::NotAllowed("external commit by a member"));
            }
            if !h.gi_issued.contains(&cm.committer) {
                return Err(Reject::NotAllowed(
                    "external commit without a /groupInfo request (§5.6)",
                ));
            }
            if !cm.by_ref.is_empty() {
                return Err(Reject::InvalidProposal(
                    "external commit with proposals by reference",
                ));
            }
        } else {
            if !h.members.contains(&cm.committer) {
                return Err(Reject::NotAllowed("committer not a member"));
            }
            if !self.mut_(M::HubForgetsQueuedProposals)
                && h.pending.iter().any(|p| !cm.by_ref.contains(&p.id))
            {
                return Err(Reject::NotAllowed(
                    "commit does not include the queued proposals (§3.5)",
                ));
            }
            for id in &cm.by_ref {
                match h.pending.iter().find(|p| p.id == *id) {
                    Some(p) => all.extend(p.ops.iter().cloned()),
                    None => return Err(Reject::InvalidProposal("unknown proposal reference")),
                }
            }
        }
        let inline_start = all.len();
        all.extend(cm.ops.iter().cloned());
        self.structural(&h.gc, &all)
            .map_err(Reject::InvalidProposal)?;
        // inline ops are authorized against the hub's room state (§7.1)
        let pre_auth = if cfg.variants.apply_at_once {
            &h.room
        } else {
            &h.gc
        };
        if cm.external {
            let r = role_of(pre_auth, user);
            let self_add = cm
                .ops
                .iter()
                .any(|o| matches!(o, Op::PlAdd { user: x, .. } if *x == user));
            if !self_add {
                if r == NO_ROLE || r == BANNED {
                    return Err(Reject::NotAllowed("joiner not in list (§5.6)"));
                }
                if caps_of(cfg, pre_auth, user) & policy::ADD_OWN_CLIENT == 0
                    && !self.mut_(M::HubSkipsPolicyCheck)
                {
                    return Err(Reject::NotAllowed("canAddOwnClient"));
                }
            }
        }
        let committer = if cm.external {
            None
        } else {
            Some(cm.committer)
        };
        for op in &all[inline_start..] {
            self.authorize_op(pre_auth, &h.members, user, committer, cm.external, op, &all)
                .map_err(Reject::NotAllowed)?;
        }
        let (post, mut members) = apply_ops(cfg, &h.gc, &h.members, &all);
        if cm.external {
            members.insert(cm.committer);
        }
        // MLS Adds must use KeyPackages fetched through this hub (§5.2)
        for o in &all {
            if let Op::MlsAdd { kp } = o {
                if !h.kp_route.contains_key(kp) {
                    return Err(Reject::InvalidProposal(
                        "KeyPackage not fetched through the hub",
                    ));
                }
            }
        }
        self.post_rules(&h.gc, &h.members, &all, &post, &members)?;
        Ok((all, post, members))
    }

    /// `/update` with a proposal bundle (§5.3; leave, §3.5).
    fn check_proposal(&self, s: &State, p: &Proposal) -> Result<(), Reject> {
        let cfg = &self.cfg;
        let h = &s.hub;
        if p.epoch != h.epoch && !self.mut_(M::HubSkipsEpochCheck) {
            return Err(Reject::WrongEpoch);
        }
        let sender = p.sender.ok_or(Reject::InvalidProposal("no sender"))?;
        if !h.members.contains(&sender) {
            return Err(Reject::NotAllowed("proposer not a member"));
        }
        let user = cfg.client_user[usize::from(sender)];
        let only_removes = p
            .ops
            .iter()
            .all(|o| matches!(o, Op::PlRemove { .. } | Op::MlsRemove { .. }));
        if h.blocked.contains(&user) && !only_removes && !self.mut_(M::HubSkipsRemovedBlock) {
            return Err(Reject::NotAllowed("proposer removed/banned (§5.3)"));
        }
        let pre = if cfg.variants.apply_at_once {
            &h.room
        } else {
            &h.gc
        };
        self.structural(pre, &p.ops)
            .map_err(Reject::InvalidProposal)?;
        for op in &p.ops {
            self.authorize_op(pre, &h.members, user, None, false, op, &p.ops)
                .map_err(Reject::NotAllowed)?;
        }
        let (post, members) = apply_ops(cfg, pre, &h.members, &p.ops);
        self.post_rules(pre, &h.members, &p.ops, &post, &members)?;
        Ok(())
    }

    /// Processes an `/update` request at the hub.
    pub fn hub_update(&self, s: &mut State, from: u8, hs: Handshake, equivocate: Option<u8>) {
        self.learn_handshake(s, 0, &hs, true);
        if self.mut_(M::HubFansOutBeforeValidation) {
            let item = match &hs {
                Handshake::Commit(c) => Item::Commit {
                    commit: c.clone(),
                    stapled: vec![],
                },
                Handshake::Proposal(p) => Item::Proposal(p.clone()),
            };
            self.fanout(s, item, &BTreeSet::new(), false);
        }
        match hs {
            Handshake::Proposal(mut p) => {
                if self.mut_(M::HubAppliesBeforeValidation) && self.cfg.variants.apply_at_once {
                    let (r, _) = apply_ops(&self.cfg, &s.hub.room, &s.hub.members, &p.ops);
                    s.hub.room = r;
                }
                match self.check_proposal(s, &p) {
                    Err(e) => self.reject(s, e),
                    Ok(()) => {
                        p.id = s.hub.next_prop;
                        s.hub.next_prop += 1;
                        let user = self.cfg.client_user[usize::from(p.sender.unwrap_or(0))];
                        if self.cfg.variants.apply_at_once
                            && !self.mut_(M::HubAppliesBeforeValidation)
                        {
                            let (r, _) = apply_ops(&self.cfg, &s.hub.room, &s.hub.members, &p.ops);
                            s.hub.room = r;
                        }
                        // the hub has now seen the user removed (§5.3)
                        if p.ops.iter().any(|o| matches!(o, Op::PlRemove { .. })) {
                            s.hub.blocked.insert(user);
                        }
                        s.hub.pending.push(p.clone());
                        properties::witness(s, W::LeaveAccepted);
                        let members = s.hub.members.clone();
                        self.fanout(s, Item::Proposal(p), &members, true);
                    }
                }
            }
            Handshake::Commit(cm) => match self.check_commit(s, &cm) {
                Err(e) => self.reject(s, e),
                Ok((all, post, members)) => {
                    self.accept_commit(s, from, cm, all, post, members, equivocate)
                }
            },
        }
    }

    fn reject(&self, s: &mut State, e: Reject) {
        match e {
            Reject::WrongEpoch => properties::witness(s, W::WrongEpoch),
            Reject::NotAllowed(_) => properties::witness(s, W::NotAllowed),
            Reject::InvalidProposal(_) => properties::witness(s, W::InvalidProposal),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn accept_commit(
        &self,
        s: &mut State,
        _from: u8,
        cm: Commit,
        all: Vec<Op>,
        post: RoomState,
        members: BTreeSet<u8>,
        equivocate: Option<u8>,
    ) {
        let cfg = &self.cfg;
        let pre_gc = s.hub.gc.clone();
        let pre_members = s.hub.members.clone();
        // ghost monitors on the accepted commit
        properties::monitor_commit(self, s, &cm, &all, &pre_gc, &pre_members, &post, &members);
        if cm.epoch != s.hub.epoch {
            properties::violate(s, V::HubLinear);
        }
        let old_pending = std::mem::take(&mut s.hub.pending);
        // leaves invalidated by an external commit (§5.5): regenerate per variant
        let mut stapled = Vec::new();
        if cm.external {
            for p in old_pending.iter() {
                if p.sender.is_none()
                    || (cfg.variants.regenerate_all && !self.mut_(M::HubDropsInvalidatedProposals))
                {
                    // the hub re-issues the change as its own external proposal
                    let ops: Vec<Op> = p
                        .ops
                        .iter()
                        .filter(|o| match o {
                            Op::MlsRemove { client } => members.contains(client),
                            Op::PlRemove { target, .. } => resolve(&post, *target)
                                .is_some_and(|u| role_of(&post, u) != NO_ROLE),
                            _ => true,
                        })
                        .cloned()
                        .collect();
                    if !ops.is_empty() {
                        let np = Proposal {
                            id: s.hub.next_prop,
                            sender: None,
                            epoch: s.hub.epoch + 1,
                            ops,
                        };
                        s.hub.next_prop += 1;
                        stapled.push(np);
                    }
                } else if p.ops.iter().any(|o| matches!(o, Op::PlRemove { .. })) {
                    properties::violate(s, V::LeaveNextEpoch);
                }
            }
        }
        s.hub.epoch += 1;
        s.hub.gc = post.clone();
        s.hub.members = members.clone();
        s.hub.history.push((post.clone(), members.clone()));
        s.hub.pending = stapled.clone();
        let mut room = post.clone();
        if cfg.variants.apply_at_once {
            for p in &stapled {
                room = apply_ops(cfg, &room, &members, &p.ops).0;
            }
        }
        s.hub.room = room;
        if cfg.raw.mode == RoomMode::Mmr && cm.real_cred {
            s.hub.real_cred.insert(cm.committer);
        }
        // blocking (§5.3): users removed or banned; unblocking on (re-)addition/unban
        if cfg.variants.block_until_commit {
            // variant removed-block=until-commit: the commit carries out every queued
            // removal (their clients are gone); nothing stays blocked
            s.hub.blocked.clear();
        } else {
            for u in 0..cfg.n_users() as u8 {
                let (a, b) = (role_of(&pre_gc, u), role_of(&post, u));
                if (a != NO_ROLE && b == NO_ROLE) || (a != BANNED && b == BANNED) {
                    s.hub.blocked.insert(u);
                } else if b != NO_ROLE && b != BANNED && (a == NO_ROLE || a == BANNED) {
                    s.hub.blocked.remove(&u);
                }
            }
        }
        if cm.external {
            s.hub.gi_issued.remove(&cm.committer);
        }
        properties::witness_commit(self, s, &cm, &pre_gc, &post, &pre_members, &members);
        // Welcome routing by KeyPackageRef (§5.2, §5.5)
        let mut welcome: std::collections::BTreeMap<u8, Vec<u8>> = Default::default();
        for o in &all {
            if let Op::MlsAdd { kp } = o {
                let mut dest = s.hub.kp_route.get(kp).copied().unwrap_or(0);
                if self.mut_(M::HubMisroutesWelcome) {
                    dest = cfg.client_provider(cm.committer);
                }
                if dest != cfg.client_provider(kp.client) {
                    properties::violate(s, V::WelcomeRouting);
                }
                welcome.entry(dest).or_default().push(kp.client);
                s.hub.kp_route.remove(kp);
            }
        }
        for c in 0..cfg.n_clients() as u8 {
            s.clients[usize::from(c)].held.retain(|k| {
                !all.iter()
                    .any(|o| matches!(o, Op::MlsAdd { kp } if kp == k))
            });
        }
        // commit fanout to every provider with active participants before the commit,
        // which includes removed clients' providers so they receive their removal
        // (INV-26); joiners get the Welcome instead
        let mut recip: BTreeSet<u8> = pre_members.clone();
        if cm.external {
            // the joiner learns the acceptance of its own external commit (§3.6 step 6)
            recip.insert(cm.committer);
        }
        let item = Item::Commit {
            commit: cm.clone(),
            stapled,
        };
        match equivocate {
            None => self.fanout(s, item, &recip, true),
            Some(victim) => {
                let mut forged = cm.clone();
                forged.ops.pop();
                let bad = Item::Commit {
                    commit: forged,
                    stapled: vec![],
                };
                let provs = self.providers_of(&recip);
                for p in provs {
                    let it = if p == victim {
                        bad.clone()
                    } else {
                        item.clone()
                    };
                    self.notify_one(s, p, it, true);
                }
                properties::witness(s, W::Equivocated);
            }
        }
        for (dest, clients) in welcome {
            let it = Item::Welcome {
                clients,
                epoch: s.hub.epoch,
                room: post.clone(),
                members: members.clone(),
            };
            self.notify_one(s, dest, it, true);
        }
    }

    /// Monitor of P-FANOUT-SCOPE (protocol-06 §5.5), independent of the fanout code: a
    /// commit concerns the providers with clients in the group before or after it (and
    /// the external joiner's); a proposal or message those with clients in the group; a
    /// Welcome the providers owning one of its joiners.
    fn fanout_in_scope(&self, s: &State, p: u8, item: &Item) -> bool {
        let cfg = &self.cfg;
        let has = |set: &BTreeSet<u8>| set.iter().any(|c| cfg.client_provider(*c) == p);
        match item {
            Item::Commit { commit, .. } => {
                let at = |e: u8| s.hub.history.get(usize::from(e)).map(|h| &h.1);
                cfg.client_provider(commit.committer) == p
                    || at(commit.epoch).is_some_and(has)
                    || at(commit.epoch.saturating_add(1)).is_some_and(has)
            }
            Item::Proposal(_) | Item::App { .. } => has(&s.hub.members),
            Item::Welcome { clients, .. } => clients.iter().any(|c| cfg.client_provider(*c) == p),
        }
    }

    /// Providers with clients in `members`, in order (0 first).
    pub fn providers_of(&self, members: &BTreeSet<u8>) -> BTreeSet<u8> {
        members
            .iter()
            .map(|c| self.cfg.client_provider(*c))
            .collect()
    }

    /// Fans an item out to every provider with a client in `recip` (§5.5).
    pub fn fanout(&self, s: &mut State, item: Item, recip: &BTreeSet<u8>, validated: bool) {
        let mut provs = self.providers_of(recip);
        if !validated || self.mut_(M::HubFansOutToAllProviders) {
            provs = (1..self.cfg.n_providers() as u8).collect();
        }
        for p in provs {
            self.notify_one(s, p, item.clone(), validated);
        }
    }

    /// Sends one `/notify` (or delivers locally for provider 0).
    pub fn notify_one(&self, s: &mut State, p: u8, item: Item, validated: bool) {
        let txn = s.hub.next_txn;
        s.hub.next_txn = s.hub.next_txn.wrapping_add(1);
        let body = Notify {
            txn,
            tag: 0,
            validated,
            item,
        };
        if p == 0 {
            self.follower_notify(s, 0, body);
            return;
        }
        if !self.fanout_in_scope(s, p, &body.item) {
            properties::violate(s, V::FanoutScope);
        }
        if self.cfg.raw.network.lossy_notify {
            s.hub.outbox.push((p, body.clone()));
        }
        self.send(s, Msg::Notify { to: p, body });
    }

    /// `/submitMessage` (§5.4).
    pub fn hub_submit(&self, s: &mut State, _from: u8, mut msg: AppMsg) {
        let cfg = &self.cfg;
        let mmr = cfg.raw.mode == RoomMode::Mmr;
        self.learn(
            s,
            0,
            if mmr {
                Fact::MemberPseudo(msg.claimed)
            } else {
                Fact::Sent(msg.id, msg.claimed)
            },
        );
        if msg.epoch < s.hub.epoch && !self.mut_(M::HubSkipsAppEpochCheck) {
            properties::witness(s, W::EpochTooOld);
            return;
        }
        if msg.epoch > s.hub.epoch {
            properties::witness(s, W::NotAllowed);
            return;
        }
        let u = msg.claimed;
        if s.hub.blocked.contains(&u) && !self.mut_(M::HubSkipsRemovedBlock) {
            properties::witness(s, W::NotAllowed);
            return;
        }
        if cfg.variants.freeze_app_while_removal_pending
            && !self.mut_(M::HubIgnoresPendingRemoval)
            && s.hub
                .pending
                .iter()
                .any(|p| p.ops.iter().any(|o| matches!(o, Op::PlRemove { .. })))
        {
            properties::witness(s, W::NotAllowed);
            return;
        }
        // canSendMessage for sendingUri (room-policy-03 §8.2); sendingUri must be an active participant
        let room = if cfg.variants.apply_at_once {
            &s.hub.room
        } else {
            &s.hub.gc
        };
        let active = cfg.clients_of(u).any(|c| s.hub.members.contains(&c));
        if !self.mut_(M::HubSkipsPolicyCheck)
            && (caps_of(cfg, room, u) & policy::SEND_MESSAGE == 0 || !active)
        {
            properties::witness(s, W::NotAllowed);
            return;
        }
        let real_user = cfg.client_user[usize::from(msg.sender)];
        if s.hub.blocked.contains(&real_user) {
            properties::violate(s, V::BlockedSender);
        }
        msg.members_at_accept = s.hub.members.clone();
        msg.blocked_at_accept = s.hub.blocked.clone();
        properties::witness(s, W::AppAccepted);
        let uri = if self.mut_(M::HubForwardsSendingUri) {
            Some(msg.claimed)
        } else {
            None
        };
        let members = s.hub.members.clone();
        self.fanout(s, Item::App { msg, uri }, &members, true);
    }

    /// `/groupInfo` (§5.6): authorized iff the requester's user holds canAddOwnClient,
    /// or is preauthorized, or the room is open.
    pub fn hub_groupinfo(&self, s: &mut State, from: u8, client: u8) {
        let cfg = &self.cfg;
        let u = cfg.client_user[usize::from(client)];
        let mmr = cfg.raw.mode == RoomMode::Mmr;
        self.learn(
            s,
            0,
            if mmr {
                Fact::MemberPseudo(u)
            } else {
                Fact::Member(u)
            },
        );
        let room = if cfg.variants.apply_at_once {
            &s.hub.room
        } else {
            &s.hub.gc
        };
        let r = role_of(room, u);
        let ok = self.mut_(M::HubSkipsPolicyCheck)
            || (!s.hub.blocked.contains(&u)
                && ((r != NO_ROLE && caps_of(cfg, room, u) & policy::ADD_OWN_CLIENT != 0)
                    || (r == NO_ROLE
                        && (preauth_match(cfg, room, u).is_some()
                            || role_def(cfg, room.roles, 0)
                                .is_some_and(|d| d.caps & policy::OPEN_JOIN != 0)))));
        if ok {
            s.hub.gi_issued.insert(client);
        } else {
            properties::witness(s, W::NotAllowed);
        }
        let epoch = s.hub.epoch;
        if from == 0 {
            if ok {
                s.clients[usize::from(client)].gi = Some(epoch);
            }
        } else {
            self.send(
                s,
                Msg::GroupInfoResp {
                    to: from,
                    client,
                    ok,
                    epoch,
                },
            );
        }
    }

    /// What a party learns from a handshake it can read (metadata A.5).
    pub fn learn_handshake(&self, s: &mut State, p: u8, hs: &Handshake, is_hub: bool) {
        let cfg = &self.cfg;
        let mode = cfg.raw.mode;
        if !is_hub && mode == RoomMode::SemiPrivate && !self.mut_(M::HandshakesAsPublic) {
            return; // ciphertext only
        }
        let (ops, signer, real): (Vec<Op>, Option<u8>, bool) = match hs {
            Handshake::Commit(c) => (c.ops.clone(), Some(c.committer), c.real_cred),
            Handshake::Proposal(pr) => (pr.ops.clone(), pr.sender, false),
        };
        let room = s
            .hub
            .history
            .last()
            .map(|h| h.0.clone())
            .unwrap_or_default();
        let mut users: Vec<u8> = touched_users(&room, &ops);
        if let Some(c) = signer {
            users.push(cfg.client_user[usize::from(c)]);
        }
        for o in &ops {
            if let Op::MlsAdd { kp } = o {
                users.push(cfg.client_user[usize::from(kp.client)]);
            }
        }
        for u in users {
            let f = if mode == RoomMode::Mmr
                && !(real && Some(u) == signer.map(|c| cfg.client_user[usize::from(c)]))
            {
                Fact::MemberPseudo(u)
            } else {
                Fact::Member(u)
            };
            self.learn(s, p, f);
        }
    }
}

/// Label of a commit, for charts.
pub fn label_name(l: Label) -> &'static str {
    match l {
        Label::Add => "add",
        Label::Remove => "remove",
        Label::Ban => "ban",
        Label::Unban => "unban",
        Label::Kick => "kick",
        Label::SetRole => "set-role",
        Label::OwnRole => "own-role",
        Label::Pending => "commit-pending",
        Label::Policy => "policy",
        Label::Meta => "metadata",
        Label::External => "external-join",
        Label::Forged => "forged",
    }
}
