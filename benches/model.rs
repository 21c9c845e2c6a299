//! Model-checking throughput (issue 8): unique states per second of the mimi model's `small`
//! configuration vs a textbook two-phase commit model ([`support::two_phase`]) explored by
//! the same stateright 0.31 breadth-first checker in the same run, both single-threaded
//! (the figure is the checker's speed on our state and transition functions, not the
//! machine's core count). Criterion's throughput is set to each run's unique state count,
//! so its "elements/s" is unique states per second.
//!
//! `model-default` measures the `default` configuration the same way, breadth-first until
//! [`DEFAULT_STATES`] *generated* states (stateright's `target_state_count` counts generated
//! states, not unique ones): about 103 000 unique states of the 3.37 million that an
//! exhaustive `mimi-ref check` visits, which takes minutes (model/README.md). The rate of
//! the cut-off run is the figure; the bench prints whether the run was cut off.
//!
//! Also (not a criterion measurement): how unique states grow with users, clients and
//! operation bounds, each a one-dimension variation of `small` explored exhaustively with a
//! limit of 10 s or 1 000 000 unique states per row. The table is written to `<criterion dir>/model-scaling/table.json`
//! for `mimi-ref bench-report`.

mod support;
#[path = "support/two_phase.rs"]
mod two_phase;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use mimi_model::config::{Config, UserCfg};
use mimi_model::MimiModel;
use stateright::{Checker, Model};
use two_phase::TwoPhase;

/// Resource managers of the baseline runs: one of comparable size to `small`, one larger.
const TWO_PHASE_RMS: [usize; 2] = [5, 7];

/// Generated (not unique) states at which the `default` exploration stops if it has not
/// finished (stateright's `target_state_count`; it stops at the first batch boundary past
/// it; single-threaded, the count reached is the same every run).
const DEFAULT_STATES: usize = 150_000;

fn small() -> Config {
    Config::load("small").expect("embedded config `small`")
}

/// Explore `small` exhaustively; returns the unique state count.
fn explore_mimi(cfg: &Config) -> usize {
    let model = MimiModel {
        cfg: cfg.clone(),
        selected: Vec::new(),
    };
    model
        .checker()
        .threads(1)
        .spawn_bfs()
        .join()
        .unique_state_count()
}

/// Explore `cfg` breadth-first until about `target` generated states; returns the unique
/// state count.
fn explore_mimi_until(cfg: &Config, target: usize) -> usize {
    explore_mimi_until_counts(cfg, target).1
}

/// [`explore_mimi_until`], returning (generated, unique) state counts.
fn explore_mimi_until_counts(cfg: &Config, target: usize) -> (usize, usize) {
    let model = MimiModel {
        cfg: cfg.clone(),
        selected: Vec::new(),
    };
    let checker = model
        .checker()
        .threads(1)
        .target_state_count(target)
        .spawn_bfs()
        .join();
    (checker.state_count(), checker.unique_state_count())
}

/// Explore the baseline exhaustively; returns the unique state count.
fn explore_two_phase(rms: usize) -> usize {
    TwoPhase { rms }
        .checker()
        .threads(1)
        .spawn_bfs()
        .join()
        .unique_state_count()
}

fn bench_model(c: &mut Criterion) {
    let cfg = small();
    // Sanity, once: the baseline's properties hold / are witnessed, and both runs are
    // deterministic in their state counts (criterion's throughput depends on it).
    for rms in TWO_PHASE_RMS {
        TwoPhase { rms }
            .checker()
            .threads(1)
            .spawn_bfs()
            .join()
            .assert_properties();
        assert_eq!(explore_two_phase(rms), explore_two_phase(rms));
    }
    let mimi_states = explore_mimi(&cfg);
    assert_eq!(mimi_states, explore_mimi(&cfg), "small is deterministic");

    let mut group = c.benchmark_group("model-small");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(mimi_states as u64));
    group.bench_function("mimi-model", |b| b.iter(|| explore_mimi(black_box(&cfg))));
    for rms in TWO_PHASE_RMS {
        let states = explore_two_phase(rms);
        group.throughput(Throughput::Elements(states as u64));
        group.bench_function(format!("baseline-2pc-rm{rms}"), |b| {
            b.iter(|| explore_two_phase(black_box(rms)))
        });
    }
    group.finish();

    // `default`, cut off at DEFAULT_STATES generated states if it has more.
    let default = Config::load("default").expect("embedded config `default`");
    let (default_generated, default_states) = explore_mimi_until_counts(&default, DEFAULT_STATES);
    // Fewer generated states than the cut-off means the exploration finished: the figure
    // is then of the whole configuration.
    eprintln!(
        "model-default: {default_states} unique of {default_generated} generated states ({})",
        if default_generated < DEFAULT_STATES {
            "exhaustive"
        } else {
            "cut off"
        }
    );
    assert_eq!(
        default_states,
        explore_mimi_until(&default, DEFAULT_STATES),
        "the cut-off exploration is deterministic"
    );
    let mut group = c.benchmark_group("model-default");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(default_states as u64));
    group.bench_function("mimi-model", |b| {
        b.iter(|| explore_mimi_until(black_box(&default), DEFAULT_STATES))
    });
    for rms in TWO_PHASE_RMS {
        let states = explore_two_phase(rms);
        group.throughput(Throughput::Elements(states as u64));
        group.bench_function(format!("baseline-2pc-rm{rms}"), |b| {
            b.iter(|| explore_two_phase(black_box(rms)))
        });
    }
    group.finish();

    write_scaling_table();
}

/// One row of the scaling table.
#[derive(serde::Serialize)]
struct Row {
    /// Which dimension varies (`users`, `clients`, `max_commits`, `max_app_messages`).
    dimension: &'static str,
    /// Its value.
    value: u32,
    /// What the configuration is, in words.
    description: String,
    /// Unique states explored.
    unique_states: usize,
    /// Maximum depth reached.
    max_depth: usize,
    /// Seconds taken.
    seconds: f64,
    /// Whether the exploration finished within the limit (else `unique_states` is a lower bound).
    exhaustive: bool,
}

const ROW_LIMIT: Duration = Duration::from_secs(10);
/// Unique states at which a row stops too: stateright checks the time limit only between
/// batches, and a fast-growing row overran it to minutes (1.2 million states/10 s is
/// about the small configuration's rate).
const ROW_STATES: usize = 1_000_000;

fn row(dimension: &'static str, value: u32, description: String, cfg: Config) -> Row {
    let model = MimiModel {
        cfg,
        selected: Vec::new(),
    };
    let start = Instant::now();
    let checker = model
        .checker()
        .threads(1)
        .timeout(ROW_LIMIT)
        .target_state_count(ROW_STATES)
        .spawn_bfs()
        .join();
    let seconds = start.elapsed().as_secs_f64();
    let unique_states = checker.unique_state_count();
    Row {
        dimension,
        value,
        description,
        unique_states,
        max_depth: checker.max_depth(),
        seconds,
        exhaustive: seconds < ROW_LIMIT.as_secs_f64() * 0.98 && unique_states < ROW_STATES,
    }
}

fn variant(change: impl FnOnce(&mut mimi_model::config::RawConfig)) -> Config {
    let mut raw = small().raw;
    change(&mut raw);
    let name = raw.name.clone();
    Config::from_raw(&name, raw).expect("valid variation of small")
}

/// The scaling table: one-dimension variations of `small` (2 users, bob with 2 clients,
/// 3 commits, 1 application message). Reading the `users` rows: `small` allows one
/// KeyPackage fetch (`max_kp_fetches = 1`), so at most one user can be added and extra users
/// mostly stay outsiders; they add few states. Raise that bound with them to see the
/// combinatorics of membership.
fn scaling_rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for users in 1..=4u32 {
        let cfg = variant(|raw| {
            raw.users.truncate(users.min(2) as usize);
            if users >= 3 {
                raw.users.push(UserCfg {
                    name: "cathy".into(),
                    provider: 1,
                    clients: 1,
                });
            }
            if users >= 4 {
                raw.users.push(UserCfg {
                    name: "dave".into(),
                    provider: 0,
                    clients: 1,
                });
            }
        });
        rows.push(row(
            "users",
            users,
            format!("{users} user(s) of alice@a, bob@b ×2 clients, cathy@b, dave@a"),
            cfg,
        ));
    }
    for clients in 1..=3u32 {
        let cfg = variant(|raw| raw.users[1].clients = clients as u8);
        rows.push(row(
            "clients",
            clients,
            format!("bob with {clients} client(s)"),
            cfg,
        ));
    }
    for commits in 1..=5u32 {
        let cfg = variant(|raw| {
            raw.bounds.max_commits = commits as u8;
            raw.bounds.max_updates = commits as u8;
        });
        rows.push(row(
            "max_commits",
            commits,
            format!("max_commits = max_updates = {commits}"),
            cfg,
        ));
    }
    for msgs in 0..=3u32 {
        let cfg = variant(|raw| raw.bounds.max_app_messages = msgs as u8);
        rows.push(row(
            "max_app_messages",
            msgs,
            format!("max_app_messages = {msgs}"),
            cfg,
        ));
    }
    rows
}

/// Criterion's output folder, found as criterion finds it (`$CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else `target/criterion` beside the manifest).
fn criterion_dir() -> PathBuf {
    if let Some(h) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(h);
    }
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(t).join("criterion");
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/criterion")
}

fn write_scaling_table() {
    let rows = scaling_rows();
    let dir = criterion_dir().join("model-scaling");
    std::fs::create_dir_all(&dir).expect("criterion dir");
    let path = dir.join("table.json");
    let json = serde_json::to_string_pretty(&rows).expect("json");
    std::fs::write(&path, json).expect("write scaling table");
    eprintln!(
        "model scaling table: {} rows → {}",
        rows.len(),
        path.display()
    );
    for r in &rows {
        eprintln!(
            "  {:<17} {:>2}  unique {:>9}{}  depth {:>2}  {:>6.2} s",
            r.dimension,
            r.value,
            r.unique_states,
            if r.exhaustive { " " } else { "+" },
            r.max_depth,
            r.seconds
        );
    }
}

criterion_group! {
    name = benches;
    config = support::criterion();
    targets = bench_model
}
criterion_main!(benches);
