//! Hub `/update` (issue 8; protocol-06 §5.3): the sans-IO [`Hub::handle`] of one
//! `UpdateRequest` carrying a commit, the whole path — request decode, sender-blocked
//! check, `PublicRoom` validation (openmls, epoch, queued proposals, GroupInfo check)
//! under the MIMI component logic (participant list, room policy through
//! `policy::authorize_commit`), Welcome check, fanout `FanoutMessages` to every follower
//! — vs raw openmls `PublicGroup::process_message` + merge of the same commit bytes, at
//! 2, 10, 100 and 1000 members, in the same run.
//!
//! Commits (by alice, the admin, on the hub's provider): `add` (one client with its
//! participant-list addition and Welcome), `remove` (leaf 1 and its user), `self-update`
//! (empty commit, path only) and `participant-list` (a role change in the participant
//! list, no MLS membership change). Members live on four follower providers, so each
//! commit fans out to five providers.
//!
//! Both sides start every iteration from a fresh copy of the same pre-commit state built
//! outside the measured routine (a `CreateRoom` hub; a bare `PublicGroup`). The `room`
//! bench measures `PublicRoom::process_handshake` alone beside this one.
//!
//! Target (issue 8): the hub's overhead over openmls ≤ 15 %.

mod support;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use std::hint::black_box;

use mimi_ref::hub::{Hub, HubInput, HubOutput};
use support::mimi::{update_succeeded, MimiRoom, HUB, NOW_MS};
use support::CommitKind;

/// Member counts (issue 8).
const SIZES: [usize; 4] = [2, 10, 100, 1000];

/// The follower providers the members live on.
fn providers() -> Vec<String> {
    ["b.example", "c.example", "d.example", "e.example"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// The group name of a commit kind (`app-data-update` is a participant-list change here).
fn group_name(kind: CommitKind) -> String {
    match kind {
        CommitKind::AppDataUpdate => "hub-update-participant-list".into(),
        k => format!("hub-update-{}", k.name()),
    }
}

/// Subject: one `/update` through the hub. Returns the outputs (response + fanout).
fn hub_update(hub: &mut Hub, room_id: &str, body: Vec<u8>) -> Vec<HubOutput> {
    hub.handle(
        NOW_MS + 1,
        HUB,
        HubInput::Update {
            room_id: room_id.to_owned(),
            body,
        },
    )
}

fn bench_hub(c: &mut Criterion) {
    let mut rooms: Vec<MimiRoom> = SIZES
        .iter()
        .map(|&n| MimiRoom::build(n, &providers()))
        .collect();
    for kind in CommitKind::ALL {
        let mut group = c.benchmark_group(group_name(kind));
        for room in &mut rooms {
            let n = room.members;
            let pending = room.update(kind);
            // Checked once, outside the measurement: the hub accepts the update, fans the
            // commit out (and the Welcome, for an add), and ends in the epoch openmls
            // reaches with the same commit.
            let mut hub = room.hub();
            let out = hub_update(&mut hub, &room.room_id, pending.body.clone());
            update_succeeded(&out).unwrap_or_else(|e| panic!("{kind:?} at {n}: {e}"));
            let notifies = out
                .iter()
                .filter(|o| matches!(o, HubOutput::Notify { .. }))
                .count();
            assert!(notifies >= 2, "{kind:?} at {n}: {notifies} notifies");
            let (mut pg, provider) =
                support::fresh_public_group(&room.group_info, &room.ratchet_tree);
            let epoch = support::raw_openmls(&mut pg, &provider, &pending.commit);
            assert_eq!(
                hub.room(&room.room_id).map(|r| r.epoch()),
                Some(epoch),
                "hub and openmls reach the same epoch"
            );

            support::sample_for_members(&mut group, n);
            let room_ref: &MimiRoom = room;
            group.bench_function(BenchmarkId::new("mimi-ref-hub", n), |b| {
                b.iter_batched(
                    || (room_ref.hub(), pending.body.clone()),
                    |(mut hub, body)| {
                        let out = hub_update(&mut hub, &room_ref.room_id, black_box(body));
                        (hub, out)
                    },
                    BatchSize::PerIteration,
                )
            });
            group.bench_function(BenchmarkId::new("baseline-openmls", n), |b| {
                support::bench_raw_openmls(
                    b,
                    &room_ref.group_info,
                    &room_ref.ratchet_tree,
                    &pending.commit,
                )
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = support::criterion();
    targets = bench_hub
}
criterion_main!(benches);
