//! The stateright `Model`: initial state, deterministic action enumeration and the
//! transition function dispatching to `client.rs`, `hub.rs` and `follower.rs`.

use crate::config::{Config, Ordering};
use crate::properties::{self, W};
use crate::state::{Action, Client, Follower, Hub, Msg, RoomState, State};
use stateright::{Model, Property};
use std::collections::BTreeSet;

/// The MIMI model for one configuration.
#[derive(Clone, Debug)]
pub struct MimiModel {
    /// The configuration.
    pub cfg: Config,
    /// Property ids to check (all when empty).
    pub selected: Vec<String>,
}

impl MimiModel {
    /// A model for a configuration, checking all properties.
    pub fn new(cfg: Config) -> Self {
        MimiModel {
            cfg,
            selected: Vec::new(),
        }
    }

    /// A client's request to its own provider: relayed over the network by a follower,
    /// processed at once by the hub for its own local clients (client ↔ own provider is
    /// outside MIMI, protocol-06 §2).
    fn submit(&self, s: &mut State, m: Msg) {
        if m.channel() == (0, 0) {
            self.process(s, m, None);
        } else {
            self.send(s, m);
        }
    }

    /// Groups of interchangeable clients: the clients of each user other than the room
    /// creator (whose first client creates the room).
    pub fn symmetry_groups(&self) -> Vec<Vec<u8>> {
        (1..self.cfg.n_users() as u8)
            .map(|u| self.cfg.clients_of(u).collect::<Vec<_>>())
            .filter(|g| g.len() > 1)
            .collect()
    }

    /// Groups of interchangeable users (protocol-06 treats the users of one provider
    /// alike): same provider and client count; not the room creator, not an adversary,
    /// not named by the preauthorization list or an initial consent scope.
    pub fn user_symmetry_groups(&self) -> Vec<Vec<u8>> {
        let cfg = &self.cfg;
        let special = |u: u8| {
            u == 0
                || cfg.malicious_user == Some(u)
                || cfg.preauth.iter().any(|(p, _)| *p == u)
                || cfg
                    .consent
                    .as_ref()
                    .is_some_and(|c| c.initial.iter().any(|(r, t)| *r == u || *t == u))
        };
        let mut groups: Vec<Vec<u8>> = Vec::new();
        for u in 0..cfg.n_users() as u8 {
            if special(u) {
                continue;
            }
            let key = (cfg.user_provider[usize::from(u)], cfg.clients_of(u).count());
            match groups.iter_mut().find(|g| {
                let v = g[0];
                (cfg.user_provider[usize::from(v)], cfg.clients_of(v).count()) == key
            }) {
                Some(g) => g.push(u),
                None => groups.push(vec![u]),
            }
        }
        groups.retain(|g| g.len() > 1);
        groups
    }

    /// Sends a message: appended (ordered) or inserted in sorted position (unordered,
    /// a canonical multiset).
    pub fn send(&self, s: &mut State, m: Msg) {
        match self.cfg.raw.network.ordering {
            Ordering::Ordered => s.net.push(m),
            Ordering::Unordered => {
                let pos = s.net.partition_point(|x| *x <= m);
                s.net.insert(pos, m);
            }
        }
    }

    /// Whether the message at index `i` may be delivered next (FIFO per channel when ordered).
    pub fn deliverable_order(&self, s: &State, i: usize) -> bool {
        match self.cfg.raw.network.ordering {
            Ordering::Unordered => i == 0 || s.net[i - 1] != s.net[i],
            Ordering::Ordered => {
                let ch = s.net[i].channel();
                !s.net[..i].iter().any(|m| m.channel() == ch)
            }
        }
    }

    /// Whether only client-initiated actions remain (no message in flight that can be
    /// delivered, no retry pending): the model's notion of quiescence.
    pub fn quiescent(&self, s: &State) -> bool {
        let mut acts = Vec::new();
        self.internal_actions(s, &mut acts);
        acts.is_empty()
    }

    fn internal_actions(&self, s: &State, out: &mut Vec<Action>) {
        for i in 0..s.net.len() {
            if !self.deliverable_order(s, i) {
                continue;
            }
            if self.can_process(s, i) {
                out.push(Action::Deliver(i));
            }
        }
        if self.cfg.raw.network.lossy_notify
            && !self.cfg.mutated(crate::mutations::Mutation::HubNoRetry)
        {
            for (k, (to, n)) in s.hub.outbox.iter().enumerate() {
                let in_flight = s.net.iter().any(|m| match m {
                    Msg::Notify { to: t, body } => t == to && body.txn == n.txn,
                    Msg::Ack { from, txn, .. } => from == to && *txn == n.txn,
                    _ => false,
                });
                if !in_flight {
                    out.push(Action::Retry(k, false));
                    if n.tag == 0 {
                        // a retry may re-batch the body once (bounded)
                        out.push(Action::Retry(k, true));
                    }
                }
            }
        }
    }

    fn fault_actions(&self, s: &State, out: &mut Vec<Action>) {
        let net = &self.cfg.raw.network;
        for (i, m) in s.net.iter().enumerate() {
            if let Msg::Notify { .. } | Msg::Ack { .. } = m {
                if net.lossy_notify && (i == 0 || s.net[i - 1] != *m) {
                    out.push(Action::Drop(i));
                }
            }
            if let Msg::Notify { .. } = m {
                // bounded duplication: at most two copies in flight, two duplications per run
                if net.duplicate_notify
                    && s.count.dups < 2
                    && s.net.iter().filter(|x| *x == m).count() < 2
                    && (i == 0 || s.net[i - 1] != *m)
                {
                    out.push(Action::Duplicate(i));
                }
            }
        }
        for f in 1..self.cfg.n_providers() as u8 {
            if s.prov[usize::from(f)].restarts < net.follower_restarts
                && !s.prov[usize::from(f)].dedup.is_empty()
            {
                out.push(Action::Restart(f));
            }
        }
    }
}

/// The representative of a state's symmetry class (for `CheckerBuilder::symmetry_fn`).
pub fn representative(s: &State) -> State {
    if s.sym.user_syms.len() > 1 {
        crate::symmetry::representative_with_users(s, &s.sym.user_syms, s.sym.unordered)
    } else {
        crate::symmetry::representative(s, &s.sym.perms, s.sym.unordered)
    }
}

impl Model for MimiModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        let cfg = &self.cfg;
        let clients = (0..cfg.n_clients())
            .map(|_| Client {
                kps_left: cfg.raw.bounds.kps_per_client,
                ..Client::default()
            })
            .collect();
        vec![State {
            created: false,
            hub: Hub::default(),
            prov: vec![Follower::default(); cfg.n_providers()],
            clients,
            net: Vec::new(),
            know: vec![BTreeSet::new(); cfg.n_providers()],
            consent: cfg
                .consent
                .as_ref()
                .map(|c| c.initial.iter().copied().collect())
                .unwrap_or_default(),
            sym: std::sync::Arc::new(crate::state::SymInfo {
                perms: crate::symmetry::permutations(cfg.n_clients(), &self.symmetry_groups()),
                user_syms: crate::symmetry::symmetries(
                    cfg.n_clients(),
                    &(0..cfg.n_users() as u8)
                        .map(|u| cfg.clients_of(u).collect())
                        .collect::<Vec<_>>(),
                    &self.user_symmetry_groups(),
                    &self.symmetry_groups(),
                ),
                unordered: cfg.raw.network.ordering == Ordering::Unordered,
            }),
            others: (1..cfg.raw.rooms)
                .map(|_| crate::state::RoomSlot {
                    prov: vec![Follower::default(); cfg.n_providers()],
                    clients: vec![Client::default(); cfg.n_clients()],
                    know: vec![BTreeSet::new(); cfg.n_providers()],
                    ..Default::default()
                })
                .collect(),
            ..State::default()
        }]
    }

    fn actions(&self, s: &State, out: &mut Vec<Action>) {
        self.room_actions(s, out);
        // further rooms (protocol-06 §4.3: one hub state per room), after room 0 exists
        if s.created {
            for r in 1..self.cfg.raw.rooms {
                let t = crate::state::in_room(s, r);
                let mut acts = Vec::new();
                self.room_actions(&t, &mut acts);
                out.extend(acts.into_iter().map(|a| Action::InRoom(r, Box::new(a))));
            }
        }
        if self.cfg.prune_noop_actions {
            out.retain(|a| self.next_state(s, a.clone()).is_some());
        }
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        if let Action::InRoom(r, a) = action {
            let t = crate::state::in_room(last, r);
            let mut n = self.next_room_state(&t, *a)?;
            crate::state::swap_room(&mut n, r);
            return Some(n);
        }
        self.next_room_state(last, action)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        properties::stateright_properties(self)
    }

    fn format_action(&self, a: &Action) -> String {
        crate::msc::action_label(self, a)
    }

    fn format_step(&self, last: &State, a: Action) -> Option<String> {
        let lines = crate::msc::step_lines(self, last, &a);
        Some(
            lines
                .iter()
                .map(|l| l.text())
                .collect::<Vec<_>>()
                .join("\n"),
        )
    }
}

impl MimiModel {
    /// The actions of the room currently in the main fields of `s`.
    fn room_actions(&self, s: &State, out: &mut Vec<Action>) {
        if !s.created {
            out.push(Action::Create);
            return;
        }
        self.internal_actions(s, out);
        self.fault_actions(s, out);
        // equivocation: deliver a commit /update but fan out a different commit to one follower
        if self.cfg.raw.adversaries.equivocating_hub {
            for (i, m) in s.net.iter().enumerate() {
                if let Msg::Update {
                    hs: crate::state::Handshake::Commit(_),
                    ..
                } = m
                {
                    if self.deliverable_order(s, i) {
                        for f in 1..self.cfg.n_providers() as u8 {
                            out.push(Action::DeliverEquivocating(i, f));
                        }
                    }
                }
            }
        }
        self.client_actions(s, out);
    }

    /// The transition of an action of the room in the main fields of `last`.
    fn next_room_state(&self, last: &State, action: Action) -> Option<State> {
        let mut s = last.clone();
        match action {
            Action::Create => {
                // protocol-06 §3.1: the creator's client creates room and group locally.
                let room = RoomState {
                    participants: vec![(0, crate::policy::ADMIN)],
                    roles: self.cfg.raw.initial_roles,
                    preauth: self.cfg.raw.initial_preauth,
                    base: 0,
                    meta: 0,
                };
                let members: BTreeSet<u8> = [0u8].into_iter().collect();
                s.created = true;
                s.hub.gc = room.clone();
                s.hub.room = room.clone();
                s.hub.members = members.clone();
                s.hub.history.push((room.clone(), members.clone()));
                s.prov[0].view = Some(crate::state::View {
                    epoch: 0,
                    room,
                    members,
                    pending: vec![],
                });
                s.clients[0].joined_at = Some(0);
                self.learn(&mut s, 0, crate::state::Fact::Member(0));
                properties::witness(&mut s, W::Created);
            }
            Action::Fetch { client, target } => self.fetch(&mut s, client, target),
            Action::Consent {
                client,
                requester,
                grant,
            } => {
                // protocol-06 §5.7: the target's provider records the decision and tells
                // the requester's provider directly (/updateConsent, no hub)
                let target = self.cfg.client_user[usize::from(client)];
                s.count.consent += 1;
                if grant {
                    s.consent.insert((requester, target));
                } else {
                    s.consent.remove(&(requester, target));
                    properties::witness(&mut s, W::ConsentRevoked);
                }
            }
            Action::Commit {
                client,
                op,
                real_cred,
            } => {
                let cm = self.build_commit(last, client, op, real_cred)?;
                s.count.updates += 1;
                let from = self.cfg.client_provider(client);
                self.submit(
                    &mut s,
                    Msg::Update {
                        from,
                        hs: crate::state::Handshake::Commit(cm),
                    },
                );
            }
            Action::Leave { client } => {
                let p = self.build_leave(last, client)?;
                s.count.updates += 1;
                let from = self.cfg.client_provider(client);
                self.submit(
                    &mut s,
                    Msg::Update {
                        from,
                        hs: crate::state::Handshake::Proposal(p),
                    },
                );
            }
            Action::GroupInfo { client } => {
                s.count.gi += 1;
                let from = self.cfg.client_provider(client);
                self.submit(&mut s, Msg::GroupInfoReq { from, client });
            }
            Action::ExternalJoin { client } => {
                let cm = self.build_external(last, client)?;
                s.count.updates += 1;
                s.clients[usize::from(client)].gi = None;
                let from = self.cfg.client_provider(client);
                self.submit(
                    &mut s,
                    Msg::Update {
                        from,
                        hs: crate::state::Handshake::Commit(cm),
                    },
                );
            }
            Action::Send { client, claimed } => {
                let v = self.view_of(last, client)?;
                s.count.app += 1;
                let id = s.count.app;
                let from = self.cfg.client_provider(client);
                let msg = crate::state::AppMsg {
                    id,
                    sender: client,
                    claimed,
                    epoch: v.epoch,
                    members_at_accept: BTreeSet::new(),
                    blocked_at_accept: BTreeSet::new(),
                    room: s.cur_room,
                };
                // the sender's own provider knows which of its clients sent
                self.learn(
                    &mut s,
                    from,
                    crate::state::Fact::Sent(id, self.cfg.client_user[usize::from(client)]),
                );
                self.submit(&mut s, Msg::Submit { from, msg });
            }
            Action::Deliver(i) => {
                let m = s.net.remove(i);
                self.process(&mut s, m, None);
            }
            Action::DeliverEquivocating(i, victim) => {
                let m = s.net.remove(i);
                self.process(&mut s, m, Some(victim));
            }
            Action::Drop(i) => {
                s.net.remove(i);
                properties::witness(&mut s, W::Lost);
            }
            Action::Duplicate(i) => {
                let m = s.net[i].clone();
                s.count.dups += 1;
                self.send(&mut s, m);
            }
            Action::Retry(k, rebatch) => {
                let (to, mut body) = s.hub.outbox.get(k)?.clone();
                if rebatch {
                    body.tag = body.tag.wrapping_add(1);
                    s.hub.outbox[k].1.tag = body.tag;
                }
                properties::witness(&mut s, W::Retried);
                self.send(&mut s, Msg::Notify { to, body });
            }
            Action::Restart(f) => {
                let p = &mut s.prov[usize::from(f)];
                p.dedup.clear();
                p.restarts += 1;
                properties::witness(&mut s, W::Restarted);
            }
            // never produced inside a room (see `next_state`)
            Action::InRoom(..) => return None,
        }
        Some(s)
    }

    /// Dispatches a delivered message.
    fn process(&self, s: &mut State, m: Msg, equivocate: Option<u8>) {
        match m {
            Msg::Update { from, hs } => self.hub_update(s, from, hs, equivocate),
            Msg::Submit { from, msg } => self.hub_submit(s, from, msg),
            Msg::GroupInfoReq { from, client } => self.hub_groupinfo(s, from, client),
            Msg::GroupInfoResp {
                client, ok, epoch, ..
            } => {
                if ok {
                    s.clients[usize::from(client)].gi = Some(epoch);
                }
            }
            Msg::Notify { to, body } => self.follower_notify(s, to, body),
            Msg::Ack { from, txn, tag } => {
                // §5.5: a 201 ends the retries of this transaction
                let _ = tag;
                s.hub.outbox.retain(|(t, n)| !(*t == from && n.txn == txn));
            }
        }
    }

    /// Adds a fact to a provider's knowledge.
    pub fn learn(&self, s: &mut State, p: u8, f: crate::state::Fact) {
        if let Some(k) = s.know.get_mut(usize::from(p)) {
            k.insert(f);
        }
    }
}
