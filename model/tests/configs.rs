//! Every embedded configuration violates exactly the properties it declares in
//! `expected_violations` — no more (an undeclared violation fails the run) and no fewer
//! (a declared finding that the configuration does not reproduce is a stale declaration;
//! `CheckReport::failed` alone cannot see that, which is how `mmr` once declared P-MM-1
//! while the property was vacuous there).

use mimi_model::cli::{check, prepare, Strategy, Verdict};
use mimi_model::config::{Config, EMBEDDED};
use mimi_model::properties::Kind;
use std::collections::BTreeSet;

/// Configurations too large for `cargo test` (checked by `mimi-ref prove`, obligation
/// `config-<name>` in proofs/defaults.toml, which the second test ties to the declaration).
const TOO_LARGE_FOR_TESTS: &[&str] = &["default"];

fn violated_set(r: &mimi_model::cli::CheckReport) -> BTreeSet<String> {
    r.properties
        .iter()
        .filter(|p| p.kind != Kind::Sometimes)
        .filter(|p| matches!(p.verdict, Verdict::Violated | Verdict::ExpectedViolation))
        .map(|p| p.id.clone())
        .collect()
}

#[test]
fn every_embedded_config_violates_exactly_what_it_declares() {
    let mut problems = Vec::new();
    for (name, _) in EMBEDDED {
        if TOO_LARGE_FOR_TESTS.contains(name) {
            continue;
        }
        let cfg = prepare(name, &[], &None).expect("config");
        let declared: BTreeSet<String> = cfg.raw.expected_violations.iter().cloned().collect();
        let r = check(cfg, &[], Strategy::Bfs, 0, 2, None, false).expect("check");
        assert!(r.exhaustive, "{name}");
        let got = violated_set(&r);
        if got != declared {
            problems.push(format!("{name}: declared {declared:?}, violated {got:?}"));
        }
        if r.failed() {
            problems.push(format!(
                "{name}: failed\n{}",
                mimi_model::cli::render_text(&r)
            ));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn proof_obligations_of_the_configs_match_their_declarations() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../proofs/defaults.toml");
    let text = std::fs::read_to_string(path).expect("proofs/defaults.toml");
    let doc: toml::Value = toml::from_str(&text).expect("parses");
    let obligations = doc
        .get("obligation")
        .and_then(|o| o.as_array())
        .expect("[[obligation]] entries");
    for (name, _) in EMBEDDED {
        let cfg = Config::load(name).expect("loads");
        let declared: BTreeSet<String> = cfg.raw.expected_violations.iter().cloned().collect();
        let ob = obligations
            .iter()
            .find(|o| {
                o.get("config").and_then(|c| c.as_str()) == Some(name)
                    && o.get("variants").is_none()
                    && o.get("mutation").is_none()
                    && o.get("properties").is_none()
            })
            .unwrap_or_else(|| panic!("no whole-config obligation for {name}"));
        let expect = ob.get("expect").and_then(|e| e.as_str()).expect("expect");
        let listed: BTreeSet<String> = ob
            .get("violated")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if declared.is_empty() {
            assert_eq!(expect, "holds", "{name}");
        } else {
            assert_eq!(expect, "violated", "{name}");
            assert_eq!(listed, declared, "{name}");
        }
    }
}

#[test]
fn mmr_reproduces_f3_with_an_honest_target_and_the_variant_avoids_it() {
    // as written: alice's /keyMaterial for the honest cathy names her to the hub
    let cfg = prepare("mmr", &[], &None).expect("cfg");
    let r = check(cfg, &["P-MM-1".into()], Strategy::Bfs, 0, 1, None, false).expect("runs");
    assert_eq!(r.verdict("P-MM-1"), Some(Verdict::ExpectedViolation));
    let chart = &r.properties[0].counterexample;
    assert!(
        chart.iter().any(|l| l.endpoint.contains("/keyMaterial")),
        "{chart:#?}"
    );
    // pseudonymous key-material fetches: every MMR property holds
    let cfg = prepare("mmr", &["mmr-kp-fetch=pseudonymous".into()], &None).expect("cfg");
    let r = check(
        cfg,
        &["P-MM-1".into(), "P-MM-4".into(), "P-MM-12".into()],
        Strategy::Bfs,
        0,
        2,
        None,
        false,
    )
    .expect("runs");
    for p in ["P-MM-1", "P-MM-4", "P-MM-12"] {
        assert_eq!(r.verdict(p), Some(Verdict::Holds), "{p}");
    }
}
