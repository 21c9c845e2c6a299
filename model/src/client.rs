//! Client transitions: building commits and proposals from the client's own view of the
//! group, key-material fetches, `/groupInfo` + external join, application messages.
//! Honest clients pre-check capabilities and authorized role changes in their view
//! (room-policy-03 §8); the malicious client (adversary) skips those checks and may
//! forge sendingUri or malformed commits. Constraints are left to the hub.

use crate::model::MimiModel;
use crate::mutations::Mutation;
use crate::ops::target_for;
use crate::policy::{self, allowed, caps_of, preauth_match, role_of, ADMIN, BANNED, MEMBER};
use crate::properties::{self, V, W};
use crate::state::{Action, COp, Commit, Fact, KpRef, Label, Op, Proposal, State, View};

impl MimiModel {
    /// The group view a client acts on (its provider's view), if it is a member.
    pub fn view_of<'a>(&self, s: &'a State, c: u8) -> Option<&'a View> {
        let p = self.cfg.client_provider(c);
        s.prov[usize::from(p)]
            .view
            .as_ref()
            .filter(|v| v.members.contains(&c))
    }

    /// Enumerates client-initiated actions in a deterministic order.
    pub fn client_actions(&self, s: &State, out: &mut Vec<Action>) {
        let cfg = &self.cfg;
        let b = &cfg.raw.bounds;
        let ops = &cfg.ops;
        let upd_ok = s.count.updates < b.max_updates && s.hub.epoch < b.max_commits + 1;
        // consent decisions (protocol-06 §5.7): the first client of each user acts for it
        // (consent is not room-scoped here: offered once, with room 0's actions)
        if let Some(cons) = cfg
            .consent
            .as_ref()
            .filter(|c| c.grant_revoke && s.cur_room == 0)
        {
            if s.count.consent < cons.max_ops {
                for t in 0..cfg.n_users() as u8 {
                    let Some(c) = cfg.clients_of(t).next() else {
                        continue;
                    };
                    for r in 0..cfg.n_users() as u8 {
                        if r != t {
                            out.push(Action::Consent {
                                client: c,
                                requester: r,
                                grant: !s.consent.contains(&(r, t)),
                            });
                        }
                    }
                }
            }
        }
        for c in 0..cfg.n_clients() as u8 {
            let u = cfg.client_user[usize::from(c)];
            let mal = cfg.is_malicious(c);
            let mmr_adv = mal && cfg.raw.mode == crate::config::RoomMode::Mmr;
            let Some(v) = self.view_of(s, c) else {
                // not a member: external join path (protocol-06 §3.6, §5.6)
                let cl = &s.clients[usize::from(c)];
                if ops.external_join && upd_ok {
                    if let Some(_e) = cl.gi {
                        out.push(Action::ExternalJoin { client: c });
                    } else if s.count.gi < b.max_groupinfo {
                        let listed = role_of(&s.hub.gc, u);
                        // a listed user's client may (re)join, also after it was kicked:
                        // canAddOwnClient (room-policy-03 §8.1.1, protocol-06 §3.6)
                        let may = (listed != 0 && listed != BANNED)
                            || cfg.preauth.iter().any(|(pu, _)| *pu == u)
                            || cfg.raw.open_join;
                        if may || mal {
                            out.push(Action::GroupInfo { client: c });
                        }
                    }
                }
                continue;
            };
            let room = &v.room;
            let ru = role_of(room, u);
            let caps = caps_of(cfg, room, u);
            let has = |cap: policy::Caps| mal || caps & cap != 0;
            let arc = |from: u8, to: u8| mal || allowed(cfg, room, ru, from, to);
            // key material fetch (§5.2)
            if ops.add && s.count.fetches < b.max_kp_fetches {
                for t in 0..cfg.n_users() as u8 {
                    if t == u || role_of(room, t) != 0 {
                        continue;
                    }
                    let holds = s.clients[usize::from(c)]
                        .held
                        .iter()
                        .any(|k| cfg.client_user[usize::from(k.client)] == t);
                    let avail = cfg
                        .clients_of(t)
                        .any(|x| s.clients[usize::from(x)].kps_left > 0 && !v.members.contains(&x))
                        || cfg.mutated(Mutation::TargetReusesKeyPackages);
                    if !holds && avail && has(policy::ADD_PARTICIPANT) {
                        out.push(Action::Fetch {
                            client: c,
                            target: t,
                        });
                    }
                }
            }
            if !upd_ok {
                // app messages only
            } else {
                let mut push = |op: COp| {
                    out.push(Action::Commit {
                        client: c,
                        op,
                        real_cred: false,
                    });
                    if mmr_adv {
                        out.push(Action::Commit {
                            client: c,
                            op,
                            real_cred: true,
                        });
                    }
                };
                for t in 0..cfg.n_users() as u8 {
                    let rt = role_of(room, t);
                    let held = s.clients[usize::from(c)]
                        .held
                        .iter()
                        .any(|k| cfg.client_user[usize::from(k.client)] == t);
                    if ops.add && rt == 0 && held {
                        for r in cfg.raw.add_roles.iter().copied() {
                            if has(policy::ADD_PARTICIPANT) && arc(0, r) {
                                push(COp::Add(t, r));
                            }
                        }
                        if mal {
                            push(COp::MlsOnlyAdd(t));
                            push(COp::RolesWithAdd(t));
                        }
                    }
                    if t == u || rt == 0 {
                        if mal && ops.add && t != u && rt != 0 {
                            push(COp::AddListed(t));
                        }
                        continue;
                    }
                    if mal && ops.add {
                        push(COp::AddListed(t));
                    }
                    let active = cfg.clients_of(t).any(|x| v.members.contains(&x));
                    // a banned user may be removed from the list too (its entry goes, role 1 → 0),
                    // when the actor's authorized role changes allow it (room-policy-03 §8.1.2)
                    if ops.remove && has(policy::REMOVE_PARTICIPANT) && arc(rt, 0) {
                        push(COp::Remove(t));
                    }
                    if mal && ops.remove && active {
                        push(COp::ListOnlyRemove(t));
                    }
                    if mal && ops.remove {
                        push(COp::DoubleTouch(t));
                    }
                    if ops.ban && rt != BANNED && has(policy::BAN) && arc(rt, BANNED) {
                        push(COp::Ban(t));
                    }
                    if ops.unban && rt == BANNED {
                        for r in [MEMBER, ADMIN] {
                            if has(policy::UNBAN) && arc(BANNED, r) {
                                push(COp::Unban(t, r));
                            }
                        }
                    }
                    if ops.kick && has(policy::KICK) {
                        for x in cfg.clients_of(t) {
                            if v.members.contains(&x) {
                                push(COp::Kick(x));
                            }
                        }
                    }
                    if ops.set_role && rt != BANNED {
                        for r in [MEMBER, ADMIN] {
                            if r != rt && has(policy::CHANGE_USER_ROLE) && arc(rt, r) {
                                push(COp::SetRole(t, r));
                            }
                        }
                    }
                }
                if ops.kick && has(policy::REMOVE_OWN_CLIENT) {
                    // remove one of the own other clients (canRemoveOwnClient, §8.1.2)
                    for x in cfg.clients_of(u) {
                        if x != c && v.members.contains(&x) {
                            push(COp::Kick(x));
                        }
                    }
                }
                if ops.own_role {
                    if let Some(r) = preauth_match(cfg, room, u) {
                        if r != ru && has(policy::CHANGE_OWN_ROLE) {
                            push(COp::OwnRole(r));
                        }
                    }
                }
                if ops.commit_pending && !v.pending.is_empty() {
                    push(COp::Pending);
                }
                if ops.policy {
                    if has(policy::CHANGE_ROLE_DEFINITIONS) {
                        push(COp::Roles(1 - room.roles.min(1)));
                    }
                    if has(policy::CHANGE_PREAUTH) && !cfg.preauth.is_empty() {
                        push(COp::Preauth(1 - room.preauth.min(1)));
                    }
                    if has(policy::CHANGE_MEMBERSHIP_STYLE) {
                        push(COp::Base(1 - room.base.min(1)));
                    }
                }
                if ops.metadata && has(policy::CHANGE_ROOM_NAME) {
                    push(COp::Meta);
                    if mal {
                        push(COp::DoubleMeta);
                    }
                }
                if ops.leave
                    && has(policy::REMOVE_SELF)
                    && arc(ru, 0)
                    && !v.pending.iter().any(|p| {
                        p.sender
                            .is_some_and(|x| cfg.client_user[usize::from(x)] == u)
                    })
                {
                    out.push(Action::Leave { client: c });
                }
            }
            if ops.app_message
                && s.count.app < b.max_app_messages
                && (mal || caps & policy::SEND_MESSAGE != 0)
            {
                out.push(Action::Send {
                    client: c,
                    claimed: u,
                });
                let lying_follower =
                    cfg.raw.adversaries.malicious_follower == Some(cfg.client_provider(c));
                if mal || lying_follower {
                    // claimed: a participant, or (a lying follower holds its own users'
                    // credentials) any user of the follower, e.g. one not in this room
                    let mut claims: Vec<u8> = room.participants.iter().map(|(t, _)| *t).collect();
                    if lying_follower {
                        let own = cfg.client_provider(c);
                        claims.extend(
                            (0..cfg.n_users() as u8)
                                .filter(|t| cfg.user_provider[usize::from(*t)] == own),
                        );
                        claims.sort_unstable();
                        claims.dedup();
                    }
                    for t in claims {
                        if t != u {
                            out.push(Action::Send {
                                client: c,
                                claimed: t,
                            });
                        }
                    }
                }
            }
        }
    }

    /// Builds the commit for `op` from the client's view (None if not applicable).
    pub fn build_commit(&self, s: &State, c: u8, op: COp, real_cred: bool) -> Option<Commit> {
        let cfg = &self.cfg;
        let v = self.view_of(s, c)?;
        let room = &v.room;
        let u = cfg.client_user[usize::from(c)];
        let tgt = |t: u8| target_for(cfg, room, t);
        let clients_in = |t: u8| -> Vec<Op> {
            cfg.clients_of(t)
                .filter(|x| v.members.contains(x))
                .map(|client| Op::MlsRemove { client })
                .collect()
        };
        let adds = |t: u8| -> Vec<Op> {
            s.clients[usize::from(c)]
                .held
                .iter()
                .filter(|k| cfg.client_user[usize::from(k.client)] == t)
                .map(|kp| Op::MlsAdd { kp: *kp })
                .collect()
        };
        let (label, ops): (Label, Vec<Op>) = match op {
            COp::Add(t, r) => (
                Label::Add,
                [vec![Op::PlAdd { user: t, role: r }], adds(t)].concat(),
            ),
            COp::Remove(t) => (
                Label::Remove,
                [
                    vec![Op::PlRemove {
                        target: tgt(t),
                        intended: t,
                    }],
                    clients_in(t),
                ]
                .concat(),
            ),
            COp::Ban(t) => (
                Label::Ban,
                [
                    vec![Op::PlSetRole {
                        target: tgt(t),
                        intended: t,
                        role: BANNED,
                    }],
                    clients_in(t),
                ]
                .concat(),
            ),
            COp::Unban(t, r) => (
                Label::Unban,
                vec![Op::PlSetRole {
                    target: tgt(t),
                    intended: t,
                    role: r,
                }],
            ),
            COp::Kick(x) => (Label::Kick, vec![Op::MlsRemove { client: x }]),
            COp::SetRole(t, r) => (
                Label::SetRole,
                vec![Op::PlSetRole {
                    target: tgt(t),
                    intended: t,
                    role: r,
                }],
            ),
            COp::OwnRole(r) => (
                Label::OwnRole,
                vec![Op::PlSetRole {
                    target: tgt(u),
                    intended: u,
                    role: r,
                }],
            ),
            COp::Pending => (Label::Pending, vec![]),
            COp::Roles(x) => (Label::Policy, vec![Op::SetRoles(x)]),
            COp::Preauth(x) => (Label::Policy, vec![Op::SetPreauth(x)]),
            COp::Base(x) => (Label::Policy, vec![Op::SetBase(x)]),
            COp::Meta => (
                Label::Meta,
                vec![Op::SetMeta(room.meta.wrapping_add(1) % 2)],
            ),
            COp::MlsOnlyAdd(t) => (Label::Forged, adds(t)),
            COp::ListOnlyRemove(t) => (
                Label::Forged,
                vec![Op::PlRemove {
                    target: tgt(t),
                    intended: t,
                }],
            ),
            COp::DoubleTouch(t) => (
                Label::Forged,
                [
                    vec![
                        Op::PlRemove {
                            target: tgt(t),
                            intended: t,
                        },
                        Op::PlRemove {
                            target: tgt(t),
                            intended: t,
                        },
                    ],
                    clients_in(t),
                ]
                .concat(),
            ),
            COp::DoubleMeta => (Label::Forged, vec![Op::SetMeta(1), Op::SetMeta(0)]),
            COp::RolesWithAdd(t) => (
                Label::Forged,
                [
                    vec![
                        Op::SetRoles(1 - room.roles.min(1)),
                        Op::PlAdd {
                            user: t,
                            role: MEMBER,
                        },
                    ],
                    adds(t),
                ]
                .concat(),
            ),
            COp::AddListed(t) => (
                Label::Forged,
                vec![Op::PlAdd {
                    user: t,
                    role: ADMIN,
                }],
            ),
        };
        // T8 (room-policy-03 §8.1.2): a client never commits its own removal
        if ops
            .iter()
            .any(|o| matches!(o, Op::MlsRemove { client } if *client == c))
        {
            return None;
        }
        let by_ref: Vec<u8> = v.pending.iter().map(|p| p.id).collect();
        // the committer cannot commit pending proposals removing itself (T8)
        if v.pending.iter().any(|p| {
            p.ops
                .iter()
                .any(|o| matches!(o, Op::MlsRemove { client } if *client == c))
        }) {
            return None;
        }
        if ops.is_empty() && by_ref.is_empty() {
            return None;
        }
        let real = real_cred
            || (cfg.mutated(Mutation::MmrRealCredentials)
                && cfg.raw.mode == crate::config::RoomMode::Mmr);
        Some(Commit {
            committer: c,
            epoch: v.epoch,
            external: false,
            by_ref,
            ops,
            label,
            real_cred: real,
        })
    }

    /// Builds the leave proposals (protocol-06 §3.5): Remove for every own client in the
    /// group plus the participant-list removal of the own user.
    pub fn build_leave(&self, s: &State, c: u8) -> Option<Proposal> {
        let cfg = &self.cfg;
        let v = self.view_of(s, c)?;
        let u = cfg.client_user[usize::from(c)];
        let mut ops = vec![Op::PlRemove {
            target: target_for(cfg, &v.room, u),
            intended: u,
        }];
        for x in cfg.clients_of(u) {
            if v.members.contains(&x) {
                ops.push(Op::MlsRemove { client: x });
            }
        }
        Some(Proposal {
            id: 0,
            sender: Some(c),
            epoch: v.epoch,
            ops,
        })
    }

    /// Builds the external commit of a joining client (protocol-06 §3.6): the client adds
    /// itself; an unlisted user also adds itself to the list (preauth or open join).
    pub fn build_external(&self, s: &State, c: u8) -> Option<Commit> {
        let cfg = &self.cfg;
        let e = s.clients[usize::from(c)].gi?;
        let u = cfg.client_user[usize::from(c)];
        let hist = s.hub.history.get(usize::from(e))?;
        let room = &hist.0;
        let mut ops = Vec::new();
        if role_of(room, u) == 0 {
            let r = preauth_match(cfg, room, u).unwrap_or(MEMBER);
            ops.push(Op::PlAdd { user: u, role: r });
        }
        let real = cfg.raw.mode == crate::config::RoomMode::Mmr
            && cfg.mutated(Mutation::MmrRealCredentials);
        Some(Commit {
            committer: c,
            epoch: e,
            external: true,
            by_ref: vec![],
            ops,
            label: Label::External,
            real_cred: real,
        })
    }

    /// Key-material fetch through the hub (protocol-06 §3.2/§3.3, §5.2), one atomic
    /// round trip: requester provider → hub → target provider → hub → requester.
    pub fn fetch(&self, s: &mut State, c: u8, t: u8) {
        let cfg = &self.cfg;
        s.count.fetches += 1;
        let req_p = cfg.client_provider(c);
        let tgt_p = cfg.user_provider[usize::from(t)];
        let members = s.hub.members.clone();
        let req_u = cfg.client_user[usize::from(c)];
        // consent (protocol-06 §5.2, §5.7): the target's provider answers noConsent, with
        // no clients, unless the target has granted the requester a scope
        let consented = cfg.consent.is_none() || s.consent.contains(&(req_u, t));
        let refuse = !consented && !cfg.mutated(Mutation::FollowerSkipsConsentCheck);
        let mut got = Vec::new();
        for x in cfg.clients_of(t).collect::<Vec<_>>() {
            if refuse || members.contains(&x) {
                continue;
            }
            let cl = &mut s.clients[usize::from(x)];
            if cl.kps_left == 0 && !cfg.mutated(Mutation::TargetReusesKeyPackages) {
                continue;
            }
            let serial = cfg.raw.bounds.kps_per_client.saturating_sub(cl.kps_left);
            if !cfg.mutated(Mutation::TargetReusesKeyPackages) {
                cl.kps_left -= 1;
            }
            got.push(KpRef { client: x, serial });
        }
        if refuse {
            properties::witness(s, W::ConsentRefused);
        } else if !got.is_empty() && cfg.consent.is_some() {
            if consented {
                properties::witness(s, W::ConsentedFetch);
            } else {
                properties::violate(s, V::KpConsent);
            }
        }
        for kp in got {
            if !s.kp_issued.insert(kp) {
                properties::violate(s, V::KpOneTime);
            }
            s.hub.kp_route.insert(kp, tgt_p);
            s.clients[usize::from(c)].held.insert(kp);
        }
        properties::witness(s, W::Fetched);
        // metadata: hub, requester's and target's providers see requestingUser/targetUser/roomId
        let mmr = cfg.raw.mode == crate::config::RoomMode::Mmr;
        let u = cfg.client_user[usize::from(c)];
        let (ft, fu) = if mmr && cfg.variants.mmr_kp_pseudonymous {
            (Fact::MemberPseudo(t), Fact::MemberPseudo(u))
        } else {
            (Fact::Member(t), Fact::Member(u))
        };
        for p in [0, req_p] {
            self.learn(s, p, ft);
            self.learn(s, p, fu);
        }
        self.learn(s, tgt_p, fu);
    }
}
