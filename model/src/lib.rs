//! mimi-model
