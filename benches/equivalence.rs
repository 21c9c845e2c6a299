//! Equivalence-suite throughput (issue 8): proptest cases per second of the
//! model-vs-implementation suite of `tests/equiv` (issue 5) through its own throughput
//! hook, `equiv::run_cases`: the suite's seeded ChaCha runner (`equiv::runner`),
//! `ops_strategy(max_ops)` sequences, each through `equiv::run` (the model and a fresh
//! `sim` world with real openmls clients, compared after every step), no shrinking.
//!
//! Baselines in the same group, same seed, same runner, same number of cases:
//! * `baseline-generate`: only *generates* the operation sequences (what the runner costs
//!   on its own);
//! * `baseline-model-only`: generates them and steps each through the model half alone
//!   (`ModelSide`), no implementation world and no comparison — the ratio to it is what
//!   the real-MLS half costs.
//!
//! Throughput is `Throughput::Elements(CASES)`, so criterion's elements/s is cases/s.
//! Case set-up (a world of four openmls clients publishing KeyPackages) is part of each
//! case, as in the suite.

mod support;

#[allow(dead_code, unused_imports)]
#[path = "../tests/equiv/mod.rs"]
mod equiv;

use std::cell::Cell;
use std::hint::black_box;
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use proptest::test_runner::TestRunner;

/// Cases per measured iteration.
const CASES: u32 = 16;
/// Operations per generated sequence (the suite's default `EQUIV_MAX_OPS`).
const MAX_OPS: usize = 25;
/// The runner's seed (fixed: every iteration runs the same cases).
const SEED: u64 = 8;

/// The suite's runner without shrinking.
fn runner(cases: u32, seed: u64) -> TestRunner {
    equiv::runner(cases, seed, false)
}

/// Baseline: generate the same `cases` sequences only; returns their total length.
fn generate_cases(seed: u64, cases: u32, max_ops: usize) -> usize {
    let ops_total = Cell::new(0);
    runner(cases, seed)
        .run(&equiv::ops_strategy(max_ops), |ops| {
            ops_total.set(ops_total.get() + black_box(&ops).len());
            Ok(())
        })
        .unwrap_or_else(|e| panic!("generation failed: {e}"));
    ops_total.get()
}

/// Baseline: generate the same sequences and step each through the model half only.
fn model_only_cases(seed: u64, cases: u32, max_ops: usize) -> usize {
    let enabled = Cell::new(0);
    runner(cases, seed)
        .run(&equiv::ops_strategy(max_ops), |ops| {
            let mut ms = equiv::ModelSide::new();
            for op in ops {
                if ms.step(op) != equiv::Verdict::NotEnabled {
                    enabled.set(enabled.get() + 1);
                }
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("model-only run failed: {e}"));
    enabled.get()
}

fn bench_equivalence(c: &mut Criterion) {
    // Once, outside the measurement: every case agrees, and the subject compares steps
    // (a suite that skipped everything would be fast and meaningless).
    assert_eq!(
        equiv::run_cases(SEED, CASES, MAX_OPS),
        CASES,
        "every case agrees"
    );
    assert!(generate_cases(SEED, CASES, MAX_OPS) >= CASES as usize);
    assert!(
        model_only_cases(SEED, CASES, MAX_OPS) > 0,
        "the model takes steps"
    );

    let mut group = c.benchmark_group("equivalence");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(u64::from(CASES)));
    let input = format!("{CASES}-cases-{MAX_OPS}-ops");
    group.bench_function(BenchmarkId::new("equivalence-suite", &input), |b| {
        b.iter(|| equiv::run_cases(black_box(SEED), CASES, MAX_OPS))
    });
    group.bench_function(BenchmarkId::new("baseline-generate", &input), |b| {
        b.iter(|| generate_cases(black_box(SEED), CASES, MAX_OPS))
    });
    group.bench_function(BenchmarkId::new("baseline-model-only", &input), |b| {
        b.iter(|| model_only_cases(black_box(SEED), CASES, MAX_OPS))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = support::criterion();
    targets = bench_equivalence
}
criterion_main!(benches);
