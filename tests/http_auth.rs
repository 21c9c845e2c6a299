//! Loopback tests of the HTTPS shell's refusals (protocol-06 §4.1 mutual TLS, From, Host;
//! §5 routes, media type, sizes, bodies) and of the directory (§5.1). Everything runs on
//! 127.0.0.1 ephemeral ports.

mod http_support;

use std::time::Duration;

use http_support::*;
use mimi_ref::http::route::Route;
use mimi_ref::http::{Endpoint, Request, MEDIA_TYPE};
use mimi_ref::wire::directory::{Directory, DIRECTORY_PATH};

const ROOM: &str = "mimi://a.example/r/clubhouse";

fn notify_url(room: &str) -> String {
    format!("https://a.example{}", Route::path(Endpoint::Notify, room))
}

async fn post(c: &reqwest::Client, url: &str, from: &str, body: Vec<u8>) -> reqwest::Response {
    c.post(url)
        .header("from", from)
        .header("content-type", MEDIA_TYPE)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_happen_before_the_core_and_good_requests_reach_it() {
    let a = start(
        config("a.example", "127.0.0.1:0".parse().unwrap(), &[], None),
        TestCore::default(),
    )
    .await;
    let addr = a.local_addr();
    let b_tls = identity("b.example").client_config().unwrap();
    let b = raw_client(b_tls.clone(), "a.example", addr);

    // The directory (§5.1) is served, with the draft's names and our templates.
    let r = b
        .get(format!("https://a.example{DIRECTORY_PATH}"))
        .header("from", "mimi@b.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let dir: Directory = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(dir.notify, "https://a.example/notify/{roomId}");
    assert_eq!(dir.update, "https://a.example/update/{roomId}");
    assert_eq!(
        dir.url(Endpoint::Notify, ROOM).unwrap(),
        format!("https://a.example{}", Route::path(Endpoint::Notify, ROOM))
    );

    // No client certificate: the TLS handshake fails, no HTTP status at all.
    let anon = raw_client(
        identity("b.example").client_config_without_cert().unwrap(),
        "a.example",
        addr,
    );
    let e = anon
        .post(notify_url(ROOM))
        .header("from", "mimi@b.example")
        .header("content-type", MEDIA_TYPE)
        .body(fanout_body(1))
        .send()
        .await;
    assert!(e.is_err(), "no client certificate must be refused: {e:?}");

    // A certificate from another CA (for the right domain): refused in the handshake.
    let rogue = raw_client(rogue_client_config("b.example"), "a.example", addr);
    let e = rogue
        .post(notify_url(ROOM))
        .header("from", "mimi@b.example")
        .header("content-type", MEDIA_TYPE)
        .body(fanout_body(1))
        .send()
        .await;
    assert!(
        e.is_err(),
        "a certificate of another CA must be refused: {e:?}"
    );

    // b's certificate claiming to be c (From mismatch): 403.
    let r = post(&b, &notify_url(ROOM), "mimi@c.example", fanout_body(1)).await;
    assert_eq!(r.status(), 403);
    // From missing or not mimi@<domain>: 400.
    let r = b
        .post(notify_url(ROOM))
        .header("content-type", MEDIA_TYPE)
        .body(fanout_body(1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = post(&b, &notify_url(ROOM), "alice@b.example", fanout_body(1)).await;
    assert_eq!(r.status(), 400);
    // Host naming another provider: 421.
    let r = b
        .post(notify_url(ROOM))
        .header("host", "c.example")
        .header("from", "mimi@b.example")
        .header("content-type", MEDIA_TYPE)
        .body(fanout_body(1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 421);
    // Not an endpoint: 404; wrong method: 405; wrong media type: 415.
    let r = post(
        &b,
        "https://a.example/nonsense/x",
        "mimi@b.example",
        fanout_body(1),
    )
    .await;
    assert_eq!(r.status(), 404);
    let r = b
        .get(notify_url(ROOM))
        .header("from", "mimi@b.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let r = b
        .post(notify_url(ROOM))
        .header("from", "mimi@b.example")
        .header("content-type", "application/octet-stream")
        .body(fanout_body(1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    // Oversized (limit 64 KiB): 413, by Content-Length and while streaming.
    // By Content-Length: refused before the body is read (the client waits for
    // 100-continue, which never comes, so no unread body makes the close a reset).
    let (status, _) = raw_request(
        addr,
        b_tls.clone(),
        "POST /notify/r HTTP/1.1\r\nHost: a.example\r\nFrom: mimi@b.example\r\n\
         Content-Type: application/mimi-protocol\r\nContent-Length: 70000\r\n\
         Expect: 100-continue\r\n\r\n",
        b"",
    )
    .await;
    assert_eq!(status, Some(413));
    let (status, _) = raw_request(
        addr,
        b_tls.clone(),
        "POST /notify/r HTTP/1.1\r\nHost: a.example\r\nFrom: mimi@b.example\r\n\
         Content-Type: application/mimi-protocol\r\nTransfer-Encoding: chunked\r\n\r\n",
        &(0..10)
            .flat_map(|_| {
                let mut c = b"2000\r\n".to_vec();
                c.extend(vec![0u8; 0x2000]);
                c.extend(b"\r\n");
                c
            })
            .chain(b"0\r\n\r\n".iter().copied())
            .collect::<Vec<u8>>(),
    )
    .await;
    assert_eq!(status, Some(413));
    // No Host at all (HTTP/1.0): 400.
    let (status, _) = raw_request(
        addr,
        b_tls.clone(),
        "GET /.well-known/mimi-protocol-directory HTTP/1.0\r\nFrom: mimi@b.example\r\n\r\n",
        b"",
    )
    .await;
    assert_eq!(status, Some(400));
    // Malformed, truncated, trailing bytes, empty: 400.
    let good = fanout_body(1);
    for bad in [
        vec![1, 2, 3],
        good[..good.len() - 3].to_vec(),
        [good.clone(), vec![0]].concat(),
        vec![],
    ] {
        let r = post(&b, &notify_url(ROOM), "mimi@b.example", bad).await;
        assert_eq!(r.status(), 400);
    }
    // A body for the wrong endpoint: a fanout body is not a SubmitMessageRequest.
    let r = post(
        &b,
        &format!(
            "https://a.example{}",
            Route::path(Endpoint::SubmitMessage, ROOM)
        ),
        "mimi@b.example",
        fanout_body(1),
    )
    .await;
    assert_eq!(r.status(), 400);

    // A malformed /notify sequence header: 400.
    let r = b
        .post(notify_url(ROOM))
        .header("from", "mimi@b.example")
        .header("content-type", MEDIA_TYPE)
        .header(mimi_ref::http::NOTIFY_SEQ_HEADER, "-1")
        .body(fanout_body(1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // Nothing above reached the core.
    assert!(a.with_core(|c| c.seen.is_empty()));

    // A good request does, once, with the authenticated source; the port in Host is
    // ignored (§4.1).
    let r = b
        .post(notify_url(ROOM))
        .header(mimi_ref::http::NOTIFY_SEQ_HEADER, "42")
        .header("host", "a.example:8443")
        .header("from", "mimi@b.example")
        .header("content-type", MEDIA_TYPE)
        .body(fanout_body(1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let seen = a.with_core(|c| c.seen.clone());
    assert_eq!(
        seen,
        vec![(
            "b.example".to_string(),
            Request {
                endpoint: Endpoint::Notify,
                param: ROOM.into(),
                body: fanout_body(1),
                seq: Some(42),
            }
        )]
    );
    tokio::time::timeout(Duration::from_secs(5), a.shutdown())
        .await
        .unwrap();
}
