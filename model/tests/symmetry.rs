//! Symmetry reduction (DFS) agrees with the unreduced search and shrinks the state space.

use mimi_model::cli::{check_with, prepare, Strategy, Verdict};
use mimi_model::mutations::mutation_catalogue;

fn verdicts(r: &mimi_model::cli::CheckReport) -> Vec<(String, Verdict)> {
    r.properties
        .iter()
        .map(|p| (p.id.clone(), p.verdict))
        .collect()
}

#[test]
fn symmetry_agrees_with_plain_search_on_small() {
    let plain = check_with(
        prepare("small", &[], &None).expect("cfg"),
        &[],
        Strategy::Dfs,
        0,
        2,
        None,
        false,
        false,
    )
    .expect("runs");
    let sym = check_with(
        prepare("small", &[], &None).expect("cfg"),
        &[],
        Strategy::Dfs,
        0,
        2,
        None,
        false,
        true,
    )
    .expect("runs");
    assert_eq!(verdicts(&plain), verdicts(&sym));
    assert!(
        sym.unique_states < plain.unique_states,
        "{} vs {}",
        sym.unique_states,
        plain.unique_states
    );
}

#[test]
fn symmetry_keeps_every_mutation_counterexample() {
    for (_, info) in mutation_catalogue() {
        let cfg = info.test_config().expect("cfg");
        let r = check_with(
            cfg,
            &[info.property.to_string()],
            Strategy::Dfs,
            0,
            1,
            None,
            false,
            true,
        )
        .expect("runs");
        assert!(
            matches!(
                r.verdict(info.property),
                Some(Verdict::Violated) | Some(Verdict::ExpectedViolation)
            ),
            "{} lost its counterexample under symmetry",
            info.name
        );
    }
}
