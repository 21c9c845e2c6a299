//! Room state components: participant list (protocol-06 §7.5) and room metadata (§7.6).

use super::common::{wire_struct, Opaque, UriBytes, Utf8String};

/// Component id of `participant_list` (protocol-06 §10).
pub const PARTICIPANT_LIST_COMPONENT_ID: u16 = 0x0022;
/// Component id of `room_metadata` (protocol-06 §10).
pub const ROOM_METADATA_COMPONENT_ID: u16 = 0x0023;

wire_struct! {
    /// `UserRolePair` (protocol-06 §7.5).
    pub struct UserRolePair = "UserRolePair" {
        /// `opaque user<V>`: the user URI.
        pub user: UriBytes => "user",
        /// `uint32 role_index`.
        pub role_index: u32 => "role_index",
    }
}

wire_struct! {
    /// `ParticipantListData` (protocol-06 §7.5): data of component 0x0022.
    pub struct ParticipantListData = "ParticipantListData" {
        /// `UserRolePair participants<V>`.
        pub participants: Vec<UserRolePair> => "participants",
    }
}

wire_struct! {
    /// `UserindexRolePair` (protocol-06 §7.5).
    pub struct UserindexRolePair = "UserindexRolePair" {
        /// `uint32 user_index`: index into the current participant list.
        pub user_index: u32 => "user_index",
        /// `uint32 role_index`.
        pub role_index: u32 => "role_index",
    }
}

wire_struct! {
    /// `ParticipantListUpdate` (protocol-06 §7.5): AppDataUpdate payload for 0x0022
    /// (the draft's missing `;` after the first field restored).
    pub struct ParticipantListUpdate = "ParticipantListUpdate" {
        /// `UserindexRolePair changedRoleParticipants<V>`.
        pub changed_role_participants: Vec<UserindexRolePair> => "changedRoleParticipants",
        /// `uint32 removedIndices<V>`.
        pub removed_indices: Vec<u32> => "removedIndices",
        /// `UserRolePair addedParticipants<V>`.
        pub added_participants: Vec<UserRolePair> => "addedParticipants",
    }
}

wire_struct! {
    /// `Uri` (protocol-06 §7.6): `opaque uri<V>`.
    pub struct Uri = "Uri" {
        /// The URI bytes.
        pub uri: UriBytes => "uri",
    }
}

wire_struct! {
    /// `RichDescription` (protocol-06 §7.6).
    pub struct RichDescription = "RichDescription" {
        /// `opaque media_type<V>` (empty = text/plain;charset=utf-8).
        pub media_type: UriBytes => "media_type",
        /// `opaque language_tag<V>`.
        pub language_tag: UriBytes => "language_tag",
        /// `opaque description_content<V>`.
        pub description_content: Opaque => "description_content",
    }
}

wire_struct! {
    /// `RoomMetaData` (protocol-06 §7.6): data of component 0x0023; an update replaces it.
    pub struct RoomMetaData = "RoomMetaData" {
        /// `Uri room_uri`.
        pub room_uri: Uri => "room_uri",
        /// `UTF8String room_name`.
        pub room_name: Utf8String => "room_name",
        /// `RichDescription room_descriptions<V>`.
        pub room_descriptions: Vec<RichDescription> => "room_descriptions",
        /// `Uri room_avatar`: an https URI of an avatar image.
        pub room_avatar: Uri => "room_avatar",
        /// `UTF8String room_subject`.
        pub room_subject: Utf8String => "room_subject",
        /// `UTF8String room_mood`.
        pub room_mood: Utf8String => "room_mood",
    }
}

/// `RoomMetaUpdate` (protocol-06 §7.6) has the same syntax as [`RoomMetaData`].
pub type RoomMetaUpdate = RoomMetaData;

use super::common::{decode_exact, WireDecode, WireError};
use super::mls::{AppDataOp, AppDataUpdate, ComponentData};

fn component<T: tls_codec::Serialize>(id: u16, v: &T) -> Result<ComponentData, tls_codec::Error> {
    Ok(ComponentData {
        component_id: id,
        data: Opaque::new(v.tls_serialize_detached()?),
    })
}

fn update<T: tls_codec::Serialize>(id: u16, v: &T) -> Result<AppDataUpdate, tls_codec::Error> {
    Ok(AppDataUpdate {
        component_id: id,
        op: AppDataOp::Update {
            update: Opaque::new(v.tls_serialize_detached()?),
        },
    })
}

/// Decodes the `data` of a component, checking its id.
fn from_component<T: WireDecode>(id: u16, c: &ComponentData) -> Option<Result<T, WireError>> {
    (c.component_id == id).then(|| decode_exact::<T>(c.data.as_slice()))
}

impl ParticipantListData {
    /// As the GroupContext `ComponentData` for `participant_list` (0x0022).
    pub fn to_component(&self) -> Result<ComponentData, tls_codec::Error> {
        component(PARTICIPANT_LIST_COMPONENT_ID, self)
    }
    /// From a `ComponentData`; `None` if it is another component.
    pub fn from_component(c: &ComponentData) -> Option<Result<Self, WireError>> {
        from_component(PARTICIPANT_LIST_COMPONENT_ID, c)
    }
}

impl ParticipantListUpdate {
    /// As an `AppDataUpdate` proposal body for `participant_list` (0x0022).
    pub fn to_app_data_update(&self) -> Result<AppDataUpdate, tls_codec::Error> {
        update(PARTICIPANT_LIST_COMPONENT_ID, self)
    }
}

impl RoomMetaData {
    /// As the GroupContext `ComponentData` for `room_metadata` (0x0023).
    pub fn to_component(&self) -> Result<ComponentData, tls_codec::Error> {
        component(ROOM_METADATA_COMPONENT_ID, self)
    }
    /// From a `ComponentData`; `None` if it is another component.
    pub fn from_component(c: &ComponentData) -> Option<Result<Self, WireError>> {
        from_component(ROOM_METADATA_COMPONENT_ID, c)
    }
    /// As an `AppDataUpdate` (a `RoomMetaUpdate`, which replaces the whole value).
    pub fn to_app_data_update(&self) -> Result<AppDataUpdate, tls_codec::Error> {
        update(ROOM_METADATA_COMPONENT_ID, self)
    }
}
