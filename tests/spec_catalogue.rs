//! The requirement catalogue (`spec/requirements/*.toml`, issue 7) is consistent with
//! the model's properties and the test suite, and the normative core is accounted for.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn mimi_ref(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mimi-ref"))
        .args(args)
        .output()
        .expect("the mimi-ref binary runs")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `[[requirement]]` table of one catalogue file.
fn requirements(file: &str) -> Vec<toml::Table> {
    let path = root().join("spec/requirements").join(file);
    let text = std::fs::read_to_string(&path).expect("catalogue file readable");
    let doc: toml::Table = toml::from_str(&text).expect("catalogue file is TOML");
    doc["requirement"]
        .as_array()
        .expect("requirement array")
        .iter()
        .map(|v| v.as_table().expect("requirement table").clone())
        .collect()
}

fn s<'a>(r: &'a toml::Table, k: &str) -> &'a str {
    r[k].as_str().unwrap_or_else(|| panic!("{k} is a string"))
}

fn top_section(r: &toml::Table) -> u32 {
    s(r, "section")
        .split('.')
        .next()
        .and_then(|x| x.parse().ok())
        .expect("numeric section")
}

#[test]
fn spec_validate_is_clean() {
    let out = mimi_ref(&["spec", "--validate"]);
    assert!(
        out.status.success(),
        "spec --validate failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The validator is not vacuous: a catalogue naming a test and a property that do not
/// exist is refused, and the problems are named.
#[test]
fn spec_validate_refuses_dangling_references() {
    let dir = std::env::temp_dir().join(format!("mimi-spec-{}", std::process::id()));
    let req = dir.join("spec/requirements");
    std::fs::create_dir_all(&req).expect("temp dir");
    let bad = r#"draft = "draft-ietf-mimi-protocol"
revision = "06"

[[requirement]]
id = "PROTO-INV-2"
draft = "draft-ietf-mimi-protocol"
revision = "06"
section = "5.3"
level = "MUST"
summary = "list add no later than the MLS Add"
enforced_by = ["hub"]
covered_by = ["P-NO-SUCH-PROPERTY", "hub_reject::no_such_test"]
status = "covered"
reason = ""
"#;
    std::fs::write(req.join("protocol.toml"), bad).expect("write");
    let out = mimi_ref(&["spec", "--validate", "--root", &dir.to_string_lossy()]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        !out.status.success(),
        "dangling references accepted: {text}"
    );
    assert!(text.contains("P-NO-SUCH-PROPERTY"), "{text}");
    assert!(text.contains("no_such_test"), "{text}");
}

fn check_accounted(file: &str, sections: std::ops::RangeInclusive<u32>) -> usize {
    let mut n = 0;
    for r in requirements(file) {
        let level = s(&r, "level");
        if !(level == "MUST" || level == "MUST NOT") || !sections.contains(&top_section(&r)) {
            continue;
        }
        n += 1;
        let id = s(&r, "id");
        let status = s(&r, "status");
        let covered_by = r["covered_by"].as_array().expect("covered_by array");
        let reason = s(&r, "reason").trim();
        match status {
            "covered" => assert!(!covered_by.is_empty(), "{id}: covered by nothing"),
            "partial" => {
                assert!(
                    !covered_by.is_empty(),
                    "{id}: partial but covered by nothing"
                );
                assert!(!reason.is_empty(), "{id}: partial without a reason");
            }
            "not-modelled" => {
                assert!(!reason.is_empty(), "{id}: not-modelled without a reason");
                assert!(
                    covered_by.is_empty(),
                    "{id}: not-modelled but lists {covered_by:?}"
                );
            }
            other => panic!("{id}: unknown status {other}"),
        }
    }
    n
}

/// protocol -06 §4–§7 and room policy -03 §3–§8: each MUST / MUST NOT is covered,
/// partial with what covers it and a reason, or not-modelled with a reason.
#[test]
fn core_musts_are_accounted_for() {
    assert!(check_accounted("protocol.toml", 4..=7) >= 20);
    assert!(check_accounted("room-policy.toml", 3..=8) >= 20);
}

/// Requirements a model property checks are never left `not-modelled`, and the
/// invariants the model was built for are fully covered (model and implementation).
#[test]
fn model_checked_requirements_are_not_left_uncovered() {
    let mut by_id = std::collections::BTreeMap::new();
    for f in std::fs::read_dir(root().join("spec/requirements")).expect("dir") {
        let p = f.expect("entry").path();
        if p.extension().is_some_and(|x| x == "toml") {
            for r in requirements(&file_name(&p)) {
                by_id.insert(s(&r, "id").to_string(), r);
            }
        }
    }
    for r in by_id.values() {
        let cov = r["covered_by"].as_array().expect("array");
        if cov
            .iter()
            .any(|c| c.as_str().is_some_and(|c| c.starts_with("P-")))
        {
            assert_ne!(s(r, "status"), "not-modelled", "{}", s(r, "id"));
        }
    }
    for id in [
        "PROTO-INV-2",
        "PROTO-INV-3",
        "PROTO-INV-4",
        "PROTO-INV-7",
        "PROTO-INV-11",
        "PROTO-INV-14",
        "POLICY-T1",
        "POLICY-T2",
        "POLICY-T13",
    ] {
        let r = by_id.get(id).unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(s(r, "status"), "covered", "{id}");
        let cov: Vec<&str> = r["covered_by"]
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|c| c.as_str())
            .collect();
        assert!(cov.iter().any(|c| c.starts_with("P-")), "{id}: no property");
        assert!(cov.iter().any(|c| c.contains("::")), "{id}: no test");
    }
}

fn file_name(p: &Path) -> String {
    p.file_name().expect("name").to_string_lossy().into_owned()
}
