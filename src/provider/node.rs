//! A running provider with its local MLS clients, and a [`Federation`] of several on
//! loopback: the driver `mimi-ref demo`, the HTTPS flow tests and the benches use.
//!
//! The clients (openmls) live beside the provider, not in its core: a client's own keys
//! and group state are the client's, and a restarted provider rebuilds only what it was
//! told (its journal). Clients read what their follower delivered from the core's
//! mailbox ([`MimiCore::mail`]) with a cursor of their own.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::{LocalOp, MimiCore, WireLog};
use crate::client::{Client, CommitRequest};
use crate::http::delivery::RetryPolicy;
use crate::http::tls::Identity;
use crate::http::{Endpoint, Provider, ProviderConfig, Request};
use crate::hub::peek::{mls_wrap, wire_format};
use crate::policy::{BaseRoomPolicy, RoleData};
use crate::room::mimi::{
    decode_participants, initial_dictionary, participant_update, room_metadata, user_of_client,
    MimiLogic, PARTICIPANT_LIST,
};
use crate::sim::{commit_update_request, room_uri, ProjectedState};
use crate::uri::{MimiUri, UriKind};
use crate::wire::common::{decode_exact, encode, IdentifierUri, Opaque};
use crate::wire::group_info::GROUP_INFO_REQUEST_TBS_LABEL;
use crate::wire::mls::{CipherSuite, HpkePublicKey, MlsCredential, MlsMessage, SignaturePublicKey};
use crate::wire::{
    GroupInfoRequest, GroupInfoResponse, GroupInfoStatus, HandshakeBundle, HandshakeBundleBody,
    KeyMaterialResponse, Protocol, RatchetTreeOption, SubmitMessageRequest, SubmitMessageResponse,
    SubmitStatus, UpdateRequest, UpdateResult, UpdateRoomResponse,
};

/// Why a driver operation failed (not a protocol refusal: those come back as codes).
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Unknown client, room or provider.
    #[error("unknown {0}")]
    Unknown(String),
    /// The MLS client could not build or process something.
    #[error("client: {0}")]
    Client(String),
    /// Encoding or decoding a wire struct.
    #[error("wire: {0}")]
    Wire(String),
    /// The HTTPS exchange failed, or the peer answered with an error status.
    #[error("http: {0}")]
    Http(String),
    /// The provider.
    #[error(transparent)]
    Provider(#[from] crate::http::ProviderError),
    /// Nothing settled within the bound.
    #[error("not settled within {0:?}: {1}")]
    Timeout(Duration, String),
}

fn cerr(e: impl std::fmt::Display) -> NodeError {
    NodeError::Client(e.to_string())
}
fn werr(e: impl std::fmt::Display) -> NodeError {
    NodeError::Wire(e.to_string())
}

/// What a local client made of one delivered message (the simulator's
/// [`Delivered`](crate::client::driver::Delivered)).
pub use crate::client::driver::Delivered as Got;

/// One delivery as the client saw it.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The room.
    pub room_id: String,
    /// The `/notify` sequence number.
    pub seq: u64,
    /// SHA-256 of the message (hex).
    pub hash: String,
    /// What happened.
    pub got: Got,
    /// When the follower delivered it (ms since the Unix epoch, the core's clock).
    pub delivered_ms: u64,
    /// When the client processed it.
    pub at: Instant,
}

/// One delivery processed by a local client, as the delivery hook reports it
/// ([`Node::subscribe_deliveries`], [`Federation::subscribe_deliveries`]).
#[derive(Debug, Clone)]
pub struct DeliveryEvent {
    /// The client that processed it.
    pub client: String,
    /// The delivery (with [`Delivery::at`], when the client had processed it).
    pub delivery: Delivery,
}

/// A local MLS client and what it received.
pub struct LocalClient {
    /// The openmls client.
    pub client: Client,
    cursor: usize,
    /// Every delivery, in order.
    pub received: Vec<Delivery>,
    own: BTreeSet<String>,
}

/// SHA-256 (hex) of a message, to match deliveries with submissions.
pub fn message_hash(m: &[u8]) -> String {
    hex::encode(Sha256::digest(m))
}

/// A running provider and its local clients.
pub struct Node {
    domain: String,
    provider: Provider<MimiCore>,
    clients: BTreeMap<String, LocalClient>,
    rng: u64,
    hooks: Vec<tokio::sync::mpsc::UnboundedSender<DeliveryEvent>>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("domain", &self.domain)
            .finish()
    }
}

/// The result code of a protocol exchange (`success`, `accepted`, `wrongEpoch`, ...),
/// with the error description when refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    /// The draft's response code name, or `http-<status>`.
    pub code: String,
    /// The description.
    pub description: String,
}

impl Code {
    fn new(code: &str, d: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            description: d.into(),
        }
    }
    /// Whether the hub accepted.
    pub fn ok(&self) -> bool {
        matches!(self.code.as_str(), "success" | "accepted")
    }
}

impl Node {
    /// Wraps a started provider.
    pub fn new(provider: Provider<MimiCore>, domain: &str) -> Self {
        Self {
            domain: domain.to_owned(),
            provider,
            clients: BTreeMap::new(),
            rng: 0x5eed,
            hooks: Vec::new(),
        }
    }

    /// Our domain.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The running provider.
    pub fn provider(&self) -> &Provider<MimiCore> {
        &self.provider
    }

    /// Stops the provider; the clients are kept for [`Federation::restart`].
    pub async fn shutdown(self) -> BTreeMap<String, LocalClient> {
        self.provider.shutdown().await;
        self.clients
    }

    /// A node around a (re)started provider with clients kept from before.
    pub fn with_clients(
        provider: Provider<MimiCore>,
        domain: &str,
        clients: BTreeMap<String, LocalClient>,
    ) -> Self {
        let mut n = Self::new(provider, domain);
        n.clients = clients;
        n
    }

    /// The delivery hook: from now on, every message a local client of this node
    /// processes in [`Node::sync`] is also sent to the returned receiver, once, right
    /// after the client processed it (the same record as [`LocalClient::received`], with
    /// the client id). Cheap (one channel send per delivery per subscriber); a dropped
    /// receiver is forgotten at the next delivery. Subscriptions do not survive a
    /// [`Federation::restart`] of this node.
    pub fn subscribe_deliveries(&mut self) -> tokio::sync::mpsc::UnboundedReceiver<DeliveryEvent> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        self.hooks.push(tx);
        rx
    }

    fn announce(&mut self, client: &str, delivery: &Delivery) {
        if self.hooks.is_empty() {
            return;
        }
        self.hooks.retain(|h| {
            h.send(DeliveryEvent {
                client: client.to_owned(),
                delivery: delivery.clone(),
            })
            .is_ok()
        });
    }

    /// A client.
    pub fn client(&self, id: &str) -> Option<&LocalClient> {
        self.clients.get(id)
    }

    fn lc(&mut self, id: &str) -> Result<&mut LocalClient, NodeError> {
        self.clients
            .get_mut(id)
            .ok_or_else(|| NodeError::Unknown(format!("client {id}")))
    }

    fn local(&self, op: &LocalOp) -> Result<(), NodeError> {
        let bytes = serde_json::to_vec(op).map_err(werr)?;
        let out = self.provider.local(&bytes)?;
        if (200..300).contains(&out.status) {
            Ok(())
        } else {
            Err(NodeError::Http(format!(
                "local operation refused: {} {}",
                out.status,
                String::from_utf8_lossy(&out.body)
            )))
        }
    }

    /// A new local client `user`/`device` publishing `key_packages` KeyPackages.
    pub fn add_client(
        &mut self,
        user: &str,
        device: &str,
        key_packages: usize,
    ) -> Result<String, NodeError> {
        let uri = MimiUri::new(UriKind::Client, &self.domain, &[user, device]).map_err(cerr)?;
        let id = uri.to_string();
        let client = Client::new(uri, Arc::new(MimiLogic)).map_err(cerr)?;
        let kps = (0..key_packages)
            .map(|_| client.key_package().map_err(cerr))
            .collect::<Result<Vec<_>, _>>()?;
        self.local(&LocalOp::Publish {
            client: id.clone(),
            key_packages: kps,
        })?;
        self.clients.insert(
            id.clone(),
            LocalClient {
                client,
                cursor: 0,
                received: Vec::new(),
                own: BTreeSet::new(),
            },
        );
        Ok(id)
    }

    /// Lets every user of `requesters` fetch `user`'s KeyPackages for any room (§5.2).
    pub fn consent(&self, user: &str, requesters: &[String]) -> Result<(), NodeError> {
        self.local(&LocalOp::Consent {
            user: user.to_owned(),
            allowed: requesters.iter().map(|r| (r.clone(), None)).collect(),
        })
    }

    /// A local user's consent operation (protocol-06 §5.7, a `ConsentEntry`): a
    /// request/cancel is queued as `requestConsent` to the target's provider, a
    /// grant/revoke changes the local target's allow-list and is queued as
    /// `updateConsent` to the requester's provider.
    pub fn user_consent(&self, entry: &crate::wire::ConsentEntry) -> Result<(), NodeError> {
        self.local(&LocalOp::UserConsent {
            entry: encode(entry).map_err(werr)?,
        })
    }

    /// `client` creates room `name` on our hub with `role` under `roles` (§3.1).
    pub fn create_room(
        &mut self,
        client: &str,
        name: &str,
        roles: &RoleData,
        role: u32,
    ) -> Result<String, NodeError> {
        let room_id = room_uri(&self.domain, name);
        let user = user_of_client(client.as_bytes()).map_err(|e| cerr(e.rule))?;
        let md = room_metadata(&room_id, name, "").map_err(|e| cerr(e.rule))?;
        let dict = initial_dictionary(&user, role, roles, &BaseRoomPolicy::default(), &md);
        // The creator names our hub as external sender (protocol-06 §5.3).
        let hub_sender: Vec<_> = self
            .provider
            .with_core(|c| c.hub().external_sender())
            .into_iter()
            .collect();
        let lc = self.lc(client)?;
        lc.client
            .create_group_with_external_senders(room_id.as_bytes(), &dict, &hub_sender)
            .map_err(cerr)?;
        let b = lc.client.group_info(room_id.as_bytes()).map_err(cerr)?;
        self.local(&LocalOp::CreateRoom {
            room_id: room_id.clone(),
            client: client.to_owned(),
            group_info: b.group_info,
            ratchet_tree: b.ratchet_tree,
        })?;
        Ok(room_id)
    }

    /// Our hub removes `user` from `room_id` (a room we host) by its own external
    /// Remove proposals ([`LocalOp::RemoveUser`]); the fanout is queued at once.
    pub fn hub_remove_user(&mut self, room_id: &str, user: &str) -> Result<(), NodeError> {
        self.local(&LocalOp::RemoveUser {
            room_id: room_id.to_owned(),
            user: user.to_owned(),
        })
    }

    /// Sends a request to the hub of `room_id` (possibly us, over HTTPS too).
    async fn to_hub(
        &self,
        endpoint: Endpoint,
        param: &str,
        room_id: &str,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, NodeError> {
        let hub = MimiUri::parse(room_id)
            .map(|u| u.provider().to_owned())
            .map_err(|e| NodeError::Unknown(e.to_string()))?;
        let req = Request {
            endpoint,
            param: param.to_owned(),
            body,
            seq: None,
        };
        let a = self
            .provider
            .client()
            .send(&hub, &req)
            .await
            .map_err(|e| NodeError::Http(e.to_string()))?;
        if a.status != 200 {
            return Err(NodeError::Http(format!(
                "{} {} answered {}: {}",
                endpoint.name(),
                param,
                a.status,
                String::from_utf8_lossy(&a.body)
            )));
        }
        Ok(a.body)
    }

    /// KeyPackages of `target_user` for `room_id` through the hub's relay (§5.2).
    pub async fn fetch_key_packages(
        &mut self,
        client: &str,
        room_id: &str,
        target_user: &str,
    ) -> Result<Vec<Vec<u8>>, NodeError> {
        let lc = self.lc(client)?;
        let req =
            crate::client::driver::profile_key_material_request(&lc.client, room_id, target_user)
                .map_err(cerr)?;
        let body = encode(&req).map_err(werr)?;
        let ans = self
            .to_hub(Endpoint::KeyMaterial, target_user, room_id, body)
            .await?;
        let r: KeyMaterialResponse = decode_exact(&ans).map_err(werr)?;
        Ok(crate::client::driver::key_packages_of(&r))
    }

    async fn update(
        &mut self,
        client: &str,
        room_id: &str,
        req: &UpdateRequest,
    ) -> Result<Code, NodeError> {
        let body = encode(req).map_err(werr)?;
        let _ = client;
        let ans = self
            .to_hub(Endpoint::Update, room_id, room_id, body)
            .await?;
        let r: UpdateRoomResponse = decode_exact(&ans).map_err(werr)?;
        Ok(match r.result {
            UpdateResult::Success { .. } => Code::new("success", ""),
            other => Code::new(other.code().wire_name(), r.error_description.as_str()),
        })
    }

    /// Builds a commit at `client`, submits it, discards it if refused.
    pub async fn commit(
        &mut self,
        client: &str,
        room_id: &str,
        request: &CommitRequest,
    ) -> Result<Code, NodeError> {
        let lc = self.lc(client)?;
        let out = lc
            .client
            .commit(room_id.as_bytes(), request)
            .map_err(cerr)?;
        lc.own.insert(message_hash(&out.commit));
        let req = commit_update_request(&out).map_err(cerr)?;
        let code = self.update(client, room_id, &req).await?;
        if !code.ok() {
            let _ = self
                .lc(client)?
                .client
                .discard_pending_commit(room_id.as_bytes());
        }
        Ok(code)
    }

    /// `adder` adds `target_user` with `role` (§3.2, §3.3).
    pub async fn add_user(
        &mut self,
        adder: &str,
        room_id: &str,
        target_user: &str,
        role: u32,
    ) -> Result<Code, NodeError> {
        let kps = self.fetch_key_packages(adder, room_id, target_user).await?;
        if kps.is_empty() {
            return Ok(Code::new("noKeyPackages", target_user));
        }
        let request = crate::client::driver::add_user_commit(target_user, role, kps);
        self.commit(adder, room_id, &request).await
    }

    /// `client` commits the queued proposals.
    pub async fn commit_pending(&mut self, client: &str, room_id: &str) -> Result<Code, NodeError> {
        self.commit(client, room_id, &CommitRequest::default())
            .await
    }

    /// `client` leaves (§3.5): participant-list removal + SelfRemove as one bundle.
    pub async fn leave(&mut self, client: &str, room_id: &str) -> Result<Code, NodeError> {
        let user = user_of_client(client.as_bytes()).map_err(|e| cerr(e.rule))?;
        let lc = self.lc(client)?;
        let list = lc
            .client
            .dictionary(room_id.as_bytes())
            .and_then(|d| decode_participants(d.get(&PARTICIPANT_LIST).map(Vec::as_slice)).ok())
            .unwrap_or_default();
        let idx = list
            .iter()
            .position(|(u, _)| *u == user)
            .and_then(|i| u32::try_from(i).ok())
            .ok_or_else(|| NodeError::Unknown(format!("{user} in {room_id}")))?;
        let p1 = lc
            .client
            .propose_app_data(
                room_id.as_bytes(),
                PARTICIPANT_LIST,
                participant_update(&[], &[idx], &[]),
            )
            .map_err(cerr)?;
        let p2 = lc.client.self_remove(room_id.as_bytes()).map_err(cerr)?;
        lc.own.insert(message_hash(&p1));
        lc.own.insert(message_hash(&p2));
        let req = UpdateRequest {
            bundle: HandshakeBundle {
                proposal_or_commit: MlsMessage::from_bytes(&p1).map_err(werr)?,
                body: HandshakeBundleBody::Proposal {
                    more_proposals: vec![MlsMessage::from_bytes(&p2).map_err(werr)?],
                },
            },
        };
        self.update(client, room_id, &req).await
    }

    /// Encrypts `text` at `client` into the `/submitMessage` request (§5.4) with the
    /// user as `sendingUri`; returns it with the message hash (remembered as own).
    fn encrypt(
        &mut self,
        client: &str,
        room_id: &str,
        text: &[u8],
    ) -> Result<(SubmitMessageRequest, String), NodeError> {
        let user = user_of_client(client.as_bytes()).map_err(|e| cerr(e.rule))?;
        let lc = self.lc(client)?;
        let msg = lc.client.send(room_id.as_bytes(), text).map_err(cerr)?;
        let h = message_hash(&msg);
        lc.own.insert(h.clone());
        let req = SubmitMessageRequest {
            protocol: Protocol::Mls10,
            app_message: MlsMessage::from_bytes(&msg).map_err(werr)?,
            sending_uri: IdentifierUri::new(&user),
        };
        Ok((req, h))
    }

    /// `client` sends `text` (§3.4). Returns the code and the message hash.
    pub async fn send_message(
        &mut self,
        client: &str,
        room_id: &str,
        text: &[u8],
    ) -> Result<(Code, String), NodeError> {
        let (req, h) = self.encrypt(client, room_id, text)?;
        let ans = self
            .to_hub(
                Endpoint::SubmitMessage,
                room_id,
                room_id,
                encode(&req).map_err(werr)?,
            )
            .await?;
        let r: SubmitMessageResponse = decode_exact(&ans).map_err(werr)?;
        let code = match r.status {
            SubmitStatus::Accepted { .. } => Code::new("accepted", ""),
            SubmitStatus::NotAllowed => Code::new("notAllowed", ""),
            SubmitStatus::EpochTooOld { current_epoch } => {
                Code::new("epochTooOld", format!("current epoch {current_epoch}"))
            }
        };
        Ok((code, h))
    }

    /// Encrypts `text` at `client` and returns the `/submitMessage` request for the
    /// room's hub without sending it (load tests submit many concurrently), with the
    /// hub's domain and the message hash.
    pub fn prepare_message(
        &mut self,
        client: &str,
        room_id: &str,
        text: &[u8],
    ) -> Result<(String, Request, String), NodeError> {
        let hub = MimiUri::parse(room_id)
            .map(|u| u.provider().to_owned())
            .map_err(|e| NodeError::Unknown(e.to_string()))?;
        let (req, h) = self.encrypt(client, room_id, text)?;
        let request = Request {
            endpoint: Endpoint::SubmitMessage,
            param: room_id.to_owned(),
            body: encode(&req).map_err(werr)?,
            seq: None,
        };
        Ok((hub, request, h))
    }

    /// `client` joins by external commit with the hub's GroupInfo (§3.6, §5.6).
    pub async fn external_join(
        &mut self,
        client: &str,
        room_id: &str,
        role_if_new: u32,
    ) -> Result<Code, NodeError> {
        self.rng = self
            .rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut ikm = self.rng.to_be_bytes().to_vec();
        ikm.extend(message_hash(client.as_bytes()).as_bytes());
        ikm.extend(crate::http::now_ms().to_be_bytes());
        let hpke = {
            use openmls_traits::crypto::OpenMlsCrypto as _;
            openmls_rust_crypto::RustCrypto::default()
                .derive_hpke_keypair(crate::room::profile::CIPHERSUITE.hpke_config(), &ikm)
                .map_err(|e| cerr(format!("{e:?}")))?
        };
        let lc = self.lc(client)?;
        let cred = lc.client.credential_bytes().map_err(werr)?;
        let mut req = GroupInfoRequest {
            protocol: Protocol::Mls10,
            cipher_suite: CipherSuite(u16::from(crate::room::profile::CIPHERSUITE)),
            requesting_signature_key: SignaturePublicKey::from(lc.client.signature_public_key()),
            requesting_credential: MlsCredential::from_bytes(&cred).map_err(werr)?,
            group_info_public_key: HpkePublicKey::from(hpke.public.clone()),
            joining_code: None,
            signature: Opaque::default(),
        };
        let tbs = encode(&req.tbs()).map_err(werr)?;
        req.signature = Opaque::new(
            lc.client
                .sign_with_label(GROUP_INFO_REQUEST_TBS_LABEL, &tbs)
                .map_err(cerr)?,
        );
        let ans = self
            .to_hub(
                Endpoint::GroupInfo,
                room_id,
                room_id,
                encode(&req).map_err(werr)?,
            )
            .await?;
        let resp: GroupInfoResponse = decode_exact(&ans).map_err(werr)?;
        if !matches!(resp.status, GroupInfoStatus::Success { .. }) {
            return Ok(Code::new(resp.status.code().wire_name(), ""));
        }
        let tbe = crate::hub::auth::open_group_info_response(&resp, &hpke.private).map_err(werr)?;
        let group_info = mls_wrap(wire_format::GROUP_INFO, tbe.group_info.as_bytes());
        let RatchetTreeOption::Full { ratchet_tree } = &tbe.ratchet_tree_option else {
            return Err(NodeError::Wire(
                "no full ratchet tree in the GroupInfo response".into(),
            ));
        };
        let tree = ratchet_tree.as_bytes().to_vec();
        let user = user_of_client(client.as_bytes()).map_err(|e| cerr(e.rule))?;
        let app_data =
            crate::client::driver::external_join_app_data(&group_info, &tree, &user, role_if_new);
        let lc = self.lc(client)?;
        let (_, out) = lc
            .client
            // The joiner covers no queued proposal: the hub refuses an external commit
            // that does and re-issues the removals among them in the new epoch.
            .join_by_external_commit(&group_info, &tree, &[], &app_data)
            .map_err(cerr)?;
        lc.own.insert(message_hash(&out.commit));
        let req = commit_update_request(&out).map_err(cerr)?;
        let code = self.update(client, room_id, &req).await?;
        if code.ok() {
            self.local(&LocalOp::Register {
                room_id: room_id.to_owned(),
                client: client.to_owned(),
            })?;
        } else {
            let _ = self.lc(client)?.client.forget_group(room_id.as_bytes());
        }
        Ok(code)
    }

    /// Lets every local client process what its follower delivered since the last call;
    /// after a Welcome, bootstraps the follower's room copy from the new member's
    /// GroupInfo if it waits for one. Returns how many messages were processed.
    pub fn sync(&mut self) -> Result<usize, NodeError> {
        let mut n = 0;
        let ids: Vec<String> = self.clients.keys().cloned().collect();
        for id in ids {
            let mail = self.provider.with_core(|c| c.mail(&id)[..].to_vec());
            let Some(cursor) = self.clients.get(&id).map(|c| c.cursor) else {
                continue;
            };
            let new: Vec<_> = mail.into_iter().skip(cursor).collect();
            for item in new {
                let lc = self.lc(&id)?;
                lc.cursor += 1;
                n += 1;
                let h = message_hash(&item.message);
                let own = lc.own.contains(&h);
                let got = crate::client::driver::receive(
                    &mut lc.client,
                    &item.message,
                    item.ratchet_tree.as_deref(),
                    own,
                );
                let joined = got == Got::Joined;
                let d = Delivery {
                    room_id: item.room_id.clone(),
                    seq: item.seq,
                    hash: h,
                    got,
                    delivered_ms: item.delivered_ms,
                    at: Instant::now(),
                };
                lc.received.push(d.clone());
                self.announce(&id, &d);
                if joined {
                    let waits = self
                        .provider
                        .with_core(|c| c.awaiting_bootstrap(&item.room_id));
                    let lc = self
                        .clients
                        .get(&id)
                        .ok_or_else(|| NodeError::Unknown(id.clone()))?;
                    if waits {
                        let b = lc
                            .client
                            .group_info(item.room_id.as_bytes())
                            .map_err(cerr)?;
                        self.local(&LocalOp::Bootstrap {
                            room_id: item.room_id.clone(),
                            group_info: b.group_info,
                            ratchet_tree: b.ratchet_tree,
                        })?;
                    }
                }
            }
        }
        Ok(n)
    }

    /// A local client's projected room state (`None` unless an active member).
    pub fn client_state(&self, client: &str, room_id: &str) -> Option<ProjectedState> {
        crate::client::driver::project_client(&self.clients.get(client)?.client, room_id)
    }

    /// The client ids.
    pub fn client_ids(&self) -> Vec<String> {
        self.clients.keys().cloned().collect()
    }

    /// Whether everything this provider sends is delivered and acknowledged.
    pub fn quiet(&self) -> bool {
        let hub_quiet = self.provider.with_core(|c| c.hub().unacknowledged() == 0);
        hub_quiet
    }
}

/// Several providers on loopback, one process.
pub struct Federation {
    /// The nodes by domain.
    pub nodes: BTreeMap<String, Node>,
    /// Every request every core answered, in order.
    pub log: WireLog,
    /// Where the certificates are.
    pub certs: PathBuf,
    addrs: BTreeMap<String, SocketAddr>,
    retry: RetryPolicy,
    /// Signalled by every provider's core after each input it ran
    /// ([`ProviderConfig::on_change`]); [`Federation::pump`] waits on it.
    changed: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Federation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Federation")
            .field("nodes", &self.nodes.keys())
            .finish()
    }
}

/// Why a federation could not start.
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// Certificates.
    #[error(transparent)]
    Certs(#[from] crate::http::certs::CertsError),
    /// TLS.
    #[error(transparent)]
    Tls(#[from] crate::http::tls::TlsError),
    /// A provider.
    #[error(transparent)]
    Provider(#[from] crate::http::ProviderError),
    /// The core.
    #[error(transparent)]
    Core(#[from] super::CoreError),
    /// Binding a port.
    #[error("binding: {0}")]
    Io(#[from] std::io::Error),
}

impl Federation {
    /// Writes fresh certificates for `domains` into `certs`, reserves one loopback port
    /// each and starts every provider (data dirs under `data` if given, else in memory).
    pub async fn start(
        domains: &[&str],
        certs: &Path,
        data: Option<&Path>,
        retry: RetryPolicy,
    ) -> Result<Self, FederationError> {
        let names: Vec<String> = domains.iter().map(|d| d.to_string()).collect();
        let pki = crate::http::certs::generate("mimi-ref demo CA", &names)?;
        crate::http::certs::write(certs, &pki)?;
        let mut addrs = BTreeMap::new();
        for d in domains {
            // Reserve a port, release it, and bind it again in the provider.
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            addrs.insert(d.to_string(), l.local_addr()?);
        }
        let log: WireLog = Arc::default();
        let mut f = Self {
            nodes: BTreeMap::new(),
            log,
            certs: certs.to_owned(),
            addrs,
            retry,
            changed: Arc::new(tokio::sync::Notify::new()),
        };
        for d in domains {
            let p = f.start_provider(d, data).await?;
            f.nodes.insert(d.to_string(), Node::new(p, d));
        }
        Ok(f)
    }

    /// Starts (or restarts) the provider of `domain` on its address.
    pub async fn start_provider(
        &self,
        domain: &str,
        data: Option<&Path>,
    ) -> Result<Provider<MimiCore>, FederationError> {
        let identity = Identity::load(&self.certs, domain)?;
        let addr = self.addrs[domain];
        let mut cfg = ProviderConfig::new(domain, addr, identity);
        cfg.peers = self.addrs.iter().map(|(d, a)| (d.clone(), *a)).collect();
        cfg.data_dir = data.map(|d| d.join(domain));
        if let Some(d) = &cfg.data_dir {
            std::fs::create_dir_all(d)?;
        }
        cfg.retry = self.retry.clone();
        cfg.on_change = Some(self.changed.clone());
        let core = MimiCore::open(domain, cfg.data_dir.as_deref())?.with_log(self.log.clone());
        Ok(Provider::start(cfg, core).await?)
    }

    /// Stops the provider of `domain` (its clients are kept) and returns them.
    pub async fn stop(&mut self, domain: &str) -> Option<BTreeMap<String, LocalClient>> {
        let n = self.nodes.remove(domain)?;
        Some(n.shutdown().await)
    }

    /// Restarts a stopped provider from its data dir with its old clients.
    pub async fn restart(
        &mut self,
        domain: &str,
        data: Option<&Path>,
        clients: BTreeMap<String, LocalClient>,
    ) -> Result<(), FederationError> {
        let p = self.start_provider(domain, data).await?;
        self.nodes
            .insert(domain.to_owned(), Node::with_clients(p, domain, clients));
        Ok(())
    }

    /// A node.
    pub fn node(&mut self, domain: &str) -> Result<&mut Node, NodeError> {
        self.nodes
            .get_mut(domain)
            .ok_or_else(|| NodeError::Unknown(format!("provider {domain}")))
    }

    /// The node of a client URI.
    pub fn node_of(&mut self, client: &str) -> Result<&mut Node, NodeError> {
        let d = MimiUri::parse(client)
            .map(|u| u.provider().to_owned())
            .map_err(|e| NodeError::Unknown(e.to_string()))?;
        self.node(&d)
    }

    /// Every user consents to every other user (§5.2).
    pub fn consent_all(&mut self) -> Result<(), NodeError> {
        let users: BTreeSet<String> = self
            .nodes
            .values()
            .flat_map(|n| n.client_ids())
            .filter_map(|c| user_of_client(c.as_bytes()).ok())
            .collect();
        let all: Vec<String> = users.iter().cloned().collect();
        for u in &users {
            let d = MimiUri::parse(u)
                .map(|x| x.provider().to_owned())
                .map_err(|e| NodeError::Unknown(e.to_string()))?;
            self.node(&d)?.consent(u, &all)?;
        }
        Ok(())
    }

    /// Scaffolding for tests and benches: `creator` (a local client of the hosting
    /// provider) creates room `name` under `roles` with `creator_role` (§3.1), then adds
    /// each of `users` with `role` (§3.2, §3.3), settling (at most `bound`) after each
    /// step. Returns the room id; a refused add is an [`NodeError::Http`] naming the user
    /// and the code.
    #[allow(clippy::too_many_arguments)]
    pub async fn room_with_users(
        &mut self,
        creator: &str,
        name: &str,
        roles: &RoleData,
        creator_role: u32,
        users: &[String],
        role: u32,
        bound: Duration,
    ) -> Result<String, NodeError> {
        let room = self
            .node_of(creator)?
            .create_room(creator, name, roles, creator_role)?;
        self.settle(bound).await?;
        for u in users {
            let code = self
                .node_of(creator)?
                .add_user(creator, &room, u, role)
                .await?;
            if !code.ok() {
                return Err(NodeError::Http(format!(
                    "adding {u} to {room} refused: {} {}",
                    code.code, code.description
                )));
            }
            self.settle(bound).await?;
        }
        Ok(room)
    }

    /// The delivery hook of every node ([`Node::subscribe_deliveries`]) on one receiver:
    /// each message each local client processes, once, as it is processed.
    pub fn subscribe_deliveries(&mut self) -> tokio::sync::mpsc::UnboundedReceiver<DeliveryEvent> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        for n in self.nodes.values_mut() {
            n.hooks.push(tx.clone());
        }
        rx
    }

    /// Lets every local client process its new mail at once ([`Node::sync`] on every
    /// node); returns how many messages were processed.
    pub fn sync_all(&mut self) -> Result<usize, NodeError> {
        let mut n = 0;
        for node in self.nodes.values_mut() {
            n += node.sync()?;
        }
        Ok(n)
    }

    /// Waits until some provider's core has run an input since the last wait (or at most
    /// `wait`), then lets every local client process its new mail. Event-driven: a
    /// `/notify` that lands in a mailbox wakes it at once, so a delivery's
    /// [`Delivery::at`] is not quantised by polling. Returns how many messages were
    /// processed (0 on a timeout or a change that brought no mail).
    pub async fn pump(&mut self, wait: Duration) -> Result<usize, NodeError> {
        let _ = tokio::time::timeout(wait, self.changed.notified()).await;
        self.sync_all()
    }

    /// Waits until every hub has every notify acknowledged and every client processed
    /// its mail (at most `bound`). Woken by the providers' change hook
    /// ([`Federation::pump`]), with a 20 ms fallback.
    pub async fn settle(&mut self, bound: Duration) -> Result<(), NodeError> {
        let end = Instant::now() + bound;
        let mut processed = self.sync_all()?;
        loop {
            if processed == 0 && self.nodes.values().all(Node::quiet) {
                // One more pass: mail that arrived with the last acknowledgement.
                if self.sync_all()? == 0 {
                    return Ok(());
                }
            }
            if Instant::now() > end {
                let pending: Vec<String> = self
                    .nodes
                    .values()
                    .map(|n| {
                        format!(
                            "{}: {} unacknowledged",
                            n.domain,
                            n.provider.with_core(|c| c.hub().unacknowledged())
                        )
                    })
                    .collect();
                return Err(NodeError::Timeout(bound, pending.join(", ")));
            }
            processed = if processed > 0 {
                // Processing may itself have queued work (e.g. a bootstrap): look again.
                self.sync_all()?
            } else {
                self.pump(Duration::from_millis(20)).await?
            };
        }
    }

    /// The hub's state of a room and every other party's, as (party, state) pairs; and
    /// the disagreements: a follower with active clients, or an active member client,
    /// whose state differs from the hub's (clients may lag on uncommitted proposals).
    pub fn states(&self, room_id: &str) -> (Vec<(String, Option<ProjectedState>)>, Vec<String>) {
        let hub_domain = MimiUri::parse(room_id)
            .map(|u| u.provider().to_owned())
            .unwrap_or_default();
        let hub = self
            .nodes
            .get(&hub_domain)
            .and_then(|n| n.provider.with_core(|c| c.hub_state(room_id)));
        let mut rows = vec![(format!("hub {hub_domain}"), hub.clone())];
        let mut bad = Vec::new();
        let Some(hub) = hub else {
            bad.push(format!("no hub state for {room_id}"));
            return (rows, bad);
        };
        for (d, n) in &self.nodes {
            let f = n.provider.with_core(|c| c.follower_state(room_id));
            let active = hub
                .members
                .iter()
                .any(|m| MimiUri::parse(m).is_ok_and(|u| u.provider() == d));
            if active && f.as_ref() != Some(&hub) {
                bad.push(format!("follower {d} disagrees with the hub: {f:?}"));
            }
            rows.push((format!("follower {d}"), f));
            for c in n.client_ids() {
                let s = n.client_state(&c, room_id);
                if hub.members.contains(&c) {
                    match &s {
                        Some(s)
                            if (s.epoch, &s.members, &s.participants, &s.metadata)
                                == (hub.epoch, &hub.members, &hub.participants, &hub.metadata) => {}
                        other => bad.push(format!("client {c} disagrees with the hub: {other:?}")),
                    }
                }
                rows.push((format!("client {c}"), s));
            }
            for a in n.provider.with_core(|c| c.anomalies().to_vec()) {
                bad.push(a);
            }
        }
        (rows, bad)
    }

    /// Shuts every provider down.
    pub async fn shutdown(self) {
        for (_, n) in self.nodes {
            n.provider.shutdown().await;
        }
    }
}
