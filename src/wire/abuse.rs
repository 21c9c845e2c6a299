//! Report abuse (protocol-06 §5.9).

use super::common::{wire_enum, wire_struct, IdentifierUri, Opaque};
use super::franking::Frank;
use super::mls::AppDataDictionary;

wire_struct! {
    /// `AbusiveMessage` (protocol-06 §5.9).
    pub struct AbusiveMessage = "AbusiveMessage" {
        /// `opaque message_content<V>`: the allegedly abusive content (e.g. MIMI content).
        pub message_content: Opaque => "message_content",
        /// `Frank frank`.
        pub frank: Frank => "frank",
        /// `uint64 accepted_timestamp`.
        pub accepted_timestamp: u64 => "accepted_timestamp",
    }
}

wire_enum! {
    /// `AbuseType` (protocol-06 §5.9): only `reserved(0)` is defined (taxonomy is a TODO).
    pub enum AbuseType: u8 = "AbuseType" {
        /// `reserved(0)`.
        Reserved = 0 => "reserved",
    }
}

wire_struct! {
    /// `AbuseReport` (protocol-06 §5.9).
    pub struct AbuseReport = "AbuseReport" {
        /// `IdentifierUri reportingUser` (the text calls it optional; the syntax does not).
        pub reporting_user: IdentifierUri => "reportingUser",
        /// `IdentifierUri allegedAbuserUri`.
        pub alleged_abuser_uri: IdentifierUri => "allegedAbuserUri",
        /// `AbuseType reasonCode`.
        pub reason_code: AbuseType => "reasonCode",
        /// `opaque note<V>`.
        pub note: Opaque => "note",
        /// `AbusiveMessage messages<V>`.
        pub messages: Vec<AbusiveMessage> => "messages",
        /// `AppDataDictionary abuse_extensions`.
        pub abuse_extensions: AppDataDictionary => "abuse_extensions",
    }
}
