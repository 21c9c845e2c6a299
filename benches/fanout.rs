//! Application-message path (issue 8; protocol-06 §5.4, §5.5): one `/submitMessage`
//! through the sans-IO [`Hub`] and its `/notify` fanout through the sans-IO
//! [`Follower`]s, in process, messages per second, at 1, 5 and 20 follower providers.
//!
//! Per message the subject runs what the HTTPS shell would, minus the sockets: the hub
//! decodes the `SubmitMessageRequest`, checks the PrivateMessage (group, epoch, content
//! type), applies `canSendMessage` for the sender and builds one `FanoutMessages` per
//! follower provider; each follower checks the envelope's sequence number and hands the
//! message to its local clients (`Deliver`); each follower's acknowledgement goes back
//! to the hub (which clears its outbox). Followers count the hub's own provider: at 1,
//! the room's only provider is the hub's.
//!
//! Baselines, same group, same bytes, wire structs only (`tls_codec`; the PrivateMessage
//! inside is parsed by openmls on decode):
//! * `baseline-codec` (issue 8's): `SubmitMessageRequest` decode + re-encode;
//! * `baseline-codec-per-hop`: the same, plus for each follower one `FanoutMessages`
//!   encode + decode — the wire work of the fanout alone, without hub or follower logic.
//!
//! All count one message per iteration (`Throughput::Elements(1)`), so the ratio is of
//! messages per second. Target (issue 8): ≥ 0.5 of `baseline-codec`.
//!
//! Set-up (outside the timed loop): a real MLS group (alice on the hub's provider, one
//! client on each other provider), the hub hosting it, the followers' room copies
//! bootstrapped, and a real 1 KiB PrivateMessage produced by alice's client.

mod support;

use std::collections::BTreeMap;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

use mimi_ref::follower::{Follower, FollowerInput, FollowerOutput};
use mimi_ref::hub::{Hub, HubInput, HubOutput};
use mimi_ref::sim::user_uri;
use mimi_ref::wire::common::{decode_exact, encode, IdentifierUri};
use mimi_ref::wire::mls::MlsMessage;
use mimi_ref::wire::{
    FanoutBody, FanoutMessage, FanoutMessages, Protocol, SubmitMessageRequest, SubmitStatus,
};
use support::mimi::{MimiRoom, HUB, NOW_MS};

/// Follower providers per room (issue 8).
const FOLLOWERS: [usize; 3] = [1, 5, 20];
/// Application message size (issue 8).
const MESSAGE_BYTES: usize = 1024;

/// A hub, its room and the followers of every provider in it.
struct World {
    room_id: String,
    hub: Hub,
    followers: BTreeMap<String, Follower>,
    now: u64,
}

/// What one message did: notifies sent, local deliveries made.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    notifies: usize,
    delivered: usize,
}

impl World {
    /// Run one `/submitMessage` body through the hub and every follower it fans out to
    /// (room-state fetches and acknowledgements included).
    fn submit(&mut self, body: Vec<u8>) -> Tally {
        self.now += 1;
        let now = self.now;
        let out = self.hub.handle(
            now,
            HUB,
            HubInput::SubmitMessage {
                room_id: self.room_id.clone(),
                body,
            },
        );
        let mut tally = Tally::default();
        for o in out {
            match o {
                HubOutput::Notify {
                    to,
                    room_id,
                    seq,
                    body,
                } => {
                    tally.notifies += 1;
                    let Some(f) = self.followers.get_mut(&to) else {
                        panic!("notify to unknown provider {to}");
                    };
                    let fo = f.handle(
                        now,
                        FollowerInput::Notify {
                            hub: HUB.to_owned(),
                            room_id,
                            seq,
                            body,
                        },
                    );
                    self.follower_outputs(&to, fo, &mut tally);
                }
                HubOutput::Submit { response, reason } => {
                    if !matches!(response.status, SubmitStatus::Accepted { .. }) {
                        panic!("hub refused the message: {reason:?}");
                    }
                }
                other => panic!("unexpected hub output {other:?}"),
            }
        }
        tally
    }

    fn follower_outputs(&mut self, provider: &str, outputs: Vec<FollowerOutput>, t: &mut Tally) {
        let now = self.now;
        let mut queue: std::collections::VecDeque<FollowerOutput> = outputs.into();
        while let Some(o) = queue.pop_front() {
            match o {
                FollowerOutput::Ack { room_id, seq, .. } => {
                    self.hub
                        .handle(now, provider, HubInput::NotifyAck { room_id, seq });
                }
                FollowerOutput::Deliver { message, .. } => {
                    black_box(message);
                    t.delivered += 1;
                }
                FollowerOutput::FetchRoomState { room_id, .. } => {
                    let ho = self.hub.handle(
                        now,
                        provider,
                        HubInput::RoomState {
                            room_id: room_id.clone(),
                        },
                    );
                    let info = ho.into_iter().find_map(|o| match o {
                        HubOutput::RoomState(i) => i,
                        _ => None,
                    });
                    let f = self.followers.get_mut(provider).expect("follower");
                    queue.extend(f.handle(now, FollowerInput::RoomState { room_id, info }));
                }
                other => panic!("unexpected follower output at {provider}: {other:?}"),
            }
        }
    }
}

/// The world at `followers` providers and alice's 1 KiB message as a request body.
fn setup(followers: usize) -> (World, Vec<u8>) {
    let others: Vec<String> = (1..followers).map(|i| format!("p{i}.example")).collect();
    // One client per provider: alice on the hub's, one user on each other.
    let mut room = MimiRoom::build(followers, &others);
    let hub = room.hub();
    let mut fs: BTreeMap<String, Follower> = BTreeMap::new();
    fs.insert(HUB.to_owned(), Follower::new(HUB));
    for p in &others {
        fs.insert(p.clone(), Follower::new(p));
    }
    let mut world = World {
        room_id: room.room_id.clone(),
        hub,
        followers: fs,
        now: NOW_MS,
    };
    let locals = std::iter::once(room.alice.uri().to_string())
        .chain(room.others.iter().map(|c| c.uri().to_string()));
    for client in locals {
        let provider = mimi_ref::uri::MimiUri::parse(&client)
            .expect("client uri")
            .provider()
            .to_owned();
        let out = world
            .followers
            .get_mut(&provider)
            .expect("follower")
            .handle(
                NOW_MS,
                FollowerInput::RegisterMember {
                    room_id: room.room_id.clone(),
                    client,
                },
            );
        assert!(out.is_empty(), "register: {out:?}");
    }
    let text = vec![b'x'; MESSAGE_BYTES];
    let msg = room
        .alice
        .send(room.room_id.as_bytes(), &text)
        .expect("alice sends");
    let req = SubmitMessageRequest {
        protocol: Protocol::Mls10,
        app_message: MlsMessage::from_bytes(&msg).expect("PrivateMessage"),
        sending_uri: IdentifierUri::new(&user_uri(HUB, "alice")),
    };
    let body = encode(&req).expect("encode request");
    (world, body)
}

/// Baseline: decode + re-encode the same request bytes.
fn codec_roundtrip(body: &[u8]) -> Vec<u8> {
    let req: SubmitMessageRequest = decode_exact(body).expect("decode");
    encode(&req).expect("encode")
}

/// Baseline: decode + re-encode the request, then encode and decode one `FanoutMessages`
/// per follower. Returns the fanout bytes handled.
fn codec_per_hop(body: &[u8], followers: usize) -> usize {
    let req: SubmitMessageRequest = decode_exact(body).expect("decode");
    let mut bytes = encode(&req).expect("encode").len();
    let fanout = FanoutMessages(vec![FanoutMessage {
        timestamp: NOW_MS,
        message: req.app_message,
        body: FanoutBody::Application { frank: None },
    }]);
    for _ in 0..followers {
        let wire = encode(&fanout).expect("encode fanout");
        let back: FanoutMessages = decode_exact(&wire).expect("decode fanout");
        bytes += wire.len() + back.0.len();
    }
    bytes
}

fn bench_fanout(c: &mut Criterion) {
    let mut group = c.benchmark_group("fanout-submit");
    group.throughput(Throughput::Elements(1));
    for n in FOLLOWERS {
        let (mut world, body) = setup(n);
        // Once, outside the measurement: the first message bootstraps every follower's
        // room copy; from then on each message is one notify and one delivery per
        // provider (one local client each), and the hub's outbox is empty after it.
        world.submit(body.clone());
        let t = world.submit(body.clone());
        assert_eq!(
            t,
            Tally {
                notifies: n,
                delivered: n
            }
        );
        assert_eq!(world.hub.unacknowledged(), 0);
        assert_eq!(codec_roundtrip(&body), body, "the baseline round-trips");

        group.bench_function(BenchmarkId::new("hub+followers", n), |b| {
            b.iter(|| world.submit(black_box(body.clone())))
        });
        group.bench_function(BenchmarkId::new("baseline-codec", n), |b| {
            b.iter(|| codec_roundtrip(black_box(&body)))
        });
        group.bench_function(BenchmarkId::new("baseline-codec-per-hop", n), |b| {
            b.iter(|| codec_per_hop(black_box(&body), n))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = support::criterion_quick();
    targets = bench_fanout
}
criterion_main!(benches);
