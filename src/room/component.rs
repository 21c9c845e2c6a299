//! Pluggable MIMI component logic for AppDataUpdate proposals.
//!
//! MLS (draft-ietf-mls-extensions-09 §4.6–§4.7) leaves the meaning of an
//! AppDataUpdate `update` payload to the component that owns the id: openmls
//! hands every commit covering such proposals back to the application as an
//! `UnresolvedAppDataCommit` and waits for the resulting dictionary entries.
//! MIMI rides its room state on those components (protocol-06 §7.2: participant
//! list 0x0022, room metadata 0x0023, policy components), so the hub and every
//! client must run the *same* logic between `process_message` and merge, or the
//! GroupContext (and with it the key schedule) diverges.
//!
//! This module defines that seam: [`ComponentLogic`] computes the new value of
//! one component from its current value and the operations a commit carries,
//! and may veto a whole commit after it is staged ([`ComponentLogic::check_commit`]).
//! [`ReplaceLogic`] is the default (the last update wins, a remove deletes);
//! the participant-list and policy logic plug in here later.

use std::collections::BTreeMap;
use std::fmt;

use openmls::component::ComponentData;
use openmls::group::{AppDataDictionaryUpdater, AppDataUpdates};
use openmls::prelude::{AppDataDictionary, AppDataUpdateOperation, AppDataUpdateProposal};
use thiserror::Error;

/// A component id of the `app_data_dictionary` (16 bits, as openmls and
/// mls-extensions issue #69 have it).
pub type ComponentId = u16;

/// A snapshot of an `app_data_dictionary`: component id → component data.
pub type Dictionary = BTreeMap<ComponentId, Vec<u8>>;

/// One AppDataUpdate operation on a component (mls-extensions-09 §4.7).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum AppDataOp {
    /// `update`: the payload whose meaning the component defines.
    Update(Vec<u8>),
    /// `remove`: delete the component from the dictionary.
    Remove,
}

impl AppDataOp {
    /// Convert to the openmls operation.
    pub fn to_openmls(&self) -> AppDataUpdateOperation {
        match self {
            AppDataOp::Update(bytes) => AppDataUpdateOperation::Update(bytes.clone().into()),
            AppDataOp::Remove => AppDataUpdateOperation::Remove,
        }
    }

    /// Convert from the openmls operation.
    pub fn from_openmls(op: &AppDataUpdateOperation) -> Self {
        match op {
            AppDataUpdateOperation::Update(bytes) => AppDataOp::Update(bytes.as_slice().to_vec()),
            AppDataUpdateOperation::Remove => AppDataOp::Remove,
        }
    }

    /// Build the openmls AppDataUpdate proposal for `component_id`.
    pub fn to_proposal(&self, component_id: ComponentId) -> AppDataUpdateProposal {
        match self {
            AppDataOp::Update(bytes) => AppDataUpdateProposal::update(component_id, bytes.clone()),
            AppDataOp::Remove => AppDataUpdateProposal::remove(component_id),
        }
    }
}

/// A component logic's refusal of an update or of a whole commit.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("component {component_id:#06x}: {rule}")]
pub struct ComponentRejection {
    /// The component whose logic refused (for a commit-level veto: the
    /// component whose rule failed).
    pub component_id: ComponentId,
    /// The rule that was broken, named by the logic that refused.
    pub rule: String,
}

impl ComponentRejection {
    /// A rejection of `component_id` naming `rule`.
    pub fn new(component_id: ComponentId, rule: impl Into<String>) -> Self {
        Self {
            component_id,
            rule: rule.into(),
        }
    }
}

/// Who authored a commit, as the component logic sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Committer {
    /// A current member at this leaf, with its credential identity.
    Member {
        /// The committer's leaf index.
        leaf: u32,
        /// The committer's credential identity (a `mimi://…/d/…` URI for MIMI clients).
        identity: Vec<u8>,
    },
    /// A joiner by external commit, with its credential identity.
    NewMember {
        /// The joiner's credential identity.
        identity: Vec<u8>,
    },
}

/// What a staged commit changes, handed to [`ComponentLogic::check_commit`]
/// before it is merged (by the hub and by every member alike).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitSummary {
    /// The epoch the commit moves the group into.
    pub new_epoch: u64,
    /// The commit's author.
    pub committer: Committer,
    /// Credential identities of the clients added by Add proposals.
    pub added: Vec<Vec<u8>>,
    /// Leaf index and credential identity of every client removed (Remove or SelfRemove).
    pub removed: Vec<(u32, Vec<u8>)>,
    /// The dictionary before the commit.
    pub old_dictionary: Dictionary,
    /// The dictionary after the commit.
    pub new_dictionary: Dictionary,
    /// The members before the commit: leaf index → credential identity.
    pub members: BTreeMap<u32, Vec<u8>>,
    /// Every proposal the commit covers (by reference or by value), in commit
    /// order, with who proposed it (a by-value proposal's sender is the committer).
    pub proposals: Vec<CoveredProposal>,
}

/// Who sent a proposal a commit covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProposalSender {
    /// A member at this leaf, with its credential identity.
    Member {
        /// The sender's leaf index.
        leaf: u32,
        /// The sender's credential identity.
        identity: Vec<u8>,
    },
    /// The joiner of an external commit (by-value proposals of that commit).
    NewMember {
        /// The joiner's credential identity.
        identity: Vec<u8>,
    },
    /// An external sender (e.g. the hub) from the `external_senders` extension.
    External,
}

/// One proposal covered by a commit, as [`ComponentLogic::check_commit`] sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoveredProposal {
    /// Who proposed it.
    pub sender: ProposalSender,
    /// What it proposes.
    pub kind: super::ProposalKind,
}

/// The application logic behind `app_data_dictionary` components.
///
/// Implementations must be deterministic: the hub and every member run them on
/// the same inputs and must reach the same dictionary.
pub trait ComponentLogic: Send + Sync {
    /// Compute the new value of `component_id` from its `current` value and the
    /// `updates` of one commit, in commit order. `Ok(None)` removes the
    /// component; an error refuses the commit.
    fn apply(
        &self,
        component_id: ComponentId,
        current: Option<&[u8]>,
        updates: &[AppDataOp],
    ) -> Result<Option<Vec<u8>>, ComponentRejection>;

    /// Veto a staged commit as a whole (e.g. a participant-list change that does
    /// not match the commit's Adds and Removes, protocol-06 §5.3). Called after
    /// [`apply`](Self::apply) succeeded for every component and before merge.
    /// The default accepts.
    fn check_commit(&self, _commit: &CommitSummary) -> Result<(), ComponentRejection> {
        Ok(())
    }

    /// Check the proposals queued in an epoch as a whole, the way a commit of all of
    /// them would be checked but with no particular committer (protocol-06 §5.3, §7.1:
    /// the hub validates proposals when it accepts them, so that the commit that must
    /// include them can be valid). `pending.committer` is the last proposer. The
    /// default accepts.
    fn check_pending(&self, _pending: &CommitSummary) -> Result<(), ComponentRejection> {
        Ok(())
    }
}

impl fmt::Debug for dyn ComponentLogic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<dyn ComponentLogic>")
    }
}

/// The default logic: every `update` replaces the component's value, the last
/// one wins, and `remove` deletes it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReplaceLogic;

impl ComponentLogic for ReplaceLogic {
    fn apply(
        &self,
        _component_id: ComponentId,
        current: Option<&[u8]>,
        updates: &[AppDataOp],
    ) -> Result<Option<Vec<u8>>, ComponentRejection> {
        let mut value = current.map(<[u8]>::to_vec);
        for op in updates {
            value = match op {
                AppDataOp::Update(bytes) => Some(bytes.clone()),
                AppDataOp::Remove => None,
            };
        }
        Ok(value)
    }
}

/// Snapshot an openmls dictionary (absent dictionary → empty map).
pub fn snapshot(dictionary: Option<&AppDataDictionary>) -> Dictionary {
    dictionary
        .map(|d| d.entries().map(|c| (c.id(), c.data().to_vec())).collect())
        .unwrap_or_default()
}

/// Run `logic` over the AppDataUpdate proposals of one commit against the
/// current dictionary and return the changes in the form openmls stages.
///
/// Operations are grouped by component id, keeping their relative order
/// (openmls lists them sorted by component id with a stable sort). Every
/// touched component gets an explicit set or remove, so a commit with
/// AppDataUpdate proposals always yields `Some` changes, as openmls requires.
pub fn resolve_updates<'a>(
    logic: &dyn ComponentLogic,
    current: Option<&AppDataDictionary>,
    proposals: impl IntoIterator<Item = &'a AppDataUpdateProposal>,
) -> Result<Option<AppDataUpdates>, ComponentRejection> {
    let mut grouped: BTreeMap<ComponentId, Vec<AppDataOp>> = BTreeMap::new();
    for p in proposals {
        grouped
            .entry(p.component_id())
            .or_default()
            .push(AppDataOp::from_openmls(p.operation()));
    }
    if grouped.is_empty() {
        return Ok(None);
    }
    let mut updater = AppDataDictionaryUpdater::new(current);
    for (id, ops) in &grouped {
        let old = current.and_then(|d| d.get(id));
        match logic.apply(*id, old, ops)? {
            Some(new) => updater.set(ComponentData::from_parts(*id, new.into())),
            None => updater.remove(id),
        }
    }
    Ok(updater.changes())
}

/// Apply resolved changes to a dictionary snapshot (what the GroupContext will
/// hold after the commit).
pub fn apply_ops_to_snapshot(
    logic: &dyn ComponentLogic,
    current: &Dictionary,
    ops: &[(ComponentId, AppDataOp)],
) -> Result<Dictionary, ComponentRejection> {
    let mut grouped: BTreeMap<ComponentId, Vec<AppDataOp>> = BTreeMap::new();
    for (id, op) in ops {
        grouped.entry(*id).or_default().push(op.clone());
    }
    let mut next = current.clone();
    for (id, ops) in grouped {
        match logic.apply(id, current.get(&id).map(Vec::as_slice), &ops)? {
            Some(v) => {
                next.insert(id, v);
            }
            None => {
                next.remove(&id);
            }
        }
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_logic_last_update_wins_and_remove_deletes() {
        let l = ReplaceLogic;
        let ops = [
            AppDataOp::Update(b"a".to_vec()),
            AppDataOp::Update(b"b".to_vec()),
        ];
        assert_eq!(l.apply(1, Some(b"x"), &ops).unwrap(), Some(b"b".to_vec()));
        let ops = [AppDataOp::Update(b"a".to_vec()), AppDataOp::Remove];
        assert_eq!(l.apply(1, Some(b"x"), &ops).unwrap(), None);
        assert_eq!(l.apply(1, Some(b"x"), &[]).unwrap(), Some(b"x".to_vec()));
    }

    #[test]
    fn resolve_updates_groups_by_component_and_covers_every_touched_id() {
        let mut dict = AppDataDictionary::new();
        let _ = dict.insert(0x22, b"old".to_vec());
        let props = [
            AppDataUpdateProposal::update(0x23, b"m1".to_vec()),
            AppDataUpdateProposal::remove(0x22),
            AppDataUpdateProposal::update(0x23, b"m2".to_vec()),
        ];
        let changes = resolve_updates(&ReplaceLogic, Some(&dict), props.iter())
            .unwrap()
            .expect("changes");
        let v: Vec<_> = changes.into_iter().collect();
        assert_eq!(v, vec![(0x22, None), (0x23, Some(b"m2".to_vec()))]);
        assert!(resolve_updates(&ReplaceLogic, Some(&dict), [])
            .unwrap()
            .is_none());
    }

    #[test]
    fn snapshot_application_matches_logic() {
        let mut cur = Dictionary::new();
        cur.insert(1, b"a".to_vec());
        let next = apply_ops_to_snapshot(
            &ReplaceLogic,
            &cur,
            &[
                (1, AppDataOp::Remove),
                (2, AppDataOp::Update(b"b".to_vec())),
            ],
        )
        .unwrap();
        assert_eq!(next.get(&1), None);
        assert_eq!(next.get(&2), Some(&b"b".to_vec()));
    }
}
