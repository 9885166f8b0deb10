//! Checking a trail file: every record parses, is numbered in order and chains to the one before.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::checkpoint::{Checkpoint, CheckpointProblem};
use super::record::{GENESIS_HASH, hash_line, parse_chain_fields};

/// An intact trail: how many records it holds and the hash of the last one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyReport {
    /// The number of records (lines).
    pub records: u64,
    /// The hex SHA-256 of the last record's line (64 zeros for an empty trail): ship it
    /// somewhere the trail's host cannot rewrite, and a later verify can be compared with it.
    pub head_hash: String,
}

/// Why a trail did not verify: the first line at which the trail does not hold, and why.
#[derive(Debug)]
#[non_exhaustive]
pub struct VerifyError {
    /// The 1-based line at which the trail first does not hold; 0 when a file could not be read
    /// at all.
    pub line: u64,
    /// What is wrong.
    pub reason: VerifyFailure,
}

impl VerifyError {
    fn at(line: u64, reason: VerifyFailure) -> Self {
        Self { line, reason }
    }

    /// Whether a file could not be read (rather than read and found wrong).
    pub fn is_unreadable(&self) -> bool {
        matches!(
            self.reason,
            VerifyFailure::Unreadable { .. } | VerifyFailure::CheckpointUnreadable { .. }
        )
    }
}

/// What is wrong with a trail.
#[derive(Debug)]
#[non_exhaustive]
pub enum VerifyFailure {
    /// The trail file could not be opened or read.
    Unreadable {
        /// The trail file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The checkpoint file could not be read or is not a checkpoint.
    CheckpointUnreadable {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The last line has no newline: a write was interrupted or the file was cut mid-record.
    TornTail,
    /// The line is not a trail record.
    NotARecord(String),
    /// The line's `seq` is not the one after the previous line's.
    WrongSeq {
        /// The `seq` this line must have.
        expected: u64,
        /// The `seq` it has.
        found: u64,
    },
    /// The line's `prev` is not the hash of the line before it.
    BrokenLink,
    /// The checkpoint names a record past the end of the trail: records were removed from its end.
    Truncated {
        /// The last record the checkpoint vouches for.
        checkpoint_seq: u64,
        /// How many records the trail still has.
        records: u64,
    },
    /// The record the checkpoint names has a different hash: it, or a record before it, was
    /// rewritten.
    CheckpointMismatch,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = self.line;
        match &self.reason {
            VerifyFailure::Unreadable { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            VerifyFailure::CheckpointUnreadable { path, problem } => {
                write!(f, "the checkpoint {} {problem}", path.display())
            }
            VerifyFailure::TornTail => write!(
                f,
                "line {line}: incomplete last record (no newline): a write was interrupted or the file was cut"
            ),
            VerifyFailure::NotARecord(why) => write!(f, "line {line}: {why}"),
            VerifyFailure::WrongSeq { expected, found } if found > expected => write!(
                f,
                "line {line}: seq {found} where {expected} was expected: records were removed before this line, \
                 or records were reordered"
            ),
            VerifyFailure::WrongSeq { expected, found } => write!(
                f,
                "line {line}: seq {found} where {expected} was expected: a record was inserted or records were reordered"
            ),
            VerifyFailure::BrokenLink if line == 1 => {
                write!(
                    f,
                    "line 1: prev is not 64 zeros: records were removed from the start of the trail"
                )
            }
            VerifyFailure::BrokenLink => write!(
                f,
                "line {line}: prev does not match the hash of line {}: one of the two lines was altered, or records \
                 between them were removed or inserted",
                line - 1
            ),
            VerifyFailure::Truncated {
                checkpoint_seq,
                records,
            } => write!(
                f,
                "line {line}: missing: the checkpoint vouches for {checkpoint_seq} records but the trail ends after \
                 {records}: records were removed from its end"
            ),
            VerifyFailure::CheckpointMismatch => write!(
                f,
                "line {line}: its hash differs from the checkpoint's: this record, or one before it, was rewritten"
            ),
        }
    }
}

impl std::error::Error for VerifyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.reason {
            VerifyFailure::Unreadable { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Checks the trail at `path`, and with `checkpoint` also that it was not cut short.
///
/// Reads the file once, front to back, holding one line at a time. See the
/// [module docs](super#what-verification-detects) for what this detects and what it cannot.
///
/// # Errors
///
/// The first line at which the trail does not hold, or an unreadable file.
pub fn verify(path: impl AsRef<Path>, checkpoint: Option<&Path>) -> Result<VerifyReport, VerifyError> {
    let path = path.as_ref();
    let vouched = match checkpoint {
        None => None,
        Some(checkpoint_path) => match Checkpoint::load(checkpoint_path) {
            Ok(Some(vouched)) => Some(vouched),
            Ok(None) => {
                return Err(VerifyError::at(
                    0,
                    VerifyFailure::CheckpointUnreadable {
                        path: checkpoint_path.to_path_buf(),
                        problem: "does not exist".into(),
                    },
                ));
            }
            Err(problem) => {
                let problem = match problem {
                    CheckpointProblem::Unreadable(err) => format!("cannot be read: {err}"),
                    malformed @ CheckpointProblem::Malformed => malformed.to_string(),
                };
                return Err(VerifyError::at(
                    0,
                    VerifyFailure::CheckpointUnreadable {
                        path: checkpoint_path.to_path_buf(),
                        problem,
                    },
                ));
            }
        },
    };
    let unreadable = |source| {
        VerifyError::at(
            0,
            VerifyFailure::Unreadable {
                path: path.to_path_buf(),
                source,
            },
        )
    };
    let mut reader = BufReader::new(File::open(path).map_err(unreadable)?);
    let mut line = Vec::new();
    let mut records = 0;
    let mut head = GENESIS_HASH;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(unreadable)? == 0 {
            break;
        }
        let number = records + 1;
        let Some(content) = line.strip_suffix(b"\n") else {
            return Err(VerifyError::at(number, VerifyFailure::TornTail));
        };
        let chain =
            parse_chain_fields(content).map_err(|why| VerifyError::at(number, VerifyFailure::NotARecord(why)))?;
        if chain.seq != number {
            return Err(VerifyError::at(
                number,
                VerifyFailure::WrongSeq {
                    expected: number,
                    found: chain.seq,
                },
            ));
        }
        if chain.prev != head {
            return Err(VerifyError::at(number, VerifyFailure::BrokenLink));
        }
        head = hash_line(content);
        records = number;
        if vouched.is_some_and(|vouched| vouched.seq == number && vouched.hash != head) {
            return Err(VerifyError::at(number, VerifyFailure::CheckpointMismatch));
        }
    }
    if let Some(vouched) = vouched {
        if vouched.seq > records {
            return Err(VerifyError::at(
                records + 1,
                VerifyFailure::Truncated {
                    checkpoint_seq: vouched.seq,
                    records,
                },
            ));
        }
        if vouched.seq == 0 && vouched.hash != GENESIS_HASH {
            return Err(VerifyError::at(0, VerifyFailure::CheckpointMismatch));
        }
    }
    Ok(VerifyReport {
        records,
        head_hash: hex::encode(head),
    })
}
