//! The HTTPS binding of draft-ietf-mimi-protocol-06 (§4.1 transport, §5 endpoints, §5.5
//! fanout delivery): a thin, I/O-owning shell around a sans-IO provider core.
//!
//! # Shape
//! * [`ProviderCore`] is the only thing the shell knows about the protocol machines: it is
//!   handed requests that passed authentication and well-formedness checks and answers with
//!   a status, a body and requests to send to peers ([`CoreOutput`]). The hub and follower
//!   implement it; tests use small cores of their own.
//! * [`server`] accepts mutually authenticated TLS connections (rustls, ring provider) and
//!   refuses, before any core code runs, every request whose client certificate, `From`
//!   or `Host` does not fit (protocol-06 §4.1), whose route is unknown, whose media type
//!   is wrong, whose body is too large or does not decode as the endpoint's wire struct.
//! * [`delivery`] owns one outgoing queue per peer: durable (in the [`store`]), ordered
//!   per lane (endpoint + path parameter, e.g. one room's `/notify`), pipelined across
//!   lanes, retried with exponential backoff that honours `Retry-After` (protocol-06 §5.5).
//! * A core may answer a request with a peer's answer ([`CoreOutput::forward`], e.g. the
//!   hub relaying `/keyMaterial` to the target's provider, §5.2): the shell sends it at
//!   once, not queued, and hands the answer to [`ProviderCore::on_forward_answer`].
//! * [`provider`] wires the three together and replays the accepted-request log into a
//!   fresh core on restart.
//! * [`tls`] loads the PEM files that [`certs`] makes (a development CA and one
//!   certificate per domain, usable as both server and client certificate).
//!
//! # HTTP statuses chosen by the shell
//! The draft names only `201` (accepted `/notify`, §5.5); the shell passes through the
//! core's status otherwise. Refusals made by the shell itself (see [`server::Refusal`]):
//!
//! | status | when |
//! |---|---|
//! | TLS handshake failure | no client certificate, or one that does not chain to the configured CA |
//! | 400 | `Host` or `From` header missing or malformed; a malformed [`NOTIFY_SEQ_HEADER`]; a body that does not decode as the endpoint's struct (also truncated or with trailing bytes) |
//! | 403 | the client certificate does not authenticate the `From` domain |
//! | 404 | a path that is not an endpoint of the directory |
//! | 405 | a method the endpoint does not take (`POST` for all but the directory and `proxyDownload`) |
//! | 408 | the body did not arrive within [`server::BODY_TIMEOUT`] (the head has [`server::HEADER_TIMEOUT`]; after that the connection is closed) |
//! | 413 | a body over the configured limit (by `Content-Length` or while reading) |
//! | 415 | a `POST` whose `Content-Type` is not [`MEDIA_TYPE`] |
//! | 421 | a `Host` that is not our domain (a port in `Host` is ignored, §4.1) |
//! | 502 | (default of [`ProviderCore::on_forward_answer`]) a forwarded request got no answer |
//! | 503 | the store could not make an accepted request durable (the core's answer is withheld) |
//!
//! All of this is also recorded in `spec/deviations.md` under "http".

pub mod certs;
pub mod delivery;
pub mod provider;
pub mod route;
pub mod server;
pub mod store;
pub mod tls;

pub use crate::wire::directory::Endpoint;
pub use provider::{Provider, ProviderConfig, ProviderError};
pub use route::Route;

/// The media type of request bodies in TLS presentation language. protocol-06 names none
/// (digest §3, §8); we use this one and require it on every `POST`.
pub const MEDIA_TYPE: &str = "application/mimi-protocol";

/// One request of an endpoint of the directory: the endpoint, its single path parameter
/// (percent-decoded; e.g. a room id) and the body (TLS presentation language).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Which endpoint (protocol-06 §5.1 directory names).
    pub endpoint: Endpoint,
    /// The path parameter, percent-decoded (`{roomId}`, `{targetUser}`, ...).
    pub param: String,
    /// The body bytes; empty for `proxyDownload` (a `GET`).
    pub body: Vec<u8>,
    /// The `/notify` envelope sequence number, carried in the [`NOTIFY_SEQ_HEADER`]
    /// header (see `spec/deviations.md`, hub/follower 6: §5.5 has no sequence number).
    pub seq: Option<u64>,
}

/// The header carrying [`Request::seq`]: a decimal `u64`; a malformed value is a 400.
pub const NOTIFY_SEQ_HEADER: &str = "mimi-notify-seq";

/// A request the core wants sent to a peer provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The peer's domain (it must be configured with an address).
    pub to_domain: String,
    /// What to send.
    pub request: Request,
}

/// The core's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CoreOutput {
    /// The HTTP status to answer with (e.g. 201 for an accepted `/notify`, §5.5).
    pub status: u16,
    /// The response body (TLS presentation language, or empty).
    pub body: Vec<u8>,
    /// Requests to queue for peers. They are made durable before the answer is sent
    /// whenever `status` is 2xx; with any other status they are discarded.
    pub outgoing: Vec<Outgoing>,
    /// Sent as `Retry-After` (seconds) when set, e.g. with a 503 or 429 that asks the
    /// sender to come back later (§5.5 senders honour it).
    pub retry_after_secs: Option<u32>,
    /// Instead of answering now, forward a request to a peer directly (not queued) and
    /// answer with what [`ProviderCore::on_forward_answer`] makes of the peer's answer
    /// (e.g. the hub relaying `/keyMaterial` to the target's provider, protocol-06 §5.2).
    /// When set, `status` and `body` are ignored; `outgoing` is still queued.
    pub forward: Option<Outgoing>,
}

/// A peer's answer to a forwarded request, or why there was none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardAnswer {
    /// The peer answered.
    Answer {
        /// The HTTP status.
        status: u16,
        /// The body.
        body: Vec<u8>,
    },
    /// No answer (connection, TLS, timeout, unknown peer): the reason.
    Failed(String),
}

/// How a queued outgoing request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryResult {
    /// The peer answered 2xx: removed from the queue.
    Delivered {
        /// The HTTP status.
        status: u16,
        /// The response body.
        body: Vec<u8>,
    },
    /// The peer answered with a status that retrying cannot fix (a 4xx other than 408 and
    /// 429): removed from the queue and kept in the store's dead-letter table.
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The response body.
        body: Vec<u8>,
    },
}

/// The protocol side of a provider, as the HTTPS shell sees it. Implementations must be
/// deterministic functions of their inputs (the sans-IO rule of the design): on restart
/// the shell rebuilds the core's state by replaying every request it acknowledged, in
/// order, with the original `now_ms`.
pub trait ProviderCore: Send + 'static {
    /// A request that passed authentication (mutual TLS, `From`, `Host`; protocol-06
    /// §4.1) and decodes as its endpoint's wire struct. `from_domain` is the
    /// authenticated source provider.
    fn handle(&mut self, now_ms: u64, from_domain: &str, request: &Request) -> CoreOutput;

    /// A queued request to `to_domain` ended (delivered or rejected for good). Returns
    /// further requests to queue. The default does nothing.
    fn on_delivery(
        &mut self,
        now_ms: u64,
        to_domain: &str,
        request: &Request,
        result: &DeliveryResult,
    ) -> Vec<Outgoing> {
        let _ = (now_ms, to_domain, request, result);
        Vec::new()
    }

    /// An operation of one of our own local clients on our own provider (e.g. publishing
    /// KeyPackages, hosting a new room). Client-to-provider traffic is outside the draft
    /// (protocol-06 §2), so these never cross the wire; the shell journals them like
    /// inbound requests (when the answer is 2xx) so that a restart replays them. The
    /// default refuses every operation (400).
    fn handle_local(&mut self, now_ms: u64, op: &[u8]) -> CoreOutput {
        let _ = (now_ms, op);
        CoreOutput {
            status: 400,
            body: b"this core takes no local operations".to_vec(),
            ..CoreOutput::default()
        }
    }

    /// The answer to a request forwarded with [`CoreOutput::forward`] while handling
    /// `original` from `from_domain`. The output answers `original` (a `forward` in it is
    /// ignored: one hop only). The default passes a peer's status and body through and
    /// answers 502 when there was no answer.
    fn on_forward_answer(
        &mut self,
        now_ms: u64,
        from_domain: &str,
        original: &Request,
        forwarded: &Outgoing,
        answer: &ForwardAnswer,
    ) -> CoreOutput {
        let _ = (now_ms, from_domain, original, forwarded);
        match answer {
            ForwardAnswer::Answer { status, body } => CoreOutput {
                status: *status,
                body: body.clone(),
                ..CoreOutput::default()
            },
            ForwardAnswer::Failed(why) => CoreOutput {
                status: 502,
                body: why.clone().into_bytes(),
                ..CoreOutput::default()
            },
        }
    }
}

/// Milliseconds since the Unix epoch from the wall clock (the shell owns the clock; cores
/// are handed it).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
