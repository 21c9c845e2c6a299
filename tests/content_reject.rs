//! Invalid MIMI content: one hand-built byte string per rejection rule, each
//! breaking exactly that rule of content-08 (CDDL, deterministic encoding,
//! data-model and depth restrictions, receiver limits). Bytes are assembled
//! here by hand, independently of the library's encoder.

use mimi_ref::content::{
    ContentError, DecodeLimits, Disposition, ExtensionKey, Extensions, MimiContent, MultiPart,
    NestedPart, PartBody, PartSemantics, SinglePart,
};

// ---- a tiny independent CBOR assembler -------------------------------------

fn head(major: u8, arg: u64) -> Vec<u8> {
    let m = major << 5;
    match arg {
        0..=23 => vec![m | arg as u8],
        24..=0xff => vec![m | 24, arg as u8],
        0x100..=0xffff => {
            let mut v = vec![m | 25];
            v.extend((arg as u16).to_be_bytes());
            v
        }
        0x1_0000..=0xffff_ffff => {
            let mut v = vec![m | 26];
            v.extend((arg as u32).to_be_bytes());
            v
        }
        _ => {
            let mut v = vec![m | 27];
            v.extend(arg.to_be_bytes());
            v
        }
    }
}
fn uint(v: u64) -> Vec<u8> {
    head(0, v)
}
fn nint(n: u64) -> Vec<u8> {
    head(1, n)
}
fn bstr(b: &[u8]) -> Vec<u8> {
    let mut v = head(2, b.len() as u64);
    v.extend(b);
    v
}
fn tstr(s: &str) -> Vec<u8> {
    let mut v = head(3, s.len() as u64);
    v.extend(s.as_bytes());
    v
}
fn arr(items: &[Vec<u8>]) -> Vec<u8> {
    let mut v = head(4, items.len() as u64);
    for i in items {
        v.extend(i);
    }
    v
}
fn map(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut v = head(5, entries.len() as u64);
    for (k, val) in entries {
        v.extend(k);
        v.extend(val);
    }
    v
}
const NULL: u8 = 0xf6;

/// The seven top-level fields of a valid message.
struct Msg {
    salt: Vec<u8>,
    replaces: Vec<u8>,
    topic: Vec<u8>,
    expires: Vec<u8>,
    in_reply_to: Vec<u8>,
    ext: Vec<u8>,
    body: Vec<u8>,
}

fn single(disp: u64, ct: &str, content: &[u8]) -> Vec<u8> {
    arr(&[uint(disp), tstr(""), uint(1), tstr(ct), bstr(content)])
}

fn multi(sem: u64, parts: &[Vec<u8>]) -> Vec<u8> {
    arr(&[uint(1), tstr(""), uint(3), uint(sem), arr(parts)])
}

fn std_ext() -> Vec<u8> {
    map(&[
        (uint(1), tstr("mimi://a.example/u/alice")),
        (uint(2), tstr("mimi://a.example/r/x")),
    ])
}

fn ext_with(key: Vec<u8>, value: Vec<u8>) -> Vec<u8> {
    map(&[(uint(1), tstr("mimi://a.example/u/alice")), (key, value)])
}

impl Msg {
    fn valid() -> Msg {
        Msg {
            salt: bstr(&[0x5a; 16]),
            replaces: vec![NULL],
            topic: bstr(b""),
            expires: vec![NULL],
            in_reply_to: vec![NULL],
            ext: std_ext(),
            body: single(1, "text/plain;charset=utf-8", b"hi"),
        }
    }
    fn bytes(&self) -> Vec<u8> {
        let mut v = vec![0x87];
        for f in [
            &self.salt,
            &self.replaces,
            &self.topic,
            &self.expires,
            &self.in_reply_to,
            &self.ext,
            &self.body,
        ] {
            v.extend(f);
        }
        v
    }
}

fn reject(bytes: &[u8]) -> ContentError {
    match MimiContent::decode(bytes) {
        Ok(c) => panic!("accepted invalid message {}: {c:?}", hex::encode(bytes)),
        Err(e) => e,
    }
}

fn with(f: impl FnOnce(&mut Msg)) -> Vec<u8> {
    let mut m = Msg::valid();
    f(&mut m);
    m.bytes()
}

fn ext_value(v: Vec<u8>) -> Vec<u8> {
    with(|m| m.ext = ext_with(uint(256), v))
}

/// Asserts the error is the given variant at the given path.
macro_rules! assert_err {
    ($err:expr, $pat:pat, $path:expr) => {{
        let e = $err;
        assert!(matches!(e, $pat), "wrong error: {e:?}");
        let text = e.to_string();
        assert!(
            text.starts_with($path),
            "error {text:?} does not name path {:?}",
            $path
        );
    }};
    ($err:expr, $pat:pat) => {{
        let e = $err;
        assert!(matches!(e, $pat), "wrong error: {e:?}");
    }};
}

// ---- the baseline is valid ---------------------------------------------------

#[test]
fn baseline_is_valid_and_canonical() {
    let b = Msg::valid().bytes();
    let c = MimiContent::decode(&b).expect("baseline must decode");
    assert_eq!(c.encode().unwrap(), b);
}

// ---- well-formedness ---------------------------------------------------------

#[test]
fn truncated_input() {
    let mut b = Msg::valid().bytes();
    b.pop();
    assert_err!(
        reject(&b),
        ContentError::Truncated { .. },
        "nestedPart.content"
    );
    assert_err!(reject(&[]), ContentError::Truncated { .. }, "mimiContent");
}

#[test]
fn trailing_bytes() {
    let mut b = Msg::valid().bytes();
    b.push(0x00);
    assert_err!(reject(&b), ContentError::TrailingBytes { count: 1, .. });
}

#[test]
fn huge_declared_lengths_do_not_allocate() {
    // content as bstr of 2^64-1 octets; parts array of 2^32 elements.
    let b = with(|m| {
        m.body = {
            let mut v = arr(&[uint(1), tstr(""), uint(1), tstr("t")]);
            v[0] = 0x85;
            v.extend([0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
            v
        }
    });
    assert_err!(
        reject(&b),
        ContentError::Truncated { .. },
        "nestedPart.content"
    );
    let b = with(|m| {
        let mut v = vec![0x85, 0x01, 0x60, 0x03, 0x02];
        v.extend([0x9a, 0xff, 0xff, 0xff, 0xff]);
        m.body = v;
    });
    assert_err!(
        reject(&b),
        ContentError::Truncated { .. },
        "nestedPart.parts"
    );
}

#[test]
fn reserved_additional_information() {
    let b = with(|m| m.topic = vec![0x5c]);
    assert_err!(reject(&b), ContentError::Malformed { .. }, "topicId");
}

#[test]
fn stray_break_code() {
    let b = with(|m| m.replaces = vec![0xff]);
    assert_err!(reject(&b), ContentError::Malformed { .. }, "replaces");
}

#[test]
fn two_byte_simple_value_below_32() {
    let b = ext_value(vec![0xf8, 0x10]);
    assert_err!(
        reject(&b),
        ContentError::Malformed { .. },
        "mimiExtensions[256]"
    );
}

// ---- deterministic encoding --------------------------------------------------

#[test]
fn indefinite_length_string() {
    // content as (_ h'6869')
    let b = with(|m| {
        m.body = {
            let mut v = arr(&[uint(1), tstr(""), uint(1), tstr("text/plain")]);
            v[0] = 0x85;
            v.extend([0x5f, 0x42, 0x68, 0x69, 0xff]);
            v
        }
    });
    assert_err!(
        reject(&b),
        ContentError::IndefiniteLength { .. },
        "nestedPart.content"
    );
}

#[test]
fn indefinite_length_array() {
    let mut b = Msg::valid().bytes();
    b[0] = 0x9f;
    b.push(0xff);
    assert_err!(
        reject(&b),
        ContentError::IndefiniteLength { .. },
        "mimiContent"
    );
}

#[test]
fn indefinite_length_map_in_extension_value() {
    let b = ext_value(vec![0xbf, 0x01, 0x02, 0xff]);
    assert_err!(
        reject(&b),
        ContentError::IndefiniteLength { .. },
        "mimiExtensions[256]"
    );
}

#[test]
fn non_minimal_integer_head() {
    // disposition 1 encoded as 0x18 0x01
    let b = with(|m| {
        m.body = {
            let mut v = vec![0x85, 0x18, 0x01];
            v.extend(tstr(""));
            v.extend(uint(1));
            v.extend(tstr("t"));
            v.extend(bstr(b"x"));
            v
        }
    });
    assert_err!(
        reject(&b),
        ContentError::NonMinimalHead { .. },
        "nestedPart.disposition"
    );
}

#[test]
fn non_minimal_length_head() {
    // 16-octet salt with a one-byte length argument (0x58 0x10)
    let b = with(|m| {
        let mut v = vec![0x58, 0x10];
        v.extend([0x5a; 16]);
        m.salt = v;
    });
    assert_err!(reject(&b), ContentError::NonMinimalHead { .. }, "salt");
}

#[test]
fn non_minimal_extension_value_integer() {
    // 500 as a 4-byte argument
    let b = ext_value(vec![0x1a, 0x00, 0x00, 0x01, 0xf4]);
    assert_err!(
        reject(&b),
        ContentError::NonMinimalHead { .. },
        "mimiExtensions[256]"
    );
}

#[test]
fn unsorted_extension_keys() {
    let b = with(|m| {
        m.ext = map(&[
            (uint(2), tstr("mimi://a.example/r/x")),
            (uint(1), tstr("mimi://a.example/u/a")),
        ])
    });
    assert_err!(
        reject(&b),
        ContentError::UnsortedMapKeys { .. },
        "mimiExtensions"
    );
}

#[test]
fn length_first_canonical_order_is_rejected() {
    // RFC 7049 "canonical" (length-first) order: 1, "b" (2 octets), 256 (3 octets).
    // Deterministic (bytewise) order, which content-08 requires: 1, 256, "b".
    let b = with(|m| {
        m.ext = map(&[
            (uint(1), tstr("mimi://a.example/u/a")),
            (tstr("b"), uint(0)),
            (uint(256), uint(0)),
        ])
    });
    assert_err!(
        reject(&b),
        ContentError::UnsortedMapKeys { .. },
        "mimiExtensions"
    );
}

#[test]
fn duplicate_extension_key() {
    let b = with(|m| {
        m.ext = map(&[
            (uint(1), tstr("mimi://a.example/u/a")),
            (uint(1), tstr("mimi://a.example/u/b")),
        ])
    });
    assert_err!(
        reject(&b),
        ContentError::DuplicateMapKey { .. },
        "mimiExtensions"
    );
}

#[test]
fn unsorted_keys_in_nested_map() {
    let b = ext_value(map(&[(tstr("b"), uint(1)), (tstr("a"), uint(2))]));
    assert_err!(
        reject(&b),
        ContentError::UnsortedMapKeys { .. },
        "mimiExtensions[256]"
    );
}

#[test]
fn duplicate_keys_in_nested_map() {
    let b = ext_value(map(&[(bstr(b"k"), uint(1)), (bstr(b"k"), uint(2))]));
    assert_err!(
        reject(&b),
        ContentError::DuplicateMapKey { .. },
        "mimiExtensions[256]"
    );
}

#[test]
fn non_preferred_float() {
    // 1.5 as binary32 (fits binary16)
    let b = ext_value(vec![0xfa, 0x3f, 0xc0, 0x00, 0x00]);
    assert_err!(
        reject(&b),
        ContentError::NonPreferredFloat { .. },
        "mimiExtensions[256]"
    );
    // 100000.0 as binary64 (fits binary32)
    let mut v = vec![0xfb];
    v.extend(100000.0f64.to_bits().to_be_bytes());
    assert_err!(
        reject(&ext_value(v)),
        ContentError::NonPreferredFloat { .. }
    );
    // ... while the shortest forms are accepted
    assert!(MimiContent::decode(&ext_value(vec![0xf9, 0x3e, 0x00])).is_ok());
    let mut v = vec![0xfa];
    v.extend(100000.0f32.to_bits().to_be_bytes());
    assert!(MimiContent::decode(&ext_value(v)).is_ok());
}

#[test]
fn non_canonical_nan() {
    let b = ext_value(vec![0xf9, 0x7e, 0x01]);
    assert_err!(
        reject(&b),
        ContentError::NonCanonicalNaN { .. },
        "mimiExtensions[256]"
    );
    let b = ext_value(vec![0xfa, 0x7f, 0xc0, 0x00, 0x00]);
    assert_err!(reject(&b), ContentError::NonCanonicalNaN { .. });
    assert!(MimiContent::decode(&ext_value(vec![0xf9, 0x7e, 0x00])).is_ok());
}

#[test]
fn unreduced_bignum() {
    // 2(h'01'): fits an unsigned integer
    let b = ext_value(vec![0xc2, 0x41, 0x01]);
    assert_err!(
        reject(&b),
        ContentError::NonPreferredBignum { .. },
        "mimiExtensions[256]"
    );
    // 3(h'00 01 02 03 04 05 06 07 08'): leading zero
    let mut v = vec![0xc3];
    v.extend(bstr(&[0, 1, 2, 3, 4, 5, 6, 7, 8]));
    assert_err!(
        reject(&ext_value(v)),
        ContentError::NonPreferredBignum { .. }
    );
    // 2^64 as a bignum is the preferred form
    let mut v = vec![0xc2];
    v.extend(bstr(&[1, 0, 0, 0, 0, 0, 0, 0, 0]));
    assert!(MimiContent::decode(&ext_value(v)).is_ok());
}

// ---- data model ----------------------------------------------------------------

#[test]
fn invalid_utf8_text() {
    let b = with(|m| {
        m.body = arr(&[
            uint(1),
            vec![0x62, 0xc3, 0x28],
            uint(1),
            tstr("t"),
            bstr(b"x"),
        ])
    });
    assert_err!(
        reject(&b),
        ContentError::InvalidUtf8 { .. },
        "nestedPart.language"
    );
}

#[test]
fn invalid_utf8_in_extension_value() {
    let b = ext_value(vec![0x61, 0xff]);
    assert_err!(
        reject(&b),
        ContentError::InvalidUtf8 { .. },
        "mimiExtensions[256]"
    );
}

#[test]
fn extension_key_of_wrong_type() {
    let b = with(|m| m.ext = map(&[(bstr(b"k"), uint(1))]));
    assert_err!(
        reject(&b),
        ContentError::ExtensionKeyType {
            found: "byte string",
            ..
        },
        "mimiExtensions"
    );
}

#[test]
fn extension_text_key_length() {
    let b = with(|m| m.ext = map(&[(tstr(""), uint(1))]));
    assert_err!(
        reject(&b),
        ContentError::ExtensionKeyLength { len: 0, .. },
        "mimiExtensions"
    );
    let long = "k".repeat(256);
    let b = with(|m| m.ext = map(&[(tstr(&long), uint(1))]));
    assert_err!(
        reject(&b),
        ContentError::ExtensionKeyLength { len: 256, .. }
    );
    let ok = "k".repeat(255);
    assert!(MimiContent::decode(&with(|m| m.ext = map(&[(tstr(&ok), uint(1))]))).is_ok());
}

#[test]
fn integer_key_outside_double_range() {
    let b = with(|m| m.ext = ext_with(uint(1 << 53), uint(0)));
    assert_err!(
        reject(&b),
        ContentError::IntegerKeyOutOfRange { .. },
        "mimiExtensions"
    );
    // -(2^53) = -1 - (2^53 - 1)
    let b = with(|m| m.ext = map(&[(uint(1), tstr("u")), (nint((1 << 53) - 1), uint(0))]));
    assert_err!(reject(&b), ContentError::IntegerKeyOutOfRange { .. });
    let ok = with(|m| m.ext = map(&[(uint(1), tstr("u")), (nint((1 << 53) - 2), uint(0))]));
    assert!(MimiContent::decode(&ok).is_ok());
}

#[test]
fn nested_map_key_of_wrong_type() {
    let b = ext_value(map(&[(arr(&[uint(1)]), uint(2))]));
    assert_err!(
        reject(&b),
        ContentError::NestedMapKeyType { found: "array", .. },
        "mimiExtensions[256]"
    );
}

#[test]
fn nested_map_integer_key_range() {
    let b = ext_value(map(&[(uint(1 << 60), uint(2))]));
    assert_err!(
        reject(&b),
        ContentError::IntegerKeyOutOfRange { .. },
        "mimiExtensions[256]"
    );
}

#[test]
fn unsupported_simple_values() {
    assert_err!(
        reject(&ext_value(vec![0xf7])),
        ContentError::UnsupportedSimpleValue { value: 23, .. }
    );
    assert_err!(
        reject(&ext_value(vec![0xf8, 0x20])),
        ContentError::UnsupportedSimpleValue { value: 32, .. }
    );
    assert_err!(
        reject(&ext_value(vec![0xf0])),
        ContentError::UnsupportedSimpleValue { value: 16, .. }
    );
}

#[test]
fn sender_uri_must_be_text() {
    let b = with(|m| m.ext = map(&[(uint(1), bstr(b"mimi://a.example/u/a"))]));
    assert_err!(
        reject(&b),
        ContentError::WrongType {
            expected: "text string",
            ..
        },
        "mimiExtensions[1]"
    );
}

// ---- CDDL shape ------------------------------------------------------------------

#[test]
fn top_level_not_an_array() {
    let b = map(&[]);
    assert_err!(
        reject(&b),
        ContentError::WrongType { found: "map", .. },
        "mimiContent"
    );
}

#[test]
fn top_level_wrong_length() {
    let mut b = Msg::valid().bytes();
    b[0] = 0x86;
    assert_err!(
        reject(&b),
        ContentError::WrongArrayLength { found: 6, .. },
        "mimiContent"
    );
}

#[test]
fn salt_wrong_size() {
    let b = with(|m| m.salt = bstr(&[1; 15]));
    assert_err!(
        reject(&b),
        ContentError::WrongByteLength {
            expected: 16,
            found: 15,
            ..
        },
        "salt"
    );
}

#[test]
fn message_id_wrong_size() {
    let b = with(|m| m.replaces = bstr(&[1; 31]));
    assert_err!(
        reject(&b),
        ContentError::WrongByteLength {
            expected: 32,
            found: 31,
            ..
        },
        "replaces"
    );
    let b = with(|m| m.in_reply_to = bstr(&[1; 33]));
    assert_err!(
        reject(&b),
        ContentError::WrongByteLength {
            expected: 32,
            found: 33,
            ..
        },
        "inReplyTo"
    );
}

#[test]
fn wrong_type_for_field() {
    let b = with(|m| m.topic = tstr("topic"));
    assert_err!(
        reject(&b),
        ContentError::WrongType {
            expected: "byte string",
            found: "text string",
            ..
        },
        "topicId"
    );
    let b = with(|m| m.in_reply_to = tstr("x"));
    assert_err!(reject(&b), ContentError::WrongType { .. }, "inReplyTo");
    let b = with(|m| m.ext = arr(&[]));
    assert_err!(
        reject(&b),
        ContentError::WrongType {
            expected: "map",
            ..
        },
        "mimiExtensions"
    );
}

#[test]
fn float_where_integer_required() {
    // disposition 1.0 as a half float
    let b = with(|m| {
        m.body = arr(&[
            vec![0xf9, 0x3c, 0x00],
            tstr(""),
            uint(1),
            tstr("t"),
            bstr(b"x"),
        ])
    });
    assert_err!(
        reject(&b),
        ContentError::FloatNotAllowed { .. },
        "nestedPart.disposition"
    );
}

#[test]
fn tag_where_untagged_required() {
    // salt wrapped in tag 24
    let b = with(|m| {
        let mut v = vec![0xd8, 0x18];
        v.extend(bstr(&[0x5a; 16]));
        m.salt = v;
    });
    assert_err!(
        reject(&b),
        ContentError::TagNotAllowed { tag: 24, .. },
        "salt"
    );
}

#[test]
fn expiration_shape_and_range() {
    let b = with(|m| m.expires = arr(&[vec![0xf4], uint(1), uint(2)]));
    assert_err!(
        reject(&b),
        ContentError::WrongArrayLength { found: 3, .. },
        "expires"
    );
    let b = with(|m| m.expires = arr(&[uint(0), uint(1)]));
    assert_err!(
        reject(&b),
        ContentError::WrongType {
            expected: "bool",
            ..
        },
        "expires.relative"
    );
    let b = with(|m| m.expires = arr(&[vec![0xf4], uint(1 << 32)]));
    assert_err!(
        reject(&b),
        ContentError::IntegerOutOfRange {
            max: 4294967295,
            ..
        },
        "expires.time"
    );
    assert!(MimiContent::decode(&with(
        |m| m.expires = arr(&[vec![0xf5], uint(u32::MAX as u64)])
    ))
    .is_ok());
}

#[test]
fn disposition_out_of_range() {
    let b = with(|m| m.body = single(256, "t", b"x"));
    assert_err!(
        reject(&b),
        ContentError::IntegerOutOfRange {
            value: 256,
            max: 255,
            ..
        },
        "nestedPart.disposition"
    );
    // unknown but in-range dispositions are fine and treated as render
    let c = MimiContent::decode(&with(|m| m.body = single(200, "t", b"x"))).unwrap();
    assert_eq!(c.nested_part.disposition, Disposition::Other(200));
    assert_eq!(c.nested_part.disposition.effective(), Disposition::Render);
}

#[test]
fn unknown_cardinality() {
    let b = with(|m| m.body = arr(&[uint(1), tstr(""), uint(4)]));
    assert_err!(
        reject(&b),
        ContentError::UnknownCardinality { value: 4, .. },
        "nestedPart.cardinality"
    );
}

#[test]
fn cardinality_and_array_length_disagree() {
    // a NullPart (cardinality 0) carrying SinglePart fields
    let b = with(|m| m.body = arr(&[uint(1), tstr(""), uint(0), tstr("t"), bstr(b"x")]));
    assert_err!(
        reject(&b),
        ContentError::WrongArrayLength {
            found: 5,
            expected: "3 (NullPart)",
            ..
        },
        "nestedPart"
    );
}

#[test]
fn nested_part_impossible_length() {
    let b = with(|m| m.body = arr(&[uint(1), tstr(""), uint(1), tstr("t")]));
    assert_err!(
        reject(&b),
        ContentError::WrongArrayLength { found: 4, .. },
        "nestedPart"
    );
}

#[test]
fn external_part_field_ranges() {
    fn external(expires: u64, enc: u64, hash: u64) -> Vec<u8> {
        arr(&[
            uint(6),
            tstr(""),
            uint(2),
            tstr("video/mp4"),
            tstr("https://e.example/x"),
            uint(expires),
            uint(0),
            uint(enc),
            bstr(&[0; 16]),
            bstr(&[0; 12]),
            bstr(b""),
            uint(hash),
            bstr(&[0; 32]),
            tstr(""),
            tstr("x.mp4"),
        ])
    }
    assert!(MimiContent::decode(&with(|m| m.body = external(u32::MAX as u64, 65535, 255))).is_ok());
    let b = with(|m| m.body = external(1 << 32, 1, 1));
    assert_err!(
        reject(&b),
        ContentError::IntegerOutOfRange { .. },
        "nestedPart.expires"
    );
    let b = with(|m| m.body = external(0, 65536, 1));
    assert_err!(
        reject(&b),
        ContentError::IntegerOutOfRange { max: 65535, .. },
        "nestedPart.encAlg"
    );
    let b = with(|m| m.body = external(0, 1, 256));
    assert_err!(
        reject(&b),
        ContentError::IntegerOutOfRange { max: 255, .. },
        "nestedPart.hashAlg"
    );
}

#[test]
fn multipart_needs_two_parts() {
    let b = with(|m| m.body = multi(2, &[single(1, "t", b"x")]));
    assert_err!(
        reject(&b),
        ContentError::TooFewParts { found: 1, .. },
        "nestedPart.parts"
    );
    let b = with(|m| m.body = multi(2, &[]));
    assert_err!(
        reject(&b),
        ContentError::TooFewParts { found: 0, .. },
        "nestedPart.parts"
    );
}

#[test]
fn unknown_part_semantics() {
    let p = single(1, "t", b"x");
    let b = with(|m| m.body = multi(3, &[p.clone(), p]));
    assert_err!(
        reject(&b),
        ContentError::UnknownPartSemantics { value: 3, .. },
        "nestedPart.partSemantics"
    );
}

#[test]
fn part_nesting_limit() {
    let leaf = single(1, "t", b"x");
    let nest = |levels: usize| {
        let mut p = leaf.clone();
        for _ in 1..levels {
            p = multi(2, &[p, leaf.clone()]);
        }
        p
    };
    // 4 levels (root = 1) as in multipart-3: accepted
    assert!(MimiContent::decode(&with(|m| m.body = nest(4))).is_ok());
    let b = with(|m| m.body = nest(5));
    assert_err!(
        reject(&b),
        ContentError::PartNestingTooDeep {
            level: 5,
            limit: 4,
            ..
        },
        "nestedPart.parts[0].parts[0].parts[0].parts[0]"
    );
}

#[test]
fn extension_value_nesting_limit() {
    // The draft's own example is exactly 4 levels deep: accepted.
    let draft_example = arr(&[
        arr(&[bstr(&[0x12, 0x34]), {
            let mut t = vec![0xd8, 0x20];
            t.extend(tstr("http://example.com"));
            t
        }]),
        arr(&[bstr(&[0x34, 0x56]), uint(5771)]),
    ]);
    assert!(MimiContent::decode(&ext_value(draft_example)).is_ok());
    // One more level is refused.
    let b = ext_value(arr(&[arr(&[arr(&[arr(&[uint(1)])])])]));
    assert_err!(
        reject(&b),
        ContentError::ExtensionNestingTooDeep {
            level: 5,
            limit: 4,
            ..
        },
        "mimiExtensions[256][0][0][0]"
    );
    // Tags count as a level.
    let b = ext_value(arr(&[arr(&[vec![0xc6, 0xc6, 0x01]])]));
    assert_err!(reject(&b), ContentError::ExtensionNestingTooDeep { .. });
}

// ---- receiver limits ---------------------------------------------------------------

#[test]
fn too_many_parts() {
    let leaf = single(1, "t", b"x");
    let b = with(|m| m.body = multi(2, &[leaf.clone(), leaf.clone(), leaf]));
    let limits = DecodeLimits {
        max_parts: 3,
        ..DecodeLimits::default()
    };
    let e = MimiContent::decode_with_limits(&b, &limits).unwrap_err();
    assert_err!(
        e,
        ContentError::TooManyParts { limit: 3, .. },
        "nestedPart.parts[2]"
    );
    assert!(MimiContent::decode_with_limits(
        &b,
        &DecodeLimits {
            max_parts: 4,
            ..limits
        }
    )
    .is_ok());
    // Default: 1024 parts. 1025 leaves under one root is refused.
    let leaves: Vec<Vec<u8>> = (0..1024).map(|_| single(1, "", b"")).collect();
    let b = with(|m| m.body = multi(2, &leaves));
    assert_err!(reject(&b), ContentError::TooManyParts { limit: 1024, .. });
}

#[test]
fn topic_id_too_long() {
    let b = with(|m| m.topic = bstr(&[7; 4097]));
    assert_err!(
        reject(&b),
        ContentError::TopicIdTooLong {
            len: 4097,
            limit: 4096,
            ..
        }
    );
    assert!(MimiContent::decode(&with(|m| m.topic = bstr(&[7; 4096]))).is_ok());
}

#[test]
fn message_too_large_for_local_policy() {
    let b = Msg::valid().bytes();
    let limits = DecodeLimits {
        max_message_len: b.len() - 1,
        ..DecodeLimits::default()
    };
    let e = MimiContent::decode_with_limits(&b, &limits).unwrap_err();
    assert_err!(e, ContentError::MessageTooLarge { .. });
}

// ---- the encoder refuses what the decoder refuses --------------------------------

fn leaf() -> NestedPart {
    NestedPart {
        disposition: Disposition::Render,
        language: String::new(),
        body: PartBody::Single(SinglePart {
            content_type: "t".into(),
            content: b"x".to_vec(),
        }),
    }
}

fn content_with(body: NestedPart) -> MimiContent {
    MimiContent {
        salt: [1; 16],
        replaces: None,
        topic_id: vec![],
        expires: None,
        in_reply_to: None,
        extensions: Extensions::default(),
        nested_part: body,
    }
}

#[test]
fn encoder_refuses_single_part_multipart() {
    let body = NestedPart {
        body: PartBody::Multi(MultiPart {
            part_semantics: PartSemantics::ChooseOne,
            parts: vec![leaf()],
        }),
        ..leaf()
    };
    assert_err!(
        content_with(body).encode().unwrap_err(),
        ContentError::TooFewParts { .. },
        "nestedPart.parts"
    );
}

#[test]
fn encoder_refuses_duplicate_registered_key() {
    let mut c = content_with(leaf());
    c.extensions.sender_uri = Some("mimi://a.example/u/a".into());
    c.extensions
        .other
        .insert(ExtensionKey::Int(1), ciborium::Value::Text("again".into()));
    assert_err!(
        c.encode().unwrap_err(),
        ContentError::DuplicateMapKey { .. },
        "mimiExtensions"
    );
}

#[test]
fn encoder_refuses_deep_parts() {
    let mut p = leaf();
    for _ in 0..4 {
        p = NestedPart {
            body: PartBody::Multi(MultiPart {
                part_semantics: PartSemantics::ProcessAll,
                parts: vec![p, leaf()],
            }),
            ..leaf()
        };
    }
    assert_err!(
        content_with(p).encode().unwrap_err(),
        ContentError::PartNestingTooDeep { .. }
    );
}

// ---- receiver rules that need context -------------------------------------------

#[test]
fn referenced_id_with_unknown_hash_algorithm() {
    let mut id = [9u8; 32];
    id[0] = 0x02;
    let b = with(|m| m.in_reply_to = bstr(&id));
    // Well-formed and valid as CBOR/CDDL ...
    let c = MimiContent::decode(&b).expect("decodes");
    // ... but a receiver discards it.
    assert_err!(
        c.check_receiver_rules(1_700_000_000).unwrap_err(),
        ContentError::UnknownHashAlgorithm {
            path: "inReplyTo",
            code: 2
        },
        "inReplyTo"
    );
    id[0] = 0x01;
    let ok = MimiContent::decode(&with(|m| m.in_reply_to = bstr(&id))).unwrap();
    assert!(ok.check_receiver_rules(1_700_000_000).is_ok());
}

#[test]
fn expiry_outside_the_plausible_window() {
    let now = 1_700_000_000u64;
    let b = with(|m| m.expires = arr(&[vec![0xf4], uint(now + 2 * 365 * 86400)]));
    let c = MimiContent::decode(&b).expect("decodes");
    assert_err!(
        c.check_receiver_rules(now).unwrap_err(),
        ContentError::ExpiryTooFarInFuture { .. }
    );
    let b = with(|m| m.expires = arr(&[vec![0xf4], uint(now - 2 * 365 * 86400)]));
    let c = MimiContent::decode(&b).expect("decodes");
    assert_err!(
        c.check_receiver_rules(now).unwrap_err(),
        ContentError::ExpiryTooFarInPast { .. }
    );
}
