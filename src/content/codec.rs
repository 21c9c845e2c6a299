//! Validated decoding and deterministic encoding of `mimiContent` (content-08
//! §"Overall Structure", the CDDL in `mimi-content.cddl`, and §"CBOR Data
//! Model and Encoding Restrictions").

use std::collections::BTreeMap;

use ciborium::value::Value;

use super::cbor::{
    check_key_order, Reader, Writer, MAJOR_NINT, MAJOR_TEXT, MAJOR_UINT, MAX_SAFE_INTEGER,
};
use super::error::ContentError;
use super::types::{
    Cardinality, Disposition, EncryptionAlgorithm, Expiration, ExtensionKey, Extensions,
    ExternalPart, HashAlgorithm, MessageId, MimiContent, MultiPart, NestedPart, PartBody,
    PartSemantics, SinglePart, MESSAGE_ID_LEN, SALT_LEN,
};

/// NestedParts may nest at most this many levels, the root body being level 1
/// (content-08 §"CBOR Data Model and Encoding Restrictions"; multipart-3 uses 4).
pub const MAX_PART_DEPTH: usize = 4;

/// Arrays, maps and tags in extension values may nest at most this many levels,
/// the extensions map itself being level 1 (content-08, same section).
pub const MAX_EXTENSION_DEPTH: usize = 4;

/// Longest text extension key in octets (`tstr .size (1..255)`).
pub const MAX_EXTENSION_KEY_LEN: usize = 255;

/// Receiver limits that content-08 leaves to local policy or suggests in its
/// Security Considerations (discard-and-log list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Most body parts (all NestedParts, counted depth-first). Suggested: 1024.
    pub max_parts: usize,
    /// Longest topicId in octets. Suggested: 4096.
    pub max_topic_id_len: usize,
    /// Largest message in octets (local policy; `usize::MAX` for none).
    pub max_message_len: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_parts: 1024,
            max_topic_id_len: 4096,
            max_message_len: usize::MAX,
        }
    }
}

impl MimiContent {
    /// Decodes and validates a message with the default [`DecodeLimits`].
    pub fn decode(bytes: &[u8]) -> Result<MimiContent, ContentError> {
        Self::decode_with_limits(bytes, &DecodeLimits::default())
    }

    /// Decodes and validates a message: CDDL shape, deterministic encoding,
    /// data-model rules, depth and the given receiver limits.
    pub fn decode_with_limits(
        bytes: &[u8],
        limits: &DecodeLimits,
    ) -> Result<MimiContent, ContentError> {
        if bytes.len() > limits.max_message_len {
            return Err(ContentError::MessageTooLarge {
                len: bytes.len(),
                limit: limits.max_message_len,
            });
        }
        let mut r = Reader::new(bytes);
        let mut d = Decoder {
            r: &mut r,
            limits,
            parts: 0,
        };
        let content = d.content()?;
        r.finish()?;
        Ok(content)
    }

    /// Encodes the message in content-08's deterministic CBOR.
    ///
    /// The result is re-read with the validating decoder before it is returned,
    /// so a message that breaks a rule the types cannot express (a MultiPart
    /// with fewer than two parts, nesting too deep, a bad extension value or
    /// key, ...) yields the same [`ContentError`] a receiver would report.
    pub fn encode(&self) -> Result<Vec<u8>, ContentError> {
        let bytes = self.encode_unchecked();
        // Sender-side limits are the draft's hard rules only.
        let limits = DecodeLimits {
            max_parts: usize::MAX,
            max_topic_id_len: usize::MAX,
            max_message_len: usize::MAX,
        };
        Self::decode_with_limits(&bytes, &limits)?;
        Ok(bytes)
    }

    /// Deterministic encoding without the validation pass (for tests that need
    /// invalid messages, and for callers that have validated already).
    pub fn encode_unchecked(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.array(7);
        w.bytes(&self.salt);
        write_opt_id(&mut w, self.replaces.as_ref());
        w.bytes(&self.topic_id);
        match &self.expires {
            None => w.null(),
            Some(e) => {
                w.array(2);
                w.bool(e.relative);
                w.uint(u64::from(e.time));
            }
        }
        write_opt_id(&mut w, self.in_reply_to.as_ref());
        write_extensions(&mut w, &self.extensions);
        write_part(&mut w, &self.nested_part);
        w.into_bytes()
    }
}

fn write_opt_id(w: &mut Writer, id: Option<&MessageId>) {
    match id {
        None => w.null(),
        Some(id) => w.bytes(id.as_bytes()),
    }
}

fn write_extensions(w: &mut Writer, ext: &Extensions) {
    // Keys 1 and 2 sort before every other key except 0, so merge by encoding.
    let mut entries: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(ext.len());
    let mut push = |k: &ExtensionKey, write_v: &dyn Fn(&mut Writer)| {
        let mut vw = Writer::new();
        write_v(&mut vw);
        entries.push((k.encoded(), vw.into_bytes()));
    };
    if let Some(s) = &ext.sender_uri {
        push(&ExtensionKey::SENDER_URI, &|w: &mut Writer| w.text(s));
    }
    if let Some(s) = &ext.room_uri {
        push(&ExtensionKey::ROOM_URI, &|w: &mut Writer| w.text(s));
    }
    for (k, v) in &ext.other {
        push(k, &|w: &mut Writer| w.value(v));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    w.map(entries.len());
    for (k, v) in entries {
        w.raw(&k);
        w.raw(&v);
    }
}

fn write_part(w: &mut Writer, p: &NestedPart) {
    let card = p.body.cardinality();
    w.array(card.array_len() as usize);
    w.uint(u64::from(p.disposition.code()));
    w.text(&p.language);
    w.uint(card.code());
    match &p.body {
        PartBody::Null => {}
        PartBody::Single(s) => {
            w.text(&s.content_type);
            w.bytes(&s.content);
        }
        PartBody::External(e) => {
            w.text(&e.content_type);
            w.text(&e.url);
            w.uint(u64::from(e.expires));
            w.uint(e.size);
            w.uint(u64::from(e.enc_alg.code()));
            w.bytes(&e.key);
            w.bytes(&e.nonce);
            w.bytes(&e.aad);
            w.uint(u64::from(e.hash_alg.code()));
            w.bytes(&e.content_hash);
            w.text(&e.description);
            w.text(&e.filename);
        }
        PartBody::Multi(m) => {
            w.uint(m.part_semantics.code());
            w.array(m.parts.len());
            for part in &m.parts {
                write_part(w, part);
            }
        }
    }
}

struct Decoder<'r, 'a> {
    r: &'r mut Reader<'a>,
    limits: &'r DecodeLimits,
    parts: usize,
}

impl Decoder<'_, '_> {
    // content-08 §"Overall Structure": the 7-element top-level array.
    fn content(&mut self) -> Result<MimiContent, ContentError> {
        self.r.array("mimiContent", &[7], "7")?;
        let (salt, _) = self.fixed::<SALT_LEN>("salt")?;
        let replaces = self.opt_id("replaces")?;
        let (topic, off) = self.r.bytes("topicId")?;
        if topic.len() > self.limits.max_topic_id_len {
            return Err(ContentError::TopicIdTooLong {
                offset: off,
                len: topic.len(),
                limit: self.limits.max_topic_id_len,
            });
        }
        let topic_id = topic.to_vec();
        let expires = if self.r.null() {
            None
        } else {
            self.r.array("expires", &[2], "2 (Expiration)")?;
            let relative = self.r.bool("expires.relative")?;
            let (time, _) = self.r.uint("expires.time", u64::from(u32::MAX))?;
            Some(Expiration {
                relative,
                time: time as u32,
            })
        };
        let in_reply_to = self.opt_id("inReplyTo")?;
        let extensions = self.extensions()?;
        let nested_part = self.part("nestedPart", 1)?;
        Ok(MimiContent {
            salt,
            replaces,
            topic_id,
            expires,
            in_reply_to,
            extensions,
            nested_part,
        })
    }

    fn fixed<const N: usize>(&mut self, path: &str) -> Result<([u8; N], usize), ContentError> {
        let (b, off) = self.r.bytes(path)?;
        let arr: [u8; N] = b.try_into().map_err(|_| ContentError::WrongByteLength {
            path: path.to_owned(),
            offset: off,
            expected: N,
            found: b.len(),
        })?;
        Ok((arr, off))
    }

    fn opt_id(&mut self, path: &str) -> Result<Option<MessageId>, ContentError> {
        if self.r.null() {
            return Ok(None);
        }
        let (id, _) = self.fixed::<MESSAGE_ID_LEN>(path)?;
        Ok(Some(MessageId(id)))
    }

    // content-08 §"Extensions" and §"CBOR Data Model and Encoding Restrictions".
    fn extensions(&mut self) -> Result<Extensions, ContentError> {
        const PATH: &str = "mimiExtensions";
        let h = self.r.head(PATH)?;
        if h.major != super::cbor::MAJOR_MAP {
            return Err(Reader::mismatch(&h, PATH, "map"));
        }
        self.r.guard_count(&h, PATH, 2)?;
        let mut ext = Extensions::default();
        let mut prev: Option<&[u8]> = None;
        for _ in 0..h.arg {
            let key_start = self.r.pos();
            let key = self.extension_key(PATH)?;
            let raw = self.r.slice(key_start, self.r.pos());
            check_key_order(prev, raw, PATH, key_start)?;
            prev = Some(raw);
            let vpath = format!("{PATH}[{key}]");
            match key {
                ExtensionKey::Int(1) => {
                    ext.sender_uri = Some(self.r.text(&vpath)?.0.to_owned());
                }
                ExtensionKey::Int(2) => {
                    ext.room_uri = Some(self.r.text(&vpath)?.0.to_owned());
                }
                k => {
                    let v = self.r.value(&vpath, 2, MAX_EXTENSION_DEPTH)?;
                    ext.other.insert(k, v);
                }
            }
        }
        Ok(ext)
    }

    fn extension_key(&mut self, path: &str) -> Result<ExtensionKey, ContentError> {
        let h = self.r.head(path)?;
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
                // In range of i64 by the check above.
                Ok(ExtensionKey::Int(v as i64))
            }
            MAJOR_TEXT => {
                let n = h.arg;
                if n == 0 || n > MAX_EXTENSION_KEY_LEN as u64 {
                    return Err(ContentError::ExtensionKeyLength {
                        path: path.to_owned(),
                        offset: h.offset,
                        len: usize::try_from(n).unwrap_or(usize::MAX),
                    });
                }
                let body = self.r.string_body(&h, path)?;
                let s = std::str::from_utf8(body).map_err(|_| ContentError::InvalidUtf8 {
                    path: path.to_owned(),
                    offset: h.offset,
                })?;
                Ok(ExtensionKey::Text(s.to_owned()))
            }
            _ => Err(ContentError::ExtensionKeyType {
                path: path.to_owned(),
                offset: h.offset,
                found: h.kind(),
            }),
        }
    }

    // content-08 §"Message Bodies": NestedPart and its four cardinalities.
    fn part(&mut self, path: &str, level: usize) -> Result<NestedPart, ContentError> {
        let offset = self.r.pos();
        if level > MAX_PART_DEPTH {
            return Err(ContentError::PartNestingTooDeep {
                path: path.to_owned(),
                offset,
                level,
                limit: MAX_PART_DEPTH,
            });
        }
        self.parts += 1;
        if self.parts > self.limits.max_parts {
            return Err(ContentError::TooManyParts {
                path: path.to_owned(),
                offset,
                limit: self.limits.max_parts,
            });
        }
        let (len, arr_off) = self.r.array(path, &[3, 5, 15], "3, 5 or 15 (NestedPart)")?;
        let (disp, _) = self
            .r
            .uint(&format!("{path}.disposition"), u64::from(u8::MAX))?;
        let disposition = Disposition::from_code(disp as u8);
        let language = self.r.text(&format!("{path}.language"))?.0.to_owned();
        let card_path = format!("{path}.cardinality");
        let card_off = self.r.pos();
        let (card, _) = self.r.uint(&card_path, u64::MAX)?;
        let cardinality =
            Cardinality::from_code(card).ok_or_else(|| ContentError::UnknownCardinality {
                path: card_path.clone(),
                offset: card_off,
                value: card,
            })?;
        if cardinality.array_len() != len {
            return Err(ContentError::WrongArrayLength {
                path: path.to_owned(),
                offset: arr_off,
                expected: match cardinality {
                    Cardinality::NullPart => "3 (NullPart)",
                    Cardinality::Single => "5 (SinglePart)",
                    Cardinality::External => "15 (ExternalPart)",
                    Cardinality::Multi => "5 (MultiPart)",
                },
                found: len,
            });
        }
        let body = match cardinality {
            Cardinality::NullPart => PartBody::Null,
            Cardinality::Single => PartBody::Single(SinglePart {
                content_type: self.text(path, "contentType")?,
                content: self.r.bytes(&format!("{path}.content"))?.0.to_vec(),
            }),
            Cardinality::External => PartBody::External(self.external(path)?),
            Cardinality::Multi => {
                let sem_path = format!("{path}.partSemantics");
                let sem_off = self.r.pos();
                let (sem, _) = self.r.uint(&sem_path, u64::MAX)?;
                let part_semantics =
                    PartSemantics::from_code(sem).ok_or(ContentError::UnknownPartSemantics {
                        path: sem_path,
                        offset: sem_off,
                        value: sem,
                    })?;
                let parts_path = format!("{path}.parts");
                let (n, parts_off) = self.r.array(&parts_path, &[], "2 or more")?;
                if n < 2 {
                    return Err(ContentError::TooFewParts {
                        path: parts_path,
                        offset: parts_off,
                        found: n,
                    });
                }
                let mut parts = Vec::new();
                for i in 0..n {
                    parts.push(self.part(&format!("{parts_path}[{i}]"), level + 1)?);
                }
                PartBody::Multi(MultiPart {
                    part_semantics,
                    parts,
                })
            }
        };
        Ok(NestedPart {
            disposition,
            language,
            body,
        })
    }

    fn text(&mut self, path: &str, field: &str) -> Result<String, ContentError> {
        Ok(self.r.text(&format!("{path}.{field}"))?.0.to_owned())
    }

    fn bstr(&mut self, path: &str, field: &str) -> Result<Vec<u8>, ContentError> {
        Ok(self.r.bytes(&format!("{path}.{field}"))?.0.to_vec())
    }

    // content-08 §"External Content".
    fn external(&mut self, path: &str) -> Result<ExternalPart, ContentError> {
        let content_type = self.text(path, "contentType")?;
        let url = self.text(path, "url")?;
        let (expires, _) = self
            .r
            .uint(&format!("{path}.expires"), u64::from(u32::MAX))?;
        let (size, _) = self.r.uint(&format!("{path}.size"), u64::MAX)?;
        let (enc, _) = self
            .r
            .uint(&format!("{path}.encAlg"), u64::from(u16::MAX))?;
        let key = self.bstr(path, "key")?;
        let nonce = self.bstr(path, "nonce")?;
        let aad = self.bstr(path, "aad")?;
        let (hash, _) = self
            .r
            .uint(&format!("{path}.hashAlg"), u64::from(u8::MAX))?;
        let content_hash = self.bstr(path, "contentHash")?;
        let description = self.text(path, "description")?;
        let filename = self.text(path, "filename")?;
        Ok(ExternalPart {
            content_type,
            url,
            expires: expires as u32,
            size,
            enc_alg: EncryptionAlgorithm::from_code(enc as u16),
            key,
            nonce,
            aad,
            hash_alg: HashAlgorithm::from_code(hash as u8),
            content_hash,
            description,
            filename,
        })
    }
}

/// Reads a generic map `{* name => value}` with `name = int / tstr .size (1..255)`
/// (used by the implied `ExtendedTime`); returns entries in input order.
pub(crate) fn read_name_value_map(
    r: &mut Reader<'_>,
    path: &str,
    value_size_limit: usize,
) -> Result<BTreeMap<ExtensionKey, Value>, ContentError> {
    let h = r.head(path)?;
    if h.major != super::cbor::MAJOR_MAP {
        return Err(Reader::mismatch(&h, path, "map"));
    }
    r.guard_count(&h, path, 2)?;
    let limits = DecodeLimits::default();
    let mut d = Decoder {
        r,
        limits: &limits,
        parts: 0,
    };
    let mut out = BTreeMap::new();
    let mut prev: Option<Vec<u8>> = None;
    for _ in 0..h.arg {
        let key_start = d.r.pos();
        let key = d.extension_key(path)?;
        let raw = d.r.slice(key_start, d.r.pos()).to_vec();
        check_key_order(prev.as_deref(), &raw, path, key_start)?;
        prev = Some(raw);
        let vpath = format!("{path}[{key}]");
        let voff = d.r.pos();
        let v = d.r.value(&vpath, 2, MAX_EXTENSION_DEPTH)?;
        let len = match &v {
            Value::Bytes(b) => b.len(),
            Value::Text(t) => t.len(),
            _ => 0,
        };
        if len > value_size_limit {
            return Err(ContentError::ValueTooLong {
                path: vpath,
                offset: voff,
                len,
                limit: value_size_limit,
            });
        }
        out.insert(key, v);
    }
    Ok(out)
}
