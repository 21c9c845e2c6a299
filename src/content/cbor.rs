//! A strict CBOR reader and a deterministic CBOR writer (RFC 8949 §3, §4.2.1),
//! as content-08 "CBOR Data Model and Encoding Restrictions" requires.
//!
//! The reader is schema-directed: the content codec asks for the type the CDDL
//! wants at each position, and every head is checked for shortest form and
//! definite length as it is read, so an error can name the structural path.
//! Generic values (extension values) are read into [`ciborium::Value`] with the
//! data-model rules of content-08 (key types, integer-key range, float and NaN
//! form, bignum reduction, depth).

use ciborium::value::{Integer, Value};

use super::error::ContentError;

/// Largest integer magnitude a map key may have: 2^53 - 1 (content-08: integer
/// keys must be exactly representable as a double).
pub const MAX_SAFE_INTEGER: i128 = (1 << 53) - 1;

/// Major types (RFC 8949 §3.1).
pub(crate) const MAJOR_UINT: u8 = 0;
pub(crate) const MAJOR_NINT: u8 = 1;
pub(crate) const MAJOR_BYTES: u8 = 2;
pub(crate) const MAJOR_TEXT: u8 = 3;
pub(crate) const MAJOR_ARRAY: u8 = 4;
pub(crate) const MAJOR_MAP: u8 = 5;
pub(crate) const MAJOR_TAG: u8 = 6;
pub(crate) const MAJOR_SIMPLE: u8 = 7;

/// A decoded head: major type, additional information, argument, offset.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head {
    pub major: u8,
    pub ai: u8,
    pub arg: u64,
    pub offset: usize,
}

impl Head {
    /// A human name for the item this head starts, for error messages.
    pub fn kind(&self) -> &'static str {
        match self.major {
            MAJOR_UINT => "unsigned integer",
            MAJOR_NINT => "negative integer",
            MAJOR_BYTES => "byte string",
            MAJOR_TEXT => "text string",
            MAJOR_ARRAY => "array",
            MAJOR_MAP => "map",
            MAJOR_TAG => "tag",
            _ => match self.ai {
                20 | 21 => "bool",
                22 => "null",
                23 => "undefined",
                25..=27 => "float",
                _ => "simple value",
            },
        }
    }

    fn is_float(&self) -> bool {
        self.major == MAJOR_SIMPLE && (25..=27).contains(&self.ai)
    }
}

/// Strict, position-tracking reader over one input buffer.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Current byte offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Fails unless every byte was consumed.
    pub fn finish(&self) -> Result<(), ContentError> {
        if self.pos < self.buf.len() {
            return Err(ContentError::TrailingBytes {
                offset: self.pos,
                count: self.buf.len() - self.pos,
            });
        }
        Ok(())
    }

    /// The raw bytes between two offsets already read.
    pub fn slice(&self, start: usize, end: usize) -> &'a [u8] {
        &self.buf[start..end]
    }

    fn take(&mut self, n: usize, path: &str, offset: usize) -> Result<&'a [u8], ContentError> {
        if n > self.remaining() {
            return Err(ContentError::Truncated {
                path: path.to_owned(),
                offset,
            });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Looks at the next initial byte without consuming it.
    pub fn peek_byte(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// Reads one head, enforcing well-formedness, definite length and the
    /// shortest-form argument (RFC 8949 §3, §4.2.1). Float heads (major 7,
    /// ai 25..27) carry the raw bits in `arg`; their form is checked elsewhere.
    pub fn head(&mut self, path: &str) -> Result<Head, ContentError> {
        let offset = self.pos;
        let ib = *self
            .take(1, path, offset)?
            .first()
            .ok_or(ContentError::Truncated {
                path: path.to_owned(),
                offset,
            })?;
        let major = ib >> 5;
        let ai = ib & 0x1f;
        let arg = match ai {
            0..=23 => u64::from(ai),
            24 => {
                let b = self.take(1, path, offset)?;
                let v = u64::from(b[0]);
                if major == MAJOR_SIMPLE {
                    if v < 32 {
                        return Err(ContentError::Malformed {
                            path: path.to_owned(),
                            offset,
                            reason: "two-byte simple value below 32",
                        });
                    }
                } else if v < 24 {
                    return Err(non_minimal(path, offset));
                }
                v
            }
            25 => {
                let b = self.take(2, path, offset)?;
                let v = u64::from(u16::from_be_bytes([b[0], b[1]]));
                if major != MAJOR_SIMPLE && v <= 0xff {
                    return Err(non_minimal(path, offset));
                }
                v
            }
            26 => {
                let b = self.take(4, path, offset)?;
                let v = u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                if major != MAJOR_SIMPLE && v <= 0xffff {
                    return Err(non_minimal(path, offset));
                }
                v
            }
            27 => {
                let b = self.take(8, path, offset)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                let v = u64::from_be_bytes(a);
                if major != MAJOR_SIMPLE && v <= 0xffff_ffff {
                    return Err(non_minimal(path, offset));
                }
                v
            }
            28..=30 => {
                return Err(ContentError::Malformed {
                    path: path.to_owned(),
                    offset,
                    reason: "reserved additional information (28..30)",
                })
            }
            _ => {
                // ai == 31
                return Err(match major {
                    MAJOR_BYTES | MAJOR_TEXT | MAJOR_ARRAY | MAJOR_MAP => {
                        ContentError::IndefiniteLength {
                            path: path.to_owned(),
                            offset,
                        }
                    }
                    MAJOR_SIMPLE => ContentError::Malformed {
                        path: path.to_owned(),
                        offset,
                        reason: "break code outside an indefinite-length item",
                    },
                    _ => ContentError::Malformed {
                        path: path.to_owned(),
                        offset,
                        reason: "additional information 31 on an integer or tag",
                    },
                });
            }
        };
        Ok(Head {
            major,
            ai,
            arg,
            offset,
        })
    }

    /// The error for finding `head` where `expected` was required.
    pub fn mismatch(head: &Head, path: &str, expected: &'static str) -> ContentError {
        if head.is_float() {
            ContentError::FloatNotAllowed {
                path: path.to_owned(),
                offset: head.offset,
                expected,
            }
        } else if head.major == MAJOR_TAG {
            ContentError::TagNotAllowed {
                path: path.to_owned(),
                offset: head.offset,
                tag: head.arg,
                expected,
            }
        } else {
            ContentError::WrongType {
                path: path.to_owned(),
                offset: head.offset,
                expected,
                found: head.kind(),
            }
        }
    }

    /// Reads an unsigned integer no larger than `max` (`uint .size N`).
    pub fn uint(&mut self, path: &str, max: u64) -> Result<(u64, usize), ContentError> {
        let h = self.head(path)?;
        if h.major != MAJOR_UINT {
            return Err(Self::mismatch(&h, path, "unsigned integer"));
        }
        if h.arg > max {
            return Err(ContentError::IntegerOutOfRange {
                path: path.to_owned(),
                offset: h.offset,
                value: h.arg,
                max,
            });
        }
        Ok((h.arg, h.offset))
    }

    /// Reads a byte string, returning it and its head offset.
    pub fn bytes(&mut self, path: &str) -> Result<(&'a [u8], usize), ContentError> {
        let h = self.head(path)?;
        if h.major != MAJOR_BYTES {
            return Err(Self::mismatch(&h, path, "byte string"));
        }
        Ok((self.string_body(&h, path)?, h.offset))
    }

    /// Reads a text string (valid UTF-8), returning it and its head offset.
    pub fn text(&mut self, path: &str) -> Result<(&'a str, usize), ContentError> {
        let h = self.head(path)?;
        if h.major != MAJOR_TEXT {
            return Err(Self::mismatch(&h, path, "text string"));
        }
        let body = self.string_body(&h, path)?;
        let s = std::str::from_utf8(body).map_err(|_| ContentError::InvalidUtf8 {
            path: path.to_owned(),
            offset: h.offset,
        })?;
        Ok((s, h.offset))
    }

    /// The body of a string whose head was just read.
    pub fn string_body(&mut self, h: &Head, path: &str) -> Result<&'a [u8], ContentError> {
        let n = usize::try_from(h.arg).map_err(|_| ContentError::Truncated {
            path: path.to_owned(),
            offset: h.offset,
        })?;
        self.take(n, path, h.offset)
    }

    /// Reads a bool.
    pub fn bool(&mut self, path: &str) -> Result<bool, ContentError> {
        let h = self.head(path)?;
        match (h.major, h.ai) {
            (MAJOR_SIMPLE, 20) => Ok(false),
            (MAJOR_SIMPLE, 21) => Ok(true),
            _ => Err(Self::mismatch(&h, path, "bool")),
        }
    }

    /// Consumes a `null` if one comes next; returns whether it did.
    pub fn null(&mut self) -> bool {
        if self.peek_byte() == Some(0xf6) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Reads an array head and checks its length against `allowed`.
    pub fn array(
        &mut self,
        path: &str,
        allowed: &[u64],
        expected: &'static str,
    ) -> Result<(u64, usize), ContentError> {
        let h = self.head(path)?;
        if h.major != MAJOR_ARRAY {
            return Err(Self::mismatch(&h, path, "array"));
        }
        if !allowed.is_empty() && !allowed.contains(&h.arg) {
            return Err(ContentError::WrongArrayLength {
                path: path.to_owned(),
                offset: h.offset,
                expected,
                found: h.arg,
            });
        }
        self.guard_count(&h, path, 1)?;
        Ok((h.arg, h.offset))
    }

    /// Fails early when a declared element count cannot fit in the remaining
    /// input (each element takes at least `min_size` bytes), so that nothing is
    /// allocated or looped over on an absurd length.
    pub fn guard_count(&self, h: &Head, path: &str, min_size: u64) -> Result<(), ContentError> {
        let need = h.arg.saturating_mul(min_size);
        if need > self.remaining() as u64 {
            return Err(ContentError::Truncated {
                path: path.to_owned(),
                offset: h.offset,
            });
        }
        Ok(())
    }

    /// Reads any data item as a [`Value`] under the content-08 data-model rules
    /// for extension values. `level` is the nesting level a container at this
    /// position would have; containers (arrays, maps, tags) above `limit` fail.
    pub fn value(&mut self, path: &str, level: usize, limit: usize) -> Result<Value, ContentError> {
        let h = self.head(path)?;
        let too_deep = || ContentError::ExtensionNestingTooDeep {
            path: path.to_owned(),
            offset: h.offset,
            level,
            limit,
        };
        match h.major {
            MAJOR_UINT => Ok(Value::Integer(Integer::from(h.arg))),
            MAJOR_NINT => Ok(Value::Integer(negative(h.arg))),
            MAJOR_BYTES => Ok(Value::Bytes(self.string_body(&h, path)?.to_vec())),
            MAJOR_TEXT => {
                let body = self.string_body(&h, path)?;
                let s = std::str::from_utf8(body).map_err(|_| ContentError::InvalidUtf8 {
                    path: path.to_owned(),
                    offset: h.offset,
                })?;
                Ok(Value::Text(s.to_owned()))
            }
            MAJOR_ARRAY => {
                if level > limit {
                    return Err(too_deep());
                }
                self.guard_count(&h, path, 1)?;
                let mut items = Vec::new();
                for i in 0..h.arg {
                    items.push(self.value(&format!("{path}[{i}]"), level + 1, limit)?);
                }
                Ok(Value::Array(items))
            }
            MAJOR_MAP => {
                if level > limit {
                    return Err(too_deep());
                }
                self.guard_count(&h, path, 2)?;
                let mut entries = Vec::new();
                let mut prev: Option<&[u8]> = None;
                for _ in 0..h.arg {
                    let key_start = self.pos;
                    let key = self.nested_key(path)?;
                    let raw = self.slice(key_start, self.pos);
                    check_key_order(prev, raw, path, key_start)?;
                    prev = Some(raw);
                    let vpath = format!("{path}[{}]", key_label(&key));
                    let value = self.value(&vpath, level + 1, limit)?;
                    entries.push((key, value));
                }
                Ok(Value::Map(entries))
            }
            MAJOR_TAG => {
                if level > limit {
                    return Err(too_deep());
                }
                let inner_path = format!("{path}<tag {}>", h.arg);
                if h.arg == 2 || h.arg == 3 {
                    // RFC 8949 §3.4.3 bignum: content must be a byte string;
                    // §4.2.1: reduced to an integer when it fits, no leading zeros.
                    let (content, _) = self.bytes(&inner_path)?;
                    if content.len() <= 8 || content.first() == Some(&0) {
                        return Err(ContentError::NonPreferredBignum {
                            path: path.to_owned(),
                            offset: h.offset,
                        });
                    }
                    return Ok(Value::Tag(h.arg, Box::new(Value::Bytes(content.to_vec()))));
                }
                let inner = self.value(&inner_path, level + 1, limit)?;
                Ok(Value::Tag(h.arg, Box::new(inner)))
            }
            _ => self.simple(&h, path),
        }
    }

    /// A key of a map nested inside an extension value: int, tstr or bstr,
    /// integers within ±(2^53-1) (content-08).
    fn nested_key(&mut self, path: &str) -> Result<Value, ContentError> {
        let h = self.head(path)?;
        match h.major {
            MAJOR_UINT | MAJOR_NINT => {
                let v = if h.major == MAJOR_UINT {
                    i128::from(h.arg)
                } else {
                    -1 - i128::from(h.arg)
                };
                if !(-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&v) {
                    return Err(ContentError::IntegerKeyOutOfRange {
                        path: path.to_owned(),
                        offset: h.offset,
                        value: v,
                    });
                }
                Ok(Value::Integer(int_from_i128(v)))
            }
            MAJOR_BYTES => Ok(Value::Bytes(self.string_body(&h, path)?.to_vec())),
            MAJOR_TEXT => {
                let body = self.string_body(&h, path)?;
                let s = std::str::from_utf8(body).map_err(|_| ContentError::InvalidUtf8 {
                    path: path.to_owned(),
                    offset: h.offset,
                })?;
                Ok(Value::Text(s.to_owned()))
            }
            _ => Err(ContentError::NestedMapKeyType {
                path: path.to_owned(),
                offset: h.offset,
                found: h.kind(),
            }),
        }
    }

    fn simple(&mut self, h: &Head, path: &str) -> Result<Value, ContentError> {
        match h.ai {
            20 => Ok(Value::Bool(false)),
            21 => Ok(Value::Bool(true)),
            22 => Ok(Value::Null),
            25 => {
                let bits = h.arg as u16;
                let f = f16_to_f64(bits);
                if f.is_nan() && bits != 0x7e00 {
                    return Err(ContentError::NonCanonicalNaN {
                        path: path.to_owned(),
                        offset: h.offset,
                    });
                }
                Ok(Value::Float(f))
            }
            26 => {
                let f = f64::from(f32::from_bits(h.arg as u32));
                self.check_float_form(f, h, path, false)?;
                Ok(Value::Float(f))
            }
            27 => {
                let f = f64::from_bits(h.arg);
                self.check_float_form(f, h, path, true)?;
                Ok(Value::Float(f))
            }
            _ => Err(ContentError::UnsupportedSimpleValue {
                path: path.to_owned(),
                offset: h.offset,
                value: h.arg as u8,
            }),
        }
    }

    fn check_float_form(
        &self,
        f: f64,
        h: &Head,
        path: &str,
        is_double: bool,
    ) -> Result<(), ContentError> {
        if f.is_nan() {
            return Err(ContentError::NonCanonicalNaN {
                path: path.to_owned(),
                offset: h.offset,
            });
        }
        let shorter = f64_to_f16_exact(f).is_some() || (is_double && f32_exact(f));
        if shorter {
            return Err(ContentError::NonPreferredFloat {
                path: path.to_owned(),
                offset: h.offset,
            });
        }
        Ok(())
    }
}

fn non_minimal(path: &str, offset: usize) -> ContentError {
    ContentError::NonMinimalHead {
        path: path.to_owned(),
        offset,
    }
}

/// Fails unless `raw` sorts strictly after `prev` (bytewise, RFC 8949 §4.2.1).
pub(crate) fn check_key_order(
    prev: Option<&[u8]>,
    raw: &[u8],
    path: &str,
    offset: usize,
) -> Result<(), ContentError> {
    if let Some(p) = prev {
        match p.cmp(raw) {
            std::cmp::Ordering::Less => {}
            std::cmp::Ordering::Equal => {
                return Err(ContentError::DuplicateMapKey {
                    path: path.to_owned(),
                    offset,
                })
            }
            std::cmp::Ordering::Greater => {
                return Err(ContentError::UnsortedMapKeys {
                    path: path.to_owned(),
                    offset,
                })
            }
        }
    }
    Ok(())
}

/// A short label for a map key in a path: `1`, `"name"`, `h'ab'`.
pub(crate) fn key_label(key: &Value) -> String {
    match key {
        Value::Integer(i) => i128::from(*i).to_string(),
        Value::Text(t) => format!("{t:?}"),
        Value::Bytes(b) => format!("h'{}'", hex::encode(b)),
        _ => "?".to_owned(),
    }
}

/// `-1 - n` as a ciborium integer (always in range: ciborium covers -2^64..2^64-1).
fn negative(n: u64) -> Integer {
    int_from_i128(-1 - i128::from(n))
}

fn int_from_i128(v: i128) -> Integer {
    // In range by construction (callers pass -2^64 ..= 2^64-1); fall back to 0
    // rather than panic should that ever change.
    Integer::try_from(v).unwrap_or_else(|_| Integer::from(0u8))
}

/// Decodes IEEE 754 binary16 bits.
pub(crate) fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((bits >> 10) & 0x1f);
    let mant = f64::from(bits & 0x3ff);
    let mag = match exp {
        0 => mant * 2f64.powi(-24),
        31 => {
            if mant == 0.0 {
                f64::INFINITY
            } else {
                f64::NAN
            }
        }
        _ => (1024.0 + mant) * 2f64.powi(exp - 25),
    };
    sign * mag
}

/// The binary16 bits of `f` if `f` (not NaN) is exactly representable.
pub(crate) fn f64_to_f16_exact(f: f64) -> Option<u16> {
    if f.is_nan() {
        return None;
    }
    let sign: u16 = if f.is_sign_negative() { 0x8000 } else { 0 };
    let a = f.abs();
    if a == 0.0 {
        return Some(sign);
    }
    if a.is_infinite() {
        return Some(sign | 0x7c00);
    }
    let bits = a.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        return None; // f64 subnormal: far below the f16 range
    }
    let e = biased - 1023;
    if e > 15 {
        return None;
    }
    if e >= -14 {
        let frac = bits & ((1u64 << 52) - 1);
        if frac & ((1u64 << 42) - 1) != 0 {
            return None;
        }
        return Some(sign | (((e + 15) as u16) << 10) | (frac >> 42) as u16);
    }
    // f16 subnormal: a = k * 2^-24 with 1 <= k <= 1023.
    let k = a * 16_777_216.0;
    if k.fract() == 0.0 && (1.0..1024.0).contains(&k) {
        return Some(sign | k as u16);
    }
    None
}

/// Whether `f` (not NaN) is exactly representable as binary32.
pub(crate) fn f32_exact(f: f64) -> bool {
    f64::from(f as f32) == f
}

/// Deterministic CBOR writer (RFC 8949 §4.2.1).
#[derive(Default)]
pub(crate) struct Writer {
    out: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.out
    }

    /// Writes a head with the shortest argument encoding.
    pub fn head(&mut self, major: u8, arg: u64) {
        let m = major << 5;
        if arg < 24 {
            self.out.push(m | arg as u8);
        } else if arg <= 0xff {
            self.out.push(m | 24);
            self.out.push(arg as u8);
        } else if arg <= 0xffff {
            self.out.push(m | 25);
            self.out.extend_from_slice(&(arg as u16).to_be_bytes());
        } else if arg <= 0xffff_ffff {
            self.out.push(m | 26);
            self.out.extend_from_slice(&(arg as u32).to_be_bytes());
        } else {
            self.out.push(m | 27);
            self.out.extend_from_slice(&arg.to_be_bytes());
        }
    }

    /// Unsigned integer.
    pub fn uint(&mut self, v: u64) {
        self.head(MAJOR_UINT, v);
    }

    /// Signed integer.
    pub fn int(&mut self, v: i128) {
        if v >= 0 {
            self.head(MAJOR_UINT, v as u64);
        } else {
            self.head(MAJOR_NINT, (-1 - v) as u64);
        }
    }

    /// Byte string.
    pub fn bytes(&mut self, b: &[u8]) {
        self.head(MAJOR_BYTES, b.len() as u64);
        self.out.extend_from_slice(b);
    }

    /// Text string.
    pub fn text(&mut self, s: &str) {
        self.head(MAJOR_TEXT, s.len() as u64);
        self.out.extend_from_slice(s.as_bytes());
    }

    /// Array head.
    pub fn array(&mut self, len: usize) {
        self.head(MAJOR_ARRAY, len as u64);
    }

    /// Map head.
    pub fn map(&mut self, len: usize) {
        self.head(MAJOR_MAP, len as u64);
    }

    /// `null`.
    pub fn null(&mut self) {
        self.out.push(0xf6);
    }

    /// `true` / `false`.
    pub fn bool(&mut self, b: bool) {
        self.out.push(if b { 0xf5 } else { 0xf4 });
    }

    /// Pre-encoded bytes.
    pub fn raw(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }

    /// A float in its shortest lossless form; NaN as `f97e00`.
    pub fn float(&mut self, f: f64) {
        if f.is_nan() {
            self.out.extend_from_slice(&[0xf9, 0x7e, 0x00]);
        } else if let Some(h) = f64_to_f16_exact(f) {
            self.out.push(0xf9);
            self.out.extend_from_slice(&h.to_be_bytes());
        } else if f32_exact(f) {
            self.out.push(0xfa);
            self.out
                .extend_from_slice(&(f as f32).to_bits().to_be_bytes());
        } else {
            self.out.push(0xfb);
            self.out.extend_from_slice(&f.to_bits().to_be_bytes());
        }
    }

    /// Any value, deterministically: map entries sorted by encoded key.
    /// (Whether the value obeys content-08's data-model rules is checked when
    /// the finished message is re-read, see `MimiContent::encode`.)
    pub fn value(&mut self, v: &Value) {
        match v {
            Value::Integer(i) => self.int(i128::from(*i)),
            Value::Bytes(b) => self.bytes(b),
            Value::Float(f) => self.float(*f),
            Value::Text(t) => self.text(t),
            Value::Bool(b) => self.bool(*b),
            Value::Null => self.null(),
            Value::Tag(t, inner) => {
                self.head(MAJOR_TAG, *t);
                self.value(inner);
            }
            Value::Array(items) => {
                self.array(items.len());
                for i in items {
                    self.value(i);
                }
            }
            Value::Map(entries) => {
                let mut encoded: Vec<(Vec<u8>, Vec<u8>)> = entries
                    .iter()
                    .map(|(k, v)| (encode_value(k), encode_value(v)))
                    .collect();
                encoded.sort_by(|a, b| a.0.cmp(&b.0));
                self.map(encoded.len());
                for (k, v) in encoded {
                    self.raw(&k);
                    self.raw(&v);
                }
            }
            // ciborium's Value is non-exhaustive in spirit; anything else is
            // written as null (and would then fail validation if unexpected).
            #[allow(unreachable_patterns)]
            _ => self.null(),
        }
    }
}

/// Deterministic encoding of one value.
pub(crate) fn encode_value(v: &Value) -> Vec<u8> {
    let mut w = Writer::new();
    w.value(v);
    w.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_exactness_matches_decoding() {
        for bits in 0u16..=0xffff {
            let f = f16_to_f64(bits);
            if f.is_nan() {
                continue;
            }
            assert_eq!(f64_to_f16_exact(f), Some(bits), "bits {bits:04x}");
        }
        assert_eq!(f64_to_f16_exact(1.0 + f64::EPSILON), None);
        assert_eq!(f64_to_f16_exact(65520.0), None);
        assert_eq!(f64_to_f16_exact(2f64.powi(-25)), None);
    }

    #[test]
    fn writer_uses_shortest_heads() {
        let cases: [(u64, &[u8]); 6] = [
            (23, &[0x17]),
            (24, &[0x18, 24]),
            (255, &[0x18, 0xff]),
            (256, &[0x19, 1, 0]),
            (65536, &[0x1a, 0, 1, 0, 0]),
            (1 << 32, &[0x1b, 0, 0, 0, 1, 0, 0, 0, 0]),
        ];
        for (v, want) in cases {
            let mut w = Writer::new();
            w.uint(v);
            assert_eq!(w.into_bytes(), want, "{v}");
        }
    }

    #[test]
    fn floats_written_shortest() {
        let mut w = Writer::new();
        w.float(1.5);
        w.float(100000.0);
        w.float(1.1);
        w.float(f64::NAN);
        let b = w.into_bytes();
        assert_eq!(&b[..3], &[0xf9, 0x3e, 0x00]);
        assert_eq!(b[3], 0xfa);
        assert_eq!(b[8], 0xfb);
        assert_eq!(&b[17..], &[0xf9, 0x7e, 0x00]);
    }
}
