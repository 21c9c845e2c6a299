//! The TOML configuration of a model run: topology, bounds, network semantics,
//! adversaries, room mode, enabled operations, variant switches and the mutation.
//!
//! Every field is documented in `model/configs/default.toml`.

use serde::Deserialize;
use std::collections::BTreeMap;
use thiserror::Error;

use crate::mutations::Mutation;
use crate::variants::Variants;

/// Errors while loading a configuration (from a file or an embedded name).
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration file {path}: {source}")]
    Io {
        /// Path that was read.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The TOML text does not parse or has unknown/mistyped fields.
    #[error("configuration {name}: TOML error: {source}")]
    Toml {
        /// Config name or path.
        name: String,
        /// Underlying error.
        source: toml::de::Error,
    },
    /// A semantic rule on the configuration is broken.
    #[error("configuration {name}: field `{field}`: {reason}")]
    Invalid {
        /// Config name or path.
        name: String,
        /// Field at fault.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Network ordering semantics.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Ordering {
    /// FIFO per (source, destination) pair.
    #[default]
    Ordered,
    /// Any in-flight message may be delivered next.
    Unordered,
}

/// Room mode (metadata exposure of handshakes and identities).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoomMode {
    /// Handshakes as PublicMessage, real identities (protocol -06 §5.3).
    #[default]
    Baseline,
    /// Handshakes as SemiPrivateMessage, hub is the only external receiver (protocol -06 §5.3).
    SemiPrivate,
    /// Minimal-metadata room: pseudonymous credentials (protocol -06 §6.1).
    Mmr,
}

/// One user of the topology.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserCfg {
    /// Display name used in charts.
    pub name: String,
    /// Provider index; provider 0 hosts the hub.
    pub provider: u8,
    /// Number of clients (devices) of this user.
    pub clients: u8,
}

/// A preauthorization entry: the named user (its credential claim) may take `role`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreauthCfg {
    /// User whose credential satisfies the claimset.
    pub user: String,
    /// Target role index.
    pub role: u8,
}

/// One consent scope (protocol-06 §5.7): `requester` may fetch `target`'s KeyPackages
/// (any room).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentPairCfg {
    /// Requesting user.
    pub requester: String,
    /// Target user (who consented).
    pub target: String,
}

/// Explicit consent on the key-material path (protocol-06 §5.2, §5.7). Without this
/// table every fetch is consented (the earlier model's assumption).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentCfg {
    /// Scopes granted when the run starts.
    #[serde(default)]
    pub initial: Vec<ConsentPairCfg>,
    /// Target users may grant and revoke consent (`/updateConsent`) during the run.
    #[serde(default = "yes")]
    pub grant_revoke: bool,
    /// Maximum number of grant/revoke operations.
    #[serde(default = "one")]
    pub max_ops: u8,
}

/// Resolved consent settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consent {
    /// Initially granted (requester user, target user) scopes.
    pub initial: Vec<(u8, u8)>,
    /// Grant/revoke operations enabled.
    pub grant_revoke: bool,
    /// Bound on grant/revoke operations.
    pub max_ops: u8,
}

/// Raw configuration as read from TOML.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Short name.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Provider domains; index 0 hosts the hub.
    pub providers: Vec<String>,
    /// Users; the first user creates the room and is its admin.
    pub users: Vec<UserCfg>,
    /// Number of rooms hosted at the hub (1..=3; default 1). The first user creates them all.
    #[serde(default = "one")]
    pub rooms: u8,
    /// Enabled operations (see `Op` names in the README).
    pub operations: Vec<String>,
    /// Bounds.
    pub bounds: Bounds,
    /// Network semantics.
    #[serde(default)]
    pub network: NetworkCfg,
    /// Adversaries.
    #[serde(default)]
    pub adversaries: AdversaryCfg,
    /// Room mode.
    #[serde(default)]
    pub mode: RoomMode,
    /// Preauthorization entries of the alternative preauth list (index 1).
    #[serde(default)]
    pub preauth: Vec<PreauthCfg>,
    /// Whether the preauth list starts as the alternative list (1) or empty (0).
    #[serde(default)]
    pub initial_preauth: u8,
    /// Roles table the room starts with: 0 = cooperative, 1 = locked (members cannot add,
    /// remove or send).
    #[serde(default)]
    pub initial_roles: u8,
    /// Roles a client may give a user it adds (subset of 2 = member, 3 = admin).
    #[serde(default = "add_roles")]
    pub add_roles: Vec<u8>,
    /// Role 0 holds canOpenJoin (open room) when true.
    #[serde(default)]
    pub open_join: bool,
    /// max_clients of the alternative base policy (index 1, also single-device).
    #[serde(default = "two")]
    pub alt_max_clients: u8,
    /// Variant switches NAME = VALUE.
    #[serde(default)]
    pub variants: BTreeMap<String, String>,
    /// Optional mutation name.
    #[serde(default)]
    pub mutation: Option<String>,
    /// Explicit consent for key-material fetches (absent: every fetch is consented).
    #[serde(default)]
    pub consent: Option<ConsentCfg>,
    /// Properties the configuration declares as expected to fail (documented findings).
    #[serde(default)]
    pub expected_violations: Vec<String>,
}

fn one() -> u8 {
    1
}
fn yes() -> bool {
    true
}
fn add_roles() -> Vec<u8> {
    vec![2, 3]
}
fn two() -> u8 {
    2
}

/// Bounds on the exploration.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    /// Maximum number of accepted commits (epochs after creation).
    pub max_commits: u8,
    /// Maximum number of handshake submissions (`/update` requests) by clients.
    pub max_updates: u8,
    /// Maximum number of application messages submitted.
    pub max_app_messages: u8,
    /// Maximum number of KeyPackage fetches.
    pub max_kp_fetches: u8,
    /// One-time KeyPackages each client publishes.
    pub kps_per_client: u8,
    /// Maximum number of `/groupInfo` requests.
    #[serde(default = "one")]
    pub max_groupinfo: u8,
}

/// Network semantics.
#[derive(Clone, Debug, Deserialize, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NetworkCfg {
    /// `ordered` (FIFO per pair) or `unordered`.
    #[serde(default)]
    pub ordering: Ordering,
    /// `/notify` requests may be delivered more than once (HA fail-over, protocol -06 §5.5).
    #[serde(default)]
    pub duplicate_notify: bool,
    /// `/notify` requests and their 201 answers may be lost; the hub retries (§5.5).
    #[serde(default)]
    pub lossy_notify: bool,
    /// How many times followers may restart (losing their volatile dedup cache).
    #[serde(default)]
    pub follower_restarts: u8,
}

/// Adversaries.
#[derive(Clone, Debug, Deserialize, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AdversaryCfg {
    /// Name of a user whose clients are malicious (skip client-side checks, forge sendingUri).
    #[serde(default)]
    pub malicious_client: Option<String>,
    /// Index of a malicious follower provider (lies in sendingUri for its users).
    #[serde(default)]
    pub malicious_follower: Option<u8>,
    /// The hub may equivocate (send different commits for one epoch to different followers).
    #[serde(default)]
    pub equivocating_hub: bool,
}

/// A validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// The raw fields.
    pub raw: RawConfig,
    /// Offer only actions whose `next_state` is `Some`. stateright 0.31's simulation
    /// checker records a trace by action index and cannot rebuild it when an offered
    /// action was a no-op; the exhaustive checkers do not need this (and skip the cost).
    pub prune_noop_actions: bool,
    /// Provider of each user.
    pub user_provider: Vec<u8>,
    /// User of each client (clients numbered user by user).
    pub client_user: Vec<u8>,
    /// Enabled operations.
    pub ops: OpsEnabled,
    /// Resolved variants.
    pub variants: Variants,
    /// Resolved mutation.
    pub mutation: Option<Mutation>,
    /// Malicious user (resolved).
    pub malicious_user: Option<u8>,
    /// Preauth entries (user, role).
    pub preauth: Vec<(u8, u8)>,
    /// Explicit consent (None: every key-material fetch is consented).
    pub consent: Option<Consent>,
}

/// Which operations clients may perform.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpsEnabled {
    /// add participant (after key-package fetch)
    pub add: bool,
    /// remove another participant
    pub remove: bool,
    /// leave (proposals committed by someone else)
    pub leave: bool,
    /// kick (remove clients only)
    pub kick: bool,
    /// ban
    pub ban: bool,
    /// unban
    pub unban: bool,
    /// change another user's role
    pub set_role: bool,
    /// change own role via preauth
    pub own_role: bool,
    /// roles / preauth / base policy updates
    pub policy: bool,
    /// room metadata update
    pub metadata: bool,
    /// external join (new device or outsider)
    pub external_join: bool,
    /// application messages
    pub app_message: bool,
    /// commit pending proposals
    pub commit_pending: bool,
}

/// All operation names, with one-line descriptions and draft sections.
pub const OPERATIONS: &[(&str, &str, &str)] = &[
    (
        "add",
        "add a participant: ParticipantListUpdate add + MLS Adds + Welcome",
        "protocol-06 §3.2, §5.3; room-policy-03 §8.1",
    ),
    (
        "remove",
        "remove another participant and all its clients in one commit",
        "protocol-06 §5.3; room-policy-03 §8.1.2",
    ),
    (
        "leave",
        "leave: Remove proposals for own clients + list removal, committed by another member",
        "protocol-06 §3.5",
    ),
    (
        "kick",
        "kick: MLS Remove of another user's clients, list unchanged",
        "room-policy-03 §8.1.3",
    ),
    (
        "ban",
        "ban: role -> banned (1) and removal of all clients",
        "room-policy-03 §8.1.3",
    ),
    ("unban", "unban: role banned -> r", "room-policy-03 §8.1.3"),
    (
        "set-role",
        "change another user's role",
        "room-policy-03 §3, §8.1.3",
    ),
    (
        "own-role",
        "change own role via preauthorization",
        "room-policy-03 §4",
    ),
    (
        "policy",
        "replace roles list / preauth list / base policy",
        "room-policy-03 §3, §4, §5",
    ),
    ("metadata", "replace room metadata", "protocol-06 §7.6"),
    (
        "external-join",
        "new device or outsider joins by external commit after /groupInfo",
        "protocol-06 §3.6, §5.6",
    ),
    (
        "app-message",
        "send an application message through /submitMessage",
        "protocol-06 §3.4, §5.4",
    ),
    (
        "commit-pending",
        "commit the hub's queued proposals",
        "protocol-06 §3.5, §5.3",
    ),
];

/// Embedded configurations (name, TOML text).
pub const EMBEDDED: &[(&str, &str)] = &[
    ("small", include_str!("../configs/small.toml")),
    ("default", include_str!("../configs/default.toml")),
    ("mmr", include_str!("../configs/mmr.toml")),
    ("mmr-honest", include_str!("../configs/mmr-honest.toml")),
    ("semi-private", include_str!("../configs/semi-private.toml")),
    (
        "semi-private-local",
        include_str!("../configs/semi-private-local.toml"),
    ),
    ("leave-join", include_str!("../configs/leave-join.toml")),
    ("faults", include_str!("../configs/faults.toml")),
    (
        "faults-restart",
        include_str!("../configs/faults-restart.toml"),
    ),
    ("adversarial", include_str!("../configs/adversarial.toml")),
    ("equivocation", include_str!("../configs/equivocation.toml")),
    ("consent", include_str!("../configs/consent.toml")),
    ("two-rooms", include_str!("../configs/two-rooms.toml")),
    ("peers", include_str!("../configs/peers.toml")),
];

impl Config {
    /// Loads `small`, `default`, another embedded name, or a path to a TOML file.
    pub fn load(name_or_path: &str) -> Result<Config, ConfigError> {
        if let Some((_, text)) = EMBEDDED.iter().find(|(n, _)| *n == name_or_path) {
            return Config::parse(name_or_path, text);
        }
        let text = std::fs::read_to_string(name_or_path).map_err(|source| ConfigError::Io {
            path: name_or_path.to_string(),
            source,
        })?;
        Config::parse(name_or_path, &text)
    }

    /// Parses and validates TOML text.
    pub fn parse(name: &str, text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|source| ConfigError::Toml {
            name: name.to_string(),
            source,
        })?;
        Config::from_raw(name, raw)
    }

    /// Validates a raw configuration.
    pub fn from_raw(name: &str, raw: RawConfig) -> Result<Config, ConfigError> {
        let inv = |field: &'static str, reason: String| ConfigError::Invalid {
            name: name.to_string(),
            field,
            reason,
        };
        if raw.providers.is_empty() || raw.providers.len() > 8 {
            return Err(inv("providers", "need 1..=8 providers".into()));
        }
        if raw.users.is_empty() || raw.users.len() > 8 {
            return Err(inv("users", "need 1..=8 users".into()));
        }
        if raw.rooms == 0 || raw.rooms > 3 {
            return Err(inv("rooms", "need 1..=3 rooms".into()));
        }
        if raw.users[0].provider != 0 {
            return Err(inv(
                "users",
                "the first user (room creator) must be on provider 0 (the hub)".into(),
            ));
        }
        let mut user_provider = Vec::new();
        let mut client_user = Vec::new();
        for (i, u) in raw.users.iter().enumerate() {
            if usize::from(u.provider) >= raw.providers.len() {
                return Err(inv(
                    "users",
                    format!("user {} names unknown provider {}", u.name, u.provider),
                ));
            }
            if u.clients == 0 || u.clients > 3 {
                return Err(inv("users", format!("user {} needs 1..=3 clients", u.name)));
            }
            user_provider.push(u.provider);
            for _ in 0..u.clients {
                client_user.push(i as u8);
            }
        }
        if client_user.len() > 12 {
            return Err(inv("users", "at most 12 clients in total".into()));
        }
        let user_index = |n: &str| raw.users.iter().position(|u| u.name == n).map(|i| i as u8);
        let mut ops = OpsEnabled::default();
        for o in &raw.operations {
            match o.as_str() {
                "add" => ops.add = true,
                "remove" => ops.remove = true,
                "leave" => ops.leave = true,
                "kick" => ops.kick = true,
                "ban" => ops.ban = true,
                "unban" => ops.unban = true,
                "set-role" => ops.set_role = true,
                "own-role" => ops.own_role = true,
                "policy" => ops.policy = true,
                "metadata" => ops.metadata = true,
                "external-join" => ops.external_join = true,
                "app-message" => ops.app_message = true,
                "commit-pending" => ops.commit_pending = true,
                other => return Err(inv("operations", format!("unknown operation `{other}`"))),
            }
        }
        let mut preauth = Vec::new();
        for p in &raw.preauth {
            let u = user_index(&p.user)
                .ok_or_else(|| inv("preauth", format!("unknown user `{}`", p.user)))?;
            if p.role == 0 || p.role > 3 {
                return Err(inv(
                    "preauth",
                    format!("role {} is not a joinable role (2 or 3, or 1)", p.role),
                ));
            }
            preauth.push((u, p.role));
        }
        if raw.initial_roles > 1 {
            return Err(inv("initial_roles", "must be 0 or 1".into()));
        }
        if raw.add_roles.iter().any(|r| *r < 2 || *r > 3) {
            return Err(inv(
                "add_roles",
                "roles must be 2 (member) or 3 (admin)".into(),
            ));
        }
        if raw.initial_preauth > 1 {
            return Err(inv("initial_preauth", "must be 0 or 1".into()));
        }
        let malicious_user = match &raw.adversaries.malicious_client {
            None => None,
            Some(n) => Some(user_index(n).ok_or_else(|| {
                inv(
                    "adversaries.malicious_client",
                    format!("unknown user `{n}`"),
                )
            })?),
        };
        if let Some(f) = raw.adversaries.malicious_follower {
            if f == 0 || usize::from(f) >= raw.providers.len() {
                return Err(inv(
                    "adversaries.malicious_follower",
                    "must name a follower provider (1..)".into(),
                ));
            }
        }
        let mut variants = Variants::default();
        for (k, v) in &raw.variants {
            variants.set(k, v).map_err(|e| inv("variants", e))?;
        }
        let mutation = match &raw.mutation {
            None => None,
            Some(m) => Some(
                Mutation::from_name(m)
                    .ok_or_else(|| inv("mutation", format!("unknown mutation `{m}`")))?,
            ),
        };
        for p in &raw.expected_violations {
            if !crate::properties::property_catalogue()
                .iter()
                .any(|i| i.id == p)
            {
                return Err(inv(
                    "expected_violations",
                    format!("unknown property `{p}`"),
                ));
            }
        }
        let consent = match &raw.consent {
            None => None,
            Some(c) => {
                let mut initial = Vec::new();
                for pair in &c.initial {
                    let r = user_index(&pair.requester).ok_or_else(|| {
                        inv(
                            "consent.initial",
                            format!("unknown user `{}`", pair.requester),
                        )
                    })?;
                    let t = user_index(&pair.target).ok_or_else(|| {
                        inv("consent.initial", format!("unknown user `{}`", pair.target))
                    })?;
                    if r == t {
                        return Err(inv(
                            "consent.initial",
                            format!("user `{}` needs no consent from itself", pair.target),
                        ));
                    }
                    initial.push((r, t));
                }
                Some(Consent {
                    initial,
                    grant_revoke: c.grant_revoke,
                    max_ops: c.max_ops,
                })
            }
        };
        Ok(Config {
            consent,
            raw,
            user_provider,
            client_user,
            ops,
            variants,
            mutation,
            malicious_user,
            preauth,
            prune_noop_actions: false,
        })
    }

    /// Number of users.
    pub fn n_users(&self) -> usize {
        self.user_provider.len()
    }
    /// Number of clients.
    pub fn n_clients(&self) -> usize {
        self.client_user.len()
    }
    /// Number of providers.
    pub fn n_providers(&self) -> usize {
        self.raw.providers.len()
    }
    /// Provider of a client.
    pub fn client_provider(&self, c: u8) -> u8 {
        self.user_provider[usize::from(self.client_user[usize::from(c)])]
    }
    /// Clients of a user.
    pub fn clients_of(&self, u: u8) -> impl Iterator<Item = u8> + '_ {
        self.client_user
            .iter()
            .enumerate()
            .filter(move |(_, cu)| **cu == u)
            .map(|(c, _)| c as u8)
    }
    /// Display name of a user.
    pub fn user_name(&self, u: u8) -> &str {
        self.raw
            .users
            .get(usize::from(u))
            .map(|x| x.name.as_str())
            .unwrap_or("?")
    }
    /// Display name of a client, e.g. `bob#2`.
    pub fn client_name(&self, c: u8) -> String {
        let u = self.client_user[usize::from(c)];
        let k = self.clients_of(u).position(|x| x == c).unwrap_or(0) + 1;
        format!("{}#{}", self.user_name(u), k)
    }
    /// Display name of a provider (`hub:a.example` for provider 0).
    pub fn provider_name(&self, p: u8) -> String {
        let d = self
            .raw
            .providers
            .get(usize::from(p))
            .map(|s| s.as_str())
            .unwrap_or("?");
        if p == 0 {
            format!("Hub({d})")
        } else {
            format!("Follower({d})")
        }
    }
    /// Whether a client is controlled by the malicious-client adversary.
    pub fn is_malicious(&self, c: u8) -> bool {
        self.malicious_user == Some(self.client_user[usize::from(c)])
    }
    /// Whether the configured mutation is `m`.
    pub fn mutated(&self, m: Mutation) -> bool {
        self.mutation == Some(m)
    }
}
