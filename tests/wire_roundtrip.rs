//! Round trips for every wire type (protocol-06), truncation and random-input robustness,
//! driven by one table of (registry name, type, strategy).

mod wire_support;

use mimi_ref::wire::common::decode_exact;
use mimi_ref::wire::mls::*;
use mimi_ref::wire::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tls_codec::Serialize as _;
use wire_support::strategies as s;

/// Encodes, decodes both ways, compares, re-encodes, and checks the registry entry.
fn check<T>(name: &str, v: &T) -> Result<(), TestCaseError>
where
    T: WireDecode
        + tls_codec::Serialize
        + tls_codec::Size
        + tls_codec::Deserialize
        + PartialEq
        + std::fmt::Debug,
{
    let bytes = v
        .tls_serialize_detached()
        .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
    prop_assert_eq!(bytes.len(), v.tls_serialized_len());
    let a = decode_exact::<T>(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&a, v);
    let b = T::tls_deserialize_exact(&bytes).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
    prop_assert_eq!(&b, v);
    let again = a
        .tls_serialize_detached()
        .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
    prop_assert_eq!(&again, &bytes);
    let info =
        lookup(name).ok_or_else(|| TestCaseError::fail(format!("{name} not in registry")))?;
    let json = info
        .decode_json(&bytes)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(!json.is_null());
    prop_assert_eq!(
        info.reencode(&bytes)
            .map_err(|e| TestCaseError::fail(e.to_string()))?,
        bytes
    );
    Ok(())
}

macro_rules! table {
    ($( $test:ident: $name:literal => $t:ty = $strat:expr; )*) => {
        proptest! {
            #![proptest_config(Config { cases: 48, ..Config::default() })]
            $(
                #[test]
                fn $test(v in $strat) {
                    check::<$t>($name, &v)?;
                }
            )*
        }

        /// Registry name → strategy of valid encodings.
        fn samplers() -> Vec<(&'static str, BoxedStrategy<Vec<u8>>)> {
            vec![$(
                ($name, ($strat).prop_map(|v: $t| v.tls_serialize_detached().expect("encode")).boxed()),
            )*]
        }

        /// Registry name → does the `tls_codec::Deserialize` entry point accept these bytes?
        fn tls_accepts() -> Vec<(&'static str, fn(&[u8]) -> bool)> {
            vec![$(
                ($name, (|b: &[u8]| <$t as tls_codec::Deserialize>::tls_deserialize_exact(b).is_ok()) as fn(&[u8]) -> bool),
            )*]
        }
    };
}

table! {
    rt_protocol: "Protocol" => Protocol = s::protocol();
    rt_identifier_uri: "IdentifierUri" => IdentifierUri = s::uri();
    rt_kmr: "KeyMaterialRequest" => KeyMaterialRequest = s::kmr();
    rt_kmr_tbs: "KeyMaterialRequestTBS" => KeyMaterialRequestTBS = s::kmr_tbs();
    rt_user_code: "KeyMaterialUserCode" => KeyMaterialUserCode = s::user_code();
    rt_client_code: "KeyMaterialClientCode" => KeyMaterialClientCode = s::client_code();
    rt_client_key_material: "ClientKeyMaterial" => ClientKeyMaterial = s::client_key_material();
    rt_kmresp: "KeyMaterialResponse" => KeyMaterialResponse = s::kmresp();
    rt_handshake_bundle: "HandshakeBundle" => HandshakeBundle = s::handshake_bundle();
    rt_gi_representation: "GroupInfoRepresentation" => GroupInfoRepresentation = s::gi_representation();
    rt_gi_option: "GroupInfoOption" => GroupInfoOption = s::gi_option();
    rt_rt_representation: "RatchetTreeRepresentation" => RatchetTreeRepresentation = s::rt_representation();
    rt_rt_option: "RatchetTreeOption" => RatchetTreeOption = s::rt_option();
    rt_rt_presence: "RatchetTreePresence" => RatchetTreePresence = s::rt_presence();
    rt_partial_gi: "PartialGroupInfo" => PartialGroupInfo = s::partial_group_info();
    rt_update_request: "UpdateRequest" => UpdateRequest = s::update_request();
    rt_update_code: "UpdateResponseCode" => UpdateResponseCode = s::update_code();
    rt_update_room_response: "UpdateRoomResponse" => UpdateRoomResponse = s::update_room_response();
    rt_submit_request: "SubmitMessageRequest" => SubmitMessageRequest = s::submit_request();
    rt_submit_code: "SubmitResponseCode" => SubmitResponseCode = s::submit_code();
    rt_submit_response: "SubmitMessageResponse" => SubmitMessageResponse = s::submit_response();
    rt_frank: "Frank" => Frank = s::frank();
    rt_frank_aad: "FrankAAD" => FrankAAD = s::frank_aad();
    rt_franking_agent: "FrankingAgentData" => FrankingAgentData = s::franking_agent();
    rt_franking_context: "ServerFrankingContext" => ServerFrankingContext = s::franking_context();
    rt_franking_tbs: "FrankingIntegrityTBS" => FrankingIntegrityTBS = s::franking_tbs();
    rt_fanout: "FanoutMessage" => FanoutMessage = s::fanout();
    rt_fanouts: "FanoutMessages" => FanoutMessages = s::fanouts();
    rt_gi_request_tbs: "GroupInfoRequestTBS" => GroupInfoRequestTBS = s::gi_request_tbs();
    rt_gi_request: "GroupInfoRequest" => GroupInfoRequest = s::gi_request();
    rt_gi_code: "GroupInfoCode" => GroupInfoCode = s::group_info_code();
    rt_pending_proposal: "PendingProposal" => PendingProposal = s::pending_proposal();
    rt_gi_tbe: "GroupInfoRatchetTreeTBE" => GroupInfoRatchetTreeTBE = s::gi_tbe();
    rt_gi_response_tbs: "GroupInfoResponseTBS" => GroupInfoResponseTBS = s::gi_response_tbs();
    rt_gi_response: "GroupInfoResponse" => GroupInfoResponse = s::gi_response();
    rt_consent_operation: "ConsentOperation" => ConsentOperation = s::consent_operation();
    rt_consent_entry: "ConsentEntry" => ConsentEntry = s::consent_entry();
    rt_consent_scope: "ConsentScope" => ConsentScope = s::consent_scope();
    rt_search_type: "SearchIdentifierType" => SearchIdentifierType = s::search_identifier_type();
    rt_query_element: "QueryElement" => QueryElement = s::query_element();
    rt_identifier_request: "IdentifierRequest" => IdentifierRequest = s::identifier_request();
    rt_query_code: "IdentifierQueryCode" => IdentifierQueryCode = s::query_code();
    rt_field_source: "FieldSource" => FieldSource = s::field_source();
    rt_profile_field: "ProfileField" => ProfileField = s::profile_field();
    rt_user_profile: "UserProfile" => UserProfile = s::user_profile();
    rt_identifier_response: "IdentifierResponse" => IdentifierResponse = s::identifier_response();
    rt_abusive_message: "AbusiveMessage" => AbusiveMessage = s::abusive_message();
    rt_abuse_type: "AbuseType" => AbuseType = s::abuse_type();
    rt_abuse_report: "AbuseReport" => AbuseReport = s::abuse_report();
    rt_pseudo: "PseudonymousCredential" => PseudonymousCredential = s::pseudo();
    rt_pseudo_tbs: "PseudonymousCredentialTBS" => PseudonymousCredentialTBS = s::pseudo_tbs();
    rt_identity_link: "IdentityLinkTBE" => IdentityLinkTBE = s::identity_link();
    rt_user_role_pair: "UserRolePair" => UserRolePair = s::user_role_pair();
    rt_participant_list: "ParticipantListData" => ParticipantListData = s::participant_list();
    rt_user_index_role_pair: "UserindexRolePair" => UserindexRolePair = s::user_index_role_pair();
    rt_participant_list_update: "ParticipantListUpdate" => ParticipantListUpdate = s::participant_list_update();
    rt_uri: "Uri" => Uri = s::room_uri();
    rt_utf8: "UTF8String" => Utf8String = s::utf8();
    rt_rich_description: "RichDescription" => RichDescription = s::rich_description();
    rt_room_metadata: "RoomMetaData" => RoomMetaData = s::room_metadata();
    rt_cipher_suite: "CipherSuite" => CipherSuite = s::suite();
    rt_hpke_ct: "HPKECiphertext" => HpkeCiphertext = s::hpke_ct();
    rt_component_data: "ComponentData" => ComponentData = s::component_data();
    rt_app_data_dictionary: "AppDataDictionary" => AppDataDictionary = s::app_data_dictionary();
    rt_app_data_update_op: "AppDataUpdateOperation" => AppDataUpdateOperation = s::app_data_update_operation();
    rt_app_data_update: "AppDataUpdate" => AppDataUpdate = s::app_data_update();
    rt_safe_aad_item: "SAFEAADItem" => SafeAadItem = s::safe_aad_item();
    rt_safe_aad: "SafeAAD" => SafeAad = s::safe_aad();
    rt_mls_message: "MLSMessage" => MlsMessage = s::any_message();
    rt_key_package: "KeyPackage" => KeyPackage = s::key_package();
    rt_components_list: "ComponentsList" => ComponentsList = prop::collection::vec(any::<u16>(), 0..6).prop_map(|component_ids| ComponentsList { component_ids });
    rt_welcome: "Welcome" => MlsWelcome = s::welcome();
    rt_group_info: "GroupInfo" => MlsGroupInfo = s::group_info();
    rt_credential: "Credential" => MlsCredential = s::credential();
    rt_capabilities: "Capabilities" => MlsCapabilities = s::capabilities();
    rt_required_capabilities: "RequiredCapabilities" => RequiredCapabilities = s::required_capabilities();
    rt_external_sender: "ExternalSender" => MlsExternalSender = s::external_sender();
}

/// Every registry entry has a strategy above (so no type is skipped), and vice versa.
#[test]
fn every_registry_type_has_a_round_trip() {
    let names: Vec<&str> = samplers().iter().map(|(n, _)| *n).collect();
    for t in registry() {
        assert!(
            names.iter().any(|n| n.eq_ignore_ascii_case(t.name)),
            "registry type {} has no round-trip strategy",
            t.name
        );
    }
    for n in &names {
        assert!(lookup(n).is_some(), "{n} is not in the registry");
    }
}

/// Every strict prefix of a valid encoding is rejected with an error (no panic), except
/// FanoutMessages, whose prefixes ending at a message boundary are themselves valid.
#[test]
fn truncated_inputs_are_errors() {
    for (name, strat) in samplers() {
        // A fresh runner per type: a runner counts cases across runs.
        let mut runner = TestRunner::new(Config {
            cases: 6,
            ..Config::default()
        });
        let info = lookup(name).expect("registered");
        runner
            .run(&strat, |bytes| {
                for cut in 0..bytes.len() {
                    let r = info.decode_json(&bytes[..cut]);
                    if name == "FanoutMessages" {
                        if r.is_ok() {
                            // A valid prefix must be a whole number of messages.
                            prop_assert_eq!(
                                info.reencode(&bytes[..cut]).expect("reencode"),
                                bytes[..cut].to_vec()
                            );
                        }
                    } else {
                        prop_assert!(
                            r.is_err(),
                            "{name}: prefix of {cut}/{} bytes decoded",
                            bytes.len()
                        );
                    }
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// A trailing byte after a valid encoding is an error naming the trailing bytes
/// (FanoutMessages: the extra byte is read as the start of another message and fails).
#[test]
fn trailing_bytes_are_errors() {
    for (name, strat) in samplers() {
        // A fresh runner per type: a runner counts cases across runs.
        let mut runner = TestRunner::new(Config {
            cases: 8,
            ..Config::default()
        });
        let info = lookup(name).expect("registered");
        runner
            .run(&strat, |mut bytes| {
                bytes.push(0);
                let e = info
                    .decode_json(&bytes)
                    .expect_err("trailing byte accepted");
                if name != "FanoutMessages" {
                    prop_assert!(
                        matches!(e.kind, WireErrorKind::TrailingBytes(1)),
                        "{name}: {e}"
                    );
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

proptest! {
    #![proptest_config(Config { cases: 512, ..Config::default() })]

    /// Random bytes into every registry entry: an error or a value, never a panic; anything
    /// that decodes re-encodes to exactly the input (decoding is canonical); and the
    /// `tls_codec` entry point agrees. (Every registry entry is in the table, see
    /// `every_registry_type_has_a_round_trip`.)
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        for (name, tls_ok) in tls_accepts() {
            let t = lookup(name).expect("registered");
            let ok = t.decode_json(&bytes).is_ok();
            if ok {
                prop_assert_eq!(t.reencode(&bytes).expect("reencode"), bytes.clone(), "{}", t.name);
            }
            prop_assert_eq!(ok, tls_ok(&bytes), "{}: decoders disagree", t.name);
        }
    }
}

/// Mutations (one byte flipped) of valid encodings: never a panic; canonical if accepted;
/// the registry (offset-tracking decoder) and the `tls_codec::Deserialize` entry point
/// accept exactly the same inputs.
#[test]
fn mutated_encodings_never_panic() {
    let tls = tls_accepts();
    for (name, strat) in samplers() {
        let tls_ok = tls.iter().find(|(n, _)| *n == name).expect("tls entry").1;
        // A fresh runner per type: a runner counts cases across runs.
        let mut runner = TestRunner::new(Config {
            cases: 16,
            ..Config::default()
        });
        let info = lookup(name).expect("registered");
        let strat = strat.prop_flat_map(|b| {
            let n = b.len().max(1);
            (Just(b), 0..n, any::<u8>())
        });
        runner
            .run(&strat, |(mut bytes, i, x)| {
                if let Some(b) = bytes.get_mut(i) {
                    *b ^= x | 1;
                }
                let ok = info.decode_json(&bytes).is_ok();
                if ok {
                    prop_assert_eq!(info.reencode(&bytes).expect("reencode"), bytes.clone());
                }
                prop_assert_eq!(
                    ok,
                    tls_ok(&bytes),
                    "{}: decoders disagree on {}",
                    name,
                    hex::encode(&bytes)
                );
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
