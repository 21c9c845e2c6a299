//! The `mimi-ref` command line.
//!
//! A thin shell: each subcommand parses its arguments and calls into the
//! library (`mimi_ref`) or, for `check` and `explore`, into the model
//! (`mimi_model`). This binary is the only part of the `mimi-ref` package that
//! sees both halves.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

/// mimi-ref: a formal-model-driven reference implementation of IETF MIMI.
#[derive(Parser, Debug)]
#[command(name = "mimi-ref", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Model-check a configuration and print the property table.
    Check(mimi_model::cli::CheckArgs),
    /// Serve stateright's Explorer web UI for a configuration on loopback.
    Explore(mimi_model::cli::ExploreArgs),
    /// Decode a wire struct, a content message or an identifier and print it as JSON.
    Decode(cli::decode::DecodeArgs),
    /// Print the requirement catalogue's coverage (or validate it with --validate).
    Spec(cli::spec::SpecArgs),
    /// Make a development CA and per-domain TLS certificates (PEM) for `serve`.
    Certs(cli::certs::CertsArgs),
    /// Run one provider (hub, follower) over mutually authenticated HTTPS.
    Serve(cli::serve::ServeArgs),
    /// Three providers on loopback play the six protocol-06 §3 flows over HTTPS with real MLS.
    Demo(cli::demo::DemoArgs),
    /// Re-run the proof obligations in proofs/ and record their results.
    Prove(cli::prove::ProveArgs),
    /// Collect criterion's estimates into benches/RESULTS.md and SVG plots.
    BenchReport(cli::bench_report::BenchReportArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => mimi_model::cli::run_check(&args),
        Command::Explore(args) => mimi_model::cli::run_explore(&args),
        Command::Decode(args) => cli::decode::run(&args),
        Command::Spec(args) => cli::spec::run(&args),
        Command::Certs(args) => cli::certs::run(&args),
        Command::Serve(args) => cli::serve::run(&args),
        Command::Demo(args) => cli::demo::run(&args),
        Command::Prove(args) => cli::prove::run(&args),
        Command::BenchReport(args) => cli::bench_report::run(&args),
    }
}
