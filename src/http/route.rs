//! Request paths: the directory's endpoints (protocol-06 §5.1) under our base path, their
//! path parameter, their method and the wire struct their body must decode as.

use crate::wire::directory::{percent_encode, Directory, Endpoint, DIRECTORY_PATH};

/// A parsed request target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /.well-known/mimi-protocol-directory` (§5.1).
    Directory,
    /// An endpoint of the directory with its percent-decoded path parameter.
    Endpoint(Endpoint, String),
}

/// Why a path is not a route.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The path names no endpoint of the directory (§5.1).
    #[error("protocol-06 §5.1: path {0:?} is not an endpoint of the directory")]
    UnknownPath(String),
    /// The path parameter is empty, has a `/` left after decoding into more segments, or
    /// is not valid percent-encoded UTF-8.
    #[error("protocol-06 §5.1: path parameter of {endpoint} is malformed: {why}")]
    BadParameter {
        /// The endpoint's directory name.
        endpoint: &'static str,
        /// What is wrong.
        why: &'static str,
    },
}

/// The path prefix of every endpoint we serve (the directory's templates are
/// `https://{domain}{PREFIX}/{name}/{param}`).
pub const PREFIX: &str = "";

impl Route {
    /// Parses a request path (without query). Every endpoint takes exactly one
    /// percent-encoded segment as its parameter.
    pub fn parse(path: &str) -> Result<Route, RouteError> {
        if path == DIRECTORY_PATH {
            return Ok(Route::Directory);
        }
        let rest = path
            .strip_prefix(PREFIX)
            .and_then(|p| p.strip_prefix('/'))
            .ok_or_else(|| RouteError::UnknownPath(path.to_owned()))?;
        let (name, param) = rest
            .split_once('/')
            .ok_or_else(|| RouteError::UnknownPath(path.to_owned()))?;
        let endpoint = Endpoint::ALL
            .into_iter()
            .find(|e| e.name() == name)
            .ok_or_else(|| RouteError::UnknownPath(path.to_owned()))?;
        let bad = |why| RouteError::BadParameter {
            endpoint: endpoint.name(),
            why,
        };
        if param.is_empty() {
            return Err(bad("empty"));
        }
        if param.contains('/') {
            return Err(bad("more than one path segment (encode '/' as %2F)"));
        }
        let decoded = percent_decode(param).ok_or_else(|| bad("invalid percent-encoding"))?;
        Ok(Route::Endpoint(endpoint, decoded))
    }

    /// The path for an endpoint and parameter (the inverse of [`Route::parse`]).
    pub fn path(endpoint: Endpoint, param: &str) -> String {
        format!("{PREFIX}/{}/{}", endpoint.name(), percent_encode(param))
    }
}

/// Whether the endpoint is fetched with `GET` (only `proxyDownload`, §5.10); all others
/// are `POST` (§5.2–§5.9).
pub fn is_get(endpoint: Endpoint) -> bool {
    matches!(endpoint, Endpoint::ProxyDownload)
}

/// The wire struct (its registry name) that a request body of `endpoint` must decode as,
/// or `None` for bodiless `GET`s.
pub fn body_type(endpoint: Endpoint) -> Option<&'static str> {
    Some(match endpoint {
        Endpoint::KeyMaterial => "KeyMaterialRequest", // §5.2
        Endpoint::Update => "UpdateRequest",           // §5.3
        Endpoint::SubmitMessage => "SubmitMessageRequest", // §5.4
        Endpoint::Notify => "FanoutMessages",          // §5.5
        Endpoint::GroupInfo => "GroupInfoRequest",     // §5.6
        Endpoint::RequestConsent | Endpoint::UpdateConsent => "ConsentEntry", // §5.7
        Endpoint::IdentifierQuery => "IdentifierRequest", // §5.8
        Endpoint::ReportAbuse => "AbuseReport",        // §5.9
        Endpoint::ProxyDownload => return None,        // §5.10
    })
}

/// Checks that `body` is exactly one well-formed value of the endpoint's wire struct.
pub fn check_body(endpoint: Endpoint, body: &[u8]) -> Result<(), crate::wire::WireError> {
    use crate::wire::common::{WireError, WireErrorKind};
    match body_type(endpoint) {
        None if body.is_empty() => Ok(()),
        None => Err(WireError::new(0, WireErrorKind::TrailingBytes(body.len()))),
        Some(name) => match crate::wire::registry::lookup(name) {
            Some(t) => t.reencode(body).map(|_| ()),
            None => Err(WireError::new(
                0,
                WireErrorKind::Encode(format!("no wire type {name} registered")),
            )),
        },
    }
}

/// The directory we serve: the draft's names, templates under `base` (e.g.
/// `https://a.example`).
pub fn directory(base: &str) -> Directory {
    Directory::with_base(&format!("{base}{PREFIX}"))
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes; `None` on a broken escape or non-UTF-8 result.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hi = hex_val(*b.get(i + 1)?)?;
            let lo = hex_val(*b.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip() {
        for e in Endpoint::ALL {
            let p = Route::path(e, "mimi://a.example/r/club house");
            assert_eq!(
                Route::parse(&p).unwrap(),
                Route::Endpoint(e, "mimi://a.example/r/club house".into())
            );
        }
        assert_eq!(Route::parse(DIRECTORY_PATH).unwrap(), Route::Directory);
    }

    #[test]
    fn bad_paths_are_refused() {
        assert!(matches!(
            Route::parse("/nope/x"),
            Err(RouteError::UnknownPath(_))
        ));
        assert!(matches!(
            Route::parse("/notify"),
            Err(RouteError::UnknownPath(_))
        ));
        assert!(matches!(
            Route::parse("/notify/"),
            Err(RouteError::BadParameter { .. })
        ));
        assert!(matches!(
            Route::parse("/notify/a/b"),
            Err(RouteError::BadParameter { .. })
        ));
        assert!(matches!(
            Route::parse("/notify/%G1"),
            Err(RouteError::BadParameter { .. })
        ));
        assert!(matches!(
            Route::parse("/notify/%FF"),
            Err(RouteError::BadParameter { .. })
        ));
    }

    #[test]
    fn every_body_type_is_registered() {
        for e in Endpoint::ALL {
            if let Some(n) = body_type(e) {
                assert!(crate::wire::registry::lookup(n).is_some(), "{n}");
            }
        }
        assert!(check_body(Endpoint::Notify, &[]).is_err());
        assert!(check_body(Endpoint::ProxyDownload, &[]).is_ok());
        assert!(check_body(Endpoint::ProxyDownload, &[1]).is_err());
    }
}
