//! More than one room (configuration `rooms = N`): every room has its own hub state,
//! provider views, client group state and in-flight requests; properties quantify over
//! rooms; fanout of a room reaches only providers with participants in it.

use mimi_model::cli::{check, prepare, Strategy, Verdict};
use mimi_model::state::{in_room, swap_room, Action};
use mimi_model::MimiModel;
use stateright::Model;

#[test]
fn a_one_room_config_has_no_extra_room_state() {
    let m = MimiModel::new(prepare("small", &[], &None).expect("cfg"));
    let s = m.init_states().remove(0);
    assert!(s.others.is_empty());
    assert_eq!(s.cur_room, 0);
    // and no action is ever wrapped in a room
    let s1 = m.next_state(&s, Action::Create).expect("create");
    let mut acts = Vec::new();
    m.actions(&s1, &mut acts);
    assert!(!acts.iter().any(|a| matches!(a, Action::InRoom(..))));
}

#[test]
fn rooms_are_created_and_changed_independently() {
    let m = MimiModel::new(prepare("two-rooms", &[], &None).expect("cfg"));
    let s0 = m.init_states().remove(0);
    assert_eq!(s0.others.len(), 1);
    let s1 = m.next_state(&s0, Action::Create).expect("room 0");
    assert!(s1.created && !s1.others[0].created);
    let mut acts = Vec::new();
    m.actions(&s1, &mut acts);
    let create1 = Action::InRoom(1, Box::new(Action::Create));
    assert!(acts.contains(&create1), "{acts:?}");
    let s2 = m.next_state(&s1, create1).expect("room 1");
    assert!(s2.others[0].created);
    assert_eq!(
        s2.cur_room, 0,
        "stored states hold room 0 in the main fields"
    );
    // alice fetches bob's KeyPackages in room 1: room 1's hub records the route, room 0's not
    let s3 = m
        .next_state(
            &s2,
            Action::InRoom(
                1,
                Box::new(Action::Fetch {
                    client: 0,
                    target: 1,
                }),
            ),
        )
        .expect("fetch in room 1");
    assert!(s3.hub.kp_route.is_empty());
    assert_eq!(s3.others[0].hub.kp_route.len(), 1);
    // one-time KeyPackages are global: bob has none left for room 0
    assert_eq!(s3.clients[1].kps_left, 0);
    // swapping twice is the identity
    let mut t = s3.clone();
    swap_room(&mut t, 1);
    assert_eq!(t.cur_room, 1);
    assert_eq!(t.others[0].hub.kp_route.len(), 0);
    swap_room(&mut t, 1);
    assert_eq!(t, s3);
    assert_eq!(in_room(&s3, 1).hub.kp_route.len(), 1);
}

#[test]
fn two_rooms_hold_and_reach_diverging_rooms() {
    let r = check(
        prepare("two-rooms", &[], &None).expect("cfg"),
        &[],
        Strategy::Bfs,
        0,
        2,
        None,
        false,
    )
    .expect("runs");
    assert!(!r.failed(), "{}", mimi_model::cli::render_text(&r));
    assert_eq!(r.verdict("P-ROOM-ISOLATION"), Some(Verdict::Holds));
    assert_eq!(r.verdict("P-FANOUT-SCOPE"), Some(Verdict::Holds));
    assert_eq!(r.verdict("P-REACH-ROOMS-DIVERGE"), Some(Verdict::Witnessed));
}

#[test]
fn room_mutations_break_isolation_and_fanout_scope() {
    for (mutation, property) in [
        ("hub-fans-out-to-all-providers", "P-FANOUT-SCOPE"),
        ("follower-delivers-to-all-clients", "P-ROOM-ISOLATION"),
    ] {
        let cfg = prepare("two-rooms", &[], &Some(mutation.into())).expect("cfg");
        let r = check(cfg, &[property.into()], Strategy::Bfs, 0, 1, None, false).expect("runs");
        assert_eq!(r.verdict(property), Some(Verdict::Violated), "{mutation}");
        let chart = &r.properties[0].counterexample;
        assert!(
            chart
                .iter()
                .any(|l| l.endpoint.contains("/notify") || l.endpoint.contains("submitMessage")),
            "{mutation}: {chart:#?}"
        );
        // multi-room charts name the room of every line
        assert!(
            chart
                .iter()
                .filter(|l| !l.endpoint.starts_with("!!"))
                .all(|l| l.fields.starts_with("roomId=r")),
            "{chart:#?}"
        );
    }
}

#[test]
fn rooms_field_is_validated() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/configs/two-rooms.toml"
    ))
    .expect("read");
    let bad = text.replace("rooms = 2", "rooms = 0");
    assert!(matches!(
        mimi_model::config::Config::parse("x", &bad),
        Err(mimi_model::config::ConfigError::Invalid { field: "rooms", .. })
    ));
}
