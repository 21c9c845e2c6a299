//! Room policy (draft-ietf-mimi-room-policy-03).
