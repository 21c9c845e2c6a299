//! A MIMI client on openmls `MlsGroup`.
//!
//! [`Client`] owns one openmls provider (`OpenMlsRustCrypto`: RustCrypto +
//! in-memory storage), an Ed25519 signature key and a `BasicCredential` whose
//! identity is the client's `mimi://<domain>/d/<id>` URI (protocol-06 §3,
//! identity-05). It follows the room MLS profile of [`crate::room::profile`]:
//! MTI ciphersuite; **handshake messages are PublicMessage and application
//! messages PrivateMessage**, via openmls `PURE_PLAINTEXT_WIRE_FORMAT_POLICY`
//! (the policy governs handshakes only; openmls always encrypts application
//! messages), so the hub can validate every handshake (protocol-06 §5.3) while
//! message content stays end-to-end encrypted (§5.4).
//!
//! Everything that crosses the network is bytes: KeyPackages, Welcomes,
//! GroupInfos and handshake/application messages are TLS-encoded `MLSMessage`s,
//! ratchet trees are TLS-encoded `RatchetTree`s. Every such input is decoded
//! and validated with a typed error, never a panic.
//!
//! Room state changes are AppDataUpdate proposals (protocol-06 §4.3.2, §7.5,
//! §7.6). The client resolves every commit that covers them through the same
//! pluggable [`ComponentLogic`] the hub runs, between `process_message` and
//! merge, and shows the staged commit to [`ComponentLogic::check_commit`]; a
//! refusal leaves the group unchanged.
//!
//! When the queued proposals include the hub's Removes of every client of a listed
//! user (a deleted account, protocol-06 §5.3), [`Client::commit`] adds that user's
//! participant-list removal by itself (`room::mimi::hub_removed_users`). A room's creator
//! names the hub as external sender ([`Client::create_group_with_external_senders`]).
//!
//! Commit lifecycle: [`Client::commit`] stages a commit and returns what to send
//! to the hub; the client merges it only once the hub accepted it
//! ([`Client::merge_pending_commit`]) or drops it ([`Client::discard_pending_commit`]).
//! An external join ([`Client::join_by_external_commit`]) is merged by openmls
//! at creation; if the hub refuses it, [`Client::forget_group`] drops the group.

pub mod driver;

use std::collections::BTreeMap;
use std::sync::Arc;

use openmls::extensions::{AppDataDictionary, AppDataDictionaryExtension};
use openmls::prelude::{
    BasicCredential, CommitBuilderStageError, CreateCommitError, CreateMessageError,
    CredentialWithKey, ExternalCommitBuilderError, ExternalCommitBuilderFinalizeError, GroupId,
    KeyPackage, KeyPackageNewError, LeafNodeIndex, LeafNodeParameters, LeaveGroupError,
    MergeCommitError, MergePendingCommitError, MlsGroup, MlsGroupCreateConfig, MlsGroupJoinConfig,
    MlsMessageBodyIn, MlsMessageOut, NewGroupError, ProcessMessageError, ProcessedMessageContent,
    Proposal, ProposalError, ProtocolMessage, Sender, StageCommitError, WelcomeError,
};
use openmls::prelude::{Extension, Extensions};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::{MemoryStorageError, OpenMlsRustCrypto};
use openmls_traits::OpenMlsProvider;
use thiserror::Error;
use tls_codec::Serialize as _;

use crate::room::component::{self, resolve_updates};
use crate::room::profile::{
    credential_identity, decode_group_info, decode_key_package, decode_message,
    decode_protocol_message, decode_ratchet_tree, leaf_capabilities, required_capabilities,
    DecodeError, KeyPackageInputError, CIPHERSUITE, WIRE_FORMAT_POLICY,
};
use crate::room::{
    commit_summary, proposal_kind, AppDataOp, ComponentId, ComponentLogic, ComponentRejection,
    Dictionary, ProposalKind,
};
use crate::uri::{MimiUri, UriKind};

type Storage = MemoryStorageError;
type StorageSnapshot = std::collections::HashMap<Vec<u8>, Vec<u8>>;

/// Why a client could not be created.
#[derive(Debug, Error)]
pub enum NewClientError {
    /// A client's identity must be a client URI `mimi://<domain>/d/<id>`.
    #[error("client identity must be a mimi://<domain>/d/<id> URI, got a {0} URI")]
    NotAClientUri(UriKind),
    /// The signature key could not be generated or stored.
    #[error("signature key: {0}")]
    SignatureKey(String),
}

/// Why a KeyPackage could not be generated.
#[derive(Debug, Error)]
pub enum KeyPackageError {
    /// openmls refused to build it.
    #[error("KeyPackage creation failed: {0}")]
    Build(#[from] KeyPackageNewError),
    /// Serialization failed.
    #[error("KeyPackage serialization failed: {0}")]
    Encode(#[from] tls_codec::Error),
}

/// Why a group could not be created.
#[derive(Debug, Error)]
pub enum CreateGroupError {
    /// A group with this id already exists at this client.
    #[error("group already exists at this client")]
    Exists,
    /// The GroupContext extensions could not be assembled.
    #[error("invalid GroupContext extensions: {0}")]
    Extensions(String),
    /// openmls refused to create the group.
    #[error("group creation failed: {0}")]
    Mls(#[from] NewGroupError<Storage>),
}

/// Why a commit could not be built.
#[derive(Debug, Error)]
pub enum CommitError {
    /// No group with this id at this client.
    #[error("unknown group")]
    UnknownGroup,
    /// A KeyPackage to add could not be decoded or failed validation
    /// (signature, lifetime, keys, ciphersuite).
    #[error("KeyPackage #{index}: {source}")]
    KeyPackage {
        /// Position in the request.
        index: usize,
        /// Why it was refused.
        source: KeyPackageInputError,
    },
    /// A leaf to remove is not a member.
    #[error("leaf {0} is not a member")]
    NotAMember(u32),
    /// A commit of this client is still pending (not yet merged).
    #[error("a commit of this client is still pending")]
    CommitPending,
    /// This client was removed from the group.
    #[error("this client is no longer a member of the group")]
    Inactive,
    /// A queued proposal already removes this leaf.
    #[error("leaf {0} is already removed by a queued proposal (RFC 9420 §12.2)")]
    AlreadyRemoved(u32),
    /// The client's own component logic refuses the AppDataUpdates.
    #[error("component logic refused: {0}")]
    Rejected(#[from] ComponentRejection),
    /// openmls could not build the commit.
    #[error("commit creation failed: {0}")]
    Build(#[from] CreateCommitError),
    /// openmls could not stage the commit.
    #[error("commit staging failed: {0}")]
    Stage(#[from] CommitBuilderStageError<Storage>),
    /// PSK loading failed (no PSKs are used; storage error).
    #[error("commit preparation failed: {0}")]
    Prepare(String),
    /// Serialization of an output failed.
    #[error("serialization failed: {0}")]
    Encode(#[from] tls_codec::Error),
    /// openmls built no GroupInfo (internal).
    #[error("no GroupInfo was produced")]
    NoGroupInfo,
}

/// Why a standalone proposal could not be created.
#[derive(Debug, Error)]
pub enum ProposeError {
    /// No group with this id at this client.
    #[error("unknown group")]
    UnknownGroup,
    /// openmls could not create the proposal.
    #[error("proposal creation failed: {0}")]
    Mls(#[from] ProposalError<Storage>),
    /// openmls could not create the SelfRemove proposal.
    #[error("SelfRemove failed: {0}")]
    Leave(#[from] LeaveGroupError<Storage>),
    /// The component logic refuses the update against the current state.
    #[error("component logic refused: {0}")]
    Rejected(#[from] ComponentRejection),
    /// Serialization failed.
    #[error("serialization failed: {0}")]
    Encode(#[from] tls_codec::Error),
    /// openmls could not create the Remove proposal.
    #[error("Remove proposal failed: {0}")]
    Remove(#[from] openmls::prelude::ProposeRemoveMemberError<Storage>),
}

/// Why joining a group failed.
#[derive(Debug, Error)]
pub enum JoinError {
    /// An input could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// openmls refused the Welcome.
    #[error("Welcome refused: {0}")]
    Welcome(#[from] WelcomeError<Storage>),
    /// openmls refused the GroupInfo/tree or could not prepare the external commit.
    #[error("external join refused: {0}")]
    External(#[from] ExternalCommitBuilderError<Storage>),
    /// The external commit could not be built.
    #[error("external commit creation failed: {0}")]
    Build(#[from] CreateCommitError),
    /// The external commit could not be finalized.
    #[error("external commit finalization failed: {0}")]
    Finalize(#[from] ExternalCommitBuilderFinalizeError<Storage>),
    /// The client's own component logic refuses the AppDataUpdates.
    #[error("component logic refused: {0}")]
    Rejected(#[from] ComponentRejection),
    /// The client is already in this group.
    #[error("already a member of this group")]
    AlreadyMember,
    /// PSK loading failed (no PSKs are used; storage error).
    #[error("external commit preparation failed: {0}")]
    Prepare(String),
    /// The client's storage could not be snapshot or restored (internal).
    #[error("client storage: {0}")]
    Storage(&'static str),
    /// Serialization of an output failed.
    #[error("serialization failed: {0}")]
    Encode(#[from] tls_codec::Error),
    /// openmls built no GroupInfo (internal).
    #[error("no GroupInfo was produced")]
    NoGroupInfo,
}

/// Why an incoming message was refused. The group is unchanged after any of these.
#[derive(Debug, Error)]
pub enum ProcessError {
    /// The bytes are not an MLS protocol message.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The message is for a group this client is not in.
    #[error("message for an unknown group")]
    UnknownGroup,
    /// A handshake message from a past or future epoch.
    #[error("handshake for epoch {message}, group is at epoch {current}")]
    WrongEpoch {
        /// The message's epoch.
        message: u64,
        /// The group's epoch.
        current: u64,
    },
    /// openmls refused the message (including "use after eviction" for a removed client).
    #[error("MLS processing failed: {0}")]
    Mls(#[from] ProcessMessageError<Storage>),
    /// The commit could not be staged with the resolved AppDataUpdates.
    #[error("commit could not be staged: {0}")]
    Stage(#[from] StageCommitError),
    /// The component logic refused an AppDataUpdate or the commit.
    #[error("component logic refused: {0}")]
    Rejected(#[from] ComponentRejection),
    /// Merging failed.
    #[error("merge failed: {0}")]
    Merge(#[from] MergeCommitError<Storage>),
    /// Merging the own pending commit failed.
    #[error("merge of own commit failed: {0}")]
    MergePending(#[from] MergePendingCommitError<Storage>),
    /// Storing a proposal failed.
    #[error("storage failed: {0}")]
    Storage(#[from] MemoryStorageError),
    /// Content this client does not accept.
    #[error("unsupported content: {0}")]
    Unsupported(&'static str),
}

/// Why a request could not be signed.
#[derive(Debug, Error)]
#[error("signing failed: {0}")]
pub struct SignError(String);

/// Why an application message could not be sent.
#[derive(Debug, Error)]
pub enum SendError {
    /// No group with this id at this client.
    #[error("unknown group")]
    UnknownGroup,
    /// openmls could not encrypt it (e.g. the client was removed).
    #[error("message creation failed: {0}")]
    Mls(#[from] CreateMessageError),
    /// Serialization failed.
    #[error("serialization failed: {0}")]
    Encode(#[from] tls_codec::Error),
}

/// Why a pending commit could not be merged or discarded, or a GroupInfo exported.
#[derive(Debug, Error)]
pub enum GroupStateError {
    /// No group with this id at this client.
    #[error("unknown group")]
    UnknownGroup,
    /// There is no pending commit.
    #[error("no pending commit")]
    NoPendingCommit,
    /// Merging failed.
    #[error("merge failed: {0}")]
    Merge(#[from] MergePendingCommitError<Storage>),
    /// Storage failed.
    #[error("storage failed: {0}")]
    Storage(#[from] MemoryStorageError),
    /// GroupInfo export failed.
    #[error("GroupInfo export failed: {0}")]
    Export(String),
    /// Serialization failed.
    #[error("serialization failed: {0}")]
    Encode(#[from] tls_codec::Error),
    /// Removing a queued proposal failed.
    #[error("removing a queued proposal failed: {0}")]
    RemoveProposal(String),
}

/// What a commit produces, ready for the hub (protocol-06 §5.3 HandshakeBundle).
#[derive(Debug, Clone)]
pub struct CommitOutput {
    /// The commit (`MLSMessage`, PublicMessage).
    pub commit: Vec<u8>,
    /// The Welcome (`MLSMessage`), when the commit adds clients.
    pub welcome: Option<Vec<u8>>,
    /// The GroupInfo of the new epoch (`MLSMessage`, with `external_pub`).
    pub group_info: Vec<u8>,
    /// The ratchet tree of the new epoch (TLS-encoded).
    pub ratchet_tree: Vec<u8>,
}

/// A GroupInfo and ratchet tree of the current epoch (for bootstrapping the hub).
#[derive(Debug, Clone)]
pub struct GroupInfoBundle {
    /// The GroupInfo (`MLSMessage`).
    pub group_info: Vec<u8>,
    /// The ratchet tree (TLS-encoded).
    pub ratchet_tree: Vec<u8>,
}

/// A commit request: AppDataUpdates, Adds and Removes committed together, plus
/// every proposal this client has queued.
#[derive(Debug, Clone, Default)]
pub struct CommitRequest {
    /// AppDataUpdate proposals (component id, operation), committed by value.
    pub app_data: Vec<(ComponentId, AppDataOp)>,
    /// KeyPackages to add (`MLSMessage` bytes).
    pub adds: Vec<Vec<u8>>,
    /// Leaves to remove.
    pub removes: Vec<u32>,
    /// Put the ratchet tree into the Welcome's GroupInfo (and the exported
    /// GroupInfo), so joiners need no separate tree (protocol-06 §5.5
    /// RatchetTreeOption "full" vs. sent alongside).
    pub inline_ratchet_tree: bool,
}

/// What an incoming message was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A decrypted application message.
    Application {
        /// The sender's leaf index.
        sender_leaf: u32,
        /// The sender's credential identity.
        sender: Vec<u8>,
        /// The plaintext.
        data: Vec<u8>,
    },
    /// A proposal, validated and queued for the next commit (a proposal that
    /// is already queued, e.g. this client's own echoed back, is not queued twice).
    Proposal {
        /// The ProposalRef.
        reference: Vec<u8>,
        /// What it proposes.
        kind: ProposalKind,
    },
    /// A commit by another member, merged.
    Commit {
        /// The epoch the group is in now.
        new_epoch: u64,
        /// Whether this client was removed by it (the group is now inactive).
        removed_self: bool,
    },
    /// This client's own pending commit, fanned back and merged.
    OwnCommit {
        /// The epoch the group is in now.
        new_epoch: u64,
    },
    /// This client's own application message, fanned back (protocol-06 §3.4:
    /// the hub also sends to the sender's provider). openmls cannot decrypt it.
    OwnApplication {
        /// The epoch it was sent in.
        epoch: u64,
    },
}

/// Everything observable about one of a client's groups, for before/after
/// comparisons and the equivalence tests' abstraction function.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MemberView {
    /// Whether the client is still an active member.
    pub active: bool,
    /// The epoch.
    pub epoch: u64,
    /// This client's leaf index.
    pub own_leaf: u32,
    /// Members: leaf index → credential identity.
    pub members: BTreeMap<u32, Vec<u8>>,
    /// The `app_data_dictionary`.
    pub dictionary: Dictionary,
    /// ProposalRefs queued for the next commit.
    pub pending_proposals: Vec<Vec<u8>>,
    /// Whether this client has a pending (unmerged) commit.
    pub pending_commit: bool,
}

/// A MIMI client: one provider, one signature key, one credential, its groups.
pub struct Client {
    uri: MimiUri,
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
    groups: BTreeMap<Vec<u8>, MlsGroup>,
    logic: Arc<dyn ComponentLogic>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("uri", &self.uri.to_string())
            .field("groups", &self.groups.len())
            .finish_non_exhaustive()
    }
}

fn join_config() -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .wire_format_policy(WIRE_FORMAT_POLICY)
        .use_ratchet_tree_extension(false)
        .build()
}

fn out_bytes(m: &MlsMessageOut) -> Result<Vec<u8>, tls_codec::Error> {
    m.tls_serialize_detached()
}

impl Client {
    /// A new client with identity `uri` (must be a `mimi://<domain>/d/<id>`
    /// client URI) and the component logic it runs on every commit.
    pub fn new(uri: MimiUri, logic: Arc<dyn ComponentLogic>) -> Result<Self, NewClientError> {
        if uri.kind() != UriKind::Client {
            return Err(NewClientError::NotAClientUri(uri.kind()));
        }
        let provider = OpenMlsRustCrypto::default();
        let signer = SignatureKeyPair::new(CIPHERSUITE.signature_algorithm())
            .map_err(|e| NewClientError::SignatureKey(format!("{e:?}")))?;
        signer
            .store(provider.storage())
            .map_err(|e| NewClientError::SignatureKey(e.to_string()))?;
        let credential = CredentialWithKey {
            credential: BasicCredential::new(uri.to_string().into_bytes()).into(),
            signature_key: signer.public().into(),
        };
        Ok(Self {
            uri,
            provider,
            signer,
            credential,
            groups: BTreeMap::new(),
            logic,
        })
    }

    /// The client's URI.
    pub fn uri(&self) -> &MimiUri {
        &self.uri
    }

    /// The client's TLS-encoded `Credential` (RFC 9420 §5.3), as requests such
    /// as `KeyMaterialRequest.requesterCredential` carry it (protocol-06 §5.2).
    pub fn credential_bytes(&self) -> Result<Vec<u8>, tls_codec::Error> {
        self.credential.credential.tls_serialize_detached()
    }

    /// `SignWithLabel(label, content)` (RFC 9420 §5.1.2) with the client's
    /// signature key, for the signed requests of protocol-06 §5.2 and §5.6.
    pub fn sign_with_label(&self, label: &str, content: &[u8]) -> Result<Vec<u8>, SignError> {
        use openmls_traits::signatures::Signer as _;
        self.signer
            .sign(&crate::room::profile::sign_content(label, content))
            .map_err(|e| SignError(format!("{e:?}")))
    }

    /// The client's signature public key bytes.
    pub fn signature_public_key(&self) -> Vec<u8> {
        self.signer.public().to_vec()
    }

    /// The client's credential identity bytes (its URI).
    pub fn identity(&self) -> Vec<u8> {
        self.uri.to_string().into_bytes()
    }

    /// A fresh KeyPackage (`MLSMessage` bytes) advertising the room profile's
    /// capabilities (app_data_dictionary, AppDataUpdate, SelfRemove).
    pub fn key_package(&self) -> Result<Vec<u8>, KeyPackageError> {
        let bundle = KeyPackage::builder()
            .leaf_node_capabilities(leaf_capabilities())
            .build(
                CIPHERSUITE,
                &self.provider,
                &self.signer,
                self.credential.clone(),
            )?;
        Ok(out_bytes(&MlsMessageOut::from(
            bundle.key_package().clone(),
        ))?)
    }

    /// Create a group whose GroupContext carries `required_capabilities` (the
    /// room profile) and an `app_data_dictionary` with `initial` components
    /// (protocol-06 §3.1: the creator sets up the room state).
    pub fn create_group(
        &mut self,
        group_id: &[u8],
        initial: &Dictionary,
    ) -> Result<(), CreateGroupError> {
        self.create_group_with_external_senders(group_id, initial, &[])
    }

    /// [`create_group`](Self::create_group) with an `external_senders` extension
    /// (RFC 9420 §12.1.8.1) naming `senders`: the room's hub puts its own
    /// `ExternalSender` there so that it can originate proposals (protocol-06 §5.3,
    /// e.g. removing the clients of a deleted user).
    pub fn create_group_with_external_senders(
        &mut self,
        group_id: &[u8],
        initial: &Dictionary,
        senders: &[openmls::prelude::ExternalSender],
    ) -> Result<(), CreateGroupError> {
        if self.groups.contains_key(group_id) {
            return Err(CreateGroupError::Exists);
        }
        let mut dict = AppDataDictionary::new();
        for (id, data) in initial {
            let _ = dict.insert(*id, data.clone());
        }
        let mut list = vec![
            required_capabilities(),
            Extension::AppDataDictionary(AppDataDictionaryExtension::new(dict)),
        ];
        if !senders.is_empty() {
            list.push(Extension::ExternalSenders(senders.to_vec()));
        }
        let extensions =
            Extensions::from_vec(list).map_err(|e| CreateGroupError::Extensions(e.to_string()))?;
        let config = MlsGroupCreateConfig::builder()
            .ciphersuite(CIPHERSUITE)
            .wire_format_policy(WIRE_FORMAT_POLICY)
            .use_ratchet_tree_extension(false)
            .capabilities(leaf_capabilities())
            .with_group_context_extensions(extensions)
            .build();
        let group = MlsGroup::new_with_group_id(
            &self.provider,
            &self.signer,
            &config,
            GroupId::from_slice(group_id),
            self.credential.clone(),
        )?;
        self.groups.insert(group_id.to_vec(), group);
        Ok(())
    }

    fn group(&self, group_id: &[u8]) -> Option<&MlsGroup> {
        self.groups.get(group_id)
    }

    /// A snapshot of the client's view of a group.
    pub fn view(&self, group_id: &[u8]) -> Option<MemberView> {
        let g = self.group(group_id)?;
        Some(MemberView {
            active: g.is_active(),
            epoch: g.epoch().as_u64(),
            own_leaf: g.own_leaf_index().u32(),
            members: g
                .members()
                .map(|m| (m.index.u32(), credential_identity(&m.credential)))
                .collect(),
            dictionary: component::snapshot(
                g.extensions().app_data_dictionary().map(|e| e.dictionary()),
            ),
            pending_proposals: g
                .pending_proposals()
                .map(|q| q.proposal_reference_ref().as_slice().to_vec())
                .collect(),
            pending_commit: g.pending_commit().is_some(),
        })
    }

    /// Whether this client holds the group (and is still an active member).
    pub fn is_member(&self, group_id: &[u8]) -> bool {
        self.group(group_id).is_some_and(MlsGroup::is_active)
    }

    /// The group's current epoch.
    pub fn epoch(&self, group_id: &[u8]) -> Option<u64> {
        self.group(group_id).map(|g| g.epoch().as_u64())
    }

    /// The group's members: leaf index → credential identity.
    pub fn members(&self, group_id: &[u8]) -> Option<BTreeMap<u32, Vec<u8>>> {
        self.group(group_id).map(|g| {
            g.members()
                .map(|m| (m.index.u32(), credential_identity(&m.credential)))
                .collect()
        })
    }

    /// The group's current `app_data_dictionary`.
    pub fn dictionary(&self, group_id: &[u8]) -> Option<Dictionary> {
        self.group(group_id).map(|g| {
            component::snapshot(g.extensions().app_data_dictionary().map(|e| e.dictionary()))
        })
    }

    /// This client's leaf index in the group.
    pub fn own_leaf(&self, group_id: &[u8]) -> Option<u32> {
        self.group(group_id).map(|g| g.own_leaf_index().u32())
    }

    /// The ProposalRefs this client has queued for the next commit.
    pub fn pending_proposals(&self, group_id: &[u8]) -> Option<Vec<Vec<u8>>> {
        self.group(group_id).map(|g| {
            g.pending_proposals()
                .map(|q| q.proposal_reference_ref().as_slice().to_vec())
                .collect()
        })
    }

    /// Export the current GroupInfo (with `external_pub`) and ratchet tree.
    pub fn group_info(&self, group_id: &[u8]) -> Result<GroupInfoBundle, GroupStateError> {
        let g = self.group(group_id).ok_or(GroupStateError::UnknownGroup)?;
        let gi = g
            .export_group_info(self.provider.crypto(), &self.signer, false)
            .map_err(|e| GroupStateError::Export(e.to_string()))?;
        Ok(GroupInfoBundle {
            group_info: out_bytes(&gi)?,
            ratchet_tree: g.export_ratchet_tree().tls_serialize_detached()?,
        })
    }

    /// Build and stage a commit over `request` plus every queued proposal. The
    /// AppDataUpdates are resolved through this client's component logic. The
    /// commit stays pending until [`merge_pending_commit`](Self::merge_pending_commit)
    /// or [`discard_pending_commit`](Self::discard_pending_commit).
    pub fn commit(
        &mut self,
        group_id: &[u8],
        request: &CommitRequest,
    ) -> Result<CommitOutput, CommitError> {
        let mut key_packages = Vec::with_capacity(request.adds.len());
        for (index, bytes) in request.adds.iter().enumerate() {
            let kp = decode_key_package(self.provider.crypto(), bytes)
                .map_err(|source| CommitError::KeyPackage { index, source })?;
            key_packages.push(kp);
        }
        let logic = Arc::clone(&self.logic);
        let provider = &self.provider;
        let signer = &self.signer;
        let group = self
            .groups
            .get_mut(group_id)
            .ok_or(CommitError::UnknownGroup)?;
        // A removed client keeps its last group state but can no longer commit
        // (discarding a refused commit must not revive it).
        if !group.is_active() {
            return Err(CommitError::Inactive);
        }
        // An accepted commit of ours awaits its fanout: building another would replace
        // it, and the client could no longer recognise its own commit (protocol-06 §5.5).
        if group.pending_commit().is_some() {
            return Err(CommitError::CommitPending);
        }
        // Leaves a queued Remove/SelfRemove already removes (RFC 9420 §12.2: a member
        // is removed at most once per commit; openmls would hit a debug assertion
        // ranking a SelfRemove against a later Remove).
        let queued_removals: Vec<u32> = group
            .pending_proposals()
            .filter_map(|q| match (q.proposal(), q.sender()) {
                (Proposal::Remove(r), _) => Some(r.removed().u32()),
                (Proposal::SelfRemove, openmls::prelude::Sender::Member(l)) => Some(l.u32()),
                _ => None,
            })
            .collect();
        for leaf in &request.removes {
            if group.member_at(LeafNodeIndex::new(*leaf)).is_none() {
                return Err(CommitError::NotAMember(*leaf));
            }
            if queued_removals.contains(leaf) {
                return Err(CommitError::AlreadyRemoved(*leaf));
            }
        }
        let dict = group
            .extensions()
            .app_data_dictionary()
            .map(|e| e.dictionary().clone());
        let mut app_data = request.app_data.clone();
        app_data.extend(hub_mandated_removals(
            group,
            dict.as_ref(),
            &request.app_data,
        ));
        let mut builder = group
            .commit_builder()
            .consume_proposal_store(true)
            .propose_adds(key_packages)
            .propose_removals(request.removes.iter().map(|l| LeafNodeIndex::new(*l)))
            .add_proposals(
                app_data
                    .iter()
                    .map(|(id, op)| Proposal::AppDataUpdate(Box::new(op.to_proposal(*id)))),
            )
            .load_psks(provider.storage())
            .map_err(|e| CommitError::Prepare(e.to_string()))?
            .create_group_info(true)
            .use_ratchet_tree_extension(request.inline_ratchet_tree);
        let changes = resolve_updates(
            logic.as_ref(),
            dict.as_ref(),
            builder.app_data_update_proposals(),
        )?;
        builder.with_app_data_dictionary_updates(changes);
        let bundle = builder
            .build(provider.rand(), provider.crypto(), signer, |_| true)?
            .stage_commit(provider)?;
        let (commit, welcome, group_info) = bundle.into_messages();
        let group_info = group_info.ok_or(CommitError::NoGroupInfo)?;
        // The tree of the new epoch, from the pending commit.
        let ratchet_tree = match group.pending_commit() {
            Some(staged) => staged
                .export_ratchet_tree(provider.crypto(), group.export_ratchet_tree())
                .map_err(|e| CommitError::Prepare(e.to_string()))?
                .ok_or(CommitError::Prepare("pending commit has no tree".into()))?
                .tls_serialize_detached()?,
            None => {
                return Err(CommitError::Prepare(
                    "no pending commit after staging".into(),
                ))
            }
        };
        Ok(CommitOutput {
            commit: out_bytes(&commit)?,
            welcome: welcome.as_ref().map(out_bytes).transpose()?,
            group_info: out_bytes(&group_info)?,
            ratchet_tree,
        })
    }

    /// Merge this client's pending commit (the hub accepted it).
    pub fn merge_pending_commit(&mut self, group_id: &[u8]) -> Result<(), GroupStateError> {
        let g = self
            .groups
            .get_mut(group_id)
            .ok_or(GroupStateError::UnknownGroup)?;
        if g.pending_commit().is_none() {
            return Err(GroupStateError::NoPendingCommit);
        }
        g.merge_pending_commit(&self.provider)?;
        Ok(())
    }

    /// Drop the proposals this client itself queued in the current epoch (the hub
    /// refused the bundle carrying them, protocol-06 §5.3), keeping everyone else's.
    pub fn discard_own_proposals(&mut self, group_id: &[u8]) -> Result<(), GroupStateError> {
        let g = self
            .groups
            .get_mut(group_id)
            .ok_or(GroupStateError::UnknownGroup)?;
        let own = g.own_leaf_index();
        let refs: Vec<_> = g
            .pending_proposals()
            .filter(|q| matches!(q.sender(), openmls::prelude::Sender::Member(l) if *l == own))
            .map(|q| q.proposal_reference_ref().clone())
            .collect();
        for r in refs {
            g.remove_pending_proposal(self.provider.storage(), &r)
                .map_err(|e| GroupStateError::RemoveProposal(e.to_string()))?;
        }
        Ok(())
    }

    /// Drop the queued proposals with these ProposalRefs (a refused bundle of this
    /// client's, protocol-06 §5.3), keeping every other one (earlier accepted ones of
    /// its own included). Unknown references are ignored.
    pub fn discard_proposals(
        &mut self,
        group_id: &[u8],
        references: &[Vec<u8>],
    ) -> Result<(), GroupStateError> {
        let g = self
            .groups
            .get_mut(group_id)
            .ok_or(GroupStateError::UnknownGroup)?;
        let refs: Vec<_> = g
            .pending_proposals()
            .filter(|q| {
                references
                    .iter()
                    .any(|r| r.as_slice() == q.proposal_reference_ref().as_slice())
            })
            .map(|q| q.proposal_reference_ref().clone())
            .collect();
        for r in refs {
            g.remove_pending_proposal(self.provider.storage(), &r)
                .map_err(|e| GroupStateError::RemoveProposal(e.to_string()))?;
        }
        Ok(())
    }

    /// Drop this client's pending commit (the hub refused it).
    pub fn discard_pending_commit(&mut self, group_id: &[u8]) -> Result<(), GroupStateError> {
        let g = self
            .groups
            .get_mut(group_id)
            .ok_or(GroupStateError::UnknownGroup)?;
        if g.pending_commit().is_none() {
            return Err(GroupStateError::NoPendingCommit);
        }
        g.clear_pending_commit(self.provider.storage())?;
        Ok(())
    }

    /// Drop a group from this client (e.g. after the hub refused its external join).
    pub fn forget_group(&mut self, group_id: &[u8]) -> Result<(), GroupStateError> {
        let mut g = self
            .groups
            .remove(group_id)
            .ok_or(GroupStateError::UnknownGroup)?;
        g.delete(self.provider.storage())?;
        Ok(())
    }

    /// A standalone AppDataUpdate proposal (PublicMessage `MLSMessage` bytes),
    /// dry-run through the component logic against the current state first.
    pub fn propose_app_data(
        &mut self,
        group_id: &[u8],
        component_id: ComponentId,
        op: AppDataOp,
    ) -> Result<Vec<u8>, ProposeError> {
        let group = self
            .groups
            .get_mut(group_id)
            .ok_or(ProposeError::UnknownGroup)?;
        let current = group
            .extensions()
            .app_data_dictionary()
            .and_then(|e| e.dictionary().get(&component_id));
        self.logic
            .apply(component_id, current, std::slice::from_ref(&op))?;
        let (msg, _ref) = group.propose_app_data_update(
            &self.provider,
            &self.signer,
            component_id,
            op.to_openmls(),
        )?;
        Ok(out_bytes(&msg)?)
    }

    /// A Remove proposal for the member at `leaf` (PublicMessage `MLSMessage` bytes):
    /// a leaving client proposes the removal of its user's other clients
    /// (protocol-06 §3.5).
    pub fn propose_remove(&mut self, group_id: &[u8], leaf: u32) -> Result<Vec<u8>, ProposeError> {
        let group = self
            .groups
            .get_mut(group_id)
            .ok_or(ProposeError::UnknownGroup)?;
        let (msg, _ref) =
            group.propose_remove_member(&self.provider, &self.signer, LeafNodeIndex::new(leaf))?;
        Ok(out_bytes(&msg)?)
    }

    /// A SelfRemove proposal (mls-extensions-09; PublicMessage `MLSMessage` bytes):
    /// this client asks to be removed by the next commit.
    pub fn self_remove(&mut self, group_id: &[u8]) -> Result<Vec<u8>, ProposeError> {
        let group = self
            .groups
            .get_mut(group_id)
            .ok_or(ProposeError::UnknownGroup)?;
        let msg = group.leave_group_via_self_remove(&self.provider, &self.signer)?;
        Ok(out_bytes(&msg)?)
    }

    /// Join from a Welcome (`MLSMessage` bytes), with the ratchet tree when the
    /// Welcome's GroupInfo does not carry it (protocol-06 §5.5 RatchetTreeOption).
    /// Returns the group id.
    pub fn join_from_welcome(
        &mut self,
        welcome: &[u8],
        ratchet_tree: Option<&[u8]>,
    ) -> Result<Vec<u8>, JoinError> {
        let welcome = match decode_message(welcome)?.extract() {
            MlsMessageBodyIn::Welcome(w) => w,
            _ => {
                return Err(DecodeError::WrongBody {
                    expected: "a Welcome",
                }
                .into())
            }
        };
        let tree = ratchet_tree.map(decode_ratchet_tree).transpose()?;
        // openmls consumes the KeyPackage's private keys before it validates
        // the rest of the Welcome (e.g. a missing ratchet tree); restore the
        // storage on failure so a refused Welcome can be retried.
        let snapshot = self.storage_snapshot()?;
        let (gid, group) = match self.join_welcome_inner(welcome, tree) {
            Ok(v) => v,
            Err(e) => {
                self.restore_storage(snapshot)?;
                return Err(e);
            }
        };
        self.groups.insert(gid.clone(), group);
        Ok(gid)
    }

    fn join_welcome_inner(
        &mut self,
        welcome: openmls::prelude::Welcome,
        tree: Option<openmls::prelude::RatchetTreeIn>,
    ) -> Result<(Vec<u8>, MlsGroup), JoinError> {
        let processed = openmls::prelude::ProcessedWelcome::new_from_welcome(
            &self.provider,
            &join_config(),
            welcome,
        )?;
        let gid = processed
            .unverified_group_info()
            .group_id()
            .as_slice()
            .to_vec();
        if self.groups.get(&gid).is_some_and(MlsGroup::is_active) {
            return Err(JoinError::AlreadyMember);
        }
        // A group this client was removed from is replaced by the new one; on
        // failure the old one is put back (the caller restores the storage).
        let old = self.groups.remove(&gid);
        let result = (|| -> Result<MlsGroup, JoinError> {
            if let Some(g) = &old {
                let mut g = MlsGroup::load(self.provider.storage(), g.group_id())
                    .map_err(|_| JoinError::Storage("loading the inactive group"))?
                    .ok_or(JoinError::Storage("inactive group missing"))?;
                g.delete(self.provider.storage())
                    .map_err(|_| JoinError::Storage("deleting the inactive group"))?;
            }
            let staged = processed.into_staged_welcome(&self.provider, tree)?;
            Ok(staged.into_group(&self.provider)?)
        })();
        match result {
            Ok(group) => Ok((gid, group)),
            Err(e) => {
                if let Some(g) = old {
                    self.groups.insert(gid, g);
                }
                Err(e)
            }
        }
    }

    fn storage_snapshot(&self) -> Result<StorageSnapshot, JoinError> {
        Ok(self
            .provider
            .storage()
            .values
            .read()
            .map_err(|_| JoinError::Storage("storage lock poisoned"))?
            .clone())
    }

    fn restore_storage(&self, snapshot: StorageSnapshot) -> Result<(), JoinError> {
        *self
            .provider
            .storage()
            .values
            .write()
            .map_err(|_| JoinError::Storage("storage lock poisoned"))? = snapshot;
        Ok(())
    }

    /// Join by external commit (RFC 9420 §12.4.3.2) from a GroupInfo and the
    /// ratchet tree, optionally carrying AppDataUpdates in the same commit
    /// (allowed since openmls #2095). `pending_proposals` are queued proposals
    /// (`MLSMessage` bytes, protocol-06 §5.6) to cover: openmls covers the
    /// SelfRemoves among them by reference and ignores the rest. Our hub refuses an
    /// external commit that covers any (it re-issues the removals itself), so MIMI
    /// callers pass none (spec/deviations.md, "hub external proposals"). openmls merges the
    /// commit at once; if the hub refuses it, call
    /// [`forget_group`](Self::forget_group). Returns the group id and the
    /// commit bundle.
    pub fn join_by_external_commit(
        &mut self,
        group_info: &[u8],
        ratchet_tree: &[u8],
        pending_proposals: &[Vec<u8>],
        app_data: &[(ComponentId, AppDataOp)],
    ) -> Result<(Vec<u8>, CommitOutput), JoinError> {
        let vgi = decode_group_info(group_info)?;
        let tree = decode_ratchet_tree(ratchet_tree)?;
        let mut proposals = Vec::with_capacity(pending_proposals.len());
        for p in pending_proposals {
            match decode_protocol_message(p)? {
                ProtocolMessage::PublicMessage(m) => proposals.push(*m),
                ProtocolMessage::PrivateMessage(_) => {
                    return Err(DecodeError::WrongBody {
                        expected: "a PublicMessage proposal",
                    }
                    .into())
                }
            }
        }
        let gid = vgi.group_id().as_slice().to_vec();
        let dict = vgi
            .group_context()
            .extensions()
            .app_data_dictionary()
            .map(|e| e.dictionary().clone());
        if self.groups.get(&gid).is_some_and(MlsGroup::is_active) {
            return Err(JoinError::AlreadyMember);
        }
        // A group this client was removed from is replaced by the new one; on
        // failure storage and the old group are restored.
        let snapshot = self.storage_snapshot()?;
        let old = self.groups.remove(&gid);
        let result = (|| {
            if let Some(g) = &old {
                let mut stored = MlsGroup::load(self.provider.storage(), g.group_id())
                    .map_err(|_| JoinError::Storage("loading the inactive group"))?
                    .ok_or(JoinError::Storage("inactive group missing"))?;
                stored
                    .delete(self.provider.storage())
                    .map_err(|_| JoinError::Storage("deleting the inactive group"))?;
            }
            self.external_commit_inner(gid.clone(), vgi, tree, proposals, dict, app_data)
        })();
        match result {
            Ok(v) => Ok(v),
            Err(e) => {
                self.restore_storage(snapshot)?;
                if let Some(g) = old {
                    self.groups.insert(gid, g);
                }
                Err(e)
            }
        }
    }

    fn external_commit_inner(
        &mut self,
        gid: Vec<u8>,
        vgi: openmls::messages::group_info::VerifiableGroupInfo,
        tree: openmls::prelude::RatchetTreeIn,
        proposals: Vec<openmls::prelude::PublicMessageIn>,
        dict: Option<AppDataDictionary>,
        app_data: &[(ComponentId, AppDataOp)],
    ) -> Result<(Vec<u8>, CommitOutput), JoinError> {
        let mut builder = MlsGroup::external_commit_builder()
            .with_ratchet_tree(tree)
            .with_proposals(proposals)
            .with_config(join_config())
            .build_group(&self.provider, vgi, self.credential.clone())?
            .leaf_node_parameters(
                LeafNodeParameters::builder()
                    .with_capabilities(leaf_capabilities())
                    .build(),
            );
        for (id, op) in app_data {
            builder = builder.add_app_data_update_proposal(op.to_proposal(*id));
        }
        let mut builder = builder
            .load_psks(self.provider.storage())
            .map_err(|e| JoinError::Prepare(e.to_string()))?
            .create_group_info(true)
            .use_ratchet_tree_extension(false);
        let changes = resolve_updates(
            self.logic.as_ref(),
            dict.as_ref(),
            builder.app_data_update_proposals(),
        )?;
        builder.with_app_data_dictionary_updates(changes);
        let (group, bundle) = builder
            .build(
                self.provider.rand(),
                self.provider.crypto(),
                &self.signer,
                |_| true,
            )?
            .finalize(&self.provider)?;
        let (commit, _welcome, gi) = bundle.into_messages();
        let gi = gi.ok_or(JoinError::NoGroupInfo)?;
        let out = CommitOutput {
            commit: out_bytes(&commit)?,
            welcome: None,
            group_info: out_bytes(&gi)?,
            ratchet_tree: group.export_ratchet_tree().tls_serialize_detached()?,
        };
        self.groups.insert(gid.clone(), group);
        Ok((gid, out))
    }

    /// Encrypt an application message (PrivateMessage `MLSMessage` bytes).
    pub fn send(&mut self, group_id: &[u8], data: &[u8]) -> Result<Vec<u8>, SendError> {
        let group = self
            .groups
            .get_mut(group_id)
            .ok_or(SendError::UnknownGroup)?;
        let msg = group.create_message(&self.provider, &self.signer, data)?;
        Ok(out_bytes(&msg)?)
    }

    /// Process an incoming handshake or application message (`MLSMessage` bytes)
    /// fanned out by the hub. Proposals are queued; commits are resolved through
    /// the component logic and merged; application messages are decrypted. On
    /// error the group is unchanged.
    pub fn process(&mut self, message: &[u8]) -> Result<Received, ProcessError> {
        let msg = decode_protocol_message(message)?;
        let gid = msg.group_id().as_slice().to_vec();
        let logic = Arc::clone(&self.logic);
        let provider = &self.provider;
        let group = self
            .groups
            .get_mut(&gid)
            .ok_or(ProcessError::UnknownGroup)?;
        if msg.is_handshake_message() && msg.epoch() != group.epoch() {
            return Err(ProcessError::WrongEpoch {
                message: msg.epoch().as_u64(),
                current: group.epoch().as_u64(),
            });
        }
        let msg: ProtocolMessage = msg;
        let processed = group.process_message(provider, msg)?;
        let sender = processed.sender().clone();
        let credential = processed.credential().clone();
        let processed_epoch = processed.epoch().as_u64();
        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(app) => {
                let sender_leaf = match sender {
                    Sender::Member(l) => l.u32(),
                    _ => {
                        return Err(ProcessError::Unsupported(
                            "application message from a non-member",
                        ))
                    }
                };
                Ok(Received::Application {
                    sender_leaf,
                    sender: credential_identity(&credential),
                    data: app.into_bytes(),
                })
            }
            ProcessedMessageContent::ProposalMessage(queued) => {
                if let Proposal::AppDataUpdate(u) = queued.proposal() {
                    let current = group
                        .extensions()
                        .app_data_dictionary()
                        .and_then(|e| e.dictionary().get(&u.component_id()));
                    logic.apply(
                        u.component_id(),
                        current,
                        &[AppDataOp::from_openmls(u.operation())],
                    )?;
                }
                let reference = queued.proposal_reference_ref().as_slice().to_vec();
                let kind = proposal_kind(queued.proposal());
                let known = group
                    .pending_proposals()
                    .any(|q| q.proposal_reference_ref() == queued.proposal_reference_ref());
                if !known {
                    group.store_pending_proposal(provider.storage(), *queued)?;
                }
                Ok(Received::Proposal { reference, kind })
            }
            ProcessedMessageContent::UnresolvedAppDataCommit(unresolved) => {
                let changes = resolve_updates(
                    logic.as_ref(),
                    group
                        .extensions()
                        .app_data_dictionary()
                        .map(|e| e.dictionary()),
                    unresolved.app_data_update_proposals(),
                )?;
                let staged = group.stage_app_data_commit(provider, *unresolved, changes)?;
                Self::finish_commit(
                    group,
                    provider,
                    logic.as_ref(),
                    staged,
                    &sender,
                    &credential,
                )
            }
            ProcessedMessageContent::StagedCommitMessage(staged) => Self::finish_commit(
                group,
                provider,
                logic.as_ref(),
                *staged,
                &sender,
                &credential,
            ),
            ProcessedMessageContent::OwnPendingCommit => {
                group.merge_pending_commit(provider)?;
                Ok(Received::OwnCommit {
                    new_epoch: group.epoch().as_u64(),
                })
            }
            ProcessedMessageContent::OwnPrivateMessage => Ok(Received::OwnApplication {
                epoch: processed_epoch,
            }),
            ProcessedMessageContent::ExternalJoinProposalMessage(_) => {
                Err(ProcessError::Unsupported("external join proposals"))
            }
        }
    }

    fn finish_commit(
        group: &mut MlsGroup,
        provider: &OpenMlsRustCrypto,
        logic: &dyn ComponentLogic,
        staged: openmls::prelude::StagedCommit,
        sender: &Sender,
        credential: &openmls::prelude::Credential,
    ) -> Result<Received, ProcessError> {
        let summary = commit_summary(group.public_group(), &staged, sender, credential)
            .ok_or(ProcessError::Unsupported("committer not in tree"))?;
        logic.check_commit(&summary)?;
        let removed_self = staged.self_removed();
        group.merge_staged_commit(provider, staged)?;
        Ok(Received::Commit {
            new_epoch: group.epoch().as_u64(),
            removed_self,
        })
    }
}

/// The participant-list removals a commit must carry because the hub's queued
/// Remove proposals remove every client of a listed user (protocol-06 §5.3; the
/// rule is [`crate::room::mimi::hub_removed_users`], which the hub enforces): one
/// `ParticipantListUpdate` removing each such user that `requested` does not already
/// remove. Nothing for a group without a MIMI participant list.
fn hub_mandated_removals(
    group: &MlsGroup,
    dict: Option<&AppDataDictionary>,
    requested: &[(ComponentId, AppDataOp)],
) -> Vec<(ComponentId, AppDataOp)> {
    use crate::room::mimi::{
        decode_participants, hub_removed_users, participant_update, PARTICIPANT_LIST,
    };
    let Ok(list) = decode_participants(dict.and_then(|d| d.get(&PARTICIPANT_LIST))) else {
        return Vec::new();
    };
    let external: std::collections::BTreeSet<u32> = group
        .pending_proposals()
        .filter_map(|q| match (q.proposal(), q.sender()) {
            (Proposal::Remove(r), Sender::External(_)) => Some(r.removed().u32()),
            _ => None,
        })
        .collect();
    if external.is_empty() {
        return Vec::new();
    }
    let members: BTreeMap<u32, Vec<u8>> = group
        .members()
        .map(|m| (m.index.u32(), credential_identity(&m.credential)))
        .collect();
    let already: Vec<u32> = requested
        .iter()
        .filter(|(id, _)| *id == PARTICIPANT_LIST)
        .filter_map(|(_, op)| match op {
            AppDataOp::Update(b) => {
                crate::wire::common::decode_exact::<crate::wire::ParticipantListUpdate>(b).ok()
            }
            AppDataOp::Remove => None,
        })
        .flat_map(|u| u.removed_indices)
        .collect();
    let indices: Vec<u32> = hub_removed_users(&list, &members, &external)
        .iter()
        .filter_map(|user| list.iter().position(|(u, _)| u == user))
        .filter_map(|i| u32::try_from(i).ok())
        .filter(|i| !already.contains(i))
        .collect();
    if indices.is_empty() {
        return Vec::new();
    }
    vec![(PARTICIPANT_LIST, participant_update(&[], &indices, &[]))]
}
