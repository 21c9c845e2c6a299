//! Wire structs of draft-ietf-mimi-protocol-06.
pub mod common;
pub mod mls;
