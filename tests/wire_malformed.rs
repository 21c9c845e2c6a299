//! Boundary and malformed-input tests for the protocol-06 wire codec.

mod wire_support;

use mimi_ref::wire::common::{decode_exact, Opaque, Reader, MAX_VL_LEN};
use mimi_ref::wire::mls::*;
use mimi_ref::wire::*;
use tls_codec::{Deserialize as _, Serialize as _};
use wire_support::fixtures::fixtures;

fn err<T: WireDecode + std::fmt::Debug>(bytes: &[u8]) -> WireError {
    decode_exact::<T>(bytes).expect_err("decoded malformed input")
}

// ---------------------------------------------------------------------------
// varint length prefix of opaque<V> (RFC 9420 §2.1.2)

#[test]
fn opaque_length_prefix_boundaries() {
    // (length, expected header)
    let cases: &[(usize, &[u8])] = &[
        (0, &[0x00]),
        (1, &[0x01]),
        (63, &[0x3f]),
        (64, &[0x40, 0x40]),
        (16383, &[0x7f, 0xff]),
        (16384, &[0x80, 0x00, 0x40, 0x00]),
        (100_000, &[0x80, 0x01, 0x86, 0xa0]),
    ];
    for &(len, header) in cases {
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let o = Opaque::new(data.clone());
        let enc = o.tls_serialize_detached().expect("encode");
        assert_eq!(&enc[..header.len()], header, "header for length {len}");
        assert_eq!(enc.len(), header.len() + len);
        assert_eq!(decode_exact::<Opaque>(&enc).expect("decode"), o);
        // The same through a struct field and the registry.
        let f = Frank {
            server_frank: common::Bytes32([9; 32]),
            franking_signature_ciphersuite: CipherSuite(1),
            franking_integrity_signature: o.clone(),
        };
        let fe = f.tls_serialize_detached().expect("encode frank");
        assert_eq!(&fe[34..34 + header.len()], header);
        assert_eq!(decode_exact::<Frank>(&fe).expect("decode frank"), f);
        assert_eq!(lookup("Frank").unwrap().reencode(&fe).unwrap(), fe);
        // One byte short of the announced length is an over-long length error.
        if len > 0 {
            let e = err::<Opaque>(&enc[..enc.len() - 1]);
            assert_eq!(
                e.kind,
                WireErrorKind::LengthExceedsRemaining {
                    len,
                    remaining: len - 1
                }
            );
        }
    }
}

#[test]
fn opaque_max_length_is_2_pow_30_minus_1() {
    // Encoding 2^30 - 1 bytes works (written to a sink; the zeroed buffer is not touched).
    let max = Opaque::new(vec![0u8; MAX_VL_LEN]);
    let n = max
        .tls_serialize(&mut std::io::sink())
        .expect("2^30-1 encodes");
    assert_eq!(n, 4 + MAX_VL_LEN);
    drop(max);
    // 2^30 bytes are rejected on encode.
    let over = Opaque::new(vec![0u8; MAX_VL_LEN + 1]);
    assert_eq!(
        over.tls_serialize(&mut std::io::sink()),
        Err(tls_codec::Error::InvalidVectorLength)
    );
    drop(over);
    // Decoding a 2^30-1 length with all its bytes present works.
    let mut buf = vec![0u8; 4 + MAX_VL_LEN];
    buf[..4].copy_from_slice(&[0xbf, 0xff, 0xff, 0xff]);
    let mut r = Reader::from_slice(&buf);
    assert_eq!(r.vl_len().expect("max length"), MAX_VL_LEN);
    drop(buf);
    // A 2^30 length needs the 8-byte varint form, which MLS forbids.
    let e = err::<Opaque>(&[0xc0, 0, 0, 0, 0x40, 0, 0, 0]);
    assert_eq!(e.kind, WireErrorKind::LengthTooLarge);
    assert_eq!(e.offset, 0);
    // The largest 4-byte header with nothing behind it.
    let e = err::<Opaque>(&[0xbf, 0xff, 0xff, 0xff]);
    assert_eq!(
        e.kind,
        WireErrorKind::LengthExceedsRemaining {
            len: MAX_VL_LEN,
            remaining: 0
        }
    );
}

#[test]
fn non_minimal_varints_are_rejected() {
    for (bytes, value, encoded_len) in [
        (&[0x40u8, 0x05][..], 5u64, 2usize),
        (&[0x40, 0x3f][..], 63, 2),
        (&[0x80, 0x00, 0x00, 0x05][..], 5, 4),
        (&[0x80, 0x00, 0x3f, 0xff][..], 16383, 4),
    ] {
        let mut v = bytes.to_vec();
        v.extend(std::iter::repeat_n(0u8, value as usize));
        let e = err::<Opaque>(&v);
        assert_eq!(
            e.kind,
            WireErrorKind::NonMinimalVarint { value, encoded_len }
        );
        // tls_codec's own decoder agrees that this is not valid.
        assert!(Opaque::tls_deserialize_exact(&v).is_err());
    }
    // The smallest 2- and 4-byte forms are minimal.
    let mut v = vec![0x40, 0x40];
    v.extend([0u8; 64]);
    assert_eq!(decode_exact::<Opaque>(&v).unwrap().len(), 64);
    // Vectors use the same rule.
    let e = err::<ParticipantListData>(&[0x40, 0x00]);
    assert_eq!(e.path(), "ParticipantListData.participants");
    assert!(matches!(e.kind, WireErrorKind::NonMinimalVarint { .. }));
}

#[test]
fn error_names_struct_field_and_offset() {
    // responseCode success, errorDescription announcing 70000 bytes, 12 bytes present.
    let mut b = vec![0x00, 0x80, 0x01, 0x11, 0x70];
    b.extend([b'x'; 12]);
    let e = lookup("UpdateRoomResponse")
        .unwrap()
        .decode_json(&b)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "UpdateRoomResponse.errorDescription at byte 1: length 70000 exceeds remaining 12 bytes"
    );

    // Nested: the second client of a KeyMaterialResponse has an unknown status.
    let kp = fixtures().key_packages[0].clone();
    let ok_client = ClientKeyMaterial {
        client_uri: IdentifierUri::new("mimi://a.example/d/1"),
        status: ClientKeyMaterialStatus::Success {
            key_package: KeyPackage::from_bytes(&kp).unwrap(),
        },
    };
    let good = KeyMaterialResponse {
        protocol: Protocol::Mls10,
        user_status: KeyMaterialUserCode::Success,
        user_uri: IdentifierUri::new("mimi://a.example/u/bob"),
        clients: vec![ok_client.clone(), ok_client],
    }
    .tls_serialize_detached()
    .unwrap();
    // Offset of clients[1].clientStatus: 3 + user uri + vector header + first client.
    let first_len = 1 + 1 + "mimi://a.example/d/1".len() + kp.len();
    let uri_len = 1 + "mimi://a.example/u/bob".len();
    let vec_hdr = if 2 * first_len > 16383 { 4 } else { 2 };
    let off = 2 + uri_len + vec_hdr + first_len;
    let mut bad = good.clone();
    bad[off] = 9;
    let e = err::<KeyMaterialResponse>(&bad);
    assert_eq!(e.path(), "KeyMaterialResponse.clients[1].clientStatus");
    assert_eq!(e.offset, off);
    assert_eq!(
        e.kind,
        WireErrorKind::UnknownValue {
            enum_name: "KeyMaterialClientCode",
            value: 9
        }
    );
    // A KeyPackage cut short inside the first client names it.
    let kp_off = 2 + uri_len + vec_hdr + 2 + "mimi://a.example/d/1".len();
    let e = err::<KeyMaterialResponse>(&good[..kp_off + 10]);
    assert_eq!(e.path(), "KeyMaterialResponse.clients");
    assert!(
        matches!(e.kind, WireErrorKind::LengthExceedsRemaining { .. }),
        "{e}"
    );
    // Inside a complete vector, a broken KeyPackage is reported by openmls.
    let mut bad = good.clone();
    bad[kp_off + 4] = 0xff; // high byte of the HPKE init key length: a 4-byte varint
    bad[kp_off + 5] = 0xff;
    let e = err::<KeyMaterialResponse>(&bad);
    assert_eq!(e.path(), "KeyMaterialResponse.clients[0].keyPackage");
    assert_eq!(e.offset, kp_off);
}

#[test]
fn unknown_enum_values_are_typed_errors() {
    macro_rules! each {
        ($($t:ty),*) => {$(
            for v in 0..=255u8 {
                let r = decode_exact::<$t>(&[v]);
                if <$t>::from_code(v).is_some() {
                    assert_eq!(r.unwrap().code(), v);
                } else {
                    let e = r.unwrap_err();
                    assert!(
                        matches!(e.kind, WireErrorKind::UnknownValue { value, .. } if value == u64::from(v)),
                        "{e}"
                    );
                }
            }
        )*};
    }
    each!(
        Protocol,
        KeyMaterialUserCode,
        KeyMaterialClientCode,
        GroupInfoRepresentation,
        RatchetTreeRepresentation,
        RatchetTreePresence,
        UpdateResponseCode,
        SubmitResponseCode,
        GroupInfoCode,
        ConsentOperation,
        SearchIdentifierType,
        IdentifierQueryCode,
        FieldSource,
        AbuseType,
        AppDataUpdateOperation
    );
    // Protocol reserved(0) is not a protocol.
    let e = err::<SubmitMessageResponse>(&[0x00, 0x00]);
    assert_eq!(
        e.to_string(),
        "SubmitMessageResponse.protocol at byte 0: unknown Protocol value 0"
    );
    let e = err::<UpdateRoomResponse>(&[0x07, 0x00]);
    assert_eq!(e.path(), "UpdateRoomResponse.responseCode");
}

#[test]
fn code_points_match_the_draft() {
    assert_eq!(codepoints::FRANK_AAD, 0x0020);
    assert_eq!(codepoints::FRANKING_AGENT, 0x0021);
    assert_eq!(codepoints::PARTICIPANT_LIST, 0x0022);
    assert_eq!(codepoints::ROOM_METADATA, 0x0023);
    assert_eq!(Protocol::Mls10.code(), 1);
    assert_eq!(UpdateResponseCode::InvalidProposal.code(), 3);
    assert_eq!(GroupInfoCode::NoSuchRoom.code(), 3);
    assert_eq!(KeyMaterialUserCode::UserDeleted.code(), 7);
    assert_eq!(SearchIdentifierType::VcardField.code(), 8);
    assert_eq!(FieldSource::OidcStdClaim.code(), 7);
    assert_eq!(ConsentOperation::Revoke.code(), 3);
    assert_eq!(RatchetTreeRepresentation::DistributionService.code(), 4);
}

#[test]
fn reserved_values_without_a_case_are_rejected() {
    for (name, bytes) in [
        ("GroupInfoOption", &[0x00][..]),
        ("RatchetTreeOption", &[0x00][..]),
        ("QueryElement", &[0x00, 0x00][..]),
        ("AppDataUpdate", &[0x00, 0x01, 0x00][..]),
    ] {
        let e = lookup(name).unwrap().decode_json(bytes).unwrap_err();
        assert!(
            matches!(e.kind, WireErrorKind::NoSelectCase { .. }),
            "{name}: {e}"
        );
    }
    // GroupInfoResponse has a default arm, so reserved(0) decodes with no payload.
    let v = decode_exact::<GroupInfoResponse>(&[0x01, 0x00, 0x00]).unwrap();
    assert_eq!(v.status, GroupInfoStatus::Reserved);
}

#[test]
fn optional_flag_strings_and_component_order() {
    // accepted, timestamp, optional<Frank> flag 2.
    let mut b = vec![0x01, 0x00];
    b.extend(5u64.to_be_bytes());
    b.push(2);
    let e = err::<SubmitMessageResponse>(&b);
    assert_eq!(e.path(), "SubmitMessageResponse.frank");
    assert_eq!(e.kind, WireErrorKind::BadOptionalFlag(2));
    assert_eq!(e.offset, 10);

    // string must be UTF-8.
    let e = err::<UpdateRoomResponse>(&[0x02, 0x01, 0xff]);
    assert_eq!(e.kind, WireErrorKind::InvalidUtf8);
    assert_eq!(e.path(), "UpdateRoomResponse.errorDescription");
    // UTF8String must not hold NUL.
    assert_eq!(
        err::<Utf8String>(&[0x02, b'a', 0x00]).kind,
        WireErrorKind::NulInString
    );
    assert!(Utf8String::new("a\0b").is_err());

    // AppDataDictionary: sorted, unique component ids.
    let unsorted = [0x06, 0x00, 0x02, 0x00, 0x00, 0x01, 0x00];
    let e = err::<AppDataDictionary>(&unsorted);
    assert_eq!(
        e.kind,
        WireErrorKind::ComponentOrder {
            previous: 2,
            next: 1
        }
    );
    let dup = [0x06, 0x00, 0x02, 0x00, 0x00, 0x02, 0x00];
    let e = err::<AppDataDictionary>(&dup);
    assert_eq!(
        e.kind,
        WireErrorKind::ComponentOrder {
            previous: 2,
            next: 2
        }
    );
    let d = AppDataDictionary {
        component_data: vec![
            ComponentData {
                component_id: 5,
                data: Opaque::default(),
            },
            ComponentData {
                component_id: 4,
                data: Opaque::default(),
            },
        ],
    };
    assert!(d.tls_serialize_detached().is_err());
    let e = err::<SafeAad>(&dup);
    assert!(matches!(e.kind, WireErrorKind::ComponentOrder { .. }));
}

#[test]
fn vector_element_overrunning_its_vector_is_rejected() {
    // ParticipantListUpdate.removedIndices announces 3 bytes; a uint32 needs 4.
    let b = [0x00, 0x03, 0, 0, 0, 0, 0x00];
    let e = err::<ParticipantListUpdate>(&b);
    assert_eq!(e.path(), "ParticipantListUpdate.removedIndices[0]");
    assert!(
        matches!(
            e.kind,
            WireErrorKind::Truncated {
                needed: 4,
                remaining: 3
            }
        ),
        "{e}"
    );
}

// ---------------------------------------------------------------------------
// MLS-dependent selects

fn msg(b: &[u8]) -> MlsMessage {
    MlsMessage::from_bytes(b).unwrap()
}

#[test]
fn handshake_bundle_select_follows_the_content_type() {
    let f = fixtures();
    // An application PrivateMessage cannot start a HandshakeBundle.
    let e = err::<HandshakeBundle>(&f.app_messages[0]);
    assert_eq!(e.path(), "HandshakeBundle.proposalOrCommit");
    assert!(
        matches!(e.kind, WireErrorKind::MlsMessageNotAllowed(_)),
        "{e}"
    );
    // A proposal bundle whose moreProposals holds a commit.
    let mut b = f.proposals[0].clone();
    let c = &f.commits[0];
    let len = c.len();
    assert!(len < 16384);
    b.extend([0x40 | (len >> 8) as u8, len as u8]);
    b.extend(c);
    let e = err::<HandshakeBundle>(&b);
    assert_eq!(e.path(), "HandshakeBundle.moreProposals[0]");
    // Encoding refuses an arm that does not match the message.
    let wrong = HandshakeBundle {
        proposal_or_commit: msg(&f.proposals[0]),
        body: HandshakeBundleBody::Commit {
            welcome: None,
            group_info_option: GroupInfoOption::Full {
                group_info: MlsGroupInfo::from_bytes(&f.group_infos[0]).unwrap(),
            },
            ratchet_tree_option: RatchetTreeOption::DistributionService,
        },
    };
    assert!(wrong.tls_serialize_detached().is_err());
    // A good proposal bundle decodes via the context-taking entry point too.
    let mut good = f.proposals[0].clone();
    good.push(0x00);
    let mut r = Reader::from_slice(&good);
    let u = UpdateRequest::decode_for(Protocol::Mls10, &mut r).unwrap();
    assert_eq!(r.pos(), good.len());
    assert!(
        matches!(u.bundle.body, HandshakeBundleBody::Proposal { ref more_proposals } if more_proposals.is_empty())
    );
}

#[test]
fn fanout_select_follows_the_message() {
    let f = fixtures();
    let mut b = 7u64.to_be_bytes().to_vec();
    b.extend(&f.group_info_messages[0]);
    let e = err::<FanoutMessage>(&b);
    assert_eq!(e.path(), "FanoutMessage.message");
    assert_eq!(e.offset, 8);
    // A welcome message needs a RatchetTreeOption; distributionService = 4.
    let mut b = 7u64.to_be_bytes().to_vec();
    b.extend(&f.welcome_messages[0]);
    b.push(4);
    let v = decode_exact::<FanoutMessage>(&b).unwrap();
    assert_eq!(
        v.body,
        FanoutBody::Welcome {
            ratchet_tree_option: RatchetTreeOption::DistributionService
        }
    );
    // Two messages back to back, no prefix.
    let two = [b.clone(), b.clone()].concat();
    assert_eq!(decode_exact::<FanoutMessages>(&two).unwrap().0.len(), 2);
    assert!(decode_exact::<FanoutMessages>(&[]).is_err());
    // JSON shows MLS structure.
    let j = lookup("FanoutMessage").unwrap().decode_json(&b).unwrap();
    assert_eq!(j["message"]["mls"], "MLSMessage");
    assert_eq!(j["message"]["summary"]["wire_format"], "mls_welcome");
    assert_eq!(j["case"], "welcome");
    assert_eq!(
        j["ratchetTreeOption"]["representation"],
        "distributionService"
    );
}

#[test]
fn client_key_material_takes_protocol_from_context() {
    let f = fixtures();
    let mut b = vec![0x00];
    b.extend(
        IdentifierUri::new("mimi://b.example/d/7")
            .tls_serialize_detached()
            .unwrap(),
    );
    b.extend(&f.key_packages[1]);
    let mut r = Reader::from_slice(&b);
    let c = ClientKeyMaterial::decode_for(Protocol::Mls10, &mut r).unwrap();
    assert_eq!(r.pos(), b.len());
    assert_eq!(c.status.code(), KeyMaterialClientCode::Success);
    let j = lookup("ClientKeyMaterial")
        .unwrap()
        .decode_json(&b)
        .unwrap();
    assert_eq!(j["clientStatus"], "success");
    assert_eq!(j["clientUri"], "mimi://b.example/d/7");
    assert_eq!(j["keyPackage"]["mls"], "KeyPackage");
}

#[test]
fn tls_codec_entry_points_return_errors_not_panics() {
    let f = fixtures();
    let b = &f.commits[0];
    for cut in (0..b.len()).step_by(7) {
        assert!(HandshakeBundle::tls_deserialize_exact(&b[..cut]).is_err());
        assert!(FanoutMessage::tls_deserialize_exact(&b[..cut]).is_err());
    }
    assert!(KeyMaterialResponse::tls_deserialize_exact([0x01, 0x09]).is_err());
    assert_eq!(
        UpdateRoomResponse::tls_deserialize_exact([0x09]),
        Err(tls_codec::Error::UnknownValue(9))
    );
}

#[test]
fn group_info_request_tbs_is_a_prefix_of_the_request() {
    let f = fixtures();
    let req = GroupInfoRequest {
        protocol: Protocol::Mls10,
        cipher_suite: CipherSuite(1),
        requesting_signature_key: SignaturePublicKey::from(f.signature_keys[0].clone()),
        requesting_credential: MlsCredential::from_bytes(&f.credentials[0]).unwrap(),
        group_info_public_key: HpkePublicKey::from(vec![1, 2, 3]),
        joining_code: Some(Opaque::new(b"abc".to_vec())),
        signature: Opaque::new(vec![5; 64]),
    };
    let full = req.tls_serialize_detached().unwrap();
    let tbs = req.tbs().tls_serialize_detached().unwrap();
    assert_eq!(&full[..tbs.len()], &tbs[..]);
    let kmr_tbs_prefix = |r: &KeyMaterialRequest| {
        let full = r.tls_serialize_detached().unwrap();
        let tbs = r.tbs().tls_serialize_detached().unwrap();
        full.starts_with(&tbs)
    };
    let r = KeyMaterialRequest {
        protocol: Protocol::Mls10,
        requesting_user: IdentifierUri::new("mimi://a.example/u/alice"),
        target_user: IdentifierUri::new("mimi://b.example/u/bob"),
        room_id: IdentifierUri::new(""),
        acceptable_ciphersuites: vec![CipherSuite(1)],
        required_capabilities: RequiredCapabilities::from_bytes(&f.required_capabilities[1])
            .unwrap(),
        requester_signature_key: SignaturePublicKey::from(f.signature_keys[0].clone()),
        requester_credential: MlsCredential::from_bytes(&f.credentials[0]).unwrap(),
        key_material_request_signature: Opaque::new(vec![1; 64]),
    };
    assert!(kmr_tbs_prefix(&r));
    assert_eq!(CipherSuite(1).to_openmls().map(u16::from), Some(1));
    assert_eq!(CipherSuite(0x7777).to_openmls(), None);
}

// ---------------------------------------------------------------------------
// §5.1 directory

const DRAFT_EXAMPLE_FIXED: &str = r#"{
  "keyMaterial":
     "https://mimi.example.com/v1/keyMaterial/{targetUser}",
  "update": "https://mimi.example.com/v1/update{roomId}",
  "notify": "https://mimi.example.com/v1/notify/{roomId}",
  "submitMessage":
     "https://mimi.example.com/v1/submitMessage/{roomId}",
  "groupInfo":
     "https://mimi.example.com/v1/groupInfo/{roomId}",
  "requestConsent":
     "https://mimi.example.com/v1/requestConsent/{targetUser}",
  "updateConsent":
     "https://mimi.example.com/v1/updateConsent/{requesterUser}",
  "identifierQuery":
     "https://mimi.example.com/v1/identifierQuery/{domain}",
  "reportAbuse":
     "https://mimi.example.com/v1/reportAbuse/{roomId}",
  "proxyDownload":
     "https://mimi.example.com/v1/proxyDownload/{downloadUrl}"
}"#;

#[test]
fn directory_json_round_trip_with_the_draft_example() {
    // The draft's text lacks the ':' after "proxyDownload" and is not JSON.
    let verbatim = DRAFT_EXAMPLE_FIXED.replace("\"proxyDownload\":", "\"proxyDownload\"");
    assert!(serde_json::from_str::<Directory>(&verbatim).is_err());

    let d: Directory = serde_json::from_str(DRAFT_EXAMPLE_FIXED).unwrap();
    assert_eq!(
        d.key_material,
        "https://mimi.example.com/v1/keyMaterial/{targetUser}"
    );
    assert_eq!(d.update, "https://mimi.example.com/v1/update{roomId}");
    assert_eq!(
        d.proxy_download,
        "https://mimi.example.com/v1/proxyDownload/{downloadUrl}"
    );
    assert!(d.other.is_empty());
    let again: Directory = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
    assert_eq!(again, d);
    let v: serde_json::Value = serde_json::to_value(&d).unwrap();
    let want: serde_json::Value = serde_json::from_str(DRAFT_EXAMPLE_FIXED).unwrap();
    assert_eq!(v, want);
    for e in Endpoint::ALL {
        assert!(v.get(e.name()).is_some(), "{}", e.name());
    }

    // Template expansion percent-encodes the parameter.
    assert_eq!(
        d.url(Endpoint::Notify, "mimi://hub.example/r/club house")
            .unwrap(),
        "https://mimi.example.com/v1/notify/mimi%3A%2F%2Fhub.example%2Fr%2Fclub%20house"
    );
    let ours = Directory::with_base("https://mimi.example.com/v1");
    assert_eq!(ours.update, "https://mimi.example.com/v1/update/{roomId}");
    assert_eq!(ours.notify, d.notify);

    // Unknown keys are kept; a missing endpoint is an error.
    let mut extra = want.clone();
    extra["futureThing"] = "https://x.example/{y}".into();
    let d2: Directory = serde_json::from_value(extra).unwrap();
    assert_eq!(d2.other.len(), 1);
    let mut missing = want;
    missing.as_object_mut().unwrap().remove("groupInfo");
    assert!(serde_json::from_value::<Directory>(missing).is_err());
}

#[test]
fn registry_lookup_is_case_insensitive_and_names_are_unique() {
    assert_eq!(
        lookup("updateroomresponse").unwrap().name,
        "UpdateRoomResponse"
    );
    assert_eq!(
        lookup("KEYMATERIALREQUEST").unwrap().section,
        "protocol-06 §5.2"
    );
    assert!(lookup("NoSuchType").is_none());
    let mut names: Vec<String> = registry()
        .iter()
        .map(|t| t.name.to_ascii_lowercase())
        .collect();
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n);
    for t in registry() {
        assert!(!t.summary.is_empty() && !t.section.is_empty(), "{}", t.name);
        // Empty input is never a value.
        assert!(t.decode_json(&[]).is_err(), "{}", t.name);
    }
}

#[test]
fn stream_decoding_consumes_exactly_one_value() {
    let f = fixtures();
    for commit in &f.commits {
        let hb = HandshakeBundle {
            proposal_or_commit: msg(commit),
            body: HandshakeBundleBody::Commit {
                welcome: Some(MlsWelcome::from_bytes(&f.welcomes[0]).unwrap()),
                group_info_option: GroupInfoOption::Full {
                    group_info: MlsGroupInfo::from_bytes(&f.group_infos[0]).unwrap(),
                },
                ratchet_tree_option: RatchetTreeOption::OutOfBand {
                    tree_signature: Opaque::new(vec![3; 70]),
                },
            },
        };
        let mut buf = hb.tls_serialize_detached().unwrap();
        let n = buf.len();
        buf.extend([0xaa, 0xbb]);
        let mut s = &buf[..];
        let v = HandshakeBundle::tls_deserialize(&mut s).unwrap();
        assert_eq!(v, hb);
        assert_eq!(s, &[0xaa, 0xbb]);
        // Truncated inside the MLS message: a typed MLS truncation error.
        let e = err::<HandshakeBundle>(&buf[..20]);
        assert_eq!(e.path(), "HandshakeBundle.proposalOrCommit");
        assert_eq!(
            e.kind,
            WireErrorKind::MlsTruncated {
                mls_type: "MLSMessage"
            }
        );
        let e = err::<HandshakeBundle>(&buf[..n - 1]);
        assert_eq!(e.path(), "HandshakeBundle.ratchetTreeOption.tree_signature");
    }
}

#[test]
fn json_shows_mls_structure_and_draft_names() {
    let f = fixtures();
    let kp = &f.key_packages[0];
    let j = lookup("KeyPackage").unwrap().decode_json(kp).unwrap();
    assert_eq!(j["mls"], "KeyPackage");
    assert_eq!(j["len"], kp.len());
    assert_eq!(j["summary"]["cipher_suite"], 1);
    assert_eq!(j["summary"]["identity"], "mimi://example.com/u/bob");
    assert_eq!(j["hex"], hex::encode(kp));
    let c = lookup("Commit");
    assert!(c.is_none());
    let j = lookup("MLSMessage")
        .unwrap()
        .decode_json(&f.commits[0])
        .unwrap();
    assert_eq!(j["summary"]["wire_format"], "mls_public_message");
    assert_eq!(j["summary"]["content_type"], "commit");
    let r = UpdateRoomResponse {
        error_description: "late".into(),
        result: UpdateResult::WrongEpoch { current_epoch: 4 },
    };
    let j = lookup("UpdateRoomResponse")
        .unwrap()
        .decode_json(&r.tls_serialize_detached().unwrap())
        .unwrap();
    assert_eq!(
        j,
        serde_json::json!({"responseCode": "wrongEpoch", "errorDescription": "late", "currentEpoch": 4})
    );
}

#[test]
fn component_helpers_use_the_draft_ids() {
    let pl = ParticipantListData {
        participants: vec![UserRolePair {
            user: common::UriBytes(Opaque::new(b"mimi://a.example/u/alice".to_vec())),
            role_index: 4,
        }],
    };
    let c = pl.to_component().unwrap();
    assert_eq!(c.component_id, 0x0022);
    assert_eq!(
        ParticipantListData::from_component(&c).unwrap().unwrap(),
        pl
    );
    assert!(RoomMetaData::from_component(&c).is_none());
    let u = ParticipantListUpdate {
        changed_role_participants: vec![],
        removed_indices: vec![0],
        added_participants: vec![],
    }
    .to_app_data_update()
    .unwrap();
    assert_eq!(u.component_id, 0x0022);
    let AppDataOp::Update { update } = &u.op else {
        panic!("not an update")
    };
    assert_eq!(update.as_slice(), &[0x00, 0x04, 0, 0, 0, 0, 0x00]);
    let aad = FrankAAD {
        franking_tag: common::Bytes32([1; 32]),
    }
    .to_safe_aad_item();
    assert_eq!(aad.component_id, 0x0020);
    assert_eq!(aad.aad_item_data.len(), 32);
    // A corrupt component body is a typed error naming the struct.
    let bad = ComponentData {
        component_id: 0x0023,
        data: Opaque::new(vec![0x05]),
    };
    let e = RoomMetaData::from_component(&bad).unwrap().unwrap_err();
    assert_eq!(e.path(), "RoomMetaData.room_uri.uri");
}
