//! The draft-as-written variants on `small`: every property holds or is a declared
//! finding, every applicable `sometimes` is witnessed, and the documented findings are
//! real (they occur) and avoided by their variants.

use mimi_model::cli::{check, prepare, Strategy, Verdict};
use mimi_model::config::{Config, EMBEDDED};
use mimi_model::properties::Kind;

fn run(config: &str, variants: &[&str]) -> mimi_model::cli::CheckReport {
    let v: Vec<String> = variants.iter().map(|s| s.to_string()).collect();
    let cfg = prepare(config, &v, &None).expect("config");
    check(cfg, &[], Strategy::Bfs, 0, 2, None, false).expect("check")
}

#[test]
fn small_holds_everything_and_witnesses_every_sometimes() {
    let r = run("small", &[]);
    assert!(r.exhaustive);
    assert!(!r.failed(), "{}", mimi_model::cli::render_text(&r));
    for p in &r.properties {
        match p.kind {
            Kind::Sometimes => assert_eq!(p.verdict, Verdict::Witnessed, "{} not witnessed", p.id),
            _ => assert!(
                matches!(p.verdict, Verdict::Holds | Verdict::ExpectedViolation),
                "{} {:?}",
                p.id,
                p.verdict
            ),
        }
    }
    // the declared finding is real
    assert_eq!(
        r.verdict("P-BLOCKED-RECEIVER"),
        Some(Verdict::ExpectedViolation)
    );
    assert!(r.unique_states > 1000);
}

#[test]
fn finding_f2_is_avoided_by_freezing_app_messages() {
    let r = run("small", &["app-while-removal-pending=reject"]);
    assert_eq!(r.verdict("P-BLOCKED-RECEIVER"), Some(Verdict::Holds));
    assert!(!r.failed());
}

#[test]
fn finding_f3_mmr_key_material_and_its_variant() {
    let r = run("mmr-honest", &[]);
    assert_eq!(r.verdict("P-MM-1"), Some(Verdict::ExpectedViolation));
    let r = run("mmr-honest", &["mmr-kp-fetch=pseudonymous"]);
    assert_eq!(r.verdict("P-MM-1"), Some(Verdict::Holds));
    assert_eq!(r.verdict("P-MM-4"), Some(Verdict::Holds));
}

#[test]
fn faults_and_adversaries_hold() {
    for c in ["faults", "adversarial", "semi-private-local"] {
        let r = run(c, &[]);
        assert!(!r.failed(), "{c}: {}", mimi_model::cli::render_text(&r));
    }
}

#[test]
fn all_embedded_configs_load() {
    for (n, _) in EMBEDDED {
        let c = Config::load(n).unwrap_or_else(|e| panic!("{n}: {e}"));
        assert_eq!(c.raw.name, *n);
    }
}

#[test]
fn bad_configs_give_typed_errors() {
    assert!(matches!(
        Config::parse("x", "name = 1"),
        Err(mimi_model::config::ConfigError::Toml { .. })
    ));
    let base = EMBEDDED
        .iter()
        .find(|(n, _)| *n == "small")
        .map(|(_, t)| *t)
        .expect("small");
    let bad_variant = format!("{base}\n[variants]\nnope = \"x\"\n");
    assert!(matches!(
        Config::parse("x", &bad_variant),
        Err(mimi_model::config::ConfigError::Invalid {
            field: "variants",
            ..
        })
    ));
    let bad_user = base.replace("provider = 1, clients = 2", "provider = 7, clients = 2");
    assert!(matches!(
        Config::parse("x", &bad_user),
        Err(mimi_model::config::ConfigError::Invalid { field: "users", .. })
    ));
    assert!(matches!(
        Config::load("/nonexistent/file.toml"),
        Err(mimi_model::config::ConfigError::Io { .. })
    ));
    assert!(prepare("small", &["apply-at".into()], &None).is_err());
    assert!(prepare("small", &[], &Some("no-such-mutation".into())).is_err());
}
