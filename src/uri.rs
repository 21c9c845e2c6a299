//! `mimi://` identifiers (protocol-06 §3, draft-mahy-mimi-identity-05 §"URIs").
//!
//! The protocol draft calls its identifier syntax "notional"; the identity draft
//! adds variants. What we accept (each choice is recorded in `spec/deviations.md`):
//!
//! ```text
//! mimi-uri   = "mimi://" host [ "/" kind "/" segment [ "/" segment ] ]
//! kind       = "u" (user) / "p" (pseudonym) / "d" (client or device)
//!            / "r" (room) / "g" (MLS group) / "t" (team)
//! host       = a DNS name: 1..=253 octets, labels 1..=63 of [a-z0-9-],
//!              no label starts or ends with "-", at least one dot
//!              or the name "localhost"
//! segment    = 1*( unreserved / pct-encoded / sub-delims / ":" / "@" )
//! ```
//!
//! Only `d` takes two segments (`/d/<user>/<device>` of the identity draft);
//! every other kind takes exactly one. Ports, user-info, queries and fragments
//! are refused: a provider is a domain name, not an endpoint.
//!
//! Normalization ([`MimiUri::parse`] returns the normal form, [`fmt::Display`]
//! prints it): scheme and host are lower-cased, percent-encodings use upper-case
//! hex digits, and percent-encoded unreserved characters are decoded (RFC 3986
//! §6.2.2). Two URIs name the same identifier iff their normal forms are equal.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Longest URI we accept, in bytes (our limit; the drafts set none).
pub const MAX_URI_LEN: usize = 1024;

/// Longest host name (RFC 1035 §2.3.4).
const MAX_HOST_LEN: usize = 253;
/// Longest DNS label (RFC 1035 §2.3.4).
const MAX_LABEL_LEN: usize = 63;

/// What a `mimi://` URI identifies: the first path segment (protocol-06 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UriKind {
    /// A provider (no path): `mimi://a.example`.
    Provider,
    /// A user: `mimi://a.example/u/alice`.
    User,
    /// A pseudonym of a user (identity-05; minimal-metadata rooms, protocol-06 §6.1).
    Pseudonym,
    /// A client (device): `mimi://a.example/d/ClientA1` or `mimi://a.example/d/alice/ClientA1`.
    Client,
    /// A room: `mimi://a.example/r/clubhouse`.
    Room,
    /// An MLS group id: `mimi://a.example/g/clubhouse`.
    Group,
    /// A team or workspace (identity-05).
    Team,
}

impl UriKind {
    /// The path discriminator of this kind (`"u"`, `"d"`, …), `None` for a provider.
    pub fn discriminator(self) -> Option<&'static str> {
        match self {
            UriKind::Provider => None,
            UriKind::User => Some("u"),
            UriKind::Pseudonym => Some("p"),
            UriKind::Client => Some("d"),
            UriKind::Room => Some("r"),
            UriKind::Group => Some("g"),
            UriKind::Team => Some("t"),
        }
    }

    fn from_discriminator(s: &str) -> Option<Self> {
        Some(match s {
            "u" => UriKind::User,
            "p" => UriKind::Pseudonym,
            "d" => UriKind::Client,
            "r" => UriKind::Room,
            "g" => UriKind::Group,
            "t" => UriKind::Team,
            _ => return None,
        })
    }

    /// How many path segments follow the discriminator: (min, max).
    fn segment_bounds(self) -> (usize, usize) {
        match self {
            UriKind::Provider => (0, 0),
            UriKind::Client => (1, 2),
            _ => (1, 1),
        }
    }
}

impl fmt::Display for UriKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            UriKind::Provider => "provider",
            UriKind::User => "user",
            UriKind::Pseudonym => "pseudonym",
            UriKind::Client => "client",
            UriKind::Room => "room",
            UriKind::Group => "group",
            UriKind::Team => "team",
        };
        f.write_str(s)
    }
}

/// Why a string is not a valid `mimi://` identifier.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UriError {
    /// The input is empty.
    #[error("empty URI")]
    Empty,
    /// The input exceeds [`MAX_URI_LEN`].
    #[error("URI is {len} bytes long; the limit is {MAX_URI_LEN}")]
    TooLong {
        /// Length of the input in bytes.
        len: usize,
    },
    /// The scheme is not `mimi`.
    #[error("scheme must be \"mimi\", found {found:?}")]
    WrongScheme {
        /// The scheme found (or the whole prefix if no `:` was present).
        found: String,
    },
    /// `mimi:` is not followed by `//`.
    #[error("\"mimi:\" must be followed by \"//\" and a provider domain")]
    MissingAuthority,
    /// The authority contains user-info (`x@host`).
    #[error("user-info (\"…@\") is not allowed in the authority")]
    UserInfo,
    /// The authority contains a port.
    #[error("a port is not allowed: the provider is a domain name")]
    Port,
    /// The host is not a valid domain name.
    #[error("invalid provider domain {host:?}: {reason}")]
    InvalidHost {
        /// The host as written.
        host: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A query (`?…`) or fragment (`#…`) is present.
    #[error("query and fragment components are not allowed")]
    QueryOrFragment,
    /// The first path segment is not a known kind.
    #[error("unknown identifier kind {found:?} (expected one of u, p, d, r, g, t)")]
    UnknownKind {
        /// The discriminator found.
        found: String,
    },
    /// Wrong number of path segments after the kind.
    #[error("a {kind} URI takes {min}..={max} path segment(s) after the kind, found {found}")]
    SegmentCount {
        /// The identifier kind.
        kind: UriKind,
        /// Minimum segments.
        min: usize,
        /// Maximum segments.
        max: usize,
        /// Segments present.
        found: usize,
    },
    /// A path segment is empty (`//` or a trailing `/`).
    #[error("empty path segment at byte {offset}")]
    EmptySegment {
        /// Byte offset in the input.
        offset: usize,
    },
    /// A character that may not appear in a path segment.
    #[error("character {ch:?} at byte {offset} is not allowed in a path segment")]
    BadChar {
        /// The offending character.
        ch: char,
        /// Byte offset in the input.
        offset: usize,
    },
    /// A malformed percent-encoding.
    #[error("malformed percent-encoding at byte {offset}")]
    BadPercent {
        /// Byte offset in the input.
        offset: usize,
    },
}

/// A validated, normalized `mimi://` identifier.
///
/// ```
/// use mimi_ref::uri::{MimiUri, UriKind};
/// let u: MimiUri = "MIMI://A.Example/u/alice".parse().unwrap();
/// assert_eq!(u.kind(), UriKind::User);
/// assert_eq!(u.provider(), "a.example");
/// assert_eq!(u.to_string(), "mimi://a.example/u/alice");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MimiUri {
    kind: UriKind,
    host: String,
    segments: Vec<String>,
}

impl MimiUri {
    /// Parse and normalize a `mimi://` URI.
    pub fn parse(input: &str) -> Result<Self, UriError> {
        if input.is_empty() {
            return Err(UriError::Empty);
        }
        if input.len() > MAX_URI_LEN {
            return Err(UriError::TooLong { len: input.len() });
        }
        let (scheme, rest) = match input.split_once(':') {
            Some(p) => p,
            None => {
                return Err(UriError::WrongScheme {
                    found: input.chars().take(16).collect(),
                })
            }
        };
        if !scheme.eq_ignore_ascii_case("mimi") {
            return Err(UriError::WrongScheme {
                found: scheme.to_string(),
            });
        }
        let rest = rest.strip_prefix("//").ok_or(UriError::MissingAuthority)?;
        if rest.contains(['?', '#']) {
            return Err(UriError::QueryOrFragment);
        }
        let base = scheme.len() + 3; // offset of the authority in `input`
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let host = parse_host(authority)?;
        let path_offset = base + authority.len();

        // A bare provider, with or without a trailing slash.
        if path.is_empty() || path == "/" {
            return Ok(MimiUri {
                kind: UriKind::Provider,
                host,
                segments: Vec::new(),
            });
        }
        let mut parts = Vec::new();
        let mut offset = path_offset + 1;
        for raw in path[1..].split('/') {
            if raw.is_empty() {
                return Err(UriError::EmptySegment { offset });
            }
            parts.push((raw, offset));
            offset += raw.len() + 1;
        }
        let (disc, _) = parts[0];
        let kind = UriKind::from_discriminator(disc).ok_or_else(|| UriError::UnknownKind {
            found: disc.to_string(),
        })?;
        let (min, max) = kind.segment_bounds();
        let found = parts.len() - 1;
        if found < min || found > max {
            return Err(UriError::SegmentCount {
                kind,
                min,
                max,
                found,
            });
        }
        let segments = parts[1..]
            .iter()
            .map(|(raw, off)| normalize_segment(raw, *off))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(MimiUri {
            kind,
            host,
            segments,
        })
    }

    /// Build a URI of `kind` at `provider` from path segments, validating them.
    pub fn new(kind: UriKind, provider: &str, segments: &[&str]) -> Result<Self, UriError> {
        let mut s = format!("mimi://{provider}");
        if let Some(d) = kind.discriminator() {
            s.push('/');
            s.push_str(d);
        }
        for seg in segments {
            s.push('/');
            s.push_str(seg);
        }
        let uri = Self::parse(&s)?;
        if uri.kind != kind {
            // Only reachable for a provider given segments.
            return Err(UriError::SegmentCount {
                kind,
                min: 0,
                max: 0,
                found: segments.len(),
            });
        }
        Ok(uri)
    }

    /// A provider URI `mimi://<domain>`.
    pub fn provider_uri(domain: &str) -> Result<Self, UriError> {
        Self::new(UriKind::Provider, domain, &[])
    }

    /// A user URI `mimi://<domain>/u/<id>`.
    pub fn user(domain: &str, id: &str) -> Result<Self, UriError> {
        Self::new(UriKind::User, domain, &[id])
    }

    /// A room URI `mimi://<domain>/r/<id>`.
    pub fn room(domain: &str, id: &str) -> Result<Self, UriError> {
        Self::new(UriKind::Room, domain, &[id])
    }

    /// A client URI `mimi://<domain>/d/<id>`.
    pub fn client(domain: &str, id: &str) -> Result<Self, UriError> {
        Self::new(UriKind::Client, domain, &[id])
    }

    /// What this URI identifies.
    pub fn kind(&self) -> UriKind {
        self.kind
    }

    /// The provider's domain (the URI's host), lower-case.
    pub fn provider(&self) -> &str {
        &self.host
    }

    /// The normalized path segments after the kind discriminator.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The last path segment (the local identifier), if any.
    pub fn local_id(&self) -> Option<&str> {
        self.segments.last().map(String::as_str)
    }

    /// The provider URI of this identifier (`mimi://<host>`).
    pub fn provider_of(&self) -> MimiUri {
        MimiUri {
            kind: UriKind::Provider,
            host: self.host.clone(),
            segments: Vec::new(),
        }
    }

    /// Parse from bytes as carried in an `IdentifierUri` (UTF-8 required).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, UriError> {
        match std::str::from_utf8(bytes) {
            Ok(s) => Self::parse(s),
            Err(e) => Err(UriError::BadChar {
                ch: char::REPLACEMENT_CHARACTER,
                offset: e.valid_up_to(),
            }),
        }
    }
}

impl fmt::Display for MimiUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mimi://{}", self.host)?;
        if let Some(d) = self.kind.discriminator() {
            write!(f, "/{d}")?;
        }
        for s in &self.segments {
            write!(f, "/{s}")?;
        }
        Ok(())
    }
}

impl FromStr for MimiUri {
    type Err = UriError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for MimiUri {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MimiUri {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        MimiUri::parse(&s).map_err(serde::de::Error::custom)
    }
}

fn parse_host(authority: &str) -> Result<String, UriError> {
    if authority.contains('@') {
        return Err(UriError::UserInfo);
    }
    if authority.contains(':') {
        return Err(UriError::Port);
    }
    let invalid = |reason| UriError::InvalidHost {
        host: authority.to_string(),
        reason,
    };
    if authority.is_empty() {
        return Err(invalid("empty"));
    }
    if authority.len() > MAX_HOST_LEN {
        return Err(invalid("longer than 253 octets"));
    }
    let host = authority.to_ascii_lowercase();
    for label in host.split('.') {
        if label.is_empty() {
            return Err(invalid("empty label"));
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(invalid("label longer than 63 octets"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(invalid("labels may hold only letters, digits and '-'"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(invalid("a label may not start or end with '-'"));
        }
    }
    if !host.contains('.') && host != "localhost" {
        return Err(invalid("not a fully qualified domain name"));
    }
    if host
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(invalid("IP addresses are not provider domains"));
    }
    Ok(host)
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn is_segment_char(b: u8) -> bool {
    is_unreserved(b)
        || matches!(
            b,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
        )
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Validate one path segment and bring it to normal form (RFC 3986 §6.2.2).
fn normalize_segment(raw: &str, offset: usize) -> Result<String, UriError> {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let pair = bytes.get(i + 1).zip(bytes.get(i + 2));
            let v = pair.and_then(|(h, l)| Some(hex_val(*h)? << 4 | hex_val(*l)?));
            let v = v.ok_or(UriError::BadPercent { offset: offset + i })?;
            if is_unreserved(v) {
                out.push(char::from(v));
            } else {
                out.push_str(&format!("%{v:02X}"));
            }
            i += 3;
        } else if is_segment_char(b) {
            out.push(char::from(b));
            i += 1;
        } else {
            let ch = raw[i..]
                .chars()
                .next()
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            return Err(UriError::BadChar {
                ch,
                offset: offset + i,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_every_kind_of_the_drafts() {
        let cases = [
            ("mimi://a.example", UriKind::Provider, "a.example", None),
            ("mimi://a.example/", UriKind::Provider, "a.example", None),
            (
                "mimi://a.example/u/alice",
                UriKind::User,
                "a.example",
                Some("alice"),
            ),
            (
                "mimi://a.example/p/crazykoala75",
                UriKind::Pseudonym,
                "a.example",
                Some("crazykoala75"),
            ),
            (
                "mimi://a.example/d/ClientA1",
                UriKind::Client,
                "a.example",
                Some("ClientA1"),
            ),
            (
                "mimi://a.example/d/alice/ClientA1",
                UriKind::Client,
                "a.example",
                Some("ClientA1"),
            ),
            (
                "mimi://example.com/d/SvPfLlwBQi-6oddVRrkqpw/04c7",
                UriKind::Client,
                "example.com",
                Some("04c7"),
            ),
            (
                "mimi://a.example/r/clubhouse",
                UriKind::Room,
                "a.example",
                Some("clubhouse"),
            ),
            (
                "mimi://a.example/g/TII9t5viBrXiXc",
                UriKind::Group,
                "a.example",
                Some("TII9t5viBrXiXc"),
            ),
            (
                "mimi://a.example/t/engineering",
                UriKind::Team,
                "a.example",
                Some("engineering"),
            ),
            (
                "mimi://local.invalid/u/alice.smith",
                UriKind::User,
                "local.invalid",
                Some("alice.smith"),
            ),
        ];
        for (s, kind, host, local) in cases {
            let u = MimiUri::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(u.kind(), kind, "{s}");
            assert_eq!(u.provider(), host, "{s}");
            assert_eq!(u.local_id(), local, "{s}");
        }
    }

    #[test]
    fn normalizes_case_and_percent_encoding() {
        let u = MimiUri::parse("MiMi://A.EXAMPLE/u/%61lice%2fx%2F").unwrap();
        assert_eq!(u.to_string(), "mimi://a.example/u/alice%2Fx%2F");
        assert_eq!(
            u,
            MimiUri::parse("mimi://a.example/u/alice%2Fx%2f").unwrap()
        );
        // Path segments are case-sensitive.
        assert_ne!(
            u,
            MimiUri::parse("mimi://a.example/u/Alice%2Fx%2F").unwrap()
        );
        assert_eq!(
            MimiUri::parse("mimi://a.example/").unwrap().to_string(),
            "mimi://a.example"
        );
    }

    #[test]
    fn rejects_malformed_with_a_reason() {
        use UriError::*;
        type Check = fn(&UriError) -> bool;
        let bad: &[(&str, Check)] = &[
            ("", |e| matches!(e, Empty)),
            ("https://a.example/u/x", |e| matches!(e, WrongScheme { .. })),
            ("a.example/u/x", |e| matches!(e, WrongScheme { .. })),
            ("mimi:a.example/u/x", |e| matches!(e, MissingAuthority)),
            ("mimi://bob@a.example/u/x", |e| matches!(e, UserInfo)),
            ("mimi://a.example:443/u/x", |e| matches!(e, Port)),
            ("mimi:///u/x", |e| matches!(e, InvalidHost { .. })),
            ("mimi://a..example/u/x", |e| matches!(e, InvalidHost { .. })),
            ("mimi://-a.example/u/x", |e| matches!(e, InvalidHost { .. })),
            ("mimi://a_b.example/u/x", |e| {
                matches!(e, InvalidHost { .. })
            }),
            ("mimi://example/u/x", |e| matches!(e, InvalidHost { .. })),
            ("mimi://10.0.0.1/u/x", |e| matches!(e, InvalidHost { .. })),
            ("mimi://a.example/u/x?y", |e| matches!(e, QueryOrFragment)),
            ("mimi://a.example/u/x#y", |e| matches!(e, QueryOrFragment)),
            ("mimi://a.example/x/alice", |e| {
                matches!(e, UnknownKind { .. })
            }),
            ("mimi://a.example/u", |e| matches!(e, SegmentCount { .. })),
            ("mimi://a.example/u/a/b", |e| {
                matches!(e, SegmentCount { .. })
            }),
            ("mimi://a.example/d/a/b/c", |e| {
                matches!(e, SegmentCount { .. })
            }),
            ("mimi://a.example/u/", |e| {
                matches!(e, EmptySegment { offset: 19 })
            }),
            ("mimi://a.example//u", |e| matches!(e, EmptySegment { .. })),
            ("mimi://a.example/u/al ice", |e| {
                matches!(
                    e,
                    BadChar {
                        ch: ' ',
                        offset: 21
                    }
                )
            }),
            ("mimi://a.example/u/alïce", |e| {
                matches!(e, BadChar { ch: 'ï', .. })
            }),
            ("mimi://a.example/u/a%zz", |e| {
                matches!(e, BadPercent { offset: 20 })
            }),
            ("mimi://a.example/u/a%4", |e| matches!(e, BadPercent { .. })),
        ];
        for (s, ok) in bad {
            let e = MimiUri::parse(s).expect_err(s);
            assert!(ok(&e), "{s}: unexpected error {e:?}");
            assert!(!e.to_string().is_empty());
        }
        let long = format!("mimi://a.example/u/{}", "x".repeat(MAX_URI_LEN));
        assert!(matches!(MimiUri::parse(&long), Err(TooLong { .. })));
        let long_label = format!("mimi://{}.example", "x".repeat(64));
        assert!(matches!(
            MimiUri::parse(&long_label),
            Err(InvalidHost { .. })
        ));
    }

    #[test]
    fn constructors_validate() {
        assert_eq!(
            MimiUri::user("b.example", "bob").unwrap().to_string(),
            "mimi://b.example/u/bob"
        );
        assert!(MimiUri::user("b.example", "b/o/b").is_err());
        assert!(MimiUri::room("not a domain", "r").is_err());
        let c = MimiUri::client("c.example", "CathyPhone").unwrap();
        assert_eq!(c.provider_of().to_string(), "mimi://c.example");
        assert!(MimiUri::from_bytes(b"mimi://a.example/u/\xff").is_err());
    }

    #[test]
    fn serde_is_the_normal_form() {
        let u = MimiUri::parse("mimi://A.example/r/Club").unwrap();
        let j = serde_json::to_string(&u).unwrap();
        assert_eq!(j, "\"mimi://a.example/r/Club\"");
        assert_eq!(serde_json::from_str::<MimiUri>(&j).unwrap(), u);
        assert!(serde_json::from_str::<MimiUri>("\"mimi://a.example/q/x\"").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = MimiUri::parse(&s);
        }

        #[test]
        fn normal_form_is_a_fixed_point(
            host in "[a-z][a-z0-9-]{0,10}[a-z0-9]\\.[a-z]{2,6}",
            kind in prop::sample::select(vec!["u", "p", "d", "r", "g", "t"]),
            seg in "([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9a-fA-F]{2}){1,20}",
        ) {
            let s = format!("mimi://{}/{kind}/{seg}", host.to_uppercase());
            let u = MimiUri::parse(&s).unwrap();
            let again = MimiUri::parse(&u.to_string()).unwrap();
            prop_assert_eq!(&again, &u);
            prop_assert_eq!(again.to_string(), u.to_string());
        }
    }
}
