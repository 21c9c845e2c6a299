//! MIMI content format (draft-ietf-mimi-content-08).
//!
//! * [`MimiContent`] and the part types mirror the CDDL of content-08
//!   (`mimi-content.cddl`); [`MessageDerivedValues`] mirrors `implied.cddl`.
//! * [`MimiContent::decode`] validates as it reads: the CDDL shape, the
//!   deterministic encoding of RFC 8949 §4.2.1 (shortest heads, definite
//!   lengths, sorted unique map keys, shortest floats, canonical NaN, reduced
//!   bignums), UTF-8, the data-model rules for extension keys and values, the
//!   nesting limits, and receiver limits ([`DecodeLimits`]). Each failure is a
//!   distinct [`ContentError`] variant naming the path and byte offset.
//! * [`MimiContent::encode`] writes deterministic CBOR; every draft example
//!   re-encodes byte-identically.
//! * [`derive_message_id`], [`message_id_of_bytes`] and
//!   [`MimiContent::message_id`] implement the -08 message id (with 16-bit
//!   URI length prefixes).
//! * [`MimiContent::check_receiver_rules`], [`check_reply_chain`] and
//!   [`MimiContent::resolve_cid`] are the receiver rules that need a clock,
//!   other messages, or the part tree.
//! * [`decode_to_json`] gives the JSON form printed by `mimi-ref decode --type content`.
//!
//! CBOR is read and written by the small strict codec in `cbor` (ciborium's
//! [`Value`](ciborium::value::Value) holds extension values): ciborium's own
//! decoder accepts non-deterministic input, so it cannot enforce content-08's
//! encoding rules.

mod cbor;
mod codec;
mod error;
mod implied;
mod message_id;
mod parts;
mod receiver;
mod types;

pub use cbor::MAX_SAFE_INTEGER;
pub use codec::{DecodeLimits, MAX_EXTENSION_DEPTH, MAX_EXTENSION_KEY_LEN, MAX_PART_DEPTH};
pub use error::ContentError;
pub use implied::{
    MessageDerivedValues, Timestamp, EXTENDED_TIME_TAG, MAX_EXTENDED_TIME_VALUE_LEN,
};
pub use message_id::{derive_message_id, derive_message_id_draft07, message_id_of_bytes};
pub use parts::CID_DOMAIN;
pub use receiver::{check_reply_chain, ONE_YEAR_SECS};
pub use types::{
    Cardinality, Disposition, EncryptionAlgorithm, Expiration, ExtensionKey, Extensions,
    ExternalPart, HashAlgorithm, MessageId, MimiContent, MultiPart, NestedPart, PartBody,
    PartSemantics, SinglePart, MESSAGE_ID_LEN, SALT_LEN,
};

/// Media type of MIMI content (content-08 §"IANA Considerations").
pub const MEDIA_TYPE: &str = "application/mimi-content";

/// Decodes and validates a message and returns its JSON form (as printed by
/// `mimi-ref decode --type content`).
pub fn decode_to_json(bytes: &[u8]) -> Result<serde_json::Value, ContentError> {
    let content = MimiContent::decode(bytes)?;
    serde_json::to_value(&content).map_err(|e| ContentError::Json {
        reason: e.to_string(),
    })
}
