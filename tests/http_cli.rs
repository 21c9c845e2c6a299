//! `mimi-ref certs` and `mimi-ref serve` as a user runs them (loopback only).

mod http_support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use http_support::*;
use mimi_ref::http::route::Route;
use mimi_ref::http::tls::Identity;
use mimi_ref::http::{Endpoint, MEDIA_TYPE};

const BIN: &str = env!("CARGO_BIN_EXE_mimi-ref");

#[test]
fn certs_writes_a_ca_and_per_domain_certificates() {
    let dir = temp_dir("certs");
    let out = Command::new(BIN)
        .args(["certs", "--out"])
        .arg(&dir)
        .args(["--domains", "a.example,b.example,c.example"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in ["ca.pem", "ca.key.pem", "README.txt"] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    for d in ["a.example", "b.example", "c.example"] {
        let id = Identity::load(&dir, d).unwrap();
        id.server_config().unwrap();
        id.client_config().unwrap();
    }
    // Not twice without --force; bad domains refused.
    let again = Command::new(BIN)
        .args(["certs", "--out"])
        .arg(&dir)
        .args(["--domains", "a.example"])
        .output()
        .unwrap();
    assert!(!again.status.success());
    let bad = Command::new(BIN)
        .args(["certs", "--out"])
        .arg(dir.join("other"))
        .args(["--domains", "a example"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a DNS domain name"));
    let _ = std::fs::remove_dir_all(dir);
}

struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_answers_over_mutual_tls() {
    let dir = temp_dir("serve");
    let st = Command::new(BIN)
        .args(["certs", "--out"])
        .arg(&dir)
        .args(["--domains", "a.example,b.example"])
        .output()
        .unwrap();
    assert!(st.status.success());
    let addr = free_addr();
    let _child = Child(
        Command::new(BIN)
            .args(["serve", "--domain", "a.example", "--listen"])
            .arg(addr.to_string())
            .arg("--certs")
            .arg(&dir)
            .args(["--peers", "b.example=127.0.0.1:1"])
            .arg("--data")
            .arg(dir.join("data"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let b = Identity::load(&dir, "b.example").unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = raw_client(b.client_config().unwrap(), "a.example", addr);
        let end = Instant::now() + Duration::from_secs(20);
        let dir_status = loop {
            let r = c
                .get("https://a.example/.well-known/mimi-protocol-directory")
                .header("from", "mimi@b.example")
                .send()
                .await;
            match r {
                Ok(r) => break r.status().as_u16(),
                Err(_) if Instant::now() < end => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(e) => panic!("serve did not come up: {e}"),
            }
        };
        assert_eq!(dir_status, 200);
        let post = |e: Endpoint, body: Vec<u8>| {
            c.post(format!(
                "https://a.example{}",
                Route::path(e, "mimi://a.example/r/x")
            ))
            .header("from", "mimi@b.example")
            .header("content-type", MEDIA_TYPE)
            .body(body)
            .send()
        };
        // The real core (hub + follower): a /notify without the sequence header is 400;
        // with it, b.example is not the hub of a.example's room (§5.5) → 409; a
        // /submitMessage for a room a.example does not host → 404.
        assert_eq!(
            post(Endpoint::Notify, fanout_body(3))
                .await
                .unwrap()
                .status(),
            400
        );
        let with_seq = c
            .post(format!(
                "https://a.example{}",
                Route::path(Endpoint::Notify, "mimi://a.example/r/x")
            ))
            .header("from", "mimi@b.example")
            .header("content-type", MEDIA_TYPE)
            .header("mimi-notify-seq", "0")
            .body(fanout_body(3))
            .send()
            .await
            .unwrap();
        assert_eq!(with_seq.status(), 409);
        assert_eq!(
            post(Endpoint::SubmitMessage, submit_body(1))
                .await
                .unwrap()
                .status(),
            404
        );
        assert_eq!(post(Endpoint::Notify, vec![9]).await.unwrap().status(), 400);
    });
    drop(_child);
    let _ = std::fs::remove_dir_all(dir);
}
