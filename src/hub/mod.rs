//! The hub, sans-IO (protocol-06 §5.3–§5.6): one [`Hub`] per provider, holding
//! every room that provider hosts.
//!
//! In the quinn-proto style, [`Hub::handle`] takes the current time (ms since
//! the Unix epoch), the provider a request came from and the request, and
//! returns what to send: the response to the request and the `/notify` fanout
//! to followers. No sockets, no clock, no randomness: the driver
//! ([`crate::sim`] or an HTTP shell) supplies time and moves the bytes.
//!
//! * `/update` ([`HubInput::Update`]): the handshake is validated by the room's
//!   [`PublicRoom`] running the [`MimiLogic`] (MLS validity, epoch, the
//!   participant-list / policy / metadata rules through `policy::authorize_commit`,
//!   "a commit includes the queued proposals", GroupInfo check); senders whose
//!   user a queued proposal removes or bans are blocked except for Remove and
//!   SelfRemove (§5.3); a proposal and its `moreProposals` are one transaction.
//!   Every refusal maps onto an [`UpdateRoomResponse`] in [`update_refusal`].
//! * `/submitMessage` ([`HubInput::SubmitMessage`]): PrivateMessage application
//!   content of the current epoch (older: `epochTooOld`), `canSendMessage` for
//!   `sendingUri`, blocked users refused (§5.4).
//! * `/keyMaterial` relay ([`HubInput::KeyMaterial`] → [`HubOutput::ForwardKeyMaterial`],
//!   [`HubInput::KeyMaterialAnswer`] → [`HubOutput::KeyMaterial`]): the hub records
//!   the KeyPackageRef → provider of every KeyPackage it relays (§5.2) and routes
//!   Welcomes by it.
//! * `/groupInfo` ([`HubInput::GroupInfo`]): the kept GroupInfo, ratchet tree and
//!   pending proposals for an external join, if policy lets the requester join (§5.6).
//! * Fanout ([`HubOutput::Notify`]): one `FanoutMessage` per accepted event to
//!   every provider with clients in the group (after a commit, also the providers
//!   of removed clients), Welcomes to the providers of the added KeyPackages.
//!   Each notify carries a per-(room, destination) sequence number in its
//!   envelope; the hub keeps it until acknowledged ([`HubInput::NotifyAck`]) and
//!   re-sends it from [`Hub::poll_timeout`].
//!
//! * Hub-originated proposals (§5.3, §5.5; RFC 9420 §12.1.8.1): the hub is the first
//!   entry of every hosted room's `external_senders` (checked at creation, and no commit
//!   may drop it). [`HubInput::RemoveUser`] signs an external Remove for every client of a
//!   user (a deleted account); the next commit must carry them and the user's list
//!   removal ([`crate::room::mimi::hub_removed_users`]). An external commit covers no
//!   queued proposal; the removals it invalidated are re-issued by the hub in the new
//!   epoch and stapled to the commit's fanout (`external_proposals`). See
//!   `spec/deviations.md`, "hub external proposals".
//!
//! A refused request leaves the hub byte-for-byte unchanged ([`Hub::snapshot`]).

pub mod abuse;
pub mod auth;
pub mod peek;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;
use thiserror::Error;

use crate::policy::{self, Actor, Change, MessageAction};
use crate::room::mimi::{
    actor_of, decode_participants, policy_state, user_of_client, MimiLogic, PARTICIPANT_LIST,
};
use crate::room::profile::key_package_ref;
use crate::room::{
    Accepted, AppDataOp, BootstrapError, ProposalKind, PublicRoom, RoomError, RoomView,
};
use crate::uri::MimiUri;
use crate::wire::common::Opaque;
use crate::wire::common::{decode_exact, WireString};
use crate::wire::group_info::{GROUP_INFO_ENCRYPTION_LABEL, GROUP_INFO_RESPONSE_TBS_LABEL};
use crate::wire::mls::{
    CipherSuite, HpkeCiphertext as WireHpkeCiphertext, MlsExternalSender, MlsGroupInfo, MlsMessage,
    MlsRatchetTree, ProposalRef,
};
use crate::wire::{
    ClientKeyMaterialStatus, FanoutBody, FanoutMessage, FanoutMessages, GroupInfoOption,
    GroupInfoRatchetTreeTBE, GroupInfoRequest, HandshakeBundleBody, KeyMaterialRequest,
    KeyMaterialResponse, ParticipantListUpdate, PendingProposal, Protocol, RatchetTreeOption,
    SubmitMessageRequest, SubmitMessageResponse, SubmitStatus, UpdateRequest, UpdateResult,
    UpdateRoomResponse, WireError,
};
use crate::wire::{GroupInfoResponse, GroupInfoStatus};
use peek::{mls_body, mls_wrap, wire_format};

/// A request to the hub.
#[derive(Debug, Clone)]
pub enum HubInput {
    /// Host a new room (from the hub's own provider, protocol-06 §3.1): the
    /// creator's GroupInfo (`MLSMessage`) and ratchet tree.
    CreateRoom {
        /// The room URI.
        room_id: String,
        /// The GroupInfo (`MLSMessage`).
        group_info: Vec<u8>,
        /// The TLS-encoded ratchet tree.
        ratchet_tree: Vec<u8>,
    },
    /// `POST /update/{roomId}`: an `UpdateRequest`.
    Update {
        /// The room URI.
        room_id: String,
        /// The `UpdateRequest` bytes.
        body: Vec<u8>,
    },
    /// `POST /submitMessage/{roomId}`: a `SubmitMessageRequest`.
    SubmitMessage {
        /// The room URI.
        room_id: String,
        /// The request bytes.
        body: Vec<u8>,
    },
    /// `POST /keyMaterial/{targetUser}` sent to the hub for relaying.
    KeyMaterial {
        /// The `KeyMaterialRequest` bytes.
        body: Vec<u8>,
    },
    /// The target provider's answer to a relayed `/keyMaterial`.
    KeyMaterialAnswer {
        /// The id from [`HubOutput::ForwardKeyMaterial`].
        request_id: u64,
        /// The `KeyMaterialResponse` bytes.
        body: Vec<u8>,
    },
    /// `POST /groupInfo/{roomId}`: a `GroupInfoRequest`.
    GroupInfo {
        /// The room URI.
        room_id: String,
        /// The request bytes.
        body: Vec<u8>,
    },
    /// A follower asks for the room's current state to bootstrap its copy
    /// (not in protocol-06; see `spec/deviations.md`). Answered only for a
    /// provider with clients in the group.
    RoomState {
        /// The room URI.
        room_id: String,
    },
    /// The hub removes a user from a room on its own authority (protocol-06 §5.3, §4:
    /// the hub as an MLS external sender), e.g. because the user's account was deleted
    /// at its provider: external Remove proposals for every client of the user, signed
    /// with the hub's key, queued and fanned out; the next commit must include them and
    /// take the user off the participant list ([`crate::room::mimi::hub_removed_users`]).
    /// Accepted from the user's own provider or the hub's.
    RemoveUser {
        /// The room URI.
        room_id: String,
        /// The user URI.
        user: String,
    },
    /// `POST /reportAbuse/{roomId}`: an `AbuseReport` (protocol-06 §5.9), kept by the
    /// hub ([`Hub::abuse_reports`]).
    ReportAbuse {
        /// The room URI.
        room_id: String,
        /// The `AbuseReport` bytes.
        body: Vec<u8>,
    },
    /// A follower acknowledged a `/notify` (HTTP 201).
    NotifyAck {
        /// The room URI.
        room_id: String,
        /// The notify's sequence number.
        seq: u64,
    },
}

/// The GroupInfo, tree and pending proposals the hub hands an external joiner
/// (protocol-06 §5.6 `GroupInfoRatchetTreeTBE`; see `spec/deviations.md` on
/// encryption).
#[derive(Debug, Clone)]
pub struct JoinInfo {
    /// The plaintext that §5.6 encrypts to the requester.
    pub tbe: GroupInfoRatchetTreeTBE,
    /// The GroupInfo as an `MLSMessage`.
    pub group_info: Vec<u8>,
    /// The TLS-encoded ratchet tree.
    pub ratchet_tree: Vec<u8>,
    /// The queued proposals as `MLSMessage`s.
    pub pending_proposals: Vec<Vec<u8>>,
    /// The protocol-06 §5.6 response: `tbe` encrypted to the requester's
    /// `groupInfoPublicKey` and signed by the hub (only when the hub has an
    /// identity, [`Hub::with_identity`]).
    pub response: Option<GroupInfoResponse>,
}

/// The hub's signing identity for `/groupInfo` responses (protocol-06 §5.6
/// `hub_sender`), handed in by the driver, as is the crypto provider whose
/// random source seals the HPKE ciphertexts.
pub struct HubIdentity {
    /// The hub's signature key pair.
    pub signer: openmls_basic_credential::SignatureKeyPair,
    /// The hub's credential (a `BasicCredential` with the provider URI).
    pub credential: openmls::prelude::Credential,
    /// The crypto provider (its RNG makes the HPKE ephemeral keys).
    pub crypto: openmls_rust_crypto::RustCrypto,
}

impl HubIdentity {
    /// The hub's entry for a group's `external_senders` extension (RFC 9420
    /// §12.1.8.1; protocol-06 §5.6 `hub_sender`).
    pub fn external_sender(&self) -> openmls::prelude::ExternalSender {
        openmls::prelude::ExternalSender::new(
            self.signer.public().to_vec().into(),
            self.credential.clone(),
        )
    }
}

impl std::fmt::Debug for HubIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubIdentity").finish_non_exhaustive()
    }
}

/// The answer to `/groupInfo`.
#[derive(Debug, Clone)]
pub enum GroupInfoAnswer {
    /// `success`.
    Success(Box<JoinInfo>),
    /// `notAuthorized`, with the failing rule.
    NotAuthorized(String),
    /// `noSuchRoom`.
    NoSuchRoom,
}

/// What the hub sends.
#[derive(Debug)]
pub enum HubOutput {
    /// Whether a [`HubInput::CreateRoom`] succeeded.
    RoomCreated(Result<(), String>),
    /// The response to `/update`.
    Update(UpdateRoomResponse),
    /// The response to `/submitMessage`, with the refusal reason (rule id
    /// first) that the response itself has no field for.
    Submit {
        /// The response.
        response: SubmitMessageResponse,
        /// Why it was refused, if it was.
        reason: Option<String>,
    },
    /// Relay a `/keyMaterial` request to the target user's provider.
    ForwardKeyMaterial {
        /// The target provider's domain.
        to: String,
        /// Correlates the answer ([`HubInput::KeyMaterialAnswer`]).
        request_id: u64,
        /// The `KeyMaterialRequest` bytes.
        body: Vec<u8>,
    },
    /// The relayed `/keyMaterial` response, for the original requester.
    KeyMaterial {
        /// The requester's provider.
        to: String,
        /// The response.
        response: KeyMaterialResponse,
    },
    /// The response to `/groupInfo`.
    GroupInfo(GroupInfoAnswer),
    /// The answer to [`HubInput::RoomState`] (`None`: refused).
    RoomState(Option<Box<JoinInfo>>),
    /// `POST /notify/{roomId}` to a follower.
    Notify {
        /// The destination provider.
        to: String,
        /// The room URI.
        room_id: String,
        /// The per-(room, destination) sequence number (envelope).
        seq: u64,
        /// The `FanoutMessages` bytes.
        body: Vec<u8>,
    },
    /// The hub originated these proposals ([`HubInput::RemoveUser`]); they are queued
    /// and fanned out like a member's.
    HubProposals {
        /// The room URI.
        room_id: String,
        /// Their ProposalRefs.
        references: Vec<Vec<u8>>,
    },
    /// An abuse report was accepted and stored (protocol-06 §5.9: HTTP 201, no body).
    AbuseReportAccepted {
        /// The room URI.
        room_id: String,
    },
    /// A request the hub could not answer in protocol terms (HTTP 4xx).
    Refused(HubError),
}

/// Why the hub refused a request. [`update_refusal`] maps these to response codes.
#[derive(Debug, Error)]
pub enum HubError {
    /// The hub does not host this room.
    #[error("hub.no-such-room: {0}")]
    NoSuchRoom(String),
    /// The room already exists.
    #[error("hub.room-exists: {0}")]
    RoomExists(String),
    /// The request bytes do not decode.
    #[error("hub.decode: {0}")]
    Decode(#[from] WireError),
    /// The room refused the handshake.
    #[error("{0}")]
    Room(#[from] RoomError),
    /// The room could not be bootstrapped.
    #[error("hub.bootstrap: {0}")]
    Bootstrap(#[from] BootstrapError),
    /// The sender's user is being removed or banned (protocol-06 §5.3).
    #[error("hub.sender-blocked: {0} is removed or banned; only Remove and SelfRemove are accepted (protocol-06 §5.3)")]
    Blocked(String),
    /// The sender could not be identified.
    #[error("hub.unknown-sender: {0}")]
    UnknownSender(&'static str),
    /// A commit's GroupInfo is `partial` (unsupported, see `spec/deviations.md`).
    #[error("hub.partial-group-info: only a full GroupInfo is accepted")]
    PartialGroupInfo,
    /// A commit that adds clients came without a Welcome, or the Welcome is not
    /// for exactly the added KeyPackages.
    #[error("hub.welcome-mismatch: {0}")]
    WelcomeMismatch(&'static str),
    /// The message is not application content in a PrivateMessage (protocol-06 §5.4).
    #[error("hub.not-application-message: {0}")]
    NotApplication(String),
    /// The message is from a future epoch.
    #[error("hub.future-epoch: message epoch {message}, room epoch {current}")]
    FutureEpoch {
        /// The message's epoch.
        message: u64,
        /// The room's.
        current: u64,
    },
    /// Room policy refused (rule id first).
    #[error("{0}")]
    Policy(String),
    /// A signed request failed verification.
    #[error("{0}")]
    Auth(#[from] auth::AuthError),
    /// No pending `/keyMaterial` relay with this id.
    #[error("hub.unknown-request: {0}")]
    UnknownRequest(u64),
    /// Internal error (encoding our own output).
    #[error("hub.internal: {0}")]
    Internal(String),
    /// An abuse report names a reporting user of another provider than its sender
    /// (protocol-06 §5.9; spec/deviations.md "report abuse").
    #[error(
        "hub.abuse-reporter: reportingUser {user} is not a user of the sending provider {from}"
    )]
    AbuseReporter {
        /// The `reportingUser` URI.
        user: String,
        /// The authenticated sending provider.
        from: String,
    },
    /// A URI of an abuse report is not a user URI.
    #[error("hub.abuse-not-a-user: {field} {uri:?} is not a user URI")]
    AbuseNotAUser {
        /// `reportingUser` or `allegedAbuserUri`.
        field: &'static str,
        /// The URI as received (lossy UTF-8).
        uri: String,
    },
}

/// The one place where hub refusals become `/update` response codes
/// (protocol-06 §5.3).
pub fn update_refusal(err: &HubError, proposal_refs: &[Vec<u8>]) -> UpdateRoomResponse {
    let desc = WireString::new(describe(err)).unwrap_or_default();
    let invalid = || UpdateResult::InvalidProposal {
        invalid_proposals: proposal_refs
            .iter()
            .map(|r| ProposalRef::from(r.clone()))
            .collect(),
    };
    let result = match err {
        HubError::Room(RoomError::WrongEpoch { current, .. }) => UpdateResult::WrongEpoch {
            current_epoch: *current,
        },
        HubError::Room(
            RoomError::Rejected(_)
            | RoomError::OmitsQueuedProposals { .. }
            | RoomError::ExternalSendersChanged
            | RoomError::ExternalCoversProposals { .. },
        )
        | HubError::Blocked(_)
        | HubError::Policy(_)
        | HubError::NoSuchRoom(_)
        | HubError::Internal(_)
        | HubError::Room(RoomError::Internal(_) | RoomError::Storage(_) | RoomError::Merge(_)) => {
            UpdateResult::NotAllowed
        }
        _ => invalid(),
    };
    UpdateRoomResponse {
        error_description: desc,
        result,
    }
}

/// The `errorDescription` of a refusal: a rule id, a colon, the details. For a
/// policy denial the rule id is `policy::Denial::rule_id()`.
pub fn describe(err: &HubError) -> String {
    match err {
        HubError::Room(RoomError::Rejected(r)) => r.rule.clone(),
        HubError::Room(e @ RoomError::WrongEpoch { .. }) => format!("hub.wrong-epoch: {e}"),
        HubError::Room(e @ RoomError::OmitsQueuedProposals { .. }) => {
            format!("hub.commit-omits-queued-proposals: {e}")
        }
        HubError::Room(e @ RoomError::ExternalSendersChanged) => {
            format!("hub.external-senders-changed: {e}")
        }
        HubError::Room(e @ RoomError::ExternalCoversProposals { .. }) => {
            format!("hub.external-commit-covers-proposals: {e}")
        }
        HubError::Room(e @ RoomError::DuplicateProposal) => format!("hub.duplicate-proposal: {e}"),
        HubError::Room(
            e @ (RoomError::MissingGroupInfo
            | RoomError::GroupInfoInvalid(_)
            | RoomError::GroupInfoMismatch { .. }),
        ) => format!("hub.group-info: {e}"),
        HubError::Room(e @ (RoomError::Mls(_) | RoomError::Stage(_))) => {
            format!("mls.invalid: {e}")
        }
        HubError::Room(e) => format!("room.refused: {e}"),
        other => other.to_string(),
    }
}

#[derive(Debug, Clone)]
struct Outgoing {
    /// Performance: one `FanoutMessages` encoding shared by every destination's entry.
    body: std::sync::Arc<[u8]>,
    last_sent_ms: u64,
}

struct HubRoom {
    room: PublicRoom,
    /// KeyPackageRef → provider (protocol-06 §5.2, §5.3 Welcome routing).
    kp_routes: BTreeMap<Vec<u8>, String>,
    /// Next sequence number per destination provider.
    next_seq: BTreeMap<String, u64>,
    /// Unacknowledged notifies: (destination, seq) → message.
    outbox: BTreeMap<(String, u64), Outgoing>,
    /// Hub acceptance time of each queued proposal (§5.6 `hub_accepted_time`).
    accepted_at: BTreeMap<Vec<u8>, u64>,
    /// Abuse reports received for the room (§5.9).
    abuse_reports: Vec<abuse::AbuseRecord>,
    /// Performance: what `/submitMessage` derives from the room state, kept while the
    /// state is unchanged (see [`SendView`]).
    send_view: Option<SendView>,
}

/// Performance: the room-state facts `/submitMessage` checks against (protocol-06 §5.4,
/// room-policy-03 §8.3): the blocked users, the room's policy state and the fanout
/// targets. They depend on the committed state and the queued proposals alone, so the
/// view is reused for every message of one (epoch, queued-proposal set); [`Hub::handle`]
/// also drops every room's view on any request other than `/submitMessage`.
struct SendView {
    /// The epoch it was built at.
    epoch: u64,
    /// The ProposalRefs queued when it was built, in queue order.
    queued: Vec<Vec<u8>>,
    /// [`blocked_users`] of the room.
    blocked: BTreeSet<String>,
    /// The room's policy state, or the rule its decoding broke.
    state: Result<policy::RoomPolicyState, String>,
    /// The providers with clients in the room.
    targets: BTreeSet<String>,
}

impl SendView {
    fn build(room: &PublicRoom) -> SendView {
        let members = room.members();
        SendView {
            epoch: room.epoch(),
            queued: room.queued_refs(),
            blocked: blocked_users(room),
            state: policy_state(&room.dictionary(), &members).map_err(|e| e.rule),
            targets: providers_of(members.values()),
        }
    }

    fn is_current(&self, room: &PublicRoom) -> bool {
        self.epoch == room.epoch() && room.queued_refs_are(&self.queued)
    }

    /// [`check_can_send`] against the view.
    fn check_can_send(&self, sender: &str) -> Result<(), HubError> {
        if self.blocked.contains(sender) {
            return Err(HubError::Blocked(sender.to_owned()));
        }
        let state = self
            .state
            .as_ref()
            .map_err(|e| HubError::Policy(e.clone()))?;
        authorize_send(state, sender)
    }
}

impl HubRoom {
    /// The room's [`SendView`], rebuilt if the room changed since it was made.
    fn send_view(&mut self) -> &SendView {
        if !self
            .send_view
            .as_ref()
            .is_some_and(|v| v.is_current(&self.room))
        {
            self.send_view = Some(SendView::build(&self.room));
        }
        self.send_view
            .get_or_insert_with(|| SendView::build(&self.room))
    }
}

/// Everything observable about a hub room, for before/after comparison.
#[derive(Debug, Clone, Serialize)]
pub struct HubRoomSnapshot {
    /// The MLS view.
    pub room: RoomView,
    /// KeyPackageRef (hex) → provider.
    pub kp_routes: BTreeMap<String, String>,
    /// Next notify sequence number per provider.
    pub next_seq: BTreeMap<String, u64>,
    /// Unacknowledged notifies: "provider#seq" → body (hex).
    pub outbox: BTreeMap<String, String>,
    /// Acceptance time per queued ProposalRef (hex).
    pub accepted_at: BTreeMap<String, u64>,
    /// Abuse reports received (§5.9).
    pub abuse_reports: Vec<abuse::AbuseRecord>,
}

struct PendingRelay {
    requester: String,
    target: String,
    room_id: String,
}

/// A deliberate deviation from protocol-06, for the equivalence suite's teeth test
/// (`tests/equivalence.rs`): only tests set one (through
/// [`SimConfig::deviations`](crate::sim::SimConfig) or [`Hub::with_deviations`]); the
/// default is none, and with none every check below runs as specified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Deviation {
    /// The hub forwards application messages of an older epoch instead of answering
    /// `epochTooOld` (breaks protocol-06 §5.4).
    SkipEpochCheck,
    /// The hub skips the `canSendMessage` / blocked-sender check of `/submitMessage`
    /// (breaks protocol-06 §5.4, room-policy-03 §8.2).
    SkipPolicyCheck,
    /// The hub accepts handshakes of users it has seen removed (breaks protocol-06 §5.3).
    SkipBlockedCheck,
    /// The hub sends every Welcome to the committer's provider instead of the provider
    /// owning the KeyPackageRef (breaks protocol-06 §5.2, §5.5).
    MisrouteWelcome,
    /// The follower processes a duplicate `/notify` again instead of dropping it
    /// (breaks protocol-06 §5.5).
    ForgetDedup,
    /// The hub answers a stale commit's `wrongEpoch` with the commit's own epoch as
    /// `currentEpoch` instead of the room's (breaks protocol-06 §5.3: the committer
    /// cannot tell which epoch to catch up to). openmls does not mask this one: the
    /// commit is still refused, only the answer is wrong.
    StaleCurrentEpoch,
}

/// The hub of one provider.
pub struct Hub {
    domain: String,
    identity: Option<HubIdentity>,
    rooms: BTreeMap<String, HubRoom>,
    relays: BTreeMap<u64, PendingRelay>,
    next_request: u64,
    retry_ms: u64,
    deviations: BTreeSet<Deviation>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("domain", &self.domain)
            .field("rooms", &self.rooms.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The provider domain of a client credential identity or user URI.
fn provider_of(identity: &[u8]) -> Option<String> {
    MimiUri::from_bytes(identity)
        .ok()
        .map(|u| u.provider().to_owned())
}

impl Hub {
    /// A hub for provider `domain` that re-sends unacknowledged notifies after `retry_ms`.
    pub fn new(domain: &str, retry_ms: u64) -> Self {
        Self {
            domain: domain.to_owned(),
            identity: None,
            rooms: BTreeMap::new(),
            relays: BTreeMap::new(),
            next_request: 0,
            retry_ms,
            deviations: BTreeSet::new(),
        }
    }

    /// Switch on deliberate deviations (tests only; see [`Deviation`]).
    pub fn with_deviations(mut self, deviations: &[Deviation]) -> Self {
        self.deviations = deviations.iter().copied().collect();
        self
    }

    fn deviates(&self, d: Deviation) -> bool {
        self.deviations.contains(&d)
    }

    /// Give the hub its signing identity: `/groupInfo` answers then carry the
    /// encrypted, signed `GroupInfoResponse` of protocol-06 §5.6.
    pub fn with_identity(mut self, identity: HubIdentity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// The hub's `external_senders` entry, if it has a signing identity: a room
    /// creator puts it into the group so that the hub can originate proposals
    /// (protocol-06 §5.3).
    pub fn external_sender(&self) -> Option<openmls::prelude::ExternalSender> {
        self.identity.as_ref().map(HubIdentity::external_sender)
    }

    /// This hub's provider domain.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The room's MLS view, if hosted.
    pub fn room(&self, room_id: &str) -> Option<&PublicRoom> {
        self.rooms.get(room_id).map(|r| &r.room)
    }

    /// The room ids hosted here.
    pub fn rooms(&self) -> impl Iterator<Item = &String> {
        self.rooms.keys()
    }

    /// Number of notifies not yet acknowledged, over all rooms.
    pub fn unacknowledged(&self) -> usize {
        self.rooms.values().map(|r| r.outbox.len()).sum()
    }

    /// A serialized snapshot of a room's whole hub state (JSON bytes); a refused
    /// request must leave it identical.
    pub fn snapshot(&self, room_id: &str) -> Option<Vec<u8>> {
        let r = self.rooms.get(room_id)?;
        let snap = HubRoomSnapshot {
            room: r.room.view().ok()?,
            kp_routes: r
                .kp_routes
                .iter()
                .map(|(k, v)| (hex::encode(k), v.clone()))
                .collect(),
            next_seq: r.next_seq.clone(),
            outbox: r
                .outbox
                .iter()
                .map(|((p, s), o)| (format!("{p}#{s}"), hex::encode(&o.body)))
                .collect(),
            accepted_at: r
                .accepted_at
                .iter()
                .map(|(k, v)| (hex::encode(k), *v))
                .collect(),
            abuse_reports: r.abuse_reports.clone(),
        };
        serde_json::to_vec(&snap).ok()
    }

    /// Handle one request at time `now_ms` from provider `from`.
    pub fn handle(&mut self, now_ms: u64, from: &str, input: HubInput) -> Vec<HubOutput> {
        if !matches!(
            input,
            HubInput::SubmitMessage { .. }
                | HubInput::NotifyAck { .. }
                | HubInput::RoomState { .. }
        ) {
            // Any other request may change a room's state: drop the `/submitMessage`
            // views (each is also checked against the epoch and queue before use).
            // Performance: an acknowledgement touches only the outbox and a room-state
            // fetch only reads, so neither drops them (one ack per follower per message).
            for hr in self.rooms.values_mut() {
                hr.send_view = None;
            }
        }
        match input {
            HubInput::CreateRoom {
                room_id,
                group_info,
                ratchet_tree,
            } => vec![HubOutput::RoomCreated(
                self.create_room(from, &room_id, &group_info, &ratchet_tree)
                    .map_err(|e| e.to_string()),
            )],
            HubInput::Update { room_id, body } => self.update(now_ms, &room_id, &body),
            HubInput::SubmitMessage { room_id, body } => self.submit(now_ms, &room_id, &body),
            HubInput::KeyMaterial { body } => self.key_material(from, &body),
            HubInput::KeyMaterialAnswer { request_id, body } => {
                self.key_material_answer(from, request_id, &body)
            }
            HubInput::GroupInfo { room_id, body } => {
                vec![HubOutput::GroupInfo(self.group_info(&room_id, &body))]
            }
            HubInput::RoomState { room_id } => {
                let info = self.rooms.get(&room_id).and_then(|hr| {
                    let member_here = hr
                        .room
                        .members()
                        .values()
                        .any(|i| provider_of(i).as_deref() == Some(from));
                    member_here.then(|| join_info(hr).ok()).flatten()
                });
                vec![HubOutput::RoomState(info.map(Box::new))]
            }
            HubInput::RemoveUser { room_id, user } => {
                match self.remove_user(now_ms, from, &room_id, &user) {
                    Ok(out) => out,
                    Err(e) => vec![HubOutput::Refused(e)],
                }
            }
            HubInput::ReportAbuse { room_id, body } => {
                match self.report_abuse(now_ms, from, &room_id, &body) {
                    Ok(()) => vec![HubOutput::AbuseReportAccepted { room_id }],
                    Err(e) => vec![HubOutput::Refused(e)],
                }
            }
            HubInput::NotifyAck { room_id, seq } => {
                if let Some(r) = self.rooms.get_mut(&room_id) {
                    r.outbox.remove(&(from.to_owned(), seq));
                }
                Vec::new()
            }
        }
    }

    /// Re-send every notify unacknowledged for at least the retry interval.
    pub fn poll_timeout(&mut self, now_ms: u64) -> Vec<HubOutput> {
        let mut out = Vec::new();
        for (room_id, r) in &mut self.rooms {
            for ((to, seq), o) in &mut r.outbox {
                if now_ms.saturating_sub(o.last_sent_ms) >= self.retry_ms {
                    o.last_sent_ms = now_ms;
                    out.push(HubOutput::Notify {
                        to: to.clone(),
                        room_id: room_id.clone(),
                        seq: *seq,
                        body: o.body.to_vec(),
                    });
                }
            }
        }
        out
    }

    fn create_room(
        &mut self,
        from: &str,
        room_id: &str,
        group_info: &[u8],
        ratchet_tree: &[u8],
    ) -> Result<(), HubError> {
        if self.rooms.contains_key(room_id) {
            return Err(HubError::RoomExists(room_id.to_owned()));
        }
        if from != self.domain {
            return Err(HubError::Policy(format!(
                "hub.foreign-creator: rooms are created by the hub's own provider, not {from} (protocol-06 §3.1)"
            )));
        }
        let room = PublicRoom::from_group_info(group_info, ratchet_tree, Arc::new(MimiLogic))?;
        // The hub acts on the room through its external_senders entry (protocol-06
        // §5.3; spec/deviations.md, "hub external proposals").
        if let Some(sender) = self.external_sender() {
            if room.external_senders().first() != Some(&sender) {
                return Err(HubError::Policy(
                    "hub.missing-external-sender: the first external_senders entry must be the hub's (protocol-06 §5.3, §7.4)".into(),
                ));
            }
        }
        let state = policy_state(&room.dictionary(), &room.members())
            .map_err(|e| HubError::Policy(e.rule))?;
        policy::validate_state(&state)
            .map_err(|e| HubError::Policy(format!("policy.invalid-policy: {e}")))?;
        for identity in room.members().values() {
            let user = user_of_client(identity).map_err(|e| HubError::Policy(e.rule))?;
            if !state.participants.contains_key(&user) {
                return Err(HubError::Policy(format!(
                    "policy.client-of-unlisted-user: {user} (protocol-06 §7.5)"
                )));
            }
        }
        self.rooms.insert(
            room_id.to_owned(),
            HubRoom {
                room,
                kp_routes: BTreeMap::new(),
                next_seq: BTreeMap::new(),
                outbox: BTreeMap::new(),
                accepted_at: BTreeMap::new(),
                abuse_reports: Vec::new(),
                send_view: None,
            },
        );
        Ok(())
    }

    fn update(&mut self, now_ms: u64, room_id: &str, body: &[u8]) -> Vec<HubOutput> {
        let mut refs = Vec::new();
        let stale_current = self.deviates(Deviation::StaleCurrentEpoch);
        match self
            .update_inner(now_ms, room_id, body, &mut refs)
            .map_err(|e| match e {
                // Deviation::StaleCurrentEpoch (tests only): report the message's epoch.
                HubError::Room(RoomError::WrongEpoch { message, .. }) if stale_current => {
                    HubError::Room(RoomError::WrongEpoch {
                        message,
                        current: message,
                    })
                }
                other => other,
            }) {
            Ok(mut outputs) => {
                outputs.insert(
                    0,
                    HubOutput::Update(UpdateRoomResponse {
                        error_description: WireString::default(),
                        result: UpdateResult::Success {
                            accepted_timestamp: now_ms,
                        },
                    }),
                );
                outputs
            }
            Err(e) => vec![HubOutput::Update(update_refusal(&e, &refs))],
        }
    }

    fn update_inner(
        &mut self,
        now_ms: u64,
        room_id: &str,
        body: &[u8],
        refs: &mut Vec<Vec<u8>>,
    ) -> Result<Vec<HubOutput>, HubError> {
        let req: UpdateRequest = decode_exact(body)?;
        let skip_blocked = self.deviates(Deviation::SkipBlockedCheck);
        let misroute = self
            .deviates(Deviation::MisrouteWelcome)
            .then(|| self.domain.clone());
        let hr = self
            .rooms
            .get_mut(room_id)
            .ok_or_else(|| HubError::NoSuchRoom(room_id.to_owned()))?;
        let first = req.bundle.proposal_or_commit.as_bytes().to_vec();
        // The decoded message, for the fanout (already validated: no second parse).
        let first_message = req.bundle.proposal_or_commit.clone();
        match req.bundle.body {
            HandshakeBundleBody::Proposal { more_proposals } => {
                let mut all = vec![first.clone()];
                all.extend(more_proposals.iter().map(|m| m.as_bytes().to_vec()));
                // protocol-06 §5.3: the list is one transaction.
                let checkpoint = hr.room.checkpoint()?;
                let mut accepted = Vec::new();
                for m in &all {
                    let r = peek::proposal_ref(m);
                    let step = blocked_check(&hr.room, m)
                        .or_else(|e| if skip_blocked { Ok(()) } else { Err(e) })
                        .and_then(|()| hr.room.process_handshake(m, None).map_err(HubError::from));
                    match step {
                        Ok(Accepted::Proposal(info)) => accepted.push(info.reference),
                        Ok(Accepted::Commit(_)) => {
                            hr.room.rollback(checkpoint)?;
                            return Err(HubError::Internal("commit in a proposal list".into()));
                        }
                        Err(e) => {
                            hr.room.rollback(checkpoint)?;
                            refs.extend(r);
                            return Err(e);
                        }
                    }
                }
                // protocol-06 §5.3, §7.1: the queued proposals as a whole must obey
                // room policy (e.g. the last admin cannot leave), or no commit that
                // must include them could ever be accepted.
                if let Err(e) = hr.room.check_pending() {
                    hr.room.rollback(checkpoint)?;
                    return Err(e.into());
                }
                for r in accepted {
                    hr.accepted_at.insert(r, now_ms);
                }
                let fanout = FanoutMessage {
                    timestamp: now_ms,
                    message: first_message.clone(),
                    body: FanoutBody::Proposal { more_proposals },
                };
                let targets = providers_of(hr.room.members().values());
                Ok(hr.fan_out(room_id, now_ms, &fanout, targets)?)
            }
            HandshakeBundleBody::Commit {
                welcome,
                group_info_option,
                ratchet_tree_option,
            } => {
                let gi = match group_info_option {
                    GroupInfoOption::Full { group_info } => {
                        mls_wrap(wire_format::GROUP_INFO, group_info.as_bytes())
                    }
                    GroupInfoOption::Partial { .. } => return Err(HubError::PartialGroupInfo),
                };
                if !skip_blocked {
                    blocked_check(&hr.room, &first)?;
                }
                // protocol-06 §5.5: the commit goes to the providers with clients in the
                // group *before* it (removed clients learn of their removal), plus an
                // external joiner's provider; new members get the Welcome instead.
                // (spec/deviations.md, hub/follower: commit fanout recipients)
                let pre_commit = providers_of(hr.room.members().values());
                let queued_before = hr.room.queued_proposals()?;
                let checkpoint = hr.room.checkpoint()?;
                let info = match hr.room.process_handshake(&first, Some(&gi))? {
                    Accepted::Commit(info) => info,
                    Accepted::Proposal(_) => {
                        hr.room.rollback(checkpoint)?;
                        return Err(HubError::Internal("proposal in a commit bundle".into()));
                    }
                };
                // protocol-06 §5.3: the Welcome must be for exactly the added KeyPackages.
                let welcome_check = match (&welcome, info.added_key_package_refs.is_empty()) {
                    (None, true) => Ok(None),
                    (None, false) => Err(HubError::WelcomeMismatch(
                        "the commit adds clients but carries no Welcome",
                    )),
                    (Some(_), true) => {
                        Err(HubError::WelcomeMismatch("a Welcome without added clients"))
                    }
                    (Some(w), false) => {
                        let wrapped = mls_wrap(wire_format::WELCOME, w.as_bytes());
                        let mut theirs: Vec<Vec<u8>> = w
                            .parse()
                            .map(|w| {
                                w.secrets()
                                    .iter()
                                    .map(|s| s.new_member().as_slice().to_vec())
                                    .collect()
                            })
                            .unwrap_or_default();
                        let mut ours = info.added_key_package_refs.clone();
                        theirs.sort();
                        ours.sort();
                        if theirs == ours {
                            Ok(Some(wrapped))
                        } else {
                            Err(HubError::WelcomeMismatch(
                                "Welcome secrets are not for the added KeyPackages",
                            ))
                        }
                    }
                };
                let welcome_msg = match welcome_check {
                    Ok(w) => w,
                    Err(e) => {
                        hr.room.rollback(checkpoint)?;
                        return Err(e);
                    }
                };
                hr.accepted_at.clear();
                // An external commit invalidated the queued proposals: the hub
                // re-issues the removals among them as its own Removes in the new epoch
                // (protocol-06 §5.5 `external_proposals`; the model's `regenerate`
                // variant), so that a leave is carried out by the next commit.
                let regenerated = match &self.identity {
                    Some(id) if !info.dropped_proposals.is_empty() => {
                        let members = hr.room.members();
                        let mut leaves = Vec::new();
                        for q in &queued_before {
                            if !info.dropped_proposals.contains(&q.reference) {
                                continue;
                            }
                            let leaf = match q.kind {
                                ProposalKind::Remove(l) => Some(l),
                                ProposalKind::SelfRemove => q.sender_leaf,
                                _ => None,
                            };
                            if let Some(l) = leaf {
                                if members.contains_key(&l) && !leaves.contains(&l) {
                                    leaves.push(l);
                                }
                            }
                        }
                        // All or nothing: a Remove the room refuses re-issues none.
                        let before = hr.room.checkpoint()?;
                        let msgs = match hub_removes(id, &mut hr.room, &leaves) {
                            Ok(m) => m,
                            Err(_) => {
                                hr.room.rollback(before)?;
                                Vec::new()
                            }
                        };
                        for m in &msgs {
                            if let Some(r) = peek::proposal_ref(m) {
                                hr.accepted_at.insert(r, now_ms);
                            }
                        }
                        msgs
                    }
                    _ => Vec::new(),
                };
                let mut targets = pre_commit;
                if let crate::room::Committer::NewMember { identity } = &info.committer {
                    targets.extend(provider_of(identity));
                }
                let fanout = FanoutMessage {
                    timestamp: now_ms,
                    message: first_message.clone(),
                    body: FanoutBody::Commit {
                        external_proposals: regenerated
                            .iter()
                            .map(|m| MlsMessage::from_bytes(m))
                            .collect::<Result<_, _>>()?,
                    },
                };
                let mut out = hr.fan_out(room_id, now_ms, &fanout, targets)?;
                if let Some(w) = welcome_msg {
                    let mut dests = BTreeSet::new();
                    for (r, identity) in info.added_key_package_refs.iter().zip(&info.added) {
                        match misroute.as_ref().or(hr.kp_routes.get(r)) {
                            Some(p) => {
                                dests.insert(p.clone());
                            }
                            None => dests.extend(provider_of(identity)),
                        }
                    }
                    let tree = hr.room.ratchet_tree()?;
                    // Performance: the committer's tree (validated when the request was
                    // decoded) is normally byte-identical to the hub's; reuse it rather
                    // than parsing the hub's export again. The bytes sent are the hub's.
                    let ratchet_tree = match &ratchet_tree_option {
                        RatchetTreeOption::Full { ratchet_tree }
                            if ratchet_tree.as_bytes() == tree.as_slice() =>
                        {
                            ratchet_tree.clone()
                        }
                        _ => MlsRatchetTree::from_bytes(&tree)?,
                    };
                    let fanout = FanoutMessage {
                        timestamp: now_ms,
                        message: MlsMessage::from_bytes(&w)?,
                        body: FanoutBody::Welcome {
                            ratchet_tree_option: RatchetTreeOption::Full { ratchet_tree },
                        },
                    };
                    out.extend(hr.fan_out(room_id, now_ms, &fanout, dests)?);
                }
                Ok(out)
            }
        }
    }

    /// [`HubInput::RemoveUser`]: external Removes for every client of `user` not yet
    /// queued for removal (protocol-06 §5.3, §4; RFC 9420 §12.1.8.1).
    fn remove_user(
        &mut self,
        now_ms: u64,
        from: &str,
        room_id: &str,
        user: &str,
    ) -> Result<Vec<HubOutput>, HubError> {
        if from != self.domain && provider_of(user.as_bytes()).as_deref() != Some(from) {
            return Err(HubError::Policy(format!(
                "hub.foreign-user-removal: {from} may not remove {user} (only its own provider or the hub's)"
            )));
        }
        let id = self.identity.as_ref().ok_or_else(|| {
            HubError::Internal("the hub has no signing identity to originate proposals".into())
        })?;
        let hr = self
            .rooms
            .get_mut(room_id)
            .ok_or_else(|| HubError::NoSuchRoom(room_id.to_owned()))?;
        let listed = decode_participants(
            hr.room
                .dictionary()
                .get(&PARTICIPANT_LIST)
                .map(Vec::as_slice),
        )
        .map_err(|e| HubError::Policy(e.rule))?
        .iter()
        .any(|(u, _)| u == user);
        if !listed {
            return Err(HubError::Policy(format!(
                "policy.not-listed: {user} is not in the participant list (protocol-06 §7.5)"
            )));
        }
        // Leaves a queued Remove or SelfRemove already removes stay with that proposal
        // (RFC 9420 §12.2: a leaf is removed at most once per commit).
        let queued = hr.room.queued_proposals()?;
        let taken: BTreeSet<u32> = queued
            .iter()
            .filter_map(|q| match q.kind {
                ProposalKind::Remove(l) => Some(l),
                ProposalKind::SelfRemove => q.sender_leaf,
                _ => None,
            })
            .collect();
        let leaves: Vec<u32> = hr
            .room
            .members()
            .iter()
            .filter(|(l, identity)| {
                !taken.contains(l) && user_of_client(identity).is_ok_and(|u| u == user)
            })
            .map(|(l, _)| *l)
            .collect();
        if leaves.is_empty() {
            return Err(HubError::Policy(format!(
                "hub.nothing-to-remove: no client of {user} is left to remove in {room_id}"
            )));
        }
        // The removal is one transaction (like a proposal with moreProposals).
        let checkpoint = hr.room.checkpoint()?;
        let msgs = match hub_removes(id, &mut hr.room, &leaves) {
            Ok(m) => m,
            Err(e) => {
                hr.room.rollback(checkpoint)?;
                return Err(e);
            }
        };
        let mut references = Vec::new();
        for m in &msgs {
            if let Some(r) = peek::proposal_ref(m) {
                hr.accepted_at.insert(r.clone(), now_ms);
                references.push(r);
            }
        }
        let (first, rest) = msgs
            .split_first()
            .ok_or_else(|| HubError::Internal("no proposal built".into()))?;
        let fanout = FanoutMessage {
            timestamp: now_ms,
            message: MlsMessage::from_bytes(first)?,
            body: FanoutBody::Proposal {
                more_proposals: rest
                    .iter()
                    .map(|m| MlsMessage::from_bytes(m))
                    .collect::<Result<_, _>>()?,
            },
        };
        // Every provider with clients in the group, the removed user's included.
        let targets = providers_of(hr.room.members().values());
        let mut out = vec![HubOutput::HubProposals {
            room_id: room_id.to_owned(),
            references,
        }];
        out.extend(hr.fan_out(room_id, now_ms, &fanout, targets)?);
        Ok(out)
    }

    fn submit(&mut self, now_ms: u64, room_id: &str, body: &[u8]) -> Vec<HubOutput> {
        let (status, reason) = match self.submit_inner(now_ms, room_id, body) {
            Ok((status, mut outs)) => {
                outs.insert(
                    0,
                    HubOutput::Submit {
                        response: SubmitMessageResponse {
                            protocol: Protocol::Mls10,
                            status,
                        },
                        reason: None,
                    },
                );
                return outs;
            }
            Err(SubmitRefusal::TooOld(current)) => (
                SubmitStatus::EpochTooOld {
                    current_epoch: current,
                },
                format!("hub.epoch-too-old: room is at epoch {current}"),
            ),
            Err(SubmitRefusal::NotAllowed(e)) => (SubmitStatus::NotAllowed, e.to_string()),
        };
        vec![HubOutput::Submit {
            response: SubmitMessageResponse {
                protocol: Protocol::Mls10,
                status,
            },
            reason: Some(reason),
        }]
    }

    fn submit_inner(
        &mut self,
        now_ms: u64,
        room_id: &str,
        body: &[u8],
    ) -> Result<(SubmitStatus, Vec<HubOutput>), SubmitRefusal> {
        let req: SubmitMessageRequest =
            decode_exact(body).map_err(|e| SubmitRefusal::NotAllowed(HubError::from(e)))?;
        let skip_epoch = self.deviates(Deviation::SkipEpochCheck);
        let skip_policy = self.deviates(Deviation::SkipPolicyCheck);
        let hr = self
            .rooms
            .get_mut(room_id)
            .ok_or_else(|| SubmitRefusal::NotAllowed(HubError::NoSuchRoom(room_id.to_owned())))?;
        let epoch = hr
            .room
            .check_application(&req.app_message)
            .map_err(|e| SubmitRefusal::NotAllowed(HubError::NotApplication(e.to_string())))?;
        let current = hr.room.epoch();
        if epoch < current && !skip_epoch {
            return Err(SubmitRefusal::TooOld(current));
        }
        if epoch > current {
            return Err(SubmitRefusal::NotAllowed(HubError::FutureEpoch {
                message: epoch,
                current,
            }));
        }
        let sender = req
            .sending_uri
            .uri
            .as_str()
            .ok_or(SubmitRefusal::NotAllowed(HubError::UnknownSender(
                "sendingUri not UTF-8",
            )))?
            .to_owned();
        let view = hr.send_view();
        if !skip_policy {
            view.check_can_send(&sender)
                .map_err(SubmitRefusal::NotAllowed)?;
        }
        let targets = view.targets.clone();
        let fanout = FanoutMessage {
            timestamp: now_ms,
            message: req.app_message,
            body: FanoutBody::Application { frank: None },
        };
        let outs = hr
            .fan_out(room_id, now_ms, &fanout, targets)
            .map_err(SubmitRefusal::NotAllowed)?;
        Ok((
            SubmitStatus::Accepted {
                accepted_timestamp: now_ms,
                frank: None,
            },
            outs,
        ))
    }

    fn key_material(&mut self, from: &str, body: &[u8]) -> Vec<HubOutput> {
        let req: KeyMaterialRequest = match decode_exact(body) {
            Ok(r) => r,
            Err(e) => return vec![HubOutput::Refused(e.into())],
        };
        if let Err(e) = auth::verify_key_material_request(&req) {
            return vec![HubOutput::Refused(e.into())];
        }
        let room_id = req.room_id.uri.as_str().unwrap_or_default().to_owned();
        let Some(hr) = self.rooms.get(&room_id) else {
            return vec![HubOutput::Refused(HubError::NoSuchRoom(room_id))];
        };
        // The requester must be a listed participant of the room, asking
        // through its own provider (protocol-06 §5.2: key material is fetched
        // to add the target to this room).
        let requester = req.requesting_user.uri.as_str().unwrap_or_default();
        let listed = decode_participants(
            hr.room
                .dictionary()
                .get(&PARTICIPANT_LIST)
                .map(Vec::as_slice),
        )
        .map(|l| l.iter().any(|(u, _)| u == requester))
        .unwrap_or(false);
        if !listed || provider_of(requester.as_bytes()).as_deref() != Some(from) {
            return vec![HubOutput::Refused(HubError::Policy(format!(
                "hub.requester-not-participant: {requester} via {from}"
            )))];
        }
        let Some(target) = provider_of(req.target_user.uri.0.as_slice()) else {
            return vec![HubOutput::Refused(HubError::UnknownSender(
                "targetUser is not a mimi URI",
            ))];
        };
        let id = self.next_request;
        self.next_request += 1;
        self.relays.insert(
            id,
            PendingRelay {
                requester: from.to_owned(),
                target: target.clone(),
                room_id,
            },
        );
        vec![HubOutput::ForwardKeyMaterial {
            to: target,
            request_id: id,
            body: body.to_vec(),
        }]
    }

    fn key_material_answer(&mut self, from: &str, request_id: u64, body: &[u8]) -> Vec<HubOutput> {
        // Only the provider the request was relayed to may answer it.
        if self
            .relays
            .get(&request_id)
            .is_none_or(|r| r.target != from)
        {
            return vec![HubOutput::Refused(HubError::UnknownRequest(request_id))];
        }
        let resp: KeyMaterialResponse = match decode_exact(body) {
            Ok(r) => r,
            Err(e) => return vec![HubOutput::Refused(e.into())],
        };
        let Some(relay) = self.relays.remove(&request_id) else {
            return vec![HubOutput::Refused(HubError::UnknownRequest(request_id))];
        };
        // protocol-06 §5.2: remember, for the room the request named, which
        // provider each KeyPackage came from (Welcome routing, §5.3).
        if let Some(hr) = self.rooms.get_mut(&relay.room_id) {
            for c in &resp.clients {
                if let ClientKeyMaterialStatus::Success { key_package } = &c.status {
                    let wrapped = mls_wrap(wire_format::KEY_PACKAGE, key_package.as_bytes());
                    if let Ok(r) = key_package_ref(&wrapped) {
                        hr.kp_routes.insert(r, relay.target.clone());
                    }
                }
            }
        }
        vec![HubOutput::KeyMaterial {
            to: relay.requester,
            response: resp,
        }]
    }

    fn group_info(&self, room_id: &str, body: &[u8]) -> GroupInfoAnswer {
        let Some(hr) = self.rooms.get(room_id) else {
            return GroupInfoAnswer::NoSuchRoom;
        };
        let req: GroupInfoRequest = match decode_exact(body) {
            Ok(r) => r,
            Err(e) => return GroupInfoAnswer::NotAuthorized(format!("hub.decode: {e}")),
        };
        let identity = match auth::verify_group_info_request(&req) {
            Ok(identity) => identity,
            Err(e) => return GroupInfoAnswer::NotAuthorized(e.to_string()),
        };
        if let Err(rule) = may_join(&hr.room, &identity) {
            return GroupInfoAnswer::NotAuthorized(rule);
        }
        let mut info = match join_info(hr) {
            Ok(info) => info,
            Err(e) => return GroupInfoAnswer::NotAuthorized(format!("hub.internal: {e}")),
        };
        if let Some(id) = &self.identity {
            match seal_group_info(id, room_id, &req, &info.tbe) {
                Ok(r) => info.response = Some(r),
                Err(e) => return GroupInfoAnswer::NotAuthorized(e),
            }
        }
        GroupInfoAnswer::Success(Box::new(info))
    }
}

/// The kept GroupInfo, the tree and the pending proposals of a room (§5.6).
fn join_info(hr: &HubRoom) -> Result<JoinInfo, HubError> {
    let gi = hr.room.group_info().to_vec();
    let tree = hr.room.ratchet_tree()?;
    let pending = hr.room.queued_proposal_messages();
    let tbe = GroupInfoRatchetTreeTBE {
        group_info: MlsGroupInfo::from_bytes(
            mls_body(wire_format::GROUP_INFO, &gi).unwrap_or_default(),
        )?,
        ratchet_tree_option: RatchetTreeOption::Full {
            ratchet_tree: MlsRatchetTree::from_bytes(&tree)?,
        },
        pending_proposals: pending
            .iter()
            .map(|p| {
                Ok(PendingProposal {
                    proposal: MlsMessage::from_bytes(p)?,
                    hub_accepted_time: peek::proposal_ref(p)
                        .and_then(|r| hr.accepted_at.get(&r).copied())
                        .unwrap_or_default(),
                })
            })
            .collect::<Result<_, WireError>>()?,
    };
    Ok(JoinInfo {
        tbe,
        group_info: gi,
        ratchet_tree: tree,
        pending_proposals: pending,
        response: None,
    })
}

/// protocol-06 §5.6: `EncryptWithLabel(groupInfoPublicKey, "GroupInfo and
/// ratchet_tree encryption", room_id, GroupInfoRatchetTreeTBE)` and the hub's
/// `SignWithLabel(…, "GroupInfoResponseTBS", …)`.
fn seal_group_info(
    id: &HubIdentity,
    room_id: &str,
    req: &GroupInfoRequest,
    tbe: &GroupInfoRatchetTreeTBE,
) -> Result<GroupInfoResponse, String> {
    use openmls_traits::crypto::OpenMlsCrypto as _;
    use openmls_traits::signatures::Signer as _;
    let pt = crate::wire::encode(tbe).map_err(|e| format!("hub.internal: {e}"))?;
    let ct = id
        .crypto
        .hpke_seal(
            crate::room::profile::CIPHERSUITE.hpke_config(),
            req.group_info_public_key.0.as_slice(),
            &auth::encrypt_context(GROUP_INFO_ENCRYPTION_LABEL, room_id.as_bytes()),
            &[],
            &pt,
        )
        .map_err(|e| format!("hub.bad-group-info-key: groupInfoPublicKey refused ({e:?})"))?;
    let sender = id.external_sender();
    let mut response = GroupInfoResponse {
        version: Protocol::Mls10,
        room_id: Opaque::new(room_id.as_bytes().to_vec()),
        status: GroupInfoStatus::Success {
            cipher_suite: CipherSuite(u16::from(crate::room::profile::CIPHERSUITE)),
            hub_sender: MlsExternalSender::from_openmls(&sender)
                .map_err(|e| format!("hub.internal: {e}"))?,
            encrypted_groupinfo_and_tree: WireHpkeCiphertext {
                kem_output: Opaque::new(ct.kem_output.as_slice().to_vec()),
                ciphertext: Opaque::new(ct.ciphertext.as_slice().to_vec()),
            },
            signature: Opaque::default(),
        },
    };
    let tbs = response
        .tbs()
        .ok_or("hub.internal: no TBS")
        .and_then(|t| crate::wire::encode(&t).map_err(|_| "hub.internal: TBS encoding"))?;
    let sig = id
        .signer
        .sign(&auth::sign_content(GROUP_INFO_RESPONSE_TBS_LABEL, &tbs))
        .map_err(|e| format!("hub.internal: signing failed ({e:?})"))?;
    if let GroupInfoStatus::Success { signature, .. } = &mut response.status {
        *signature = Opaque::new(sig);
    }
    Ok(response)
}

enum SubmitRefusal {
    TooOld(u64),
    NotAllowed(HubError),
}

impl HubRoom {
    fn fan_out(
        &mut self,
        room_id: &str,
        now_ms: u64,
        message: &FanoutMessage,
        targets: BTreeSet<String>,
    ) -> Result<Vec<HubOutput>, HubError> {
        let body = crate::wire::encode(&FanoutMessages(vec![message.clone()]))
            .map_err(|e| HubError::Internal(e.to_string()))?;
        let shared: std::sync::Arc<[u8]> = body.as_slice().into();
        let mut out = Vec::new();
        for to in targets {
            let seq = self.next_seq.entry(to.clone()).or_insert(0);
            let s = *seq;
            *seq += 1;
            self.outbox.insert(
                (to.clone(), s),
                Outgoing {
                    body: shared.clone(),
                    last_sent_ms: now_ms,
                },
            );
            out.push(HubOutput::Notify {
                to,
                room_id: room_id.to_owned(),
                seq: s,
                body: body.clone(),
            });
        }
        Ok(out)
    }
}

fn providers_of<'a>(identities: impl Iterator<Item = &'a Vec<u8>>) -> BTreeSet<String> {
    // Performance: a URI's provider depends on its authority alone, so once one identity
    // with a given raw authority has parsed, the others with it add nothing; they are
    // skipped instead of parsed (rooms have many clients per provider).
    let mut resolved: BTreeSet<&[u8]> = BTreeSet::new();
    let mut out = BTreeSet::new();
    for identity in identities {
        let authority = raw_authority(identity);
        if authority.is_some_and(|a| resolved.contains(a)) {
            continue;
        }
        if let Some(p) = provider_of(identity) {
            out.insert(p);
            resolved.extend(authority);
        }
    }
    out
}

/// The authority of a URI as `MimiUri::parse` cuts it out (after the first `:` and `//`,
/// up to the next `/`), if there is one.
fn raw_authority(uri: &[u8]) -> Option<&[u8]> {
    let colon = uri.iter().position(|&b| b == b':')?;
    let rest = uri.get(colon + 1..)?.strip_prefix(b"//")?;
    Some(match rest.iter().position(|&b| b == b'/') {
        Some(i) => &rest[..i],
        None => rest,
    })
}

/// Build, sign (as the hub's `external_senders` entry) and queue an external Remove
/// proposal for each leaf (RFC 9420 §12.1.8.1, protocol-06 §5.3); the room validates
/// each one as it would a follower's. Returns the `MLSMessage` bytes. On error the
/// caller rolls the room back.
fn hub_removes(
    id: &HubIdentity,
    room: &mut PublicRoom,
    leaves: &[u32],
) -> Result<Vec<Vec<u8>>, HubError> {
    use tls_codec::Serialize as _;
    let sender = id.external_sender();
    let index = room
        .external_senders()
        .iter()
        .position(|s| *s == sender)
        .and_then(|i| u32::try_from(i).ok())
        .ok_or_else(|| {
            HubError::Policy(
                "hub.not-an-external-sender: the room's external_senders do not name this hub"
                    .into(),
            )
        })?;
    let group_id = openmls::prelude::GroupId::from_slice(room.group_id());
    let mut out = Vec::new();
    for leaf in leaves {
        let msg = openmls::prelude::ExternalProposal::new_remove::<
            openmls_rust_crypto::OpenMlsRustCrypto,
        >(
            openmls::prelude::LeafNodeIndex::new(*leaf),
            group_id.clone(),
            openmls::prelude::GroupEpoch::from(room.epoch()),
            &id.signer,
            openmls::prelude::SenderExtensionIndex::new(index),
        )
        .map_err(|e| HubError::Internal(format!("external Remove: {e}")))?;
        let bytes = msg
            .tls_serialize_detached()
            .map_err(|e| HubError::Internal(format!("external Remove encoding: {e}")))?;
        room.process_handshake(&bytes, None)?;
        out.push(bytes);
    }
    Ok(out)
}

/// Users that a queued proposal removes from the participant list or bans
/// (protocol-06 §5.3: the hub blocks them once it has seen the removal), and users
/// every one of whose clients the hub's own queued Removes remove
/// ([`crate::room::mimi::hub_removed_users`]).
pub fn blocked_users(room: &PublicRoom) -> BTreeSet<String> {
    let queued = room.queued_proposals().unwrap_or_default();
    // Performance: nothing queued updates the participant list or is a hub Remove (the
    // usual case), so nobody is blocked; skip decoding the room's policy state.
    if !queued.iter().any(|q| {
        matches!(
            (&q.kind, q.sender_leaf),
            (
                ProposalKind::AppDataUpdate(PARTICIPANT_LIST, AppDataOp::Update(_)),
                _
            ) | (ProposalKind::Remove(_), None)
        )
    }) {
        return BTreeSet::new();
    }
    let dict = room.dictionary();
    let Ok(list) = crate::room::mimi::participants_in(&dict) else {
        return BTreeSet::new();
    };
    let banned_role = policy_state(&dict, &room.members())
        .map(|s| s.has_banned_role())
        .unwrap_or(false);
    let external: BTreeSet<u32> = queued
        .iter()
        .filter_map(|q| match (&q.kind, q.sender_leaf) {
            (ProposalKind::Remove(l), None) => Some(*l),
            _ => None,
        })
        .collect();
    let mut out = crate::room::mimi::hub_removed_users(&list, &room.members(), &external);
    for q in queued {
        if let ProposalKind::AppDataUpdate(PARTICIPANT_LIST, AppDataOp::Update(b)) = &q.kind {
            if let Ok(u) = decode_exact::<ParticipantListUpdate>(b) {
                let at = |i: u32| {
                    usize::try_from(i)
                        .ok()
                        .and_then(|i| list.get(i))
                        .map(|(u, _)| u.clone())
                };
                out.extend(u.removed_indices.iter().filter_map(|i| at(*i)));
                if banned_role {
                    out.extend(
                        u.changed_role_participants
                            .iter()
                            .filter(|c| c.role_index == 1)
                            .filter_map(|c| at(c.user_index)),
                    );
                }
            }
        }
    }
    out
}

/// Refuse a handshake from a member whose user is blocked, unless it is a
/// Remove or SelfRemove proposal (protocol-06 §5.3).
fn blocked_check(room: &PublicRoom, message: &[u8]) -> Result<(), HubError> {
    let Some(h) = peek::public_header(message) else {
        return Ok(()); // openmls will refuse it with a precise error
    };
    if h.epoch != room.epoch() {
        // protocol-06 §5.3: a handshake of another epoch is answered `wrongEpoch` (with
        // the current epoch, so the sender can catch up) before it is judged against the
        // current state (found by the equivalence suite, spec/deviations.md, equivalence
        // suite 27)
        return Ok(());
    }
    let Some(leaf) = h.member_leaf else {
        return Ok(());
    };
    let Some(identity) = room.member(leaf) else {
        return Ok(());
    };
    let Ok(user) = user_of_client(&identity) else {
        return Ok(());
    };
    if !blocked_users(room).contains(&user) {
        return Ok(());
    }
    let removal = matches!(
        h.proposal_type.map(openmls::prelude::ProposalType::from),
        Some(openmls::prelude::ProposalType::Remove | openmls::prelude::ProposalType::SelfRemove)
    );
    if removal {
        Ok(())
    } else {
        Err(HubError::Blocked(user))
    }
}

/// protocol-06 §5.4 with room-policy-03 §8.3: `sendingUri` must be a listed,
/// active, unblocked user whose role has `canSendMessage`.
/// (The reference for [`SendView::check_can_send`], which `/submitMessage` uses.)
#[cfg(test)]
fn check_can_send(room: &PublicRoom, sender: &str) -> Result<(), HubError> {
    if blocked_users(room).contains(sender) {
        return Err(HubError::Blocked(sender.to_owned()));
    }
    let state =
        policy_state(&room.dictionary(), &room.members()).map_err(|e| HubError::Policy(e.rule))?;
    authorize_send(&state, sender)
}

/// room-policy-03 §8.3: may the listed `sender` send a message under `state`?
fn authorize_send(state: &policy::RoomPolicyState, sender: &str) -> Result<(), HubError> {
    let client = state
        .clients
        .get(sender)
        .and_then(|c| c.iter().next())
        .cloned()
        .unwrap_or_default();
    policy::authorize(
        state,
        &Actor::new(sender, &client),
        &Change::SendMessage(MessageAction::Send),
    )
    .map_err(|d| HubError::Policy(format!("{}: {d} ({})", d.rule_id(), d.section())))
}

/// protocol-06 §5.6: may the client with `identity` join by external commit?
/// A listed user may add its own client (`canAddOwnClient`); an unlisted one
/// may join openly (`canOpenJoin` on role 0) or by preauthorization.
fn may_join(room: &PublicRoom, identity: &[u8]) -> Result<(), String> {
    let state = policy_state(&room.dictionary(), &room.members()).map_err(|e| e.rule)?;
    let actor = actor_of(identity).map_err(|e| e.rule)?;
    let deny = |d: policy::Denial| format!("{}: {d} ({})", d.rule_id(), d.section());
    if blocked_users(room).contains(&actor.user) {
        return Err(format!("hub.sender-blocked: {}", actor.user));
    }
    if state.participants.contains_key(&actor.user) {
        let role = state.role_of(&actor.user);
        if state
            .role(role)
            .is_some_and(|r| r.has(policy::Capability::CanAddOwnClient))
        {
            Ok(())
        } else {
            Err(deny(policy::Denial::MissingCapability {
                capability: policy::Capability::CanAddOwnClient,
                role,
                section: policy::denial::capability_section(policy::Capability::CanAddOwnClient),
            }))
        }
    } else if state.preauth_match(&actor.claims, false).is_some()
        || state
            .role(0)
            .is_some_and(|r| r.has(policy::Capability::CanOpenJoin))
    {
        Ok(())
    } else {
        Err(deny(policy::Denial::MissingCapability {
            capability: policy::Capability::CanOpenJoin,
            role: 0,
            section: policy::denial::capability_section(policy::Capability::CanOpenJoin),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `/submitMessage` view answers as the per-message check does, and follows a
    /// state change (a removal): dropped by `handle`, and detected as stale on its own.
    #[test]
    fn send_view_matches_the_per_message_check_across_a_state_change() {
        use crate::client::{Client, CommitRequest};
        use crate::policy::examples::role;
        use crate::policy::{BaseRoomPolicy, Capability::*, RoleData};
        use crate::room::mimi::{initial_dictionary, participant_update, room_metadata};
        use crate::sim::{commit_update_request, room_uri, user_uri};
        use crate::uri::{MimiUri, UriKind};
        use std::sync::Arc;

        let client = |p: &str, u: &str| {
            Client::new(
                MimiUri::new(UriKind::Client, p, &[u, "1"]).unwrap(),
                Arc::new(MimiLogic),
            )
            .unwrap()
        };
        let member = [
            CanAddParticipant,
            CanRemoveParticipant,
            CanSendMessage,
            CanReceiveMessage,
        ];
        let mut admin = member.to_vec();
        admin.extend([CanKick, CanChangeUserRole]);
        let roles = RoleData {
            roles: vec![
                role(0, "no_role", &[], (0, None, 0, Some(0)), &[]),
                role(1, "banned", &[], (0, None, 0, Some(0)), &[]),
                role(2, "member", &member, (0, None, 0, None), &[(0, &[2])]),
                role(
                    3,
                    "admin",
                    &admin,
                    (1, None, 0, None),
                    &[(0, &[2, 3]), (2, &[0, 3])],
                ),
            ],
        };
        let room_id = room_uri("a.example", "r");
        let (alice_u, bob_u, carol_u) = (
            user_uri("a.example", "alice"),
            user_uri("b.example", "bob"),
            user_uri("c.example", "carol"),
        );
        let mut alice = client("a.example", "alice");
        let md = room_metadata(&room_id, "r", "").unwrap();
        let dict = initial_dictionary(&alice_u, 3, &roles, &BaseRoomPolicy::default(), &md);
        alice.create_group(room_id.as_bytes(), &dict).unwrap();
        let (bob, carol) = (client("b.example", "bob"), client("c.example", "carol"));
        let populate = CommitRequest {
            app_data: vec![(
                PARTICIPANT_LIST,
                participant_update(&[], &[], &[(&bob_u, 2), (&carol_u, 2)]),
            )],
            adds: vec![bob.key_package().unwrap(), carol.key_package().unwrap()],
            ..CommitRequest::default()
        };
        alice.commit(room_id.as_bytes(), &populate).unwrap();
        alice.merge_pending_commit(room_id.as_bytes()).unwrap();
        let gi = alice.group_info(room_id.as_bytes()).unwrap();
        let mut hub = Hub::new("a.example", 1_000);
        let out = hub.handle(
            1,
            "a.example",
            HubInput::CreateRoom {
                room_id: room_id.clone(),
                group_info: gi.group_info,
                ratchet_tree: gi.ratchet_tree,
            },
        );
        assert!(
            matches!(out.first(), Some(HubOutput::RoomCreated(Ok(())))),
            "{out:?}"
        );

        let senders = [
            alice_u.as_str(),
            bob_u.as_str(),
            carol_u.as_str(),
            "mimi://z.example/u/nobody",
            "not a uri",
        ];
        let agree = |hub: &mut Hub| -> Vec<Result<(), String>> {
            let hr = hub.rooms.get_mut(&room_id).unwrap();
            // Twice: built, then reused.
            let mut answers = Vec::new();
            for _ in 0..2 {
                answers = senders
                    .iter()
                    .map(|s| {
                        let slow = check_can_send(&hr.room, s).map_err(|e| e.to_string());
                        let fast = hr.send_view().check_can_send(s).map_err(|e| e.to_string());
                        assert_eq!(fast, slow, "{s}");
                        fast
                    })
                    .collect();
                let targets = hr.send_view().targets.clone();
                assert_eq!(targets, providers_of(hr.room.members().values()));
            }
            answers
        };
        let before = agree(&mut hub);
        assert!(
            before[0].is_ok() && before[1].is_ok() && before[2].is_ok(),
            "{before:?}"
        );
        assert!(before[3].is_err() && before[4].is_err());
        let stale = SendView::build(&hub.rooms[&room_id].room);
        assert!(stale.is_current(&hub.rooms[&room_id].room));
        // An acknowledgement and a room-state fetch keep the view (they change no room
        // state), and it still answers as the per-message check does.
        for input in [
            HubInput::NotifyAck {
                room_id: room_id.clone(),
                seq: 0,
            },
            HubInput::RoomState {
                room_id: room_id.clone(),
            },
        ] {
            hub.handle(2, "b.example", input);
            assert!(hub.rooms[&room_id].send_view.is_some(), "kept by handle");
            assert_eq!(agree(&mut hub), before);
        }

        // alice removes bob (leaf 1, list index 1).
        let remove = CommitRequest {
            removes: vec![1],
            app_data: vec![(PARTICIPANT_LIST, participant_update(&[], &[1], &[]))],
            ..CommitRequest::default()
        };
        let commit = alice.commit(room_id.as_bytes(), &remove).unwrap();
        let body = crate::wire::encode(&commit_update_request(&commit).unwrap()).unwrap();
        let out = hub.handle(
            2,
            "a.example",
            HubInput::Update {
                room_id: room_id.clone(),
                body,
            },
        );
        assert!(
            matches!(
                out.first(),
                Some(HubOutput::Update(UpdateRoomResponse {
                    result: UpdateResult::Success { .. },
                    ..
                }))
            ),
            "{out:?}"
        );
        assert!(hub.rooms[&room_id].send_view.is_none(), "dropped by handle");
        assert!(
            !stale.is_current(&hub.rooms[&room_id].room),
            "stale by its key"
        );
        let after = agree(&mut hub);
        assert!(after[1].is_err(), "bob is gone: {after:?}");
        assert!(after[0].is_ok() && after[2].is_ok());
        let hr = hub.rooms.get_mut(&room_id).unwrap();
        assert!(!hr.send_view().targets.contains("b.example"));
        assert!(stale.targets.contains("b.example"));
    }

    /// The authority shortcut gives exactly the providers of the identities that parse.
    #[test]
    fn providers_of_matches_parsing_every_identity() {
        let ids: Vec<Vec<u8>> = [
            "not a uri",
            "mimi://a.example/d/alice/1",
            "mimi://a.example/d/bob/1",
            "mimi://A.Example/d/carol/1",
            "mimi://b.example/%zz/broken",
            "mimi://b.example/d/dave/1",
            "mimi://c.example/d/erin/1/extra/segments/beyond/the/limit",
            "mimi://c.example",
            "mimi:/d.example/d/x/1",
            "http://e.example/d/x/1",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        let every: BTreeSet<String> = ids.iter().filter_map(|i| provider_of(i)).collect();
        assert_eq!(providers_of(ids.iter()), every);
        assert!(every.contains("a.example") && every.contains("b.example"));
        assert_eq!(
            raw_authority(b"mimi://x.example/d/a/1"),
            Some(&b"x.example"[..])
        );
        assert_eq!(raw_authority(b"mimi://x.example"), Some(&b"x.example"[..]));
        assert_eq!(raw_authority(b"mimi:/x"), None);
    }
}
