//! Why an audit trail could not be set up.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// An [`AuditTrail`](super::AuditTrail) could not be built. The message names the file and the fix.
///
/// # Example
///
/// ```
/// use keyward::audit::trail::AuditTrail;
///
/// let dir = tempfile::tempdir()?;
/// let err = AuditTrail::builder(dir.path()).build().unwrap_err();
/// assert!(err.to_string().contains("not a regular file"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum TrailError {
    /// The trail's file could not be created, opened or read.
    Open {
        /// The trail's file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The path names a directory, a device or a pipe.
    NotRegularFile {
        /// The trail's file.
        path: PathBuf,
    },
    /// The file's last line is incomplete: a crash or a full disk interrupted a write, or the file
    /// was cut.
    TornTail {
        /// The trail's file.
        path: PathBuf,
    },
    /// The file's last records do not form a chain: the file was modified.
    BrokenTail {
        /// The trail's file.
        path: PathBuf,
        /// What does not match.
        reason: String,
    },
    /// The checkpoint cannot be read, or the trail no longer contains the record it names.
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for TrailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open { path, source } => write!(
                f,
                "cannot open the audit trail {}: {source}; check that its directory exists and that this process \
                 may create and append to the file",
                path.display()
            ),
            Self::NotRegularFile { path } => write!(
                f,
                "the audit trail {} is not a regular file; give the trail the path of a file (it is created if missing)",
                path.display()
            ),
            Self::TornTail { path } => write!(
                f,
                "the audit trail {} ends with an incomplete record; run `keyward audit verify {}`, keep the file as \
                 evidence and start the trail at a new path",
                path.display(),
                path.display()
            ),
            Self::BrokenTail { path, reason } => write!(
                f,
                "the audit trail {} was modified: its last records do not chain ({reason}); run `keyward audit verify \
                 {}`, keep the file as evidence and start the trail at a new path",
                path.display(),
                path.display()
            ),
            Self::Checkpoint { path, reason } => write!(
                f,
                "the audit checkpoint {} {reason}; run `keyward audit verify <trail> --checkpoint {}` and, once the \
                 trail is accounted for, start a new trail and checkpoint at new paths",
                path.display(),
                path.display()
            ),
        }
    }
}

impl std::error::Error for TrailError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Open { source, .. } => Some(source),
            _ => None,
        }
    }
}
