//! `reportAbuse` at the hub (protocol-06 §5.9) through the provider core: accepted
//! reports answer 201 with no body and are kept with their messages' verdicts; refused
//! ones (room not hosted, undecodable, reporter of another provider, URIs that are not
//! user URIs) leave the hub's room byte-for-byte unchanged.

mod http_support;

use std::sync::Arc;

use mimi_ref::client::Client;
use mimi_ref::http::{Endpoint, ProviderCore, Request};
use mimi_ref::hub::abuse::MessageVerdict;
use mimi_ref::policy::examples::{admin_roles, cooperative};
use mimi_ref::policy::BaseRoomPolicy;
use mimi_ref::provider::{LocalOp, MimiCore};
use mimi_ref::room::mimi::{initial_dictionary, room_metadata, MimiLogic};
use mimi_ref::uri::{MimiUri, UriKind};
use mimi_ref::wire::common::Bytes32;
use mimi_ref::wire::mls::{AppDataDictionary, CipherSuite};
use mimi_ref::wire::{
    encode, AbuseReport, AbuseType, AbusiveMessage, Frank, IdentifierUri, Opaque,
};

const ROOM: &str = "mimi://a.example/r/r1";

/// A provider core for a.example hosting `ROOM`, created by alice.
fn core_with_room() -> MimiCore {
    let mut core = MimiCore::new("a.example").unwrap();
    let uri = MimiUri::new(UriKind::Client, "a.example", &["alice", "1"]).unwrap();
    let mut alice = Client::new(uri.clone(), Arc::new(MimiLogic)).unwrap();
    let md = room_metadata(ROOM, "r1", "").unwrap();
    let dict = initial_dictionary(
        "mimi://a.example/u/alice",
        admin_roles::SUPER_ADMIN,
        &cooperative(),
        &BaseRoomPolicy::default(),
        &md,
    );
    let sender = core.hub().external_sender().unwrap();
    alice
        .create_group_with_external_senders(ROOM.as_bytes(), &dict, &[sender])
        .unwrap();
    let b = alice.group_info(ROOM.as_bytes()).unwrap();
    let op = LocalOp::CreateRoom {
        room_id: ROOM.into(),
        client: uri.to_string(),
        group_info: b.group_info,
        ratchet_tree: b.ratchet_tree,
    };
    assert_eq!(
        core.handle_local(1, &serde_json::to_vec(&op).unwrap())
            .status,
        200
    );
    core
}

fn report(reporter: &str, abuser: &str, messages: usize) -> AbuseReport {
    AbuseReport {
        reporting_user: IdentifierUri::new(reporter),
        alleged_abuser_uri: IdentifierUri::new(abuser),
        reason_code: AbuseType::Reserved,
        note: Opaque::new(b"spam".to_vec()),
        messages: (0..messages)
            .map(|i| AbusiveMessage {
                message_content: Opaque::new(b"hello".to_vec()),
                frank: Frank {
                    server_frank: Bytes32([7; 32]),
                    franking_signature_ciphersuite: CipherSuite(1),
                    franking_integrity_signature: Opaque::new(vec![1, 2, 3]),
                },
                accepted_timestamp: 1000 + i as u64,
            })
            .collect(),
        abuse_extensions: AppDataDictionary::default(),
    }
}

fn send(core: &mut MimiCore, from: &str, room: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let o = core.handle(
        5,
        from,
        &Request {
            endpoint: Endpoint::ReportAbuse,
            param: room.into(),
            body,
            seq: None,
        },
    );
    (o.status, o.body)
}

#[test]
fn an_abuse_report_is_accepted_with_no_body_and_kept() {
    let mut core = core_with_room();
    let r = report("mimi://b.example/u/bob", "mimi://c.example/u/mallory", 2);
    let (status, body) = send(&mut core, "b.example", ROOM, encode(&r).unwrap());
    assert_eq!(status, 201);
    assert!(body.is_empty(), "§5.9: no response body");
    let kept = core.hub().abuse_reports(ROOM);
    assert_eq!(kept.len(), 1);
    let k = &kept[0];
    assert_eq!(k.from, "b.example");
    assert_eq!(k.reporting_user.as_deref(), Some("mimi://b.example/u/bob"));
    assert_eq!(k.alleged_abuser, "mimi://c.example/u/mallory");
    assert_eq!(k.reason, "reserved");
    assert_eq!(k.note, "spam");
    // The hub franks nothing, so no message can be confirmed genuine (INV-31).
    assert_eq!(
        k.messages,
        vec![
            (1000, MessageVerdict::Unverifiable),
            (1001, MessageVerdict::Unverifiable)
        ]
    );
    // An anonymous report (empty reportingUser) from another provider.
    let r = report("", "mimi://c.example/u/mallory", 0);
    assert_eq!(
        send(&mut core, "c.example", ROOM, encode(&r).unwrap()).0,
        201
    );
    let kept = core.hub().abuse_reports(ROOM);
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[1].reporting_user, None);
}

#[test]
fn refused_reports_leave_the_hub_unchanged() {
    let mut core = core_with_room();
    let before = core.hub().snapshot(ROOM).unwrap();
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        // A room this hub does not host.
        (
            "b.example",
            "mimi://a.example/r/other",
            encode(&report("mimi://b.example/u/bob", "mimi://c.example/u/m", 1)).unwrap(),
            404,
            "hub.no-such-room",
        ),
        // Undecodable (trailing byte).
        (
            "b.example",
            ROOM,
            {
                let mut b =
                    encode(&report("mimi://b.example/u/bob", "mimi://c.example/u/m", 1)).unwrap();
                b.push(0);
                b
            },
            400,
            "decode",
        ),
        // The reporter is not a user of the sending provider.
        (
            "c.example",
            ROOM,
            encode(&report("mimi://b.example/u/bob", "mimi://c.example/u/m", 1)).unwrap(),
            403,
            "hub.abuse-reporter",
        ),
        // The alleged abuser is a client URI, not a user URI.
        (
            "b.example",
            ROOM,
            encode(&report(
                "mimi://b.example/u/bob",
                "mimi://c.example/d/m/1",
                1,
            ))
            .unwrap(),
            400,
            "allegedAbuserUri",
        ),
        // The reporter is not a URI at all.
        (
            "b.example",
            ROOM,
            encode(&report("bob", "mimi://c.example/u/m", 1)).unwrap(),
            400,
            "reportingUser",
        ),
    ];
    for (from, room, body, want, rule) in cases {
        let (status, text) = send(&mut core, from, room, body);
        let text = String::from_utf8_lossy(&text).into_owned();
        assert_eq!(status, want, "{text}");
        assert!(text.contains(rule), "{text} should name {rule}");
        assert_eq!(core.hub().snapshot(ROOM).unwrap(), before, "{text}");
        assert!(core.hub().abuse_reports(ROOM).is_empty());
    }
}

/// Over the real HTTPS shell: b.example's provider reports to the hub of a room a.example
/// hosts; the answer is 201 with an empty body; a report naming a reporter of another
/// provider is 403.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abuse_report_over_https() {
    use mimi_ref::http::delivery::RetryPolicy;
    use mimi_ref::provider::node::Federation;
    let dir = http_support::temp_dir("abuse");
    let mut f = Federation::start(
        &["a.example", "b.example"],
        &dir.join("certs"),
        None,
        RetryPolicy::default(),
    )
    .await
    .unwrap();
    let alice = f
        .node("a.example")
        .unwrap()
        .add_client("alice", "1", 1)
        .unwrap();
    let room = f
        .node("a.example")
        .unwrap()
        .create_room(&alice, "abuse", &cooperative(), admin_roles::SUPER_ADMIN)
        .unwrap();
    let req = |r: &AbuseReport| Request {
        endpoint: Endpoint::ReportAbuse,
        param: room.clone(),
        body: encode(r).unwrap(),
        seq: None,
    };
    let b = f.nodes["b.example"].provider().client();
    let ok = report("mimi://b.example/u/bob", "mimi://a.example/u/alice", 1);
    let a = b.send("a.example", &req(&ok)).await.unwrap();
    assert_eq!(a.status, 201);
    assert!(a.body.is_empty());
    let foreign = report("mimi://a.example/u/ann", "mimi://a.example/u/alice", 1);
    let a = b.send("a.example", &req(&foreign)).await.unwrap();
    assert_eq!(a.status, 403);
    let kept = f.nodes["a.example"]
        .provider()
        .with_core(|c| c.hub().abuse_reports(&room).to_vec());
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].from, "b.example");
    f.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
