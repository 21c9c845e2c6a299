//! The `check` and `explore` entry points (called by the root binary `mimi-ref`).

use crate::config::{Config, EMBEDDED, OPERATIONS};
use crate::model::MimiModel;
use crate::msc::{chart, mermaid, MscLine};
use crate::mutations::{mutation_catalogue, Mutation};
use crate::properties::{applies, property_catalogue, Kind};
use crate::variants::variant_catalogue;
use stateright::{Checker, Model, UniformChooser};
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Search strategy.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Breadth-first (shortest counterexamples when single-threaded).
    Bfs,
    /// Depth-first.
    Dfs,
    /// Random simulation (bounded by --timeout).
    Simulation,
}

/// Output format.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Human-readable table and charts.
    Text,
    /// One JSON document.
    Json,
}

/// Flags of `mimi-ref check`.
#[derive(clap::Args, Debug, Clone)]
pub struct CheckArgs {
    /// Configuration: an embedded name (small, default, …) or a path to a TOML file.
    #[arg(long, default_value = "default")]
    pub config: String,
    /// Variant switch NAME=VALUE (repeatable); see --list-variants.
    #[arg(long = "variant", value_name = "NAME=VALUE")]
    pub variants: Vec<String>,
    /// Mutation to apply; see --list-mutations.
    #[arg(long)]
    pub mutation: Option<String>,
    /// Property id to check (repeatable; default all that apply).
    #[arg(long = "property", value_name = "ID")]
    pub properties: Vec<String>,
    /// Search strategy.
    #[arg(long, value_enum, default_value = "bfs")]
    pub strategy: Strategy,
    /// Seed for the simulation strategy.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Checker threads (default: available cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Time limit in seconds (default: none for bfs/dfs, 10 for simulation).
    #[arg(long)]
    pub timeout: Option<u64>,
    /// Symmetry reduction over interchangeable clients of one user (stateright applies it
    /// with --strategy dfs or simulation; bfs ignores it).
    #[arg(long)]
    pub symmetry: bool,
    /// List properties and exit.
    #[arg(long)]
    pub list_properties: bool,
    /// List variants and exit.
    #[arg(long)]
    pub list_variants: bool,
    /// List mutations and exit.
    #[arg(long)]
    pub list_mutations: bool,
    /// List configurations and exit.
    #[arg(long)]
    pub list_configs: bool,
}

/// Flags of `mimi-ref explore`.
#[derive(clap::Args, Debug, Clone)]
pub struct ExploreArgs {
    /// Configuration: an embedded name or a path to a TOML file.
    #[arg(long, default_value = "default")]
    pub config: String,
    /// Loopback address to serve the Explorer on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub addr: String,
    /// Variant switch NAME=VALUE (repeatable).
    #[arg(long = "variant", value_name = "NAME=VALUE")]
    pub variants: Vec<String>,
    /// Mutation to apply.
    #[arg(long)]
    pub mutation: Option<String>,
}

/// Verdict of one property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// No counterexample (exhaustive) / none found (simulation).
    Holds,
    /// Counterexample found.
    Violated,
    /// Sometimes-property reached.
    Witnessed,
    /// Sometimes-property not reached.
    NotWitnessed,
    /// A violation declared by the configuration.
    ExpectedViolation,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Violated => "violated",
            Verdict::Witnessed => "witnessed",
            Verdict::NotWitnessed => "not-witnessed",
            Verdict::ExpectedViolation => "expected-violation",
        }
    }
}

/// Result for one property.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PropertyResult {
    /// Id.
    pub id: String,
    /// Kind.
    pub kind: Kind,
    /// Verdict.
    pub verdict: Verdict,
    /// Shortest counterexample found (violations), as chart lines.
    pub counterexample: Vec<MscLine>,
    /// Mermaid rendering of the counterexample (empty when none).
    pub mermaid: String,
}

/// Result of one checker run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CheckReport {
    /// Config name.
    pub config: String,
    /// Variant values.
    pub variants: std::collections::BTreeMap<String, String>,
    /// Mutation, if any.
    pub mutation: Option<String>,
    /// Strategy.
    pub strategy: String,
    /// Properties.
    pub properties: Vec<PropertyResult>,
    /// States generated.
    pub states: usize,
    /// Unique states.
    pub unique_states: usize,
    /// Max depth.
    pub max_depth: usize,
    /// Seconds.
    pub seconds: f64,
    /// Whether the search covered the whole bounded state space.
    pub exhaustive: bool,
}

impl CheckReport {
    /// Whether some property failed that the configuration did not declare as expected.
    pub fn failed(&self) -> bool {
        self.properties.iter().any(|p| match p.verdict {
            Verdict::Violated => true,
            Verdict::NotWitnessed => self.exhaustive,
            _ => false,
        })
    }
    /// Verdict of a property.
    pub fn verdict(&self, id: &str) -> Option<Verdict> {
        self.properties
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.verdict)
    }
}

/// Errors of the CLI (typed, never panics on user input).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Configuration problem.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Bad --variant.
    #[error("--variant {0}: {1}")]
    Variant(String, String),
    /// Bad --mutation.
    #[error("--mutation {0}: unknown mutation (see --list-mutations)")]
    Mutation(String),
    /// Bad --property.
    #[error(
        "--property {0}: unknown or not applicable to this configuration (see --list-properties)"
    )]
    Property(String),
    /// Bad --addr.
    #[error("--addr {0}: {1}")]
    Addr(String, String),
}

/// Loads a configuration and applies --variant/--mutation overrides.
pub fn prepare(
    config: &str,
    variants: &[String],
    mutation: &Option<String>,
) -> Result<Config, CliError> {
    let mut cfg = Config::load(config)?;
    for v in variants {
        let (k, val) = v
            .split_once('=')
            .ok_or_else(|| CliError::Variant(v.clone(), "expected NAME=VALUE".into()))?;
        cfg.variants
            .set(k, val)
            .map_err(|e| CliError::Variant(v.clone(), e))?;
    }
    if let Some(m) = mutation {
        cfg.mutation = Some(Mutation::from_name(m).ok_or_else(|| CliError::Mutation(m.clone()))?);
    }
    Ok(cfg)
}

/// Runs the checker on a prepared configuration (library entry used by tests).
pub fn check(
    cfg: Config,
    selected: &[String],
    strategy: Strategy,
    seed: u64,
    threads: usize,
    timeout: Option<Duration>,
    progress: bool,
) -> Result<CheckReport, CliError> {
    check_with(
        cfg, selected, strategy, seed, threads, timeout, progress, false,
    )
}

/// [`check`] with the symmetry switch (applied by the dfs and simulation strategies).
#[allow(clippy::too_many_arguments)]
pub fn check_with(
    cfg: Config,
    selected: &[String],
    strategy: Strategy,
    seed: u64,
    threads: usize,
    timeout: Option<Duration>,
    progress: bool,
    symmetry: bool,
) -> Result<CheckReport, CliError> {
    for p in selected {
        if !applies(&cfg, p) {
            return Err(CliError::Property(p.clone()));
        }
    }
    let name = cfg.raw.name.clone();
    let variants = cfg
        .variants
        .values()
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let mutation = cfg.mutation.map(|m| m.info().name.to_string());
    let expected = cfg.raw.expected_violations.clone();
    let mut cfg = cfg;
    cfg.prune_noop_actions = strategy == Strategy::Simulation;
    let model = MimiModel {
        cfg,
        selected: selected.to_vec(),
    };
    let props = model.properties();
    let start = Instant::now();
    let mut b = model.clone().checker().threads(threads.max(1));
    let timeout = timeout.or(if strategy == Strategy::Simulation {
        Some(Duration::from_secs(10))
    } else {
        None
    });
    if let Some(t) = timeout {
        b = b.timeout(t);
    }
    if symmetry {
        b = b.symmetry_fn(crate::model::representative);
    }
    let (states, unique, depth, disc, exhaustive) = match strategy {
        Strategy::Bfs => run(b.spawn_bfs(), start, progress, timeout),
        Strategy::Dfs => run(b.spawn_dfs(), start, progress, timeout),
        Strategy::Simulation => {
            let r = run(
                b.spawn_simulation(seed, UniformChooser),
                start,
                progress,
                timeout,
            );
            (r.0, r.1, r.2, r.3, false)
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let catalogue = property_catalogue();
    let mut results = Vec::new();
    for p in &props {
        let kind = catalogue
            .iter()
            .find(|i| i.id == p.name)
            .map(|i| i.kind)
            .unwrap_or(Kind::Always);
        let found = disc
            .iter()
            .find(|(n, _)| *n == p.name)
            .map(|(_, a)| a.clone());
        let verdict = match (kind, &found) {
            (Kind::Sometimes, Some(_)) => Verdict::Witnessed,
            (Kind::Sometimes, None) => Verdict::NotWitnessed,
            (_, None) => Verdict::Holds,
            (_, Some(_)) if expected.iter().any(|e| e == p.name) => Verdict::ExpectedViolation,
            (_, Some(_)) => Verdict::Violated,
        };
        let lines = match (kind, found) {
            (Kind::Sometimes, _) | (_, None) => Vec::new(),
            (_, Some(actions)) => chart(&model, &shortest_prefix(&model, p, &actions)),
        };
        let mm = if lines.is_empty() {
            String::new()
        } else {
            mermaid(&lines)
        };
        results.push(PropertyResult {
            id: p.name.to_string(),
            kind,
            verdict,
            counterexample: lines,
            mermaid: mm,
        });
    }
    Ok(CheckReport {
        config: name,
        variants,
        mutation,
        strategy: format!("{strategy:?}").to_lowercase(),
        properties: results,
        states,
        unique_states: unique,
        max_depth: depth,
        seconds,
        exhaustive,
    })
}

/// Cuts a counterexample path right after the first state that violates `p` (ghost
/// violation bits persist, so a discovered path may run past the violating step).
fn shortest_prefix(
    m: &MimiModel,
    p: &stateright::Property<MimiModel>,
    actions: &[crate::state::Action],
) -> Vec<crate::state::Action> {
    let mut s = m.init_states().remove(0);
    for (i, a) in actions.iter().enumerate() {
        match m.next_state(&s, a.clone()) {
            Some(n) => s = n,
            None => return actions.to_vec(),
        }
        if !(p.condition)(m, &s) {
            return actions[..=i].to_vec();
        }
    }
    actions.to_vec()
}

type Disc = Vec<(&'static str, Vec<crate::state::Action>)>;

fn run<C: Checker<MimiModel>>(
    c: C,
    start: Instant,
    progress: bool,
    timeout: Option<Duration>,
) -> (usize, usize, usize, Disc, bool) {
    let mut last = Instant::now();
    while !c.is_done() {
        std::thread::sleep(Duration::from_millis(50));
        if progress
            && start.elapsed() > Duration::from_secs(1)
            && last.elapsed() >= Duration::from_secs(1)
        {
            last = Instant::now();
            eprint!(
                "\rchecking… states={} unique={} depth={} {:.1}s   ",
                c.state_count(),
                c.unique_state_count(),
                c.max_depth(),
                start.elapsed().as_secs_f64()
            );
        }
    }
    if progress && start.elapsed() > Duration::from_secs(1) {
        eprintln!();
    }
    let c = c.join();
    let timed_out = timeout.is_some_and(|t| start.elapsed() >= t);
    let disc = c
        .discoveries()
        .into_iter()
        .map(|(n, p)| (n, p.into_actions()))
        .collect();
    (
        c.state_count(),
        c.unique_state_count(),
        c.max_depth(),
        disc,
        !timed_out,
    )
}

fn print_lists(args: &CheckArgs, out: &mut impl Write) -> std::io::Result<()> {
    if args.list_properties {
        for p in property_catalogue() {
            writeln!(
                out,
                "{:<28} {:<10} {} [{}] ({})",
                p.id,
                format!("{:?}", p.kind).to_lowercase(),
                p.description,
                p.requirements.join(", "),
                p.sections.join("; ")
            )?;
        }
    }
    if args.list_variants {
        for v in variant_catalogue() {
            writeln!(
                out,
                "{:<28} {:<28} {} ({})",
                v.name,
                v.values.join("|"),
                v.description,
                v.section
            )?;
        }
    }
    if args.list_mutations {
        for (_, i) in mutation_catalogue() {
            let v: Vec<String> = i.variants.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let with = if v.is_empty() {
                String::new()
            } else {
                format!(" with {}", v.join(","))
            };
            writeln!(
                out,
                "{:<34} {} -> {} on `{}`{} ({})",
                i.name, i.description, i.property, i.config, with, i.section
            )?;
        }
    }
    if args.list_configs {
        for (n, _) in EMBEDDED {
            match Config::load(n) {
                Ok(c) => writeln!(
                    out,
                    "{:<14} {} ({} room{}, {} providers, {} users, {} clients; protocol-06 §3, §4)",
                    n,
                    c.raw.description,
                    c.raw.rooms,
                    if c.raw.rooms == 1 { "" } else { "s" },
                    c.n_providers(),
                    c.n_users(),
                    c.n_clients()
                )?,
                Err(e) => writeln!(out, "{n:<14} ERROR {e}")?,
            }
        }
        writeln!(out, "operations:")?;
        for (o, d, s) in OPERATIONS {
            writeln!(out, "  {o:<14} {d} ({s})")?;
        }
    }
    Ok(())
}

/// Renders a report as text.
pub fn render_text(r: &CheckReport) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "config: {}  strategy: {}  mutation: {}\n",
        r.config,
        r.strategy,
        r.mutation.as_deref().unwrap_or("none")
    ));
    s.push_str(&format!(
        "variants: {}\n\n",
        r.variants
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    s.push_str(&format!(
        "{:<28} {:<10} {:<19} {:>12} {:>12} {:>6} {:>8}\n",
        "property", "kind", "verdict", "states", "unique", "depth", "seconds"
    ));
    for p in &r.properties {
        s.push_str(&format!(
            "{:<28} {:<10} {:<19} {:>12} {:>12} {:>6} {:>8.2}\n",
            p.id,
            format!("{:?}", p.kind).to_lowercase(),
            p.verdict.as_str(),
            r.states,
            r.unique_states,
            r.max_depth,
            r.seconds
        ));
    }
    s.push_str("(all properties are checked in one pass; states/unique/depth/seconds are those of the pass)\n");
    let rate = if r.seconds > 0.0 {
        r.unique_states as f64 / r.seconds
    } else {
        0.0
    };
    s.push_str(&format!(
        "unique states/sec: {:.0}{}\n",
        rate,
        if r.exhaustive {
            ""
        } else {
            " (search not exhaustive)"
        }
    ));
    for p in &r.properties {
        if p.counterexample.is_empty() {
            continue;
        }
        s.push_str(&format!(
            "\n== {} {}: counterexample ({} messages)\n",
            p.id,
            p.verdict.as_str(),
            p.counterexample.len()
        ));
        for (i, l) in p.counterexample.iter().enumerate() {
            s.push_str(&format!("{:>3}. {}\n", i + 1, l.text()));
        }
        s.push_str("\n```mermaid\n");
        s.push_str(&p.mermaid);
        s.push_str("```\n");
    }
    s
}

/// `mimi-ref check`.
pub fn run_check(args: &CheckArgs) -> ExitCode {
    let mut stdout = std::io::stdout();
    if args.list_properties || args.list_variants || args.list_mutations || args.list_configs {
        return match print_lists(args, &mut stdout) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::from(2),
        };
    }
    let cfg = match prepare(&args.config, &args.variants, &args.mutation) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let report = match check_with(
        cfg,
        &args.properties,
        args.strategy,
        args.seed,
        threads,
        args.timeout.map(Duration::from_secs),
        true,
        args.symmetry,
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let text = match args.format {
        Format::Text => render_text(&report),
        Format::Json => match serde_json::to_string_pretty(&report) {
            Ok(j) => j + "\n",
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let _ = stdout.write_all(text.as_bytes());
    if report.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `mimi-ref explore`: serves stateright's Explorer on a loopback address (blocks).
pub fn run_explore(args: &ExploreArgs) -> ExitCode {
    let cfg = match prepare(&args.config, &args.variants, &args.mutation) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match crate::explorer::serve(cfg, &args.addr) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
