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

/// Symmetry over users of one provider: verdicts agree with the plain search on several
/// configurations (two of them with interchangeable users), and the reduction is real.
#[test]
fn user_symmetry_agrees_with_plain_search_on_several_configs() {
    for name in [
        "peers",
        "two-rooms",
        "small",
        "consent",
        "leave-join",
        "faults",
        "semi-private-local",
    ] {
        let run = |sym: bool| {
            check_with(
                prepare(name, &[], &None).expect("cfg"),
                &[],
                Strategy::Dfs,
                0,
                2,
                None,
                false,
                sym,
            )
            .expect("runs")
        };
        let (plain, sym) = (run(false), run(true));
        assert_eq!(verdicts(&plain), verdicts(&sym), "{name}");
        assert!(sym.unique_states <= plain.unique_states, "{name}");
    }
}

#[test]
fn interchangeable_users_are_found_and_reduce_the_state_space() {
    use mimi_model::MimiModel;
    let m = MimiModel::new(prepare("peers", &[], &None).expect("cfg"));
    // bob and dan: same provider, one client each, not named by the config
    assert_eq!(m.user_symmetry_groups(), vec![vec![1u8, 2]]);
    // users named by the configuration are not permuted
    let d = MimiModel::new(prepare("default", &[], &None).expect("cfg"));
    assert!(
        d.user_symmetry_groups().is_empty(),
        "cathy is preauthorized"
    );
    let a = MimiModel::new(prepare("adversarial", &[], &None).expect("cfg"));
    assert!(a.user_symmetry_groups().is_empty(), "bob is the adversary");
    // peers has no device symmetry at all (one client per user): the whole reduction
    // comes from permuting bob and dan
    assert!(m.symmetry_groups().is_empty());
    let run = |sym: bool| {
        check_with(
            prepare("peers", &[], &None).expect("cfg"),
            &[],
            Strategy::Dfs,
            0,
            2,
            None,
            false,
            sym,
        )
        .expect("runs")
    };
    let (plain, sym) = (run(false), run(true));
    assert!(
        sym.unique_states * 10 < plain.unique_states * 6,
        "{} vs {}",
        sym.unique_states,
        plain.unique_states
    );
}

#[test]
fn a_state_and_its_user_swapped_image_have_one_representative() {
    use mimi_model::state::Action;
    use mimi_model::MimiModel;
    use stateright::Model;
    let m = MimiModel::new(prepare("peers", &[], &None).expect("cfg"));
    let s0 = m.init_states().remove(0);
    let go = |s: &mimi_model::state::State, a: Action| m.next_state(s, a).expect("enabled");
    let s1 = go(&s0, Action::Create);
    // alice fetches bob's (user 1) vs dan's (user 2) KeyPackages: mirror images
    let with_bob = go(
        &s1,
        Action::Fetch {
            client: 0,
            target: 1,
        },
    );
    let with_dan = go(
        &s1,
        Action::Fetch {
            client: 0,
            target: 2,
        },
    );
    assert_ne!(with_bob, with_dan);
    let rep = mimi_model::model::representative;
    assert_eq!(rep(&with_bob), rep(&with_dan));
    // renaming by hand (clients 1<->2, users 1<->2) gives the other state
    let swapped = mimi_model::symmetry::rename_with_users(&with_bob, &[0, 2, 1], &[0, 2, 1], false);
    assert_eq!(swapped, with_dan);
}
