//! `mimi://` identifiers (protocol-06 §3, draft-mahy-mimi-identity).
