//! The HTTPS server: mutual TLS, then the protocol-06 §4.1 transport checks, then the
//! route, method, media type, size and body checks, and only then the core.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use hyper::{Method, Response, StatusCode};
use rustls::pki_types::CertificateDer;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tracing::{debug, info, warn};

use super::provider::Shared;
use super::route::{self, Route, RouteError};
use super::{ForwardAnswer, ProviderCore, Request, MEDIA_TYPE, NOTIFY_SEQ_HEADER};

fn answer_summary(a: &ForwardAnswer) -> String {
    match a {
        ForwardAnswer::Answer { status, body } => format!("{status} ({} bytes)", body.len()),
        ForwardAnswer::Failed(why) => format!("failed: {why}"),
    }
}

/// Why the shell refused a request before (or instead of) handing it to the core. Each
/// variant names the rule and maps to one HTTP status ([`Refusal::status`]).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// No `Host` header (protocol-06 §4.1: the target provider is in `Host`).
    #[error("protocol-06 §4.1: no Host header")]
    MissingHost,
    /// `Host` names another provider.
    #[error("protocol-06 §4.1: Host {0:?} is not this provider")]
    WrongHost(String),
    /// No `From` header (protocol-06 §4.1: the source provider is in `From`).
    #[error("protocol-06 §4.1: no From header")]
    MissingFrom,
    /// `From` is not `mimi@<domain>`.
    #[error("protocol-06 §4.1: From {0:?} is not mimi@<domain>")]
    MalformedFrom(String),
    /// The client certificate does not authenticate the `From` domain.
    #[error("protocol-06 §4.1: the client certificate does not authenticate {0:?}")]
    FromNotAuthenticated(String),
    /// The TLS layer handed us no client certificate (cannot happen with the mandatory
    /// verifier; kept so the check does not depend on configuration).
    #[error("protocol-06 §4.1: no client certificate")]
    NoClientCertificate,
    /// Not an endpoint.
    #[error(transparent)]
    Route(#[from] RouteError),
    /// Wrong method for the endpoint.
    #[error("protocol-06 §5: {endpoint} takes {expected}, not {got}")]
    Method {
        /// The endpoint's name.
        endpoint: &'static str,
        /// The method it takes.
        expected: &'static str,
        /// The method used.
        got: String,
    },
    /// `Content-Type` missing or not [`MEDIA_TYPE`].
    #[error("protocol-06 §5: Content-Type must be {MEDIA_TYPE}, got {0:?}")]
    MediaType(String),
    /// The body exceeds the limit.
    #[error("body larger than the limit of {0} bytes")]
    TooLarge(usize),
    /// The body could not be read.
    #[error("body could not be read: {0}")]
    BodyRead(String),
    /// The `/notify` sequence header is not a decimal `u64`.
    #[error("{NOTIFY_SEQ_HEADER}: {0} is not a decimal u64")]
    BadSequence(String),
    /// The body did not arrive in time.
    #[error("body not received within {0:?}")]
    BodyTimeout(Duration),
    /// The body does not decode as the endpoint's wire struct.
    #[error("protocol-06 §5: body is not a {expected}: {error}")]
    MalformedBody {
        /// The struct expected.
        expected: &'static str,
        /// The decoder's error (path, offset, rule).
        error: crate::wire::WireError,
    },
    /// The accepted request could not be made durable.
    #[error("store: {0}")]
    Store(String),
}

impl Refusal {
    /// The HTTP status of this refusal (the table in the module docs of [`crate::http`]).
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::MissingHost
            | Refusal::MissingFrom
            | Refusal::MalformedFrom(_)
            | Refusal::BodyRead(_)
            | Refusal::BadSequence(_)
            | Refusal::MalformedBody { .. } => StatusCode::BAD_REQUEST,
            Refusal::WrongHost(_) => StatusCode::MISDIRECTED_REQUEST,
            Refusal::FromNotAuthenticated(_) | Refusal::NoClientCertificate => {
                StatusCode::FORBIDDEN
            }
            Refusal::Route(_) => StatusCode::NOT_FOUND,
            Refusal::Method { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Refusal::MediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Refusal::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Refusal::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// How long a client may take to send the request head.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send the body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// What the server needs besides the core.
pub(crate) struct ServerCtx<C> {
    pub domain: String,
    pub directory_json: Bytes,
    pub max_body: usize,
    pub shared: Arc<Shared<C>>,
    pub client: super::delivery::PeerClient,
    pub forward_timeout: Duration,
}

/// The host part of a `Host` value (a port is ignored, protocol-06 §4.1).
fn host_name(h: &str) -> &str {
    let h = h.trim();
    match h.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => h,
    }
}

/// The domain of a `From: mimi@<domain>` value, if it has that form.
pub fn from_domain(v: &str) -> Option<&str> {
    let d = v.trim().strip_prefix("mimi@")?;
    super::certs::valid_domain(d).then_some(d)
}

fn text(status: StatusCode, msg: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(msg)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// Runs the accept loop until the task is aborted; every connection task lives in a
/// `JoinSet` owned by this loop, so aborting it also cuts every open connection.
pub(crate) async fn accept_loop<C: ProviderCore>(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    ctx: Arc<ServerCtx<C>>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (tcp, addr) = match accepted {
                    Ok(v) => v,
                    Err(e) => {
                        warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let ctx = ctx.clone();
                conns.spawn(async move {
                    let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            info!(peer_addr = %addr, error = %e, decision = "refused", "TLS handshake failed (protocol-06 §4.1 mutual TLS)");
                            return;
                        }
                        Err(_) => {
                            info!(peer_addr = %addr, decision = "refused", "TLS handshake timed out");
                            return;
                        }
                    };
                    let cert: Option<CertificateDer<'static>> = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .map(|c| c.clone().into_owned());
                    let cert = Arc::new(cert);
                    let svc = hyper::service::service_fn(move |req| {
                        let ctx = ctx.clone();
                        let cert = cert.clone();
                        async move { Ok::<_, Infallible>(handle(ctx, cert, req).await) }
                    });
                    if let Err(e) = hyper::server::conn::http1::Builder::new()
                        .timer(hyper_util::rt::TokioTimer::new())
                        .header_read_timeout(HEADER_TIMEOUT)
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), svc)
                        .await
                    {
                        debug!(peer_addr = %addr, error = %e, "connection ended with error");
                    }
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn handle<C: ProviderCore>(
    ctx: Arc<ServerCtx<C>>,
    cert: Arc<Option<CertificateDer<'static>>>,
    req: hyper::Request<Incoming>,
) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    match process(&ctx, cert.as_ref().as_ref(), req).await {
        Ok((from, route, resp)) => {
            info!(%method, %path, from = %from, route = ?route, status = resp.status().as_u16(), decision = "answered", "request");
            resp
        }
        Err(r) => {
            let status = r.status();
            warn!(%method, %path, status = status.as_u16(), decision = "refused", reason = %r, "request");
            text(status, r.to_string())
        }
    }
}

async fn process<C: ProviderCore>(
    ctx: &ServerCtx<C>,
    cert: Option<&CertificateDer<'static>>,
    req: hyper::Request<Incoming>,
) -> Result<(String, Route, Response<Full<Bytes>>), Refusal> {
    // protocol-06 §4.1: Host is the target provider (ours), From the source, and the
    // client certificate must authenticate the source.
    let host = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.host().to_owned()))
        .ok_or(Refusal::MissingHost)?;
    let name = host_name(&host).trim_end_matches('.');
    if !name.eq_ignore_ascii_case(&ctx.domain) {
        return Err(Refusal::WrongHost(host));
    }
    let from_raw = req
        .headers()
        .get("from")
        .ok_or(Refusal::MissingFrom)?
        .to_str()
        .map_err(|_| Refusal::MalformedFrom("<not visible ASCII>".into()))?
        .to_owned();
    let from = from_domain(&from_raw)
        .ok_or_else(|| Refusal::MalformedFrom(from_raw.clone()))?
        .to_ascii_lowercase();
    let cert = cert.ok_or(Refusal::NoClientCertificate)?;
    if !super::tls::cert_authenticates(cert, &from) {
        return Err(Refusal::FromNotAuthenticated(from));
    }

    let route = Route::parse(req.uri().path())?;
    let method = req.method().clone();
    let endpoint = match &route {
        Route::Directory => {
            if method != Method::GET {
                return Err(Refusal::Method {
                    endpoint: "directory",
                    expected: "GET",
                    got: method.to_string(),
                });
            }
            let mut r = Response::new(Full::new(ctx.directory_json.clone()));
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            return Ok((from, route, r));
        }
        Route::Endpoint(e, _) => *e,
    };
    let get = route::is_get(endpoint);
    let expected = if get { Method::GET } else { Method::POST };
    if method != expected {
        return Err(Refusal::Method {
            endpoint: endpoint.name(),
            expected: if get { "GET" } else { "POST" },
            got: method.to_string(),
        });
    }
    if !get {
        let ct = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = ct.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case(MEDIA_TYPE) {
            return Err(Refusal::MediaType(ct.to_owned()));
        }
    }
    let seq = match req.headers().get(NOTIFY_SEQ_HEADER) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|t| t.trim().parse::<u64>().ok())
                .ok_or_else(|| Refusal::BadSequence(format!("{v:?}")))?,
        ),
    };
    if let Some(len) = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > ctx.max_body as u64 {
            return Err(Refusal::TooLarge(ctx.max_body));
        }
    }
    let body = tokio::time::timeout(
        BODY_TIMEOUT,
        Limited::new(req.into_body(), ctx.max_body).collect(),
    )
    .await
    .map_err(|_| Refusal::BodyTimeout(BODY_TIMEOUT))?
    .map_err(|e| {
        if e.is::<http_body_util::LengthLimitError>() {
            Refusal::TooLarge(ctx.max_body)
        } else {
            Refusal::BodyRead(e.to_string())
        }
    })?
    .to_bytes();
    route::check_body(endpoint, &body).map_err(|error| Refusal::MalformedBody {
        expected: route::body_type(endpoint).unwrap_or("empty body"),
        error,
    })?;
    let Route::Endpoint(_, param) = &route else {
        return Err(Refusal::Route(RouteError::UnknownPath(String::new())));
    };
    let request = Request {
        endpoint,
        param: param.clone(),
        body: body.to_vec(),
        seq,
    };
    let shared = ctx.shared.clone();
    let from2 = from.clone();
    let original = request.clone();
    let mut out = tokio::task::spawn_blocking(move || shared.handle_inbound(&from2, request))
        .await
        .map_err(|e| Refusal::Store(format!("core task failed: {e}")))?
        .map_err(|e| Refusal::Store(e.to_string()))?;
    if let Some(fwd) = out.forward.take() {
        // protocol-06 §5.2: e.g. the hub relays /keyMaterial and answers with the target
        // provider's answer.
        let answer = match tokio::time::timeout(
            ctx.forward_timeout,
            ctx.client.send(&fwd.to_domain, &fwd.request),
        )
        .await
        {
            Ok(Ok(a)) => ForwardAnswer::Answer {
                status: a.status,
                body: a.body,
            },
            Ok(Err(e)) => ForwardAnswer::Failed(e.to_string()),
            Err(_) => ForwardAnswer::Failed(format!(
                "no answer from {} within {:?}",
                fwd.to_domain, ctx.forward_timeout
            )),
        };
        info!(from = %from, to = %fwd.to_domain, endpoint = fwd.request.endpoint.name(), answer = ?answer_summary(&answer), "forwarded");
        let shared = ctx.shared.clone();
        let from2 = from.clone();
        out = tokio::task::spawn_blocking(move || {
            shared.handle_forward_answer(&from2, original, fwd, answer)
        })
        .await
        .map_err(|e| Refusal::Store(format!("core task failed: {e}")))?
        .map_err(|e| Refusal::Store(e.to_string()))?;
    }
    let status = StatusCode::from_u16(out.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let has_body = !out.body.is_empty();
    let retry_after = out.retry_after_secs;
    let mut r = Response::new(Full::new(Bytes::from(out.body)));
    *r.status_mut() = status;
    if has_body {
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    }
    if let Some(secs) = retry_after {
        r.headers_mut()
            .insert(hyper::header::RETRY_AFTER, HeaderValue::from(secs));
    }
    Ok((from, route, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_from_parsing() {
        assert_eq!(host_name("a.example:8443"), "a.example");
        assert_eq!(host_name("a.example"), "a.example");
        assert_eq!(from_domain("mimi@a.example"), Some("a.example"));
        assert_eq!(from_domain("bob@a.example"), None);
        assert_eq!(from_domain("mimi@"), None);
        assert_eq!(from_domain("mimi@a b"), None);
    }
}
