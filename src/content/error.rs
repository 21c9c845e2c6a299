//! Typed decoding and encoding errors for MIMI content (content-08).
//!
//! Every variant names the rule that was broken and, where it applies, the
//! place: `path` is a location in the message structure using the CDDL field
//! names (`nestedPart.parts[2].contentType`, `mimiExtensions[256][0]`), and
//! `offset` is the byte offset of the offending data item's head in the input.

use thiserror::Error;

/// Why a MIMI content message (or a derived-values record) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ContentError {
    /// The input ends inside a data item, or a declared length runs past the end
    /// of the input (RFC 8949 §3: not well-formed).
    #[error("{path} (byte {offset}): input ends inside this item (truncated or over-long length)")]
    Truncated {
        /// Location in the message structure.
        path: String,
        /// Byte offset of the item's head.
        offset: usize,
    },

    /// Bytes remain after the single top-level data item (RFC 8949 §5.1).
    #[error("byte {offset}: {count} trailing byte(s) after the message")]
    TrailingBytes {
        /// Offset of the first trailing byte.
        offset: usize,
        /// Number of trailing bytes.
        count: usize,
    },

    /// Not well-formed CBOR: reserved additional-information values 28..30,
    /// a stray "break", or a two-byte simple value below 32 (RFC 8949 §3, §3.3).
    #[error("{path} (byte {offset}): malformed CBOR: {reason}")]
    Malformed {
        /// Location in the message structure.
        path: String,
        /// Byte offset of the item's head.
        offset: usize,
        /// Which well-formedness rule failed.
        reason: &'static str,
    },

    /// An indefinite-length string, array or map: content-08 requires
    /// deterministic encoding, which allows definite lengths only (RFC 8949 §4.2.1).
    #[error("{path} (byte {offset}): indefinite-length item (deterministic encoding requires definite lengths)")]
    IndefiniteLength {
        /// Location in the message structure.
        path: String,
        /// Byte offset of the item's head.
        offset: usize,
    },

    /// An integer, length or tag number not in its shortest form (RFC 8949 §4.2.1).
    #[error("{path} (byte {offset}): integer/length argument not in shortest form (deterministic encoding)")]
    NonMinimalHead {
        /// Location in the message structure.
        path: String,
        /// Byte offset of the item's head.
        offset: usize,
    },

    /// A floating-point value encoded longer than needed to keep its value
    /// (RFC 8949 §4.2.1 preferred serialization of floats).
    #[error("{path} (byte {offset}): float not in its shortest lossless form")]
    NonPreferredFloat {
        /// Location in the message structure.
        path: String,
        /// Byte offset of the item's head.
        offset: usize,
    },

    /// A NaN other than the half-precision quiet NaN `0xf97e00` (content-08
    /// "CBOR Data Model and Encoding Restrictions").
    #[error("{path} (byte {offset}): NaN must be encoded as f97e00")]
    NonCanonicalNaN {
        /// Location in the message structure.
        path: String,
        /// Byte offset of the item's head.
        offset: usize,
    },

    /// A bignum (tag 2/3) whose value fits a plain integer, or whose content has
    /// leading zero bytes (RFC 8949 §4.2.1, §3.4.3).
    #[error(
        "{path} (byte {offset}): bignum must be reduced (fits an integer or has leading zeros)"
    )]
    NonPreferredBignum {
        /// Location in the message structure.
        path: String,
        /// Byte offset of the tag's head.
        offset: usize,
    },

    /// Map keys not in bytewise lexicographic order of their encodings
    /// (RFC 8949 §4.2.1, required by content-08).
    #[error("{path} (byte {offset}): map key out of deterministic (bytewise) order")]
    UnsortedMapKeys {
        /// Location of the map.
        path: String,
        /// Byte offset of the out-of-order key.
        offset: usize,
    },

    /// The same key twice in one map (content-08 extensions; RFC 8949 §5.6).
    #[error("{path} (byte {offset}): duplicate map key")]
    DuplicateMapKey {
        /// Location of the map.
        path: String,
        /// Byte offset of the repeated key.
        offset: usize,
    },

    /// A text string that is not valid UTF-8 (RFC 8949 §3.1, content-08).
    #[error("{path} (byte {offset}): text string is not valid UTF-8")]
    InvalidUtf8 {
        /// Location in the message structure.
        path: String,
        /// Byte offset of the string's head.
        offset: usize,
    },

    /// A data item of the wrong CBOR type for its CDDL position.
    #[error("{path} (byte {offset}): expected {expected}, found {found}")]
    WrongType {
        /// Location in the message structure.
        path: String,
        /// Byte offset of the item's head.
        offset: usize,
        /// What the CDDL requires here.
        expected: &'static str,
        /// What was found.
        found: &'static str,
    },

    /// A floating-point number where the CDDL requires a non-float (every
    /// field of the core format; floats are only tolerated inside extension values).
    #[error("{path} (byte {offset}): floating-point value not allowed here (expected {expected})")]
    FloatNotAllowed {
        /// Location in the message structure.
        path: String,
        /// Byte offset of the item's head.
        offset: usize,
        /// What the CDDL requires here.
        expected: &'static str,
    },

    /// A tagged item where the CDDL requires an untagged one (the core format
    /// uses no tags; tags are only tolerated inside extension values).
    #[error("{path} (byte {offset}): tag {tag} not allowed here (expected {expected})")]
    TagNotAllowed {
        /// Location in the message structure.
        path: String,
        /// Byte offset of the tag's head.
        offset: usize,
        /// The tag number.
        tag: u64,
        /// What the CDDL requires here.
        expected: &'static str,
    },

    /// An array with a number of elements the CDDL does not allow here.
    #[error("{path} (byte {offset}): array of {found} element(s), expected {expected}")]
    WrongArrayLength {
        /// Location in the message structure.
        path: String,
        /// Byte offset of the array's head.
        offset: usize,
        /// The allowed length(s).
        expected: &'static str,
        /// The length found.
        found: u64,
    },

    /// A fixed-size byte string of the wrong size (`salt: bstr .size 16`,
    /// `MessageId = bstr .size 32`).
    #[error(
        "{path} (byte {offset}): byte string of {found} octet(s), expected exactly {expected}"
    )]
    WrongByteLength {
        /// Location in the message structure.
        path: String,
        /// Byte offset of the string's head.
        offset: usize,
        /// Required size.
        expected: usize,
        /// Size found.
        found: usize,
    },

    /// An unsigned integer larger than its `uint .size N` allows.
    #[error("{path} (byte {offset}): integer {value} exceeds the maximum {max}")]
    IntegerOutOfRange {
        /// Location in the message structure.
        path: String,
        /// Byte offset of the item's head.
        offset: usize,
        /// The value found.
        value: u64,
        /// The largest allowed value.
        max: u64,
    },

    /// A NestedPart cardinality other than 0 (null), 1 (single), 2 (external), 3 (multi).
    #[error("{path} (byte {offset}): unknown part cardinality {value}")]
    UnknownCardinality {
        /// Location of the cardinality field.
        path: String,
        /// Byte offset of the item's head.
        offset: usize,
        /// The value found.
        value: u64,
    },

    /// A MultiPart `partSemantics` other than 0, 1, 2 (content-08 says to discard
    /// such a message).
    #[error("{path} (byte {offset}): unknown partSemantics {value}")]
    UnknownPartSemantics {
        /// Location of the partSemantics field.
        path: String,
        /// Byte offset of the item's head.
        offset: usize,
        /// The value found.
        value: u64,
    },

    /// A MultiPart with fewer than two parts (`parts: [2* NestedPart]`).
    #[error("{path} (byte {offset}): MultiPart has {found} part(s), at least 2 required")]
    TooFewParts {
        /// Location of the parts array.
        path: String,
        /// Byte offset of the array's head.
        offset: usize,
        /// Number of parts found.
        found: u64,
    },

    /// NestedParts nested deeper than content-08 allows (root = level 1).
    #[error("{path} (byte {offset}): NestedPart at level {level}, deeper than the limit {limit}")]
    PartNestingTooDeep {
        /// Location of the part that is too deep.
        path: String,
        /// Byte offset of the part's head.
        offset: usize,
        /// Its level (root = 1).
        level: usize,
        /// The limit.
        limit: usize,
    },

    /// Arrays/maps/tags inside an extension value nested deeper than content-08
    /// allows (the extensions map itself = level 1).
    #[error("{path} (byte {offset}): extension value nested to level {level}, deeper than the limit {limit}")]
    ExtensionNestingTooDeep {
        /// Location of the container that is too deep.
        path: String,
        /// Byte offset of its head.
        offset: usize,
        /// Its level (extensions map = 1).
        level: usize,
        /// The limit.
        limit: usize,
    },

    /// An extension-map key that is neither an integer nor a text string.
    #[error(
        "{path} (byte {offset}): extension key must be an integer or text string, found {found}"
    )]
    ExtensionKeyType {
        /// Location of the map.
        path: String,
        /// Byte offset of the key.
        offset: usize,
        /// What was found.
        found: &'static str,
    },

    /// A text extension key outside 1..=255 octets (`tstr .size (1..255)`).
    #[error("{path} (byte {offset}): text key of {len} octet(s), must be 1..=255")]
    ExtensionKeyLength {
        /// Location of the map.
        path: String,
        /// Byte offset of the key.
        offset: usize,
        /// Length found.
        len: usize,
    },

    /// An integer map key outside -(2^53-1)..=2^53-1 (must fit a double exactly).
    #[error("{path} (byte {offset}): integer map key {value} outside ±(2^53-1)")]
    IntegerKeyOutOfRange {
        /// Location of the map.
        path: String,
        /// Byte offset of the key.
        offset: usize,
        /// The key.
        value: i128,
    },

    /// A key of a map nested in an extension value that is not int, tstr or bstr.
    #[error("{path} (byte {offset}): nested map key must be int, tstr or bstr, found {found}")]
    NestedMapKeyType {
        /// Location of the map.
        path: String,
        /// Byte offset of the key.
        offset: usize,
        /// What was found.
        found: &'static str,
    },

    /// A simple value other than false, true, null, or a float (`undefined`
    /// and unassigned simple values are refused; see `spec/deviations.md`).
    #[error("{path} (byte {offset}): simple value {value} not supported")]
    UnsupportedSimpleValue {
        /// Location in the message structure.
        path: String,
        /// Byte offset of the item.
        offset: usize,
        /// The simple value number.
        value: u8,
    },

    /// More body parts in total than the receiver limit (content-08 Security
    /// Considerations suggests 1024).
    #[error("{path} (byte {offset}): more than {limit} body parts")]
    TooManyParts {
        /// Location of the part that crossed the limit.
        path: String,
        /// Byte offset of that part.
        offset: usize,
        /// The limit.
        limit: usize,
    },

    /// A topicId longer than the receiver limit (content-08 Security
    /// Considerations suggests 4096 octets).
    #[error("topicId (byte {offset}): {len} octets, longer than the limit {limit}")]
    TopicIdTooLong {
        /// Byte offset of the topicId.
        offset: usize,
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },

    /// A value in the implied `ExtendedTime` map larger than `.size (0..4095)`.
    #[error("{path} (byte {offset}): value of {len} octets exceeds {limit}")]
    ValueTooLong {
        /// Location of the value.
        path: String,
        /// Byte offset of the value.
        offset: usize,
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },

    /// The whole message is larger than the receiver's local limit.
    #[error("message of {len} octets exceeds the local limit {limit}")]
    MessageTooLarge {
        /// Message length.
        len: usize,
        /// The limit.
        limit: usize,
    },

    /// A URI too long for the 16-bit length prefix of the -08 message-id input.
    #[error("{which} URI of {len} octets does not fit the uint16 length prefix of the message id")]
    UriTooLong {
        /// `"sender"` or `"room"`.
        which: &'static str,
        /// Its length.
        len: usize,
    },

    /// A message id was requested from the extensions, but the extension is absent.
    #[error("mimiExtensions[{key}] ({which} URI) is absent")]
    MissingUri {
        /// `"sender"` or `"room"`.
        which: &'static str,
        /// The extension key (1 or 2).
        key: u8,
    },

    /// A `cid:` URI that does not name a SinglePart or ExternalPart of this message.
    #[error("cid reference {cid:?}: {reason}")]
    BadCidReference {
        /// The URI.
        cid: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// An absolute expiry more than a year in the past (content-08 Security
    /// Considerations: discard).
    #[error("expires.time {time}: absolute expiry more than a year before now ({now})")]
    ExpiryTooFarInPast {
        /// The expiry (UNIX seconds).
        time: u32,
        /// The receiver's clock (UNIX seconds).
        now: u64,
    },

    /// An expiry more than a year in the future, absolute or relative
    /// (content-08 Security Considerations: discard).
    #[error("expires.time {time} (relative: {relative}): more than a year in the future")]
    ExpiryTooFarInFuture {
        /// The expiry field.
        time: u32,
        /// Whether it is relative.
        relative: bool,
    },

    /// A referenced message id whose first octet names an unknown hash
    /// algorithm (content-08 Security Considerations: discard).
    #[error("{path}: message id uses unknown hash algorithm {code}")]
    UnknownHashAlgorithm {
        /// `replaces` or `inReplyTo`.
        path: &'static str,
        /// The first octet.
        code: u8,
    },

    /// Following `inReplyTo` links returns to a message already visited
    /// (content-08 §"In-Reply-To": receivers check for loops).
    #[error("inReplyTo chain loops back to message {id}")]
    ReplyLoop {
        /// The first id seen twice.
        id: super::types::MessageId,
    },

    /// Converting the decoded message to JSON failed (should not happen).
    #[error("JSON conversion failed: {reason}")]
    Json {
        /// serde_json's message.
        reason: String,
    },
}
