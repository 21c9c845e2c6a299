//! Symmetry reduction over interchangeable parties:
//!
//! * the clients (devices) of one user, except the room creator's (its first client
//!   creates the room);
//! * the users of one provider that the configuration treats alike: same provider, same
//!   number of clients, not the creator, not an adversary, not named by the preauth list
//!   or by an initial consent scope.
//!
//! A symmetry is a pair (client map, user map); the client map sends the k-th client of
//! user u to the k-th client of the user map's image of u, composed with a permutation
//! of devices. The representative of a state is the least state (by `Ord`) over all
//! symmetries; every client and user id in the state (hub, views, network, ghosts,
//! knowledge, consent, every room) is renamed consistently. stateright 0.31 applies
//! symmetry in its DFS and simulation checkers.

use crate::state::{
    AppMsg, Client, Commit, Fact, Follower, Handshake, Hub, Item, KpRef, Msg, Notify, Op, Proposal,
    RoomState, State, Target, View,
};
use std::collections::{BTreeMap, BTreeSet};

/// One symmetry: `c[x]` is the new id of client x, `u[x]` the new id of user x.
#[derive(Clone, Copy)]
struct Map<'a> {
    c: &'a [u8],
    u: &'a [u8],
}

impl Map<'_> {
    fn cl(&self, x: u8) -> u8 {
        self.c.get(usize::from(x)).copied().unwrap_or(x)
    }
    fn us(&self, x: u8) -> u8 {
        self.u.get(usize::from(x)).copied().unwrap_or(x)
    }
    fn kp(&self, k: &KpRef) -> KpRef {
        KpRef {
            client: self.cl(k.client),
            serial: k.serial,
        }
    }
    fn clients(&self, s: &BTreeSet<u8>) -> BTreeSet<u8> {
        s.iter().map(|x| self.cl(*x)).collect()
    }
    fn users(&self, s: &BTreeSet<u8>) -> BTreeSet<u8> {
        s.iter().map(|x| self.us(*x)).collect()
    }
    fn room(&self, r: &RoomState) -> RoomState {
        RoomState {
            // list order is kept: index-based addressing stays meaningful
            participants: r
                .participants
                .iter()
                .map(|(x, role)| (self.us(*x), *role))
                .collect(),
            ..r.clone()
        }
    }
    fn target(&self, t: &Target) -> Target {
        match t {
            Target::User(x) => Target::User(self.us(*x)),
            Target::Index(i) => Target::Index(*i),
        }
    }
    fn op(&self, o: &Op) -> Op {
        match o {
            Op::MlsAdd { kp } => Op::MlsAdd { kp: self.kp(kp) },
            Op::MlsRemove { client } => Op::MlsRemove {
                client: self.cl(*client),
            },
            Op::PlAdd { user, role } => Op::PlAdd {
                user: self.us(*user),
                role: *role,
            },
            Op::PlRemove { target, intended } => Op::PlRemove {
                target: self.target(target),
                intended: self.us(*intended),
            },
            Op::PlSetRole {
                target,
                intended,
                role,
            } => Op::PlSetRole {
                target: self.target(target),
                intended: self.us(*intended),
                role: *role,
            },
            other => other.clone(),
        }
    }
    fn prop(&self, x: &Proposal) -> Proposal {
        Proposal {
            id: x.id,
            sender: x.sender.map(|c| self.cl(c)),
            epoch: x.epoch,
            ops: x.ops.iter().map(|o| self.op(o)).collect(),
        }
    }
    fn commit(&self, c: &Commit) -> Commit {
        Commit {
            committer: self.cl(c.committer),
            ops: c.ops.iter().map(|o| self.op(o)).collect(),
            ..c.clone()
        }
    }
    fn app(&self, m: &AppMsg) -> AppMsg {
        AppMsg {
            sender: self.cl(m.sender),
            claimed: self.us(m.claimed),
            members_at_accept: self.clients(&m.members_at_accept),
            blocked_at_accept: self.users(&m.blocked_at_accept),
            ..m.clone()
        }
    }
    fn item(&self, i: &Item) -> Item {
        match i {
            Item::Commit { commit, stapled } => Item::Commit {
                commit: self.commit(commit),
                stapled: stapled.iter().map(|x| self.prop(x)).collect(),
            },
            Item::Proposal(x) => Item::Proposal(self.prop(x)),
            Item::App { msg, uri } => Item::App {
                msg: self.app(msg),
                uri: uri.map(|x| self.us(x)),
            },
            Item::Welcome {
                clients,
                epoch,
                room,
                members,
            } => {
                let mut cl: Vec<u8> = clients.iter().map(|c| self.cl(*c)).collect();
                cl.sort();
                Item::Welcome {
                    clients: cl,
                    epoch: *epoch,
                    room: self.room(room),
                    members: self.clients(members),
                }
            }
        }
    }
    fn notify(&self, n: &Notify) -> Notify {
        Notify {
            item: self.item(&n.item),
            ..n.clone()
        }
    }
    fn msg(&self, m: &Msg) -> Msg {
        match m {
            Msg::Update { from, hs } => Msg::Update {
                from: *from,
                hs: match hs {
                    Handshake::Commit(c) => Handshake::Commit(self.commit(c)),
                    Handshake::Proposal(x) => Handshake::Proposal(self.prop(x)),
                },
            },
            Msg::Submit { from, msg } => Msg::Submit {
                from: *from,
                msg: self.app(msg),
            },
            Msg::GroupInfoReq { from, client } => Msg::GroupInfoReq {
                from: *from,
                client: self.cl(*client),
            },
            Msg::GroupInfoResp {
                to,
                client,
                ok,
                epoch,
            } => Msg::GroupInfoResp {
                to: *to,
                client: self.cl(*client),
                ok: *ok,
                epoch: *epoch,
            },
            Msg::Notify { to, body } => Msg::Notify {
                to: *to,
                body: self.notify(body),
            },
            Msg::Ack { .. } => m.clone(),
        }
    }
    fn view(&self, v: &View) -> View {
        View {
            epoch: v.epoch,
            room: self.room(&v.room),
            members: self.clients(&v.members),
            pending: v.pending.iter().map(|x| self.prop(x)).collect(),
        }
    }
    fn fact(&self, f: &Fact) -> Fact {
        match f {
            Fact::Member(x) => Fact::Member(self.us(*x)),
            Fact::MemberPseudo(x) => Fact::MemberPseudo(self.us(*x)),
            Fact::Sent(m, x) => Fact::Sent(*m, self.us(*x)),
        }
    }
    fn hub(&self, h: &Hub) -> Hub {
        Hub {
            gc: self.room(&h.gc),
            room: self.room(&h.room),
            members: self.clients(&h.members),
            pending: h.pending.iter().map(|x| self.prop(x)).collect(),
            kp_route: h
                .kp_route
                .iter()
                .map(|(k, v)| (self.kp(k), *v))
                .collect::<BTreeMap<_, _>>(),
            blocked: self.users(&h.blocked),
            gi_issued: self.clients(&h.gi_issued),
            outbox: h
                .outbox
                .iter()
                .map(|(to, n)| (*to, self.notify(n)))
                .collect(),
            history: h
                .history
                .iter()
                .map(|(r, m)| (self.room(r), self.clients(m)))
                .collect(),
            real_cred: self.clients(&h.real_cred),
            ..h.clone()
        }
    }
    fn provs(&self, ps: &[Follower]) -> Vec<Follower> {
        ps.iter()
            .map(|f| Follower {
                view: f.view.as_ref().map(|v| self.view(v)),
                ..f.clone()
            })
            .collect()
    }
    fn client_vec(&self, cs: &[Client]) -> Vec<Client> {
        let mut out: Vec<Client> = cs.to_vec();
        for (c, cl) in cs.iter().enumerate() {
            let mut n = cl.clone();
            n.held = cl.held.iter().map(|k| self.kp(k)).collect();
            if let Some(slot) = out.get_mut(usize::from(self.cl(c as u8))) {
                *slot = n;
            }
        }
        out
    }
    fn net(&self, net: &[Msg], unordered: bool) -> Vec<Msg> {
        let mut n: Vec<Msg> = net.iter().map(|m| self.msg(m)).collect();
        if unordered {
            n.sort();
        }
        n
    }
    fn know(&self, k: &[BTreeSet<Fact>]) -> Vec<BTreeSet<Fact>> {
        k.iter()
            .map(|set| set.iter().map(|f| self.fact(f)).collect())
            .collect()
    }
}

/// Renames every client id `c` to `p[c]` and every user id `x` to `u[x]`, in every room.
/// `unordered` re-sorts the network multisets.
pub fn rename_with_users(s: &State, p: &[u8], u: &[u8], unordered: bool) -> State {
    let m = Map { c: p, u };
    let mut t = s.clone();
    t.hub = m.hub(&s.hub);
    t.prov = m.provs(&s.prov);
    t.clients = m.client_vec(&s.clients);
    t.net = m.net(&s.net, unordered);
    t.know = m.know(&s.know);
    t.kp_issued = s.kp_issued.iter().map(|k| m.kp(k)).collect();
    t.consent = s
        .consent
        .iter()
        .map(|(r, x)| (m.us(*r), m.us(*x)))
        .collect();
    for (slot, o) in t.others.iter_mut().zip(s.others.iter()) {
        slot.hub = m.hub(&o.hub);
        slot.prov = m.provs(&o.prov);
        slot.clients = m.client_vec(&o.clients);
        slot.net = m.net(&o.net, unordered);
        slot.know = m.know(&o.know);
    }
    t
}

/// Renames every client id `c` to `p[c]` (user ids unchanged).
pub fn rename(s: &State, p: &[u8], unordered: bool) -> State {
    rename_with_users(s, p, &[], unordered)
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

/// The symmetries generated by permuting interchangeable users (`user_groups`) and the
/// devices of each user (`device_groups`): (client map, user map) pairs, identity first.
/// `clients_of[u]` lists user u's clients in order; users in one group must have the
/// same number of clients.
pub fn symmetries(
    n_clients: usize,
    clients_of: &[Vec<u8>],
    user_groups: &[Vec<u8>],
    device_groups: &[Vec<u8>],
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let n_users = clients_of.len();
    let user_maps = permutations(n_users, user_groups);
    let device_maps = permutations(n_clients, device_groups);
    let mut out = Vec::new();
    for um in &user_maps {
        // base client map: k-th client of u -> k-th client of um[u]
        let mut base: Vec<u8> = (0..n_clients as u8).collect();
        for (u, cs) in clients_of.iter().enumerate() {
            let Some(image) = clients_of.get(usize::from(um[u])) else {
                continue;
            };
            for (k, c) in cs.iter().enumerate() {
                if let (Some(slot), Some(to)) = (base.get_mut(usize::from(*c)), image.get(k)) {
                    *slot = *to;
                }
            }
        }
        for dm in &device_maps {
            // first move users, then permute devices within the image user
            let p: Vec<u8> = base.iter().map(|x| dm[usize::from(*x)]).collect();
            out.push((p, um.clone()));
        }
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

/// The representative: the least renamed state over all client permutations in `perms`.
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

/// The representative over (client map, user map) symmetries.
pub fn representative_with_users(s: &State, syms: &[(Vec<u8>, Vec<u8>)], unordered: bool) -> State {
    let mut best: Option<State> = None;
    for (p, u) in syms {
        let t = rename_with_users(s, p, u, unordered);
        if best.as_ref().is_none_or(|b| t < *b) {
            best = Some(t);
        }
    }
    best.unwrap_or_else(|| s.clone())
}
