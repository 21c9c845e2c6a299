//! # mimi-model: an executable model of MIMI
//!
//! A hand-written [`stateright::Model`] of the IETF MIMI protocol suite
//! (draft-ietf-mimi-protocol-06, draft-ietf-mimi-room-policy-03, and the metadata
//! minimization work): one hub, followers, clients, one or more rooms; MLS abstract (epochs,
//! member sets, pending proposals, a GroupContext copy of the room state);
//! cryptography symbolic.
//!
//! * [`config`]: TOML configurations (embedded `small`, `default`, …, or a file).
//! * [`state`]: the state (hub, per-provider views, clients, network, ghost variables,
//!   metadata knowledge).
//! * [`policy`]: the model's own room-policy code.
//! * [`model`], `client.rs`, `hub.rs`, `follower.rs`: transitions, each citing its draft section.
//! * [`properties`]: named `P-…` properties and their catalogue.
//! * [`variants`], [`mutations`]: spec variants and mutation witnesses.
//! * [`symmetry`]: symmetry reduction over interchangeable clients of one user and
//!   interchangeable users of one provider.
//! * [`msc`]: counterexample → message-sequence chart (text and Mermaid).
//! * [`cli`], [`explorer`]: the `check` and `explore` entry points.
//!
//! The crate imports nothing from the implementation crate `mimi-ref`.
#![deny(missing_docs)]

pub mod cli;
mod client;
pub mod config;
pub mod explorer;
mod follower;
pub mod hub;
pub mod model;
pub mod msc;
pub mod mutations;
pub mod ops;
pub mod policy;
pub mod properties;
pub mod state;
pub mod symmetry;
pub mod variants;

pub use model::MimiModel;
pub use properties::{property_catalogue, PropertyInfo};
