//! The delivery hook of the HTTPS provider node ([`Federation::subscribe_deliveries`]):
//! it fires exactly once per delivered message per recipient client, with the same record
//! the client keeps, and only for what was processed after subscribing. Not timed.

use std::collections::BTreeMap;
use std::time::Duration;

use mimi_ref::http::delivery::RetryPolicy;
use mimi_ref::policy::examples::{admin_roles, cooperative};
use mimi_ref::provider::node::{Federation, Got};
use mimi_ref::sim::user_uri;

const BOUND: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hook_fires_once_per_delivered_message_per_recipient() {
    let dir = std::env::temp_dir().join(format!("mimi-ref-hook-{}", std::process::id()));
    let retry = RetryPolicy {
        initial: Duration::from_millis(10),
        max: Duration::from_millis(200),
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
        .create_room(&alice, "hook", &cooperative(), admin_roles::SUPER_ADMIN)
        .unwrap();
    for u in [user_uri("b.example", "bob"), user_uri("c.example", "cathy")] {
        let code = f
            .node("a.example")
            .unwrap()
            .add_user(&alice, &room, &u, admin_roles::ORDINARY_USER)
            .await
            .unwrap();
        assert!(code.ok(), "{code:?}");
        f.settle(BOUND).await.unwrap();
    }
    // What each client had processed before subscribing is not reported.
    let before: BTreeMap<String, usize> = [&alice, &bob, &cathy]
        .iter()
        .map(|c| {
            (
                c.to_string(),
                f.node_of(c).unwrap().client(c).unwrap().received.len(),
            )
        })
        .collect();
    let mut rx = f.subscribe_deliveries();

    let mut sent = Vec::new();
    for k in 0..4u8 {
        for s in [&bob, &cathy, &alice] {
            let (code, h) = f
                .node_of(s)
                .unwrap()
                .send_message(s, &room, &[b'm', k])
                .await
                .unwrap();
            assert!(code.ok(), "{code:?}");
            sent.push((s.to_string(), h));
        }
    }
    f.settle(BOUND).await.unwrap();

    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    // Every recipient (sender included: it gets its own message back) processed every
    // message; the hook reported each (recipient, message) exactly once.
    let mut count: BTreeMap<(String, String), usize> = BTreeMap::new();
    for e in &events {
        *count
            .entry((e.client.clone(), e.delivery.hash.clone()))
            .or_default() += 1;
    }
    for (sender, h) in &sent {
        for r in [&alice, &bob, &cathy] {
            assert_eq!(
                count.get(&(r.to_string(), h.clone())),
                Some(&1),
                "message {h} of {sender} at {r}: {events:#?}"
            );
        }
    }
    // Nothing else was reported, and each event is the client's own record.
    assert_eq!(events.len(), sent.len() * 3, "{events:#?}");
    for c in [&alice, &bob, &cathy] {
        let received = &f.node_of(c).unwrap().client(c).unwrap().received;
        let new: Vec<_> = received[before[c.as_str()]..].iter().collect();
        let mine: Vec<_> = events.iter().filter(|e| &e.client == c).collect();
        assert_eq!(new.len(), mine.len(), "{c}");
        for (d, e) in new.iter().zip(&mine) {
            assert_eq!(
                (d.hash.as_str(), d.seq, d.at),
                (e.delivery.hash.as_str(), e.delivery.seq, e.delivery.at)
            );
            if e.client
                != sent
                    .iter()
                    .find(|(_, h)| *h == d.hash)
                    .map(|(s, _)| s.clone())
                    .unwrap()
            {
                assert!(matches!(d.got, Got::Application { .. }), "{:?}", d.got);
            }
        }
    }
    // A dropped receiver is forgotten; nothing breaks.
    drop(rx);
    let (code, _) = f
        .node_of(&bob)
        .unwrap()
        .send_message(&bob, &room, b"after")
        .await
        .unwrap();
    assert!(code.ok());
    f.settle(BOUND).await.unwrap();
    f.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}
