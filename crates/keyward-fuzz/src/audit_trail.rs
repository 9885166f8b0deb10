//! Target `audit_trail`: the audit-trail verifier on corrupted files.

use keyward::audit::trail::{self, AuditTrail, VerifyReport};
use sha2::{Digest, Sha256};
use std::{
    fs,
    path::{Path, PathBuf},
    sync::OnceLock,
};
use tracing_subscriber::layer::SubscriberExt;

/// A trail and its checkpoint as the trail writer wrote them, and its records' hashes.
struct Honest {
    trail: Vec<u8>,
    checkpoint: Vec<u8>,
    /// The hex SHA-256 of each line, in order.
    hashes: Vec<String>,
}

impl Honest {
    fn lines(&self) -> Vec<&[u8]> {
        lines(&self.trail)
    }
}

/// Where each run writes the files it verifies.
struct Scratch {
    _dir: tempfile::TempDir,
    trail: PathBuf,
    checkpoint: PathBuf,
}

thread_local! {
    static SCRATCH: Option<Scratch> = tempfile::tempdir().ok().map(|dir| Scratch {
        trail: dir.path().join("audit.jsonl"),
        checkpoint: dir.path().join("audit.checkpoint"),
        _dir: dir,
    });
}

/// Verifies a corrupted trail. The first byte picks what the rest is:
///
/// - `0` (mod 3): a whole trail file, verified alone and with the honest trail's checkpoint;
/// - `1`: edits to an honest trail written by the trail writer, 4 bytes each
///   (`[operation, position high, position low, byte]`: overwrite, delete or insert a byte,
///   truncate, drop, duplicate or swap a line), verified alone and with its checkpoint;
/// - `2`: a checkpoint file, verified with the honest trail.
///
/// Checks the documented guarantees: an edited trail verifies alone only if every line but the
/// last is the honest trail's (the chain cannot see the tail cut or its last record rewritten); with
/// the checkpoint, only if it starts with the whole honest trail (records after the checkpoint
/// are allowed); a checkpoint verifies only if it names a real record's hash; and an `Ok`
/// counts the file's lines and names the last one's hash.
pub fn audit_trail(data: &[u8]) {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    let honest = honest();
    SCRATCH.with(|scratch| {
        let Some(scratch) = scratch else {
            return;
        };
        match mode % 3 {
            0 => check_trail(honest, scratch, rest, Origin::Anyone),
            1 => check_trail(honest, scratch, &edited(&honest.trail, rest), Origin::EditedHonest),
            _ => check_checkpoint(honest, scratch, rest),
        }
    });
}

/// Where a trail under test came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Any bytes: the chain has no key, so anyone can write a trail that verifies alone.
    Anyone,
    /// The honest trail, edited without recomputing any hash.
    EditedHonest,
}

fn check_trail(honest: &Honest, scratch: &Scratch, trail: &[u8], origin: Origin) {
    write(&scratch.trail, trail);
    write(&scratch.checkpoint, &honest.checkpoint);
    let honest_lines = honest.lines();
    if let Ok(report) = trail::verify(&scratch.trail, None) {
        check_report(&report, trail);
        let lines = lines(trail);
        let all_but_last = &lines[..lines.len().saturating_sub(1)];
        assert!(
            origin == Origin::Anyone
                || (all_but_last.len() <= honest_lines.len() && honest_lines[..all_but_last.len()] == *all_but_last),
            "an edited trail verifies although a record before its last was changed"
        );
    }
    if let Ok(report) = trail::verify(&scratch.trail, Some(&scratch.checkpoint)) {
        check_report(&report, trail);
        assert!(
            trail.starts_with(&honest.trail),
            "a trail that is not the whole honest one verifies against its checkpoint"
        );
    }
}

fn check_checkpoint(honest: &Honest, scratch: &Scratch, checkpoint: &[u8]) {
    write(&scratch.trail, &honest.trail);
    write(&scratch.checkpoint, checkpoint);
    if trail::verify(&scratch.trail, Some(&scratch.checkpoint)).is_ok() {
        let named = String::from_utf8_lossy(checkpoint).to_ascii_lowercase();
        let zeros = "0".repeat(64);
        assert!(
            named.contains(&zeros) || honest.hashes.iter().any(|hash| named.contains(hash.as_str())),
            "a checkpoint that names no record of the trail verifies"
        );
    }
}

fn check_report(report: &VerifyReport, trail: &[u8]) {
    let lines = lines(trail);
    assert_eq!(report.records, lines.len() as u64, "the report miscounts the records");
    let head = lines
        .last()
        .map_or_else(|| "0".repeat(64), |line| hex::encode(Sha256::digest(line)));
    assert_eq!(report.head_hash, head, "the report names another head");
}

/// The lines of `text`, without their newlines; a last line without one is a line too.
fn lines(text: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = text.split(|byte| *byte == b'\n').collect();
    if text.is_empty() || text.ends_with(b"\n") {
        lines.pop();
    }
    lines
}

fn write(path: &Path, contents: &[u8]) {
    if let Err(err) = fs::write(path, contents) {
        panic!("cannot write the scratch file {}: {err}", path.display());
    }
}

/// The size past which no more edits are applied.
const MAX_EDITED_BYTES: usize = 64 * 1024;

/// `trail` with the edits of `ops` applied (see [`audit_trail`]).
fn edited(trail: &[u8], ops: &[u8]) -> Vec<u8> {
    let mut text = trail.to_vec();
    for op in ops.chunks_exact(4) {
        // Duplicating the only line of a text doubles it: a few dozen of those would fill memory.
        if text.len() > MAX_EDITED_BYTES {
            break;
        }
        let position = usize::from(u16::from_be_bytes([op[1], op[2]]));
        let byte = op[3];
        let at = position % (text.len() + 1);
        match op[0] % 7 {
            0 if at < text.len() => text[at] = byte,
            1 if at < text.len() => {
                text.remove(at);
            }
            2 => text.insert(at, byte),
            3 => text.truncate(at),
            line_op => {
                let mut lines: Vec<Vec<u8>> = text
                    .split_inclusive(|byte| *byte == b'\n')
                    .map(<[u8]>::to_vec)
                    .collect();
                if lines.is_empty() {
                    continue;
                }
                let line = position % lines.len();
                match line_op {
                    4 => {
                        lines.remove(line);
                    }
                    5 => lines.insert(line, lines[line].clone()),
                    6 if line + 1 < lines.len() => lines.swap(line, line + 1),
                    _ => {}
                }
                text = lines.concat();
            }
        }
    }
    text
}

fn honest() -> &'static Honest {
    static HONEST: OnceLock<Honest> = OnceLock::new();
    HONEST.get_or_init(write_honest_trail)
}

/// Writes a trail of a few audited calls with the trail writer, and reads it back.
fn write_honest_trail() -> Honest {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(err) => panic!("cannot create a folder for the honest trail: {err}"),
    };
    let trail_path = dir.path().join("audit.jsonl");
    let checkpoint_path = dir.path().join("audit.checkpoint");
    let trail = match AuditTrail::builder(&trail_path).checkpoint(&checkpoint_path).build() {
        Ok(trail) => trail,
        Err(err) => panic!("cannot open the honest trail: {err}"),
    };
    tracing::subscriber::with_default(tracing_subscriber::registry().with(trail), || {
        let span = tracing::info_span!(target: keyward::audit::TARGET, "place_order");
        let _entered = span.enter();
        tracing::info!(target: keyward::audit::TARGET, call = "place_order", outcome = "ok", elapsed_us = 812_u64,
            symbol = "BTCUSDT", quantity = 0.5, api_key = "…cdef", api_secret = "[REDACTED]", exchange = "binance");
        tracing::info!(target: keyward::audit::TARGET, call = "balance", outcome = "err", elapsed_us = 95_u64,
            error = "exchange rejected the request (invalid_signature, HTTP 400, code -1022): bad", exchange = "okx");
        tracing::warn!(target: keyward::audit::TARGET, call = "cancel", outcome = "cancelled", note = "é ü \" \\ \n");
        tracing::info!(target: keyward::audit::TARGET, call = "ping", outcome = "ok", ret = true, nan = f64::NAN);
    });
    let read = |path: &Path| match fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => panic!("cannot read back {}: {err}", path.display()),
    };
    let trail = read(&trail_path);
    let checkpoint = read(&checkpoint_path);
    let hashes = lines(&trail)
        .iter()
        .map(|line| hex::encode(Sha256::digest(line)))
        .collect();
    Honest {
        trail,
        checkpoint,
        hashes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_honest_trail_verifies_and_has_every_record() {
        let honest = honest();
        assert_eq!(honest.lines().len(), 4);
        let dir = tempfile::tempdir().unwrap();
        let (trail, checkpoint) = (dir.path().join("t"), dir.path().join("c"));
        fs::write(&trail, &honest.trail).unwrap();
        fs::write(&checkpoint, &honest.checkpoint).unwrap();
        assert_eq!(trail::verify(&trail, Some(&checkpoint)).unwrap().records, 4);
    }

    #[test]
    fn edits_change_the_trail_as_described() {
        let trail = b"a\nb\nc\n";
        assert_eq!(edited(trail, &[0, 0, 0, b'x']), b"x\nb\nc\n");
        assert_eq!(edited(trail, &[3, 0, 2, 0]), b"a\n");
        assert_eq!(edited(trail, &[4, 0, 1, 0]), b"a\nc\n");
        assert_eq!(edited(trail, &[5, 0, 0, 0]), b"a\na\nb\nc\n");
        assert_eq!(edited(trail, &[6, 0, 1, 0]), b"a\nc\nb\n");
    }

    /// Writes the seeds of `fuzz/corpus/audit_trail/` from a trail the trail writer writes now:
    /// `cargo test -p keyward-fuzz -- --ignored write_seeds`.
    #[test]
    #[ignore = "rewrites the committed seed corpus"]
    fn write_seeds() {
        let honest = honest();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/audit_trail");
        fs::create_dir_all(&dir).unwrap();
        let last_line_start = honest.trail[..honest.trail.len() - 1]
            .iter()
            .rposition(|byte| *byte == b'\n')
            .unwrap()
            + 1;
        let [high, low] = u16::try_from(last_line_start).unwrap().to_be_bytes();
        let seeds: [(&str, Vec<u8>); 10] = [
            ("honest-trail", [&[0][..], &honest.trail].concat()),
            (
                "torn-tail",
                [&[0][..], &honest.trail[..honest.trail.len() - 1]].concat(),
            ),
            ("empty-trail", vec![0]),
            ("honest-checkpoint", [&[2][..], &honest.checkpoint].concat()),
            (
                "checkpoint-of-nothing",
                [
                    &[2][..],
                    format!("{{\"seq\":0,\"hash\":\"{}\"}}", "0".repeat(64)).as_bytes(),
                ]
                .concat(),
            ),
            ("edit-flip-a-byte", vec![1, 0, 0, 40, b'X']),
            ("edit-cut-the-last-record", vec![1, 3, high, low, 0]),
            ("edit-swap-two-records", vec![1, 6, 0, 1, 0]),
            ("edit-drop-the-first-record", vec![1, 4, 0, 0, 0]),
            ("edit-split-a-record", vec![1, 2, 0, 100, b'\n']),
        ];
        for (name, seed) in seeds {
            fs::write(dir.join(name), seed).unwrap();
        }
    }

    #[test]
    fn a_cut_tail_passes_the_chain_but_not_the_checkpoint() {
        let honest = honest();
        let last_line_start = honest.trail[..honest.trail.len() - 1]
            .iter()
            .rposition(|byte| *byte == b'\n')
            .unwrap()
            + 1;
        let [high, low] = u16::try_from(last_line_start).unwrap().to_be_bytes();
        audit_trail(&[1, 3, high, low, 0]);
        let dir = tempfile::tempdir().unwrap();
        let (trail, checkpoint) = (dir.path().join("t"), dir.path().join("c"));
        fs::write(&trail, &honest.trail[..last_line_start]).unwrap();
        fs::write(&checkpoint, &honest.checkpoint).unwrap();
        assert_eq!(trail::verify(&trail, None).unwrap().records, 3);
        assert!(trail::verify(&trail, Some(&checkpoint)).is_err());
    }
}
