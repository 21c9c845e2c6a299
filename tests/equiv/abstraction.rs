//! The abstraction function: implementation state (the `sim` world) → the model's
//! observation, and the same observation read off the model's state. Written once,
//! here; documented in `tests/README.md` ("Equivalence suite: the abstraction
//! function"). Every step of every generated sequence compares `observe_model` with
//! `observe_sim`.
//!
//! Mapping, component by component (each line is one clause of the function α):
//! * user URI `mimi://<provider>/u/<name>` ↦ the model's user index of the user with that
//!   name and provider (config `EQUIV_CONFIG`); client URI `mimi://<p>/d/<user>/<n>` ↦ the
//!   model's `n-1`-th client of that user. An identifier the configuration does not know
//!   maps to `UNKNOWN` (and then never equals a model value).
//! * role index ↦ the same number: the implementation's roles list (`roles()`) is built
//!   to mirror the model's role table 0 (0 no-role, 1 banned, 2 member, 3 admin).
//! * room metadata bytes ↦ version `v` iff they are `room_metadata(room, "m<v>", "")`.
//! * epoch ↦ epoch; MLS member identities ↦ client indexes; the participant list keeps
//!   its order. An external joiner is in the new epoch from the hub's acceptance on
//!   (openmls), in the model once its commit's fanout arrives: the model side shows it
//!   the state its commit produced while that fanout is in flight.
//! * pending proposals ↦ "some are pending" (a boolean), at the hub only: the model
//!   bundles a leave as one abstract proposal with several ops, the implementation as
//!   several MLS proposals (AppDataUpdate + SelfRemove/Remove), so only emptiness is
//!   comparable; a client's own proposals are pending in openmls from the moment it
//!   sends them but in the model's provider view only once their fanout arrives, so
//!   clients' pending sets are not compared.
//! * received application messages ↦ the set of model message ids, read from the
//!   plaintext `msg-<id>` each client decrypted (`Delivered::Application`); a client's
//!   failed deliveries are counted and must be zero, as in the model (which has no
//!   failed processing).
//! * in-flight `/notify` per follower ↦ the number of `Msg::Notify` to that provider in
//!   the model's network (both fan out one notify per item and destination).
//! * what servers learned ↦ the users whose identifiers occur in the bytes a provider's
//!   servers received (`World::received_bytes`): a user is *visible* to provider `p`
//!   iff its user URI or one of its client URIs occurs there; the model's `Member(u)` /
//!   `MemberPseudo(u)` facts of `know[p]`, closed under "a provider knows its own
//!   users" (model README, P-MM-*), must contain every visible user.

use mimi_model::policy::role_of;
use mimi_model::state::{Msg, State};
use mimi_model::MimiModel;
use mimi_ref::room::Dictionary;
use mimi_ref::sim::{Delivered, ProjectedState, World};
use std::collections::BTreeSet;

use super::{client_uri, user_uri_of, PROVIDERS};

/// A user or client the configuration does not know.
pub const UNKNOWN: u8 = u8::MAX;

/// One party's projected room state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartyView {
    /// Epoch.
    pub epoch: u64,
    /// Participant list (user, role) in order.
    pub participants: Vec<(u8, u8)>,
    /// MLS members (client indexes).
    pub members: BTreeSet<u8>,
    /// Room-metadata version.
    pub meta: u8,
    /// Proposals pending?
    pub pending: bool,
    /// Policy components (roles list, preauthorization list, base policy) as the
    /// model's table indexes.
    pub policy: [u8; 3],
}

/// Everything compared after a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Obs {
    /// The hub's committed room state.
    pub hub: PartyView,
    /// Each client's view (None when it is not a member).
    pub clients: Vec<Option<PartyView>>,
    /// Application messages each client received (model ids).
    pub got: Vec<BTreeSet<u8>>,
    /// Failed deliveries per client (always 0 in the model).
    pub failures: Vec<usize>,
    /// `/notify` in flight to each provider (index 0 = the hub's own, always 0); a
    /// notify held in a follower's reorder buffer is not in flight.
    pub in_flight: Vec<usize>,
    /// `/notify`s the hub holds unacknowledged (lost or in flight; a held one was
    /// acknowledged on receipt).
    pub unacked: usize,
}

fn policy_of(r: &mimi_model::state::RoomState) -> [u8; 3] {
    [r.roles, r.preauth, r.base]
}

/// The model's observation; `held` counts, per provider, the notifies the
/// implementation's follower holds in its reorder buffer (still in the model's
/// network), `held_txns` the distinct transactions among them.
pub fn observe_model(m: &MimiModel, s: &State, held: &[usize], held_txns: usize) -> Obs {
    let cfg = &m.cfg;
    let hub = PartyView {
        epoch: u64::from(s.hub.epoch),
        participants: s.hub.gc.participants.clone(),
        members: s.hub.members.clone(),
        meta: s.hub.gc.meta,
        pending: !s.hub.pending.is_empty(),
        policy: policy_of(&s.hub.gc),
    };
    let clients = (0..cfg.n_clients() as u8)
        .map(|c| {
            m.view_of(s, c)
                .map(|v| PartyView {
                    epoch: u64::from(v.epoch),
                    participants: v.room.participants.clone(),
                    members: v.members.clone(),
                    meta: v.room.meta,
                    // see `observe_sim`: clients' pending proposals are not compared
                    pending: false,
                    policy: policy_of(&v.room),
                })
                .or_else(|| external_joiner_view(m, s, c))
        })
        .collect();
    let got = s.clients.iter().map(|c| c.got.clone()).collect();
    let in_flight = (0..PROVIDERS.len() as u8)
        .map(|p| {
            s.net
                .iter()
                .filter(|x| matches!(x, Msg::Notify { to, .. } if *to == p && p != 0))
                .count()
                .saturating_sub(held.get(usize::from(p)).copied().unwrap_or(0))
        })
        .collect();
    Obs {
        hub,
        clients,
        got,
        failures: vec![0; cfg.n_clients()],
        in_flight,
        unacked: s.hub.outbox.len().saturating_sub(held_txns),
    }
}

/// An external joiner whose accepted commit is still in flight to its provider: the
/// openmls client is in the new epoch from the hub's acceptance on (it built the
/// commit), the model's provider view only once the commit's fanout arrives. α shows
/// the joiner the committed state its commit produced.
pub fn external_joiner_view(m: &MimiModel, s: &State, c: u8) -> Option<PartyView> {
    let own = m.cfg.client_provider(c);
    // in flight, or lost and awaiting the hub's retry (its outbox)
    let lost = s.hub.outbox.iter().filter(|(to, _)| *to == own);
    let in_net = s.net.iter().filter_map(|x| match x {
        Msg::Notify { to, body } if *to == own => Some(body),
        _ => None,
    });
    in_net
        .chain(lost.map(|(_, b)| b))
        .find_map(|body| match &body.item {
            mimi_model::state::Item::Commit { commit, .. }
                if commit.external && commit.committer == c =>
            {
                let e = usize::from(commit.epoch) + 1;
                let (room, members) = s.hub.history.get(e)?;
                Some(PartyView {
                    epoch: e as u64,
                    participants: room.participants.clone(),
                    members: members.clone(),
                    meta: room.meta,
                    pending: false,
                    policy: policy_of(room),
                })
            }
            _ => None,
        })
}

/// α for identifiers: user URI → user index.
pub fn user_index(m: &MimiModel, uri: &str) -> u8 {
    (0..m.cfg.n_users() as u8)
        .find(|u| user_uri_of(m, *u) == uri)
        .unwrap_or(UNKNOWN)
}

/// α for identifiers: client URI → client index.
pub fn client_index(m: &MimiModel, uri: &str) -> u8 {
    (0..m.cfg.n_clients() as u8)
        .find(|c| client_uri(m, *c) == uri)
        .unwrap_or(UNKNOWN)
}

/// α for metadata: the hex of the room-metadata component → version.
pub fn meta_version(room_id: &str, hex_md: Option<&str>) -> u8 {
    for v in 0..2u8 {
        let md = mimi_ref::room::mimi::room_metadata(room_id, &format!("m{v}"), "")
            .expect("metadata encodes");
        if hex_md == Some(hex::encode(md).as_str()) {
            return v;
        }
    }
    UNKNOWN
}

/// α for policy components: the encoded roles list / preauthorization list / base
/// policy → the model's table index (`super::roles_table`, `preauth_table`,
/// `base_table`); anything else → `UNKNOWN`.
pub fn policy_version(component: u16, bytes: Option<&Vec<u8>>) -> u8 {
    use mimi_ref::room::mimi::{BASE_ROOM_POLICY, PREAUTH_LIST, ROLES_LIST};
    use tls_codec::Serialize as _;
    (0..2u8)
        .find(|t| {
            let want = match component {
                ROLES_LIST => super::roles_table(*t).tls_serialize_detached(),
                PREAUTH_LIST => super::preauth_table(*t).tls_serialize_detached(),
                BASE_ROOM_POLICY => super::base_table(*t).tls_serialize_detached(),
                _ => return false,
            };
            want.ok().as_ref() == bytes
        })
        .unwrap_or(UNKNOWN)
}

fn policy_versions(d: Option<&Dictionary>) -> [u8; 3] {
    use mimi_ref::room::mimi::{BASE_ROOM_POLICY, PREAUTH_LIST, ROLES_LIST};
    [ROLES_LIST, PREAUTH_LIST, BASE_ROOM_POLICY]
        .map(|c| policy_version(c, d.and_then(|d| d.get(&c))))
}

fn party(m: &MimiModel, room_id: &str, p: &ProjectedState, d: Option<&Dictionary>) -> PartyView {
    PartyView {
        epoch: p.epoch,
        participants: p
            .participants
            .iter()
            .map(|(u, r)| (user_index(m, u), u8::try_from(*r).unwrap_or(UNKNOWN)))
            .collect(),
        members: p.members.iter().map(|c| client_index(m, c)).collect(),
        meta: meta_version(room_id, p.metadata.as_deref()),
        pending: !p.pending_proposals.is_empty(),
        policy: policy_versions(d),
    }
}

/// The implementation's observation under α.
pub fn observe_sim(m: &MimiModel, w: &World, room_id: &str) -> Obs {
    let hub_room = w.hub_of(room_id).and_then(|h| h.room(room_id));
    let hub_dict = hub_room.map(|r| r.dictionary());
    let hub = w
        .hub_state(room_id)
        .map(|p| party(m, room_id, &p, hub_dict.as_ref()))
        .expect("the hub holds the room");
    let n = m.cfg.n_clients() as u8;
    let clients = (0..n)
        .map(|c| {
            w.client_state(&client_uri(m, c), room_id)
                .map(|p| PartyView {
                    // α drops a client's pending proposals: openmls stores a member's own
                    // proposals when it sends them, the model's provider view only when their
                    // fanout arrives. Pending proposals are compared at the hub.
                    pending: false,
                    ..party(
                        m,
                        room_id,
                        &p,
                        w.client(&client_uri(m, c))
                            .and_then(|x| x.dictionary(room_id.as_bytes()))
                            .as_ref(),
                    )
                })
        })
        .collect();
    let mut got = Vec::new();
    let mut failures = Vec::new();
    for c in 0..n {
        let mut ids = BTreeSet::new();
        let mut failed = 0;
        for d in w.received(&client_uri(m, c)) {
            match &d.outcome {
                Delivered::Application { data, .. } => {
                    let id = std::str::from_utf8(data)
                        .ok()
                        .and_then(|t| t.strip_prefix("msg-"))
                        .and_then(|t| t.parse::<u8>().ok())
                        .unwrap_or(UNKNOWN);
                    ids.insert(id);
                }
                Delivered::Failed(_) => failed += 1,
                _ => {}
            }
        }
        got.push(ids);
        failures.push(failed);
    }
    let in_flight = PROVIDERS
        .iter()
        .enumerate()
        .map(|(i, p)| if i == 0 { 0 } else { w.in_flight_to(p) })
        .collect();
    Obs {
        hub,
        clients,
        got,
        failures,
        in_flight,
        unacked: w.hub_of(room_id).map_or(0, |h| h.unacknowledged()),
    }
}

/// The model's knowledge of provider `p`, as user indexes: `Member(u)` and
/// `MemberPseudo(u)` facts, closed under "a provider knows its own users".
/// `held`: the implementation's follower `p` holds notifies in its reorder buffer
/// (it received them, so it bootstrapped its room copy, though the model's follower
/// has not processed them yet).
pub fn model_knows(m: &MimiModel, s: &State, p: u8, held: bool) -> BTreeSet<u8> {
    use mimi_model::state::Fact;
    let mut k: BTreeSet<u8> = s.know[usize::from(p)]
        .iter()
        .map(|f| match f {
            Fact::Member(u) | Fact::MemberPseudo(u) | Fact::Sent(_, u) => *u,
        })
        .collect();
    k.extend((0..m.cfg.n_users() as u8).filter(|u| m.cfg.user_provider[usize::from(*u)] == p));
    // Everything listed in a room state the provider holds is known to it; a follower
    // that has had a member bootstraps its room copy from the hub's *current* GroupInfo
    // and tree (spec/deviations.md, hub/follower 7), so it may know the hub's committed
    // state ahead of the fanout still in flight to it. It bootstraps as soon as it
    // receives a notify for the room, also one it holds back (a lost Welcome).
    let view = s.prov[usize::from(p)].view.as_ref();
    if let Some(v) = view {
        k.extend(v.room.participants.iter().map(|(u, _)| *u));
    }
    if view.is_some() || held {
        k.extend(s.hub.gc.participants.iter().map(|(u, _)| *u));
        k.extend(
            s.hub
                .members
                .iter()
                .map(|c| m.cfg.client_user[usize::from(*c)]),
        );
        // The preauthorization list names users who are not (yet) participants (their
        // claims, room-policy-03 §4); every provider holding the room state reads
        // them. The model has no knowledge fact for this (spec/deviations.md,
        // equivalence suite 15): once a committed state had the list, its users count
        // as known to every follower that has had a member.
        if s.hub.history.iter().any(|(r, _)| r.preauth == 1) {
            k.extend(m.cfg.preauth.iter().map(|(u, _)| *u));
        }
    }
    if p == 0 {
        k.extend(s.hub.gc.participants.iter().map(|(u, _)| *u));
        k.extend((0..m.cfg.n_users() as u8).filter(|u| role_of(&s.hub.room, *u) != 0));
    }
    k
}

/// The users whose identifiers occur in the bytes provider `p`'s servers received.
pub fn sim_visible(m: &MimiModel, w: &World, p: u8) -> BTreeSet<u8> {
    let bytes = w.received_bytes(PROVIDERS[usize::from(p)]);
    let contains = |needle: &[u8]| {
        bytes
            .iter()
            .any(|b| b.windows(needle.len()).any(|x| x == needle))
    };
    (0..m.cfg.n_users() as u8)
        .filter(|u| {
            contains(user_uri_of(m, *u).as_bytes())
                || m.cfg
                    .clients_of(*u)
                    .any(|c| contains(client_uri(m, c).as_bytes()))
        })
        .collect()
}
