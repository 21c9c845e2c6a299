//! Symmetry reduction: the clients (devices) of one user are interchangeable, except
//! the room creator's (its first client creates the room). The representative of a state
//! is the least state (by `Ord`) over all permutations of each such user's clients; every
//! client id in the state (hub, views, network, ghosts) is renamed consistently.
//! stateright 0.31 applies symmetry in its DFS and simulation checkers.

use crate::state::{
    AppMsg, Client, Commit, Handshake, Item, KpRef, Msg, Notify, Op, Proposal, State, View,
};
use std::collections::{BTreeMap, BTreeSet};

fn kp(p: &[u8], k: &KpRef) -> KpRef {
    KpRef {
        client: p[usize::from(k.client)],
        serial: k.serial,
    }
}
fn set(p: &[u8], s: &BTreeSet<u8>) -> BTreeSet<u8> {
    s.iter().map(|c| p[usize::from(*c)]).collect()
}
fn op(p: &[u8], o: &Op) -> Op {
    match o {
        Op::MlsAdd { kp: k } => Op::MlsAdd { kp: kp(p, k) },
        Op::MlsRemove { client } => Op::MlsRemove {
            client: p[usize::from(*client)],
        },
        other => other.clone(),
    }
}
fn prop(p: &[u8], x: &Proposal) -> Proposal {
    Proposal {
        id: x.id,
        sender: x.sender.map(|c| p[usize::from(c)]),
        epoch: x.epoch,
        ops: x.ops.iter().map(|o| op(p, o)).collect(),
    }
}
fn commit(p: &[u8], c: &Commit) -> Commit {
    Commit {
        committer: p[usize::from(c.committer)],
        ops: c.ops.iter().map(|o| op(p, o)).collect(),
        ..c.clone()
    }
}
fn app(p: &[u8], m: &AppMsg) -> AppMsg {
    AppMsg {
        sender: p[usize::from(m.sender)],
        members_at_accept: set(p, &m.members_at_accept),
        ..m.clone()
    }
}
fn item(p: &[u8], i: &Item) -> Item {
    match i {
        Item::Commit { commit: c, stapled } => Item::Commit {
            commit: commit(p, c),
            stapled: stapled.iter().map(|x| prop(p, x)).collect(),
        },
        Item::Proposal(x) => Item::Proposal(prop(p, x)),
        Item::App { msg, uri } => Item::App {
            msg: app(p, msg),
            uri: *uri,
        },
        Item::Welcome {
            clients,
            epoch,
            room,
            members,
        } => {
            let mut cl: Vec<u8> = clients.iter().map(|c| p[usize::from(*c)]).collect();
            cl.sort();
            Item::Welcome {
                clients: cl,
                epoch: *epoch,
                room: room.clone(),
                members: set(p, members),
            }
        }
    }
}
fn notify(p: &[u8], n: &Notify) -> Notify {
    Notify {
        item: item(p, &n.item),
        ..n.clone()
    }
}
fn msg(p: &[u8], m: &Msg) -> Msg {
    match m {
        Msg::Update { from, hs } => Msg::Update {
            from: *from,
            hs: match hs {
                Handshake::Commit(c) => Handshake::Commit(commit(p, c)),
                Handshake::Proposal(x) => Handshake::Proposal(prop(p, x)),
            },
        },
        Msg::Submit { from, msg: a } => Msg::Submit {
            from: *from,
            msg: app(p, a),
        },
        Msg::GroupInfoReq { from, client } => Msg::GroupInfoReq {
            from: *from,
            client: p[usize::from(*client)],
        },
        Msg::GroupInfoResp {
            to,
            client,
            ok,
            epoch,
        } => Msg::GroupInfoResp {
            to: *to,
            client: p[usize::from(*client)],
            ok: *ok,
            epoch: *epoch,
        },
        Msg::Notify { to, body } => Msg::Notify {
            to: *to,
            body: notify(p, body),
        },
        Msg::Ack { .. } => m.clone(),
    }
}
fn view(p: &[u8], v: &View) -> View {
    View {
        epoch: v.epoch,
        room: v.room.clone(),
        members: set(p, &v.members),
        pending: v.pending.iter().map(|x| prop(p, x)).collect(),
    }
}

/// Renames every client id `c` to `p[c]`. `unordered` re-sorts the network multiset.
pub fn rename(s: &State, p: &[u8], unordered: bool) -> State {
    let mut t = s.clone();
    let h = &s.hub;
    t.hub.members = set(p, &h.members);
    t.hub.pending = h.pending.iter().map(|x| prop(p, x)).collect();
    t.hub.kp_route = h
        .kp_route
        .iter()
        .map(|(k, v)| (kp(p, k), *v))
        .collect::<BTreeMap<_, _>>();
    t.hub.gi_issued = set(p, &h.gi_issued);
    t.hub.outbox = h.outbox.iter().map(|(to, n)| (*to, notify(p, n))).collect();
    t.hub.history = h
        .history
        .iter()
        .map(|(r, m)| (r.clone(), set(p, m)))
        .collect();
    t.hub.real_cred = set(p, &h.real_cred);
    for (i, f) in s.prov.iter().enumerate() {
        t.prov[i].view = f.view.as_ref().map(|v| view(p, v));
    }
    let mut clients: Vec<Client> = s.clients.clone();
    for (c, cl) in s.clients.iter().enumerate() {
        let mut n = cl.clone();
        n.held = cl.held.iter().map(|k| kp(p, k)).collect();
        clients[usize::from(p[c])] = n;
    }
    t.clients = clients;
    t.net = s.net.iter().map(|m| msg(p, m)).collect();
    if unordered {
        t.net.sort();
    }
    t.kp_issued = s.kp_issued.iter().map(|k| kp(p, k)).collect();
    t
}

/// All permutations of client ids that only permute clients within each group.
pub fn permutations(n_clients: usize, groups: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = vec![(0..n_clients as u8).collect()];
    for g in groups {
        let mut next = Vec::new();
        for base in &out {
            for perm in perms_of(g) {
                let mut p = base.clone();
                for (from, to) in g.iter().zip(perm.iter()) {
                    p[usize::from(*from)] = *to;
                }
                next.push(p);
            }
        }
        out = next;
    }
    out
}

fn perms_of(g: &[u8]) -> Vec<Vec<u8>> {
    if g.len() <= 1 {
        return vec![g.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..g.len() {
        let mut rest = g.to_vec();
        let x = rest.remove(i);
        for mut p in perms_of(&rest) {
            p.insert(0, x);
            out.push(p);
        }
    }
    out
}

/// The representative: the least renamed state over all permutations in `perms`.
pub fn representative(s: &State, perms: &[Vec<u8>], unordered: bool) -> State {
    let mut best: Option<State> = None;
    for p in perms {
        let t = rename(s, p, unordered);
        if best.as_ref().is_none_or(|b| t < *b) {
            best = Some(t);
        }
    }
    best.unwrap_or_else(|| s.clone())
}
