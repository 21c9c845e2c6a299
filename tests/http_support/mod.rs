//! Shared helpers of the loopback HTTPS tests (tests/http_*.rs): certificates, real MLS
//! application messages, a recording test core, providers on 127.0.0.1 ephemeral ports.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use mimi_ref::http::certs::{generate, DevPki};
use mimi_ref::http::delivery::RetryPolicy;
use mimi_ref::http::tls::Identity;
use mimi_ref::http::{
    CoreOutput, Endpoint, ForwardAnswer, Outgoing, Provider, ProviderConfig, ProviderCore, Request,
};
use mimi_ref::provider::node::Federation;
use mimi_ref::wire::common::{decode_exact, IdentifierUri, Protocol};
use mimi_ref::wire::mls::MlsMessage;
use mimi_ref::wire::{FanoutBody, FanoutMessage, FanoutMessages, SubmitMessageRequest};
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use tls_codec::Serialize as _;

pub const DOMAINS: [&str; 3] = ["a.example", "b.example", "c.example"];

/// The test PKI (one CA, three domains), made once.
pub fn pki() -> &'static DevPki {
    static P: OnceLock<DevPki> = OnceLock::new();
    P.get_or_init(|| {
        generate(
            "test CA",
            &DOMAINS.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        )
        .unwrap()
    })
}

/// A second, unrelated CA issuing certificates for the same domains.
pub fn rogue_pki() -> &'static DevPki {
    static P: OnceLock<DevPki> = OnceLock::new();
    P.get_or_init(|| {
        generate(
            "rogue CA",
            &DOMAINS.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        )
        .unwrap()
    })
}

pub fn identity_from(p: &DevPki, domain: &str) -> Identity {
    let (_, cert, key) = p.domains.iter().find(|(d, _, _)| d == domain).unwrap();
    Identity::from_pem(
        domain,
        p.ca_cert_pem.as_bytes(),
        cert.as_bytes(),
        key.as_bytes(),
    )
    .unwrap()
}

pub fn identity(domain: &str) -> Identity {
    identity_from(pki(), domain)
}

/// Real MLS PrivateMessage application messages (openmls), made once.
pub fn app_messages() -> &'static Vec<Vec<u8>> {
    static M: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    M.get_or_init(|| {
        let cs = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;
        let provider = OpenMlsRustCrypto::default();
        let signer = SignatureKeyPair::new(cs.signature_algorithm()).unwrap();
        signer.store(provider.storage()).unwrap();
        let cwk = CredentialWithKey {
            credential: BasicCredential::new(b"mimi://a.example/u/alice".to_vec()).into(),
            signature_key: signer.public().into(),
        };
        let cfg = MlsGroupCreateConfig::builder().ciphersuite(cs).build();
        let mut g = MlsGroup::new(&provider, &signer, &cfg, cwk).unwrap();
        (0..4u8)
            .map(|i| {
                let m = g.create_message(&provider, &signer, &[b'm', i]).unwrap();
                m.tls_serialize_detached().unwrap()
            })
            .collect()
    })
}

/// A well-formed `SubmitMessageRequest` whose `sendingUri` carries `i`.
pub fn submit_body(i: u32) -> Vec<u8> {
    let app = &app_messages()[(i % 4) as usize];
    let r = SubmitMessageRequest {
        protocol: Protocol::Mls10,
        app_message: MlsMessage::from_bytes(app).unwrap(),
        sending_uri: IdentifierUri::new(&format!("mimi://c.example/u/user{i}")),
    };
    r.tls_serialize_detached().unwrap()
}

/// A well-formed `/notify` body with one FanoutMessage (timestamp `ts`).
pub fn fanout_body(ts: u64) -> Vec<u8> {
    let m = FanoutMessage {
        timestamp: ts,
        message: MlsMessage::from_bytes(&app_messages()[(ts % 4) as usize]).unwrap(),
        body: FanoutBody::Application { frank: None },
    };
    FanoutMessages(vec![m]).tls_serialize_detached().unwrap()
}

/// The timestamp of the single FanoutMessage in a `/notify` body.
pub fn fanout_ts(body: &[u8]) -> u64 {
    decode_exact::<FanoutMessages>(body).unwrap().0[0].timestamp
}

/// A test core. As a hub: every `/submitMessage` is answered 200 and fanned out to
/// `fanout_to` as one `/notify` of the same room, timestamp = the number of submits
/// accepted so far (so replay rebuilds the same counter). As a follower: every
/// `/notify` is recorded and answered 201 — unless `refuse_first` is > 0, in which case
/// it is answered 503 with `Retry-After: retry_after` and not recorded.
#[derive(Debug, Default)]
pub struct TestCore {
    pub fanout_to: Vec<String>,
    pub seen: Vec<(String, Request)>,
    pub submits: u64,
    pub refuse_first: u32,
    pub retry_after: Option<u32>,
    pub refused_at: Vec<Instant>,
    pub notify_status: Option<u16>,
    /// Relay every `/submitMessage` to this peer instead of accepting it.
    pub forward_submits_to: Option<String>,
    /// The body of our `/submitMessage` answers.
    pub answer_body: Vec<u8>,
    /// Answers to forwarded requests, in order.
    pub forward_answers: Vec<ForwardAnswer>,
}

impl ProviderCore for TestCore {
    fn handle(&mut self, _now_ms: u64, from: &str, r: &Request) -> CoreOutput {
        match r.endpoint {
            Endpoint::SubmitMessage if self.forward_submits_to.is_some() => {
                self.seen.push((from.to_owned(), r.clone()));
                CoreOutput {
                    forward: self.forward_submits_to.clone().map(|to| Outgoing {
                        to_domain: to,
                        request: r.clone(),
                    }),
                    ..CoreOutput::default()
                }
            }
            Endpoint::SubmitMessage => {
                let req = decode_exact::<SubmitMessageRequest>(&r.body).unwrap();
                self.seen.push((from.to_owned(), r.clone()));
                let m = FanoutMessage {
                    timestamp: self.submits,
                    message: req.app_message,
                    body: FanoutBody::Application { frank: None },
                };
                self.submits += 1;
                let body = FanoutMessages(vec![m]).tls_serialize_detached().unwrap();
                CoreOutput {
                    status: 200,
                    body: self.answer_body.clone(),
                    outgoing: self
                        .fanout_to
                        .iter()
                        .map(|d| Outgoing {
                            to_domain: d.clone(),
                            request: Request {
                                endpoint: Endpoint::Notify,
                                param: r.param.clone(),
                                body: body.clone(),
                                seq: Some(self.submits - 1),
                            },
                        })
                        .collect(),
                    ..CoreOutput::default()
                }
            }
            Endpoint::Notify if self.refuse_first > 0 => {
                self.refuse_first -= 1;
                self.refused_at.push(Instant::now());
                CoreOutput {
                    status: 503,
                    retry_after_secs: self.retry_after,
                    ..CoreOutput::default()
                }
            }
            _ => {
                self.seen.push((from.to_owned(), r.clone()));
                CoreOutput {
                    status: self.notify_status.unwrap_or(201),
                    ..CoreOutput::default()
                }
            }
        }
    }

    fn on_forward_answer(
        &mut self,
        _now_ms: u64,
        _from: &str,
        _original: &Request,
        _forwarded: &Outgoing,
        answer: &ForwardAnswer,
    ) -> CoreOutput {
        self.forward_answers.push(answer.clone());
        match answer {
            ForwardAnswer::Answer { status, body } => CoreOutput {
                status: *status,
                body: [b"relayed:".as_slice(), body].concat(),
                ..CoreOutput::default()
            },
            ForwardAnswer::Failed(_) => CoreOutput {
                status: 504,
                ..CoreOutput::default()
            },
        }
    }
}

/// A free loopback port (bound and released).
pub fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// A fresh temporary directory.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let d = std::env::temp_dir().join(format!(
        "mimi-http-{tag}-{}-{n}-{}",
        std::process::id(),
        mimi_ref::http::now_ms()
    ));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Fast retries for the federation tests.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        initial: Duration::from_millis(10),
        max: Duration::from_millis(200),
        request_timeout: Duration::from_secs(5),
        ..RetryPolicy::default()
    }
}

/// a.example, b.example and c.example with the real provider core on loopback, fast
/// retries; certificates in `<dir>/certs`, and with `durable` data in `<dir>/data`.
/// Returns the federation and `dir` (fresh).
pub async fn federation(tag: &str, durable: bool) -> (Federation, PathBuf) {
    let dir = temp_dir(tag);
    std::fs::create_dir_all(&dir).unwrap();
    let data = durable.then(|| dir.join("data"));
    let f = Federation::start(&DOMAINS, &dir.join("certs"), data.as_deref(), fast_retry())
        .await
        .unwrap();
    (f, dir)
}

/// Adds the clients alice@a.example, bob@b.example and cathy@c.example (device 1), each
/// publishing `key_packages` KeyPackages, and lets every user fetch every other's
/// (§5.2 consent). Returns their client ids.
pub fn alice_bob_cathy(f: &mut Federation, key_packages: usize) -> (String, String, String) {
    let mut add = |domain: &str, user: &str| {
        f.node(domain)
            .unwrap()
            .add_client(user, "1", key_packages)
            .unwrap()
    };
    let ids = (
        add("a.example", "alice"),
        add("b.example", "bob"),
        add("c.example", "cathy"),
    );
    f.consent_all().unwrap();
    ids
}

/// Every party agrees with the hub about `room` and nothing went wrong.
pub fn agree(f: &Federation, room: &str) {
    let (_, bad) = f.states(room);
    assert!(bad.is_empty(), "{bad:#?}");
}

/// A provider config with fast retries for tests.
pub fn config(
    domain: &str,
    listen: SocketAddr,
    peers: &[(&str, SocketAddr)],
    data: Option<PathBuf>,
) -> ProviderConfig {
    let mut c = ProviderConfig::new(domain, listen, identity(domain));
    c.peers = peers
        .iter()
        .map(|(d, a)| (d.to_string(), *a))
        .collect::<HashMap<_, _>>();
    c.data_dir = data;
    c.max_body = 64 * 1024;
    c.retry = RetryPolicy {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(200),
        max_retry_after: Duration::from_secs(5),
        window: 4,
        request_timeout: Duration::from_secs(5),
    };
    c
}

pub async fn start(cfg: ProviderConfig, core: TestCore) -> Provider<TestCore> {
    Provider::start(cfg, core).await.unwrap()
}

/// Polls `f` every 20 ms until it is true or `limit` passes; returns whether it became
/// true.
pub async fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    f()
}

/// A raw reqwest client presenting `identity`'s certificate (or none), resolving
/// `domain` to `addr`.
pub fn raw_client(tls: rustls::ClientConfig, domain: &str, addr: SocketAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .resolve(domain, addr)
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()
        .unwrap()
}

/// A client configuration trusting the real CA but presenting `domain`'s certificate
/// from the rogue CA.
pub fn rogue_client_config(domain: &str) -> rustls::ClientConfig {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let (_, cert, key) = rogue_pki()
        .domains
        .iter()
        .find(|(d, _, _)| d == domain)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(pki().ca_cert_pem.as_bytes()).unwrap())
        .unwrap();
    rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_client_auth_cert(
        vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()],
        PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// Sends raw bytes (`head` then `body`) over TLS to `addr` (SNI a.example) and returns
/// the status of the answer, if one came, and the raw answer.
pub async fn raw_request(
    addr: SocketAddr,
    tls: rustls::ClientConfig,
    head: &str,
    body: &[u8],
) -> (Option<u16>, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let conn = tokio_rustls::TlsConnector::from(std::sync::Arc::new(tls));
    let name = rustls::pki_types::ServerName::try_from("a.example").unwrap();
    let mut s = conn.connect(name, tcp).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    // The server may answer and close before the whole body is written.
    let _ = s.write_all(body).await;
    let _ = s.flush().await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    let status = std::str::from_utf8(&out)
        .ok()
        .and_then(|t| t.split(' ').nth(1))
        .and_then(|c| c.parse().ok());
    (status, out)
}
