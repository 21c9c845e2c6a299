//! Seeded simulation: random workloads (adds, removals, leaves, role changes,
//! metadata updates, kicks, external joins, messages) over three providers,
//! under every network mode (ordered, reordering, duplicating, dropping, all
//! three). After every operation the network is run to quiescence and:
//! no anomaly (a follower's copy never refuses what the hub accepted), every
//! follower with clients in the room and every member client agree with the
//! hub; at the end no accepted message was lost or delivered twice to a client,
//! and every member at acceptance decrypted it.

use std::collections::BTreeSet;

use mimi_ref::policy::examples::{admin_roles, cooperative};
use mimi_ref::sim::{user_uri, Delivered, NetMode, SimConfig, SimRng, World};

const PROVIDERS: [&str; 3] = ["a.example", "b.example", "c.example"];
const USERS: [(&str, &str); 5] = [
    ("b.example", "bob"),
    ("c.example", "cathy"),
    ("b.example", "dave"),
    ("c.example", "erin"),
    ("a.example", "frank"),
];

fn pick<'a, T>(rng: &mut SimRng, v: &'a [T]) -> Option<&'a T> {
    (!v.is_empty()).then(|| &v[rng.below(v.len() as u64) as usize])
}

struct Stats {
    accepted: usize,
    refused: usize,
    /// Accepted operations per kind (add, message, remove, leave, metadata, role, join).
    by_kind: [usize; 7],
}

const KINDS: [&str; 7] = [
    "add", "message", "remove", "leave", "metadata", "role", "join",
];

fn kind(op: u64) -> usize {
    match op {
        0 | 1 => 0,
        2 | 3 => 1,
        4 => 2,
        5 => 3,
        6 => 4,
        7 => 5,
        _ => 6,
    }
}

fn run(seed: u64, net: NetMode, ops: usize) -> (World, String, Stats) {
    let mut w = World::new(
        seed,
        SimConfig {
            net,
            fault_per_mille: 300,
            ..SimConfig::default()
        },
    );
    let mut rng = SimRng::new(seed ^ 0x5151);
    let alice = w.add_client("a.example", "alice", "1").unwrap();
    for (p, u) in USERS {
        w.add_client(p, u, "1").unwrap();
    }
    let (room, o) = w
        .create_room(&alice, "sim", &cooperative(), admin_roles::SUPER_ADMIN)
        .unwrap();
    assert!(o.accepted());
    let mut stats = Stats {
        accepted: 0,
        refused: 0,
        by_kind: [0; 7],
    };
    let mut devices = 1;
    for step in 0..ops {
        let hub = w.hub_state(&room).unwrap();
        let members: Vec<String> = hub.members.iter().cloned().collect();
        let listed: Vec<String> = hub.participants.iter().map(|(u, _)| u.clone()).collect();
        let unlisted: Vec<String> = USERS
            .iter()
            .map(|(p, u)| user_uri(p, u))
            .filter(|u| !listed.contains(u))
            .collect();
        let Some(actor) = pick(&mut rng, &members).cloned() else {
            break;
        };
        let others: Vec<String> = listed
            .iter()
            .filter(|u| !actor.contains(&format!("/d/{}/", u.rsplit('/').next().unwrap_or(""))))
            .cloned()
            .collect();
        let op = rng.below(9);
        let result = match op {
            0 | 1 => match pick(&mut rng, &unlisted).cloned() {
                Some(u) => w.add_user(&actor, &room, &u, admin_roles::ORDINARY_USER),
                None => w.send_message(&actor, &room, format!("m{step}").as_bytes()),
            },
            2 | 3 => w.send_message(&actor, &room, format!("m{step}").as_bytes()),
            4 => match pick(&mut rng, &others).cloned() {
                Some(u) => w.remove_user(&actor, &room, &u),
                None => continue,
            },
            5 => {
                let leaver_user = mimi_ref::room::mimi::user_of_client(actor.as_bytes()).unwrap();
                let same_user = members
                    .iter()
                    .filter(|m| {
                        mimi_ref::room::mimi::user_of_client(m.as_bytes()).unwrap() == leaver_user
                    })
                    .count();
                let committers: Vec<String> =
                    members.iter().filter(|m| **m != actor).cloned().collect();
                let Some(committer) = pick(&mut rng, &committers).cloned() else {
                    continue;
                };
                if same_user != 1 {
                    continue;
                }
                match w.leave(&actor, &room) {
                    Ok(o) if o.accepted() => {
                        w.run_until_quiescent().unwrap();
                        w.commit_pending(&committer, &room)
                    }
                    other => other,
                }
            }
            6 => w.update_metadata(&actor, &room, &format!("name {step}")),
            7 => match pick(&mut rng, &others).cloned() {
                Some(u) => {
                    let role = [1, 2, 3][rng.below(3) as usize];
                    w.change_role(&actor, &room, &u, role)
                }
                None => continue,
            },
            _ => {
                // A new device of a listed user joins by external commit.
                let Some(u) = pick(&mut rng, &listed).cloned() else {
                    continue;
                };
                let uri = mimi_ref::uri::MimiUri::parse(&u).unwrap();
                devices += 1;
                let c = w
                    .add_client(
                        uri.provider(),
                        uri.local_id().unwrap(),
                        &devices.to_string(),
                    )
                    .unwrap();
                w.external_join(&c, &room, admin_roles::ORDINARY_USER)
            }
        };
        match result {
            Ok(o) if o.accepted() => {
                stats.accepted += 1;
                stats.by_kind[kind(op)] += 1;
            }
            Ok(_) | Err(_) => stats.refused += 1,
        }
        w.run_until_quiescent().unwrap();
        assert!(
            w.anomalies().is_empty(),
            "seed {seed} {net:?} step {step} op {op}: {:?}",
            w.anomalies()
        );
        w.check_consistent(&room).unwrap_or_else(|e| {
            let last: Vec<_> = w
                .client_ids()
                .iter()
                .map(|c| (c.clone(), w.received(c).last().cloned()))
                .collect();
            panic!("seed {seed} {net:?} step {step} op {op}: {e}; last deliveries {last:?}")
        });
    }
    (w, room, stats)
}

fn check_delivery(w: &World, seed: u64, net: NetMode) {
    // Nothing delivered twice to any client.
    for c in w.client_ids() {
        let mut seen = BTreeSet::new();
        for d in w.received(&c) {
            assert!(
                seen.insert(d.message_hash.clone()),
                "seed {seed} {net:?}: {c} got {} twice",
                d.message_hash
            );
        }
    }
    // No accepted message lost: every member at acceptance decrypted it once.
    for m in w.accepted_messages() {
        for member in &m.members_at_acceptance {
            let got: Vec<&Delivered> = w
                .received(member)
                .iter()
                .filter(|d| d.message_hash == m.message_hash)
                .map(|d| &d.outcome)
                .collect();
            let want = if *member == m.sender {
                Delivered::OwnEcho
            } else {
                Delivered::Application {
                    sender: m.sender.clone(),
                    data: m.data.clone(),
                }
            };
            assert_eq!(got, vec![&want], "seed {seed} {net:?}: {member}");
        }
    }
}

#[test]
fn random_workloads_converge_under_every_network_mode() {
    let mut total = [0usize; 7];
    for (i, net) in NetMode::ALL.into_iter().enumerate() {
        for seed in [1u64, 2] {
            let seed = seed * 100 + i as u64;
            let (w, room, stats) = run(seed, net, 30);
            for (t, n) in total.iter_mut().zip(stats.by_kind) {
                *t += n;
            }
            check_delivery(&w, seed, net);
            // Every follower with clients in the room converged to the hub.
            let hub = w.hub_state(&room).unwrap();
            for p in PROVIDERS {
                if hub.members.iter().any(|m| m.contains(&format!("//{p}/"))) {
                    assert_eq!(w.follower_state(p, &room).as_ref(), Some(&hub), "{p}");
                }
            }
            assert!(
                stats.accepted >= 5,
                "seed {seed} {net:?}: too little happened"
            );
            assert!(
                !w.accepted_messages().is_empty(),
                "seed {seed} {net:?}: no message accepted"
            );
            match net {
                NetMode::Duplicating => assert!(w.duplicated_packets() > 0),
                NetMode::Dropping => assert!(w.dropped_packets() > 0),
                NetMode::Chaos => assert!(w.duplicated_packets() + w.dropped_packets() > 0),
                _ => {}
            }
        }
    }
    // The workload exercised every kind of operation successfully somewhere.
    for (k, n) in KINDS.iter().zip(total) {
        assert!(n > 0, "no accepted {k} in any run: {total:?}");
    }
}

#[test]
fn same_seed_same_observations() {
    let (a, room, _) = run(42, NetMode::Chaos, 15);
    let (b, _, _) = run(42, NetMode::Chaos, 15);
    assert_eq!(
        a.hub_state(&room).unwrap().participants,
        b.hub_state(&room).unwrap().participants
    );
    assert_eq!(
        a.hub_state(&room).unwrap().members,
        b.hub_state(&room).unwrap().members
    );
    assert_eq!(
        a.hub_state(&room).unwrap().epoch,
        b.hub_state(&room).unwrap().epoch
    );
    assert_eq!(a.delivered_packets(), b.delivered_packets());
    assert_eq!(a.dropped_packets(), b.dropped_packets());
    for c in a.client_ids() {
        let outcomes = |w: &World| -> Vec<String> {
            w.received(&c)
                .iter()
                .map(|d| format!("{:?}", std::mem::discriminant(&d.outcome)))
                .collect()
        };
        assert_eq!(outcomes(&a), outcomes(&b), "{c}");
    }
}
