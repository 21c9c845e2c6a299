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

// ---------------------------------------------------------------------------------------
// Per-commit rules (protocol-06 §7.5–§7.6, room-policy-03 §3, §4, §8.1.2–§8.1.3) and
// constraints on the post-commit state (§3, §5), on the App. A.1 scenario unless noted.
// ---------------------------------------------------------------------------------------

fn a1() -> RoomPolicyState {
    scenario(examples::cooperative())
}
fn member(u: &str) -> Actor {
    Actor::new(u, &client_of(u, 1))
}
fn enforcer() -> Actor {
    Actor::without_client("u5a")
}
fn add_user(by: &Actor, u: &str, r: RoleIndex) -> Proposal {
    Proposal::by(
        by,
        Change::AddUser {
            user: u.into(),
            role: r,
        },
    )
}
fn add_client(by: &Actor, u: &str, c: &str) -> Proposal {
    Proposal::by(
        by,
        Change::AddClient {
            user: u.into(),
            client: c.into(),
        },
    )
}
fn remove_user(by: &Actor, u: &str) -> Proposal {
    Proposal::by(by, Change::RemoveUser { user: u.into() })
}
fn remove_client(by: &Actor, u: &str, c: &str) -> Proposal {
    Proposal::by(
        by,
        Change::RemoveClient {
            user: u.into(),
            client: c.into(),
        },
    )
}
fn change_role(by: &Actor, u: &str, r: RoleIndex) -> Proposal {
    Proposal::by(
        by,
        Change::ChangeRole {
            user: u.into(),
            role: r,
        },
    )
}
fn meta(by: &Actor, f: MetadataField) -> Proposal {
    Proposal::by(
        by,
        Change::UpdateMetadata {
            fields: BTreeSet::from([f]),
        },
    )
}

fn rule(r: Result<(), Denial>) -> &'static str {
    match r {
        Ok(()) => "ok",
        Err(d) => d.rule_id(),
    }
}

#[test]
fn same_commit_rules() {
    let s = a1();
    let admin = member("u4a");
    let ga = member("u3a");
    let rows: Vec<(&str, Actor, Vec<Proposal>, &str)> = vec![
        (
            "one participant-list change per user",
            admin.clone(),
            vec![
                change_role(&admin, "u2b", 3),
                remove_user(&admin, "u2b"),
                remove_client(&admin, "u2b", "u2b-c1"),
            ],
            "commit.user-changed-twice",
        ),
        (
            "one change per client",
            admin.clone(),
            vec![
                add_client(&admin, "u4a", "x"),
                add_client(&admin, "u4a", "x"),
            ],
            "commit.client-changed-twice",
        ),
        (
            "one metadata update per commit",
            admin.clone(),
            vec![
                meta(&admin, MetadataField::Name),
                meta(&admin, MetadataField::Mood),
            ],
            "commit.metadata-updated-twice",
        ),
        (
            "one metadata update changing two fields is fine",
            admin.clone(),
            vec![Proposal::by(
                &admin,
                Change::UpdateMetadata {
                    fields: BTreeSet::from([MetadataField::Name, MetadataField::Mood]),
                },
            )],
            "ok",
        ),
        (
            "roles update never with a participant-list change",
            enforcer(),
            vec![
                Proposal::by(&enforcer(), Change::UpdateRoles(s.roles.clone())),
                add_user(&enforcer(), "outsider", 1),
            ],
            "commit.roles-with-participant-change",
        ),
        (
            "roles update with a client change only is fine",
            enforcer(),
            vec![
                Proposal::by(&enforcer(), Change::UpdateRoles(s.roles.clone())),
                remove_client(&member("u2a"), "u2a", "u2a-c1"),
            ],
            "ok",
        ),
        (
            "preauth update with a removal",
            enforcer(),
            vec![
                Proposal::by(&enforcer(), Change::UpdatePreauth(s.preauth.clone())),
                remove_user(&enforcer(), "u2b"),
                remove_client(&enforcer(), "u2b", "u2b-c1"),
            ],
            "ok",
        ),
        (
            "preauth update with an addition",
            admin.clone(),
            vec![
                Proposal::by(&admin, Change::UpdatePreauth(s.preauth.clone())),
                add_user(&admin, "newbie", 2),
            ],
            "commit.preauth-with-non-removal",
        ),
        (
            "preauth update with a role change",
            admin.clone(),
            vec![
                Proposal::by(&admin, Change::UpdatePreauth(s.preauth.clone())),
                change_role(&admin, "u2b", 3),
            ],
            "commit.preauth-with-non-removal",
        ),
        (
            "removal keeps the user's clients",
            ga.clone(),
            vec![remove_user(&ga, "u2b")],
            "commit.clients-not-removed",
        ),
        (
            "ban keeps the user's clients",
            ga.clone(),
            vec![change_role(&ga, "u2b", 1)],
            "commit.clients-not-removed",
        ),
        (
            "leave committed by the leaver",
            member("u2a"),
            vec![
                remove_user(&member("u2a"), "u2a"),
                remove_client(&member("u2a"), "u2a", "u2a-c1"),
            ],
            "commit.leave-committed-by-leaver",
        ),
        (
            "own client removal committed by that client",
            member("u2a"),
            vec![remove_client(&member("u2a"), "u2a", "u2a-c1")],
            "commit.removal-committed-by-removed-client",
        ),
        (
            "removal committed by the removed user's client",
            member("u2b"),
            vec![remove_user(&ga, "u2b"), remove_client(&ga, "u2b", "u2b-c1")],
            "commit.removal-committed-by-removed-client",
        ),
        (
            "a message is not a commit content",
            admin.clone(),
            vec![
                Proposal::by(&admin, Change::SendMessage(MessageAction::Send)),
                Proposal::by(&admin, Change::ReInit),
            ],
            "commit.message-in-commit",
        ),
        (
            "an empty commit changes nothing and is allowed",
            admin.clone(),
            vec![],
            "ok",
        ),
    ];
    for (what, committer, proposals, want) in rows {
        assert_eq!(
            rule(authorize_commit(&s, &committer, &proposals)),
            want,
            "{what}"
        );
    }
}

#[test]
fn clients_rules() {
    let s = a1();
    let ga = member("u3a");
    let rows: Vec<(&str, Actor, Vec<Proposal>, &str)> = vec![
        (
            "unban adds no clients: proposed by the admin",
            ga.clone(),
            vec![
                change_role(&ga, "banned", 2),
                add_client(&ga, "banned", "banned-c1"),
            ],
            "policy.not-own-client",
        ),
        (
            "unban adds no clients: proposed by the unbanned user (still banned before)",
            ga.clone(),
            vec![
                change_role(&ga, "banned", 2),
                add_client(&Actor::new("banned", "banned-c1"), "banned", "banned-c1"),
            ],
            "policy.missing-capability",
        ),
        (
            "adding a client of another listed user",
            member("u2a"),
            vec![add_client(&member("u2a"), "u2b", "u2b-c7")],
            "policy.not-own-client",
        ),
        (
            "external join of one's own new client",
            Actor::new("u2a", "u2a-c9"),
            vec![add_client(&Actor::new("u2a", "u2a-c9"), "u2a", "u2a-c9")],
            "ok",
        ),
        (
            "add own client proposed by a non-member",
            Actor::without_client("u2a"),
            vec![add_client(&Actor::without_client("u2a"), "u2a", "u2a-c9")],
            "policy.not-member-client",
        ),
        (
            "adding a client already in the group",
            member("u2a"),
            vec![add_client(&member("u2a"), "u2a", "u2b-c1")],
            "policy.duplicate-client",
        ),
        (
            "clients of an added user are covered by the add",
            member("u2a"),
            vec![
                add_user(&member("u2a"), "newbie", 2),
                add_client(&member("u2a"), "newbie", "newbie-c1"),
                add_client(&member("u2a"), "newbie", "newbie-c2"),
            ],
            "ok",
        ),
        (
            "a joiner's client added by someone else",
            member("u2a"),
            vec![
                Proposal::by(
                    &Actor::new("newcomer", "newcomer-c1"),
                    Change::Join {
                        role: 2,
                        method: JoinMethod::Open,
                    },
                ),
                add_client(&member("u2a"), "newcomer", "newcomer-c1"),
            ],
            "policy.missing-capability",
        ),
    ];
    for (what, committer, proposals, want) in rows {
        assert_eq!(
            rule(authorize_commit(&s, &committer, &proposals)),
            want,
            "{what}"
        );
    }
}

#[test]
fn change_validation_rules() {
    let s = a1();
    let admin = member("u4a");
    let mut dup = s.roles.clone();
    dup.roles.push(dup.roles[2].clone());
    let mut without_2 = s.roles.clone();
    without_2.roles.retain(|r| r.role_index != 2);
    let mut bad_preauth = s.preauth.clone();
    bad_preauth.preauthorized_entries[0].target_role = 0;
    let mut fixed = s.base.clone();
    fixed.fixed_membership = true; // ordinary_user holds canAddParticipant: ill-formed
    let rows: Vec<(&str, Actor, Change, &str)> = vec![
        (
            "add with role 0",
            admin.clone(),
            Change::AddUser {
                user: "n".into(),
                role: 0,
            },
            "policy.role-zero-assigned",
        ),
        (
            "add with undefined role",
            admin.clone(),
            Change::AddUser {
                user: "n".into(),
                role: 42,
            },
            "policy.unknown-role",
        ),
        (
            "add a listed user",
            admin.clone(),
            Change::AddUser {
                user: "u2b".into(),
                role: 2,
            },
            "policy.already-listed",
        ),
        (
            "add oneself",
            admin.clone(),
            Change::AddUser {
                user: "u4a".into(),
                role: 2,
            },
            "policy.targets-self",
        ),
        (
            "change role of an unlisted user",
            admin.clone(),
            Change::ChangeRole {
                user: "n".into(),
                role: 2,
            },
            "policy.not-listed",
        ),
        (
            "remove an unlisted user",
            admin.clone(),
            Change::RemoveUser { user: "n".into() },
            "policy.not-listed",
        ),
        (
            "roles update with duplicate index",
            enforcer(),
            Change::UpdateRoles(dup),
            "policy.invalid-policy",
        ),
        (
            "roles update dropping a role in use",
            enforcer(),
            Change::UpdateRoles(without_2),
            "policy.invalid-policy",
        ),
        (
            "preauth update targeting role 0",
            admin.clone(),
            Change::UpdatePreauth(bad_preauth),
            "policy.invalid-policy",
        ),
        (
            "base update to an ill-formed fixed-membership room",
            admin.clone(),
            Change::UpdateBasePolicy(fixed),
            "policy.invalid-policy",
        ),
    ];
    for (what, actor, change, want) in rows {
        assert_eq!(rule(authorize(&s, &actor, &change)), want, "{what}");
    }
}

#[test]
fn join_rules() {
    let mut s = scenario(examples::strict());
    let joiner = |claims: Vec<Claim>| Actor::new("newcomer", "newcomer-c1").with_claims(claims);
    let join = |a: &Actor, m: JoinMethod, r: RoleIndex| {
        vec![
            Proposal::by(a, Change::Join { role: r, method: m }),
            add_client(a, &a.user, a.client.as_deref().unwrap_or("x")),
        ]
    };
    let nobody = joiner(vec![Claim::domain("elsewhere.example")]);
    assert_eq!(
        rule(authorize_commit(
            &s,
            &nobody,
            &join(&nobody, JoinMethod::Preauthorized, 2)
        )),
        "policy.preauth-no-match"
    );
    assert_eq!(
        rule(authorize_commit(
            &s,
            &nobody,
            &join(&nobody, JoinMethod::Code("nope".into()), 2)
        )),
        "policy.invalid-join-code"
    );
    // The banned user is listed and cannot re-enter through a join (§4).
    let banned = Actor::new("banned", "banned-c1").with_claims(vec![domain_claim(2)]);
    assert_eq!(
        rule(authorize_commit(
            &s,
            &banned,
            &join(&banned, JoinMethod::Preauthorized, 2)
        )),
        "policy.already-listed"
    );
    // Joining into role 0 is meaningless.
    assert_eq!(
        rule(authorize_commit(
            &s,
            &nobody,
            &join(&nobody, JoinMethod::Code("code2".into()), 0)
        )),
        "policy.role-zero-assigned"
    );
    // An empty claimset matches everyone (§4: all of zero claims are satisfied).
    s.preauth.preauthorized_entries.insert(
        0,
        PreAuthRoleEntry {
            claimset: vec![],
            target_role: 2,
        },
    );
    assert_eq!(
        rule(authorize_commit(
            &s,
            &nobody,
            &join(&nobody, JoinMethod::Preauthorized, 2)
        )),
        "ok"
    );
    // ... and, being first, wins over a later, more specific entry.
    let admin_claims = joiner(vec![domain_claim(3)]);
    assert_eq!(
        rule(authorize_commit(
            &s,
            &admin_claims,
            &join(&admin_claims, JoinMethod::Preauthorized, 3)
        )),
        "policy.preauth-role-mismatch"
    );
    // A claim must match exactly (value and credential type).
    let mut s2 = scenario(examples::strict());
    s2.preauth.preauthorized_entries = vec![PreAuthRoleEntry {
        claimset: vec![
            Claim::domain("r2.example"),
            Claim::user("mimi://r2.example/u/x"),
        ],
        target_role: 2,
    }];
    let partial = joiner(vec![Claim::domain("r2.example")]);
    assert_eq!(
        rule(authorize_commit(
            &s2,
            &partial,
            &join(&partial, JoinMethod::Preauthorized, 2)
        )),
        "policy.preauth-no-match"
    );
    let other_type = joiner(vec![
        Claim::named(2, b"domain", b"r2.example"),
        Claim::user("mimi://r2.example/u/x"),
    ]);
    assert_eq!(
        rule(authorize_commit(
            &s2,
            &other_type,
            &join(&other_type, JoinMethod::Preauthorized, 2)
        )),
        "policy.preauth-no-match"
    );
    let full = joiner(vec![
        Claim::user("mimi://r2.example/u/x"),
        Claim::domain("r2.example"),
        Claim::domain("extra.example"),
    ]);
    assert_eq!(
        rule(authorize_commit(
            &s2,
            &full,
            &join(&full, JoinMethod::Preauthorized, 2)
        )),
        "ok"
    );
}

#[test]
fn open_join() {
    // A room whose role 0 has canOpenJoin into role 2 (§8.1.1).
    let mut roles = examples::cooperative();
    roles.roles[0] = examples::role(
        0,
        "no_role",
        &[CanOpenJoin],
        (0, None, 0, Some(0)),
        &[(0, &[2])],
    );
    validate_roles(&roles).unwrap();
    let s = scenario(roles);
    let j = Actor::new("newcomer", "newcomer-c1");
    let join = |r| {
        vec![
            Proposal::by(
                &j,
                Change::Join {
                    role: r,
                    method: JoinMethod::Open,
                },
            ),
            add_client(&j, "newcomer", "newcomer-c1"),
        ]
    };
    assert_eq!(rule(authorize_commit(&s, &j, &join(2))), "ok");
    assert_eq!(
        rule(authorize_commit(&s, &j, &join(3))),
        "policy.transition-not-allowed"
    );
}

#[test]
fn constraints_on_post_commit_state() {
    let s = a1();
    let sa = member("u4a");
    // §3 minimum participants: group_admin needs one.
    let both = vec![
        remove_user(&sa, "u3a"),
        remove_client(&sa, "u3a", "u3a-c1"),
        remove_user(&sa, "u3b"),
        remove_client(&sa, "u3b", "u3b-c1"),
    ];
    assert_eq!(
        authorize_commit(&s, &sa, &both),
        Err(Denial::MinParticipants {
            role: 3,
            limit: 1,
            actual: 0
        })
    );
    // The last group_admin cannot leave either.
    let mut one_admin = s.clone();
    one_admin.participants.remove("u3b");
    one_admin.clients.remove("u3b");
    let leave = vec![
        remove_user(&member("u3a"), "u3a"),
        remove_client(&member("u3a"), "u3a", "u3a-c1"),
    ];
    assert_eq!(
        rule(authorize_commit(&one_admin, &sa, &leave)),
        "policy.min-participants"
    );
    // ... but a room that starts below a minimum is not frozen for other changes.
    let mut no_admin = one_admin.clone();
    no_admin.participants.remove("u3a");
    no_admin.clients.remove("u3a");
    assert_eq!(
        rule(authorize_commit(
            &no_admin,
            &sa,
            &[add_user(&sa, "newbie", 2)]
        )),
        "ok"
    );

    // §3 maximum participants: policy_enforcer (max 2) is full.
    let mut s_enf = s.clone();
    s_enf.roles.roles[3]
        .authorized_role_changes
        .push(SingleSourceRoleChangeTargets {
            from_role_index: 2,
            target_role_indexes: vec![5],
        });
    let moved = vec![
        change_role(&sa, "u2b", 5),
        remove_client(&member("u2b"), "u2b", "u2b-c1"),
    ];
    // super_admin (role 4) has no (2 -> 5); grant it via group_admin's list is not enough:
    assert_eq!(
        rule(authorize_commit(&s_enf, &sa, &moved)),
        "policy.transition-not-allowed"
    );
    s_enf.roles.roles[4]
        .authorized_role_changes
        .push(SingleSourceRoleChangeTargets {
            from_role_index: 2,
            target_role_indexes: vec![5],
        });
    assert_eq!(
        authorize_commit(&s_enf, &sa, &moved),
        Err(Denial::MaxParticipants {
            role: 5,
            limit: 2,
            actual: 3
        })
    );

    // §3 maximum active: policy_enforcer has max active 0 — making room for one more
    // enforcer, the moved user keeps its client.
    s_enf.participants.remove("u5b");
    let moved_active = vec![change_role(&sa, "u2b", 5)];
    assert_eq!(
        authorize_commit(&s_enf, &sa, &moved_active),
        Err(Denial::MaxActiveParticipants {
            role: 5,
            limit: 0,
            actual: 1
        })
    );
    // ... and without its client it is fine (kick authorized via the own-client path).
    assert_eq!(rule(authorize_commit(&s_enf, &sa, &moved)), "ok");

    // §3 minimum active: App. A.4 super_admin needs one active participant.
    let s4 = scenario(examples::multi_org());
    let ob = member("u6a");
    let kick_both = vec![
        remove_client(&ob, "u8a", "u8a-c1"),
        remove_client(&ob, "u8b", "u8b-c1"),
    ];
    assert_eq!(
        authorize_commit(&s4, &ob, &kick_both),
        Err(Denial::MinActiveParticipants {
            role: 8,
            limit: 1,
            actual: 0
        })
    );
    // App. A.4 org_b_admin: at most 3.
    let sa4 = member("u8a");
    let two = vec![add_user(&sa4, "n1", 6), add_user(&sa4, "n2", 6)];
    assert_eq!(
        authorize_commit(&s4, &sa4, &two),
        Err(Denial::MaxParticipants {
            role: 6,
            limit: 3,
            actual: 4
        })
    );
}

#[test]
fn base_policy_limits() {
    let s = a1();
    let u = member("u2a");
    let own = vec![add_client(&u, "u2a", "u2a-c2")];
    let add = vec![add_user(&u, "newbie", 2)];

    let mut capped = s.clone();
    capped.base.max_clients = Some(capped.total_clients() as u32);
    assert_eq!(
        rule(authorize_commit(&capped, &u, &own)),
        "policy.max-clients"
    );
    capped.base.max_clients = Some(capped.total_clients() as u32 + 1);
    assert_eq!(rule(authorize_commit(&capped, &u, &own)), "ok");

    let mut users = s.clone();
    users.base.max_users = Some(users.non_banned_users() as u32);
    assert_eq!(rule(authorize_commit(&users, &u, &add)), "policy.max-users");
    // Banned entries do not count (§5).
    let ga = member("u3a");
    assert_eq!(
        rule(authorize_commit(
            &users,
            &ga,
            &[add_user(&ga, "outsider", 1)]
        )),
        "ok"
    );

    let mut single = s.clone();
    single.base.multi_device = false;
    assert_eq!(
        rule(authorize_commit(&single, &u, &own)),
        "policy.multi-device"
    );

    // Fixed membership: the participant set is frozen, clients are not.
    let mut fixed = s.clone();
    fixed.base.fixed_membership = true;
    assert_eq!(
        rule(authorize_commit(&fixed, &u, &add)),
        "policy.fixed-membership"
    );
    let leave = vec![remove_user(&u, "u2a"), remove_client(&u, "u2a", "u2a-c1")];
    assert_eq!(
        rule(authorize_commit(&fixed, &member("u3a"), &leave)),
        "policy.fixed-membership"
    );
    assert_eq!(rule(authorize_commit(&fixed, &u, &own)), "ok");

    // Parent-dependent room: additions come from the parent, strict subset.
    let mut child = s.clone();
    child.base.parent_dependant = true;
    child.base.parent_room = vec![Uri::new("mimi://hub.example/r/parent")];
    assert_eq!(
        rule(authorize_commit(&child, &u, &add)),
        "policy.parent-room"
    );
    let mut parent: BTreeSet<String> = child.participants.keys().cloned().collect();
    child.parent_participants = Some(parent.clone());
    assert_eq!(
        rule(authorize_commit(&child, &u, &add)),
        "policy.not-in-parent-room"
    );
    parent.insert("newbie".into());
    child.parent_participants = Some(parent.clone());
    assert_eq!(
        rule(authorize_commit(&child, &u, &add)),
        "policy.parent-room"
    );
    parent.insert("someone-else".into());
    child.parent_participants = Some(parent);
    assert_eq!(rule(authorize_commit(&child, &u, &add)), "ok");
}

#[test]
fn banned_role_needs_its_name() {
    // With role 1 not named "banned", moving a user there is an ordinary role change
    // (canChangeUserRole), which does not require removing the user's clients.
    let mut s = a1();
    s.roles.roles[1].role_name = b"muted".to_vec().into();
    s.roles.roles[1].maximum_active_participants_constraint = None;
    let ga = member("u3a");
    assert_eq!(
        rule(authorize_commit(&s, &ga, &[change_role(&ga, "u2b", 1)])),
        "ok"
    );
    // ... and canBan alone does not do it: a role with canBan but without
    // canChangeUserRole is refused.
    s.roles.roles[5]
        .role_capabilities
        .retain(|&c| c != CanChangeUserRole.code());
    assert_eq!(
        authorize_commit(&s, &enforcer(), &[change_role(&enforcer(), "u2b", 1)]),
        Err(Denial::MissingCapability {
            capability: CanChangeUserRole,
            role: 5,
            section: "room-policy-03 §8.1.3"
        })
    );
}

#[test]
fn denials_name_their_rule_and_section() {
    let s = a1();
    let d = authorize(&s, &member("u2a"), &Change::DestroyRoom).unwrap_err();
    assert_eq!(d.rule_id(), "policy.missing-capability");
    assert_eq!(
        d.to_string(),
        "role 2 lacks canDestroyRoom (room-policy-03 §8.6)"
    );
    let d = authorize(
        &s,
        &member("u3a"),
        &Change::ChangeRole {
            user: "u4b".into(),
            role: 2,
        },
    )
    .unwrap_err();
    assert_eq!(
        d,
        Denial::TransitionNotAllowed {
            from: 4,
            to: 2,
            actor_role: 3
        }
    );
    assert!(d.to_string().contains("§3"));
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["TransitionNotAllowed"]["actor_role"], 3);
}

#[test]
fn every_denial_has_a_section() {
    let s = a1();
    let d = authorize(&s, &member("u2a"), &Change::ReInit).unwrap_err();
    assert_eq!(d.section(), "room-policy-03 §8.7");
    let d = authorize(
        &s,
        &member("u2a"),
        &Change::RemoveUser { user: "u2a".into() },
    )
    .unwrap_err();
    assert_eq!(d.rule_id(), "commit.leave-committed-by-leaver");
    assert_eq!(d.section(), "room-policy-03 §8.1.2");
    let d = authorize(
        &s,
        &member("u4a"),
        &Change::AddUser {
            user: "n".into(),
            role: 9,
        },
    )
    .unwrap_err();
    assert_eq!(d.section(), "room-policy-03 §3");
}
