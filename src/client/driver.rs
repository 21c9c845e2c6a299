//! Client-side steps that both drivers of openmls clients share — the in-memory
//! simulator ([`crate::sim::World`]) and the HTTPS provider node
//! ([`crate::provider::node::Node`]): what a client makes of a delivered message, the
//! projected room state of a client or a public room, the `/keyMaterial` request and
//! answer of the MIMI profile, and the participant-list parts of an Add or an external
//! join. Each driver keeps its own transport and bookkeeping.

use openmls::prelude::{ExtensionType, ProposalType, RequiredCapabilitiesExtension};
use serde::Serialize;
use std::sync::Arc;

use super::{Client, CommitRequest, Received};
use crate::hub::peek::{mls_body, mls_wrap, wire_format};
use crate::room::mimi::{
    decode_participants, participant_update, MimiLogic, PARTICIPANT_LIST, ROOM_METADATA,
};
use crate::room::{AppDataOp, ComponentId, PublicRoom};
use crate::sim::{key_material_request, ProjectedState, SimError};
use crate::wire::{ClientKeyMaterialStatus, KeyMaterialRequest, KeyMaterialResponse};

/// What a client made of one delivered message (protocol-06 §5.5 fanout).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Delivered {
    /// Joined the group from a Welcome.
    Joined,
    /// A decrypted application message.
    Application {
        /// The sender's credential identity.
        sender: String,
        /// The plaintext.
        data: Vec<u8>,
    },
    /// A proposal, queued.
    Proposal,
    /// Another member's commit, merged.
    Commit {
        /// The new epoch.
        epoch: u64,
        /// Whether this client was removed.
        removed_self: bool,
    },
    /// Its own commit, merged on the hub's echo.
    OwnCommit {
        /// The new epoch.
        epoch: u64,
    },
    /// Its own message echoed (application message, external commit).
    OwnEcho,
    /// Processing failed (e.g. a removed client cannot decrypt).
    Failed(String),
}

/// Hands one delivered `MLSMessage` to `client`: a Welcome (with the ratchet tree of its
/// `RatchetTreeOption`, if any) joins, anything else is processed. `own` says whether
/// the client sent this very message itself; a message it cannot process is then its
/// own echo (e.g. its external commit), not a failure.
pub fn receive(
    client: &mut Client,
    message: &[u8],
    ratchet_tree: Option<&[u8]>,
    own: bool,
) -> Delivered {
    if mls_body(wire_format::WELCOME, message).is_some() {
        return match client.join_from_welcome(message, ratchet_tree) {
            Ok(_) => Delivered::Joined,
            Err(e) => Delivered::Failed(e.to_string()),
        };
    }
    match client.process(message) {
        Ok(Received::Application { sender, data, .. }) => Delivered::Application {
            sender: String::from_utf8_lossy(&sender).into_owned(),
            data,
        },
        Ok(Received::Proposal { .. }) => Delivered::Proposal,
        Ok(Received::Commit {
            new_epoch,
            removed_self,
        }) => Delivered::Commit {
            epoch: new_epoch,
            removed_self,
        },
        Ok(Received::OwnCommit { new_epoch }) => Delivered::OwnCommit { epoch: new_epoch },
        Ok(Received::OwnApplication { .. }) => Delivered::OwnEcho,
        Err(_) if own => Delivered::OwnEcho,
        Err(e) => Delivered::Failed(e.to_string()),
    }
}

/// A client's projected room state (`None` unless it is an active member).
pub fn project_client(client: &Client, room_id: &str) -> Option<ProjectedState> {
    if !client.is_member(room_id.as_bytes()) {
        return None;
    }
    let v = client.view(room_id.as_bytes())?;
    Some(ProjectedState {
        participants: decode_participants(v.dictionary.get(&PARTICIPANT_LIST).map(Vec::as_slice))
            .unwrap_or_default(),
        members: v
            .members
            .values()
            .map(|i| String::from_utf8_lossy(i).into_owned())
            .collect(),
        epoch: v.epoch,
        pending_proposals: v.pending_proposals.iter().map(hex::encode).collect(),
        metadata: v.dictionary.get(&ROOM_METADATA).map(hex::encode),
    })
}

/// The projected state of a public room view (a hub's room or a follower's copy).
pub fn project_room(r: &PublicRoom) -> ProjectedState {
    let d = r.dictionary();
    ProjectedState {
        participants: decode_participants(d.get(&PARTICIPANT_LIST).map(Vec::as_slice))
            .unwrap_or_default(),
        members: r
            .members()
            .values()
            .map(|i| String::from_utf8_lossy(i).into_owned())
            .collect(),
        epoch: r.epoch(),
        pending_proposals: r
            .queued_proposals()
            .unwrap_or_default()
            .iter()
            .map(|q| hex::encode(&q.reference))
            .collect(),
        metadata: d.get(&ROOM_METADATA).map(hex::encode),
    }
}

/// The `/keyMaterial` request (protocol-06 §5.2) of `client` for `target_user`'s
/// KeyPackages for `room_id`, asking for the MIMI profile: our ciphersuite and the
/// AppDataDictionary extension, AppDataUpdate and SelfRemove proposals.
pub fn profile_key_material_request(
    client: &Client,
    room_id: &str,
    target_user: &str,
) -> Result<KeyMaterialRequest, SimError> {
    key_material_request(
        client,
        room_id,
        target_user,
        &[u16::from(crate::room::profile::CIPHERSUITE)],
        &RequiredCapabilitiesExtension::new(
            &[ExtensionType::AppDataDictionary],
            &[ProposalType::AppDataUpdate, ProposalType::SelfRemove],
            &[],
        ),
    )
}

/// The KeyPackages a `/keyMaterial` answer handed out (as `MLSMessage` bytes).
pub fn key_packages_of(response: &KeyMaterialResponse) -> Vec<Vec<u8>> {
    response
        .clients
        .iter()
        .filter_map(|c| match &c.status {
            ClientKeyMaterialStatus::Success { key_package } => {
                Some(mls_wrap(wire_format::KEY_PACKAGE, key_package.as_bytes()))
            }
            _ => None,
        })
        .collect()
}

/// The commit that adds `target_user` with `role` (§3.2): the participant-list addition
/// and an MLS Add per KeyPackage.
pub fn add_user_commit(target_user: &str, role: u32, key_packages: Vec<Vec<u8>>) -> CommitRequest {
    CommitRequest {
        app_data: vec![(
            PARTICIPANT_LIST,
            participant_update(&[], &[], &[(target_user, role)]),
        )],
        adds: key_packages,
        removes: Vec::new(),
        inline_ratchet_tree: false,
    }
}

/// The AppDataUpdates of `user`'s external join (§3.6) into the room of `group_info` and
/// `ratchet_tree`: none when the participant list already names the user, else its
/// addition with `role_if_new`.
pub fn external_join_app_data(
    group_info: &[u8],
    ratchet_tree: &[u8],
    user: &str,
    role_if_new: u32,
) -> Vec<(ComponentId, AppDataOp)> {
    let listed = PublicRoom::from_group_info(group_info, ratchet_tree, Arc::new(MimiLogic))
        .ok()
        .and_then(|r| {
            decode_participants(r.dictionary().get(&PARTICIPANT_LIST).map(Vec::as_slice)).ok()
        })
        .is_some_and(|l| l.iter().any(|(u, _)| *u == user));
    if listed {
        Vec::new()
    } else {
        vec![(
            PARTICIPANT_LIST,
            participant_update(&[], &[], &[(user, role_if_new)]),
        )]
    }
}
