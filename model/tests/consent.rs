//! Consent on the key-material path (protocol-06 §5.2, §5.7): the target's provider
//! answers `/keyMaterial` with noConsent unless the target user granted the requester a
//! scope; grants and revokes are `/updateConsent` operations.

use mimi_model::cli::{check, prepare, Strategy, Verdict};
use mimi_model::state::{Action, State};
use mimi_model::MimiModel;
use stateright::Model;

fn step(m: &MimiModel, s: &State, a: Action) -> State {
    assert!(
        m.next_state(s, a.clone()).is_some(),
        "action {a:?} not enabled"
    );
    m.next_state(s, a).expect("enabled")
}

#[test]
fn fetch_without_consent_is_refused_and_after_a_grant_succeeds() {
    let m = MimiModel::new(prepare("consent", &[], &None).expect("cfg"));
    let s0 = m.init_states().remove(0);
    let s = step(&m, &s0, Action::Create);
    let alice = 0u8;
    let bob_client = 1u8;
    let bob = 1u8;
    // alice (client 0) asks for bob's KeyPackages: noConsent, nothing handed out
    let refused = step(
        &m,
        &s,
        Action::Fetch {
            client: 0,
            target: bob,
        },
    );
    assert!(refused.clients[0].held.is_empty());
    assert!(refused.kp_issued.is_empty());
    assert!(refused.hub.kp_route.is_empty());
    let chart = mimi_model::msc::step_lines(
        &m,
        &s,
        &Action::Fetch {
            client: 0,
            target: bob,
        },
    );
    assert!(
        chart.iter().any(|l| l.fields.contains("noConsent")),
        "{chart:#?}"
    );
    // bob grants alice a scope (/updateConsent grant), then the fetch succeeds
    let mut acts = Vec::new();
    m.actions(&refused, &mut acts);
    let grant = Action::Consent {
        client: bob_client,
        requester: alice,
        grant: true,
    };
    assert!(acts.contains(&grant), "{acts:?}");
    let granted = step(&m, &refused, grant);
    assert!(granted.consent.contains(&(alice, bob)));
    let fetched = step(
        &m,
        &granted,
        Action::Fetch {
            client: 0,
            target: bob,
        },
    );
    assert_eq!(fetched.clients[0].held.len(), 1);
    // revoking afterwards removes the scope; the next fetch would be refused again
    let revoked = step(
        &m,
        &granted,
        Action::Consent {
            client: bob_client,
            requester: alice,
            grant: false,
        },
    );
    assert!(!revoked.consent.contains(&(alice, bob)));
}

#[test]
fn consent_config_holds_and_witnesses_refusal_and_consented_fetch() {
    let r = check(
        prepare("consent", &[], &None).expect("cfg"),
        &[],
        Strategy::Bfs,
        0,
        1,
        None,
        false,
    )
    .expect("runs");
    assert!(!r.failed(), "{}", mimi_model::cli::render_text(&r));
    assert_eq!(r.verdict("P-KP-CONSENT"), Some(Verdict::Holds));
    for w in [
        "P-REACH-CONSENT-REFUSED",
        "P-REACH-CONSENTED-FETCH",
        "P-REACH-CONSENT-REVOKED",
        "P-REACH-ADD",
    ] {
        assert_eq!(r.verdict(w), Some(Verdict::Witnessed), "{w}");
    }
}

#[test]
fn follower_skipping_the_consent_check_hands_out_key_packages() {
    let cfg = prepare("consent", &[], &Some("follower-skips-consent-check".into())).expect("cfg");
    let r = check(
        cfg,
        &["P-KP-CONSENT".into()],
        Strategy::Bfs,
        0,
        1,
        None,
        false,
    )
    .expect("runs");
    assert_eq!(r.verdict("P-KP-CONSENT"), Some(Verdict::Violated));
    let p = &r.properties[0];
    // shortest counterexample: create, then bob's provider answers alice's fetch with
    // KeyPackages although bob never granted consent
    assert!(
        p.counterexample
            .iter()
            .any(|l| l.endpoint == "200 KeyMaterialResponse" && l.fields.contains("reserved")),
        "{:#?}",
        p.counterexample
    );
    assert!(
        !p.counterexample
            .iter()
            .any(|l| l.endpoint.contains("updateConsent")),
        "{:#?}",
        p.counterexample
    );
}

#[test]
fn configs_without_a_consent_table_keep_the_consented_behaviour() {
    // `small` declares no consent: the property does not apply and fetches succeed
    let cfg = prepare("small", &[], &None).expect("cfg");
    assert!(cfg.consent.is_none());
    assert!(!mimi_model::properties::applies(&cfg, "P-KP-CONSENT"));
}
