//! `keyward audit`: check hash-chained audit trails.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use keyward::audit::trail::{self, VerifyError};

/// Work with audit trails.
#[derive(Debug, Subcommand)]
pub(crate) enum Audit {
    /// Check that a trail is intact: every record parses, is numbered in order and chains to the
    /// one before; with --checkpoint, also that no record was cut from its end.
    ///
    /// Prints `ok: N records, head <hash>` and exits 0 when intact; prints the first bad line and
    /// why on stderr and exits 1 when not; exits 2 when a file cannot be read.
    Verify(Verify),
}

impl Audit {
    pub(crate) fn run(self) -> ExitCode {
        match self {
            Self::Verify(verify) => verify.run(),
        }
    }
}

/// The arguments of `keyward audit verify`.
#[derive(Debug, Args)]
pub(crate) struct Verify {
    /// The trail file (JSON lines written by keyward's AuditTrail).
    file: PathBuf,
    /// The checkpoint file the trail keeps beside it; detects records removed from the end.
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
}

/// The trail has a bad line.
const EXIT_TAMPERED: u8 = 1;
/// A file could not be read.
const EXIT_UNREADABLE: u8 = 2;

impl Verify {
    pub(crate) fn run(self) -> ExitCode {
        match trail::verify(&self.file, self.checkpoint.as_deref()) {
            Ok(report) => {
                let printed = writeln!(
                    io::stdout().lock(),
                    "ok: {} records, head {}",
                    report.records,
                    report.head_hash
                );
                // A closed stdout (`| head`) is not a failed verification, but nothing was shown.
                if printed.is_err() {
                    ExitCode::from(EXIT_UNREADABLE)
                } else {
                    ExitCode::SUCCESS
                }
            }
            Err(err) => {
                let code = if err.is_unreadable() {
                    EXIT_UNREADABLE
                } else {
                    EXIT_TAMPERED
                };
                report_failure(&self, &err);
                ExitCode::from(code)
            }
        }
    }
}

fn report_failure(verify: &Verify, err: &VerifyError) {
    let mut stderr = io::stderr().lock();
    let _ = if err.is_unreadable() {
        writeln!(stderr, "error: {err}")
    } else {
        writeln!(stderr, "FAILED: {}: {err}", verify.file.display())
    };
}
