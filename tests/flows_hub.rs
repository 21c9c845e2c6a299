//! The six flows of protocol-06 §3 end to end through hub, followers and real
//! openmls clients across three providers (`a.example` hosts the room,
//! `b.example` and `c.example` follow), under the cooperative policy of
//! room-policy-03 Appendix A.1. After each step every party's room state
//! matches the hub's, every current member decrypted every message, and a
//! removed client cannot decrypt what is sent after its removal.

use mimi_ref::policy::examples::{admin_roles, cooperative};
use mimi_ref::sim::{user_uri, Delivered, NetMode, SimConfig, World};

const ORDINARY: u32 = admin_roles::ORDINARY_USER;
const SUPER: u32 = admin_roles::SUPER_ADMIN;

fn step_ok(w: &mut World, room: &str) {
    w.run_until_quiescent().unwrap();
    assert!(w.anomalies().is_empty(), "anomalies: {:?}", w.anomalies());
    w.check_consistent(room).unwrap();
}

/// Every accepted message was decrypted exactly once by every member of the
/// group at acceptance other than its sender (who gets its own echo).
fn assert_all_decrypted(w: &World) {
    for m in w.accepted_messages() {
        for member in &m.members_at_acceptance {
            let got: Vec<&Delivered> = w
                .received(member)
                .iter()
                .filter(|d| d.message_hash == m.message_hash)
                .map(|d| &d.outcome)
                .collect();
            if *member == m.sender {
                assert_eq!(got, vec![&Delivered::OwnEcho], "{member} own echo");
            } else {
                assert_eq!(
                    got,
                    vec![&Delivered::Application {
                        sender: m.sender.clone(),
                        data: m.data.clone()
                    }],
                    "{member} decrypts {:?}",
                    String::from_utf8_lossy(&m.data)
                );
            }
        }
    }
}

fn run_six_flows(net: NetMode, seed: u64) {
    let mut w = World::new(
        seed,
        SimConfig {
            net,
            ..SimConfig::default()
        },
    );
    let alice = w.add_client("a.example", "alice", "1").unwrap();
    let bob = w.add_client("b.example", "bob", "1").unwrap();
    let cathy = w.add_client("c.example", "cathy", "1").unwrap();

    // §3.1 Alice creates the room on her provider's hub.
    let (room, o) = w
        .create_room(&alice, "clubhouse", &cooperative(), SUPER)
        .unwrap();
    assert!(o.accepted(), "{o:?}");
    step_ok(&mut w, &room);
    let hub = w.hub_state(&room).unwrap();
    assert_eq!(hub.epoch, 0);
    assert_eq!(
        hub.participants,
        vec![(user_uri("a.example", "alice"), SUPER)]
    );

    // §3.2 Alice adds Bob: /keyMaterial through the hub, then one commit with
    // the participant-list addition and the MLS Add; Bob joins from the Welcome.
    let o = w
        .add_user(&alice, &room, &user_uri("b.example", "bob"), ORDINARY)
        .unwrap();
    assert!(o.accepted(), "{o:?}");
    step_ok(&mut w, &room);
    assert_eq!(
        w.received(&bob).first().map(|d| &d.outcome),
        Some(&Delivered::Joined)
    );
    let hub = w.hub_state(&room).unwrap();
    assert_eq!(hub.epoch, 1);
    assert_eq!(hub.members.len(), 2);
    assert!(
        w.follower_state("b.example", &room).is_some(),
        "b follows the room"
    );

    // §3.3 Bob adds Cathy (ordinary users may add, 0 → 2).
    let o = w
        .add_user(&bob, &room, &user_uri("c.example", "cathy"), ORDINARY)
        .unwrap();
    assert!(o.accepted(), "{o:?}");
    step_ok(&mut w, &room);
    assert_eq!(w.hub_state(&room).unwrap().epoch, 2);
    assert_eq!(w.hub_state(&room).unwrap().participants.len(), 3);

    // §3.4 Cathy sends a message; Alice and Bob decrypt it.
    let o = w.send_message(&cathy, &room, b"hello clubhouse").unwrap();
    assert!(o.accepted(), "{o:?}");
    step_ok(&mut w, &room);
    assert_all_decrypted(&w);

    // §3.5 Bob leaves: participant-list removal + SelfRemove as one proposal
    // bundle, queued by the hub; Alice commits the queued proposals.
    let o = w.leave(&bob, &room).unwrap();
    assert!(o.accepted(), "{o:?}");
    step_ok(&mut w, &room);
    assert_eq!(w.hub_state(&room).unwrap().pending_proposals.len(), 2);
    assert_eq!(
        w.follower_state("c.example", &room)
            .unwrap()
            .pending_proposals
            .len(),
        2,
        "followers queue the proposals too"
    );
    let o = w.commit_pending(&alice, &room).unwrap();
    assert!(o.accepted(), "{o:?}");
    step_ok(&mut w, &room);
    let hub = w.hub_state(&room).unwrap();
    assert_eq!(hub.epoch, 3);
    assert!(!hub.members.contains(&bob));
    assert!(!hub.participants.iter().any(|(u, _)| u.contains("bob")));
    assert!(matches!(
        w.received(&bob).last().map(|d| &d.outcome),
        Some(Delivered::Commit {
            removed_self: true,
            ..
        })
    ));
    assert!(w.client_state(&bob, &room).is_none());

    // A removed client cannot decrypt what is sent after its removal.
    let o = w.send_message(&alice, &room, b"bob is gone").unwrap();
    assert!(o.accepted(), "{o:?}");
    step_ok(&mut w, &room);
    let after = w.accepted_messages().last().unwrap().message.clone();
    assert!(w.client_mut(&bob).unwrap().process(&after).is_err());
    assert!(
        !w.received(&bob).iter().any(|d| matches!(d.outcome, Delivered::Application { ref data, .. } if data == b"bob is gone")),
        "the follower stopped delivering to Bob"
    );

    // §3.6 Cathy adds a second device by external commit with the hub's GroupInfo.
    let cathy2 = w.add_client("c.example", "cathy", "2").unwrap();
    let o = w.external_join(&cathy2, &room, ORDINARY).unwrap();
    assert!(o.accepted(), "{o:?}");
    step_ok(&mut w, &room);
    let hub = w.hub_state(&room).unwrap();
    assert_eq!(hub.epoch, 4);
    assert!(hub.members.contains(&cathy2));

    let o = w.send_message(&cathy2, &room, b"from my tablet").unwrap();
    assert!(o.accepted(), "{o:?}");
    step_ok(&mut w, &room);
    assert_all_decrypted(&w);
    let last = w.accepted_messages().last().unwrap().message.clone();
    assert!(w.client_mut(&bob).unwrap().process(&last).is_err());
    // Every follower with active participants holds the hub's state.
    for p in ["a.example", "c.example"] {
        assert_eq!(w.follower_state(p, &room), w.hub_state(&room), "{p}");
    }
}

#[test]
fn six_flows_in_order() {
    run_six_flows(NetMode::Ordered, 1);
}

#[test]
fn six_flows_under_chaos() {
    run_six_flows(NetMode::Chaos, 7);
}

/// Moderation through the hub: kick, ban (clients removed in the same commit),
/// a banned user refused at `/groupInfo`, unban, and rejoin by external commit.
#[test]
fn kick_ban_unban_and_rejoin() {
    let mut w = World::new(5, SimConfig::default());
    let alice = w.add_client("a.example", "alice", "1").unwrap();
    let bob = w.add_client("b.example", "bob", "1").unwrap();
    let cathy = w.add_client("c.example", "cathy", "1").unwrap();
    let (room, _) = w.create_room(&alice, "mod", &cooperative(), SUPER).unwrap();
    for u in [user_uri("b.example", "bob"), user_uri("c.example", "cathy")] {
        assert!(w.add_user(&alice, &room, &u, ORDINARY).unwrap().accepted());
        step_ok(&mut w, &room);
    }
    let bob_user = user_uri("b.example", "bob");
    let cathy_user = user_uri("c.example", "cathy");

    // Kick (canKick): Cathy's client leaves the group, Cathy stays listed.
    let o = w.kick(&alice, &room, &cathy).unwrap();
    assert!(o.accepted(), "{o:?}");
    step_ok(&mut w, &room);
    let hub = w.hub_state(&room).unwrap();
    assert!(!hub.members.contains(&cathy));
    assert!(hub.participants.contains(&(cathy_user.clone(), ORDINARY)));
    // Still listed with canAddOwnClient: Cathy's client may come back.
    let o = w.external_join(&cathy, &room, ORDINARY).unwrap();
    assert!(o.accepted(), "{o:?}");
    step_ok(&mut w, &room);

    // Ban (canBan): role 1 and Bob's client removed in the same commit.
    let o = w.ban(&alice, &room, &bob_user).unwrap();
    assert!(o.accepted(), "{o:?}");
    step_ok(&mut w, &room);
    let hub = w.hub_state(&room).unwrap();
    assert!(hub
        .participants
        .contains(&(bob_user.clone(), admin_roles::BANNED)));
    assert!(!hub.members.contains(&bob));
    // A banned user cannot get the GroupInfo to rejoin.
    let o = w.external_join(&bob, &room, ORDINARY).unwrap();
    assert_eq!(o.code, "notAuthorized", "{o:?}");
    assert!(
        o.description.starts_with("policy.missing-capability"),
        "{o:?}"
    );

    // Unban (canUnBan) back to ordinary, then Bob rejoins by external commit.
    let o = w.unban(&alice, &room, &bob_user, ORDINARY).unwrap();
    assert!(o.accepted(), "{o:?}");
    step_ok(&mut w, &room);
    let o = w.external_join(&bob, &room, ORDINARY).unwrap();
    assert!(o.accepted(), "{o:?}");
    step_ok(&mut w, &room);
    assert!(w.hub_state(&room).unwrap().members.contains(&bob));
    let o = w.send_message(&bob, &room, b"back again").unwrap();
    assert!(o.accepted(), "{o:?}");
    step_ok(&mut w, &room);
    assert_all_decrypted(&w);
}
