//! Submit a message (protocol-06 §5.4).

use serde::Serialize;

use super::common::{
    put, tls_via_wire, wire_enum, wire_struct, IdentifierUri, Protocol, Reader, WireDecode,
    WireError,
};
use super::franking::Frank;
use super::mls::MlsMessage;

wire_struct! {
    /// `SubmitMessageRequest` (protocol-06 §5.4). `appMessage` should be a PrivateMessage
    /// with application content; that is a hub check (answered `notAllowed`), not a decode
    /// error. The draft's `IdentifierURI` is [`IdentifierUri`].
    pub struct SubmitMessageRequest = "SubmitMessageRequest" {
        /// `Protocol protocol`.
        pub protocol: Protocol => "protocol",
        /// `MLSMessage appMessage`.
        pub app_message: MlsMessage => "appMessage",
        /// `IdentifierURI sendingUri`.
        pub sending_uri: IdentifierUri => "sendingUri",
    }
}

wire_enum! {
    /// `SubmitResponseCode` (protocol-06 §5.4).
    pub enum SubmitResponseCode: u8 = "SubmitResponseCode" {
        /// `accepted(0)`.
        Accepted = 0 => "accepted",
        /// `notAllowed(1)`.
        NotAllowed = 1 => "notAllowed",
        /// `epochTooOld(2)`.
        EpochTooOld = 2 => "epochTooOld",
    }
}

/// `SubmitMessageResponse` (protocol-06 §5.4). The draft's `case success` is `accepted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubmitMessageResponse {
    /// `Protocol protocol`.
    pub protocol: Protocol,
    /// `statusCode` and its arm.
    #[serde(flatten)]
    pub status: SubmitStatus,
}

/// `statusCode` with the `select (statusCode)` arms of [`SubmitMessageResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "statusCode")]
pub enum SubmitStatus {
    /// `accepted`: timestamp and `optional<Frank> frank`.
    #[serde(rename = "accepted")]
    Accepted {
        /// Hub acceptance time (ms since the Unix epoch).
        accepted_timestamp: u64,
        /// The frank, when the message carried `frank_aad`.
        frank: Option<Frank>,
    },
    /// `notAllowed`: no payload.
    #[serde(rename = "notAllowed")]
    NotAllowed,
    /// `epochTooOld`: `uint64 currentEpoch`.
    #[serde(rename = "epochTooOld")]
    EpochTooOld {
        /// The group's current epoch.
        #[serde(rename = "currentEpoch")]
        current_epoch: u64,
    },
}

impl SubmitStatus {
    /// The status code.
    pub fn code(&self) -> SubmitResponseCode {
        match self {
            Self::Accepted { .. } => SubmitResponseCode::Accepted,
            Self::NotAllowed => SubmitResponseCode::NotAllowed,
            Self::EpochTooOld { .. } => SubmitResponseCode::EpochTooOld,
        }
    }
}

impl SubmitMessageResponse {
    fn write(&self, out: &mut Vec<u8>) -> Result<(), tls_codec::Error> {
        put(out, &self.protocol)?;
        put(out, &self.status.code())?;
        match &self.status {
            SubmitStatus::Accepted {
                accepted_timestamp,
                frank,
            } => {
                put(out, accepted_timestamp)?;
                put(out, frank)
            }
            SubmitStatus::NotAllowed => Ok(()),
            SubmitStatus::EpochTooOld { current_epoch } => put(out, current_epoch),
        }
    }
}
impl WireDecode for SubmitMessageResponse {
    const NAME: &'static str = "SubmitMessageResponse";
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let protocol = Protocol::decode(r).map_err(|e| e.field("protocol"))?;
        let code = SubmitResponseCode::decode(r).map_err(|e| e.field("statusCode"))?;
        let status = match code {
            SubmitResponseCode::Accepted => SubmitStatus::Accepted {
                accepted_timestamp: u64::decode(r).map_err(|e| e.field("accepted_timestamp"))?,
                frank: Option::<Frank>::decode(r).map_err(|e| e.field("frank"))?,
            },
            SubmitResponseCode::NotAllowed => SubmitStatus::NotAllowed,
            SubmitResponseCode::EpochTooOld => SubmitStatus::EpochTooOld {
                current_epoch: u64::decode(r).map_err(|e| e.field("currentEpoch"))?,
            },
        };
        Ok(Self { protocol, status })
    }
}
tls_via_wire!(SubmitMessageResponse);
