//! The `check` flags parse as issue 3 specifies and the JSON document has its shape.

use clap::Parser;
use mimi_model::cli::{check, prepare, run_check, CheckArgs, Strategy};

#[derive(Parser, Debug)]
struct Wrap {
    #[command(flatten)]
    args: CheckArgs,
}

#[test]
fn flags_parse() {
    let w = Wrap::try_parse_from([
        "x",
        "--config",
        "small",
        "--variant",
        "dedup=txn",
        "--variant",
        "apply-at=commit",
        "--mutation",
        "hub-skips-epoch-check",
        "--property",
        "P-HUB-LINEAR",
        "--property",
        "P-AGREEMENT",
        "--strategy",
        "dfs",
        "--seed",
        "7",
        "--threads",
        "1",
        "--format",
        "json",
    ])
    .expect("parses");
    assert_eq!(w.args.config, "small");
    assert_eq!(w.args.variants.len(), 2);
    assert_eq!(w.args.properties.len(), 2);
    assert_eq!(w.args.strategy, Strategy::Dfs);
    assert_eq!(w.args.seed, 7);
    let d = Wrap::try_parse_from(["x"]).expect("defaults");
    assert_eq!(d.args.config, "default");
    assert!(Wrap::try_parse_from(["x", "--strategy", "astar"]).is_err());
}

#[test]
fn lists_succeed() {
    let w = Wrap::try_parse_from([
        "x",
        "--list-properties",
        "--list-variants",
        "--list-mutations",
        "--list-configs",
    ])
    .expect("parses");
    assert_eq!(run_check(&w.args), std::process::ExitCode::SUCCESS);
}

#[test]
fn json_document_shape() {
    let cfg = prepare("small", &[], &Some("hub-skips-epoch-check".into())).expect("cfg");
    let r = check(
        cfg,
        &["P-HUB-LINEAR".into(), "P-REACH-ADD".into()],
        Strategy::Bfs,
        0,
        1,
        None,
        false,
    )
    .expect("runs");
    let j: serde_json::Value = serde_json::to_value(&r).expect("json");
    for k in [
        "config",
        "variants",
        "properties",
        "states",
        "unique_states",
        "max_depth",
        "seconds",
    ] {
        assert!(j.get(k).is_some(), "missing {k}");
    }
    let props = j["properties"].as_array().expect("array");
    let p = props
        .iter()
        .find(|p| p["id"] == "P-HUB-LINEAR")
        .expect("present");
    assert_eq!(p["verdict"], "violated");
    assert_eq!(p["kind"], "always");
    assert!(!p["counterexample"].as_array().expect("array").is_empty());
    assert!(r.failed());
}

#[test]
fn unknown_property_is_an_error() {
    let cfg = prepare("small", &[], &None).expect("cfg");
    assert!(check(cfg, &["P-NOPE".into()], Strategy::Bfs, 0, 1, None, false).is_err());
}

#[test]
fn simulation_runs_and_is_not_exhaustive() {
    let cfg = prepare("small", &[], &None).expect("cfg");
    let r = check(
        cfg,
        &[],
        Strategy::Simulation,
        3,
        1,
        Some(std::time::Duration::from_secs(2)),
        false,
    )
    .expect("runs");
    assert!(!r.exhaustive);
    assert!(r.states > 0);
}
