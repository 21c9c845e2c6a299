//! The example policies of room-policy-03 Appendix A as constructors.
//!
//! Each function returns the roles list of one example. Where the draft's example text is
//! broken, the evident intent is used and recorded in `spec/deviations.md`:
//! * App. A.1 `group_admin` lists `canRevokeVoice` / `canGrantVoice`, which are not in the
//!   registry: left out.
//! * App. A.3 `speaker` says "+speaker": read as "+attendee"; `moderator` says
//!   "+ordinary_user" (no such role there): read as "+speaker".

use super::capability::Capability::{self, *};
use super::components::{Role, RoleData, RoleIndex, SingleSourceRoleChangeTargets};

/// `(min participants, max participants, min active, max active)`.
type Constraints = (u32, Option<u32>, u32, Option<u32>);

/// Build one role.
pub fn role(
    index: RoleIndex,
    name: &str,
    caps: &[Capability],
    (min_p, max_p, min_a, max_a): Constraints,
    changes: &[(RoleIndex, &[RoleIndex])],
) -> Role {
    Role {
        role_index: index,
        role_name: name.as_bytes().into(),
        role_description: Vec::new().into(),
        role_capabilities: caps.iter().map(|c| c.code()).collect(),
        minimum_participants_constraint: min_p,
        maximum_participants_constraint: max_p,
        minimum_active_participants_constraint: min_a,
        maximum_active_participants_constraint: max_a,
        authorized_role_changes: changes
            .iter()
            .map(|(from, to)| SingleSourceRoleChangeTargets {
                from_role_index: *from,
                target_role_indexes: to.to_vec(),
            })
            .collect(),
    }
}

fn plus(base: &[Capability], more: &[Capability]) -> Vec<Capability> {
    let mut v = base.to_vec();
    for c in more {
        if !v.contains(c) {
            v.push(*c);
        }
    }
    v
}

/// Every `(i, all of `roles` except i)` entry: "may move anyone between any two roles".
fn all_changes(roles: &[RoleIndex]) -> Vec<(RoleIndex, Vec<RoleIndex>)> {
    roles
        .iter()
        .map(|&i| (i, roles.iter().copied().filter(|&t| t != i).collect()))
        .collect()
}

fn role_owned(
    index: RoleIndex,
    name: &str,
    caps: &[Capability],
    constraints: Constraints,
    changes: &[(RoleIndex, Vec<RoleIndex>)],
) -> Role {
    let borrowed: Vec<(RoleIndex, &[RoleIndex])> =
        changes.iter().map(|(f, t)| (*f, t.as_slice())).collect();
    role(index, name, caps, constraints, &borrowed)
}

const NONE: Constraints = (0, None, 0, Some(0));
const OPEN: Constraints = (0, None, 0, None);
const ADMIN: Constraints = (1, None, 0, None);
const ENFORCER: Constraints = (1, Some(2), 0, Some(0));

fn banned() -> Role {
    role(1, "banned", &[], NONE, &[])
}

const UPLOADS: [Capability; 4] = [
    CanUploadImage,
    CanUploadVideo,
    CanUploadAudio,
    CanUploadAttachment,
];
const DOWNLOADS: [Capability; 4] = [
    CanDownloadImage,
    CanDownloadVideo,
    CanDownloadAudio,
    CanDownloadAttachment,
];

/// Capabilities of the policy enforcer role in every example (App. A.1).
pub const POLICY_ENFORCER_CAPS: &[Capability] = &[
    CanRemoveParticipant,
    CanChangeUserRole,
    CanBan,
    CanUnBan,
    CanChangeRoleDefinitions,
    CanChangePreauthorizedUserList,
    CanChangeMlsOperationalPolicies,
    CanDestroyRoom,
    CanSendMLSReinitProposal,
];

/// App. A.1 ordinary_user capabilities.
fn a1_ordinary() -> Vec<Capability> {
    let mut v = vec![
        CanAddParticipant,
        CanRemoveParticipant,
        CanAddOwnClient,
        CanRemoveOwnClient,
        CanRemoveSelf,
        CanSendMessage,
        CanReceiveMessage,
        CanCopyMessage,
        CanReportAbuse,
        CanReplyToMessage,
        CanReactToMessage,
        CanDeleteOwnReaction,
        CanEditOwnMessage,
        CanDeleteOwnMessage,
        CanStartTopic,
        CanReplyInTopic,
        CanEditOwnTopic,
    ];
    v.extend(UPLOADS);
    v.extend(DOWNLOADS);
    v.extend([
        CanSendLink,
        CanSendLinkPreview,
        CanFollowLink,
        CanCopyLink,
        CanChangeRoomName,
        CanChangeRoomAvatar,
        CanChangeRoomSubject,
        CanChangeRoomMood,
        CanChangeOwnName,
        CanChangeOwnPresence,
        CanChangeOwnMood,
        CanChangeOwnAvatar,
    ]);
    v
}

/// Role indexes of App. A.1 and App. A.2.
pub mod admin_roles {
    use super::RoleIndex;
    /// No role.
    pub const NO_ROLE: RoleIndex = 0;
    /// Banned.
    pub const BANNED: RoleIndex = 1;
    /// ordinary_user.
    pub const ORDINARY_USER: RoleIndex = 2;
    /// group_admin.
    pub const GROUP_ADMIN: RoleIndex = 3;
    /// super_admin.
    pub const SUPER_ADMIN: RoleIndex = 4;
    /// policy_enforcer.
    pub const POLICY_ENFORCER: RoleIndex = 5;
}

const A1_GROUP_ADMIN_ARC: &[(RoleIndex, &[RoleIndex])] = &[
    (0, &[1, 2, 3]),
    (1, &[0, 2, 3]),
    (2, &[0, 1, 3]),
    (3, &[0, 1, 2]),
];
const A1_SUPER_ADMIN_ARC: &[(RoleIndex, &[RoleIndex])] = &[
    (0, &[1, 2, 3, 4]),
    (1, &[0, 2, 3, 4]),
    (2, &[0, 1, 3, 4]),
    (3, &[0, 1, 2, 4]),
    (4, &[0, 1, 2, 3]),
];
const A1_ENFORCER_ARC: &[(RoleIndex, &[RoleIndex])] = &[
    (0, &[1]),
    (1, &[0]),
    (2, &[0, 1]),
    (3, &[0, 1]),
    (4, &[0, 1]),
];

/// App. A.1: cooperatively administered room.
pub fn cooperative() -> RoleData {
    let ordinary = a1_ordinary();
    let group_admin = plus(
        &ordinary,
        &[
            CanBan,
            CanUnBan,
            CanKick,
            CanChangeUserRole,
            CanDeleteOtherMessage,
            CanEditOtherTopic,
            CanChangeRoomDescription,
        ],
    );
    let super_admin = plus(
        &group_admin,
        &[
            CanChangeRoomMembershipStyle,
            CanChangePreauthorizedUserList,
            CanDestroyRoom,
        ],
    );
    RoleData {
        roles: vec![
            role(0, "no_role", &[], NONE, &[]),
            banned(),
            role(2, "ordinary_user", &ordinary, OPEN, &[(0, &[2]), (2, &[0])]),
            role(3, "group_admin", &group_admin, ADMIN, A1_GROUP_ADMIN_ARC),
            role(4, "super_admin", &super_admin, OPEN, A1_SUPER_ADMIN_ARC),
            role(
                5,
                "policy_enforcer",
                POLICY_ENFORCER_CAPS,
                ENFORCER,
                A1_ENFORCER_ARC,
            ),
        ],
    }
}

/// App. A.2: strictly administered room.
pub fn strict() -> RoleData {
    let mut ordinary = vec![
        CanAddOwnClient,
        CanJoinIfPreauthorized,
        CanRemoveOwnClient,
        CanRemoveSelf,
        CanChangeOwnRole,
        CanSendMessage,
        CanReceiveMessage,
        CanCopyMessage,
        CanReportAbuse,
        CanReactToMessage,
        CanDeleteOwnReaction,
        CanEditOwnMessage,
        CanDeleteOwnMessage,
        CanStartTopic,
        CanReplyInTopic,
    ];
    ordinary.extend(UPLOADS);
    ordinary.extend(DOWNLOADS);
    ordinary.extend([
        CanSendLink,
        CanSendLinkPreview,
        CanFollowLink,
        CanCopyLink,
        CanChangeOwnName,
        CanChangeOwnPresence,
        CanChangeOwnMood,
        CanChangeOwnAvatar,
    ]);
    let group_admin = plus(
        &ordinary,
        &[
            CanAddParticipant,
            CanRemoveParticipant,
            CanBan,
            CanUnBan,
            CanKick,
            CanChangeUserRole,
            CanCreateJoinCode,
            CanDeleteJoinCode,
            CanDeleteOtherReaction,
            CanDeleteOtherMessage,
            CanEditOwnTopic,
            CanEditOtherTopic,
            CanChangeRoomDescription,
            CanChangeRoomName,
            CanChangeRoomAvatar,
            CanChangeRoomSubject,
            CanChangeRoomMood,
        ],
    );
    let super_admin = plus(
        &group_admin,
        &[
            CanChangeRoomMembershipStyle,
            CanChangeRoleDefinitions,
            CanChangePreauthorizedUserList,
            CanDestroyRoom,
            CanSendMLSReinitProposal,
        ],
    );
    RoleData {
        roles: vec![
            role(0, "no_role", &[CanUseJoinCode], NONE, &[(0, &[2])]),
            banned(),
            role(2, "ordinary_user", &ordinary, OPEN, &[(0, &[2]), (2, &[0])]),
            role(3, "group_admin", &group_admin, ADMIN, A1_GROUP_ADMIN_ARC),
            role(4, "super_admin", &super_admin, OPEN, A1_SUPER_ADMIN_ARC),
            role(
                5,
                "policy_enforcer",
                POLICY_ENFORCER_CAPS,
                ENFORCER,
                A1_ENFORCER_ARC,
            ),
        ],
    }
}

/// Role indexes of App. A.3.
pub mod moderated_roles {
    use super::RoleIndex;
    /// guest.
    pub const GUEST: RoleIndex = 2;
    /// attendee.
    pub const ATTENDEE: RoleIndex = 3;
    /// speaker.
    pub const SPEAKER: RoleIndex = 4;
    /// moderator.
    pub const MODERATOR: RoleIndex = 5;
    /// super_admin.
    pub const SUPER_ADMIN: RoleIndex = 6;
    /// policy_enforcer.
    pub const POLICY_ENFORCER: RoleIndex = 7;
}

/// App. A.3: moderated room.
pub fn moderated() -> RoleData {
    let guest = vec![
        CanRemoveSelf,
        CanReceiveMessage,
        CanCopyMessage,
        CanReactToMessage,
        CanDeleteOwnReaction,
        CanFollowLink,
        CanCopyLink,
        CanDownloadImage,
        CanDownloadVideo,
        CanDownloadAudio,
    ];
    let attendee = plus(
        &guest,
        &[
            CanAddOwnClient,
            CanJoinIfPreauthorized,
            CanRemoveOwnClient,
            CanChangeOwnRole,
            CanReportAbuse,
            CanReplyInTopic,
            CanDownloadAttachment,
            CanChangeOwnName,
            CanChangeOwnPresence,
            CanChangeOwnAvatar,
        ],
    );
    let mut speaker_more = vec![
        CanSendMessage,
        CanEditOwnMessage,
        CanDeleteOwnMessage,
        CanStartTopic,
    ];
    speaker_more.extend(UPLOADS);
    speaker_more.extend([CanSendLink, CanSendLinkPreview]);
    let speaker = plus(&attendee, &speaker_more);
    let moderator = plus(
        &speaker,
        &[
            CanAddParticipant,
            CanRemoveParticipant,
            CanBan,
            CanUnBan,
            CanKick,
            CanChangeUserRole,
            CanCreateJoinCode,
            CanDeleteJoinCode,
            CanDeleteOtherReaction,
            CanDeleteOtherMessage,
            CanEditOwnTopic,
            CanEditOtherTopic,
            CanChangeRoomName,
            CanChangeRoomAvatar,
            CanChangeRoomSubject,
            CanChangeRoomMood,
        ],
    );
    let super_admin = plus(
        &moderator,
        &[
            CanChangeRoomDescription,
            CanChangeRoomMembershipStyle,
            CanChangeRoleDefinitions,
            CanChangePreauthorizedUserList,
            CanDestroyRoom,
            CanSendMLSReinitProposal,
        ],
    );
    RoleData {
        roles: vec![
            role(0, "no_role", &[CanUseJoinCode], OPEN, &[(0, &[2, 3])]),
            banned(),
            role(2, "guest", &guest, OPEN, &[(0, &[2]), (2, &[0])]),
            role(3, "attendee", &attendee, OPEN, &[(0, &[3]), (3, &[0])]),
            role(4, "speaker", &speaker, OPEN, &[(0, &[4]), (4, &[0])]),
            role_owned(
                5,
                "moderator",
                &moderator,
                ADMIN,
                &all_changes(&[0, 1, 2, 3, 4, 5]),
            ),
            role_owned(
                6,
                "super_admin",
                &super_admin,
                OPEN,
                &all_changes(&[0, 1, 2, 3, 4, 5, 6]),
            ),
            role(
                7,
                "policy_enforcer",
                POLICY_ENFORCER_CAPS,
                ENFORCER,
                &[
                    (0, &[1]),
                    (1, &[0]),
                    (2, &[0, 1]),
                    (3, &[0, 1]),
                    (4, &[0, 1]),
                    (5, &[0, 1]),
                    (6, &[0, 1]),
                ],
            ),
        ],
    }
}

/// Role indexes of App. A.4.
pub mod multi_org_roles {
    use super::RoleIndex;
    /// org_a_user (the host organization).
    pub const ORG_A_USER: RoleIndex = 2;
    /// org_b_user.
    pub const ORG_B_USER: RoleIndex = 3;
    /// org_c_user.
    pub const ORG_C_USER: RoleIndex = 4;
    /// org_a_admin.
    pub const ORG_A_ADMIN: RoleIndex = 5;
    /// org_b_admin.
    pub const ORG_B_ADMIN: RoleIndex = 6;
    /// org_c_admin.
    pub const ORG_C_ADMIN: RoleIndex = 7;
    /// super_admin.
    pub const SUPER_ADMIN: RoleIndex = 8;
    /// policy_enforcer.
    pub const POLICY_ENFORCER: RoleIndex = 9;
}

/// App. A.4: multi-organization administered room.
pub fn multi_org() -> RoleData {
    let mut org_b_user = vec![
        CanRemoveSelf,
        CanAddOwnClient,
        CanRemoveOwnClient,
        CanSendMessage,
        CanReceiveMessage,
        CanCopyMessage,
        CanReportAbuse,
        CanReplyInTopic,
        CanReactToMessage,
        CanDeleteOwnReaction,
        CanEditOwnMessage,
        CanSendLink,
        CanSendLinkPreview,
        CanFollowLink,
        CanCopyLink,
    ];
    org_b_user.extend(DOWNLOADS);
    org_b_user.extend([CanChangeOwnName, CanChangeOwnPresence, CanChangeOwnAvatar]);
    let org_a_user = plus(&org_b_user, &[CanChangeOwnRole, CanJoinIfPreauthorized]);
    let mut admin_more = vec![CanDeleteOwnMessage, CanStartTopic];
    admin_more.extend(UPLOADS);
    admin_more.extend([
        CanAddParticipant,
        CanRemoveParticipant,
        CanBan,
        CanKick,
        CanChangeUserRole,
    ]);
    let org_b_admin = plus(&org_b_user, &admin_more);
    let org_a_admin = plus(&org_b_admin, &[CanChangeOwnRole, CanJoinIfPreauthorized]);
    let super_admin = plus(
        &org_a_admin,
        &[
            CanUnBan,
            CanDeleteOtherReaction,
            CanDeleteOtherMessage,
            CanEditOwnTopic,
            CanEditOtherTopic,
            CanChangeRoomDescription,
            CanChangeRoomName,
            CanChangeRoomAvatar,
            CanChangeRoomSubject,
            CanChangeRoomMood,
            CanChangeRoomMembershipStyle,
            CanChangeRoleDefinitions,
            CanChangePreauthorizedUserList,
            CanDestroyRoom,
            CanSendMLSReinitProposal,
        ],
    );
    let org_admin_limits: Constraints = (1, Some(3), 1, None);
    RoleData {
        roles: vec![
            role(0, "no_role", &[], NONE, &[]),
            banned(),
            role(2, "org_a_user", &org_a_user, OPEN, &[(0, &[2]), (2, &[0])]),
            role(3, "org_b_user", &org_b_user, OPEN, &[(0, &[3]), (3, &[0])]),
            role(4, "org_c_user", &org_b_user, OPEN, &[(0, &[4]), (4, &[0])]),
            role(
                5,
                "org_a_admin",
                &org_a_admin,
                OPEN,
                &[(0, &[2, 5]), (2, &[0, 1, 5]), (5, &[0, 1, 2])],
            ),
            role(
                6,
                "org_b_admin",
                &org_b_admin,
                org_admin_limits,
                &[(0, &[3, 6]), (3, &[0, 1, 6]), (6, &[0, 1, 3])],
            ),
            role(
                7,
                "org_c_admin",
                &org_b_admin,
                org_admin_limits,
                &[(0, &[4, 7]), (4, &[0, 1, 7]), (7, &[0, 1, 4])],
            ),
            role(
                8,
                "super_admin",
                &super_admin,
                (1, None, 1, None),
                &[
                    (0, &[1, 2, 3, 4, 5, 6, 7, 8]),
                    (1, &[0, 2, 3, 4, 5, 6, 7, 8]),
                    (2, &[0, 1, 5, 8]),
                    (3, &[0, 1, 6]),
                    (4, &[0, 1, 7]),
                    (5, &[0, 1, 2, 8]),
                    (6, &[0, 1, 3]),
                    (7, &[0, 1, 4]),
                    (8, &[0, 1, 2, 5]),
                ],
            ),
            role(
                9,
                "policy_enforcer",
                POLICY_ENFORCER_CAPS,
                ENFORCER,
                &[
                    (0, &[1]),
                    (1, &[0]),
                    (3, &[0, 1]),
                    (4, &[0, 1]),
                    (5, &[0, 1]),
                    (6, &[0, 1]),
                    (7, &[0, 1]),
                    (8, &[0, 1]),
                ],
            ),
        ],
    }
}

/// All four examples with their appendix labels.
pub fn all() -> Vec<(&'static str, RoleData)> {
    vec![
        ("App.A.1 cooperative", cooperative()),
        ("App.A.2 strict", strict()),
        ("App.A.3 moderated", moderated()),
        ("App.A.4 multi-org", multi_org()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::validate::validate_roles;

    #[test]
    fn every_example_is_well_formed() {
        for (name, roles) in all() {
            assert_eq!(validate_roles(&roles), Ok(()), "{name}");
            assert!(roles.get(0).is_some(), "{name} defines role 0");
            assert_eq!(roles.get(1).map(|r| r.name()), Some("banned".into()));
        }
    }

    #[test]
    fn example_roles_carry_only_registered_code_points() {
        for (name, roles) in all() {
            for r in &roles.roles {
                for &c in &r.role_capabilities {
                    assert!(Capability::from_code(c).is_ok(), "{name}: 0x{c:04x}");
                }
            }
        }
    }
}
