#!/usr/bin/env python3
"""Fill `covered_by`, `status` and `reason` of spec/requirements/*.toml (issue 7).

Model properties come from `mimi-ref check --list-properties` (every requirement a
property cites gets that property); implementation tests and statuses come from the
table COVER below, written by reading the tests. Re-running is idempotent. Entries
not named in COVER and cited by no property are left untouched (not-modelled).

Usage: python3 spec/tools/fill_coverage.py PROPERTIES.txt
"""
import glob
import re
import sys

C, P = "covered", "partial"

PT = "policy_table::"
HR = "hub_reject::"
MF = "mls_flows::"
CR = "content_reject::"
POLICY_TABLES = [PT + "app_a1_cooperative", PT + "app_a2_strict", PT + "app_a3_moderated",
                 PT + "app_a4_multi_org", PT + "every_a10_row_is_covered"]

# id -> (tests and extra properties, status, reason)
COVER = {
    # ---- protocol -06: invariants the model checks, and their implementation tests
    "PROTO-INV-1": ([HR + "mls_add_before_participant_list_add_is_refused", "flows_hub::kick_ban_unban_and_rejoin"], C,
                    "model: P-LIST-BEFORE-ADD in every config; implementation: MLS Add before list add refused, banned user refused at rejoin"),
    "PROTO-INV-2": ([HR + "mls_add_before_participant_list_add_is_refused"], C,
                    "model: P-LIST-BEFORE-ADD (mutation hub-skips-add-ordering gives it teeth); implementation: hub refuses the MLS Add first"),
    "PROTO-INV-3": ([HR + "policy_denials_are_not_allowed_with_the_rule_id", MF + "member_removes_another_with_app_data_update_in_same_commit",
                     "flows_hub::kick_ban_unban_and_rejoin"], C,
                    "model: P-REMOVE-SAME-COMMIT; implementation: list removal without the clients' Removes refused, removal and ban flows"),
    "PROTO-INV-4": ([HR + "component_rules_of_a_misbehaving_client_are_enforced_by_the_hub", "mimi::participant_update_rejections_name_the_rule"], C,
                    "model: P-ONE-OP-PER-USER, P-LIST-INTENT; implementation: two changes for one user in a commit refused"),
    "PROTO-INV-5": (["policy_validate::state_errors", "policy_props::allowed_commits_preserve_well_formedness"], C,
                    "model: P-LIST-WELLFORMED; implementation: duplicate users refused by validation, allowed commits keep the list well formed"),
    "PROTO-INV-6": (["policy_validate::state_errors", "policy_props::allowed_commits_preserve_well_formedness"], C,
                    "model: P-LIST-WELLFORMED (one role per user, clients inherit it); implementation: state validation"),
    "PROTO-INV-7": ([HR + "component_rules_of_a_misbehaving_client_are_enforced_by_the_hub", "mimi::metadata_allows_one_update_per_commit"], C,
                    "model: P-ONE-METADATA; implementation: second metadata update in a commit refused"),
    "PROTO-INV-8": ([], P, "model only: P-MM-4 (mmr configs); the implementation has no minimal-metadata rooms yet (PseudonymousCredential is only a wire struct)"),
    "PROTO-INV-9": (["flows_hub::six_flows_in_order", "sim_random::random_workloads_converge_under_every_network_mode"], C,
                    "model: P-AGREEMENT, P-CONVERGED (violated only under an equivocating hub, see model/FINDINGS.md); implementation: followers hold the hub's state after the flows and random workloads"),
    "PROTO-INV-10": (["hub_fuzz::corrupted_requests_never_panic_and_refusals_change_nothing",
                      MF + "rejected_app_data_update_is_refused_by_hub_and_members_and_changes_nothing"], C,
                     "model: P-VALIDATED-FANOUT, P-AUTHORIZED; implementation: refused requests are not fanned out and change nothing"),
    "PROTO-INV-11": ([HR + "stale_commit_gets_wrong_epoch_with_current_epoch", MF + "stale_epoch_commit_is_refused",
                      "follower_keys::notify_is_ordered_and_deduplicated"], C,
                     "model: P-HUB-LINEAR; implementation: stale commits get wrongEpoch, followers deliver in the hub's order"),
    "PROTO-INV-12": (["sim_random::random_workloads_converge_under_every_network_mode", "flows_hub::six_flows_under_chaos"], C,
                     "model: P-CONVERGED (liveness in quiescent states); implementation: every accepted event reaches every follower under loss/duplication/reordering"),
    "PROTO-INV-13": ([HR + "commit_must_include_queued_proposals", MF + "commit_omitting_queued_proposals_is_refused",
                      MF + "external_commit_may_not_cover_queued_proposals_and_drops_them",
                      "hub_external::an_external_commit_does_not_lose_a_queued_leave"], C,
                     "model: P-QUEUED-INCLUDED, P-LEAVE-NEXT-EPOCH (violated as written: finding F-1); implementation: commits omitting queued proposals refused"),
    "PROTO-INV-14": ([HR + "users_being_removed_are_blocked_except_for_removals"], C,
                     "model: P-BLOCKED-SENDER, P-REMOVED-NO-APP-MSG, P-BLOCKED-RECEIVER (violated as written: finding F-2); implementation: a user being removed can send nothing but its removal"),
    "PROTO-INV-15": ([MF + "group_info_disagreeing_with_hub_state_is_refused_and_rolled_back"], C,
                     "model: P-HUB-STATE; implementation: a commit whose GroupInfo disagrees with the hub's state is refused and rolled back"),
    "PROTO-INV-17": (["follower_keys::key_packages_are_handed_out_once_and_then_exhausted"], C,
                     "model: P-KP-ONE-TIME, P-MM-11; implementation: the target provider hands each KeyPackage out once"),
    "PROTO-INV-19": ([HR + "creation_relay_and_room_state_refusals", MF + "welcome_for_someone_else_is_refused"], C,
                     "model: P-WELCOME-ROUTING; implementation: /keyMaterial relayed via the hub records routes, Welcomes reach the owner only"),
    "PROTO-INV-21": (["follower_keys::refusals_leave_the_store_unchanged", HR + "creation_relay_and_room_state_refusals"], P,
                     "implementation only: relay through the hub and consent refusals; the model assumes consent is granted"),
    "PROTO-INV-24": (["follower_keys::notify_is_ordered_and_deduplicated", MF + "echoes_and_duplicates_are_handled"], C,
                     "model: P-FANOUT-ONCE (violated with byte-identical dedup across re-batching/restart: finding F-5); implementation: duplicate notifies acknowledged and dropped"),
    "PROTO-INV-25": (["flows_hub::six_flows_under_chaos"], P,
                     "model: P-CONVERGED with lossy notifies and retries; implementation: lossy network retried; Retry-After guidance is neither modelled nor tested"),
    "PROTO-INV-26": ([], P, "model: witness P-REACH-REMOVED-GOT-COMMIT only (reachable, not asserted for every removed client); no implementation test"),
    "PROTO-INV-29": ([], P, "model: P-MM-9 with symbolic franks; the implementation's franking crypto has only wire round trips, no receiver verification test"),
    "PROTO-INV-30": ([], P, "model: P-MM-8 (followers never learn another provider's sender); implementation fanout carries no sendingUri by construction, not asserted by a test"),
    "PROTO-INV-33": ([HR + "group_info_refusals", HR + "group_info_response_is_sealed_and_signed"], P,
                     "implementation: unauthorized requesters refused, answer sealed to the requester's key; model: witness P-REACH-EXTERNAL-JOIN only"),
    "PROTO-INV-34": ([HR + "group_info_refusals"], P,
                     "implementation: outsider's external join refused; the model has only the witness P-REACH-EXTERNAL-JOIN, no property tying the commit to the requesting credential"),
    # ---- protocol -06 section entries
    "PROTO-INV-18": (["follower_keys::refusals_leave_the_store_unchanged"], P,
                     "implementation only: a request at a time past not_after gets no KeyPackage; the model has no clock (KeyPackage expiry not modelled)"),
    "PROTO-5.2-03": (["follower_keys::refusals_leave_the_store_unchanged"], P,
                     "implementation: a request altered after signing is refused; the model assumes authenticated requests"),
    "PROTO-5-01": (["wire_malformed::code_points_match_the_draft", "wire_malformed::client_key_material_takes_protocol_from_context"], C,
                   "implementation: Protocol code points and the protocol-dependent selects (outside the abstract model)"),
    "PROTO-5-02": (["wire_roundtrip::every_registry_type_has_a_round_trip", "wire_malformed::non_minimal_varints_are_rejected",
                    "wire_malformed::opaque_length_prefix_boundaries"], C,
                   "implementation: every TLS-PL struct round-trips; varint and length rules enforced (encoding is outside the model)"),
    "PROTO-5.1-02": (["wire_malformed::directory_json_round_trip_with_the_draft_example"], C,
                     "implementation: the directory JSON with the draft's example (fixed) round-trips"),
    "PROTO-5.2-01": (["follower_keys::key_packages_are_handed_out_once_and_then_exhausted"], P,
                     "implementation: one KeyPackage per client, not reusable; the room binding is checked by the relay test, not the store"),
    "PROTO-5.2-10": ([HR + "creation_relay_and_room_state_refusals"], P,
                     "implementation: hub records KeyPackageRef -> provider for relayed fetches; model: P-WELCOME-ROUTING abstracts the map"),
    "PROTO-4.3.1-04": ([HR + "creation_relay_and_room_state_refusals", "P-WELCOME-ROUTING"], C,
                       "model: P-WELCOME-ROUTING relies on the recorded routes; implementation: routes recorded per room by the /keyMaterial relay"),
    "PROTO-5.3-02": ([HR + "users_being_removed_are_blocked_except_for_removals", "P-BLOCKED-SENDER", "P-BLOCKED-RECEIVER"], C,
                     "model: P-BLOCKED-SENDER, P-BLOCKED-RECEIVER (the receiving half is violated as written: finding F-2); implementation: sending blocked"),
    "PROTO-5.3-03": ([HR + "users_being_removed_are_blocked_except_for_removals", "P-BLOCKED-SENDER"], C,
                     "model: P-BLOCKED-SENDER (mutation hub-skips-removed-block); implementation: commits of a user being removed refused"),
    "PROTO-5.3-04": ([HR + "users_being_removed_are_blocked_except_for_removals"], P,
                     "implementation: only Remove/SelfRemove accepted from a user being removed; the model does not restrict proposals of removed users"),
    "PROTO-5.3-11": ([HR + "stale_commit_gets_wrong_epoch_with_current_epoch", "P-REACH-WRONG-EPOCH"], C,
                     "implementation: wrongEpoch carries the hub's epoch; model: witness that stale commits are rejected"),
    "PROTO-5.3-12": ([HR + "policy_denials_are_not_allowed_with_the_rule_id", "P-REACH-NOT-ALLOWED"], C,
                     "implementation: policy denials answer notAllowed naming the rule; model: witness"),
    "PROTO-5.3-13": ([HR + "tampered_and_duplicate_proposals_name_their_proposal_ref", HR + "malformed_or_inconsistent_bundles_are_invalid_proposals"], C,
                     "implementation: invalidProposal lists the offending ProposalRefs (response codes are below the model's abstraction)"),
    "PROTO-5.4-02": ([HR + "submit_message_refusals"], P,
                     "implementation: sendingUri of a non-participant refused; the model checks the sender abstractly (P-MM-9) but not the URI field"),
    "PROTO-5.4-06": ([HR + "submit_message_refusals", "P-REACH-EPOCH-TOO-OLD"], C,
                     "implementation: epochTooOld with the current epoch; model: witness (and P-REMOVED-NO-APP-MSG depends on it)"),
    "PROTO-5.5-11": (["follower_keys::notify_is_ordered_and_deduplicated", MF + "echoes_and_duplicates_are_handled", "P-FANOUT-ONCE"], C,
                     "model: P-FANOUT-ONCE, witness P-REACH-DUP-DROPPED; implementation: duplicate /notify answered 201"),
    "PROTO-5.5-12": (["follower_keys::notify_is_ordered_and_deduplicated", "P-FANOUT-ONCE"], C,
                     "model: P-FANOUT-ONCE (F-5: byte-identical dedup misses re-batched retries); implementation: duplicates dropped"),
    "PROTO-5.6-05": ([HR + "group_info_response_is_sealed_and_signed"], P,
                     "implementation: answer HPKE-sealed to the requester; the contents (pending proposals) are not asserted field by field"),
    "PROTO-5.6-06": ([HR + "group_info_response_is_sealed_and_signed"], C,
                     "implementation: the answer is signed by the hub and a tampered answer does not verify"),
    "PROTO-5.6-07": ([HR + "group_info_refusals"], C,
                     "implementation: notAuthorized for an unauthorized requester, noSuchRoom for an unknown room"),
    "PROTO-7.2-02": (["wire_malformed::optional_flag_strings_and_component_order", "component::resolve_updates_groups_by_component_and_covers_every_touched_id"], P,
                     "implementation: components live in the AppDataDictionary; the model keeps room state abstractly"),
    "PROTO-7.3-02": ([HR + "commit_must_include_queued_proposals", "P-QUEUED-INCLUDED"], C,
                     "model: P-QUEUED-INCLUDED; implementation: commits omitting queued proposals refused"),
    "PROTO-7.3-03": (["flows_hub::six_flows_in_order", "P-AGREEMENT"], C,
                     "model: P-AGREEMENT; implementation: followers hold the hub's state after the flows"),
    "PROTO-7.5-03": (["mimi::participant_updates_are_read_against_the_pre_commit_list"], P,
                     "implementation: index order of role changes, removals and appends; the model addresses users by URI unless list-addressing=index"),
    "PROTO-7.5-04": ([HR + "policy_denials_are_not_allowed_with_the_rule_id", "P-AUTHORIZED"] + POLICY_TABLES[:1], C,
                     "model: P-AUTHORIZED; implementation: each change authorized on its own, one denial refuses the commit"),
    "PROTO-7.6-03": (["mimi::metadata_fields_detects_changes"], P,
                     "implementation: metadata replacement detected per field; model: witness P-REACH-METADATA only"),
    "PROTO-10-01": (["wire_malformed::component_helpers_use_the_draft_ids", "wire_malformed::code_points_match_the_draft"], C,
                    "implementation: component ids 0x0020..0x0023 as registered"),
    # ---- room policy -03
    "POLICY-I1": (["policy_validate::state_errors"], C, "model: P-LIST-WELLFORMED; implementation: state validation refuses duplicates"),
    "POLICY-I2": (["policy_validate::state_errors"], C, "model: P-LIST-WELLFORMED; implementation: a role-0 entry is refused"),
    "POLICY-I3": ([PT + "constraints_on_post_commit_state"], C,
                  "model: P-LIST-BEFORE-ADD, P-CONSTRAINTS; implementation: max-active-0 roles cannot get a client"),
    "POLICY-I4": ([PT + "constraints_on_post_commit_state"], C, "model: P-CONSTRAINTS; implementation: min/max participants and active"),
    "POLICY-I5": ([PT + "base_policy_limits", "policy_validate::state_errors"], C, "model: P-CONSTRAINTS; implementation: max_clients"),
    "POLICY-I6": ([PT + "base_policy_limits", "policy_validate::state_errors"], P,
                  "implementation: max_users (banned entries not counted); the model configurations set no max_users"),
    "POLICY-I7": ([PT + "base_policy_limits", "policy_validate::state_errors"], C, "model: P-CONSTRAINTS; implementation: multi_device false"),
    "POLICY-I9": (["policy_validate::preauth_and_base_errors", PT + "base_policy_limits"], C,
                  "implementation: parent_room shape and the strict-subset rule (parent rooms are outside the one-room model)"),
    "POLICY-5-03": ([PT + "base_policy_limits"], C, "implementation: additions outside the parent room refused"),
    "POLICY-5-06": (["policy_validate::preauth_and_base_errors"], C, "implementation: parent_room present iff parent_dependant"),
    "POLICY-I10": (["policy_validate::roles_list_errors", PT + "open_join"], C, "implementation: canOpenJoin outside role 0 refused"),
    "POLICY-I11": (["policy_validate::roles_list_errors"], C, "implementation: canAddParticipant without a from-0 transition refused"),
    "POLICY-8.1.1-05": (["policy_validate::roles_list_errors"], C, "implementation: canOpenJoin without from-0 targets refused"),
    "POLICY-8.1.1-07": (["policy_validate::roles_list_errors"], C, "implementation: canOpenJoin on a non-zero role refused"),
    "POLICY-I12": (["policy_validate::component_rules"], C, "implementation: autodetect_hyperlinks_in_text may not be required"),
    "POLICY-I13": (["policy_validate::component_rules"], C, "implementation: hub upload location needs exactly the hub's domain"),
    "POLICY-I16": (["policy_validate::component_rules"], C, "implementation: roles_that_can_share excludes roles 0, 1 and max-active-0 roles"),
    "POLICY-I17": (["policy_validate::component_rules"], C, "implementation: local client bots have bot_role_index 0"),
    "POLICY-I18": (["wire_malformed::optional_flag_strings_and_component_order"], C,
                   "implementation: component_data must be sorted without duplicates (outside the model)"),
    "POLICY-T1": ([HR + "policy_denials_are_not_allowed_with_the_rule_id", PT + "same_commit_rules"], C,
                  "model: P-POLICY-COMMIT-RULES; implementation: a roles update with list changes refused"),
    "POLICY-T2": ([PT + "same_commit_rules"], C, "model: P-POLICY-COMMIT-RULES; implementation: preauth update only with removals"),
    "POLICY-T3": ([HR + "component_rules_of_a_misbehaving_client_are_enforced_by_the_hub"], C,
                  "model: P-ONE-OP-PER-USER; implementation: one change per user per commit"),
    "POLICY-T4": ([HR + "component_rules_of_a_misbehaving_client_are_enforced_by_the_hub", "mimi::metadata_allows_one_update_per_commit"], C,
                  "model: P-ONE-METADATA; implementation: one metadata update per commit"),
    "POLICY-T5": (["component::replace_logic_last_update_wins_and_remove_deletes", HR + "component_rules_of_a_misbehaving_client_are_enforced_by_the_hub"], P,
                  "implementation: update/remove resolution per component and MIMI components not removable; 'remove only of existing state' not asserted separately"),
    "POLICY-T6": ([HR + "policy_denials_are_not_allowed_with_the_rule_id", MF + "member_removes_another_with_app_data_update_in_same_commit"], C,
                  "model: P-REMOVE-SAME-COMMIT; implementation: removal without the clients' Removes refused"),
    "POLICY-T7": (["flows_hub::kick_ban_unban_and_rejoin", PT + "banned_role_needs_its_name"], C,
                  "model: P-REMOVE-SAME-COMMIT, witness P-REACH-BAN; implementation: ban removes the clients in the same commit"),
    "POLICY-T9": ([PT + "change_validation_rules"] + POLICY_TABLES[:1], C,
                  "model: P-AUTHORIZED (self-targeting and role-0 targets refused); implementation: change validation table"),
    "POLICY-T10": ([PT + "join_rules"], C, "model: P-AUTHORIZED, P-NO-ESCALATION; implementation: preauth consulted only for unlisted joiners and own-role changes"),
    "POLICY-T11": ([PT + "clients_rules", "flows_hub::kick_ban_unban_and_rejoin"], C,
                   "model: P-AUTHORIZED; implementation: unban adds no clients (admin or unbanned user), rejoin needs its own join"),
    "POLICY-T12": ([HR + "mls_add_before_participant_list_add_is_refused"], C, "model: P-LIST-BEFORE-ADD; implementation: MLS Add before list add refused"),
    "POLICY-T13": ([HR + "policy_denials_are_not_allowed_with_the_rule_id"] + POLICY_TABLES, C,
                   "model: P-AUTHORIZED, P-NO-ESCALATION; implementation: every capability row of the App. A tables"),
    "POLICY-I19": ([HR + "users_being_removed_are_blocked_except_for_removals"], C,
                   "model: P-REMOVED-NO-APP-MSG, P-BLOCKED-RECEIVER (violated as written: finding F-2); implementation: the hub blocks the removed user's messages"),
    "POLICY-3-05": ([PT + "change_validation_rules"], P, "implementation: RoleUpdate validation; model: witness P-REACH-POLICY only"),
    "POLICY-4-01": ([PT + "join_rules"], C, "implementation: a banned (listed) user cannot rejoin through preauthorization"),
    "POLICY-4-02": ([PT + "join_rules"], C, "implementation: claims must match exactly (value and credential type)"),
    "POLICY-4-03": ([PT + "join_rules"], C, "implementation: the first matching entry wins"),
    "POLICY-8-01": (POLICY_TABLES + ["P-AUTHORIZED"], C, "model: P-AUTHORIZED; implementation: App. A capability tables"),
    "POLICY-8-02": (POLICY_TABLES + ["P-AUTHORIZED"], C, "model: P-AUTHORIZED checks proposals and commits; implementation: tables"),
    "POLICY-8.1.1-01": (POLICY_TABLES + ["P-AUTHORIZED"], C, "model: P-AUTHORIZED on add; implementation: canAddParticipant rows"),
    "POLICY-8.1.1-02": ([PT + "constraints_on_post_commit_state", "P-CONSTRAINTS"], C, "model: P-CONSTRAINTS; implementation: full roles refuse adds"),
    "POLICY-8.1.1-03": (POLICY_TABLES, P, "implementation: add rows include the added user's clients; model: witness P-REACH-ADD only"),
    "POLICY-8.1.1-04": ([PT + "clients_rules"], P, "implementation: own-client rules; the model's external join is not split by this capability"),
    "POLICY-8.1.1-06": ([PT + "open_join"], C, "implementation: open join into the allowed target roles within maxima"),
    "POLICY-8.1.1-08": ([PT + "join_rules", "P-NO-ESCALATION"], C, "model: P-NO-ESCALATION (own preauth match); implementation: preauthorized joins"),
    "POLICY-8.1.1-09": ([PT + "constraints_on_post_commit_state"], P, "implementation: maxima on joins; the model's preauth joins stay within configured maxima"),
    "POLICY-8.1.2-01": (POLICY_TABLES + ["P-AUTHORIZED", "P-REMOVE-SAME-COMMIT"], C, "model: P-AUTHORIZED, P-REMOVE-SAME-COMMIT; implementation: canRemoveParticipant rows"),
    "POLICY-8.1.2-02": ([PT + "clients_rules"], P, "implementation: own-client removal within the active minimum; not modelled separately"),
    "POLICY-8.1.2-03": ([HR + "users_being_removed_are_blocked_except_for_removals"], P,
                        "implementation: leave = list removal plus Removes of the clients; model: the leave operation builds them together (no property)"),
    "POLICY-8.1.2-05": (POLICY_TABLES + ["P-AUTHORIZED", "P-REACH-KICK"], C, "model: P-AUTHORIZED, witness P-REACH-KICK; implementation: canKick rows"),
    "POLICY-8.1.3-01": (POLICY_TABLES + ["P-NO-ESCALATION"], C, "model: P-NO-ESCALATION; implementation: canChangeUserRole rows"),
    "POLICY-8.1.3-02": ([PT + "join_rules", "P-NO-ESCALATION", "P-REACH-OWN-ROLE"], C, "model: P-NO-ESCALATION; implementation: own role via preauth"),
    "POLICY-8.1.3-03": ([PT + "banned_role_needs_its_name"], C, "implementation: canBan/canUnban need role 1 named banned"),
    "POLICY-8.1.3-04": ([PT + "banned_role_needs_its_name"] + POLICY_TABLES[:1], C, "implementation: canBan conditions"),
    "POLICY-8.1.3-05": (POLICY_TABLES + ["P-AUTHORIZED", "P-REACH-UNBAN"], C, "model: P-AUTHORIZED, witness P-REACH-UNBAN; implementation: canUnban rows"),
    "POLICY-8.2-01": (POLICY_TABLES + ["P-AUTHORIZED"], C, "model: P-AUTHORIZED on metadata; implementation: canChangeRoom* rows"),
    "POLICY-8.3-01": ([HR + "submit_message_refusals"] + POLICY_TABLES, P, "implementation: canSendMessage on submitMessage; model: messages are not capability-checked"),
    "POLICY-8.6-02": (POLICY_TABLES + ["P-AUTHORIZED"], C, "model: P-AUTHORIZED on roles updates; implementation: canChangeRoleDefinitions rows"),
    "POLICY-8.6-03": (POLICY_TABLES + ["P-AUTHORIZED"], C, "model: P-AUTHORIZED on preauth updates; implementation: canChangePreauthorizedUserList rows"),
    "POLICY-8.6-01": (POLICY_TABLES, P, "implementation: canChangeRoomMembershipStyle rows; model: base policy updates not modelled"),
    # ---- content -08 (outside the model: content is opaque there)
    "CONTENT-3.1-01": (["content_prop::valid_content_round_trips", "content_vectors::every_example_round_trips_and_has_the_stated_id"], C, "implementation: CBOR messages and the draft's vectors"),
    "CONTENT-3.3-01": ([CR + "salt_wrong_size", CR + "message_id_wrong_size"], C, "implementation: 16-octet salt, 32-octet ids"),
    "CONTENT-3.3-02": (["content_vectors::every_example_round_trips_and_has_the_stated_id", "message_id::length_prefixes_change_the_id"], C, "implementation: the draft's vectors reproduce their message ids"),
    "CONTENT-3.3-03": (["content_vectors::every_example_round_trips_and_has_the_stated_id", CR + "referenced_id_with_unknown_hash_algorithm"], C, "implementation: SHA-256 ids; unknown hash algorithm refused"),
    "CONTENT-4.1-03": ([CR + "expiration_shape_and_range", "receiver::expiry_window"], C, "implementation: expiration shape and window"),
    "CONTENT-4.1-05": (["receiver::reply_chains"], P, "implementation: receiver follows reply chains; loop detection across stored history only as far as the receiver keeps it"),
    "CONTENT-4.3-01": ([CR + "duplicate_extension_key", CR + "encoder_refuses_duplicate_registered_key"], C, "implementation: duplicate keys refused by decoder and encoder"),
    "CONTENT-4.3-02": ([CR + "extension_key_of_wrong_type", CR + "extension_text_key_length", CR + "sender_uri_must_be_text"], C, "implementation: extension key types and lengths"),
    "CONTENT-4.4-01": ([CR + "multipart_needs_two_parts", CR + "encoder_refuses_single_part_multipart", CR + "unknown_part_semantics"], C, "implementation: part kinds, MultiPart needs two parts"),
    "CONTENT-4.4-03": (["content_vectors::multipart3_cids_resolve_to_images"], P, "implementation: cid references in the vectors resolve; a cid naming a MultiPart is not tested"),
    "CONTENT-6.1-01": ([CR + "baseline_is_valid_and_canonical", CR + "non_minimal_integer_head", CR + "unsorted_extension_keys", "content_prop::valid_content_round_trips"], C,
                       "implementation: deterministic encoding enforced on decode and produced on encode"),
    "CONTENT-6.1-02": ([CR + "length_first_canonical_order_is_rejected"], C, "implementation: RFC 7049 length-first order refused"),
    "CONTENT-6.2-01": ([CR + "extension_key_of_wrong_type", CR + "extension_text_key_length"], C, "implementation"),
    "CONTENT-6.2-02": ([CR + "nested_map_key_of_wrong_type"], C, "implementation"),
    "CONTENT-6.2-03": ([CR + "integer_key_outside_double_range", CR + "nested_map_integer_key_range"], C, "implementation"),
    "CONTENT-6.2-04": ([CR + "non_canonical_nan"], P, "implementation: only the half-width quiet NaN accepted; the typed-array exception (tags 80-87) is not tested"),
    "CONTENT-6.2-05": ([CR + "invalid_utf8_text", CR + "invalid_utf8_in_extension_value"], C, "implementation"),
    "CONTENT-6.3-01": ([CR + "part_nesting_limit", CR + "encoder_refuses_deep_parts"], C, "implementation"),
    "CONTENT-6.3-02": ([CR + "extension_value_nesting_limit"], C, "implementation"),
    "CONTENT-9.1-01": ([CR + "too_many_parts", CR + "part_nesting_limit", CR + "referenced_id_with_unknown_hash_algorithm", CR + "expiry_outside_the_plausible_window"], P,
                       "implementation: >1024 parts, depth, unknown hash, implausible times refused; sender-not-member and duplicate ids are not tested"),
    # ---- identity -05
    "IDENT-4-01": (["uri::parses_every_kind_of_the_drafts", "uri::rejects_malformed_with_a_reason"], C, "implementation: mimi URIs with a provider authority"),
    "IDENT-4-02": (["uri::parses_every_kind_of_the_drafts"], C, "implementation: u, p, d, r, g, t path types"),
    "IDENT-4-03": (["uri::parses_every_kind_of_the_drafts"], C, "implementation: both client URI forms"),
    "IDENT-4-04": (["uri::parses_every_kind_of_the_drafts"], C, "implementation: p and u pseudonym forms"),
    "IDENT-4-05": (["uri::parses_every_kind_of_the_drafts"], C, "implementation: local.invalid authority"),
    # ---- metadata
    "MM-1": ([], P, "model only: P-MM-1 (violated as written: finding F-3, holds with mmr-kp-fetch=pseudonymous); the implementation has no MMR"),
    "MM-2": ([], P, "model only: P-MM-2 (violated for adds by followers: finding F-4); no implementation test of SemiPrivateMessage"),
    "MM-4": ([], P, "model only: P-MM-4; no implementation of minimal-metadata rooms"),
    "MM-8": ([], P, "model: P-MM-8; implementation fanout carries no sender by construction, not asserted by a test"),
    "MM-9": ([], P, "model: P-MM-9 with symbolic franks; no implementation test of receiver frank verification"),
    "MM-11": (["follower_keys::key_packages_are_handed_out_once_and_then_exhausted"], C, "model: P-KP-ONE-TIME, P-MM-11; implementation: one-time KeyPackages"),
    "MM-12": ([], P, "model only: P-MM-12 (pseudonymous list entries); no implementation of minimal-metadata rooms"),
    "MM-P6.1-02": (["P-MM-4"], P, "model only: P-MM-4 (mmr configs)"),
}


def parse_props(path):
    cites = {}
    for line in open(path):
        m = re.match(r"^(P-[A-Z0-9-]+)\s+\S+\s+.*?\[([^\]]*)\]", line)
        if m:
            for r in [x.strip() for x in m.group(2).split(",") if x.strip()]:
                cites.setdefault(r, []).append(m.group(1))
    return cites


def q(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    cites = parse_props(sys.argv[1])
    seen = set()
    for f in sorted(glob.glob("spec/requirements/*.toml")):
        text = open(f).read()
        blocks = text.split("[[requirement]]\n")
        out = [blocks[0]]
        for b in blocks[1:]:
            rid = re.search(r'^id = "([^"]+)"', b, re.M).group(1)
            props = cites.get(rid, [])
            if rid in COVER or props:
                seen.add(rid)
                extra, status, reason = COVER.get(rid, ([], None, None))
                if status is None:
                    raise SystemExit(f"{rid} is cited by {props} but has no COVER entry")
                items = []
                for x in props + extra:
                    if x not in items:
                        items.append(x)
                b = re.sub(r"^covered_by = .*$", "covered_by = [" + ", ".join(q(x) for x in items) + "]", b, count=1, flags=re.M)
                b = re.sub(r"^status = .*$", "status = " + q(status), b, count=1, flags=re.M)
                b = re.sub(r"^reason = .*$", "reason = " + q(reason), b, count=1, flags=re.M)
            out.append(b)
        open(f, "w").write("[[requirement]]\n".join(out))
    missing = set(COVER) - seen
    if missing:
        raise SystemExit(f"COVER names unknown ids: {sorted(missing)}")


main()
