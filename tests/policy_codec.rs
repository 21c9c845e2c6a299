//! Round trips and decoding errors for every room-policy-03 component wire type.

use mimi_ref::policy::*;
use proptest::collection::vec;
use proptest::prelude::*;
use tls_codec::{Deserialize, Serialize, Size, VLBytes};

fn bytes() -> impl Strategy<Value = VLBytes> {
    vec(any::<u8>(), 0..24).prop_map(VLBytes::from)
}
fn uri() -> impl Strategy<Value = Uri> {
    bytes().prop_map(|uri| Uri { uri })
}
fn optionality() -> impl Strategy<Value = Optionality> {
    prop_oneof![
        Just(Optionality::Optional),
        Just(Optionality::Required),
        Just(Optionality::Forbidden)
    ]
}
fn transitions() -> impl Strategy<Value = SingleSourceRoleChangeTargets> {
    (any::<u32>(), vec(any::<u32>(), 0..5)).prop_map(|(from_role_index, target_role_indexes)| {
        SingleSourceRoleChangeTargets {
            from_role_index,
            target_role_indexes,
        }
    })
}
fn role() -> impl Strategy<Value = Role> {
    (
        any::<u32>(),
        bytes(),
        bytes(),
        vec(any::<u16>(), 0..8),
        (
            any::<u32>(),
            any::<Option<u32>>(),
            any::<u32>(),
            any::<Option<u32>>(),
        ),
        vec(transitions(), 0..4),
    )
        .prop_map(
            |(role_index, role_name, role_description, caps, c, arc)| Role {
                role_index,
                role_name,
                role_description,
                role_capabilities: caps,
                minimum_participants_constraint: c.0,
                maximum_participants_constraint: c.1,
                minimum_active_participants_constraint: c.2,
                maximum_active_participants_constraint: c.3,
                authorized_role_changes: arc,
            },
        )
}
fn claim() -> impl Strategy<Value = Claim> {
    (any::<u16>(), bytes(), bytes()).prop_map(|(credential_type, id, claim_value)| Claim {
        claim_id: ClaimId {
            credential_type,
            id,
        },
        claim_value,
    })
}
fn preauth() -> impl Strategy<Value = PreAuthData> {
    vec(
        (vec(claim(), 0..4), any::<u32>()).prop_map(|(claimset, target_role)| PreAuthRoleEntry {
            claimset,
            target_role,
        }),
        0..4,
    )
    .prop_map(|preauthorized_entries| PreAuthData {
        preauthorized_entries,
    })
}
fn base() -> impl Strategy<Value = BaseRoomPolicy> {
    (
        any::<[bool; 6]>(),
        vec(uri(), 0..2),
        any::<Option<u32>>(),
        any::<Option<u32>>(),
        vec(any::<u16>(), 0..5),
    )
        .prop_map(
            |(b, parent_room, max_clients, max_users, ids)| BaseRoomPolicy {
                fixed_membership: b[0],
                parent_dependant: b[1],
                parent_room,
                multi_device: b[2],
                max_clients,
                max_users,
                pseudonyms_allowed: b[3],
                persistent_room: b[4],
                discoverable: b[5],
                policy_component_ids: ids,
            },
        )
}
fn media_type() -> impl Strategy<Value = MediaType> {
    (
        bytes(),
        vec(
            (bytes(), bytes()).prop_map(|(parameter_name, parameter_value)| Parameter {
                parameter_name,
                parameter_value,
            }),
            0..3,
        ),
    )
        .prop_map(|(media_type, parameters)| MediaType {
            media_type,
            parameters,
        })
}
fn download_type() -> impl Strategy<Value = DownloadPrivacyType> {
    prop_oneof![
        Just(DownloadPrivacyType::Direct),
        Just(DownloadPrivacyType::HubProxy),
        Just(DownloadPrivacyType::Ohttp)
    ]
}
fn asset_policy() -> impl Strategy<Value = AssetPolicy> {
    let location = prop_oneof![
        Just(AssetUploadLocation::Unspecified),
        Just(AssetUploadLocation::LocalProvider),
        Just(AssetUploadLocation::Hub)
    ];
    let domain = || bytes().prop_map(|domain| DomainName { domain });
    let upload =
        (domain(), vec(domain(), 0..3)).prop_map(|(provider, d)| ProviderAssetUploadDomains {
            provider,
            asset_upload_destinations: d,
        });
    let privacy = (
        vec(download_type(), 0..3),
        vec(download_type(), 0..3),
        download_type(),
    )
        .prop_map(|(a, f, d)| DownloadPrivacy {
            allowed_download_types: a,
            forbidden_download_types: f,
            default_download_type: d,
        });
    (
        location,
        vec(upload, 0..3),
        privacy,
        any::<[u64; 4]>(),
        vec(media_type(), 0..3),
        proptest::option::of(vec(media_type(), 0..3)),
    )
        .prop_map(|(l, u, p, m, f, perm)| AssetPolicy {
            asset_upload_location: l,
            upload_domains: u,
            download_privacy: p,
            max_image: m[0],
            max_audio: m[1],
            max_video: m[2],
            max_attachment: m[3],
            forbidden_media_types: f,
            permitted_media_types: perm,
        })
}
fn logging() -> impl Strategy<Value = LoggingPolicy> {
    let d = (vec(uri(), 0..3), uri(), uri())
        .prop_map(|(c, m, h)| LoggingDetails {
            logging_clients: c,
            machine_readable_policy: m,
            human_readable_policy: h,
        })
        .boxed();
    prop_oneof![
        d.clone().prop_map(LoggingPolicy::Optional),
        d.prop_map(LoggingPolicy::Required),
        Just(LoggingPolicy::Forbidden)
    ]
}
fn history() -> impl Strategy<Value = HistoryPolicy> {
    let s = (vec(any::<u32>(), 0..4), any::<bool>(), any::<u32>())
        .prop_map(|(r, a, m)| HistorySharing {
            roles_that_can_share: r,
            automatically_share: a,
            max_time_period: m,
        })
        .boxed();
    prop_oneof![
        s.clone().prop_map(HistoryPolicy::Optional),
        s.prop_map(HistoryPolicy::Required),
        Just(HistoryPolicy::Forbidden)
    ]
}
fn bots() -> impl Strategy<Value = BotPolicy> {
    vec(
        (bytes(), bytes(), uri(), any::<[bool; 3]>(), any::<u32>()).prop_map(
            |(name, description, homepage, b, bot_role_index)| Bot {
                name,
                description,
                homepage,
                local_client_bot: b[0],
                bot_role_index,
                can_target_message_in_group: b[1],
                per_user_content: b[2],
            },
        ),
        0..3,
    )
    .prop_map(|allowed_bots| BotPolicy { allowed_bots })
}
fn expiration() -> impl Strategy<Value = MessageExpiration> {
    let d = (any::<u32>(), any::<u32>(), any::<Option<u32>>())
        .prop_map(|(a, b, c)| ExpirationDurations {
            min_expiration_duration: a,
            max_expiration_duration: b,
            default_expiration_duration: c,
        })
        .boxed();
    prop_oneof![
        d.clone().prop_map(MessageExpiration::Optional),
        d.prop_map(MessageExpiration::Required),
        Just(MessageExpiration::Forbidden)
    ]
}
fn ext_caps() -> impl Strategy<Value = ExtendedCapabilities> {
    let v16 = || vec(any::<u16>(), 0..3);
    (
        (v16(), v16(), v16(), v16(), v16()),
        (v16(), v16(), v16()),
        vec(media_type(), 0..2),
        vec(any::<u8>(), 0..3),
    )
        .prop_map(|(a, b, media_types, content_types)| ExtendedCapabilities {
            versions: a.0,
            cipher_suites: a.1,
            extensions: a.2,
            proposals: a.3,
            credentials: a.4,
            wire_formats: b.0,
            component_ids: b.1,
            safe_aad_types: b.2,
            media_types,
            content_types,
        })
}
fn mdm() -> impl Strategy<Value = MinDefaultMaxTime> {
    any::<[u64; 3]>().prop_map(|t| MinDefaultMaxTime {
        minimum_time: t[0],
        default_time: t[1],
        maximum_time: t[2],
    })
}
fn operational() -> impl Strategy<Value = OperationalParameters> {
    let pending = prop_oneof![
        Just(PendingProposalPolicy::Unspecified),
        Just(PendingProposalPolicy::ImmediateCommit),
        any::<(u64, u64)>().prop_map(|(a, b)| PendingProposalPolicy::RandomDelay {
            minimum_delay_ms: a,
            maximum_delay_ms: b
        })
    ];
    let app = (any::<u8>(), any::<u16>(), any::<u32>()).prop_map(|(a, b, c)| AppMessagePolicy {
        epoch_tolerance: a,
        pad_to_size: b,
        max_generations_skipahead: c,
    });
    (
        (ext_caps(), ext_caps(), ext_caps()),
        vec(any::<u16>(), 0..3),
        any::<[bool; 2]>(),
        pending,
        (mdm(), app, any::<[u64; 3]>()),
        (mdm(), any::<u32>(), mdm(), any::<u32>()),
    )
        .prop_map(
            |(caps, hf, b, pending, (lnu, app, l), (snk, mk, buf, mb))| OperationalParameters {
                mandatory_capabilities: caps.0,
                default_capabilities: caps.1,
                forbidden_capabilities: caps.2,
                handshake_formats: hf,
                external_proposal_allowed: b[0],
                external_commit_allowed: b[1],
                pending_proposal_policy: pending,
                leaf_node_update_time: lnu,
                app_message_policy: app,
                max_kp_lifetime: l[0],
                max_credential_lifetime: l[1],
                resumption_psk_lifetime: l[2],
                sender_nonce_keypair_lifetime: snk,
                max_keypairs: mk,
                buffer_incoming_message_time: buf,
                max_buffered_messages: mb,
            },
        )
}

fn round_trip<T>(value: &T)
where
    T: Serialize + Deserialize + Size + PartialEq + std::fmt::Debug,
{
    let bytes = value.tls_serialize_detached().expect("serialize");
    assert_eq!(bytes.len(), value.tls_serialized_len());
    let back = T::tls_deserialize_exact(&bytes).expect("deserialize");
    assert_eq!(&back, value);
    // Every strict prefix is refused (truncation), never a panic.
    for cut in [0, bytes.len() / 2, bytes.len().saturating_sub(1)] {
        if cut < bytes.len() {
            assert!(T::tls_deserialize_exact(&bytes[..cut]).is_err());
        }
    }
    // Trailing bytes are refused by the exact decoder.
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(T::tls_deserialize_exact(&longer).is_err());
}

proptest! {
    #[test]
    fn roles_round_trip(roles in vec(role(), 0..4)) { round_trip(&RoleData { roles }) }
    #[test]
    fn preauth_round_trip(p in preauth()) { round_trip(&p) }
    #[test]
    fn base_round_trip(b in base()) { round_trip(&b) }
    #[test]
    fn status_round_trip(a in optionality(), b in optionality()) {
        round_trip(&StatusNotificationPolicy { delivery_notifications: a, read_receipts: b })
    }
    #[test]
    fn join_link_policy_round_trip(on_request: bool, multiuser: bool, u in uri(), e: u32) {
        round_trip(&JoinLinkPolicy { on_request, join_link: u, multiuser, expiration: e })
    }
    #[test]
    fn join_links_round_trip(links in vec(bytes(), 0..4), removed in vec(any::<u32>(), 0..4)) {
        let links: Vec<JoinLink> = links.into_iter().map(|join_link| JoinLink { join_link }).collect();
        round_trip(&JoinLinksData { links: links.clone() });
        round_trip(&JoinLinksUpdate { removed_indices: removed, added_links: links });
    }
    #[test]
    fn link_preview_round_trip(a in optionality(), b in optionality(), c in optionality(),
                               proxies in vec(uri(), 0..3), which in 0u8..3) {
        let use_ = match which {
            0 => LinkPreviewProxyUse::Optional(proxies),
            1 => LinkPreviewProxyUse::Required(proxies),
            _ => LinkPreviewProxyUse::Forbidden,
        };
        round_trip(&LinkPreviewPolicy {
            autodetect_hyperlinks_in_text: a,
            send_link_previews: b,
            automatic_link_previews: c,
            link_preview_proxy_use: use_,
        })
    }
    #[test]
    fn asset_round_trip(a in asset_policy()) { round_trip(&a) }
    #[test]
    fn logging_round_trip(l in logging()) { round_trip(&l) }
    #[test]
    fn history_round_trip(h in history()) { round_trip(&h) }
    #[test]
    fn bots_round_trip(b in bots()) { round_trip(&b) }
    #[test]
    fn expiration_round_trip(e in expiration()) { round_trip(&e) }
    #[test]
    fn operational_round_trip(o in operational()) { round_trip(&o) }

    /// Arbitrary bytes never make a decoder panic.
    #[test]
    fn decoders_never_panic(data in vec(any::<u8>(), 0..64)) {
        let _ = RoleData::tls_deserialize_exact(&data);
        let _ = PreAuthData::tls_deserialize_exact(&data);
        let _ = BaseRoomPolicy::tls_deserialize_exact(&data);
        let _ = LinkPreviewPolicy::tls_deserialize_exact(&data);
        let _ = AssetPolicy::tls_deserialize_exact(&data);
        let _ = LoggingPolicy::tls_deserialize_exact(&data);
        let _ = HistoryPolicy::tls_deserialize_exact(&data);
        let _ = BotPolicy::tls_deserialize_exact(&data);
        let _ = MessageExpiration::tls_deserialize_exact(&data);
        let _ = OperationalParameters::tls_deserialize_exact(&data);
    }
}

#[test]
fn unknown_enum_values_are_typed_errors() {
    use tls_codec::Error;
    assert_eq!(
        Optionality::tls_deserialize_exact([3u8]),
        Err(Error::UnknownValue(3))
    );
    assert_eq!(
        StatusNotificationPolicy::tls_deserialize_exact([0u8, 7]),
        Err(Error::UnknownValue(7))
    );
    assert_eq!(
        AssetUploadLocation::tls_deserialize_exact([3u8]),
        Err(Error::UnknownValue(3))
    );
    assert_eq!(
        DownloadPrivacyType::tls_deserialize_exact([9u8]),
        Err(Error::UnknownValue(9))
    );
    assert_eq!(
        LoggingPolicy::tls_deserialize_exact([3u8]),
        Err(Error::UnknownValue(3))
    );
    assert_eq!(
        HistoryPolicy::tls_deserialize_exact([0xffu8]),
        Err(Error::UnknownValue(255))
    );
    assert_eq!(
        MessageExpiration::tls_deserialize_exact([4u8]),
        Err(Error::UnknownValue(4))
    );
    // §7: no `extension` strategy value exists.
    assert_eq!(
        PendingProposalPolicy::tls_deserialize_exact([3u8, 0, 0]),
        Err(Error::UnknownValue(3))
    );
    // bool is 0 or 1.
    let mut b = BaseRoomPolicy::default().tls_serialize_detached().unwrap();
    b[0] = 2;
    assert_eq!(
        BaseRoomPolicy::tls_deserialize_exact(&b),
        Err(Error::UnknownValue(2))
    );
}

#[test]
fn known_encodings() {
    // Optionality required = 1; forbidden LoggingPolicy has no body.
    assert_eq!(Optionality::Required.tls_serialize_detached().unwrap(), [1]);
    assert_eq!(
        LoggingPolicy::Forbidden.tls_serialize_detached().unwrap(),
        [2]
    );
    // One role: index 2, name "u", no description, caps [0x0100], (0, -, 0, absent max
    // active), ARC [(0,[2])].
    let role = mimi_ref::policy::examples::role(
        2,
        "u",
        &[Capability::CanSendMessage],
        (0, None, 0, None),
        &[(0, &[2])],
    );
    let got = RoleData { roles: vec![role] }
        .tls_serialize_detached()
        .unwrap();
    let want: Vec<u8> = vec![
        0x1e, // roles<V> length 30
        0, 0, 0, 2, // role_index
        1, b'u', // role_name
        0,    // role_description
        2, 0x01, 0x00, // capabilities
        0, 0, 0, 0, // min participants
        0, // max participants absent
        0, 0, 0, 0, // min active
        0, // max active absent
        9, // authorized_role_changes<V> length
        0, 0, 0, 0, // from 0
        4, 0, 0, 0, 2, // targets [2]
    ];
    assert_eq!(got, want);
}

#[test]
fn every_example_round_trips() {
    for (name, roles) in examples::all() {
        let bytes = roles.tls_serialize_detached().unwrap();
        assert_eq!(
            RoleData::tls_deserialize_exact(&bytes).unwrap(),
            roles,
            "{name}"
        );
    }
}

#[test]
fn serde_json_round_trips() {
    for (name, roles) in examples::all() {
        let json = serde_json::to_string(&roles).unwrap();
        let back: RoleData = serde_json::from_str(&json).unwrap();
        assert_eq!(back, roles, "{name}");
    }
    let lp = LinkPreviewPolicy {
        autodetect_hyperlinks_in_text: Optionality::Optional,
        send_link_previews: Optionality::Required,
        automatic_link_previews: Optionality::Forbidden,
        link_preview_proxy_use: LinkPreviewProxyUse::Required(vec![Uri::new("https://p.example")]),
    };
    let v = serde_json::to_value(&lp).unwrap();
    assert_eq!(v["send_link_previews"], "Required");
    let back: LinkPreviewPolicy = serde_json::from_value(v).unwrap();
    assert_eq!(back, lp);
}
