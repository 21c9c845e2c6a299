//! `reportAbuse` at the hub (protocol-06 §5.9): any provider reports messages of a room
//! to the room's hub; the hub keeps the report and answers only whether it was accepted.
//!
//! The hub validates a reported message by recomputing its frank (§5.4.1, §5.9). The
//! mimi-ref hub does not frank the messages it accepts (its fanout carries no frank), so
//! no reported message can be confirmed as genuine (INV-31): each is stored with the
//! verdict [`MessageVerdict::Unverifiable`] (spec/deviations.md "report abuse").

use serde::Serialize;

use super::{Hub, HubError};
use crate::uri::{MimiUri, UriKind};
use crate::wire::common::{decode_exact, IdentifierUri};
use crate::wire::AbuseReport;

/// What the hub could establish about one reported message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum MessageVerdict {
    /// The hub cannot recompute the frank: it franked nothing (no franking key), so the
    /// message is neither confirmed nor refuted.
    Unverifiable,
}

/// One abuse report as the hub keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AbuseRecord {
    /// When the hub received it (ms).
    pub received_ms: u64,
    /// The authenticated provider that sent it.
    pub from: String,
    /// `reportingUser` (`None` when the report leaves it empty).
    pub reporting_user: Option<String>,
    /// `allegedAbuserUri`.
    pub alleged_abuser: String,
    /// `reasonCode` (wire name).
    pub reason: String,
    /// `note` (lossy UTF-8).
    pub note: String,
    /// Per reported message: its `accepted_timestamp` and the hub's verdict.
    pub messages: Vec<(u64, MessageVerdict)>,
}

fn user_uri(field: &'static str, uri: &IdentifierUri) -> Result<MimiUri, HubError> {
    let not_a_user = || HubError::AbuseNotAUser {
        field,
        uri: String::from_utf8_lossy(uri.uri.0.as_slice()).into_owned(),
    };
    let text = uri.uri.as_str().ok_or_else(not_a_user)?;
    match MimiUri::parse(text) {
        Ok(u) if u.kind() == UriKind::User => Ok(u),
        _ => Err(not_a_user()),
    }
}

impl Hub {
    /// `POST /reportAbuse/{roomId}` from provider `from` (protocol-06 §5.9). A refused
    /// report leaves the hub unchanged.
    pub(super) fn report_abuse(
        &mut self,
        now_ms: u64,
        from: &str,
        room_id: &str,
        body: &[u8],
    ) -> Result<(), HubError> {
        if !self.rooms.contains_key(room_id) {
            return Err(HubError::NoSuchRoom(room_id.to_owned()));
        }
        let report: AbuseReport = decode_exact(body)?;
        // §5.9: the reporting user may be left out (an empty URI); when named, it must
        // be a user of the provider that sends the report.
        let reporting_user = if report.reporting_user.uri.0.as_slice().is_empty() {
            None
        } else {
            let u = user_uri("reportingUser", &report.reporting_user)?;
            if u.provider() != from {
                return Err(HubError::AbuseReporter {
                    user: u.to_string(),
                    from: from.to_owned(),
                });
            }
            Some(u.to_string())
        };
        let abuser = user_uri("allegedAbuserUri", &report.alleged_abuser_uri)?;
        let record = AbuseRecord {
            received_ms: now_ms,
            from: from.to_owned(),
            reporting_user,
            alleged_abuser: abuser.to_string(),
            reason: report.reason_code.wire_name().to_owned(),
            note: String::from_utf8_lossy(report.note.as_slice()).into_owned(),
            messages: report
                .messages
                .iter()
                .map(|m| (m.accepted_timestamp, MessageVerdict::Unverifiable))
                .collect(),
        };
        if let Some(r) = self.rooms.get_mut(room_id) {
            r.abuse_reports.push(record);
        }
        Ok(())
    }

    /// The abuse reports received for a room this hub hosts (§5.9), oldest first.
    pub fn abuse_reports(&self, room_id: &str) -> &[AbuseRecord] {
        self.rooms
            .get(room_id)
            .map_or(&[], |r| r.abuse_reports.as_slice())
    }
}
