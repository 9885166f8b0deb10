//! The checkpoint: the sequence number and hash of the last record, replaced atomically.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::record::parse_hash;

/// What a checkpoint file says: record `seq` exists and its line hashes to `hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checkpoint {
    pub(crate) seq: u64,
    pub(crate) hash: [u8; 32],
}

impl Checkpoint {
    /// Writes the checkpoint to a temporary file beside `path` and renames it over `path`, so a
    /// reader sees the old checkpoint or the new one, never a mix.
    pub(crate) fn store(&self, path: &Path, durable: bool) -> io::Result<()> {
        let temporary = temporary_path(path);
        let contents = format!("{{\"seq\":{},\"hash\":\"{}\"}}\n", self.seq, hex::encode(self.hash));
        let mut file = fs::File::create(&temporary)?;
        file.write_all(contents.as_bytes())?;
        if durable {
            file.sync_data()?;
        }
        drop(file);
        fs::rename(&temporary, path)
    }

    /// Reads a checkpoint; `Ok(None)` when the file does not exist.
    pub(crate) fn load(path: &Path) -> Result<Option<Self>, CheckpointProblem> {
        let contents = match fs::read(path) {
            Ok(contents) => contents,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(CheckpointProblem::Unreadable(err)),
        };
        Self::parse(&contents).map(Some).ok_or(CheckpointProblem::Malformed)
    }

    fn parse(contents: &[u8]) -> Option<Self> {
        let value: Value = serde_json::from_slice(contents).ok()?;
        let seq = value.get("seq")?.as_u64()?;
        let hash = parse_hash(value.get("hash")?.as_str()?)?;
        Some(Self { seq, hash })
    }
}

/// Why a checkpoint could not be read.
#[derive(Debug)]
pub(crate) enum CheckpointProblem {
    Unreadable(io::Error),
    Malformed,
}

impl std::fmt::Display for CheckpointProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreadable(err) => write!(f, "cannot be read: {err}"),
            Self::Malformed => f.write_str("is not a keyward checkpoint ({\"seq\":N,\"hash\":\"<64 hex digits>\"})"),
        }
    }
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map_or_else(|| OsString::from("checkpoint"), OsString::from);
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_then_load_round_trips_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.checkpoint");
        let checkpoint = Checkpoint { seq: 12, hash: [7; 32] };
        checkpoint.store(&path, true).unwrap();
        assert_eq!(Checkpoint::load(&path).unwrap(), Some(checkpoint));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn missing_is_none_and_garbage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.checkpoint");
        assert!(Checkpoint::load(&path).unwrap().is_none());
        fs::write(&path, "{\"seq\":1}").unwrap();
        assert!(matches!(Checkpoint::load(&path), Err(CheckpointProblem::Malformed)));
    }
}
