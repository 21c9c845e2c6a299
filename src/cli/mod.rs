//! Subcommands implemented in the binary.
pub mod bench_report;
pub mod decode;
pub mod spec;
