//! Room policy cost (issue 8): `authorize_commit` per operation kind (add, remove, role
//! change, ban, metadata update, send) vs a no-op baseline that takes the same inputs,
//! across roles lists (the four Appendix A examples of room-policy-03 and synthetic lists of
//! 8, 64 and 256 roles) and participant counts (10, 100, 1000).
//!
//! Set-up (outside the measurement): the actor holds the roles list's most capable role
//! (the one with most capabilities that may have active participants), every other
//! participant holds the most populous ordinary role, each participant has one client.
//! The verdict of each case is part of its benchmark id (`[allowed]` or `[denied: …]`), so
//! a figure for a denied commit (which stops at the first failing rule) is never mistaken
//! for the full decision.

mod support;

use std::collections::BTreeSet;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mimi_ref::policy::examples;
use mimi_ref::policy::{
    authorize_commit, validate_roles, Actor, Capability, Change, Denial, MessageAction,
    MetadataField, Proposal, RoleData, RoleIndex, RoomPolicyState,
};

/// Participant counts (issue 8).
const PARTICIPANTS: [usize; 3] = [10, 100, 1000];
/// Synthetic roles-list sizes (issue 8).
const SYNTHETIC: [u32; 3] = [8, 64, 256];

/// The operation kinds measured.
const OPS: [&str; 6] = ["add", "remove", "role-change", "ban", "metadata", "send"];

/// A synthetic roles list of `k` roles: no_role (0), banned (1), `k - 3` ordinary member
/// roles, and an admin (k − 1) holding every capability except `canOpenJoin` (role 0 only)
/// who may move anyone between any two roles (k·(k−1) authorized changes).
fn synthetic(k: u32) -> RoleData {
    use Capability::*;
    let open = (0, None, 0, None);
    let member_caps = [
        CanSendMessage,
        CanReactToMessage,
        CanAddOwnClient,
        CanRemoveOwnClient,
        CanRemoveSelf,
    ];
    let admin_caps: Vec<Capability> = Capability::ALL
        .iter()
        .copied()
        .filter(|c| *c != CanOpenJoin)
        .collect();
    let all: Vec<RoleIndex> = (0..k).collect();
    let changes: Vec<(RoleIndex, Vec<RoleIndex>)> = all
        .iter()
        .map(|&from| (from, all.iter().copied().filter(|&t| t != from).collect()))
        .collect();
    let changes_ref: Vec<(RoleIndex, &[RoleIndex])> =
        changes.iter().map(|(f, t)| (*f, t.as_slice())).collect();
    let mut roles = vec![
        examples::role(0, "no_role", &[], (0, None, 0, Some(0)), &[]),
        examples::role(1, "banned", &[], (0, None, 0, Some(0)), &[]),
    ];
    for i in 2..k - 1 {
        roles.push(examples::role(
            i,
            &format!("member-{i}"),
            &member_caps,
            open,
            &[],
        ));
    }
    roles.push(examples::role(
        k - 1,
        "admin",
        &admin_caps,
        open,
        &changes_ref,
    ));
    RoleData { roles }
}

/// Every roles list measured, with its label.
fn role_lists() -> Vec<(String, RoleData)> {
    let mut v: Vec<(String, RoleData)> = examples::all()
        .into_iter()
        .map(|(label, roles)| (label.replace(' ', "-"), roles))
        .collect();
    for k in SYNTHETIC {
        v.push((format!("synthetic-{k}"), synthetic(k)));
    }
    v
}

/// The roles a scenario uses: the actor's, the other participants', a role-change target.
struct Picks {
    actor: RoleIndex,
    member: RoleIndex,
    change_to: RoleIndex,
}

fn picks(roles: &RoleData) -> Picks {
    let candidates: Vec<_> = roles
        .roles
        .iter()
        .filter(|r| r.role_index >= 2 && r.maximum_active_participants_constraint != Some(0))
        .collect();
    let actor = candidates
        .iter()
        .max_by_key(|r| (r.role_capabilities.len(), r.role_index))
        .map(|r| r.role_index)
        .expect("a role with capabilities");
    let member = candidates
        .iter()
        .filter(|r| r.role_index != actor)
        .max_by_key(|r| {
            (
                r.maximum_participants_constraint.unwrap_or(u32::MAX),
                std::cmp::Reverse(r.role_index),
            )
        })
        .map(|r| r.role_index)
        .unwrap_or(actor);
    let arc = roles.get(actor).map(|r| r.authorized_role_changes.clone());
    let change_to = arc
        .into_iter()
        .flatten()
        .filter(|e| e.from_role_index == member)
        .flat_map(|e| e.target_role_indexes)
        .find(|&t| t > 1 && t != member)
        .or_else(|| {
            candidates
                .iter()
                .map(|r| r.role_index)
                .find(|&r| r != member && r != actor)
        })
        .unwrap_or(0);
    Picks {
        actor,
        member,
        change_to,
    }
}

const ACTOR: &str = "mimi://a.example/u/actor";
const TARGET: &str = "mimi://b.example/u/user-1";
const NEWBIE: &str = "mimi://c.example/u/newbie";

fn client_of(user: &str) -> String {
    format!("{user}#1")
}

/// A room of `n` participants (the actor and `n − 1` members), one client each.
fn scenario(roles: &RoleData, p: &Picks, n: usize) -> RoomPolicyState {
    let mut s = RoomPolicyState::new(roles.clone());
    let mut add = |user: String, role: RoleIndex| {
        s.participants.insert(user.clone(), role);
        s.clients
            .entry(user.clone())
            .or_default()
            .insert(client_of(&user));
    };
    add(ACTOR.to_owned(), p.actor);
    for i in 1..n {
        add(format!("mimi://b.example/u/user-{i}"), p.member);
    }
    s
}

/// The proposals of one operation kind, all by the actor.
fn proposals(op: &str, p: &Picks, actor: &Actor) -> Vec<Proposal> {
    let by = |c: Change| Proposal::by(actor, c);
    match op {
        "add" => vec![
            by(Change::AddUser {
                user: NEWBIE.into(),
                role: p.member,
            }),
            by(Change::AddClient {
                user: NEWBIE.into(),
                client: client_of(NEWBIE),
            }),
        ],
        "remove" => vec![
            by(Change::RemoveUser {
                user: TARGET.into(),
            }),
            by(Change::RemoveClient {
                user: TARGET.into(),
                client: client_of(TARGET),
            }),
        ],
        "role-change" => vec![by(Change::ChangeRole {
            user: TARGET.into(),
            role: p.change_to,
        })],
        "ban" => vec![
            by(Change::ChangeRole {
                user: TARGET.into(),
                role: 1,
            }),
            by(Change::RemoveClient {
                user: TARGET.into(),
                client: client_of(TARGET),
            }),
        ],
        "metadata" => vec![by(Change::UpdateMetadata {
            fields: BTreeSet::from([MetadataField::Name]),
        })],
        "send" => vec![by(Change::SendMessage(MessageAction::Send))],
        other => panic!("unknown op {other}"),
    }
}

/// The baseline: a function of the same inputs that decides nothing.
#[inline(never)]
fn noop(room: &RoomPolicyState, committer: &Actor, proposals: &[Proposal]) -> Result<(), Denial> {
    black_box((room, committer, proposals));
    Ok(())
}

fn verdict(r: &Result<(), Denial>) -> String {
    match r {
        Ok(()) => "allowed".into(),
        Err(d) => {
            let s = format!("{d:?}");
            let head: String = s
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            format!("denied: {head}")
        }
    }
}

fn bench_policy(c: &mut Criterion) {
    let lists = role_lists();
    for (label, roles) in &lists {
        assert_eq!(validate_roles(roles), Ok(()), "{label} is well-formed");
    }
    for op in OPS {
        let mut group = c.benchmark_group(format!("policy-{op}"));
        group
            .warm_up_time(Duration::from_millis(150))
            .measurement_time(Duration::from_millis(500))
            .sample_size(10);
        for (label, roles) in &lists {
            let p = picks(roles);
            let actor = Actor::new(ACTOR, &client_of(ACTOR));
            let props = proposals(op, &p, &actor);
            for n in PARTICIPANTS {
                let room = scenario(roles, &p, n);
                let v = verdict(&authorize_commit(&room, &actor, &props));
                let id = format!("{label} n={n} [{v}]");
                group.bench_with_input(
                    BenchmarkId::new("authorize_commit", &id),
                    &room,
                    |b, room| b.iter(|| authorize_commit(black_box(room), &actor, &props)),
                );
                group.bench_with_input(BenchmarkId::new("baseline-noop", &id), &room, |b, room| {
                    b.iter(|| noop(black_box(room), &actor, &props))
                });
            }
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = support::criterion_quick();
    targets = bench_policy
}
criterion_main!(benches);
