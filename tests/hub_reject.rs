//! Every refusal path of the hub (protocol-06 §5.3 `/update`, §5.4
//! `/submitMessage`, §5.6 `/groupInfo`): the request gets the draft's response
//! code, an errorDescription naming the rule, and the hub's room state is
//! byte-for-byte unchanged (serialized snapshot before and after).

use std::sync::Arc;

use mimi_ref::client::CommitRequest;
use mimi_ref::hub::peek::proposal_ref;
use mimi_ref::policy::examples::{admin_roles, cooperative};
use mimi_ref::room::mimi::{
    participant_update, room_metadata, PARTICIPANT_LIST, ROLES_LIST, ROOM_METADATA,
};
use mimi_ref::room::{AppDataOp, ReplaceLogic};
use mimi_ref::sim::{commit_update_request, user_uri, Outcome, SimConfig, World};
use mimi_ref::wire::mls::MlsGroupInfoExtensions;
use mimi_ref::wire::{GroupInfoOption, HandshakeBundleBody, PartialGroupInfo, RatchetTreePresence};
use tls_codec::Serialize as _;

const ORDINARY: u32 = admin_roles::ORDINARY_USER;
const SUPER: u32 = admin_roles::SUPER_ADMIN;

struct Fixture {
    w: World,
    room: String,
    alice: String,
    bob: String,
    cathy: String,
}

/// Alice (a.example, super admin), Bob (b.example) and Cathy (c.example),
/// both ordinary users, in a cooperative room at epoch 2.
fn fixture() -> Fixture {
    let mut w = World::new(3, SimConfig::default());
    let alice = w.add_client("a.example", "alice", "1").unwrap();
    let bob = w.add_client("b.example", "bob", "1").unwrap();
    let cathy = w.add_client("c.example", "cathy", "1").unwrap();
    let (room, o) = w.create_room(&alice, "r1", &cooperative(), SUPER).unwrap();
    assert!(o.accepted());
    for u in [user_uri("b.example", "bob"), user_uri("c.example", "cathy")] {
        assert!(w.add_user(&alice, &room, &u, ORDINARY).unwrap().accepted());
        w.run_until_quiescent().unwrap();
    }
    w.check_consistent(&room).unwrap();
    assert_eq!(w.hub_state(&room).unwrap().epoch, 2);
    Fixture {
        w,
        room,
        alice,
        bob,
        cathy,
    }
}

fn snapshot(f: &Fixture) -> String {
    String::from_utf8(f.w.hub_of(&f.room).unwrap().snapshot(&f.room).unwrap()).unwrap()
}

/// The snapshot without the notify outbox (acknowledgements of earlier,
/// accepted events may arrive later).
fn room_snapshot(f: &Fixture) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(&snapshot(f)).unwrap();
    v.as_object_mut().unwrap().remove("outbox");
    v
}

/// Run `op`, expect `code` with a description starting with `rule`, and an
/// unchanged hub; then let the network settle and check everyone agrees.
fn refused(
    f: &mut Fixture,
    code: &str,
    rule: &str,
    op: impl FnOnce(&mut Fixture) -> Outcome,
) -> Outcome {
    let before = snapshot(f);
    let before_room = room_snapshot(f);
    let o = op(f);
    assert_eq!(o.code, code, "{o:?}");
    assert!(
        o.description.starts_with(rule),
        "expected {rule}, got {:?}",
        o.description
    );
    assert!(
        snapshot(f) == before,
        "hub state changed by a refused request"
    );
    f.w.run_until_quiescent().unwrap();
    assert!(
        room_snapshot(f) == before_room,
        "a refused request changed the room later"
    );
    assert!(f.w.anomalies().is_empty(), "{:?}", f.w.anomalies());
    f.w.check_consistent(&f.room).unwrap();
    o
}

#[test]
fn stale_commit_gets_wrong_epoch_with_current_epoch() {
    let mut f = fixture();
    let (room, bob, alice) = (f.room.clone(), f.bob.clone(), f.alice.clone());
    let md = room_metadata(&room, "bob's name", "").unwrap();
    let c = f.w.client_mut(&bob).unwrap();
    let out = c
        .commit(
            room.as_bytes(),
            &CommitRequest {
                app_data: vec![(ROOM_METADATA, AppDataOp::Update(md))],
                ..Default::default()
            },
        )
        .unwrap();
    c.discard_pending_commit(room.as_bytes()).unwrap();
    assert!(f
        .w
        .update_metadata(&alice, &room, "alice's name")
        .unwrap()
        .accepted());
    f.w.run_until_quiescent().unwrap();
    let req = commit_update_request(&out).unwrap();
    let o = refused(&mut f, "wrongEpoch", "hub.wrong-epoch", |f| {
        f.w.send_update(&bob, &room, &req).unwrap()
    });
    assert_eq!(o.current_epoch, Some(3));
}

#[test]
fn policy_denials_are_not_allowed_with_the_rule_id() {
    let mut f = fixture();
    let (room, alice, bob, cathy) = (
        f.room.clone(),
        f.alice.clone(),
        f.bob.clone(),
        f.cathy.clone(),
    );
    let alice_user = user_uri("a.example", "alice");
    let bob_user = user_uri("b.example", "bob");

    // An ordinary user may not ban (room-policy-03 §8.1.3 canBan).
    refused(&mut f, "notAllowed", "policy.missing-capability", |f| {
        f.w.ban(&bob, &room, &alice_user).unwrap()
    });
    // An ordinary user may not promote anyone (canChangeUserRole).
    refused(&mut f, "notAllowed", "policy.missing-capability", |f| {
        f.w.change_role(&cathy, &room, &bob_user, 3).unwrap()
    });
    // Removal from the list must remove the user's clients in the same commit (§5.3).
    refused(&mut f, "notAllowed", "commit.clients-not-removed", |f| {
        f.w.commit(
            &alice,
            &room,
            &CommitRequest {
                app_data: vec![(PARTICIPANT_LIST, participant_update(&[], &[1], &[]))],
                ..Default::default()
            },
        )
        .unwrap()
    });
    // Removing a client without removing the user needs canKick.
    refused(&mut f, "notAllowed", "policy.missing-capability", |f| {
        f.w.kick(&bob, &room, &cathy).unwrap()
    });
    // A roles-list update never shares a commit with a participant-list change (room-policy-03 §3).
    let roles = cooperative().tls_serialize_detached().unwrap();
    refused(
        &mut f,
        "notAllowed",
        "commit.roles-with-participant-change",
        |f| {
            f.w.commit(
                &alice,
                &room,
                &CommitRequest {
                    app_data: vec![
                        (ROLES_LIST, AppDataOp::Update(roles)),
                        (PARTICIPANT_LIST, participant_update(&[(1, 3)], &[], &[])),
                    ],
                    ..Default::default()
                },
            )
            .unwrap()
        },
    );
    // Everyone still agrees and the room still works.
    assert!(f
        .w
        .update_metadata(&alice, &room, "still fine")
        .unwrap()
        .accepted());
    f.w.run_until_quiescent().unwrap();
    f.w.check_consistent(&room).unwrap();
}

#[test]
fn mls_add_before_participant_list_add_is_refused() {
    let mut f = fixture();
    let (room, alice) = (f.room.clone(), f.alice.clone());
    f.w.add_client("b.example", "dave", "1").unwrap();
    let (o, kps) =
        f.w.fetch_key_packages(&alice, &room, &user_uri("b.example", "dave"))
            .unwrap();
    assert!(o.accepted(), "{o:?}");
    // protocol-06 §5.3: the list addition comes no later than the MLS Add.
    refused(
        &mut f,
        "notAllowed",
        "policy.client-of-unlisted-user",
        |f| {
            f.w.commit(
                &alice,
                &room,
                &CommitRequest {
                    adds: kps,
                    ..Default::default()
                },
            )
            .unwrap()
        },
    );
}

#[test]
fn component_rules_of_a_misbehaving_client_are_enforced_by_the_hub() {
    let mut f = fixture();
    let (room, alice) = (f.room.clone(), f.alice.clone());
    // Mallory runs permissive component logic, so her client builds anything.
    let mallory =
        f.w.add_client_with_logic("b.example", "mallory", "1", Arc::new(ReplaceLogic))
            .unwrap();
    assert!(f
        .w
        .add_user(&alice, &room, &user_uri("b.example", "mallory"), ORDINARY)
        .unwrap()
        .accepted());
    f.w.run_until_quiescent().unwrap();
    let m1 = room_metadata(&room, "one", "").unwrap();
    let m2 = room_metadata(&room, "two", "").unwrap();
    // protocol-06 §7.6: one metadata update per commit.
    refused(&mut f, "notAllowed", "commit.metadata-updated-twice", |f| {
        f.w.commit(
            &mallory,
            &room,
            &CommitRequest {
                app_data: vec![
                    (ROOM_METADATA, AppDataOp::Update(m1)),
                    (ROOM_METADATA, AppDataOp::Update(m2)),
                ],
                ..Default::default()
            },
        )
        .unwrap()
    });
    // protocol-06 §7.5: one change per user per commit.
    refused(&mut f, "notAllowed", "commit.user-changed-twice", |f| {
        f.w.commit(
            &mallory,
            &room,
            &CommitRequest {
                app_data: vec![(PARTICIPANT_LIST, participant_update(&[(2, 3)], &[2], &[]))],
                ..Default::default()
            },
        )
        .unwrap()
    });
    // Indices refer to the current list.
    refused(
        &mut f,
        "notAllowed",
        "participant-list.index-out-of-range",
        |f| {
            f.w.commit(
                &mallory,
                &room,
                &CommitRequest {
                    app_data: vec![(PARTICIPANT_LIST, participant_update(&[], &[9], &[]))],
                    ..Default::default()
                },
            )
            .unwrap()
        },
    );
    // MIMI components cannot be removed.
    refused(&mut f, "notAllowed", "component.removal-refused", |f| {
        f.w.commit(
            &mallory,
            &room,
            &CommitRequest {
                app_data: vec![(PARTICIPANT_LIST, AppDataOp::Remove)],
                ..Default::default()
            },
        )
        .unwrap()
    });
}

#[test]
fn commit_must_include_queued_proposals() {
    let mut f = fixture();
    let (room, alice, cathy) = (f.room.clone(), f.alice.clone(), f.cathy.clone());
    assert!(f.w.leave(&cathy, &room).unwrap().accepted());
    // Alice has not seen the proposals yet: her commit omits them.
    refused(
        &mut f,
        "notAllowed",
        "hub.commit-omits-queued-proposals",
        |f| f.w.update_metadata(&alice, &room, "too early").unwrap(),
    );
    assert_eq!(f.w.hub_state(&room).unwrap().pending_proposals.len(), 2);
    assert!(f.w.commit_pending(&alice, &room).unwrap().accepted());
    f.w.run_until_quiescent().unwrap();
    f.w.check_consistent(&room).unwrap();
    assert!(!f.w.hub_state(&room).unwrap().members.contains(&cathy));
}

#[test]
fn users_being_removed_are_blocked_except_for_removals() {
    let mut f = fixture();
    let (room, alice, bob) = (f.room.clone(), f.alice.clone(), f.bob.clone());
    // Bob encrypts a message before he learns of his removal.
    let msg =
        f.w.client_mut(&bob)
            .unwrap()
            .send(room.as_bytes(), b"still here?")
            .unwrap();
    // Alice proposes removing Bob from the participant list; the hub queues it.
    let p =
        f.w.client_mut(&alice)
            .unwrap()
            .propose_app_data(
                room.as_bytes(),
                PARTICIPANT_LIST,
                participant_update(&[], &[1], &[]),
            )
            .unwrap();
    assert!(f.w.send_proposals(&alice, &room, &[p]).unwrap().accepted());
    f.w.run_until_quiescent().unwrap();

    // protocol-06 §5.3: Bob may no longer send messages …
    let bob_user = user_uri("b.example", "bob");
    refused(&mut f, "notAllowed", "hub.sender-blocked", |f| {
        f.w.submit_message(&bob, &room, &msg, &bob_user, b"still here?", String::new())
            .unwrap()
    });
    // … nor commits …
    refused(&mut f, "notAllowed", "hub.sender-blocked", |f| {
        f.w.update_metadata(&bob, &room, "bob commits").unwrap()
    });
    // … nor proposals other than Remove / SelfRemove …
    let md = room_metadata(&room, "bob was here", "").unwrap();
    let p =
        f.w.client_mut(&bob)
            .unwrap()
            .propose_app_data(room.as_bytes(), ROOM_METADATA, AppDataOp::Update(md))
            .unwrap();
    refused(&mut f, "notAllowed", "hub.sender-blocked", |f| {
        f.w.send_proposals(&bob, &room, &[p]).unwrap()
    });
    // … but his SelfRemove is accepted.
    let p =
        f.w.client_mut(&bob)
            .unwrap()
            .self_remove(room.as_bytes())
            .unwrap();
    assert!(f.w.send_proposals(&bob, &room, &[p]).unwrap().accepted());
    f.w.run_until_quiescent().unwrap();
    let o = f.w.commit_pending(&alice, &room).unwrap();
    assert!(
        o.accepted(),
        "{o:?} hub {:?} alice {:?} received {:?}",
        f.w.hub_state(&room),
        f.w.client_state(&alice, &room),
        f.w.received(&alice)
    );
    f.w.run_until_quiescent().unwrap();
    f.w.check_consistent(&room).unwrap();
    assert!(!f.w.hub_state(&room).unwrap().members.contains(&bob));
}

#[test]
fn malformed_or_inconsistent_bundles_are_invalid_proposals() {
    let mut f = fixture();
    let (room, alice) = (f.room.clone(), f.alice.clone());
    f.w.add_client("c.example", "dave", "1").unwrap();
    let dave_user = user_uri("c.example", "dave");
    let (_, kps) = f.w.fetch_key_packages(&alice, &room, &dave_user).unwrap();
    let c = f.w.client_mut(&alice).unwrap();
    let out = c
        .commit(
            room.as_bytes(),
            &CommitRequest {
                app_data: vec![(
                    PARTICIPANT_LIST,
                    participant_update(&[], &[], &[(&dave_user, ORDINARY)]),
                )],
                adds: kps,
                ..Default::default()
            },
        )
        .unwrap();
    c.discard_pending_commit(room.as_bytes()).unwrap();
    let good = commit_update_request(&out).unwrap();

    // Not a decodable UpdateRequest.
    refused(&mut f, "invalidProposal", "hub.decode", |f| {
        let mut bad = mimi_ref::wire::encode(&good).unwrap();
        bad.truncate(bad.len() / 2);
        send_raw(f, &alice, &room, bad)
    });
    // A commit adding clients without a Welcome.
    let mut no_welcome = good.clone();
    if let HandshakeBundleBody::Commit { welcome, .. } = &mut no_welcome.bundle.body {
        *welcome = None;
    }
    refused(&mut f, "invalidProposal", "hub.welcome-mismatch", |f| {
        f.w.send_update(&alice, &room, &no_welcome).unwrap()
    });
    // A partial GroupInfo (not supported).
    let mut partial = good.clone();
    if let HandshakeBundleBody::Commit {
        group_info_option, ..
    } = &mut partial.bundle.body
    {
        *group_info_option = GroupInfoOption::Partial {
            partial_group_info: PartialGroupInfo {
                ratchet_tree_presence: RatchetTreePresence::NoRatchetTree,
                group_info_extensions: MlsGroupInfoExtensions::from_bytes(&[0]).unwrap(),
                signature: Default::default(),
            },
        };
    }
    refused(&mut f, "invalidProposal", "hub.partial-group-info", |f| {
        f.w.send_update(&alice, &room, &partial).unwrap()
    });
    // A GroupInfo of another epoch.
    let other =
        f.w.client(&alice)
            .unwrap()
            .group_info(room.as_bytes())
            .unwrap();
    let mut stale = good.clone();
    if let HandshakeBundleBody::Commit {
        group_info_option, ..
    } = &mut stale.bundle.body
    {
        *group_info_option = GroupInfoOption::Full {
            group_info: mimi_ref::wire::mls::MlsGroupInfo::from_bytes(&other.group_info[4..])
                .unwrap(),
        };
    }
    refused(&mut f, "invalidProposal", "hub.group-info", |f| {
        f.w.send_update(&alice, &room, &stale).unwrap()
    });
    // Unknown room.
    refused(&mut f, "notAllowed", "hub.no-such-room", |f| {
        f.w.send_update(&alice, "mimi://a.example/r/nowhere", &good)
            .unwrap()
    });
    // The untouched bundle is accepted.
    assert!(f.w.send_update(&alice, &room, &good).unwrap().accepted());
}

fn send_raw(f: &mut Fixture, client: &str, room: &str, body: Vec<u8>) -> Outcome {
    f.w.send_raw_update(client, room, body)
}

#[test]
fn tampered_and_duplicate_proposals_name_their_proposal_ref() {
    let mut f = fixture();
    let (room, alice, cathy) = (f.room.clone(), f.alice.clone(), f.cathy.clone());
    let md = room_metadata(&room, "proposed", "").unwrap();
    let p =
        f.w.client_mut(&cathy)
            .unwrap()
            .propose_app_data(room.as_bytes(), ROOM_METADATA, AppDataOp::Update(md))
            .unwrap();
    // A flipped byte in the signature: invalid, reported by its ProposalRef.
    let mut bad = p.clone();
    let n = bad.len();
    bad[n - 40] ^= 1;
    let o = refused(&mut f, "invalidProposal", "mls.invalid", |f| {
        f.w.send_proposals(&cathy, &room, std::slice::from_ref(&bad))
            .unwrap()
    });
    assert_eq!(
        o.invalid_proposals,
        vec![hex::encode(proposal_ref(&bad).unwrap())]
    );
    // The genuine one is queued under the ProposalRef we compute.
    assert!(f
        .w
        .send_proposals(&cathy, &room, std::slice::from_ref(&p))
        .unwrap()
        .accepted());
    assert_eq!(
        f.w.hub_state(&room).unwrap().pending_proposals,
        vec![hex::encode(proposal_ref(&p).unwrap())]
    );
    f.w.run_until_quiescent().unwrap();
    // Sent again: a duplicate.
    let o = refused(&mut f, "invalidProposal", "hub.duplicate-proposal", |f| {
        f.w.send_proposals(&cathy, &room, std::slice::from_ref(&p))
            .unwrap()
    });
    assert_eq!(
        o.invalid_proposals,
        vec![hex::encode(proposal_ref(&p).unwrap())]
    );
    // A bundle whose second proposal is bad is refused as a whole (one transaction).
    let md2 = room_metadata(&room, "other", "").unwrap();
    let p2 =
        f.w.client_mut(&alice)
            .unwrap()
            .propose_app_data(room.as_bytes(), ROOM_METADATA, AppDataOp::Update(md2))
            .unwrap();
    let o = refused(&mut f, "invalidProposal", "hub.duplicate-proposal", |f| {
        f.w.send_proposals(&alice, &room, &[p2.clone(), p.clone()])
            .unwrap()
    });
    assert_eq!(
        o.invalid_proposals,
        vec![hex::encode(proposal_ref(&p).unwrap())]
    );
    assert_eq!(
        f.w.hub_state(&room).unwrap().pending_proposals.len(),
        1,
        "p2 was rolled back"
    );
}

#[test]
fn submit_message_refusals() {
    let mut f = fixture();
    let (room, alice, bob) = (f.room.clone(), f.alice.clone(), f.bob.clone());
    let bob_user = user_uri("b.example", "bob");
    let old =
        f.w.client_mut(&bob)
            .unwrap()
            .send(room.as_bytes(), b"old")
            .unwrap();
    assert!(f
        .w
        .update_metadata(&alice, &room, "next epoch")
        .unwrap()
        .accepted());
    f.w.run_until_quiescent().unwrap();
    // protocol-06 §5.4: a message of an older epoch.
    let o = refused(&mut f, "epochTooOld", "hub.epoch-too-old", |f| {
        f.w.submit_message(&bob, &room, &old, &bob_user, b"old", String::new())
            .unwrap()
    });
    assert_eq!(o.current_epoch, Some(3));
    // A handshake message is not an application message.
    let md = room_metadata(&room, "x", "").unwrap();
    let prop =
        f.w.client_mut(&bob)
            .unwrap()
            .propose_app_data(room.as_bytes(), ROOM_METADATA, AppDataOp::Update(md))
            .unwrap();
    refused(&mut f, "notAllowed", "hub.not-application-message", |f| {
        f.w.submit_message(&bob, &room, &prop, &bob_user, b"", String::new())
            .unwrap()
    });
    // sendingUri must be an active participant with canSendMessage.
    let fresh =
        f.w.client_mut(&alice)
            .unwrap()
            .send(room.as_bytes(), b"hi")
            .unwrap();
    refused(&mut f, "notAllowed", "policy.not-active", |f| {
        f.w.submit_message(
            &alice,
            &room,
            &fresh,
            "mimi://b.example/u/nobody",
            b"hi",
            String::new(),
        )
        .unwrap()
    });
    refused(&mut f, "notAllowed", "hub.no-such-room", |f| {
        f.w.submit_message(
            &alice,
            "mimi://a.example/r/nowhere",
            &fresh,
            &user_uri("a.example", "alice"),
            b"hi",
            String::new(),
        )
        .unwrap()
    });
}

#[test]
fn group_info_refusals() {
    let mut f = fixture();
    let room = f.room.clone();
    // Under the cooperative policy role 0 has no canOpenJoin: an outsider may not join.
    let eve = f.w.add_client("c.example", "eve", "1").unwrap();
    let before = snapshot(&f);
    let (o, info) = f.w.fetch_group_info(&eve, &room).unwrap();
    assert_eq!(o.code, "notAuthorized");
    assert!(
        o.description.starts_with("policy.missing-capability"),
        "{o:?}"
    );
    assert!(info.is_none());
    let (o, _) =
        f.w.fetch_group_info(&eve, "mimi://a.example/r/nowhere")
            .unwrap();
    assert_eq!(o.code, "noSuchRoom");
    // The external join of an outsider is refused before any commit is built.
    let o = f.w.external_join(&eve, &room, ORDINARY).unwrap();
    assert_eq!(o.code, "notAuthorized");
    assert!(snapshot(&f) == before);
    assert!(f.w.client(&eve).unwrap().view(room.as_bytes()).is_none());
}

/// Refusals of the requests around the room: creation, the `/keyMaterial`
/// relay and the follower's room-state fetch, driven on a bare [`Hub`].
#[test]
fn creation_relay_and_room_state_refusals() {
    use mimi_ref::client::Client;
    use mimi_ref::hub::auth::AuthError;
    use mimi_ref::hub::{Hub, HubError, HubInput, HubOutput};
    use mimi_ref::policy::BaseRoomPolicy;
    use mimi_ref::room::mimi::{initial_dictionary, MimiLogic};
    use mimi_ref::sim::key_material_request;
    use mimi_ref::uri::{MimiUri, UriKind};
    use openmls::prelude::RequiredCapabilitiesExtension;

    let room = "mimi://a.example/r/bare";
    let client = |p: &str, u: &str| {
        Client::new(
            MimiUri::new(UriKind::Client, p, &[u, "1"]).unwrap(),
            Arc::new(MimiLogic),
        )
        .unwrap()
    };
    let mut alice = client("a.example", "alice");
    let outsider = client("b.example", "zed");
    let md = room_metadata(room, "bare", "").unwrap();
    let dict = |user: &str| {
        initial_dictionary(user, SUPER, &cooperative(), &BaseRoomPolicy::default(), &md)
    };
    let mut hub = Hub::new("a.example", 1000);
    let create = |hub: &mut Hub, from: &str, gi: &mimi_ref::client::GroupInfoBundle| match hub
        .handle(
            1,
            from,
            HubInput::CreateRoom {
                room_id: room.into(),
                group_info: gi.group_info.clone(),
                ratchet_tree: gi.ratchet_tree.clone(),
            },
        )
        .as_slice()
    {
        [HubOutput::RoomCreated(r)] => r.clone(),
        other => panic!("{other:?}"),
    };
    // The creator's user must be in the participant list it sets up.
    alice
        .create_group(room.as_bytes(), &dict(&user_uri("a.example", "somebody")))
        .unwrap();
    let gi = alice.group_info(room.as_bytes()).unwrap();
    let err = create(&mut hub, "a.example", &gi).unwrap_err();
    assert!(err.starts_with("policy.invalid-policy"), "{err}");
    alice.forget_group(room.as_bytes()).unwrap();
    alice
        .create_group(room.as_bytes(), &dict(&user_uri("a.example", "alice")))
        .unwrap();
    let gi = alice.group_info(room.as_bytes()).unwrap();
    // Only the hub's own provider creates rooms on it.
    let err = create(&mut hub, "b.example", &gi).unwrap_err();
    assert!(err.starts_with("hub.foreign-creator"), "{err}");
    assert!(hub.room(room).is_none());
    create(&mut hub, "a.example", &gi).unwrap();
    let before = hub.snapshot(room).unwrap();
    let err = create(&mut hub, "a.example", &gi).unwrap_err();
    assert!(err.starts_with("hub.room-exists"), "{err}");

    // /keyMaterial relay: unknown room, requester not a participant, wrong provider.
    let caps = RequiredCapabilitiesExtension::new(&[], &[], &[]);
    let relay = |hub: &mut Hub, from: &str, c: &Client, room_id: &str| {
        let req = key_material_request(c, room_id, "mimi://c.example/u/dave", &[1], &caps).unwrap();
        hub.handle(
            2,
            from,
            HubInput::KeyMaterial {
                body: mimi_ref::wire::encode(&req).unwrap(),
            },
        )
    };
    assert!(matches!(
        relay(&mut hub, "a.example", &alice, "mimi://a.example/r/none").as_slice(),
        [HubOutput::Refused(HubError::NoSuchRoom(_))]
    ));
    assert!(matches!(
        relay(&mut hub, "b.example", &outsider, room).as_slice(),
        [HubOutput::Refused(HubError::Policy(r))] if r.starts_with("hub.requester-not-participant")
    ));
    assert!(matches!(
        relay(&mut hub, "b.example", &alice, room).as_slice(),
        [HubOutput::Refused(HubError::Policy(r))] if r.starts_with("hub.requester-not-participant")
    ));
    // Request signatures (RFC 9420 SignWithLabel over the TBS) are checked:
    // a request altered after signing, or naming another user than its credential's.
    let mut tampered =
        key_material_request(&alice, room, "mimi://c.example/u/dave", &[1], &caps).unwrap();
    tampered.target_user = mimi_ref::wire::IdentifierUri::new("mimi://c.example/u/erin");
    let out = hub.handle(
        2,
        "a.example",
        HubInput::KeyMaterial {
            body: mimi_ref::wire::encode(&tampered).unwrap(),
        },
    );
    assert!(
        matches!(
            out.as_slice(),
            [HubOutput::Refused(HubError::Auth(AuthError::BadSignature(
                _
            )))]
        ),
        "{out:?}"
    );
    let mut impostor =
        key_material_request(&outsider, room, "mimi://c.example/u/dave", &[1], &caps).unwrap();
    impostor.requesting_user = mimi_ref::wire::IdentifierUri::new(&user_uri("a.example", "alice"));
    let tbs = mimi_ref::wire::encode(&impostor.tbs()).unwrap();
    impostor.key_material_request_signature = mimi_ref::wire::Opaque::new(
        outsider
            .sign_with_label(
                mimi_ref::wire::key_material::KEY_MATERIAL_REQUEST_TBS_LABEL,
                &tbs,
            )
            .unwrap(),
    );
    let out = hub.handle(
        2,
        "a.example",
        HubInput::KeyMaterial {
            body: mimi_ref::wire::encode(&impostor).unwrap(),
        },
    );
    assert!(
        matches!(
            out.as_slice(),
            [HubOutput::Refused(HubError::Auth(
                AuthError::UserMismatch { .. }
            ))]
        ),
        "{out:?}"
    );
    // A relayed request is answered only by the provider it went to.
    let id = match relay(&mut hub, "a.example", &alice, room).as_slice() {
        [HubOutput::ForwardKeyMaterial { to, request_id, .. }] => {
            assert_eq!(to, "c.example");
            *request_id
        }
        other => panic!("{other:?}"),
    };
    let answer = |hub: &mut Hub, from: &str, id: u64| {
        hub.handle(
            3,
            from,
            HubInput::KeyMaterialAnswer {
                request_id: id,
                body: vec![0xff],
            },
        )
    };
    assert!(matches!(
        answer(&mut hub, "b.example", id).as_slice(),
        [HubOutput::Refused(HubError::UnknownRequest(_))]
    ));
    assert!(matches!(
        answer(&mut hub, "c.example", id + 7).as_slice(),
        [HubOutput::Refused(HubError::UnknownRequest(_))]
    ));
    assert!(matches!(
        answer(&mut hub, "c.example", id).as_slice(),
        [HubOutput::Refused(HubError::Decode(_))]
    ));
    // A provider without clients in the group gets no room state.
    assert!(matches!(
        hub.handle(
            4,
            "b.example",
            HubInput::RoomState {
                room_id: room.into()
            }
        )
        .as_slice(),
        [HubOutput::RoomState(None)]
    ));
    assert!(matches!(
        hub.handle(
            4,
            "a.example",
            HubInput::RoomState {
                room_id: room.into()
            }
        )
        .as_slice(),
        [HubOutput::RoomState(Some(_))]
    ));
    // /groupInfo: the request signature is checked too.
    let cred = alice.credential_bytes().unwrap();
    let mut gi_req = mimi_ref::wire::GroupInfoRequest {
        protocol: mimi_ref::wire::Protocol::Mls10,
        cipher_suite: mimi_ref::wire::mls::CipherSuite(1),
        requesting_signature_key: alice.signature_public_key().into(),
        requesting_credential: mimi_ref::wire::mls::MlsCredential::from_bytes(&cred).unwrap(),
        group_info_public_key: vec![0u8; 32].into(),
        joining_code: None,
        signature: Default::default(),
    };
    let tbs = mimi_ref::wire::encode(&gi_req.tbs()).unwrap();
    gi_req.signature = mimi_ref::wire::Opaque::new(
        alice
            .sign_with_label(
                mimi_ref::wire::group_info::GROUP_INFO_REQUEST_TBS_LABEL,
                &tbs,
            )
            .unwrap(),
    );
    let ask = |hub: &mut Hub, req: &mimi_ref::wire::GroupInfoRequest| match hub
        .handle(
            5,
            "a.example",
            HubInput::GroupInfo {
                room_id: room.into(),
                body: mimi_ref::wire::encode(req).unwrap(),
            },
        )
        .as_slice()
    {
        [HubOutput::GroupInfo(a)] => a.clone(),
        other => panic!("{other:?}"),
    };
    assert!(matches!(
        ask(&mut hub, &gi_req),
        mimi_ref::hub::GroupInfoAnswer::Success(_)
    ));
    gi_req.joining_code = Some(mimi_ref::wire::Opaque::new(b"sneaky".to_vec()));
    assert!(matches!(
        ask(&mut hub, &gi_req),
        mimi_ref::hub::GroupInfoAnswer::NotAuthorized(r) if r.starts_with("auth.bad-signature")
    ));
    assert!(
        hub.snapshot(room).unwrap() == before,
        "refusals changed the room"
    );
}

/// protocol-06 §5.6: the answer is encrypted to the requester's HPKE key and
/// signed by the hub; a bad key is refused, a tampered answer does not open.
#[test]
fn group_info_response_is_sealed_and_signed() {
    use mimi_ref::hub::auth::open_group_info_response;
    use mimi_ref::hub::{GroupInfoAnswer, HubInput, HubOutput};
    use mimi_ref::wire::{GroupInfoRequest, GroupInfoStatus, Opaque, Protocol};
    use openmls_traits::crypto::OpenMlsCrypto as _;

    let mut f = fixture();
    let (room, cathy) = (f.room.clone(), f.cathy.clone());
    let crypto = openmls_rust_crypto::RustCrypto::default();
    let kp = crypto
        .derive_hpke_keypair(
            mimi_ref::room::profile::CIPHERSUITE.hpke_config(),
            &[7u8; 32],
        )
        .unwrap();
    let request = |w: &World, key: Vec<u8>| {
        let c = w.client(&cathy).unwrap();
        let mut req = GroupInfoRequest {
            protocol: Protocol::Mls10,
            cipher_suite: mimi_ref::wire::mls::CipherSuite(1),
            requesting_signature_key: c.signature_public_key().into(),
            requesting_credential: mimi_ref::wire::mls::MlsCredential::from_bytes(
                &c.credential_bytes().unwrap(),
            )
            .unwrap(),
            group_info_public_key: key.into(),
            joining_code: None,
            signature: Default::default(),
        };
        let tbs = mimi_ref::wire::encode(&req.tbs()).unwrap();
        req.signature = Opaque::new(
            c.sign_with_label(
                mimi_ref::wire::group_info::GROUP_INFO_REQUEST_TBS_LABEL,
                &tbs,
            )
            .unwrap(),
        );
        HubInput::GroupInfo {
            room_id: room.clone(),
            body: mimi_ref::wire::encode(&req).unwrap(),
        }
    };
    let answer = |out: Vec<HubOutput>| match out.into_iter().next() {
        Some(HubOutput::GroupInfo(a)) => a,
        other => panic!("{other:?}"),
    };
    let before = snapshot(&f);
    let input = request(&f.w, vec![1, 2, 3]);
    match answer(f.w.request(&cathy, &room, input)) {
        GroupInfoAnswer::NotAuthorized(r) => {
            assert!(r.starts_with("hub.bad-group-info-key"), "{r}")
        }
        other => panic!("{other:?}"),
    }
    let input = request(&f.w, kp.public.clone());
    let info = match answer(f.w.request(&cathy, &room, input)) {
        GroupInfoAnswer::Success(info) => info,
        other => panic!("{other:?}"),
    };
    assert!(snapshot(&f) == before, "/groupInfo changed the hub");
    let response = info.response.clone().unwrap();
    // Opens with the right key, to exactly what the hub keeps.
    let tbe = open_group_info_response(&response, &kp.private).unwrap();
    assert_eq!(tbe, info.tbe);
    // Not with another key, and not once the signature is tampered with.
    let other = crypto
        .derive_hpke_keypair(
            mimi_ref::room::profile::CIPHERSUITE.hpke_config(),
            &[8u8; 32],
        )
        .unwrap();
    assert!(open_group_info_response(&response, &other.private).is_err());
    let mut tampered = response.clone();
    if let GroupInfoStatus::Success { signature, .. } = &mut tampered.status {
        let mut s = signature.as_slice().to_vec();
        s[0] ^= 1;
        *signature = Opaque::new(s);
    }
    assert!(matches!(
        open_group_info_response(&tampered, &kp.private),
        Err(mimi_ref::hub::auth::AuthError::BadSignature(_))
    ));
}
