//! proptest strategies for every wire type. Embedded MLS objects are sampled from real
//! objects made by openmls (see `fixtures`).

use mimi_ref::wire::common::{Bytes32, UriBytes};
use mimi_ref::wire::mls::*;
use mimi_ref::wire::*;
use proptest::prelude::*;

use super::fixtures::fixtures;

fn pick<K: MlsKind>(list: &'static [Vec<u8>]) -> BoxedStrategy<Mls<K>> {
    prop::sample::select(list)
        .prop_map(|b| Mls::<K>::from_bytes(&b).expect("fixture decodes"))
        .boxed()
}

/// `opaque<V>` up to 80 bytes.
pub fn opaque() -> impl Strategy<Value = Opaque> {
    prop::collection::vec(any::<u8>(), 0..80).prop_map(Opaque::new)
}
/// `string`.
pub fn string() -> impl Strategy<Value = WireString> {
    ".{0,12}".prop_map(|s| WireString::new(s).expect("string"))
}
/// `UTF8String` (no NUL).
pub fn utf8() -> impl Strategy<Value = Utf8String> {
    "[^\u{0}]{0,12}".prop_map(|s| Utf8String::new(s).expect("utf8"))
}
/// URI bytes, any bytes.
pub fn uri_bytes() -> impl Strategy<Value = UriBytes> {
    prop_oneof![
        "mimi://[a-z]{1,8}\\.example/u/[a-z]{1,8}"
            .prop_map(|s| UriBytes(Opaque::new(s.into_bytes()))),
        prop::collection::vec(any::<u8>(), 0..20).prop_map(|b| UriBytes(Opaque::new(b))),
    ]
}
/// `IdentifierUri`.
pub fn uri() -> impl Strategy<Value = IdentifierUri> {
    uri_bytes().prop_map(|uri| IdentifierUri { uri })
}
/// 32 bytes.
pub fn b32() -> impl Strategy<Value = Bytes32> {
    any::<[u8; 32]>().prop_map(Bytes32)
}
/// Any CipherSuite code point.
pub fn suite() -> impl Strategy<Value = CipherSuite> {
    any::<u16>().prop_map(CipherSuite)
}
fn vec_of<S: Strategy>(s: S, max: usize) -> impl Strategy<Value = Vec<S::Value>> {
    prop::collection::vec(s, 0..max)
}

/// MLS objects.
pub fn commit() -> BoxedStrategy<MlsMessage> {
    pick(&fixtures().commits)
}
/// Handshake proposals (PublicMessage).
pub fn proposal() -> BoxedStrategy<MlsMessage> {
    pick(&fixtures().proposals)
}
/// Application PrivateMessages.
pub fn app_message() -> BoxedStrategy<MlsMessage> {
    pick(&fixtures().app_messages)
}
/// Welcome MLSMessages.
pub fn welcome_message() -> BoxedStrategy<MlsMessage> {
    pick(&fixtures().welcome_messages)
}
/// Any MLSMessage.
pub fn any_message() -> BoxedStrategy<MlsMessage> {
    prop_oneof![
        commit(),
        proposal(),
        app_message(),
        welcome_message(),
        pick(&fixtures().group_info_messages)
    ]
    .boxed()
}
/// Bare KeyPackages.
pub fn key_package() -> BoxedStrategy<KeyPackage> {
    pick(&fixtures().key_packages)
}
/// Bare Welcomes.
pub fn welcome() -> BoxedStrategy<MlsWelcome> {
    pick(&fixtures().welcomes)
}
/// Bare GroupInfos.
pub fn group_info() -> BoxedStrategy<MlsGroupInfo> {
    pick(&fixtures().group_infos)
}
/// Credentials.
pub fn credential() -> BoxedStrategy<MlsCredential> {
    pick(&fixtures().credentials)
}
/// Capabilities.
pub fn capabilities() -> BoxedStrategy<MlsCapabilities> {
    pick(&fixtures().capabilities)
}
/// RequiredCapabilities.
pub fn required_capabilities() -> BoxedStrategy<RequiredCapabilities> {
    pick(&fixtures().required_capabilities)
}
/// ExternalSenders.
pub fn external_sender() -> BoxedStrategy<MlsExternalSender> {
    pick(&fixtures().external_senders)
}
/// Signature keys: real ones and random bytes.
pub fn sig_key() -> impl Strategy<Value = SignaturePublicKey> {
    prop_oneof![
        prop::sample::select(fixtures().signature_keys.clone()).prop_map(SignaturePublicKey::from),
        opaque().prop_map(SignaturePublicKey),
    ]
}

// ---------------------------------------------------------------------------

/// `Protocol`.
pub fn protocol() -> impl Strategy<Value = Protocol> {
    Just(Protocol::Mls10)
}

macro_rules! enum_strategy {
    ($($f:ident => $t:ty),* $(,)?) => {$(
        /// All values of the enum.
        pub fn $f() -> impl Strategy<Value = $t> {
            prop::sample::select(<$t>::ALL)
        }
    )*};
}
enum_strategy!(
    user_code => KeyMaterialUserCode,
    client_code => KeyMaterialClientCode,
    gi_representation => GroupInfoRepresentation,
    rt_representation => RatchetTreeRepresentation,
    rt_presence => RatchetTreePresence,
    update_code => UpdateResponseCode,
    submit_code => SubmitResponseCode,
    group_info_code => GroupInfoCode,
    consent_operation => ConsentOperation,
    search_identifier_type => SearchIdentifierType,
    query_code => IdentifierQueryCode,
    field_source => FieldSource,
    abuse_type => AbuseType,
    app_data_update_operation => AppDataUpdateOperation,
);

/// `KeyMaterialRequestTBS`.
pub fn kmr_tbs() -> impl Strategy<Value = KeyMaterialRequestTBS> {
    (
        protocol(),
        uri(),
        uri(),
        uri(),
        vec_of(suite(), 4),
        required_capabilities(),
        sig_key(),
        credential(),
    )
        .prop_map(
            |(protocol, a, b, c, suites, rc, sk, cred)| KeyMaterialRequestTBS {
                protocol,
                requesting_user: a,
                target_user: b,
                room_id: c,
                acceptable_ciphersuites: suites,
                required_capabilities: rc,
                requester_signature_key: sk,
                requester_credential: cred,
            },
        )
}
/// `KeyMaterialRequest`.
pub fn kmr() -> impl Strategy<Value = KeyMaterialRequest> {
    (kmr_tbs(), opaque()).prop_map(|(t, sig)| KeyMaterialRequest {
        protocol: t.protocol,
        requesting_user: t.requesting_user,
        target_user: t.target_user,
        room_id: t.room_id,
        acceptable_ciphersuites: t.acceptable_ciphersuites,
        required_capabilities: t.required_capabilities,
        requester_signature_key: t.requester_signature_key,
        requester_credential: t.requester_credential,
        key_material_request_signature: sig,
    })
}
/// `ClientKeyMaterial`.
pub fn client_key_material() -> impl Strategy<Value = ClientKeyMaterial> {
    let status = prop_oneof![
        key_package().prop_map(|key_package| ClientKeyMaterialStatus::Success { key_package }),
        Just(ClientKeyMaterialStatus::KeyMaterialExhausted),
        prop::option::of(capabilities()).prop_map(|client_capabilities| {
            ClientKeyMaterialStatus::NothingCompatible {
                client_capabilities,
            }
        }),
    ];
    (uri(), status).prop_map(|(client_uri, status)| ClientKeyMaterial { client_uri, status })
}
/// `KeyMaterialResponse`.
pub fn kmresp() -> impl Strategy<Value = KeyMaterialResponse> {
    (
        protocol(),
        user_code(),
        uri(),
        vec_of(client_key_material(), 4),
    )
        .prop_map(
            |(protocol, user_status, user_uri, clients)| KeyMaterialResponse {
                protocol,
                user_status,
                user_uri,
                clients,
            },
        )
}

/// `RatchetTreeOption`.
pub fn rt_option() -> impl Strategy<Value = RatchetTreeOption> {
    prop_oneof![
        pick::<RatchetTreeKind>(&fixtures().trees)
            .prop_map(|ratchet_tree| RatchetTreeOption::Full { ratchet_tree }),
        (opaque(), opaque()).prop_map(|(ratchet_tree_url, tree_signature)| {
            RatchetTreeOption::HttpsUri {
                ratchet_tree_url,
                tree_signature,
            }
        }),
        opaque().prop_map(|tree_signature| RatchetTreeOption::OutOfBand { tree_signature }),
        Just(RatchetTreeOption::DistributionService),
    ]
}
/// `PartialGroupInfo`.
pub fn partial_group_info() -> impl Strategy<Value = PartialGroupInfo> {
    (
        rt_presence(),
        pick::<GroupInfoExtensionsKind>(&fixtures().gi_extensions),
        opaque(),
    )
        .prop_map(
            |(ratchet_tree_presence, group_info_extensions, signature)| PartialGroupInfo {
                ratchet_tree_presence,
                group_info_extensions,
                signature,
            },
        )
}
/// `GroupInfoOption`.
pub fn gi_option() -> impl Strategy<Value = GroupInfoOption> {
    prop_oneof![
        group_info().prop_map(|group_info| GroupInfoOption::Full { group_info }),
        partial_group_info()
            .prop_map(|partial_group_info| GroupInfoOption::Partial { partial_group_info }),
    ]
}
/// `HandshakeBundle`.
pub fn handshake_bundle() -> impl Strategy<Value = HandshakeBundle> {
    prop_oneof![
        (
            commit(),
            prop::option::of(welcome()),
            gi_option(),
            rt_option()
        )
            .prop_map(|(m, welcome, group_info_option, ratchet_tree_option)| {
                HandshakeBundle {
                    proposal_or_commit: m,
                    body: HandshakeBundleBody::Commit {
                        welcome,
                        group_info_option,
                        ratchet_tree_option,
                    },
                }
            }),
        (proposal(), vec_of(proposal(), 3)).prop_map(|(m, more_proposals)| HandshakeBundle {
            proposal_or_commit: m,
            body: HandshakeBundleBody::Proposal { more_proposals },
        }),
    ]
}
/// `UpdateRequest`.
pub fn update_request() -> impl Strategy<Value = UpdateRequest> {
    handshake_bundle().prop_map(|bundle| UpdateRequest { bundle })
}
/// `ProposalRef`.
pub fn proposal_ref() -> impl Strategy<Value = ProposalRef> {
    prop::collection::vec(any::<u8>(), 32).prop_map(ProposalRef::from)
}
/// `UpdateRoomResponse`.
pub fn update_room_response() -> impl Strategy<Value = UpdateRoomResponse> {
    let result = prop_oneof![
        any::<u64>().prop_map(|accepted_timestamp| UpdateResult::Success { accepted_timestamp }),
        any::<u64>().prop_map(|current_epoch| UpdateResult::WrongEpoch { current_epoch }),
        Just(UpdateResult::NotAllowed),
        vec_of(proposal_ref(), 4)
            .prop_map(|invalid_proposals| UpdateResult::InvalidProposal { invalid_proposals }),
    ];
    (string(), result).prop_map(|(error_description, result)| UpdateRoomResponse {
        error_description,
        result,
    })
}

/// `Frank`.
pub fn frank() -> impl Strategy<Value = Frank> {
    (b32(), suite(), opaque()).prop_map(|(a, b, c)| Frank {
        server_frank: a,
        franking_signature_ciphersuite: b,
        franking_integrity_signature: c,
    })
}
/// `FrankAAD`.
pub fn frank_aad() -> impl Strategy<Value = FrankAAD> {
    b32().prop_map(|franking_tag| FrankAAD { franking_tag })
}
/// `FrankingAgentData`.
pub fn franking_agent() -> impl Strategy<Value = FrankingAgentData> {
    (sig_key(), credential()).prop_map(|(franking_signature_key, credential)| FrankingAgentData {
        franking_signature_key,
        credential,
    })
}
/// `ServerFrankingContext`.
pub fn franking_context() -> impl Strategy<Value = ServerFrankingContext> {
    (uri(), uri(), any::<u64>()).prop_map(|(sender_uri, room_uri, accepted_timestamp)| {
        ServerFrankingContext {
            sender_uri,
            room_uri,
            accepted_timestamp,
        }
    })
}
/// `FrankingIntegrityTBS`.
pub fn franking_tbs() -> impl Strategy<Value = FrankingIntegrityTBS> {
    (b32(), suite(), franking_context()).prop_map(
        |(server_frank, franking_signature_ciphersuite, context)| FrankingIntegrityTBS {
            server_frank,
            franking_signature_ciphersuite,
            context,
        },
    )
}
/// `SubmitMessageRequest`.
pub fn submit_request() -> impl Strategy<Value = SubmitMessageRequest> {
    (protocol(), any_message(), uri()).prop_map(|(protocol, app_message, sending_uri)| {
        SubmitMessageRequest {
            protocol,
            app_message,
            sending_uri,
        }
    })
}
/// `SubmitMessageResponse`.
pub fn submit_response() -> impl Strategy<Value = SubmitMessageResponse> {
    let status = prop_oneof![
        (any::<u64>(), prop::option::of(frank())).prop_map(|(accepted_timestamp, frank)| {
            SubmitStatus::Accepted {
                accepted_timestamp,
                frank,
            }
        }),
        Just(SubmitStatus::NotAllowed),
        any::<u64>().prop_map(|current_epoch| SubmitStatus::EpochTooOld { current_epoch }),
    ];
    (protocol(), status).prop_map(|(protocol, status)| SubmitMessageResponse { protocol, status })
}

/// `FanoutMessage`.
pub fn fanout() -> impl Strategy<Value = FanoutMessage> {
    let arm = prop_oneof![
        (app_message(), prop::option::of(frank()))
            .prop_map(|(m, frank)| (m, FanoutBody::Application { frank })),
        (welcome_message(), rt_option()).prop_map(|(m, ratchet_tree_option)| (
            m,
            FanoutBody::Welcome {
                ratchet_tree_option
            }
        )),
        (proposal(), vec_of(proposal(), 3))
            .prop_map(|(m, more_proposals)| (m, FanoutBody::Proposal { more_proposals })),
        (commit(), vec_of(proposal(), 3))
            .prop_map(|(m, external_proposals)| (m, FanoutBody::Commit { external_proposals })),
    ];
    (any::<u64>(), arm).prop_map(|(timestamp, (message, body))| FanoutMessage {
        timestamp,
        message,
        body,
    })
}
/// `FanoutMessages` (1 to 3).
pub fn fanouts() -> impl Strategy<Value = FanoutMessages> {
    prop::collection::vec(fanout(), 1..4).prop_map(FanoutMessages)
}

/// `GroupInfoRequestTBS`.
pub fn gi_request_tbs() -> impl Strategy<Value = GroupInfoRequestTBS> {
    (
        protocol(),
        suite(),
        sig_key(),
        credential(),
        opaque(),
        prop::option::of(opaque()),
    )
        .prop_map(
            |(protocol, cipher_suite, k, c, hpke, joining_code)| GroupInfoRequestTBS {
                protocol,
                cipher_suite,
                requesting_signature_key: k,
                requesting_credential: c,
                group_info_public_key: HpkePublicKey(hpke),
                joining_code,
            },
        )
}
/// `GroupInfoRequest`.
pub fn gi_request() -> impl Strategy<Value = GroupInfoRequest> {
    (gi_request_tbs(), opaque()).prop_map(|(t, signature)| GroupInfoRequest {
        protocol: t.protocol,
        cipher_suite: t.cipher_suite,
        requesting_signature_key: t.requesting_signature_key,
        requesting_credential: t.requesting_credential,
        group_info_public_key: t.group_info_public_key,
        joining_code: t.joining_code,
        signature,
    })
}
/// `PendingProposal`.
pub fn pending_proposal() -> impl Strategy<Value = PendingProposal> {
    (proposal(), any::<u64>()).prop_map(|(proposal, hub_accepted_time)| PendingProposal {
        proposal,
        hub_accepted_time,
    })
}
/// `GroupInfoRatchetTreeTBE`.
pub fn gi_tbe() -> impl Strategy<Value = GroupInfoRatchetTreeTBE> {
    (group_info(), rt_option(), vec_of(pending_proposal(), 3)).prop_map(
        |(group_info, ratchet_tree_option, pending_proposals)| GroupInfoRatchetTreeTBE {
            group_info,
            ratchet_tree_option,
            pending_proposals,
        },
    )
}
/// `HPKECiphertext`.
pub fn hpke_ct() -> impl Strategy<Value = HpkeCiphertext> {
    (opaque(), opaque()).prop_map(|(kem_output, ciphertext)| HpkeCiphertext {
        kem_output,
        ciphertext,
    })
}
/// `GroupInfoResponseTBS`.
pub fn gi_response_tbs() -> impl Strategy<Value = GroupInfoResponseTBS> {
    (
        protocol(),
        opaque(),
        group_info_code(),
        suite(),
        external_sender(),
        hpke_ct(),
    )
        .prop_map(|(version, room_id, status, cipher_suite, hub_sender, ct)| {
            GroupInfoResponseTBS {
                version,
                room_id,
                status,
                cipher_suite,
                hub_sender,
                encrypted_groupinfo_and_tree: ct,
            }
        })
}
/// `GroupInfoResponse`.
pub fn gi_response() -> impl Strategy<Value = GroupInfoResponse> {
    let status = prop_oneof![
        (suite(), external_sender(), hpke_ct(), opaque()).prop_map(
            |(cipher_suite, hub_sender, ct, signature)| {
                GroupInfoStatus::Success {
                    cipher_suite,
                    hub_sender,
                    encrypted_groupinfo_and_tree: ct,
                    signature,
                }
            }
        ),
        Just(GroupInfoStatus::Reserved),
        Just(GroupInfoStatus::NotAuthorized),
        Just(GroupInfoStatus::NoSuchRoom),
    ];
    (protocol(), opaque(), status).prop_map(|(version, room_id, status)| GroupInfoResponse {
        version,
        room_id,
        status,
    })
}

/// `ComponentData`.
pub fn component_data() -> impl Strategy<Value = ComponentData> {
    (any::<u16>(), opaque()).prop_map(|(component_id, data)| ComponentData { component_id, data })
}
/// `AppDataDictionary` (sorted, unique).
pub fn app_data_dictionary() -> impl Strategy<Value = AppDataDictionary> {
    prop::collection::btree_map(any::<u16>(), opaque(), 0..4).prop_map(|m| AppDataDictionary {
        component_data: m
            .into_iter()
            .map(|(component_id, data)| ComponentData { component_id, data })
            .collect(),
    })
}
/// `AppDataUpdate`.
pub fn app_data_update() -> impl Strategy<Value = AppDataUpdate> {
    let op = prop_oneof![
        opaque().prop_map(|update| AppDataOp::Update { update }),
        Just(AppDataOp::Remove),
    ];
    (any::<u16>(), op).prop_map(|(component_id, op)| AppDataUpdate { component_id, op })
}
/// `SafeAADItem`.
pub fn safe_aad_item() -> impl Strategy<Value = SafeAadItem> {
    (any::<u16>(), opaque()).prop_map(|(component_id, aad_item_data)| SafeAadItem {
        component_id,
        aad_item_data,
    })
}
/// `SafeAAD` (sorted, unique).
pub fn safe_aad() -> impl Strategy<Value = SafeAad> {
    prop::collection::btree_map(any::<u16>(), opaque(), 0..4).prop_map(|m| SafeAad {
        aad_items: m
            .into_iter()
            .map(|(component_id, aad_item_data)| SafeAadItem {
                component_id,
                aad_item_data,
            })
            .collect(),
    })
}

/// `ConsentEntry`.
pub fn consent_entry() -> impl Strategy<Value = ConsentEntry> {
    let op = prop_oneof![
        Just(ConsentOp::Cancel),
        Just(ConsentOp::Request),
        vec_of(key_package(), 3).prop_map(|client_key_packages| ConsentOp::Grant {
            client_key_packages
        }),
        Just(ConsentOp::Revoke),
    ];
    (
        op,
        uri(),
        uri(),
        prop::option::of(uri()),
        app_data_dictionary(),
    )
        .prop_map(
            |(operation, requester_uri, target_uri, room_id, consent_extensions)| ConsentEntry {
                operation,
                requester_uri,
                target_uri,
                room_id,
                consent_extensions,
            },
        )
}
/// `ConsentScope`.
pub fn consent_scope() -> impl Strategy<Value = ConsentScope> {
    (uri(), uri(), prop::option::of(uri())).prop_map(|(requester_uri, target_uri, room_id)| {
        ConsentScope {
            requester_uri,
            target_uri,
            room_id,
        }
    })
}

/// `QueryElement`.
pub fn query_element() -> impl Strategy<Value = QueryElement> {
    let search = prop_oneof![
        Just(SearchType::Handle),
        Just(SearchType::Nick),
        Just(SearchType::Email),
        Just(SearchType::Phone),
        Just(SearchType::PartialName),
        Just(SearchType::WholeProfile),
        opaque().prop_map(|claim_name| SearchType::OidcStdClaim { claim_name }),
        opaque().prop_map(|property_name| SearchType::VcardField { property_name }),
    ];
    (search, string()).prop_map(|(search, search_value)| QueryElement {
        search,
        search_value,
    })
}
/// `IdentifierRequest`.
pub fn identifier_request() -> impl Strategy<Value = IdentifierRequest> {
    (vec_of(query_element(), 4), app_data_dictionary()).prop_map(
        |(query_elements, id_request_extensions)| IdentifierRequest {
            query_elements,
            id_request_extensions,
        },
    )
}
/// `ProfileField`.
pub fn profile_field() -> impl Strategy<Value = ProfileField> {
    (field_source(), string(), opaque()).prop_map(|(field_source, field_name, field_value)| {
        ProfileField {
            field_source,
            field_name,
            field_value,
        }
    })
}
/// `UserProfile`.
pub fn user_profile() -> impl Strategy<Value = UserProfile> {
    (uri(), vec_of(profile_field(), 3))
        .prop_map(|(stable_uri, fields)| UserProfile { stable_uri, fields })
}
/// `IdentifierResponse`.
pub fn identifier_response() -> impl Strategy<Value = IdentifierResponse> {
    (
        query_code(),
        vec_of(uri(), 3),
        vec_of(user_profile(), 3),
        app_data_dictionary(),
    )
        .prop_map(
            |(response_code, uri, found_profiles, id_response_extensions)| IdentifierResponse {
                response_code,
                uri,
                found_profiles,
                id_response_extensions,
            },
        )
}

/// `AbusiveMessage`.
pub fn abusive_message() -> impl Strategy<Value = AbusiveMessage> {
    (opaque(), frank(), any::<u64>()).prop_map(|(message_content, frank, accepted_timestamp)| {
        AbusiveMessage {
            message_content,
            frank,
            accepted_timestamp,
        }
    })
}
/// `AbuseReport`.
pub fn abuse_report() -> impl Strategy<Value = AbuseReport> {
    (
        uri(),
        uri(),
        abuse_type(),
        opaque(),
        vec_of(abusive_message(), 3),
        app_data_dictionary(),
    )
        .prop_map(
            |(
                reporting_user,
                alleged_abuser_uri,
                reason_code,
                note,
                messages,
                abuse_extensions,
            )| AbuseReport {
                reporting_user,
                alleged_abuser_uri,
                reason_code,
                note,
                messages,
                abuse_extensions,
            },
        )
}

/// `PseudonymousCredentialTBS`.
pub fn pseudo_tbs() -> impl Strategy<Value = PseudonymousCredentialTBS> {
    (uri(), uri(), opaque()).prop_map(|(client_pseudonym, user_pseudonym, signature_public_key)| {
        PseudonymousCredentialTBS {
            client_pseudonym,
            user_pseudonym,
            signature_public_key,
        }
    })
}
/// `PseudonymousCredential`.
pub fn pseudo() -> impl Strategy<Value = PseudonymousCredential> {
    (pseudo_tbs(), opaque()).prop_map(|(t, identity_link_ciphertext)| PseudonymousCredential {
        client_pseudonym: t.client_pseudonym,
        user_pseudonym: t.user_pseudonym,
        signature_public_key: t.signature_public_key,
        identity_link_ciphertext,
    })
}
/// `IdentityLinkTBE`.
pub fn identity_link() -> impl Strategy<Value = IdentityLinkTBE> {
    (opaque(), credential()).prop_map(|(pseudonymous_credential_signature, client_credential)| {
        IdentityLinkTBE {
            pseudonymous_credential_signature,
            client_credential,
        }
    })
}

/// `UserRolePair`.
pub fn user_role_pair() -> impl Strategy<Value = UserRolePair> {
    (uri_bytes(), any::<u32>()).prop_map(|(user, role_index)| UserRolePair { user, role_index })
}
/// `ParticipantListData`.
pub fn participant_list() -> impl Strategy<Value = ParticipantListData> {
    vec_of(user_role_pair(), 5).prop_map(|participants| ParticipantListData { participants })
}
/// `UserindexRolePair`.
pub fn user_index_role_pair() -> impl Strategy<Value = UserindexRolePair> {
    (any::<u32>(), any::<u32>()).prop_map(|(user_index, role_index)| UserindexRolePair {
        user_index,
        role_index,
    })
}
/// `ParticipantListUpdate`.
pub fn participant_list_update() -> impl Strategy<Value = ParticipantListUpdate> {
    (
        vec_of(user_index_role_pair(), 4),
        vec_of(any::<u32>(), 4),
        vec_of(user_role_pair(), 4),
    )
        .prop_map(
            |(changed_role_participants, removed_indices, added_participants)| {
                ParticipantListUpdate {
                    changed_role_participants,
                    removed_indices,
                    added_participants,
                }
            },
        )
}
/// `Uri`.
pub fn room_uri() -> impl Strategy<Value = Uri> {
    uri_bytes().prop_map(|uri| Uri { uri })
}
/// `RichDescription`.
pub fn rich_description() -> impl Strategy<Value = RichDescription> {
    (uri_bytes(), uri_bytes(), opaque()).prop_map(
        |(media_type, language_tag, description_content)| RichDescription {
            media_type,
            language_tag,
            description_content,
        },
    )
}
/// `RoomMetaData`.
pub fn room_metadata() -> impl Strategy<Value = RoomMetaData> {
    (
        room_uri(),
        utf8(),
        vec_of(rich_description(), 3),
        room_uri(),
        utf8(),
        utf8(),
    )
        .prop_map(
            |(room_uri, room_name, room_descriptions, room_avatar, room_subject, room_mood)| {
                RoomMetaData {
                    room_uri,
                    room_name,
                    room_descriptions,
                    room_avatar,
                    room_subject,
                    room_mood,
                }
            },
        )
}
