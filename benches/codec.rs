//! Codec costs (issue 8): decode + encode of the major protocol-06 wire structs and of every
//! content-08 vector, each against a plain copy of the same bytes; the content message id
//! against a raw SHA-256 of the same bytes.
//!
//! The wire structs carry real openmls objects (a KeyPackage, a commit with its Welcome,
//! GroupInfo and ratchet tree, an application message), so the figures include openmls's
//! own parsing of the MLS objects inside them (the wire layer validates them on decode).

mod support;

use std::fs;
use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use sha2::{Digest, Sha256};

use mimi_ref::client::Client;
use mimi_ref::content::{derive_message_id, MessageDerivedValues, MimiContent};
use mimi_ref::uri::MimiUri;
use mimi_ref::wire::common::UriBytes;
use mimi_ref::wire::mls::{
    KeyPackage, MlsGroupInfo, MlsMessage, MlsRatchetTree, MlsWelcome, ProposalRef,
};
use mimi_ref::wire::{
    decode_exact, encode, ClientKeyMaterial, ClientKeyMaterialStatus, FanoutBody, FanoutMessage,
    GroupInfoOption, HandshakeBundle, HandshakeBundleBody, IdentifierUri, KeyMaterialResponse,
    KeyMaterialUserCode, Opaque, ParticipantListUpdate, Protocol, RatchetTreeOption, UpdateRequest,
    UpdateResult, UpdateRoomResponse, UserRolePair, UserindexRolePair, WireDecode, WireString,
};
use support::{CommitKind, RoomFixture, GID};

/// An `MLSMessage` minus its 4-byte header (version, wire format): the bare object.
fn bare(mls_message: &[u8]) -> &[u8] {
    &mls_message[4..]
}

/// Encoded samples of the major wire structs, as (name, bytes).
fn wire_samples() -> Vec<(&'static str, Vec<u8>)> {
    let fixture = RoomFixture::build(10);
    let add = fixture.commit(CommitKind::Add);
    let mut out = Vec::new();

    // protocol-06 §5.2: a one-client KeyMaterialResponse carrying a real KeyPackage.
    let kmr = KeyMaterialResponse {
        protocol: Protocol::Mls10,
        user_status: KeyMaterialUserCode::Success,
        user_uri: IdentifierUri::new("mimi://c.example/u/newcomer"),
        clients: vec![ClientKeyMaterial {
            client_uri: IdentifierUri::new("mimi://c.example/d/newcomer-1"),
            status: ClientKeyMaterialStatus::Success {
                key_package: KeyPackage::from_bytes(bare(&fixture.spare_key_package))
                    .expect("KeyPackage"),
            },
        }],
    };
    out.push(("KeyMaterialResponse", encode(&kmr).expect("encode")));

    // protocol-06 §5.3: an UpdateRequest with an add commit, its Welcome, the full
    // GroupInfo and the full ratchet tree (10-member room).
    let update = UpdateRequest {
        bundle: HandshakeBundle {
            proposal_or_commit: MlsMessage::from_bytes(&add.commit).expect("commit"),
            body: HandshakeBundleBody::Commit {
                welcome: Some(
                    MlsWelcome::from_bytes(bare(add.welcome.as_deref().expect("welcome")))
                        .expect("Welcome"),
                ),
                group_info_option: GroupInfoOption::Full {
                    group_info: MlsGroupInfo::from_bytes(bare(&add.group_info)).expect("GroupInfo"),
                },
                ratchet_tree_option: RatchetTreeOption::Full {
                    ratchet_tree: MlsRatchetTree::from_bytes(&fixture.ratchet_tree).expect("tree"),
                },
            },
        },
    };
    out.push(("UpdateRequest", encode(&update).expect("encode")));

    // protocol-06 §5.3: UpdateRoomResponse, success and invalidProposal.
    let ok = UpdateRoomResponse {
        error_description: WireString::from(""),
        result: UpdateResult::Success {
            accepted_timestamp: 1_763_856_000_000,
        },
    };
    out.push(("UpdateRoomResponse-success", encode(&ok).expect("encode")));
    let invalid = UpdateRoomResponse {
        error_description: WireString::from("proposal refused by room policy"),
        result: UpdateResult::InvalidProposal {
            invalid_proposals: (0u8..4).map(|i| ProposalRef::from(vec![i; 32])).collect(),
        },
    };
    out.push((
        "UpdateRoomResponse-invalidProposal",
        encode(&invalid).expect("encode"),
    ));

    // protocol-06 §5.5: FanoutMessage of a 1 KiB application message and of the commit.
    let mut sender = Client::new(
        MimiUri::client("a.example", "sender-1").expect("uri"),
        support::logic(),
    )
    .expect("client");
    sender
        .create_group(GID, &Default::default())
        .expect("group");
    let app = sender.send(GID, &[0x5a; 1024]).expect("app message");
    let fan_app = FanoutMessage {
        timestamp: 1_763_856_000_000,
        message: MlsMessage::from_bytes(&app).expect("app message"),
        body: FanoutBody::Application { frank: None },
    };
    out.push((
        "FanoutMessage-application-1KiB",
        encode(&fan_app).expect("encode"),
    ));
    let fan_commit = FanoutMessage {
        timestamp: 1_763_856_000_000,
        message: MlsMessage::from_bytes(&add.commit).expect("commit"),
        body: FanoutBody::Commit {
            external_proposals: Vec::new(),
        },
    };
    out.push(("FanoutMessage-commit", encode(&fan_commit).expect("encode")));

    // protocol-06 §7.5: a ParticipantListUpdate adding 10 users, removing 5, changing 3 roles.
    let plu = ParticipantListUpdate {
        changed_role_participants: (0..3)
            .map(|i| UserindexRolePair {
                user_index: i,
                role_index: 3,
            })
            .collect(),
        removed_indices: (10..15).collect(),
        added_participants: (0..10)
            .map(|i| UserRolePair {
                user: UriBytes(Opaque::new(format!("mimi://b.example/u/user-{i}"))),
                role_index: 2,
            })
            .collect(),
    };
    out.push(("ParticipantListUpdate", encode(&plu).expect("encode")));
    out
}

/// Decode + encode one struct; the result equals the input (checked outside the loop).
fn round_trip<T: WireDecode + tls_codec::Serialize>(bytes: &[u8]) -> Vec<u8> {
    let v = decode_exact::<T>(bytes).expect("decode");
    encode(&v).expect("encode")
}

fn round_trip_by_name(name: &str) -> fn(&[u8]) -> Vec<u8> {
    match name {
        "KeyMaterialResponse" => round_trip::<KeyMaterialResponse>,
        "UpdateRequest" => round_trip::<UpdateRequest>,
        n if n.starts_with("UpdateRoomResponse") => round_trip::<UpdateRoomResponse>,
        n if n.starts_with("FanoutMessage") => round_trip::<FanoutMessage>,
        "ParticipantListUpdate" => round_trip::<ParticipantListUpdate>,
        other => panic!("no codec for {other}"),
    }
}

/// The baseline: copy the same bytes (what a relay that does not parse would do).
fn copy(bytes: &[u8]) -> Vec<u8> {
    bytes.to_vec()
}

fn bench_wire(c: &mut Criterion) {
    let mut group = c.benchmark_group("codec-wire");
    quick(&mut group);
    for (name, bytes) in wire_samples() {
        let f = round_trip_by_name(name);
        assert_eq!(f(&bytes), bytes, "{name} re-encodes byte-identically");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("decode+encode", name),
            &bytes,
            |b, bytes| b.iter(|| f(black_box(bytes))),
        );
        group.bench_with_input(
            BenchmarkId::new("baseline-copy", name),
            &bytes,
            |b, bytes| b.iter(|| copy(black_box(bytes))),
        );
    }
    group.finish();
}

/// Codec benches are sub-millisecond: shorter warm-up and measurement than the suite default.
fn quick(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
}

/// Every `.cbor` vector of content-08, sorted by name.
fn content_vectors() -> Vec<(String, Vec<u8>)> {
    let dir = support::vectors_dir();
    let mut v: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
        .expect("vector folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "cbor"))
        .map(|p| {
            let name = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes = fs::read(&p).expect("vector");
            (name, bytes)
        })
        .collect();
    v.sort();
    assert!(v.len() >= 14, "expected the draft's 14+ content vectors");
    v
}

fn content_round_trip(bytes: &[u8]) -> Vec<u8> {
    MimiContent::decode(bytes)
        .expect("decode")
        .encode()
        .expect("encode")
}

/// The `implied-*` vectors are content-08's derived values (`implied.cddl`), not messages.
fn implied_round_trip(bytes: &[u8]) -> Vec<u8> {
    MessageDerivedValues::decode(bytes)
        .expect("decode")
        .encode()
}

fn bench_content(c: &mut Criterion) {
    let vectors = content_vectors();
    let mut group = c.benchmark_group("codec-content");
    quick(&mut group);
    for (name, bytes) in &vectors {
        let round_trip: fn(&[u8]) -> Vec<u8> = if name.starts_with("implied") {
            implied_round_trip
        } else {
            content_round_trip
        };
        assert_eq!(&round_trip(bytes), bytes, "{name} re-encodes identically");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("decode+encode", name),
            bytes,
            |b, bytes| b.iter(|| round_trip(black_box(bytes))),
        );
        group.bench_with_input(
            BenchmarkId::new("baseline-copy", name),
            bytes,
            |b, bytes| b.iter(|| copy(black_box(bytes))),
        );
    }
    group.finish();

    // content-08 message id: the salted, URI-prefixed SHA-256 over the message bytes vs a
    // bare SHA-256 of the same bytes.
    let mut group = c.benchmark_group("codec-message-id");
    quick(&mut group);
    const SENDER: &str = "mimi://example.com/u/alice-smith";
    const ROOM: &str = "mimi://example.com/r/engineering_team";
    for (name, bytes) in &vectors {
        if name.starts_with("implied") {
            // Derived values have no message id of their own.
            continue;
        }
        let salt = MimiContent::decode(bytes).expect("decode").salt;
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new("message-id", name), bytes, |b, bytes| {
            b.iter(|| derive_message_id(SENDER, ROOM, black_box(bytes), &salt).expect("id"))
        });
        group.bench_with_input(
            BenchmarkId::new("baseline-sha256", name),
            bytes,
            |b, bytes| b.iter(|| Sha256::digest(black_box(bytes))),
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = support::criterion_quick();
    targets = bench_wire, bench_content
}
criterion_main!(benches);
