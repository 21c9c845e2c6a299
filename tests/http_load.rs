//! Load over loopback HTTPS (ignored by default; see tests/README.md): several
//! followers' clients submit application messages concurrently to the hub of one room;
//! reports messages/s and p50/p99 submit-to-delivery latency; asserts that every
//! message reached every other member exactly once.
//!
//! Run: `cargo test --release --test http_load -- --ignored --nocapture`
//! Scale: `MIMI_LOAD_CLIENTS` per follower provider (default 3), `MIMI_LOAD_MESSAGES`
//! per client (default 30).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mimi_ref::http::delivery::RetryPolicy;
use mimi_ref::http::now_ms;
use mimi_ref::policy::examples::{admin_roles, cooperative};
use mimi_ref::provider::node::{Federation, Got};
use mimi_ref::sim::user_uri;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test: run explicitly (tests/README.md)"]
async fn concurrent_submits_over_https() {
    let per_provider = env("MIMI_LOAD_CLIENTS", 3);
    let per_client = env("MIMI_LOAD_MESSAGES", 30);
    let dir = std::env::temp_dir().join(format!("mimi-ref-load-{}", std::process::id()));
    let retry = RetryPolicy {
        initial: Duration::from_millis(10),
        max: Duration::from_millis(200),
        request_timeout: Duration::from_secs(10),
        ..RetryPolicy::default()
    };
    let mut f = Federation::start(&["a.example", "b.example", "c.example"], &dir, None, retry)
        .await
        .unwrap();
    let alice = f
        .node("a.example")
        .unwrap()
        .add_client("alice", "1", 1)
        .unwrap();
    let mut senders = Vec::new();
    for d in ["b.example", "c.example"] {
        for i in 0..per_provider {
            senders.push(
                f.node(d)
                    .unwrap()
                    .add_client(&format!("u{i}"), "1", 2)
                    .unwrap(),
            );
        }
    }
    f.consent_all().unwrap();
    let room = f
        .node("a.example")
        .unwrap()
        .create_room(&alice, "load", &cooperative(), admin_roles::SUPER_ADMIN)
        .unwrap();
    for s in &senders {
        let u = mimi_ref::room::mimi::user_of_client(s.as_bytes()).unwrap();
        let c = f
            .node("a.example")
            .unwrap()
            .add_user(&alice, &room, &u, admin_roles::ORDINARY_USER)
            .await
            .unwrap();
        assert!(c.ok(), "{c:?}");
        f.settle(Duration::from_secs(30)).await.unwrap();
    }
    let _ = user_uri; // user URIs come from the client URIs above

    // Encrypt everything first (MLS work is not the transport's), then submit
    // concurrently: one task per client, each submitting its messages in order.
    let mut plans = Vec::new();
    for s in &senders {
        let node = f.node_of(s).unwrap();
        let client = node.provider().client().clone();
        let mut reqs = Vec::new();
        for k in 0..per_client {
            let text = format!("{s} #{k}");
            reqs.push(node.prepare_message(s, &room, text.as_bytes()).unwrap());
        }
        plans.push((client, reqs));
    }
    let total = senders.len() * per_client;
    let start = Instant::now();
    let start_ms = now_ms();
    let mut tasks = Vec::new();
    for (client, reqs) in plans {
        tasks.push(tokio::spawn(async move {
            let mut submitted = Vec::new();
            for (hub, req, hash) in reqs {
                let t = now_ms();
                let a = client.send(&hub, &req).await.unwrap();
                assert_eq!(a.status, 200);
                submitted.push((hash, t));
            }
            submitted
        }));
    }
    let mut submitted_at: BTreeMap<String, u64> = BTreeMap::new();
    for t in tasks {
        for (h, at) in t.await.unwrap() {
            submitted_at.insert(h, at);
        }
    }
    f.settle(Duration::from_secs(120)).await.unwrap();
    let wall = start.elapsed();

    // Every message exactly once at every other member; latencies from the deliveries.
    let mut lat = Vec::new();
    let mut last_ms = start_ms;
    let members: Vec<String> = std::iter::once(alice.clone())
        .chain(senders.iter().cloned())
        .collect();
    for m in &members {
        let d = mimi_ref::uri::MimiUri::parse(m)
            .unwrap()
            .provider()
            .to_owned();
        let got = &f.nodes[&d].client(m).unwrap().received;
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for r in got {
            if let Some(at) = submitted_at.get(&r.hash) {
                *count.entry(&r.hash).or_default() += 1;
                if matches!(r.got, Got::Application { .. }) {
                    lat.push(r.delivered_ms.saturating_sub(*at));
                    last_ms = last_ms.max(r.delivered_ms);
                } else {
                    assert_eq!(r.got, Got::OwnEcho, "{m}");
                }
            }
        }
        assert_eq!(count.len(), total, "{m} got every message");
        assert!(count.values().all(|&n| n == 1), "{m} got a message twice");
    }
    lat.sort_unstable();
    let span_ms = (last_ms - start_ms).max(1);
    println!(
        "http_load: {} senders x {per_client} messages = {total} submits, {} deliveries; \
         {:.0} messages/s submitted-to-all-delivered ({span_ms} ms, wall {:?}); \
         submit-to-delivery latency p50 {} ms, p99 {} ms, max {} ms",
        senders.len(),
        lat.len(),
        total as f64 * 1000.0 / span_ms as f64,
        wall,
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        lat.last().copied().unwrap_or(0)
    );
    f.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}
