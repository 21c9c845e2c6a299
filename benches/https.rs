//! Application messages end to end over loopback mutual-TLS HTTPS (protocol-06 §5.4
//! submit, §5.5 fanout) vs the same number of plain in-process sans-IO hub submits.
//!
//! Both sides: three providers (a.example hosts the room, b.example and c.example follow,
//! one client each plus Alice), `MESSAGES` application messages encrypted before the
//! timer starts (MLS encryption is not transport cost), then timed: submit them all and
//! wait until every member's client has processed every fanout.
//! * `https`: concurrent `/submitMessage` requests (one task per sender), durable queued
//!   `/notify` fanout with acknowledgements, the follower, the clients. Completion is
//!   awaited with `Federation::settle`, woken by the providers' change hook (no polling
//!   granularity; a 20 ms fallback only if no core event arrives).
//! * `baseline-sans-io`: the same requests through [`mimi_ref::sim::World`] (hub, follower and
//!   clients called directly, in-memory ordered network).
//!
//! Then, outside criterion, per-message submit-to-delivery **latency**: from just before a
//! sender's `/submitMessage` is issued to the moment each other member's client has
//! processed that message (the node's delivery hook, `Federation::subscribe_deliveries`,
//! driven by the providers' change hook, so not quantised by polling; in the sim, a clock
//! read after each delivered packet). `LAT_WARMUP` messages first, then `LAT_MESSAGES`
//! sequential ones (each submitted after the previous one settled) and `LAT_MESSAGES` in
//! bursts of `MESSAGES` (two concurrent senders); p50/p90/p99/max of both sides are
//! written to `<criterion dir>/https-latency/table.json` for `mimi-ref bench-report`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mimi_ref::http::delivery::RetryPolicy;
use mimi_ref::hub::HubInput;
use mimi_ref::policy::examples::{admin_roles, cooperative};
use mimi_ref::provider::node::{message_hash, DeliveryEvent, Federation};
use mimi_ref::sim::{user_uri, SimConfig, World};
use mimi_ref::wire::common::{encode, IdentifierUri};
use mimi_ref::wire::mls::MlsMessage;
use mimi_ref::wire::{Protocol, SubmitMessageRequest};

/// Messages per sample (half from Bob, half from Cathy).
const MESSAGES: usize = 20;
/// Latency: messages measured per variant (in bench mode; a handful under `cargo test`).
const LAT_MESSAGES: usize = 200;
/// Latency: messages sent and settled before measuring.
const LAT_WARMUP: usize = 20;

/// One row of `https-latency/table.json` (read by `mimi-ref bench-report`).
#[derive(serde::Serialize)]
struct LatencyRow {
    /// `sequential` or `burst-<n>`.
    variant: String,
    /// `https` (subject) or `baseline-sans-io`.
    path: String,
    /// Messages measured.
    messages: usize,
    /// Latency samples (messages × recipients).
    samples: usize,
    p50_us: f64,
    p90_us: f64,
    p99_us: f64,
    max_us: f64,
}

/// Nearest-rank percentile of sorted microsecond samples.
fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn row(variant: &str, path: &str, messages: usize, mut us: Vec<f64>) -> LatencyRow {
    us.sort_by(f64::total_cmp);
    LatencyRow {
        variant: variant.into(),
        path: path.into(),
        messages,
        samples: us.len(),
        p50_us: pct(&us, 50.0),
        p90_us: pct(&us, 90.0),
        p99_us: pct(&us, 99.0),
        max_us: us.last().copied().unwrap_or(0.0),
    }
}

/// Criterion's output folder, found as criterion finds it.
fn criterion_dir() -> PathBuf {
    if let Some(h) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(h);
    }
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(t).join("criterion");
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/criterion")
}

/// Submits `batch` (sender, hub, request, hash) over HTTPS, the senders concurrently (each
/// its own messages in order), and pumps the federation until every other member's client
/// processed every message; returns the latencies (µs) of every (message, recipient).
async fn https_batch(
    f: &mut Federation,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<DeliveryEvent>,
    members: &[String],
    batch: Vec<(String, String, mimi_ref::http::Request, String)>,
) -> Vec<f64> {
    let mut expected: BTreeMap<(String, String), ()> = BTreeMap::new();
    let mut by_sender: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for (s, hub, req, h) in batch {
        for m in members.iter().filter(|m| **m != s) {
            expected.insert((m.clone(), h.clone()), ());
        }
        by_sender.entry(s).or_default().push((hub, req, h));
    }
    let mut tasks = Vec::new();
    for (s, reqs) in by_sender {
        let client = f.node_of(&s).unwrap().provider().client().clone();
        tasks.push(tokio::spawn(async move {
            let mut t0 = Vec::new();
            for (hub, req, h) in reqs {
                t0.push((h, Instant::now()));
                let a = client.send(&hub, &req).await.expect("submit");
                assert_eq!(a.status, 200);
            }
            t0
        }));
    }
    let mut at: BTreeMap<(String, String), Instant> = BTreeMap::new();
    let end = Instant::now() + Duration::from_secs(60);
    while at.len() < expected.len() {
        assert!(Instant::now() < end, "latency batch not delivered");
        f.pump(Duration::from_millis(50)).await.expect("pump");
        while let Ok(e) = rx.try_recv() {
            let k = (e.client, e.delivery.hash);
            if expected.contains_key(&k) {
                at.insert(k, e.delivery.at);
            }
        }
    }
    let mut t0 = BTreeMap::new();
    for t in tasks {
        t0.extend(t.await.expect("task"));
    }
    f.settle(Duration::from_secs(60)).await.expect("settle");
    at.into_iter()
        .map(|((_, h), a)| (a - t0[&h]).as_secs_f64() * 1e6)
        .collect()
}

/// The same in the sans-IO world: `batch` (sender, user, plaintext) submitted one after
/// another, then packets delivered one at a time, each recipient's delivery timed as it
/// happens; latencies in µs.
fn sim_batch(
    w: &mut World,
    room: &str,
    members: &[String],
    batch: &[(String, String, Vec<u8>)],
) -> Vec<f64> {
    let mut inputs = Vec::new();
    for (s, user, text) in batch {
        let msg = w
            .client_mut(s)
            .unwrap()
            .send(room.as_bytes(), text)
            .unwrap();
        let req = SubmitMessageRequest {
            protocol: Protocol::Mls10,
            app_message: MlsMessage::from_bytes(&msg).unwrap(),
            sending_uri: IdentifierUri::new(user),
        };
        inputs.push((s.clone(), message_hash(&msg), encode(&req).unwrap()));
    }
    let seen: Vec<usize> = members.iter().map(|m| w.received(m).len()).collect();
    let mut t0 = BTreeMap::new();
    let mut expected = 0;
    for (s, h, body) in inputs {
        expected += members.iter().filter(|m| **m != s).count();
        t0.insert(h.clone(), (s.clone(), Instant::now()));
        let _ = w.request(
            &s,
            room,
            HubInput::SubmitMessage {
                room_id: room.to_owned(),
                body,
            },
        );
    }
    let mut seen = seen;
    let mut out = Vec::new();
    while out.len() < expected {
        assert!(w.deliver_next(), "sim latency batch not delivered");
        let now = Instant::now();
        for (i, m) in members.iter().enumerate() {
            let r = w.received(m);
            for d in &r[seen[i]..] {
                if let Some((s, t)) = t0.get(&d.message_hash) {
                    if s != m {
                        out.push((now - *t).as_secs_f64() * 1e6);
                    }
                }
            }
            seen[i] = r.len();
        }
    }
    w.run_until_quiescent().unwrap();
    out
}

fn https(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("mimi-ref-bench-https-{}", std::process::id()));
    let (mut f, room, alice, senders) = rt.block_on(async {
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
            .room_with_users(
                &alice,
                "bench",
                &cooperative(),
                admin_roles::SUPER_ADMIN,
                &[user_uri("b.example", "bob"), user_uri("c.example", "cathy")],
                admin_roles::ORDINARY_USER,
                Duration::from_secs(30),
            )
            .await
            .unwrap();
        (f, room, alice, vec![bob, cathy])
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

    // Latency (not criterion): sequential and burst, both sides, same run.
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let (n, warm) = if bench_mode {
        (LAT_MESSAGES, LAT_WARMUP)
    } else {
        (MESSAGES, 2)
    };
    let members: Vec<String> = std::iter::once(alice.clone())
        .chain(senders.iter().cloned())
        .collect();
    let wmembers = vec![wa.clone(), wb.clone(), wc.clone()];
    let wusers = [
        (wb.clone(), user_uri("b.example", "bob")),
        (wc.clone(), user_uri("c.example", "cathy")),
    ];
    let mut rows = Vec::new();
    let mut k = 0usize;
    let mut prepare = |f: &mut Federation, count: usize| {
        (0..count)
            .map(|_| {
                k += 1;
                let s = senders[k % senders.len()].clone();
                let (hub, req, h) = f
                    .node_of(&s)
                    .unwrap()
                    .prepare_message(&s, &room, format!("l{k}").as_bytes())
                    .unwrap();
                (s, hub, req, h)
            })
            .collect::<Vec<_>>()
    };
    let mut wk = 0usize;
    let mut wprepare = |count: usize| {
        (0..count)
            .map(|_| {
                wk += 1;
                let (s, u) = wusers[wk % wusers.len()].clone();
                (s, u, format!("l{wk}").into_bytes())
            })
            .collect::<Vec<_>>()
    };
    let (seq_h, seq_s, burst_h, burst_s) = rt.block_on(async {
        let mut rx = f.subscribe_deliveries();
        for _ in 0..warm {
            let b = prepare(&mut f, 1);
            https_batch(&mut f, &mut rx, &members, b).await;
            sim_batch(&mut w, &wroom, &wmembers, &wprepare(1));
        }
        let (mut seq_h, mut seq_s, mut burst_h, mut burst_s) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..n {
            let b = prepare(&mut f, 1);
            seq_h.extend(https_batch(&mut f, &mut rx, &members, b).await);
            seq_s.extend(sim_batch(&mut w, &wroom, &wmembers, &wprepare(1)));
        }
        for _ in 0..n / MESSAGES {
            let b = prepare(&mut f, MESSAGES);
            burst_h.extend(https_batch(&mut f, &mut rx, &members, b).await);
            burst_s.extend(sim_batch(&mut w, &wroom, &wmembers, &wprepare(MESSAGES)));
        }
        (seq_h, seq_s, burst_h, burst_s)
    });
    let burst = format!("burst-{MESSAGES}");
    rows.push(row("sequential", "https", n, seq_h));
    rows.push(row("sequential", "baseline-sans-io", n, seq_s));
    rows.push(row(&burst, "https", n / MESSAGES * MESSAGES, burst_h));
    rows.push(row(
        &burst,
        "baseline-sans-io",
        n / MESSAGES * MESSAGES,
        burst_s,
    ));
    for r in &rows {
        eprintln!(
            "https latency {:<12} {:<17} n={:<4} p50 {:>9.1} µs  p90 {:>9.1} µs  p99 {:>9.1} µs  max {:>9.1} µs",
            r.variant, r.path, r.samples, r.p50_us, r.p90_us, r.p99_us, r.max_us
        );
    }
    if bench_mode {
        let dir = criterion_dir().join("https-latency");
        std::fs::create_dir_all(&dir).expect("criterion dir");
        let path = dir.join("table.json");
        std::fs::write(&path, serde_json::to_string_pretty(&rows).expect("json"))
            .expect("write latency table");
        eprintln!("https latency table → {}", path.display());
    }
    rt.block_on(f.shutdown());
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, https);
criterion_main!(benches);
