//! End-to-end tests of the openmls layer (`client` + `room`): the six flows of
//! protocol-06 §3 at the MLS level, with a hub `PublicRoom` processing every
//! handshake message, plus the rejection paths (component logic veto, stale
//! epoch, omitted queued proposals, GroupInfo mismatch, malformed input), each
//! checked to leave hub and members unchanged.

use std::sync::Arc;

use mimi_ref::client::{Client, CommitRequest, MemberView, ProcessError, Received};
use mimi_ref::room::profile::{key_package_ref, CIPHERSUITE};
use mimi_ref::room::{
    Accepted, AppDataOp, Committer, ComponentId, ComponentLogic, ComponentRejection, Dictionary,
    ProposalKind, PublicRoom, ReplaceLogic, RoomError, RoomView,
};
use mimi_ref::uri::MimiUri;

const GID: &[u8] = b"mimi://a.example/g/clubhouse";
const PARTICIPANTS: ComponentId = 0x0022;
const METADATA: ComponentId = 0x0023;
const DEVICES: ComponentId = 0x8001;

fn client(domain: &str, id: &str, logic: Arc<dyn ComponentLogic>) -> Client {
    Client::new(MimiUri::client(domain, id).unwrap(), logic).unwrap()
}

fn replace() -> Arc<dyn ComponentLogic> {
    Arc::new(ReplaceLogic)
}

/// Test logic: refuses any update whose payload is `forbidden`, else replaces.
struct DenyLogic;

impl ComponentLogic for DenyLogic {
    fn apply(
        &self,
        component_id: ComponentId,
        current: Option<&[u8]>,
        updates: &[AppDataOp],
    ) -> Result<Option<Vec<u8>>, ComponentRejection> {
        if updates
            .iter()
            .any(|u| matches!(u, AppDataOp::Update(b) if b == b"forbidden"))
        {
            return Err(ComponentRejection::new(component_id, "forbidden payload"));
        }
        ReplaceLogic.apply(component_id, current, updates)
    }
}

/// Test logic that disagrees with `ReplaceLogic`: updates append to the old value.
struct AppendLogic;

impl ComponentLogic for AppendLogic {
    fn apply(
        &self,
        _component_id: ComponentId,
        current: Option<&[u8]>,
        updates: &[AppDataOp],
    ) -> Result<Option<Vec<u8>>, ComponentRejection> {
        let mut v = current.map(<[u8]>::to_vec);
        for u in updates {
            v = match u {
                AppDataOp::Update(b) => {
                    let mut old = v.unwrap_or_default();
                    old.extend_from_slice(b);
                    Some(old)
                }
                AppDataOp::Remove => None,
            };
        }
        Ok(v)
    }
}

fn dict(entries: &[(ComponentId, &[u8])]) -> Dictionary {
    entries.iter().map(|(k, v)| (*k, v.to_vec())).collect()
}

fn hub_snapshot(hub: &PublicRoom) -> RoomView {
    hub.view().unwrap()
}

fn client_snapshot(c: &Client) -> Option<MemberView> {
    c.view(GID)
}

/// Hub and every given member agree on epoch, member set and dictionary.
fn assert_consistent(hub: &PublicRoom, members: &[&Client]) {
    for c in members {
        assert!(c.is_member(GID), "{} is not an active member", c.uri());
        assert_eq!(c.epoch(GID), Some(hub.epoch()), "epoch of {}", c.uri());
        assert_eq!(
            c.members(GID),
            Some(hub.members()),
            "members at {}",
            c.uri()
        );
        assert_eq!(
            c.dictionary(GID),
            Some(hub.dictionary()),
            "dictionary at {}",
            c.uri()
        );
    }
    let identities: Vec<Vec<u8>> = hub.members().into_values().collect();
    assert_eq!(identities.len(), members.len(), "hub member count");
    for c in members {
        assert!(
            identities.contains(&c.identity()),
            "{} missing at hub",
            c.uri()
        );
    }
}

/// Alice creates the room and the hub bootstraps from her GroupInfo.
fn create_room(alice: &mut Client, logic: Arc<dyn ComponentLogic>) -> PublicRoom {
    let initial = dict(&[
        (PARTICIPANTS, b"alice".as_slice()),
        (METADATA, b"Clubhouse".as_slice()),
    ]);
    alice.create_group(GID, &initial).unwrap();
    let bundle = alice.group_info(GID).unwrap();
    let hub = PublicRoom::from_group_info(&bundle.group_info, &bundle.ratchet_tree, logic).unwrap();
    assert_eq!(hub.dictionary(), initial);
    assert_eq!(hub.epoch(), 0);
    hub
}

/// `adder` adds `joiner` with a participant-list update; hub accepts; the
/// joiner joins from the Welcome with the hub's tree; `others` process the commit.
fn add(
    hub: &mut PublicRoom,
    adder: &mut Client,
    joiner: &mut Client,
    others: &mut [&mut Client],
    participants: &[u8],
) {
    add_with(hub, adder, joiner, others, participants, false)
}

/// As [`add`]; with `inline_tree` the Welcome carries the ratchet tree and the
/// joiner gets no separate tree.
fn add_with(
    hub: &mut PublicRoom,
    adder: &mut Client,
    joiner: &mut Client,
    others: &mut [&mut Client],
    participants: &[u8],
    inline_tree: bool,
) {
    let kp = joiner.key_package().unwrap();
    let kp_ref = key_package_ref(&kp).unwrap();
    let out = adder
        .commit(
            GID,
            &CommitRequest {
                app_data: vec![(PARTICIPANTS, AppDataOp::Update(participants.to_vec()))],
                adds: vec![kp],
                removes: vec![],
                inline_ratchet_tree: inline_tree,
            },
        )
        .unwrap();
    let accepted = hub
        .process_handshake(&out.commit, Some(&out.group_info))
        .unwrap();
    match accepted {
        Accepted::Commit(info) => {
            assert_eq!(info.added, vec![joiner.identity()]);
            assert_eq!(info.added_key_package_refs, vec![kp_ref]);
            assert!(
                matches!(info.committer, Committer::Member { ref identity, .. } if *identity == adder.identity())
            );
        }
        other => panic!("expected a commit, got {other:?}"),
    }
    adder.merge_pending_commit(GID).unwrap();
    for o in others.iter_mut() {
        assert!(matches!(
            o.process(&out.commit).unwrap(),
            Received::Commit {
                removed_self: false,
                ..
            }
        ));
    }
    assert_eq!(
        out.ratchet_tree,
        hub.ratchet_tree().unwrap(),
        "committer's tree = hub's tree"
    );
    let tree = hub.ratchet_tree().unwrap();
    let tree = (!inline_tree).then_some(tree.as_slice());
    let gid = joiner
        .join_from_welcome(out.welcome.as_deref().unwrap(), tree)
        .unwrap();
    assert_eq!(gid, GID);
}

#[test]
fn six_flows_end_to_end() {
    let mut alice = client("a.example", "alice1", replace());
    let mut bob = client("b.example", "bob1", replace());
    let mut cathy = client("c.example", "cathy1", replace());
    let mut cathy2 = client("c.example", "cathy2", replace());

    // §3.1 Alice creates the room.
    let mut hub = create_room(&mut alice, replace());
    assert_consistent(&hub, &[&alice]);

    // §3.2 Alice adds Bob, with an AppDataUpdate in the same commit.
    add(&mut hub, &mut alice, &mut bob, &mut [], b"alice,bob");
    assert_consistent(&hub, &[&alice, &bob]);
    assert_eq!(hub.epoch(), 1);
    assert_eq!(hub.dictionary()[&PARTICIPANTS], b"alice,bob");

    // §3.3 Bob adds Cathy.
    add(
        &mut hub,
        &mut bob,
        &mut cathy,
        &mut [&mut alice],
        b"alice,bob,cathy",
    );
    assert_consistent(&hub, &[&alice, &bob, &cathy]);
    assert_eq!(hub.epoch(), 2);

    // §3.4 Cathy sends a message; everyone decrypts it.
    let msg = cathy.send(GID, b"hello clubhouse").unwrap();
    assert_eq!(hub.check_application_message(&msg).unwrap(), 2);
    for c in [&mut alice, &mut bob] {
        match c.process(&msg).unwrap() {
            Received::Application { sender, data, .. } => {
                assert_eq!(sender, cathy.identity());
                assert_eq!(data, b"hello clubhouse");
            }
            other => panic!("expected application message, got {other:?}"),
        }
    }

    // §3.5 Bob leaves: AppDataUpdate(-bob) and SelfRemove as standalone
    // proposals, queued by the hub, committed by Alice.
    let bob_leaf = bob.own_leaf(GID).unwrap();
    let p1 = bob
        .propose_app_data(
            GID,
            PARTICIPANTS,
            AppDataOp::Update(b"alice,cathy".to_vec()),
        )
        .unwrap();
    let p2 = bob.self_remove(GID).unwrap();
    for p in [&p1, &p2] {
        assert!(matches!(
            hub.process_handshake(p, None).unwrap(),
            Accepted::Proposal(_)
        ));
        for c in [&mut alice, &mut cathy] {
            assert!(matches!(c.process(p).unwrap(), Received::Proposal { .. }));
        }
    }
    let queued = hub.queued_proposals().unwrap();
    assert_eq!(queued.len(), 2);
    assert_eq!(queued[1].kind, ProposalKind::SelfRemove);
    assert_eq!(queued[1].sender_leaf, Some(bob_leaf));
    let out = alice.commit(GID, &CommitRequest::default()).unwrap();
    match hub
        .process_handshake(&out.commit, Some(&out.group_info))
        .unwrap()
    {
        Accepted::Commit(info) => {
            assert_eq!(info.removed, vec![(bob_leaf, bob.identity())]);
        }
        other => panic!("expected a commit, got {other:?}"),
    }
    assert!(hub.queued_proposals().unwrap().is_empty());
    alice.merge_pending_commit(GID).unwrap();
    assert!(matches!(
        cathy.process(&out.commit).unwrap(),
        Received::Commit {
            removed_self: false,
            ..
        }
    ));
    assert!(matches!(
        bob.process(&out.commit).unwrap(),
        Received::Commit {
            removed_self: true,
            ..
        }
    ));
    assert!(!bob.is_member(GID));
    assert_consistent(&hub, &[&alice, &cathy]);
    assert_eq!(hub.dictionary()[&PARTICIPANTS], b"alice,cathy");

    // A removed client cannot decrypt what is sent after its removal.
    let after = cathy.send(GID, b"bob is gone").unwrap();
    assert!(
        matches!(alice.process(&after).unwrap(), Received::Application { ref data, .. } if data == b"bob is gone")
    );
    assert!(bob.process(&after).is_err());

    // §3.6 Cathy adds a second device by external commit, carrying an AppDataUpdate.
    let (gid, out) = cathy2
        .join_by_external_commit(
            hub.group_info(),
            &hub.ratchet_tree().unwrap(),
            &hub.queued_proposal_messages(),
            &[(DEVICES, AppDataOp::Update(b"cathy1,cathy2".to_vec()))],
        )
        .unwrap();
    assert_eq!(gid, GID);
    match hub
        .process_handshake(&out.commit, Some(&out.group_info))
        .unwrap()
    {
        Accepted::Commit(info) => {
            assert_eq!(
                info.committer,
                Committer::NewMember {
                    identity: cathy2.identity()
                }
            );
        }
        other => panic!("expected a commit, got {other:?}"),
    }
    for c in [&mut alice, &mut cathy] {
        assert!(matches!(
            c.process(&out.commit).unwrap(),
            Received::Commit { .. }
        ));
    }
    assert!(bob.process(&out.commit).is_err());
    assert_consistent(&hub, &[&alice, &cathy, &cathy2]);
    assert_eq!(hub.dictionary()[&DEVICES], b"cathy1,cathy2");
    assert_eq!(hub.epoch(), 4);

    // The new device's messages reach everyone but Bob.
    let m = cathy2.send(GID, b"from my tablet").unwrap();
    for c in [&mut alice, &mut cathy] {
        assert!(
            matches!(c.process(&m).unwrap(), Received::Application { ref sender, .. } if *sender == cathy2.identity())
        );
    }
    assert!(bob.process(&m).is_err());
}

/// Alice and Bob in a room at epoch 1, hub and Alice running `logic`, Bob `bob_logic`.
fn two_member_room(
    logic: Arc<dyn ComponentLogic>,
    bob_logic: Arc<dyn ComponentLogic>,
) -> (PublicRoom, Client, Client) {
    let mut alice = client("a.example", "alice1", Arc::clone(&logic));
    let mut bob = client("b.example", "bob1", bob_logic);
    let mut hub = create_room(&mut alice, logic);
    add(&mut hub, &mut alice, &mut bob, &mut [], b"alice,bob");
    assert_consistent(&hub, &[&alice, &bob]);
    (hub, alice, bob)
}

#[test]
fn rejected_app_data_update_is_refused_by_hub_and_members_and_changes_nothing() {
    // Bob runs permissive logic (a misbehaving client); hub and Alice refuse `forbidden`.
    let deny: Arc<dyn ComponentLogic> = Arc::new(DenyLogic);
    let (mut hub, mut alice, mut bob) = two_member_room(deny, replace());

    // A commit carrying a refused AppDataUpdate.
    let out = bob
        .commit(
            GID,
            &CommitRequest {
                app_data: vec![(METADATA, AppDataOp::Update(b"forbidden".to_vec()))],
                ..Default::default()
            },
        )
        .unwrap();
    let hub_before = hub_snapshot(&hub);
    let alice_before = client_snapshot(&alice);
    let err = hub
        .process_handshake(&out.commit, Some(&out.group_info))
        .unwrap_err();
    assert!(
        matches!(err, RoomError::Rejected(ref r) if r.component_id == METADATA),
        "{err}"
    );
    assert_eq!(hub_snapshot(&hub), hub_before);
    let err = alice.process(&out.commit).unwrap_err();
    assert!(matches!(err, ProcessError::Rejected(_)), "{err}");
    assert_eq!(client_snapshot(&alice), alice_before);
    bob.discard_pending_commit(GID).unwrap();

    // A standalone proposal carrying it: refused and not queued, on both sides.
    let p = bob
        .propose_app_data(GID, METADATA, AppDataOp::Update(b"forbidden".to_vec()))
        .unwrap();
    assert!(matches!(
        hub.process_handshake(&p, None),
        Err(RoomError::Rejected(_))
    ));
    assert_eq!(hub_snapshot(&hub), hub_before);
    assert!(matches!(alice.process(&p), Err(ProcessError::Rejected(_))));
    assert_eq!(client_snapshot(&alice), alice_before);

    // Alice's own logic refuses to build such a commit at all.
    assert!(alice
        .commit(
            GID,
            &CommitRequest {
                app_data: vec![(METADATA, AppDataOp::Update(b"forbidden".to_vec()))],
                ..Default::default()
            },
        )
        .is_err());
    assert_eq!(client_snapshot(&alice), alice_before);

    // The room still works: Alice commits a good update. (Bob's own refused
    // proposal stays in his queue until the next merge clears it.)
    let out = alice
        .commit(
            GID,
            &CommitRequest {
                app_data: vec![(METADATA, AppDataOp::Update(b"Clubhouse 2".to_vec()))],
                ..Default::default()
            },
        )
        .unwrap();
    assert!(matches!(
        hub.process_handshake(&out.commit, Some(&out.group_info))
            .unwrap(),
        Accepted::Commit(_)
    ));
    alice.merge_pending_commit(GID).unwrap();
    bob.process(&out.commit).unwrap();
    assert_consistent(&hub, &[&alice, &bob]);
    assert_eq!(hub.dictionary()[&METADATA], b"Clubhouse 2");
}

#[test]
fn stale_epoch_commit_is_refused() {
    let (mut hub, mut alice, mut bob) = two_member_room(replace(), replace());
    // Both build a commit for epoch 1; Alice's reaches the hub first.
    let bob_out = bob
        .commit(
            GID,
            &CommitRequest {
                app_data: vec![(METADATA, AppDataOp::Update(b"bob's name".to_vec()))],
                ..Default::default()
            },
        )
        .unwrap();
    let alice_out = alice
        .commit(
            GID,
            &CommitRequest {
                app_data: vec![(METADATA, AppDataOp::Update(b"alice's name".to_vec()))],
                ..Default::default()
            },
        )
        .unwrap();
    hub.process_handshake(&alice_out.commit, Some(&alice_out.group_info))
        .unwrap();
    alice.merge_pending_commit(GID).unwrap();
    assert_eq!(hub.epoch(), 2);

    let hub_before = hub_snapshot(&hub);
    let alice_before = client_snapshot(&alice);
    let err = hub
        .process_handshake(&bob_out.commit, Some(&bob_out.group_info))
        .unwrap_err();
    assert!(
        matches!(
            err,
            RoomError::WrongEpoch {
                message: 1,
                current: 2
            }
        ),
        "{err}"
    );
    assert_eq!(hub_snapshot(&hub), hub_before);
    let err = alice.process(&bob_out.commit).unwrap_err();
    assert!(
        matches!(
            err,
            ProcessError::WrongEpoch {
                message: 1,
                current: 2
            }
        ),
        "{err}"
    );
    assert_eq!(client_snapshot(&alice), alice_before);

    // Bob drops his commit and catches up.
    bob.discard_pending_commit(GID).unwrap();
    bob.process(&alice_out.commit).unwrap();
    assert_consistent(&hub, &[&alice, &bob]);
    assert_eq!(hub.dictionary()[&METADATA], b"alice's name");
}

#[test]
fn commit_omitting_queued_proposals_is_refused() {
    let (mut hub, mut alice, mut bob) = two_member_room(replace(), replace());
    // Bob's SelfRemove reaches the hub, but not Alice (yet).
    let p = bob.self_remove(GID).unwrap();
    hub.process_handshake(&p, None).unwrap();
    let out = alice
        .commit(
            GID,
            &CommitRequest {
                app_data: vec![(METADATA, AppDataOp::Update(b"x".to_vec()))],
                ..Default::default()
            },
        )
        .unwrap();
    let before = hub_snapshot(&hub);
    let err = hub
        .process_handshake(&out.commit, Some(&out.group_info))
        .unwrap_err();
    assert!(
        matches!(err, RoomError::OmitsQueuedProposals { missing: 1 }),
        "{err}"
    );
    assert_eq!(hub_snapshot(&hub), before);

    // After Alice learns the proposal, her commit covers it and is accepted.
    alice.discard_pending_commit(GID).unwrap();
    alice.process(&p).unwrap();
    let out = alice.commit(GID, &CommitRequest::default()).unwrap();
    hub.process_handshake(&out.commit, Some(&out.group_info))
        .unwrap();
    alice.merge_pending_commit(GID).unwrap();
    assert!(matches!(
        bob.process(&out.commit).unwrap(),
        Received::Commit {
            removed_self: true,
            ..
        }
    ));
    assert_consistent(&hub, &[&alice]);
}

#[test]
fn group_info_disagreeing_with_hub_state_is_refused_and_rolled_back() {
    // The hub's logic appends, Alice's replaces: the GroupContexts differ after
    // the commit, which only the GroupInfo check can reveal to the hub.
    let mut alice = client("a.example", "alice1", replace());
    let mut hub = create_room(&mut alice, Arc::new(AppendLogic));
    let out = alice
        .commit(
            GID,
            &CommitRequest {
                app_data: vec![(METADATA, AppDataOp::Update(b"new".to_vec()))],
                ..Default::default()
            },
        )
        .unwrap();
    let before = hub_snapshot(&hub);
    let err = hub
        .process_handshake(&out.commit, Some(&out.group_info))
        .unwrap_err();
    assert!(
        matches!(
            err,
            RoomError::GroupInfoMismatch {
                field: "group_context"
            }
        ),
        "{err}"
    );
    assert_eq!(hub_snapshot(&hub), before);

    // A GroupInfo of the wrong epoch, or none at all, is refused too.
    let stale_gi = hub.group_info().to_vec();
    assert!(matches!(
        hub.process_handshake(&out.commit, Some(&stale_gi)),
        Err(RoomError::GroupInfoMismatch { field: "epoch" })
    ));
    assert!(matches!(
        hub.process_handshake(&out.commit, None),
        Err(RoomError::MissingGroupInfo)
    ));
    assert_eq!(hub_snapshot(&hub), before);
}

#[test]
fn malformed_and_misdirected_input_is_refused_without_change() {
    let (mut hub, mut alice, mut bob) = two_member_room(replace(), replace());
    let before = hub_snapshot(&hub);
    let alice_before = client_snapshot(&alice);

    // openmls refuses to encrypt while the sender has own proposals queued,
    // so the application message is made before the SelfRemove.
    let app = bob.send(GID, b"hi").unwrap();
    // Garbage and truncated bytes.
    let good = bob.self_remove(GID).unwrap();
    for bad in [&b""[..], &b"\x00\x01garbage"[..], &good[..good.len() - 3]] {
        assert!(matches!(
            hub.process_handshake(bad, None),
            Err(RoomError::Decode(_))
        ));
        assert!(matches!(alice.process(bad), Err(ProcessError::Decode(_))));
        assert!(PublicRoom::from_group_info(bad, bad, replace()).is_err());
        assert!(alice.join_from_welcome(bad, None).is_err());
        assert!(alice.join_by_external_commit(bad, bad, &[], &[]).is_err());
    }
    // A KeyPackage that is not one.
    assert!(alice
        .commit(
            GID,
            &CommitRequest {
                adds: vec![b"nope".to_vec()],
                ..Default::default()
            }
        )
        .is_err());
    // An application message is not a handshake.
    assert!(matches!(
        hub.process_handshake(&app, None),
        Err(RoomError::NotPublicMessage)
    ));
    // A handshake is not an application message.
    assert!(hub.check_application_message(&good).is_err());
    // A message of another group.
    let mut eve = client("e.example", "eve1", replace());
    eve.create_group(b"mimi://e.example/g/other", &Dictionary::new())
        .unwrap();
    let other = eve
        .propose_app_data(b"mimi://e.example/g/other", METADATA, AppDataOp::Remove)
        .unwrap();
    assert!(matches!(
        hub.process_handshake(&other, None),
        Err(RoomError::WrongGroup { .. })
    ));
    assert!(matches!(
        alice.process(&other),
        Err(ProcessError::UnknownGroup)
    ));
    // A non-client URI cannot be a client identity.
    assert!(Client::new(MimiUri::user("a.example", "alice").unwrap(), replace()).is_err());

    assert_eq!(hub_snapshot(&hub), before);
    assert_eq!(client_snapshot(&alice), alice_before);
}

#[test]
fn member_removes_another_with_app_data_update_in_same_commit() {
    let (mut hub, mut alice, mut bob) = two_member_room(replace(), replace());
    let bob_leaf = bob.own_leaf(GID).unwrap();
    // A leaf that is not a member cannot be removed.
    assert!(matches!(
        alice.commit(
            GID,
            &CommitRequest {
                removes: vec![7],
                ..Default::default()
            }
        ),
        Err(mimi_ref::client::CommitError::NotAMember(7))
    ));
    let out = alice
        .commit(
            GID,
            &CommitRequest {
                app_data: vec![(PARTICIPANTS, AppDataOp::Update(b"alice".to_vec()))],
                removes: vec![bob_leaf],
                ..Default::default()
            },
        )
        .unwrap();
    assert!(out.welcome.is_none());
    match hub
        .process_handshake(&out.commit, Some(&out.group_info))
        .unwrap()
    {
        Accepted::Commit(info) => assert_eq!(info.removed, vec![(bob_leaf, bob.identity())]),
        other => panic!("expected a commit, got {other:?}"),
    }
    alice.merge_pending_commit(GID).unwrap();
    assert_eq!(
        bob.process(&out.commit).unwrap(),
        Received::Commit {
            new_epoch: 2,
            removed_self: true
        }
    );
    assert_consistent(&hub, &[&alice]);
    assert_eq!(hub.dictionary()[&PARTICIPANTS], b"alice");
    // Bob can no longer send either.
    assert!(bob.send(GID, b"still here?").is_err());
}

#[test]
fn key_package_without_room_capabilities_cannot_be_added() {
    use openmls::prelude::{BasicCredential, CredentialWithKey, KeyPackage, MlsMessageOut};
    use openmls_basic_credential::SignatureKeyPair;
    use openmls_rust_crypto::OpenMlsRustCrypto;
    use tls_codec::Serialize as _;

    let (hub, mut alice, _bob) = two_member_room(replace(), replace());
    // A plain openmls KeyPackage: default capabilities, no AppDataUpdate/SelfRemove.
    let provider = OpenMlsRustCrypto::default();
    let signer = SignatureKeyPair::new(CIPHERSUITE.signature_algorithm()).unwrap();
    let credential = CredentialWithKey {
        credential: BasicCredential::new(b"mimi://d.example/d/dave1".to_vec()).into(),
        signature_key: signer.public().into(),
    };
    let kp = KeyPackage::builder()
        .build(CIPHERSUITE, &provider, &signer, credential)
        .unwrap();
    let bytes = MlsMessageOut::from(kp.key_package().clone())
        .tls_serialize_detached()
        .unwrap();
    assert!(
        key_package_ref(&bytes).is_ok(),
        "the KeyPackage itself is valid"
    );
    let before = client_snapshot(&alice);
    let err = alice
        .commit(
            GID,
            &CommitRequest {
                adds: vec![bytes],
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(
        matches!(err, mimi_ref::client::CommitError::Build(_)),
        "{err}"
    );
    assert_eq!(client_snapshot(&alice), before);
    assert_eq!(hub.epoch(), 1);
}

#[test]
fn external_commit_may_not_cover_queued_proposals_and_drops_them() {
    let (mut hub, mut alice, mut bob) = two_member_room(replace(), replace());
    let mut alice2 = client("a.example", "alice2", replace());
    let bob_leaf = bob.own_leaf(GID).unwrap();
    // Bob queues an AppDataUpdate and a SelfRemove at the hub and at Alice.
    let upd = bob
        .propose_app_data(GID, METADATA, AppDataOp::Update(b"bye".to_vec()))
        .unwrap();
    let leave = bob.self_remove(GID).unwrap();
    let mut refs = Vec::new();
    for p in [&upd, &leave] {
        match hub.process_handshake(p, None).unwrap() {
            Accepted::Proposal(q) => refs.push(q.reference),
            other => panic!("expected a proposal, got {other:?}"),
        }
        alice.process(p).unwrap();
    }
    assert_eq!(
        hub.queued_proposal_messages(),
        vec![upd.clone(), leave.clone()]
    );

    // Covering the queued SelfRemove by reference is refused (the hub re-issues
    // invalidated removals itself, spec/deviations.md "hub external proposals").
    let (_, out) = alice2
        .join_by_external_commit(
            hub.group_info(),
            &hub.ratchet_tree().unwrap(),
            &hub.queued_proposal_messages(),
            &[],
        )
        .unwrap();
    let before = hub_snapshot(&hub);
    assert!(matches!(
        hub.process_handshake(&out.commit, Some(&out.group_info)),
        Err(RoomError::ExternalCoversProposals { covered: 1 })
    ));
    assert_eq!(hub_snapshot(&hub), before);
    alice2.forget_group(GID).unwrap();
    assert!(!alice2.is_member(GID));

    // Without them, the external commit is accepted and both proposals are dropped.
    let (_, out) = alice2
        .join_by_external_commit(hub.group_info(), &hub.ratchet_tree().unwrap(), &[], &[])
        .unwrap();
    match hub
        .process_handshake(&out.commit, Some(&out.group_info))
        .unwrap()
    {
        Accepted::Commit(info) => {
            assert!(info.removed.is_empty());
            assert_eq!(info.dropped_proposals, refs);
        }
        other => panic!("expected a commit, got {other:?}"),
    }
    assert!(hub.queued_proposal_messages().is_empty());
    assert!(matches!(
        alice.process(&out.commit).unwrap(),
        Received::Commit {
            removed_self: false,
            ..
        }
    ));
    assert!(matches!(
        bob.process(&out.commit).unwrap(),
        Received::Commit {
            removed_self: false,
            ..
        }
    ));
    assert!(hub.members().contains_key(&bob_leaf));
    assert_consistent(&hub, &[&alice, &alice2, &bob]);
    assert_eq!(
        hub.dictionary()[&METADATA],
        b"Clubhouse",
        "dropped update not applied"
    );
}

#[test]
fn echoes_and_duplicates_are_handled() {
    let (mut hub, mut alice, mut bob) = two_member_room(replace(), replace());
    // Bob's own application message fanned back to him.
    let m = bob.send(GID, b"echo").unwrap();
    assert_eq!(
        bob.process(&m).unwrap(),
        Received::OwnApplication { epoch: 1 }
    );
    assert!(matches!(
        alice.process(&m).unwrap(),
        Received::Application { .. }
    ));
    // A replayed application message is refused by openmls (its key is consumed).
    assert!(alice.process(&m).is_err());

    // Bob's own proposal fanned back: recognized, not queued twice.
    let p = bob.self_remove(GID).unwrap();
    let before = client_snapshot(&bob);
    assert!(matches!(
        bob.process(&p).unwrap(),
        Received::Proposal {
            kind: ProposalKind::SelfRemove,
            ..
        }
    ));
    assert_eq!(client_snapshot(&bob), before);
    assert_eq!(bob.pending_proposals(GID).unwrap().len(), 1);
    // A duplicate delivery to the hub is refused and changes nothing.
    hub.process_handshake(&p, None).unwrap();
    let hub_before = hub_snapshot(&hub);
    assert!(matches!(
        hub.process_handshake(&p, None),
        Err(RoomError::DuplicateProposal)
    ));
    assert_eq!(hub_snapshot(&hub), hub_before);
    // ... and at a member it is queued once.
    alice.process(&p).unwrap();
    alice.process(&p).unwrap();
    assert_eq!(alice.pending_proposals(GID).unwrap().len(), 1);
}

#[test]
fn group_info_with_bad_signature_is_refused_and_rolled_back() {
    let (mut hub, mut alice, mut bob) = two_member_room(replace(), replace());
    let out = alice
        .commit(
            GID,
            &CommitRequest {
                app_data: vec![(METADATA, AppDataOp::Update(b"renamed".to_vec()))],
                ..Default::default()
            },
        )
        .unwrap();
    let mut forged = out.group_info.clone();
    let last = forged.len() - 1;
    forged[last] ^= 0x01;
    let before = hub_snapshot(&hub);
    let err = hub
        .process_handshake(&out.commit, Some(&forged))
        .unwrap_err();
    assert!(matches!(err, RoomError::GroupInfoInvalid(_)), "{err}");
    assert_eq!(hub_snapshot(&hub), before);
    // The genuine GroupInfo is then accepted: the rollback left a usable room.
    hub.process_handshake(&out.commit, Some(&out.group_info))
        .unwrap();
    alice.merge_pending_commit(GID).unwrap();
    bob.process(&out.commit).unwrap();
    assert_consistent(&hub, &[&alice, &bob]);
    assert_eq!(hub.dictionary()[&METADATA], b"renamed");
}

#[test]
fn welcome_for_someone_else_is_refused() {
    let (_hub, mut alice, _bob) = two_member_room(replace(), replace());
    let mut dave = client("d.example", "dave1", replace());
    let mut eve = client("e.example", "eve1", replace());
    let out = alice
        .commit(
            GID,
            &CommitRequest {
                adds: vec![dave.key_package().unwrap()],
                ..Default::default()
            },
        )
        .unwrap();
    let welcome = out.welcome.unwrap();
    // Eve holds no KeyPackage this Welcome was made for.
    assert!(eve
        .join_from_welcome(&welcome, Some(&out.ratchet_tree))
        .is_err());
    assert!(!eve.is_member(GID));
    // Without the tree (not inline here) Dave cannot join either ...
    assert!(dave.join_from_welcome(&welcome, None).is_err());
    // ... with it he can.
    assert_eq!(
        dave.join_from_welcome(&welcome, Some(&out.ratchet_tree))
            .unwrap(),
        GID
    );
}
