//! Properties of the authorization decision over arbitrary rooms and commits:
//! it never panics, it is pure, and an allowed commit keeps a well-formed room well-formed.

use std::collections::{BTreeMap, BTreeSet};

use mimi_ref::policy::*;
use proptest::collection::vec;
use proptest::prelude::*;

const USERS: &[&str] = &["alice", "bob", "carol", "dave", "erin", "newcomer"];
const CLIENTS: &[&str] = &["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"];

fn user() -> impl Strategy<Value = String> {
    proptest::sample::select(USERS).prop_map(str::to_owned)
}
fn client() -> impl Strategy<Value = String> {
    proptest::sample::select(CLIENTS).prop_map(str::to_owned)
}
fn role_index() -> impl Strategy<Value = RoleIndex> {
    prop_oneof![9 => 0u32..10, 1 => any::<u32>()]
}
fn claims() -> impl Strategy<Value = Vec<Claim>> {
    vec(
        (0u32..10).prop_map(|r| Claim::domain(&format!("r{r}.example"))),
        0..3,
    )
}
fn actor() -> impl Strategy<Value = Actor> {
    (user(), proptest::option::of(client()), claims()).prop_map(|(user, client, claims)| Actor {
        user,
        client,
        claims,
    })
}
fn metadata_field() -> impl Strategy<Value = MetadataField> {
    proptest::sample::select(vec![
        MetadataField::RoomUri,
        MetadataField::Name,
        MetadataField::Description,
        MetadataField::Avatar,
        MetadataField::Subject,
        MetadataField::Mood,
    ])
}
fn message() -> impl Strategy<Value = MessageAction> {
    proptest::sample::select(vec![
        MessageAction::Send,
        MessageAction::Reply,
        MessageAction::React,
        MessageAction::DeleteOther,
        MessageAction::UploadVideo,
        MessageAction::SendLinkPreview,
    ])
}

fn change(examples_roles: Vec<RoleData>) -> impl Strategy<Value = Change> {
    change_over(examples_roles, user().boxed(), client().boxed())
}

fn change_over(
    examples_roles: Vec<RoleData>,
    user: BoxedStrategy<String>,
    client: BoxedStrategy<String>,
) -> impl Strategy<Value = Change> {
    let roles = proptest::sample::select(examples_roles);
    let user = move || user.clone();
    let client = move || client.clone();
    prop_oneof![
        (user(), role_index()).prop_map(|(user, role)| Change::AddUser { user, role }),
        (
            role_index(),
            prop_oneof![
                Just(JoinMethod::Open),
                Just(JoinMethod::Preauthorized),
                (0u32..10).prop_map(|r| JoinMethod::Code(format!("code{r}")))
            ]
        )
            .prop_map(|(role, method)| Change::Join { role, method }),
        user().prop_map(|user| Change::RemoveUser { user }),
        (user(), role_index()).prop_map(|(user, role)| Change::ChangeRole { user, role }),
        (user(), client()).prop_map(|(user, client)| Change::AddClient { user, client }),
        (user(), client()).prop_map(|(user, client)| Change::RemoveClient { user, client }),
        roles.prop_map(Change::UpdateRoles),
        (0u32..10, 0u32..10).prop_map(|(a, b)| Change::UpdatePreauth(PreAuthData {
            preauthorized_entries: vec![PreAuthRoleEntry {
                claimset: vec![Claim::domain(&format!("r{a}.example"))],
                target_role: b,
            }]
        })),
        any::<[bool; 3]>().prop_map(|b| Change::UpdateBasePolicy(BaseRoomPolicy {
            fixed_membership: b[0],
            multi_device: b[1],
            discoverable: b[2],
            ..BaseRoomPolicy::default()
        })),
        vec(metadata_field(), 0..3).prop_map(|f| Change::UpdateMetadata {
            fields: f.into_iter().collect()
        }),
        any::<[bool; 2]>().prop_map(|b| Change::UpdateJoinLinks {
            adds: b[0],
            removes: b[1]
        }),
        (0x0020u16..0x0032).prop_map(|component| Change::UpdateComponent { component }),
        Just(Change::ReInit),
        Just(Change::DestroyRoom),
        message().prop_map(Change::SendMessage),
    ]
}

/// An arbitrary room over one of the example roles lists.
fn room() -> impl Strategy<Value = RoomPolicyState> {
    let all: Vec<RoleData> = examples::all().into_iter().map(|(_, r)| r).collect();
    (
        proptest::sample::select(all),
        vec((user(), 0u32..10), 0..6),
        vec((user(), client()), 0..8),
        vec((0u32..10, 0u32..10), 0..4),
        any::<[bool; 3]>(),
        proptest::option::of(0u32..12),
        proptest::option::of(0u32..8),
    )
        .prop_map(
            |(roles, parts, clients, pre, flags, max_clients, max_users)| {
                let mut s = RoomPolicyState::new(roles);
                for (u, r) in parts {
                    s.participants.insert(u, r);
                }
                for (u, c) in clients {
                    s.clients.entry(u).or_default().insert(c);
                }
                s.preauth.preauthorized_entries = pre
                    .into_iter()
                    .map(|(a, b)| PreAuthRoleEntry {
                        claimset: vec![Claim::domain(&format!("r{a}.example"))],
                        target_role: b,
                    })
                    .collect();
                for r in 0..10 {
                    s.join_codes.insert(format!("code{r}"), r);
                }
                s.base.fixed_membership = flags[0];
                s.base.multi_device = flags[1];
                s.base.discoverable = flags[2];
                s.base.max_clients = max_clients;
                s.base.max_users = max_users;
                s
            },
        )
}

/// Make an arbitrary room well-formed where that is cheap: drop entries with undefined or
/// zero roles, clients of unlisted users or of roles that may not be active, shared client
/// ids, preauth entries to undefined roles.
fn sanitize(mut s: RoomPolicyState) -> RoomPolicyState {
    let roles = s.roles.clone();
    s.participants
        .retain(|_, r| *r != 0 && roles.get(*r).is_some());
    let parts = s.participants.clone();
    let mut seen = BTreeSet::new();
    let mut clients = BTreeMap::new();
    for (u, cs) in std::mem::take(&mut s.clients) {
        let Some(r) = parts.get(&u) else { continue };
        let role = roles.get(*r).expect("filtered");
        if role.maximum_active_participants_constraint == Some(0) {
            continue;
        }
        let mut keep: BTreeSet<String> =
            cs.into_iter().filter(|c| seen.insert(c.clone())).collect();
        if !s.base.multi_device {
            keep = keep.into_iter().take(1).collect();
        }
        if !keep.is_empty() {
            clients.insert(u, keep);
        }
    }
    s.clients = clients;
    s.preauth
        .preauthorized_entries
        .retain(|e| e.target_role != 0 && roles.get(e.target_role).is_some());
    if s.base.fixed_membership {
        s.base.fixed_membership = validate_base(&s.base, &s.roles).is_ok();
    }
    s
}

fn proposals() -> impl Strategy<Value = Vec<Proposal>> {
    let all: Vec<RoleData> = examples::all().into_iter().map(|(_, r)| r).collect();
    vec(
        (actor(), change(all)).prop_map(|(proposer, change)| Proposal { proposer, change }),
        0..5,
    )
}

/// A sanitized room with a commit whose proposers, users and clients mostly exist in it.
fn grounded() -> impl Strategy<Value = (RoomPolicyState, Actor, Vec<Proposal>)> {
    room().prop_map(sanitize).prop_flat_map(|s| {
        let mut users: Vec<String> = s.participants.keys().cloned().collect();
        users.extend(["newcomer".to_owned(), "newbie".to_owned()]);
        let mut clients: Vec<String> = s.clients.values().flatten().cloned().collect();
        clients.extend(["fresh1".to_owned(), "fresh2".to_owned()]);
        let st = s.clone();
        let actor = (
            proptest::sample::select(users.clone()),
            claims(),
            any::<bool>(),
        )
            .prop_map(move |(user, claims, external)| {
                let own = st.clients.get(&user).and_then(|c| c.iter().next().cloned());
                let client = if external || own.is_none() {
                    Some(format!("{user}-new"))
                } else {
                    own
                };
                Actor {
                    user,
                    client,
                    claims,
                }
            })
            .boxed();
        let all: Vec<RoleData> = examples::all().into_iter().map(|(_, r)| r).collect();
        let ch = change_over(
            all,
            proptest::sample::select(users).boxed(),
            proptest::sample::select(clients).boxed(),
        );
        let props = vec(
            (actor.clone(), ch, any::<bool>()).prop_map(|(proposer, change, by_committer)| {
                (by_committer, Proposal { proposer, change })
            }),
            1..3,
        );
        (Just(s), actor, props).prop_map(|(s, committer, props)| {
            let ps = props
                .into_iter()
                .map(|(by_committer, mut p)| {
                    if by_committer {
                        p.proposer = committer.clone();
                    }
                    p
                })
                .collect();
            (s, committer, ps)
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// `authorize` and `authorize_commit` never panic and never modify the room.
    #[test]
    fn decision_is_total_and_pure(s in room(), committer in actor(), ps in proposals()) {
        let before = s.clone();
        let verdict = authorize_commit(&s, &committer, &ps);
        prop_assert_eq!(&s, &before);
        if let Err(d) = &verdict {
            prop_assert!(!d.rule_id().is_empty());
            prop_assert!(!d.to_string().is_empty());
        }
        // Deterministic: the same question gets the same answer.
        prop_assert_eq!(authorize_commit(&s, &committer, &ps), verdict);
        for p in &ps {
            let one = authorize(&s, &p.proposer, &p.change);
            prop_assert_eq!(&s, &before);
            prop_assert_eq!(authorize(&s, &p.proposer, &p.change), one);
        }
    }

    /// An allowed commit on a well-formed room yields a well-formed room (the static
    /// invariants I2, I3, I5–I11 and the maximum half of I4 are preserved).
    #[test]
    fn allowed_commits_preserve_well_formedness((s, committer, ps) in grounded()) {
        prop_assume!(validate_state(&s).is_ok());
        if authorize_commit(&s, &committer, &ps).is_ok() {
            let post = apply_commit(&s, &ps);
            prop_assert_eq!(validate_state(&post), Ok(()), "{:?}", ps);
        }
    }
}

/// The well-formedness property above is not vacuous: a fair share of the generated
/// commits on sanitized rooms is non-empty and allowed.
#[test]
fn generated_commits_are_sometimes_allowed() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strat = grounded();
    let (mut valid, mut allowed) = (0, 0);
    let mut hist = BTreeMap::new();
    for _ in 0..3000 {
        let (s, committer, ps) = strat.new_tree(&mut runner).unwrap().current();
        if validate_state(&s).is_err() {
            continue;
        }
        valid += 1;
        match authorize_commit(&s, &committer, &ps) {
            Ok(()) if !ps.is_empty() => allowed += 1,
            Ok(()) => {}
            Err(d) => *hist.entry(d.rule_id()).or_insert(0usize) += 1,
        }
    }
    assert!(valid > 1000, "only {valid} well-formed rooms");
    assert!(
        allowed > 80,
        "only {allowed} allowed non-empty commits of {valid}"
    );
    eprintln!("{hist:?}");
    eprintln!("{allowed} allowed non-empty commits of {valid} well-formed rooms");
}
