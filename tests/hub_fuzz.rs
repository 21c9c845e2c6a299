//! Untrusted input at the hub: arbitrary bytes and single-byte corruptions of
//! valid requests on every endpoint never panic, and whatever the hub refuses
//! leaves its room state byte-for-byte unchanged.

use mimi_ref::client::CommitRequest;
use mimi_ref::hub::{HubInput, HubOutput};
use mimi_ref::policy::examples::{admin_roles, cooperative};
use mimi_ref::room::mimi::{room_metadata, ROOM_METADATA};
use mimi_ref::room::AppDataOp;
use mimi_ref::sim::{commit_update_request, user_uri, SimConfig, SimRng, World};
use mimi_ref::wire::{encode, IdentifierUri, Protocol, SubmitMessageRequest, UpdateResult};

fn accepted(out: &[HubOutput]) -> bool {
    out.iter().any(|o| match o {
        HubOutput::Update(r) => matches!(r.result, UpdateResult::Success { .. }),
        HubOutput::Submit { reason, .. } => reason.is_none(),
        HubOutput::GroupInfo(mimi_ref::hub::GroupInfoAnswer::Success(_)) => true,
        HubOutput::KeyMaterial { .. } | HubOutput::ForwardKeyMaterial { .. } => true,
        _ => false,
    })
}

#[test]
fn corrupted_requests_never_panic_and_refusals_change_nothing() {
    let mut w = World::new(17, SimConfig::default());
    let alice = w.add_client("a.example", "alice", "1").unwrap();
    let bob = w.add_client("b.example", "bob", "1").unwrap();
    let (room, _) = w
        .create_room(&alice, "fuzz", &cooperative(), admin_roles::SUPER_ADMIN)
        .unwrap();
    assert!(w
        .add_user(
            &alice,
            &room,
            &user_uri("b.example", "bob"),
            admin_roles::ORDINARY_USER
        )
        .unwrap()
        .accepted());
    w.run_until_quiescent().unwrap();

    // Valid requests to corrupt: a commit, an application message.
    let md = room_metadata(&room, "fuzzed", "").unwrap();
    let c = w.client_mut(&bob).unwrap();
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
    let update = encode(&commit_update_request(&out).unwrap()).unwrap();
    let msg = w
        .client_mut(&bob)
        .unwrap()
        .send(room.as_bytes(), b"hi")
        .unwrap();
    let submit = encode(&SubmitMessageRequest {
        protocol: Protocol::Mls10,
        app_message: mimi_ref::wire::mls::MlsMessage::from_bytes(&msg).unwrap(),
        sending_uri: IdentifierUri::new(&user_uri("b.example", "bob")),
    })
    .unwrap();

    // Parts of a commit bundle the hub cannot or need not verify: the
    // membership tag (a MAC under a key only members hold; the last 33 bytes of
    // the commit) and the RatchetTreeOption (the hub uses its own tree).
    let tag = out.commit.len() - 33..out.commit.len();
    let tree_option = update.len() - out.ratchet_tree.len() - 1..update.len();
    let mut accepted_corruptions = Vec::new();
    let mut rng = SimRng::new(99);
    let snapshot = |w: &World| w.hub_of(&room).unwrap().snapshot(&room).unwrap();
    let mut refused = 0;
    for i in 0..300 {
        let base = if i % 2 == 0 { &update } else { &submit };
        let mut bytes = if i % 10 == 9 {
            (0..rng.below(300)).map(|_| rng.next_u64() as u8).collect()
        } else {
            base.clone()
        };
        let mut flipped = None;
        if !bytes.is_empty() {
            let at = rng.below(bytes.len() as u64) as usize;
            flipped = Some(at);
            bytes[at] ^= 1 << rng.below(8);
            if rng.chance(200) {
                bytes.truncate(at);
            }
        }
        let input = match i % 4 {
            0 => HubInput::Update {
                room_id: room.clone(),
                body: bytes,
            },
            1 => HubInput::SubmitMessage {
                room_id: room.clone(),
                body: bytes,
            },
            2 => HubInput::KeyMaterial { body: bytes },
            _ => HubInput::GroupInfo {
                room_id: room.clone(),
                body: bytes,
            },
        };
        let before = snapshot(&w);
        let out = w.request(&bob, &room, input);
        if !accepted(&out) {
            refused += 1;
            assert!(snapshot(&w) == before, "refused input #{i} changed the hub");
        } else if i % 4 == 0 {
            accepted_corruptions.push((flipped, i % 10 == 9));
        }
        w.run_until_quiescent().unwrap();
    }
    assert!(
        refused > 250,
        "corruptions should mostly be refused ({refused})"
    );
    // An accepted corrupted /update only differs where the hub cannot look.
    for (at, random) in &accepted_corruptions {
        assert!(!random, "random bytes were accepted as an update");
        let at = at.expect("an accepted update was corrupted somewhere");
        assert!(
            tag.contains(&at) || tree_option.contains(&at),
            "a corruption at byte {at} was accepted"
        );
    }
    if accepted_corruptions.is_empty() {
        // The room still works.
        let o = w.send_message(&alice, &room, b"still alive").unwrap();
        assert!(o.accepted(), "{o:?}");
        w.run_until_quiescent().unwrap();
        w.check_consistent(&room).unwrap();
    }
}
