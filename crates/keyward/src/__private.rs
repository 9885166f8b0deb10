//! Support for the code `#[audited]` generates. Not public API: it may change in any release.
pub use tracing;
