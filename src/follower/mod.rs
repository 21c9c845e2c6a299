//! The follower, sans-IO (protocol-06 §5.2, §5.5): one [`Follower`] per
//! provider, for that provider's users and clients.
//!
//! * **Relay** ([`FollowerInput::FromClient`] → [`FollowerOutput::ToHub`],
//!   [`FollowerInput::FromHub`] → [`FollowerOutput::ToClient`]): a local client's
//!   request goes to the hub of the room (the room URI's provider); a successful
//!   external commit registers the client as a local member of the room.
//! * **KeyPackage store**: per (user, client), KeyPackages published by the
//!   client ([`FollowerInput::PublishKeyPackages`]). `/keyMaterial`
//!   ([`FollowerInput::KeyMaterial`]) hands out at most one per client, never
//!   the same one twice, never an expired one, and only one whose ciphersuite is
//!   acceptable and whose leaf capabilities meet the request's required
//!   capabilities. The user status codes of §5.2: `userUnknown`, `userDeleted`,
//!   `noConsent` / `noConsentForThisRoom` (consent is an allow-list per target
//!   user, set whole by [`FollowerInput::SetConsent`] or changed by the user's
//!   grant/revoke, [`FollowerInput::UserConsent`]), `success`,
//!   `partialSuccess`, `noCompatibleMaterial`; per client `success`,
//!   `keyMaterialExhausted`, `nothingCompatible`.
//! * **`/notify`** ([`FollowerInput::Notify`]): always acknowledged; the
//!   envelope's per-(room, follower) sequence number drops duplicates and
//!   restores the hub's order (gaps are buffered), so each fanout message is
//!   delivered at most once, in order, to the local clients in the room
//!   ([`FollowerOutput::Deliver`]); a Welcome goes to the local clients whose
//!   KeyPackages it names.
//! * **Room copy**: a [`PublicRoom`] running the same [`MimiLogic`], bootstrapped
//!   from the hub ([`FollowerOutput::FetchRoomState`]) and fed every fanned-out
//!   handshake, which it validates again; a handshake the hub accepted but the
//!   copy refuses is reported ([`FollowerOutput::Inconsistent`]).
//!
//! * **Consent** (protocol-06 §5.7, provider to provider): a local user's
//!   request/cancel goes out as `requestConsent` ([`FollowerOutput::SendConsent`]), its
//!   grant/revoke changes its allow-list and goes out as `updateConsent`; incoming
//!   `requestConsent` ([`FollowerInput::RequestConsent`]) is kept as a pending request,
//!   incoming `updateConsent` ([`FollowerInput::UpdateConsent`]) as a received grant.
//!
//! A refused request leaves the follower byte-for-byte unchanged ([`Follower::snapshot`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use openmls::prelude::{ExtensionType, ProposalType};
use serde::Serialize;
use thiserror::Error;

use crate::hub::peek::{self, mls_body, mls_wrap, wire_format};
use crate::hub::{HubInput, HubOutput, JoinInfo};
use crate::room::mimi::{user_of_client, MimiLogic};
use crate::room::profile::{decode_key_package, key_package_ref};
use crate::room::{Accepted, PublicRoom, RoomError};
use crate::uri::{MimiUri, UriKind};
use crate::wire::common::decode_exact;
use crate::wire::mls::KeyPackage as WireKeyPackage;
use crate::wire::{
    ClientKeyMaterial, ClientKeyMaterialStatus, ConsentEntry, ConsentOp, FanoutBody,
    FanoutMessages, IdentifierUri, KeyMaterialRequest, KeyMaterialResponse, KeyMaterialUserCode,
    Protocol, UpdateResult, WireError,
};

/// How far ahead of the next expected sequence number a `/notify` may be
/// buffered; beyond it the notify is refused unacknowledged (the hub re-sends).
pub const NOTIFY_WINDOW: u64 = 4096;

/// Who may fetch a user's KeyPackages (protocol-06 §5.2 consent, modeled as an
/// allow-list): requester user URI → the rooms allowed (`None`: any room).
pub type ConsentList = BTreeMap<String, Option<BTreeSet<String>>>;

/// A request to the follower.
#[derive(Debug)]
pub enum FollowerInput {
    /// A local client publishes KeyPackages (`MLSMessage` bytes).
    PublishKeyPackages {
        /// The client URI.
        client: String,
        /// The KeyPackages.
        key_packages: Vec<Vec<u8>>,
    },
    /// Set who may fetch `user`'s KeyPackages.
    SetConsent {
        /// The local user URI.
        user: String,
        /// The allow-list.
        allowed: ConsentList,
    },
    /// The user was deleted (its KeyPackages are dropped; `/keyMaterial` says `userDeleted`).
    DeleteUser {
        /// The local user URI.
        user: String,
    },
    /// `/keyMaterial` relayed by a hub.
    KeyMaterial {
        /// The hub's correlation id.
        request_id: u64,
        /// The `KeyMaterialRequest` bytes.
        body: Vec<u8>,
    },
    /// `POST /notify/{roomId}` from a hub.
    Notify {
        /// The hub's provider.
        hub: String,
        /// The room URI.
        room_id: String,
        /// The envelope sequence number.
        seq: u64,
        /// The `FanoutMessages` bytes.
        body: Vec<u8>,
    },
    /// The hub's answer to [`FollowerOutput::FetchRoomState`].
    RoomState {
        /// The room URI.
        room_id: String,
        /// The state, if the hub gave it.
        info: Option<Box<JoinInfo>>,
    },
    /// A local user's consent operation (protocol-06 §5.7), a TLS-encoded
    /// `ConsentEntry`: `request`/`cancel` by a local requester (sent as
    /// `requestConsent` to the target's provider), `grant`/`revoke` by a local target
    /// (applied to its allow-list at once and sent as `updateConsent` to the
    /// requester's provider).
    UserConsent {
        /// The `ConsentEntry` bytes.
        body: Vec<u8>,
    },
    /// `POST /requestConsent` from the requester's provider (protocol-06 §5.7).
    RequestConsent {
        /// The authenticated sending provider.
        from: String,
        /// The `ConsentEntry` bytes.
        body: Vec<u8>,
    },
    /// `POST /updateConsent` from the target's provider (protocol-06 §5.7).
    UpdateConsent {
        /// The authenticated sending provider.
        from: String,
        /// The `ConsentEntry` bytes.
        body: Vec<u8>,
    },
    /// A local client's request to a hub.
    FromClient {
        /// The client URI.
        client: String,
        /// The request.
        request: HubInput,
    },
    /// A hub's response to a relayed client request.
    FromHub {
        /// The client URI the request came from.
        client: String,
        /// The room the request was about (for registration).
        room_id: String,
        /// The hub's output.
        output: HubOutput,
    },
    /// A local client created a room hosted by this provider's hub (§3.1).
    RegisterMember {
        /// The room URI.
        room_id: String,
        /// The client URI.
        client: String,
    },
}

/// What the follower sends.
#[derive(Debug)]
pub enum FollowerOutput {
    /// A request for a hub.
    ToHub {
        /// The hub's provider.
        hub: String,
        /// The request.
        input: HubInput,
    },
    /// A hub response for a local client.
    ToClient {
        /// The client URI.
        client: String,
        /// The response.
        output: HubOutput,
    },
    /// The answer to a relayed `/keyMaterial`.
    KeyMaterialAnswer {
        /// The hub's correlation id.
        request_id: u64,
        /// The response.
        response: KeyMaterialResponse,
    },
    /// Acknowledge a `/notify` (HTTP 201).
    Ack {
        /// The hub's provider.
        hub: String,
        /// The room URI.
        room_id: String,
        /// The envelope sequence number.
        seq: u64,
    },
    /// Deliver a fanned-out message to a local client.
    Deliver {
        /// The client URI.
        client: String,
        /// The room URI.
        room_id: String,
        /// The hub's per-destination sequence number it came with.
        seq: u64,
        /// The `MLSMessage` bytes.
        message: Vec<u8>,
        /// For a Welcome: the ratchet tree from its `RatchetTreeOption`.
        ratchet_tree: Option<Vec<u8>>,
    },
    /// Ask the hub for the room state to bootstrap the copy.
    FetchRoomState {
        /// The hub's provider.
        hub: String,
        /// The room URI.
        room_id: String,
    },
    /// The room copy refused a handshake the hub accepted.
    Inconsistent {
        /// The room URI.
        room_id: String,
        /// Why.
        reason: String,
    },
    /// A consent entry accepted (`requestConsent` / `updateConsent` answer 201,
    /// protocol-06 §5.7).
    ConsentAccepted,
    /// Send a consent entry to a peer provider (protocol-06 §5.7): `requestConsent`
    /// when `update` is false, else `updateConsent`.
    SendConsent {
        /// The peer provider's domain (the path parameter of §5.7).
        to: String,
        /// `updateConsent` (grant/revoke) rather than `requestConsent` (request/cancel).
        update: bool,
        /// The `ConsentEntry` bytes.
        body: Vec<u8>,
    },
    /// A request refused without a protocol response.
    Refused(FollowerError),
}

/// Why the follower refused a request.
#[derive(Debug, Error)]
pub enum FollowerError {
    /// The bytes do not decode.
    #[error("follower.decode: {0}")]
    Decode(#[from] WireError),
    /// The client is not one of this provider's.
    #[error("follower.not-local: {0} is not a client of this provider")]
    NotLocal(String),
    /// A published KeyPackage is not valid or not the client's.
    #[error("follower.bad-key-package: #{index}: {reason}")]
    BadKeyPackage {
        /// Position in the request.
        index: usize,
        /// Why.
        reason: String,
    },
    /// The room URI is not a room URI.
    #[error("follower.not-a-room: {0}")]
    NotARoom(String),
    /// A signed request failed verification.
    #[error("{0}")]
    Auth(#[from] crate::hub::auth::AuthError),
    /// A `/notify` for a room hosted elsewhere than the sending hub.
    #[error("follower.wrong-hub: {hub} does not host {room_id}")]
    WrongHub {
        /// The sender.
        hub: String,
        /// The room.
        room_id: String,
    },
    /// A `/notify` sequence number too far ahead of the next expected one.
    #[error("follower.sequence-window: notify {seq} is more than {window} ahead of {next}")]
    SequenceWindow {
        /// The notify's sequence number.
        seq: u64,
        /// The next expected one.
        next: u64,
        /// The window.
        window: u64,
    },
    /// The request cannot be relayed.
    #[error("follower.not-relayable: {0}")]
    NotRelayable(&'static str),
    /// A consent entry with an operation the endpoint does not take (protocol-06 §5.7:
    /// `requestConsent` takes request/cancel, `updateConsent` grant/revoke).
    #[error("follower.consent-operation: {endpoint} does not take {operation}")]
    ConsentOperation {
        /// The endpoint (or `local` for a local operation).
        endpoint: &'static str,
        /// The entry's operation.
        operation: &'static str,
    },
    /// A consent entry whose URI is not in the domain §5.7 requires.
    #[error("follower.consent-domain: {field} {uri} is not a user of {expected}")]
    ConsentDomain {
        /// `requesterUri` or `targetUri`.
        field: &'static str,
        /// The URI.
        uri: String,
        /// The domain it must be in.
        expected: String,
    },
}

impl FollowerError {
    /// Whether this refusal is an authorization failure (a consent entry naming a user of
    /// a provider other than the one §5.7 requires): HTTP 403 rather than 400.
    pub fn is_forbidden(&self) -> bool {
        matches!(self, Self::ConsentDomain { .. } | Self::Auth(_))
    }
}

/// One consent scope (protocol-06 §5.7 `ConsentScope`): requester user URI, target
/// user URI, room URI (`None`: any room).
pub type ScopeKey = (String, String, Option<String>);

#[derive(Debug, Clone, Serialize)]
struct StoredKeyPackage {
    /// `MLSMessage` bytes.
    bytes: Vec<u8>,
    reference: Vec<u8>,
    ciphersuite: u16,
    not_after: u64,
    extensions: Vec<u16>,
    proposals: Vec<u16>,
}

#[derive(Default)]
struct FollowerRoom {
    hub: String,
    next_seq: u64,
    buffer: BTreeMap<u64, Vec<u8>>,
    local: BTreeSet<String>,
    copy: Option<PublicRoom>,
    fetching: bool,
    duplicates: u64,
    /// A Welcome for a local client arrived: refresh the copy when the queue is drained.
    rebootstrap: bool,
    /// Performance: `domain_of` of the room URI (the map key), memoized on first use.
    room_domain: Option<Option<String>>,
}

/// A follower's view of one room: next expected sequence number, buffered
/// sequence numbers, local members, and the copy's state.
#[derive(Debug, Clone, Serialize)]
pub struct FollowerRoomSnapshot {
    next_seq: u64,
    buffered: Vec<u64>,
    local: BTreeSet<String>,
    copy: Option<crate::room::RoomView>,
}

/// Everything observable about a follower, for before/after comparisons.
#[derive(Debug, Clone, Serialize)]
pub struct FollowerSnapshot {
    store: BTreeMap<String, Vec<StoredKeyPackage>>,
    served: BTreeMap<String, String>,
    consent: BTreeMap<String, ConsentList>,
    consent_requests: BTreeSet<ScopeKey>,
    consent_received: BTreeMap<String, Vec<String>>,
    deleted: BTreeSet<String>,
    rooms: BTreeMap<String, FollowerRoomSnapshot>,
}

/// The follower of one provider.
pub struct Follower {
    domain: String,
    /// client URI → its KeyPackages (the user is derived from the client URI).
    store: BTreeMap<String, Vec<StoredKeyPackage>>,
    /// KeyPackageRef → client, for every KeyPackage handed out.
    served: BTreeMap<Vec<u8>, String>,
    consent: BTreeMap<String, ConsentList>,
    /// Pending `request`s from other providers' users for our users (§5.7).
    consent_requests: BTreeSet<ScopeKey>,
    /// Grants our users received from other providers' users (§5.7), with the
    /// KeyPackages (TLS-encoded) that came with them.
    consent_received: BTreeMap<ScopeKey, Vec<Vec<u8>>>,
    deleted: BTreeSet<String>,
    rooms: BTreeMap<String, FollowerRoom>,
    /// External joins awaiting the hub's answer: (client, room).
    joining: BTreeSet<(String, String)>,
    /// Tests only: [`Deviation::ForgetDedup`] re-processes duplicate notifies.
    forget_dedup: bool,
}

impl std::fmt::Debug for Follower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follower")
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

fn domain_of(uri: &str) -> Option<String> {
    MimiUri::parse(uri).ok().map(|u| u.provider().to_owned())
}

impl Follower {
    /// A follower for provider `domain`.
    pub fn new(domain: &str) -> Self {
        Self {
            domain: domain.to_owned(),
            store: BTreeMap::new(),
            served: BTreeMap::new(),
            consent: BTreeMap::new(),
            consent_requests: BTreeSet::new(),
            consent_received: BTreeMap::new(),
            deleted: BTreeSet::new(),
            rooms: BTreeMap::new(),
            joining: BTreeSet::new(),
            forget_dedup: false,
        }
    }

    /// Switch on deliberate deviations (tests only; only
    /// [`Deviation::ForgetDedup`](crate::hub::Deviation::ForgetDedup) concerns a follower).
    pub fn with_deviations(mut self, deviations: &[crate::hub::Deviation]) -> Self {
        self.forget_dedup = deviations.contains(&crate::hub::Deviation::ForgetDedup);
        self
    }

    /// This follower's provider domain.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The room copy, once bootstrapped.
    pub fn room_copy(&self, room_id: &str) -> Option<&PublicRoom> {
        self.rooms.get(room_id).and_then(|r| r.copy.as_ref())
    }

    /// The local clients this follower delivers a room's messages to.
    pub fn local_members(&self, room_id: &str) -> BTreeSet<String> {
        self.rooms
            .get(room_id)
            .map(|r| r.local.clone())
            .unwrap_or_default()
    }

    /// How many duplicate notifies were dropped for a room.
    pub fn duplicates(&self, room_id: &str) -> u64 {
        self.rooms.get(room_id).map_or(0, |r| r.duplicates)
    }

    /// How many unused KeyPackages a client has left.
    pub fn key_packages_left(&self, client: &str) -> usize {
        self.store.get(client).map_or(0, Vec::len)
    }

    /// A serialized snapshot of the follower's whole state (JSON bytes).
    pub fn snapshot(&self) -> Vec<u8> {
        let snap = FollowerSnapshot {
            store: self.store.clone(),
            served: self
                .served
                .iter()
                .map(|(k, v)| (hex::encode(k), v.clone()))
                .collect(),
            consent: self.consent.clone(),
            consent_requests: self.consent_requests.clone(),
            consent_received: self
                .consent_received
                .iter()
                .map(|((r, t, room), kps)| {
                    (
                        format!("{r} {t} {}", room.as_deref().unwrap_or("*")),
                        kps.iter().map(hex::encode).collect(),
                    )
                })
                .collect(),
            deleted: self.deleted.clone(),
            rooms: self
                .rooms
                .iter()
                .map(|(id, r)| {
                    (
                        id.clone(),
                        FollowerRoomSnapshot {
                            next_seq: r.next_seq,
                            buffered: r.buffer.keys().copied().collect(),
                            local: r.local.clone(),
                            copy: r.copy.as_ref().and_then(|c| c.view().ok()),
                        },
                    )
                })
                .collect(),
        };
        serde_json::to_vec(&snap).unwrap_or_default()
    }

    /// Handle one input at time `now_ms`.
    pub fn handle(&mut self, now_ms: u64, input: FollowerInput) -> Vec<FollowerOutput> {
        match input {
            FollowerInput::PublishKeyPackages {
                client,
                key_packages,
            } => match self.publish(&client, &key_packages) {
                Ok(()) => Vec::new(),
                Err(e) => vec![FollowerOutput::Refused(e)],
            },
            FollowerInput::SetConsent { user, allowed } => {
                self.consent.insert(user, allowed);
                Vec::new()
            }
            FollowerInput::UserConsent { body } => match self.user_consent(&body) {
                Ok(out) => vec![out],
                Err(e) => vec![FollowerOutput::Refused(e)],
            },
            FollowerInput::RequestConsent { from, body } => {
                match self.consent_in(&from, &body, false) {
                    Ok(()) => vec![FollowerOutput::ConsentAccepted],
                    Err(e) => vec![FollowerOutput::Refused(e)],
                }
            }
            FollowerInput::UpdateConsent { from, body } => {
                match self.consent_in(&from, &body, true) {
                    Ok(()) => vec![FollowerOutput::ConsentAccepted],
                    Err(e) => vec![FollowerOutput::Refused(e)],
                }
            }
            FollowerInput::DeleteUser { user } => {
                self.store
                    .retain(|c, _| user_of_client(c.as_bytes()).map_or(true, |u| u != user));
                self.deleted.insert(user);
                Vec::new()
            }
            FollowerInput::KeyMaterial { request_id, body } => {
                match self.key_material(now_ms, &body) {
                    Ok(response) => vec![FollowerOutput::KeyMaterialAnswer {
                        request_id,
                        response,
                    }],
                    Err(e) => vec![FollowerOutput::Refused(e)],
                }
            }
            FollowerInput::Notify {
                hub,
                room_id,
                seq,
                body,
            } => self.notify(&hub, &room_id, seq, body),
            FollowerInput::RoomState { room_id, info } => self.bootstrap(&room_id, info),
            FollowerInput::FromClient { client, request } => self.relay(&client, request),
            FollowerInput::FromHub {
                client,
                room_id,
                output,
            } => {
                let joined = self.joining.remove(&(client.clone(), room_id.clone()));
                if joined {
                    if let HubOutput::Update(r) = &output {
                        if matches!(r.result, UpdateResult::Success { .. }) {
                            self.register(&room_id, &client);
                        }
                    }
                }
                vec![FollowerOutput::ToClient { client, output }]
            }
            FollowerInput::RegisterMember { room_id, client } => {
                if domain_of(&client).as_deref() != Some(self.domain.as_str()) {
                    return vec![FollowerOutput::Refused(FollowerError::NotLocal(client))];
                }
                self.register(&room_id, &client);
                Vec::new()
            }
        }
    }

    fn register(&mut self, room_id: &str, client: &str) {
        let domain = domain_of(room_id);
        let r = self.rooms.entry(room_id.to_owned()).or_default();
        r.hub = domain.clone().unwrap_or_default();
        r.room_domain = Some(domain);
        r.local.insert(client.to_owned());
    }

    /// The pending consent requests (§5.7 `request` not yet cancelled or answered by a
    /// grant) addressed to our users.
    pub fn consent_requests(&self) -> &BTreeSet<ScopeKey> {
        &self.consent_requests
    }

    /// The grants our users received (§5.7), with how many KeyPackages came with each.
    pub fn consent_received(&self) -> BTreeMap<ScopeKey, usize> {
        self.consent_received
            .iter()
            .map(|(k, v)| (k.clone(), v.len()))
            .collect()
    }

    /// A local user's consent operation (protocol-06 §5.7).
    fn user_consent(&mut self, body: &[u8]) -> Result<FollowerOutput, FollowerError> {
        let entry: ConsentEntry = decode_exact(body)?;
        let (requester, target, room) = scope_of(&entry);
        let update = matches!(entry.operation, ConsentOp::Grant { .. } | ConsentOp::Revoke);
        // request/cancel come from a local requester, grant/revoke from a local target.
        let (local_field, local, peer) = if update {
            ("targetUri", &target, &requester)
        } else {
            ("requesterUri", &requester, &target)
        };
        if !self.is_local(local) {
            return Err(FollowerError::ConsentDomain {
                field: local_field,
                uri: local.clone(),
                expected: self.domain.clone(),
            });
        }
        let to = domain_of(peer).ok_or_else(|| FollowerError::ConsentDomain {
            field: if update { "requesterUri" } else { "targetUri" },
            uri: peer.clone(),
            expected: "any provider".into(),
        })?;
        match &entry.operation {
            ConsentOp::Grant { .. } => {
                let list = self.consent.entry(target.clone()).or_default();
                match (&room, list.get_mut(&requester)) {
                    // An any-room grant (or an existing one) covers every room.
                    (None, _) | (Some(_), Some(None)) => {
                        list.insert(requester.clone(), None);
                    }
                    (Some(r), Some(Some(rooms))) => {
                        rooms.insert(r.clone());
                    }
                    (Some(r), None) => {
                        list.insert(requester.clone(), Some(BTreeSet::from([r.clone()])));
                    }
                }
                // The grant answers a pending request of this scope.
                self.consent_requests
                    .remove(&(requester.clone(), target.clone(), room.clone()));
            }
            ConsentOp::Revoke => {
                // spec/deviations.md "consent" 2: a room-scoped revoke of an any-room
                // grant withdraws the whole grant.
                if let Some(list) = self.consent.get_mut(&target) {
                    let now_empty = match (&room, list.get_mut(&requester)) {
                        (Some(r), Some(Some(rooms))) => {
                            rooms.remove(r);
                            rooms.is_empty()
                        }
                        _ => true,
                    };
                    if now_empty {
                        list.remove(&requester);
                    }
                }
                self.consent_requests
                    .remove(&(requester.clone(), target.clone(), room.clone()));
            }
            ConsentOp::Request | ConsentOp::Cancel => {}
        }
        Ok(FollowerOutput::SendConsent {
            to,
            update,
            body: body.to_vec(),
        })
    }

    /// `requestConsent` (`update` false) or `updateConsent` (`update` true) from
    /// provider `from` (protocol-06 §5.7).
    fn consent_in(&mut self, from: &str, body: &[u8], update: bool) -> Result<(), FollowerError> {
        let entry: ConsentEntry = decode_exact(body)?;
        let endpoint = if update {
            "updateConsent"
        } else {
            "requestConsent"
        };
        let takes = if update {
            matches!(entry.operation, ConsentOp::Grant { .. } | ConsentOp::Revoke)
        } else {
            matches!(entry.operation, ConsentOp::Request | ConsentOp::Cancel)
        };
        if !takes {
            return Err(FollowerError::ConsentOperation {
                endpoint,
                operation: entry.operation.code().wire_name(),
            });
        }
        let (requester, target, room) = scope_of(&entry);
        // §5.7: request/cancel name a target of ours and a requester of the sender;
        // grant/revoke the other way round.
        let (ours, ours_field, theirs, theirs_field) = if update {
            (&requester, "requesterUri", &target, "targetUri")
        } else {
            (&target, "targetUri", &requester, "requesterUri")
        };
        if !self.is_local(ours) {
            return Err(FollowerError::ConsentDomain {
                field: ours_field,
                uri: ours.clone(),
                expected: self.domain.clone(),
            });
        }
        if domain_of(theirs).as_deref() != Some(from) {
            return Err(FollowerError::ConsentDomain {
                field: theirs_field,
                uri: theirs.clone(),
                expected: from.to_owned(),
            });
        }
        let key = (requester, target, room);
        match entry.operation {
            ConsentOp::Request => {
                self.consent_requests.insert(key);
            }
            // A cancel without a matching request is accepted and changes nothing.
            ConsentOp::Cancel => {
                self.consent_requests.remove(&key);
            }
            ConsentOp::Grant {
                client_key_packages,
            } => {
                let kps = client_key_packages
                    .iter()
                    .filter_map(|k| crate::wire::common::encode(k).ok())
                    .collect();
                self.consent_received.insert(key, kps);
            }
            ConsentOp::Revoke => {
                self.consent_received.remove(&key);
            }
        }
        Ok(())
    }

    fn is_local(&self, uri: &str) -> bool {
        domain_of(uri).as_deref() == Some(self.domain.as_str())
    }

    fn relay(&mut self, client: &str, request: HubInput) -> Vec<FollowerOutput> {
        if !self.is_local(client) {
            return vec![FollowerOutput::Refused(FollowerError::NotLocal(
                client.to_owned(),
            ))];
        }
        let room_id = match &request {
            HubInput::Update { room_id, .. }
            | HubInput::SubmitMessage { room_id, .. }
            | HubInput::GroupInfo { room_id, .. } => room_id.clone(),
            HubInput::KeyMaterial { body } => match decode_exact::<KeyMaterialRequest>(body) {
                Ok(r) => r.room_id.uri.as_str().unwrap_or_default().to_owned(),
                Err(e) => return vec![FollowerOutput::Refused(e.into())],
            },
            _ => {
                return vec![FollowerOutput::Refused(FollowerError::NotRelayable(
                    "only /update, /submitMessage, /keyMaterial and /groupInfo are relayed",
                ))]
            }
        };
        let Some(hub) = MimiUri::parse(&room_id)
            .ok()
            .filter(|u| u.kind() == UriKind::Room)
            .map(|u| u.provider().to_owned())
        else {
            return vec![FollowerOutput::Refused(FollowerError::NotARoom(room_id))];
        };
        if let HubInput::Update { body, .. } = &request {
            // An external commit (sender new_member_commit) makes the client a
            // local member once the hub accepts it.
            if peek::public_header(body).is_some_and(|h| h.sender_type == 4) {
                self.joining.insert((client.to_owned(), room_id.clone()));
            }
        }
        vec![FollowerOutput::ToHub {
            hub,
            input: request,
        }]
    }

    fn publish(&mut self, client: &str, key_packages: &[Vec<u8>]) -> Result<(), FollowerError> {
        if !self.is_local(client) {
            return Err(FollowerError::NotLocal(client.to_owned()));
        }
        let crypto = openmls_rust_crypto::RustCrypto::default();
        let mut parsed = Vec::with_capacity(key_packages.len());
        for (index, bytes) in key_packages.iter().enumerate() {
            let bad = |reason: String| FollowerError::BadKeyPackage { index, reason };
            let kp = decode_key_package(&crypto, bytes).map_err(|e| bad(e.to_string()))?;
            let identity = crate::room::profile::credential_identity(kp.leaf_node().credential());
            if identity != client.as_bytes() {
                return Err(bad(
                    "credential identity is not the publishing client".into()
                ));
            }
            let reference = key_package_ref(bytes).map_err(|e| bad(e.to_string()))?;
            let caps = kp.leaf_node().capabilities();
            parsed.push(StoredKeyPackage {
                bytes: bytes.clone(),
                reference,
                ciphersuite: u16::from(kp.ciphersuite()),
                not_after: kp.life_time().not_after(),
                extensions: caps.extensions().iter().map(|e| u16::from(*e)).collect(),
                proposals: caps.proposals().iter().map(|p| u16::from(*p)).collect(),
            });
        }
        self.store
            .entry(client.to_owned())
            .or_default()
            .extend(parsed);
        Ok(())
    }

    /// protocol-06 §5.2 at the target user's provider.
    fn key_material(
        &mut self,
        now_ms: u64,
        body: &[u8],
    ) -> Result<KeyMaterialResponse, FollowerError> {
        let req: KeyMaterialRequest = decode_exact(body)?;
        crate::hub::auth::verify_key_material_request(&req)?;
        let target = req.target_user.uri.as_str().unwrap_or_default().to_owned();
        let requester = req
            .requesting_user
            .uri
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let room = req.room_id.uri.as_str().unwrap_or_default().to_owned();
        let respond =
            |status: KeyMaterialUserCode, clients: Vec<ClientKeyMaterial>| KeyMaterialResponse {
                protocol: Protocol::Mls10,
                user_status: status,
                user_uri: IdentifierUri::new(&target),
                clients,
            };
        if self.deleted.contains(&target) {
            return Ok(respond(KeyMaterialUserCode::UserDeleted, Vec::new()));
        }
        let clients: Vec<String> = self
            .store
            .keys()
            .filter(|c| user_of_client(c.as_bytes()).is_ok_and(|u| u == target))
            .cloned()
            .collect();
        if !self.is_local(&target) || clients.is_empty() {
            return Ok(respond(KeyMaterialUserCode::UserUnknown, Vec::new()));
        }
        match self.consent.get(&target).and_then(|l| l.get(&requester)) {
            None => return Ok(respond(KeyMaterialUserCode::NoConsent, Vec::new())),
            Some(Some(rooms)) if !rooms.contains(&room) => {
                return Ok(respond(
                    KeyMaterialUserCode::NoConsentForThisRoom,
                    Vec::new(),
                ))
            }
            Some(_) => {}
        }
        let acceptable: Vec<u16> = req.acceptable_ciphersuites.iter().map(|c| c.0).collect();
        let (req_ext, req_prop): (Vec<u16>, Vec<u16>) = match req.required_capabilities.parse() {
            Ok(rc) => (
                rc.extension_types().iter().map(|e| u16::from(*e)).collect(),
                rc.proposal_types().iter().map(|p| u16::from(*p)).collect(),
            ),
            Err(_) => (Vec::new(), Vec::new()),
        };
        let now_s = now_ms / 1000;
        let mut out = Vec::new();
        let mut successes = 0;
        for client in &clients {
            let kps = self
                .store
                .get_mut(client)
                .map(std::mem::take)
                .unwrap_or_default();
            let (live, _expired): (Vec<_>, Vec<_>) =
                kps.into_iter().partition(|k| k.not_after >= now_s);
            let pick = live.iter().position(|k| {
                acceptable.contains(&k.ciphersuite)
                    && req_ext
                        .iter()
                        .all(|e| k.extensions.contains(e) || is_default_extension(*e))
                    && req_prop
                        .iter()
                        .all(|p| k.proposals.contains(p) || is_default_proposal(*p))
            });
            let mut live = live;
            let status = match pick {
                Some(i) => {
                    let bare =
                        mls_body(wire_format::KEY_PACKAGE, &live[i].bytes).unwrap_or_default();
                    match WireKeyPackage::from_bytes(bare) {
                        Ok(key_package) => {
                            let k = live.remove(i);
                            self.served.insert(k.reference, client.clone());
                            successes += 1;
                            ClientKeyMaterialStatus::Success { key_package }
                        }
                        Err(_) => ClientKeyMaterialStatus::NothingCompatible {
                            client_capabilities: None,
                        },
                    }
                }
                None if live.is_empty() => ClientKeyMaterialStatus::KeyMaterialExhausted,
                None => ClientKeyMaterialStatus::NothingCompatible {
                    client_capabilities: None,
                },
            };
            // Expired KeyPackages are never handed out; they are dropped here.
            self.store.insert(client.clone(), live);
            out.push(ClientKeyMaterial {
                client_uri: IdentifierUri::new(client),
                status,
            });
        }
        let status = if successes == clients.len() {
            KeyMaterialUserCode::Success
        } else if successes > 0 {
            KeyMaterialUserCode::PartialSuccess
        } else {
            KeyMaterialUserCode::NoCompatibleMaterial
        };
        Ok(respond(status, out))
    }

    /// Whether `domain` is the provider of the room URI `room_id` (`domain_of(room_id)`),
    /// from the room's memo when it has one.
    fn room_hosted_by(&self, room_id: &str, domain: &str) -> bool {
        match self.rooms.get(room_id).and_then(|r| r.room_domain.as_ref()) {
            Some(d) => d.as_deref() == Some(domain),
            None => domain_of(room_id).as_deref() == Some(domain),
        }
    }

    fn notify(&mut self, hub: &str, room_id: &str, seq: u64, body: Vec<u8>) -> Vec<FollowerOutput> {
        // Only a room's own hub fans it out (protocol-06 §5.5).
        if !self.room_hosted_by(room_id, hub) {
            return vec![FollowerOutput::Refused(FollowerError::WrongHub {
                hub: hub.to_owned(),
                room_id: room_id.to_owned(),
            })];
        }
        let next = self.rooms.get(room_id).map_or(0, |r| r.next_seq);
        if seq > next.saturating_add(NOTIFY_WINDOW) {
            return vec![FollowerOutput::Refused(FollowerError::SequenceWindow {
                seq,
                next,
                window: NOTIFY_WINDOW,
            })];
        }
        let mut out = vec![FollowerOutput::Ack {
            hub: hub.to_owned(),
            room_id: room_id.to_owned(),
            seq,
        }];
        let r = self.rooms.entry(room_id.to_owned()).or_default();
        if r.hub != hub {
            r.hub = hub.to_owned();
        }
        // Checked above: the room URI's provider is `hub`.
        if r.room_domain.is_none() {
            r.room_domain = Some(Some(hub.to_owned()));
        }
        if seq < r.next_seq && self.forget_dedup {
            // Deviation::ForgetDedup (tests only): process the duplicate again.
            let resume = r.next_seq;
            r.next_seq = seq;
            r.buffer.insert(seq, body);
            out.extend(self.drain(room_id));
            if let Some(r) = self.rooms.get_mut(room_id) {
                r.next_seq = r.next_seq.max(resume);
            }
            return out;
        }
        if seq < r.next_seq || r.buffer.contains_key(&seq) {
            r.duplicates += 1;
            return out;
        }
        r.buffer.insert(seq, body);
        if r.copy.is_none() && !r.fetching {
            r.fetching = true;
            out.push(FollowerOutput::FetchRoomState {
                hub: hub.to_owned(),
                room_id: room_id.to_owned(),
            });
        }
        out.extend(self.drain(room_id));
        out
    }

    fn bootstrap(&mut self, room_id: &str, info: Option<Box<JoinInfo>>) -> Vec<FollowerOutput> {
        let Some(r) = self.rooms.get_mut(room_id) else {
            return Vec::new();
        };
        r.fetching = false;
        let Some(info) = info else {
            return Vec::new();
        };
        if r.copy.is_some() {
            return Vec::new();
        }
        let mut room = match PublicRoom::from_group_info(
            &info.group_info,
            &info.ratchet_tree,
            Arc::new(MimiLogic),
        ) {
            Ok(room) => room,
            Err(e) => {
                return vec![FollowerOutput::Inconsistent {
                    room_id: room_id.to_owned(),
                    reason: format!("room state refused: {e}"),
                }]
            }
        };
        room.set_group_info_optional(true);
        let mut out = Vec::new();
        for p in &info.pending_proposals {
            if let Err(e) = room.process_handshake(p, None) {
                out.push(FollowerOutput::Inconsistent {
                    room_id: room_id.to_owned(),
                    reason: format!("pending proposal refused: {e}"),
                });
            }
        }
        r.copy = Some(room);
        // A fresh copy already reflects the Welcome that asked for a refresh: a second
        // fetch would discard it and wait for a state nobody will send again.
        r.rebootstrap = false;
        out
    }

    /// Process buffered notifies in sequence order.
    /// Process buffered notifies in order; then, if a Welcome brought a local client
    /// back into a room whose copy this follower kept while it had no member (the hub
    /// sends such a provider nothing, not even the commit adding its clients,
    /// hub/follower 7), refresh the copy from the hub's current state.
    fn drain(&mut self, room_id: &str) -> Vec<FollowerOutput> {
        let mut out = self.drain_queue(room_id);
        if let Some(r) = self.rooms.get_mut(room_id) {
            if r.rebootstrap && r.buffer.is_empty() && !r.fetching {
                r.rebootstrap = false;
                r.copy = None;
                r.fetching = true;
                out.push(FollowerOutput::FetchRoomState {
                    hub: r.hub.clone(),
                    room_id: room_id.to_owned(),
                });
            }
        }
        out
    }

    fn drain_queue(&mut self, room_id: &str) -> Vec<FollowerOutput> {
        let mut out = Vec::new();
        loop {
            let Some(r) = self.rooms.get_mut(room_id) else {
                return out;
            };
            let Some(body) = r.buffer.remove(&r.next_seq) else {
                return out;
            };
            let seq = r.next_seq;
            r.next_seq += 1;
            let messages = match decode_exact::<FanoutMessages>(&body) {
                Ok(m) => m.0,
                Err(e) => {
                    out.push(FollowerOutput::Inconsistent {
                        room_id: room_id.to_owned(),
                        reason: format!("undecodable fanout: {e}"),
                    });
                    continue;
                }
            };
            for m in messages {
                if let FanoutBody::Application { .. } = m.body {
                    // Performance: no owned copy of the message before the deliveries.
                    out.extend(self.deliver_application(room_id, seq, m.message.as_bytes()));
                    continue;
                }
                let bytes = m.message.as_bytes().to_vec();
                match m.body {
                    FanoutBody::Welcome {
                        ratchet_tree_option,
                    } => {
                        let tree = match ratchet_tree_option {
                            crate::wire::RatchetTreeOption::Full { ratchet_tree } => {
                                Some(ratchet_tree.as_bytes().to_vec())
                            }
                            _ => None,
                        };
                        let refs: Vec<Vec<u8>> = mls_body(wire_format::WELCOME, &bytes)
                            .and_then(WelcomeRefs::parse)
                            .unwrap_or_default();
                        let targets: BTreeSet<String> = refs
                            .iter()
                            .filter_map(|r| self.served.get(r).cloned())
                            .collect();
                        if !targets.is_empty() {
                            if let Some(r) = self.rooms.get_mut(room_id) {
                                r.rebootstrap = true;
                            }
                        }
                        for client in targets {
                            self.register(room_id, &client);
                            out.push(FollowerOutput::Deliver {
                                client,
                                room_id: room_id.to_owned(),
                                seq,
                                message: bytes.clone(),
                                ratchet_tree: tree.clone(),
                            });
                        }
                    }
                    // Delivered above, without the copy.
                    FanoutBody::Application { .. } => {}
                    FanoutBody::Proposal { more_proposals } => {
                        let mut all = vec![bytes];
                        all.extend(more_proposals.iter().map(|p| p.as_bytes().to_vec()));
                        for p in all {
                            out.extend(self.deliver_local(room_id, seq, &p));
                            out.extend(self.copy_process(room_id, &p));
                        }
                    }
                    FanoutBody::Commit { external_proposals } => {
                        out.extend(self.deliver_local(room_id, seq, &bytes));
                        out.extend(self.copy_process(room_id, &bytes));
                        // protocol-06 §5.5: proposals the hub originated in the new
                        // epoch (re-issued after an external commit), after the commit.
                        for p in external_proposals {
                            let p = p.as_bytes().to_vec();
                            out.extend(self.deliver_local(room_id, seq, &p));
                            out.extend(self.copy_process(room_id, &p));
                        }
                    }
                }
            }
        }
    }

    /// An application message to the local members, except — when this provider hosts
    /// the room's hub — the clients of users a queued proposal removes or bans:
    /// protocol-06 §5.3 has the hub block such users from receiving application
    /// messages once it has seen the removal, and the hub controls delivery only to its
    /// own provider's clients (other providers get one fanout for all their clients;
    /// spec/deviations.md, equivalence suite 21).
    fn deliver_application(&self, room_id: &str, seq: u64, message: &[u8]) -> Vec<FollowerOutput> {
        let blocked = if self.room_hosted_by(room_id, &self.domain) {
            self.rooms
                .get(room_id)
                .and_then(|r| r.copy.as_ref())
                .map(crate::hub::blocked_users)
                .unwrap_or_default()
        } else {
            BTreeSet::new()
        };
        let out = self.deliver_local(room_id, seq, message);
        if blocked.is_empty() {
            // Performance: nobody is blocked, so no client URI needs parsing.
            return out;
        }
        out.into_iter()
            .filter(|o| match o {
                FollowerOutput::Deliver { client, .. } => {
                    !user_of_client(client.as_bytes()).is_ok_and(|u| blocked.contains(&u))
                }
                _ => true,
            })
            .collect()
    }

    fn deliver_local(&self, room_id: &str, seq: u64, message: &[u8]) -> Vec<FollowerOutput> {
        self.local_members(room_id)
            .into_iter()
            .map(|client| FollowerOutput::Deliver {
                client,
                room_id: room_id.to_owned(),
                seq,
                message: message.to_vec(),
                ratchet_tree: None,
            })
            .collect()
    }

    /// Feed a fanned-out handshake to the room copy; stale ones (already in the
    /// bootstrapped state) are skipped.
    fn copy_process(&mut self, room_id: &str, message: &[u8]) -> Vec<FollowerOutput> {
        let Some(r) = self.rooms.get_mut(room_id) else {
            return Vec::new();
        };
        let Some(copy) = r.copy.as_mut() else {
            return Vec::new();
        };
        match copy.process_handshake(message, None) {
            Ok(Accepted::Commit(info)) => {
                // Removed local clients get this commit, then nothing more.
                for (_, identity) in &info.removed {
                    r.local
                        .remove(&String::from_utf8_lossy(identity).into_owned());
                }
                Vec::new()
            }
            Ok(Accepted::Proposal(_)) => Vec::new(),
            Err(RoomError::WrongEpoch { message, current }) if message < current => Vec::new(),
            // The hub sends nothing while this provider has no clients in the
            // group (protocol-06 §5.5), so a copy can fall behind: re-fetch.
            Err(RoomError::WrongEpoch { .. }) => {
                r.copy = None;
                if r.fetching {
                    return Vec::new();
                }
                r.fetching = true;
                vec![FollowerOutput::FetchRoomState {
                    hub: r.hub.clone(),
                    room_id: room_id.to_owned(),
                }]
            }
            Err(RoomError::DuplicateProposal) => Vec::new(),
            Err(e) => vec![FollowerOutput::Inconsistent {
                room_id: room_id.to_owned(),
                reason: e.to_string(),
            }],
        }
    }
}

/// The KeyPackageRefs a Welcome is for (RFC 9420 §12.4.3.1 `new_member`).
struct WelcomeRefs;

impl WelcomeRefs {
    fn parse(bare: &[u8]) -> Option<Vec<Vec<u8>>> {
        let wrapped = mls_wrap(wire_format::WELCOME, bare);
        let msg = crate::room::profile::decode_message(&wrapped).ok()?;
        match msg.extract() {
            openmls::prelude::MlsMessageBodyIn::Welcome(w) => Some(
                w.secrets()
                    .iter()
                    .map(|s| s.new_member().as_slice().to_vec())
                    .collect(),
            ),
            _ => None,
        }
    }
}

/// RFC 9420 §7.2: default extensions need not be listed in capabilities.
/// (requester, target, room) of a consent entry; a URI that is not UTF-8 becomes empty
/// (and then fails the domain checks).
fn scope_of(entry: &ConsentEntry) -> ScopeKey {
    (
        entry
            .requester_uri
            .uri
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        entry.target_uri.uri.as_str().unwrap_or_default().to_owned(),
        entry
            .room_id
            .as_ref()
            .map(|r| r.uri.as_str().unwrap_or_default().to_owned()),
    )
}

fn is_default_extension(t: u16) -> bool {
    matches!(
        ExtensionType::from(t),
        ExtensionType::ApplicationId
            | ExtensionType::RatchetTree
            | ExtensionType::RequiredCapabilities
            | ExtensionType::ExternalPub
            | ExtensionType::ExternalSenders
    )
}

/// RFC 9420 §7.2: default proposals need not be listed in capabilities.
fn is_default_proposal(t: u16) -> bool {
    matches!(
        ProposalType::from(t),
        ProposalType::Add
            | ProposalType::Update
            | ProposalType::Remove
            | ProposalType::PreSharedKey
            | ProposalType::Reinit
            | ProposalType::ExternalInit
            | ProposalType::GroupContextExtensions
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-room memo of the room URI's provider answers as parsing the URI does,
    /// before a room entry exists, after a notify or a registration creates one, and for
    /// a room id that does not parse. (The memo depends on the map key alone, so nothing
    /// ever invalidates it.)
    #[test]
    fn room_domain_memo_matches_parsing() {
        let rooms = [
            "mimi://a.example/r/x",
            "mimi://A.Example/r/y",
            "not a uri",
            "mimi://c.example/r/z",
        ];
        let domains = ["a.example", "b.example", "c.example", "A.Example", ""];
        let agree = |f: &Follower| {
            for r in rooms {
                for d in domains {
                    assert_eq!(
                        f.room_hosted_by(r, d),
                        domain_of(r).as_deref() == Some(d),
                        "{r} {d}"
                    );
                }
            }
        };
        let mut f = Follower::new("b.example");
        agree(&f);
        // A notify from the wrong hub is refused and creates no memo.
        let out = f.handle(
            1,
            FollowerInput::Notify {
                hub: "c.example".into(),
                room_id: rooms[0].into(),
                seq: 0,
                body: vec![1, 2, 3],
            },
        );
        assert!(
            matches!(
                out.as_slice(),
                [FollowerOutput::Refused(FollowerError::WrongHub { .. })]
            ),
            "{out:?}"
        );
        assert!(f.rooms.is_empty());
        // The right hub's notify is acknowledged (its body does not decode) and memoized.
        let out = f.handle(
            1,
            FollowerInput::Notify {
                hub: "a.example".into(),
                room_id: rooms[0].into(),
                seq: 0,
                body: vec![1, 2, 3],
            },
        );
        assert!(
            matches!(out.first(), Some(FollowerOutput::Ack { .. })),
            "{out:?}"
        );
        assert_eq!(
            f.rooms[rooms[0]].room_domain,
            Some(Some("a.example".to_owned()))
        );
        agree(&f);
        // With the memo in place the wrong hub is still refused.
        let out = f.handle(
            2,
            FollowerInput::Notify {
                hub: "c.example".into(),
                room_id: rooms[0].into(),
                seq: 1,
                body: vec![1, 2, 3],
            },
        );
        assert!(
            matches!(
                out.as_slice(),
                [FollowerOutput::Refused(FollowerError::WrongHub { .. })]
            ),
            "{out:?}"
        );
        // Registrations memoize the normalized provider, or that there is none.
        f.register(rooms[1], "mimi://b.example/d/bob/1");
        f.register(rooms[2], "mimi://b.example/d/bob/1");
        assert_eq!(
            f.rooms[rooms[1]].room_domain,
            Some(Some("a.example".to_owned()))
        );
        assert_eq!(f.rooms[rooms[2]].room_domain, Some(None));
        agree(&f);
    }
}
