//! Outgoing delivery (protocol-06 §5.5): one worker per peer drains that peer's durable
//! queue.
//!
//! * **Lanes.** Requests with the same endpoint and path parameter (e.g. one room's
//!   `/notify`) form a lane and are sent strictly one after the other, in queue order, so
//!   a follower sees a room's fanout in the hub's order. Different lanes are sent
//!   concurrently, up to [`RetryPolicy::window`] requests in flight per peer (the draft
//!   lets the hub send the next fanout without waiting for the previous answer).
//! * **Retry.** A connection error, a timeout, 408, 429 or 5xx keeps the request at the
//!   head of its lane and retries after an exponential backoff (`initial`·2^n, capped at
//!   `max`), or after `Retry-After` seconds when the peer sent one and it is longer (capped
//!   at `max_retry_after`). Any 2xx ends it as delivered; any other status ends it as
//!   rejected (dead letter). The draft's "201 for notify" is checked: another 2xx on
//!   `/notify` is logged as a warning but counted as delivered.
//! * **Durability.** A request leaves the queue only in the same store transaction that
//!   records its end, after the peer answered; a crash in between resends it, and the
//!   receiver's duplicate detection (§5.5, byte-identical bodies) absorbs the copy.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::header::{CONTENT_TYPE, RETRY_AFTER};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::provider::Shared;
use super::route::{self, Route};
use super::{DeliveryResult, ProviderCore, Request, MEDIA_TYPE};

/// Retry and pipelining parameters.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// First backoff.
    pub initial: Duration,
    /// Largest backoff.
    pub max: Duration,
    /// Largest `Retry-After` honoured (a longer one is cut to this).
    pub max_retry_after: Duration,
    /// Requests in flight per peer (across lanes).
    pub window: usize,
    /// Timeout of one request.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(3600),
            window: 8,
            request_timeout: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempts + 1`, given an optional `Retry-After`.
    pub fn delay(&self, attempts: u32, retry_after: Option<Duration>) -> Duration {
        let backoff = self
            .initial
            .saturating_mul(1u32.checked_shl(attempts.min(30)).unwrap_or(u32::MAX))
            .min(self.max);
        match retry_after {
            Some(ra) => backoff.max(ra.min(self.max_retry_after)),
            None => backoff,
        }
    }
}

/// The result of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Ended (delivered or rejected).
    Ended(DeliveryResult),
    /// Try again; with the peer's `Retry-After`, if any.
    Retry(Option<Duration>, String),
}

/// Classifies a peer's answer (see the module docs).
pub fn classify(status: u16, retry_after: Option<Duration>, body: Vec<u8>) -> Attempt {
    match status {
        200..=299 => Attempt::Ended(DeliveryResult::Delivered { status, body }),
        408 | 429 | 500..=599 => Attempt::Retry(retry_after, format!("status {status}")),
        _ => Attempt::Ended(DeliveryResult::Rejected { status, body }),
    }
}

/// Parses `Retry-After` as delay-seconds (RFC 9110 §10.2.3). The HTTP-date form is not
/// supported and is treated as absent (the backoff applies).
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// An HTTPS client for peers: our certificate, the CA, and a fixed address per peer
/// domain (no DNS).
#[derive(Debug, Clone)]
pub struct PeerClient {
    our_domain: String,
    client: reqwest::Client,
    peers: Arc<HashSet<String>>,
}

/// Why a request to a peer could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The HTTP client failed (connect, TLS, timeout, ...).
    #[error("sending to {peer}: {source}")]
    Http {
        /// The peer.
        peer: String,
        /// The client's error.
        source: reqwest::Error,
    },
    /// The peer has no configured address (we never fall back to DNS).
    #[error("no address configured for peer {0:?}")]
    UnknownPeer(String),
    /// The client could not be built.
    #[error("HTTP client: {0}")]
    Build(reqwest::Error),
}

/// A peer's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status.
    pub status: u16,
    /// `Retry-After`, if sent as seconds.
    pub retry_after: Option<Duration>,
    /// The body.
    pub body: Vec<u8>,
}

impl PeerClient {
    /// A client that presents `tls` (our certificate) and reaches every peer of `peers` at
    /// its address.
    pub fn new(
        our_domain: &str,
        tls: rustls::ClientConfig,
        peers: &HashMap<String, SocketAddr>,
        timeout: Duration,
    ) -> Result<Self, SendError> {
        let mut b = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .pool_idle_timeout(Duration::from_secs(30))
            .no_proxy();
        for (d, a) in peers {
            b = b.resolve(d, *a);
        }
        Ok(Self {
            our_domain: our_domain.to_owned(),
            client: b.build().map_err(SendError::Build)?,
            peers: Arc::new(peers.keys().cloned().collect()),
        })
    }

    /// Sends one request to `peer` with `From: mimi@<us>` and `Host: <peer>` (protocol-06
    /// §4.1), the body as [`MEDIA_TYPE`].
    pub async fn send(&self, peer: &str, request: &Request) -> Result<Answer, SendError> {
        if !self.peers.contains(peer) {
            return Err(SendError::UnknownPeer(peer.to_owned()));
        }
        let url = format!(
            "https://{peer}{}",
            Route::path(request.endpoint, &request.param)
        );
        let rb = if route::is_get(request.endpoint) {
            self.client.get(url)
        } else {
            self.client
                .post(url)
                .header(CONTENT_TYPE, MEDIA_TYPE)
                .body(request.body.clone())
        };
        let http = |source| SendError::Http {
            peer: peer.to_owned(),
            source,
        };
        let rb = match request.seq {
            Some(n) => rb.header(super::NOTIFY_SEQ_HEADER, n.to_string()),
            None => rb,
        };
        let resp = rb
            .header("from", format!("mimi@{}", self.our_domain))
            .send()
            .await
            .map_err(http)?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = resp.bytes().await.map_err(http)?.to_vec();
        Ok(Answer {
            status,
            retry_after,
            body,
        })
    }

    /// Fetches a peer's directory (`GET /.well-known/mimi-protocol-directory`, §5.1).
    pub async fn directory(&self, peer: &str) -> Result<Answer, SendError> {
        if !self.peers.contains(peer) {
            return Err(SendError::UnknownPeer(peer.to_owned()));
        }
        let url = format!("https://{peer}{}", crate::wire::directory::DIRECTORY_PATH);
        let http = |source| SendError::Http {
            peer: peer.to_owned(),
            source,
        };
        let resp = self
            .client
            .get(url)
            .header("from", format!("mimi@{}", self.our_domain))
            .send()
            .await
            .map_err(http)?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(http)?.to_vec();
        Ok(Answer {
            status,
            retry_after: None,
            body,
        })
    }
}

type Lane = (super::Endpoint, String);

#[derive(Default)]
struct LaneState {
    in_flight: bool,
    attempts: u32,
    not_before: Option<Instant>,
}

/// Drains `peer`'s queue until aborted.
pub(crate) async fn worker<C: ProviderCore>(
    peer: String,
    shared: Arc<Shared<C>>,
    client: PeerClient,
    policy: RetryPolicy,
    wake: Arc<Notify>,
) {
    let mut lanes: HashMap<Lane, LaneState> = HashMap::new();
    let mut flights: JoinSet<(u64, Lane, Request, Result<Answer, SendError>)> = JoinSet::new();
    let mut task_lanes: HashMap<tokio::task::Id, Lane> = HashMap::new();
    let window = policy.window.max(1);
    loop {
        // Start what can start: the head of every idle lane whose backoff has passed.
        let mut next_wake: Option<Instant> = None;
        let scan = shared.store.pending(&peer, 4096);
        match scan {
            Err(e) => {
                warn!(peer = %peer, error = %e, "cannot read the queue; retrying");
                next_wake = Some(Instant::now() + policy.initial);
            }
            Ok(entries) => {
                let mut seen: HashSet<Lane> = HashSet::new();
                let now = Instant::now();
                for (seq, req) in entries {
                    let lane: Lane = (req.endpoint, req.param.clone());
                    if !seen.insert(lane.clone()) {
                        continue; // not the head of its lane
                    }
                    let st = lanes.entry(lane.clone()).or_default();
                    if st.in_flight {
                        continue;
                    }
                    if let Some(t) = st.not_before {
                        if t > now {
                            next_wake = Some(next_wake.map_or(t, |w| w.min(t)));
                            continue;
                        }
                    }
                    if flights.len() >= window {
                        break;
                    }
                    st.in_flight = true;
                    let client = client.clone();
                    let peer2 = peer.clone();
                    debug!(peer = %peer, seq, endpoint = req.endpoint.name(), param = %req.param, attempt = st.attempts + 1, "sending");
                    let lane2 = lane.clone();
                    let h = flights.spawn(async move {
                        let r = client.send(&peer2, &req).await;
                        (seq, lane2, req, r)
                    });
                    task_lanes.insert(h.id(), lane);
                }
            }
        }
        let sleep = async {
            match next_wake {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            Some(joined) = flights.join_next_with_id(), if !flights.is_empty() => {
                let (seq, lane, req, result) = match joined {
                    Ok((id, v)) => {
                        task_lanes.remove(&id);
                        v
                    }
                    Err(e) => {
                        // The send task died: free its lane and try again later.
                        if let Some(lane) = task_lanes.remove(&e.id()) {
                            let st = lanes.entry(lane).or_default();
                            st.in_flight = false;
                            st.not_before = Some(Instant::now() + policy.initial);
                        }
                        warn!(peer = %peer, error = %e, "send task failed");
                        continue;
                    }
                };
                let attempt = match result {
                    Ok(a) => classify(a.status, a.retry_after, a.body),
                    Err(e) => Attempt::Retry(None, e.to_string()),
                };
                let st = lanes.entry(lane.clone()).or_default();
                st.in_flight = false;
                match attempt {
                    Attempt::Retry(ra, why) => {
                        let d = policy.delay(st.attempts, ra);
                        st.attempts = st.attempts.saturating_add(1);
                        st.not_before = Some(Instant::now() + d);
                        info!(peer = %peer, seq, endpoint = lane.0.name(), param = %lane.1, attempts = st.attempts, retry_in_ms = d.as_millis() as u64, reason = %why, decision = "retry", "delivery");
                    }
                    Attempt::Ended(result) => {
                        st.attempts = 0;
                        st.not_before = None;
                        let (dead, status) = match &result {
                            DeliveryResult::Delivered { status, .. } => (false, *status),
                            DeliveryResult::Rejected { status, .. } => (true, *status),
                        };
                        if !dead && lane.0 == super::Endpoint::Notify && status != 201 {
                            warn!(peer = %peer, seq, status, "protocol-06 §5.5: notify answered with a 2xx other than 201");
                        }
                        let shared2 = shared.clone();
                        let peer2 = peer.clone();
                        let done = tokio::task::spawn_blocking(move || {
                            shared2.finish_delivery(&peer2, seq, req, result)
                        })
                        .await;
                        match done {
                            Ok(Ok(())) => info!(peer = %peer, seq, endpoint = lane.0.name(), param = %lane.1, status, decision = if dead { "rejected" } else { "delivered" }, "delivery"),
                            Ok(Err(e)) => {
                                // Not recorded: it stays queued and is sent again.
                                warn!(peer = %peer, seq, error = %e, "cannot record the delivery; will resend");
                                st.not_before = Some(Instant::now() + policy.initial);
                            }
                            Err(e) => warn!(peer = %peer, seq, error = %e, "delivery task failed"),
                        }
                    }
                }
            }
            _ = wake.notified() => {}
            _ = sleep => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_honours_retry_after() {
        let p = RetryPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(5),
            ..RetryPolicy::default()
        };
        assert_eq!(p.delay(0, None), Duration::from_millis(100));
        assert_eq!(p.delay(2, None), Duration::from_millis(400));
        assert_eq!(p.delay(10, None), Duration::from_secs(1));
        assert_eq!(p.delay(40, None), Duration::from_secs(1));
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(60))),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn statuses_are_classified() {
        assert!(matches!(
            classify(201, None, vec![]),
            Attempt::Ended(DeliveryResult::Delivered { status: 201, .. })
        ));
        assert!(matches!(classify(503, None, vec![]), Attempt::Retry(..)));
        assert!(matches!(classify(429, None, vec![]), Attempt::Retry(..)));
        assert!(matches!(
            classify(400, None, vec![]),
            Attempt::Ended(DeliveryResult::Rejected { status: 400, .. })
        ));
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
