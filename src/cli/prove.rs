//! `mimi-ref prove`: re-run the proof obligations in `proofs/*.toml` and record their results.
//!
//! An obligation is data: a model configuration (embedded name or path), variant
//! switches, an optional mutation, the properties to check (empty = every property
//! that applies), the search strategy and bound, and the expected verdict —
//! `holds` (no property fails) or `violated` with the properties that must be
//! violated. `prove` runs each one, writes `proofs/RESULTS.md` and one
//! counterexample file per violation under `proofs/counterexamples/`, and exits
//! non-zero when any verdict differs from its expectation.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use mimi_model::cli::{check, prepare, CheckReport, Strategy, Verdict};
use serde::Deserialize;

/// Arguments of `mimi-ref prove`.
#[derive(clap::Args, Debug)]
pub struct ProveArgs {
    /// Obligation files (default: every `proofs/*.toml`).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Only the obligations marked `quick = true` (what CI runs).
    #[arg(long)]
    pub quick: bool,
    /// Where to write the results table (default: `proofs/RESULTS.md`).
    #[arg(long, value_name = "PATH")]
    pub results: Option<PathBuf>,
    /// Do not write any file; only print and compare verdicts.
    #[arg(long)]
    pub no_write: bool,
    /// Checker threads (default: available cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// The repository root (holding `proofs/`).
    #[arg(long, value_name = "DIR", default_value = env!("CARGO_MANIFEST_DIR"))]
    pub root: PathBuf,
}

/// One proof-obligation file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ObligationFile {
    #[serde(rename = "obligation")]
    obligations: Vec<Obligation>,
}

/// What an obligation expects.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum Expect {
    /// No property fails (safety holds, every witness reached).
    Holds,
    /// Exactly the properties in `violated` are violated.
    Violated,
}

/// One proof obligation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Obligation {
    /// Unique name (used for counterexample file names).
    name: String,
    /// What it establishes, in one sentence.
    description: String,
    /// Embedded configuration name or a path relative to the repository root.
    config: String,
    /// `NAME=VALUE` variant switches.
    #[serde(default)]
    variants: Vec<String>,
    /// A model mutation (a deliberately wrong rule).
    #[serde(default)]
    mutation: Option<String>,
    /// Property ids (empty: every property that applies).
    #[serde(default)]
    properties: Vec<String>,
    /// bfs, dfs or simulation.
    #[serde(default = "default_strategy")]
    strategy: String,
    /// Seed for simulation.
    #[serde(default)]
    seed: u64,
    /// Time bound in seconds (exhaustive runs normally need none).
    #[serde(default)]
    timeout_seconds: Option<u64>,
    /// Run in CI.
    #[serde(default)]
    quick: bool,
    /// Expected verdict.
    expect: Expect,
    /// With `expect = "violated"`: the properties that must be violated.
    #[serde(default)]
    violated: Vec<String>,
}

fn default_strategy() -> String {
    "bfs".into()
}

/// The outcome of one obligation.
struct Outcome {
    ob: Obligation,
    file: String,
    report: Result<CheckReport, String>,
    matches: bool,
    why: String,
}

fn strategy(s: &str) -> Result<Strategy, String> {
    match s {
        "bfs" => Ok(Strategy::Bfs),
        "dfs" => Ok(Strategy::Dfs),
        "simulation" => Ok(Strategy::Simulation),
        other => Err(format!("unknown strategy {other:?} (bfs, dfs, simulation)")),
    }
}

fn load(files: &[PathBuf]) -> Result<Vec<(String, Obligation)>, String> {
    let mut out = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        let parsed: ObligationFile =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", f.display()))?;
        let stem = f
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        for ob in parsed.obligations {
            if ob.expect == Expect::Violated && ob.violated.is_empty() {
                return Err(format!(
                    "{}: obligation {} expects a violation but names no property",
                    f.display(),
                    ob.name
                ));
            }
            if out
                .iter()
                .any(|(_, o): &(String, Obligation)| o.name == ob.name)
            {
                return Err(format!("duplicate obligation name {}", ob.name));
            }
            out.push((stem.clone(), ob));
        }
    }
    Ok(out)
}

/// Compare a report with its obligation's expectation.
fn judge(ob: &Obligation, r: &CheckReport) -> (bool, String) {
    let violated: Vec<&str> = r
        .properties
        .iter()
        .filter(|p| matches!(p.verdict, Verdict::Violated | Verdict::ExpectedViolation))
        .map(|p| p.id.as_str())
        .collect();
    let unwitnessed: Vec<&str> = r
        .properties
        .iter()
        .filter(|p| p.verdict == Verdict::NotWitnessed)
        .map(|p| p.id.as_str())
        .collect();
    match ob.expect {
        Expect::Holds => {
            if !violated.is_empty() {
                (false, format!("violated: {}", violated.join(", ")))
            } else if r.exhaustive && !unwitnessed.is_empty() {
                (false, format!("not witnessed: {}", unwitnessed.join(", ")))
            } else {
                (true, "holds".into())
            }
        }
        Expect::Violated => {
            let missing: Vec<&str> = ob
                .violated
                .iter()
                .map(String::as_str)
                .filter(|p| !violated.contains(p))
                .collect();
            let extra: Vec<&str> = violated
                .iter()
                .copied()
                .filter(|p| !ob.violated.iter().any(|v| v == p))
                .collect();
            if missing.is_empty() && extra.is_empty() {
                (
                    true,
                    format!("violated as expected: {}", violated.join(", ")),
                )
            } else {
                (
                    false,
                    format!(
                        "expected violated [{}], missing [{}], unexpected [{}]",
                        ob.violated.join(", "),
                        missing.join(", "),
                        extra.join(", ")
                    ),
                )
            }
        }
    }
}

fn run_one(root: &Path, ob: &Obligation, threads: usize) -> Result<CheckReport, String> {
    // A relative config path is relative to the repository root, not the cwd.
    let config = if ob.config.ends_with(".toml") {
        root.join(&ob.config).to_string_lossy().into_owned()
    } else {
        ob.config.clone()
    };
    let cfg = prepare(&config, &ob.variants, &ob.mutation).map_err(|e| e.to_string())?;
    check(
        cfg,
        &ob.properties,
        strategy(&ob.strategy)?,
        ob.seed,
        threads,
        ob.timeout_seconds.map(Duration::from_secs),
        false,
    )
    .map_err(|e| e.to_string())
}

fn counterexample_file(ob: &Obligation, file: &str, r: &CheckReport, prop: &str) -> Option<String> {
    let p = r.properties.iter().find(|p| p.id == prop)?;
    if p.counterexample.is_empty() {
        return None;
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Counterexample: {} in obligation `{}`\n",
        prop, ob.name
    );
    let _ = writeln!(s, "{}\n", ob.description);
    let _ = writeln!(
        s,
        "Configuration `{}`, variants [{}], mutation {}; strategy {}; verdict {:?}.\n",
        r.config,
        ob.variants.join(", "),
        ob.mutation.as_deref().unwrap_or("none"),
        r.strategy,
        p.verdict
    );
    let _ = writeln!(
        s,
        "Re-run: `mimi-ref prove proofs/{}` or `mimi-ref check --config {}{}{} --property {}`\n",
        file,
        ob.config,
        ob.variants
            .iter()
            .map(|v| format!(" --variant {v}"))
            .collect::<String>(),
        ob.mutation
            .as_deref()
            .map(|m| format!(" --mutation {m}"))
            .unwrap_or_default(),
        prop
    );
    let _ = writeln!(s, "## Message sequence\n\n```text");
    for (i, l) in p.counterexample.iter().enumerate() {
        let _ = writeln!(s, "{:>3}. {}", i + 1, l.text());
    }
    let _ = writeln!(s, "```\n\n```mermaid\n{}\n```", p.mermaid.trim_end());
    Some(s)
}

fn results_table(outcomes: &[Outcome], ce_links: &[(String, String, String)]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Proof obligations: recorded results\n");
    let _ = writeln!(
        s,
        "Generated by `mimi-ref prove` (do not edit by hand). Times are wall-clock seconds on the machine that ran it; states and verdicts are what must reproduce.\n"
    );
    let _ = writeln!(
        s,
        "| obligation | file | config | variants / mutation | properties | bound | states | unique | depth | seconds | expected | result |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---:|---:|---:|---:|---|---|");
    for o in outcomes {
        let ob = &o.ob;
        let vm = {
            let mut v = ob.variants.join(", ");
            if let Some(m) = &ob.mutation {
                if !v.is_empty() {
                    v.push_str("; ");
                }
                v.push_str("mutation ");
                v.push_str(m);
            }
            if v.is_empty() {
                "—".to_string()
            } else {
                v
            }
        };
        let props = if ob.properties.is_empty() {
            "all".to_string()
        } else {
            ob.properties.join(", ")
        };
        let bound = match ob.timeout_seconds {
            Some(t) => format!("{} ≤ {t}s", ob.strategy),
            None => format!("{} exhaustive", ob.strategy),
        };
        let expected = match ob.expect {
            Expect::Holds => "holds".to_string(),
            Expect::Violated => format!("violated: {}", ob.violated.join(", ")),
        };
        let links: Vec<String> = ce_links
            .iter()
            .filter(|(n, _, _)| n == &ob.name)
            .map(|(_, p, f)| format!("[{p}]({f})"))
            .collect();
        let result = if o.matches { "✔ " } else { "✘ " }.to_string()
            + &o.why
            + &if links.is_empty() {
                String::new()
            } else {
                format!(" — {}", links.join(" "))
            };
        match &o.report {
            Ok(r) => {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} | {} | {} |",
                    ob.name,
                    o.file,
                    ob.config,
                    vm,
                    props,
                    bound,
                    r.states,
                    r.unique_states,
                    r.max_depth,
                    r.seconds,
                    expected,
                    result
                );
            }
            Err(e) => {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} | {} | – | – | – | – | {} | ✘ error: {} |",
                    ob.name, o.file, ob.config, vm, props, bound, expected, e
                );
            }
        }
    }
    s
}

/// Run `mimi-ref prove`.
pub fn run(args: &ProveArgs) -> ExitCode {
    let proofs = args.root.join("proofs");
    let files = if args.files.is_empty() {
        let mut v: Vec<PathBuf> = match std::fs::read_dir(&proofs) {
            Ok(d) => d
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect(),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", proofs.display());
                return ExitCode::FAILURE;
            }
        };
        v.sort();
        v
    } else {
        args.files.clone()
    };
    let obligations = match load(&files) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let mut outcomes = Vec::new();
    for (file, ob) in obligations {
        if args.quick && !ob.quick {
            continue;
        }
        eprintln!("prove {} ({}) …", ob.name, ob.description);
        let report = run_one(&args.root, &ob, threads);
        let (matches, why) = match &report {
            Ok(r) => judge(&ob, r),
            Err(e) => (false, format!("error: {e}")),
        };
        eprintln!("  {} {}", if matches { "ok  " } else { "FAIL" }, why);
        outcomes.push(Outcome {
            ob,
            file,
            report,
            matches,
            why,
        });
    }
    if outcomes.is_empty() {
        eprintln!("error: no obligations selected");
        return ExitCode::FAILURE;
    }
    let mut links = Vec::new();
    if !args.no_write {
        let ce_dir = proofs.join("counterexamples");
        for o in &outcomes {
            let Ok(r) = &o.report else { continue };
            for p in &r.properties {
                if !matches!(p.verdict, Verdict::Violated | Verdict::ExpectedViolation) {
                    continue;
                }
                if let Some(text) = counterexample_file(&o.ob, &o.file, r, &p.id) {
                    let name = format!("{}--{}.md", o.ob.name, p.id);
                    if let Err(e) = std::fs::create_dir_all(&ce_dir)
                        .and_then(|_| std::fs::write(ce_dir.join(&name), text))
                    {
                        eprintln!("error: cannot write counterexample {name}: {e}");
                        return ExitCode::FAILURE;
                    }
                    links.push((
                        o.ob.name.clone(),
                        p.id.clone(),
                        format!("counterexamples/{name}"),
                    ));
                }
            }
        }
        let path = args
            .results
            .clone()
            .unwrap_or_else(|| proofs.join("RESULTS.md"));
        if let Err(e) = std::fs::write(&path, results_table(&outcomes, &links)) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        eprintln!("wrote {}", path.display());
    } else {
        print!("{}", results_table(&outcomes, &links));
    }
    let failed = outcomes.iter().filter(|o| !o.matches).count();
    println!(
        "{} obligation(s): {} as expected, {} differ",
        outcomes.len(),
        outcomes.len() - failed,
        failed
    );
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
