//! Room policy (draft-ietf-mimi-room-policy-03).
//!
//! * [`capability`]: the capability registry (§8, §10.2);
//! * [`components`]: wire types of every policy component (§3–§7) and their component ids;
//! * [`state`]: the room view the decision reads, actors and changes;
//! * [`authorize`](mod@authorize): the one authorization decision ([`authorize_commit`], with
//!   [`authorize()`] for single changes);
//! * [`denial`]: typed denials; [`validate`]: well-formedness; [`examples`]: the draft's
//!   Appendix A policies.

pub mod authorize;
pub mod capability;
pub mod components;
pub mod denial;
pub mod examples;
pub mod state;
pub mod validate;

pub use authorize::{apply_commit, authorize, authorize_commit};
pub use capability::{Capability, CapabilityType, UnknownCapability};
pub use components::*;
pub use denial::{Denial, SameCommitRule};
pub use state::{
    Actor, Change, ClientId, JoinMethod, MessageAction, MetadataField, Proposal, RoomPolicyState,
    UserId,
};
pub use validate::{validate_base, validate_preauth, validate_roles, validate_state, PolicyError};
