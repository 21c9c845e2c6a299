//! Mutation witnesses: deliberately wrong hub/follower/client rules. Each one must make
//! the checker find a counterexample for its property (see `model/tests/mutations.rs`).

/// A named deliberately-wrong rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mutation {
    /// The hub skips every room-policy authorization check.
    HubSkipsPolicyCheck,
    /// The hub checks capabilities but not `authorized_role_changes`.
    HubSkipsRoleChangeCheck,
    /// The hub skips the epoch check on commits.
    HubSkipsEpochCheck,
    /// The hub skips the epochTooOld check on application messages.
    HubSkipsAppEpochCheck,
    /// The hub does not require commits to include its queued proposals.
    HubForgetsQueuedProposals,
    /// The hub fans an update out before validating it.
    HubFansOutBeforeValidation,
    /// The hub skips the "list add before MLS Add" ordering rule.
    HubSkipsAddOrdering,
    /// The hub skips the "removed user loses all clients in the same commit" rule.
    HubSkipsRemoveClients,
    /// The hub skips the one-operation-per-user-per-commit rule.
    HubSkipsOneOpPerUser,
    /// The hub skips the one-metadata-update-per-commit rule.
    HubSkipsMetadataOnce,
    /// The hub skips the roles/preauth update commit-composition rules.
    HubSkipsCommitRules,
    /// The hub skips the "not already listed" check on additions.
    HubSkipsListedCheck,
    /// The hub skips min/max, multi-device and max-clients constraints.
    HubSkipsConstraints,
    /// The hub does not block removed/banned users.
    HubSkipsRemovedBlock,
    /// The hub sends a Welcome to the committer's provider instead of the KeyPackage's.
    HubMisroutesWelcome,
    /// The hub applies a proposal's change to its room state before validating it.
    HubAppliesBeforeValidation,
    /// The hub never retries a lost `/notify`.
    HubNoRetry,
    /// The hub forwards the (claimed) sendingUri to followers in the fanout.
    HubForwardsSendingUri,
    /// The hub accepts non-pseudonymous credentials in a minimal-metadata room.
    HubSkipsCredentialTypeCheck,
    /// A target provider hands out the same one-time KeyPackage again.
    TargetReusesKeyPackages,
    /// Followers do not deduplicate `/notify`.
    FollowerSkipsDedup,
    /// Followers apply a commit ignoring the proposals it includes by reference.
    FollowerIgnoresByRefProposals,
    /// Receiving clients do not verify the frank (sendingUri vs real sender).
    ReceiverSkipsFrankCheck,
    /// In a minimal-metadata room, clients use real credentials in their leaves.
    MmrRealCredentials,
    /// The hub sends handshakes as PublicMessage in a SemiPrivateMessage room.
    HandshakesAsPublic,
    /// After an external commit the hub re-queues nothing, whatever the variant says.
    HubDropsInvalidatedProposals,
    /// The hub ignores a pending removal when accepting application messages.
    HubIgnoresPendingRemoval,
    /// Clients compute participant-list indexes off by one.
    ClientMiscomputesIndex,
    /// The target provider answers `/keyMaterial` without checking consent.
    FollowerSkipsConsentCheck,
    /// The hub sends every `/notify` of a room to every follower provider.
    HubFansOutToAllProviders,
    /// A follower delivers a room's application messages to all its local clients.
    FollowerDeliversToAllClients,
}

/// Catalogue entry for `--list-mutations`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MutationInfo {
    /// Kebab-case name.
    pub name: &'static str,
    /// What is wrong.
    pub description: &'static str,
    /// Property the mutation must violate.
    pub property: &'static str,
    /// Configuration the mutation test uses.
    pub config: &'static str,
    /// Draft section of the rule that is broken.
    pub section: &'static str,
    /// Variant overrides the mutation test applies on top of the configuration.
    pub variants: &'static [(&'static str, &'static str)],
}

const TABLE: &[(Mutation, MutationInfo)] = &[
    (Mutation::HubSkipsPolicyCheck, MutationInfo { name: "hub-skips-policy-check", description: "hub accepts changes without checking room policy", property: "P-AUTHORIZED", config: "adversarial", section: "protocol-06 §5.3, §7.1; room-policy-03 §8", variants: &[] }),
    (Mutation::HubSkipsRoleChangeCheck, MutationInfo { name: "hub-skips-role-change-check", description: "hub checks capabilities but ignores authorized_role_changes", property: "P-NO-ESCALATION", config: "adversarial", section: "room-policy-03 §3, §8.1", variants: &[] }),
    (Mutation::HubSkipsEpochCheck, MutationInfo { name: "hub-skips-epoch-check", description: "hub accepts commits for any epoch (no wrongEpoch)", property: "P-HUB-LINEAR", config: "small", section: "protocol-06 §5.3", variants: &[] }),
    (Mutation::HubSkipsAppEpochCheck, MutationInfo { name: "hub-skips-app-epoch-check", description: "hub accepts application messages of old epochs (no epochTooOld)", property: "P-REMOVED-NO-APP-MSG", config: "small", section: "protocol-06 §5.4", variants: &[] }),
    (Mutation::HubForgetsQueuedProposals, MutationInfo { name: "hub-forgets-queued-proposals", description: "hub accepts commits that omit its queued proposals", property: "P-QUEUED-INCLUDED", config: "small", section: "protocol-06 §3.5, §5.3", variants: &[] }),
    (Mutation::HubFansOutBeforeValidation, MutationInfo { name: "hub-fans-out-before-validation", description: "hub sends /notify for an update before validating it", property: "P-VALIDATED-FANOUT", config: "small", section: "protocol-06 §7.1", variants: &[] }),
    (Mutation::HubSkipsAddOrdering, MutationInfo { name: "hub-skips-add-ordering", description: "hub accepts MLS Adds of users not in the participant list", property: "P-LIST-BEFORE-ADD", config: "adversarial", section: "protocol-06 §5.3", variants: &[] }),
    (Mutation::HubSkipsRemoveClients, MutationInfo { name: "hub-skips-remove-clients", description: "hub accepts a list removal/ban that leaves the user's clients in the group", property: "P-REMOVE-SAME-COMMIT", config: "adversarial", section: "protocol-06 §5.3; room-policy-03 §8.1.2", variants: &[] }),
    (Mutation::HubSkipsOneOpPerUser, MutationInfo { name: "hub-skips-one-op-per-user", description: "hub accepts a commit touching one user twice in the participant list", property: "P-ONE-OP-PER-USER", config: "adversarial", section: "protocol-06 §7.5", variants: &[] }),
    (Mutation::HubSkipsMetadataOnce, MutationInfo { name: "hub-skips-metadata-once", description: "hub accepts two room-metadata updates in one commit", property: "P-ONE-METADATA", config: "adversarial", section: "protocol-06 §7.6", variants: &[] }),
    (Mutation::HubSkipsCommitRules, MutationInfo { name: "hub-skips-commit-rules", description: "hub accepts a roles update together with participant-list changes", property: "P-POLICY-COMMIT-RULES", config: "adversarial", section: "room-policy-03 §3, §4", variants: &[] }),
    (Mutation::HubSkipsListedCheck, MutationInfo { name: "hub-skips-listed-check", description: "hub accepts adding a user that is already listed", property: "P-LIST-WELLFORMED", config: "adversarial", section: "protocol-06 §7.5; room-policy-03 §8.1.1", variants: &[] }),
    (Mutation::HubSkipsConstraints, MutationInfo { name: "hub-skips-constraints", description: "hub ignores role min/max, multi-device and max-clients constraints", property: "P-CONSTRAINTS", config: "small", section: "room-policy-03 §3, §5", variants: &[] }),
    (Mutation::HubSkipsRemovedBlock, MutationInfo { name: "hub-skips-removed-block", description: "hub keeps accepting messages/commits from users it saw removed", property: "P-BLOCKED-SENDER", config: "small", section: "protocol-06 §5.3", variants: &[("apply-at", "commit")] }),
    (Mutation::HubMisroutesWelcome, MutationInfo { name: "hub-misroutes-welcome", description: "hub sends the Welcome to the committer's provider", property: "P-WELCOME-ROUTING", config: "default", section: "protocol-06 §5.2, §5.5", variants: &[] }),
    (Mutation::HubAppliesBeforeValidation, MutationInfo { name: "hub-applies-before-validation", description: "hub changes its room state for a proposal before validating it", property: "P-HUB-STATE", config: "small", section: "protocol-06 §7.1", variants: &[] }),
    (Mutation::HubNoRetry, MutationInfo { name: "hub-no-retry", description: "hub never retries a /notify that got no 201", property: "P-CONVERGED", config: "faults", section: "protocol-06 §5.5", variants: &[] }),
    (Mutation::HubForwardsSendingUri, MutationInfo { name: "hub-forwards-sending-uri", description: "hub puts the claimed sender in the fanout to followers", property: "P-MM-8", config: "small", section: "protocol-06 §5.4, §5.5; metadata A.5", variants: &[] }),
    (Mutation::HubSkipsCredentialTypeCheck, MutationInfo { name: "hub-skips-credential-type-check", description: "hub accepts real credentials in a minimal-metadata room", property: "P-MM-4", config: "mmr", section: "protocol-06 §6.1", variants: &[] }),
    (Mutation::TargetReusesKeyPackages, MutationInfo { name: "target-reuses-key-packages", description: "the target provider returns a one-time KeyPackage again", property: "P-KP-ONE-TIME", config: "adversarial", section: "protocol-06 §5.2", variants: &[] }),
    (Mutation::FollowerSkipsDedup, MutationInfo { name: "follower-skips-dedup", description: "followers process duplicate /notify bodies again", property: "P-FANOUT-ONCE", config: "faults", section: "protocol-06 §5.5", variants: &[] }),
    (Mutation::FollowerIgnoresByRefProposals, MutationInfo { name: "follower-ignores-by-ref-proposals", description: "followers apply commits without the proposals included by reference", property: "P-AGREEMENT", config: "small", section: "protocol-06 §7.3; RFC 9420 §12.4", variants: &[] }),
    (Mutation::ReceiverSkipsFrankCheck, MutationInfo { name: "receiver-skips-frank-check", description: "receivers accept a message attributed to the claimed sendingUri without checking the frank", property: "P-MM-9", config: "adversarial", section: "protocol-06 §5.4.1", variants: &[] }),
    (Mutation::MmrRealCredentials, MutationInfo { name: "mmr-real-credentials", description: "clients in a minimal-metadata room put real identities in their leaves", property: "P-MM-1", config: "mmr-honest", section: "protocol-06 §6.1", variants: &[("mmr-kp-fetch", "pseudonymous")] }),
    (Mutation::HandshakesAsPublic, MutationInfo { name: "handshakes-as-public", description: "handshakes go out as PublicMessage although the room uses SemiPrivateMessage", property: "P-MM-2", config: "semi-private-local", section: "protocol-06 §5.3", variants: &[] }),
    (Mutation::HubDropsInvalidatedProposals, MutationInfo { name: "hub-drops-invalidated-proposals", description: "hub re-queues no invalidated proposal after an external commit", property: "P-LEAVE-NEXT-EPOCH", config: "leave-join", section: "protocol-06 §5.5", variants: &[("regenerate", "all")] }),
    (Mutation::HubIgnoresPendingRemoval, MutationInfo { name: "hub-ignores-pending-removal", description: "hub accepts application messages while a removal is pending (despite the variant)", property: "P-BLOCKED-RECEIVER", config: "small", section: "protocol-06 §5.3, §5.4", variants: &[("app-while-removal-pending", "reject")] }),
    (Mutation::ClientMiscomputesIndex, MutationInfo { name: "client-miscomputes-index", description: "clients address participant-list entries one index too far", property: "P-LIST-INTENT", config: "adversarial", section: "protocol-06 §7.5", variants: &[("list-addressing", "index")] }),
    (Mutation::FollowerSkipsConsentCheck, MutationInfo { name: "follower-skips-consent-check", description: "the target provider hands out KeyPackages to a requester its user has not consented to", property: "P-KP-CONSENT", config: "consent", section: "protocol-06 §5.2, §5.7", variants: &[] }),
    (Mutation::HubFansOutToAllProviders, MutationInfo { name: "hub-fans-out-to-all-providers", description: "hub sends each /notify of a room to every follower, also those without participants in the room", property: "P-FANOUT-SCOPE", config: "two-rooms", section: "protocol-06 §5.5", variants: &[] }),
    (Mutation::FollowerDeliversToAllClients, MutationInfo { name: "follower-delivers-to-all-clients", description: "a follower hands a room's application message to all its local clients, members of the room or not", property: "P-ROOM-ISOLATION", config: "two-rooms", section: "protocol-06 §5.5", variants: &[] }),
];

impl Mutation {
    /// Parses a kebab-case name.
    pub fn from_name(s: &str) -> Option<Mutation> {
        TABLE.iter().find(|(_, i)| i.name == s).map(|(m, _)| *m)
    }
    /// Catalogue entry.
    pub fn info(self) -> &'static MutationInfo {
        // Every variant has a row; the fallback is the first row (never reached).
        TABLE
            .iter()
            .find(|(m, _)| *m == self)
            .map(|(_, i)| i)
            .unwrap_or(&TABLE[0].1)
    }
}

impl MutationInfo {
    /// The configuration a mutation test runs: `config` + `variants` + the mutation.
    pub fn test_config(&self) -> Result<crate::config::Config, crate::config::ConfigError> {
        let mut cfg = crate::config::Config::load(self.config)?;
        for (k, v) in self.variants {
            cfg.variants
                .set(k, v)
                .map_err(|reason| crate::config::ConfigError::Invalid {
                    name: self.config.to_string(),
                    field: "variants",
                    reason,
                })?;
        }
        cfg.mutation = Mutation::from_name(self.name);
        Ok(cfg)
    }
}

/// All mutations.
pub fn mutation_catalogue() -> Vec<(Mutation, &'static MutationInfo)> {
    TABLE.iter().map(|(m, i)| (*m, i)).collect()
}
