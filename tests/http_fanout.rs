//! Loopback tests of durable fanout delivery (protocol-06 §5.5): a peer that is down,
//! a restarted receiver, a killed and restarted sender, `Retry-After`, dead letters.
//! Every provider listens on 127.0.0.1; loops are bounded by deadlines.

mod http_support;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http_support::*;
use mimi_ref::http::delivery::PeerClient;
use mimi_ref::http::{Endpoint, Request};

const R1: &str = "mimi://a.example/r/one";
const R2: &str = "mimi://a.example/r/two";

/// c.example's client, reaching a.example at `a`.
fn c_client(a: SocketAddr) -> PeerClient {
    PeerClient::new(
        "c.example",
        identity("c.example").client_config().unwrap(),
        &HashMap::from([("a.example".to_string(), a)]),
        Duration::from_secs(5),
    )
    .unwrap()
}

async fn submit(c: &PeerClient, room: &str, i: u32) {
    let a = c
        .send(
            "a.example",
            &Request {
                endpoint: Endpoint::SubmitMessage,
                param: room.into(),
                body: submit_body(i),
                seq: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(a.status, 200, "submit {i} acknowledged");
}

/// (room, timestamp) of every notify a follower's core saw, in arrival order.
fn notifies(seen: &[(String, Request)]) -> Vec<(String, u64)> {
    seen.iter()
        .filter(|(_, r)| r.endpoint == Endpoint::Notify)
        .map(|(from, r)| {
            assert_eq!(from, "a.example");
            // The envelope sequence number travels in its header (and the queue).
            assert_eq!(r.seq, Some(fanout_ts(&r.body)));
            (r.param.clone(), fanout_ts(&r.body))
        })
        .collect()
}

/// Checks that `got` holds every timestamp of `expected` exactly once and, per room, in
/// increasing order.
fn assert_exactly_once_in_order(got: &[(String, u64)], expected: &[(String, u64)]) {
    let mut g: Vec<u64> = got.iter().map(|(_, t)| *t).collect();
    g.sort_unstable();
    let mut e: Vec<u64> = expected.iter().map(|(_, t)| *t).collect();
    e.sort_unstable();
    assert_eq!(g, e, "every notification exactly once");
    let mut per_room: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for (r, t) in got {
        per_room.entry(r).or_default().push(*t);
    }
    for (r, ts) in per_room {
        assert!(
            ts.windows(2).all(|w| w[0] < w[1]),
            "room {r} out of order: {ts:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_is_down_gets_everything_once_after_it_restarts() {
    let b_addr = free_addr();
    let (a_dir, b_dir) = (temp_dir("a"), temp_dir("b"));
    let a = start(
        config(
            "a.example",
            "127.0.0.1:0".parse().unwrap(),
            &[("b.example", b_addr)],
            Some(a_dir.clone()),
        ),
        TestCore {
            fanout_to: vec!["b.example".into()],
            ..TestCore::default()
        },
    )
    .await;
    let b = start(
        config("b.example", b_addr, &[], Some(b_dir.clone())),
        TestCore::default(),
    )
    .await;
    let c = c_client(a.local_addr());
    let mut expected = Vec::new();
    for i in 0..3u32 {
        submit(&c, R1, i).await;
        expected.push((R1.to_string(), u64::from(i)));
    }
    assert!(
        wait_until(Duration::from_secs(10), || b
            .with_core(|c| c.seen.len() == 3))
        .await
    );

    // Everything so far was acknowledged by b (so none of it is resent).
    assert!(
        wait_until(Duration::from_secs(5), || a.queue_len("b.example").unwrap()
            == 0)
        .await
    );
    // b goes down; a keeps accepting and queues.
    b.shutdown().await;
    for i in 3..8u32 {
        let room = if i % 2 == 0 { R1 } else { R2 };
        submit(&c, room, i).await;
        expected.push((room.to_string(), u64::from(i)));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        a.queue_len("b.example").unwrap(),
        5,
        "queued while b is down"
    );

    // b comes back on the same address with a fresh core and its data directory: the
    // replay restores the three it had, delivery brings the five it missed.
    let b = start(
        config("b.example", b_addr, &[], Some(b_dir.clone())),
        TestCore::default(),
    )
    .await;
    assert_eq!(b.with_core(|c| c.seen.len()), 3, "replayed from b's store");
    assert!(
        wait_until(Duration::from_secs(15), || b
            .with_core(|c| c.seen.len() >= 8))
        .await,
        "delivered after the restart"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = b.with_core(|c| notifies(&c.seen));
    assert_eq!(got.len(), 8);
    assert_exactly_once_in_order(&got, &expected);
    assert!(
        wait_until(Duration::from_secs(5), || a.queue_len("b.example").unwrap()
            == 0)
        .await
    );
    a.shutdown().await;
    b.shutdown().await;
    let _ = std::fs::remove_dir_all(a_dir);
    let _ = std::fs::remove_dir_all(b_dir);
}

#[test]
fn a_killed_sender_resumes_from_its_data_directory() {
    let b_addr = free_addr();
    let a_addr = free_addr();
    let a_dir = temp_dir("a-kill");
    let hub_core = || TestCore {
        fanout_to: vec!["b.example".into()],
        ..TestCore::default()
    };
    let a_cfg = || {
        config(
            "a.example",
            a_addr,
            &[("b.example", b_addr)],
            Some(a_dir.clone()),
        )
    };
    let main = tokio::runtime::Runtime::new().unwrap();
    let mut expected = Vec::new();

    // Run 1: a acknowledges six submits while b is down, then is killed (its runtime is
    // dropped with every task in it).
    {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let a = rt.block_on(start(a_cfg(), hub_core()));
        let c = c_client(a_addr);
        main.block_on(async {
            for i in 0..6u32 {
                let room = if i < 4 { R1 } else { R2 };
                submit(&c, room, i).await;
                expected.push((room.to_string(), u64::from(i)));
            }
        });
        assert_eq!(a.queue_len("b.example").unwrap(), 6);
        drop(a);
        rt.shutdown_timeout(Duration::from_secs(2));
    }

    main.block_on(async {
        let b = start(config("b.example", b_addr, &[], None), TestCore::default()).await;
        // Nothing arrives while a is dead.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(b.with_core(|c| c.seen.len()), 0);

        // Run 2: a restarts from its data directory with a fresh core.
        let a = start(a_cfg(), hub_core()).await;
        assert_eq!(a.with_core(|c| c.submits), 6, "accepted submits replayed");
        assert!(
            wait_until(Duration::from_secs(15), || b
                .with_core(|c| c.seen.len() >= 6))
            .await,
            "queued fanout delivered after the restart"
        );
        // The replayed core goes on where it was: the next fanout has timestamp 6.
        let c = c_client(a_addr);
        submit(&c, R2, 6).await;
        expected.push((R2.to_string(), 6));
        assert!(
            wait_until(Duration::from_secs(10), || b
                .with_core(|c| c.seen.len() >= 7))
            .await
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        let got = b.with_core(|c| notifies(&c.seen));
        assert_eq!(got.len(), 7);
        assert_exactly_once_in_order(&got, &expected);
        assert!(
            wait_until(Duration::from_secs(5), || a.queue_len("b.example").unwrap()
                == 0)
            .await
        );
        a.shutdown().await;
        b.shutdown().await;
    });
    let _ = std::fs::remove_dir_all(a_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_and_rejections_become_dead_letters() {
    let b_addr = free_addr();
    let a = start(
        config(
            "a.example",
            "127.0.0.1:0".parse().unwrap(),
            &[("b.example", b_addr)],
            None,
        ),
        TestCore {
            fanout_to: vec!["b.example".into()],
            ..TestCore::default()
        },
    )
    .await;
    // b answers the first notify 503 with Retry-After: 1 (a's own backoff is 20 ms).
    let b = start(
        config("b.example", b_addr, &[], None),
        TestCore {
            refuse_first: 1,
            retry_after: Some(1),
            ..TestCore::default()
        },
    )
    .await;
    let c = c_client(a.local_addr());
    submit(&c, R1, 0).await;
    assert!(
        wait_until(Duration::from_secs(10), || b
            .with_core(|c| c.seen.len() == 1))
        .await
    );
    let refused_at = b.with_core(|c| c.refused_at.clone());
    assert_eq!(refused_at.len(), 1);
    let waited = Instant::now().duration_since(refused_at[0]);
    assert!(
        waited >= Duration::from_millis(950),
        "retried after {waited:?}, before Retry-After"
    );

    // A 400 is not retried: the request goes to the dead letters, the queue empties, and
    // the next request of the same room is not blocked behind it.
    b.with_core(|c| c.notify_status = Some(400));
    submit(&c, R1, 1).await;
    assert!(
        wait_until(Duration::from_secs(10), || a
            .dead_letters("b.example")
            .unwrap()
            .len()
            == 1)
        .await
    );
    b.with_core(|c| c.notify_status = None);
    submit(&c, R1, 2).await;
    assert!(
        wait_until(Duration::from_secs(10), || b
            .with_core(|c| c.seen.len() == 3))
        .await
    );
    assert!(
        wait_until(Duration::from_secs(5), || a.queue_len("b.example").unwrap()
            == 0)
        .await
    );
    let dead = a.dead_letters("b.example").unwrap();
    assert_eq!(fanout_ts(&dead[0].body), 1);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_room_does_not_hold_up_another_room() {
    let b_addr = free_addr();
    let a = start(
        config(
            "a.example",
            "127.0.0.1:0".parse().unwrap(),
            &[("b.example", b_addr)],
            None,
        ),
        TestCore {
            fanout_to: vec!["b.example".into()],
            ..TestCore::default()
        },
    )
    .await;
    // b refuses the first notify with Retry-After: 2: room one stalls, room two flows.
    let b = start(
        config("b.example", b_addr, &[], None),
        TestCore {
            refuse_first: 1,
            retry_after: Some(2),
            ..TestCore::default()
        },
    )
    .await;
    let c = c_client(a.local_addr());
    submit(&c, R1, 0).await;
    assert!(
        wait_until(Duration::from_secs(5), || b
            .with_core(|c| c.refused_at.len() == 1))
        .await
    );
    submit(&c, R1, 1).await;
    submit(&c, R2, 2).await;
    assert!(
        wait_until(Duration::from_millis(1500), || b
            .with_core(|c| c.seen.len() == 1))
        .await,
        "room two delivered while room one waits"
    );
    assert_eq!(
        b.with_core(|c| notifies(&c.seen)),
        vec![(R2.to_string(), 2)]
    );
    assert!(
        wait_until(Duration::from_secs(10), || b
            .with_core(|c| c.seen.len() == 3))
        .await
    );
    let got = b.with_core(|c| notifies(&c.seen));
    assert_eq!(
        got[1..],
        [(R1.to_string(), 0), (R1.to_string(), 1)],
        "room one in order after the wait"
    );
    a.shutdown().await;
    b.shutdown().await;
}
