//! The hub as an MLS external sender (protocol-06 §5.3, §4; RFC 9420 §12.1.8.1),
//! end to end with real openmls clients across three providers (`a.example` hosts
//! the room, `b.example` and `c.example` follow):
//!
//! * a deleted account: the hub proposes the removal of every client of the user,
//!   signed with its own key; followers and clients queue the proposals; the next
//!   commit (by an ordinary member) carries them plus the participant-list removal;
//!   the user is gone everywhere and cannot decrypt what follows;
//! * refusals, each leaving the hub byte-for-byte unchanged: a commit omitting the
//!   hub's proposals, a forged "hub" proposal signed with another key, a removal
//!   asked for by a foreign provider;
//! * open disagreement #14 (spec/deviations.md, equivalence suite 6): an external
//!   commit while a leave is queued; the hub re-issues the leaver's removal as its
//!   own proposal in the new epoch and the next commit carries the leave out whole.

use mimi_ref::policy::examples::{admin_roles, cooperative};
use mimi_ref::sim::{user_uri, Delivered, NetMode, SimConfig, World};

const ORDINARY: u32 = admin_roles::ORDINARY_USER;
const SUPER: u32 = admin_roles::SUPER_ADMIN;

struct Fixture {
    w: World,
    room: String,
    alice: String,
    bob: Vec<String>,
    cathy: String,
}

fn settle(w: &mut World, room: &str) {
    w.run_until_quiescent().unwrap();
    assert!(w.anomalies().is_empty(), "anomalies: {:?}", w.anomalies());
    w.check_consistent(room).unwrap();
}

/// Alice (super admin) hosts the room; Bob (two devices) and Cathy are ordinary users.
fn fixture(seed: u64) -> Fixture {
    fixture_on(seed, SimConfig::default())
}

fn fixture_on(seed: u64, config: SimConfig) -> Fixture {
    let mut w = World::new(seed, config);
    let alice = w.add_client("a.example", "alice", "1").unwrap();
    let bob = vec![
        w.add_client("b.example", "bob", "1").unwrap(),
        w.add_client("b.example", "bob", "2").unwrap(),
    ];
    let cathy = w.add_client("c.example", "cathy", "1").unwrap();
    let (room, o) = w
        .create_room(&alice, "clubhouse", &cooperative(), SUPER)
        .unwrap();
    assert!(o.accepted(), "{o:?}");
    for u in [user_uri("b.example", "bob"), user_uri("c.example", "cathy")] {
        let o = w.add_user(&alice, &room, &u, ORDINARY).unwrap();
        assert!(o.accepted(), "{o:?}");
        settle(&mut w, &room);
    }
    let hub = w.hub_state(&room).unwrap();
    assert_eq!(hub.members.len(), 4, "{hub:?}");
    Fixture {
        w,
        room,
        alice,
        bob,
        cathy,
    }
}

fn snapshot(f: &Fixture) -> Vec<u8> {
    f.w.hub_of(&f.room).unwrap().snapshot(&f.room).unwrap()
}

fn listed(f: &Fixture, user: &str) -> bool {
    f.w.hub_state(&f.room)
        .unwrap()
        .participants
        .iter()
        .any(|(u, _)| u == user)
}

#[test]
fn a_deleted_account_is_removed_by_the_hubs_own_proposals() {
    let mut f = fixture(11);
    let room = f.room.clone();
    let bob_user = user_uri("b.example", "bob");
    let epoch = f.w.hub_state(&room).unwrap().epoch;

    // Bob's provider reports the deleted account; the hub proposes.
    let outcomes = f.w.delete_account(&bob_user).unwrap();
    assert_eq!(outcomes.len(), 1);
    assert!(outcomes[0].1.accepted(), "{outcomes:?}");
    settle(&mut f.w, &room);
    let hub = f.w.hub_state(&room).unwrap();
    assert_eq!(hub.pending_proposals.len(), 2, "one Remove per Bob device");
    assert_eq!(hub.epoch, epoch, "a proposal does not change the epoch");
    // Every follower with members queued them; every client stored them.
    for p in ["b.example", "c.example"] {
        assert_eq!(
            f.w.follower_state(p, &room).unwrap().pending_proposals,
            hub.pending_proposals,
            "{p}"
        );
    }
    for c in [&f.alice, &f.cathy, &f.bob[0], &f.bob[1]] {
        let mut mine = f.w.client_state(c, &room).unwrap().pending_proposals;
        mine.sort();
        let mut theirs = hub.pending_proposals.clone();
        theirs.sort();
        assert_eq!(mine, theirs, "{c} stored the hub's proposals");
    }

    // Bob's user is blocked from now on (protocol-06 §5.3). (His clients could not
    // send anyway: openmls creates no message while proposals are pending.)
    let blocked = mimi_ref::hub::blocked_users(f.w.hub_of(&room).unwrap().room(&room).unwrap());
    assert!(blocked.contains(&bob_user), "{blocked:?}");

    // Cathy, an ordinary user, commits the queued proposals; her client adds the
    // participant-list removal the hub's Removes call for.
    let o = f.w.commit_pending(&f.cathy, &room).unwrap();
    assert!(o.accepted(), "{o:?}");
    settle(&mut f.w, &room);
    let hub = f.w.hub_state(&room).unwrap();
    assert_eq!(hub.epoch, epoch + 1);
    assert!(hub.pending_proposals.is_empty());
    assert!(!listed(&f, &bob_user), "{hub:?}");
    assert_eq!(hub.members.len(), 2, "{hub:?}");
    for b in &f.bob {
        assert!(!hub.members.contains(b));
        assert!(f.w.client_state(b, &room).is_none(), "{b} is out");
        assert!(
            f.w.received(b).iter().any(|d| matches!(
                d.outcome,
                Delivered::Commit {
                    removed_self: true,
                    ..
                }
            )),
            "{b} learnt of its removal"
        );
    }

    // Later messages reach Alice but not Bob.
    let o = f.w.send_message(&f.alice, &room, b"bob is gone").unwrap();
    assert!(o.accepted(), "{o:?}");
    settle(&mut f.w, &room);
    let last = f.w.accepted_messages().last().unwrap().clone();
    assert_eq!(last.data, b"bob is gone");
    assert!(f.w.received(&f.cathy).iter().any(|d| d.message_hash
        == last.message_hash
        && matches!(&d.outcome, Delivered::Application { data, .. } if data == b"bob is gone")));
    for b in &f.bob {
        assert!(
            !f.w.received(b)
                .iter()
                .any(|d| d.message_hash == last.message_hash
                    && matches!(d.outcome, Delivered::Application { .. })),
            "{b} decrypted a message sent after its removal"
        );
    }
}

#[test]
fn a_commit_omitting_the_hubs_proposals_is_refused_unchanged() {
    let mut f = fixture(12);
    let room = f.room.clone();
    // The hub proposes; Cathy commits before her provider delivered the proposals.
    let o =
        f.w.hub_remove_user(&room, &user_uri("b.example", "bob"))
            .unwrap();
    assert!(o.accepted(), "{o:?}");
    let before = snapshot(&f);
    let o = f.w.commit_pending(&f.cathy, &room).unwrap();
    assert_eq!(o.code, "notAllowed", "{o:?}");
    assert!(
        o.description
            .starts_with("hub.commit-omits-queued-proposals"),
        "{o:?}"
    );
    assert_eq!(snapshot(&f), before, "a refused commit changed the hub");
    // Once delivered, the same member's commit carries them.
    settle(&mut f.w, &room);
    let o = f.w.commit_pending(&f.cathy, &room).unwrap();
    assert!(o.accepted(), "{o:?}");
    settle(&mut f.w, &room);
    assert!(!listed(&f, &user_uri("b.example", "bob")));
}

#[test]
fn a_forged_hub_proposal_is_refused_unchanged() {
    use openmls::prelude::{
        ExternalProposal, GroupEpoch, GroupId, LeafNodeIndex, SenderExtensionIndex,
    };
    use tls_codec::Serialize as _;
    let mut f = fixture(13);
    let room = f.room.clone();
    let hub = f.w.hub_of(&room).unwrap().room(&room).unwrap();
    let (gid, epoch) = (hub.group_id().to_vec(), hub.epoch());
    let bob_leaf = *hub
        .members()
        .iter()
        .find(|(_, id)| id.as_slice() == f.bob[0].as_bytes())
        .unwrap()
        .0;
    // Index 0 is the hub's entry; the signature is by another key.
    let forger =
        openmls_basic_credential::SignatureKeyPair::new(openmls::prelude::SignatureScheme::ED25519)
            .unwrap();
    let forged = ExternalProposal::new_remove::<openmls_rust_crypto::OpenMlsRustCrypto>(
        LeafNodeIndex::new(bob_leaf),
        GroupId::from_slice(&gid),
        GroupEpoch::from(epoch),
        &forger,
        SenderExtensionIndex::new(0),
    )
    .unwrap()
    .tls_serialize_detached()
    .unwrap();
    let before = snapshot(&f);
    let o =
        f.w.send_proposals(&f.cathy, &room, std::slice::from_ref(&forged))
            .unwrap();
    assert_eq!(o.code, "invalidProposal", "{o:?}");
    assert!(o.description.starts_with("mls.invalid"), "{o:?}");
    assert_eq!(snapshot(&f), before);
    // A sender index past the extension is refused the same way.
    let hub_key =
        openmls_basic_credential::SignatureKeyPair::new(openmls::prelude::SignatureScheme::ED25519)
            .unwrap();
    let unknown = ExternalProposal::new_remove::<openmls_rust_crypto::OpenMlsRustCrypto>(
        LeafNodeIndex::new(bob_leaf),
        GroupId::from_slice(&gid),
        GroupEpoch::from(epoch),
        &hub_key,
        SenderExtensionIndex::new(5),
    )
    .unwrap()
    .tls_serialize_detached()
    .unwrap();
    let o =
        f.w.send_proposals(&f.cathy, &room, std::slice::from_ref(&unknown))
            .unwrap();
    assert_eq!(o.code, "invalidProposal", "{o:?}");
    assert_eq!(snapshot(&f), before);
    settle(&mut f.w, &room);
    assert!(f.w.hub_state(&room).unwrap().pending_proposals.is_empty());
}

#[test]
fn only_the_users_provider_or_the_hub_may_ask_for_a_removal() {
    let mut f = fixture(14);
    let room = f.room.clone();
    let bob_user = user_uri("b.example", "bob");
    let before = snapshot(&f);
    let o =
        f.w.hub_remove_user_from("c.example", &room, &bob_user)
            .unwrap();
    assert_eq!(o.code, "notAllowed", "{o:?}");
    assert!(
        o.description.starts_with("hub.foreign-user-removal"),
        "{o:?}"
    );
    let o =
        f.w.hub_remove_user(&room, &user_uri("b.example", "nobody"))
            .unwrap();
    assert!(o.description.starts_with("policy.not-listed"), "{o:?}");
    assert_eq!(snapshot(&f), before);
    // The hub's own provider may.
    let o =
        f.w.hub_remove_user_from("a.example", &room, &bob_user)
            .unwrap();
    assert!(o.accepted(), "{o:?}");
    // Asking twice finds nothing left to remove.
    let before = snapshot(&f);
    let o = f.w.hub_remove_user(&room, &bob_user).unwrap();
    assert!(o.description.starts_with("hub.nothing-to-remove"), "{o:?}");
    assert_eq!(snapshot(&f), before);
    settle(&mut f.w, &room);
}

/// Open disagreement #14 (spec/deviations.md, equivalence suite 6), its minimal
/// sequence: a client is kicked, another user leaves (list removal + Removes +
/// SelfRemove queued), the kicked client re-joins by external commit. The external
/// commit covers none of the queued proposals; the hub re-issues the leaver's client
/// removals as its own proposals in the new epoch (stapled to the commit's fanout,
/// protocol-06 §5.5 `external_proposals`), and the next commit carries the whole leave.
#[test]
fn an_external_commit_does_not_lose_a_queued_leave() {
    let mut f = fixture(15);
    let room = f.room.clone();
    let bob_user = user_uri("b.example", "bob");
    let o = f.w.kick(&f.alice, &room, &f.cathy).unwrap();
    assert!(o.accepted(), "{o:?}");
    settle(&mut f.w, &room);
    let o = f.w.leave(&f.bob[0], &room).unwrap();
    assert!(o.accepted(), "{o:?}");
    settle(&mut f.w, &room);
    assert_eq!(f.w.hub_state(&room).unwrap().pending_proposals.len(), 3);
    let epoch = f.w.hub_state(&room).unwrap().epoch;

    let o = f.w.external_join(&f.cathy, &room, ORDINARY).unwrap();
    assert!(o.accepted(), "{o:?}");
    settle(&mut f.w, &room);
    let hub = f.w.hub_state(&room).unwrap();
    assert_eq!(hub.epoch, epoch + 1);
    assert!(hub.members.contains(&f.cathy));
    assert_eq!(
        hub.pending_proposals.len(),
        2,
        "the hub re-issued a Remove per Bob device: {hub:?}"
    );
    assert!(
        listed(&f, &bob_user),
        "the list removal waits for the next commit"
    );
    for c in [&f.alice, &f.cathy] {
        let mut mine = f.w.client_state(c, &room).unwrap().pending_proposals;
        mine.sort();
        let mut theirs = hub.pending_proposals.clone();
        theirs.sort();
        assert_eq!(mine, theirs, "{c} stored the re-issued proposals");
    }

    let o = f.w.commit_pending(&f.alice, &room).unwrap();
    assert!(o.accepted(), "{o:?}");
    settle(&mut f.w, &room);
    let hub = f.w.hub_state(&room).unwrap();
    assert_eq!(hub.epoch, epoch + 2);
    assert!(!listed(&f, &bob_user), "{hub:?}");
    for b in &f.bob {
        assert!(!hub.members.contains(b), "{hub:?}");
        assert!(f.w.client_state(b, &room).is_none());
    }
    assert!(hub.pending_proposals.is_empty());
}

/// An external commit that covers a queued SelfRemove by reference would carry out
/// half of a leave: refused with the room unchanged.
#[test]
fn an_external_commit_covering_queued_proposals_is_refused_unchanged() {
    let mut f = fixture(16);
    let room = f.room.clone();
    let o = f.w.kick(&f.alice, &room, &f.cathy).unwrap();
    assert!(o.accepted(), "{o:?}");
    settle(&mut f.w, &room);
    let o = f.w.leave(&f.bob[0], &room).unwrap();
    assert!(o.accepted(), "{o:?}");
    settle(&mut f.w, &room);
    let (_, info) = f.w.fetch_group_info(&f.cathy, &room).unwrap();
    let info = info.unwrap();
    let (_, out) =
        f.w.client_mut(&f.cathy)
            .unwrap()
            .join_by_external_commit(
                &info.group_info,
                &info.ratchet_tree,
                &info.pending_proposals,
                &[],
            )
            .unwrap();
    let req = mimi_ref::sim::commit_update_request(&out).unwrap();
    let before = snapshot(&f);
    let o =
        f.w.send_raw_update(&f.cathy, &room, mimi_ref::wire::encode(&req).unwrap());
    assert_eq!(o.code, "notAllowed", "{o:?}");
    assert!(
        o.description
            .starts_with("hub.external-commit-covers-proposals"),
        "{o:?}"
    );
    assert_eq!(snapshot(&f), before);
}

/// The hub's entry (the first of `external_senders`) stays: a commit covering a
/// GroupContextExtensions proposal that drops it is refused by the hub's room and
/// leaves it unchanged; one that keeps it is accepted.
#[test]
fn a_commit_dropping_the_hubs_external_sender_entry_is_refused() {
    use std::sync::Arc;

    use mimi_ref::client::{Client, CommitRequest};
    use mimi_ref::room::profile::required_capabilities;
    use mimi_ref::room::{Accepted, Dictionary, PublicRoom, ReplaceLogic, RoomError};
    use mimi_ref::uri::MimiUri;
    use openmls::prelude::{
        AppDataDictionary, AppDataDictionaryExtension, BasicCredential, Extension, Extensions,
        ExternalProposal, ExternalSender, GroupEpoch, GroupId, SenderExtensionIndex,
    };
    use tls_codec::Serialize as _;

    const GID: &[u8] = b"mimi://a.example/r/gce";
    let hub_key =
        openmls_basic_credential::SignatureKeyPair::new(openmls::prelude::SignatureScheme::ED25519)
            .unwrap();
    let hub_sender = ExternalSender::new(
        hub_key.public().to_vec().into(),
        BasicCredential::new(b"mimi://a.example".to_vec()).into(),
    );
    let other = ExternalSender::new(
        b"another key, never used to sign".to_vec().into(),
        BasicCredential::new(b"mimi://b.example".to_vec()).into(),
    );
    let setup = || {
        let logic = Arc::new(ReplaceLogic);
        let mut alice = Client::new(
            MimiUri::client("a.example", "alice").unwrap(),
            logic.clone(),
        )
        .unwrap();
        alice
            .create_group_with_external_senders(
                GID,
                &Dictionary::new(),
                std::slice::from_ref(&hub_sender),
            )
            .unwrap();
        let b = alice.group_info(GID).unwrap();
        let room = PublicRoom::from_group_info(&b.group_info, &b.ratchet_tree, logic).unwrap();
        assert_eq!(room.external_senders(), vec![hub_sender.clone()]);
        (alice, room)
    };

    // The hub proposes new GroupContext extensions; `senders` is the new list.
    let gce = |room: &PublicRoom, senders: Vec<ExternalSender>| -> Vec<u8> {
        let mut ext = vec![
            required_capabilities(),
            Extension::AppDataDictionary(AppDataDictionaryExtension::new(AppDataDictionary::new())),
        ];
        if !senders.is_empty() {
            ext.push(Extension::ExternalSenders(senders));
        }
        ExternalProposal::new_group_context_extensions::<openmls_rust_crypto::OpenMlsRustCrypto>(
            Extensions::from_vec(ext).unwrap(),
            GroupId::from_slice(GID),
            GroupEpoch::from(room.epoch()),
            &hub_key,
            SenderExtensionIndex::new(0),
        )
        .unwrap()
        .tls_serialize_detached()
        .unwrap()
    };

    for (senders, accepted) in [
        (vec![], false),
        (vec![other.clone(), hub_sender.clone()], false),
        (vec![hub_sender.clone(), other.clone()], true),
    ] {
        let (mut alice, mut room) = setup();
        let p = gce(&room, senders.clone());
        assert!(matches!(
            room.process_handshake(&p, None).unwrap(),
            Accepted::Proposal(_)
        ));
        alice.process(&p).unwrap();
        let out = alice.commit(GID, &CommitRequest::default()).unwrap();
        let queued = room.view().unwrap();
        match room.process_handshake(&out.commit, Some(&out.group_info)) {
            Ok(Accepted::Commit(_)) if accepted => {
                assert_eq!(room.external_senders(), senders);
            }
            Err(RoomError::ExternalSendersChanged) if !accepted => {
                assert_eq!(
                    room.view().unwrap(),
                    queued,
                    "refused commit changed the room"
                );
            }
            other => panic!("senders {senders:?}: unexpected {other:?}"),
        }
    }
}

/// A hub with a signing identity hosts only rooms whose first `external_senders`
/// entry is its own.
#[test]
fn a_room_not_naming_the_hub_first_is_not_hosted() {
    use std::sync::Arc;

    use mimi_ref::client::Client;
    use mimi_ref::hub::{Hub, HubIdentity, HubInput, HubOutput};
    use mimi_ref::policy::BaseRoomPolicy;
    use mimi_ref::room::mimi::{initial_dictionary, room_metadata, MimiLogic};
    use mimi_ref::uri::MimiUri;
    use openmls::prelude::{BasicCredential, ExternalSender};

    let room = "mimi://a.example/r/named";
    let identity = HubIdentity {
        signer: openmls_basic_credential::SignatureKeyPair::new(
            openmls::prelude::SignatureScheme::ED25519,
        )
        .unwrap(),
        credential: BasicCredential::new(b"mimi://a.example".to_vec()).into(),
        crypto: openmls_rust_crypto::RustCrypto::default(),
    };
    let mut hub = Hub::new("a.example", 1000).with_identity(identity);
    let ours = hub.external_sender().unwrap();
    let other = ExternalSender::new(
        b"some other key".to_vec().into(),
        BasicCredential::new(b"mimi://b.example".to_vec()).into(),
    );
    let md = room_metadata(room, "named", "").unwrap();
    let dict = initial_dictionary(
        &user_uri("a.example", "alice"),
        SUPER,
        &cooperative(),
        &BaseRoomPolicy::default(),
        &md,
    );
    for (senders, ok) in [
        (vec![], false),
        (vec![other.clone(), ours.clone()], false),
        (vec![ours.clone(), other.clone()], true),
    ] {
        let mut alice = Client::new(
            MimiUri::client("a.example", "alice").unwrap(),
            Arc::new(MimiLogic),
        )
        .unwrap();
        alice
            .create_group_with_external_senders(room.as_bytes(), &dict, &senders)
            .unwrap();
        let gi = alice.group_info(room.as_bytes()).unwrap();
        let out = hub.handle(
            1,
            "a.example",
            HubInput::CreateRoom {
                room_id: room.into(),
                group_info: gi.group_info,
                ratchet_tree: gi.ratchet_tree,
            },
        );
        match out.as_slice() {
            [HubOutput::RoomCreated(Ok(()))] if ok => {}
            [HubOutput::RoomCreated(Err(e))] if !ok => {
                assert!(e.starts_with("hub.missing-external-sender"), "{e}");
                assert!(hub.room(room).is_none());
            }
            other => panic!("{senders:?}: {other:?}"),
        }
    }
}

/// The deleted-account flow under every faulty network mode (reordering, duplicating,
/// dropping, all three; several seeds): the hub's proposals reach everyone exactly once,
/// the commit carrying them is accepted, and every party converges without anomalies.
#[test]
fn a_deleted_account_is_removed_under_network_faults() {
    for net in [
        NetMode::Reordering,
        NetMode::Duplicating,
        NetMode::Dropping,
        NetMode::Chaos,
    ] {
        for seed in 0..3u64 {
            let mut f = fixture_on(
                seed,
                SimConfig {
                    net,
                    fault_per_mille: 300,
                    ..SimConfig::default()
                },
            );
            let room = f.room.clone();
            let bob_user = user_uri("b.example", "bob");
            let o = f.w.hub_remove_user(&room, &bob_user).unwrap();
            assert!(o.accepted(), "{net:?}/{seed}: {o:?}");
            settle(&mut f.w, &room);
            let o = f.w.commit_pending(&f.alice, &room).unwrap();
            assert!(o.accepted(), "{net:?}/{seed}: {o:?}");
            settle(&mut f.w, &room);
            assert!(!listed(&f, &bob_user), "{net:?}/{seed}");
            let hub = f.w.hub_state(&room).unwrap();
            assert_eq!(hub.members.len(), 2, "{net:?}/{seed}: {hub:?}");
            // Every proposal and commit reached each remaining client once.
            for c in [&f.alice, &f.cathy] {
                let fails: Vec<_> =
                    f.w.received(c)
                        .iter()
                        .filter(|d| matches!(d.outcome, Delivered::Failed(_)))
                        .collect();
                assert!(fails.is_empty(), "{net:?}/{seed} {c}: {fails:?}");
            }
        }
    }
}
