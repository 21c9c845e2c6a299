//! The follower (protocol-06 §5.2 `/keyMaterial`, §5.5 `/notify`): the
//! KeyPackage store's guarantees, every status code, and that refusals leave
//! the follower byte-for-byte unchanged; ordered, de-duplicated delivery.

use std::collections::BTreeMap;
use std::sync::Arc;

use mimi_ref::client::Client;
use mimi_ref::follower::{Follower, FollowerError, FollowerInput, FollowerOutput};
use mimi_ref::hub::{Hub, HubInput, HubOutput};
use mimi_ref::policy::examples::{admin_roles, cooperative};
use mimi_ref::policy::BaseRoomPolicy;
use mimi_ref::room::mimi::{initial_dictionary, room_metadata, MimiLogic};
use mimi_ref::sim::{key_material_request, user_uri, SimConfig, World};
use mimi_ref::uri::{MimiUri, UriKind};
use mimi_ref::wire::{
    encode, ClientKeyMaterialStatus, IdentifierUri, KeyMaterialClientCode, KeyMaterialResponse,
    KeyMaterialUserCode, Protocol, SubmitMessageRequest,
};
use openmls::prelude::{ExtensionType, ProposalType, RequiredCapabilitiesExtension};

const SUITE: u16 = 0x0001;

fn profile_caps() -> RequiredCapabilitiesExtension {
    RequiredCapabilitiesExtension::new(
        &[ExtensionType::AppDataDictionary],
        &[ProposalType::AppDataUpdate, ProposalType::SelfRemove],
        &[],
    )
}

/// A world with Alice's room on a.example and Dave (two KeyPackages) on c.example.
fn world(consent_all: bool) -> (World, String, String, String) {
    let mut w = World::new(
        11,
        SimConfig {
            key_packages_per_client: 2,
            consent_all,
            ..SimConfig::default()
        },
    );
    let alice = w.add_client("a.example", "alice", "1").unwrap();
    let dave = w.add_client("c.example", "dave", "1").unwrap();
    let (room, o) = w
        .create_room(&alice, "r", &cooperative(), admin_roles::SUPER_ADMIN)
        .unwrap();
    assert!(o.accepted());
    (w, alice, dave, room)
}

fn snap(w: &World, p: &str) -> Vec<u8> {
    w.follower(p).unwrap().snapshot()
}

/// Ask c.example's follower directly (as the hub's relay would) at `now_ms`.
fn ask(
    w: &mut World,
    requester: &str,
    room: &str,
    target: &str,
    suites: &[u16],
    caps: &RequiredCapabilitiesExtension,
    now_ms: u64,
) -> KeyMaterialResponse {
    let req =
        key_material_request(w.client(requester).unwrap(), room, target, suites, caps).unwrap();
    let out = w.follower_mut("c.example").unwrap().handle(
        now_ms,
        FollowerInput::KeyMaterial {
            request_id: 1,
            body: encode(&req).unwrap(),
        },
    );
    match out.into_iter().next() {
        Some(FollowerOutput::KeyMaterialAnswer { response, .. }) => response,
        other => panic!("expected an answer, got {other:?}"),
    }
}

#[test]
fn key_packages_are_handed_out_once_and_then_exhausted() {
    let (mut w, alice, dave, room) = world(true);
    let dave_user = user_uri("c.example", "dave");
    assert_eq!(w.follower("c.example").unwrap().key_packages_left(&dave), 2);
    let (o1, k1) = w.fetch_key_packages(&alice, &room, &dave_user).unwrap();
    let (o2, k2) = w.fetch_key_packages(&alice, &room, &dave_user).unwrap();
    assert_eq!((o1.code.as_str(), o2.code.as_str()), ("success", "success"));
    assert_eq!((k1.len(), k2.len()), (1, 1));
    assert_ne!(k1, k2, "a KeyPackage is never returned twice");
    assert_eq!(w.follower("c.example").unwrap().key_packages_left(&dave), 0);
    let now = w.now_ms();
    let r = ask(
        &mut w,
        &alice,
        &room,
        &dave_user,
        &[SUITE],
        &profile_caps(),
        now,
    );
    assert_eq!(r.user_status, KeyMaterialUserCode::NoCompatibleMaterial);
    assert_eq!(r.clients.len(), 1);
    assert_eq!(
        r.clients[0].status.code(),
        KeyMaterialClientCode::KeyMaterialExhausted
    );
}

#[test]
fn refusals_leave_the_store_unchanged() {
    let (mut w, alice, dave, room) = world(false);
    let dave_user = user_uri("c.example", "dave");
    let alice_user = user_uri("a.example", "alice");
    let now = w.now_ms();
    let check = |w: &mut World, target: &str, code: KeyMaterialUserCode| {
        let before = snap(w, "c.example");
        let r = ask(w, &alice, &room, target, &[SUITE], &profile_caps(), now);
        assert_eq!(r.user_status, code);
        assert!(r.clients.is_empty());
        assert!(
            snap(w, "c.example") == before,
            "{code:?} changed the follower"
        );
    };
    // No consent recorded for Dave at all.
    check(&mut w, &dave_user, KeyMaterialUserCode::NoConsent);
    // An unknown user.
    check(
        &mut w,
        "mimi://c.example/u/nobody",
        KeyMaterialUserCode::UserUnknown,
    );
    // Consent for another room only.
    let mut only_other = BTreeMap::new();
    only_other.insert(
        alice_user.clone(),
        Some(
            ["mimi://a.example/r/other".to_owned()]
                .into_iter()
                .collect(),
        ),
    );
    w.follower_mut("c.example").unwrap().handle(
        now,
        FollowerInput::SetConsent {
            user: dave_user.clone(),
            allowed: only_other,
        },
    );
    check(
        &mut w,
        &dave_user,
        KeyMaterialUserCode::NoConsentForThisRoom,
    );

    // With consent for this room: nothing compatible with another suite or an
    // unsupported required extension, and nothing is consumed.
    let mut this_room = BTreeMap::new();
    this_room.insert(
        alice_user.clone(),
        Some([room.clone()].into_iter().collect()),
    );
    w.follower_mut("c.example").unwrap().handle(
        now,
        FollowerInput::SetConsent {
            user: dave_user.clone(),
            allowed: this_room,
        },
    );
    for (suites, caps) in [
        (vec![0x0003u16], profile_caps()),
        (
            vec![SUITE],
            RequiredCapabilitiesExtension::new(&[ExtensionType::Unknown(0xff00)], &[], &[]),
        ),
    ] {
        let before = snap(&w, "c.example");
        let r = ask(&mut w, &alice, &room, &dave_user, &suites, &caps, now);
        assert_eq!(r.user_status, KeyMaterialUserCode::NoCompatibleMaterial);
        assert!(matches!(
            r.clients[0].status,
            ClientKeyMaterialStatus::NothingCompatible { .. }
        ));
        assert!(snap(&w, "c.example") == before);
    }
    assert_eq!(w.follower("c.example").unwrap().key_packages_left(&dave), 2);
    let r = ask(
        &mut w,
        &alice,
        &room,
        &dave_user,
        &[SUITE],
        &profile_caps(),
        now,
    );
    assert_eq!(r.user_status, KeyMaterialUserCode::Success);

    // Expired KeyPackages are never handed out.
    let far_future = now + 10 * 365 * 24 * 3600 * 1000;
    let r = ask(
        &mut w,
        &alice,
        &room,
        &dave_user,
        &[SUITE],
        &profile_caps(),
        far_future,
    );
    assert_eq!(r.user_status, KeyMaterialUserCode::NoCompatibleMaterial);
    assert_eq!(
        r.clients[0].status.code(),
        KeyMaterialClientCode::KeyMaterialExhausted
    );

    // A request altered after signing is refused outright.
    let mut tampered = key_material_request(
        w.client(&alice).unwrap(),
        &room,
        &dave_user,
        &[SUITE],
        &profile_caps(),
    )
    .unwrap();
    tampered
        .acceptable_ciphersuites
        .push(mimi_ref::wire::mls::CipherSuite(3));
    let before = snap(&w, "c.example");
    let out = w.follower_mut("c.example").unwrap().handle(
        now,
        FollowerInput::KeyMaterial {
            request_id: 9,
            body: encode(&tampered).unwrap(),
        },
    );
    assert!(matches!(
        out.as_slice(),
        [FollowerOutput::Refused(FollowerError::Auth(_))]
    ));
    assert!(snap(&w, "c.example") == before);

    // A deleted user.
    w.follower_mut("c.example").unwrap().handle(
        now,
        FollowerInput::DeleteUser {
            user: dave_user.clone(),
        },
    );
    check(&mut w, &dave_user, KeyMaterialUserCode::UserDeleted);
}

#[test]
fn publishing_foreign_or_invalid_key_packages_is_refused() {
    let (mut w, alice, dave, _room) = world(true);
    let before = snap(&w, "c.example");
    let alice_kp = w.client(&alice).unwrap().key_package().unwrap();
    let f = w.follower_mut("c.example").unwrap();
    let out = f.handle(
        0,
        FollowerInput::PublishKeyPackages {
            client: dave.clone(),
            key_packages: vec![alice_kp.clone()],
        },
    );
    assert!(matches!(
        out.as_slice(),
        [FollowerOutput::Refused(FollowerError::BadKeyPackage {
            index: 0,
            ..
        })]
    ));
    let out = f.handle(
        0,
        FollowerInput::PublishKeyPackages {
            client: dave.clone(),
            key_packages: vec![vec![0, 1, 0, 5, 0xff]],
        },
    );
    assert!(matches!(
        out.as_slice(),
        [FollowerOutput::Refused(FollowerError::BadKeyPackage { .. })]
    ));
    let out = f.handle(
        0,
        FollowerInput::PublishKeyPackages {
            client: alice.clone(),
            key_packages: vec![alice_kp],
        },
    );
    assert!(matches!(
        out.as_slice(),
        [FollowerOutput::Refused(FollowerError::NotLocal(_))]
    ));
    // A follower relays only its own clients' requests.
    let out = f.handle(
        0,
        FollowerInput::FromClient {
            client: alice.clone(),
            request: HubInput::SubmitMessage {
                room_id: "mimi://a.example/r/r".into(),
                body: vec![],
            },
        },
    );
    assert!(matches!(
        out.as_slice(),
        [FollowerOutput::Refused(FollowerError::NotLocal(_))]
    ));
    assert!(snap(&w, "c.example") == before);
}

/// Drive a hub and a follower directly: notifies arriving out of order are
/// delivered in the hub's order, duplicates are acknowledged and dropped.
#[test]
fn notify_is_ordered_and_deduplicated() {
    let room = "mimi://a.example/r/direct";
    let uri = MimiUri::new(UriKind::Client, "a.example", &["alice", "1"]).unwrap();
    let alice_id = uri.to_string();
    let mut alice = Client::new(uri, Arc::new(MimiLogic)).unwrap();
    let md = room_metadata(room, "direct", "").unwrap();
    let dict = initial_dictionary(
        &user_uri("a.example", "alice"),
        admin_roles::SUPER_ADMIN,
        &cooperative(),
        &BaseRoomPolicy::default(),
        &md,
    );
    alice.create_group(room.as_bytes(), &dict).unwrap();
    let gi = alice.group_info(room.as_bytes()).unwrap();
    let mut hub = Hub::new("a.example", 1000);
    let out = hub.handle(
        1,
        "a.example",
        HubInput::CreateRoom {
            room_id: room.into(),
            group_info: gi.group_info,
            ratchet_tree: gi.ratchet_tree,
        },
    );
    assert!(matches!(out.as_slice(), [HubOutput::RoomCreated(Ok(()))]));
    let mut follower = Follower::new("a.example");
    follower.handle(
        1,
        FollowerInput::RegisterMember {
            room_id: room.into(),
            client: alice_id.clone(),
        },
    );

    let mut notifies = Vec::new();
    let mut messages = Vec::new();
    for text in [b"one".as_slice(), b"two"] {
        let msg = alice.send(room.as_bytes(), text).unwrap();
        messages.push(msg.clone());
        let req = SubmitMessageRequest {
            protocol: Protocol::Mls10,
            app_message: mimi_ref::wire::mls::MlsMessage::from_bytes(&msg).unwrap(),
            sending_uri: IdentifierUri::new(&user_uri("a.example", "alice")),
        };
        for o in hub.handle(
            2,
            "a.example",
            HubInput::SubmitMessage {
                room_id: room.into(),
                body: encode(&req).unwrap(),
            },
        ) {
            if let HubOutput::Notify { seq, body, .. } = o {
                notifies.push((seq, body));
            }
        }
    }
    assert_eq!(notifies.iter().map(|n| n.0).collect::<Vec<_>>(), vec![0, 1]);
    assert_eq!(hub.unacknowledged(), 2);

    let deliveries = |out: &[FollowerOutput]| -> Vec<Vec<u8>> {
        out.iter()
            .filter_map(|o| match o {
                FollowerOutput::Deliver { message, .. } => Some(message.clone()),
                _ => None,
            })
            .collect()
    };
    let notify = |seq: u64, body: &[u8]| FollowerInput::Notify {
        hub: "a.example".into(),
        room_id: room.into(),
        seq,
        body: body.to_vec(),
    };
    // seq 1 first: acknowledged, buffered, nothing delivered yet.
    let out = follower.handle(3, notify(1, &notifies[1].1));
    assert!(matches!(
        out.first(),
        Some(FollowerOutput::Ack { seq: 1, .. })
    ));
    assert!(deliveries(&out).is_empty());
    // seq 0: both delivered, in the hub's order.
    let out = follower.handle(3, notify(0, &notifies[0].1));
    assert_eq!(deliveries(&out), messages);
    // A duplicate: acknowledged, nothing delivered, state unchanged.
    let before = follower.snapshot();
    let out = follower.handle(4, notify(0, &notifies[0].1));
    assert!(matches!(
        out.as_slice(),
        [FollowerOutput::Ack { seq: 0, .. }]
    ));
    assert_eq!(follower.snapshot(), before);
    assert_eq!(follower.duplicates(room), 1);
    // A notify from a provider that does not host the room, or far beyond the
    // window, is refused unacknowledged and changes nothing.
    let out = follower.handle(
        4,
        FollowerInput::Notify {
            hub: "b.example".into(),
            room_id: room.into(),
            seq: 2,
            body: notifies[0].1.clone(),
        },
    );
    assert!(matches!(
        out.as_slice(),
        [FollowerOutput::Refused(FollowerError::WrongHub { .. })]
    ));
    let out = follower.handle(
        4,
        notify(2 + mimi_ref::follower::NOTIFY_WINDOW + 1, &notifies[0].1),
    );
    assert!(matches!(
        out.as_slice(),
        [FollowerOutput::Refused(
            FollowerError::SequenceWindow { .. }
        )]
    ));
    assert_eq!(follower.snapshot(), before);

    // Acknowledgements clear the hub's outbox; unacknowledged notifies are re-sent.
    hub.handle(
        5,
        "a.example",
        HubInput::NotifyAck {
            room_id: room.into(),
            seq: 0,
        },
    );
    assert_eq!(hub.unacknowledged(), 1);
    assert!(hub.poll_timeout(6).is_empty(), "not yet due");
    let resent = hub.poll_timeout(5000);
    assert!(matches!(
        resent.as_slice(),
        [HubOutput::Notify { seq: 1, .. }]
    ));
}

/// Arbitrary `/notify` bodies and `/keyMaterial` requests never panic the
/// follower; an undecodable fanout is reported, not delivered.
#[test]
fn garbage_notifies_and_requests_never_panic() {
    let mut f = Follower::new("b.example");
    let mut rng = mimi_ref::sim::SimRng::new(5);
    for seq in 0..200u64 {
        let body: Vec<u8> = (0..rng.below(200)).map(|_| rng.next_u64() as u8).collect();
        let out = f.handle(
            1,
            FollowerInput::Notify {
                hub: "a.example".into(),
                room_id: "mimi://a.example/r/x".into(),
                seq,
                body: body.clone(),
            },
        );
        assert!(matches!(out.first(), Some(FollowerOutput::Ack { .. })));
        assert!(!out
            .iter()
            .any(|o| matches!(o, FollowerOutput::Deliver { .. })));
        let out = f.handle(
            1,
            FollowerInput::KeyMaterial {
                request_id: seq,
                body,
            },
        );
        assert!(matches!(out.as_slice(), [FollowerOutput::Refused(_)]));
    }
}
