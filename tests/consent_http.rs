//! Explicit consent over the real HTTPS shell (protocol-06 §5.7 `requestConsent` /
//! `updateConsent`, mutual TLS on loopback) and its effect on a `/keyMaterial` fetch
//! relayed through the hub (§5.2): refused, requested, granted, fetched, revoked, refused.

mod http_support;

use std::time::{Duration, Instant};

use mimi_ref::http::delivery::RetryPolicy;
use mimi_ref::http::Endpoint;
use mimi_ref::policy::examples::{admin_roles, cooperative};
use mimi_ref::provider::node::Federation;
use mimi_ref::sim::user_uri;
use mimi_ref::wire::mls::AppDataDictionary;
use mimi_ref::wire::{ConsentEntry, ConsentOp, IdentifierUri};

const BOUND: Duration = Duration::from_secs(20);

fn entry(op: ConsentOp, requester: &str, target: &str) -> ConsentEntry {
    ConsentEntry {
        operation: op,
        requester_uri: IdentifierUri::new(requester),
        target_uri: IdentifierUri::new(target),
        room_id: None,
        consent_extensions: AppDataDictionary::default(),
    }
}

/// Polls `cond` on the federation every 5 ms until it holds (at most [`BOUND`]).
async fn until(f: &Federation, what: &str, cond: impl Fn(&Federation) -> bool) {
    let end = Instant::now() + BOUND;
    while !cond(f) {
        assert!(Instant::now() < end, "not within {BOUND:?}: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn received(f: &Federation) -> usize {
    f.nodes["a.example"]
        .provider()
        .with_core(|c| c.follower().consent_received().len())
}

fn statuses(f: &Federation, endpoint: Endpoint) -> Vec<u16> {
    f.log
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.endpoint == endpoint)
        .map(|r| r.status)
        .collect()
}

fn km_answers(f: &Federation, code: &str) -> usize {
    f.log
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.endpoint == Endpoint::KeyMaterial && r.to == "b.example")
        .filter(|r| r.summary.ends_with(&format!("-> {code} (0 client(s))")))
        .count()
}

/// alice@a's relayed `/keyMaterial` fetch of `target`'s KeyPackages (§5.2).
async fn fetch(f: &mut Federation, alice: &str, room: &str, target: &str) -> Vec<Vec<u8>> {
    f.node("a.example")
        .unwrap()
        .fetch_key_packages(alice, room, target)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_round_trip_over_https() {
    let dir = http_support::temp_dir("consent");
    let retry = RetryPolicy {
        initial: Duration::from_millis(10),
        max: Duration::from_millis(200),
        request_timeout: Duration::from_secs(5),
        ..RetryPolicy::default()
    };
    let mut f = Federation::start(&["a.example", "b.example"], &dir.join("certs"), None, retry)
        .await
        .unwrap();
    let alice = f
        .node("a.example")
        .unwrap()
        .add_client("alice", "1", 2)
        .unwrap();
    f.node("b.example")
        .unwrap()
        .add_client("bob", "1", 2)
        .unwrap();
    let (alice_u, bob_u) = (user_uri("a.example", "alice"), user_uri("b.example", "bob"));
    let room = f
        .node("a.example")
        .unwrap()
        .create_room(&alice, "consent", &cooperative(), admin_roles::SUPER_ADMIN)
        .unwrap();
    f.settle(BOUND).await.unwrap();

    // No consent: the relayed fetch gets noConsent from Bob's provider (§5.2).
    let kps = fetch(&mut f, &alice, &room, &bob_u).await;
    assert!(kps.is_empty());
    assert_eq!(km_answers(&f, "noConsent"), 1);

    // Alice asks: requestConsent a → b, answered 201.
    f.node("a.example")
        .unwrap()
        .user_consent(&entry(ConsentOp::Request, &alice_u, &bob_u))
        .unwrap();
    until(&f, "the request reaches b", |f| {
        f.nodes["b.example"]
            .provider()
            .with_core(|c| c.follower().consent_requests().len() == 1)
    })
    .await;
    assert_eq!(statuses(&f, Endpoint::RequestConsent), vec![201]);

    // Bob grants: updateConsent b → a, answered 201; the fetch succeeds.
    let grant = ConsentOp::Grant {
        client_key_packages: Vec::new(),
    };
    f.node("b.example")
        .unwrap()
        .user_consent(&entry(grant, &alice_u, &bob_u))
        .unwrap();
    until(&f, "the grant reaches a", |f| received(f) == 1).await;
    assert_eq!(statuses(&f, Endpoint::UpdateConsent), vec![201]);
    let kps = fetch(&mut f, &alice, &room, &bob_u).await;
    assert_eq!(kps.len(), 1);

    // Bob revokes: refused again.
    f.node("b.example")
        .unwrap()
        .user_consent(&entry(ConsentOp::Revoke, &alice_u, &bob_u))
        .unwrap();
    until(&f, "the revoke reaches a", |f| received(f) == 0).await;
    assert_eq!(statuses(&f, Endpoint::UpdateConsent), vec![201, 201]);
    let kps = fetch(&mut f, &alice, &room, &bob_u).await;
    assert!(kps.is_empty());
    assert_eq!(km_answers(&f, "noConsent"), 2);
    f.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
