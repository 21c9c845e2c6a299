//! `mimi-ref spec`: the requirement catalogue (`spec/requirements/*.toml`) and its coverage.
//!
//! Each catalogue entry names what covers it (`covered_by`): model property ids
//! (`P-…`, checked against the model's property catalogue) and test names
//! (`[file-or-module::]function`, checked against the `#[test]` functions and
//! `proptest!` cases found in the source tree). `--validate` fails when a
//! reference dangles, when an id repeats, when an entry lacks a field, or when
//! a model property cites a requirement id that the catalogue does not have.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::{Deserialize, Serialize};

/// Arguments of `mimi-ref spec`.
#[derive(clap::Args, Debug)]
pub struct SpecArgs {
    /// Only this draft (a file stem such as `protocol`, or a draft name).
    #[arg(long)]
    pub draft: Option<String>,
    /// List the requirements that nothing covers.
    #[arg(long)]
    pub uncovered: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Check every reference in the catalogue and exit non-zero on a dangling one.
    #[arg(long)]
    pub validate: bool,
    /// The repository root (holding `spec/requirements/`, `src/`, `tests/`, `model/`).
    #[arg(long, value_name = "DIR", default_value = env!("CARGO_MANIFEST_DIR"))]
    pub root: PathBuf,
}

/// Output format of `mimi-ref spec`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A table for people.
    Text,
    /// One JSON document.
    Json,
}

/// One catalogue file.
///
/// The file's `draft`/`revision` name the area it catalogues; an entry may cite
/// another draft where the area borrows from it (e.g. discovery's identifierQuery).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    #[allow(dead_code)]
    draft: String,
    #[allow(dead_code)]
    revision: String,
    #[serde(default, rename = "requirement")]
    requirements: Vec<Requirement>,
}

/// One normative statement.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Stable id, e.g. `PROTO-5.3-04`.
    pub id: String,
    /// Draft name.
    pub draft: String,
    /// Draft revision.
    pub revision: String,
    /// Section number.
    pub section: String,
    /// MUST, MUST NOT, SHOULD, SHOULD NOT, MAY or DESCRIPTIVE.
    pub level: String,
    /// Our one-line paraphrase.
    pub summary: String,
    /// Which parties enforce it.
    pub enforced_by: Vec<String>,
    /// Property ids and test names that cover it.
    pub covered_by: Vec<String>,
    /// covered, partial or not-modelled.
    pub status: String,
    /// Why it is not (fully) covered.
    #[serde(default)]
    pub reason: Option<String>,
    /// The catalogue file it came from (stem).
    #[serde(skip_deserializing, default)]
    pub file: String,
}

const LEVELS: &[&str] = &[
    "MUST",
    "MUST NOT",
    "SHOULD",
    "SHOULD NOT",
    "MAY",
    "DESCRIPTIVE",
];
const STATUSES: &[&str] = &["covered", "partial", "not-modelled"];

/// Load every `*.toml` under `dir`, sorted by file name.
pub fn load_catalogue(dir: &Path) -> Result<Vec<Requirement>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no *.toml catalogue files in {}", dir.display()));
    }
    let mut out = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        let cat: CatalogueFile =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", f.display()))?;
        let stem = f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        for mut r in cat.requirements {
            r.file = stem.clone();
            out.push(r);
        }
    }
    Ok(out)
}

/// Every test function in the tree: (file path relative to root, function name).
pub fn scan_tests(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for sub in ["src", "tests", "model", "benches"] {
        scan_dir(root, &root.join(sub), &mut out);
    }
    out
}

fn scan_dir(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            scan_dir(root, &p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            let rel = p
                .strip_prefix(root)
                .unwrap_or(&p)
                .to_string_lossy()
                .into_owned();
            for name in test_fns(&text) {
                out.push((rel.clone(), name));
            }
        }
    }
}

/// Names of `#[test]`/`#[tokio::test]` functions and of the cases inside `proptest!` blocks.
fn test_fns(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending_attr = false;
    let mut in_proptest = 0usize;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("proptest!") {
            in_proptest += 1;
        }
        if t.starts_with("#[test]") || t.starts_with("#[tokio::test") {
            pending_attr = true;
        }
        if let Some(rest) = t
            .strip_prefix("fn ")
            .or_else(|| t.strip_prefix("pub fn "))
            .or_else(|| t.strip_prefix("async fn "))
        {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if pending_attr || (in_proptest > 0 && !name.is_empty()) {
                out.push(name);
            }
            pending_attr = false;
        }
    }
    out
}

/// Check a catalogue; returns the list of problems (empty = valid).
pub fn validate(
    reqs: &[Requirement],
    properties: &BTreeMap<String, Vec<String>>,
    tests: &[(String, String)],
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for r in reqs {
        if !seen.insert(r.id.as_str()) {
            problems.push(format!("{}: duplicate id", r.id));
        }
        if !LEVELS.contains(&r.level.as_str()) {
            problems.push(format!("{}: unknown level {:?}", r.id, r.level));
        }
        if !STATUSES.contains(&r.status.as_str()) {
            problems.push(format!("{}: unknown status {:?}", r.id, r.status));
        }
        if r.summary.trim().is_empty() || r.section.trim().is_empty() {
            problems.push(format!("{}: empty summary or section", r.id));
        }
        if r.status != "covered" && r.reason.as_deref().is_none_or(|s| s.trim().is_empty()) {
            problems.push(format!("{}: status {} needs a reason", r.id, r.status));
        }
        if r.status == "covered" && r.covered_by.is_empty() {
            problems.push(format!("{}: status covered but covered_by is empty", r.id));
        }
        for c in &r.covered_by {
            if c.starts_with("P-") {
                if !properties.contains_key(c) {
                    problems.push(format!("{}: covered_by names unknown property {c}", r.id));
                }
            } else if !test_exists(c, tests) {
                problems.push(format!("{}: covered_by names unknown test {c}", r.id));
            }
        }
    }
    for (p, cites) in properties {
        if cites.is_empty() {
            problems.push(format!("model property {p} cites no requirement"));
        }
        for c in cites {
            match reqs.iter().find(|r| &r.id == c) {
                None => problems.push(format!(
                    "model property {p} cites {c}, which is not in the catalogue"
                )),
                Some(r) if !r.covered_by.iter().any(|x| x == p) => problems.push(format!(
                    "model property {p} cites {c}, but {c}.covered_by does not list {p}"
                )),
                Some(_) => {}
            }
        }
    }
    problems
}

/// `name` or `qualifier::name`; the qualifier must appear in the test's file path.
fn test_exists(reference: &str, tests: &[(String, String)]) -> bool {
    let (qual, name) = match reference.rsplit_once("::") {
        Some((q, n)) => (Some(q), n),
        None => (None, reference),
    };
    tests.iter().any(|(file, f)| {
        f == name
            && qual.is_none_or(|q| {
                q.split("::")
                    .all(|part| part.is_empty() || file.contains(part))
            })
    })
}

/// Coverage counts for one (draft, level) cell.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Counts {
    /// Requirements in the cell.
    pub total: usize,
    /// Covered by at least one model property.
    pub by_model: usize,
    /// Covered by at least one implementation test.
    pub by_test: usize,
    /// Covered by both.
    pub by_both: usize,
    /// Covered by nothing.
    pub uncovered: usize,
}

/// Per (file, level) coverage.
pub fn coverage(reqs: &[Requirement]) -> BTreeMap<(String, String), Counts> {
    let mut out: BTreeMap<(String, String), Counts> = BTreeMap::new();
    for r in reqs {
        let c = out.entry((r.file.clone(), r.level.clone())).or_default();
        let m = r.covered_by.iter().any(|c| c.starts_with("P-"));
        let t = r.covered_by.iter().any(|c| !c.starts_with("P-"));
        c.total += 1;
        c.by_model += usize::from(m);
        c.by_test += usize::from(t);
        c.by_both += usize::from(m && t);
        c.uncovered += usize::from(!m && !t);
    }
    out
}

/// The model's property catalogue as (property id → cited requirement ids).
fn model_properties() -> BTreeMap<String, Vec<String>> {
    mimi_model::property_catalogue()
        .into_iter()
        .map(|p| {
            (
                p.id.to_string(),
                p.requirements.iter().map(|s| s.to_string()).collect(),
            )
        })
        .collect()
}

/// Run `mimi-ref spec`.
pub fn run(args: &SpecArgs) -> ExitCode {
    let dir = args.root.join("spec").join("requirements");
    let reqs = match load_catalogue(&dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.validate {
        let problems = validate(&reqs, &model_properties(), &scan_tests(&args.root));
        if problems.is_empty() {
            println!("catalogue valid: {} requirements", reqs.len());
            return ExitCode::SUCCESS;
        }
        for p in &problems {
            eprintln!("{p}");
        }
        eprintln!("{} problem(s) in the catalogue", problems.len());
        return ExitCode::FAILURE;
    }
    let selected: Vec<Requirement> = reqs
        .into_iter()
        .filter(|r| {
            args.draft
                .as_deref()
                .is_none_or(|d| r.file == d || r.draft == d)
        })
        .collect();
    if selected.is_empty() {
        eprintln!("error: no requirements match --draft {:?}", args.draft);
        return ExitCode::FAILURE;
    }
    let cov = coverage(&selected);
    let uncovered: Vec<&Requirement> = selected
        .iter()
        .filter(|r| r.covered_by.is_empty())
        .collect();
    match args.format {
        Format::Json => {
            let cells: Vec<serde_json::Value> = cov
                .iter()
                .map(|((file, level), c)| {
                    serde_json::json!({"draft": file, "level": level, "counts": c})
                })
                .collect();
            let mut doc = serde_json::json!({ "coverage": cells, "total": selected.len() });
            if args.uncovered {
                doc["uncovered"] = serde_json::to_value(&uncovered).unwrap_or_default();
            }
            match serde_json::to_string_pretty(&doc) {
                Ok(s) => println!("{s}"),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        Format::Text => {
            println!(
                "{:<14} {:<12} {:>6} {:>7} {:>6} {:>6} {:>10}",
                "draft", "level", "total", "model", "test", "both", "uncovered"
            );
            for ((file, level), c) in &cov {
                println!(
                    "{:<14} {:<12} {:>6} {:>7} {:>6} {:>6} {:>10}",
                    file, level, c.total, c.by_model, c.by_test, c.by_both, c.uncovered
                );
            }
            let covered = selected.len() - uncovered.len();
            println!(
                "\n{covered} of {} requirements covered by a model property or a test",
                selected.len()
            );
            if args.uncovered {
                println!("\nuncovered:");
                for r in &uncovered {
                    println!(
                        "  {:<16} {:<11} §{:<8} {}{}",
                        r.id,
                        r.level,
                        r.section,
                        r.summary,
                        r.reason
                            .as_deref()
                            .map(|x| format!("  [{}: {x}]", r.status))
                            .unwrap_or_default()
                    );
                }
            }
        }
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(id: &str, covered: &[&str], status: &str) -> Requirement {
        Requirement {
            id: id.into(),
            draft: "d".into(),
            revision: "01".into(),
            section: "1".into(),
            level: "MUST".into(),
            summary: "s".into(),
            enforced_by: vec!["hub".into()],
            covered_by: covered.iter().map(|s| s.to_string()).collect(),
            status: status.into(),
            reason: (status != "covered").then(|| "r".into()),
            file: "f".into(),
        }
    }

    #[test]
    fn finds_test_functions_and_proptest_cases() {
        let src = "#[test]\nfn a() {}\nfn helper() {}\nproptest! {\n  #[test]\n  fn b(x in 0..1) {}\n}\n#[tokio::test]\nasync fn c() {}\n";
        assert_eq!(test_fns(src), vec!["a", "b", "c"]);
    }

    #[test]
    fn dangling_references_are_reported() {
        let props: BTreeMap<String, Vec<String>> =
            [("P-X".to_string(), vec!["R-1".to_string()])].into();
        let tests = vec![("tests/wire_roundtrip.rs".to_string(), "rt".to_string())];
        let ok = vec![req("R-1", &["P-X", "wire_roundtrip::rt", "rt"], "covered")];
        assert!(validate(&ok, &props, &tests).is_empty());
        let unlisted = vec![req("R-1", &["rt"], "covered")];
        assert!(validate(&unlisted, &props, &tests)
            .iter()
            .any(|p| p.contains("R-1.covered_by does not list P-X")));
        let bad = vec![
            req("R-1", &["P-Y", "content::rt", "nope"], "covered"),
            req("R-1", &[], "covered"),
            req("R-2", &[], "partial"),
        ];
        let problems = validate(&bad, &props, &tests);
        assert!(problems.iter().any(|p| p.contains("unknown property P-Y")));
        assert!(problems
            .iter()
            .any(|p| p.contains("unknown test content::rt")));
        assert!(problems.iter().any(|p| p.contains("unknown test nope")));
        assert!(problems.iter().any(|p| p.contains("duplicate id")));
        assert!(problems.iter().any(|p| p.contains("covered_by is empty")));
        let orphan: BTreeMap<String, Vec<String>> =
            [("P-Z".to_string(), vec!["R-9".to_string()])].into();
        assert!(validate(&ok, &orphan, &tests)
            .iter()
            .any(|p| p.contains("P-Z cites R-9")));
    }

    #[test]
    fn coverage_counts_model_and_tests_separately() {
        let reqs = vec![
            req("A", &["P-X"], "covered"),
            req("B", &["t"], "covered"),
            req("C", &["P-X", "t"], "covered"),
            req("D", &[], "not-modelled"),
        ];
        let c = &coverage(&reqs)[&("f".to_string(), "MUST".to_string())];
        assert_eq!(
            (c.total, c.by_model, c.by_test, c.by_both, c.uncovered),
            (4, 2, 2, 1, 1)
        );
    }
}
