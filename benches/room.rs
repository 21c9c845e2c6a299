//! Hub commit validation: `PublicRoom::process_handshake` of one commit vs raw openmls
//! `PublicGroup::process_message` + merge of the same commit bytes, at 2, 10, 100 and 1000
//! members (issue 8; protocol-06 §5.3: the hub validates every handshake).
//!
//! Both sides start every iteration from a fresh copy of the same pre-commit state (built
//! from the same GroupInfo and ratchet tree outside the measured routine) and both decode
//! the commit from bytes. The subject additionally does what the hub must: the epoch and
//! group checks, the queued-proposal coverage rule, the component logic on the staged
//! commit, and the check of the committer's GroupInfo against the merged state (which
//! re-verifies the new tree). The baseline resolves AppDataUpdates with openmls's own
//! dictionary updater (last update wins), the least an application can do.
//!
//! Target (issue 8): mimi-ref's overhead over openmls ≤ 15 %.

mod support;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use openmls::prelude::PublicGroup;
use openmls_rust_crypto::OpenMlsRustCrypto;
use std::hint::black_box;

use mimi_ref::room::{Accepted, PublicRoom};
use support::{raw_openmls, CommitKind, RoomFixture};

/// Member counts (issue 8).
const SIZES: [usize; 4] = [2, 10, 100, 1000];

/// The subject's fresh state: the hub's room view at the pre-commit epoch.
fn fresh_room(f: &RoomFixture) -> PublicRoom {
    PublicRoom::from_group_info(&f.group_info, &f.ratchet_tree, support::logic())
        .expect("room bootstrap")
}

/// Subject: the hub's transactional `process_handshake`. Returns the new epoch.
fn mimi_ref_room(room: &mut PublicRoom, commit: &[u8], group_info: &[u8]) -> u64 {
    match room
        .process_handshake(commit, Some(group_info))
        .expect("hub accepts the commit")
    {
        Accepted::Commit(info) => info.new_epoch,
        Accepted::Proposal(_) => panic!("expected a commit"),
    }
}

/// The baseline's fresh state for a fixture.
fn fresh_public_group(f: &RoomFixture) -> (PublicGroup, OpenMlsRustCrypto) {
    support::fresh_public_group(&f.group_info, &f.ratchet_tree)
}

fn bench_room(c: &mut Criterion) {
    let fixtures: Vec<RoomFixture> = SIZES.iter().map(|&n| RoomFixture::build(n)).collect();
    for kind in CommitKind::ALL {
        let mut group = c.benchmark_group(format!("room-{}", kind.name()));
        for f in &fixtures {
            let pending = f.commit(kind);
            // Both paths accept the commit and reach the same epoch (checked once, outside
            // the measurement, so a broken fixture cannot produce a meaningless figure).
            let mut room = fresh_room(f);
            let before = room.epoch();
            let subject_epoch = mimi_ref_room(&mut room, &pending.commit, &pending.group_info);
            let (mut pg, provider) = fresh_public_group(f);
            let baseline_epoch = raw_openmls(&mut pg, &provider, &pending.commit);
            assert_eq!(subject_epoch, before + 1);
            assert_eq!(subject_epoch, baseline_epoch);
            assert_eq!(
                room.ratchet_tree().expect("tree"),
                tls_codec::Serialize::tls_serialize_detached(&pg.export_ratchet_tree())
                    .expect("tree"),
                "hub and openmls end in the same tree"
            );

            support::sample_for_members(&mut group, f.members);
            group.bench_with_input(BenchmarkId::new("mimi-ref", f.members), f, |b, f| {
                b.iter_batched(
                    || fresh_room(f),
                    |mut room| {
                        black_box(mimi_ref_room(
                            &mut room,
                            black_box(&pending.commit),
                            &pending.group_info,
                        ));
                        room
                    },
                    BatchSize::PerIteration,
                )
            });
            group.bench_with_input(
                BenchmarkId::new("baseline-openmls", f.members),
                f,
                |b, f| {
                    support::bench_raw_openmls(b, &f.group_info, &f.ratchet_tree, &pending.commit)
                },
            );
        }
        group.finish();
    }
}

/// Where the subject's time goes: steps `PublicRoom` runs on top of openmls for a
/// commit, each measured on its own against the same raw-openmls baseline, so each ratio
/// is that step's cost as a fraction of openmls's (self-update commit):
/// * `groupinfo-check`: [`PublicRoom::verify_group_info`] of the committer's GroupInfo
///   against the merged room — the check `process_handshake` runs after the merge
///   (decode, epoch and group, signer leaf, signature, tree hash, version, GroupContext
///   and confirmation-tag bytes; protocol-06 §5.3). It rebuilds no group.
/// * `storage-snapshot`: clone the room's storage (the rollback snapshot taken before
///   the merge).
fn bench_room_parts(c: &mut Criterion) {
    let mut group = c.benchmark_group("room-parts");
    for &n in &SIZES {
        let f = RoomFixture::build(n);
        let pending = f.commit(CommitKind::SelfUpdate);
        let mut post = fresh_room(&f);
        mimi_ref_room(&mut post, &pending.commit, &pending.group_info);
        post.verify_group_info(&pending.group_info)
            .expect("the committer's GroupInfo verifies against the merged room");
        let (_pre, pre_provider) = fresh_public_group(&f);
        support::sample_for_members(&mut group, n);
        group.bench_function(BenchmarkId::new("groupinfo-check", n), |b| {
            b.iter(|| post.verify_group_info(black_box(&pending.group_info)))
        });
        group.bench_function(BenchmarkId::new("storage-snapshot", n), |b| {
            b.iter(|| {
                use openmls_traits::OpenMlsProvider as _;
                pre_provider
                    .storage()
                    .values
                    .read()
                    .expect("storage lock")
                    .clone()
            })
        });
        group.bench_function(BenchmarkId::new("baseline-openmls", n), |b| {
            support::bench_raw_openmls(b, &f.group_info, &f.ratchet_tree, &pending.commit)
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = support::criterion();
    targets = bench_room, bench_room_parts
}
criterion_main!(benches);
