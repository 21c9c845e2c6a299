//! Subcommands implemented in the binary.
pub mod decode;
pub mod prove;
pub mod spec;
