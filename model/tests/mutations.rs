//! Mutation witnesses: every deliberately wrong rule makes the checker find a
//! counterexample for its property, and every safety/liveness property has one.

use mimi_model::cli::{check, Strategy, Verdict};
use mimi_model::mutations::mutation_catalogue;
use mimi_model::properties::{property_catalogue, Kind};

#[test]
fn every_mutation_yields_a_counterexample_for_its_property() {
    let mut failures = Vec::new();
    for (m, info) in mutation_catalogue() {
        let cfg = info.test_config().expect("mutation test config loads");
        assert_eq!(cfg.mutation, Some(m));
        let report = check(
            cfg,
            &[info.property.to_string()],
            Strategy::Bfs,
            0,
            1,
            None,
            false,
        )
        .expect("check runs");
        let v = report.verdict(info.property);
        let p = report
            .properties
            .iter()
            .find(|p| p.id == info.property)
            .expect("property reported");
        let ok = matches!(
            v,
            Some(Verdict::Violated) | Some(Verdict::ExpectedViolation)
        ) && !p.counterexample.is_empty();
        if !ok {
            failures.push(format!(
                "{} -> {} on {}: {:?}",
                info.name, info.property, info.config, v
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "mutations without counterexample: {failures:#?}"
    );
}

#[test]
fn every_safety_property_has_a_mutation_witness() {
    let muts = mutation_catalogue();
    let mut missing = Vec::new();
    for p in property_catalogue() {
        if p.kind == Kind::Sometimes {
            continue;
        }
        // P-MM-11 and P-MM-12 read the same monitors as P-KP-ONE-TIME and P-AUTHORIZED
        let alias = match p.id {
            "P-MM-11" => "P-KP-ONE-TIME",
            "P-MM-12" => "P-AUTHORIZED",
            other => other,
        };
        if !muts.iter().any(|(_, i)| i.property == alias) {
            missing.push(p.id);
        }
    }
    assert!(
        missing.is_empty(),
        "properties without a mutation witness: {missing:?}"
    );
}

#[test]
fn mutation_counterexample_chart_names_protocol_messages() {
    // the policy-check mutation's counterexample must show the forged /update
    let (_, info) = mutation_catalogue()
        .into_iter()
        .find(|(_, i)| i.name == "hub-skips-policy-check")
        .expect("exists");
    let report = check(
        info.test_config().expect("loads"),
        &["P-AUTHORIZED".into()],
        Strategy::Bfs,
        0,
        1,
        None,
        false,
    )
    .expect("runs");
    let p = report
        .properties
        .iter()
        .find(|p| p.id == "P-AUTHORIZED")
        .expect("reported");
    assert!(
        p.counterexample
            .iter()
            .any(|l| l.endpoint.contains("/update")),
        "{:#?}",
        p.counterexample
    );
    assert!(p.mermaid.starts_with("sequenceDiagram"));
    assert!(p.counterexample.iter().all(|l| !l.section.is_empty()));
}
