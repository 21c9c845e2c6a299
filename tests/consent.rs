//! Explicit consent (protocol-06 §5.7 `requestConsent` / `updateConsent`) and its effect
//! on `/keyMaterial` (§5.2): every answer of the follower, refusals that leave it
//! byte-for-byte unchanged, and the whole round trip between two provider cores:
//! refused with `noConsent`, granted through `updateConsent`, fetched, revoked, refused.

use std::sync::Arc;

use mimi_ref::client::Client;
use mimi_ref::follower::{Follower, FollowerError, FollowerInput, FollowerOutput};
use mimi_ref::http::{Endpoint, ProviderCore, Request};
use mimi_ref::provider::{LocalOp, MimiCore};
use mimi_ref::room::mimi::MimiLogic;
use mimi_ref::sim::key_material_request;
use mimi_ref::uri::{MimiUri, UriKind};
use mimi_ref::wire::mls::AppDataDictionary;
use mimi_ref::wire::{
    decode_exact, encode, ConsentEntry, ConsentOp, IdentifierUri, KeyMaterialResponse,
    KeyMaterialUserCode,
};
use openmls::prelude::{ExtensionType, ProposalType, RequiredCapabilitiesExtension};

const ALICE: &str = "mimi://a.example/u/alice";
const BOB: &str = "mimi://b.example/u/bob";
const ROOM: &str = "mimi://a.example/r/r1";

fn entry(op: ConsentOp, requester: &str, target: &str, room: Option<&str>) -> ConsentEntry {
    ConsentEntry {
        operation: op,
        requester_uri: IdentifierUri::new(requester),
        target_uri: IdentifierUri::new(target),
        room_id: room.map(IdentifierUri::new),
        consent_extensions: AppDataDictionary::default(),
    }
}

fn grant() -> ConsentOp {
    ConsentOp::Grant {
        client_key_packages: Vec::new(),
    }
}

fn one(out: Vec<FollowerOutput>) -> FollowerOutput {
    assert_eq!(out.len(), 1, "{out:?}");
    out.into_iter().next().unwrap()
}

fn incoming(f: &mut Follower, from: &str, update: bool, e: &ConsentEntry) -> FollowerOutput {
    let body = encode(e).unwrap();
    let from = from.to_owned();
    one(f.handle(
        1,
        if update {
            FollowerInput::UpdateConsent { from, body }
        } else {
            FollowerInput::RequestConsent { from, body }
        },
    ))
}

#[test]
fn request_and_cancel_at_the_target_provider() {
    let mut b = Follower::new("b.example");
    let e = entry(ConsentOp::Request, ALICE, BOB, Some(ROOM));
    assert!(matches!(
        incoming(&mut b, "a.example", false, &e),
        FollowerOutput::ConsentAccepted
    ));
    let key = (ALICE.to_owned(), BOB.to_owned(), Some(ROOM.to_owned()));
    assert!(b.consent_requests().contains(&key));
    // A cancel of another scope (any room) matches nothing: 201, nothing changes (§5.7).
    let before = b.snapshot();
    let other = entry(ConsentOp::Cancel, ALICE, BOB, None);
    assert!(matches!(
        incoming(&mut b, "a.example", false, &other),
        FollowerOutput::ConsentAccepted
    ));
    assert_eq!(b.snapshot(), before);
    // The matching cancel withdraws the request.
    let cancel = entry(ConsentOp::Cancel, ALICE, BOB, Some(ROOM));
    assert!(matches!(
        incoming(&mut b, "a.example", false, &cancel),
        FollowerOutput::ConsentAccepted
    ));
    assert!(b.consent_requests().is_empty());
}

#[test]
fn grant_and_revoke_at_the_requester_provider() {
    let mut a = Follower::new("a.example");
    let e = entry(grant(), ALICE, BOB, None);
    assert!(matches!(
        incoming(&mut a, "b.example", true, &e),
        FollowerOutput::ConsentAccepted
    ));
    let key = (ALICE.to_owned(), BOB.to_owned(), None);
    assert_eq!(a.consent_received().get(&key), Some(&0));
    let revoke = entry(ConsentOp::Revoke, ALICE, BOB, None);
    assert!(matches!(
        incoming(&mut a, "b.example", true, &revoke),
        FollowerOutput::ConsentAccepted
    ));
    assert!(a.consent_received().is_empty());
}

#[test]
fn refusals_leave_the_follower_unchanged() {
    let mut b = Follower::new("b.example");
    // Some state first, so that "unchanged" means something.
    let req = entry(ConsentOp::Request, ALICE, BOB, None);
    assert!(matches!(
        incoming(&mut b, "a.example", false, &req),
        FollowerOutput::ConsentAccepted
    ));
    let before = b.snapshot();
    let cases: Vec<(&str, bool, ConsentEntry, &str)> = vec![
        // requestConsent does not take grant/revoke, updateConsent not request/cancel.
        (
            "a.example",
            false,
            entry(grant(), ALICE, BOB, None),
            "consent-operation",
        ),
        (
            "a.example",
            false,
            entry(ConsentOp::Revoke, ALICE, BOB, None),
            "consent-operation",
        ),
        (
            "a.example",
            true,
            entry(ConsentOp::Request, BOB, ALICE, None),
            "consent-operation",
        ),
        (
            "a.example",
            true,
            entry(ConsentOp::Cancel, BOB, ALICE, None),
            "consent-operation",
        ),
        // request: the target must be ours ...
        (
            "a.example",
            false,
            entry(ConsentOp::Request, ALICE, "mimi://c.example/u/carol", None),
            "targetUri",
        ),
        // ... and the requester the sender's.
        (
            "c.example",
            false,
            entry(ConsentOp::Request, ALICE, BOB, None),
            "requesterUri",
        ),
        // grant: the requester must be ours and the target the sender's.
        (
            "a.example",
            true,
            entry(grant(), ALICE, "mimi://a.example/u/ann", None),
            "requesterUri",
        ),
        (
            "c.example",
            true,
            entry(grant(), BOB, ALICE, None),
            "targetUri",
        ),
    ];
    for (from, update, e, field) in cases {
        match incoming(&mut b, from, update, &e) {
            FollowerOutput::Refused(err) => {
                let s = err.to_string();
                assert!(s.contains(field), "{s} should name {field}");
                let op = matches!(err, FollowerError::ConsentOperation { .. });
                assert_eq!(op, field == "consent-operation", "{s}");
                assert_eq!(err.is_forbidden(), !op, "{s}");
            }
            other => panic!("expected a refusal for {e:?}, got {other:?}"),
        }
        assert_eq!(b.snapshot(), before, "refused {e:?} changed the follower");
    }
    // Undecodable bytes.
    let out = one(b.handle(
        1,
        FollowerInput::UpdateConsent {
            from: "a.example".into(),
            body: vec![2, 0],
        },
    ));
    assert!(matches!(
        out,
        FollowerOutput::Refused(FollowerError::Decode(_))
    ));
    // A local grant for a user of another provider.
    let out = one(b.handle(
        1,
        FollowerInput::UserConsent {
            body: encode(&entry(grant(), BOB, ALICE, None)).unwrap(),
        },
    ));
    assert!(matches!(
        out,
        FollowerOutput::Refused(FollowerError::ConsentDomain { .. })
    ));
    assert_eq!(b.snapshot(), before);
}

#[test]
fn local_grant_answers_the_request_and_goes_to_the_requester() {
    let mut b = Follower::new("b.example");
    let req = entry(ConsentOp::Request, ALICE, BOB, None);
    incoming(&mut b, "a.example", false, &req);
    let g = encode(&entry(grant(), ALICE, BOB, None)).unwrap();
    match one(b.handle(1, FollowerInput::UserConsent { body: g.clone() })) {
        FollowerOutput::SendConsent { to, update, body } => {
            assert_eq!((to.as_str(), update), ("a.example", true));
            assert_eq!(body, g);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        b.consent_requests().is_empty(),
        "the grant answers the request"
    );
    // A local request goes to the target's provider as requestConsent.
    let r = encode(&entry(ConsentOp::Request, BOB, ALICE, None)).unwrap();
    match one(b.handle(1, FollowerInput::UserConsent { body: r })) {
        FollowerOutput::SendConsent { to, update, .. } => {
            assert_eq!((to.as_str(), update), ("a.example", false));
        }
        other => panic!("{other:?}"),
    }
}

fn caps() -> RequiredCapabilitiesExtension {
    RequiredCapabilitiesExtension::new(
        &[ExtensionType::AppDataDictionary],
        &[ProposalType::AppDataUpdate, ProposalType::SelfRemove],
        &[],
    )
}

fn local(core: &mut MimiCore, op: &LocalOp) -> mimi_ref::http::CoreOutput {
    core.handle_local(1, &serde_json::to_vec(op).unwrap())
}

/// Delivers every queued request of `out` from `from` to `to` and returns the statuses.
fn deliver(out: mimi_ref::http::CoreOutput, from: &str, to: &mut MimiCore) -> Vec<u16> {
    out.outgoing
        .iter()
        .map(|o| {
            assert_eq!(o.to_domain, to.domain());
            to.handle(2, from, &o.request).status
        })
        .collect()
}

fn fetch(b: &mut MimiCore, alice: &Client) -> KeyMaterialResponse {
    let req = key_material_request(
        alice,
        ROOM,
        BOB,
        &[u16::from(mimi_ref::room::profile::CIPHERSUITE)],
        &caps(),
    )
    .unwrap();
    let out = b.handle(
        3,
        "a.example",
        &Request {
            endpoint: Endpoint::KeyMaterial,
            param: BOB.into(),
            body: encode(&req).unwrap(),
            seq: None,
        },
    );
    assert_eq!(out.status, 200, "{}", String::from_utf8_lossy(&out.body));
    decode_exact(&out.body).unwrap()
}

#[test]
fn no_consent_then_grant_then_fetch_then_revoke_between_two_cores() {
    let mut a = MimiCore::new("a.example").unwrap();
    let mut b = MimiCore::new("b.example").unwrap();
    let alice_uri = MimiUri::new(UriKind::Client, "a.example", &["alice", "1"]).unwrap();
    let bob_uri = MimiUri::new(UriKind::Client, "b.example", &["bob", "1"]).unwrap();
    let alice = Client::new(alice_uri, Arc::new(MimiLogic)).unwrap();
    let bob = Client::new(bob_uri.clone(), Arc::new(MimiLogic)).unwrap();
    let kps = (0..3).map(|_| bob.key_package().unwrap()).collect();
    let o = local(
        &mut b,
        &LocalOp::Publish {
            client: bob_uri.to_string(),
            key_packages: kps,
        },
    );
    assert_eq!(o.status, 200);

    // No consent yet (§5.2).
    let r = fetch(&mut b, &alice);
    assert_eq!(r.user_status, KeyMaterialUserCode::NoConsent);
    assert!(r.clients.is_empty());

    // Alice asks (requestConsent, a → b).
    let o = local(
        &mut a,
        &LocalOp::UserConsent {
            entry: encode(&entry(ConsentOp::Request, ALICE, BOB, None)).unwrap(),
        },
    );
    assert_eq!(o.status, 200);
    assert_eq!(o.outgoing[0].request.endpoint, Endpoint::RequestConsent);
    assert_eq!(deliver(o, "a.example", &mut b), vec![201]);
    assert_eq!(b.follower().consent_requests().len(), 1);
    // Still no consent: a request is not a grant.
    assert_eq!(
        fetch(&mut b, &alice).user_status,
        KeyMaterialUserCode::NoConsent
    );

    // Bob grants (updateConsent, b → a).
    let o = local(
        &mut b,
        &LocalOp::UserConsent {
            entry: encode(&entry(grant(), ALICE, BOB, None)).unwrap(),
        },
    );
    assert_eq!(o.outgoing[0].request.endpoint, Endpoint::UpdateConsent);
    assert_eq!(deliver(o, "b.example", &mut a), vec![201]);
    assert_eq!(a.follower().consent_received().len(), 1);
    assert!(b.follower().consent_requests().is_empty());
    let r = fetch(&mut b, &alice);
    assert_eq!(r.user_status, KeyMaterialUserCode::Success);
    assert_eq!(r.clients.len(), 1);

    // Bob revokes: refused again, and Alice's provider learns it.
    let o = local(
        &mut b,
        &LocalOp::UserConsent {
            entry: encode(&entry(ConsentOp::Revoke, ALICE, BOB, None)).unwrap(),
        },
    );
    assert_eq!(deliver(o, "b.example", &mut a), vec![201]);
    assert!(a.follower().consent_received().is_empty());
    assert_eq!(
        fetch(&mut b, &alice).user_status,
        KeyMaterialUserCode::NoConsent
    );

    // Refusals over the core: a grant sent to the wrong endpoint, one naming a
    // requester of another provider, one with a foreign path parameter.
    let bad = |endpoint, param: &str, e: &ConsentEntry| Request {
        endpoint,
        param: param.into(),
        body: encode(e).unwrap(),
        seq: None,
    };
    let before = a.follower().snapshot();
    let g = entry(grant(), ALICE, BOB, None);
    assert_eq!(
        a.handle(
            4,
            "b.example",
            &bad(Endpoint::RequestConsent, "a.example", &g)
        )
        .status,
        400
    );
    assert_eq!(
        a.handle(
            4,
            "c.example",
            &bad(Endpoint::UpdateConsent, "a.example", &g)
        )
        .status,
        403
    );
    assert_eq!(
        a.handle(
            4,
            "b.example",
            &bad(Endpoint::UpdateConsent, "c.example", &g)
        )
        .status,
        400
    );
    assert_eq!(a.follower().snapshot(), before);
    // The §5.1 directory example's user-valued path parameter is accepted too.
    assert_eq!(
        a.handle(4, "b.example", &bad(Endpoint::UpdateConsent, ALICE, &g))
            .status,
        201
    );
}
