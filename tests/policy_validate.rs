//! Well-formedness checks (room-policy-03 §3–§6, digest A.12 I2–I17).

use mimi_ref::policy::examples::role;
use mimi_ref::policy::*;
use Capability::*;

fn base_roles() -> RoleData {
    examples::cooperative()
}

#[test]
fn examples_are_well_formed() {
    for (name, roles) in examples::all() {
        assert_eq!(validate_roles(&roles), Ok(()), "{name}");
        assert_eq!(
            validate_base(&BaseRoomPolicy::default(), &roles),
            Ok(()),
            "{name}"
        );
    }
}

#[test]
fn roles_list_errors() {
    let none = (0, None, 0, Some(0));
    let open = (0, None, 0, None);
    let cases: Vec<(&str, RoleData, PolicyError)> = vec![
        (
            "duplicate index",
            RoleData {
                roles: vec![role(2, "a", &[], open, &[]), role(2, "b", &[], open, &[])],
            },
            PolicyError::DuplicateRoleIndex(2),
        ),
        (
            "role 0 with a minimum",
            RoleData {
                roles: vec![role(0, "no_role", &[], (1, None, 0, Some(0)), &[])],
            },
            PolicyError::NoRoleMinimum,
        ),
        (
            "banned role with capabilities",
            RoleData {
                roles: vec![role(1, "banned", &[CanSendMessage], none, &[])],
            },
            PolicyError::BannedRoleHasCapabilities,
        ),
        (
            "transition to an undefined role",
            RoleData {
                roles: vec![role(2, "u", &[], open, &[(2, &[7])])],
            },
            PolicyError::UnknownTransitionRole {
                role: 2,
                referenced: 7,
            },
        ),
        (
            "transition from an undefined role",
            RoleData {
                roles: vec![role(2, "u", &[], open, &[(8, &[0])])],
            },
            PolicyError::UnknownTransitionRole {
                role: 2,
                referenced: 8,
            },
        ),
        (
            "min above max",
            RoleData {
                roles: vec![role(2, "u", &[], (3, Some(2), 0, None), &[])],
            },
            PolicyError::InconsistentConstraints { role: 2 },
        ),
        (
            "min active above max active",
            RoleData {
                roles: vec![role(2, "u", &[], (0, None, 1, Some(0)), &[])],
            },
            PolicyError::InconsistentConstraints { role: 2 },
        ),
        (
            "canOpenJoin outside role 0 (I10)",
            RoleData {
                roles: vec![role(2, "u", &[CanOpenJoin], open, &[])],
            },
            PolicyError::OpenJoinOutsideRoleZero { role: 2 },
        ),
        (
            "canOpenJoin without targets (I10)",
            RoleData {
                roles: vec![role(0, "no_role", &[CanOpenJoin], none, &[(0, &[0])])],
            },
            PolicyError::OpenJoinWithoutTargets,
        ),
        (
            "canAddParticipant without a transition from 0 (I11)",
            RoleData {
                roles: vec![role(2, "u", &[CanAddParticipant], open, &[(2, &[0])])],
            },
            PolicyError::AddWithoutTransition { role: 2 },
        ),
    ];
    for (what, roles, want) in cases {
        assert_eq!(validate_roles(&roles), Err(want), "{what}");
    }
    // Role 1 under another name may hold capabilities.
    let muted = RoleData {
        roles: vec![role(1, "muted", &[CanReceiveMessage], none, &[])],
    };
    assert_eq!(validate_roles(&muted), Ok(()));
}

#[test]
fn preauth_and_base_errors() {
    let roles = base_roles();
    let entry = |r| PreAuthData {
        preauthorized_entries: vec![PreAuthRoleEntry {
            claimset: vec![],
            target_role: r,
        }],
    };
    assert_eq!(validate_preauth(&entry(2), &roles), Ok(()));
    assert_eq!(
        validate_preauth(&entry(0), &roles),
        Err(PolicyError::PreauthBadRole { entry: 0, role: 0 })
    );
    assert_eq!(
        validate_preauth(&entry(42), &roles),
        Err(PolicyError::PreauthBadRole { entry: 0, role: 42 })
    );

    // I9
    let mut b = BaseRoomPolicy {
        parent_dependant: true,
        ..BaseRoomPolicy::default()
    };
    assert_eq!(
        validate_base(&b, &roles),
        Err(PolicyError::ParentRoomMismatch)
    );
    b.parent_room = vec![Uri::new("mimi://hub.example/r/parent")];
    assert_eq!(validate_base(&b, &roles), Ok(()));
    b.parent_dependant = false;
    assert_eq!(
        validate_base(&b, &roles),
        Err(PolicyError::ParentRoomMismatch)
    );
    b.parent_dependant = true;
    b.parent_room = vec![Uri::new("")];
    assert_eq!(
        validate_base(&b, &roles),
        Err(PolicyError::ParentRoomMismatch)
    );

    // I8: App. A.1 ordinary_user holds canAddParticipant; App. A.3's non-admin roles do not,
    // but its moderator does.
    let fixed = BaseRoomPolicy {
        fixed_membership: true,
        ..BaseRoomPolicy::default()
    };
    assert_eq!(
        validate_base(&fixed, &roles),
        Err(PolicyError::FixedMembershipAllowsAdd { role: 2 })
    );
    assert_eq!(
        validate_base(&fixed, &examples::moderated()),
        Err(PolicyError::FixedMembershipAllowsAdd { role: 5 })
    );
    let dm = RoleData {
        roles: vec![
            role(0, "no_role", &[], (0, None, 0, Some(0)), &[]),
            role(1, "banned", &[], (0, None, 0, Some(0)), &[]),
            role(
                2,
                "member",
                &[CanAddOwnClient, CanRemoveOwnClient, CanSendMessage],
                (0, None, 0, None),
                &[],
            ),
        ],
    };
    assert_eq!(validate_base(&fixed, &dm), Ok(()));
}

#[test]
fn state_errors() {
    let mut s = RoomPolicyState::new(base_roles());
    s.participants.insert("alice".into(), 2);
    s.clients
        .entry("alice".into())
        .or_default()
        .insert("a1".into());
    assert_eq!(validate_state(&s), Ok(()));

    let mut t = s.clone();
    t.participants.insert("bob".into(), 0);
    assert_eq!(
        validate_state(&t),
        Err(PolicyError::ParticipantRoleZero("bob".into()))
    );

    let mut t = s.clone();
    t.participants.insert("bob".into(), 77);
    assert_eq!(
        validate_state(&t),
        Err(PolicyError::ParticipantUnknownRole {
            user: "bob".into(),
            role: 77
        })
    );

    let mut t = s.clone();
    t.clients
        .entry("eve".into())
        .or_default()
        .insert("e1".into());
    assert_eq!(
        validate_state(&t),
        Err(PolicyError::ClientsOfUnlistedUser("eve".into()))
    );

    let mut t = s.clone();
    t.participants.insert("bob".into(), 2);
    t.clients
        .entry("bob".into())
        .or_default()
        .insert("a1".into());
    assert_eq!(
        validate_state(&t),
        Err(PolicyError::SharedClient("a1".into()))
    );

    // I3: the policy enforcer (max active 0) with a client.
    let mut t = s.clone();
    t.participants.insert("hub".into(), 5);
    t.clients
        .entry("hub".into())
        .or_default()
        .insert("h1".into());
    assert_eq!(
        validate_state(&t),
        Err(PolicyError::RoleOverMaximum { role: 5 })
    );

    // I5–I7
    for f in [
        |t: &mut RoomPolicyState| t.base.max_clients = Some(0),
        |t: &mut RoomPolicyState| t.base.max_users = Some(0),
        |t: &mut RoomPolicyState| {
            t.base.multi_device = false;
            t.clients.get_mut("alice").unwrap().insert("a2".into());
        },
    ] {
        let mut t = s.clone();
        f(&mut t);
        assert_eq!(validate_state(&t), Err(PolicyError::BaseLimitExceeded));
    }
    // Banned users do not count against max_users.
    let mut t = s.clone();
    t.participants.insert("mallory".into(), 1);
    t.base.max_users = Some(1);
    assert_eq!(validate_state(&t), Ok(()));
}

#[test]
fn component_rules() {
    let lp = |a| LinkPreviewPolicy {
        autodetect_hyperlinks_in_text: a,
        send_link_previews: Optionality::Optional,
        automatic_link_previews: Optionality::Forbidden,
        link_preview_proxy_use: LinkPreviewProxyUse::Forbidden,
    };
    assert_eq!(lp(Optionality::Optional).validate(), Ok(()));
    assert_eq!(
        lp(Optionality::Required).validate(),
        Err(PolicyError::AutodetectRequired)
    );

    let domain = |d: &str| DomainName {
        domain: d.as_bytes().into(),
    };
    let mut asset = AssetPolicy {
        asset_upload_location: AssetUploadLocation::Hub,
        upload_domains: vec![],
        download_privacy: DownloadPrivacy {
            allowed_download_types: vec![DownloadPrivacyType::HubProxy],
            forbidden_download_types: vec![],
            default_download_type: DownloadPrivacyType::HubProxy,
        },
        max_image: 1 << 20,
        max_audio: 1 << 20,
        max_video: 1 << 24,
        max_attachment: 1 << 24,
        forbidden_media_types: vec![],
        permitted_media_types: None,
    };
    assert_eq!(asset.validate(), Err(PolicyError::HubUploadDomains));
    asset.upload_domains = vec![ProviderAssetUploadDomains {
        provider: domain("hub.example"),
        asset_upload_destinations: vec![domain("up.hub.example")],
    }];
    assert_eq!(asset.validate(), Ok(()));

    let details = |clients: Vec<Uri>| LoggingDetails {
        logging_clients: clients,
        machine_readable_policy: Uri::default(),
        human_readable_policy: Uri::default(),
    };
    assert_eq!(
        LoggingPolicy::Required(details(vec![])).validate(),
        Err(PolicyError::LoggingWithoutClients)
    );
    assert_eq!(
        LoggingPolicy::Required(details(vec![Uri::new("mimi://a.example/d/log")])).validate(),
        Ok(())
    );
    assert_eq!(LoggingPolicy::Optional(details(vec![])).validate(), Ok(()));

    let roles = base_roles();
    let share = |r: Vec<RoleIndex>| {
        HistoryPolicy::Optional(HistorySharing {
            roles_that_can_share: r,
            automatically_share: false,
            max_time_period: 3600,
        })
    };
    assert_eq!(share(vec![2, 3]).validate(&roles), Ok(()));
    for bad in [0, 1, 5] {
        assert_eq!(
            share(vec![2, bad]).validate(&roles),
            Err(PolicyError::HistoryRoleNotAllowed(bad)),
            "role {bad}"
        );
    }
    assert_eq!(HistoryPolicy::Forbidden.validate(&roles), Ok(()));

    let bot = |local, role| Bot {
        name: b"b".to_vec().into(),
        description: Vec::new().into(),
        homepage: Uri::default(),
        local_client_bot: local,
        bot_role_index: role,
        can_target_message_in_group: false,
        per_user_content: false,
    };
    assert_eq!(
        BotPolicy {
            allowed_bots: vec![bot(false, 2), bot(true, 0)]
        }
        .validate(),
        Ok(())
    );
    assert_eq!(
        BotPolicy {
            allowed_bots: vec![bot(false, 2), bot(true, 2)]
        }
        .validate(),
        Err(PolicyError::LocalBotWithRole(1))
    );

    let exp = |min, max, default| {
        MessageExpiration::Required(ExpirationDurations {
            min_expiration_duration: min,
            max_expiration_duration: max,
            default_expiration_duration: default,
        })
    };
    assert_eq!(exp(10, 100, Some(50)).validate(), Ok(()));
    assert_eq!(exp(10, 100, None).validate(), Ok(()));
    assert_eq!(
        exp(100, 10, None).validate(),
        Err(PolicyError::ExpirationOrder)
    );
    assert_eq!(
        exp(10, 100, Some(101)).validate(),
        Err(PolicyError::ExpirationOrder)
    );
    assert_eq!(MessageExpiration::Forbidden.validate(), Ok(()));
}
