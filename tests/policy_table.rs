//! Table-driven authorization tests over the draft's Appendix A example policies
//! (room-policy-03 App. A.1–A.4), one row per (policy, role, operation), plus the per-commit
//! rules and constraints. Every operation of the digest's A.10 table appears in at least one
//! table (checked by `every_a10_row_is_covered`).

use std::collections::BTreeSet;

use mimi_ref::policy::component_id::*;
use mimi_ref::policy::examples;
use mimi_ref::policy::*;
use Capability::*;

// ---------------------------------------------------------------------------------------
// Scenario: every non-zero, non-banned role r has two participants `u{r}a`, `u{r}b`, each
// with one client `u{r}a-c1` (none for roles whose max active is 0); user `banned` holds
// role 1. Preauthorization: claim domain `r{r}.example` → role r. Join codes `code{r}` → r.
// The actor for role r is `u{r}a`; for role 0 an outsider `newcomer` whose client
// `newcomer-c1` is not in the group.
// ---------------------------------------------------------------------------------------

fn user(r: RoleIndex, which: char) -> String {
    format!("u{r}{which}")
}
fn client_of(u: &str, n: u32) -> String {
    format!("{u}-c{n}")
}
fn domain_claim(r: RoleIndex) -> Claim {
    Claim::domain(&format!("r{r}.example"))
}

fn scenario(roles: RoleData) -> RoomPolicyState {
    let mut s = RoomPolicyState::new(roles.clone());
    for role in &roles.roles {
        let r = role.role_index;
        if r == 0 || r == 1 {
            continue;
        }
        for w in ['a', 'b'] {
            let u = user(r, w);
            s.participants.insert(u.clone(), r);
            if role.maximum_active_participants_constraint != Some(0) {
                s.clients
                    .entry(u.clone())
                    .or_default()
                    .insert(client_of(&u, 1));
            }
        }
        s.preauth.preauthorized_entries.push(PreAuthRoleEntry {
            claimset: vec![domain_claim(r)],
            target_role: r,
        });
        s.join_codes.insert(format!("code{r}"), r);
    }
    s.participants.insert("banned".into(), 1);
    s
}

fn actor_for(s: &RoomPolicyState, role: RoleIndex) -> Actor {
    if role == 0 {
        return Actor::new("newcomer", "newcomer-c1");
    }
    let u = user(role, 'a');
    if s.client_count(&u) > 0 {
        Actor::new(&u, &client_of(&u, 1))
    } else {
        Actor::without_client(&u)
    }
}

/// The target user of role `t`: `u{t}b`, or `banned` for role 1.
fn target(t: RoleIndex) -> String {
    if t == 1 {
        "banned".into()
    } else {
        user(t, 'b')
    }
}

/// A witness committer distinct from the actor (for leaves and self-removals).
fn witness(s: &RoomPolicyState, actor: &Actor) -> Actor {
    let u = s
        .clients
        .keys()
        .find(|u| **u != actor.user)
        .expect("scenario has another active user")
        .clone();
    let c = client_of(&u, 1);
    Actor::new(&u, &c)
}

/// Removals of every client of `u`, proposed by `by`.
fn remove_clients(s: &RoomPolicyState, by: &Actor, u: &str) -> Vec<Proposal> {
    s.clients
        .get(u)
        .into_iter()
        .flatten()
        .map(|c| {
            Proposal::by(
                by,
                Change::RemoveClient {
                    user: u.into(),
                    client: c.clone(),
                },
            )
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Op {
    /// Add `newbie` into the role, with one client.
    AddOther(RoleIndex),
    /// Add `outsider` directly into role 1 (banned).
    PreBan,
    /// External join of the outsider into the role, plus its client.
    OpenJoin(RoleIndex),
    /// Preauthorized join: claims for the first role, requesting the second.
    PreauthJoin(RoleIndex, RoleIndex),
    /// Join with code `code{first}` requesting the second role.
    CodeJoin(RoleIndex, RoleIndex),
    /// The actor adds a second client of its own.
    AddOwnClient,
    /// Remove the target of the role and all its clients.
    RemoveOther(RoleIndex),
    /// The actor leaves (with all its clients), committed by a witness.
    Leave,
    /// The actor removes its own client, committed by a witness.
    RemoveOwnClient,
    /// Remove the target's client, keeping it listed.
    Kick(RoleIndex),
    /// Ban the target of the role (and remove its clients).
    Ban(RoleIndex),
    /// Move `banned` to the role.
    Unban(RoleIndex),
    /// Change the target of the first role to the second role.
    ChangeOther(RoleIndex, RoleIndex),
    /// The actor changes its own role to the given one, presenting claims for it.
    ChangeOwn(RoleIndex),
    /// Replace the roles list with itself.
    UpdateRoles,
    /// Replace the preauthorization list with itself.
    UpdatePreauth,
    /// Update the base policy (toggle `discoverable`).
    UpdateBase,
    /// Change one metadata field.
    Meta(MetadataField),
    /// Update another component.
    Component(ComponentId),
    /// Add join links.
    JoinLinks,
    /// MLS ReInit.
    ReInit,
    /// Destroy the room.
    Destroy,
    /// Send an application message.
    Msg(MessageAction),
}

/// Which row of the digest's A.10 table an operation exercises.
fn a10_row(op: Op) -> &'static str {
    match op {
        Op::AddOther(_) => "add other user",
        Op::PreBan => "pre-ban outsider",
        Op::OpenJoin(_) => "open join",
        Op::PreauthJoin(..) => "join by preauth",
        Op::CodeJoin(..) => "join by code",
        Op::AddOwnClient => "add own client",
        Op::RemoveOther(_) => "remove other user",
        Op::Leave => "leave",
        Op::RemoveOwnClient => "remove own client",
        Op::Kick(_) => "kick",
        Op::Ban(_) => "ban",
        Op::Unban(_) => "unban",
        Op::ChangeOther(..) => "change other's role",
        Op::ChangeOwn(_) => "change own role",
        Op::UpdateRoles => "update roles_list",
        Op::UpdatePreauth => "update preauth_list",
        Op::UpdateBase => "update base_room_policy",
        Op::Meta(_) => "update room_metadata",
        Op::Component(_) | Op::JoinLinks => "update other component",
        Op::ReInit => "mls reinit",
        Op::Destroy => "destroy room",
        Op::Msg(_) => "send message",
    }
}

const A10_ROWS: &[&str] = &[
    "add other user",
    "pre-ban outsider",
    "open join",
    "join by preauth",
    "join by code",
    "add own client",
    "remove other user",
    "leave",
    "remove own client",
    "kick",
    "ban",
    "unban",
    "change other's role",
    "change own role",
    "update roles_list",
    "update preauth_list",
    "update base_room_policy",
    "update room_metadata",
    "update other component",
    "mls reinit",
    "destroy room",
    "send message",
];

/// The commit an operation stands for: (committer, proposals).
fn build(s: &RoomPolicyState, role: RoleIndex, op: Op) -> (Actor, Vec<Proposal>) {
    let a = actor_for(s, role);
    let one = |c: Change| vec![Proposal::by(&a, c)];
    match op {
        Op::AddOther(r) => (
            a.clone(),
            vec![
                Proposal::by(
                    &a,
                    Change::AddUser {
                        user: "newbie".into(),
                        role: r,
                    },
                ),
                Proposal::by(
                    &a,
                    Change::AddClient {
                        user: "newbie".into(),
                        client: "newbie-c1".into(),
                    },
                ),
            ],
        ),
        Op::PreBan => (
            a.clone(),
            one(Change::AddUser {
                user: "outsider".into(),
                role: 1,
            }),
        ),
        Op::OpenJoin(_) | Op::PreauthJoin(..) | Op::CodeJoin(..) => {
            let (claims_for, role_req, method) = match op {
                Op::OpenJoin(r) => (r, r, JoinMethod::Open),
                Op::PreauthJoin(c, r) => (c, r, JoinMethod::Preauthorized),
                Op::CodeJoin(c, r) => (c, r, JoinMethod::Code(format!("code{c}"))),
                _ => unreachable!(),
            };
            let j = a.clone().with_claims(vec![domain_claim(claims_for)]);
            let client = j.client.clone().unwrap_or_else(|| client_of(&j.user, 9));
            let props = vec![
                Proposal::by(
                    &j,
                    Change::Join {
                        role: role_req,
                        method,
                    },
                ),
                Proposal::by(
                    &j,
                    Change::AddClient {
                        user: j.user.clone(),
                        client: if role == 0 {
                            client
                        } else {
                            client_of(&j.user, 9)
                        },
                    },
                ),
            ];
            (j, props)
        }
        Op::AddOwnClient => (
            a.clone(),
            one(Change::AddClient {
                user: a.user.clone(),
                client: client_of(&a.user, 2),
            }),
        ),
        Op::RemoveOther(t) => {
            let t = target(t);
            let mut p = one(Change::RemoveUser { user: t.clone() });
            p.extend(remove_clients(s, &a, &t));
            (a.clone(), p)
        }
        Op::Leave => {
            let mut p = one(Change::RemoveUser {
                user: a.user.clone(),
            });
            p.extend(remove_clients(s, &a, &a.user));
            (witness(s, &a), p)
        }
        Op::RemoveOwnClient => (
            witness(s, &a),
            one(Change::RemoveClient {
                user: a.user.clone(),
                client: client_of(&a.user, 1),
            }),
        ),
        Op::Kick(t) => {
            let t = target(t);
            (
                a.clone(),
                one(Change::RemoveClient {
                    client: client_of(&t, 1),
                    user: t,
                }),
            )
        }
        Op::Ban(t) => {
            let t = target(t);
            let mut p = one(Change::ChangeRole {
                user: t.clone(),
                role: 1,
            });
            p.extend(remove_clients(s, &a, &t));
            (a.clone(), p)
        }
        Op::Unban(r) => (
            a.clone(),
            one(Change::ChangeRole {
                user: "banned".into(),
                role: r,
            }),
        ),
        Op::ChangeOther(t, r) => (
            a.clone(),
            one(Change::ChangeRole {
                user: target(t),
                role: r,
            }),
        ),
        Op::ChangeOwn(r) => {
            let me = a.clone().with_claims(vec![domain_claim(r)]);
            let p = vec![Proposal::by(
                &me,
                Change::ChangeRole {
                    user: me.user.clone(),
                    role: r,
                },
            )];
            (me, p)
        }
        Op::UpdateRoles => (a.clone(), one(Change::UpdateRoles(s.roles.clone()))),
        Op::UpdatePreauth => (a.clone(), one(Change::UpdatePreauth(s.preauth.clone()))),
        Op::UpdateBase => {
            let mut b = s.base.clone();
            b.discoverable = !b.discoverable;
            (a.clone(), one(Change::UpdateBasePolicy(b)))
        }
        Op::Meta(f) => (
            a.clone(),
            one(Change::UpdateMetadata {
                fields: BTreeSet::from([f]),
            }),
        ),
        Op::Component(id) => (a.clone(), one(Change::UpdateComponent { component: id })),
        Op::JoinLinks => (
            a.clone(),
            one(Change::UpdateJoinLinks {
                adds: true,
                removes: false,
            }),
        ),
        Op::ReInit => (a.clone(), one(Change::ReInit)),
        Op::Destroy => (a.clone(), one(Change::DestroyRoom)),
        Op::Msg(m) => (a.clone(), one(Change::SendMessage(m))),
    }
}

/// Expected verdict.
#[derive(Debug, Clone, Copy)]
enum E {
    /// Allowed.
    Y,
    /// `MissingCapability` for this capability.
    C(Capability),
    /// `TransitionNotAllowed`.
    T,
    /// Another denial, by rule id.
    R(&'static str),
}
use E::*;

fn verdict_matches(got: &Result<(), Denial>, want: E) -> bool {
    match (got, want) {
        (Ok(()), Y) => true,
        (Err(Denial::MissingCapability { capability, .. }), C(c)) => *capability == c,
        (Err(Denial::TransitionNotAllowed { .. }), T) => true,
        (Err(d), R(id)) => d.rule_id() == id,
        _ => false,
    }
}

type Table = &'static [(Op, &'static [(RoleIndex, E)])];

fn run_table(policy: &str, roles: RoleData, table: Table) -> BTreeSet<&'static str> {
    let s = scenario(roles);
    validate_state(&s).expect("scenario is a valid state");
    let mut failures = Vec::new();
    let mut covered = BTreeSet::new();
    for (op, rows) in table {
        covered.insert(a10_row(*op));
        for &(role, want) in rows.iter() {
            let (committer, proposals) = build(&s, role, *op);
            let got = authorize_commit(&s, &committer, &proposals);
            if !verdict_matches(&got, want) {
                failures.push(format!(
                    "{policy} role {role} {op:?}: want {want:?}, got {got:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    covered
}

// ---------------------------------------------------------------------------------------
// App. A.1 cooperatively administered room: 2 ordinary_user, 3 group_admin, 4 super_admin,
// 5 policy_enforcer. Role 0 has no capabilities.
// ---------------------------------------------------------------------------------------
const A1: Table = &[
    (
        Op::AddOther(2),
        &[
            (0, C(CanAddParticipant)),
            (2, Y),
            (3, Y),
            (4, Y),
            (5, C(CanAddParticipant)),
        ],
    ),
    (Op::AddOther(3), &[(2, T), (3, Y), (4, Y)]),
    (Op::AddOther(4), &[(2, T), (3, T), (4, Y)]),
    (Op::AddOther(5), &[(4, T)]),
    (
        Op::PreBan,
        &[(0, C(CanBan)), (2, T), (3, Y), (4, Y), (5, Y)],
    ),
    (
        Op::OpenJoin(2),
        &[(0, C(CanOpenJoin)), (2, R("policy.already-listed"))],
    ),
    (Op::PreauthJoin(2, 2), &[(0, C(CanJoinIfPreauthorized))]),
    (Op::CodeJoin(2, 2), &[(0, C(CanUseJoinCode))]),
    (
        Op::AddOwnClient,
        &[
            (0, R("policy.client-of-unlisted-user")),
            (2, Y),
            (3, Y),
            (4, Y),
            (5, C(CanAddOwnClient)),
        ],
    ),
    (
        Op::RemoveOther(2),
        &[(0, C(CanRemoveParticipant)), (2, Y), (3, Y), (4, Y), (5, Y)],
    ),
    (Op::RemoveOther(3), &[(2, T), (3, Y), (4, Y), (5, Y)]),
    (Op::RemoveOther(4), &[(2, T), (3, T), (4, Y), (5, Y)]),
    (Op::RemoveOther(5), &[(2, T), (3, T), (4, T), (5, T)]),
    (Op::RemoveOther(1), &[(2, T), (3, Y), (4, Y), (5, Y)]),
    (
        Op::Leave,
        &[
            (0, R("policy.not-listed")),
            (2, Y),
            (3, Y),
            (4, Y),
            (5, C(CanRemoveSelf)),
        ],
    ),
    (
        Op::RemoveOwnClient,
        &[
            (0, R("policy.unknown-client")),
            (2, Y),
            (3, Y),
            (4, Y),
            (5, R("policy.unknown-client")),
        ],
    ),
    (
        Op::Kick(2),
        &[
            (0, C(CanKick)),
            (2, C(CanKick)),
            (3, Y),
            (4, Y),
            (5, C(CanKick)),
        ],
    ),
    (
        Op::Ban(2),
        &[(0, C(CanBan)), (2, C(CanBan)), (3, Y), (4, Y), (5, Y)],
    ),
    (Op::Ban(3), &[(3, Y), (4, Y), (5, Y)]),
    (Op::Ban(4), &[(3, T), (4, Y), (5, Y)]),
    (Op::Ban(5), &[(4, T), (5, T)]),
    (
        Op::Unban(2),
        &[(0, C(CanUnBan)), (2, C(CanUnBan)), (3, Y), (4, Y), (5, T)],
    ),
    (Op::Unban(4), &[(3, T), (4, Y)]),
    (
        Op::ChangeOther(2, 3),
        &[
            (0, C(CanChangeUserRole)),
            (2, C(CanChangeUserRole)),
            (3, Y),
            (4, Y),
            (5, T),
        ],
    ),
    (Op::ChangeOther(3, 2), &[(3, Y), (4, Y), (5, T)]),
    (Op::ChangeOther(2, 4), &[(3, T), (4, Y)]),
    (
        Op::ChangeOther(2, 0),
        &[(4, R("policy.role-zero-assigned"))],
    ),
    (
        Op::ChangeOwn(3),
        &[
            (0, R("policy.not-listed")),
            (2, C(CanChangeOwnRole)),
            (4, C(CanChangeOwnRole)),
            (5, C(CanChangeOwnRole)),
        ],
    ),
    (
        Op::UpdateRoles,
        &[
            (0, C(CanChangeRoleDefinitions)),
            (2, C(CanChangeRoleDefinitions)),
            (3, C(CanChangeRoleDefinitions)),
            (4, C(CanChangeRoleDefinitions)),
            (5, Y),
        ],
    ),
    (
        Op::UpdatePreauth,
        &[
            (2, C(CanChangePreauthorizedUserList)),
            (3, C(CanChangePreauthorizedUserList)),
            (4, Y),
            (5, Y),
        ],
    ),
    (
        Op::UpdateBase,
        &[
            (2, C(CanChangeRoomMembershipStyle)),
            (3, C(CanChangeRoomMembershipStyle)),
            (4, Y),
            (5, C(CanChangeRoomMembershipStyle)),
        ],
    ),
    (
        Op::Meta(MetadataField::Name),
        &[
            (0, C(CanChangeRoomName)),
            (2, Y),
            (3, Y),
            (4, Y),
            (5, C(CanChangeRoomName)),
        ],
    ),
    (
        Op::Meta(MetadataField::Description),
        &[(2, C(CanChangeRoomDescription)), (3, Y), (4, Y)],
    ),
    (Op::Meta(MetadataField::Mood), &[(2, Y)]),
    (
        Op::Meta(MetadataField::RoomUri),
        &[
            (2, R("policy.no-capability-defined")),
            (4, R("policy.no-capability-defined")),
        ],
    ),
    (
        Op::Component(MLS_OPERATIONAL_POLICY),
        &[(4, C(CanChangeMlsOperationalPolicies)), (5, Y)],
    ),
    (
        Op::Component(ASSET_POLICY),
        &[
            (4, C(CanChangeOtherPolicyAttribute)),
            (5, C(CanChangeOtherPolicyAttribute)),
        ],
    ),
    (Op::Component(0x0099), &[(4, R("policy.unknown-component"))]),
    (
        Op::Component(ROLES_LIST),
        &[(5, R("policy.unknown-component"))],
    ),
    (Op::JoinLinks, &[(4, C(CanCreateJoinCode))]),
    (
        Op::ReInit,
        &[
            (2, C(CanSendMLSReinitProposal)),
            (4, C(CanSendMLSReinitProposal)),
            (5, Y),
        ],
    ),
    (
        Op::Destroy,
        &[
            (2, C(CanDestroyRoom)),
            (3, C(CanDestroyRoom)),
            (4, Y),
            (5, Y),
        ],
    ),
    (
        Op::Msg(MessageAction::Send),
        &[
            (0, R("policy.not-active")),
            (2, Y),
            (3, Y),
            (4, Y),
            (5, R("policy.not-active")),
        ],
    ),
    (Op::Msg(MessageAction::React), &[(2, Y)]),
    (Op::Msg(MessageAction::Reply), &[(2, Y)]),
    (
        Op::Msg(MessageAction::DeleteOther),
        &[(2, C(CanDeleteOtherMessage)), (3, Y)],
    ),
    (
        Op::Msg(MessageAction::DeleteOtherReaction),
        &[
            (3, C(CanDeleteOtherReaction)),
            (4, C(CanDeleteOtherReaction)),
        ],
    ),
];

// ---------------------------------------------------------------------------------------
// App. A.2 strictly administered room: role 0 may join with a code into ordinary_user.
// ---------------------------------------------------------------------------------------
const A2: Table = &[
    (
        Op::AddOther(2),
        &[
            (2, C(CanAddParticipant)),
            (3, Y),
            (4, Y),
            (5, C(CanAddParticipant)),
        ],
    ),
    (Op::PreBan, &[(2, C(CanBan)), (3, Y), (5, Y)]),
    (Op::OpenJoin(2), &[(0, C(CanOpenJoin))]),
    (
        Op::PreauthJoin(2, 2),
        &[(0, Y), (2, R("policy.already-listed"))],
    ),
    (Op::PreauthJoin(3, 3), &[(0, Y)]),
    (
        Op::PreauthJoin(3, 2),
        &[(0, R("policy.preauth-role-mismatch"))],
    ),
    (Op::PreauthJoin(5, 5), &[(0, C(CanJoinIfPreauthorized))]),
    (
        Op::CodeJoin(2, 2),
        &[(0, Y), (3, R("policy.already-listed"))],
    ),
    (
        Op::CodeJoin(2, 3),
        &[(0, R("policy.join-code-role-mismatch"))],
    ),
    (
        Op::AddOwnClient,
        &[(2, Y), (3, Y), (4, Y), (5, C(CanAddOwnClient))],
    ),
    (
        Op::RemoveOther(2),
        &[(2, C(CanRemoveParticipant)), (3, Y), (4, Y), (5, Y)],
    ),
    (Op::Leave, &[(2, Y), (3, Y), (4, Y), (5, C(CanRemoveSelf))]),
    (Op::RemoveOwnClient, &[(2, Y), (3, Y)]),
    (Op::Kick(2), &[(2, C(CanKick)), (3, Y), (4, Y)]),
    (Op::Ban(2), &[(2, C(CanBan)), (3, Y), (4, Y), (5, Y)]),
    (Op::Unban(2), &[(2, C(CanUnBan)), (3, Y), (5, T)]),
    (
        Op::ChangeOther(2, 3),
        &[(2, C(CanChangeUserRole)), (3, Y), (4, Y), (5, T)],
    ),
    (Op::ChangeOwn(3), &[(2, Y)]),
    (Op::ChangeOwn(4), &[(2, Y), (3, Y)]),
    (Op::ChangeOwn(2), &[(3, Y), (5, C(CanChangeOwnRole))]),
    (
        Op::UpdateRoles,
        &[(3, C(CanChangeRoleDefinitions)), (4, Y), (5, Y)],
    ),
    (
        Op::UpdatePreauth,
        &[(3, C(CanChangePreauthorizedUserList)), (4, Y), (5, Y)],
    ),
    (
        Op::UpdateBase,
        &[(3, C(CanChangeRoomMembershipStyle)), (4, Y)],
    ),
    (
        Op::Meta(MetadataField::Name),
        &[(2, C(CanChangeRoomName)), (3, Y), (4, Y)],
    ),
    (Op::Meta(MetadataField::Description), &[(3, Y)]),
    (Op::JoinLinks, &[(2, C(CanCreateJoinCode)), (3, Y), (4, Y)]),
    (Op::ReInit, &[(3, C(CanSendMLSReinitProposal)), (4, Y)]),
    (Op::Destroy, &[(3, C(CanDestroyRoom)), (4, Y)]),
    (Op::Msg(MessageAction::Send), &[(2, Y)]),
    // App. A.2 ordinary_user (and so group_admin) has no canReplyToMessage.
    (
        Op::Msg(MessageAction::Reply),
        &[(2, C(CanReplyToMessage)), (3, C(CanReplyToMessage))],
    ),
    (
        Op::Msg(MessageAction::DeleteOtherReaction),
        &[(2, C(CanDeleteOtherReaction)), (3, Y)],
    ),
];

// ---------------------------------------------------------------------------------------
// App. A.3 moderated room: 2 guest, 3 attendee, 4 speaker, 5 moderator, 6 super_admin,
// 7 policy_enforcer. Role 0 joins with a code into guest or attendee.
// ---------------------------------------------------------------------------------------
const A3: Table = &[
    (Op::CodeJoin(2, 2), &[(0, Y)]),
    (Op::CodeJoin(3, 3), &[(0, Y)]),
    (Op::OpenJoin(2), &[(0, C(CanOpenJoin))]),
    (Op::PreauthJoin(2, 2), &[(0, C(CanJoinIfPreauthorized))]),
    (Op::PreauthJoin(3, 3), &[(0, Y)]),
    (Op::PreauthJoin(4, 4), &[(0, Y)]),
    (
        Op::AddOwnClient,
        &[
            (2, C(CanAddOwnClient)),
            (3, Y),
            (4, Y),
            (5, Y),
            (6, Y),
            (7, C(CanAddOwnClient)),
        ],
    ),
    (
        Op::AddOther(2),
        &[
            (2, C(CanAddParticipant)),
            (3, C(CanAddParticipant)),
            (4, C(CanAddParticipant)),
            (5, Y),
            (6, Y),
            (7, C(CanAddParticipant)),
        ],
    ),
    (Op::AddOther(6), &[(5, T), (6, Y)]),
    (Op::PreBan, &[(4, C(CanBan)), (5, Y), (6, Y), (7, Y)]),
    (
        Op::RemoveOther(2),
        &[(4, C(CanRemoveParticipant)), (5, Y), (6, Y), (7, Y)],
    ),
    (Op::RemoveOther(6), &[(5, T), (6, Y), (7, Y)]),
    (
        Op::Leave,
        &[
            (2, Y),
            (3, Y),
            (4, Y),
            (5, Y),
            (6, Y),
            (7, C(CanRemoveSelf)),
        ],
    ),
    (
        Op::RemoveOwnClient,
        &[(2, C(CanRemoveOwnClient)), (3, Y), (4, Y)],
    ),
    (Op::Kick(2), &[(4, C(CanKick)), (5, Y), (6, Y)]),
    (Op::Ban(4), &[(3, C(CanBan)), (5, Y), (6, Y), (7, Y)]),
    (Op::Ban(6), &[(5, T), (6, Y)]),
    (Op::Unban(2), &[(4, C(CanUnBan)), (5, Y), (6, Y), (7, T)]),
    (
        Op::ChangeOther(2, 4),
        &[(4, C(CanChangeUserRole)), (5, Y), (6, Y), (7, T)],
    ),
    (Op::ChangeOther(5, 6), &[(5, T), (6, Y)]),
    (
        Op::ChangeOwn(4),
        &[
            (2, C(CanChangeOwnRole)),
            (3, Y),
            (4, R("policy.role-unchanged")),
        ],
    ),
    (
        Op::UpdateRoles,
        &[(5, C(CanChangeRoleDefinitions)), (6, Y), (7, Y)],
    ),
    (
        Op::UpdatePreauth,
        &[(5, C(CanChangePreauthorizedUserList)), (6, Y), (7, Y)],
    ),
    (
        Op::UpdateBase,
        &[(5, C(CanChangeRoomMembershipStyle)), (6, Y)],
    ),
    (
        Op::Meta(MetadataField::Description),
        &[(5, C(CanChangeRoomDescription)), (6, Y)],
    ),
    (
        Op::Meta(MetadataField::Name),
        &[(4, C(CanChangeRoomName)), (5, Y)],
    ),
    (Op::JoinLinks, &[(4, C(CanCreateJoinCode)), (5, Y), (6, Y)]),
    (
        Op::ReInit,
        &[(5, C(CanSendMLSReinitProposal)), (6, Y), (7, Y)],
    ),
    (Op::Destroy, &[(5, C(CanDestroyRoom)), (6, Y), (7, Y)]),
    (
        Op::Msg(MessageAction::Send),
        &[
            (2, C(CanSendMessage)),
            (3, C(CanSendMessage)),
            (4, Y),
            (5, Y),
            (6, Y),
        ],
    ),
    (Op::Msg(MessageAction::React), &[(2, Y), (3, Y)]),
    (
        Op::Msg(MessageAction::ReplyInTopic),
        &[(2, C(CanReplyInTopic)), (3, Y)],
    ),
    (
        Op::Msg(MessageAction::UploadImage),
        &[(3, C(CanUploadImage)), (4, Y)],
    ),
];

// ---------------------------------------------------------------------------------------
// App. A.4 multi-organization room: 2 org_a_user, 3 org_b_user, 4 org_c_user,
// 5 org_a_admin, 6 org_b_admin, 7 org_c_admin, 8 super_admin, 9 policy_enforcer.
// ---------------------------------------------------------------------------------------
const A4: Table = &[
    (
        Op::AddOther(3),
        &[
            (3, C(CanAddParticipant)),
            (5, T),
            (6, Y),
            (7, T),
            (8, Y),
            (9, C(CanAddParticipant)),
        ],
    ),
    (Op::AddOther(4), &[(6, T), (7, Y)]),
    (Op::AddOther(6), &[(6, Y), (8, Y)]),
    (Op::AddOther(2), &[(5, Y), (6, T)]),
    (Op::AddOther(9), &[(8, T)]),
    (Op::PreBan, &[(3, C(CanBan)), (6, T), (8, Y), (9, Y)]),
    (Op::OpenJoin(2), &[(0, C(CanOpenJoin))]),
    (Op::CodeJoin(2, 2), &[(0, C(CanUseJoinCode))]),
    (Op::PreauthJoin(2, 2), &[(0, Y)]),
    (Op::PreauthJoin(3, 3), &[(0, C(CanJoinIfPreauthorized))]),
    (Op::PreauthJoin(5, 5), &[(0, Y)]),
    (Op::PreauthJoin(6, 6), &[(0, C(CanJoinIfPreauthorized))]),
    (
        Op::AddOwnClient,
        &[(3, Y), (4, Y), (6, Y), (8, Y), (9, C(CanAddOwnClient))],
    ),
    (
        Op::RemoveOther(3),
        &[
            (3, C(CanRemoveParticipant)),
            (5, T),
            (6, Y),
            (7, T),
            (8, Y),
            (9, Y),
        ],
    ),
    (Op::RemoveOther(2), &[(5, Y), (8, Y), (9, T)]),
    (Op::RemoveOther(6), &[(6, Y), (7, T), (8, Y)]),
    (
        Op::Leave,
        &[
            (2, Y),
            (3, Y),
            (4, Y),
            (5, Y),
            (6, Y),
            (8, Y),
            (9, C(CanRemoveSelf)),
        ],
    ),
    (Op::RemoveOwnClient, &[(3, Y), (8, Y)]),
    (Op::Kick(3), &[(3, C(CanKick)), (6, Y), (8, Y)]),
    // canKick has no transition check: an org admin may kick a super_admin client.
    (Op::Kick(8), &[(6, Y)]),
    (
        Op::Ban(3),
        &[(3, C(CanBan)), (6, Y), (7, T), (8, Y), (9, Y)],
    ),
    (Op::Ban(6), &[(6, Y), (8, Y)]),
    (Op::Ban(2), &[(5, Y), (9, T)]),
    (
        Op::Unban(3),
        &[(5, C(CanUnBan)), (6, C(CanUnBan)), (8, Y), (9, T)],
    ),
    (
        Op::ChangeOther(3, 6),
        &[(3, C(CanChangeUserRole)), (6, Y), (7, T), (8, Y)],
    ),
    (Op::ChangeOther(2, 8), &[(5, T), (8, Y)]),
    (Op::ChangeOther(2, 5), &[(5, Y)]),
    (
        Op::ChangeOwn(5),
        &[(2, Y), (3, C(CanChangeOwnRole)), (4, C(CanChangeOwnRole))],
    ),
    (
        Op::UpdateRoles,
        &[(5, C(CanChangeRoleDefinitions)), (8, Y), (9, Y)],
    ),
    (
        Op::UpdatePreauth,
        &[(6, C(CanChangePreauthorizedUserList)), (8, Y), (9, Y)],
    ),
    (
        Op::UpdateBase,
        &[(5, C(CanChangeRoomMembershipStyle)), (8, Y)],
    ),
    (
        Op::Meta(MetadataField::Name),
        &[(6, C(CanChangeRoomName)), (8, Y)],
    ),
    (
        Op::ReInit,
        &[(6, C(CanSendMLSReinitProposal)), (8, Y), (9, Y)],
    ),
    (Op::Destroy, &[(6, C(CanDestroyRoom)), (8, Y), (9, Y)]),
    (
        Op::Msg(MessageAction::Send),
        &[(3, Y), (4, Y), (9, R("policy.not-active"))],
    ),
    (
        Op::Msg(MessageAction::StartTopic),
        &[(3, C(CanStartTopic)), (6, Y)],
    ),
    (
        Op::Msg(MessageAction::DeleteOwn),
        &[(3, C(CanDeleteOwnMessage)), (6, Y)],
    ),
];

#[test]
fn app_a1_cooperative() {
    run_table("App.A.1", examples::cooperative(), A1);
}

#[test]
fn app_a2_strict() {
    run_table("App.A.2", examples::strict(), A2);
}

#[test]
fn app_a3_moderated() {
    run_table("App.A.3", examples::moderated(), A3);
}

#[test]
fn app_a4_multi_org() {
    run_table("App.A.4", examples::multi_org(), A4);
}

#[test]
fn every_a10_row_is_covered() {
    let mut covered = BTreeSet::new();
    for table in [A1, A2, A3, A4] {
        for (op, _) in table.iter() {
            covered.insert(a10_row(*op));
        }
    }
    let missing: Vec<_> = A10_ROWS.iter().filter(|r| !covered.contains(*r)).collect();
    assert!(
        missing.is_empty(),
        "A.10 rows without a table row: {missing:?}"
    );
}

/// Each role that appears in an example's table must be a role of that example, and each
/// example's every role appears in its table.
#[test]
fn every_example_role_has_rows() {
    for (table, roles) in [
        (A1, examples::cooperative()),
        (A2, examples::strict()),
        (A3, examples::moderated()),
        (A4, examples::multi_org()),
    ] {
        let used: BTreeSet<RoleIndex> = table
            .iter()
            .flat_map(|(_, rows)| rows.iter().map(|(r, _)| *r))
            .collect();
        let defined: BTreeSet<RoleIndex> = roles
            .roles
            .iter()
            .map(|r| r.role_index)
            .filter(|&r| r != 1)
            .collect();
        assert_eq!(used, defined);
    }
}
