//! Fanout (protocol-06 §5.5): hub → follower, `POST /notify/{roomId}`.

use openmls::prelude::{ContentType, WireFormat};
use serde::Serialize;

use super::common::{put, tls_via_wire, Reader, WireDecode, WireError, WireErrorKind};
use super::franking::Frank;
use super::mls::MlsMessage;
use super::update::{check_proposals, decode_proposal_list, RatchetTreeOption};

/// `FanoutMessage` (protocol-06 §5.5). There is no `protocol` field on the wire; the
/// mls10 case is implied by the room. The draft selects on `message.wire_format` with
/// content-type labels; we map PrivateMessage → `application`, Welcome → `welcome`, and a
/// PublicMessage → its content type (`proposal` / `commit`) (see `spec/deviations.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FanoutMessage {
    /// `uint64 timestamp`: hub acceptance time (ms since the Unix epoch).
    pub timestamp: u64,
    /// `MLSMessage message`.
    pub message: MlsMessage,
    /// The arm selected by the message.
    #[serde(flatten)]
    pub body: FanoutBody,
}

/// The select arms of [`FanoutMessage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "case")]
pub enum FanoutBody {
    /// `application` (a PrivateMessage): `optional<Frank> frank`.
    #[serde(rename = "application")]
    Application {
        /// The hub's frank, if the message was franked.
        frank: Option<Frank>,
    },
    /// `welcome`: `RatchetTreeOption ratchetTreeOption`.
    #[serde(rename = "welcome")]
    Welcome {
        /// How the joiner gets the tree.
        #[serde(rename = "ratchetTreeOption")]
        ratchet_tree_option: RatchetTreeOption,
    },
    /// `proposal`: `MLSMessage moreProposals<V>`.
    #[serde(rename = "proposal")]
    Proposal {
        /// The rest of the atomic proposal batch.
        #[serde(rename = "moreProposals")]
        more_proposals: Vec<MlsMessage>,
    },
    /// `commit`: `MLSMessage externalProposals<V>` stapled by the hub.
    #[serde(rename = "commit")]
    Commit {
        /// Replacement hub proposals for the new epoch.
        #[serde(rename = "externalProposals")]
        external_proposals: Vec<MlsMessage>,
    },
}

/// Which arm a message selects.
fn select(m: &MlsMessage, at: usize) -> Result<&'static str, WireError> {
    let bad = |what: String| WireError::new(at, WireErrorKind::MlsMessageNotAllowed(what));
    match m.framing() {
        (Some(WireFormat::PrivateMessage), Some(ContentType::Application)) => Ok("application"),
        (Some(WireFormat::Welcome), _) => Ok("welcome"),
        (Some(WireFormat::PublicMessage), Some(ContentType::Proposal)) => Ok("proposal"),
        (Some(WireFormat::PublicMessage), Some(ContentType::Commit)) => Ok("commit"),
        (w, c) => Err(bad(format!(
            "fanout carries no {w:?} with content type {c:?}"
        ))),
    }
}

impl FanoutMessage {
    fn write(&self, out: &mut Vec<u8>) -> Result<(), tls_codec::Error> {
        let arm =
            select(&self.message, 0).map_err(|e| tls_codec::Error::EncodingError(e.to_string()))?;
        put(out, &self.timestamp)?;
        put(out, &self.message)?;
        let mismatch = || {
            tls_codec::Error::EncodingError(format!(
                "FanoutMessage arm does not match a {arm} message"
            ))
        };
        match (&self.body, arm) {
            (FanoutBody::Application { frank }, "application") => put(out, frank),
            (
                FanoutBody::Welcome {
                    ratchet_tree_option,
                },
                "welcome",
            ) => put(out, ratchet_tree_option),
            (FanoutBody::Proposal { more_proposals }, "proposal") => {
                check_proposals(more_proposals)?;
                put(out, more_proposals)
            }
            (FanoutBody::Commit { external_proposals }, "commit") => {
                check_proposals(external_proposals)?;
                put(out, external_proposals)
            }
            _ => Err(mismatch()),
        }
    }
}
impl WireDecode for FanoutMessage {
    const NAME: &'static str = "FanoutMessage";
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let timestamp = u64::decode(r).map_err(|e| e.field("timestamp"))?;
        let at = r.pos();
        let message = MlsMessage::decode(r).map_err(|e| e.field("message"))?;
        let body = match select(&message, at).map_err(|e| e.field("message"))? {
            "application" => FanoutBody::Application {
                frank: Option::<Frank>::decode(r).map_err(|e| e.field("frank"))?,
            },
            "welcome" => FanoutBody::Welcome {
                ratchet_tree_option: RatchetTreeOption::decode(r)
                    .map_err(|e| e.field("ratchetTreeOption"))?,
            },
            "proposal" => FanoutBody::Proposal {
                more_proposals: decode_proposal_list(r).map_err(|e| e.field("moreProposals"))?,
            },
            _ => FanoutBody::Commit {
                external_proposals: decode_proposal_list(r)
                    .map_err(|e| e.field("externalProposals"))?,
            },
        };
        Ok(Self {
            timestamp,
            message,
            body,
        })
    }
}
tls_via_wire!(FanoutMessage);

/// The body of `POST /notify/{roomId}` (protocol-06 §5.5): one or more [`FanoutMessage`]s
/// concatenated with no count or length prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FanoutMessages(pub Vec<FanoutMessage>);

impl FanoutMessages {
    fn write(&self, out: &mut Vec<u8>) -> Result<(), tls_codec::Error> {
        if self.0.is_empty() {
            return Err(tls_codec::Error::EncodingError(
                "a fanout body holds at least one FanoutMessage".into(),
            ));
        }
        for m in &self.0 {
            put(out, m)?;
        }
        Ok(())
    }
}
impl WireDecode for FanoutMessages {
    const NAME: &'static str = "FanoutMessages";
    /// Reads messages until the input (or enclosing bound, or stream) ends.
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let mut v = vec![FanoutMessage::decode(r).map_err(|e| e.index(0))?];
        while r.has_more() {
            let i = v.len();
            v.push(FanoutMessage::decode(r).map_err(|e| e.index(i))?);
        }
        Ok(Self(v))
    }
}
tls_via_wire!(FanoutMessages);
