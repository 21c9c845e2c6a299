//! Stand-alone CLI for the model (`check` / `explore`), for use before the root binary
//! wires `mimi_model::cli::{run_check, run_explore}`.

use clap::{Parser, Subcommand};
use mimi_model::cli::{run_check, run_explore, CheckArgs, ExploreArgs};

#[derive(Parser, Debug)]
#[command(name = "mimi-model", about = "Executable model of MIMI (stateright)")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run the model checker.
    Check(CheckArgs),
    /// Serve the stateright Explorer.
    Explore(ExploreArgs),
}

fn main() -> std::process::ExitCode {
    match Cli::parse().cmd {
        Cmd::Check(a) => run_check(&a),
        Cmd::Explore(a) => run_explore(&a),
    }
}
