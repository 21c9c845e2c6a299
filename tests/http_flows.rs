//! The six flows of protocol-06 §3 over loopback mutual-TLS HTTPS with the real provider
//! core (hub + follower) and real openmls clients; a follower down during fanout; a hub
//! restarted from its data directory.

mod http_support;

use std::time::Duration;

use http_support::{agree, alice_bob_cathy, federation};
use mimi_ref::policy::examples::{admin_roles, cooperative};
use mimi_ref::provider::node::{Federation, Got};
use mimi_ref::sim::user_uri;

const BOUND: Duration = Duration::from_secs(20);
const ORDINARY: u32 = admin_roles::ORDINARY_USER;

fn hub_epoch(f: &Federation, room: &str) -> u64 {
    f.nodes["a.example"]
        .provider()
        .with_core(|c| c.hub_state(room))
        .unwrap()
        .epoch
}

/// How many times `client` decrypted `text`.
fn decrypted(f: &Federation, client: &str, text: &[u8]) -> usize {
    let d = mimi_ref::uri::MimiUri::parse(client)
        .unwrap()
        .provider()
        .to_owned();
    f.nodes[&d]
        .client(client)
        .unwrap()
        .received
        .iter()
        .filter(|r| matches!(&r.got, Got::Application { data, .. } if data == text))
        .count()
}

/// Sets up alice@a, bob@b, cathy@c, the room on a, and Bob and Cathy in it (§3.1–§3.3).
async fn three_in_a_room(f: &mut Federation) -> (String, String, String, String) {
    let (alice, bob, cathy) = alice_bob_cathy(f, 3);
    let room = f
        .node("a.example")
        .unwrap()
        .create_room(
            &alice,
            "clubhouse",
            &cooperative(),
            admin_roles::SUPER_ADMIN,
        )
        .unwrap();
    f.settle(BOUND).await.unwrap();
    agree(f, &room);
    assert_eq!(hub_epoch(f, &room), 0);
    let c = f
        .node("a.example")
        .unwrap()
        .add_user(&alice, &room, &user_uri("b.example", "bob"), ORDINARY)
        .await
        .unwrap();
    assert!(c.ok(), "{c:?}");
    f.settle(BOUND).await.unwrap();
    agree(f, &room);
    assert_eq!(hub_epoch(f, &room), 1);
    assert_eq!(
        f.nodes["b.example"].client(&bob).unwrap().received[0].got,
        Got::Joined
    );
    let c = f
        .node("b.example")
        .unwrap()
        .add_user(&bob, &room, &user_uri("c.example", "cathy"), ORDINARY)
        .await
        .unwrap();
    assert!(c.ok(), "{c:?}");
    f.settle(BOUND).await.unwrap();
    agree(f, &room);
    assert_eq!(hub_epoch(f, &room), 2);
    (room, alice, bob, cathy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_flows_over_https() {
    let (mut f, dir) = federation("flows", false).await;
    let (room, alice, bob, cathy) = three_in_a_room(&mut f).await;

    // §3.4
    let (c, _) = f
        .node("c.example")
        .unwrap()
        .send_message(&cathy, &room, b"hello clubhouse")
        .await
        .unwrap();
    assert!(c.ok(), "{c:?}");
    f.settle(BOUND).await.unwrap();
    agree(&f, &room);
    assert_eq!(decrypted(&f, &alice, b"hello clubhouse"), 1);
    assert_eq!(decrypted(&f, &bob, b"hello clubhouse"), 1);

    // §3.5: proposals queued at the hub and the followers, then committed.
    let c = f
        .node("b.example")
        .unwrap()
        .leave(&bob, &room)
        .await
        .unwrap();
    assert!(c.ok(), "{c:?}");
    f.settle(BOUND).await.unwrap();
    agree(&f, &room);
    let hub = f.nodes["a.example"]
        .provider()
        .with_core(|c| c.hub_state(&room))
        .unwrap();
    assert_eq!(hub.pending_proposals.len(), 2);
    let c = f
        .node("a.example")
        .unwrap()
        .commit_pending(&alice, &room)
        .await
        .unwrap();
    assert!(c.ok(), "{c:?}");
    f.settle(BOUND).await.unwrap();
    agree(&f, &room);
    assert_eq!(hub_epoch(&f, &room), 3);
    assert!(f.nodes["b.example"].client_state(&bob, &room).is_none());

    // A removed client gets nothing more.
    let (c, _) = f
        .node("a.example")
        .unwrap()
        .send_message(&alice, &room, b"bob is gone")
        .await
        .unwrap();
    assert!(c.ok(), "{c:?}");
    f.settle(BOUND).await.unwrap();
    assert_eq!(decrypted(&f, &cathy, b"bob is gone"), 1);
    assert_eq!(decrypted(&f, &bob, b"bob is gone"), 0);

    // §3.6
    let cathy2 = f
        .node("c.example")
        .unwrap()
        .add_client("cathy", "2", 1)
        .unwrap();
    let c = f
        .node("c.example")
        .unwrap()
        .external_join(&cathy2, &room, ORDINARY)
        .await
        .unwrap();
    assert!(c.ok(), "{c:?}");
    f.settle(BOUND).await.unwrap();
    agree(&f, &room);
    assert_eq!(hub_epoch(&f, &room), 4);
    let (c, _) = f
        .node("c.example")
        .unwrap()
        .send_message(&cathy2, &room, b"from my tablet")
        .await
        .unwrap();
    assert!(c.ok(), "{c:?}");
    f.settle(BOUND).await.unwrap();
    agree(&f, &room);
    assert_eq!(decrypted(&f, &alice, b"from my tablet"), 1);
    assert_eq!(decrypted(&f, &cathy, b"from my tablet"), 1);

    // Refusals cross the wire too: Bob (gone) cannot send.
    let r = f
        .node("b.example")
        .unwrap()
        .send_message(&bob, &room, b"ghost")
        .await;
    assert!(r.is_err() || !r.unwrap().0.ok());
    f.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follower_down_during_fanout_gets_everything_once() {
    let (mut f, dir) = federation("down", true).await;
    let data = dir.join("data");
    let (room, alice, bob, cathy) = three_in_a_room(&mut f).await;

    let clients = f.stop("c.example").await.unwrap();
    let texts: Vec<Vec<u8>> = (0..5)
        .map(|i| format!("while c is down {i}").into_bytes())
        .collect();
    for t in &texts {
        let (c, _) = f
            .node("a.example")
            .unwrap()
            .send_message(&alice, &room, t)
            .await
            .unwrap();
        assert!(c.ok(), "{c:?}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let queued = f.nodes["a.example"]
        .provider()
        .queue_len("c.example")
        .unwrap();
    assert_eq!(queued, texts.len(), "the hub holds the notifies for c");

    f.restart("c.example", Some(&data), clients).await.unwrap();
    f.settle(BOUND).await.unwrap();
    agree(&f, &room);
    for t in &texts {
        assert_eq!(
            decrypted(&f, &cathy, t),
            1,
            "{}",
            String::from_utf8_lossy(t)
        );
        assert_eq!(decrypted(&f, &bob, t), 1);
    }
    // Exactly once at the follower level: every sequence number delivered once.
    let seqs: Vec<u64> = f.nodes["c.example"]
        .client(&cathy)
        .unwrap()
        .received
        .iter()
        .map(|d| d.seq)
        .collect();
    let mut dedup = seqs.clone();
    dedup.dedup();
    assert_eq!(seqs, dedup, "no sequence number delivered twice");
    assert_eq!(
        f.nodes["a.example"]
            .provider()
            .queue_len("c.example")
            .unwrap(),
        0
    );
    f.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_restart_loses_nothing_acknowledged() {
    let (mut f, dir) = federation("restart", true).await;
    let data = dir.join("data");
    let (room, alice, _bob, cathy) = three_in_a_room(&mut f).await;
    let (c, _) = f
        .node("c.example")
        .unwrap()
        .send_message(&cathy, &room, b"before the restart")
        .await
        .unwrap();
    assert!(c.ok());
    f.settle(BOUND).await.unwrap();
    let before = f.nodes["a.example"]
        .provider()
        .with_core(|c| (c.hub_state(&room), c.follower_state(&room)));
    assert!(before.0.is_some());

    let clients = f.stop("a.example").await.unwrap();
    // While the hub is down its room's requests fail (no silent acceptance).
    let r = f
        .node("c.example")
        .unwrap()
        .send_message(&cathy, &room, b"lost while down")
        .await;
    assert!(r.is_err(), "{r:?}");
    f.restart("a.example", Some(&data), clients).await.unwrap();
    let after = f.nodes["a.example"]
        .provider()
        .with_core(|c| (c.hub_state(&room), c.follower_state(&room)));
    assert_eq!(
        before, after,
        "the replayed hub and follower equal the ones before"
    );

    // It resumes: a commit (new epoch) and a message go through.
    let c = f
        .node("a.example")
        .unwrap()
        .commit_pending(&alice, &room)
        .await
        .unwrap();
    assert!(c.ok(), "{c:?}");
    f.settle(BOUND).await.unwrap();
    let (c, _) = f
        .node("c.example")
        .unwrap()
        .send_message(&cathy, &room, b"after the restart")
        .await
        .unwrap();
    assert!(c.ok(), "{c:?}");
    f.settle(BOUND).await.unwrap();
    agree(&f, &room);
    assert_eq!(hub_epoch(&f, &room), 3);
    assert_eq!(decrypted(&f, &alice, b"after the restart"), 1);
    assert_eq!(
        decrypted(&f, &alice, b"before the restart"),
        1,
        "not re-delivered"
    );
    f.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn demo_binary_exits_zero() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mimi-ref"))
        .arg("demo")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("/submitMessage"), "{stdout}");
    assert!(
        stdout.contains("all parties agree with the hub"),
        "{stdout}"
    );
    assert!(stdout.matches("/notify").count() >= 10, "{stdout}");
}
