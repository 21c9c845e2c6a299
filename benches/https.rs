//! Application messages end to end over loopback mutual-TLS HTTPS (protocol-06 §5.4
//! submit, §5.5 fanout) vs the same number of plain in-process sans-IO hub submits.
//!
//! Both sides: three providers (a.example hosts the room, b.example and c.example follow,
//! one client each plus Alice), `MESSAGES` application messages encrypted before the
//! timer starts (MLS encryption is not transport cost), then timed: submit them all and
//! wait until every member's client has processed every fanout.
//! * `https`: concurrent `/submitMessage` requests (one task per sender), durable queued
//!   `/notify` fanout with acknowledgements, the follower, the clients. Completion is
//!   polled every 5 ms, so a sample has that granularity.
//! * `baseline-sans-io`: the same requests through [`mimi_ref::sim::World`] (hub, follower and
//!   clients called directly, in-memory ordered network).

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mimi_ref::http::delivery::RetryPolicy;
use mimi_ref::hub::HubInput;
use mimi_ref::policy::examples::{admin_roles, cooperative};
use mimi_ref::provider::node::Federation;
use mimi_ref::sim::{user_uri, SimConfig, World};
use mimi_ref::wire::common::{encode, IdentifierUri};
use mimi_ref::wire::mls::MlsMessage;
use mimi_ref::wire::{Protocol, SubmitMessageRequest};

/// Messages per sample (half from Bob, half from Cathy).
const MESSAGES: usize = 20;

fn https(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("mimi-ref-bench-https-{}", std::process::id()));
    let (mut f, room, senders) = rt.block_on(async {
        let retry = RetryPolicy {
            initial: Duration::from_millis(5),
            max: Duration::from_millis(100),
            ..RetryPolicy::default()
        };
        let mut f = Federation::start(&["a.example", "b.example", "c.example"], &dir, None, retry)
            .await
            .expect("federation");
        let alice = f
            .node("a.example")
            .unwrap()
            .add_client("alice", "1", 1)
            .unwrap();
        let bob = f
            .node("b.example")
            .unwrap()
            .add_client("bob", "1", 1)
            .unwrap();
        let cathy = f
            .node("c.example")
            .unwrap()
            .add_client("cathy", "1", 1)
            .unwrap();
        f.consent_all().unwrap();
        let room = f
            .node("a.example")
            .unwrap()
            .create_room(&alice, "bench", &cooperative(), admin_roles::SUPER_ADMIN)
            .unwrap();
        for (u, _) in [
            (user_uri("b.example", "bob"), ()),
            (user_uri("c.example", "cathy"), ()),
        ] {
            let code = f
                .node("a.example")
                .unwrap()
                .add_user(&alice, &room, &u, admin_roles::ORDINARY_USER)
                .await
                .unwrap();
            assert!(code.ok());
            f.settle(Duration::from_secs(30)).await.unwrap();
        }
        (f, room, vec![bob, cathy])
    });

    let mut w = World::new(1, SimConfig::default());
    let wa = w.add_client("a.example", "alice", "1").unwrap();
    let wb = w.add_client("b.example", "bob", "1").unwrap();
    let wc = w.add_client("c.example", "cathy", "1").unwrap();
    let (wroom, _) = w
        .create_room(&wa, "bench", &cooperative(), admin_roles::SUPER_ADMIN)
        .unwrap();
    for u in [user_uri("b.example", "bob"), user_uri("c.example", "cathy")] {
        assert!(w
            .add_user(&wa, &wroom, &u, admin_roles::ORDINARY_USER)
            .unwrap()
            .accepted());
        w.run_until_quiescent().unwrap();
    }

    let mut g = c.benchmark_group("https");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    // Messages per second on both sides (`bench-report` then compares rates); the
    // baseline is the in-process sans-IO path of the same requests.
    g.throughput(Throughput::Elements(MESSAGES as u64));
    let input = format!("{MESSAGES}-msgs-submit-to-delivery");
    g.bench_function(BenchmarkId::new("https", &input), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut plans = Vec::new();
                for s in &senders {
                    let node = f.node_of(s).unwrap();
                    let client = node.provider().client().clone();
                    let reqs: Vec<_> = (0..MESSAGES / senders.len())
                        .map(|k| {
                            node.prepare_message(s, &room, format!("m{k}").as_bytes())
                                .unwrap()
                        })
                        .collect();
                    plans.push((client, reqs));
                }
                let t = Instant::now();
                rt.block_on(async {
                    let tasks: Vec<_> = plans
                        .into_iter()
                        .map(|(client, reqs)| {
                            tokio::spawn(async move {
                                for (hub, req, _) in reqs {
                                    let a = client.send(&hub, &req).await.expect("submit");
                                    assert_eq!(a.status, 200);
                                }
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.expect("task");
                    }
                    f.settle(Duration::from_secs(60)).await.expect("settle");
                });
                total += t.elapsed();
            }
            total
        })
    });
    g.bench_function(BenchmarkId::new("baseline-sans-io", &input), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut inputs = Vec::new();
                for (s, user) in [
                    (&wb, user_uri("b.example", "bob")),
                    (&wc, user_uri("c.example", "cathy")),
                ] {
                    for k in 0..MESSAGES / 2 {
                        let msg = w
                            .client_mut(s)
                            .unwrap()
                            .send(wroom.as_bytes(), format!("m{k}").as_bytes())
                            .unwrap();
                        let req = SubmitMessageRequest {
                            protocol: Protocol::Mls10,
                            app_message: MlsMessage::from_bytes(&msg).unwrap(),
                            sending_uri: IdentifierUri::new(&user),
                        };
                        inputs.push((s.clone(), encode(&req).unwrap()));
                    }
                }
                let t = Instant::now();
                for (s, body) in inputs {
                    let _ = w.request(
                        &s,
                        &wroom,
                        HubInput::SubmitMessage {
                            room_id: wroom.clone(),
                            body,
                        },
                    );
                }
                w.run_until_quiescent().unwrap();
                total += t.elapsed();
            }
            total
        })
    });
    g.finish();
    rt.block_on(f.shutdown());
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, https);
criterion_main!(benches);
