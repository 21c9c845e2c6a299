//! One provider: the core, its store, the HTTPS server and the per-peer delivery workers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tracing::{info, warn};

use super::delivery::{self, PeerClient, RetryPolicy, SendError};
use super::server::{self, ServerCtx};
use super::store::{Event, Store, StoreError};
use super::tls::{Identity, TlsError};
use super::{now_ms, CoreOutput, DeliveryResult, ForwardAnswer, Outgoing, ProviderCore, Request};

/// Everything a provider is started with.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// Our domain (`Host` we answer to, `From` we send).
    pub domain: String,
    /// Where to listen (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// Our certificate, key and CA.
    pub identity: Identity,
    /// Peer domains and their addresses.
    pub peers: HashMap<String, SocketAddr>,
    /// Where the store lives; `None` keeps it in memory (nothing survives a restart).
    pub data_dir: Option<PathBuf>,
    /// Largest request body accepted (413 above).
    pub max_body: usize,
    /// Retry and pipelining of outgoing requests.
    pub retry: RetryPolicy,
    /// The base of the URLs in our directory; `None` means `https://<domain>`.
    pub base_url: Option<String>,
    /// A change hook: signalled ([`Notify::notify_one`]) each time the core has run an
    /// input (an inbound request, a forward answer, the end of a queued delivery, a
    /// local operation), after its result is durable. A driver that reacts to the core's
    /// state (e.g. local clients reading their mailboxes, [`crate::provider::node`])
    /// waits on it instead of polling. One `Notify` may be shared by several providers;
    /// it stores one permit, so a signal given while nobody waits is not lost, but it
    /// wakes only one waiter: give each consumer its own. `None`: no signal.
    pub on_change: Option<Arc<Notify>>,
}

impl ProviderConfig {
    /// A configuration with defaults: 1 MiB bodies, default retry policy, memory store.
    pub fn new(domain: &str, listen: SocketAddr, identity: Identity) -> Self {
        Self {
            domain: domain.to_ascii_lowercase(),
            listen,
            identity,
            peers: HashMap::new(),
            data_dir: None,
            max_body: 1 << 20,
            retry: RetryPolicy::default(),
            base_url: None,
            on_change: None,
        }
    }
}

/// Why a provider could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// TLS configuration.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// The HTTP client.
    #[error(transparent)]
    Client(#[from] SendError),
    /// An outgoing request names a peer without an address.
    #[error("no address configured for peer {0:?}")]
    UnknownPeer(String),
}

/// State shared by the server, the workers and the owner.
pub(crate) struct Shared<C> {
    core: Mutex<C>,
    pub(crate) store: Store,
    wakers: HashMap<String, Arc<Notify>>,
    on_change: Option<Arc<Notify>>,
}

impl<C: ProviderCore> Shared<C> {
    fn lock(&self) -> MutexGuard<'_, C> {
        // A panic in a core leaves it poisoned; the state is what the core left.
        self.core.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Signals [`ProviderConfig::on_change`], if set.
    fn changed(&self) {
        if let Some(n) = &self.on_change {
            n.notify_one();
        }
    }

    fn wake(&self, out: &[Outgoing]) {
        for o in out {
            match self.wakers.get(&o.to_domain) {
                Some(w) => w.notify_one(),
                None => {
                    warn!(peer = %o.to_domain, "queued for a peer with no configured address; it waits until the peer is configured")
                }
            }
        }
    }

    /// Runs the core on an authenticated, well-formed request; with a 2xx, makes the event
    /// and its outgoing requests durable before returning (blocking).
    pub(crate) fn handle_inbound(
        &self,
        from: &str,
        request: Request,
    ) -> Result<CoreOutput, StoreError> {
        let now = now_ms();
        let mut core = self.lock();
        let out = core.handle(now, from, &request);
        if (200..300).contains(&out.status) || out.forward.is_some() {
            let ev = Event::Inbound {
                now_ms: now,
                from: from.to_owned(),
                request,
            };
            self.store.commit(Some(&ev), None, false, &out.outgoing)?;
            drop(core);
            self.wake(&out.outgoing);
            self.changed();
        }
        Ok(out)
    }

    /// Hands the answer to a forwarded request to the core and makes the result durable
    /// (blocking). The core's output answers the original request.
    pub(crate) fn handle_forward_answer(
        &self,
        from: &str,
        original: Request,
        forwarded: Outgoing,
        answer: ForwardAnswer,
    ) -> Result<CoreOutput, StoreError> {
        let now = now_ms();
        let mut core = self.lock();
        let mut out = core.on_forward_answer(now, from, &original, &forwarded, &answer);
        if out.forward.take().is_some() {
            warn!(from = %from, "a forward answer asked to forward again; ignored (one hop only)");
        }
        if !(200..300).contains(&out.status) {
            out.outgoing.clear();
        }
        let ev = Event::ForwardAnswered {
            now_ms: now,
            from: from.to_owned(),
            original,
            forwarded,
            answer,
        };
        self.store.commit(Some(&ev), None, false, &out.outgoing)?;
        drop(core);
        self.wake(&out.outgoing);
        self.changed();
        Ok(out)
    }

    /// Records the end of a queued request and tells the core (blocking).
    pub(crate) fn finish_delivery(
        &self,
        peer: &str,
        seq: u64,
        request: Request,
        result: DeliveryResult,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let mut core = self.lock();
        let more = core.on_delivery(now, peer, &request, &result);
        let dead = matches!(result, DeliveryResult::Rejected { .. });
        let ev = Event::DeliveryEnded {
            now_ms: now,
            to: peer.to_owned(),
            request,
            result,
        };
        self.store
            .commit(Some(&ev), Some((peer, seq)), dead, &more)?;
        drop(core);
        self.wake(&more);
        self.changed();
        Ok(())
    }
}

/// A running provider. Dropping it does not stop its tasks; call [`Provider::shutdown`]
/// (or drop the runtime).
pub struct Provider<C: ProviderCore> {
    shared: Arc<Shared<C>>,
    addr: SocketAddr,
    client: PeerClient,
    tasks: Vec<JoinHandle<()>>,
}

impl<C: ProviderCore> std::fmt::Debug for Provider<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("addr", &self.addr)
            .finish()
    }
}

impl<C: ProviderCore> Provider<C> {
    /// Opens the store, replays its event log into `core` (the core must be fresh), binds
    /// the listener and starts the server and one delivery worker per peer. Must run
    /// inside a tokio runtime.
    pub async fn start(config: ProviderConfig, mut core: C) -> Result<Self, ProviderError> {
        let store = match &config.data_dir {
            Some(d) => Store::open(d)?,
            None => Store::in_memory()?,
        };
        let events = store.events()?;
        let replayed = events.len();
        for e in events {
            match e {
                Event::Inbound {
                    now_ms,
                    from,
                    request,
                } => {
                    let _ = core.handle(now_ms, &from, &request);
                }
                Event::DeliveryEnded {
                    now_ms,
                    to,
                    request,
                    result,
                } => {
                    let _ = core.on_delivery(now_ms, &to, &request, &result);
                }
                Event::ForwardAnswered {
                    now_ms,
                    from,
                    original,
                    forwarded,
                    answer,
                } => {
                    let _ = core.on_forward_answer(now_ms, &from, &original, &forwarded, &answer);
                }
                Event::Local { now_ms, op } => {
                    let _ = core.handle_local(now_ms, &op);
                }
            }
        }
        for p in store.peers_with_pending()? {
            if !config.peers.contains_key(&p) {
                warn!(peer = %p, "queued requests for a peer with no configured address");
            }
        }
        let wakers: HashMap<String, Arc<Notify>> = config
            .peers
            .keys()
            .map(|p| (p.clone(), Arc::new(Notify::new())))
            .collect();
        let shared = Arc::new(Shared {
            core: Mutex::new(core),
            store,
            wakers,
            on_change: config.on_change.clone(),
        });
        let client = PeerClient::new(
            &config.domain,
            config.identity.client_config()?,
            &config.peers,
            config.retry.request_timeout,
        )?;
        let acceptor = TlsAcceptor::from(config.identity.server_config()?);
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ProviderError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ProviderError::Bind {
                addr: config.listen,
                source,
            })?;
        let base = config
            .base_url
            .clone()
            .unwrap_or_else(|| format!("https://{}", config.domain));
        let directory = super::route::directory(&base);
        let directory_json = Bytes::from(serde_json::to_vec_pretty(&directory).unwrap_or_default());
        let ctx = Arc::new(ServerCtx {
            domain: config.domain.clone(),
            directory_json,
            max_body: config.max_body,
            shared: shared.clone(),
            client: client.clone(),
            forward_timeout: config.retry.request_timeout,
        });
        let mut tasks = vec![tokio::spawn(server::accept_loop(listener, acceptor, ctx))];
        for (peer, wake) in &shared.wakers {
            tasks.push(tokio::spawn(delivery::worker(
                peer.clone(),
                shared.clone(),
                client.clone(),
                config.retry.clone(),
                wake.clone(),
            )));
        }
        info!(domain = %config.domain, %addr, replayed, peers = config.peers.len(), "provider started");
        Ok(Self {
            shared,
            addr,
            client,
            tasks,
        })
    }

    /// The address we listen on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Runs `f` on the core (e.g. to inspect it in tests).
    pub fn with_core<R>(&self, f: impl FnOnce(&mut C) -> R) -> R {
        f(&mut self.shared.lock())
    }

    /// Queues requests that our own side originates (e.g. a local client's message the
    /// hub fans out), durably, and wakes the workers.
    pub fn enqueue(&self, outgoing: &[Outgoing]) -> Result<(), ProviderError> {
        if let Some(o) = outgoing
            .iter()
            .find(|o| !self.shared.wakers.contains_key(&o.to_domain))
        {
            return Err(ProviderError::UnknownPeer(o.to_domain.clone()));
        }
        self.shared.store.commit(None, None, false, outgoing)?;
        self.shared.wake(outgoing);
        Ok(())
    }

    /// Runs a local client's operation on the core ([`ProviderCore::handle_local`]); with a
    /// 2xx answer it is journaled (replayed after a restart) and its outgoing requests are
    /// queued durably. Blocking (the store commits); call from a blocking context or
    /// accept a short stall.
    pub fn local(&self, op: &[u8]) -> Result<CoreOutput, ProviderError> {
        let now = now_ms();
        let mut core = self.shared.lock();
        let mut out = core.handle_local(now, op);
        out.forward = None;
        if (200..300).contains(&out.status) {
            let ev = Event::Local {
                now_ms: now,
                op: op.to_vec(),
            };
            self.shared
                .store
                .commit(Some(&ev), None, false, &out.outgoing)?;
            drop(core);
            self.shared.wake(&out.outgoing);
            self.shared.changed();
        }
        Ok(out)
    }

    /// How many requests are queued for `peer`.
    pub fn queue_len(&self, peer: &str) -> Result<usize, ProviderError> {
        Ok(self.shared.store.queue_len(peer)?)
    }

    /// The requests `peer` rejected for good.
    pub fn dead_letters(&self, peer: &str) -> Result<Vec<Request>, ProviderError> {
        Ok(self
            .shared
            .store
            .dead(peer)?
            .into_iter()
            .map(|(_, r)| r)
            .collect())
    }

    /// The HTTPS client with our certificate (for request/response exchanges that are
    /// not queued, e.g. a follower's `/update` whose answer it waits for).
    pub fn client(&self) -> &PeerClient {
        &self.client
    }

    /// Stops the server (closing every connection) and the workers, and waits (at most
    /// 5 s) until nothing refers to the store any more. What is queued stays in the store.
    pub async fn shutdown(self) {
        for t in &self.tasks {
            t.abort();
        }
        for t in self.tasks {
            let _ = t.await;
        }
        // Aborted connection tasks and running blocking calls still hold the shared
        // state (and so the store's file lock) until the runtime drops them: wait for
        // that, boundedly, so the same data directory can be opened again at once.
        let end = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while Arc::strong_count(&self.shared) > 1 && tokio::time::Instant::now() < end {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        if Arc::strong_count(&self.shared) > 1 {
            warn!("provider state still referenced 5 s after shutdown");
        }
    }
}
