//! Rust types for the CDDL of content-08 (`mimi-content.cddl`).
//!
//! Field order in each struct follows the CBOR array order of the CDDL.
//! `Serialize` produces the JSON that `mimi-ref decode --type content` prints:
//! CDDL field names in camelCase, byte strings as lower-case hex, code points as
//! `{ "code": n, "name": "..." }`.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use ciborium::value::Value;
use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};

use super::cbor::Writer;

/// Salt length in octets (`salt: bstr .size 16`, content-08 §"Message ID").
pub const SALT_LEN: usize = 16;
/// Message-id length in octets (`MessageId = bstr .size 32`).
pub const MESSAGE_ID_LEN: usize = 32;

/// A MIMI content message (content-08 `mimiContent`, a 7-element array).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MimiContent {
    /// 16 random octets, unique per message (content-08 §"Message ID").
    #[serde(serialize_with = "ser_hex")]
    pub salt: [u8; SALT_LEN],
    /// The id of the first version of a message this one edits, deletes or replaces.
    pub replaces: Option<MessageId>,
    /// Opaque topic (thread) identifier; empty for none.
    #[serde(serialize_with = "ser_hex")]
    pub topic_id: Vec<u8>,
    /// Deletion hint.
    pub expires: Option<Expiration>,
    /// The message (version) this one replies to.
    pub in_reply_to: Option<MessageId>,
    /// The `mimiExtensions` map.
    #[serde(rename = "mimiExtensions")]
    pub extensions: Extensions,
    /// The body.
    pub nested_part: NestedPart,
}

/// A message id: one hash-algorithm octet then 31 octets of hash output
/// (content-08 §"Message ID").
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId(pub [u8; MESSAGE_ID_LEN]);

impl MessageId {
    /// The raw 32 octets.
    pub fn as_bytes(&self) -> &[u8; MESSAGE_ID_LEN] {
        &self.0
    }

    /// The hash algorithm named by the first octet (0x01 = SHA-256).
    pub fn hash_algorithm(&self) -> HashAlgorithm {
        HashAlgorithm::from_code(self.0[0])
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({})", hex::encode(self.0))
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl Serialize for MessageId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

/// `Expiration = [relative: bool, time: uint .size 4]` (content-08 §"Expiration").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Expiration {
    /// `true`: seconds after the receiver reads it; `false`: absolute UNIX seconds.
    pub relative: bool,
    /// Seconds (relative) or UNIX time in seconds (absolute).
    pub time: u32,
}

/// A key of the `mimiExtensions` map: `int / tstr .size (1..255)` (content-08
/// §"Extensions"). Integer keys lie within ±(2^53-1).
///
/// Ordered as deterministic CBOR orders map keys: bytewise by encoding, so
/// non-negative integers come first, then negative integers, then text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExtensionKey {
    /// An integer key (positive: IANA registry; negative: private use).
    Int(i64),
    /// A text key (private use).
    Text(String),
}

impl ExtensionKey {
    /// Registry key 1: the sender URI.
    pub const SENDER_URI: ExtensionKey = ExtensionKey::Int(1);
    /// Registry key 2: the room URI.
    pub const ROOM_URI: ExtensionKey = ExtensionKey::Int(2);

    /// Deterministic CBOR encoding of the key.
    pub fn encoded(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            ExtensionKey::Int(i) => w.int(i128::from(*i)),
            ExtensionKey::Text(t) => w.text(t),
        }
        w.into_bytes()
    }
}

impl Ord for ExtensionKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.encoded().cmp(&other.encoded())
    }
}

impl PartialOrd for ExtensionKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for ExtensionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtensionKey::Int(i) => write!(f, "{i}"),
            ExtensionKey::Text(t) => write!(f, "{t:?}"),
        }
    }
}

impl Serialize for ExtensionKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ExtensionKey::Int(i) => s.serialize_i64(*i),
            ExtensionKey::Text(t) => s.serialize_str(t),
        }
    }
}

/// The `mimiExtensions` map (content-08 §"Extensions").
///
/// The two registered keys have typed fields; every other entry lives in
/// `other`, whose keys must not be 1 or 2 (encoding fails with
/// [`ContentError::DuplicateMapKey`](super::ContentError::DuplicateMapKey)
/// otherwise).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Extensions {
    /// Key 1, `senderUri` (tstr).
    pub sender_uri: Option<String>,
    /// Key 2, `roomUri` (tstr).
    pub room_uri: Option<String>,
    /// All other keys, in deterministic order, with arbitrary CBOR values
    /// (subject to the data-model and depth rules).
    pub other: BTreeMap<ExtensionKey, Value>,
}

impl Extensions {
    /// Number of entries in the map.
    pub fn len(&self) -> usize {
        usize::from(self.sender_uri.is_some())
            + usize::from(self.room_uri.is_some())
            + self.other.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Serialize for Extensions {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Extensions", 3)?;
        st.serialize_field("senderUri", &self.sender_uri)?;
        st.serialize_field("roomUri", &self.room_uri)?;
        let other: Vec<ExtEntry<'_>> = self
            .other
            .iter()
            .map(|(k, v)| ExtEntry { key: k, value: v })
            .collect();
        st.serialize_field("other", &other)?;
        st.end()
    }
}

#[derive(Serialize)]
struct ExtEntry<'a> {
    key: &'a ExtensionKey,
    #[serde(serialize_with = "ser_value")]
    value: &'a Value,
}

/// A body part: `NestedPart = [disposition, language, (cardinality-specific fields)]`
/// (content-08 §"Message Bodies").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NestedPart {
    /// Rendering hint.
    pub disposition: Disposition,
    /// Empty, or a comma-separated list of RFC 5646 language tags (not validated:
    /// unknown tags are not an error).
    pub language: String,
    /// The cardinality and its fields.
    #[serde(flatten)]
    pub body: PartBody,
}

/// The cardinality-specific part of a [`NestedPart`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "cardinality", rename_all = "camelCase")]
pub enum PartBody {
    /// Cardinality 0 (`nullpart`): no content (deletes, unlikes).
    #[serde(rename = "nullpart")]
    Null,
    /// Cardinality 1 (`single`): inline content.
    Single(SinglePart),
    /// Cardinality 2 (`external`): content fetched from a URL.
    External(ExternalPart),
    /// Cardinality 3 (`multi`): two or more nested parts.
    Multi(MultiPart),
}

impl PartBody {
    /// The cardinality code point of this body.
    pub fn cardinality(&self) -> Cardinality {
        match self {
            PartBody::Null => Cardinality::NullPart,
            PartBody::Single(_) => Cardinality::Single,
            PartBody::External(_) => Cardinality::External,
            PartBody::Multi(_) => Cardinality::Multi,
        }
    }
}

/// Part cardinality code points (content-08 CDDL `nullpart`..`multi`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Cardinality {
    /// 0
    NullPart = 0,
    /// 1
    Single = 1,
    /// 2
    External = 2,
    /// 3
    Multi = 3,
}

impl Cardinality {
    /// The code point.
    pub fn code(self) -> u64 {
        self as u64
    }

    /// From a code point, if defined.
    pub fn from_code(v: u64) -> Option<Self> {
        match v {
            0 => Some(Cardinality::NullPart),
            1 => Some(Cardinality::Single),
            2 => Some(Cardinality::External),
            3 => Some(Cardinality::Multi),
            _ => None,
        }
    }

    /// Array length of a NestedPart with this cardinality.
    pub fn array_len(self) -> u64 {
        match self {
            Cardinality::NullPart => 3,
            Cardinality::Single => 5,
            Cardinality::External => 15,
            Cardinality::Multi => 5,
        }
    }
}

/// `SinglePart = (cardinality: single, contentType: tstr, content: bstr)`.
///
/// Serializes `content` as hex and, when it is valid UTF-8, also as
/// `contentText` (a convenience for `mimi-ref decode`; not part of the format).
#[derive(Debug, Clone, PartialEq)]
pub struct SinglePart {
    /// Media type with parameters, e.g. `text/markdown;variant=GFM-MIMI`.
    pub content_type: String,
    /// The content octets.
    pub content: Vec<u8>,
}

impl Serialize for SinglePart {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = std::str::from_utf8(&self.content).ok();
        let mut st = s.serialize_struct("SinglePart", 3)?;
        st.serialize_field("contentType", &self.content_type)?;
        st.serialize_field("content", &hex::encode(&self.content))?;
        if let Some(t) = text {
            st.serialize_field("contentText", t)?;
        } else {
            st.skip_field("contentText")?;
        }
        st.end()
    }
}

/// `ExternalPart` (content-08 §"External Content").
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalPart {
    /// Media type of the fetched content (may be empty).
    pub content_type: String,
    /// Where to fetch it.
    pub url: String,
    /// Expiry of the URL, UNIX seconds; 0 = none (`uint .size 4`).
    pub expires: u32,
    /// Size in octets; 0 = unknown (`uint .size 8`).
    pub size: u64,
    /// AEAD algorithm (`uint .size 2`); 0 = not encrypted.
    pub enc_alg: EncryptionAlgorithm,
    /// AEAD key.
    #[serde(serialize_with = "ser_hex")]
    pub key: Vec<u8>,
    /// AEAD nonce.
    #[serde(serialize_with = "ser_hex")]
    pub nonce: Vec<u8>,
    /// AEAD additional data.
    #[serde(serialize_with = "ser_hex")]
    pub aad: Vec<u8>,
    /// Hash algorithm of `content_hash` (`uint .size 1`).
    pub hash_alg: HashAlgorithm,
    /// Hash of the content at the URL.
    #[serde(serialize_with = "ser_hex")]
    pub content_hash: Vec<u8>,
    /// Optional description (empty for none).
    pub description: String,
    /// Optional suggested file name (empty for none).
    pub filename: String,
}

/// `MultiPart = (cardinality: multi, partSemantics, parts: [2* NestedPart])`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MultiPart {
    /// How the parts relate.
    pub part_semantics: PartSemantics,
    /// Two or more parts.
    pub parts: Vec<NestedPart>,
}

/// Multipart semantics (content-08 §"Message Bodies").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PartSemantics {
    /// 0: receiver picks exactly one part (sender order is a preference).
    ChooseOne = 0,
    /// 1: all parts form one unit; process all or none.
    SingleUnit = 1,
    /// 2: process as many parts as possible.
    ProcessAll = 2,
}

impl PartSemantics {
    /// The code point.
    pub fn code(self) -> u64 {
        self as u64
    }

    /// From a code point, if defined.
    pub fn from_code(v: u64) -> Option<Self> {
        match v {
            0 => Some(PartSemantics::ChooseOne),
            1 => Some(PartSemantics::SingleUnit),
            2 => Some(PartSemantics::ProcessAll),
            _ => None,
        }
    }
}

macro_rules! code_point_enum {
    (
        $(#[$meta:meta])*
        $name:ident : $repr:ty, other = $other_doc:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal => $label:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            #[doc = $other_doc]
            Other($repr),
        }

        impl $name {
            /// From a code point; codes without a named variant become `Other`.
            pub fn from_code(v: $repr) -> Self {
                match v {
                    $( $code => $name::$variant, )*
                    other => $name::Other(other),
                }
            }

            /// The code point.
            pub fn code(self) -> $repr {
                match self {
                    $( $name::$variant => $code, )*
                    $name::Other(v) => v,
                }
            }

            /// The registry name, or `None` for `Other`.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $( $name::$variant => Some($label), )*
                    $name::Other(_) => None,
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("code", &self.code())?;
                m.serialize_entry("name", &self.name())?;
                m.end()
            }
        }
    };
}

code_point_enum! {
    /// Content disposition (content-08 §"Disposition", "MIMI Content Disposition"
    /// registry). Codes 9..=255 are `Other`, treated as `render` on receipt.
    Disposition: u8, other = "Any other (unknown) disposition 9..=255." {
        /// 0
        Unspecified = 0 => "unspecified",
        /// 1
        Render = 1 => "render",
        /// 2
        Reaction = 2 => "reaction",
        /// 3
        Profile = 3 => "profile",
        /// 4
        Inline = 4 => "inline",
        /// 5
        Icon = 5 => "icon",
        /// 6
        Attachment = 6 => "attachment",
        /// 7
        Session = 7 => "session",
        /// 8
        Preview = 8 => "preview",
    }
}

impl Disposition {
    /// How a receiver should treat this disposition: unknown ones as `Render`.
    pub fn effective(self) -> Disposition {
        match self {
            Disposition::Other(_) => Disposition::Render,
            d => d,
        }
    }
}

code_point_enum! {
    /// AEAD algorithm of an external part (IANA "AEAD Algorithms" registry,
    /// RFC 5116; content-08 uses 0 for "not encrypted").
    EncryptionAlgorithm: u16, other = "Any other AEAD registry code point." {
        /// 0: not encrypted (content-08).
        None = 0 => "none",
        /// 1: AEAD_AES_128_GCM (mandatory to implement, content-08).
        Aes128Gcm = 1 => "AEAD_AES_128_GCM",
        /// 2: AEAD_AES_256_GCM.
        Aes256Gcm = 2 => "AEAD_AES_256_GCM",
        /// 3: AEAD_AES_128_CCM.
        Aes128Ccm = 3 => "AEAD_AES_128_CCM",
        /// 4: AEAD_AES_256_CCM.
        Aes256Ccm = 4 => "AEAD_AES_256_CCM",
        /// 29: AEAD_CHACHA20_POLY1305.
        ChaCha20Poly1305 = 29 => "AEAD_CHACHA20_POLY1305",
        /// 30: AEAD_AES_128_GCM_SIV.
        Aes128GcmSiv = 30 => "AEAD_AES_128_GCM_SIV",
        /// 31: AEAD_AES_256_GCM_SIV.
        Aes256GcmSiv = 31 => "AEAD_AES_256_GCM_SIV",
    }
}

code_point_enum! {
    /// Hash algorithm (IANA "Named Information Hash Algorithm" registry, RFC 6920),
    /// used for external-part content hashes and as the first octet of a message id.
    /// Code 0 is reserved there; content-08's conferencing example uses it to mean
    /// "no hash" (see `spec/deviations.md`).
    HashAlgorithm: u8, other = "Any other registry code point." {
        /// 0: reserved; "no hash" in the conferencing example.
        None = 0 => "none",
        /// 1: sha-256 (the message-id algorithm).
        Sha256 = 1 => "sha-256",
        /// 2: sha-256-128.
        Sha256_128 = 2 => "sha-256-128",
        /// 3: sha-256-120.
        Sha256_120 = 3 => "sha-256-120",
        /// 4: sha-256-96.
        Sha256_96 = 4 => "sha-256-96",
        /// 5: sha-256-64.
        Sha256_64 = 5 => "sha-256-64",
        /// 6: sha-256-32.
        Sha256_32 = 6 => "sha-256-32",
        /// 7: sha-384.
        Sha384 = 7 => "sha-384",
        /// 8: sha-512.
        Sha512 = 8 => "sha-512",
        /// 9: sha3-224.
        Sha3_224 = 9 => "sha3-224",
        /// 10: sha3-256.
        Sha3_256 = 10 => "sha3-256",
        /// 11: sha3-384.
        Sha3_384 = 11 => "sha3-384",
        /// 12: sha3-512.
        Sha3_512 = 12 => "sha3-512",
    }
}

/// Serializes bytes as lower-case hex.
pub(crate) fn ser_hex<S: Serializer, B: AsRef<[u8]>>(b: &B, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(b.as_ref()))
}

/// Serializes an arbitrary CBOR value as JSON-friendly data: integers as
/// numbers, byte strings as `{"bstr": hex}`, tags as `{"tag": n, "value": v}`,
/// maps as a list of `[key, value]` pairs, non-finite floats as strings.
pub(crate) fn ser_value<S: Serializer>(v: &&Value, s: S) -> Result<S::Ok, S::Error> {
    JsonValueRef(v).serialize(s)
}

pub(crate) struct JsonValueRef<'a>(pub(crate) &'a Value);

impl Serialize for JsonValueRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Integer(i) => {
                let v = i128::from(*i);
                if let Ok(x) = i64::try_from(v) {
                    s.serialize_i64(x)
                } else if let Ok(x) = u64::try_from(v) {
                    s.serialize_u64(x)
                } else {
                    s.serialize_str(&v.to_string())
                }
            }
            Value::Bytes(b) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("bstr", &hex::encode(b))?;
                m.end()
            }
            Value::Float(f) => {
                if f.is_finite() {
                    s.serialize_f64(*f)
                } else {
                    s.serialize_str(&f.to_string())
                }
            }
            Value::Text(t) => s.serialize_str(t),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Null => s.serialize_unit(),
            Value::Tag(t, inner) => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("tag", t)?;
                m.serialize_entry("value", &JsonValueRef(inner))?;
                m.end()
            }
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(&JsonValueRef(i))?;
                }
                seq.end()
            }
            Value::Map(entries) => {
                let mut seq = s.serialize_seq(Some(entries.len()))?;
                for (k, v) in entries {
                    seq.serialize_element(&(JsonValueRef(k), JsonValueRef(v)))?;
                }
                seq.end()
            }
            #[allow(unreachable_patterns)]
            _ => s.serialize_unit(),
        }
    }
}
