//! A MIMI room as the sans-IO hub hosts it (protocol-06 §3.1, §5.3): real clients, the
//! MIMI components (participant list, roles, base policy, metadata) and [`MimiLogic`],
//! so every commit goes through the same policy decisions as in production. Used by the
//! hub `/update` bench and the `/submitMessage` fanout bench.
//!
//! Everything here is bench set-up and panics on failure (outside the measured loops).
#![allow(dead_code)]

use std::sync::Arc;

use mimi_ref::client::{Client, CommitRequest};
use mimi_ref::hub::{Hub, HubInput, HubOutput};
use mimi_ref::policy::examples::role;
use mimi_ref::policy::{BaseRoomPolicy, Capability::*, RoleData};
use mimi_ref::room::mimi::{
    initial_dictionary, participant_update, room_metadata, MimiLogic, PARTICIPANT_LIST,
};
use mimi_ref::sim::{commit_update_request, room_uri, user_uri};
use mimi_ref::uri::{MimiUri, UriKind};
use mimi_ref::wire::common::encode;
use mimi_ref::wire::UpdateResult;

use super::CommitKind;

/// The hub's provider (alice, the creator and committer, lives here too).
pub const HUB: &str = "a.example";
/// Role indexes of [`roles`].
pub const MEMBER: u32 = 2;
/// The admin role (alice's).
pub const ADMIN: u32 = 3;
/// A fixed clock for the hub (ms since the Unix epoch).
pub const NOW_MS: u64 = 1_700_000_000_000;

/// A small roles list: 0 no-role, 1 banned, 2 member, 3 admin (at least one); an admin
/// may move anyone between any two roles (room-policy-03 §4, in the shape of App. A.1).
pub fn roles() -> RoleData {
    let member = [
        CanAddParticipant,
        CanRemoveParticipant,
        CanAddOwnClient,
        CanRemoveOwnClient,
        CanRemoveSelf,
        CanSendMessage,
        CanReceiveMessage,
        CanChangeRoomName,
    ];
    let mut admin = member.to_vec();
    admin.extend([CanBan, CanUnBan, CanKick, CanChangeUserRole]);
    RoleData {
        roles: vec![
            role(0, "no_role", &[], (0, None, 0, Some(0)), &[]),
            role(1, "banned", &[], (0, None, 0, Some(0)), &[]),
            role(2, "member", &member, (0, None, 0, None), &[(0, &[2])]),
            role(
                3,
                "admin",
                &admin,
                (1, None, 0, None),
                &[
                    (0, &[1, 2, 3]),
                    (1, &[0, 2, 3]),
                    (2, &[0, 1, 3]),
                    (3, &[0, 1, 2]),
                ],
            ),
        ],
    }
}

/// A client `mimi://<provider>/d/<user>/1` running [`MimiLogic`].
pub fn mimi_client(provider: &str, user: &str) -> Client {
    let uri = MimiUri::new(UriKind::Client, provider, &[user, "1"]).expect("bench client URI");
    Client::new(uri, Arc::new(MimiLogic)).expect("bench client")
}

/// One pending `/update` of a [`MimiRoom`].
pub struct PendingUpdate {
    /// Which kind.
    pub kind: CommitKind,
    /// The `UpdateRequest` bytes (HandshakeBundle with GroupInfo, tree and Welcome).
    pub body: Vec<u8>,
    /// The commit alone (`MLSMessage` bytes), for the raw-openmls baseline.
    pub commit: Vec<u8>,
}

/// A MIMI room at epoch 1: alice (admin, on [`HUB`]) created it and added one client of
/// each other user in one commit; the users live on `providers` round-robin.
pub struct MimiRoom {
    /// The room URI (also the MLS group id).
    pub room_id: String,
    /// Members (clients) before any pending commit.
    pub members: usize,
    /// alice, the committer of every pending update (her commit is not merged).
    pub alice: Client,
    /// The other members' clients, in leaf order (leaf 1 first).
    pub others: Vec<Client>,
    /// The GroupInfo (`MLSMessage`) of epoch 1.
    pub group_info: Vec<u8>,
    /// The ratchet tree of epoch 1.
    pub ratchet_tree: Vec<u8>,
}

impl MimiRoom {
    /// Build the room with `members` (≥ 1) clients, the others spread over `providers`.
    pub fn build(members: usize, providers: &[String]) -> MimiRoom {
        assert!(members >= 1);
        let room_id = room_uri(HUB, "bench");
        let mut alice = mimi_client(HUB, "alice");
        let md = room_metadata(&room_id, "bench", "").expect("metadata");
        let dict = initial_dictionary(
            &user_uri(HUB, "alice"),
            ADMIN,
            &roles(),
            &BaseRoomPolicy::default(),
            &md,
        );
        alice
            .create_group(room_id.as_bytes(), &dict)
            .expect("create group");
        let others: Vec<Client> = (1..members)
            .map(|i| mimi_client(&providers[(i - 1) % providers.len()], &format!("user{i}")))
            .collect();
        if !others.is_empty() {
            let users: Vec<String> = (1..members)
                .map(|i| user_uri(&providers[(i - 1) % providers.len()], &format!("user{i}")))
                .collect();
            let added: Vec<(&str, u32)> = users.iter().map(|u| (u.as_str(), MEMBER)).collect();
            let request = CommitRequest {
                app_data: vec![(PARTICIPANT_LIST, participant_update(&[], &[], &added))],
                adds: others
                    .iter()
                    .map(|c| c.key_package().expect("key package"))
                    .collect(),
                ..CommitRequest::default()
            };
            alice
                .commit(room_id.as_bytes(), &request)
                .expect("populate commit");
            alice
                .merge_pending_commit(room_id.as_bytes())
                .expect("merge populate");
        }
        let bundle = alice.group_info(room_id.as_bytes()).expect("group info");
        MimiRoom {
            room_id,
            members,
            alice,
            others,
            group_info: bundle.group_info,
            ratchet_tree: bundle.ratchet_tree,
        }
    }

    /// A hub hosting this room at epoch 1 (the GroupInfo and tree verified by openmls,
    /// the room state by policy, as `CreateRoom` does).
    pub fn hub(&self) -> Hub {
        let mut hub = Hub::new(HUB, 1_000);
        let out = hub.handle(
            NOW_MS,
            HUB,
            HubInput::CreateRoom {
                room_id: self.room_id.clone(),
                group_info: self.group_info.clone(),
                ratchet_tree: self.ratchet_tree.clone(),
            },
        );
        match out.first() {
            Some(HubOutput::RoomCreated(Ok(()))) => hub,
            other => panic!("hub refused the bench room: {other:?}"),
        }
    }

    /// alice's pending commit of `kind` as an `/update` (built, then discarded at alice,
    /// so every kind is against epoch 1). `Remove` removes the client at leaf 1 and its
    /// user; `AppDataUpdate` is a participant-list change (leaf 1's user becomes admin).
    pub fn update(&mut self, kind: CommitKind) -> PendingUpdate {
        assert!(
            self.members >= 2 || matches!(kind, CommitKind::SelfUpdate | CommitKind::Add),
            "remove and role change need a second member"
        );
        let mut request = CommitRequest::default();
        match kind {
            CommitKind::Add => {
                let newcomer = mimi_client("z.example", "newcomer");
                request.adds = vec![newcomer.key_package().expect("key package")];
                request.app_data = vec![(
                    PARTICIPANT_LIST,
                    participant_update(&[], &[], &[(&user_uri("z.example", "newcomer"), MEMBER)]),
                )];
            }
            CommitKind::Remove => {
                request.removes = vec![1];
                request.app_data = vec![(PARTICIPANT_LIST, participant_update(&[], &[1], &[]))];
            }
            CommitKind::SelfUpdate => {}
            CommitKind::AppDataUpdate => {
                request.app_data = vec![(
                    PARTICIPANT_LIST,
                    participant_update(&[(1, ADMIN)], &[], &[]),
                )];
            }
        }
        let gid = self.room_id.clone();
        let out = self
            .alice
            .commit(gid.as_bytes(), &request)
            .expect("bench commit");
        self.alice
            .discard_pending_commit(gid.as_bytes())
            .expect("discard");
        let req = commit_update_request(&out).expect("update request");
        PendingUpdate {
            kind,
            body: encode(&req).expect("encode update request"),
            commit: out.commit,
        }
    }
}

/// Whether the hub's first output is a successful `/update` response.
pub fn update_succeeded(out: &[HubOutput]) -> Result<(), String> {
    match out.first() {
        Some(HubOutput::Update(r)) if matches!(r.result, UpdateResult::Success { .. }) => Ok(()),
        Some(HubOutput::Update(r)) => Err(format!(
            "{:?}: {}",
            r.result.code(),
            r.error_description.as_str()
        )),
        other => Err(format!("unexpected hub output {other:?}")),
    }
}
