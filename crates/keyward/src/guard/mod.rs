//! The least-privilege guard: endpoints a trading bot never needs are refused before any byte
//! leaves the process.

mod rule;

pub use rule::{EndpointCategory, EndpointRule};
