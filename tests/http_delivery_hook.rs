//! The delivery hook of the HTTPS provider node ([`Federation::subscribe_deliveries`]):
//! it fires exactly once per delivered message per recipient client, with the same record
//! the client keeps, and only for what was processed after subscribing. Not timed.

mod http_support;

use std::collections::BTreeMap;
use std::time::Duration;

use http_support::{agree, alice_bob_cathy, federation};
use mimi_ref::policy::examples::{admin_roles, cooperative};
use mimi_ref::provider::node::Got;
use mimi_ref::sim::user_uri;

const BOUND: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hook_fires_once_per_delivered_message_per_recipient() {
    let (mut f, dir) = federation("hook", false).await;
    let (alice, bob, cathy) = alice_bob_cathy(&mut f, 1);
    let room = f
        .room_with_users(
            &alice,
            "hook",
            &cooperative(),
            admin_roles::SUPER_ADMIN,
            &[user_uri("b.example", "bob"), user_uri("c.example", "cathy")],
            admin_roles::ORDINARY_USER,
            BOUND,
        )
        .await
        .unwrap();
    agree(&f, &room);
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
