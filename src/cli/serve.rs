//! `mimi-ref serve`: one provider over mutually authenticated HTTPS (protocol-06 §4.1, §5).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use mimi_ref::http::delivery::RetryPolicy;
use mimi_ref::http::tls::Identity;
use mimi_ref::http::{Provider, ProviderConfig};
use mimi_ref::provider::MimiCore;

/// Arguments of `mimi-ref serve`.
///
/// The provider runs the real core ([`mimi_ref::provider::MimiCore`]): the hub for the
/// rooms it hosts and the follower for the others. A standalone `serve` has no local
/// clients (those are driven in-process, see `mimi-ref demo`); it hosts no rooms of its
/// own but answers `/keyMaterial`, `/notify` and the hub endpoints for rooms it hosts.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "The core is the real one: the hub for rooms this provider hosts, the \
follower for the rest (protocol-06 §5). Our own domain is added to the peers so that \
the hub reaches its own follower through the same queues. Logs: RUST_LOG (default info)."
)]
pub struct ServeArgs {
    /// Our provider domain (the `Host` we answer to, the `From` we send).
    #[arg(long)]
    pub domain: String,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// The folder written by `mimi-ref certs` (ca.pem, <domain>.pem, <domain>.key.pem).
    #[arg(long, value_name = "DIR")]
    pub certs: PathBuf,
    /// Peer providers as DOMAIN=ADDR, comma-separated or repeated
    /// (e.g. b.example=127.0.0.1:8444,c.example=127.0.0.1:8445).
    #[arg(long, value_name = "DOMAIN=ADDR", value_delimiter = ',')]
    pub peers: Vec<String>,
    /// Where the durable store lives (accepted requests, outgoing queues). Without it the
    /// store is in memory and a restart loses the queues.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Largest request body accepted, in bytes (413 above).
    #[arg(long, default_value_t = 1 << 20)]
    pub max_body: usize,
    /// First retry backoff of outgoing requests, in milliseconds (doubles per attempt).
    #[arg(long, default_value_t = 200)]
    pub retry_initial_ms: u64,
    /// Largest retry backoff, in milliseconds.
    #[arg(long, default_value_t = 60_000)]
    pub retry_max_ms: u64,
    /// The base of the URLs our directory lists (default `https://<domain>`), e.g.
    /// `https://a.example:8443` when the port is not 443.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Outgoing requests in flight per peer (across rooms; one room's are sent in order).
    #[arg(long, default_value_t = 8)]
    pub window: usize,
}

#[derive(Debug, thiserror::Error)]
enum ServeError {
    #[error("--peers: {0:?} is not DOMAIN=IP:PORT")]
    Peer(String),
    #[error(transparent)]
    Tls(#[from] mimi_ref::http::tls::TlsError),
    #[error(transparent)]
    Provider(#[from] mimi_ref::http::ProviderError),
    #[error(transparent)]
    Core(#[from] mimi_ref::provider::CoreError),
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
}

fn parse_peers(v: &[String]) -> Result<HashMap<String, SocketAddr>, ServeError> {
    let mut out = HashMap::new();
    for p in v.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let (d, a) = p
            .split_once('=')
            .ok_or_else(|| ServeError::Peer(p.into()))?;
        let d = d.trim().to_ascii_lowercase();
        if !mimi_ref::http::certs::valid_domain(&d) {
            return Err(ServeError::Peer(p.into()));
        }
        let a: SocketAddr = a.trim().parse().map_err(|_| ServeError::Peer(p.into()))?;
        out.insert(d, a);
    }
    Ok(out)
}

fn serve(args: &ServeArgs) -> Result<(), ServeError> {
    let domain = args.domain.trim().to_ascii_lowercase();
    let identity = Identity::load(&args.certs, &domain)?;
    let mut cfg = ProviderConfig::new(&domain, args.listen, identity);
    cfg.peers = parse_peers(&args.peers)?;
    // The hub notifies its own follower through the same durable queue.
    cfg.peers.entry(domain.clone()).or_insert(args.listen);
    cfg.data_dir = args.data.clone();
    cfg.max_body = args.max_body;
    cfg.base_url = args.base_url.clone();
    cfg.retry = RetryPolicy {
        initial: Duration::from_millis(args.retry_initial_ms.max(1)),
        max: Duration::from_millis(args.retry_max_ms.max(args.retry_initial_ms.max(1))),
        window: args.window.max(1),
        ..RetryPolicy::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    rt.block_on(async {
        let p = Provider::start(cfg, MimiCore::open(&domain, args.data.as_deref())?).await?;
        println!(
            "mimi-ref serve: {domain} listening on https://{}",
            p.local_addr()
        );
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
        p.shutdown().await;
        Ok::<_, ServeError>(())
    })
}

/// Run `mimi-ref serve`.
pub fn run(args: &ServeArgs) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
    match serve(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
