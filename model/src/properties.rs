//! Named properties (`P-…`), their catalogue (kind, description, requirement ids, draft
//! sections), the ghost monitors that record per-commit violations, and witness bits.
//!
//! Per-state invariants are evaluated on the state; per-commit invariants are recorded
//! by monitors in `State::violations` at the moment the hub accepts or a client
//! receives something (history variables), and the property reads the bit.

use crate::config::{Config, RoomMode};
use crate::model::MimiModel;
use crate::ops::{apply_ops, is_pl, resolve, touched_users};
use crate::policy::{
    self, allowed, caps_of, constraints_ok, preauth_match, role_def, role_of, BANNED, NO_ROLE,
};
use crate::state::{Commit, Fact, Label, Op, RoomState, State};
use stateright::{Expectation, Property};
use std::collections::BTreeSet;

/// Violation bits set by monitors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum V {
    /// removed/banned user kept clients after the commit
    RemoveSameCommit,
    /// user touched twice
    OneOpPerUser,
    /// two metadata updates
    OneMetadata,
    /// roles/preauth composition
    PolicyCommitRules,
    /// capability missing for an accepted change
    Authorized,
    /// role gained without authorization
    NoEscalation,
    /// two commits for one epoch
    HubLinear,
    /// a client received one fanout item twice
    FanoutOnce,
    /// one-time KeyPackage handed out twice
    KpOneTime,
    /// Welcome sent to a provider that does not own the KeyPackage
    WelcomeRouting,
    /// commit accepted without the queued proposals
    QueuedIncluded,
    /// accepted leave not committed in the next epoch
    LeaveNextEpoch,
    /// follower received a fanout of an unvalidated event
    ValidatedFanout,
    /// removed client received a later app message
    RemovedNoAppMsg,
    /// hub accepted an app message from a user it saw removed
    BlockedSender,
    /// a user the hub saw removed received a later app message
    BlockedReceiver,
    /// a receiver accepted a message attributed to a user who did not send it
    FrankSender,
    /// a list operation resolved to a different user than its sender meant
    ListIntent,
    /// KeyPackages handed out to a requester the target has not consented to
    KpConsent,
    /// a /notify of a room went to a provider with no participant client in that room
    FanoutScope,
    /// a client received an application message of a room it is not a member of
    RoomIsolation,
}

/// Witness bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum W {
    /// room created
    Created,
    /// key packages fetched
    Fetched,
    /// user added
    Added,
    /// user removed by another
    Removed,
    /// leave committed
    Left,
    /// user banned
    Banned,
    /// user unbanned
    Unbanned,
    /// clients kicked
    Kicked,
    /// other's role changed
    RoleChanged,
    /// own role changed via preauth
    OwnRole,
    /// policy component replaced
    PolicyUpdated,
    /// metadata replaced
    MetaUpdated,
    /// external join accepted
    ExternalJoin,
    /// app message delivered
    AppDelivered,
    /// app message accepted
    AppAccepted,
    /// wrongEpoch
    WrongEpoch,
    /// epochTooOld
    EpochTooOld,
    /// notAllowed
    NotAllowed,
    /// invalidProposal
    InvalidProposal,
    /// leave proposals accepted and cached
    LeaveAccepted,
    /// Welcome delivered
    Welcomed,
    /// removed client received its removal commit
    RemovedGotCommit,
    /// duplicate /notify dropped
    DupDropped,
    /// /notify retried
    Retried,
    /// message lost
    Lost,
    /// follower restarted
    Restarted,
    /// hub equivocated
    Equivocated,
    /// frank check rejected a forged sendingUri
    FrankRejected,
    /// concurrent commits: a commit was rejected with wrongEpoch after another was accepted
    Concurrent,
    /// a /keyMaterial request was refused for lack of consent (noConsent)
    ConsentRefused,
    /// KeyPackages were handed out under an explicit consent
    ConsentedFetch,
    /// a consent was revoked
    ConsentRevoked,
}

/// Property ids of the violation bits set in `bits`.
pub fn violation_names(bits: u64) -> Vec<&'static str> {
    const NAMES: [&str; 21] = [
        "P-REMOVE-SAME-COMMIT",
        "P-ONE-OP-PER-USER",
        "P-ONE-METADATA",
        "P-POLICY-COMMIT-RULES",
        "P-AUTHORIZED",
        "P-NO-ESCALATION",
        "P-HUB-LINEAR",
        "P-FANOUT-ONCE",
        "P-KP-ONE-TIME",
        "P-WELCOME-ROUTING",
        "P-QUEUED-INCLUDED",
        "P-LEAVE-NEXT-EPOCH",
        "P-VALIDATED-FANOUT",
        "P-REMOVED-NO-APP-MSG",
        "P-BLOCKED-SENDER",
        "P-BLOCKED-RECEIVER",
        "P-MM-9",
        "P-LIST-INTENT",
        "P-KP-CONSENT",
        "P-FANOUT-SCOPE",
        "P-ROOM-ISOLATION",
    ];
    NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1u64 << i) != 0)
        .map(|(_, n)| *n)
        .collect()
}

/// Sets a violation bit.
pub fn violate(s: &mut State, v: V) {
    s.violations |= 1u64 << (v as u8);
}
/// Sets a witness bit.
pub fn witness(s: &mut State, w: W) {
    s.seen |= 1u64 << (w as u8);
}
fn has_v(s: &State, v: V) -> bool {
    s.violations & (1u64 << (v as u8)) != 0
}
fn has_w(s: &State, w: W) -> bool {
    s.seen & (1u64 << (w as u8)) != 0
}

/// Property kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Safety: holds in every reachable state.
    Always,
    /// Reachability witness.
    Sometimes,
    /// Liveness (written as always(quiescent ⇒ converged) plus sometimes(quiescent)).
    Eventually,
}

/// Catalogue entry.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PropertyInfo {
    /// `P-…` id.
    pub id: &'static str,
    /// Kind.
    pub kind: Kind,
    /// One-line description.
    pub description: &'static str,
    /// Requirement ids (PROTO-INV-n, POLICY-In/Tn, MM-n).
    pub requirements: &'static [&'static str],
    /// Draft sections.
    pub sections: &'static [&'static str],
}

type Cond = fn(&MimiModel, &State) -> bool;
type Applies = fn(&Config) -> bool;

struct Entry {
    info: PropertyInfo,
    cond: Cond,
    applies: Applies,
}

fn all(_: &Config) -> bool {
    true
}
fn mmr(c: &Config) -> bool {
    c.raw.mode == RoomMode::Mmr
}
fn semi(c: &Config) -> bool {
    c.raw.mode == RoomMode::SemiPrivate
}
fn consent(c: &Config) -> bool {
    c.consent.is_some()
}

/// Evaluates a per-room condition on every room (`always`/`eventually`: all rooms must
/// satisfy it; `sometimes`: one room suffices). With one room this is `cond(m, s)`.
fn over_rooms(kind: Kind, m: &MimiModel, s: &State, cond: Cond) -> bool {
    let here = cond(m, s);
    if s.others.is_empty() {
        return here;
    }
    let mut rest = (1..=s.others.len() as u8).map(|r| cond(m, &crate::state::in_room(s, r)));
    match kind {
        Kind::Sometimes => here || rest.any(|x| x),
        Kind::Always | Kind::Eventually => here && rest.all(|x| x),
    }
}

// Per-room state properties: quantified over all rooms.
macro_rules! e {
    ($id:expr, $kind:ident, $desc:expr, [$($r:expr),*], [$($sec:expr),*], $cond:expr, $app:expr) => {
        Entry { info: PropertyInfo { id: $id, kind: Kind::$kind, description: $desc, requirements: &[$($r),*], sections: &[$($sec),*] }, cond: |m: &MimiModel, s: &State| over_rooms(Kind::$kind, m, s, $cond), applies: $app }
    };
}

// Properties of run-wide ghost bits (set by monitors in whichever room): not per room.
macro_rules! eg {
    ($id:expr, $kind:ident, $desc:expr, [$($r:expr),*], [$($sec:expr),*], $cond:expr, $app:expr) => {
        Entry { info: PropertyInfo { id: $id, kind: Kind::$kind, description: $desc, requirements: &[$($r),*], sections: &[$($sec),*] }, cond: $cond, applies: $app }
    };
}

macro_rules! wit {
    ($id:expr, $w:ident, $desc:expr, [$($r:expr),*], [$($sec:expr),*], $app:expr) => {
        eg!($id, Sometimes, $desc, [$($r),*], [$($sec),*], |_m: &MimiModel, s: &State| has_w(s, W::$w), $app)
    };
}

macro_rules! mon {
    ($id:expr, $v:ident, $desc:expr, [$($r:expr),*], [$($sec:expr),*]) => {
        eg!($id, Always, $desc, [$($r),*], [$($sec),*], |_m: &MimiModel, s: &State| !has_v(s, V::$v), all)
    };
}

fn list_before_add(m: &MimiModel, s: &State) -> bool {
    let cfg = &m.cfg;
    s.hub.members.iter().all(|c| {
        let r = role_of(&s.hub.gc, cfg.client_user[usize::from(*c)]);
        r != NO_ROLE && r != BANNED
    })
}

fn list_wellformed(_m: &MimiModel, s: &State) -> bool {
    [&s.hub.gc, &s.hub.room].iter().all(|room| {
        let mut seen = BTreeSet::new();
        room.participants
            .iter()
            .all(|(u, r)| *r != NO_ROLE && seen.insert(*u))
    })
}

fn constraints(m: &MimiModel, s: &State) -> bool {
    !s.created || constraints_ok(&m.cfg, &s.hub.gc, &s.hub.members).is_ok()
}

fn agreement(_m: &MimiModel, s: &State) -> bool {
    s.prov.iter().all(|p| match &p.view {
        None => true,
        Some(v) => s
            .hub
            .history
            .get(usize::from(v.epoch))
            .is_some_and(|(r, mem)| *r == v.room && *mem == v.members),
    })
}

fn hub_state(m: &MimiModel, s: &State) -> bool {
    let cfg = &m.cfg;
    if cfg.variants.apply_at_once {
        let mut r = s.hub.gc.clone();
        for p in &s.hub.pending {
            r = apply_ops(cfg, &r, &s.hub.members, &p.ops).0;
        }
        r == s.hub.room
    } else {
        s.hub.room == s.hub.gc
    }
}

fn converged(m: &MimiModel, s: &State) -> bool {
    let h = &s.hub;
    let provs = m.providers_of(&h.members);
    provs.iter().all(|p| {
        s.prov[usize::from(*p)].view.as_ref().is_some_and(|v| {
            v.epoch == h.epoch
                && v.room == h.gc
                && v.members == h.members
                && v.pending.len() == h.pending.len()
        })
    })
}

fn quiescent_converged(m: &MimiModel, s: &State) -> bool {
    !s.created || !m.quiescent(s) || converged(m, s)
}

fn quiescent_nontrivial(m: &MimiModel, s: &State) -> bool {
    s.hub.epoch >= 1 && m.quiescent(s)
}

fn closure(m: &MimiModel, s: &State, p: u8) -> BTreeSet<Fact> {
    // Link(p,u) is known to u's own provider; Link ∧ MemberPseudo ⇒ Member (metadata A.7)
    let mut k = s.know[usize::from(p)].clone();
    let extra: Vec<Fact> = k
        .iter()
        .filter_map(|f| match f {
            Fact::MemberPseudo(u) if m.cfg.user_provider[usize::from(*u)] == p => {
                Some(Fact::Member(*u))
            }
            _ => None,
        })
        .collect();
    k.extend(extra);
    k
}

fn mm1(m: &MimiModel, s: &State) -> bool {
    let k = closure(m, s, 0);
    // a malicious client that presents its real credential discloses itself: MM-1 is
    // about honest participants
    (0..m.cfg.n_users() as u8).all(|u| {
        m.cfg.user_provider[usize::from(u)] == 0
            || m.cfg.malicious_user == Some(u)
            || !k.contains(&Fact::Member(u))
    })
}

fn mm2(m: &MimiModel, s: &State) -> bool {
    (1..m.cfg.n_providers() as u8).all(|f| {
        let k = closure(m, s, f);
        (0..m.cfg.n_users() as u8).all(|u| {
            let pu = m.cfg.user_provider[usize::from(u)];
            pu == f || pu == 0 || !k.contains(&Fact::Member(u))
        })
    })
}

fn mm4(_m: &MimiModel, s: &State) -> bool {
    s.hub
        .real_cred
        .intersection(&s.hub.members)
        .next()
        .is_none()
}

fn mm8(m: &MimiModel, s: &State) -> bool {
    (1..m.cfg.n_providers() as u8).all(|f| {
        s.know[usize::from(f)].iter().all(|x| match x {
            Fact::Sent(_, u) => m.cfg.user_provider[usize::from(*u)] == f,
            _ => true,
        })
    })
}

fn epoch2(_m: &MimiModel, s: &State) -> bool {
    s.prov
        .iter()
        .skip(1)
        .any(|p| p.view.as_ref().is_some_and(|v| v.epoch >= 2))
}

fn rooms_diverge(_m: &MimiModel, s: &State) -> bool {
    let users = |h: &crate::state::Hub| -> BTreeSet<u8> {
        h.gc.participants.iter().map(|(u, _)| *u).collect()
    };
    has_w(s, W::AppDelivered)
        && s.hub.epoch >= 1
        && s.others
            .iter()
            .any(|o| o.created && o.hub.epoch >= 1 && users(&o.hub) != users(&s.hub))
}

fn table() -> Vec<Entry> {
    vec![
        e!("P-LIST-BEFORE-ADD", Always, "every MLS member's user is in the participant list with a non-banned role", ["PROTO-INV-1", "PROTO-INV-2", "POLICY-T12", "POLICY-I3"], ["protocol-06 §5.3", "room-policy-03 §3"], list_before_add, all),
        mon!("P-REMOVE-SAME-COMMIT", RemoveSameCommit, "a user removed or banned from the list has no client left after that commit", ["PROTO-INV-3", "POLICY-T6", "POLICY-T7"], ["protocol-06 §5.3", "room-policy-03 §8.1.2, §8.1.3"]),
        mon!("P-ONE-OP-PER-USER", OneOpPerUser, "no accepted commit touches a user twice in participant-list updates", ["PROTO-INV-4", "POLICY-T3"], ["protocol-06 §7.5"]),
        mon!("P-ONE-METADATA", OneMetadata, "no accepted commit carries two room-metadata updates", ["PROTO-INV-7", "POLICY-T4"], ["protocol-06 §7.6"]),
        mon!("P-POLICY-COMMIT-RULES", PolicyCommitRules, "roles updates never share a commit with list changes; preauth updates only with removals", ["POLICY-T1", "POLICY-T2"], ["room-policy-03 §3, §4"]),
        e!("P-LIST-WELLFORMED", Always, "participant list has no duplicate user and no role-0 entry (hub committed and working state)", ["PROTO-INV-5", "PROTO-INV-6", "POLICY-I1", "POLICY-I2"], ["protocol-06 §7.5", "room-policy-03 §3"], list_wellformed, all),
        e!("P-CONSTRAINTS", Always, "committed state satisfies role min/max (participants and active), max_clients and multi_device", ["POLICY-I3", "POLICY-I4", "POLICY-I5", "POLICY-I7"], ["room-policy-03 §3, §5"], constraints, all),
        mon!("P-AUTHORIZED", Authorized, "every accepted change is backed by the capability room policy requires of its sender", ["POLICY-T13", "POLICY-T9", "POLICY-T10", "POLICY-T11", "PROTO-INV-10"], ["room-policy-03 §8", "protocol-06 §7.1"]),
        mon!("P-NO-ESCALATION", NoEscalation, "no user gains a role except through authorized_role_changes of the actor, its own preauth match, or an open join", ["POLICY-T13", "POLICY-T10"], ["room-policy-03 §3, §4, §8.1.3"]),
        e!("P-AGREEMENT", Always, "every provider's view at epoch n equals the hub's committed room state and membership at n", ["PROTO-INV-9"], ["protocol-06 §7.2, §7.3", "arch §4.4"], agreement, all),
        mon!("P-HUB-LINEAR", HubLinear, "the hub accepts at most one commit per epoch", ["PROTO-INV-11"], ["protocol-06 §5.3, §7.1"]),
        mon!("P-FANOUT-ONCE", FanoutOnce, "no client receives one application message twice (follower dedup)", ["PROTO-INV-24"], ["protocol-06 §5.5"]),
        mon!("P-KP-ONE-TIME", KpOneTime, "a one-time KeyPackage is handed out at most once", ["PROTO-INV-17", "MM-11"], ["protocol-06 §5.2"]),
        mon!("P-WELCOME-ROUTING", WelcomeRouting, "each Welcome goes to the provider that owns the KeyPackageRef", ["PROTO-INV-19"], ["protocol-06 §5.2, §5.5"]),
        mon!("P-QUEUED-INCLUDED", QueuedIncluded, "every accepted (non-external) commit includes all queued proposals", ["PROTO-INV-13"], ["protocol-06 §3.5, §5.3"]),
        mon!("P-LEAVE-NEXT-EPOCH", LeaveNextEpoch, "an accepted leave is carried out by the next commit (never dropped)", ["PROTO-INV-13"], ["protocol-06 §3.5, §5.5"]),
        mon!("P-VALIDATED-FANOUT", ValidatedFanout, "no follower receives a fanout of an event the hub had not validated", ["PROTO-INV-10"], ["protocol-06 §7.1"]),
        mon!("P-REMOVED-NO-APP-MSG", RemovedNoAppMsg, "a client removed by a commit receives no application message the hub accepted after that commit", ["PROTO-INV-14", "POLICY-I19"], ["protocol-06 §5.3, §5.4"]),
        mon!("P-BLOCKED-SENDER", BlockedSender, "the hub accepts no application message from a user it has seen removed or banned", ["PROTO-INV-14"], ["protocol-06 §5.3"]),
        mon!("P-BLOCKED-RECEIVER", BlockedReceiver, "a user the hub has seen removed receives no application message accepted afterwards", ["PROTO-INV-14", "POLICY-I19"], ["protocol-06 §5.3"]),
        e!("P-HUB-STATE", Always, "hub room state = committed GroupContext state + accepted pending proposals", ["PROTO-INV-15"], ["protocol-06 §7.1"], hub_state, all),
        mon!("P-LIST-INTENT", ListIntent, "every participant-list operation is authorized and applied to the user its sender meant", ["PROTO-INV-4"], ["protocol-06 §7.5"]),
        e!("P-MM-1", Always, "MMR: the hub never learns a real identity of another provider's participant", ["MM-1"], ["protocol-06 §6.1", "metadata A.5.2"], mm1, mmr),
        e!("P-MM-2", Always, "SemiPrivate: a follower learns no membership of users of third providers", ["MM-2"], ["protocol-06 §5.3", "metadata A.5.1"], mm2, semi),
        e!("P-MM-4", Always, "MMR: every member leaf carries a pseudonymous credential", ["MM-4", "PROTO-INV-8"], ["protocol-06 §6.1"], mm4, mmr),
        e!("P-MM-8", Always, "followers never learn the sender of another provider's application message", ["MM-8", "PROTO-INV-30"], ["protocol-06 §5.4, §5.5"], mm8, all),
        mon!("P-MM-9", FrankSender, "a receiver only attributes a message to the user the hub authorized (sendingUri = real sender)", ["MM-9", "PROTO-INV-29"]  , ["protocol-06 §5.4.1"]),
        eg!("P-MM-11", Always, "MMR/any: a one-time KeyPackage appears in at most one response", ["MM-11", "PROTO-INV-17"], ["protocol-06 §5.2"], |_m: &MimiModel, s: &State| !has_v(s, V::KpOneTime), all),
        eg!("P-MM-12", Always, "MMR: every accepted change is authorized by the role of the signer's (pseudonymous) list entry", ["MM-12"], ["metadata A.6", "room-policy-03 §8"], |_m: &MimiModel, s: &State| !has_v(s, V::Authorized), mmr),
        eg!("P-KP-CONSENT", Always, "no KeyPackage of a user is handed out to a requester the user has not consented to (noConsent otherwise)", ["PROTO-INV-21"], ["protocol-06 §5.2, §5.7"], |_m: &MimiModel, s: &State| !has_v(s, V::KpConsent), consent),
        mon!("P-FANOUT-SCOPE", FanoutScope, "every /notify of a room goes to a provider with a participant client in that room (before or after the event), or owning the Welcome's KeyPackage", ["PROTO-5.5-01"], ["protocol-06 §5.5"]),
        mon!("P-ROOM-ISOLATION", RoomIsolation, "a client receives an application message of a room only if it is a member of that room's group (a user in one room never receives another room's messages)", ["PROTO-4.2-01"], ["protocol-06 §4.2, §5.4, §5.5"]),
        e!("P-CONVERGED", Eventually, "liveness: in every quiescent state, every provider with members is at the hub's epoch and state", ["PROTO-INV-12", "PROTO-INV-25", "PROTO-INV-9"], ["protocol-06 §5.5"], quiescent_converged, all),
        e!("P-REACH-QUIESCENT", Sometimes, "a quiescent state after at least one commit is reachable", ["PROTO-INV-12"], ["protocol-06 §5.5"], quiescent_nontrivial, all),
        wit!("P-REACH-CREATED", Created, "the room is created", ["PROTO-INV-15"], ["protocol-06 §3.1"], all),
        wit!("P-REACH-FETCH", Fetched, "KeyPackages are fetched through the hub", ["PROTO-INV-17"], ["protocol-06 §5.2"], |c| c.ops.add),
        wit!("P-REACH-ADD", Added, "a user is added (list + MLS Adds + Welcome)", ["PROTO-INV-2"], ["protocol-06 §3.2"], |c| c.ops.add),
        wit!("P-REACH-WELCOME", Welcomed, "a Welcome is delivered", ["PROTO-INV-19"], ["protocol-06 §5.5"], |c| c.ops.add),
        wit!("P-REACH-REMOVE", Removed, "a user is removed by another", ["PROTO-INV-3"], ["protocol-06 §5.3"], |c| c.ops.remove),
        wit!("P-REACH-LEAVE-ACCEPTED", LeaveAccepted, "leave proposals are accepted and cached", ["PROTO-INV-13"], ["protocol-06 §3.5"], |c| c.ops.leave),
        wit!("P-REACH-LEFT", Left, "a leave is committed by another member", ["PROTO-INV-13"], ["protocol-06 §3.5"], |c| c.ops.leave && c.ops.commit_pending),
        wit!("P-REACH-BAN", Banned, "a user is banned", ["POLICY-T7"], ["room-policy-03 §8.1.3"], |c| c.ops.ban),
        wit!("P-REACH-UNBAN", Unbanned, "a user is unbanned", ["POLICY-T11"], ["room-policy-03 §8.1.3"], |c| c.ops.unban && c.ops.ban),
        wit!("P-REACH-KICK", Kicked, "clients are kicked", ["POLICY-T9"], ["room-policy-03 §8.1.3"], |c| c.ops.kick),
        wit!("P-REACH-SET-ROLE", RoleChanged, "a user's role is changed", ["POLICY-T9"], ["room-policy-03 §8.1.3"], |c| c.ops.set_role),
        wit!("P-REACH-OWN-ROLE", OwnRole, "a user changes its own role via preauth", ["POLICY-T10"], ["room-policy-03 §4"], |c| c.ops.own_role && !c.preauth.is_empty()),
        wit!("P-REACH-POLICY", PolicyUpdated, "a policy component is replaced", ["POLICY-T1", "POLICY-T2"], ["room-policy-03 §3-§5"], |c| c.ops.policy),
        wit!("P-REACH-METADATA", MetaUpdated, "room metadata is replaced", ["PROTO-INV-7"], ["protocol-06 §7.6"], |c| c.ops.metadata),
        wit!("P-REACH-EXTERNAL-JOIN", ExternalJoin, "a client joins by external commit", ["PROTO-INV-33", "PROTO-INV-34"], ["protocol-06 §3.6, §5.6"], |c| c.ops.external_join),
        wit!("P-REACH-APP", AppDelivered, "an application message is delivered", ["PROTO-INV-12"], ["protocol-06 §3.4"], |c| c.ops.app_message),
        wit!("P-REACH-WRONG-EPOCH", WrongEpoch, "a stale commit is rejected with wrongEpoch", ["PROTO-INV-11"], ["protocol-06 §5.3"], |c| c.n_clients() > 1 && c.raw.bounds.max_updates >= 2),
        wit!("P-REACH-EPOCH-TOO-OLD", EpochTooOld, "an application message is rejected with epochTooOld", ["PROTO-INV-14"], ["protocol-06 §5.4"], |c| c.ops.app_message && c.n_providers() > 1 && c.raw.bounds.max_updates >= 2),
        wit!("P-REACH-NOT-ALLOWED", NotAllowed, "a request is rejected with notAllowed", ["POLICY-T13"], ["protocol-06 §5.3"], |c| c.raw.bounds.max_updates >= 2),
        wit!("P-REACH-REMOVED-GOT-COMMIT", RemovedGotCommit, "a removed client receives the commit removing it", ["PROTO-INV-26"], ["protocol-06 §5.5"], |c| c.ops.remove || c.ops.leave || c.ops.kick || c.ops.ban),
        wit!("P-REACH-DUP-DROPPED", DupDropped, "a duplicate /notify is answered and dropped", ["PROTO-INV-24"], ["protocol-06 §5.5"], |c| c.raw.network.duplicate_notify || c.raw.network.lossy_notify),
        wit!("P-REACH-RETRY", Retried, "the hub retries a /notify", ["PROTO-INV-25"], ["protocol-06 §5.5"], |c| c.raw.network.lossy_notify),
        wit!("P-REACH-LOSS", Lost, "a message is lost", ["PROTO-INV-25"], ["protocol-06 §5.5"], |c| c.raw.network.lossy_notify),
        wit!("P-REACH-RESTART", Restarted, "a follower restarts", ["PROTO-INV-24"], ["protocol-06 §5.5"], |c| c.raw.network.follower_restarts > 0),
        wit!("P-REACH-EQUIVOCATION", Equivocated, "the hub equivocates", ["PROTO-INV-9"], ["protocol-06 §7.1"], |c| c.raw.adversaries.equivocating_hub),
        wit!("P-REACH-FRANK-REJECT", FrankRejected, "a receiver rejects a forged sendingUri by the frank", ["PROTO-INV-29"], ["protocol-06 §5.4.1"], |c| c.ops.app_message && (c.malicious_user.is_some() || c.raw.adversaries.malicious_follower.is_some())),
        wit!("P-REACH-CONSENT-REFUSED", ConsentRefused, "a /keyMaterial request is refused with noConsent", ["PROTO-INV-21"], ["protocol-06 §5.2"], consent),
        wit!("P-REACH-CONSENTED-FETCH", ConsentedFetch, "KeyPackages are handed out under an explicit consent", ["PROTO-INV-21"], ["protocol-06 §5.2, §5.7"], |c| consent(c) && c.ops.add),
        wit!("P-REACH-CONSENT-REVOKED", ConsentRevoked, "a target user revokes a consent (/updateConsent revoke)", ["PROTO-5.7-01"], ["protocol-06 §5.7"], |c| c.consent.as_ref().is_some_and(|x| x.grant_revoke && (x.max_ops >= 2 || !x.initial.is_empty()))),
        eg!("P-REACH-ROOMS-DIVERGE", Sometimes, "two rooms have different participant lists and an application message is delivered (the states P-ROOM-ISOLATION and P-FANOUT-SCOPE talk about)", ["PROTO-4.2-01"], ["protocol-06 §4.3, §5.5"], rooms_diverge, |c| c.raw.rooms > 1 && c.ops.app_message),
        e!("P-REACH-FOLLOWER-EPOCH-2", Sometimes, "some follower reaches epoch 2", ["PROTO-INV-9"], ["protocol-06 §5.5"], epoch2, |c| c.n_providers() > 1 && c.raw.bounds.max_commits >= 2),
    ]
}

/// The property catalogue (all properties, whether or not a configuration reaches them).
pub fn property_catalogue() -> Vec<PropertyInfo> {
    table().into_iter().map(|e| e.info).collect()
}

/// Whether property `id` applies to configuration `cfg`.
pub fn applies(cfg: &Config, id: &str) -> bool {
    table().iter().any(|e| e.info.id == id && (e.applies)(cfg))
}

/// The stateright properties of a model (applicable ∩ selected).
pub fn stateright_properties(m: &MimiModel) -> Vec<Property<MimiModel>> {
    table()
        .into_iter()
        .filter(|e| (e.applies)(&m.cfg))
        .filter(|e| m.selected.is_empty() || m.selected.iter().any(|x| x == e.info.id))
        .map(|e| match e.info.kind {
            Kind::Always | Kind::Eventually => Property {
                expectation: Expectation::Always,
                name: e.info.id,
                condition: e.cond,
            },
            Kind::Sometimes => Property {
                expectation: Expectation::Sometimes,
                name: e.info.id,
                condition: e.cond,
            },
        })
        .collect()
}

/// Independent per-commit monitors, run when the hub accepts a commit.
#[allow(clippy::too_many_arguments)]
pub fn monitor_commit(
    m: &MimiModel,
    s: &mut State,
    cm: &Commit,
    all: &[Op],
    pre_gc: &RoomState,
    pre_members: &BTreeSet<u8>,
    post: &RoomState,
    members: &BTreeSet<u8>,
) {
    let cfg = &m.cfg;
    let pre_auth = if cfg.variants.apply_at_once {
        s.hub.room.clone()
    } else {
        pre_gc.clone()
    };
    let actor = cfg.client_user[usize::from(cm.committer)];
    // T6/T7
    for u in 0..cfg.n_users() as u8 {
        let (a, b) = (role_of(pre_gc, u), role_of(post, u));
        if ((a != NO_ROLE && b == NO_ROLE) || (a != BANNED && b == BANNED))
            && cfg.clients_of(u).any(|c| members.contains(&c))
        {
            violate(s, V::RemoveSameCommit);
        }
    }
    // T3
    let t = touched_users(pre_gc, all);
    let mut seen = BTreeSet::new();
    if t.iter().any(|u| !seen.insert(*u)) {
        violate(s, V::OneOpPerUser);
    }
    // T4
    if all.iter().filter(|o| matches!(o, Op::SetMeta(_))).count() > 1 {
        violate(s, V::OneMetadata);
    }
    // T1/T2
    let has_pl = all.iter().any(is_pl);
    let non_removal = all
        .iter()
        .any(|o| is_pl(o) && !matches!(o, Op::PlRemove { .. }));
    if (all.iter().any(|o| matches!(o, Op::SetRoles(_))) && has_pl)
        || (all.iter().any(|o| matches!(o, Op::SetPreauth(_))) && non_removal)
    {
        violate(s, V::PolicyCommitRules);
    }
    // queued proposals
    if !cm.external && s.hub.pending.iter().any(|p| !cm.by_ref.contains(&p.id)) {
        violate(s, V::QueuedIncluded);
    }
    // intent of list operations
    for o in all {
        if let Op::PlRemove { target, intended }
        | Op::PlSetRole {
            target, intended, ..
        } = o
        {
            if resolve(pre_gc, *target) != Some(*intended) {
                violate(s, V::ListIntent);
            }
        }
    }
    for o in &cm.ops {
        if let Op::PlRemove { target, intended }
        | Op::PlSetRole {
            target, intended, ..
        } = o
        {
            if resolve(&pre_auth, *target) != Some(*intended) {
                violate(s, V::ListIntent);
            }
        }
    }
    // capabilities (table of room-policy-03 §8, independent of the hub's code path)
    let caps = caps_of(cfg, &pre_auth, actor);
    let need = |c: policy::Caps| caps & c != 0;
    let mut ok = true;
    for o in &cm.ops {
        ok &= match o {
            Op::PlAdd { user, role } if *user == actor && cm.external => {
                preauth_match(cfg, &pre_auth, *user) == Some(*role)
                    || role_def(cfg, pre_auth.roles, 0)
                        .is_some_and(|d| d.caps & policy::OPEN_JOIN != 0)
            }
            Op::PlAdd { role, .. } => need(if *role == BANNED {
                policy::BAN
            } else {
                policy::ADD_PARTICIPANT
            }),
            Op::PlRemove { intended, .. } => *intended != actor && need(policy::REMOVE_PARTICIPANT),
            Op::PlSetRole { intended, role, .. } => {
                let rt = role_of(&pre_auth, *intended);
                if *intended == actor {
                    need(policy::CHANGE_OWN_ROLE)
                } else if *role == BANNED {
                    need(policy::BAN)
                } else if rt == BANNED {
                    need(policy::UNBAN)
                } else {
                    need(policy::CHANGE_USER_ROLE)
                }
            }
            Op::MlsRemove { client } => {
                let u = cfg.client_user[usize::from(*client)];
                let listed_change = role_of(post, u) == NO_ROLE || role_of(post, u) == BANNED;
                listed_change
                    || if u == actor {
                        need(policy::REMOVE_OWN_CLIENT)
                    } else {
                        need(policy::KICK)
                    }
            }
            Op::MlsAdd { kp } => {
                let u = cfg.client_user[usize::from(kp.client)];
                role_of(&pre_auth, u) == NO_ROLE
                    || (u == actor && need(policy::ADD_OWN_CLIENT))
                    || need(policy::ADD_PARTICIPANT)
            }
            Op::SetRoles(_) => need(policy::CHANGE_ROLE_DEFINITIONS),
            Op::SetPreauth(_) => need(policy::CHANGE_PREAUTH),
            Op::SetBase(_) => need(policy::CHANGE_MEMBERSHIP_STYLE),
            Op::SetMeta(_) => need(policy::CHANGE_ROOM_NAME),
        };
    }
    if cm.external && role_of(&pre_auth, actor) != NO_ROLE && !need(policy::ADD_OWN_CLIENT) {
        ok = false;
    }
    if !ok {
        violate(s, V::Authorized);
    }
    // escalation: every role gained (b ≠ 0) must be grantable
    let ra = role_of(&pre_auth, actor);
    for u in 0..cfg.n_users() as u8 {
        let (a, b) = (role_of(&pre_auth, u), role_of(post, u));
        if a == b || b == NO_ROLE {
            continue;
        }
        let via_inline = cm.ops.iter().any(|o| match o {
            Op::PlAdd { user, .. } => *user == u,
            Op::PlSetRole { intended, .. } => *intended == u,
            _ => false,
        });
        if !via_inline {
            continue;
        }
        let granted = if u == actor {
            preauth_match(cfg, &pre_auth, u) == Some(b)
                || (cm.external
                    && a == NO_ROLE
                    && allowed(cfg, &pre_auth, 0, 0, b)
                    && role_def(cfg, pre_auth.roles, 0)
                        .is_some_and(|d| d.caps & policy::OPEN_JOIN != 0))
        } else {
            allowed(cfg, &pre_auth, ra, a, b)
        };
        if !granted {
            violate(s, V::NoEscalation);
        }
    }
    let _ = pre_members;
}

/// Witness bits of an accepted commit.
pub fn witness_commit(
    m: &MimiModel,
    s: &mut State,
    cm: &Commit,
    pre: &RoomState,
    post: &RoomState,
    pre_members: &BTreeSet<u8>,
    members: &BTreeSet<u8>,
) {
    let cfg = &m.cfg;
    match cm.label {
        Label::Add => witness(s, W::Added),
        Label::Remove => witness(s, W::Removed),
        Label::Ban => witness(s, W::Banned),
        Label::Unban => witness(s, W::Unbanned),
        Label::Kick => witness(s, W::Kicked),
        Label::SetRole => witness(s, W::RoleChanged),
        Label::OwnRole => witness(s, W::OwnRole),
        Label::Policy => witness(s, W::PolicyUpdated),
        Label::Meta => witness(s, W::MetaUpdated),
        Label::External => witness(s, W::ExternalJoin),
        Label::Pending | Label::Forged => {}
    }
    if !cm.by_ref.is_empty() {
        for u in 0..cfg.n_users() as u8 {
            if role_of(pre, u) != NO_ROLE
                && role_of(post, u) == NO_ROLE
                && cfg.clients_of(u).all(|c| !members.contains(&c))
                && cfg.clients_of(u).any(|c| pre_members.contains(&c))
            {
                witness(s, W::Left);
            }
        }
    }
}
