//! A deterministic in-process world: N providers, each with a [`Hub`] (for the
//! rooms its users create), a [`Follower`] and its local MLS [`Client`]s, joined
//! by an in-memory network.
//!
//! Requests (`/update`, `/submitMessage`, `/keyMaterial`, `/groupInfo`) are
//! request/response exchanges and are carried synchronously, as an HTTP call
//! would be. `/notify` fanout travels over the faulty network: depending on
//! [`NetMode`], packets are delivered in order, reordered, duplicated or dropped,
//! every choice drawn from the world's seeded generator. Dropped notifies (and
//! dropped acknowledgements) are re-sent by the hub from
//! [`Hub::poll_timeout`] when [`World::run_until_quiescent`] advances the clock.
//! The same seed and the same operations give the same run (MLS key material
//! itself comes from openmls's own random source and differs between runs; no
//! observation depends on it).
//!
//! The driver API: operations ([`World::create_room`], [`World::add_user`],
//! [`World::remove_user`], [`World::leave`], [`World::kick`], [`World::ban`],
//! [`World::unban`], [`World::change_role`], [`World::update_metadata`],
//! [`World::external_join`], [`World::send_message`], [`World::commit_pending`])
//! return an [`Outcome`] with the hub's response code; network steps
//! ([`World::deliver_next`], [`World::run_until_quiescent`]); observations
//! ([`World::hub_state`], [`World::follower_state`], [`World::client_state`],
//! [`World::received`], [`World::accepted_messages`], [`World::anomalies`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use openmls::prelude::RequiredCapabilitiesExtension;
use serde::Serialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::client::driver::project_room;
use crate::client::{Client, CommitOutput, CommitRequest};
use crate::follower::{ConsentList, Follower, FollowerInput, FollowerOutput};
use crate::hub::peek::{mls_body, mls_wrap, wire_format};
use crate::hub::{GroupInfoAnswer, Hub, HubInput, HubOutput, JoinInfo};
use crate::policy::{BaseRoomPolicy, RoleData};
use crate::room::mimi::{
    decode_participants, initial_dictionary, participant_update, room_metadata, user_of_client,
    MimiLogic, PARTICIPANT_LIST, ROOM_METADATA,
};
use crate::room::AppDataOp;
use crate::uri::MimiUri;
use crate::wire::common::{encode, IdentifierUri, Opaque};
use crate::wire::group_info::GROUP_INFO_REQUEST_TBS_LABEL;
use crate::wire::key_material::KEY_MATERIAL_REQUEST_TBS_LABEL;
use crate::wire::mls::{
    CipherSuite, HpkePublicKey, MlsCredential, MlsGroupInfo, MlsMessage, MlsRatchetTree,
    MlsWelcome, RequiredCapabilities, SignaturePublicKey,
};
use crate::wire::{
    GroupInfoOption, GroupInfoRequest, HandshakeBundle, HandshakeBundleBody, KeyMaterialRequest,
    KeyMaterialUserCode, Protocol, RatchetTreeOption, SubmitMessageRequest, SubmitStatus,
    UpdateRequest, UpdateResult,
};

/// How the network treats `/notify` packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NetMode {
    /// FIFO, nothing lost.
    Ordered,
    /// Any pending packet may be delivered next.
    Reordering,
    /// FIFO, but a delivered packet may stay in the queue to be delivered again.
    Duplicating,
    /// FIFO, but a packet may be lost (the hub re-sends it).
    Dropping,
    /// Reordering, duplicating and dropping at once.
    Chaos,
}

impl NetMode {
    /// Every mode.
    pub const ALL: [NetMode; 5] = [
        NetMode::Ordered,
        NetMode::Reordering,
        NetMode::Duplicating,
        NetMode::Dropping,
        NetMode::Chaos,
    ];
}

/// World configuration.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Provider domains.
    pub providers: Vec<String>,
    /// The network mode.
    pub net: NetMode,
    /// Probability (per mille) of a duplicate / drop in the faulty modes.
    pub fault_per_mille: u32,
    /// Hub re-send interval (ms).
    pub retry_ms: u64,
    /// KeyPackages each client publishes.
    pub key_packages_per_client: usize,
    /// Every user consents to every other user fetching its KeyPackages.
    pub consent_all: bool,
    /// Deliberate deviations of every hub and follower (tests only; empty by default).
    pub deviations: Vec<crate::hub::Deviation>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            providers: vec!["a.example".into(), "b.example".into(), "c.example".into()],
            net: NetMode::Ordered,
            fault_per_mille: 250,
            retry_ms: 1000,
            key_packages_per_client: 4,
            consent_all: true,
            deviations: Vec::new(),
        }
    }
}

/// Why a driver operation could not even be attempted.
#[derive(Debug, Error)]
pub enum SimError {
    /// Unknown provider, client, user or room.
    #[error("sim: unknown {0}")]
    Unknown(String),
    /// The client (openmls) could not build the message.
    #[error("sim: client could not build the request: {0}")]
    Client(String),
    /// Encoding a request failed.
    #[error("sim: encoding failed: {0}")]
    Encode(String),
    /// The network did not become quiescent.
    #[error("sim: no quiescence after {0} steps")]
    NotQuiescent(usize),
}

/// The hub's (or follower's) answer to an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The response code (`success`, `wrongEpoch`, `notAllowed`,
    /// `invalidProposal`, `accepted`, `epochTooOld`, a `/keyMaterial` user
    /// status, `notAuthorized`, …).
    pub code: String,
    /// The error description / refusal reason (empty on success).
    pub description: String,
    /// `currentEpoch` of a `wrongEpoch` / `epochTooOld` answer.
    pub current_epoch: Option<u64>,
    /// The ProposalRefs (hex) of an `invalidProposal` answer.
    pub invalid_proposals: Vec<String>,
}

impl Outcome {
    fn new(code: &str, description: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            description: description.into(),
            current_epoch: None,
            invalid_proposals: Vec::new(),
        }
    }
    /// Whether the hub accepted.
    pub fn accepted(&self) -> bool {
        self.code == "success" || self.code == "accepted"
    }
}

/// What a client got from one delivery (shared with the HTTPS node).
pub use crate::client::driver::Delivered;

/// One delivery to a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// The room.
    pub room_id: String,
    /// SHA-256 of the `MLSMessage` delivered.
    pub message_hash: String,
    /// What happened.
    pub outcome: Delivered,
}

/// An application message the hub accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AcceptedMessage {
    /// The room.
    pub room_id: String,
    /// The sending client.
    pub sender: String,
    /// The plaintext.
    pub data: Vec<u8>,
    /// SHA-256 of the `MLSMessage`.
    pub message_hash: String,
    /// The `MLSMessage` bytes.
    pub message: Vec<u8>,
    /// The hub's group members when it was accepted.
    pub members_at_acceptance: BTreeSet<String>,
}

/// A party's projected room state (the equivalence tests' observation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectedState {
    /// Participant list: (user, role), in list order.
    pub participants: Vec<(String, u32)>,
    /// MLS members' credential identities.
    pub members: BTreeSet<String>,
    /// The epoch.
    pub epoch: u64,
    /// Pending (queued) proposals, by ProposalRef (hex).
    pub pending_proposals: Vec<String>,
    /// The room metadata component (hex), if any.
    pub metadata: Option<String>,
}

struct SimClient {
    client: Client,
    received: Vec<Delivery>,
    own: BTreeSet<String>,
}

struct Packet {
    from: String,
    to: String,
    room_id: String,
    seq: u64,
    body: Vec<u8>,
    /// An acknowledgement travelling back (to = hub), not a notify.
    ack: bool,
}

/// A seeded SplitMix64 generator (deterministic, no dependencies).
#[derive(Debug, Clone)]
pub struct SimRng(u64);

impl SimRng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u32) -> bool {
        self.below(1000) < u64::from(per_mille)
    }
}

fn hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The world.
pub struct World {
    config: SimConfig,
    rng: SimRng,
    now_ms: u64,
    hubs: BTreeMap<String, Hub>,
    followers: BTreeMap<String, Follower>,
    clients: BTreeMap<String, SimClient>,
    users: BTreeSet<String>,
    network: Vec<Packet>,
    accepted: Vec<AcceptedMessage>,
    anomalies: Vec<String>,
    delivered_packets: u64,
    dropped_packets: u64,
    duplicated_packets: u64,
    /// Bytes each provider's servers received from the network (for metadata audits).
    received_bytes: BTreeMap<String, Vec<Vec<u8>>>,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("now_ms", &self.now_ms)
            .field("providers", &self.config.providers)
            .field("clients", &self.clients.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The epoch of a PrivateMessage (RFC 9420 §6.3: `group_id` then `epoch` in clear).
fn private_epoch(message: &[u8]) -> Option<u64> {
    let body = mls_body(wire_format::PRIVATE_MESSAGE, message)?;
    // group_id<V>: QUIC-style variable-length length prefix (RFC 9420 §2.1.2)
    let first = *body.first()?;
    let (prefix, len) = match first >> 6 {
        0 => (1, usize::from(first & 0x3f)),
        1 => (
            2,
            usize::from(u16::from_be_bytes([first & 0x3f, *body.get(1)?])),
        ),
        2 => (
            4,
            usize::try_from(u32::from_be_bytes([
                first & 0x3f,
                *body.get(1)?,
                *body.get(2)?,
                *body.get(3)?,
            ]))
            .ok()?,
        ),
        _ => return None,
    };
    let at = prefix + len;
    let bytes: [u8; 8] = body.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

/// The user URI `mimi://<provider>/u/<name>`.
pub fn user_uri(provider: &str, name: &str) -> String {
    format!("mimi://{provider}/u/{name}")
}

/// The room URI `mimi://<provider>/r/<name>`.
pub fn room_uri(provider: &str, name: &str) -> String {
    format!("mimi://{provider}/r/{name}")
}

impl World {
    /// A world with no users, seeded by `seed`.
    pub fn new(seed: u64, config: SimConfig) -> Self {
        let hubs = config
            .providers
            .iter()
            .map(|p| {
                (
                    p.clone(),
                    Hub::new(p, config.retry_ms)
                        .with_identity(hub_identity(p))
                        .with_deviations(&config.deviations),
                )
            })
            .collect();
        let followers = config
            .providers
            .iter()
            .map(|p| {
                (
                    p.clone(),
                    Follower::new(p).with_deviations(&config.deviations),
                )
            })
            .collect();
        Self {
            rng: SimRng::new(seed),
            now_ms: 1_700_000_000_000,
            hubs,
            followers,
            clients: BTreeMap::new(),
            users: BTreeSet::new(),
            network: Vec::new(),
            accepted: Vec::new(),
            anomalies: Vec::new(),
            delivered_packets: 0,
            dropped_packets: 0,
            duplicated_packets: 0,
            received_bytes: BTreeMap::new(),
            config,
        }
    }

    /// The current simulated time (ms since the Unix epoch).
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// A hub.
    pub fn hub(&self, provider: &str) -> Option<&Hub> {
        self.hubs.get(provider)
    }

    /// A follower.
    pub fn follower(&self, provider: &str) -> Option<&Follower> {
        self.followers.get(provider)
    }

    /// A follower, mutably (for tests that drive it directly).
    pub fn follower_mut(&mut self, provider: &str) -> Option<&mut Follower> {
        self.followers.get_mut(provider)
    }

    /// A client.
    pub fn client(&self, client: &str) -> Option<&Client> {
        self.clients.get(client).map(|c| &c.client)
    }

    /// A client, mutably (for tests that feed it messages directly).
    pub fn client_mut(&mut self, client: &str) -> Option<&mut Client> {
        self.clients.get_mut(client).map(|c| &mut c.client)
    }

    /// Every client URI.
    pub fn client_ids(&self) -> Vec<String> {
        self.clients.keys().cloned().collect()
    }

    /// Every request or notify body a provider's servers (hub and follower) received,
    /// in order: what that provider could learn from MIMI traffic (metadata audits).
    pub fn received_bytes(&self, provider: &str) -> &[Vec<u8>] {
        self.received_bytes
            .get(provider)
            .map_or(&[][..], Vec::as_slice)
    }

    fn log_rx(&mut self, provider: &str, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.received_bytes
                .entry(provider.to_owned())
                .or_default()
                .push(bytes.to_vec());
        }
    }

    /// Packets in flight.
    pub fn in_flight(&self) -> usize {
        self.network.len()
    }

    /// Notify packets delivered so far (including duplicates).
    pub fn delivered_packets(&self) -> u64 {
        self.delivered_packets
    }

    /// Packets the network lost so far.
    pub fn dropped_packets(&self) -> u64 {
        self.dropped_packets
    }

    /// Packets the network duplicated so far.
    pub fn duplicated_packets(&self) -> u64 {
        self.duplicated_packets
    }

    /// Anything that went wrong in the machinery (a follower copy refusing what
    /// the hub accepted, an undecodable response…). Empty in a healthy run.
    pub fn anomalies(&self) -> &[String] {
        &self.anomalies
    }

    /// Every application message the hub accepted, in acceptance order.
    pub fn accepted_messages(&self) -> &[AcceptedMessage] {
        &self.accepted
    }

    /// What a client received, in delivery order.
    pub fn received(&self, client: &str) -> &[Delivery] {
        self.clients
            .get(client)
            .map_or(&[][..], |c| c.received.as_slice())
    }

    /// Create a client `mimi://<provider>/d/<user>/<device>` and publish its
    /// KeyPackages to its provider's follower.
    pub fn add_client(
        &mut self,
        provider: &str,
        user: &str,
        device: &str,
    ) -> Result<String, SimError> {
        self.add_client_with_logic(provider, user, device, Arc::new(MimiLogic))
    }

    /// As [`add_client`](Self::add_client) with another component logic (a
    /// misbehaving client, for rejection tests).
    pub fn add_client_with_logic(
        &mut self,
        provider: &str,
        user: &str,
        device: &str,
        logic: Arc<dyn crate::room::ComponentLogic>,
    ) -> Result<String, SimError> {
        if !self.followers.contains_key(provider) {
            return Err(SimError::Unknown(format!("provider {provider}")));
        }
        let uri = MimiUri::new(crate::uri::UriKind::Client, provider, &[user, device])
            .map_err(|e| SimError::Unknown(e.to_string()))?;
        let id = uri.to_string();
        let client = Client::new(uri, logic).map_err(|e| SimError::Client(e.to_string()))?;
        let mut kps = Vec::new();
        for _ in 0..self.config.key_packages_per_client {
            kps.push(
                client
                    .key_package()
                    .map_err(|e| SimError::Client(e.to_string()))?,
            );
        }
        let out = self.follower_handle(
            provider,
            FollowerInput::PublishKeyPackages {
                client: id.clone(),
                key_packages: kps,
            },
        );
        self.process_follower_outputs(provider, out);
        self.clients.insert(
            id.clone(),
            SimClient {
                client,
                received: Vec::new(),
                own: BTreeSet::new(),
            },
        );
        let user_id = user_uri(provider, user);
        if self.users.insert(user_id) && self.config.consent_all {
            self.refresh_consent();
        }
        Ok(id)
    }

    fn refresh_consent(&mut self) {
        let all: ConsentList = self.users.iter().map(|u| (u.clone(), None)).collect();
        for u in self.users.clone() {
            let Some(p) = MimiUri::parse(&u).ok().map(|x| x.provider().to_owned()) else {
                continue;
            };
            self.follower_handle(
                &p,
                FollowerInput::SetConsent {
                    user: u.clone(),
                    allowed: all.clone(),
                },
            );
        }
    }

    fn provider_of(client: &str) -> String {
        MimiUri::parse(client)
            .map(|u| u.provider().to_owned())
            .unwrap_or_default()
    }

    fn follower_handle(&mut self, provider: &str, input: FollowerInput) -> Vec<FollowerOutput> {
        let now = self.now_ms;
        match self.followers.get_mut(provider) {
            Some(f) => f.handle(now, input),
            None => Vec::new(),
        }
    }

    fn sim_client(&mut self, client: &str) -> Result<&mut SimClient, SimError> {
        self.clients
            .get_mut(client)
            .ok_or_else(|| SimError::Unknown(format!("client {client}")))
    }

    /// `client` creates room `name` on its own provider's hub, holding role
    /// `creator_role` under `roles` (protocol-06 §3.1).
    pub fn create_room(
        &mut self,
        client: &str,
        name: &str,
        roles: &RoleData,
        creator_role: u32,
    ) -> Result<(String, Outcome), SimError> {
        let provider = Self::provider_of(client);
        let room_id = room_uri(&provider, name);
        let user = user_of_client(client.as_bytes()).map_err(|e| SimError::Client(e.rule))?;
        let md = room_metadata(&room_id, name, "").map_err(|e| SimError::Client(e.rule))?;
        let dict = initial_dictionary(&user, creator_role, roles, &BaseRoomPolicy::default(), &md);
        // The creator names the hub as external sender (protocol-06 §5.3), handed the
        // hub's entry by its provider.
        let hub_sender: Vec<_> = self
            .hubs
            .get(&provider)
            .and_then(Hub::external_sender)
            .into_iter()
            .collect();
        let sc = self.sim_client(client)?;
        sc.client
            .create_group_with_external_senders(room_id.as_bytes(), &dict, &hub_sender)
            .map_err(|e| SimError::Client(e.to_string()))?;
        let bundle = sc
            .client
            .group_info(room_id.as_bytes())
            .map_err(|e| SimError::Client(e.to_string()))?;
        let now = self.now_ms;
        let hub = self
            .hubs
            .get_mut(&provider)
            .ok_or_else(|| SimError::Unknown(format!("hub {provider}")))?;
        let out = hub.handle(
            now,
            &provider,
            HubInput::CreateRoom {
                room_id: room_id.clone(),
                group_info: bundle.group_info,
                ratchet_tree: bundle.ratchet_tree,
            },
        );
        let outcome = match out.first() {
            Some(HubOutput::RoomCreated(Ok(()))) => Outcome::new("success", ""),
            Some(HubOutput::RoomCreated(Err(e))) => Outcome::new("notAllowed", e.clone()),
            _ => Outcome::new("notAllowed", "no answer"),
        };
        if outcome.accepted() {
            let out = self.follower_handle(
                &provider,
                FollowerInput::RegisterMember {
                    room_id: room_id.clone(),
                    client: client.to_owned(),
                },
            );
            self.process_follower_outputs(&provider, out);
        } else {
            let _ = self
                .sim_client(client)?
                .client
                .forget_group(room_id.as_bytes());
        }
        Ok((room_id, outcome))
    }

    /// Send any request from a local client through its follower to the hub
    /// and return the hub's responses (fanout goes onto the network).
    pub fn request(&mut self, client: &str, room_id: &str, request: HubInput) -> Vec<HubOutput> {
        self.relay(client, room_id, request)
    }

    /// Send a request from a local client through its follower to the hub and
    /// return the hub's outputs for the client (responses), after routing every
    /// other output (fanout) onto the network.
    fn relay(&mut self, client: &str, room_id: &str, request: HubInput) -> Vec<HubOutput> {
        let provider = Self::provider_of(client);
        let out = self.follower_handle(
            &provider,
            FollowerInput::FromClient {
                client: client.to_owned(),
                request,
            },
        );
        let mut responses = Vec::new();
        for o in out {
            match o {
                FollowerOutput::ToHub { hub, input } => {
                    match &input {
                        HubInput::Update { body, .. }
                        | HubInput::SubmitMessage { body, .. }
                        | HubInput::KeyMaterial { body }
                        | HubInput::KeyMaterialAnswer { body, .. }
                        | HubInput::GroupInfo { body, .. }
                        | HubInput::ReportAbuse { body, .. } => self.log_rx(&hub, body),
                        HubInput::CreateRoom {
                            group_info,
                            ratchet_tree,
                            ..
                        } => {
                            self.log_rx(&hub, group_info);
                            self.log_rx(&hub, ratchet_tree);
                        }
                        HubInput::RoomState { .. }
                        | HubInput::NotifyAck { .. }
                        | HubInput::RemoveUser { .. } => {}
                    }
                    let now = self.now_ms;
                    let hub_out = match self.hubs.get_mut(&hub) {
                        Some(h) => h.handle(now, &provider, input),
                        None => {
                            self.anomalies.push(format!("no hub {hub}"));
                            Vec::new()
                        }
                    };
                    for ho in self.route_hub_outputs(&hub, hub_out) {
                        let back = self.follower_handle(
                            &provider,
                            FollowerInput::FromHub {
                                client: client.to_owned(),
                                room_id: room_id.to_owned(),
                                output: ho,
                            },
                        );
                        for b in back {
                            if let FollowerOutput::ToClient { output, .. } = b {
                                responses.push(output);
                            }
                        }
                    }
                }
                FollowerOutput::Refused(e) => self.anomalies.push(e.to_string()),
                other => self.process_follower_outputs(&provider, vec![other]),
            }
        }
        responses
    }

    /// Put notifies on the network, run key-material relays; return the rest.
    fn route_hub_outputs(&mut self, hub: &str, outputs: Vec<HubOutput>) -> Vec<HubOutput> {
        let mut rest = Vec::new();
        for o in outputs {
            match o {
                HubOutput::Notify {
                    to,
                    room_id,
                    seq,
                    body,
                } => self.network.push(Packet {
                    from: hub.to_owned(),
                    to,
                    room_id,
                    seq,
                    body,
                    ack: false,
                }),
                HubOutput::ForwardKeyMaterial {
                    to,
                    request_id,
                    body,
                } => {
                    self.log_rx(&to, &body);
                    let out =
                        self.follower_handle(&to, FollowerInput::KeyMaterial { request_id, body });
                    for fo in out {
                        match fo {
                            FollowerOutput::KeyMaterialAnswer {
                                request_id,
                                response,
                            } => {
                                let body = match encode(&response) {
                                    Ok(b) => b,
                                    Err(e) => {
                                        self.anomalies.push(e.to_string());
                                        continue;
                                    }
                                };
                                self.log_rx(hub, &body);
                                let now = self.now_ms;
                                let ho = match self.hubs.get_mut(hub) {
                                    Some(h) => h.handle(
                                        now,
                                        &to,
                                        HubInput::KeyMaterialAnswer { request_id, body },
                                    ),
                                    None => Vec::new(),
                                };
                                rest.extend(self.route_hub_outputs(hub, ho));
                            }
                            FollowerOutput::Refused(e) => rest.push(HubOutput::Refused(
                                crate::hub::HubError::Policy(e.to_string()),
                            )),
                            _ => {}
                        }
                    }
                }
                other => rest.push(other),
            }
        }
        rest
    }

    fn process_follower_outputs(&mut self, provider: &str, outputs: Vec<FollowerOutput>) {
        let mut queue: std::collections::VecDeque<FollowerOutput> = outputs.into();
        while let Some(o) = queue.pop_front() {
            match o {
                FollowerOutput::Ack { hub, room_id, seq } => {
                    // Acknowledgements travel the network too (and may be lost).
                    self.network.push(Packet {
                        from: provider.to_owned(),
                        to: hub,
                        room_id,
                        seq,
                        body: Vec::new(),
                        ack: true,
                    });
                }
                FollowerOutput::FetchRoomState { hub, room_id } => {
                    let now = self.now_ms;
                    let ho = match self.hubs.get_mut(&hub) {
                        Some(h) => h.handle(
                            now,
                            provider,
                            HubInput::RoomState {
                                room_id: room_id.clone(),
                            },
                        ),
                        None => Vec::new(),
                    };
                    let info = ho.into_iter().find_map(|o| match o {
                        HubOutput::RoomState(i) => Some(i),
                        _ => None,
                    });
                    if let Some(Some(i)) = &info {
                        self.log_rx(provider, &i.group_info);
                        self.log_rx(provider, &i.ratchet_tree);
                    }
                    let out = self.follower_handle(
                        provider,
                        FollowerInput::RoomState {
                            room_id,
                            info: info.flatten(),
                        },
                    );
                    queue.extend(out);
                }
                FollowerOutput::Deliver {
                    client,
                    room_id,
                    message,
                    ratchet_tree,
                    ..
                } => self.deliver_to_client(&client, &room_id, &message, ratchet_tree.as_deref()),
                FollowerOutput::Inconsistent { room_id, reason } => self
                    .anomalies
                    .push(format!("{provider} copy of {room_id}: {reason}")),
                FollowerOutput::Refused(e) => self.anomalies.push(format!("{provider}: {e}")),
                FollowerOutput::ToHub { .. }
                | FollowerOutput::ToClient { .. }
                | FollowerOutput::KeyMaterialAnswer { .. }
                | FollowerOutput::ConsentAccepted
                | FollowerOutput::SendConsent { .. } => {}
            }
        }
    }

    fn deliver_to_client(
        &mut self,
        client: &str,
        room_id: &str,
        message: &[u8],
        tree: Option<&[u8]>,
    ) {
        let Some(sc) = self.clients.get_mut(client) else {
            return;
        };
        let h = hash(message);
        // A handshake from an epoch before the client's own (e.g. a commit fanned out
        // before the client joined by external commit) is stale for it: dropped, as
        // the model's client does (protocol-06 §5.5 delivers in epoch order).
        let msg_epoch = crate::hub::peek::public_header(message)
            .map(|hd| hd.epoch)
            .or_else(|| private_epoch(message));
        let stale = msg_epoch
            .zip(sc.client.epoch(room_id.as_bytes()))
            .is_some_and(|(e, mine)| e < mine);
        if stale {
            return;
        }
        let own = sc.own.contains(&h);
        let outcome = crate::client::driver::receive(&mut sc.client, message, tree, own);
        sc.received.push(Delivery {
            room_id: room_id.to_owned(),
            message_hash: h,
            outcome,
        });
    }

    // ------------------------------------------------------------------
    // Network
    // ------------------------------------------------------------------

    /// Deliver (or drop, or duplicate) one packet. Returns false when none is in flight.
    pub fn deliver_next(&mut self) -> bool {
        if self.network.is_empty() {
            return false;
        }
        let mode = self.config.net;
        let fault = self.config.fault_per_mille;
        let reorder = matches!(mode, NetMode::Reordering | NetMode::Chaos);
        let dup = matches!(mode, NetMode::Duplicating | NetMode::Chaos);
        let drop = matches!(mode, NetMode::Dropping | NetMode::Chaos);
        let i = if reorder {
            self.rng.below(self.network.len() as u64) as usize
        } else {
            0
        };
        let keep_copy = dup && self.rng.chance(fault);
        let lost = drop && self.rng.chance(fault);
        let p = if keep_copy {
            let p = &self.network[i];
            Packet {
                from: p.from.clone(),
                to: p.to.clone(),
                room_id: p.room_id.clone(),
                seq: p.seq,
                body: p.body.clone(),
                ack: p.ack,
            }
        } else {
            self.network.remove(i)
        };
        if keep_copy {
            self.duplicated_packets += 1;
        }
        if lost {
            self.dropped_packets += 1;
            return true;
        }
        self.deliver_packet(p);
        true
    }

    fn deliver_packet(&mut self, p: Packet) {
        self.delivered_packets += 1;
        if p.ack {
            let now = self.now_ms;
            if let Some(h) = self.hubs.get_mut(&p.to) {
                h.handle(
                    now,
                    &p.from,
                    HubInput::NotifyAck {
                        room_id: p.room_id,
                        seq: p.seq,
                    },
                );
            }
        } else {
            self.log_rx(&p.to.clone(), &p.body);
            let out = self.follower_handle(
                &p.to.clone(),
                FollowerInput::Notify {
                    hub: p.from,
                    room_id: p.room_id,
                    seq: p.seq,
                    body: p.body,
                },
            );
            self.process_follower_outputs(&p.to, out);
        }
    }

    /// The index of the oldest in-flight notify addressed to `provider`.
    fn next_to(&self, provider: &str) -> Option<usize> {
        self.network.iter().position(|p| !p.ack && p.to == provider)
    }

    /// Notifies (not acknowledgements) in flight to `provider`.
    pub fn in_flight_to(&self, provider: &str) -> usize {
        self.network
            .iter()
            .filter(|p| !p.ack && p.to == provider)
            .count()
    }

    /// Deliver the oldest in-flight notify addressed to `provider` (FIFO per
    /// destination, no fault injection), then every acknowledgement in flight.
    /// Returns false when nothing was in flight to `provider`.
    pub fn deliver_next_to(&mut self, provider: &str) -> bool {
        let Some(i) = self.next_to(provider) else {
            return false;
        };
        let p = self.network.remove(i);
        self.deliver_packet(p);
        self.deliver_acks();
        true
    }

    /// Deliver every acknowledgement in flight to its hub.
    pub fn deliver_acks(&mut self) {
        while let Some(i) = self.network.iter().position(|p| p.ack) {
            let p = self.network.remove(i);
            self.deliver_packet(p);
        }
    }

    /// Append a copy of the oldest in-flight notify addressed to `provider` to the
    /// queue (a network duplicate). Returns false when none is in flight.
    pub fn duplicate_next_to(&mut self, provider: &str) -> bool {
        let Some(i) = self.next_to(provider) else {
            return false;
        };
        let p = &self.network[i];
        let copy = Packet {
            from: p.from.clone(),
            to: p.to.clone(),
            room_id: p.room_id.clone(),
            seq: p.seq,
            body: p.body.clone(),
            ack: p.ack,
        };
        self.network.push(copy);
        self.duplicated_packets += 1;
        true
    }

    /// Indexes of the notifies in flight to `provider` in the order a sequencing
    /// follower processes them: by room and sequence number, then age (a duplicate
    /// or a re-sent copy ranks right after its original).
    fn ranked_to(&self, provider: &str) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .network
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.ack && p.to == provider)
            .map(|(i, _)| i)
            .collect();
        v.sort_by(|a, b| {
            let (x, y) = (&self.network[*a], &self.network[*b]);
            (&x.room_id, x.seq, *a).cmp(&(&y.room_id, y.seq, *b))
        });
        v
    }

    /// Deliver the notify of rank `rank` (see [`World::drop_ranked_to`]) in flight to
    /// `provider` — rank 0 is the next in sequence, a higher rank overtakes the ones
    /// before it (a reordering network) — then every acknowledgement in flight.
    /// Returns false when fewer than `rank + 1` notifies are in flight to `provider`.
    pub fn deliver_ranked_to(&mut self, provider: &str, rank: usize) -> bool {
        let Some(&i) = self.ranked_to(provider).get(rank) else {
            return false;
        };
        let p = self.network.remove(i);
        self.deliver_packet(p);
        self.deliver_acks();
        true
    }

    /// Lose the notify of rank `rank` in flight to `provider` (notifies ordered by
    /// room and sequence number, then age). Its hub still holds it unacknowledged and
    /// re-sends it when its timer fires ([`World::fire_retries`]).
    pub fn drop_ranked_to(&mut self, provider: &str, rank: usize) -> bool {
        let Some(&i) = self.ranked_to(provider).get(rank) else {
            return false;
        };
        self.network.remove(i);
        self.dropped_packets += 1;
        true
    }

    /// Append a copy of the notify of rank `rank` in flight to `provider` (a network
    /// duplicate).
    pub fn duplicate_ranked_to(&mut self, provider: &str, rank: usize) -> bool {
        let Some(&i) = self.ranked_to(provider).get(rank) else {
            return false;
        };
        let p = &self.network[i];
        let copy = Packet {
            from: p.from.clone(),
            to: p.to.clone(),
            room_id: p.room_id.clone(),
            seq: p.seq,
            body: p.body.clone(),
            ack: false,
        };
        self.network.push(copy);
        self.duplicated_packets += 1;
        true
    }

    /// The hubs' re-send timers fire once: the clock advances by the retry interval
    /// and every hub re-sends each unacknowledged notify (protocol-06 §5.5). A
    /// re-sent copy of a notify that is still in flight is lost by the network, so
    /// that only lost notifies come back. Returns how many notifies were re-sent.
    pub fn fire_retries(&mut self) -> usize {
        self.now_ms += self.config.retry_ms;
        let now = self.now_ms;
        let hubs: Vec<String> = self.hubs.keys().cloned().collect();
        let mut sent = 0;
        for h in hubs {
            let out = match self.hubs.get_mut(&h) {
                Some(hub) => hub.poll_timeout(now),
                None => Vec::new(),
            };
            let out: Vec<HubOutput> =
                out.into_iter()
                    .filter(|o| match o {
                        HubOutput::Notify {
                            to, room_id, seq, ..
                        } => !self.network.iter().any(|p| {
                            !p.ack && p.to == *to && p.room_id == *room_id && p.seq == *seq
                        }),
                        _ => true,
                    })
                    .collect();
            sent += out.len();
            let rest = self.route_hub_outputs(&h, out);
            for r in rest {
                self.anomalies
                    .push(format!("hub {h}: unexpected timer output {r:?}"));
            }
        }
        sent
    }

    /// Deliver until nothing is in flight and every hub has every notify
    /// acknowledged, advancing the clock to trigger re-sends.
    pub fn run_until_quiescent(&mut self) -> Result<(), SimError> {
        const LIMIT: usize = 100_000;
        for _ in 0..LIMIT {
            if self.deliver_next() {
                continue;
            }
            if self.hubs.values().all(|h| h.unacknowledged() == 0) {
                return Ok(());
            }
            self.now_ms += self.config.retry_ms;
            let now = self.now_ms;
            let providers: Vec<String> = self.hubs.keys().cloned().collect();
            for p in providers {
                let out = match self.hubs.get_mut(&p) {
                    Some(h) => h.poll_timeout(now),
                    None => Vec::new(),
                };
                let rest = self.route_hub_outputs(&p, out);
                debug_assert!(rest.is_empty());
            }
        }
        Err(SimError::NotQuiescent(LIMIT))
    }

    // ------------------------------------------------------------------
    // Operations
    // ------------------------------------------------------------------

    fn tick(&mut self) {
        self.now_ms += 1 + self.rng.below(50);
    }

    fn participants(&self, client: &str, room_id: &str) -> Vec<(String, u32)> {
        self.clients
            .get(client)
            .and_then(|c| c.client.dictionary(room_id.as_bytes()))
            .and_then(|d| decode_participants(d.get(&PARTICIPANT_LIST).map(Vec::as_slice)).ok())
            .unwrap_or_default()
    }

    fn index_of(&self, client: &str, room_id: &str, user: &str) -> Option<u32> {
        self.participants(client, room_id)
            .iter()
            .position(|(u, _)| u == user)
            .and_then(|i| u32::try_from(i).ok())
    }

    /// Leaves of `user`'s clients in `client`'s view of the group.
    fn leaves_of(&self, client: &str, room_id: &str, user: &str) -> Vec<u32> {
        self.clients
            .get(client)
            .and_then(|c| c.client.members(room_id.as_bytes()))
            .map(|m| {
                m.into_iter()
                    .filter(|(_, id)| user_of_client(id).is_ok_and(|u| u == user))
                    .map(|(l, _)| l)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Fetch KeyPackages of `target_user`'s clients for `room_id` through the
    /// hub's `/keyMaterial` relay (protocol-06 §5.2).
    pub fn fetch_key_packages(
        &mut self,
        requester: &str,
        room_id: &str,
        target_user: &str,
    ) -> Result<(Outcome, Vec<Vec<u8>>), SimError> {
        let sc = self.sim_client(requester)?;
        let req =
            crate::client::driver::profile_key_material_request(&sc.client, room_id, target_user)?;
        let body = encode(&req).map_err(|e| SimError::Encode(e.to_string()))?;
        let out = self.relay(requester, room_id, HubInput::KeyMaterial { body });
        for o in out {
            match o {
                HubOutput::KeyMaterial { response, .. } => {
                    let kps = crate::client::driver::key_packages_of(&response);
                    let code = response.user_status.wire_name();
                    let ok = matches!(
                        response.user_status,
                        KeyMaterialUserCode::Success | KeyMaterialUserCode::PartialSuccess
                    );
                    return Ok((Outcome::new(code, if ok { "" } else { code }), kps));
                }
                HubOutput::Refused(e) => {
                    return Ok((Outcome::new("refused", e.to_string()), Vec::new()))
                }
                _ => {}
            }
        }
        Ok((Outcome::new("refused", "no answer"), Vec::new()))
    }

    /// Build a commit at `client` from `request` and submit it; the client
    /// discards it if the hub refuses.
    pub fn commit(
        &mut self,
        client: &str,
        room_id: &str,
        request: &CommitRequest,
    ) -> Result<Outcome, SimError> {
        self.commit_and_submit(client, room_id, request)
    }

    /// Build a commit at `client` and submit it; discard it if refused.
    fn commit_and_submit(
        &mut self,
        client: &str,
        room_id: &str,
        request: &CommitRequest,
    ) -> Result<Outcome, SimError> {
        self.tick();
        let out = self
            .sim_client(client)?
            .client
            .commit(room_id.as_bytes(), request)
            .map_err(|e| SimError::Client(e.to_string()))?;
        let outcome = self.submit_commit(client, room_id, &out)?;
        if !outcome.accepted() {
            let _ = self
                .sim_client(client)?
                .client
                .discard_pending_commit(room_id.as_bytes());
        }
        Ok(outcome)
    }

    fn submit_commit(
        &mut self,
        client: &str,
        room_id: &str,
        out: &CommitOutput,
    ) -> Result<Outcome, SimError> {
        let req = commit_update_request(out)?;
        self.sim_client(client)?.own.insert(hash(&out.commit));
        self.send_update(client, room_id, &req)
    }

    /// Submit raw `/update` bytes for `client` (malformed-input tests).
    pub fn send_raw_update(&mut self, client: &str, room_id: &str, body: Vec<u8>) -> Outcome {
        let out = self.relay(
            client,
            room_id,
            HubInput::Update {
                room_id: room_id.to_owned(),
                body,
            },
        );
        update_outcome(&out)
    }

    /// Submit an `UpdateRequest` for `client` and return the hub's answer.
    pub fn send_update(
        &mut self,
        client: &str,
        room_id: &str,
        req: &UpdateRequest,
    ) -> Result<Outcome, SimError> {
        let body = encode(req).map_err(|e| SimError::Encode(e.to_string()))?;
        Ok(self.send_raw_update(client, room_id, body))
    }

    /// `adder` adds `target_user` with `role`: fetches its clients' KeyPackages
    /// and commits the participant-list addition with the MLS Adds (§3.2).
    pub fn add_user(
        &mut self,
        adder: &str,
        room_id: &str,
        target_user: &str,
        role: u32,
    ) -> Result<Outcome, SimError> {
        let (km, kps) = self.fetch_key_packages(adder, room_id, target_user)?;
        if kps.is_empty() {
            return Ok(km);
        }
        let request = crate::client::driver::add_user_commit(target_user, role, kps);
        self.commit_and_submit(adder, room_id, &request)
    }

    /// `remover` removes `target_user` from the list and all its clients from the group.
    pub fn remove_user(
        &mut self,
        remover: &str,
        room_id: &str,
        target_user: &str,
    ) -> Result<Outcome, SimError> {
        let idx = self
            .index_of(remover, room_id, target_user)
            .ok_or_else(|| SimError::Unknown(format!("{target_user} in {room_id}")))?;
        let request = CommitRequest {
            app_data: vec![(PARTICIPANT_LIST, participant_update(&[], &[idx], &[]))],
            adds: Vec::new(),
            removes: self.leaves_of(remover, room_id, target_user),
            inline_ratchet_tree: false,
        };
        self.commit_and_submit(remover, room_id, &request)
    }

    /// `kicker` removes one client (no participant-list change, `canKick`).
    pub fn kick(
        &mut self,
        kicker: &str,
        room_id: &str,
        target_client: &str,
    ) -> Result<Outcome, SimError> {
        let leaf = self
            .clients
            .get(kicker)
            .and_then(|c| c.client.members(room_id.as_bytes()))
            .and_then(|m| {
                m.into_iter()
                    .find(|(_, id)| id == target_client.as_bytes())
                    .map(|(l, _)| l)
            })
            .ok_or_else(|| SimError::Unknown(format!("{target_client} in {room_id}")))?;
        let request = CommitRequest {
            removes: vec![leaf],
            ..CommitRequest::default()
        };
        self.commit_and_submit(kicker, room_id, &request)
    }

    /// Change `target_user`'s role (ban is role 1, unban a move out of it).
    pub fn change_role(
        &mut self,
        actor: &str,
        room_id: &str,
        target_user: &str,
        role: u32,
    ) -> Result<Outcome, SimError> {
        let idx = self
            .index_of(actor, room_id, target_user)
            .ok_or_else(|| SimError::Unknown(format!("{target_user} in {room_id}")))?;
        let removes = if role == 1 {
            self.leaves_of(actor, room_id, target_user)
        } else {
            Vec::new()
        };
        let request = CommitRequest {
            app_data: vec![(
                PARTICIPANT_LIST,
                participant_update(&[(idx, role)], &[], &[]),
            )],
            removes,
            ..CommitRequest::default()
        };
        self.commit_and_submit(actor, room_id, &request)
    }

    /// Ban `target_user` (role 1 `banned`) and remove its clients in the same commit.
    pub fn ban(
        &mut self,
        actor: &str,
        room_id: &str,
        target_user: &str,
    ) -> Result<Outcome, SimError> {
        self.change_role(actor, room_id, target_user, 1)
    }

    /// Unban `target_user` into `role`.
    pub fn unban(
        &mut self,
        actor: &str,
        room_id: &str,
        target_user: &str,
        role: u32,
    ) -> Result<Outcome, SimError> {
        self.change_role(actor, room_id, target_user, role)
    }

    /// Replace the room name.
    pub fn update_metadata(
        &mut self,
        actor: &str,
        room_id: &str,
        name: &str,
    ) -> Result<Outcome, SimError> {
        let md = room_metadata(room_id, name, "").map_err(|e| SimError::Client(e.rule))?;
        let request = CommitRequest {
            app_data: vec![(ROOM_METADATA, AppDataOp::Update(md))],
            ..CommitRequest::default()
        };
        self.commit_and_submit(actor, room_id, &request)
    }

    /// Commit whatever proposals `client` has queued (e.g. after a leave, §3.5).
    pub fn commit_pending(&mut self, client: &str, room_id: &str) -> Result<Outcome, SimError> {
        self.commit_and_submit(client, room_id, &CommitRequest::default())
    }

    /// `client` leaves (§3.5): a participant-list removal of its user, a Remove for
    /// each of its user's other clients and its own SelfRemove, as one proposal
    /// bundle (`moreProposals`). Someone else commits.
    pub fn leave(&mut self, client: &str, room_id: &str) -> Result<Outcome, SimError> {
        self.tick();
        let user = user_of_client(client.as_bytes()).map_err(|e| SimError::Client(e.rule))?;
        let idx = self
            .index_of(client, room_id, &user)
            .ok_or_else(|| SimError::Unknown(format!("{user} in {room_id}")))?;
        let own_leaf = self
            .clients
            .get(client)
            .and_then(|c| c.client.own_leaf(room_id.as_bytes()));
        let others: Vec<u32> = self
            .leaves_of(client, room_id, &user)
            .into_iter()
            .filter(|l| Some(*l) != own_leaf)
            .collect();
        let sc = self.sim_client(client)?;
        let pending_before = sc
            .client
            .pending_proposals(room_id.as_bytes())
            .unwrap_or_default();
        let p1 = sc
            .client
            .propose_app_data(
                room_id.as_bytes(),
                PARTICIPANT_LIST,
                participant_update(&[], &[idx], &[]),
            )
            .map_err(|e| SimError::Client(e.to_string()))?;
        let mut bundle = vec![p1];
        for leaf in others {
            bundle.push(
                sc.client
                    .propose_remove(room_id.as_bytes(), leaf)
                    .map_err(|e| SimError::Client(e.to_string()))?,
            );
        }
        bundle.push(
            sc.client
                .self_remove(room_id.as_bytes())
                .map_err(|e| SimError::Client(e.to_string()))?,
        );
        for p in &bundle {
            sc.own.insert(hash(p));
        }
        let outcome = self.send_proposals(client, room_id, &bundle)?;
        if !outcome.accepted() {
            // refused: the client forgets the proposals of this bundle (protocol-06
            // §5.3), not those of an earlier, accepted one (a repeated leave re-signs
            // the same proposals: deterministic signatures, the same ProposalRefs)
            let refs: Vec<Vec<u8>> = bundle
                .iter()
                .filter_map(|p| crate::hub::peek::proposal_ref(p))
                .filter(|r| !pending_before.contains(r))
                .collect();
            self.sim_client(client)?
                .client
                .discard_proposals(room_id.as_bytes(), &refs)
                .map_err(|e| SimError::Client(e.to_string()))?;
        }
        Ok(outcome)
    }

    /// Submit standalone proposals (`MLSMessage`s) as one `/update` bundle.
    pub fn send_proposals(
        &mut self,
        client: &str,
        room_id: &str,
        proposals: &[Vec<u8>],
    ) -> Result<Outcome, SimError> {
        let enc = |e: crate::wire::WireError| SimError::Encode(e.to_string());
        let (first, more) = proposals
            .split_first()
            .ok_or_else(|| SimError::Client("no proposals".into()))?;
        let req = UpdateRequest {
            bundle: HandshakeBundle {
                proposal_or_commit: MlsMessage::from_bytes(first).map_err(enc)?,
                body: HandshakeBundleBody::Proposal {
                    more_proposals: more
                        .iter()
                        .map(|m| MlsMessage::from_bytes(m))
                        .collect::<Result<_, _>>()
                        .map_err(enc)?,
                },
            },
        };
        self.send_update(client, room_id, &req)
    }

    /// Ask the hub for the GroupInfo of `room_id` on behalf of `client` (§5.6).
    pub fn fetch_group_info(
        &mut self,
        client: &str,
        room_id: &str,
    ) -> Result<(Outcome, Option<Box<JoinInfo>>), SimError> {
        let sc = self.sim_client(client)?;
        let cred = sc
            .client
            .credential_bytes()
            .map_err(|e| SimError::Encode(e.to_string()))?;
        // A fresh HPKE key pair for the encrypted answer (protocol-06 §5.6).
        let ikm: Vec<u8> = (0..4)
            .flat_map(|_| self.rng.next_u64().to_be_bytes())
            .collect();
        let hpke = {
            use openmls_traits::crypto::OpenMlsCrypto as _;
            openmls_rust_crypto::RustCrypto::default()
                .derive_hpke_keypair(crate::room::profile::CIPHERSUITE.hpke_config(), &ikm)
                .map_err(|e| SimError::Client(format!("{e:?}")))?
        };
        let sc = self.sim_client(client)?;
        let mut req = GroupInfoRequest {
            protocol: Protocol::Mls10,
            cipher_suite: CipherSuite(u16::from(crate::room::profile::CIPHERSUITE)),
            requesting_signature_key: SignaturePublicKey::from(sc.client.signature_public_key()),
            requesting_credential: MlsCredential::from_bytes(&cred)
                .map_err(|e| SimError::Encode(e.to_string()))?,
            group_info_public_key: HpkePublicKey::from(hpke.public.clone()),
            joining_code: None,
            signature: Opaque::default(),
        };
        let tbs = encode(&req.tbs()).map_err(|e| SimError::Encode(e.to_string()))?;
        req.signature = Opaque::new(
            sc.client
                .sign_with_label(GROUP_INFO_REQUEST_TBS_LABEL, &tbs)
                .map_err(|e| SimError::Client(e.to_string()))?,
        );
        let body = encode(&req).map_err(|e| SimError::Encode(e.to_string()))?;
        let out = self.relay(
            client,
            room_id,
            HubInput::GroupInfo {
                room_id: room_id.to_owned(),
                body,
            },
        );
        for o in out {
            if let HubOutput::GroupInfo(a) = o {
                return Ok(match a {
                    GroupInfoAnswer::Success(info) => match open_join_info(&info, &hpke.private) {
                        Ok(opened) => (Outcome::new("success", ""), Some(Box::new(opened))),
                        Err(e) => (Outcome::new("refused", e), None),
                    },
                    GroupInfoAnswer::NotAuthorized(r) => (Outcome::new("notAuthorized", r), None),
                    GroupInfoAnswer::NoSuchRoom => (Outcome::new("noSuchRoom", ""), None),
                });
            }
        }
        Ok((Outcome::new("refused", "no answer"), None))
    }

    /// `client` joins by external commit (§3.6); when its user is not listed
    /// yet, the commit also adds the user with `role_if_new`.
    pub fn external_join(
        &mut self,
        client: &str,
        room_id: &str,
        role_if_new: u32,
    ) -> Result<Outcome, SimError> {
        self.tick();
        let (outcome, info) = self.fetch_group_info(client, room_id)?;
        let Some(info) = info else {
            return Ok(outcome);
        };
        let user = user_of_client(client.as_bytes()).map_err(|e| SimError::Client(e.rule))?;
        let app_data = crate::client::driver::external_join_app_data(
            &info.group_info,
            &info.ratchet_tree,
            &user,
            role_if_new,
        );
        let sc = self.sim_client(client)?;
        let (_, out) = sc
            .client
            // The joiner covers no queued proposal: the hub refuses an external commit
            // that does and re-issues the removals among them (spec/deviations.md,
            // "hub external proposals").
            .join_by_external_commit(&info.group_info, &info.ratchet_tree, &[], &app_data)
            .map_err(|e| SimError::Client(e.to_string()))?;
        let outcome = self.submit_commit(client, room_id, &out)?;
        if !outcome.accepted() {
            let _ = self
                .sim_client(client)?
                .client
                .forget_group(room_id.as_bytes());
        }
        Ok(outcome)
    }

    /// The provider of `user` tells the hub of `room_id` that the user's account is
    /// gone: the hub proposes the removal of every client of the user
    /// ([`HubInput::RemoveUser`]); the fanout goes onto the network.
    pub fn hub_remove_user(&mut self, room_id: &str, user: &str) -> Result<Outcome, SimError> {
        let from = MimiUri::parse(user)
            .map(|u| u.provider().to_owned())
            .map_err(|e| SimError::Unknown(format!("user {user}: {e}")))?;
        self.hub_remove_user_from(&from, room_id, user)
    }

    /// [`World::hub_remove_user`] as asked by provider `from` (the hub refuses any
    /// provider but the user's own and its own).
    pub fn hub_remove_user_from(
        &mut self,
        from: &str,
        room_id: &str,
        user: &str,
    ) -> Result<Outcome, SimError> {
        self.tick();
        let hub = MimiUri::parse(room_id)
            .map(|u| u.provider().to_owned())
            .map_err(|e| SimError::Unknown(format!("room {room_id}: {e}")))?;
        let now = self.now_ms;
        let out = self
            .hubs
            .get_mut(&hub)
            .ok_or_else(|| SimError::Unknown(format!("hub {hub}")))?
            .handle(
                now,
                from,
                HubInput::RemoveUser {
                    room_id: room_id.to_owned(),
                    user: user.to_owned(),
                },
            );
        let mut outcome = Outcome::new("refused", "no answer");
        for o in self.route_hub_outputs(&hub, out) {
            match o {
                HubOutput::HubProposals { .. } => outcome = Outcome::new("success", ""),
                HubOutput::Refused(e) => outcome = Outcome::new("notAllowed", e.to_string()),
                _ => {}
            }
        }
        Ok(outcome)
    }

    /// `user`'s account was deleted at its provider: every hub hosting a room that
    /// lists the user is told to remove it ([`World::hub_remove_user`]). Returns the
    /// outcome per room.
    pub fn delete_account(&mut self, user: &str) -> Result<Vec<(String, Outcome)>, SimError> {
        let rooms: Vec<String> = self
            .hubs
            .values()
            .flat_map(|h| {
                h.rooms()
                    .filter(|r| {
                        h.room(r).is_some_and(|room| {
                            decode_participants(
                                room.dictionary().get(&PARTICIPANT_LIST).map(Vec::as_slice),
                            )
                            .is_ok_and(|l| l.iter().any(|(u, _)| u == user))
                        })
                    })
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut out = Vec::new();
        for r in rooms {
            let o = self.hub_remove_user(&r, user)?;
            out.push((r, o));
        }
        Ok(out)
    }

    /// `client` sends `text` (§3.4): a PrivateMessage submitted with its user as `sendingUri`.
    pub fn send_message(
        &mut self,
        client: &str,
        room_id: &str,
        text: &[u8],
    ) -> Result<Outcome, SimError> {
        self.tick();
        let user = user_of_client(client.as_bytes()).map_err(|e| SimError::Client(e.rule))?;
        let sc = self.sim_client(client)?;
        let msg = sc
            .client
            .send(room_id.as_bytes(), text)
            .map_err(|e| SimError::Client(e.to_string()))?;
        let h = hash(&msg);
        sc.own.insert(h.clone());
        self.submit_message(client, room_id, &msg, &user, text, h)
    }

    /// Submit an application message with an explicit `sendingUri`.
    pub fn submit_message(
        &mut self,
        client: &str,
        room_id: &str,
        msg: &[u8],
        sending_uri: &str,
        text: &[u8],
        message_hash: String,
    ) -> Result<Outcome, SimError> {
        let members: BTreeSet<String> = self
            .hub_of(room_id)
            .and_then(|h| h.room(room_id))
            .map(|r| {
                r.members()
                    .values()
                    .map(|i| String::from_utf8_lossy(i).into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let req = SubmitMessageRequest {
            protocol: Protocol::Mls10,
            app_message: MlsMessage::from_bytes(msg)
                .map_err(|e| SimError::Encode(e.to_string()))?,
            sending_uri: IdentifierUri::new(sending_uri),
        };
        let body = encode(&req).map_err(|e| SimError::Encode(e.to_string()))?;
        let out = self.relay(
            client,
            room_id,
            HubInput::SubmitMessage {
                room_id: room_id.to_owned(),
                body,
            },
        );
        for o in out {
            if let HubOutput::Submit { response, reason } = o {
                let outcome = match response.status {
                    SubmitStatus::Accepted { .. } => {
                        self.accepted.push(AcceptedMessage {
                            room_id: room_id.to_owned(),
                            sender: client.to_owned(),
                            data: text.to_vec(),
                            message_hash,
                            message: msg.to_vec(),
                            members_at_acceptance: members,
                        });
                        Outcome::new("accepted", "")
                    }
                    SubmitStatus::NotAllowed => {
                        Outcome::new("notAllowed", reason.unwrap_or_default())
                    }
                    SubmitStatus::EpochTooOld { current_epoch } => {
                        let mut o = Outcome::new("epochTooOld", reason.unwrap_or_default());
                        o.current_epoch = Some(current_epoch);
                        o
                    }
                };
                return Ok(outcome);
            }
        }
        Ok(Outcome::new("refused", "no answer"))
    }

    // ------------------------------------------------------------------
    // Observations
    // ------------------------------------------------------------------

    /// The hub hosting `room_id`.
    pub fn hub_of(&self, room_id: &str) -> Option<&Hub> {
        let p = MimiUri::parse(room_id).ok()?.provider().to_owned();
        self.hubs.get(&p)
    }

    /// The hub's projected room state.
    pub fn hub_state(&self, room_id: &str) -> Option<ProjectedState> {
        self.hub_of(room_id)?.room(room_id).map(project_room)
    }

    /// A follower's projected copy of the room state.
    pub fn follower_state(&self, provider: &str, room_id: &str) -> Option<ProjectedState> {
        self.followers
            .get(provider)?
            .room_copy(room_id)
            .map(project_room)
    }

    /// A client's projected room state (`None` if it is not an active member).
    pub fn client_state(&self, client: &str, room_id: &str) -> Option<ProjectedState> {
        crate::client::driver::project_client(&self.clients.get(client)?.client, room_id)
    }

    /// Check that every follower with a copy of the room, and every client that
    /// is a member, agrees with the hub (pending proposals are compared for
    /// followers; clients may lag on proposals not yet committed).
    pub fn check_consistent(&self, room_id: &str) -> Result<(), String> {
        let hub = self.hub_state(room_id).ok_or("no hub state")?;
        for p in self.followers.keys() {
            if let Some(f) = self.follower_state(p, room_id) {
                let providers_active = hub.members.iter().any(|m| Self::provider_of(m) == *p);
                if providers_active && f != hub {
                    return Err(format!("follower {p}: {f:?} != hub {hub:?}"));
                }
            }
        }
        for m in &hub.members {
            let c = self
                .client_state(m, room_id)
                .ok_or_else(|| format!("{m} is a member at the hub but not at the client"))?;
            if (c.epoch, &c.members, &c.participants, &c.metadata)
                != (hub.epoch, &hub.members, &hub.participants, &hub.metadata)
            {
                return Err(format!("client {m}: {c:?} != hub {hub:?}"));
            }
        }
        Ok(())
    }
}

/// The signing identity of the hub of `provider` (keys from the driver).
fn hub_identity(provider: &str) -> crate::hub::HubIdentity {
    // Driver setup, not an input path: key generation failing is a broken platform.
    let signer = openmls_basic_credential::SignatureKeyPair::new(
        crate::room::profile::CIPHERSUITE.signature_algorithm(),
    )
    .expect("Ed25519 key generation");
    crate::hub::HubIdentity {
        signer,
        credential: openmls::prelude::BasicCredential::new(
            format!("mimi://{provider}").into_bytes(),
        )
        .into(),
        crypto: openmls_rust_crypto::RustCrypto::default(),
    }
}

/// What a joiner uses from a `/groupInfo` answer: the decrypted, signature-checked
/// `GroupInfoRatchetTreeTBE` (protocol-06 §5.6), which must match what the hub
/// reported in the clear.
fn open_join_info(info: &JoinInfo, hpke_private: &[u8]) -> Result<JoinInfo, String> {
    let response = info
        .response
        .as_ref()
        .ok_or("the hub sent no GroupInfoResponse")?;
    let tbe = crate::hub::auth::open_group_info_response(response, hpke_private)
        .map_err(|e| e.to_string())?;
    let group_info = mls_wrap(wire_format::GROUP_INFO, tbe.group_info.as_bytes());
    let ratchet_tree = match &tbe.ratchet_tree_option {
        RatchetTreeOption::Full { ratchet_tree } => ratchet_tree.as_bytes().to_vec(),
        _ => return Err("no full ratchet tree in the response".into()),
    };
    let pending: Vec<Vec<u8>> = tbe
        .pending_proposals
        .iter()
        .map(|p| p.proposal.as_bytes().to_vec())
        .collect();
    if group_info != info.group_info
        || ratchet_tree != info.ratchet_tree
        || pending != info.pending_proposals
    {
        return Err("the encrypted GroupInfo differs from the hub's".into());
    }
    Ok(JoinInfo {
        tbe,
        group_info,
        ratchet_tree,
        pending_proposals: pending,
        response: None,
    })
}

/// A `KeyMaterialRequest` (protocol-06 §5.2) from `client` for `target_user`'s
/// KeyPackages, to add them to `room_id`, signed with the client's key.
pub fn key_material_request(
    client: &Client,
    room_id: &str,
    target_user: &str,
    acceptable_ciphersuites: &[u16],
    required: &RequiredCapabilitiesExtension,
) -> Result<KeyMaterialRequest, SimError> {
    let requester_user =
        user_of_client(&client.identity()).map_err(|e| SimError::Client(e.rule))?;
    let cred = client
        .credential_bytes()
        .map_err(|e| SimError::Encode(e.to_string()))?;
    let mut req = KeyMaterialRequest {
        protocol: Protocol::Mls10,
        requesting_user: IdentifierUri::new(&requester_user),
        target_user: IdentifierUri::new(target_user),
        room_id: IdentifierUri::new(room_id),
        acceptable_ciphersuites: acceptable_ciphersuites
            .iter()
            .map(|c| CipherSuite(*c))
            .collect(),
        required_capabilities: RequiredCapabilities::from_openmls(required)
            .map_err(|e| SimError::Encode(e.to_string()))?,
        requester_signature_key: SignaturePublicKey::from(client.signature_public_key()),
        requester_credential: MlsCredential::from_bytes(&cred)
            .map_err(|e| SimError::Encode(e.to_string()))?,
        key_material_request_signature: Opaque::default(),
    };
    let tbs = encode(&req.tbs()).map_err(|e| SimError::Encode(e.to_string()))?;
    let sig = client
        .sign_with_label(KEY_MATERIAL_REQUEST_TBS_LABEL, &tbs)
        .map_err(|e| SimError::Client(e.to_string()))?;
    req.key_material_request_signature = Opaque::new(sig);
    Ok(req)
}

/// The `/update` request for a commit (protocol-06 §5.3 HandshakeBundle:
/// Welcome and GroupInfo without their `MLSMessage` framing, full tree).
pub fn commit_update_request(out: &CommitOutput) -> Result<UpdateRequest, SimError> {
    let enc = |e: crate::wire::WireError| SimError::Encode(e.to_string());
    let welcome = match &out.welcome {
        Some(w) => Some(
            MlsWelcome::from_bytes(mls_body(wire_format::WELCOME, w).unwrap_or_default())
                .map_err(enc)?,
        ),
        None => None,
    };
    Ok(UpdateRequest {
        bundle: HandshakeBundle {
            proposal_or_commit: MlsMessage::from_bytes(&out.commit).map_err(enc)?,
            body: HandshakeBundleBody::Commit {
                welcome,
                group_info_option: GroupInfoOption::Full {
                    group_info: MlsGroupInfo::from_bytes(
                        mls_body(wire_format::GROUP_INFO, &out.group_info).unwrap_or_default(),
                    )
                    .map_err(enc)?,
                },
                ratchet_tree_option: RatchetTreeOption::Full {
                    ratchet_tree: MlsRatchetTree::from_bytes(&out.ratchet_tree).map_err(enc)?,
                },
            },
        },
    })
}

/// The outcome of an `/update` from the hub's outputs.
fn update_outcome(out: &[HubOutput]) -> Outcome {
    for o in out {
        if let HubOutput::Update(r) = o {
            let code = r.result.code().wire_name();
            let desc = r.error_description.as_str().to_owned();
            let mut outcome = Outcome::new(code, "");
            match &r.result {
                UpdateResult::Success { .. } => {}
                UpdateResult::WrongEpoch { current_epoch } => {
                    outcome.description = desc;
                    outcome.current_epoch = Some(*current_epoch);
                }
                UpdateResult::InvalidProposal { invalid_proposals } => {
                    outcome.description = desc;
                    outcome.invalid_proposals = invalid_proposals
                        .iter()
                        .map(|r| hex::encode(r.0.as_slice()))
                        .collect();
                }
                UpdateResult::NotAllowed => outcome.description = desc,
            }
            return outcome;
        }
    }
    Outcome::new("refused", "no answer")
}
