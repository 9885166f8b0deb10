//! The error an audited call returns when its audit trail cannot record it.

use std::fmt;

/// The audit trail cannot write, and it is configured to fail closed: the call was refused
/// before it did anything.
///
/// `#[audited]` functions whose error type implements `From<AuditUnavailable>` (as
/// `Box<dyn Error + Send + Sync>`, `anyhow::Error` and keyward's own errors do) return it.
///
/// # Example
///
/// ```
/// use keyward::audit::AuditUnavailable;
///
/// let err = AuditUnavailable::new("/var/log/bot/audit.jsonl", "No space left on device (os error 28)");
/// assert!(err.to_string().contains("No space left on device"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditUnavailable {
    path: String,
    cause: String,
}

impl AuditUnavailable {
    /// The trail at `path` failed with `cause`.
    pub fn new(path: impl Into<String>, cause: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            cause: cause.into(),
        }
    }

    /// The trail's file.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Why the last write failed.
    pub fn cause(&self) -> &str {
        &self.cause
    }
}

impl fmt::Display for AuditUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "call refused: the audit trail {} cannot be written ({}); free the disk or fix its permissions, \
             or configure the trail to fail open",
            self.path, self.cause
        )
    }
}

impl std::error::Error for AuditUnavailable {}
