//! The equivalence bridge (issue 5): one operation vocabulary ([`EOp`]), a translator
//! to the model's actions ([`ModelSide`]), a driver performing the same operation in
//! `sim` with real openmls clients and encodings ([`SimSide`]), and the step-by-step
//! comparison ([`run`]) through the abstraction function of [`abstraction`].
//! Documented in `tests/README.md` ("Equivalence suite").

pub mod abstraction;

use mimi_model::config::Config;
use mimi_model::state::{Action, COp, Msg, Op, State};
use mimi_model::MimiModel;
use mimi_ref::hub::Deviation;
use mimi_ref::policy::examples::role;
use mimi_ref::policy::{
    BaseRoomPolicy, Capability::*, Claim, PreAuthData, PreAuthRoleEntry, RoleData,
};
use mimi_ref::room::mimi::{BASE_ROOM_POLICY, PREAUTH_LIST, ROLES_LIST};
use mimi_ref::room::AppDataOp;
use mimi_ref::sim::{user_uri, NetMode, Outcome, SimConfig, SimError, World};
use proptest::prelude::*;
use proptest::test_runner::{
    Config as RunnerConfig, RngAlgorithm, TestCaseError, TestRng, TestRunner,
};
use stateright::Model;
use std::collections::BTreeMap;
use tls_codec::Serialize as _;

/// Provider domains (index 0 hosts the hub).
pub const PROVIDERS: [&str; 3] = ["a.example", "b.example", "c.example"];

/// KeyPackages each client publishes (model `kps_per_client` = sim `key_packages_per_client`).
pub const KPS: u8 = 6;

/// The model configuration the suite runs against (mirrors the sim world below).
pub const EQUIV_CONFIG: &str = r#"
name = "equiv"
description = "equivalence suite: alice@a (admin), bob@b (2 devices), cathy@c"
providers = ["a.example", "b.example", "c.example"]
users = [
  { name = "alice", provider = 0, clients = 1 },
  { name = "bob",   provider = 1, clients = 2 },
  { name = "cathy", provider = 2, clients = 1 },
]
operations = ["add", "remove", "leave", "kick", "ban", "unban", "set-role", "metadata",
              "commit-pending", "external-join", "app-message", "policy", "own-role"]
mode = "baseline"
add_roles = [2]
preauth = [{ user = "cathy", role = 3 }]
initial_preauth = 0
alt_max_clients = 2
[bounds]
max_commits = 200
max_updates = 200
max_app_messages = 200
max_kp_fetches = 200
kps_per_client = 6
max_groupinfo = 200
[network]
ordering = "unordered"
duplicate_notify = true
lossy_notify = true
[variants]
removed-block = "until-commit"
regenerate = "all"
"#;

/// The model for [`EQUIV_CONFIG`].
pub fn model() -> MimiModel {
    MimiModel::new(Config::parse("equiv", EQUIV_CONFIG).expect("equiv config parses"))
}

/// The user URI of model user `u`.
pub fn user_uri_of(m: &MimiModel, u: u8) -> String {
    let p = m.cfg.user_provider[usize::from(u)];
    user_uri(PROVIDERS[usize::from(p)], m.cfg.user_name(u))
}

/// The client URI of model client `c` (`mimi://<p>/d/<user>/<n>`, n from 1).
pub fn client_uri(m: &MimiModel, c: u8) -> String {
    let u = m.cfg.client_user[usize::from(c)];
    let n = m.cfg.clients_of(u).position(|x| x == c).unwrap_or(0) + 1;
    let p = m.cfg.user_provider[usize::from(u)];
    format!(
        "mimi://{}/d/{}/{n}",
        PROVIDERS[usize::from(p)],
        m.cfg.user_name(u)
    )
}

/// The implementation's roles list mirroring the model's table 0
/// (`model/src/policy.rs`: 0 no-role, 1 banned, 2 member, 3 admin with min 1).
pub fn roles() -> RoleData {
    let member = [
        CanAddParticipant,
        CanRemoveParticipant,
        CanAddOwnClient,
        CanRemoveOwnClient,
        CanRemoveSelf,
        CanSendMessage,
        CanChangeOwnRole,
        CanJoinIfPreauthorized,
        CanChangeRoomName,
    ];
    let mut admin = member.to_vec();
    admin.extend([
        CanBan,
        CanUnBan,
        CanKick,
        CanChangeUserRole,
        CanChangeRoleDefinitions,
        CanChangePreauthorizedUserList,
        CanChangeRoomMembershipStyle,
    ]);
    RoleData {
        roles: vec![
            role(0, "no_role", &[], (0, None, 0, Some(0)), &[]),
            role(1, "banned", &[], (0, None, 0, Some(0)), &[]),
            role(
                2,
                "member",
                &member,
                (0, None, 0, None),
                &[(0, &[2]), (2, &[0])],
            ),
            role(
                3,
                "admin",
                &admin,
                (1, None, 0, None),
                &[
                    (0, &[1, 2, 3]),
                    (1, &[0, 2, 3]),
                    (2, &[0, 1, 3]),
                    (3, &[0, 1, 2]),
                ],
            ),
        ],
    }
}

/// The implementation's roles list mirroring the model's role table `t`: 0 = [`roles`],
/// 1 = "locked" (`model/src/policy.rs`: members lose canAddParticipant,
/// canRemoveParticipant and canSendMessage).
pub fn roles_table(t: u8) -> RoleData {
    let mut r = roles();
    if t == 1 {
        if let Some(m) = r.roles.iter_mut().find(|x| x.role_index == 2) {
            let gone = [
                CanAddParticipant.code(),
                CanRemoveParticipant.code(),
                CanSendMessage.code(),
            ];
            m.role_capabilities.retain(|c| !gone.contains(c));
        }
    }
    r
}

/// The preauthorization list of the model's preauth table `t` (room-policy-03 §4):
/// 0 = empty, 1 = the configured entry (cathy, by her user-URI claim → role 3).
pub fn preauth_table(t: u8) -> PreAuthData {
    let mut d = PreAuthData::default();
    if t == 1 {
        d.preauthorized_entries.push(PreAuthRoleEntry {
            claimset: vec![Claim::user(&user_uri(PROVIDERS[2], "cathy"))],
            target_role: PREAUTH_ROLE,
        });
    }
    d
}

/// The role cathy's preauthorization entry grants (config `preauth`).
pub const PREAUTH_ROLE: u32 = 3;

/// The base room policy of the model's base table `t` (room-policy-03 §5): 0 = the
/// room's default (multi-device, no caps), 1 = single-device with `max_clients` 2
/// (config `alt_max_clients`).
pub fn base_table(t: u8) -> BaseRoomPolicy {
    let mut b = BaseRoomPolicy::default();
    if t == 1 {
        b.multi_device = false;
        b.max_clients = Some(2);
    }
    b
}

/// One operation of the vocabulary. Clients and users are model indexes; followers
/// are provider indexes (1.. ; the hub's own provider delivers at once in both halves).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EOp {
    /// `actor` adds `target` (role member): `/keyMaterial`, then the commit (§3.2).
    Add { actor: u8, target: u8 },
    /// `actor` removes `target` and all its clients (§5.3, room-policy-03 §8.1.2).
    Remove { actor: u8, target: u8 },
    /// `client` leaves (§3.5): proposals, committed by someone else.
    Leave { client: u8 },
    /// `actor` removes one client (canKick / canRemoveOwnClient).
    Kick { actor: u8, client: u8 },
    /// `actor` bans `target` (role 1 + removal of its clients).
    Ban { actor: u8, target: u8 },
    /// `actor` unbans `target` into role member.
    Unban { actor: u8, target: u8 },
    /// `actor` sets `target`'s role to `role` (2 or 3).
    SetRole { actor: u8, target: u8, role: u8 },
    /// `actor` toggles the room-metadata version (§7.6).
    Meta { actor: u8 },
    /// `client` joins by external commit after `/groupInfo` (§3.6, §5.6).
    ExternalJoin { client: u8 },
    /// `client` sends an application message (§3.4, §5.4).
    Send { client: u8 },
    /// `client` commits the queued proposals (§3.5).
    CommitPending { client: u8 },
    /// Deliver the next `/notify` to follower `provider` (§5.5).
    Deliver { provider: u8 },
    /// Duplicate the next `/notify` to follower `provider` (network fault).
    Duplicate { provider: u8 },
    /// `actor` toggles the roles list between the model's tables 0 and 1
    /// (room-policy-03 §3, canChangeRoleDefinitions).
    Roles { actor: u8 },
    /// `actor` toggles the preauthorization list between empty and cathy → admin
    /// (room-policy-03 §4, canChangePreauthorizedUserList).
    Preauth { actor: u8 },
    /// `actor` toggles the base policy between multi-device and single-device with
    /// `max_clients` 2 (room-policy-03 §5, canChangeRoomMembershipStyle).
    Base { actor: u8 },
    /// `client` changes its own user's role to the one its preauthorization entry
    /// grants (room-policy-03 §4, §8.1.3 canChangeOwnRole).
    OwnRole { client: u8 },
    /// Deliver the `/notify` of rank `skip` (in sequence order) to follower
    /// `provider`, overtaking the `skip` before it (a reordering network, §5.5).
    DeliverOutOfOrder { provider: u8, skip: u8 },
    /// Lose the next `/notify` to follower `provider` (§5.5; the hub keeps it
    /// unacknowledged).
    Drop { provider: u8 },
    /// The hub's re-send timer fires: every lost, unacknowledged `/notify` is sent
    /// again (§5.5).
    Retry,
}

/// The answer to one operation, as either half reports it (after α).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted by the hub.
    Accepted,
    /// Rejected with this response code (`wrongEpoch`, `notAllowed`, `invalidProposal`,
    /// `epochTooOld`, `notAuthorized`, …).
    Rejected(String),
    /// Model: no enabled action matches. Sim: the client refused to build it.
    NotEnabled,
    /// Network step taken.
    Done,
    /// Network step: nothing to do.
    Nothing,
}

/// The model half: state, path of actions taken (for the chart).
pub struct ModelSide {
    /// The model.
    pub m: MimiModel,
    /// Current state.
    pub s: State,
    /// Every action taken since the initial state.
    pub path: Vec<Action>,
    /// Per provider: notifies (txn → copies) that reached the implementation's
    /// follower out of sequence and wait in its reorder buffer; in the model they are
    /// still in the network (α: a held notify is not yet delivered).
    pub arrived: Vec<BTreeMap<u8, usize>>,
    /// Per provider: every user α has counted as known to it so far (knowledge is
    /// monotone: a provider does not forget a user it saw in a room state it held).
    pub known: Vec<std::collections::BTreeSet<u8>>,
}

impl ModelSide {
    /// Initial state, room created.
    pub fn new() -> Self {
        let m = model();
        let s = m.init_states().remove(0);
        let n = m.cfg.n_providers();
        let mut me = ModelSide {
            m,
            s,
            path: Vec::new(),
            arrived: vec![BTreeMap::new(); n],
            known: vec![Default::default(); n],
        };
        assert!(me.take(|a| *a == Action::Create));
        me
    }

    /// Take the first enabled action matching `pick`; false if none is enabled.
    fn take(&mut self, pick: impl Fn(&Action) -> bool) -> bool {
        let mut acts = Vec::new();
        self.m.actions(&self.s, &mut acts);
        let Some(a) = acts.into_iter().find(|a| pick(a)) else {
            return false;
        };
        self.apply(a)
    }

    fn apply(&mut self, a: Action) -> bool {
        match self.m.next_state(&self.s, a.clone()) {
            Some(n) => {
                self.s = n;
                self.path.push(a);
                true
            }
            None => false,
        }
    }

    /// Deliver every request to the hub, every `/groupInfo` response and every 201
    /// acknowledgement at once: the implementation's requests are synchronous HTTP
    /// exchanges (and the sim delivers acknowledgements at once). A GroupInfoResponse
    /// is an HTTP response and is not ordered with the hub's `/notify` requests, so it
    /// is delivered even when `/notify`s on the model's (0, p) channel precede it
    /// (abstraction note in tests/README.md).
    fn flush_requests(&mut self) {
        while let Some(i) = self
            .s
            .net
            .iter()
            .position(|x| !matches!(x, Msg::Notify { .. }))
        {
            assert!(self.apply(Action::Deliver(i)), "request delivery");
        }
    }

    /// Whether follower `p` has processed the notify with transaction `txn` (its
    /// dedup cache; the implementation's follower: sequence number below its next).
    fn processed(&self, p: u8, txn: u8) -> bool {
        self.s.prov[usize::from(p)]
            .dedup
            .iter()
            .any(|(t, _)| *t == txn)
    }

    /// The model's notifies to `p` that the implementation's network still carries
    /// (held ones excluded), one entry per copy, in sequence (txn) order.
    pub fn in_network(&self, p: u8) -> Vec<u8> {
        let mut held = self.arrived[usize::from(p)].clone();
        let mut v = Vec::new();
        for m in &self.s.net {
            if let Msg::Notify { to, body } = m {
                if *to == p {
                    match held.get_mut(&body.txn) {
                        Some(c) if *c > 0 => *c -= 1,
                        _ => v.push(body.txn),
                    }
                }
            }
        }
        v.sort_unstable();
        v
    }

    /// Add what α counts as known to each provider now ([`abstraction::model_knows`])
    /// to what it knew before.
    pub fn accumulate_knowledge(&mut self) {
        let held = self.held();
        for p in 0..self.known.len() {
            let h = held.get(p).is_some_and(|x| *x > 0);
            let k = abstraction::model_knows(&self.m, &self.s, p as u8, h);
            self.known[p].extend(k);
        }
    }

    /// Notifies held in the implementation's reorder buffers (per provider).
    pub fn held(&self) -> Vec<usize> {
        self.arrived.iter().map(|a| a.values().sum()).collect()
    }

    /// Distinct held transactions (the implementation's follower acknowledged them
    /// on receipt, the model's follower acknowledges on processing).
    pub fn held_txns(&self) -> usize {
        self.arrived.iter().map(BTreeMap::len).sum()
    }

    fn first_index(&self, p: u8, txn: u8) -> Option<usize> {
        self.s
            .net
            .iter()
            .position(|m| matches!(m, Msg::Notify { to, body } if *to == p && body.txn == txn))
    }

    fn deliver_txn(&mut self, p: u8, txn: u8) -> bool {
        let Some(i) = self.first_index(p, txn) else {
            return false;
        };
        let ok = self.take(|a| *a == Action::Deliver(i));
        self.flush_requests();
        ok
    }

    /// The implementation's network delivered notify `txn` to follower `p`, whose
    /// sequencing layer (hub/follower 6) processes it if it is next, drops it if it
    /// is a duplicate, and holds it otherwise. The model's follower processes the
    /// same notifies in the same order: a duplicate at once (dropped by its dedup),
    /// else, while the next unprocessed transaction to `p` (in the network or lost
    /// in the hub's outbox) has arrived, that one. False if the model cannot.
    fn arrive(&mut self, p: u8, txn: u8) -> bool {
        if self.processed(p, txn) {
            return self.deliver_txn(p, txn);
        }
        *self.arrived[usize::from(p)].entry(txn).or_default() += 1;
        loop {
            let in_net = self.s.net.iter().filter_map(|m| match m {
                Msg::Notify { to, body } if *to == p => Some(body.txn),
                _ => None,
            });
            let lost = self
                .s
                .hub
                .outbox
                .iter()
                .filter(|(to, _)| *to == p)
                .map(|(_, n)| n.txn);
            let next = in_net.chain(lost).filter(|t| !self.processed(p, *t)).min();
            let Some(t) = next else { return true };
            let Some(c) = self.arrived[usize::from(p)].remove(&t) else {
                return true;
            };
            for _ in 0..c {
                if !self.deliver_txn(p, t) {
                    return false;
                }
            }
        }
    }

    /// Whether proposals are pending at client `c` as openmls counts them: received
    /// ones (its provider's view) and its own accepted ones of the current epoch,
    /// which an openmls client stores when it sends them.
    pub fn pending_at_client(&self, c: u8) -> bool {
        self.m.view_of(&self.s, c).is_some_and(|v| {
            !v.pending.is_empty()
                || self
                    .s
                    .hub
                    .pending
                    .iter()
                    .any(|p| p.sender == Some(c) && p.epoch == v.epoch)
        })
    }

    /// Perform `op`.
    pub fn step(&mut self, op: EOp) -> Verdict {
        use mimi_model::policy::MEMBER;
        use mimi_model::properties::W;
        let saved = self.s.seen;
        self.s.seen = 0;
        let (e0, p0) = (self.s.hub.epoch, self.s.hub.next_prop);
        let app0 = self.s.count.app;
        // room-policy-03 §3/§4 same-commit rules against the queued proposals the
        // commit must include (see the verdict mapping below)
        let queued_pl = |roles: bool| {
            self.s
                .hub
                .pending
                .iter()
                .flat_map(|p| &p.ops)
                .any(|o| match o {
                    Op::PlAdd { .. } | Op::PlSetRole { .. } => true,
                    Op::PlRemove { .. } => roles,
                    _ => false,
                })
        };
        let composition = match op {
            EOp::Roles { .. } => queued_pl(true),
            EOp::Preauth { .. } => queued_pl(false),
            _ => false,
        };
        let commit = |c: u8, o: COp| move |a: &Action| matches!(a, Action::Commit { client, op, real_cred: false } if *client == c && *op == o);
        let taken = match op {
            EOp::Add { actor, target } => {
                if self.take(commit(actor, COp::Add(target, MEMBER))) {
                    true
                } else {
                    self.take(
                        |a| matches!(a, Action::Fetch { client, target: t } if *client == actor && *t == target),
                    ) && {
                        self.flush_requests();
                        self.take(commit(actor, COp::Add(target, MEMBER)))
                    }
                }
            }
            EOp::Remove { actor, target } => self.take(commit(actor, COp::Remove(target))),
            EOp::Ban { actor, target } => self.take(commit(actor, COp::Ban(target))),
            EOp::Unban { actor, target } => self.take(commit(actor, COp::Unban(target, MEMBER))),
            EOp::SetRole {
                actor,
                target,
                role,
            } if self.m.cfg.client_user[usize::from(actor)] == target => {
                // a role change of one's own user is the own-role change (the same
                // ParticipantListUpdate; room-policy-03 §8.1.3 canChangeOwnRole)
                self.take(commit(actor, COp::OwnRole(role)))
            }
            // a role change of a user banned in the actor's view is an unban (the same
            // ParticipantListUpdate; room-policy-03 §8.1.3 canUnBan)
            EOp::SetRole {
                actor,
                target,
                role,
            } if self.m.view_of(&self.s, actor).is_some_and(|v| {
                mimi_model::policy::role_of(&v.room, target) == mimi_model::policy::BANNED
            }) =>
            {
                self.take(commit(actor, COp::Unban(target, role)))
            }
            EOp::SetRole {
                actor,
                target,
                role,
            } => self.take(commit(actor, COp::SetRole(target, role))),
            EOp::Kick { actor, client } => self.take(commit(actor, COp::Kick(client))),
            EOp::Meta { actor } => self.take(commit(actor, COp::Meta)),
            EOp::CommitPending { client } => self.take(commit(client, COp::Pending)),
            EOp::Leave { client } => {
                self.take(|a| matches!(a, Action::Leave { client: c } if *c == client))
            }
            EOp::Send { client } => {
                let u = self.m.cfg.client_user[usize::from(client)];
                // openmls creates no application message while proposals are pending
                // at the client (spec/deviations.md, "equivalence suite" 1): the
                // translator does not take `Send` then.
                !self.pending_at_client(client)
                    && self.take(|a| matches!(a, Action::Send { client: c, claimed } if *c == client && *claimed == u))
            }
            EOp::ExternalJoin { client } => {
                let asked =
                    self.take(|a| matches!(a, Action::GroupInfo { client: c } if *c == client));
                self.flush_requests();
                if asked && self.s.clients[usize::from(client)].gi.is_none() {
                    // the hub refused the /groupInfo request
                    self.s.seen |= saved;
                    return Verdict::Rejected("notAuthorized".into());
                }
                self.take(|a| matches!(a, Action::ExternalJoin { client: c } if *c == client))
            }
            EOp::Deliver { provider } | EOp::DeliverOutOfOrder { provider, .. } => {
                let skip = match op {
                    EOp::DeliverOutOfOrder { skip, .. } => usize::from(skip),
                    _ => 0,
                };
                let v = match self.in_network(provider).get(skip) {
                    None => Verdict::Nothing,
                    Some(&t) if self.arrive(provider, t) => Verdict::Done,
                    // the model's follower cannot process what the implementation's did
                    Some(_) => Verdict::NotEnabled,
                };
                self.s.seen |= saved;
                return v;
            }
            EOp::Duplicate { provider } | EOp::Drop { provider } => {
                let first = self
                    .in_network(provider)
                    .first()
                    .and_then(|t| self.first_index(provider, *t));
                let dup = matches!(op, EOp::Duplicate { .. });
                let v = match first {
                    Some(i)
                        if self.take(|a| {
                            *a == if dup {
                                Action::Duplicate(i)
                            } else {
                                Action::Drop(i)
                            }
                        }) =>
                    {
                        Verdict::Done
                    }
                    _ => Verdict::Nothing,
                };
                self.s.seen |= saved;
                return v;
            }
            EOp::Retry => {
                let mut n = 0;
                while self.take(|a| matches!(a, Action::Retry(_, false))) {
                    n += 1;
                }
                self.s.seen |= saved;
                return if n > 0 { Verdict::Done } else { Verdict::Nothing };
            }
            EOp::Roles { actor } => self.take(|a| matches!(a, Action::Commit { client, op: COp::Roles(_), real_cred: false } if *client == actor)),
            EOp::Preauth { actor } => self.take(|a| matches!(a, Action::Commit { client, op: COp::Preauth(_), real_cred: false } if *client == actor)),
            EOp::Base { actor } => self.take(|a| matches!(a, Action::Commit { client, op: COp::Base(_), real_cred: false } if *client == actor)),
            EOp::OwnRole { client } => self.take(|a| matches!(a, Action::Commit { client: c, op: COp::OwnRole(_), real_cred: false } if *c == client)),
        };
        self.flush_requests();
        let bits = self.s.seen;
        self.s.seen |= saved;
        if !taken {
            return Verdict::NotEnabled;
        }
        let has = |w: W| bits & (1u64 << (w as u8)) != 0;
        let accepted = match op {
            EOp::Send { .. } => has(W::AppAccepted) && self.s.count.app > app0,
            _ => self.s.hub.epoch > e0 || self.s.hub.next_prop > p0,
        };
        if accepted {
            Verdict::Accepted
        } else if has(W::WrongEpoch) {
            // the answer carries the hub's current epoch (protocol-06 §5.3, §5.4)
            Verdict::Rejected(format!("wrongEpoch@{}", self.s.hub.epoch))
        } else if has(W::EpochTooOld) {
            Verdict::Rejected(format!("epochTooOld@{}", self.s.hub.epoch))
        } else if has(W::InvalidProposal) && !composition {
            // The model answers a commit that breaks a room-policy same-commit rule
            // with invalidProposal, the implementation with notAllowed (hub/follower
            // 3); the draft names no code for it (spec/deviations.md, equivalence
            // suite 17). α maps the former to the latter for these rules only.
            Verdict::Rejected("invalidProposal".into())
        } else {
            Verdict::Rejected("notAllowed".into())
        }
    }
}

impl Default for ModelSide {
    fn default() -> Self {
        Self::new()
    }
}

/// The implementation half: a `sim` world with one openmls client per model client.
pub struct SimSide {
    /// The world.
    pub w: World,
    /// The room.
    pub room: String,
    /// Model used only for identifier mapping.
    m: MimiModel,
}

impl SimSide {
    /// A world mirroring [`EQUIV_CONFIG`], room `m0` created by alice (admin).
    pub fn new(seed: u64, deviations: &[Deviation]) -> Self {
        let m = model();
        let mut w = World::new(
            seed,
            SimConfig {
                providers: PROVIDERS.iter().map(|p| p.to_string()).collect(),
                net: NetMode::Ordered,
                key_packages_per_client: usize::from(KPS),
                deviations: deviations.to_vec(),
                ..SimConfig::default()
            },
        );
        for c in 0..m.cfg.n_clients() as u8 {
            let u = m.cfg.client_user[usize::from(c)];
            let p = PROVIDERS[usize::from(m.cfg.user_provider[usize::from(u)])];
            let n = m.cfg.clients_of(u).position(|x| x == c).unwrap_or(0) + 1;
            let id = w
                .add_client(p, m.cfg.user_name(u), &n.to_string())
                .expect("client");
            assert_eq!(id, client_uri(&m, c));
        }
        let (room, o) = w
            .create_room(&client_uri(&m, 0), "m0", &roles(), 3)
            .expect("create");
        assert!(o.accepted(), "{o:?}");
        let mut me = SimSide { w, room, m };
        me.settle_local();
        me
    }

    /// The hub's own provider delivers to its local clients at once (as the model's
    /// provider 0); acknowledgements are delivered at once.
    fn settle_local(&mut self) {
        while self.w.deliver_next_to(PROVIDERS[0]) {}
        self.w.deliver_acks();
    }

    fn verdict(r: Result<Outcome, SimError>) -> Verdict {
        match r {
            Ok(o) if o.accepted() => Verdict::Accepted,
            Ok(o) => {
                if std::env::var("EQUIV_DEBUG").is_ok() {
                    eprintln!("sim rejection: {} {}", o.code, o.description);
                }
                match o.current_epoch {
                    Some(e) => Verdict::Rejected(format!("{}@{e}", o.code)),
                    None => Verdict::Rejected(o.code),
                }
            }
            Err(_) => Verdict::NotEnabled,
        }
    }

    /// Whether `client`'s user holds `cap` in the client's own view of the room.
    fn may(w: &World, client: &str, room: &str, cap: mimi_ref::policy::Capability) -> bool {
        let Some(d) = w.client(client).and_then(|x| x.dictionary(room.as_bytes())) else {
            return false;
        };
        let Ok(state) = mimi_ref::room::mimi::policy_state(&d, &Default::default()) else {
            return false;
        };
        let Ok(user) = mimi_ref::room::mimi::user_of_client(client.as_bytes()) else {
            return false;
        };
        state.has_capability(&user, cap)
    }

    fn done(b: bool) -> Verdict {
        if b {
            Verdict::Done
        } else {
            Verdict::Nothing
        }
    }

    /// A full-replacement AppDataUpdate of a policy component (room-policy-03 §3–§5):
    /// the client replaces the table it sees (α of its own dictionary) by the other.
    fn policy_toggle(
        w: &mut World,
        client: &str,
        room: &str,
        component: u16,
        encode: impl Fn(u8) -> Result<Vec<u8>, tls_codec::Error>,
    ) -> Verdict {
        let Some(cur) = w
            .client(client)
            .filter(|c| c.is_member(room.as_bytes()))
            .and_then(|c| c.dictionary(room.as_bytes()))
            .map(|d| abstraction::policy_version(component, d.get(&component)))
        else {
            return Verdict::NotEnabled;
        };
        let Ok(bytes) = encode(1 - cur.min(1)) else {
            return Verdict::NotEnabled;
        };
        let request = mimi_ref::client::CommitRequest {
            app_data: vec![(component, AppDataOp::Update(bytes))],
            ..Default::default()
        };
        Self::verdict(w.commit(client, room, &request))
    }

    /// Perform `op`; `msg_id` names the application message of a `Send`.
    pub fn step(&mut self, op: EOp, msg_id: u8) -> Verdict {
        let c = |x: u8| client_uri(&self.m, x);
        let u = |x: u8| user_uri_of(&self.m, x);
        let room = self.room.clone();
        let w = &mut self.w;
        let v = match op {
            // An honest client fetches KeyPackages only when it is a member and the
            // target is not listed in its view (as the model's client, `Fetch`); the
            // implementation's hub would relay for any listed requester.
            // It also needs canAddParticipant in its view (the model's client checks
            // it; the draft has the hub relay /keyMaterial without a policy check,
            // spec/deviations.md, equivalence suite 16).
            EOp::Add { actor, target } => match w.client_state(&c(actor), &room) {
                Some(p)
                    if !p.participants.iter().any(|(x, _)| *x == u(target))
                        && Self::may(w, &c(actor), &room, CanAddParticipant) =>
                {
                    Self::verdict(w.add_user(&c(actor), &room, &u(target), 2))
                }
                _ => Verdict::NotEnabled,
            },
            EOp::Remove { actor, target } => {
                Self::verdict(w.remove_user(&c(actor), &room, &u(target)))
            }
            EOp::Leave { client } => Self::verdict(w.leave(&c(client), &room)),
            EOp::Kick { actor, client } => Self::verdict(w.kick(&c(actor), &room, &c(client))),
            EOp::Ban { actor, target } => Self::verdict(w.ban(&c(actor), &room, &u(target))),
            // "unban" is a move out of role 1: the driver's `unban` is a role change to
            // member, which for a user that is not banned is another operation
            // (`SetRole`); an honest client unbans only a user banned in its view, as
            // the model's client
            EOp::Unban { actor, target } => match w.client_state(&c(actor), &room) {
                Some(p)
                    if p.participants
                        .iter()
                        .any(|(x, r)| *x == u(target) && *r == 1) =>
                {
                    Self::verdict(w.unban(&c(actor), &room, &u(target), 2))
                }
                _ => Verdict::NotEnabled,
            },
            EOp::SetRole {
                actor,
                target,
                role,
            } => Self::verdict(w.change_role(&c(actor), &room, &u(target), u32::from(role))),
            EOp::Meta { actor } => {
                // the client toggles the version it sees (α of its own metadata)
                let cur = w
                    .client_state(&c(actor), &room)
                    .map(|p| abstraction::meta_version(&room, p.metadata.as_deref()));
                match cur {
                    None => Verdict::NotEnabled,
                    Some(v) => Self::verdict(w.update_metadata(
                        &c(actor),
                        &room,
                        &format!("m{}", (v + 1) % 2),
                    )),
                }
            }
            EOp::CommitPending { client } => {
                // "commit the queued proposals": nothing queued, nothing to commit (as the
                // model's build_commit); an empty MLS commit is another operation.
                match w.client_state(&c(client), &room) {
                    Some(p) if !p.pending_proposals.is_empty() => {
                        Self::verdict(w.commit_pending(&c(client), &room))
                    }
                    _ => Verdict::NotEnabled,
                }
            }
            EOp::ExternalJoin { client } => {
                if w.client_state(&c(client), &room).is_some() {
                    Verdict::NotEnabled // already a member
                } else {
                    // an unlisted user joins with the role its preauthorization grants
                    let u = self.m.cfg.client_user[usize::from(client)];
                    let role = if self.m.cfg.preauth.iter().any(|(pu, _)| *pu == u) {
                        PREAUTH_ROLE
                    } else {
                        2
                    };
                    Self::verdict(w.external_join(&c(client), &room, role))
                }
            }
            EOp::Send { client } => {
                Self::verdict(w.send_message(&c(client), &room, format!("msg-{msg_id}").as_bytes()))
            }
            EOp::Deliver { provider } => {
                Self::done(w.deliver_ranked_to(PROVIDERS[usize::from(provider)], 0))
            }
            EOp::DeliverOutOfOrder { provider, skip } => {
                Self::done(w.deliver_ranked_to(PROVIDERS[usize::from(provider)], usize::from(skip)))
            }
            EOp::Duplicate { provider } => {
                Self::done(w.duplicate_ranked_to(PROVIDERS[usize::from(provider)], 0))
            }
            EOp::Drop { provider } => {
                Self::done(w.drop_ranked_to(PROVIDERS[usize::from(provider)], 0))
            }
            EOp::Retry => Self::done(w.fire_retries() > 0),
            EOp::Roles { actor } => Self::policy_toggle(w, &c(actor), &room, ROLES_LIST, |t| {
                roles_table(t).tls_serialize_detached()
            }),
            EOp::Preauth { actor } => Self::policy_toggle(w, &c(actor), &room, PREAUTH_LIST, |t| {
                preauth_table(t).tls_serialize_detached()
            }),
            EOp::Base { actor } => {
                Self::policy_toggle(w, &c(actor), &room, BASE_ROOM_POLICY, |t| {
                    base_table(t).tls_serialize_detached()
                })
            }
            EOp::OwnRole { client } => {
                let me = user_uri_of(&self.m, self.m.cfg.client_user[usize::from(client)]);
                Self::verdict(w.change_role(&c(client), &room, &me, PREAUTH_ROLE))
            }
        };
        self.settle_local();
        v
    }
}

/// Do two verdicts agree? A model rejection must carry the same code (or be refused
/// already by the implementation's client); "no model action enabled" must be some
/// rejection (client-side or by the hub) in the implementation.
pub fn agree(model: &Verdict, sim: &Verdict) -> bool {
    match (model, sim) {
        (Verdict::NotEnabled, Verdict::NotEnabled | Verdict::Rejected(_)) => true,
        // the implementation's client refuses to build what the model's hub refuses
        // (e.g. openmls creates no application message while proposals are pending)
        (Verdict::Rejected(_), Verdict::NotEnabled) => true,
        (a, b) => a == b,
    }
}

/// A disagreement: where, what, and the trace.
#[derive(Debug)]
pub struct Failure {
    /// Index of the failing step.
    pub step: usize,
    /// What differed.
    pub what: String,
    /// Per-step log lines (operation, both verdicts).
    pub log: Vec<String>,
    /// The model's message-sequence chart of the whole run.
    pub chart: Vec<String>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "disagreement at step {}: {}", self.step, self.what)?;
        writeln!(f, "operations (model verdict | implementation verdict):")?;
        for l in &self.log {
            writeln!(f, "  {l}")?;
        }
        writeln!(f, "model message-sequence chart:")?;
        for l in &self.chart {
            writeln!(f, "  {l}")?;
        }
        Ok(())
    }
}

/// The acting client of a client operation.
pub fn actor(op: &EOp) -> Option<u8> {
    match *op {
        EOp::Add { actor, .. }
        | EOp::Remove { actor, .. }
        | EOp::Kick { actor, .. }
        | EOp::Ban { actor, .. }
        | EOp::Unban { actor, .. }
        | EOp::SetRole { actor, .. }
        | EOp::Meta { actor }
        | EOp::Roles { actor }
        | EOp::Preauth { actor }
        | EOp::Base { actor } => Some(actor),
        EOp::Leave { client }
        | EOp::ExternalJoin { client }
        | EOp::Send { client }
        | EOp::CommitPending { client }
        | EOp::OwnRole { client } => Some(client),
        EOp::Deliver { .. }
        | EOp::Duplicate { .. }
        | EOp::DeliverOutOfOrder { .. }
        | EOp::Drop { .. }
        | EOp::Retry => None,
    }
}

/// The operation's name (for statistics).
pub fn op_name(op: &EOp) -> &'static str {
    match op {
        EOp::Add { .. } => "add",
        EOp::Remove { .. } => "remove",
        EOp::Leave { .. } => "leave",
        EOp::Kick { .. } => "kick",
        EOp::Ban { .. } => "ban",
        EOp::Unban { .. } => "unban",
        EOp::SetRole { .. } => "set-role",
        EOp::Meta { .. } => "metadata",
        EOp::ExternalJoin { .. } => "external-join",
        EOp::Send { .. } => "send",
        EOp::CommitPending { .. } => "commit-pending",
        EOp::Deliver { .. } => "deliver",
        EOp::Duplicate { .. } => "duplicate",
        EOp::Roles { .. } => "roles",
        EOp::Preauth { .. } => "preauth",
        EOp::Base { .. } => "base",
        EOp::OwnRole { .. } => "own-role",
        EOp::DeliverOutOfOrder { .. } => "deliver-out-of-order",
        EOp::Drop { .. } => "drop",
        EOp::Retry => "retry",
    }
}

/// Agreed (operation, model verdict) pairs of a run, for non-vacuity statistics.
pub type Steps = Vec<(&'static str, Verdict)>;

/// Run `ops` through both halves, comparing after every step; on success, the agreed
/// (operation, model verdict) of every step.
pub fn run(ops: &[EOp], seed: u64, deviations: &[Deviation]) -> Result<Steps, Box<Failure>> {
    let mut ms = ModelSide::new();
    let mut ss = SimSide::new(seed, deviations);
    let mut log = Vec::new();
    let fail = |step: usize, what: String, log: &Vec<String>, ms: &ModelSide| {
        Box::new(Failure {
            step,
            what,
            log: log.clone(),
            chart: mimi_model::msc::chart(&ms.m, &ms.path)
                .iter()
                .map(|l| l.text())
                .collect(),
        })
    };
    let check = |step: usize, log: &Vec<String>, ms: &ModelSide, ss: &SimSide| {
        let a = abstraction::observe_model(&ms.m, &ms.s, &ms.held(), ms.held_txns());
        let b = abstraction::observe_sim(&ms.m, &ss.w, &ss.room);
        if a != b {
            return Err(fail(
                step,
                format!("observations differ:\n  model: {a:?}\n  impl:  {b:?}"),
                log,
                ms,
            ));
        }
        if !ss.w.anomalies().is_empty() {
            return Err(fail(
                step,
                format!("sim anomalies: {:?}", ss.w.anomalies()),
                log,
                ms,
            ));
        }
        for p in 1..PROVIDERS.len() as u8 {
            let k = &ms.known[usize::from(p)];
            let v = abstraction::sim_visible(&ms.m, &ss.w, p);
            if !v.is_subset(k) {
                return Err(fail(
                    step,
                    format!(
                        "provider {p} saw users {v:?} in its bytes; the model's knowledge is {k:?}"
                    ),
                    log,
                    ms,
                ));
            }
        }
        Ok(())
    };
    ms.accumulate_knowledge();
    check(0, &log, &ms, &ss)?;
    let mut steps = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        // An external commit while proposals are queued (equivalence suite 6, fixed):
        // the model runs with `regenerate = all`, the hub re-issues the invalidated
        // removals; counted under its own name so the CI run shows it is reached.
        let while_queued = matches!(op, EOp::ExternalJoin { .. }) && !ms.s.hub.pending.is_empty();
        // An external joiner acts only once its commit's fanout arrived: before that its
        // openmls client is already in the new epoch, the model's client is not (the
        // observation maps this, abstraction::external_joiner_view); its operations are
        // not generated meanwhile.
        if actor(op).is_some_and(|c| abstraction::external_joiner_view(&ms.m, &ms.s, c).is_some()) {
            log.push(format!(
                "{:>2}. {op:?}: skipped (external join in flight)",
                i + 1
            ));
            continue;
        }
        // the implementation's hub relays /keyMaterial only for a requester listed in
        // the committed room state (spec/deviations.md, equivalence suite 25)
        let unlisted_adder = match *op {
            EOp::Add { actor, .. } => {
                let u = ms.m.cfg.client_user[usize::from(actor)];
                mimi_model::policy::role_of(&ms.s.hub.gc, u) == 0
            }
            _ => false,
        };
        let mv = ms.step(*op);
        let id = if matches!(op, EOp::Send { .. }) && mv != Verdict::NotEnabled {
            ms.s.count.app
        } else {
            u8::MAX - 1
        };
        // Network faults are the environment's choice, bounded by the model's
        // configuration (at most two copies of a /notify in flight, two duplications
        // per run): a fault the model cannot take is not injected into the sim either.
        let sv = if matches!(op, EOp::Duplicate { .. }) && mv == Verdict::Nothing {
            Verdict::Nothing
        } else {
            ss.step(*op, id)
        };
        // ... and refuses it ("refused": no protocol response code) where the model's
        // hub relays and refuses the commit that follows: the same operation refused
        // one request earlier
        let sv = match &sv {
            Verdict::Rejected(code)
                if unlisted_adder && code == "refused" && mv != Verdict::Accepted =>
            {
                mv.clone()
            }
            _ => sv,
        };
        log.push(format!("{:>2}. {op:?}: {mv:?} | {sv:?}", i + 1));
        if !agree(&mv, &sv) {
            return Err(fail(
                i + 1,
                format!("verdicts differ: model {mv:?}, implementation {sv:?}"),
                &log,
                &ms,
            ));
        }
        ms.accumulate_knowledge();
        check(i + 1, &log, &ms, &ss)?;
        let name = if while_queued {
            "external-join-while-queued"
        } else {
            op_name(op)
        };
        steps.push((name, mv));
    }
    Ok(steps)
}

/// Strategy for one operation (valid and invalid: any actor, any target).
pub fn op_strategy() -> impl Strategy<Value = EOp> {
    let client = 0u8..4;
    let user = 0u8..3;
    let follower = 1u8..3;
    prop_oneof![
        4 => (client.clone(), user.clone()).prop_map(|(actor, target)| EOp::Add { actor, target }),
        2 => (client.clone(), user.clone()).prop_map(|(actor, target)| EOp::Remove { actor, target }),
        3 => client.clone().prop_map(|client| EOp::Leave { client }),
        1 => (client.clone(), client.clone()).prop_map(|(actor, client)| EOp::Kick { actor, client }),
        1 => (client.clone(), user.clone()).prop_map(|(actor, target)| EOp::Ban { actor, target }),
        1 => (client.clone(), user.clone()).prop_map(|(actor, target)| EOp::Unban { actor, target }),
        1 => (client.clone(), user.clone(), 2u8..4).prop_map(|(actor, target, role)| EOp::SetRole { actor, target, role }),
        1 => client.clone().prop_map(|actor| EOp::Meta { actor }),
        2 => client.clone().prop_map(|client| EOp::ExternalJoin { client }),
        5 => client.clone().prop_map(|client| EOp::Send { client }),
        3 => client.clone().prop_map(|client| EOp::CommitPending { client }),
        8 => follower.clone().prop_map(|provider| EOp::Deliver { provider }),
        1 => follower.clone().prop_map(|provider| EOp::Duplicate { provider }),
        1 => client.clone().prop_map(|actor| EOp::Roles { actor }),
        1 => client.clone().prop_map(|actor| EOp::Preauth { actor }),
        1 => client.clone().prop_map(|actor| EOp::Base { actor }),
        1 => client.clone().prop_map(|client| EOp::OwnRole { client }),
        2 => (follower.clone(), 1u8..3).prop_map(|(provider, skip)| EOp::DeliverOutOfOrder { provider, skip }),
        2 => follower.prop_map(|provider| EOp::Drop { provider }),
        1 => Just(EOp::Retry),
    ]
}

/// A setup that populates the room (bob with both devices, cathy; then bob's second
/// device is kicked, so that it may rejoin by external commit) so that random suffixes
/// reach the interesting states more often.
pub const SETUP: [EOp; 8] = [
    EOp::Add {
        actor: 0,
        target: 1,
    },
    EOp::Deliver { provider: 1 },
    EOp::Add {
        actor: 0,
        target: 2,
    },
    EOp::Deliver { provider: 2 },
    EOp::Deliver { provider: 1 },
    EOp::Deliver { provider: 2 },
    EOp::Kick {
        actor: 0,
        client: 2,
    },
    EOp::Deliver { provider: 1 },
];

/// A second setup: [`SETUP`], then alice switches the preauthorization list on (so
/// that cathy may take the admin role it grants, or rejoin by it).
pub const SETUP_PREAUTH: [EOp; 4] = [
    EOp::Preauth { actor: 0 },
    EOp::Deliver { provider: 2 },
    EOp::Deliver { provider: 2 },
    EOp::Deliver { provider: 1 },
];

/// A third setup: [`SETUP`], then cathy leaves (her proposals stay queued until someone
/// commits them, so that an external join may come while they are queued).
pub const SETUP_LEAVE: [EOp; 2] = [EOp::Leave { client: 3 }, EOp::Deliver { provider: 2 }];

/// Sequences of up to `max` operations: a quarter each start with [`SETUP`], with
/// [`SETUP`] and [`SETUP_PREAUTH`], with [`SETUP`] and [`SETUP_LEAVE`] (shrinking can
/// drop them), the rest are random.
pub fn ops_strategy(max: usize) -> impl Strategy<Value = Vec<EOp>> {
    (0u8..4, proptest::collection::vec(op_strategy(), 1..=max)).prop_map(move |(setup, ops)| {
        let prefix: Vec<EOp> = match setup {
            0 => SETUP.to_vec(),
            1 => SETUP.iter().chain(SETUP_PREAUTH.iter()).copied().collect(),
            2 => SETUP.iter().chain(SETUP_LEAVE.iter()).copied().collect(),
            _ => Vec::new(),
        };
        let rest = max.saturating_sub(prefix.len()).max(1);
        prefix
            .into_iter()
            .chain(ops.into_iter().take(rest))
            .collect()
    })
}

/// A proptest runner for `cases` cases whose generator is seeded from `seed` (ChaCha,
/// no persistence file; `shrink` off sets no shrinking).
pub fn runner(cases: u32, seed: u64, shrink: bool) -> TestRunner {
    let mut cfg = RunnerConfig::with_cases(cases);
    cfg.failure_persistence = None;
    if !shrink {
        cfg.max_shrink_iters = 0;
    }
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(cfg, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// Throughput hook (for a criterion bench that includes this module with
/// `#[path = "../tests/equiv/mod.rs"] mod equiv;`): runs `cases` generated sequences of
/// up to `max_ops` operations from `seed` through both halves, comparing after every
/// step, without shrinking; returns how many ran and agreed (it stops at the first
/// disagreement, so a result below `cases` means the suite would fail).
pub fn run_cases(seed: u64, cases: u32, max_ops: usize) -> u32 {
    let ran = std::cell::Cell::new(0u32);
    let _ = runner(cases, seed, false).run(&ops_strategy(max_ops), |ops| {
        run(&ops, seed, &[]).map_err(|f| TestCaseError::fail(f.to_string()))?;
        ran.set(ran.get() + 1);
        Ok(())
    });
    ran.get()
}
