//! Follower transitions: `/notify` processing (protocol-06 §5.5) with deduplication,
//! delivery to local clients (the clients' MLS processing of commits, proposals,
//! Welcomes and application messages is folded into the follower step, since
//! client ↔ own-provider traffic is out of MIMI's scope).

use crate::config::RoomMode;
use crate::model::MimiModel;
use crate::mutations::Mutation as M;
use crate::ops::apply_ops;
use crate::properties::{self, V, W};
use crate::state::{Fact, Handshake, Item, Msg, Notify, State, View};

impl MimiModel {
    /// Whether the in-flight message at `i` can be processed now. A commit or proposal
    /// for a future epoch, or a commit whose referenced proposals have not arrived,
    /// waits (clients need the epoch chain in order, RFC 9420 §14).
    pub fn can_process(&self, s: &State, i: usize) -> bool {
        let Msg::Notify { to, body } = &s.net[i] else {
            return true;
        };
        let view = s.prov[usize::from(*to)].view.as_ref();
        match &body.item {
            Item::Commit { commit, .. } => match view {
                None => true, // no member here (any more): ignored
                // the external joiner's own commit: its client starts from the GroupInfo
                // it obtained, whatever this provider's (possibly stale) view says
                // (`follower_notify`); found by the equivalence suite
                Some(_) if commit.external && self.cfg.client_provider(commit.committer) == *to => {
                    true
                }
                Some(v) => {
                    commit.epoch < v.epoch
                        || (commit.epoch == v.epoch
                            && commit
                                .by_ref
                                .iter()
                                .all(|id| v.pending.iter().any(|p| p.id == *id)))
                        || self.is_dup(s, *to, body)
                }
            },
            Item::Proposal(p) => match view {
                None => true,
                Some(v) => p.epoch <= v.epoch || self.is_dup(s, *to, body),
            },
            Item::App { .. } | Item::Welcome { .. } => true,
        }
    }

    fn dedup_key(&self, body: &Notify) -> (u8, u8) {
        if self.cfg.variants.dedup_by_txn {
            (body.txn, 0)
        } else {
            (body.txn, body.tag)
        }
    }

    fn is_dup(&self, s: &State, to: u8, body: &Notify) -> bool {
        !self.cfg.mutated(M::FollowerSkipsDedup)
            && s.prov[usize::from(to)]
                .dedup
                .contains(&self.dedup_key(body))
    }

    /// Processes a `/notify` at provider `to` (provider 0: the hub's local delivery).
    pub fn follower_notify(&self, s: &mut State, to: u8, body: Notify) {
        let cfg = &self.cfg;
        if to != 0 && cfg.raw.network.lossy_notify {
            // §5.5: answer 201 (also for duplicates)
            self.send(
                s,
                Msg::Ack {
                    from: to,
                    txn: body.txn,
                    tag: body.tag,
                },
            );
        }
        if to != 0 {
            if self.is_dup(s, to, &body) {
                properties::witness(s, W::DupDropped);
                return;
            }
            let key = self.dedup_key(&body);
            s.prov[usize::from(to)].dedup.insert(key);
        }
        if !body.validated {
            properties::violate(s, V::ValidatedFanout);
        }
        match body.item {
            Item::Commit { commit, stapled } => {
                if to != 0 {
                    self.learn_handshake(s, to, &Handshake::Commit(commit.clone()), false);
                }
                let mut v = s.prov[usize::from(to)].view.clone();
                if commit.external
                    && cfg.client_provider(commit.committer) == to
                    && v.as_ref().is_none_or(|v| v.epoch != commit.epoch)
                {
                    // the joiner's client starts from the GroupInfo it obtained (§5.6)
                    v = s
                        .hub
                        .history
                        .get(usize::from(commit.epoch))
                        .map(|(room, members)| View {
                            epoch: commit.epoch,
                            room: room.clone(),
                            members: members.clone(),
                            pending: vec![],
                        });
                }
                let Some(v) = v else { return };
                if commit.epoch != v.epoch {
                    return; // stale
                }
                let mut ops = Vec::new();
                if !cfg.mutated(M::FollowerIgnoresByRefProposals) {
                    for id in &commit.by_ref {
                        if let Some(p) = v.pending.iter().find(|p| p.id == *id) {
                            ops.extend(p.ops.iter().cloned());
                        }
                    }
                }
                ops.extend(commit.ops.iter().cloned());
                let (room, mut members) = apply_ops(cfg, &v.room, &v.members, &ops);
                if commit.external {
                    members.insert(commit.committer);
                }
                let epoch = v.epoch + 1;
                for c in 0..cfg.n_clients() as u8 {
                    if cfg.client_provider(c) != to {
                        continue;
                    }
                    let cl = &mut s.clients[usize::from(c)];
                    if v.members.contains(&c) && !members.contains(&c) {
                        cl.left_at = Some(epoch);
                        properties::witness(s, W::RemovedGotCommit);
                    } else if !v.members.contains(&c) && members.contains(&c) {
                        // the external joiner processes its own commit
                        cl.joined_at = Some(epoch);
                        cl.left_at = None;
                    }
                }
                s.prov[usize::from(to)].view = Some(View {
                    epoch,
                    room,
                    members,
                    pending: stapled,
                });
            }
            Item::Proposal(p) => {
                if to != 0 {
                    self.learn_handshake(s, to, &Handshake::Proposal(p.clone()), false);
                }
                if let Some(v) = s.prov[usize::from(to)].view.as_mut() {
                    if p.epoch == v.epoch && !v.pending.iter().any(|x| x.id == p.id) {
                        v.pending.push(p);
                    }
                }
            }
            Item::Welcome {
                clients,
                epoch,
                room,
                members,
            } => {
                for c in &clients {
                    if cfg.client_provider(*c) != to {
                        continue; // not ours: the KeyPackageRef is unknown here
                    }
                    let cl = &mut s.clients[usize::from(*c)];
                    cl.joined_at = Some(epoch);
                    cl.left_at = None;
                    self.learn(s, to, Fact::Member(cfg.client_user[usize::from(*c)]));
                }
                let newer = s.prov[usize::from(to)]
                    .view
                    .as_ref()
                    .is_none_or(|v| v.epoch < epoch);
                if newer && clients.iter().any(|c| cfg.client_provider(*c) == to) {
                    s.prov[usize::from(to)].view = Some(View {
                        epoch,
                        room,
                        members,
                        pending: vec![],
                    });
                }
                properties::witness(s, W::Welcomed);
            }
            Item::App { msg, uri } => {
                if let Some(u) = uri {
                    if to != 0 {
                        self.learn(
                            s,
                            to,
                            if cfg.raw.mode == RoomMode::Mmr {
                                Fact::MemberPseudo(u)
                            } else {
                                Fact::Sent(msg.id, u)
                            },
                        );
                    }
                }
                let real_user = cfg.client_user[usize::from(msg.sender)];
                for c in 0..cfg.n_clients() as u8 {
                    if cfg.client_provider(c) != to || c == msg.sender {
                        continue;
                    }
                    let cl = &s.clients[usize::from(c)];
                    // decryptable iff the client was a member of this room's group in the
                    // message's epoch (symbolic keys per room and epoch)
                    let can = msg.room == s.cur_room
                        && cl.joined_at.is_some_and(|j| j <= msg.epoch)
                        && cl.left_at.is_none_or(|l| msg.epoch < l);
                    if !can && !cfg.mutated(M::FollowerDeliversToAllClients) {
                        continue;
                    }
                    // room isolation: this room's message, to a user listed in this room's
                    // participant list at the message's epoch (hub's committed history)
                    let listed = s.hub.history.get(usize::from(msg.epoch)).is_some_and(|h| {
                        h.0.participants
                            .iter()
                            .any(|(x, _)| *x == cfg.client_user[usize::from(c)])
                    });
                    if msg.room != s.cur_room || !listed {
                        properties::violate(s, V::RoomIsolation);
                    }
                    // franking check (§5.4.1): content sender must equal sendingUri
                    if msg.claimed != real_user && !cfg.mutated(M::ReceiverSkipsFrankCheck) {
                        properties::witness(s, W::FrankRejected);
                        continue;
                    }
                    if msg.claimed != real_user {
                        properties::violate(s, V::FrankSender);
                    }
                    let u = cfg.client_user[usize::from(c)];
                    if to == 0 && s.hub.blocked.contains(&u) {
                        // the hub withholds local delivery to users it saw removed (§5.3)
                        continue;
                    }
                    if !msg.members_at_accept.contains(&c) {
                        properties::violate(s, V::RemovedNoAppMsg);
                    }
                    if msg.blocked_at_accept.contains(&u) {
                        properties::violate(s, V::BlockedReceiver);
                    }
                    let cl = &mut s.clients[usize::from(c)];
                    if !cl.got.insert(msg.id) {
                        properties::violate(s, V::FanoutOnce);
                    }
                    properties::witness(s, W::AppDelivered);
                }
            }
        }
    }
}
