//! Wire structs of draft-ietf-mimi-protocol-06.
pub mod abuse;
pub mod common;
pub mod consent;
pub mod fanout;
pub mod franking;
pub mod group_info;
pub mod identifier;
pub mod key_material;
pub mod mls;
pub mod mmr;
pub mod room;
pub mod submit;
pub mod update;
