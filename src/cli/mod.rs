//! Subcommands implemented in the binary.
pub mod bench_report;
pub mod certs;
pub mod decode;
pub mod demo;
pub mod prove;
pub mod serve;
pub mod spec;
