//! Property tests for the content codec: arbitrary valid messages round-trip
//! byte-for-byte, and no input (random or mutated) panics the decoder; any input
//! the decoder accepts is already in deterministic form (re-encodes identically).

use std::collections::BTreeMap;

use ciborium::value::{Integer, Value};
use mimi_ref::content::{
    message_id_of_bytes, Disposition, EncryptionAlgorithm, Expiration, ExtensionKey, Extensions,
    ExternalPart, HashAlgorithm, MessageId, MimiContent, MultiPart, NestedPart, PartBody,
    PartSemantics, SinglePart, MAX_SAFE_INTEGER,
};
use proptest::prelude::*;

const SAFE: i64 = MAX_SAFE_INTEGER as i64;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[a-z/:.;=-]{1,24}", any::<String>()]
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(|v| Value::Integer(Integer::from(v))),
        any::<i64>().prop_map(|v| Value::Integer(Integer::from(v))),
        bytes(12).prop_map(Value::Bytes),
        text().prop_map(Value::Text),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
        any::<f64>()
            .prop_filter("NaN is not equal to itself", |f| !f.is_nan())
            .prop_map(Value::Float),
        any::<f32>()
            .prop_filter("NaN is not equal to itself", |f| !f.is_nan())
            .prop_map(|f| Value::Float(f64::from(f))),
    ]
}

fn nested_key() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-SAFE..=SAFE).prop_map(|v| Value::Integer(Integer::from(v))),
        text().prop_map(Value::Text),
        bytes(6).prop_map(Value::Bytes),
    ]
}

/// A value with at most `containers` levels of arrays/maps/tags.
fn value(containers: u32) -> BoxedStrategy<Value> {
    if containers == 0 {
        return scalar().boxed();
    }
    let inner = value(containers - 1);
    prop_oneof![
        4 => scalar(),
        1 => prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
        1 => prop::collection::vec((nested_key(), inner.clone()), 0..4).prop_map(|entries| {
            // Drop duplicate keys (by encoding); the writer sorts the rest.
            let mut seen = Vec::new();
            let mut out = Vec::new();
            for (k, v) in entries {
                let mut enc = Vec::new();
                ciborium::into_writer(&k, &mut enc).unwrap();
                if !seen.contains(&enc) {
                    seen.push(enc);
                    out.push((k, v));
                }
            }
            out.sort_by_key(|(k, _)| {
                let mut enc = Vec::new();
                ciborium::into_writer(k, &mut enc).unwrap();
                enc
            });
            Value::Map(out)
        }),
        1 => ((4u64..100_000).prop_filter("bignum tags", |t| *t != 2 && *t != 3), inner)
            .prop_map(|(t, v)| Value::Tag(t, Box::new(v))),
    ]
    .boxed()
}

fn extension_key() -> impl Strategy<Value = ExtensionKey> {
    prop_oneof![
        (-SAFE..=SAFE)
            .prop_filter("keys 1 and 2 are typed fields", |k| *k != 1 && *k != 2)
            .prop_map(ExtensionKey::Int),
        "[a-zA-Z0-9._-]{1,40}".prop_map(ExtensionKey::Text),
    ]
}

fn extensions() -> impl Strategy<Value = Extensions> {
    (
        prop::option::of(text()),
        prop::option::of(text()),
        prop::collection::btree_map(extension_key(), value(3), 0..4),
    )
        .prop_map(|(sender_uri, room_uri, other)| Extensions {
            sender_uri,
            room_uri,
            other: other.into_iter().collect::<BTreeMap<_, _>>(),
        })
}

fn external() -> impl Strategy<Value = ExternalPart> {
    (
        (text(), text(), any::<u32>(), any::<u64>(), any::<u16>()),
        (
            bytes(17),
            bytes(13),
            bytes(5),
            any::<u8>(),
            bytes(33),
            text(),
            text(),
        ),
    )
        .prop_map(
            |(
                (content_type, url, expires, size, enc),
                (key, nonce, aad, hash, content_hash, description, filename),
            )| ExternalPart {
                content_type,
                url,
                expires,
                size,
                enc_alg: EncryptionAlgorithm::from_code(enc),
                key,
                nonce,
                aad,
                hash_alg: HashAlgorithm::from_code(hash),
                content_hash,
                description,
                filename,
            },
        )
}

fn leaf_body() -> impl Strategy<Value = PartBody> {
    prop_oneof![
        Just(PartBody::Null),
        (text(), bytes(24)).prop_map(|(content_type, content)| PartBody::Single(SinglePart {
            content_type,
            content
        })),
        external().prop_map(PartBody::External),
    ]
}

/// A part with at most `levels` levels (root included).
fn part(levels: u32) -> BoxedStrategy<NestedPart> {
    let body: BoxedStrategy<PartBody> = if levels <= 1 {
        leaf_body().boxed()
    } else {
        let sem = prop_oneof![
            Just(PartSemantics::ChooseOne),
            Just(PartSemantics::SingleUnit),
            Just(PartSemantics::ProcessAll)
        ];
        prop_oneof![
            2 => leaf_body(),
            1 => (sem, prop::collection::vec(part(levels - 1), 2..4)).prop_map(
                |(part_semantics, parts)| PartBody::Multi(MultiPart { part_semantics, parts })
            ),
        ]
        .boxed()
    };
    (any::<u8>(), text(), body)
        .prop_map(|(d, language, body)| NestedPart {
            disposition: Disposition::from_code(d),
            language,
            body,
        })
        .boxed()
}

fn content() -> impl Strategy<Value = MimiContent> {
    (
        any::<[u8; 16]>(),
        prop::option::of(any::<[u8; 32]>().prop_map(MessageId)),
        bytes(40),
        prop::option::of(
            (any::<bool>(), any::<u32>())
                .prop_map(|(relative, time)| Expiration { relative, time }),
        ),
        prop::option::of(any::<[u8; 32]>().prop_map(MessageId)),
        extensions(),
        part(4),
    )
        .prop_map(
            |(salt, replaces, topic_id, expires, in_reply_to, extensions, nested_part)| {
                MimiContent {
                    salt,
                    replaces,
                    topic_id,
                    expires,
                    in_reply_to,
                    extensions,
                    nested_part,
                }
            },
        )
}

/// Decoding must not panic; if it accepts, the input is canonical.
fn check_no_panic_and_canonical(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(c) = MimiContent::decode(bytes) {
        let again = c
            .encode()
            .map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(
            hex::encode(again),
            hex::encode(bytes),
            "accepted non-canonical input"
        );
    }
    Ok(())
}

proptest! {
    // 256 cases by default; set PROPTEST_CASES for longer runs.

    #[test]
    fn valid_content_round_trips(c in content()) {
        let bytes = c.encode().map_err(|e| TestCaseError::fail(format!("encode: {e}")))?;
        let back = MimiContent::decode(&bytes).map_err(|e| TestCaseError::fail(format!("decode: {e}")))?;
        prop_assert_eq!(&back, &c);
        prop_assert_eq!(back.encode().unwrap(), bytes.clone());
        let id = c.message_id("mimi://a.example/u/a", "mimi://a.example/r/b").unwrap();
        prop_assert_eq!(id, message_id_of_bytes("mimi://a.example/u/a", "mimi://a.example/r/b", &bytes).unwrap());
        prop_assert_eq!(id.as_bytes()[0], 1);
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..256)) {
        check_no_panic_and_canonical(&b)?;
    }

    #[test]
    fn arbitrary_bytes_after_a_valid_prefix_never_panic(
        tail in prop::collection::vec(any::<u8>(), 0..128)
    ) {
        // Start like a message so the fuzzing reaches deeper fields.
        let mut b = vec![0x87, 0x50];
        b.extend([0u8; 16]);
        b.extend(tail);
        check_no_panic_and_canonical(&b)?;
    }

    #[test]
    fn mutated_messages_never_panic(
        c in content(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4)
    ) {
        let mut b = c.encode().unwrap();
        for (i, byte, op) in edits {
            if b.is_empty() { break; }
            let at = i.index(b.len());
            match op {
                0 => b[at] = byte,
                1 => { b.remove(at); }
                _ => b.insert(at, byte),
            }
        }
        check_no_panic_and_canonical(&b)?;
    }
}
