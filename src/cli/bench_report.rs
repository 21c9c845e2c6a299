//! `mimi-ref bench-report`: collect criterion's estimates into `benches/RESULTS.md` and SVG
//! plots (issue 8).
//!
//! Reads every `<criterion dir>/**/new/benchmark.json` + `new/estimates.json` pair, pairs
//! each subject with the baselines measured in the same group for the same input (a
//! baseline's function id starts with `baseline`), and writes:
//! * `RESULTS.md`: the run's date and machine, then one table per benchmark group with the
//!   subject's time, the baseline's time and their ratio (for throughput in elements, e.g.
//!   model states, the ratio of rates instead), plus the model scaling table when the model
//!   bench left one (`model-scaling/table.json`);
//! * `hub-cost.svg` / `hub-overhead.svg`: the hub's whole `/update` path (`hub-update-*`
//!   groups) vs raw openmls: time vs members, and the ratio with the 15 % target line;
//! * `room-cost.svg` / `room-overhead.svg`: the same for `PublicRoom` alone (`room-*`);
//! * `model-scaling.svg`: unique model states vs each bound;
//! * the HTTPS submit-to-delivery latency table (p50/p90/p99/max, HTTPS vs the sans-IO
//!   baseline, ratio of p50s and p99s) when the https bench left one
//!   (`https-latency/table.json`), in RESULTS.md and its headlines.
//!
//! Input files are untrusted: a missing or malformed file is a typed [`ReportError`]
//! naming the file, never a panic. Benchmarks whose files are unreadable are reported as
//! errors, not skipped.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use plotters::prelude::*;
use serde::Deserialize;

/// Flags of `mimi-ref bench-report`.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchReportArgs {
    /// Criterion's output folder (default: `$CRITERION_HOME`, else
    /// `$CARGO_TARGET_DIR/criterion`, else `target/criterion`).
    #[arg(long)]
    pub criterion: Option<PathBuf>,
    /// Where to write RESULTS.md and the SVG plots.
    #[arg(long, default_value = "benches")]
    pub out: PathBuf,
    /// A remark on the run for RESULTS.md (e.g. that the machine was shared); repeatable.
    #[arg(long)]
    pub note: Vec<String>,
}

/// Why the report could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A criterion file is not the JSON we expect.
    #[error("{path}: not a criterion {what} file: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// Which kind of file (`benchmark.json`, `estimates.json`, scaling table).
        what: &'static str,
        /// The parse error.
        source: serde_json::Error,
    },
    /// No benchmark results at all.
    #[error("no criterion results under {0} (run `cargo bench` first)")]
    Empty(PathBuf),
    /// A plot could not be drawn.
    #[error("plot {path}: {reason}")]
    Plot {
        /// The SVG file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// `new/benchmark.json` (the fields we read).
#[derive(Debug, Clone, Deserialize)]
struct BenchmarkFile {
    group_id: String,
    function_id: Option<String>,
    value_str: Option<String>,
    throughput: Option<BTreeMap<String, u64>>,
}

/// One estimate of `new/estimates.json`.
#[derive(Debug, Clone, Copy, Deserialize)]
struct Estimate {
    point_estimate: f64,
    standard_error: f64,
}

/// `new/estimates.json` (the fields we read).
#[derive(Debug, Clone, Deserialize)]
struct EstimatesFile {
    mean: Estimate,
    slope: Option<Estimate>,
}

/// One measured benchmark.
#[derive(Debug, Clone)]
struct Measured {
    group: String,
    function: String,
    value: String,
    /// Criterion's typical time per iteration (slope if linear sampling, else mean), ns.
    ns: f64,
    /// Its standard error, ns.
    se: f64,
    /// Elements per iteration, when the throughput is in elements.
    elements: Option<u64>,
    /// When the estimate was written.
    modified: Option<SystemTime>,
}

impl Measured {
    fn is_baseline(&self) -> bool {
        self.function.starts_with("baseline")
    }
    fn rate(&self) -> Option<f64> {
        self.elements.map(|e| e as f64 / (self.ns * 1e-9))
    }
}

/// A row of the model bench's scaling table.
#[derive(Debug, Clone, Deserialize)]
struct ScalingRow {
    dimension: String,
    value: u32,
    description: String,
    unique_states: usize,
    max_depth: usize,
    seconds: f64,
    exhaustive: bool,
}

/// A row of the https bench's latency table (`https-latency/table.json`): one variant
/// (`sequential`, `burst-N`) on one path (`https`, or a `baseline…`), in microseconds.
#[derive(Debug, Clone, Deserialize)]
struct LatencyRow {
    variant: String,
    path: String,
    messages: usize,
    samples: usize,
    p50_us: f64,
    p90_us: f64,
    p99_us: f64,
    max_us: f64,
}

fn fmt_us(us: f64) -> String {
    fmt_ns(us * 1e3)
}

/// The latency table: per variant, each subject row beside each baseline row of the same
/// variant, with the ratios of their p50s and p99s (subject / baseline).
fn write_latency(md: &mut String, rows: &[LatencyRow], heading: &str) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "{heading} HTTPS submit-to-delivery latency\n\n\
         Per message and recipient, from just before the sender's `/submitMessage` to the \
         moment the other member's client has processed it (delivery hook, not polled), \
         over loopback mutual-TLS HTTPS vs the same requests in the sans-IO `sim` world \
         (same run). Ratio = HTTPS / baseline.\n\n\
         | variant | path | messages | samples | p50 | p90 | p99 | max | p50 ratio | p99 ratio |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let mut variants: Vec<&str> = rows.iter().map(|r| r.variant.as_str()).collect();
    variants.dedup();
    for v in variants {
        let of: Vec<&LatencyRow> = rows.iter().filter(|r| r.variant == v).collect();
        let base = of.iter().find(|r| r.path.starts_with("baseline"));
        for r in &of {
            let (p50r, p99r) = match base {
                Some(b) if !r.path.starts_with("baseline") && b.p50_us > 0.0 && b.p99_us > 0.0 => (
                    fmt_ratio(r.p50_us / b.p50_us),
                    fmt_ratio(r.p99_us / b.p99_us),
                ),
                _ => ("—".to_string(), "—".to_string()),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {p50r} | {p99r} |",
                r.variant,
                r.path,
                r.messages,
                r.samples,
                fmt_us(r.p50_us),
                fmt_us(r.p90_us),
                fmt_us(r.p99_us),
                fmt_us(r.max_us),
            );
        }
    }
    let _ = writeln!(md);
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(
    path: &Path,
    what: &'static str,
) -> Result<T, ReportError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    serde_json::from_str(&text).map_err(|source| ReportError::Json {
        path: path.to_path_buf(),
        what,
        source,
    })
}

/// Every `new/` folder below `dir` (criterion's layout: `<group>/<function>/<value>/new`).
fn find_new_dirs(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ReportError> {
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            if path.join("benchmark.json").is_file() {
                out.push(path);
            }
        } else if path
            .file_name()
            .is_some_and(|n| n != "report" && n != "base")
        {
            find_new_dirs(&path, out)?;
        }
    }
    Ok(())
}

fn load(dir: &Path) -> Result<Vec<Measured>, ReportError> {
    let mut dirs = Vec::new();
    find_new_dirs(dir, &mut dirs)?;
    let mut v = Vec::new();
    for d in dirs {
        let bpath = d.join("benchmark.json");
        let epath = d.join("estimates.json");
        let b: BenchmarkFile = read_json(&bpath, "benchmark.json")?;
        let e: EstimatesFile = read_json(&epath, "estimates.json")?;
        let typical = e.slope.unwrap_or(e.mean);
        let modified = std::fs::metadata(&epath).and_then(|m| m.modified()).ok();
        v.push(Measured {
            group: b.group_id,
            function: b.function_id.unwrap_or_default(),
            value: b.value_str.unwrap_or_default(),
            ns: typical.point_estimate,
            se: typical.standard_error,
            elements: b.throughput.and_then(|t| t.get("Elements").copied()),
            modified,
        });
    }
    if v.is_empty() {
        return Err(ReportError::Empty(dir.to_path_buf()));
    }
    v.sort_by(|a, b| {
        (&a.group, natural_key(&a.value), &a.function).cmp(&(
            &b.group,
            natural_key(&b.value),
            &b.function,
        ))
    });
    Ok(v)
}

/// Sort key that orders `2 < 10 < 100` and `n=10 < n=100` inside labels.
fn natural_key(s: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut num: Option<u64> = None;
    for ch in s.chars() {
        match (ch.to_digit(10), num) {
            (Some(d), Some(n)) => num = Some(n.saturating_mul(10).saturating_add(u64::from(d))),
            (Some(d), None) => num = Some(u64::from(d)),
            (None, Some(n)) => {
                out.push((std::mem::take(&mut text), n));
                num = None;
                text.push(ch);
            }
            (None, None) => text.push(ch),
        }
    }
    out.push((text, num.unwrap_or(0)));
    out
}

/// A duration in ns, human-readable.
fn fmt_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.3} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// A ratio with enough digits to be readable at any magnitude.
fn fmt_ratio(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}")
    } else if r >= 1.0 {
        format!("{r:.2}")
    } else if r >= 0.01 {
        format!("{r:.3}")
    } else {
        format!("{r:.1e}")
    }
}

/// Section order: hub, room, its breakdown, fanout, model, equivalence, policy, codec,
/// anything else.
fn group_rank(group: &str) -> (u8, &str) {
    let rank = if group.starts_with("hub-update-") {
        0
    } else if group == "room-parts" {
        2
    } else if group.starts_with("room-") {
        1
    } else if group.starts_with("fanout-") {
        3
    } else if group.starts_with("model-") {
        4
    } else if group.starts_with("equivalence") {
        5
    } else if group == "https" {
        6
    } else if group.starts_with("policy-") {
        7
    } else if group.starts_with("codec-") {
        8
    } else {
        9
    };
    (rank, group)
}

/// Whether a group compares `PublicRoom`'s commit path with openmls (not the breakdown).
fn is_room_comparison(group: &str) -> bool {
    group.starts_with("room-") && group != "room-parts"
}

/// Whether a group compares the hub's whole `/update` path with openmls.
fn is_hub_comparison(group: &str) -> bool {
    group.starts_with("hub-update-")
}

/// What a group's throughput elements are (plural noun).
fn element_noun(group: &str) -> &'static str {
    if group.starts_with("model-") {
        "states"
    } else if group.starts_with("fanout-") {
        "messages"
    } else if group.starts_with("equivalence") {
        "cases"
    } else if group == "https" {
        "messages"
    } else {
        "elements"
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn fmt_time(t: SystemTime) -> String {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => {
            let secs = d.as_secs() as i64;
            let (y, m, day) = civil(secs.div_euclid(86_400));
            let s = secs.rem_euclid(86_400);
            format!(
                "{y:04}-{m:02}-{day:02} {:02}:{:02}:{:02} UTC",
                s / 3600,
                (s / 60) % 60,
                s % 60
            )
        }
        Err(_) => "unknown".into(),
    }
}

/// `uname -a`, core count and CPU model.
fn machine() -> Vec<(String, String)> {
    let uname = std::process::Command::new("uname")
        .arg("-a")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal"))
                .map(|l| l.trim_start_matches("MemTotal:").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    vec![
        ("uname -a".into(), uname),
        ("cores (nproc)".into(), cores),
        ("CPU".into(), model),
        ("memory".into(), mem),
    ]
}

/// A subject measured against a baseline of the same group and input.
struct Pair<'a> {
    subject: &'a Measured,
    baseline: &'a Measured,
}

impl Pair<'_> {
    /// Rate ratio when both count elements (higher is better), else time ratio.
    fn ratio(&self) -> (f64, &'static str) {
        match (self.subject.rate(), self.baseline.rate()) {
            (Some(s), Some(b)) if b > 0.0 => (s / b, "rate"),
            _ => (self.subject.ns / self.baseline.ns, "time"),
        }
    }
}

fn pairs(all: &[Measured]) -> BTreeMap<String, Vec<Pair<'_>>> {
    let mut out: BTreeMap<String, Vec<Pair<'_>>> = BTreeMap::new();
    for s in all.iter().filter(|m| !m.is_baseline()) {
        for b in all
            .iter()
            .filter(|b| b.is_baseline() && b.group == s.group && b.value == s.value)
        {
            out.entry(s.group.clone()).or_default().push(Pair {
                subject: s,
                baseline: b,
            });
        }
    }
    out
}

const ROOM_TARGET: f64 = 1.15;
/// Issue 8: the application-message path reaches at least half the baseline's rate.
const FANOUT_TARGET: f64 = 0.5;

/// What a group measures (one paragraph under its heading), for the groups the suite has.
fn group_note(group: &str) -> Option<&'static str> {
    let note = match group {
        g if g.starts_with("hub-update-") => {
            "`Hub::handle` of one `/update` — `UpdateRequest` decode (its MLS objects, the \
             ratchet tree included, parsed by openmls), sender-blocked check, `PublicRoom` \
             validation under the MIMI component logic (participant list and room policy \
             through `policy::authorize_commit`), GroupInfo check, Welcome check, one \
             `FanoutMessages` encoded for five follower providers — vs raw openmls \
             `process_message` + merge of the same commit bytes; input = members before the \
             commit (`participant-list`: a role change in the participant list)."
        }
        g if g.starts_with("room-parts") => {
            "Steps `PublicRoom` adds to openmls for one self-update commit, each timed alone \
             against the same raw-openmls baseline (the ratio is the step's cost as a \
             fraction of openmls's whole commit processing): `groupinfo-check` is \
             `PublicRoom::verify_group_info` of the committer's GroupInfo against the merged \
             room (signer leaf, signature, tree hash, GroupContext and confirmation-tag \
             bytes; no group is rebuilt), `storage-snapshot` the clone of the room's \
             storage taken for rollback."
        }
        g if g.starts_with("room-") => {
            "`PublicRoom::process_handshake` (decode, epoch/group checks, openmls \
             validation, component logic, queued-proposal rule, GroupInfo check against the \
             merged state, transactional snapshot) vs raw openmls `process_message` + merge \
             of the same commit bytes; input = members before the commit."
        }
        g if g.starts_with("policy-") => {
            "`policy::authorize_commit` vs a black-boxed no-op of the same inputs; input = \
             roles list, participant count and the decision reached (a denied commit stops at \
             its first failing rule)."
        }
        "codec-wire" => {
            "Decode + re-encode of a protocol-06 struct (MLS objects inside are parsed by \
             openmls on decode) vs copying the same bytes."
        }
        "codec-content" => {
            "Content-08 decode (with all validity checks) + deterministic \
             re-encode vs copying the same bytes (`implied-original`: the derived-values \
             structure of `implied.cddl`)."
        }
        "codec-message-id" => {
            "Content-08 message id (URI-prefixed, salted SHA-256 over the \
             message bytes) vs a bare SHA-256 of the same bytes."
        }
        "model-small" => {
            "Exhaustive single-threaded BFS of the model's `small` \
             configuration vs a textbook two-phase commit model on the same stateright \
             checker; the ratio is of unique states per second."
        }
        "model-default" => {
            "The model's `default` configuration, single-threaded BFS cut off after 150 000 \
             generated states (about 103 000 unique of the 3.37 million an exhaustive check \
             visits), vs the same two-phase commit baselines; the ratio is of unique states \
             per second."
        }
        g if g.starts_with("fanout-") => {
            "`/submitMessage` of a 1 KiB PrivateMessage through the sans-IO hub and the \
             `/notify` fanout through every follower (sequence check, delivery to the local \
             client, acknowledgement back to the hub), in process; input = follower \
             providers (the hub's own included) vs `SubmitMessageRequest` decode + re-encode \
             of the same bytes; the ratio is of messages per second."
        }
        "https" => {
            "Application messages end to end over loopback mutual-TLS HTTPS (three providers, \
             concurrent `/submitMessage`, durable queued `/notify` fanout with \
             acknowledgements, followers and clients; completion signalled by the providers' \
             change hook) vs the same requests through the in-process sans-IO `sim` world; \
             the ratio is of messages per second (per-message latency: see the latency \
             table)."
        }
        g if g.starts_with("equivalence") => {
            "Proptest cases of the model-vs-implementation equivalence suite (`tests/equiv`: \
             a fresh `sim` world with real openmls clients per case, the model stepped \
             alongside, observations compared after every operation) vs the same runner and \
             seed only generating the sequences (`baseline-generate`) or also stepping them \
             through the model half alone (`baseline-model-only`); the ratio is of cases per \
             second."
        }
        _ => return None,
    };
    Some(note)
}

/// A commit-kind × members matrix of ratios for the groups `select` picks, with the
/// ≤ 15 % target line above it.
fn commit_matrix(
    md: &mut String,
    grouped: &BTreeMap<String, Vec<Pair<'_>>>,
    select: fn(&str) -> bool,
    prefix: &str,
    title: &str,
) {
    let cases: Vec<&Pair<'_>> = grouped
        .iter()
        .filter(|(g, _)| select(g))
        .flat_map(|(_, p)| p)
        .collect();
    if cases.is_empty() {
        return;
    }
    let worst = cases
        .iter()
        .map(|p| p.ratio().0)
        .fold(f64::NEG_INFINITY, f64::max);
    let within = cases.iter().filter(|p| p.ratio().0 <= ROOM_TARGET).count();
    let _ = writeln!(
        md,
        "### {title}\n\n\
         Target (issue 8): overhead ≤ 15 % (ratio ≤ {ROOM_TARGET:.2}). \
         Met in {within} of {} cases; worst ratio {}.\n",
        cases.len(),
        fmt_ratio(worst)
    );
    let mut sizes: Vec<&str> = cases.iter().map(|p| p.subject.value.as_str()).collect();
    sizes.sort_by_key(|v| natural_key(v));
    sizes.dedup();
    let _ = writeln!(
        md,
        "| commit \\ members | {} |\n|---|{}",
        sizes.join(" | "),
        "---:|".repeat(sizes.len())
    );
    for (group, ps) in grouped.iter().filter(|(g, _)| select(g)) {
        let cells: Vec<String> = sizes
            .iter()
            .map(|n| {
                ps.iter()
                    .find(|p| p.subject.value == *n)
                    .map(|p| fmt_ratio(p.ratio().0))
                    .unwrap_or_else(|| "—".into())
            })
            .collect();
        let _ = writeln!(
            md,
            "| {} | {} |",
            group.trim_start_matches(prefix),
            cells.join(" | ")
        );
    }
    let _ = writeln!(md);
}

/// Rate headlines: one row per (subject, baseline) pair of the groups `select` picks.
fn rate_headline(
    md: &mut String,
    grouped: &BTreeMap<String, Vec<Pair<'_>>>,
    select: fn(&str) -> bool,
    title: &str,
    intro: &str,
) {
    let ps: Vec<(&String, &Pair<'_>)> = grouped
        .iter()
        .filter(|(g, _)| select(g))
        .flat_map(|(g, ps)| ps.iter().map(move |p| (g, p)))
        .filter(|(_, p)| p.ratio().1 == "rate")
        .collect();
    if ps.is_empty() {
        return;
    }
    let _ = writeln!(md, "### {title}\n\n{intro}\n");
    let _ = writeln!(
        md,
        "| group | input | subject | per second | baseline | per second | rate ratio |\n\
         |---|---|---|---:|---|---:|---:|"
    );
    for (g, p) in ps {
        let noun = element_noun(g);
        let _ = writeln!(
            md,
            "| {g} | {} | {} | {:.0} {noun} | {} | {:.0} {noun} | {} |",
            if p.subject.value.is_empty() {
                "—"
            } else {
                &p.subject.value
            },
            p.subject.function,
            p.subject.rate().unwrap_or(0.0),
            p.baseline.function,
            p.baseline.rate().unwrap_or(0.0),
            fmt_ratio(p.ratio().0),
        );
    }
    let _ = writeln!(md);
}

fn write_results(
    all: &[Measured],
    scaling: &[ScalingRow],
    latency: &[LatencyRow],
    plots: &[(String, String)],
    notes: &[String],
) -> String {
    let mut md = String::new();
    let first = all.iter().filter_map(|m| m.modified).min();
    let last = all.iter().filter_map(|m| m.modified).max();
    let _ = writeln!(md, "# mimi-ref benchmark results\n");
    let _ = writeln!(
        md,
        "Generated by `mimi-ref bench-report` from criterion's estimates (issue 8). Every \
         subject is measured against a baseline in the same run; the **ratio** is what we \
         track, absolute times move with the machine.\n"
    );
    let _ = writeln!(
        md,
        "* measured: {} to {} (first and last estimate written)",
        first.map(fmt_time).unwrap_or_else(|| "unknown".into()),
        last.map(fmt_time).unwrap_or_else(|| "unknown".into())
    );
    let _ = writeln!(md, "* report generated: {}", fmt_time(SystemTime::now()));
    for (k, v) in machine() {
        let _ = writeln!(md, "* {k}: `{v}`");
    }
    for n in notes {
        let _ = writeln!(md, "* note: {n}");
    }
    let _ = writeln!(
        md,
        "\nTimes are criterion's typical estimate per iteration (slope for linear sampling, \
         else mean) ± its standard error. Ratio = subject / baseline time, except where both \
         count elements (model states, messages, cases), where it is subject rate / \
         baseline rate.\n"
    );
    if !plots.is_empty() {
        let _ = writeln!(md, "Plots:");
        for (title, file) in plots {
            let _ = writeln!(md, "* [{title}]({file})");
        }
        let _ = writeln!(md);
    }

    let grouped = pairs(all);
    let headlines = grouped.keys().any(|g| {
        is_hub_comparison(g)
            || is_room_comparison(g)
            || g.starts_with("fanout-")
            || g.starts_with("model-")
            || g.starts_with("equivalence")
            || g == "https"
    }) || !latency.is_empty();
    if headlines {
        let _ = writeln!(md, "## Headlines\n");
    }
    commit_matrix(
        &mut md,
        &grouped,
        is_hub_comparison,
        "hub-update-",
        "Hub `/update` (whole `Hub::handle` path) vs raw openmls",
    );
    commit_matrix(
        &mut md,
        &grouped,
        is_room_comparison,
        "room-",
        "`PublicRoom` commit validation vs raw openmls",
    );
    // The target is against issue 8's baseline (decode + re-encode of the request).
    let fanout: Vec<&Pair<'_>> = grouped
        .iter()
        .filter(|(g, _)| g.starts_with("fanout-"))
        .flat_map(|(_, p)| p)
        .filter(|p| p.baseline.function == "baseline-codec")
        .collect();
    let fanout_intro = format!(
        "Target (issue 8): ≥ {FANOUT_TARGET} of `baseline-codec`'s messages per second. Met \
         in {} of {} cases.",
        fanout
            .iter()
            .filter(|p| p.ratio().0 >= FANOUT_TARGET)
            .count(),
        fanout.len()
    );
    rate_headline(
        &mut md,
        &grouped,
        |g| g.starts_with("fanout-"),
        "Application-message path: `/submitMessage` → fanout",
        &fanout_intro,
    );
    rate_headline(
        &mut md,
        &grouped,
        |g| g.starts_with("model-"),
        "Model checking",
        "Unique states per second, single-threaded breadth-first search, vs a textbook \
         two-phase commit model on the same checker.",
    );
    rate_headline(
        &mut md,
        &grouped,
        |g| g == "https",
        "HTTPS loopback",
        "Messages per second submitted and delivered over mutual-TLS HTTPS vs the same \
         requests in process.",
    );
    write_latency(&mut md, latency, "###");
    rate_headline(
        &mut md,
        &grouped,
        |g| g.starts_with("equivalence"),
        "Equivalence suite",
        "Proptest cases per second of the model-vs-implementation suite.",
    );

    let mut order: Vec<(&String, &Vec<Pair<'_>>)> = grouped.iter().collect();
    order.sort_by(|a, b| group_rank(a.0).cmp(&group_rank(b.0)));
    // A family of groups (e.g. `hub-update-*`) shares one description: written once,
    // referred to after that.
    let mut described: BTreeMap<&'static str, &String> = BTreeMap::new();
    for (group, ps) in order {
        let _ = writeln!(md, "## {group}\n");
        if let Some(note) = group_note(group) {
            match described.get(note) {
                Some(first) => {
                    let _ = writeln!(md, "Measured as described under `{first}`.\n");
                }
                None => {
                    let _ = writeln!(md, "{note}\n");
                    described.insert(note, group);
                }
            }
        }
        let rate = ps.first().is_some_and(|p| p.ratio().1 == "rate");
        let noun = element_noun(group);
        if rate {
            let _ = writeln!(
                md,
                "| input | subject | baseline | subject time | subject {noun}/s | baseline \
                 time | baseline {noun}/s | rate ratio |\n|---|---|---|---:|---:|---:|---:|---:|"
            );
        } else {
            let _ = writeln!(
                md,
                "| input | subject | baseline | subject time | baseline time | ratio |\n\
                 |---|---|---|---:|---:|---:|"
            );
        }
        for p in ps {
            let (r, _) = p.ratio();
            let input = if p.subject.value.is_empty() {
                "—"
            } else {
                &p.subject.value
            };
            if rate {
                let per = |m: &Measured| match m.elements {
                    Some(e) if e != 1 => format!("{} ({e} {noun})", m.function),
                    _ => m.function.clone(),
                };
                let _ = writeln!(
                    md,
                    "| {input} | {} | {} | {} ± {} | {:.0} | {} ± {} | {:.0} | {r:.3} |",
                    per(p.subject),
                    per(p.baseline),
                    fmt_ns(p.subject.ns),
                    fmt_ns(p.subject.se),
                    p.subject.rate().unwrap_or(0.0),
                    fmt_ns(p.baseline.ns),
                    fmt_ns(p.baseline.se),
                    p.baseline.rate().unwrap_or(0.0),
                );
            } else {
                let _ = writeln!(
                    md,
                    "| {input} | {} | {} | {} ± {} | {} ± {} | {} |",
                    p.subject.function,
                    p.baseline.function,
                    fmt_ns(p.subject.ns),
                    fmt_ns(p.subject.se),
                    fmt_ns(p.baseline.ns),
                    fmt_ns(p.baseline.se),
                    fmt_ratio(r),
                );
            }
        }
        let _ = writeln!(md);
    }

    let unpaired: Vec<&Measured> = all
        .iter()
        .filter(|m| {
            !m.is_baseline()
                && !grouped
                    .get(&m.group)
                    .is_some_and(|ps| ps.iter().any(|p| std::ptr::eq(p.subject, *m)))
        })
        .collect();
    if !unpaired.is_empty() {
        let _ = writeln!(
            md,
            "## Without a baseline\n\n| group | function | input | time |\n|---|---|---|---:|"
        );
        for m in unpaired {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                m.group,
                m.function,
                m.value,
                fmt_ns(m.ns)
            );
        }
        let _ = writeln!(md);
    }

    write_latency(&mut md, latency, "##");

    if !scaling.is_empty() {
        let _ = writeln!(
            md,
            "## Model state space vs bounds\n\nOne-dimension variations of the `small` \
             configuration, breadth-first, single-threaded, with a limit per row of 10 s \
             (which the checker tests between batches of states, so a row can overrun it) \
             and, in the current bench, 1 000 000 unique states (`+` = a limit was hit \
             and the count is a lower bound).\n\n\
             | dimension | value | configuration | unique states | max depth | seconds |\n\
             |---|---:|---|---:|---:|---:|"
        );
        for r in scaling {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {}{} | {} | {:.2} |",
                r.dimension,
                r.value,
                r.description,
                r.unique_states,
                if r.exhaustive { "" } else { "+" },
                r.max_depth,
                r.seconds
            );
        }
        let _ = writeln!(md);
    }
    md
}

/// An 800×500 SVG drawing area on `path`, filled white: the start of every plot.
fn svg_root<'a>(
    path: &'a Path,
    e: &impl Fn(String) -> ReportError,
) -> Result<DrawingArea<SVGBackend<'a>, plotters::coord::Shift>, ReportError> {
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
    Ok(root)
}

/// The legend (upper left, on white) and the written SVG: the end of every plot.
fn finish_plot<'a, CT: plotters::coord::CoordTranslate>(
    root: &DrawingArea<SVGBackend<'a>, plotters::coord::Shift>,
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    e: &impl Fn(String) -> ReportError,
) -> Result<(), ReportError> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|x| e(x.to_string()))?;
    root.present().map_err(|x| e(x.to_string()))?;
    Ok(())
}

fn plot_err(path: &Path) -> impl Fn(String) -> ReportError + '_ {
    move |reason| ReportError::Plot {
        path: path.to_path_buf(),
        reason,
    }
}

/// Series for the commit plots of the groups `select` picks: (kind, members → (subject
/// ns, openmls ns)).
fn commit_series(
    all: &[Measured],
    select: fn(&str) -> bool,
    prefix: &str,
) -> BTreeMap<String, BTreeMap<u64, (f64, f64)>> {
    let mut out: BTreeMap<String, BTreeMap<u64, (f64, f64)>> = BTreeMap::new();
    for m in all.iter().filter(|m| select(&m.group)) {
        let Ok(n) = m.value.parse::<u64>() else {
            continue;
        };
        let kind = m.group.trim_start_matches(prefix).to_string();
        let e = out.entry(kind).or_default().entry(n).or_insert((0.0, 0.0));
        if m.is_baseline() {
            e.1 = m.ns;
        } else {
            e.0 = m.ns;
        }
    }
    out
}

fn palette(i: usize) -> RGBColor {
    const C: [RGBColor; 6] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    C[i % C.len()]
}

/// One pair of commit plots: which groups, their name prefix, the file stem, the title
/// and the subject's legend label.
struct CommitPlot {
    select: fn(&str) -> bool,
    prefix: &'static str,
    file: &'static str,
    caption: &'static str,
    subject: &'static str,
}

fn plot_room_cost(
    path: &Path,
    series: &BTreeMap<String, BTreeMap<u64, (f64, f64)>>,
    what: &CommitPlot,
) -> Result<(), ReportError> {
    let e = plot_err(path);
    let (mut lo, mut hi) = (f64::MAX, f64::MIN);
    for pts in series.values() {
        for (a, b) in pts.values() {
            for v in [*a, *b] {
                if v > 0.0 {
                    lo = lo.min(v / 1e6);
                    hi = hi.max(v / 1e6);
                }
            }
        }
    }
    if lo > hi {
        return Err(e("no room measurements".into()));
    }
    let root = svg_root(path, &e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{}: time per commit vs members", what.caption),
            ("sans-serif", 18),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(
            (1.5f64..1500f64).log_scale(),
            (lo * 0.7..hi * 1.4).log_scale(),
        )
        .map_err(|x| e(x.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("members")
        .y_desc("ms per commit")
        .draw()
        .map_err(|x| e(x.to_string()))?;
    for (i, (kind, pts)) in series.iter().enumerate() {
        let color = palette(i);
        let subject: Vec<(f64, f64)> = pts
            .iter()
            .filter(|(_, v)| v.0 > 0.0)
            .map(|(n, v)| (*n as f64, v.0 / 1e6))
            .collect();
        let baseline: Vec<(f64, f64)> = pts
            .iter()
            .filter(|(_, v)| v.1 > 0.0)
            .map(|(n, v)| (*n as f64, v.1 / 1e6))
            .collect();
        chart
            .draw_series(LineSeries::new(subject.clone(), color.stroke_width(2)))
            .map_err(|x| e(x.to_string()))?
            .label(format!("{kind}: {}", what.subject))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(subject.iter().map(|p| Circle::new(*p, 3, color.filled())))
            .map_err(|x| e(x.to_string()))?;
        chart
            .draw_series(LineSeries::new(
                baseline.clone(),
                color.mix(0.5).stroke_width(1),
            ))
            .map_err(|x| e(x.to_string()))?
            .label(format!("{kind}: raw openmls"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.mix(0.5)));
        chart
            .draw_series(baseline.iter().map(|p| Cross::new(*p, 3, color.mix(0.5))))
            .map_err(|x| e(x.to_string()))?;
    }
    finish_plot(&root, &mut chart, &e)
}

fn plot_room_overhead(
    path: &Path,
    series: &BTreeMap<String, BTreeMap<u64, (f64, f64)>>,
    what: &CommitPlot,
) -> Result<(), ReportError> {
    let e = plot_err(path);
    let ratios: BTreeMap<&String, Vec<(f64, f64)>> = series
        .iter()
        .map(|(k, pts)| {
            (
                k,
                pts.iter()
                    .filter(|(_, v)| v.0 > 0.0 && v.1 > 0.0)
                    .map(|(n, v)| (*n as f64, v.0 / v.1))
                    .collect(),
            )
        })
        .collect();
    let hi = ratios
        .values()
        .flatten()
        .map(|p| p.1)
        .fold(ROOM_TARGET, f64::max);
    let root = svg_root(path, &e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{}: time / raw openmls time", what.caption),
            ("sans-serif", 18),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((1.5f64..1500f64).log_scale(), 0f64..hi * 1.15)
        .map_err(|x| e(x.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("members")
        .y_desc("ratio")
        .draw()
        .map_err(|x| e(x.to_string()))?;
    chart
        .draw_series(LineSeries::new(
            vec![(1.5, ROOM_TARGET), (1500.0, ROOM_TARGET)],
            RED.stroke_width(1),
        ))
        .map_err(|x| e(x.to_string()))?
        .label("target 1.15")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    for (i, (kind, pts)) in ratios.iter().enumerate() {
        let color = palette(i);
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(|x| e(x.to_string()))?
            .label(kind.to_string())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(pts.iter().map(|p| Circle::new(*p, 3, color.filled())))
            .map_err(|x| e(x.to_string()))?;
    }
    finish_plot(&root, &mut chart, &e)
}

fn plot_model_scaling(path: &Path, rows: &[ScalingRow]) -> Result<(), ReportError> {
    let e = plot_err(path);
    let mut dims: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for r in rows {
        dims.entry(r.dimension.as_str())
            .or_default()
            .push((f64::from(r.value), r.unique_states.max(1) as f64));
    }
    let xmax = rows.iter().map(|r| f64::from(r.value)).fold(1.0, f64::max);
    let ymax = rows
        .iter()
        .map(|r| r.unique_states as f64)
        .fold(10.0, f64::max);
    let root = svg_root(path, &e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Model: unique states vs bounds (variations of `small`; hollow = 10 s limit hit)",
            ("sans-serif", 16),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.2f64..xmax + 0.5, (1f64..ymax * 3.0).log_scale())
        .map_err(|x| e(x.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("bound value")
        .y_desc("unique states")
        .draw()
        .map_err(|x| e(x.to_string()))?;
    for (i, (dim, pts)) in dims.iter().enumerate() {
        let color = palette(i);
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(|x| e(x.to_string()))?
            .label(dim.to_string())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        let marks: Vec<(f64, f64, bool)> = rows
            .iter()
            .filter(|r| r.dimension == *dim)
            .map(|r| {
                (
                    f64::from(r.value),
                    r.unique_states.max(1) as f64,
                    r.exhaustive,
                )
            })
            .collect();
        chart
            .draw_series(marks.iter().map(|(x, y, full)| {
                let style = if *full {
                    color.filled()
                } else {
                    color.stroke_width(1)
                };
                Circle::new((*x, *y), 4, style)
            }))
            .map_err(|x| e(x.to_string()))?;
    }
    finish_plot(&root, &mut chart, &e)
}

fn default_criterion_dir() -> PathBuf {
    if let Some(h) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(h);
    }
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(t).join("criterion");
    }
    PathBuf::from("target/criterion")
}

/// Generate the report, with `notes` (remarks on the run) listed under the machine
/// description; returns the files written.
pub fn generate(
    criterion: &Path,
    out: &Path,
    notes: &[String],
) -> Result<Vec<PathBuf>, ReportError> {
    let all = load(criterion)?;
    let scaling_path = criterion.join("model-scaling").join("table.json");
    let scaling: Vec<ScalingRow> = if scaling_path.is_file() {
        read_json(&scaling_path, "model scaling table")?
    } else {
        Vec::new()
    };
    let latency_path = criterion.join("https-latency").join("table.json");
    let latency: Vec<LatencyRow> = if latency_path.is_file() {
        read_json(&latency_path, "https latency table")?
    } else {
        Vec::new()
    };
    std::fs::create_dir_all(out).map_err(io(out))?;
    let mut written = Vec::new();
    let mut plots = Vec::new();
    let commit_plots = [
        CommitPlot {
            select: is_hub_comparison,
            prefix: "hub-update-",
            file: "hub",
            caption: "Hub /update",
            subject: "hub",
        },
        CommitPlot {
            select: is_room_comparison,
            prefix: "room-",
            file: "room",
            caption: "PublicRoom commit validation",
            subject: "PublicRoom",
        },
    ];
    for what in commit_plots {
        let (series, file) = (commit_series(&all, what.select, what.prefix), what.file);
        if series.is_empty() {
            continue;
        }
        let name = format!("{file}-cost.svg");
        let p = out.join(&name);
        plot_room_cost(&p, &series, &what)?;
        plots.push((format!("{} cost vs members", what.caption), name));
        written.push(p);
        let name = format!("{file}-overhead.svg");
        let p = out.join(&name);
        plot_room_overhead(&p, &series, &what)?;
        plots.push((
            format!("{} overhead over raw openmls vs members", what.caption),
            name,
        ));
        written.push(p);
    }
    if !scaling.is_empty() {
        let p = out.join("model-scaling.svg");
        plot_model_scaling(&p, &scaling)?;
        plots.push((
            "model states vs bounds".to_string(),
            "model-scaling.svg".to_string(),
        ));
        written.push(p);
    }
    let md = write_results(&all, &scaling, &latency, &plots, notes);
    let p = out.join("RESULTS.md");
    std::fs::write(&p, md).map_err(io(&p))?;
    written.push(p);
    Ok(written)
}

/// Run `mimi-ref bench-report`.
pub fn run(args: &BenchReportArgs) -> ExitCode {
    let dir = args.criterion.clone().unwrap_or_else(default_criterion_dir);
    match generate(&dir, &args.out, &args.note) {
        Ok(files) => {
            for f in files {
                println!("wrote {}", f.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench-report: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, group: &str, function: &str, value: &str, ns: f64, elements: Option<u64>) {
        let d = dir.join(group).join(function).join(value).join("new");
        std::fs::create_dir_all(&d).unwrap();
        let throughput = match elements {
            Some(e) => serde_json::json!({ "Elements": e }),
            None => serde_json::Value::Null,
        };
        std::fs::write(
            d.join("benchmark.json"),
            serde_json::json!({
                "group_id": group, "function_id": function, "value_str": value,
                "throughput": throughput, "full_id": "x", "directory_name": "x", "title": "x"
            })
            .to_string(),
        )
        .unwrap();
        let est = serde_json::json!({"point_estimate": ns, "standard_error": 1.0,
            "confidence_interval": {"confidence_level": 0.95, "lower_bound": ns, "upper_bound": ns}});
        std::fs::write(
            d.join("estimates.json"),
            serde_json::json!({"mean": est, "median": est, "median_abs_dev": est,
                "slope": null, "std_dev": est})
            .to_string(),
        )
        .unwrap();
    }

    fn tmp(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("mimi-bench-report-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn pairs_subjects_with_same_input_baselines_and_writes_ratios_and_plots() {
        let c = tmp("ok");
        write(&c, "room-add", "mimi-ref", "10", 1200.0, None);
        write(&c, "room-add", "baseline-openmls", "10", 1000.0, None);
        write(&c, "room-add", "mimi-ref", "100", 3000.0, None);
        write(&c, "room-add", "baseline-openmls", "100", 2000.0, None);
        write(&c, "room-parts", "groupinfo-check", "10", 10.0, None);
        write(&c, "room-parts", "baseline-openmls", "10", 1000.0, None);
        write(&c, "model-small", "mimi-model", "", 2e9, Some(20_000));
        write(&c, "model-small", "baseline-2pc-rm5", "", 1e9, Some(40_000));
        let out = c.join("out");
        let files = generate(&c, &out, &[]).unwrap();
        assert!(files.iter().any(|f| f.ends_with("room-cost.svg")));
        assert!(files.iter().any(|f| f.ends_with("room-overhead.svg")));
        let md = std::fs::read_to_string(out.join("RESULTS.md")).unwrap();
        assert!(md.contains("| 10 | mimi-ref | baseline-openmls | 1.200 µs ± 1.0 ns | 1.000 µs ± 1.0 ns | 1.20 |"), "{md}");
        assert!(md.contains("| 1.50 |"), "{md}");
        // Model: 10k states/s vs 40k states/s → rate ratio 0.25.
        assert!(md.contains("| 0.250 |"), "{md}");
        assert!(md.contains("Met in 0 of 2 cases; worst ratio 1.50"), "{md}");
        assert!(md.contains("| add | 1.20 | 1.50 |"), "{md}");
        // The breakdown is reported with enough digits, and not in the headline.
        assert!(md.contains("| 10 | groupinfo-check | baseline-openmls | 10.0 ns ± 1.0 ns | 1.000 µs ± 1.0 ns | 0.010 |"), "{md}");
        let room_at = md.find("## room-add").unwrap();
        assert!(md.find("## room-parts").unwrap() > room_at);
        assert!(md.find("## model-small").unwrap() > md.find("## room-parts").unwrap());
        let svg = std::fs::read_to_string(out.join("room-cost.svg")).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("add: PublicRoom"));
    }

    #[test]
    fn headlines_cover_hub_fanout_and_model_once_each_with_notes() {
        let c = tmp("headlines");
        write(&c, "hub-update-add", "mimi-ref-hub", "10", 2300.0, None);
        write(&c, "hub-update-add", "baseline-openmls", "10", 1000.0, None);
        write(&c, "fanout-submit", "hub+followers", "5", 4000.0, Some(1));
        write(&c, "fanout-submit", "baseline-codec", "5", 1000.0, Some(1));
        write(&c, "model-small", "mimi-model", "", 2e9, Some(20_000));
        write(&c, "model-small", "baseline-2pc-rm5", "", 1e9, Some(40_000));
        write(&c, "model-small", "baseline-2pc-rm7", "", 1e9, Some(80_000));
        let out = c.join("out");
        let files = generate(&c, &out, &["shared machine".into()]).unwrap();
        assert!(files.iter().any(|f| f.ends_with("hub-overhead.svg")));
        assert!(!files.iter().any(|f| f.ends_with("room-cost.svg")));
        let md = std::fs::read_to_string(out.join("RESULTS.md")).unwrap();
        assert!(md.contains("* note: shared machine"), "{md}");
        assert!(md.contains("Met in 0 of 1 cases; worst ratio 2.30"), "{md}");
        assert!(md.contains("| add | 2.30 |"), "{md}");
        // Fanout: 250 000 messages/s against 1 000 000 → 0.250, below the 0.5 target.
        assert!(
            md.contains("≥ 0.5 of `baseline-codec`'s messages per second. Met in 0 of 1 cases."),
            "{md}"
        );
        assert!(md.contains("| fanout-submit | 5 | hub+followers | 250000 messages | baseline-codec | 1000000 messages | 0.250 |"), "{md}");
        // Model: one headline row per baseline (0.250 and 0.125), no repeated sentence.
        assert!(md.contains("| model-small | — | mimi-model | 10000 states | baseline-2pc-rm7 | 80000 states | 0.125 |"), "{md}");
        let mut seen = std::collections::BTreeSet::new();
        for line in md
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('|'))
        {
            assert!(seen.insert(line), "repeated line: {line}");
        }
        assert!(md.find("## hub-update-add").unwrap() < md.find("## fanout-submit").unwrap());
        // A second group of a family refers to the first one's description.
        write(&c, "hub-update-remove", "mimi-ref-hub", "10", 2000.0, None);
        write(
            &c,
            "hub-update-remove",
            "baseline-openmls",
            "10",
            1000.0,
            None,
        );
        generate(&c, &out, &[]).unwrap();
        let md = std::fs::read_to_string(out.join("RESULTS.md")).unwrap();
        assert_eq!(
            md.matches("`Hub::handle` of one `/update`").count(),
            1,
            "{md}"
        );
        assert!(
            md.contains("Measured as described under `hub-update-add`."),
            "{md}"
        );
        assert!(md.find("## fanout-submit").unwrap() < md.find("## model-small").unwrap());
    }

    #[test]
    fn latency_table_is_read_and_rendered_with_p50_and_p99_ratios() {
        let c = tmp("latency");
        write(&c, "https", "https", "20-msgs", 2e7, Some(20));
        write(&c, "https", "baseline-sans-io", "20-msgs", 1e7, Some(20));
        let d = c.join("https-latency");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("table.json"),
            serde_json::json!([
                {"variant": "sequential", "path": "https", "messages": 200, "samples": 400,
                 "p50_us": 1500.0, "p90_us": 2000.0, "p99_us": 4000.0, "max_us": 9000.0},
                {"variant": "sequential", "path": "baseline-sans-io", "messages": 200,
                 "samples": 400, "p50_us": 500.0, "p90_us": 600.0, "p99_us": 800.0,
                 "max_us": 900.0},
                {"variant": "burst-20", "path": "https", "messages": 200, "samples": 400,
                 "p50_us": 30000.0, "p90_us": 40000.0, "p99_us": 50000.0, "max_us": 60000.0},
                {"variant": "burst-20", "path": "baseline-sans-io", "messages": 200,
                 "samples": 400, "p50_us": 10000.0, "p90_us": 11000.0, "p99_us": 25000.0,
                 "max_us": 26000.0}
            ])
            .to_string(),
        )
        .unwrap();
        let out = c.join("out");
        generate(&c, &out, &[]).unwrap();
        let md = std::fs::read_to_string(out.join("RESULTS.md")).unwrap();
        // Headline and full table: p50 ratio 3.00, p99 ratio 5.00 (sequential); 3.00 and
        // 2.00 (burst); baselines get no ratio.
        let row = "| sequential | https | 200 | 400 | 1.500 ms | 2.000 ms | 4.000 ms | 9.000 ms | 3.00 | 5.00 |";
        assert_eq!(md.matches(row).count(), 2, "{md}");
        assert!(md.contains("| burst-20 | https | 200 | 400 | 30.000 ms | 40.000 ms | 50.000 ms | 60.000 ms | 3.00 | 2.00 |"), "{md}");
        assert!(md.contains("| sequential | baseline-sans-io | 200 | 400 | 500.000 µs | 600.000 µs | 800.000 µs | 900.000 µs | — | — |"), "{md}");
        let head = md.find("## Headlines").unwrap();
        assert!(md.find("### HTTPS submit-to-delivery latency").unwrap() > head);
        assert!(md.contains("## HTTPS submit-to-delivery latency"), "{md}");

        // A malformed table is a typed error naming the file.
        std::fs::write(d.join("table.json"), "[{\"variant\": 1}]").unwrap();
        match generate(&c, &out, &[]) {
            Err(ReportError::Json { path, what, .. }) => {
                assert!(path.ends_with("https-latency/table.json"));
                assert_eq!(what, "https latency table");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_estimates_is_a_typed_error_naming_the_file() {
        let c = tmp("bad");
        write(&c, "g", "f", "v", 1.0, None);
        std::fs::write(c.join("g/f/v/new/estimates.json"), "{not json").unwrap();
        match generate(&c, &c.join("out"), &[]) {
            Err(ReportError::Json { path, what, .. }) => {
                assert!(path.ends_with("g/f/v/new/estimates.json"));
                assert_eq!(what, "estimates.json");
            }
            other => panic!("expected a JSON error, got {other:?}"),
        }
    }

    #[test]
    fn empty_or_missing_folder_is_an_error() {
        let c = tmp("empty");
        assert!(matches!(
            generate(&c, &c.join("out"), &[]),
            Err(ReportError::Empty(_))
        ));
        assert!(matches!(
            generate(&c.join("absent"), &c.join("out"), &[]),
            Err(ReportError::Io { .. })
        ));
    }

    #[test]
    fn civil_dates_and_natural_order() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(20_415), (2025, 11, 23));
        assert_eq!(civil(11_016), (2000, 2, 29));
        let mut v = vec!["n=100", "n=10", "n=1000", "n=2"];
        v.sort_by_key(|s| natural_key(s));
        assert_eq!(v, vec!["n=2", "n=10", "n=100", "n=1000"]);
    }
}
