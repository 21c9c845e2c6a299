//! # mimi-ref
//!
//! The implementation half of mimi-ref, a formal-model-driven reference
//! implementation of the IETF MIMI protocol suite. See `DESIGN.md` in the
//! shared folder and the repository README for the architecture.
//!
//! Layers, bottom-up:
//! * [`wire`]: the TLS presentation-language structs of draft-ietf-mimi-protocol-06;
//! * [`uri`]: `mimi://` identifiers;
//! * [`content`]: the MIMI content format of draft-ietf-mimi-content-08 (CBOR);
//! * [`policy`]: room policy of draft-ietf-mimi-room-policy-03 and the authorization decision;
//! * [`http`]: the HTTPS binding (mutual TLS, endpoints, durable fanout queues) of protocol-06 §4.1, §5.
#![deny(missing_docs)]

pub mod client;
pub mod content;
pub mod follower;
pub mod http;
pub mod hub;
pub mod policy;
pub mod provider;
pub mod room;
pub mod sim;
pub mod uri;
pub mod wire;
