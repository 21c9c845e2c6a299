//! Subcommands implemented in the binary.
pub mod decode;
pub mod spec;
