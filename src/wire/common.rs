//! Codec infrastructure shared by every wire struct: the error type, the offset-tracking
//! [`Reader`], the [`WireDecode`] trait, primitive TLS-PL types (`opaque<V>`, `string`,
//! `optional<T>`, vectors) and the [`Protocol`] enum (protocol-06 §5).

use std::borrow::Cow;
use std::io::Read;

use serde::Serialize;
use tls_codec::{
    Deserialize as TlsDeserializeTrait, Serialize as TlsSerializeTrait, Size, VLBytes,
};

/// Largest length an MLS variable-length vector may carry (RFC 9420 §2.1.2): 2^30 − 1.
pub const MAX_VL_LEN: usize = (1 << 30) - 1;

/// What went wrong while decoding (see [`WireError`] for where).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireErrorKind {
    /// The input ended before the field was complete.
    #[error("input ends: needed {needed} more bytes, {remaining} remain")]
    Truncated {
        /// Bytes the field still needed.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A `<V>` length prefix announces more bytes than the enclosing input holds.
    #[error("length {len} exceeds remaining {remaining} bytes")]
    LengthExceedsRemaining {
        /// The announced length.
        len: usize,
        /// Bytes actually left in the enclosing input or vector.
        remaining: usize,
    },
    /// A `<V>` length prefix uses the 8-byte form, i.e. a length above 2^30 − 1.
    #[error(
        "length prefix uses the 8-byte varint form (length above 2^30-1 is not allowed in MLS)"
    )]
    LengthTooLarge,
    /// A `<V>` length prefix is not in its shortest form (RFC 9420 §2.1.2).
    #[error("non-minimal varint: value {value} encoded in {encoded_len} bytes")]
    NonMinimalVarint {
        /// The decoded value.
        value: u64,
        /// How many bytes were used.
        encoded_len: usize,
    },
    /// An enum value that the draft does not define.
    #[error("unknown {enum_name} value {value}")]
    UnknownValue {
        /// The TLS-PL enum name.
        enum_name: &'static str,
        /// The value found.
        value: u64,
    },
    /// A defined enum value for which the enclosing `select` has no case.
    #[error("{enum_name} value {value} has no case in this select")]
    NoSelectCase {
        /// The TLS-PL enum name.
        enum_name: &'static str,
        /// The value found.
        value: u64,
    },
    /// The presence byte of an `optional<T>` is neither 0 nor 1.
    #[error("optional presence flag {0} is not 0 or 1")]
    BadOptionalFlag(u8),
    /// A `string` / `UTF8String` is not valid UTF-8.
    #[error("not valid UTF-8")]
    InvalidUtf8,
    /// A `UTF8String` contains a NUL character (protocol-06 §7.6).
    #[error("UTF8String contains a NUL character")]
    NulInString,
    /// A vector element runs past the end of its vector.
    #[error("element overruns its vector by {0} bytes")]
    ElementOverrunsVector(usize),
    /// The whole-input decode left bytes unread.
    #[error("{0} trailing bytes after the value")]
    TrailingBytes(usize),
    /// An embedded MLS object was rejected by openmls's own deserializer.
    #[error("invalid MLS {mls_type}: {reason}")]
    Mls {
        /// The MLS structure name.
        mls_type: &'static str,
        /// openmls's reason.
        reason: String,
    },
    /// The input ends inside an embedded MLS object.
    #[error("input ends inside an MLS {mls_type}")]
    MlsTruncated {
        /// The MLS structure name.
        mls_type: &'static str,
    },
    /// An embedded MLS message has a wire format or content type this field does not allow.
    #[error("MLS message not allowed here: {0}")]
    MlsMessageNotAllowed(String),
    /// A list that must be sorted by component id with unique entries is not.
    #[error("component ids not strictly increasing: {previous:#06x} then {next:#06x}")]
    ComponentOrder {
        /// The earlier id.
        previous: u16,
        /// The later, not greater id.
        next: u16,
    },
    /// A list of MLSMessages decoded to zero bytes per element (cannot happen with valid MLS).
    #[error("vector element consumed no bytes")]
    EmptyElement,
    /// The underlying reader failed.
    #[error("I/O error: {0}")]
    Io(String),
    /// Re-encoding a decoded value failed (registry round trip).
    #[error("encoding failed: {0}")]
    Encode(String),
    /// Rendering a decoded value as JSON failed.
    #[error("JSON rendering failed: {0}")]
    Json(String),
}

/// A decoding error: which struct and field, at which byte offset, and what went wrong.
///
/// Displays as `UpdateRoomResponse.errorDescription at byte 1: length 70000 exceeds remaining 12 bytes`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} at byte {offset}: {kind}", self.path())]
pub struct WireError {
    /// Path segments, innermost first (`.field`, `[index]`, root struct name last).
    rpath: Vec<Cow<'static, str>>,
    /// Absolute byte offset (from the start of the input) of the field where decoding failed.
    pub offset: usize,
    /// What went wrong.
    pub kind: WireErrorKind,
}

impl WireError {
    /// A new error at `offset` with an empty path.
    pub fn new(offset: usize, kind: WireErrorKind) -> Self {
        Self {
            rpath: Vec::new(),
            offset,
            kind,
        }
    }

    /// The path, e.g. `KeyMaterialResponse.clients[1].keyPackage`.
    pub fn path(&self) -> String {
        let mut s = String::new();
        for seg in self.rpath.iter().rev() {
            s.push_str(seg);
        }
        if s.is_empty() {
            s.push_str("<input>");
        }
        s
    }

    /// Prepends a field segment (`.name`).
    pub fn field(mut self, name: &'static str) -> Self {
        self.rpath.push(Cow::Owned(format!(".{name}")));
        self
    }

    /// Prepends a vector index segment (`[i]`).
    pub fn index(mut self, i: usize) -> Self {
        self.rpath.push(Cow::Owned(format!("[{i}]")));
        self
    }

    /// Prepends the root struct name.
    pub fn root(mut self, name: &'static str) -> Self {
        self.rpath.push(Cow::Borrowed(name));
        self
    }
}

impl From<WireError> for tls_codec::Error {
    fn from(e: WireError) -> Self {
        match e.kind {
            WireErrorKind::Truncated { .. } | WireErrorKind::MlsTruncated { .. } => {
                tls_codec::Error::EndOfStream
            }
            WireErrorKind::UnknownValue { value, .. } => tls_codec::Error::UnknownValue(value),
            WireErrorKind::LengthTooLarge => tls_codec::Error::InvalidVectorLength,
            WireErrorKind::TrailingBytes(_) => tls_codec::Error::TrailingData,
            _ => tls_codec::Error::DecodingError(e.to_string()),
        }
    }
}

/// A byte source with an absolute position, a stack of vector bounds, and (for slices) a
/// known end. Streams (`std::io::Read`) are pulled on demand and buffered, so the same
/// decoder serves the registry (slices, exact offsets) and `tls_codec::Deserialize`.
pub struct Reader<'a> {
    buf: Vec<u8>,
    slice: Option<&'a [u8]>,
    src: Option<&'a mut dyn Read>,
    pos: usize,
    bounds: Vec<usize>,
}

impl<'a> Reader<'a> {
    /// A reader over a complete input.
    pub fn from_slice(data: &'a [u8]) -> Self {
        Self {
            buf: Vec::new(),
            slice: Some(data),
            src: None,
            pos: 0,
            bounds: Vec::new(),
        }
    }

    /// A reader pulling from a stream.
    pub fn from_stream(src: &'a mut dyn Read) -> Self {
        Self {
            buf: Vec::new(),
            slice: None,
            src: Some(src),
            pos: 0,
            bounds: Vec::new(),
        }
    }

    /// Current absolute position.
    pub fn pos(&self) -> usize {
        self.pos
    }

    fn data(&self) -> &[u8] {
        match self.slice {
            Some(s) => s,
            None => &self.buf,
        }
    }

    /// Bytes left before the innermost bound, if known (always for slices).
    pub fn remaining(&self) -> Option<usize> {
        let bound = self.bounds.last().copied();
        match (self.slice, bound) {
            (Some(s), Some(b)) => Some(b.min(s.len()).saturating_sub(self.pos)),
            (Some(s), None) => Some(s.len().saturating_sub(self.pos)),
            (None, Some(b)) => Some(b.saturating_sub(self.pos)),
            (None, None) => None,
        }
    }

    /// True when nothing is left before the innermost bound (streams: only inside a bound).
    pub fn at_end(&self) -> bool {
        self.remaining() == Some(0)
    }

    /// True when at least one more byte can be read: before the innermost bound / end of a
    /// slice, or (streams without a bound) when the source yields another byte.
    pub fn has_more(&mut self) -> bool {
        match self.remaining() {
            Some(n) => n > 0,
            None => self.fill(self.pos + 1).is_ok() && self.buf.len() > self.pos,
        }
    }

    fn fill(&mut self, upto: usize) -> Result<(), WireError> {
        if self.slice.is_some() || upto <= self.buf.len() {
            return Ok(());
        }
        let need = upto - self.buf.len();
        let start = self.pos;
        if let Some(src) = self.src.as_mut() {
            let got = src
                .take(need as u64)
                .read_to_end(&mut self.buf)
                .map_err(|e| WireError::new(start, WireErrorKind::Io(e.to_string())))?;
            if got < need {
                return Err(WireError::new(
                    start,
                    WireErrorKind::Truncated {
                        needed: upto - start,
                        remaining: self.buf.len() - start,
                    },
                ));
            }
        }
        Ok(())
    }

    /// Takes exactly `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&[u8], WireError> {
        let start = self.pos;
        if let Some(rem) = self.remaining() {
            if n > rem {
                return Err(WireError::new(
                    start,
                    WireErrorKind::Truncated {
                        needed: n,
                        remaining: rem,
                    },
                ));
            }
        }
        let end = start
            .checked_add(n)
            .ok_or_else(|| WireError::new(start, WireErrorKind::LengthTooLarge))?;
        self.fill(end)?;
        self.pos = end;
        Ok(&self.data()[start..end])
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    /// Reads an MLS varint length prefix (RFC 9420 §2.1.2), checking minimality and the cap,
    /// and that the announced length fits what is left (when known).
    pub fn vl_len(&mut self) -> Result<usize, WireError> {
        let start = self.pos;
        let first = self.u8()?;
        let prefix = first >> 6;
        let (len_len, value) = match prefix {
            0 => (1usize, u64::from(first & 0x3f)),
            1 => {
                let b = self.take(1).map_err(|e| WireError::new(start, e.kind))?[0];
                (2, (u64::from(first & 0x3f) << 8) | u64::from(b))
            }
            2 => {
                let b = self.take(3).map_err(|e| WireError::new(start, e.kind))?;
                let v = (u64::from(first & 0x3f) << 24)
                    | (u64::from(b[0]) << 16)
                    | (u64::from(b[1]) << 8)
                    | u64::from(b[2]);
                (4, v)
            }
            _ => return Err(WireError::new(start, WireErrorKind::LengthTooLarge)),
        };
        let minimal = match len_len {
            1 => true,
            2 => value >= 0x40,
            _ => value >= 0x4000,
        };
        if !minimal {
            return Err(WireError::new(
                start,
                WireErrorKind::NonMinimalVarint {
                    value,
                    encoded_len: len_len,
                },
            ));
        }
        // value < 2^30 here, fits usize on every supported platform.
        let len = value as usize;
        if let Some(rem) = self.remaining() {
            if len > rem {
                return Err(WireError::new(
                    start,
                    WireErrorKind::LengthExceedsRemaining {
                        len,
                        remaining: rem,
                    },
                ));
            }
        }
        Ok(len)
    }

    /// Decodes an embedded object with a foreign `tls_codec` deserializer (openmls), returning
    /// it with the exact bytes it consumed.
    pub fn foreign<T: TlsDeserializeTrait>(
        &mut self,
        mls_type: &'static str,
    ) -> Result<(T, Vec<u8>), WireError> {
        let start = self.pos;
        let limit = self.remaining();
        let map = |e: tls_codec::Error| {
            let kind = match e {
                tls_codec::Error::EndOfStream => WireErrorKind::MlsTruncated { mls_type },
                other => WireErrorKind::Mls {
                    mls_type,
                    reason: format!("{other:?}"),
                },
            };
            WireError::new(start, kind)
        };
        if let Some(s) = self.slice {
            let end = start + limit.unwrap_or(0);
            let mut window = &s[start..end];
            let before = window.len();
            let v = T::tls_deserialize(&mut window).map_err(map)?;
            let used = before - window.len();
            self.pos = start + used;
            return Ok((v, s[start..start + used].to_vec()));
        }
        // Stream: what is buffered past pos first, then the source, recording what is read.
        let buffered = self.buf[start..].to_vec();
        let mut extra = Vec::new();
        let (v, used_from_buf) = {
            let src = self
                .src
                .as_mut()
                .ok_or_else(|| WireError::new(start, WireErrorKind::Io("no source".into())))?;
            let mut tee = Tee {
                src: &mut **src,
                log: &mut extra,
            };
            let cap = limit.map(|l| l as u64).unwrap_or(u64::MAX);
            let mut window = (&buffered[..]).chain(&mut tee).take(cap);
            let v = T::tls_deserialize(&mut window).map_err(map)?;
            let (rest, _) = window.into_inner().into_inner();
            (v, buffered.len() - rest.len())
        };
        self.buf.extend_from_slice(&extra);
        let used = used_from_buf + extra.len();
        self.pos = start + used;
        Ok((v, self.buf[start..start + used].to_vec()))
    }

    /// Runs `f` inside a vector bound of `len` bytes starting here, decoding elements until
    /// the bound is reached.
    pub fn vector<T>(
        &mut self,
        len: usize,
        mut f: impl FnMut(&mut Reader<'a>) -> Result<T, WireError>,
    ) -> Result<Vec<T>, WireError> {
        let end = self.pos + len;
        self.bounds.push(end);
        let mut out = Vec::new();
        let res = (|| {
            while self.pos < end {
                let before = self.pos;
                let i = out.len();
                let v = f(self).map_err(|e| e.index(i))?;
                if self.pos == before {
                    return Err(WireError::new(before, WireErrorKind::EmptyElement).index(i));
                }
                out.push(v);
            }
            Ok(())
        })();
        self.bounds.pop();
        res?;
        if self.pos > end {
            return Err(WireError::new(
                end,
                WireErrorKind::ElementOverrunsVector(self.pos - end),
            ));
        }
        Ok(out)
    }
}

struct Tee<'s, 'l> {
    src: &'s mut dyn Read,
    log: &'l mut Vec<u8>,
}

impl Read for Tee<'_, '_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.src.read(out)?;
        self.log.extend_from_slice(&out[..n]);
        Ok(n)
    }
}

/// Field-by-field decoding with offsets. Every wire type implements it; the registry and
/// [`decode_exact`] use it.
pub trait WireDecode: Sized {
    /// The TLS-PL name used in error paths.
    const NAME: &'static str;
    /// Decodes one value at the reader's position.
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError>;
}

/// Decodes exactly one `T` from `bytes`; trailing bytes are an error.
pub fn decode_exact<T: WireDecode>(bytes: &[u8]) -> Result<T, WireError> {
    let mut r = Reader::from_slice(bytes);
    let v = T::decode(&mut r).map_err(|e| e.root(T::NAME))?;
    if r.pos() != bytes.len() {
        return Err(
            WireError::new(r.pos(), WireErrorKind::TrailingBytes(bytes.len() - r.pos()))
                .root(T::NAME),
        );
    }
    Ok(v)
}

/// Decodes a `T` from a stream via [`WireDecode`]; the bridge behind the hand-written
/// `tls_codec::Deserialize` impls.
pub fn decode_stream<T: WireDecode, R: Read>(src: &mut R) -> Result<T, tls_codec::Error> {
    let mut r = Reader::from_stream(src);
    T::decode(&mut r).map_err(|e| e.root(T::NAME).into())
}

/// Encodes any `tls_codec` value to bytes.
pub fn encode<T: TlsSerializeTrait>(v: &T) -> Result<Vec<u8>, tls_codec::Error> {
    v.tls_serialize_detached()
}

macro_rules! prim_decode {
    ($($t:ty => $n:literal),*) => {$(
        impl WireDecode for $t {
            const NAME: &'static str = $n;
            fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
                let b = r.take(std::mem::size_of::<$t>())?;
                let mut a = [0u8; std::mem::size_of::<$t>()];
                a.copy_from_slice(b);
                Ok(<$t>::from_be_bytes(a))
            }
        }
    )*};
}
prim_decode!(u8 => "uint8", u16 => "uint16", u32 => "uint32", u64 => "uint64");

// RFC 9420 §2.1.1 optional<T>
impl<T: WireDecode> WireDecode for Option<T> {
    const NAME: &'static str = "optional";
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let at = r.pos();
        match r.u8()? {
            0 => Ok(None),
            1 => Ok(Some(T::decode(r)?)),
            b => Err(WireError::new(at, WireErrorKind::BadOptionalFlag(b))),
        }
    }
}

// RFC 9420 §2.1.2 T list<V>
impl<T: WireDecode> WireDecode for Vec<T> {
    const NAME: &'static str = "vector";
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let len = r.vl_len()?;
        r.vector(len, T::decode)
    }
}

/// Implements `tls_codec::{Serialize, Size, Deserialize}` for a type with hand-written
/// `WireDecode` and an inherent `fn write(&self, out: &mut Vec<u8>) -> Result<(), tls_codec::Error>`.
macro_rules! tls_via_wire {
    ($t:ty) => {
        impl tls_codec::Size for $t {
            fn tls_serialized_len(&self) -> usize {
                let mut v = Vec::new();
                match self.write(&mut v) {
                    Ok(()) => v.len(),
                    Err(_) => 0,
                }
            }
        }
        impl tls_codec::Serialize for $t {
            fn tls_serialize<W: std::io::Write>(
                &self,
                writer: &mut W,
            ) -> Result<usize, tls_codec::Error> {
                let mut v = Vec::new();
                self.write(&mut v)?;
                writer
                    .write_all(&v)
                    .map_err(|e| tls_codec::Error::EncodingError(e.to_string()))?;
                Ok(v.len())
            }
        }
        impl tls_codec::Deserialize for $t {
            fn tls_deserialize<R: std::io::Read>(bytes: &mut R) -> Result<Self, tls_codec::Error> {
                $crate::wire::common::decode_stream::<Self, R>(bytes)
            }
        }
    };
}
pub(crate) use tls_via_wire;

/// Appends the TLS encoding of `v` to `out`.
pub(crate) fn put<T: TlsSerializeTrait>(out: &mut Vec<u8>, v: &T) -> Result<(), tls_codec::Error> {
    v.tls_serialize(out).map(|_| ())
}

/// Declares a plain TLS-PL struct: derives the tls_codec traits, serde (with the draft's
/// field names), and a field-by-field [`WireDecode`].
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident = $wname:literal {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty => $wfield:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, PartialEq, Eq, serde::Serialize,
            tls_codec::TlsSerialize, tls_codec::TlsDeserialize, tls_codec::TlsSize,
        )]
        pub struct $name {
            $( $(#[$fmeta])* #[serde(rename = $wfield)] pub $field: $ty, )*
        }
        impl $crate::wire::common::WireDecode for $name {
            const NAME: &'static str = $wname;
            #[allow(unused_variables)]
            fn decode(r: &mut $crate::wire::common::Reader<'_>) -> Result<Self, $crate::wire::common::WireError> {
                Ok(Self {
                    $( $field: <$ty as $crate::wire::common::WireDecode>::decode(r).map_err(|e| e.field($wfield))?, )*
                })
            }
        }
    };
}
pub(crate) use wire_struct;

/// Declares a TLS-PL enum: `#[repr]` with the draft's code points, tls_codec derives,
/// serde as the draft's names, and a [`WireDecode`] that reports unknown values.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident : $repr:ident = $wname:literal {
            $( $(#[$vmeta:meta])* $var:ident = $val:literal => $wvar:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize,
            tls_codec::TlsSerialize, tls_codec::TlsDeserialize, tls_codec::TlsSize,
        )]
        #[repr($repr)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wvar)] $var = $val, )*
        }
        impl $name {
            /// Every defined value, in code-point order.
            pub const ALL: &'static [$name] = &[$($name::$var),*];
            /// The code point.
            pub fn code(self) -> $repr {
                self as $repr
            }
            /// The draft's name for this value.
            pub fn wire_name(self) -> &'static str {
                match self { $( $name::$var => $wvar, )* }
            }
            /// Maps a code point to a value.
            pub fn from_code(v: $repr) -> Option<Self> {
                match v { $( $val => Some($name::$var), )* _ => None }
            }
        }
        impl $crate::wire::common::WireDecode for $name {
            const NAME: &'static str = $wname;
            fn decode(r: &mut $crate::wire::common::Reader<'_>) -> Result<Self, $crate::wire::common::WireError> {
                let at = r.pos();
                let v = <$repr as $crate::wire::common::WireDecode>::decode(r)?;
                Self::from_code(v).ok_or_else(|| $crate::wire::common::WireError::new(
                    at,
                    $crate::wire::common::WireErrorKind::UnknownValue { enum_name: $wname, value: u64::from(v) },
                ))
            }
        }
    };
}
pub(crate) use wire_enum;

// ---------------------------------------------------------------------------
// opaque<V>, string, UTF8String

/// `opaque data<V>`: bytes with an MLS varint length prefix (RFC 9420 §2.1.2).
/// Serializes to JSON as lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Opaque(pub VLBytes);

impl Default for Opaque {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl Opaque {
    /// Wraps bytes.
    pub fn new(v: impl Into<Vec<u8>>) -> Self {
        Self(VLBytes::new(v.into()))
    }
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        self.0.as_slice()
    }
    /// Length in bytes (without prefix).
    pub fn len(&self) -> usize {
        self.0.as_slice().len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<Vec<u8>> for Opaque {
    fn from(v: Vec<u8>) -> Self {
        Self::new(v)
    }
}

impl Size for Opaque {
    fn tls_serialized_len(&self) -> usize {
        self.0.tls_serialized_len()
    }
}
impl TlsSerializeTrait for Opaque {
    fn tls_serialize<W: std::io::Write>(&self, w: &mut W) -> Result<usize, tls_codec::Error> {
        if self.len() > MAX_VL_LEN {
            return Err(tls_codec::Error::InvalidVectorLength);
        }
        self.0.tls_serialize(w)
    }
}
impl TlsDeserializeTrait for Opaque {
    fn tls_deserialize<R: Read>(bytes: &mut R) -> Result<Self, tls_codec::Error> {
        decode_stream(bytes)
    }
}
impl WireDecode for Opaque {
    const NAME: &'static str = "opaque";
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let len = r.vl_len()?;
        Ok(Self::new(r.take(len)?.to_vec()))
    }
}
impl Serialize for Opaque {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.as_slice()))
    }
}

macro_rules! text_type {
    ($(#[$meta:meta])* $name:ident, $wname:literal, $nul_ok:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps a string.
            pub fn new(s: impl Into<String>) -> Result<Self, WireErrorKind> {
                let s = s.into();
                if !$nul_ok && s.contains('\0') {
                    return Err(WireErrorKind::NulInString);
                }
                Ok(Self(s))
            }
            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl Size for $name {
            fn tls_serialized_len(&self) -> usize {
                Opaque::new(self.0.as_bytes().to_vec()).tls_serialized_len()
            }
        }
        impl TlsSerializeTrait for $name {
            fn tls_serialize<W: std::io::Write>(&self, w: &mut W) -> Result<usize, tls_codec::Error> {
                Opaque::new(self.0.as_bytes().to_vec()).tls_serialize(w)
            }
        }
        impl TlsDeserializeTrait for $name {
            fn tls_deserialize<R: Read>(bytes: &mut R) -> Result<Self, tls_codec::Error> {
                decode_stream(bytes)
            }
        }
        impl WireDecode for $name {
            const NAME: &'static str = $wname;
            fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
                let at = r.pos();
                let len = r.vl_len()?;
                let b = r.take(len)?.to_vec();
                let s = String::from_utf8(b).map_err(|_| WireError::new(at, WireErrorKind::InvalidUtf8))?;
                Self::new(s).map_err(|k| WireError::new(at, k))
            }
        }
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
    };
}

text_type!(
    /// The draft's undefined `string` type, read as UTF-8 `opaque<V>` validated on decode
    /// (see `spec/deviations.md`).
    WireString,
    "string",
    true
);
text_type!(
    /// `UTF8String` of protocol-06 §7.6: `opaque string<V>` holding UTF-8 without NUL.
    Utf8String,
    "UTF8String",
    false
);

impl From<&str> for WireString {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// 32 fixed bytes (`uint8 x[32]` / `opaque x[32]`), hex in JSON.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    tls_codec::TlsSerialize,
    tls_codec::TlsDeserialize,
    tls_codec::TlsSize,
)]
pub struct Bytes32(pub [u8; 32]);

impl WireDecode for Bytes32 {
    const NAME: &'static str = "opaque[32]";
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let mut a = [0u8; 32];
        a.copy_from_slice(r.take(32)?);
        Ok(Self(a))
    }
}
impl Serialize for Bytes32 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

// ---------------------------------------------------------------------------
// protocol-06 §5

wire_enum! {
    /// `Protocol` (protocol-06 §5). `reserved(0)` is a code point but never a valid
    /// protocol: every `select (protocol)` has only an `mls10` case, so decoding a 0 is
    /// an unknown-value error and the mls10 arm is always present.
    pub enum Protocol: u8 = "Protocol" {
        /// `mls10(1)`.
        Mls10 = 1 => "mls10",
    }
}

/// `Protocol.reserved(0)`.
pub const PROTOCOL_RESERVED: u8 = 0;

/// `IdentifierUri` (protocol-06 §5.2): `struct { opaque uri<V>; }`. Also used for the
/// draft's `IdentifierURI` spelling and its undefined `RoomId` (see `spec/deviations.md`).
/// JSON shows it as the URI string.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    Default,
    Serialize,
    tls_codec::TlsSerialize,
    tls_codec::TlsDeserialize,
    tls_codec::TlsSize,
)]
#[serde(transparent)]
pub struct IdentifierUri {
    /// `opaque uri<V>` (normally a `mimi://` URI).
    pub uri: UriBytes,
}

impl WireDecode for IdentifierUri {
    const NAME: &'static str = "IdentifierUri";
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(Self {
            uri: UriBytes::decode(r).map_err(|e| e.field("uri"))?,
        })
    }
}

impl IdentifierUri {
    /// From a string.
    pub fn new(s: &str) -> Self {
        Self {
            uri: UriBytes(Opaque::new(s.as_bytes().to_vec())),
        }
    }
}

/// URI bytes: `opaque<V>` shown in JSON as a string when valid UTF-8, else `{"hex": ..}`.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    Default,
    tls_codec::TlsSerialize,
    tls_codec::TlsDeserialize,
    tls_codec::TlsSize,
)]
pub struct UriBytes(pub Opaque);

impl UriBytes {
    /// The URI as text, if UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.0.as_slice()).ok()
    }
}

impl WireDecode for UriBytes {
    const NAME: &'static str = "opaque";
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(Self(Opaque::decode(r)?))
    }
}
impl Serialize for UriBytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.as_str() {
            Some(t) => s.serialize_str(t),
            None => {
                use serde::ser::SerializeMap;
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("hex", &hex::encode(self.0.as_slice()))?;
                m.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_and_stream_readers_agree() {
        // opaque<V> "abc" then uint16 7.
        let bytes = [0x03, b'a', b'b', b'c', 0x00, 0x07];
        let mut r = Reader::from_slice(&bytes);
        assert_eq!(Opaque::decode(&mut r).unwrap().as_slice(), b"abc");
        assert_eq!(u16::decode(&mut r).unwrap(), 7);
        assert!(!r.has_more());

        let mut src = &bytes[..];
        let mut s = Reader::from_stream(&mut src);
        assert_eq!(s.remaining(), None);
        assert_eq!(Opaque::decode(&mut s).unwrap().as_slice(), b"abc");
        assert!(s.has_more());
        assert_eq!(u16::decode(&mut s).unwrap(), 7);
        assert!(!s.has_more());
        assert_eq!(s.pos(), 6);
    }

    #[test]
    fn stream_truncation_is_a_typed_error() {
        let bytes = [0x05, b'a'];
        let mut src = &bytes[..];
        let mut s = Reader::from_stream(&mut src);
        let e = Opaque::decode(&mut s).unwrap_err();
        assert_eq!(
            e.kind,
            WireErrorKind::Truncated {
                needed: 5,
                remaining: 1
            }
        );
        assert_eq!(e.offset, 1);
    }

    #[test]
    fn error_paths_compose_outermost_first() {
        let e = WireError::new(4, WireErrorKind::InvalidUtf8)
            .field("name")
            .index(2)
            .field("fields")
            .root("UserProfile");
        assert_eq!(e.path(), "UserProfile.fields[2].name");
        assert_eq!(
            e.to_string(),
            "UserProfile.fields[2].name at byte 4: not valid UTF-8"
        );
        let t: tls_codec::Error = WireError::new(0, WireErrorKind::TrailingBytes(1)).into();
        assert_eq!(t, tls_codec::Error::TrailingData);
    }

    #[test]
    fn optional_flags() {
        assert_eq!(decode_exact::<Option<u8>>(&[0]).unwrap(), None);
        assert_eq!(decode_exact::<Option<u8>>(&[1, 9]).unwrap(), Some(9));
        assert_eq!(
            decode_exact::<Option<u8>>(&[3, 9]).unwrap_err().kind,
            WireErrorKind::BadOptionalFlag(3)
        );
    }
}
