//! Host tests (`cargo test --lib`): the plain-Rust modules, with property tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod host;
mod host_retry;
mod policy;
mod registry_waiting;
