//! The hub's signing key survives a restart (it is the room's MLS external sender,
//! protocol-06 §5.3): a hub restarted from its data directory still originates
//! proposals the members accept, over loopback mutual-TLS HTTPS with the real
//! provider cores and openmls clients.

mod http_support;

use std::time::Duration;

use http_support::{agree, alice_bob_cathy, federation};
use mimi_ref::policy::examples::{admin_roles, cooperative};
use mimi_ref::provider::node::Federation;
use mimi_ref::provider::HUB_KEY_FILE;
use mimi_ref::sim::user_uri;

const BOUND: Duration = Duration::from_secs(20);
const ORDINARY: u32 = admin_roles::ORDINARY_USER;

fn hub_state(f: &Federation, room: &str) -> mimi_ref::sim::ProjectedState {
    f.nodes["a.example"]
        .provider()
        .with_core(|c| c.hub_state(room))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_hub_still_originates_accepted_proposals() {
    let (mut f, dir) = federation("hub-key", true).await;
    let data = dir.join("data");
    let (alice, bob, cathy) = alice_bob_cathy(&mut f, 3);
    let room = f
        .room_with_users(
            &alice,
            "clubhouse",
            &cooperative(),
            admin_roles::SUPER_ADMIN,
            &[user_uri("b.example", "bob"), user_uri("c.example", "cathy")],
            ORDINARY,
            BOUND,
        )
        .await
        .unwrap();
    agree(&f, &room);
    let key_file = data.join("a.example").join(HUB_KEY_FILE);
    let key_before = std::fs::read(&key_file).expect("the hub key is in the data dir");
    let before = hub_state(&f, &room);

    // Restart the hub's provider from its data directory.
    let clients = f.stop("a.example").await.unwrap();
    f.restart("a.example", Some(&data), clients).await.unwrap();
    assert_eq!(std::fs::read(&key_file).unwrap(), key_before, "key kept");
    assert_eq!(hub_state(&f, &room), before, "the journal replays the room");

    // The hub removes Bob on its own authority; the members accept its proposals.
    f.node("a.example")
        .unwrap()
        .hub_remove_user(&room, &user_uri("b.example", "bob"))
        .unwrap();
    f.settle(BOUND).await.unwrap();
    assert_eq!(hub_state(&f, &room).pending_proposals.len(), 1);
    agree(&f, &room);
    let c = f
        .node("c.example")
        .unwrap()
        .commit_pending(&cathy, &room)
        .await
        .unwrap();
    assert!(c.ok(), "{c:?}");
    f.settle(BOUND).await.unwrap();
    agree(&f, &room);
    let after = hub_state(&f, &room);
    assert_eq!(after.epoch, before.epoch + 1);
    assert!(!after.members.contains(&bob), "{after:?}");
    assert!(
        !after
            .participants
            .iter()
            .any(|(u, _)| *u == user_uri("b.example", "bob")),
        "{after:?}"
    );
    f.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}
