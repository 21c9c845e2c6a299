//! MIMI content format (draft-ietf-mimi-content-08).
