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

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, SamplingMode};
use openmls::component::ComponentData;
use openmls::group::ProposalStore;
use openmls::prelude::{
    AppDataUpdateOperation, MlsMessageIn, ProcessedMessageContent, PublicGroup,
};
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider;
use std::hint::black_box;
use tls_codec::Deserialize as _;

use mimi_ref::room::profile::{decode_group_info, decode_ratchet_tree};
use mimi_ref::room::{Accepted, PublicRoom};
use support::{CommitKind, RoomFixture};

/// Member counts (issue 8).
const SIZES: [usize; 4] = [2, 10, 100, 1000];

/// The subject's fresh state: the hub's room view at the pre-commit epoch.
fn fresh_room(f: &RoomFixture) -> PublicRoom {
    PublicRoom::from_group_info(&f.group_info, &f.ratchet_tree, support::logic())
        .expect("room bootstrap")
}

/// The baseline's fresh state: a bare openmls `PublicGroup` at the pre-commit epoch.
fn fresh_public_group(f: &RoomFixture) -> (PublicGroup, OpenMlsRustCrypto) {
    let provider = OpenMlsRustCrypto::default();
    let vgi = decode_group_info(&f.group_info).expect("group info");
    let tree = decode_ratchet_tree(&f.ratchet_tree).expect("tree");
    let (group, _) = PublicGroup::from_external(
        provider.crypto(),
        provider.storage(),
        tree,
        vgi,
        ProposalStore::new(),
    )
    .expect("public group");
    (group, provider)
}

/// Baseline: decode, `process_message`, resolve AppDataUpdates (if any), merge. Returns the
/// new epoch.
fn raw_openmls(group: &mut PublicGroup, provider: &OpenMlsRustCrypto, commit: &[u8]) -> u64 {
    let message = MlsMessageIn::tls_deserialize_exact(commit).expect("MLSMessage");
    let protocol = message
        .try_into_protocol_message()
        .expect("protocol message");
    let processed = group
        .process_message(provider.crypto(), protocol)
        .expect("process_message");
    let staged = match processed.into_content() {
        ProcessedMessageContent::StagedCommitMessage(staged) => *staged,
        ProcessedMessageContent::UnresolvedAppDataCommit(unresolved) => {
            let mut updater = group.app_data_dictionary_updater();
            for p in unresolved.app_data_update_proposals() {
                match p.operation() {
                    AppDataUpdateOperation::Update(bytes) => {
                        updater.set(ComponentData::from_parts(
                            p.component_id(),
                            bytes.as_slice().to_vec().into(),
                        ))
                    }
                    AppDataUpdateOperation::Remove => updater.remove(&p.component_id()),
                }
            }
            let changes = updater.changes();
            group
                .stage_app_data_commit(provider.crypto(), *unresolved, changes)
                .expect("stage")
        }
        _ => panic!("expected a commit"),
    };
    group
        .merge_commit(provider.storage(), staged)
        .expect("merge");
    group.group_context().epoch().as_u64()
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

            if f.members >= 100 {
                group.sampling_mode(SamplingMode::Flat).sample_size(10);
            } else {
                group.sampling_mode(SamplingMode::Auto).sample_size(20);
            }
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
                    b.iter_batched(
                        || fresh_public_group(f),
                        |(mut pg, provider)| {
                            black_box(raw_openmls(&mut pg, &provider, black_box(&pending.commit)));
                            (pg, provider)
                        },
                        BatchSize::PerIteration,
                    )
                },
            );
        }
        group.finish();
    }
}

/// Where the subject's time goes: the steps `PublicRoom` runs on top of openmls for a
/// commit, each measured on its own against the same raw-openmls baseline, so each ratio
/// is that step's cost as a fraction of openmls's (self-update commit):
/// * `groupinfo-check`: decode the committer's GroupInfo and the post-commit tree and
///   verify them with `PublicGroup::from_external` into scratch storage (the GroupInfo
///   check of protocol-06 §5.3 as `PublicRoom` implements it);
/// * `tree-export`: export the post-commit ratchet tree, TLS-encode it, decode it again;
/// * `storage-snapshot`: clone the room's storage (the rollback snapshot).
fn bench_room_parts(c: &mut Criterion) {
    let mut group = c.benchmark_group("room-parts");
    for &n in &SIZES {
        let f = RoomFixture::build(n);
        let pending = f.commit(CommitKind::SelfUpdate);
        let (mut post, post_provider) = fresh_public_group(&f);
        raw_openmls(&mut post, &post_provider, &pending.commit);
        let post_tree = tls_codec::Serialize::tls_serialize_detached(&post.export_ratchet_tree())
            .expect("tree");
        let (_pre, pre_provider) = fresh_public_group(&f);
        if n >= 100 {
            group.sampling_mode(SamplingMode::Flat).sample_size(10);
        } else {
            group.sampling_mode(SamplingMode::Auto).sample_size(20);
        }
        group.bench_function(BenchmarkId::new("groupinfo-check", n), |b| {
            b.iter(|| {
                let scratch = OpenMlsRustCrypto::default();
                let vgi = decode_group_info(black_box(&pending.group_info)).expect("gi");
                let tree = decode_ratchet_tree(black_box(&post_tree)).expect("tree");
                PublicGroup::from_external(
                    scratch.crypto(),
                    scratch.storage(),
                    tree,
                    vgi,
                    ProposalStore::new(),
                )
                .expect("GroupInfo verifies")
                .0
            })
        });
        group.bench_function(BenchmarkId::new("tree-export", n), |b| {
            b.iter(|| {
                let bytes =
                    tls_codec::Serialize::tls_serialize_detached(&post.export_ratchet_tree())
                        .expect("tree");
                decode_ratchet_tree(&bytes).expect("tree")
            })
        });
        group.bench_function(BenchmarkId::new("storage-snapshot", n), |b| {
            b.iter(|| {
                pre_provider
                    .storage()
                    .values
                    .read()
                    .expect("storage lock")
                    .clone()
            })
        });
        group.bench_function(BenchmarkId::new("baseline-openmls", n), |b| {
            b.iter_batched(
                || fresh_public_group(&f),
                |(mut pg, provider)| {
                    black_box(raw_openmls(&mut pg, &provider, black_box(&pending.commit)));
                    (pg, provider)
                },
                BatchSize::PerIteration,
            )
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
