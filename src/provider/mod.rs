//! A whole provider as a [`ProviderCore`] for the HTTPS shell: the [`Hub`] for the rooms
//! it hosts, the [`Follower`] for every room its clients are in, and the mailbox of its
//! local clients (protocol-06 §3, §5).
//!
//! Every protocol message crosses as its protocol-06 wire struct over the draft's
//! endpoints (§5.2–§5.6), including a local client's requests to its own provider's hub
//! (sent to our own domain over HTTPS, `From` = us). What the draft does not carry is a
//! *local operation* ([`LocalOp`], journaled by the shell, never on the wire): publishing
//! KeyPackages and consent (§5.2 leaves client-to-provider traffic out of scope), hosting
//! a new room (§3.1), registering an externally joined client, and bootstrapping a
//! follower's room copy from the GroupInfo its own client got through a Welcome. Each is
//! recorded in `spec/deviations.md` under "http".
//!
//! Mapping of the sans-IO machines onto the shell (all deterministic, so a restart that
//! replays the journal rebuilds the same state):
//! * a hub [`HubOutput::Notify`] becomes a queued `/notify` with the envelope sequence
//!   number in the `Mimi-Notify-Seq` header; its delivery (2xx) is the hub's
//!   [`HubInput::NotifyAck`]; the hub's own re-send timer is not used (the shell retries);
//! * a relayed `/keyMaterial` ([`HubOutput::ForwardKeyMaterial`]) is a forwarded request
//!   whose answer becomes [`HubInput::KeyMaterialAnswer`];
//! * an incoming `/notify` goes to the follower with the header's sequence number; its
//!   `Ack` is the 201; its deliveries land in the local clients' mailboxes.

pub mod node;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::follower::{ConsentList, Follower, FollowerInput, FollowerOutput};
use crate::http::{
    CoreOutput, DeliveryResult, Endpoint, ForwardAnswer, Outgoing, ProviderCore, Request,
};
use crate::hub::peek::{mls_body, wire_format};
use crate::hub::{GroupInfoAnswer, Hub, HubIdentity, HubInput, HubOutput, JoinInfo};
use crate::room::PublicRoom;
use crate::sim::ProjectedState;
use crate::uri::MimiUri;
use crate::wire::common::{decode_exact, encode, Opaque};
use crate::wire::mls::{MlsGroupInfo, MlsRatchetTree};
use crate::wire::{
    FanoutBody, FanoutMessages, GroupInfoRatchetTreeTBE, GroupInfoResponse, GroupInfoStatus,
    HandshakeBundleBody, KeyMaterialRequest, KeyMaterialResponse, Protocol, RatchetTreeOption,
    SubmitMessageRequest, SubmitMessageResponse, UpdateRequest, UpdateRoomResponse,
};

/// An operation of a local client on its own provider (not a protocol-06 message; see
/// the module documentation). Encoded as JSON in the shell's journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum LocalOp {
    /// A local client publishes KeyPackages (`MLSMessage` bytes) for `/keyMaterial` (§5.2).
    Publish {
        /// The client URI.
        client: String,
        /// The KeyPackages.
        key_packages: Vec<Vec<u8>>,
    },
    /// Who may fetch a local user's KeyPackages (§5.2 consent).
    Consent {
        /// The local user URI.
        user: String,
        /// The allow-list.
        allowed: ConsentList,
    },
    /// A local user's consent operation (protocol-06 §5.7), a TLS-encoded
    /// `ConsentEntry`: `request`/`cancel` by a local requester go out as
    /// `requestConsent` to the target's provider; `grant`/`revoke` by a local target
    /// change its allow-list at once and go out as `updateConsent` to the requester's
    /// provider.
    UserConsent {
        /// The `ConsentEntry` bytes.
        entry: Vec<u8>,
    },
    /// A local client created a room on our hub (§3.1).
    CreateRoom {
        /// The room URI (its provider is us).
        room_id: String,
        /// The creator's client URI.
        client: String,
        /// The creator's GroupInfo (`MLSMessage`).
        group_info: Vec<u8>,
        /// The TLS-encoded ratchet tree.
        ratchet_tree: Vec<u8>,
    },
    /// A local client joined by external commit and the hub accepted it (§3.6).
    Register {
        /// The room URI.
        room_id: String,
        /// The client URI.
        client: String,
    },
    /// Our hub removes a user from a room it hosts on its own authority (e.g. the
    /// user's account with us was deleted): external Remove proposals signed with the
    /// hub's key ([`HubInput::RemoveUser`], protocol-06 §5.3).
    RemoveUser {
        /// The room URI (its provider is us).
        room_id: String,
        /// The user URI.
        user: String,
    },
    /// Bootstrap the follower's room copy from the GroupInfo and tree a local client
    /// holds right after joining from a Welcome (no pending proposals at that point).
    Bootstrap {
        /// The room URI.
        room_id: String,
        /// The GroupInfo (`MLSMessage`).
        group_info: Vec<u8>,
        /// The TLS-encoded ratchet tree.
        ratchet_tree: Vec<u8>,
    },
}

/// One message the follower delivered to a local client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailItem {
    /// The room URI.
    pub room_id: String,
    /// The `/notify` sequence number it came with.
    pub seq: u64,
    /// The `MLSMessage` bytes.
    pub message: Vec<u8>,
    /// For a Welcome: the ratchet tree.
    pub ratchet_tree: Option<Vec<u8>>,
    /// The time (handed to the core) the follower delivered it, ms since the Unix epoch.
    pub delivered_ms: u64,
}

/// One HTTP request as the receiving core saw it, for message-sequence charts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireRecord {
    /// The authenticated source domain.
    pub from: String,
    /// The receiving domain.
    pub to: String,
    /// The endpoint.
    pub endpoint: Endpoint,
    /// The path parameter.
    pub param: String,
    /// The fields that matter, in a few words.
    pub summary: String,
    /// The HTTP status answered (for a forwarded request: the final answer).
    pub status: u16,
}

/// A shared log of [`WireRecord`]s (several providers in one process append to one).
pub type WireLog = Arc<Mutex<Vec<WireRecord>>>;

/// The provider core: hub, follower, local mailboxes.
pub struct MimiCore {
    domain: String,
    hub: Hub,
    follower: Follower,
    mail: BTreeMap<String, Vec<MailItem>>,
    /// Forwarded `/keyMaterial` body → the hub's relay id.
    relays: BTreeMap<Vec<u8>, u64>,
    /// Rooms whose follower copy waits for a [`LocalOp::Bootstrap`].
    awaiting_bootstrap: BTreeSet<String>,
    anomalies: Vec<String>,
    log: Option<WireLog>,
}

impl std::fmt::Debug for MimiCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MimiCore")
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

/// Why a core could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The hub's signing key could not be generated.
    #[error("hub signing key: {0}")]
    Key(String),
    /// The hub's signing key file could not be read or written.
    #[error("hub signing key file {path}: {reason}")]
    KeyFile {
        /// The file.
        path: String,
        /// What went wrong (I/O, format, or a key that does not sign and verify).
        reason: String,
    },
}

/// The file in a provider's data directory that holds its hub's signing key.
pub const HUB_KEY_FILE: &str = "hub-signing-key.json";

/// Load the hub's signing key from `dir`, or generate one and store it there. The hub
/// is an MLS external sender of every room it hosts (its key is in the rooms'
/// `external_senders`, protocol-06 §5.3), so a restarted provider must keep it.
fn load_or_create_key(
    dir: &std::path::Path,
) -> Result<openmls_basic_credential::SignatureKeyPair, CoreError> {
    use openmls_traits::crypto::OpenMlsCrypto as _;
    use openmls_traits::signatures::Signer as _;
    let path = dir.join(HUB_KEY_FILE);
    let err = |reason: String| CoreError::KeyFile {
        path: path.display().to_string(),
        reason,
    };
    let scheme = crate::room::profile::CIPHERSUITE.signature_algorithm();
    if path.exists() {
        let bytes = std::fs::read(&path).map_err(|e| err(e.to_string()))?;
        let pair: openmls_basic_credential::SignatureKeyPair =
            serde_json::from_slice(&bytes).map_err(|e| err(format!("format: {e}")))?;
        if pair.signature_scheme() != scheme {
            return Err(err(format!(
                "signature scheme {:?}, expected {scheme:?}",
                pair.signature_scheme()
            )));
        }
        // A key pair that does not verify its own signature is corrupt.
        let probe = b"mimi-ref hub key check";
        let sig = pair
            .sign(probe)
            .map_err(|e| err(format!("signing: {e:?}")))?;
        openmls_rust_crypto::RustCrypto::default()
            .verify_signature(scheme, probe, pair.public(), &sig)
            .map_err(|e| err(format!("key pair does not verify: {e:?}")))?;
        return Ok(pair);
    }
    let pair = openmls_basic_credential::SignatureKeyPair::new(scheme)
        .map_err(|e| CoreError::Key(format!("{e:?}")))?;
    std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    let json = serde_json::to_vec_pretty(&pair).map_err(|e| err(e.to_string()))?;
    let tmp = dir.join(format!("{HUB_KEY_FILE}.tmp"));
    std::fs::write(&tmp, json).map_err(|e| err(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| err(e.to_string()))?;
    }
    std::fs::rename(&tmp, &path).map_err(|e| err(e.to_string()))?;
    Ok(pair)
}

fn text(status: u16, msg: impl Into<String>) -> CoreOutput {
    CoreOutput {
        status,
        body: msg.into().into_bytes(),
        ..CoreOutput::default()
    }
}

fn wire<T: tls_codec::Serialize>(status: u16, v: &T) -> CoreOutput {
    match encode(v) {
        Ok(body) => CoreOutput {
            status,
            body,
            ..CoreOutput::default()
        },
        Err(e) => text(500, format!("encoding our answer: {e}")),
    }
}

fn domain_of(uri: &str) -> Option<String> {
    MimiUri::parse(uri).ok().map(|u| u.provider().to_owned())
}

/// The projection of a public room view used for state comparison.
pub fn project(r: &PublicRoom) -> ProjectedState {
    crate::client::driver::project_room(r)
}

impl MimiCore {
    /// A fresh core for `domain` whose hub signs with a new key (kept in memory only;
    /// a provider that restarts from a data directory uses [`MimiCore::open`]).
    pub fn new(domain: &str) -> Result<Self, CoreError> {
        let signer = openmls_basic_credential::SignatureKeyPair::new(
            crate::room::profile::CIPHERSUITE.signature_algorithm(),
        )
        .map_err(|e| CoreError::Key(format!("{e:?}")))?;
        Self::with_signer(domain, signer)
    }

    /// A core for `domain` whose hub signing key lives in `data_dir` ([`HUB_KEY_FILE`]):
    /// loaded when present, else generated and stored; without a directory, as
    /// [`MimiCore::new`]. The hub's key is in the `external_senders` of every room it
    /// hosts, so a restart must not change it.
    pub fn open(domain: &str, data_dir: Option<&std::path::Path>) -> Result<Self, CoreError> {
        match data_dir {
            Some(dir) => Self::with_signer(domain, load_or_create_key(dir)?),
            None => Self::new(domain),
        }
    }

    fn with_signer(
        domain: &str,
        signer: openmls_basic_credential::SignatureKeyPair,
    ) -> Result<Self, CoreError> {
        let identity = HubIdentity {
            signer,
            credential: openmls::prelude::BasicCredential::new(
                format!("mimi://{domain}").into_bytes(),
            )
            .into(),
            crypto: openmls_rust_crypto::RustCrypto::default(),
        };
        Ok(Self {
            domain: domain.to_owned(),
            // The retry interval is unused: the shell re-sends (see the module docs).
            hub: Hub::new(domain, u64::MAX).with_identity(identity),
            follower: Follower::new(domain),
            mail: BTreeMap::new(),
            relays: BTreeMap::new(),
            awaiting_bootstrap: BTreeSet::new(),
            anomalies: Vec::new(),
            log: None,
        })
    }

    /// Record every request this core answers into `log`.
    pub fn with_log(mut self, log: WireLog) -> Self {
        self.log = Some(log);
        self
    }

    /// Our domain.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The hub.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// The follower.
    pub fn follower(&self) -> &Follower {
        &self.follower
    }

    /// Everything delivered to a local client so far, in order.
    pub fn mail(&self, client: &str) -> &[MailItem] {
        self.mail.get(client).map_or(&[], Vec::as_slice)
    }

    /// Whether the follower's copy of a room waits for a local client's GroupInfo.
    pub fn awaiting_bootstrap(&self, room_id: &str) -> bool {
        self.awaiting_bootstrap.contains(room_id)
    }

    /// What went wrong without a protocol answer (follower copy disagreements, refused
    /// deliveries, ...).
    pub fn anomalies(&self) -> &[String] {
        &self.anomalies
    }

    /// The hub's projected state of a room it hosts.
    pub fn hub_state(&self, room_id: &str) -> Option<ProjectedState> {
        self.hub.room(room_id).map(project)
    }

    /// The follower's projected copy of a room.
    pub fn follower_state(&self, room_id: &str) -> Option<ProjectedState> {
        self.follower.room_copy(room_id).map(project)
    }

    fn record(&self, from: &str, request: &Request, summary: String, status: u16) {
        if let Some(log) = &self.log {
            if let Ok(mut l) = log.lock() {
                l.push(WireRecord {
                    from: from.to_owned(),
                    to: self.domain.clone(),
                    endpoint: request.endpoint,
                    param: request.param.clone(),
                    summary,
                    status,
                });
            }
        }
    }

    /// Runs follower outputs: mail, in-core bootstrap for our own rooms; returns whether
    /// the notify was acknowledged and the first refusal.
    fn follower_outputs(
        &mut self,
        now_ms: u64,
        outputs: Vec<FollowerOutput>,
    ) -> (bool, Option<String>) {
        let mut acked = false;
        let mut refused = None;
        let mut queue: std::collections::VecDeque<FollowerOutput> = outputs.into();
        while let Some(o) = queue.pop_front() {
            match o {
                FollowerOutput::Ack { .. } => acked = true,
                FollowerOutput::Deliver {
                    client,
                    room_id,
                    seq,
                    message,
                    ratchet_tree,
                } => self.mail.entry(client).or_default().push(MailItem {
                    room_id,
                    seq,
                    message,
                    ratchet_tree,
                    delivered_ms: now_ms,
                }),
                FollowerOutput::FetchRoomState { hub, room_id } if hub == self.domain => {
                    // Our own hub hosts the room: ask it in-process.
                    let info = self
                        .hub
                        .handle(
                            now_ms,
                            &self.domain.clone(),
                            HubInput::RoomState {
                                room_id: room_id.clone(),
                            },
                        )
                        .into_iter()
                        .find_map(|o| match o {
                            HubOutput::RoomState(i) => i,
                            _ => None,
                        });
                    queue.extend(
                        self.follower
                            .handle(now_ms, FollowerInput::RoomState { room_id, info }),
                    );
                }
                FollowerOutput::FetchRoomState { room_id, .. } => {
                    // No endpoint for this (spec/deviations.md): the copy is bootstrapped
                    // from the GroupInfo of the local client the Welcome was for.
                    self.awaiting_bootstrap.insert(room_id);
                }
                FollowerOutput::Inconsistent { room_id, reason } => self
                    .anomalies
                    .push(format!("{} copy of {room_id}: {reason}", self.domain)),
                FollowerOutput::Refused(e) => {
                    let s = e.to_string();
                    self.anomalies.push(format!("{}: {s}", self.domain));
                    refused.get_or_insert(s);
                }
                FollowerOutput::ToHub { .. }
                | FollowerOutput::ToClient { .. }
                | FollowerOutput::KeyMaterialAnswer { .. }
                | FollowerOutput::ConsentAccepted
                | FollowerOutput::SendConsent { .. } => {}
            }
        }
        (acked, refused)
    }

    /// Maps the hub's outputs to an answer: notifies become queued `/notify` requests.
    fn hub_outputs(&mut self, outputs: Vec<HubOutput>) -> CoreOutput {
        let mut out = text(500, "the hub gave no answer");
        let mut outgoing = Vec::new();
        for o in outputs {
            match o {
                HubOutput::Notify {
                    to,
                    room_id,
                    seq,
                    body,
                } => outgoing.push(Outgoing {
                    to_domain: to,
                    request: Request {
                        endpoint: Endpoint::Notify, // protocol-06 §5.5
                        param: room_id,
                        body,
                        seq: Some(seq),
                    },
                }),
                HubOutput::Update(r) => out = wire(200, &r),
                HubOutput::Submit { response, .. } => out = wire(200, &response),
                HubOutput::KeyMaterial { response, .. } => out = wire(200, &response),
                HubOutput::GroupInfo(a) => {
                    let status = match a {
                        GroupInfoAnswer::Success(info) => match info.response {
                            Some(r) => {
                                out = wire(200, &r);
                                continue;
                            }
                            None => {
                                out = text(500, "the hub has no signing identity");
                                continue;
                            }
                        },
                        GroupInfoAnswer::NotAuthorized(_) => GroupInfoStatus::NotAuthorized,
                        GroupInfoAnswer::NoSuchRoom => GroupInfoStatus::NoSuchRoom,
                    };
                    out = wire(
                        200,
                        &GroupInfoResponse {
                            version: Protocol::Mls10,
                            room_id: Opaque::default(),
                            status,
                        },
                    );
                }
                HubOutput::RoomCreated(Ok(())) => out = text(200, "created"),
                HubOutput::RoomCreated(Err(e)) => out = text(409, e),
                HubOutput::RoomState(_) => {}
                HubOutput::HubProposals { references, .. } => {
                    out = text(200, format!("{} proposal(s) queued", references.len()))
                }
                HubOutput::ForwardKeyMaterial { .. } => {
                    out = text(500, "unexpected relay in this context")
                }
                // protocol-06 §5.9: accepted, no body.
                HubOutput::AbuseReportAccepted { .. } => out = text(201, ""),
                HubOutput::Refused(e) => {
                    let status = match e {
                        crate::hub::HubError::AbuseReporter { .. } => 403,
                        _ => 400,
                    };
                    out = text(status, e.to_string())
                }
            }
        }
        out.outgoing = outgoing;
        out
    }

    fn handle_inner(&mut self, now_ms: u64, from: &str, request: &Request) -> (CoreOutput, String) {
        let room = request.param.clone();
        match request.endpoint {
            Endpoint::Notify => {
                let summary = notify_summary(request);
                let Some(seq) = request.seq else {
                    return (
                        text(
                            400,
                            "protocol-06 §5.5 (deviation): /notify without Mimi-Notify-Seq",
                        ),
                        summary,
                    );
                };
                let outs = self.follower.handle(
                    now_ms,
                    FollowerInput::Notify {
                        hub: from.to_owned(),
                        room_id: room,
                        seq,
                        body: request.body.clone(),
                    },
                );
                let (acked, refused) = self.follower_outputs(now_ms, outs);
                let out = match (acked, refused) {
                    (true, _) => text(201, ""),
                    (false, Some(r)) => text(409, r),
                    (false, None) => text(409, "not acknowledged"),
                };
                (out, summary)
            }
            Endpoint::Update
            | Endpoint::SubmitMessage
            | Endpoint::GroupInfo
            | Endpoint::ReportAbuse => {
                let summary = request_summary(request);
                if self.hub.room(&room).is_none() {
                    return (
                        text(404, format!("hub.no-such-room: we do not host {room}")),
                        summary,
                    );
                }
                let input = match request.endpoint {
                    Endpoint::Update => HubInput::Update {
                        room_id: room,
                        body: request.body.clone(),
                    },
                    Endpoint::SubmitMessage => HubInput::SubmitMessage {
                        room_id: room,
                        body: request.body.clone(),
                    },
                    // protocol-06 §5.9: to the room's hub only.
                    Endpoint::ReportAbuse => HubInput::ReportAbuse {
                        room_id: room,
                        body: request.body.clone(),
                    },
                    _ => HubInput::GroupInfo {
                        room_id: room,
                        body: request.body.clone(),
                    },
                };
                let outs = self.hub.handle(now_ms, from, input);
                (self.hub_outputs(outs), summary)
            }
            Endpoint::KeyMaterial => {
                let req: KeyMaterialRequest = match decode_exact(&request.body) {
                    Ok(r) => r,
                    Err(e) => return (text(400, e.to_string()), "undecodable".into()),
                };
                let target = req.target_user.uri.as_str().unwrap_or_default().to_owned();
                let summary = format!(
                    "KeyMaterialRequest {} wants {target} for {}",
                    req.requesting_user.uri.as_str().unwrap_or_default(),
                    req.room_id.uri.as_str().unwrap_or_default()
                );
                if domain_of(&target).as_deref() == Some(self.domain.as_str()) {
                    // §5.2 at the target user's provider.
                    let outs = self.follower.handle(
                        now_ms,
                        FollowerInput::KeyMaterial {
                            request_id: 0,
                            body: request.body.clone(),
                        },
                    );
                    for o in outs {
                        match o {
                            FollowerOutput::KeyMaterialAnswer { response, .. } => {
                                let s = format!("{summary} -> {}", km_summary(&response));
                                return (wire(200, &response), s);
                            }
                            FollowerOutput::Refused(e) => {
                                return (text(403, e.to_string()), summary)
                            }
                            _ => {}
                        }
                    }
                    return (text(500, "the follower gave no answer"), summary);
                }
                // §5.2 relay through the room's hub.
                let outs = self.hub.handle(
                    now_ms,
                    from,
                    HubInput::KeyMaterial {
                        body: request.body.clone(),
                    },
                );
                for o in &outs {
                    if let HubOutput::ForwardKeyMaterial {
                        to,
                        request_id,
                        body,
                    } = o
                    {
                        self.relays.insert(body.clone(), *request_id);
                        let out = CoreOutput {
                            forward: Some(Outgoing {
                                to_domain: to.clone(),
                                request: Request {
                                    endpoint: Endpoint::KeyMaterial,
                                    param: target,
                                    body: body.clone(),
                                    seq: None,
                                },
                            }),
                            ..CoreOutput::default()
                        };
                        return (out, format!("{summary} (relayed)"));
                    }
                }
                (self.hub_outputs(outs), summary)
            }
            Endpoint::RequestConsent | Endpoint::UpdateConsent => {
                // protocol-06 §5.7: provider to provider, never through a hub.
                let update = request.endpoint == Endpoint::UpdateConsent;
                let summary = consent_summary(&request.body);
                // The path parameter is our domain (§5.7) or, as in the §5.1 directory
                // example, the user of ours the entry names (spec/deviations.md consent 1).
                let ours = match decode_exact::<crate::wire::ConsentEntry>(&request.body) {
                    Ok(e) if update => e.requester_uri,
                    Ok(e) => e.target_uri,
                    Err(e) => return (text(400, e.to_string()), summary),
                };
                if request.param != self.domain && Some(request.param.as_str()) != ours.uri.as_str()
                {
                    return (
                        text(
                            400,
                            format!(
                                "protocol-06 §5.7: path parameter {} is neither {} nor the entry's user of ours",
                                request.param, self.domain
                            ),
                        ),
                        summary,
                    );
                }
                let body = request.body.clone();
                let from = from.to_owned();
                let input = if update {
                    FollowerInput::UpdateConsent { from, body }
                } else {
                    FollowerInput::RequestConsent { from, body }
                };
                let outs = self.follower.handle(now_ms, input);
                for o in outs {
                    match o {
                        FollowerOutput::ConsentAccepted => return (text(201, ""), summary),
                        FollowerOutput::Refused(e) => {
                            let status = if e.is_forbidden() { 403 } else { 400 };
                            return (text(status, e.to_string()), summary);
                        }
                        _ => {}
                    }
                }
                (text(500, "the follower gave no answer"), summary)
            }
            other => (
                text(
                    501,
                    format!("{} is not implemented by this provider", other.name()),
                ),
                String::new(),
            ),
        }
    }

    fn local_inner(&mut self, now_ms: u64, op: LocalOp) -> CoreOutput {
        match op {
            LocalOp::Publish {
                client,
                key_packages,
            } => {
                let outs = self.follower.handle(
                    now_ms,
                    FollowerInput::PublishKeyPackages {
                        client,
                        key_packages,
                    },
                );
                match self.follower_outputs(now_ms, outs) {
                    (_, Some(r)) => text(400, r),
                    _ => text(200, ""),
                }
            }
            LocalOp::Consent { user, allowed } => {
                let outs = self
                    .follower
                    .handle(now_ms, FollowerInput::SetConsent { user, allowed });
                let _ = self.follower_outputs(now_ms, outs);
                text(200, "")
            }
            LocalOp::UserConsent { entry } => {
                let outs = self
                    .follower
                    .handle(now_ms, FollowerInput::UserConsent { body: entry });
                let mut out = text(200, "");
                for o in outs {
                    match o {
                        FollowerOutput::SendConsent { to, update, body } => {
                            out.outgoing.push(Outgoing {
                                request: Request {
                                    endpoint: if update {
                                        Endpoint::UpdateConsent
                                    } else {
                                        Endpoint::RequestConsent
                                    },
                                    param: to.clone(),
                                    body,
                                    seq: None,
                                },
                                to_domain: to,
                            })
                        }
                        FollowerOutput::Refused(e) => {
                            return text(if e.is_forbidden() { 403 } else { 400 }, e.to_string())
                        }
                        _ => {}
                    }
                }
                out
            }
            LocalOp::CreateRoom {
                room_id,
                client,
                group_info,
                ratchet_tree,
            } => {
                if domain_of(&room_id).as_deref() != Some(self.domain.as_str()) {
                    return text(400, format!("{room_id} is not a room of {}", self.domain));
                }
                let outs = self.hub.handle(
                    now_ms,
                    &self.domain.clone(),
                    HubInput::CreateRoom {
                        room_id: room_id.clone(),
                        group_info,
                        ratchet_tree,
                    },
                );
                let out = self.hub_outputs(outs);
                if out.status == 200 {
                    let mut outs = self.follower.handle(
                        now_ms,
                        FollowerInput::RegisterMember {
                            room_id: room_id.clone(),
                            client,
                        },
                    );
                    // Our own follower's copy starts from our own hub's state at once.
                    outs.push(FollowerOutput::FetchRoomState {
                        hub: self.domain.clone(),
                        room_id,
                    });
                    if let (_, Some(r)) = self.follower_outputs(now_ms, outs) {
                        return text(400, r);
                    }
                }
                out
            }
            LocalOp::RemoveUser { room_id, user } => {
                let outs = self.hub.handle(
                    now_ms,
                    &self.domain.clone(),
                    HubInput::RemoveUser { room_id, user },
                );
                self.hub_outputs(outs)
            }
            LocalOp::Register { room_id, client } => {
                let outs = self
                    .follower
                    .handle(now_ms, FollowerInput::RegisterMember { room_id, client });
                match self.follower_outputs(now_ms, outs) {
                    (_, Some(r)) => text(400, r),
                    _ => text(200, ""),
                }
            }
            LocalOp::Bootstrap {
                room_id,
                group_info,
                ratchet_tree,
            } => {
                let tbe = match (
                    MlsGroupInfo::from_bytes(
                        mls_body(wire_format::GROUP_INFO, &group_info).unwrap_or_default(),
                    ),
                    MlsRatchetTree::from_bytes(&ratchet_tree),
                ) {
                    (Ok(g), Ok(t)) => GroupInfoRatchetTreeTBE {
                        group_info: g,
                        ratchet_tree_option: RatchetTreeOption::Full { ratchet_tree: t },
                        pending_proposals: Vec::new(),
                    },
                    (Err(e), _) | (_, Err(e)) => return text(400, e.to_string()),
                };
                self.awaiting_bootstrap.remove(&room_id);
                let info = JoinInfo {
                    tbe,
                    group_info,
                    ratchet_tree,
                    pending_proposals: Vec::new(),
                    response: None,
                };
                let outs = self.follower.handle(
                    now_ms,
                    FollowerInput::RoomState {
                        room_id,
                        info: Some(Box::new(info)),
                    },
                );
                let _ = self.follower_outputs(now_ms, outs);
                text(200, "")
            }
        }
    }
}

impl ProviderCore for MimiCore {
    fn handle(&mut self, now_ms: u64, from_domain: &str, request: &Request) -> CoreOutput {
        let (out, summary) = self.handle_inner(now_ms, from_domain, request);
        if out.forward.is_none() {
            let s = answer_summary(request.endpoint, &out, summary);
            self.record(from_domain, request, s, out.status);
        }
        out
    }

    fn handle_local(&mut self, now_ms: u64, op: &[u8]) -> CoreOutput {
        match serde_json::from_slice::<LocalOp>(op) {
            Ok(op) => self.local_inner(now_ms, op),
            Err(e) => text(400, format!("local operation: {e}")),
        }
    }

    fn on_delivery(
        &mut self,
        now_ms: u64,
        to_domain: &str,
        request: &Request,
        result: &DeliveryResult,
    ) -> Vec<Outgoing> {
        match (request.endpoint, result, request.seq) {
            // protocol-06 §5.5: a 201 acknowledges the notify.
            (Endpoint::Notify, DeliveryResult::Delivered { .. }, Some(seq)) => {
                let _ = self.hub.handle(
                    now_ms,
                    to_domain,
                    HubInput::NotifyAck {
                        room_id: request.param.clone(),
                        seq,
                    },
                );
            }
            (_, DeliveryResult::Rejected { status, body }, _) => self.anomalies.push(format!(
                "{to_domain} rejected {} {}: {status} {}",
                request.endpoint.name(),
                request.param,
                String::from_utf8_lossy(body)
            )),
            _ => {}
        }
        Vec::new()
    }

    fn on_forward_answer(
        &mut self,
        now_ms: u64,
        from_domain: &str,
        original: &Request,
        forwarded: &Outgoing,
        answer: &ForwardAnswer,
    ) -> CoreOutput {
        let summary = request_summary(original);
        let out = match (answer, self.relays.remove(&forwarded.request.body)) {
            (ForwardAnswer::Answer { status: 200, body }, Some(request_id)) => {
                let outs = self.hub.handle(
                    now_ms,
                    &forwarded.to_domain,
                    HubInput::KeyMaterialAnswer {
                        request_id,
                        body: body.clone(),
                    },
                );
                self.hub_outputs(outs)
            }
            (ForwardAnswer::Answer { status, body }, _) => CoreOutput {
                status: *status,
                body: body.clone(),
                ..CoreOutput::default()
            },
            (ForwardAnswer::Failed(why), _) => text(502, why.clone()),
        };
        let s = answer_summary(original.endpoint, &out, summary);
        self.record(from_domain, original, s, out.status);
        out
    }
}

fn km_summary(r: &KeyMaterialResponse) -> String {
    format!(
        "{} ({} client(s))",
        r.user_status.wire_name(),
        r.clients.len()
    )
}

fn request_summary(r: &Request) -> String {
    match r.endpoint {
        Endpoint::Update => match decode_exact::<UpdateRequest>(&r.body) {
            Ok(u) => match &u.bundle.body {
                HandshakeBundleBody::Commit { welcome, .. } => format!(
                    "commit{}",
                    if welcome.is_some() { " + Welcome" } else { "" }
                ),
                HandshakeBundleBody::Proposal { more_proposals } => {
                    format!("proposal + {} more", more_proposals.len())
                }
            },
            Err(_) => "undecodable UpdateRequest".into(),
        },
        Endpoint::SubmitMessage => match decode_exact::<SubmitMessageRequest>(&r.body) {
            Ok(s) => format!(
                "PrivateMessage from {}",
                s.sending_uri.uri.as_str().unwrap_or_default()
            ),
            Err(_) => "undecodable SubmitMessageRequest".into(),
        },
        Endpoint::GroupInfo => "GroupInfoRequest (external join)".into(),
        Endpoint::ReportAbuse => match decode_exact::<crate::wire::AbuseReport>(&r.body) {
            Ok(a) => format!(
                "AbuseReport about {} ({} message(s))",
                String::from_utf8_lossy(a.alleged_abuser_uri.uri.0.as_slice()),
                a.messages.len()
            ),
            Err(_) => "undecodable AbuseReport".into(),
        },
        Endpoint::KeyMaterial => match decode_exact::<KeyMaterialRequest>(&r.body) {
            Ok(k) => format!(
                "KeyMaterialRequest for {}",
                k.target_user.uri.as_str().unwrap_or_default()
            ),
            Err(_) => "undecodable KeyMaterialRequest".into(),
        },
        _ => String::new(),
    }
}

fn consent_summary(body: &[u8]) -> String {
    match decode_exact::<crate::wire::ConsentEntry>(body) {
        Ok(e) => format!(
            "ConsentEntry {} {} -> {}{}",
            e.operation.code().wire_name(),
            e.requester_uri.uri.as_str().unwrap_or_default(),
            e.target_uri.uri.as_str().unwrap_or_default(),
            e.room_id
                .as_ref()
                .map(|r| format!(" in {}", r.uri.as_str().unwrap_or_default()))
                .unwrap_or_default()
        ),
        Err(_) => "undecodable ConsentEntry".into(),
    }
}

fn notify_summary(r: &Request) -> String {
    let kinds: Vec<&str> = match decode_exact::<FanoutMessages>(&r.body) {
        Ok(m) => {
            m.0.iter()
                .map(|m| match m.body {
                    FanoutBody::Welcome { .. } => "Welcome",
                    FanoutBody::Application { .. } => "application",
                    FanoutBody::Proposal { .. } => "proposal",
                    FanoutBody::Commit { .. } => "commit",
                })
                .collect()
        }
        Err(_) => vec!["undecodable"],
    };
    format!(
        "seq {} [{}]",
        r.seq.map_or("-".into(), |s| s.to_string()),
        kinds.join(", ")
    )
}

fn answer_summary(endpoint: Endpoint, out: &CoreOutput, summary: String) -> String {
    if !(200..300).contains(&out.status) {
        return format!("{summary} -> {}", String::from_utf8_lossy(&out.body));
    }
    let ans = match endpoint {
        Endpoint::Update => decode_exact::<UpdateRoomResponse>(&out.body)
            .map(|r| r.result.code().wire_name().to_owned())
            .ok(),
        Endpoint::SubmitMessage => decode_exact::<SubmitMessageResponse>(&out.body)
            .map(|r| {
                format!("{:?}", r.status)
                    .split([' ', '{'])
                    .next()
                    .unwrap_or("")
                    .to_owned()
            })
            .ok(),
        Endpoint::KeyMaterial => decode_exact::<KeyMaterialResponse>(&out.body)
            .map(|r| km_summary(&r))
            .ok(),
        Endpoint::GroupInfo => decode_exact::<GroupInfoResponse>(&out.body)
            .map(|r| format!("{:?} (encrypted GroupInfo + tree)", r.status.code()))
            .ok(),
        _ => None,
    };
    match ans {
        Some(a) if !summary.contains(" -> ") => format!("{summary} -> {a}"),
        _ => summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(endpoint: Endpoint, param: &str, body: &[u8], seq: Option<u64>) -> Request {
        Request {
            endpoint,
            param: param.into(),
            body: body.to_vec(),
            seq,
        }
    }

    #[test]
    fn refusals_without_state_change() {
        let mut c = MimiCore::new("a.example").unwrap();
        // No sequence header on /notify.
        let o = c.handle(
            1,
            "a.example",
            &req(Endpoint::Notify, "mimi://a.example/r/x", b"", None),
        );
        assert_eq!(o.status, 400);
        // Only the room's own hub may notify (§5.5).
        let o = c.handle(
            1,
            "b.example",
            &req(Endpoint::Notify, "mimi://a.example/r/x", b"", Some(0)),
        );
        assert_eq!(o.status, 409);
        // A room we do not host.
        let o = c.handle(
            1,
            "b.example",
            &req(Endpoint::Update, "mimi://a.example/r/x", b"", None),
        );
        assert_eq!(o.status, 404);
        // Undecodable /keyMaterial and local operations.
        let o = c.handle(
            1,
            "b.example",
            &req(Endpoint::KeyMaterial, "mimi://a.example/u/x", b"\x01", None),
        );
        assert_eq!(o.status, 400);
        assert_eq!(c.handle_local(1, b"not json").status, 400);
        // A room of another provider cannot be hosted here.
        let op = serde_json::to_vec(&LocalOp::CreateRoom {
            room_id: "mimi://b.example/r/x".into(),
            client: "mimi://a.example/d/alice/1".into(),
            group_info: Vec::new(),
            ratchet_tree: Vec::new(),
        })
        .unwrap();
        assert_eq!(c.handle_local(1, &op).status, 400);
        assert_eq!(c.hub().rooms().count(), 0);
        assert!(c.mail("mimi://a.example/d/alice/1").is_empty());
        // Endpoints this provider does not implement.
        let o = c.handle(
            1,
            "b.example",
            &req(Endpoint::IdentifierQuery, "x", b"", None),
        );
        assert_eq!(o.status, 501);
        // An abuse report for a room we do not host.
        let o = c.handle(1, "b.example", &req(Endpoint::ReportAbuse, "x", b"", None));
        assert_eq!(o.status, 404);
    }
}
