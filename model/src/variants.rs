//! Spec variants: named switches for the places where the drafts are ambiguous or
//! under discussion. Each documents the draft text it interprets (paraphrased).

/// The variant switches of one run.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Variants {
    /// `apply-at`: the hub applies an accepted state change to its room state at once
    /// (`once`, protocol-06 §7.1 as written) or only when a commit carries it (`commit`).
    pub apply_at_once: bool,
    /// `dedup`: followers detect duplicate `/notify` bodies by byte-identical body
    /// (`body`, protocol-06 §5.5 as written) or by transaction id (`txn`, the §5.5 NOTE).
    pub dedup_by_txn: bool,
    /// `minmax`: role min/max constraints are checked on the post-commit state (`after`,
    /// the digest's reading of room-policy-03 §3) or per change against the pre-commit state (`before`).
    pub minmax_before: bool,
    /// `regenerate`: after an external commit the hub regenerates only its own invalidated
    /// proposals (`hub-own`, protocol-06 §5.5 as written) or re-queues every invalidated
    /// pending proposal, including client-sent leaves (`all`).
    pub regenerate_all: bool,
    /// `list-addressing`: ParticipantListUpdate addresses users by index into the current
    /// list (`index`, protocol-06 §7.5 as written) or by user URI (`user`).
    pub index_addressing: bool,
    /// `app-while-removal-pending`: while a removal of user U is accepted but not yet
    /// committed, application messages from others are accepted (`allow`, no rule in
    /// protocol-06 §5.3/§5.4) or rejected (`reject`).
    pub freeze_app_while_removal_pending: bool,
    /// `mmr-kp-fetch`: in minimal-metadata rooms the `/keyMaterial` request through the hub
    /// carries real requesting/target user URIs (`real-ids`, protocol-06 §5.2 as written)
    /// or pseudonymous connection tokens (`pseudonymous`, MIMIMI-01).
    pub mmr_kp_pseudonymous: bool,
    /// `removed-block`: protocol-06 §5.3 has the hub block a user from when it has seen
    /// the user removed or banned, without saying until when: until the user is listed
    /// again (re-added or unbanned, `until-readded`), or until the commit that carries
    /// out the removal (`until-commit`: the user's clients are gone, and a later rejoin
    /// is judged by the join policy alone — the implementation's reading).
    pub block_until_commit: bool,
}

impl Default for Variants {
    fn default() -> Self {
        Variants {
            apply_at_once: true,
            dedup_by_txn: false,
            minmax_before: false,
            regenerate_all: false,
            index_addressing: false,
            freeze_app_while_removal_pending: false,
            mmr_kp_pseudonymous: false,
            block_until_commit: false,
        }
    }
}

/// Catalogue entry for `--list-variants`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct VariantInfo {
    /// Switch name.
    pub name: &'static str,
    /// Allowed values; the first is the default.
    pub values: &'static [&'static str],
    /// What the switch interprets.
    pub description: &'static str,
    /// Draft section.
    pub section: &'static str,
}

/// All variant switches.
pub fn variant_catalogue() -> Vec<VariantInfo> {
    vec![
        VariantInfo { name: "apply-at", values: &["once", "commit"], description: "hub applies an accepted state change to its room state at once, or only at commit", section: "protocol-06 §7.1" },
        VariantInfo { name: "dedup", values: &["body", "txn"], description: "follower duplicate detection of /notify by byte-identical body or by transaction id", section: "protocol-06 §5.5 (and its NOTE)" },
        VariantInfo { name: "minmax", values: &["after", "before"], description: "role min/max constraints checked on the post-commit state, or per change on the pre-commit state", section: "room-policy-03 §3, §8" },
        VariantInfo { name: "regenerate", values: &["hub-own", "all"], description: "pending proposals the hub re-queues after an external commit: only its own, or all (incl. client leaves)", section: "protocol-06 §5.5" },
        VariantInfo { name: "list-addressing", values: &["user", "index"], description: "participant-list updates address users by URI, or by index into the current list (as the wire struct does)", section: "protocol-06 §7.5" },
        VariantInfo { name: "app-while-removal-pending", values: &["allow", "reject"], description: "application messages while an accepted removal is not yet committed: accepted, or rejected", section: "protocol-06 §5.3, §5.4" },
        VariantInfo { name: "mmr-kp-fetch", values: &["real-ids", "pseudonymous"], description: "MMR /keyMaterial via the hub carries real user URIs and roomId, or pseudonymous tokens", section: "protocol-06 §5.2, §6.1; MIMIMI-01" },
        VariantInfo { name: "removed-block", values: &["until-readded", "until-commit"], description: "the hub blocks a user it has seen removed or banned until it is listed again, or until the commit carrying out the removal", section: "protocol-06 §5.3" },
    ]
}

impl Variants {
    /// Sets one switch; returns an error naming the problem.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let info = variant_catalogue();
        let Some(v) = info.iter().find(|v| v.name == name) else {
            return Err(format!("unknown variant `{name}`"));
        };
        let Some(pos) = v.values.iter().position(|x| *x == value) else {
            return Err(format!(
                "variant `{name}` has no value `{value}` (allowed: {})",
                v.values.join(", ")
            ));
        };
        let alt = pos == 1;
        match name {
            "apply-at" => self.apply_at_once = !alt,
            "dedup" => self.dedup_by_txn = alt,
            "minmax" => self.minmax_before = alt,
            "regenerate" => self.regenerate_all = alt,
            "list-addressing" => self.index_addressing = alt,
            "app-while-removal-pending" => self.freeze_app_while_removal_pending = alt,
            "mmr-kp-fetch" => self.mmr_kp_pseudonymous = alt,
            "removed-block" => self.block_until_commit = alt,
            _ => return Err(format!("unknown variant `{name}`")),
        }
        Ok(())
    }

    /// The current values as (name, value) pairs.
    pub fn values(&self) -> Vec<(&'static str, &'static str)> {
        let pick = |b: bool, i: &VariantInfo| if b { i.values[1] } else { i.values[0] };
        let info = variant_catalogue();
        let flags = [
            !self.apply_at_once,
            self.dedup_by_txn,
            self.minmax_before,
            self.regenerate_all,
            self.index_addressing,
            self.freeze_app_while_removal_pending,
            self.mmr_kp_pseudonymous,
            self.block_until_commit,
        ];
        info.iter()
            .zip(flags)
            .map(|(i, f)| (i.name, pick(f, i)))
            .collect()
    }
}
