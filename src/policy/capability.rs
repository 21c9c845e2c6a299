//! The MIMI role capability registry (room-policy-03 §8, IANA "MIMI Role Capabilities",
//! §10.2 Table 1).
//!
//! On the wire a capability is a bare `uint16` ([`CapabilityType`]); a role may carry code
//! points this crate does not know (private use, later registrations), which grant nothing.
//! [`Capability`] names every code point the draft registers: 59 with semantics and 18
//! reserved names.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// A capability code point as carried on the wire (room-policy-03 §3, `CapabilityType`).
pub type CapabilityType = u16;

/// A code point or name that is not in the registry.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UnknownCapability {
    /// The code point is not registered by room-policy-03 §10.2.
    #[error("capability code point 0x{0:04x} is not in the room-policy-03 §10.2 registry")]
    Code(u16),
    /// The name is not registered by room-policy-03 §10.2.
    #[error("capability name {0:?} is not in the room-policy-03 §10.2 registry")]
    Name(String),
}

macro_rules! capabilities {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $name:literal, $reserved:literal; )*) => {
        /// Every code point of the room-policy-03 capability registry (§8, §10.2).
        ///
        /// The discriminant is the code point.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u16)]
        pub enum Capability {
            $( $(#[$doc])* $variant = $code, )*
        }

        impl Capability {
            /// Every registered capability (defined and reserved), in code-point order.
            pub const ALL: &'static [Capability] = &[ $( Capability::$variant, )* ];

            /// The code point.
            pub const fn code(self) -> CapabilityType {
                self as u16
            }

            /// The name as the registry spells it (e.g. `"canAddParticipant"`).
            pub const fn name(self) -> &'static str {
                match self { $( Capability::$variant => $name, )* }
            }

            /// Whether the draft only reserves this name (no semantics defined yet).
            pub const fn is_reserved(self) -> bool {
                match self { $( Capability::$variant => $reserved, )* }
            }

            /// Look a code point up.
            pub fn from_code(code: CapabilityType) -> Result<Self, UnknownCapability> {
                match code {
                    $( $code => Ok(Capability::$variant), )*
                    other => Err(UnknownCapability::Code(other)),
                }
            }
        }
    };
}

capabilities! {
    /// 0x0000: add another user to the participant list (§8.1.1).
    CanAddParticipant = 0x0000, "canAddParticipant", false;
    /// 0x0001: remove another user and all their clients (§8.1.2).
    CanRemoveParticipant = 0x0001, "canRemoveParticipant", false;
    /// 0x0002: add a client of one's own user (§8.1.1).
    CanAddOwnClient = 0x0002, "canAddOwnClient", false;
    /// 0x0003: remove a client of one's own user (§8.1.2).
    CanRemoveOwnClient = 0x0003, "canRemoveOwnClient", false;
    /// 0x0004: outsiders may join on their own (only meaningful on role 0, §8.1.1).
    CanOpenJoin = 0x0004, "canOpenJoin", false;
    /// 0x0005: join in this role when preauthorized for it (§8.1.1).
    CanJoinIfPreauthorized = 0x0005, "canJoinIfPreauthorized", false;
    /// 0x0006: leave the participant list (§8.1.2).
    CanRemoveSelf = 0x0006, "canRemoveSelf", false;
    /// 0x0007: reserved.
    CanCreateJoinCode = 0x0007, "canCreateJoinCode", true;
    /// 0x0008: reserved.
    CanDeleteJoinCode = 0x0008, "canDeleteJoinCode", true;
    /// 0x0009: join with a valid join code (§8.1.1).
    CanUseJoinCode = 0x0009, "canUseJoinCode", false;
    /// 0x000a: move a participant to the banned role (§8.1.3).
    CanBan = 0x000a, "canBan", false;
    /// 0x000b: move a participant out of the banned role (§8.1.3).
    CanUnBan = 0x000b, "canUnBan", false;
    /// 0x000c: remove another participant's clients (§8.1.2).
    CanKick = 0x000c, "canKick", false;
    /// 0x000d: reserved.
    CanKnock = 0x000d, "canKnock", true;
    /// 0x000e: reserved.
    CanAcceptKnock = 0x000e, "canAcceptKnock", true;
    /// 0x000f: change another participant's role (§8.1.3).
    CanChangeUserRole = 0x000f, "canChangeUserRole", false;
    /// 0x0010: change one's own role to a preauthorized one (§8.1.3).
    CanChangeOwnRole = 0x0010, "canChangeOwnRole", false;
    /// 0x0011: reserved.
    CanCreateSubgroup = 0x0011, "canCreateSubgroup", true;
    /// 0x0100: send messages (§8.3).
    CanSendMessage = 0x0100, "canSendMessage", false;
    /// 0x0101: receive messages (§8.3).
    CanReceiveMessage = 0x0101, "canReceiveMessage", false;
    /// 0x0102: copy received content (§8.3).
    CanCopyMessage = 0x0102, "canCopyMessage", false;
    /// 0x0103: report a franked message (§8.3).
    CanReportAbuse = 0x0103, "canReportAbuse", false;
    /// 0x0104: reply to a message (§8.3).
    CanReplyToMessage = 0x0104, "canReplyToMessage", false;
    /// 0x0105: react to a message (§8.3).
    CanReactToMessage = 0x0105, "canReactToMessage", false;
    /// 0x0106: replace one's own reaction (§8.3).
    CanEditReaction = 0x0106, "canEditReaction", false;
    /// 0x0107: retract one's own reaction (§8.3).
    CanDeleteOwnReaction = 0x0107, "canDeleteOwnReaction", false;
    /// 0x0108: delete another user's reaction (§8.3).
    CanDeleteOtherReaction = 0x0108, "canDeleteOtherReaction", false;
    /// 0x0109: edit one's own message (§8.3).
    CanEditOwnMessage = 0x0109, "canEditOwnMessage", false;
    /// 0x010a: retract one's own message (§8.3).
    CanDeleteOwnMessage = 0x010a, "canDeleteOwnMessage", false;
    /// 0x010b: retract another user's message (§8.3).
    CanDeleteOtherMessage = 0x010b, "canDeleteOtherMessage", false;
    /// 0x010c: start a topic (§8.3).
    CanStartTopic = 0x010c, "canStartTopic", false;
    /// 0x010d: reply within a topic (§8.3).
    CanReplyInTopic = 0x010d, "canReplyInTopic", false;
    /// 0x010e: change the topic of one's own message (§8.3).
    CanEditOwnTopic = 0x010e, "canEditOwnTopic", false;
    /// 0x010f: change the topic of another user's message (§8.3).
    CanEditOtherTopic = 0x010f, "canEditOtherTopic", false;
    /// 0x0110: reserved.
    CanSendDirectMessage = 0x0110, "canSendDirectMessage", true;
    /// 0x0111: reserved.
    CanTargetMessage = 0x0111, "canTargetMessage", true;
    /// 0x0200: upload an image (§8.4).
    CanUploadImage = 0x0200, "canUploadImage", false;
    /// 0x0201: upload audio (§8.4).
    CanUploadAudio = 0x0201, "canUploadAudio", false;
    /// 0x0202: upload video (§8.4).
    CanUploadVideo = 0x0202, "canUploadVideo", false;
    /// 0x0203: upload an attachment (§8.4).
    CanUploadAttachment = 0x0203, "canUploadAttachment", false;
    /// 0x0204: download an image (§8.4).
    CanDownloadImage = 0x0204, "canDownloadImage", false;
    /// 0x0205: download audio (§8.4).
    CanDownloadAudio = 0x0205, "canDownloadAudio", false;
    /// 0x0206: download video (§8.4).
    CanDownloadVideo = 0x0206, "canDownloadVideo", false;
    /// 0x0207: download an attachment (§8.4).
    CanDownloadAttachment = 0x0207, "canDownloadAttachment", false;
    /// 0x0208: send an inline link (§8.3).
    CanSendLink = 0x0208, "canSendLink", false;
    /// 0x0209: send an inline link with a preview (§8.3).
    CanSendLinkPreview = 0x0209, "canSendLinkPreview", false;
    /// 0x020a: follow a sent link (§8.3).
    CanFollowLink = 0x020a, "canFollowLink", false;
    /// 0x020b: copy a sent link (§8.3).
    CanCopyLink = 0x020b, "canCopyLink", false;
    /// 0x0300: change the room name (§8.2).
    CanChangeRoomName = 0x0300, "canChangeRoomName", false;
    /// 0x0301: change the room descriptions (§8.2).
    CanChangeRoomDescription = 0x0301, "canChangeRoomDescription", false;
    /// 0x0302: change the room avatar (§8.2).
    CanChangeRoomAvatar = 0x0302, "canChangeRoomAvatar", false;
    /// 0x0303: change the room subject (§8.2).
    CanChangeRoomSubject = 0x0303, "canChangeRoomSubject", false;
    /// 0x0304: change the room mood (§8.2).
    CanChangeRoomMood = 0x0304, "canChangeRoomMood", false;
    /// 0x0380: reserved.
    CanChangeOwnName = 0x0380, "canChangeOwnName", true;
    /// 0x0381: reserved.
    CanChangeOwnPresence = 0x0381, "canChangeOwnPresence", true;
    /// 0x0382: reserved.
    CanChangeOwnMood = 0x0382, "canChangeOwnMood", true;
    /// 0x0383: reserved.
    CanChangeOwnAvatar = 0x0383, "canChangeOwnAvatar", true;
    /// 0x0400: start a call (§8.5).
    CanStartCall = 0x0400, "canStartCall", false;
    /// 0x0401: join a call (§8.5).
    CanJoinCall = 0x0401, "canJoinCall", false;
    /// 0x0402: send audio in a call (§8.5).
    CanSendAudio = 0x0402, "canSendAudio", false;
    /// 0x0403: receive audio in a call (§8.5).
    CanReceiveAudio = 0x0403, "canReceiveAudio", false;
    /// 0x0404: send video in a call (§8.5).
    CanSendVideo = 0x0404, "canSendVideo", false;
    /// 0x0405: receive video in a call (§8.5).
    CanReceiveVideo = 0x0405, "canReceiveVideo", false;
    /// 0x0406: share a screen (§8.5).
    CanShareScreen = 0x0406, "canShareScreen", false;
    /// 0x0407: view a shared screen (§8.5).
    CanViewSharedScreen = 0x0407, "canViewSharedScreen", false;
    /// 0x0500: reserved.
    CanCreateRoom = 0x0500, "canCreateRoom", true;
    /// 0x0501: destroy the room (§8.6).
    CanDestroyRoom = 0x0501, "canDestroyRoom", false;
    /// 0x0502: change the base room policy (§8.6).
    CanChangeRoomMembershipStyle = 0x0502, "canChangeRoomMembershipStyle", false;
    /// 0x0503: replace the roles list (§8.6).
    CanChangeRoleDefinitions = 0x0503, "canChangeRoleDefinitions", false;
    /// 0x0504: replace the preauthorization list (§8.6).
    CanChangePreauthorizedUserList = 0x0504, "canChangePreauthorizedUserList", false;
    /// 0x0505: reserved.
    CanChangeOtherPolicyAttribute = 0x0505, "canChangeOtherPolicyAttribute", true;
    /// 0x0600: reserved.
    CanChangeMlsOperationalPolicies = 0x0600, "canChangeMlsOperationalPolicies", true;
    /// 0x0601: send an MLS ReInit proposal (§8.7).
    CanSendMLSReinitProposal = 0x0601, "canSendMLSReinitProposal", false;
    /// 0x0602: reserved.
    CanSendMLSUpdateProposal = 0x0602, "canSendMLSUpdateProposal", true;
    /// 0x0603: reserved.
    CanSendMLSPSKProposal = 0x0603, "canSendMLSPSKProposal", true;
    /// 0x0604: reserved.
    CanSendMLSExternalProposal = 0x0604, "canSendMLSExternalProposal", true;
    /// 0x0605: reserved.
    CanSendMLSExternalCommit = 0x0605, "canSendMLSExternalCommit", true;
}

impl Capability {
    /// Look a name up. Exact, case-sensitive match on the registry spelling; the one
    /// alternative spelling the draft's prose uses (`canUnban` for `canUnBan`, §8.1.3) is
    /// accepted too.
    pub fn from_name(name: &str) -> Result<Self, UnknownCapability> {
        if name == "canUnban" {
            return Ok(Capability::CanUnBan);
        }
        Capability::ALL
            .iter()
            .copied()
            .find(|c| c.name() == name)
            .ok_or_else(|| UnknownCapability::Name(name.to_owned()))
    }

    /// The capabilities the draft defines semantics for (not reserved).
    pub fn defined() -> impl Iterator<Item = Capability> {
        Capability::ALL.iter().copied().filter(|c| !c.is_reserved())
    }

    /// The capabilities the draft only reserves.
    pub fn reserved() -> impl Iterator<Item = Capability> {
        Capability::ALL.iter().copied().filter(|c| c.is_reserved())
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<Capability> for CapabilityType {
    fn from(c: Capability) -> Self {
        c.code()
    }
}

impl TryFrom<CapabilityType> for Capability {
    type Error = UnknownCapability;
    fn try_from(code: CapabilityType) -> Result<Self, Self::Error> {
        Capability::from_code(code)
    }
}

impl std::str::FromStr for Capability {
    type Err = UnknownCapability;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Capability::from_name(s)
    }
}

impl Serialize for Capability {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Capability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Capability::from_name(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn registry_counts_match_the_draft() {
        assert_eq!(Capability::defined().count(), 59);
        assert_eq!(Capability::reserved().count(), 18);
        assert_eq!(Capability::ALL.len(), 77);
    }

    #[test]
    fn codes_and_names_are_unique_and_round_trip() {
        let codes: BTreeSet<u16> = Capability::ALL.iter().map(|c| c.code()).collect();
        let names: BTreeSet<&str> = Capability::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(codes.len(), Capability::ALL.len());
        assert_eq!(names.len(), Capability::ALL.len());
        for &c in Capability::ALL {
            assert_eq!(Capability::from_code(c.code()), Ok(c));
            assert_eq!(Capability::from_name(c.name()), Ok(c));
            assert!(c.name().starts_with("can"));
        }
        let mut sorted = Capability::ALL.to_vec();
        sorted.sort();
        assert_eq!(sorted, Capability::ALL);
    }

    #[test]
    fn spot_check_code_points() {
        assert_eq!(Capability::CanAddParticipant.code(), 0x0000);
        assert_eq!(Capability::CanUseJoinCode.code(), 0x0009);
        assert_eq!(Capability::CanChangeOwnRole.code(), 0x0010);
        assert_eq!(Capability::CanSendLink.code(), 0x0208);
        assert_eq!(Capability::CanChangeRoomMood.code(), 0x0304);
        assert_eq!(Capability::CanViewSharedScreen.code(), 0x0407);
        assert_eq!(Capability::CanChangePreauthorizedUserList.code(), 0x0504);
        assert_eq!(Capability::CanSendMLSReinitProposal.code(), 0x0601);
        assert!(Capability::CanChangeMlsOperationalPolicies.is_reserved());
        assert!(!Capability::CanKick.is_reserved());
    }

    #[test]
    fn unknown_lookups_are_typed_errors() {
        assert_eq!(
            Capability::from_code(0x0012),
            Err(UnknownCapability::Code(0x0012))
        );
        assert_eq!(
            Capability::from_code(0xF000),
            Err(UnknownCapability::Code(0xF000))
        );
        assert_eq!(
            Capability::from_name("canRevokeVoice"),
            Err(UnknownCapability::Name("canRevokeVoice".into()))
        );
        assert_eq!(Capability::from_name("canUnban"), Ok(Capability::CanUnBan));
        assert!(Capability::from_name("canaddparticipant").is_err());
    }

    #[test]
    fn serde_uses_registry_names() {
        let json = serde_json::to_string(&Capability::CanUnBan).unwrap();
        assert_eq!(json, "\"canUnBan\"");
        let back: Capability = serde_json::from_str("\"canKick\"").unwrap();
        assert_eq!(back, Capability::CanKick);
        assert!(serde_json::from_str::<Capability>("\"canFly\"").is_err());
    }
}
