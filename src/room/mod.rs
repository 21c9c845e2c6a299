//! The hub's view of a room's MLS group: public state only, no group secrets.
//!
//! [`PublicRoom`] wraps an openmls `PublicGroup` (protocol-06 §5.3: the hub
//! validates every handshake message; §4.3: room state lives in the
//! GroupContext's `app_data_dictionary`). It is bootstrapped from a GroupInfo
//! and a ratchet tree ([`PublicRoom::from_group_info`]), then fed every
//! handshake message ([`PublicRoom::process_handshake`]):
//!
//! * proposals (PublicMessage) are validated, AppDataUpdate proposals are
//!   dry-run through the [`ComponentLogic`], and accepted ones are queued;
//! * commits are validated by openmls; a commit covering AppDataUpdate
//!   proposals comes back as `UnresolvedAppDataCommit` and is resolved through
//!   the component logic, then the whole staged commit is shown to
//!   [`ComponentLogic::check_commit`]; a commit must include every queued
//!   proposal (protocol-06 §5.3) and must come with the committer's GroupInfo.
//!
//! **GroupInfo: kept, not rebuilt.** The hub cannot rebuild a GroupInfo: it has
//! neither the epoch's `external_pub` (derived from the epoch secret) nor a
//! member's signature key. It keeps the committer's GroupInfo after checking
//! it against its own post-commit state: the signature verifies against the
//! signer's leaf in the hub's tree, the tree hash matches, and the GroupContext
//! and confirmation tag are byte-identical to the hub's. Because the hub
//! resolves AppDataUpdate proposals itself, this check also catches a committer
//! whose component logic disagrees with the hub's (the dictionary is part of
//! the GroupContext); the hub cannot check the confirmation tag's MAC.
//!
//! **Transactional.** Every check that can fail on input runs before any state
//! changes. The only step after the merge (the GroupInfo check, which needs the
//! merged tree) runs against a snapshot of the room's storage and restores it
//! on failure, so a rejected message leaves epoch, members, dictionary, queued
//! proposals, GroupInfo and tree unchanged.

pub mod component;
pub mod mimi;
pub mod profile;

use std::collections::BTreeMap;
use std::sync::Arc;

use openmls::group::ProposalStore;
use openmls::prelude::Credential;
use openmls::prelude::{
    CreationFromExternalError, GroupId, MergeCommitError, ProcessedMessageContent, Proposal,
    ProtocolMessage, PublicGroup, PublicProcessMessageError, Sender, StageCommitError,
    StagedCommit,
};
use openmls::prelude::{LeafNodeIndex, ProtocolVersion, Verifiable};
use openmls_rust_crypto::{MemoryStorageError, OpenMlsRustCrypto};
use openmls_traits::crypto::OpenMlsCrypto as _;
use openmls_traits::OpenMlsProvider;
use thiserror::Error;
use tls_codec::{Serialize as _, Size as _};

pub use component::{
    AppDataOp, CommitSummary, Committer, ComponentId, ComponentLogic, ComponentRejection,
    CoveredProposal, Dictionary, ProposalSender, ReplaceLogic,
};
use profile::{
    credential_identity, decode_group_info, decode_protocol_message, decode_ratchet_tree,
    DecodeError, CIPHERSUITE,
};

/// Why a room could not be bootstrapped from a GroupInfo and ratchet tree.
#[derive(Debug, Error)]
pub enum BootstrapError {
    /// The GroupInfo or the tree could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// openmls refused the GroupInfo/tree pair (signature, tree hash, leaf validity).
    #[error("GroupInfo and ratchet tree refused: {0}")]
    Mls(#[from] CreationFromExternalError<MemoryStorageError>),
    /// The group does not follow the mimi-ref MLS profile ([`profile`]).
    #[error("group does not follow the room profile: {0}")]
    Profile(&'static str),
}

/// Why the hub refused a handshake message. The room is unchanged after any of these.
#[derive(Debug, Error)]
pub enum RoomError {
    /// The message, GroupInfo or tree could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Handshake messages must be PublicMessage so the hub can read them (protocol-06 §5.3).
    #[error("handshake messages must be PublicMessage (protocol-06 §5.3)")]
    NotPublicMessage,
    /// The message belongs to another MLS group.
    #[error("message is for group {got}, this room is group {expected}")]
    WrongGroup {
        /// This room's group id (hex).
        expected: String,
        /// The message's group id (hex).
        got: String,
    },
    /// The message is not for the current epoch (protocol-06 §5.3 `wrongEpoch`).
    #[error("message epoch {message} is not the room's current epoch {current}")]
    WrongEpoch {
        /// The epoch in the message.
        message: u64,
        /// The room's current epoch.
        current: u64,
    },
    /// openmls rejected the message (framing, signature, proposal or commit validity).
    #[error("MLS validation failed: {0}")]
    Mls(#[from] PublicProcessMessageError),
    /// openmls could not stage the commit with the resolved AppDataUpdates.
    #[error("commit could not be staged: {0}")]
    Stage(#[from] StageCommitError),
    /// The component logic refused an AppDataUpdate or the commit.
    #[error("component logic refused: {0}")]
    Rejected(#[from] ComponentRejection),
    /// The message carries content the hub does not accept on this path.
    #[error("unsupported message content: {0}")]
    Unsupported(&'static str),
    /// A commit must come with the committer's GroupInfo for the new epoch
    /// (protocol-06 §5.3, the hub keeps it for external joins).
    #[error("a commit must be accompanied by the new epoch's GroupInfo")]
    MissingGroupInfo,
    /// The GroupInfo does not verify against the post-commit tree.
    #[error("GroupInfo refused: {0}")]
    GroupInfoInvalid(#[source] CreationFromExternalError<MemoryStorageError>),
    /// The GroupInfo disagrees with the hub's post-commit state in `field`.
    #[error("GroupInfo disagrees with the hub's post-commit state: {field}")]
    GroupInfoMismatch {
        /// Which part differs (`epoch`, `group_context`, `confirmation_tag`).
        field: &'static str,
    },
    /// The proposal is already queued (a duplicate delivery).
    #[error("proposal already queued")]
    DuplicateProposal,
    /// A commit must include every proposal the hub has queued (protocol-06 §5.3;
    /// for an external commit: every queued SelfRemove).
    #[error("commit omits {missing} queued proposal(s) (protocol-06 §5.3)")]
    OmitsQueuedProposals {
        /// How many queued proposals the commit does not cover.
        missing: usize,
    },
    /// A commit removes or replaces the first `external_senders` entry, the hub's
    /// (its proposals are how the hub acts on a room, protocol-06 §5.3, §7.4).
    #[error("commit removes or replaces the hub's external_senders entry (the first)")]
    ExternalSendersChanged,
    /// An external commit covers queued proposals; the hub re-issues the ones it
    /// can in the new epoch instead (spec/deviations.md, "hub external proposals").
    #[error("an external commit may not cover queued proposals ({covered} covered)")]
    ExternalCoversProposals {
        /// How many queued proposals it covers.
        covered: usize,
    },
    /// The room's storage failed.
    #[error("room storage failed: {0}")]
    Storage(#[from] MemoryStorageError),
    /// Merging the staged commit failed.
    #[error("merge failed: {0}")]
    Merge(#[from] MergeCommitError<MemoryStorageError>),
    /// The room's state could not be restored or serialized (internal error).
    #[error("internal room state error: {0}")]
    Internal(&'static str),
}

/// What a proposal proposes, as the hub reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum ProposalKind {
    /// Add of a client with this credential identity.
    Add(Vec<u8>),
    /// Remove of the client at this leaf.
    Remove(u32),
    /// SelfRemove by the sender.
    SelfRemove,
    /// AppDataUpdate of a component.
    AppDataUpdate(ComponentId, AppDataOp),
    /// Any other proposal type (by its MLS proposal type number).
    Other(u16),
}

/// An accepted, queued proposal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QueuedInfo {
    /// The ProposalRef (RFC 9420 §5.2), the hub's handle for `invalidProposal` answers.
    pub reference: Vec<u8>,
    /// The sender's leaf index, for member senders.
    pub sender_leaf: Option<u32>,
    /// What it proposes.
    pub kind: ProposalKind,
}

/// What an accepted commit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// The epoch the room is in now.
    pub new_epoch: u64,
    /// Who committed.
    pub committer: Committer,
    /// Identities of added clients.
    pub added: Vec<Vec<u8>>,
    /// KeyPackageRefs of the added KeyPackages (protocol-06 §5.3: the hub routes
    /// Welcomes by KeyPackageRef → provider).
    pub added_key_package_refs: Vec<Vec<u8>>,
    /// Leaf index and identity of every removed client.
    pub removed: Vec<(u32, Vec<u8>)>,
    /// ProposalRefs of queued proposals the commit did not cover and that the
    /// epoch change discarded. Only an external commit can leave any: it may
    /// cover SelfRemove proposals only (see [`PublicRoom::process_handshake`]).
    pub dropped_proposals: Vec<Vec<u8>>,
}

/// The outcome of an accepted handshake message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// A proposal, now queued.
    Proposal(QueuedInfo),
    /// A commit, now merged.
    Commit(CommitInfo),
}

/// Everything observable about a [`PublicRoom`], for before/after comparisons
/// (a refused message must leave it identical) and for the equivalence tests'
/// abstraction function.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RoomView {
    /// The MLS group id.
    pub group_id: Vec<u8>,
    /// The epoch.
    pub epoch: u64,
    /// Members: leaf index → credential identity.
    pub members: BTreeMap<u32, Vec<u8>>,
    /// The `app_data_dictionary`.
    pub dictionary: Dictionary,
    /// The queued proposals.
    pub queued: Vec<QueuedInfo>,
    /// The queued proposals' `MLSMessage` bytes.
    pub queued_messages: Vec<Vec<u8>>,
    /// The GroupInfo served for external joins.
    pub group_info: Vec<u8>,
    /// The TLS-encoded ratchet tree.
    pub ratchet_tree: Vec<u8>,
}

/// A saved room state ([`PublicRoom::checkpoint`]).
pub struct Checkpoint {
    storage: std::collections::HashMap<Vec<u8>, Vec<u8>>,
    proposal_messages: Vec<(Vec<u8>, Vec<u8>)>,
    group_info: Vec<u8>,
}

impl std::fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint").finish_non_exhaustive()
    }
}

/// The hub's public view of one room's MLS group.
pub struct PublicRoom {
    provider: OpenMlsRustCrypto,
    group: PublicGroup,
    group_info: Vec<u8>,
    /// The `MLSMessage` bytes of every queued proposal, in arrival order, by ProposalRef.
    proposal_messages: Vec<(Vec<u8>, Vec<u8>)>,
    logic: Arc<dyn ComponentLogic>,
    /// Whether commits may come without a GroupInfo (a follower's copy fed by
    /// fanout, which carries none); the hub always requires one.
    group_info_optional: bool,
    /// Whether an external commit may cover queued proposals (a follower's copy
    /// follows whatever its hub accepted; the hub refuses it).
    allow_external_coverage: bool,
}

impl std::fmt::Debug for PublicRoom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicRoom")
            .field("group_id", &hex::encode(self.group.group_id().as_slice()))
            .field("epoch", &self.epoch())
            .finish_non_exhaustive()
    }
}

fn hex_id(id: &GroupId) -> String {
    hex::encode(id.as_slice())
}

/// Classify a proposal for reporting.
pub(crate) fn proposal_kind(p: &Proposal) -> ProposalKind {
    match p {
        Proposal::Add(add) => ProposalKind::Add(credential_identity(
            add.key_package().leaf_node().credential(),
        )),
        Proposal::Remove(r) => ProposalKind::Remove(r.removed().u32()),
        Proposal::SelfRemove => ProposalKind::SelfRemove,
        Proposal::AppDataUpdate(u) => {
            ProposalKind::AppDataUpdate(u.component_id(), AppDataOp::from_openmls(u.operation()))
        }
        other => ProposalKind::Other(u16::from(other.proposal_type())),
    }
}

impl PublicRoom {
    /// Bootstrap the hub's view from a GroupInfo (`MLSMessage` bytes) and the
    /// TLS-encoded ratchet tree. The GroupInfo signature, the tree hash and every
    /// leaf are verified; the group must follow the room [`profile`].
    pub fn from_group_info(
        group_info: &[u8],
        ratchet_tree: &[u8],
        logic: Arc<dyn ComponentLogic>,
    ) -> Result<Self, BootstrapError> {
        let vgi = decode_group_info(group_info)?;
        let tree = decode_ratchet_tree(ratchet_tree)?;
        if vgi.ciphersuite() != CIPHERSUITE {
            return Err(BootstrapError::Profile("ciphersuite is not the MTI suite"));
        }
        let provider = OpenMlsRustCrypto::default();
        let (group, _) = PublicGroup::from_external(
            provider.crypto(),
            provider.storage(),
            tree,
            vgi,
            ProposalStore::new(),
        )?;
        let required = group
            .required_capabilities()
            .ok_or(BootstrapError::Profile(
                "no required_capabilities extension",
            ))?;
        if !required
            .extension_types()
            .contains(&openmls::prelude::ExtensionType::AppDataDictionary)
            || !required
                .proposal_types()
                .contains(&openmls::prelude::ProposalType::AppDataUpdate)
            || !required
                .proposal_types()
                .contains(&openmls::prelude::ProposalType::SelfRemove)
        {
            return Err(BootstrapError::Profile(
                "required_capabilities lacks app_data_dictionary, AppDataUpdate or SelfRemove",
            ));
        }
        Ok(Self {
            provider,
            group,
            group_info: group_info.to_vec(),
            proposal_messages: Vec::new(),
            logic,
            group_info_optional: false,
            allow_external_coverage: false,
        })
    }

    /// Save the room's whole state (storage, queued proposal messages, GroupInfo)
    /// so that a multi-message transaction (a proposal with `moreProposals`,
    /// protocol-06 §5.3) can be undone with [`rollback`](Self::rollback).
    pub fn checkpoint(&self) -> Result<Checkpoint, RoomError> {
        Ok(Checkpoint {
            storage: self
                .provider
                .storage()
                .values
                .read()
                .map_err(|_| RoomError::Internal("storage lock poisoned"))?
                .clone(),
            proposal_messages: self.proposal_messages.clone(),
            group_info: self.group_info.clone(),
        })
    }

    /// Restore a state saved by [`checkpoint`](Self::checkpoint).
    pub fn rollback(&mut self, checkpoint: Checkpoint) -> Result<(), RoomError> {
        let group_id = self.group.group_id().clone();
        self.restore(checkpoint.storage, &group_id)?;
        self.proposal_messages = checkpoint.proposal_messages;
        self.group_info = checkpoint.group_info;
        Ok(())
    }

    /// Accept commits without a GroupInfo (for a follower's copy of the room,
    /// fed by `/notify` fanout, which carries none, protocol-06 §5.5). The
    /// GroupInfo kept is then cleared at each such commit.
    pub fn set_group_info_optional(&mut self, optional: bool) {
        self.group_info_optional = optional;
        self.allow_external_coverage = optional;
    }

    /// The group's `external_senders` extension entries (RFC 9420 §12.1.8.1), in
    /// order: the index of the hub's entry is the `sender_index` of its proposals.
    pub fn external_senders(&self) -> Vec<openmls::prelude::ExternalSender> {
        self.group
            .group_context()
            .extensions()
            .external_senders()
            .map(|e| e.to_vec())
            .unwrap_or_default()
    }

    /// A full snapshot of the observable room state.
    pub fn view(&self) -> Result<RoomView, RoomError> {
        Ok(RoomView {
            group_id: self.group_id().to_vec(),
            epoch: self.epoch(),
            members: self.members(),
            dictionary: self.dictionary(),
            queued: self.queued_proposals()?,
            queued_messages: self.queued_proposal_messages(),
            group_info: self.group_info.clone(),
            ratchet_tree: self.ratchet_tree()?,
        })
    }

    /// The MLS group id.
    pub fn group_id(&self) -> &[u8] {
        self.group.group_id().as_slice()
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.group.group_context().epoch().as_u64()
    }

    /// Current members: leaf index → credential identity.
    pub fn members(&self) -> BTreeMap<u32, Vec<u8>> {
        member_identities(&self.group)
    }

    /// The credential identity of the member at `leaf`, if that leaf is occupied
    /// (one entry of [`members`](Self::members), without building the whole map).
    pub fn member(&self, leaf: u32) -> Option<Vec<u8>> {
        self.group
            .leaf(LeafNodeIndex::new(leaf))
            .map(|l| credential_identity(l.credential()))
    }

    /// The current `app_data_dictionary`.
    pub fn dictionary(&self) -> Dictionary {
        component::snapshot(
            self.group
                .group_context()
                .extensions()
                .app_data_dictionary()
                .map(|e| e.dictionary()),
        )
    }

    /// The queued proposals, in queue order (read from the room's storage,
    /// which `PublicGroup` keeps in step with its in-memory queue).
    pub fn queued_proposals(&self) -> Result<Vec<QueuedInfo>, RoomError> {
        Ok(self
            .group
            .queued_proposals(self.provider.storage())?
            .into_iter()
            .map(|(r, q)| QueuedInfo {
                reference: r.as_slice().to_vec(),
                sender_leaf: match q.sender() {
                    Sender::Member(l) => Some(l.u32()),
                    _ => None,
                },
                kind: proposal_kind(q.proposal()),
            })
            .collect())
    }

    /// Check the queued proposals as a whole against the component logic
    /// ([`ComponentLogic::check_pending`]): the state after all of them must be
    /// reachable by a valid commit (protocol-06 §5.3, §7.1). The hub calls this after
    /// accepting a proposal bundle and rolls back when it fails.
    pub fn check_pending(&self) -> Result<(), RoomError> {
        let queued = self.group.queued_proposals(self.provider.storage())?;
        let members = self.members();
        let identity_at = |l: u32| members.get(&l).cloned();
        let mut removed = Vec::new();
        let mut proposals = Vec::new();
        let mut updates: BTreeMap<ComponentId, Vec<AppDataOp>> = BTreeMap::new();
        let mut committer = None;
        for (_, q) in &queued {
            let sender = match q.sender() {
                Sender::Member(l) => {
                    let identity =
                        identity_at(l.u32()).ok_or(RoomError::Internal("proposer not in tree"))?;
                    committer = Some(Committer::Member {
                        leaf: l.u32(),
                        identity: identity.clone(),
                    });
                    ProposalSender::Member {
                        leaf: l.u32(),
                        identity,
                    }
                }
                Sender::External(_) => ProposalSender::External,
                Sender::NewMemberCommit | Sender::NewMemberProposal => continue,
            };
            let leaf = match (q.proposal(), q.sender()) {
                (Proposal::Remove(r), _) => Some(r.removed().u32()),
                (Proposal::SelfRemove, Sender::Member(l)) => Some(l.u32()),
                _ => None,
            };
            if let Some(id) = leaf.and_then(identity_at) {
                removed.push((leaf.unwrap_or_default(), id));
            }
            if let Proposal::AppDataUpdate(u) = q.proposal() {
                updates
                    .entry(u.component_id())
                    .or_default()
                    .push(AppDataOp::from_openmls(u.operation()));
            }
            proposals.push(CoveredProposal {
                sender,
                kind: proposal_kind(q.proposal()),
            });
        }
        let Some(committer) = committer else {
            return Ok(()); // only external proposals: the hub's own
        };
        let old_dictionary = self.dictionary();
        let mut new_dictionary = old_dictionary.clone();
        for (cid, ops) in updates {
            match self
                .logic
                .apply(cid, old_dictionary.get(&cid).map(Vec::as_slice), &ops)?
            {
                Some(v) => {
                    new_dictionary.insert(cid, v);
                }
                None => {
                    new_dictionary.remove(&cid);
                }
            }
        }
        let summary = CommitSummary {
            new_epoch: self.epoch() + 1,
            committer,
            added: Vec::new(),
            removed,
            old_dictionary,
            new_dictionary,
            members,
            proposals,
        };
        self.logic.check_pending(&summary)?;
        Ok(())
    }

    /// The ProposalRefs of the queued proposals, in arrival order.
    pub fn queued_refs(&self) -> Vec<Vec<u8>> {
        self.proposal_messages
            .iter()
            .map(|(r, _)| r.clone())
            .collect()
    }

    /// Whether the queued ProposalRefs are exactly `refs`, in order (compares with
    /// [`queued_refs`](Self::queued_refs) without building it).
    pub fn queued_refs_are(&self, refs: &[Vec<u8>]) -> bool {
        self.proposal_messages.len() == refs.len()
            && self
                .proposal_messages
                .iter()
                .zip(refs)
                .all(|((r, _), q)| r == q)
    }

    /// The `MLSMessage` bytes of the queued proposals, in arrival order: what
    /// the hub hands an external joiner with the GroupInfo (protocol-06 §5.6)
    /// so its external commit can cover queued SelfRemove proposals.
    pub fn queued_proposal_messages(&self) -> Vec<Vec<u8>> {
        self.proposal_messages
            .iter()
            .map(|(_, m)| m.clone())
            .collect()
    }

    /// The GroupInfo the hub serves for external joins (`MLSMessage` bytes):
    /// the last committer's, checked (see the module doc).
    pub fn group_info(&self) -> &[u8] {
        &self.group_info
    }

    /// The TLS-encoded ratchet tree of the current epoch.
    pub fn ratchet_tree(&self) -> Result<Vec<u8>, RoomError> {
        self.group
            .export_ratchet_tree()
            .tls_serialize_detached()
            .map_err(|_| RoomError::Internal("ratchet tree serialization"))
    }

    /// Check an application message for `/submitMessage` (protocol-06 §5.4):
    /// it must be a PrivateMessage of this group carrying application content.
    /// Returns its epoch; whether that epoch is recent enough is the hub's call.
    pub fn check_application_message(&self, message: &[u8]) -> Result<u64, RoomError> {
        match decode_protocol_message(message)? {
            ProtocolMessage::PublicMessage(_) => Err(RoomError::Unsupported(
                "application messages must be PrivateMessage (protocol-06 §5.4)",
            )),
            ProtocolMessage::PrivateMessage(m) => {
                if m.group_id() != self.group.group_id() {
                    return Err(RoomError::WrongGroup {
                        expected: hex_id(self.group.group_id()),
                        got: hex_id(m.group_id()),
                    });
                }
                if m.content_type() != openmls::prelude::ContentType::Application {
                    return Err(RoomError::Unsupported(
                        "handshake content in a PrivateMessage (protocol-06 §5.3)",
                    ));
                }
                Ok(m.epoch().as_u64())
            }
        }
    }

    /// [`check_application_message`](Self::check_application_message) of an
    /// `MLSMessage` already validated by the wire codec: a PrivateMessage's clear
    /// header is read in place instead of parsing the message again (protocol-06 §5.4);
    /// anything else takes the full check.
    pub fn check_application(
        &self,
        message: &crate::wire::mls::MlsMessage,
    ) -> Result<u64, RoomError> {
        let Some((group_id, epoch, content_type)) = message.private_message_header() else {
            return self.check_application_message(message.as_bytes());
        };
        if group_id != self.group.group_id().as_slice() {
            return Err(RoomError::WrongGroup {
                expected: hex_id(self.group.group_id()),
                got: hex::encode(group_id),
            });
        }
        if content_type != openmls::prelude::ContentType::Application {
            return Err(RoomError::Unsupported(
                "handshake content in a PrivateMessage (protocol-06 §5.3)",
            ));
        }
        Ok(epoch)
    }

    /// Validate and apply one handshake message (`MLSMessage` bytes). A commit
    /// must come with the committer's GroupInfo for the new epoch. On error the
    /// room is unchanged.
    pub fn process_handshake(
        &mut self,
        message: &[u8],
        group_info: Option<&[u8]>,
    ) -> Result<Accepted, RoomError> {
        let msg = decode_protocol_message(message)?;
        let public = match msg {
            ProtocolMessage::PrivateMessage(_) => return Err(RoomError::NotPublicMessage),
            ProtocolMessage::PublicMessage(p) => p,
        };
        if public.group_id() != self.group.group_id() {
            return Err(RoomError::WrongGroup {
                expected: hex_id(self.group.group_id()),
                got: hex_id(public.group_id()),
            });
        }
        let current = self.group.group_context().epoch();
        if public.epoch() != current {
            return Err(RoomError::WrongEpoch {
                message: public.epoch().as_u64(),
                current: current.as_u64(),
            });
        }
        let processed = self
            .group
            .process_message(self.provider.crypto(), ProtocolMessage::from(*public))?;
        let sender = processed.sender().clone();
        let credential = processed.credential().clone();
        match processed.into_content() {
            ProcessedMessageContent::ProposalMessage(queued) => {
                let reference = queued.proposal_reference_ref().as_slice();
                if self.proposal_messages.iter().any(|(r, _)| r == reference) {
                    return Err(RoomError::DuplicateProposal);
                }
                if let Proposal::AppDataUpdate(u) = queued.proposal() {
                    // Dry run: the update must apply to the current state on its own.
                    let cur = self.dictionary();
                    self.logic.apply(
                        u.component_id(),
                        cur.get(&u.component_id()).map(Vec::as_slice),
                        &[AppDataOp::from_openmls(u.operation())],
                    )?;
                }
                let info = QueuedInfo {
                    reference: queued.proposal_reference_ref().as_slice().to_vec(),
                    sender_leaf: match queued.sender() {
                        Sender::Member(l) => Some(l.u32()),
                        _ => None,
                    },
                    kind: proposal_kind(queued.proposal()),
                };
                self.group.add_proposal(self.provider.storage(), *queued)?;
                self.proposal_messages
                    .push((info.reference.clone(), message.to_vec()));
                Ok(Accepted::Proposal(info))
            }
            ProcessedMessageContent::UnresolvedAppDataCommit(unresolved) => {
                let dict = self
                    .group
                    .group_context()
                    .extensions()
                    .app_data_dictionary()
                    .map(|e| e.dictionary());
                let changes = component::resolve_updates(
                    self.logic.as_ref(),
                    dict,
                    unresolved.app_data_update_proposals(),
                )?;
                let staged = self.group.stage_app_data_commit(
                    self.provider.crypto(),
                    *unresolved,
                    changes,
                )?;
                self.finish_commit(staged, &sender, &credential, group_info)
            }
            ProcessedMessageContent::StagedCommitMessage(staged) => {
                self.finish_commit(*staged, &sender, &credential, group_info)
            }
            ProcessedMessageContent::ExternalJoinProposalMessage(_) => Err(RoomError::Unsupported(
                "external join proposals (use an external commit)",
            )),
            ProcessedMessageContent::ApplicationMessage(_) => Err(RoomError::Unsupported(
                "application content in a PublicMessage (protocol-06 §5.4)",
            )),
            _ => Err(RoomError::Unsupported("unexpected processed content")),
        }
    }

    fn summarize(
        &self,
        staged: &StagedCommit,
        sender: &Sender,
        credential: &Credential,
    ) -> Result<CommitSummary, RoomError> {
        commit_summary(&self.group, staged, sender, credential)
            .ok_or(RoomError::Internal("committer not in tree"))
    }

    fn finish_commit(
        &mut self,
        staged: StagedCommit,
        sender: &Sender,
        credential: &Credential,
        group_info: Option<&[u8]>,
    ) -> Result<Accepted, RoomError> {
        // protocol-06 §5.3: a commit must include the proposals the hub queued.
        // An external commit cannot cover proposals by reference (RFC 9420
        // §12.4.3.2) except SelfRemove (mls-extensions), so for it only the
        // queued SelfRemoves are required and the rest is discarded with the
        // epoch (see spec/deviations.md, "openmls layer").
        let covered: Vec<Vec<u8>> = staged
            .queued_proposals()
            .map(|q| q.proposal_reference_ref().as_slice().to_vec())
            .collect();
        let external = matches!(sender, Sender::NewMemberCommit);
        // The hub's entry, the first of external_senders, stays (spec/deviations.md,
        // "hub external proposals"); other entries (followers, protocol-06 §7.4) may come
        // and go.
        let first = |e: Option<&openmls::extensions::ExternalSendersExtension>| {
            e.and_then(|e| e.first().cloned())
        };
        let hub_entry = first(self.group.group_context().extensions().external_senders());
        if hub_entry.is_some()
            && hub_entry != first(staged.group_context().extensions().external_senders())
        {
            return Err(RoomError::ExternalSendersChanged);
        }
        let mut missing = 0;
        let mut dropped_proposals = Vec::new();
        // openmls commits a member's own queued proposals by value; a by-value
        // proposal identical to a queued one from the same sender covers it.
        let by_value_copy: Vec<Vec<u8>> = self
            .group
            .queued_proposals(self.provider.storage())?
            .into_iter()
            .filter(|(_, q)| {
                staged
                    .queued_proposals()
                    .any(|s| s.sender() == q.sender() && s.proposal() == q.proposal())
            })
            .map(|(r, _)| r.as_slice().to_vec())
            .collect();
        let mut covered_by_external = 0;
        for q in self.queued_proposals()? {
            if covered.contains(&q.reference) || by_value_copy.contains(&q.reference) {
                covered_by_external += usize::from(external);
                continue;
            }
            if external {
                dropped_proposals.push(q.reference);
            } else {
                missing += 1;
            }
        }
        if missing > 0 {
            return Err(RoomError::OmitsQueuedProposals { missing });
        }
        // An external commit covers no queued proposal (RFC 9420 §12.4.3.2); every
        // queued one is invalidated and the hub re-issues what it can (a SelfRemove or
        // Remove as its own Remove), so a leave is carried out whole by the next
        // commit instead of half by this one (spec/deviations.md, equivalence 6).
        if covered_by_external > 0 && !self.allow_external_coverage {
            return Err(RoomError::ExternalCoversProposals {
                covered: covered_by_external,
            });
        }
        let summary = self.summarize(&staged, sender, credential)?;
        self.logic.check_commit(&summary)?;
        let vgi = match group_info {
            Some(gi_bytes) => Some(self.decode_group_info_for(gi_bytes, staged.epoch())?),
            None if self.group_info_optional => None,
            None => return Err(RoomError::MissingGroupInfo),
        };
        let added_key_package_refs = staged
            .add_proposals()
            .filter_map(|a| {
                a.add_proposal()
                    .key_package()
                    .hash_ref(self.provider.crypto())
                    .ok()
                    .map(|r| r.as_slice().to_vec())
            })
            .collect();

        // Snapshot, merge, then check the GroupInfo against the merged state.
        let snapshot = self
            .provider
            .storage()
            .values
            .read()
            .map_err(|_| RoomError::Internal("storage lock poisoned"))?
            .clone();
        let group_id = self.group.group_id().clone();
        let merged = self.group.merge_commit(self.provider.storage(), staged);
        let checked = merged
            .map_err(RoomError::from)
            .and_then(|()| vgi.map_or(Ok(()), |v| self.check_group_info(v)));
        if let Err(e) = checked {
            self.restore(snapshot, &group_id)?;
            return Err(e);
        }
        // Without a GroupInfo (a follower's copy) the kept one is stale: drop it.
        self.group_info = group_info.map(<[u8]>::to_vec).unwrap_or_default();
        self.proposal_messages.clear();
        Ok(Accepted::Commit(CommitInfo {
            new_epoch: self.epoch(),
            committer: summary.committer,
            added: summary.added,
            added_key_package_refs,
            removed: summary.removed,
            dropped_proposals,
        }))
    }

    /// Decode a committer's GroupInfo and check that it is for `epoch` of this group
    /// (the checks that need no merged state; protocol-06 §5.3).
    fn decode_group_info_for(
        &self,
        group_info: &[u8],
        epoch: openmls::prelude::GroupEpoch,
    ) -> Result<openmls::messages::group_info::VerifiableGroupInfo, RoomError> {
        let vgi = decode_group_info(group_info)?;
        if vgi.epoch() != epoch {
            return Err(RoomError::GroupInfoMismatch { field: "epoch" });
        }
        if vgi.group_id() != self.group.group_id() {
            return Err(RoomError::GroupInfoMismatch { field: "group_id" });
        }
        Ok(vgi)
    }

    /// Run the GroupInfo check a commit's GroupInfo goes through (decode, epoch, group,
    /// then [`check_group_info`](Self::check_group_info)'s signer, signature, tree
    /// hash, version, GroupContext and confirmation tag) against the room's *current*
    /// state, without changing it: `Ok` for the GroupInfo of the epoch the room is in.
    /// For measuring and testing that check on its own (protocol-06 §5.3).
    pub fn verify_group_info(&self, group_info: &[u8]) -> Result<(), RoomError> {
        let vgi = self.decode_group_info_for(group_info, self.group.group_context().epoch())?;
        self.check_group_info(vgi)
    }

    /// Check the committer's GroupInfo against the hub's merged state without
    /// rebuilding a group from the tree (protocol-06 §5.3; RFC 9420 §12.4.3):
    /// the hub's tree was validated leaf by leaf as openmls processed each
    /// commit, so only what the GroupInfo itself adds is checked here, in the
    /// order `PublicGroup::from_external` checks it (so the same error is
    /// reported): the signer is a member of the new tree, the signature
    /// verifies against that leaf's key, the tree hash and protocol version are
    /// the hub's, then the whole GroupContext and the confirmation tag are
    /// byte-identical to the hub's. See `spec/deviations.md` ("openmls layer")
    /// for the one check of the rebuild that is not repeated: leaf lifetimes.
    fn check_group_info(
        &self,
        vgi: openmls::messages::group_info::VerifiableGroupInfo,
    ) -> Result<(), RoomError> {
        let ours = self.group.group_context();
        let ciphersuite = vgi.ciphersuite();
        if self.provider.crypto().supports(ciphersuite).is_err() {
            return Err(RoomError::GroupInfoInvalid(
                CreationFromExternalError::UnsupportedCiphersuite(ciphersuite),
            ));
        }
        if ciphersuite != ours.ciphersuite() {
            // The rebuild would have parsed the hub's tree under another suite and
            // failed; the GroupContext differs in any case.
            return Err(RoomError::GroupInfoMismatch {
                field: "group_context",
            });
        }
        let parts = GroupInfoParts::split(&vgi)?;
        // RFC 9420 §12.4.3.1: the signer must be a member of the (new) tree.
        let signer = self.group.leaf(LeafNodeIndex::new(parts.signer)).ok_or(
            RoomError::GroupInfoInvalid(CreationFromExternalError::UnknownSender),
        )?;
        let key = signer
            .signature_key()
            .clone()
            .into_signature_public_key_enriched(ciphersuite.signature_algorithm());
        vgi.verify_no_out(self.provider.crypto(), &key)
            .map_err(|_| {
                RoomError::GroupInfoInvalid(CreationFromExternalError::InvalidGroupInfoSignature)
            })?;
        let theirs = vgi.group_context();
        if theirs.tree_hash() != ours.tree_hash() {
            return Err(RoomError::GroupInfoInvalid(
                CreationFromExternalError::TreeHashMismatch,
            ));
        }
        if theirs.protocol_version() != ProtocolVersion::Mls10 {
            return Err(RoomError::GroupInfoInvalid(
                CreationFromExternalError::UnsupportedMlsVersion,
            ));
        }
        let ours_bytes = ours
            .tls_serialize_detached()
            .map_err(|_| RoomError::Internal("group context serialization"))?;
        if parts.group_context != ours_bytes.as_slice() {
            return Err(RoomError::GroupInfoMismatch {
                field: "group_context",
            });
        }
        let tag = self
            .group
            .confirmation_tag()
            .tls_serialize_detached()
            .map_err(|_| RoomError::Internal("confirmation tag serialization"))?;
        if parts.confirmation_tag != tag.as_slice() {
            return Err(RoomError::GroupInfoMismatch {
                field: "confirmation_tag",
            });
        }
        Ok(())
    }

    fn restore(
        &mut self,
        snapshot: std::collections::HashMap<Vec<u8>, Vec<u8>>,
        group_id: &GroupId,
    ) -> Result<(), RoomError> {
        *self
            .provider
            .storage()
            .values
            .write()
            .map_err(|_| RoomError::Internal("storage lock poisoned"))? = snapshot;
        self.group = PublicGroup::load(self.provider.storage(), group_id)?
            .ok_or(RoomError::Internal("room state missing after restore"))?;
        Ok(())
    }
}

/// The members of `group`: leaf index → credential identity. Performance: read from
/// the tree's leaves in place; openmls's `members()` clones every leaf's credential
/// and both keys into a `Member` first (`tests::member_identities_match_openmls_members`).
fn member_identities(group: &PublicGroup) -> BTreeMap<u32, Vec<u8>> {
    group
        .treesync()
        .full_leaves()
        .map(|(index, leaf)| (index.u32(), credential_identity(leaf.credential())))
        .collect()
}

/// Build the [`CommitSummary`] of a staged commit against the pre-commit
/// `group`. `None` if a member sender is not in the tree (cannot happen for a
/// commit openmls validated).
pub(crate) fn commit_summary(
    group: &PublicGroup,
    staged: &StagedCommit,
    sender: &Sender,
    credential: &Credential,
) -> Option<CommitSummary> {
    let identity_at = |leaf: openmls::prelude::LeafNodeIndex| {
        group
            .leaf(leaf)
            .map(|l| credential_identity(l.credential()))
    };
    let committer = match sender {
        Sender::Member(leaf) => Committer::Member {
            leaf: leaf.u32(),
            identity: identity_at(*leaf)?,
        },
        _ => Committer::NewMember {
            identity: credential_identity(credential),
        },
    };
    let added = staged
        .add_proposals()
        .map(|a| credential_identity(a.add_proposal().key_package().leaf_node().credential()))
        .collect();
    let mut removed: Vec<(u32, Vec<u8>)> = Vec::new();
    for q in staged.queued_proposals() {
        let leaf = match (q.proposal(), q.sender()) {
            (Proposal::Remove(r), _) => r.removed(),
            (Proposal::SelfRemove, Sender::Member(l)) => *l,
            _ => continue,
        };
        if let Some(id) = identity_at(leaf) {
            removed.push((leaf.u32(), id));
        }
    }
    let old_dictionary = component::snapshot(
        group
            .group_context()
            .extensions()
            .app_data_dictionary()
            .map(|e| e.dictionary()),
    );
    let new_dictionary = component::snapshot(
        staged
            .group_context()
            .extensions()
            .app_data_dictionary()
            .map(|e| e.dictionary()),
    );
    let members = member_identities(group);
    let mut proposals = Vec::new();
    for q in staged.queued_proposals() {
        let sender = match q.sender() {
            Sender::Member(l) => ProposalSender::Member {
                leaf: l.u32(),
                identity: identity_at(*l)?,
            },
            Sender::External(_) => ProposalSender::External,
            Sender::NewMemberCommit | Sender::NewMemberProposal => ProposalSender::NewMember {
                identity: credential_identity(credential),
            },
        };
        proposals.push(CoveredProposal {
            sender,
            kind: proposal_kind(q.proposal()),
        });
    }
    Some(CommitSummary {
        new_epoch: staged.epoch().as_u64(),
        committer,
        added,
        removed,
        old_dictionary,
        new_dictionary,
        members,
        proposals,
    })
}

/// The fields of a GroupInfo's `GroupInfoTBS` (RFC 9420 §12.4.3) that openmls
/// 0.9.2 does not expose on `VerifiableGroupInfo` (`signer` and
/// `confirmation_tag` are crate-private), cut out of its TLS encoding:
/// `group_context || extensions || confirmation_tag || signer || signature`.
struct GroupInfoParts {
    /// The TLS-encoded GroupContext.
    group_context: Vec<u8>,
    /// The TLS-encoded confirmation tag (`opaque<V>` MAC).
    confirmation_tag: Vec<u8>,
    /// The signer's leaf index.
    signer: u32,
}

impl GroupInfoParts {
    fn split(vgi: &openmls::messages::group_info::VerifiableGroupInfo) -> Result<Self, RoomError> {
        const MALFORMED: RoomError = RoomError::Internal("GroupInfo re-encoding");
        let bytes = vgi.tls_serialize_detached().map_err(|_| MALFORMED)?;
        let context_len = vgi.group_context().tls_serialized_len();
        let tag_start = context_len + vgi.extensions().tls_serialized_len();
        let signer_end = bytes
            .len()
            .checked_sub(Verifiable::signature(vgi).tls_serialized_len())
            .ok_or(MALFORMED)?;
        let tag_end = signer_end.checked_sub(4).ok_or(MALFORMED)?;
        let group_context = bytes.get(..context_len).ok_or(MALFORMED)?.to_vec();
        let confirmation_tag = bytes.get(tag_start..tag_end).ok_or(MALFORMED)?.to_vec();
        let signer_bytes: [u8; 4] = bytes
            .get(tag_end..signer_end)
            .and_then(|b| b.try_into().ok())
            .ok_or(MALFORMED)?;
        Ok(Self {
            group_context,
            confirmation_tag,
            signer: u32::from_be_bytes(signer_bytes),
        })
    }
}

#[cfg(test)]
mod tests {
    //! The GroupInfo check of a commit (protocol-06 §5.3; RFC 9420 §12.4.3), one field
    //! wrong at a time: each forged GroupInfo is re-signed with the committer's key
    //! (so only the mutated field is wrong), refused with its own error, and leaves the
    //! room unchanged; the unmodified re-signed GroupInfo is accepted (the forging itself
    //! is faithful).
    use super::*;
    use crate::client::{Client, CommitRequest};
    use crate::uri::MimiUri;

    const GID: &[u8] = b"mimi://a.example/r/groupinfo-check";
    const METADATA: ComponentId = 0x0023;

    fn client(domain: &str, id: &str) -> Client {
        Client::new(MimiUri::client(domain, id).unwrap(), Arc::new(ReplaceLogic)).unwrap()
    }

    /// A room of alice (leaf 0) and bob (leaf 1) at epoch 1, and alice's pending
    /// metadata commit with its GroupInfo.
    struct Fixture {
        hub: PublicRoom,
        alice: Client,
        commit: Vec<u8>,
        group_info: Vec<u8>,
    }

    fn fixture() -> Fixture {
        let mut alice = client("a.example", "alice-1");
        let bob = client("b.example", "bob-1");
        let initial: Dictionary = [(METADATA, b"room".to_vec())].into_iter().collect();
        alice.create_group(GID, &initial).unwrap();
        alice
            .commit(
                GID,
                &CommitRequest {
                    adds: vec![bob.key_package().unwrap()],
                    ..CommitRequest::default()
                },
            )
            .unwrap();
        alice.merge_pending_commit(GID).unwrap();
        let bundle = alice.group_info(GID).unwrap();
        let hub = PublicRoom::from_group_info(
            &bundle.group_info,
            &bundle.ratchet_tree,
            Arc::new(ReplaceLogic),
        )
        .unwrap();
        let out = alice
            .commit(
                GID,
                &CommitRequest {
                    app_data: vec![(METADATA, AppDataOp::Update(b"renamed".to_vec()))],
                    ..CommitRequest::default()
                },
            )
            .unwrap();
        Fixture {
            hub,
            alice,
            commit: out.commit,
            group_info: out.group_info,
        }
    }

    /// The in-place header read answers as the full parse of `check_application_message`.
    #[test]
    fn check_application_reads_the_header_as_the_full_check_does() {
        let mut f = fixture();
        f.alice.discard_pending_commit(GID).unwrap();
        let mut carol = client("c.example", "carol-1");
        carol
            .create_group(b"mimi://c.example/r/other", &Dictionary::new())
            .unwrap();
        let messages = vec![
            f.alice.send(GID, b"hello").unwrap(),
            f.alice.send(GID, &[9u8; 1024]).unwrap(),
            carol
                .send(b"mimi://c.example/r/other", b"elsewhere")
                .unwrap(),
            f.commit.clone(),
            f.group_info.clone(),
        ];
        let mut oks = 0;
        for m in &messages {
            let wire = crate::wire::mls::MlsMessage::from_bytes(m).unwrap();
            let fast = f.hub.check_application(&wire).map_err(|e| format!("{e:?}"));
            let slow = f
                .hub
                .check_application_message(m)
                .map_err(|e| format!("{e:?}"));
            assert_eq!(fast, slow);
            oks += usize::from(fast.is_ok());
        }
        assert_eq!(oks, 2, "alice's two messages pass, the others do not");
    }

    /// `(header length, value length)` of the MLS variable-length vector at `pos`.
    fn vl_at(b: &[u8], pos: usize) -> (usize, usize) {
        match b[pos] >> 6 {
            0 => (1, usize::from(b[pos] & 0x3f)),
            1 => (
                2,
                usize::from(u16::from_be_bytes([b[pos] & 0x3f, b[pos + 1]])),
            ),
            _ => (
                4,
                u32::from_be_bytes([b[pos] & 0x3f, b[pos + 1], b[pos + 2], b[pos + 3]]) as usize,
            ),
        }
    }

    fn vl(out: &mut Vec<u8>, data: &[u8]) {
        let n = data.len();
        if n < 64 {
            out.push(n as u8);
        } else {
            out.extend_from_slice(&((n as u16) | 0x4000).to_be_bytes());
        }
        out.extend_from_slice(data);
    }

    /// Offsets into a `GroupInfoTBS` (the GroupInfo after the 4-byte `MLSMessage`
    /// header, up to the signature).
    struct Layout {
        /// `cipher_suite` (the `version` is at 0).
        suite: usize,
        /// Last byte of `group_id`.
        group_id_last: usize,
        /// `epoch` (8 bytes).
        epoch: usize,
        /// First byte of `tree_hash`'s value.
        tree_hash: usize,
        /// First byte of `confirmed_transcript_hash`'s value.
        transcript_hash: usize,
        /// First byte of the `confirmation_tag` value.
        tag: usize,
        /// `signer` (4 bytes).
        signer: usize,
        /// Length of the TBS.
        tbs_len: usize,
    }

    fn layout(gi: &[u8]) -> Layout {
        let b = &gi[4..];
        let skip = |pos: usize| {
            let (h, n) = vl_at(b, pos);
            pos + h + n
        };
        let suite = 2;
        let gid = 4;
        let (h, n) = vl_at(b, gid);
        let epoch = gid + h + n;
        let tree = epoch + 8;
        let transcript = skip(tree);
        let gc_ext = skip(transcript);
        let gi_ext = skip(gc_ext);
        let tag = skip(gi_ext);
        let signer = skip(tag);
        let tbs_len = signer + 4;
        Layout {
            suite,
            group_id_last: gid + h + n - 1,
            epoch,
            tree_hash: tree + vl_at(b, tree).0,
            transcript_hash: transcript + vl_at(b, transcript).0,
            tag: tag + vl_at(b, tag).0,
            signer,
            tbs_len,
        }
    }

    /// `gi` with `mutate` applied to its TBS, re-signed by `signer`.
    fn forge(gi: &[u8], signer: &Client, mutate: impl FnOnce(&Layout, &mut Vec<u8>)) -> Vec<u8> {
        let l = layout(gi);
        let mut tbs = gi[4..4 + l.tbs_len].to_vec();
        mutate(&l, &mut tbs);
        let sig = signer.sign_with_label("GroupInfoTBS", &tbs).unwrap();
        let mut out = gi[..4].to_vec();
        out.extend_from_slice(&tbs);
        vl(&mut out, &sig);
        out
    }

    /// The forged GroupInfo is refused with `expected` and the room is unchanged; the
    /// genuine GroupInfo is then accepted.
    fn refused(mutate: impl FnOnce(&Layout, &mut Vec<u8>), expected: impl Fn(&RoomError) -> bool) {
        let mut f = fixture();
        let forged = forge(&f.group_info, &f.alice, mutate);
        assert_ne!(forged, f.group_info);
        let before = f.hub.view().unwrap();
        let err = f
            .hub
            .process_handshake(&f.commit, Some(&forged))
            .unwrap_err();
        assert!(expected(&err), "unexpected refusal: {err:?}");
        assert_eq!(
            f.hub.view().unwrap(),
            before,
            "a refused commit changes nothing"
        );
        f.hub
            .process_handshake(&f.commit, Some(&f.group_info))
            .unwrap();
        assert_eq!(f.hub.epoch(), 2);
    }

    /// The in-place member read answers as openmls's `members()` does, before and after
    /// a merged commit, after a refused one and after a rollback.
    #[test]
    fn member_identities_match_openmls_members() {
        let slow = |room: &PublicRoom| -> BTreeMap<u32, Vec<u8>> {
            room.group
                .members()
                .map(|m| (m.index.u32(), m.credential.serialized_content().to_vec()))
                .collect()
        };
        let mut f = fixture();
        assert_eq!(f.hub.members(), slow(&f.hub));
        assert_eq!(f.hub.members().len(), 2);
        let checkpoint = f.hub.checkpoint().unwrap();
        // Refused (a GroupInfo of another epoch would do; a missing one is simplest).
        assert!(f.hub.process_handshake(&f.commit, None).is_err());
        assert_eq!(f.hub.members(), slow(&f.hub));
        f.hub
            .process_handshake(&f.commit, Some(&f.group_info))
            .unwrap();
        assert_eq!(f.hub.members(), slow(&f.hub));
        f.hub.rollback(checkpoint).unwrap();
        assert_eq!(f.hub.epoch(), 1);
        assert_eq!(f.hub.members(), slow(&f.hub));
        // A removal leaves a blank leaf, which both skip.
        f.alice.discard_pending_commit(GID).unwrap();
        let out = f
            .alice
            .commit(
                GID,
                &CommitRequest {
                    removes: vec![1],
                    ..CommitRequest::default()
                },
            )
            .unwrap();
        f.hub
            .process_handshake(&out.commit, Some(&out.group_info))
            .unwrap();
        assert_eq!(f.hub.members(), slow(&f.hub));
        assert_eq!(f.hub.members().keys().copied().collect::<Vec<_>>(), vec![0]);
    }

    #[test]
    fn forged_but_unmodified_group_info_is_accepted() {
        let mut f = fixture();
        let l = layout(&f.group_info);
        assert_eq!(
            f.group_info.len(),
            4 + l.tbs_len + 2 + 64,
            "layout covers the whole GroupInfo (Ed25519 signature)"
        );
        let resigned = forge(&f.group_info, &f.alice, |_, _| {});
        f.hub.process_handshake(&f.commit, Some(&resigned)).unwrap();
        assert_eq!(f.hub.group_info(), resigned.as_slice());
        f.hub.verify_group_info(&resigned).unwrap();
    }

    #[test]
    fn group_info_of_another_epoch_is_refused() {
        refused(
            |l, t| t[l.epoch + 7] ^= 0x01,
            |e| matches!(e, RoomError::GroupInfoMismatch { field: "epoch" }),
        );
    }

    #[test]
    fn group_info_of_another_group_is_refused() {
        refused(
            |l, t| t[l.group_id_last] ^= 0x01,
            |e| matches!(e, RoomError::GroupInfoMismatch { field: "group_id" }),
        );
    }

    #[test]
    fn group_info_with_another_ciphersuite_is_refused() {
        // 0x0003: MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519, supported by the
        // crypto provider but not this group's suite.
        refused(
            |l, t| t[l.suite..l.suite + 2].copy_from_slice(&[0x00, 0x03]),
            |e| {
                matches!(
                    e,
                    RoomError::GroupInfoMismatch {
                        field: "group_context"
                    }
                )
            },
        );
    }

    #[test]
    fn group_info_signed_by_a_non_member_leaf_is_refused() {
        refused(
            |l, t| t[l.signer..l.signer + 4].copy_from_slice(&7u32.to_be_bytes()),
            |e| {
                matches!(
                    e,
                    RoomError::GroupInfoInvalid(CreationFromExternalError::UnknownSender)
                )
            },
        );
    }

    #[test]
    fn group_info_naming_another_member_as_signer_is_refused() {
        // Signed by alice (leaf 0) but claiming bob's leaf 1.
        refused(
            |l, t| t[l.signer..l.signer + 4].copy_from_slice(&1u32.to_be_bytes()),
            |e| {
                matches!(
                    e,
                    RoomError::GroupInfoInvalid(
                        CreationFromExternalError::InvalidGroupInfoSignature
                    )
                )
            },
        );
    }

    #[test]
    fn group_info_with_a_bad_signature_is_refused() {
        let mut f = fixture();
        let mut forged = f.group_info.clone();
        let last = forged.len() - 1;
        forged[last] ^= 0x01;
        let before = f.hub.view().unwrap();
        let err = f
            .hub
            .process_handshake(&f.commit, Some(&forged))
            .unwrap_err();
        assert!(
            matches!(
                err,
                RoomError::GroupInfoInvalid(CreationFromExternalError::InvalidGroupInfoSignature)
            ),
            "{err:?}"
        );
        assert_eq!(f.hub.view().unwrap(), before);
    }

    #[test]
    fn group_info_with_another_tree_hash_is_refused() {
        refused(
            |l, t| t[l.tree_hash] ^= 0x01,
            |e| {
                matches!(
                    e,
                    RoomError::GroupInfoInvalid(CreationFromExternalError::TreeHashMismatch)
                )
            },
        );
    }

    #[test]
    fn group_info_with_another_protocol_version_is_refused() {
        refused(
            |_, t| t[0..2].copy_from_slice(&[0x00, 0x02]),
            |e| {
                matches!(
                    e,
                    RoomError::GroupInfoInvalid(CreationFromExternalError::UnsupportedMlsVersion)
                )
            },
        );
    }

    #[test]
    fn group_info_with_another_transcript_hash_is_refused() {
        refused(
            |l, t| t[l.transcript_hash] ^= 0x01,
            |e| {
                matches!(
                    e,
                    RoomError::GroupInfoMismatch {
                        field: "group_context"
                    }
                )
            },
        );
    }

    #[test]
    fn group_info_with_another_confirmation_tag_is_refused() {
        refused(
            |l, t| t[l.tag] ^= 0x01,
            |e| {
                matches!(
                    e,
                    RoomError::GroupInfoMismatch {
                        field: "confirmation_tag"
                    }
                )
            },
        );
    }
}
