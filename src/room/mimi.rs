//! The MIMI component logic: participant list, room metadata and room policy
//! components, enforced identically by the hub and every client.
//!
//! [`MimiLogic`] plugs into the [`ComponentLogic`] seam of [`super::component`]:
//!
//! * [`ComponentLogic::apply`] computes the new value of a component from the
//!   AppDataUpdates of one commit:
//!   * `participant_list` (0x0022, protocol-06 §7.5): every `ParticipantListUpdate`
//!     of a commit is read against the **pre-commit** list (role changes and
//!     removals by index into it, additions appended in commit order); an index
//!     touched twice, an out-of-range index, a user added twice or already
//!     listed refuses the commit;
//!   * `room_metadata` (0x0023, §7.6): one `RoomMetaUpdate` replaces the value;
//!     more than one per commit is refused;
//!   * `roles_list`, `preauth_list`, `base_room_policy` (room-policy-03 §3–§5):
//!     the update must decode and replaces the value;
//!   * removing any of these components is refused; other components are
//!     replaced (last update wins).
//! * [`ComponentLogic::check_commit`] translates the whole staged commit into
//!   `policy::Proposal`s — participant-list entries, MLS Adds/Removes/SelfRemoves,
//!   the joiner's own client of an external commit, metadata fields changed, policy
//!   components replaced — each attributed to its proposer (the committer for
//!   by-value proposals), and asks [`policy::authorize_commit`] with the
//!   committer's user. That one decision carries the §5.3 ordering rules: a
//!   client's user must be listed no later than the commit adding the client,
//!   a removed or banned user loses every client in the same commit, one change
//!   per user per commit, one metadata update per commit, and the roles/preauth
//!   same-commit rules. A denial becomes a [`ComponentRejection`] whose `rule`
//!   starts with [`policy::Denial::rule_id`].
//!
//! Users are derived from client credentials: a client URI
//! `mimi://<domain>/d/<user>/<device>` (identity-05) or `mimi://<domain>/d/<id>`
//! belongs to the user `mimi://<domain>/u/<first segment>` (see
//! `spec/deviations.md`, "hub/follower (protocol -06)").

use std::collections::{BTreeMap, BTreeSet};

use tls_codec::Serialize as _;

use super::component::{
    AppDataOp, CommitSummary, Committer, ComponentId, ComponentLogic, ComponentRejection,
    Dictionary, ProposalSender, ReplaceLogic,
};
use super::ProposalKind;
use crate::policy::{
    self, component_id as cid, Actor, BaseRoomPolicy, Change, Claim, Denial, JoinMethod,
    MetadataField, PreAuthData, Proposal, RoleData, RoomPolicyState,
};
use crate::uri::{MimiUri, UriKind};
use crate::wire::common::{decode_exact, Opaque, UriBytes, Utf8String};
use crate::wire::{ParticipantListData, ParticipantListUpdate, RoomMetaData, Uri, UserRolePair};

/// `participant_list` (protocol-06 §7.5).
pub const PARTICIPANT_LIST: ComponentId = cid::PARTICIPANT_LIST;
/// `room_metadata` (protocol-06 §7.6).
pub const ROOM_METADATA: ComponentId = cid::ROOM_METADATA;
/// `roles_list` (room-policy-03 §3).
pub const ROLES_LIST: ComponentId = cid::ROLES_LIST;
/// `preauth_list` (room-policy-03 §4).
pub const PREAUTH_LIST: ComponentId = cid::PREAUTH_LIST;
/// `base_room_policy` (room-policy-03 §5).
pub const BASE_ROOM_POLICY: ComponentId = cid::BASE_ROOM_POLICY;

/// The components whose removal is refused.
const PROTECTED: [ComponentId; 5] = [
    PARTICIPANT_LIST,
    ROOM_METADATA,
    ROLES_LIST,
    PREAUTH_LIST,
    BASE_ROOM_POLICY,
];

/// The MIMI room logic (see the module doc).
#[derive(Debug, Clone, Copy, Default)]
pub struct MimiLogic;

fn rej(component: ComponentId, rule: impl Into<String>) -> ComponentRejection {
    ComponentRejection::new(component, rule)
}

/// The user a client credential identity belongs to: `mimi://<domain>/u/<first
/// path segment>` of a `mimi://<domain>/d/…` client URI.
pub fn user_of_client(identity: &[u8]) -> Result<String, ComponentRejection> {
    // Performance: a remembered answer gives out its user alone (the domain is not
    // cloned only to be dropped); otherwise as `user_and_domain_of_client`.
    let hit = IDENTITY_MEMO.with(|memo| {
        memo.borrow().get(identity).map(|a| match a {
            Ok((user, _)) => Ok(user.clone()),
            Err(e) => Err(e.clone()),
        })
    });
    match hit {
        Some(answer) => answer,
        None => user_and_domain_of_client(identity).map(|(user, _)| user),
    }
}

/// How many identities [`user_and_domain_of_client`] remembers per thread before it
/// starts over (bounds the memory of the memo).
const IDENTITY_MEMO_CAP: usize = 1 << 14;

/// What [`parse_client_identity`] answered for an identity.
type IdentityAnswer = Result<(String, String), ComponentRejection>;

thread_local! {
    /// Performance: identity → [`parse_client_identity`]'s answer. The answer is a pure
    /// function of the bytes, so remembering it changes no result; the hub resolves the
    /// same members' identities at every commit and message (policy state, hub Removes).
    static IDENTITY_MEMO: std::cell::RefCell<std::collections::HashMap<Vec<u8>, IdentityAnswer>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// The user URI and provider domain of a client credential identity
/// ([`parse_client_identity`], remembered per thread).
fn user_and_domain_of_client(identity: &[u8]) -> IdentityAnswer {
    IDENTITY_MEMO.with(|memo| {
        if let Some(a) = memo.borrow().get(identity) {
            return a.clone();
        }
        let answer = parse_client_identity(identity);
        let mut memo = memo.borrow_mut();
        if memo.len() >= IDENTITY_MEMO_CAP {
            memo.clear();
        }
        memo.insert(identity.to_vec(), answer.clone());
        answer
    })
}

/// The user URI and provider domain of a client credential identity, from one parse of
/// the identity (the user URI is built from the parsed parts, so it is not parsed again).
fn parse_client_identity(identity: &[u8]) -> IdentityAnswer {
    let uri = MimiUri::from_bytes(identity)
        .map_err(|e| rej(PARTICIPANT_LIST, format!("identity.not-a-uri: {e}")))?;
    if uri.kind() != UriKind::Client {
        return Err(rej(
            PARTICIPANT_LIST,
            "identity.not-a-client-uri: credential identity must be mimi://<domain>/d/…",
        ));
    }
    let first = uri
        .segments()
        .first()
        .ok_or_else(|| rej(PARTICIPANT_LIST, "identity.not-a-client-uri"))?;
    let user = MimiUri::user(uri.provider(), first)
        .map_err(|e| rej(PARTICIPANT_LIST, format!("identity.not-a-client-uri: {e}")))?;
    Ok((user.to_string(), user.provider().to_owned()))
}

/// The policy actor for a client credential identity: its user, the client
/// (its URI) and the claims its credential carries (provider domain and user URI).
pub fn actor_of(identity: &[u8]) -> Result<Actor, ComponentRejection> {
    let (user, domain) = user_and_domain_of_client(identity)?;
    let client = String::from_utf8_lossy(identity).into_owned();
    Ok(Actor::new(&user, &client).with_claims(vec![Claim::domain(&domain), Claim::user(&user)]))
}

/// Decode a participant list (absent component → empty list) into `(user, role)` pairs.
pub fn decode_participants(data: Option<&[u8]>) -> Result<Vec<(String, u32)>, ComponentRejection> {
    let Some(bytes) = data else {
        return Ok(Vec::new());
    };
    let list: ParticipantListData = decode_exact(bytes)
        .map_err(|e| rej(PARTICIPANT_LIST, format!("participant-list.decode: {e}")))?;
    list.participants
        .iter()
        .map(|p| {
            p.user
                .as_str()
                .map(|u| (u.to_owned(), p.role_index))
                .ok_or_else(|| rej(PARTICIPANT_LIST, "participant-list.user-not-utf8"))
        })
        .collect()
}

/// The participant list of a dictionary ([`decode_participants`] of its
/// `participant_list` component; absent → empty).
pub fn participants_in(dictionary: &Dictionary) -> Result<Vec<(String, u32)>, ComponentRejection> {
    decode_participants(dictionary.get(&PARTICIPANT_LIST).map(Vec::as_slice))
}

/// Users whose every client in the group is removed by an external sender's (the
/// hub's) Remove proposals among `external_removed` (leaf indices): a listed user with at
/// least one client, all of them in the set. The hub removes every client of a user only
/// when that user is gone (its account deleted, or a leave the hub re-issued after an
/// external commit invalidated it), so the commit carrying those Removes must also take
/// the user off the participant list (protocol-06 §5.3: list removal in the same commit
/// as the clients' removal). See `spec/deviations.md`, "hub external proposals".
pub fn hub_removed_users(
    list: &[(String, u32)],
    members: &BTreeMap<u32, Vec<u8>>,
    external_removed: &BTreeSet<u32>,
) -> BTreeSet<String> {
    // Performance: with no external Removes no user can have all of its (at least
    // one) clients removed, so the answer is empty without resolving every member's
    // user (the usual case: most commits carry no hub Removes).
    if external_removed.is_empty() {
        return BTreeSet::new();
    }
    let mut clients: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for (leaf, identity) in members {
        if let Ok(user) = user_of_client(identity) {
            clients.entry(user).or_default().push(*leaf);
        }
    }
    list.iter()
        .filter_map(|(user, _)| {
            let leaves = clients.get(user)?;
            (!leaves.is_empty() && leaves.iter().all(|l| external_removed.contains(l)))
                .then(|| user.clone())
        })
        .collect()
}

/// The leaves that external senders' Remove proposals of a commit remove.
fn external_removes(commit: &CommitSummary) -> BTreeSet<u32> {
    commit
        .proposals
        .iter()
        .filter_map(|p| match (&p.sender, &p.kind) {
            (ProposalSender::External, ProposalKind::Remove(leaf)) => Some(*leaf),
            _ => None,
        })
        .collect()
}

fn pair(user: &str, role: u32) -> UserRolePair {
    UserRolePair {
        user: UriBytes(Opaque::new(user.as_bytes().to_vec())),
        role_index: role,
    }
}

/// Encode a participant list (`ParticipantListData`) from `(user, role)` pairs.
pub fn encode_participants(entries: &[(String, u32)]) -> Vec<u8> {
    let data = ParticipantListData {
        participants: entries.iter().map(|(u, r)| pair(u, *r)).collect(),
    };
    // A Vec-backed struct of byte strings always serializes.
    data.tls_serialize_detached().unwrap_or_default()
}

/// A `ParticipantListUpdate` payload: role changes and removals by index into
/// the current list, additions as `(user, role)`.
pub fn participant_update(
    changed: &[(u32, u32)],
    removed: &[u32],
    added: &[(&str, u32)],
) -> AppDataOp {
    let update = ParticipantListUpdate {
        changed_role_participants: changed
            .iter()
            .map(|(i, r)| crate::wire::UserindexRolePair {
                user_index: *i,
                role_index: *r,
            })
            .collect(),
        removed_indices: removed.to_vec(),
        added_participants: added.iter().map(|(u, r)| pair(u, *r)).collect(),
    };
    AppDataOp::Update(update.tls_serialize_detached().unwrap_or_default())
}

/// A `RoomMetaData` value / `RoomMetaUpdate` payload with the given name and
/// subject (other fields empty, `room_uri` as given).
pub fn room_metadata(
    room_uri: &str,
    name: &str,
    subject: &str,
) -> Result<Vec<u8>, ComponentRejection> {
    let text = |s: &str| {
        Utf8String::new(s).map_err(|e| rej(ROOM_METADATA, format!("room-metadata.text: {e}")))
    };
    let md = RoomMetaData {
        room_uri: Uri {
            uri: UriBytes(Opaque::new(room_uri.as_bytes().to_vec())),
        },
        room_name: text(name)?,
        room_descriptions: Vec::new(),
        room_avatar: Uri {
            uri: UriBytes::default(),
        },
        room_subject: text(subject)?,
        room_mood: Utf8String::default(),
    };
    md.tls_serialize_detached()
        .map_err(|e| rej(ROOM_METADATA, format!("room-metadata.encode: {e}")))
}

fn decode_metadata(bytes: &[u8]) -> Result<RoomMetaData, ComponentRejection> {
    decode_exact(bytes).map_err(|e| rej(ROOM_METADATA, format!("room-metadata.decode: {e}")))
}

fn decode_tls<T: tls_codec::Deserialize>(
    component: ComponentId,
    what: &str,
    bytes: &[u8],
) -> Result<T, ComponentRejection> {
    T::tls_deserialize_exact(bytes).map_err(|e| rej(component, format!("{what}.decode: {e}")))
}

/// The initial `app_data_dictionary` of a MIMI room: the creator's user with
/// `creator_role`, the roles list, base policy and room metadata
/// (protocol-06 §3.1: the creator sets up the room state).
pub fn initial_dictionary(
    creator_user: &str,
    creator_role: u32,
    roles: &RoleData,
    base: &BaseRoomPolicy,
    metadata: &[u8],
) -> Dictionary {
    let mut d = Dictionary::new();
    d.insert(
        PARTICIPANT_LIST,
        encode_participants(&[(creator_user.to_owned(), creator_role)]),
    );
    d.insert(ROOM_METADATA, metadata.to_vec());
    d.insert(
        ROLES_LIST,
        roles.tls_serialize_detached().unwrap_or_default(),
    );
    d.insert(
        PREAUTH_LIST,
        PreAuthData::default()
            .tls_serialize_detached()
            .unwrap_or_default(),
    );
    d.insert(
        BASE_ROOM_POLICY,
        base.tls_serialize_detached().unwrap_or_default(),
    );
    d
}

/// The policy view of a room from its dictionary and MLS members (leaf →
/// credential identity).
pub fn policy_state(
    dictionary: &Dictionary,
    members: &BTreeMap<u32, Vec<u8>>,
) -> Result<RoomPolicyState, ComponentRejection> {
    policy_state_and_list(dictionary, members).map(|(state, _)| state)
}

/// [`policy_state`] and the participant list it was built from ([`participants_in`]
/// of `dictionary`), so that a caller needing both decodes the list once.
fn policy_state_and_list(
    dictionary: &Dictionary,
    members: &BTreeMap<u32, Vec<u8>>,
) -> Result<(RoomPolicyState, Vec<(String, u32)>), ComponentRejection> {
    let mut state = RoomPolicyState::default();
    let list = participants_in(dictionary)?;
    for (user, role) in &list {
        state.participants.insert(user.clone(), *role);
    }
    for identity in members.values() {
        // The user and client of `actor_of` (its credential claims are not needed here;
        // a user URI built by `user_of_client` always parses again).
        let user = user_of_client(identity)?;
        let client = String::from_utf8_lossy(identity).into_owned();
        state.clients.entry(user).or_default().insert(client);
    }
    if let Some(b) = dictionary.get(&ROLES_LIST) {
        state.roles = decode_tls(ROLES_LIST, "roles-list", b)?;
    }
    if let Some(b) = dictionary.get(&PREAUTH_LIST) {
        state.preauth = decode_tls(PREAUTH_LIST, "preauth-list", b)?;
    }
    if let Some(b) = dictionary.get(&BASE_ROOM_POLICY) {
        state.base = decode_tls(BASE_ROOM_POLICY, "base-room-policy", b)?;
    }
    Ok((state, list))
}

fn apply_participants(
    current: Option<&[u8]>,
    updates: &[AppDataOp],
) -> Result<Option<Vec<u8>>, ComponentRejection> {
    let list = decode_participants(current)?;
    let n = list.len();
    let mut roles: Vec<u32> = list.iter().map(|(_, r)| *r).collect();
    let mut removed = vec![false; n];
    let mut touched = BTreeSet::new();
    let mut added: Vec<(String, u32)> = Vec::new();
    for op in updates {
        let AppDataOp::Update(bytes) = op else {
            return Err(rej(PARTICIPANT_LIST, "participant-list.component-removed"));
        };
        let u: ParticipantListUpdate = decode_exact(bytes)
            .map_err(|e| rej(PARTICIPANT_LIST, format!("participant-list.decode: {e}")))?;
        let mut touch = |index: u32| -> Result<usize, ComponentRejection> {
            let i = usize::try_from(index).unwrap_or(usize::MAX);
            if i >= n {
                return Err(rej(
                    PARTICIPANT_LIST,
                    format!("participant-list.index-out-of-range: index {index}, list has {n}"),
                ));
            }
            if !touched.insert(i) {
                return Err(rej(
                    PARTICIPANT_LIST,
                    format!(
                        "commit.user-changed-twice: {} (protocol-06 §7.5)",
                        list[i].0
                    ),
                ));
            }
            Ok(i)
        };
        for c in &u.changed_role_participants {
            let i = touch(c.user_index)?;
            roles[i] = c.role_index;
        }
        for r in &u.removed_indices {
            let i = touch(*r)?;
            removed[i] = true;
        }
        for a in &u.added_participants {
            let user = a
                .user
                .as_str()
                .ok_or_else(|| rej(PARTICIPANT_LIST, "participant-list.user-not-utf8"))?;
            match MimiUri::parse(user) {
                Ok(uri) if matches!(uri.kind(), UriKind::User | UriKind::Pseudonym) => {}
                _ => {
                    return Err(rej(
                        PARTICIPANT_LIST,
                        format!("participant-list.not-a-user-uri: {user}"),
                    ))
                }
            }
            if list.iter().any(|(u, _)| u == user) {
                return Err(rej(
                    PARTICIPANT_LIST,
                    format!("policy.already-listed: {user} (protocol-06 §7.5)"),
                ));
            }
            if added.iter().any(|(u, _)| u == user) {
                return Err(rej(
                    PARTICIPANT_LIST,
                    format!("commit.user-changed-twice: {user} (protocol-06 §7.5)"),
                ));
            }
            added.push((user.to_owned(), a.role_index));
        }
    }
    let mut next: Vec<(String, u32)> = list
        .iter()
        .enumerate()
        .filter(|(i, _)| !removed[*i])
        .map(|(i, (u, _))| (u.clone(), roles[i]))
        .collect();
    next.extend(added);
    Ok(Some(encode_participants(&next)))
}

impl ComponentLogic for MimiLogic {
    fn apply(
        &self,
        component_id: ComponentId,
        current: Option<&[u8]>,
        updates: &[AppDataOp],
    ) -> Result<Option<Vec<u8>>, ComponentRejection> {
        if PROTECTED.contains(&component_id) && updates.contains(&AppDataOp::Remove) {
            return Err(rej(
                component_id,
                "component.removal-refused: MIMI room components cannot be removed",
            ));
        }
        match component_id {
            PARTICIPANT_LIST => apply_participants(current, updates),
            ROOM_METADATA => {
                // protocol-06 §7.6: one metadata update per commit; it replaces the value.
                if updates.len() > 1 {
                    return Err(rej(
                        ROOM_METADATA,
                        "commit.metadata-updated-twice (protocol-06 §7.6)",
                    ));
                }
                for op in updates {
                    if let AppDataOp::Update(b) = op {
                        decode_metadata(b)?;
                    }
                }
                ReplaceLogic.apply(component_id, current, updates)
            }
            ROLES_LIST | PREAUTH_LIST | BASE_ROOM_POLICY => {
                for op in updates {
                    if let AppDataOp::Update(b) = op {
                        match component_id {
                            ROLES_LIST => {
                                decode_tls::<RoleData>(ROLES_LIST, "roles-list", b).map(|_| ())?
                            }
                            PREAUTH_LIST => {
                                decode_tls::<PreAuthData>(PREAUTH_LIST, "preauth-list", b)
                                    .map(|_| ())?
                            }
                            _ => decode_tls::<BaseRoomPolicy>(
                                BASE_ROOM_POLICY,
                                "base-room-policy",
                                b,
                            )
                            .map(|_| ())?,
                        }
                    }
                }
                ReplaceLogic.apply(component_id, current, updates)
            }
            _ => ReplaceLogic.apply(component_id, current, updates),
        }
    }

    fn check_commit(&self, commit: &CommitSummary) -> Result<(), ComponentRejection> {
        // The hub's Removes of all of a user's clients take the user off the list in
        // the same commit (protocol-06 §5.3; see `hub_removed_users`).
        let (pre, old_list) = policy_state_and_list(&commit.old_dictionary, &commit.members)?;
        let new_list = participants_in(&commit.new_dictionary)?;
        let hub_users = hub_users_of(&old_list, commit);
        // room-policy-03 §3: a roles update shares no commit with a participant-list
        // change — also not with the list removal the hub's Removes mandate (found by
        // the equivalence suite, spec/deviations.md, equivalence suite 28)
        let roles_update = commit
            .proposals
            .iter()
            .any(|p| matches!(p.kind, ProposalKind::AppDataUpdate(ROLES_LIST, _)));
        if roles_update && !hub_users.is_empty() {
            return Err(denial_rejection(
                policy::SameCommitRule::RolesWithParticipantChange.into(),
            ));
        }
        for user in &hub_users {
            if new_list.iter().any(|(u, _)| u == user) {
                return Err(rej(
                    PARTICIPANT_LIST,
                    format!(
                        "hub.commit-omits-queued-proposals: the hub's proposals remove every \
                         client of {user}; the commit must also remove {user} from the \
                         participant list (protocol-06 §5.3)"
                    ),
                ));
            }
        }
        let proposals = commit_proposals(&pre, commit, &old_list, &hub_users)?;
        let committer = match &commit.committer {
            Committer::Member { identity, .. } | Committer::NewMember { identity } => {
                actor_of(identity)?
            }
        };
        policy::authorize_commit(&pre, &committer, &proposals).map_err(denial_rejection)
    }

    fn check_pending(&self, pending: &CommitSummary) -> Result<(), ComponentRejection> {
        let (pre, old_list) = policy_state_and_list(&pending.old_dictionary, &pending.members)?;
        let hub_users = hub_users_of(&old_list, pending);
        let proposals = commit_proposals(&pre, pending, &old_list, &hub_users)?;
        // No committer yet: the committer-specific rules (a committer never removes
        // itself, room-policy-03 §8.1.2) are checked when the commit arrives.
        let nobody = Actor::new("", "");
        match policy::authorize_commit(&pre, &nobody, &proposals) {
            // The committer completes a removal with the Removes of the removed user's
            // remaining clients (room-policy-03 §8.1.2), so their absence from the
            // queue is no reason to refuse it (spec/deviations.md, equivalence suite 5).
            Err(
                Denial::SameCommitRule(policy::SameCommitRule::ClientsNotRemoved { .. })
                | Denial::ClientOfUnlistedUser { .. },
            ) => Ok(()),
            other => other.map_err(denial_rejection),
        }
    }
}

/// The component a denial is reported against.
fn denial_component(d: &Denial) -> ComponentId {
    match d {
        Denial::InvalidPolicy(_) => ROLES_LIST,
        Denial::SameCommitRule(policy::SameCommitRule::MetadataUpdatedTwice)
        | Denial::NoCapabilityDefined { .. } => ROOM_METADATA,
        _ => PARTICIPANT_LIST,
    }
}

/// A policy denial as a component rejection whose rule starts with the
/// denial's `rule_id()`.
pub fn denial_rejection(d: Denial) -> ComponentRejection {
    rej(
        denial_component(&d),
        format!("{}: {} ({})", d.rule_id(), d, d.section()),
    )
}

fn metadata_fields(
    old: Option<&[u8]>,
    new: &[u8],
) -> Result<BTreeSet<MetadataField>, ComponentRejection> {
    let new = decode_metadata(new)?;
    let mut fields = BTreeSet::new();
    let Some(old) = old else {
        // No metadata before: every non-empty field is set.
        if !new.room_uri.uri.0.is_empty() {
            fields.insert(MetadataField::RoomUri);
        }
        if !new.room_name.as_str().is_empty() {
            fields.insert(MetadataField::Name);
        }
        if !new.room_descriptions.is_empty() {
            fields.insert(MetadataField::Description);
        }
        if !new.room_avatar.uri.0.is_empty() {
            fields.insert(MetadataField::Avatar);
        }
        if !new.room_subject.as_str().is_empty() {
            fields.insert(MetadataField::Subject);
        }
        if !new.room_mood.as_str().is_empty() {
            fields.insert(MetadataField::Mood);
        }
        return Ok(fields);
    };
    let old = decode_metadata(old)?;
    if old.room_uri != new.room_uri {
        fields.insert(MetadataField::RoomUri);
    }
    if old.room_name != new.room_name {
        fields.insert(MetadataField::Name);
    }
    if old.room_descriptions != new.room_descriptions {
        fields.insert(MetadataField::Description);
    }
    if old.room_avatar != new.room_avatar {
        fields.insert(MetadataField::Avatar);
    }
    if old.room_subject != new.room_subject {
        fields.insert(MetadataField::Subject);
    }
    if old.room_mood != new.room_mood {
        fields.insert(MetadataField::Mood);
    }
    Ok(fields)
}

/// Translate a staged commit into the policy's proposals, each with its proposer.
/// The users the hub's Removes in `commit` take off the list ([`hub_removed_users`]
/// against the pre-commit list `old_list`).
fn hub_users_of(old_list: &[(String, u32)], commit: &CommitSummary) -> BTreeSet<String> {
    hub_removed_users(old_list, &commit.members, &external_removes(commit))
}

/// The policy proposals of a commit. `old_list` is the decoded pre-commit participant
/// list and `hub_users` its [`hub_users_of`] (computed once by the caller).
fn commit_proposals(
    pre: &RoomPolicyState,
    commit: &CommitSummary,
    old_list: &[(String, u32)],
    hub_users: &BTreeSet<String>,
) -> Result<Vec<Proposal>, ComponentRejection> {
    // The hub's own proposals and the list removals they mandate are not room-policy
    // decisions of any member: the hub is the room's authority (protocol-06 §5.3, its
    // credential is in `external_senders`), and it removes a user's clients only when
    // the user is gone (spec/deviations.md, "hub external proposals").
    let mut out = Vec::new();
    // An external commit adds the joiner's own client (RFC 9420 §12.4.3.2).
    if let Committer::NewMember { identity } = &commit.committer {
        let a = actor_of(identity)?;
        let client = a.client.clone().unwrap_or_default();
        out.push(Proposal::by(
            &a,
            Change::AddClient {
                user: a.user.clone(),
                client,
            },
        ));
    }
    for cp in &commit.proposals {
        let proposer = match &cp.sender {
            ProposalSender::Member { identity, .. } | ProposalSender::NewMember { identity } => {
                actor_of(identity)?
            }
            ProposalSender::External => Actor::without_client("external-sender"),
        };
        match &cp.kind {
            ProposalKind::Add(identity) => {
                let a = actor_of(identity)?;
                out.push(Proposal::by(
                    &proposer,
                    Change::AddClient {
                        user: a.user,
                        client: a.client.unwrap_or_default(),
                    },
                ));
            }
            ProposalKind::Remove(_) if cp.sender == ProposalSender::External => {}
            ProposalKind::Remove(leaf) => {
                let identity = commit.members.get(leaf).ok_or_else(|| {
                    rej(
                        PARTICIPANT_LIST,
                        format!("commit.remove-unknown-leaf: {leaf}"),
                    )
                })?;
                let a = actor_of(identity)?;
                out.push(Proposal::by(
                    &proposer,
                    Change::RemoveClient {
                        user: a.user,
                        client: a.client.unwrap_or_default(),
                    },
                ));
            }
            ProposalKind::SelfRemove => {
                out.push(Proposal::by(
                    &proposer,
                    Change::RemoveClient {
                        user: proposer.user.clone(),
                        client: proposer.client.clone().unwrap_or_default(),
                    },
                ));
            }
            ProposalKind::AppDataUpdate(id, AppDataOp::Update(bytes)) => {
                let mut changes = Vec::new();
                participant_or_policy_changes(
                    pre,
                    old_list,
                    commit,
                    *id,
                    bytes,
                    &proposer,
                    &mut changes,
                )?;
                out.extend(changes.into_iter().filter(|p| {
                    !matches!(&p.change, Change::RemoveUser { user } if hub_users.contains(user))
                }));
            }
            ProposalKind::AppDataUpdate(..) => {}
            ProposalKind::Other(t) if *t == 0x0005 => {
                // RFC 9420 ReInit.
                out.push(Proposal::by(&proposer, Change::ReInit));
            }
            ProposalKind::Other(_) => {}
        }
    }
    Ok(out)
}

fn participant_or_policy_changes(
    pre: &RoomPolicyState,
    old_list: &[(String, u32)],
    commit: &CommitSummary,
    id: ComponentId,
    bytes: &[u8],
    proposer: &Actor,
    out: &mut Vec<Proposal>,
) -> Result<(), ComponentRejection> {
    let user_at = |index: u32| -> Result<String, ComponentRejection> {
        usize::try_from(index)
            .ok()
            .and_then(|i| old_list.get(i))
            .map(|(u, _)| u.clone())
            .ok_or_else(|| {
                rej(
                    PARTICIPANT_LIST,
                    format!("participant-list.index-out-of-range: index {index}"),
                )
            })
    };
    match id {
        PARTICIPANT_LIST => {
            let u: ParticipantListUpdate = decode_exact(bytes)
                .map_err(|e| rej(PARTICIPANT_LIST, format!("participant-list.decode: {e}")))?;
            for c in &u.changed_role_participants {
                out.push(Proposal::by(
                    proposer,
                    Change::ChangeRole {
                        user: user_at(c.user_index)?,
                        role: c.role_index,
                    },
                ));
            }
            for r in &u.removed_indices {
                out.push(Proposal::by(
                    proposer,
                    Change::RemoveUser { user: user_at(*r)? },
                ));
            }
            for a in &u.added_participants {
                let user = a
                    .user
                    .as_str()
                    .ok_or_else(|| rej(PARTICIPANT_LIST, "participant-list.user-not-utf8"))?
                    .to_owned();
                if user == proposer.user {
                    // A user adding itself joins (room-policy-03 §8.1.1): by
                    // preauthorization when an entry matches, else openly.
                    let method = if pre.preauth_match(&proposer.claims, false).is_some() {
                        JoinMethod::Preauthorized
                    } else {
                        JoinMethod::Open
                    };
                    out.push(Proposal::by(
                        proposer,
                        Change::Join {
                            role: a.role_index,
                            method,
                        },
                    ));
                } else {
                    out.push(Proposal::by(
                        proposer,
                        Change::AddUser {
                            user,
                            role: a.role_index,
                        },
                    ));
                }
            }
        }
        ROOM_METADATA => {
            let fields = metadata_fields(
                commit.old_dictionary.get(&ROOM_METADATA).map(Vec::as_slice),
                bytes,
            )?;
            out.push(Proposal::by(proposer, Change::UpdateMetadata { fields }));
        }
        ROLES_LIST => out.push(Proposal::by(
            proposer,
            Change::UpdateRoles(decode_tls(ROLES_LIST, "roles-list", bytes)?),
        )),
        PREAUTH_LIST => out.push(Proposal::by(
            proposer,
            Change::UpdatePreauth(decode_tls(PREAUTH_LIST, "preauth-list", bytes)?),
        )),
        BASE_ROOM_POLICY => out.push(Proposal::by(
            proposer,
            Change::UpdateBasePolicy(decode_tls(BASE_ROOM_POLICY, "base-room-policy", bytes)?),
        )),
        cid::JOIN_LINKS => out.push(Proposal::by(
            proposer,
            Change::UpdateJoinLinks {
                adds: true,
                removes: true,
            },
        )),
        cid::MLS_OPERATIONAL_POLICY
        | cid::STATUS_NOTIFICATION_POLICY..=cid::MESSAGE_EXPIRATION_POLICY => out.push(
            Proposal::by(proposer, Change::UpdateComponent { component: id }),
        ),
        // Components outside MIMI and room policy carry no policy rule.
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "mimi://a.example/u/alice";
    const B: &str = "mimi://b.example/u/bob";
    const C: &str = "mimi://c.example/u/cathy";

    fn list(entries: &[(&str, u32)]) -> Vec<u8> {
        encode_participants(
            &entries
                .iter()
                .map(|(u, r)| (u.to_string(), *r))
                .collect::<Vec<_>>(),
        )
    }

    fn hub_removal_commit(new_list: &[(&str, u32)], by_member: bool) -> CommitSummary {
        let members: BTreeMap<u32, Vec<u8>> = [
            (0, b"mimi://a.example/d/alice/1".to_vec()),
            (1, b"mimi://b.example/d/bob/1".to_vec()),
            (2, b"mimi://b.example/d/bob/2".to_vec()),
        ]
        .into_iter()
        .collect();
        let mut proposals: Vec<super::super::CoveredProposal> = [1, 2]
            .into_iter()
            .map(|l| super::super::CoveredProposal {
                sender: ProposalSender::External,
                kind: ProposalKind::Remove(l),
            })
            .collect();
        if by_member {
            proposals.push(super::super::CoveredProposal {
                sender: ProposalSender::Member {
                    leaf: 0,
                    identity: members[&0].clone(),
                },
                kind: ProposalKind::AppDataUpdate(
                    PARTICIPANT_LIST,
                    participant_update(&[], &[1], &[]),
                ),
            });
        }
        let dict = |l: &[(&str, u32)]| -> Dictionary {
            [(PARTICIPANT_LIST, list(l))].into_iter().collect()
        };
        CommitSummary {
            new_epoch: 4,
            committer: Committer::Member {
                leaf: 0,
                identity: members[&0].clone(),
            },
            added: Vec::new(),
            removed: vec![(1, members[&1].clone()), (2, members[&2].clone())],
            old_dictionary: dict(&[(A, 0), (B, 0)]),
            new_dictionary: dict(new_list),
            members,
            proposals,
        }
    }

    #[test]
    fn the_hubs_removes_of_all_clients_require_the_list_removal() {
        let listed: BTreeMap<u32, Vec<u8>> = hub_removal_commit(&[], false).members;
        let all = [1, 2].into_iter().collect();
        let one = [1].into_iter().collect();
        let l = vec![(A.to_string(), 0), (B.to_string(), 0)];
        assert_eq!(
            hub_removed_users(&l, &listed, &all),
            [B.to_string()].into_iter().collect()
        );
        assert!(hub_removed_users(&l, &listed, &one).is_empty());
        // Omitting the list removal: refused with the queued-proposals rule.
        let e = MimiLogic
            .check_commit(&hub_removal_commit(&[(A, 0), (B, 0)], false))
            .unwrap_err();
        assert!(
            e.rule.starts_with("hub.commit-omits-queued-proposals"),
            "{e:?}"
        );
        // Including it: accepted although role 0 holds no capability at all (the
        // hub's removal is not a member's policy decision).
        MimiLogic
            .check_commit(&hub_removal_commit(&[(A, 0)], true))
            .unwrap();
    }

    /// The pre-optimisation `actor_of` (identity parsed, then the user URI parsed again).
    fn actor_of_two_parses(identity: &[u8]) -> Result<Actor, ComponentRejection> {
        let user = user_of_client(identity)?;
        let client = String::from_utf8_lossy(identity).into_owned();
        let domain = MimiUri::parse(&user)
            .map(|u| u.provider().to_owned())
            .map_err(|e| rej(PARTICIPANT_LIST, format!("identity.not-a-uri: {e}")))?;
        Ok(
            Actor::new(&user, &client)
                .with_claims(vec![Claim::domain(&domain), Claim::user(&user)]),
        )
    }

    #[test]
    fn actor_of_single_parse_matches_the_two_parse_form() {
        for id in [
            &b"mimi://b.example/d/bob/phone"[..],
            b"mimi://B.Example/d/bob",
            b"mimi://b.example/d/bob%20x/1",
            b"mimi://b.example/u/bob",
            b"mimi://b.example/d/",
            b"mimi://b.example",
            b"https://b.example/d/bob",
            b"\xff",
            b"",
        ] {
            let fast = actor_of(id).map_err(|e| e.rule);
            let slow = actor_of_two_parses(id).map_err(|e| e.rule);
            assert_eq!(fast, slow, "{}", String::from_utf8_lossy(id));
        }
        assert!(actor_of(b"mimi://b.example/d/bob/phone").is_ok());
    }

    #[test]
    fn identity_memo_answers_as_the_parse_does() {
        let ids: Vec<Vec<u8>> = (0..40)
            .map(|i| match i % 4 {
                0 => format!("mimi://p{i}.example/d/u{i}/c").into_bytes(),
                1 => format!("mimi://P{i}.Example/d/u{i}").into_bytes(),
                2 => format!("mimi://p{i}.example/u/u{i}").into_bytes(),
                _ => vec![0xff, i as u8],
            })
            .collect();
        // Twice: the second round is answered from the memo.
        for _ in 0..2 {
            for id in &ids {
                // `user_of_client` first: a miss on the first round, a hit on the second.
                let user = user_of_client(id).map_err(|e| e.rule);
                let memo = user_and_domain_of_client(id).map_err(|e| e.rule);
                let parse = parse_client_identity(id).map_err(|e| e.rule);
                assert_eq!(user, parse.clone().map(|(u, _)| u));
                assert_eq!(memo, parse);
            }
        }
        IDENTITY_MEMO.with(|m| assert!(m.borrow().contains_key(&ids[0])));
        // Past the cap the memo starts over and still answers correctly.
        for i in 0..IDENTITY_MEMO_CAP + 3 {
            let id = format!("mimi://x.example/d/n{i}").into_bytes();
            assert_eq!(
                user_and_domain_of_client(&id).map_err(|e| e.rule),
                parse_client_identity(&id).map_err(|e| e.rule)
            );
        }
        IDENTITY_MEMO.with(|m| assert!(m.borrow().len() <= IDENTITY_MEMO_CAP));
    }

    #[test]
    fn hub_removed_users_shortcut_matches_the_full_rule() {
        let members: BTreeMap<u32, Vec<u8>> = [
            (0, b"mimi://a.example/d/alice/1".to_vec()),
            (1, b"mimi://b.example/d/bob/1".to_vec()),
            (2, b"mimi://b.example/d/bob/2".to_vec()),
        ]
        .into_iter()
        .collect();
        let list = vec![
            ("mimi://a.example/u/alice".to_string(), 2),
            ("mimi://b.example/u/bob".to_string(), 2),
        ];
        // The full rule, without the empty-set shortcut.
        let full = |ext: &BTreeSet<u32>| -> BTreeSet<String> {
            let mut clients: BTreeMap<String, Vec<u32>> = BTreeMap::new();
            for (leaf, id) in &members {
                if let Ok(u) = user_of_client(id) {
                    clients.entry(u).or_default().push(*leaf);
                }
            }
            list.iter()
                .filter(|(u, _)| {
                    clients
                        .get(u)
                        .is_some_and(|ls| !ls.is_empty() && ls.iter().all(|l| ext.contains(l)))
                })
                .map(|(u, _)| u.clone())
                .collect()
        };
        for ext in [vec![], vec![1], vec![1, 2], vec![0], vec![0, 1, 2], vec![7]] {
            let ext: BTreeSet<u32> = ext.into_iter().collect();
            assert_eq!(
                hub_removed_users(&list, &members, &ext),
                full(&ext),
                "{ext:?}"
            );
        }
        assert_eq!(
            hub_removed_users(&list, &members, &[1, 2].into_iter().collect()),
            ["mimi://b.example/u/bob".to_string()].into_iter().collect()
        );
    }

    /// `policy_state_and_list` hands back the list `participants_in` decodes and the
    /// state `policy_state` builds, errors included.
    #[test]
    fn policy_state_and_list_matches_its_parts() {
        let members: BTreeMap<u32, Vec<u8>> = [
            (0, b"mimi://a.example/d/alice/1".to_vec()),
            (1, b"mimi://b.example/d/bob/1".to_vec()),
        ]
        .into_iter()
        .collect();
        let good: Dictionary = [(PARTICIPANT_LIST, list(&[(A, 3), (B, 2)]))]
            .into_iter()
            .collect();
        let bad_list: Dictionary = [(PARTICIPANT_LIST, vec![0xff])].into_iter().collect();
        let bad_roles: Dictionary = [
            (PARTICIPANT_LIST, list(&[(A, 3)])),
            (ROLES_LIST, vec![0x01]),
        ]
        .into_iter()
        .collect();
        let mut bad_member = members.clone();
        bad_member.insert(2, b"not a uri".to_vec());
        for (dict, mem) in [
            (&good, &members),
            (&Dictionary::new(), &members),
            (&bad_list, &members),
            (&bad_roles, &members),
            (&good, &bad_member),
        ] {
            let both = policy_state_and_list(dict, mem).map_err(|e| e.rule);
            let state = policy_state(dict, mem).map_err(|e| e.rule);
            assert_eq!(both.clone().map(|(s, _)| s), state);
            if let Ok((_, l)) = both {
                assert_eq!(l, participants_in(dict).unwrap());
            }
        }
        assert_eq!(
            policy_state_and_list(&good, &members).unwrap().1,
            vec![(A.to_string(), 3), (B.to_string(), 2)]
        );
    }

    #[test]
    fn user_of_client_uses_the_first_segment() {
        assert_eq!(user_of_client(b"mimi://b.example/d/bob/phone").unwrap(), B);
        assert_eq!(user_of_client(b"mimi://b.example/d/bob").unwrap(), B);
        assert!(user_of_client(b"mimi://b.example/u/bob").is_err());
        assert!(user_of_client(b"\xff").is_err());
    }

    #[test]
    fn participant_updates_are_read_against_the_pre_commit_list() {
        let cur = list(&[(A, 4), (B, 2)]);
        let ops = [
            participant_update(&[(0, 3)], &[], &[(C, 2)]),
            participant_update(&[], &[1], &[]),
        ];
        let next = MimiLogic
            .apply(PARTICIPANT_LIST, Some(&cur), &ops)
            .unwrap()
            .unwrap();
        assert_eq!(
            decode_participants(Some(&next)).unwrap(),
            vec![(A.to_string(), 3), (C.to_string(), 2)]
        );
    }

    #[test]
    fn participant_update_rejections_name_the_rule() {
        let cur = list(&[(A, 4), (B, 2)]);
        let cases: Vec<(Vec<AppDataOp>, &str)> = vec![
            (
                vec![participant_update(&[(0, 3)], &[0], &[])],
                "commit.user-changed-twice",
            ),
            (
                vec![participant_update(&[], &[2], &[])],
                "participant-list.index-out-of-range",
            ),
            (
                vec![participant_update(&[], &[], &[(B, 2)])],
                "policy.already-listed",
            ),
            (
                vec![
                    participant_update(&[], &[], &[(C, 2)]),
                    participant_update(&[], &[], &[(C, 2)]),
                ],
                "commit.user-changed-twice",
            ),
            (
                vec![participant_update(&[], &[], &[("mimi://c.example/r/x", 2)])],
                "participant-list.not-a-user-uri",
            ),
            (
                vec![AppDataOp::Update(vec![0xff])],
                "participant-list.decode",
            ),
            (vec![AppDataOp::Remove], "component.removal-refused"),
        ];
        for (ops, rule) in cases {
            let err = MimiLogic
                .apply(PARTICIPANT_LIST, Some(&cur), &ops)
                .unwrap_err();
            assert!(err.rule.starts_with(rule), "{} vs {rule}", err.rule);
        }
    }

    #[test]
    fn metadata_allows_one_update_per_commit() {
        let m1 = room_metadata("mimi://a.example/r/x", "one", "").unwrap();
        let m2 = room_metadata("mimi://a.example/r/x", "two", "").unwrap();
        assert_eq!(
            MimiLogic
                .apply(ROOM_METADATA, None, &[AppDataOp::Update(m1.clone())])
                .unwrap(),
            Some(m1.clone())
        );
        let err = MimiLogic
            .apply(
                ROOM_METADATA,
                None,
                &[AppDataOp::Update(m1), AppDataOp::Update(m2)],
            )
            .unwrap_err();
        assert!(err.rule.starts_with("commit.metadata-updated-twice"));
        assert!(MimiLogic
            .apply(ROOM_METADATA, None, &[AppDataOp::Update(vec![1, 2])])
            .is_err());
    }

    #[test]
    fn metadata_fields_detects_changes() {
        let m1 = room_metadata("mimi://a.example/r/x", "one", "s").unwrap();
        let m2 = room_metadata("mimi://a.example/r/x", "two", "s").unwrap();
        let f = metadata_fields(Some(&m1), &m2).unwrap();
        assert_eq!(f.into_iter().collect::<Vec<_>>(), vec![MetadataField::Name]);
    }
}
