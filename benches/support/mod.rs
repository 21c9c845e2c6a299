//! Shared set-up for the criterion benches (issue 8).
//!
//! Every bench file is its own crate and includes this module with `mod support;`; each uses
//! only part of it, hence the `dead_code` allowance. What lives here:
//! * [`criterion`]: the suite's timing settings (short warm-up and measurement so the whole
//!   suite runs in minutes on two cores; command-line flags still override them);
//! * [`RoomFixture`]: a real openmls room at N members with pending commits of each kind,
//!   built with `mimi_ref::client::Client` (used by the room bench and, once the hub lands,
//!   by a hub `/update` bench: one new file that calls [`RoomFixture::build`]);
//! * [`vectors_dir`]: where the content-08 vectors are.
#![allow(dead_code)]

pub mod mimi;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use criterion::Criterion;
use openmls::component::ComponentData;
use openmls::group::ProposalStore;
use openmls::prelude::{
    AppDataUpdateOperation, MlsMessageIn, ProcessedMessageContent, PublicGroup,
};
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider;
use tls_codec::Deserialize as _;

use mimi_ref::client::{Client, CommitRequest};
use mimi_ref::room::profile::{decode_group_info, decode_ratchet_tree};
use mimi_ref::room::{AppDataOp, ComponentId, ComponentLogic, Dictionary, ReplaceLogic};
use mimi_ref::uri::MimiUri;

/// The suite's criterion settings: 1 s warm-up, 3 s measurement, 20 samples. Flags given
/// to `cargo bench -- …` (e.g. `--measurement-time 10`) override these.
pub fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
        .configure_from_args()
}

/// Sampling for a commit bench at `members` members (hub and room benches): below 100,
/// criterion's automatic sampling, 20 samples, 3 s; from 100 on, flat sampling, 10 samples,
/// 2 s, because every iteration also rebuilds the pre-commit state outside the timer (tens
/// of ms at 1000), so the wall time is several times the measurement time.
pub fn sample_for_members<M: criterion::measurement::Measurement>(
    group: &mut criterion::BenchmarkGroup<'_, M>,
    members: usize,
) {
    if members >= 100 {
        group
            .sampling_mode(criterion::SamplingMode::Flat)
            .sample_size(10)
            .measurement_time(Duration::from_secs(2));
    } else {
        group
            .sampling_mode(criterion::SamplingMode::Auto)
            .sample_size(20)
            .measurement_time(Duration::from_secs(3));
    }
}

/// For suites of many sub-millisecond benches (policy, codec): as [`criterion`] but with
/// 10 000 bootstrap resamples instead of 100 000, which otherwise dominate their run time.
pub fn criterion_quick() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
        .nresamples(10_000)
        .configure_from_args()
}

/// The group id every bench room uses.
pub const GID: &[u8] = b"mimi://a.example/r/bench";
/// `participant_list` component id (protocol-06 §7.5).
pub const PARTICIPANTS: ComponentId = 0x0022;
/// `room_metadata` component id (protocol-06 §7.6).
pub const METADATA: ComponentId = 0x0023;

/// The kinds of commit the room benches process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitKind {
    /// Add one new client (with a participant-list AppDataUpdate, as MIMI adds do).
    Add,
    /// Remove the client at leaf 1.
    Remove,
    /// An empty commit: the committer's path update only.
    SelfUpdate,
    /// A room-metadata AppDataUpdate only.
    AppDataUpdate,
}

impl CommitKind {
    /// Every kind, in report order.
    pub const ALL: [CommitKind; 4] = [
        CommitKind::Add,
        CommitKind::Remove,
        CommitKind::SelfUpdate,
        CommitKind::AppDataUpdate,
    ];

    /// The benchmark id segment.
    pub fn name(self) -> &'static str {
        match self {
            CommitKind::Add => "add",
            CommitKind::Remove => "remove",
            CommitKind::SelfUpdate => "self-update",
            CommitKind::AppDataUpdate => "app-data-update",
        }
    }
}

/// One pending commit, as the committer would submit it to the hub.
#[derive(Debug, Clone)]
pub struct PendingCommit {
    /// Which kind.
    pub kind: CommitKind,
    /// The commit (`MLSMessage`, PublicMessage).
    pub commit: Vec<u8>,
    /// The committer's GroupInfo of the new epoch (`MLSMessage`).
    pub group_info: Vec<u8>,
    /// The Welcome, for adds.
    pub welcome: Option<Vec<u8>>,
    /// The KeyPackage (`MLSMessage` bytes) the add commit adds.
    pub added_key_package: Option<Vec<u8>>,
}

/// A room of `members` clients at epoch 1 (alice created it and added everybody else in one
/// commit), its GroupInfo and ratchet tree (what the hub bootstraps from), and one pending
/// commit by alice of each [`CommitKind`], all against that same state.
///
/// Note on the tree's shape: only alice's direct path is populated (the other members never
/// committed), so alice's path update encrypts to every other leaf. That is the worst case
/// for the committer and the shape a freshly populated room really has; the hub, which
/// only verifies, is affected through the tree size alone.
pub struct RoomFixture {
    /// Number of members before the commit.
    pub members: usize,
    /// The GroupInfo (`MLSMessage`) of the pre-commit epoch.
    pub group_info: Vec<u8>,
    /// The TLS-encoded ratchet tree of the pre-commit epoch.
    pub ratchet_tree: Vec<u8>,
    /// The pending commits.
    pub commits: Vec<PendingCommit>,
    /// A KeyPackage of one more client (`MLSMessage` bytes), not in the room.
    pub spare_key_package: Vec<u8>,
}

/// The component logic every bench party runs.
pub fn logic() -> Arc<dyn ComponentLogic> {
    Arc::new(ReplaceLogic)
}

fn client(domain: &str, id: &str) -> Client {
    Client::new(
        MimiUri::client(domain, id).expect("bench client URI"),
        logic(),
    )
    .expect("bench client")
}

impl RoomFixture {
    /// Build the room at `members` (≥ 2) members. Panics on any MLS failure (bench set-up).
    pub fn build(members: usize) -> RoomFixture {
        assert!(members >= 2, "a room fixture needs at least two members");
        let mut alice = client("a.example", "alice-1");
        let initial: Dictionary = [
            (PARTICIPANTS, b"alice".to_vec()),
            (METADATA, b"Bench room".to_vec()),
        ]
        .into_iter()
        .collect();
        alice.create_group(GID, &initial).expect("create group");
        let adds: Vec<Vec<u8>> = (1..members)
            .map(|i| {
                client("b.example", &format!("member-{i}"))
                    .key_package()
                    .expect("key package")
            })
            .collect();
        alice
            .commit(
                GID,
                &CommitRequest {
                    app_data: vec![(PARTICIPANTS, AppDataOp::Update(b"everyone".to_vec()))],
                    adds,
                    ..CommitRequest::default()
                },
            )
            .expect("populate commit");
        alice.merge_pending_commit(GID).expect("merge populate");
        let base = alice.group_info(GID).expect("group info");
        let spare_key_package = client("c.example", "newcomer-1")
            .key_package()
            .expect("spare key package");
        let mut commits = Vec::new();
        for kind in CommitKind::ALL {
            let mut request = CommitRequest::default();
            let mut added_key_package = None;
            match kind {
                CommitKind::Add => {
                    request.adds = vec![spare_key_package.clone()];
                    request.app_data = vec![(
                        PARTICIPANTS,
                        AppDataOp::Update(b"everyone+newcomer".to_vec()),
                    )];
                    added_key_package = Some(spare_key_package.clone());
                }
                CommitKind::Remove => request.removes = vec![1],
                CommitKind::SelfUpdate => {}
                CommitKind::AppDataUpdate => {
                    request.app_data =
                        vec![(METADATA, AppDataOp::Update(b"Renamed bench room".to_vec()))]
                }
            }
            let out = alice.commit(GID, &request).expect("bench commit");
            alice.discard_pending_commit(GID).expect("discard");
            commits.push(PendingCommit {
                kind,
                commit: out.commit,
                group_info: out.group_info,
                welcome: out.welcome,
                added_key_package,
            });
        }
        RoomFixture {
            members,
            group_info: base.group_info,
            ratchet_tree: base.ratchet_tree,
            commits,
            spare_key_package,
        }
    }

    /// The pending commit of `kind`.
    pub fn commit(&self, kind: CommitKind) -> &PendingCommit {
        self.commits
            .iter()
            .find(|c| c.kind == kind)
            .expect("every kind is built")
    }
}

/// The raw-openmls baseline's fresh state: a bare `PublicGroup` built from a GroupInfo
/// (`MLSMessage`) and a TLS-encoded ratchet tree.
pub fn fresh_public_group(
    group_info: &[u8],
    ratchet_tree: &[u8],
) -> (PublicGroup, OpenMlsRustCrypto) {
    let provider = OpenMlsRustCrypto::default();
    let vgi = decode_group_info(group_info).expect("group info");
    let tree = decode_ratchet_tree(ratchet_tree).expect("tree");
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

/// Measures the raw-openmls baseline (the `baseline-openmls` function of the hub and room
/// benches): per iteration, a fresh `PublicGroup` from `group_info` and `ratchet_tree`
/// (set-up, not timed) and [`raw_openmls`] of `commit` (timed).
pub fn bench_raw_openmls(
    b: &mut criterion::Bencher<'_>,
    group_info: &[u8],
    ratchet_tree: &[u8],
    commit: &[u8],
) {
    b.iter_batched(
        || fresh_public_group(group_info, ratchet_tree),
        |(mut pg, provider)| {
            std::hint::black_box(raw_openmls(
                &mut pg,
                &provider,
                std::hint::black_box(commit),
            ));
            (pg, provider)
        },
        criterion::BatchSize::PerIteration,
    )
}

/// The raw-openmls baseline of the hub benches: decode, `process_message`, resolve AppDataUpdates (if any), merge. Returns the
/// new epoch.
pub fn raw_openmls(group: &mut PublicGroup, provider: &OpenMlsRustCrypto, commit: &[u8]) -> u64 {
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

/// The content-08 vector folder: `$MIMI_SHARED/vectors/content`, else `../shared/…` beside
/// the checkout (the repository layout), else `/work/shared/…`.
pub fn vectors_dir() -> PathBuf {
    let mut candidates = Vec::new();
    if let Some(s) = std::env::var_os("MIMI_SHARED") {
        candidates.push(PathBuf::from(s).join("vectors/content"));
    }
    candidates.push(PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/vectors/content"
    )));
    candidates.push(PathBuf::from("/work/shared/vectors/content"));
    candidates
        .into_iter()
        .find(|p| p.is_dir())
        .expect("content vectors not found: set MIMI_SHARED or put shared/ beside the checkout")
}
