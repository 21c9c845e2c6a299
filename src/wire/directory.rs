//! The endpoint directory, `GET /.well-known/mimi-protocol-directory` (protocol-06 §5.1).

use serde::{Deserialize, Serialize};

/// The well-known path of the directory.
pub const DIRECTORY_PATH: &str = "/.well-known/mimi-protocol-directory";

/// The directory JSON: endpoint names mapped to URL templates. Every endpoint of the draft
/// is required; unknown keys are kept in [`Directory::other`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    /// `keyMaterial` (§5.2), template parameter `{targetUser}`.
    #[serde(rename = "keyMaterial")]
    pub key_material: String,
    /// `update` (§5.3), `{roomId}`.
    pub update: String,
    /// `notify` (§5.5), `{roomId}`.
    pub notify: String,
    /// `submitMessage` (§5.4), `{roomId}`.
    #[serde(rename = "submitMessage")]
    pub submit_message: String,
    /// `groupInfo` (§5.6), `{roomId}`.
    #[serde(rename = "groupInfo")]
    pub group_info: String,
    /// `requestConsent` (§5.7), `{targetUser}` in the example (`{targetDomain}` in §5.7).
    #[serde(rename = "requestConsent")]
    pub request_consent: String,
    /// `updateConsent` (§5.7), `{requesterUser}` in the example (`{requesterDomain}` in §5.7).
    #[serde(rename = "updateConsent")]
    pub update_consent: String,
    /// `identifierQuery` (§5.8), `{domain}`.
    #[serde(rename = "identifierQuery")]
    pub identifier_query: String,
    /// `reportAbuse` (§5.9), `{roomId}`.
    #[serde(rename = "reportAbuse")]
    pub report_abuse: String,
    /// `proxyDownload` (§5.10), `{downloadUrl}`.
    #[serde(rename = "proxyDownload")]
    pub proxy_download: String,
    /// Keys the draft does not define.
    #[serde(flatten)]
    pub other: std::collections::BTreeMap<String, serde_json::Value>,
}

/// The endpoints of the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `keyMaterial`.
    KeyMaterial,
    /// `update`.
    Update,
    /// `notify`.
    Notify,
    /// `submitMessage`.
    SubmitMessage,
    /// `groupInfo`.
    GroupInfo,
    /// `requestConsent`.
    RequestConsent,
    /// `updateConsent`.
    UpdateConsent,
    /// `identifierQuery`.
    IdentifierQuery,
    /// `reportAbuse`.
    ReportAbuse,
    /// `proxyDownload`.
    ProxyDownload,
}

impl Endpoint {
    /// Every endpoint, in the draft's order.
    pub const ALL: [Endpoint; 10] = [
        Endpoint::KeyMaterial,
        Endpoint::Update,
        Endpoint::Notify,
        Endpoint::SubmitMessage,
        Endpoint::GroupInfo,
        Endpoint::RequestConsent,
        Endpoint::UpdateConsent,
        Endpoint::IdentifierQuery,
        Endpoint::ReportAbuse,
        Endpoint::ProxyDownload,
    ];

    /// The draft's JSON key.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::KeyMaterial => "keyMaterial",
            Endpoint::Update => "update",
            Endpoint::Notify => "notify",
            Endpoint::SubmitMessage => "submitMessage",
            Endpoint::GroupInfo => "groupInfo",
            Endpoint::RequestConsent => "requestConsent",
            Endpoint::UpdateConsent => "updateConsent",
            Endpoint::IdentifierQuery => "identifierQuery",
            Endpoint::ReportAbuse => "reportAbuse",
            Endpoint::ProxyDownload => "proxyDownload",
        }
    }
}

/// Why a template could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The template has no `{...}` parameter.
    #[error("template {0:?} has no {{parameter}}")]
    NoParameter(String),
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Directory {
    /// The template of one endpoint.
    pub fn template(&self, e: Endpoint) -> &str {
        match e {
            Endpoint::KeyMaterial => &self.key_material,
            Endpoint::Update => &self.update,
            Endpoint::Notify => &self.notify,
            Endpoint::SubmitMessage => &self.submit_message,
            Endpoint::GroupInfo => &self.group_info,
            Endpoint::RequestConsent => &self.request_consent,
            Endpoint::UpdateConsent => &self.update_consent,
            Endpoint::IdentifierQuery => &self.identifier_query,
            Endpoint::ReportAbuse => &self.report_abuse,
            Endpoint::ProxyDownload => &self.proxy_download,
        }
    }

    /// Expands the endpoint's single `{parameter}` with `value`, percent-encoded.
    pub fn url(&self, e: Endpoint, value: &str) -> Result<String, TemplateError> {
        let t = self.template(e);
        let open = t.find('{');
        let close = open.and_then(|o| t[o..].find('}').map(|c| o + c));
        match (open, close) {
            (Some(o), Some(c)) => Ok(format!(
                "{}{}{}",
                &t[..o],
                percent_encode(value),
                &t[c + 1..]
            )),
            _ => Err(TemplateError::NoParameter(t.to_owned())),
        }
    }

    /// A directory with the draft's templates under `base` (e.g. `https://mimi.example.com/v1`),
    /// using `/update/{roomId}` (the draft example lacks the `/`).
    pub fn with_base(base: &str) -> Self {
        Self {
            key_material: format!("{base}/keyMaterial/{{targetUser}}"),
            update: format!("{base}/update/{{roomId}}"),
            notify: format!("{base}/notify/{{roomId}}"),
            submit_message: format!("{base}/submitMessage/{{roomId}}"),
            group_info: format!("{base}/groupInfo/{{roomId}}"),
            request_consent: format!("{base}/requestConsent/{{targetUser}}"),
            update_consent: format!("{base}/updateConsent/{{requesterUser}}"),
            identifier_query: format!("{base}/identifierQuery/{{domain}}"),
            report_abuse: format!("{base}/reportAbuse/{{roomId}}"),
            proxy_download: format!("{base}/proxyDownload/{{downloadUrl}}"),
            other: Default::default(),
        }
    }
}
