//! Wire structs of draft-ietf-mimi-protocol-06.
