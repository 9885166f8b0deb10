//! Audit records: what `#[audited]` emits, how it redacts, and where the records go.
//!
//! (Module docs are completed with the macro.)

mod unavailable;

#[cfg(feature = "trail")]
pub mod trail;

pub use unavailable::AuditUnavailable;

/// The `tracing` target of every audit event and span.
pub const TARGET: &str = "keyward::audit";
