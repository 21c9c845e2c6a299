//! Loopback test of forwarding (a core answering a request with a peer's answer, as the
//! hub relays `/keyMaterial`, protocol-06 §5.2), including replay after a restart.

mod http_support;

use std::collections::HashMap;
use std::time::Duration;

use http_support::*;
use mimi_ref::http::delivery::PeerClient;
use mimi_ref::http::{Endpoint, ForwardAnswer, Request};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_request_is_answered_with_the_peers_answer() {
    let b_addr = free_addr();
    let a_addr = free_addr();
    let a_dir = temp_dir("fwd");
    let relay = || TestCore {
        forward_submits_to: Some("b.example".into()),
        ..TestCore::default()
    };
    let a_cfg = || {
        config(
            "a.example",
            a_addr,
            &[("b.example", b_addr)],
            Some(a_dir.clone()),
        )
    };
    let a = start(a_cfg(), relay()).await;
    let b = start(
        config("b.example", b_addr, &[], None),
        TestCore {
            answer_body: b"from b".to_vec(),
            ..TestCore::default()
        },
    )
    .await;
    let c = PeerClient::new(
        "c.example",
        identity("c.example").client_config().unwrap(),
        &HashMap::from([("a.example".to_string(), a_addr)]),
        Duration::from_secs(10),
    )
    .unwrap();
    let req = |i| Request {
        endpoint: Endpoint::SubmitMessage,
        param: "mimi://a.example/r/x".into(),
        body: submit_body(i),
        seq: None,
    };
    let ans = c.send("a.example", &req(0)).await.unwrap();
    assert_eq!(ans.status, 200);
    assert_eq!(ans.body, b"relayed:from b");
    // b saw the request from a (the relaying provider), byte for byte.
    assert_eq!(
        b.with_core(|c| c.seen.clone()),
        vec![("a.example".to_string(), req(0))]
    );

    // b down: the core decides the answer (here 504).
    b.shutdown().await;
    let ans = c.send("a.example", &req(1)).await.unwrap();
    assert_eq!(ans.status, 504);
    let answers = a.with_core(|c| c.forward_answers.clone());
    assert_eq!(answers.len(), 2);
    assert!(matches!(answers[1], ForwardAnswer::Failed(_)));

    // A restarted a replays both requests and both answers into a fresh core.
    a.shutdown().await;
    let a = start(a_cfg(), relay()).await;
    assert_eq!(a.with_core(|c| c.forward_answers.clone()), answers);
    assert_eq!(a.with_core(|c| c.seen.len()), 2);
    // An unknown peer is never looked up in DNS.
    assert!(matches!(
        c.send("b.example", &req(2)).await,
        Err(mimi_ref::http::delivery::SendError::UnknownPeer(_))
    ));
    a.shutdown().await;
    let _ = std::fs::remove_dir_all(a_dir);
}
