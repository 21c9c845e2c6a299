//! Shared test support for the wire tests: real MLS fixtures and proptest strategies.
#![allow(dead_code)]

pub mod fixtures;
pub mod strategies;
