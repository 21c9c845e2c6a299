//! The model's state: hub, followers (one view per provider, provider 0 = the hub's own
//! local delivery), clients, the network multiset, ghost (history) variables and the
//! metadata knowledge of each provider. Every collection is a Vec/BTreeMap/BTreeSet so
//! that hashing is deterministic (stateright fingerprints).

use std::collections::{BTreeMap, BTreeSet};

/// Room state as protocol-06 §4.3/§7 and room-policy-03 define it, reduced: participant
/// list (user → role index, in list order), roles table id, preauth table id, base
/// policy id and a room-metadata version.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct RoomState {
    /// `participant_list` (protocol-06 §7.5): (user, role_index) in list order.
    pub participants: Vec<(u8, u8)>,
    /// `roles_list` component: which of the model's role tables is in force.
    pub roles: u8,
    /// `preauth_list` component: 0 = empty, 1 = the configured entries.
    pub preauth: u8,
    /// `base_room_policy` component: 0 = multi-device, 1 = single-device + max_clients.
    pub base: u8,
    /// `room_metadata` version (protocol-06 §7.6).
    pub meta: u8,
}

/// How a participant-list update addresses a user (protocol-06 §7.5; variant `list-addressing`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// By user URI.
    User(u8),
    /// By index into the current participant list.
    Index(u8),
}

/// One-time KeyPackage reference: the client and the serial of its KeyPackage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KpRef {
    /// Owning client.
    pub client: u8,
    /// Serial number of the KeyPackage.
    pub serial: u8,
}

/// One abstract proposal inside a handshake.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    /// ParticipantListUpdate addedParticipants entry.
    PlAdd {
        /// user
        user: u8,
        /// role index
        role: u8,
    },
    /// ParticipantListUpdate removedIndices entry (`intended` is ghost: who the sender meant).
    PlRemove {
        /// addressing
        target: Target,
        /// ghost: intended user
        intended: u8,
    },
    /// ParticipantListUpdate changedRoleParticipants entry.
    PlSetRole {
        /// addressing
        target: Target,
        /// ghost: intended user
        intended: u8,
        /// new role
        role: u8,
    },
    /// MLS Add of a KeyPackage.
    MlsAdd {
        /// KeyPackage
        kp: KpRef,
    },
    /// MLS Remove of a client.
    MlsRemove {
        /// removed client
        client: u8,
    },
    /// roles_list AppDataUpdate (full replacement).
    SetRoles(u8),
    /// preauth_list AppDataUpdate.
    SetPreauth(u8),
    /// base policy AppDataUpdate.
    SetBase(u8),
    /// room_metadata AppDataUpdate.
    SetMeta(u8),
}

/// A proposal bundle (a proposal plus `moreProposals`, accepted atomically, protocol-06 §5.3).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Proposal {
    /// Hub-assigned id (stands for the ProposalRef).
    pub id: u8,
    /// Sending client (`None` = the hub as external sender).
    pub sender: Option<u8>,
    /// Epoch it was sent in.
    pub epoch: u8,
    /// Proposals in the bundle.
    pub ops: Vec<Op>,
}

/// What a commit does (label for charts and witnesses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Label {
    /// add participant
    Add,
    /// remove participant
    Remove,
    /// ban
    Ban,
    /// unban
    Unban,
    /// kick
    Kick,
    /// change other's role
    SetRole,
    /// change own role via preauth
    OwnRole,
    /// commit queued proposals only
    Pending,
    /// policy update
    Policy,
    /// metadata update
    Meta,
    /// external join
    External,
    /// deliberately malformed (malicious client)
    Forged,
}

/// An MLS commit as the hub sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Commit {
    /// Committing client (for an external commit: the joiner).
    pub committer: u8,
    /// Epoch the commit was built in.
    pub epoch: u8,
    /// External commit (RFC 9420 §12.4.3.2).
    pub external: bool,
    /// Proposals included by reference (hub proposal ids).
    pub by_ref: Vec<u8>,
    /// Proposals included by value.
    pub ops: Vec<Op>,
    /// Label.
    pub label: Label,
    /// The committer's leaf carries a real (non-pseudonymous) credential (MMR only).
    pub real_cred: bool,
}

/// A handshake sent through `/update`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Handshake {
    /// Commit bundle.
    Commit(Commit),
    /// Proposal + moreProposals.
    Proposal(Proposal),
}

/// An application message (`/submitMessage`, protocol-06 §5.4).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AppMsg {
    /// Message id.
    pub id: u8,
    /// Real sending client (inside the PrivateMessage; hidden from servers).
    pub sender: u8,
    /// `sendingUri` (claimed sender user, in clear to the hub).
    pub claimed: u8,
    /// Epoch of the PrivateMessage.
    pub epoch: u8,
    /// Ghost: clients in the hub's committed group when the hub accepted it.
    pub members_at_accept: BTreeSet<u8>,
    /// Ghost: users the hub had seen removed when it accepted it.
    pub blocked_at_accept: BTreeSet<u8>,
    /// Room the message was sent in (its `/submitMessage/{roomId}` path).
    pub room: u8,
}

/// One fanout item (FanoutMessage, protocol-06 §5.5).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Item {
    /// An accepted commit, with stapled regenerated proposals.
    Commit {
        /// commit
        commit: Commit,
        /// `externalProposals`
        stapled: Vec<Proposal>,
    },
    /// An accepted proposal bundle.
    Proposal(Proposal),
    /// An accepted application message; `uri` is the sendingUri if (wrongly) forwarded.
    App {
        /// message
        msg: AppMsg,
        /// forwarded sendingUri (only under a mutation)
        uri: Option<u8>,
    },
    /// A Welcome for `clients`, carrying the new group state (GroupInfo + tree, abstract).
    Welcome {
        /// joining clients
        clients: Vec<u8>,
        /// epoch after the commit
        epoch: u8,
        /// room state
        room: RoomState,
        /// members
        members: BTreeSet<u8>,
    },
}

/// A `/notify` request body.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Notify {
    /// Transaction id.
    pub txn: u8,
    /// Batching tag: a re-batched retry has a different body (tag) but the same txn.
    pub tag: u8,
    /// Ghost: the hub had validated and accepted the event when it sent this.
    pub validated: bool,
    /// The item.
    pub item: Item,
}

/// Messages between providers. `from`/`to` are provider indexes; 0 is the hub.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Msg {
    /// `POST /update/{roomId}` follower → hub (protocol-06 §5.3).
    Update {
        /// relaying provider
        from: u8,
        /// handshake
        hs: Handshake,
    },
    /// `POST /submitMessage/{roomId}` follower → hub (§5.4).
    Submit {
        /// relaying provider
        from: u8,
        /// message
        msg: AppMsg,
    },
    /// `POST /groupInfo/{roomId}` follower → hub (§5.6).
    GroupInfoReq {
        /// relaying provider
        from: u8,
        /// requesting client (its credential)
        client: u8,
    },
    /// GroupInfoResponse hub → follower.
    GroupInfoResp {
        /// destination provider
        to: u8,
        /// requesting client
        client: u8,
        /// success?
        ok: bool,
        /// epoch of the GroupInfo
        epoch: u8,
    },
    /// `POST /notify/{roomId}` hub → follower (§5.5).
    Notify {
        /// destination provider
        to: u8,
        /// body
        body: Notify,
    },
    /// HTTP 201 answer to a `/notify`.
    Ack {
        /// answering provider
        from: u8,
        /// txn
        txn: u8,
        /// tag
        tag: u8,
    },
}

impl Msg {
    /// (source, destination) provider pair of the message.
    pub fn channel(&self) -> (u8, u8) {
        match self {
            Msg::Update { from, .. }
            | Msg::Submit { from, .. }
            | Msg::GroupInfoReq { from, .. } => (*from, 0),
            Msg::GroupInfoResp { to, .. } | Msg::Notify { to, .. } => (0, *to),
            Msg::Ack { from, .. } => (*from, 0),
        }
    }
}

/// A provider's view of the group as delivered to its clients (the clients' MLS state).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct View {
    /// Current epoch.
    pub epoch: u8,
    /// Room state from the GroupContext.
    pub room: RoomState,
    /// MLS members.
    pub members: BTreeSet<u8>,
    /// Pending proposals received for this epoch.
    pub pending: Vec<Proposal>,
}

/// A follower (and, for provider 0, the hub's local delivery).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Follower {
    /// Group view of this provider's clients.
    pub view: Option<View>,
    /// Dedup cache of `/notify` bodies (volatile).
    pub dedup: BTreeSet<(u8, u8)>,
    /// Restarts so far.
    pub restarts: u8,
}

/// The hub (protocol-06 §4.3, §7.1).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Hub {
    /// Current epoch.
    pub epoch: u8,
    /// Committed room state (GroupContext copy).
    pub gc: RoomState,
    /// Committed MLS members.
    pub members: BTreeSet<u8>,
    /// Hub's room state (with accepted-but-uncommitted changes when apply-at=once).
    pub room: RoomState,
    /// Pending (accepted, cached) proposals of this epoch.
    pub pending: Vec<Proposal>,
    /// KeyPackageRef → provider routing table (§5.2).
    pub kp_route: BTreeMap<KpRef, u8>,
    /// Users the hub has seen removed or banned (§5.3 blocking).
    pub blocked: BTreeSet<u8>,
    /// Clients that obtained a GroupInfo (correlation with the external commit, §5.6).
    pub gi_issued: BTreeSet<u8>,
    /// Unacknowledged `/notify` requests (only with a lossy network).
    pub outbox: Vec<(u8, Notify)>,
    /// Next transaction id.
    pub next_txn: u8,
    /// Next proposal id.
    pub next_prop: u8,
    /// Committed (room, members) per epoch (index = epoch).
    pub history: Vec<(RoomState, BTreeSet<u8>)>,
    /// Members whose leaves carry real credentials (MMR).
    pub real_cred: BTreeSet<u8>,
}

/// A client.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Client {
    /// One-time KeyPackages still published at its provider.
    pub kps_left: u8,
    /// KeyPackages this client fetched for adding others.
    pub held: BTreeSet<KpRef>,
    /// Epoch of a GroupInfo obtained through `/groupInfo`.
    pub gi: Option<u8>,
    /// Application messages delivered.
    pub got: BTreeSet<u8>,
    /// Epoch it joined at.
    pub joined_at: Option<u8>,
    /// Epoch it was removed at.
    pub left_at: Option<u8>,
}

/// A metadata fact (metadata_discovery A.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fact {
    /// Member(user, room) with the real user identity.
    Member(u8),
    /// Member(pseudonym of user, room).
    MemberPseudo(u8),
    /// Sent(message, user).
    Sent(u8, u8),
}

/// Counters for bounds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Counters {
    /// `/update` submissions
    pub updates: u8,
    /// app messages
    pub app: u8,
    /// key-package fetches
    pub fetches: u8,
    /// `/groupInfo` requests
    pub gi: u8,
    /// network duplications so far (bounded)
    pub dups: u8,
    /// consent grant/revoke operations
    pub consent: u8,
}

/// The whole state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct State {
    /// Room created?
    pub created: bool,
    /// Hub.
    pub hub: Hub,
    /// Per-provider views (index 0 = the hub provider's local clients).
    pub prov: Vec<Follower>,
    /// Clients.
    pub clients: Vec<Client>,
    /// In-flight messages (append order when ordered; sorted when unordered).
    pub net: Vec<Msg>,
    /// Bounds counters.
    pub count: Counters,
    /// Ghost: violation bits per property (see `properties::V`).
    pub violations: u64,
    /// Ghost: witness bits (see `properties::W`).
    pub seen: u64,
    /// Ghost: KeyPackages ever handed out.
    pub kp_issued: BTreeSet<KpRef>,
    /// Metadata knowledge per provider (index 0 = hub).
    pub know: Vec<BTreeSet<Fact>>,
    /// Consent scopes (requester user, target user) the target's provider holds as
    /// granted (protocol-06 §5.7; any-room scope). Used only with explicit consent.
    pub consent: BTreeSet<(u8, u8)>,
    /// Constant per run: the client permutations of the symmetry reduction.
    pub sym: std::sync::Arc<SymInfo>,
    /// Rooms 1..N-1 (configuration `rooms`); the fields above hold room 0. A transition
    /// in room r swaps room r into those fields (`swap_room`), runs the single-room
    /// rules, and swaps it back, so every room-scoped datum (hub state, provider views,
    /// the clients' group state, in-flight requests of `/…/{roomId}` endpoints, metadata
    /// knowledge) belongs to exactly one room.
    pub others: Vec<RoomSlot>,
    /// Room whose data the main fields hold during a transition (0 in every stored state).
    pub cur_room: u8,
}

/// The room-scoped part of the state for one room other than room 0.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct RoomSlot {
    /// Room created?
    pub created: bool,
    /// The hub's state for this room.
    pub hub: Hub,
    /// Per-provider views of this room's group.
    pub prov: Vec<Follower>,
    /// Per-client state in this room's group (`kps_left` unused: KeyPackages are global).
    pub clients: Vec<Client>,
    /// In-flight requests of this room's endpoints.
    pub net: Vec<Msg>,
    /// Metadata knowledge about this room, per provider.
    pub know: Vec<BTreeSet<Fact>>,
}

/// Swaps room `r` (≥ 1) into the main fields of `s`; a second call swaps it back.
/// Room 0 is a no-op. One-time KeyPackages (`Client::kps_left`) stay global.
pub fn swap_room(s: &mut State, r: u8) {
    if r == 0 {
        return;
    }
    let Some(slot) = s.others.get_mut(usize::from(r) - 1) else {
        return;
    };
    std::mem::swap(&mut s.created, &mut slot.created);
    std::mem::swap(&mut s.hub, &mut slot.hub);
    std::mem::swap(&mut s.prov, &mut slot.prov);
    std::mem::swap(&mut s.net, &mut slot.net);
    std::mem::swap(&mut s.know, &mut slot.know);
    for (cl, o) in s.clients.iter_mut().zip(slot.clients.iter_mut()) {
        std::mem::swap(cl, o);
        std::mem::swap(&mut cl.kps_left, &mut o.kps_left);
    }
    s.cur_room = if s.cur_room == 0 { r } else { 0 };
}

/// A copy of `s` with room `r` in the main fields.
pub fn in_room(s: &State, r: u8) -> State {
    let mut t = s.clone();
    swap_room(&mut t, r);
    t
}

/// Constant symmetry data carried by every state (stateright's symmetry hook is a plain
/// `fn` pointer and cannot capture the configuration).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct SymInfo {
    /// Client-id permutations (each maps client c to p[c]); devices of one user only.
    pub perms: Vec<Vec<u8>>,
    /// Symmetries (client map, user map) that also permute interchangeable users of one
    /// provider; used instead of `perms` when it has more than the identity.
    pub user_syms: Vec<(Vec<u8>, Vec<u8>)>,
    /// Whether the network is an unordered (sorted) multiset.
    pub unordered: bool,
}

/// Operations a client can commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum COp {
    /// add user with role
    Add(u8, u8),
    /// remove user
    Remove(u8),
    /// ban user
    Ban(u8),
    /// unban user to role
    Unban(u8, u8),
    /// remove one client (kick another user's client, or remove an own other client)
    Kick(u8),
    /// set user's role
    SetRole(u8, u8),
    /// own role via preauth
    OwnRole(u8),
    /// commit queued proposals
    Pending,
    /// roles table
    Roles(u8),
    /// preauth table
    Preauth(u8),
    /// base policy
    Base(u8),
    /// metadata
    Meta,
    /// malicious: MLS Add without list add
    MlsOnlyAdd(u8),
    /// malicious: list removal without removing clients
    ListOnlyRemove(u8),
    /// malicious: remove the same user twice in one commit
    DoubleTouch(u8),
    /// malicious: two metadata updates
    DoubleMeta,
    /// malicious: roles update with a list change
    RolesWithAdd(u8),
    /// malicious: add an already listed user
    AddListed(u8),
}

/// Transitions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Creator creates the room (protocol-06 §3.1, local).
    Create,
    /// Client fetches a user's KeyPackages through the hub (§5.2).
    Fetch {
        /// requesting client
        client: u8,
        /// target user
        target: u8,
    },
    /// Client builds a commit and its provider sends `/update`.
    Commit {
        /// committer
        client: u8,
        /// operation
        op: COp,
        /// leaf carries a real credential (MMR adversary)
        real_cred: bool,
    },
    /// Client sends leave proposals (§3.5).
    Leave {
        /// leaving client
        client: u8,
    },
    /// A target user grants or revokes a requester's consent (`/updateConsent`, §5.7).
    Consent {
        /// client of the target user acting
        client: u8,
        /// requesting user the scope names
        requester: u8,
        /// grant (true) or revoke (false)
        grant: bool,
    },
    /// Client asks for the GroupInfo (§5.6).
    GroupInfo {
        /// requesting client
        client: u8,
    },
    /// Client sends an external commit (§3.6).
    ExternalJoin {
        /// joining client
        client: u8,
    },
    /// Client sends an application message (§5.4).
    Send {
        /// real sender
        client: u8,
        /// claimed sendingUri
        claimed: u8,
    },
    /// Deliver the in-flight message at this index.
    Deliver(usize),
    /// The hub accepts the commit at this index but equivocates towards follower `victim`.
    DeliverEquivocating(usize, u8),
    /// Lose the in-flight message at this index.
    Drop(usize),
    /// Hub retries outbox entry; `rebatch` = with a different body.
    Retry(usize, bool),
    /// A follower restarts and loses its dedup cache.
    Restart(u8),
    /// Duplicate the in-flight `/notify` at this index.
    Duplicate(usize),
    /// An action of room r ≥ 1 (room 0's actions are not wrapped).
    InRoom(u8, Box<Action>),
}
