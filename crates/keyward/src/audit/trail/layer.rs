//! The `tracing_subscriber::Layer` that appends audit events to the chained file.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use time::OffsetDateTime;
use tracing::dispatcher::WeakDispatch;
use tracing::{Dispatch, Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::checkpoint::{Checkpoint, CheckpointProblem};
use super::error::TrailError;
use super::record::{ChainFields, FieldsJson, GENESIS_HASH, PendingRecord, hash_line, parse_chain_fields};
use crate::audit::{AuditUnavailable, TARGET};

/// The `tracing` target of the trail's own reports about itself (write failures, recovery).
const SELF_TARGET: &str = "keyward::audit::trail";

/// How far each record is pushed towards the disk before the audited call goes on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncPolicy {
    /// Hand each record to the operating system (one `write` and a flush): it survives a crash
    /// of the process, not of the machine.
    #[default]
    Flush,
    /// Also `fsync` the data of each record (and its checkpoint): it survives a power loss, at
    /// the cost of a disk round trip per record.
    Data,
}

/// What happens to audited calls while records cannot be written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailurePolicy {
    /// Report the failure loudly, drop and count the records, and let calls go on.
    #[default]
    FailOpen,
    /// The same, and [`AuditTrail::refusal`] returns the failure, so that `#[audited]` calls are
    /// refused until a record is written again.
    FailClosed,
}

/// How a trail is doing, for a health endpoint or a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrailHealth {
    /// Records written by this trail since it was built.
    pub records_written: u64,
    /// Records that could not be written and were dropped.
    pub records_dropped: u64,
    /// Whether the last attempt (to write a record or its checkpoint) failed.
    pub failing: bool,
}

/// Builds an [`AuditTrail`]; made by [`AuditTrail::builder`].
#[derive(Debug, Clone)]
#[must_use = "call .build() to open the trail"]
pub struct AuditTrailBuilder {
    path: PathBuf,
    sync: SyncPolicy,
    failure: FailurePolicy,
    checkpoint: Option<PathBuf>,
}

impl AuditTrailBuilder {
    /// How far each record is pushed towards the disk; [`SyncPolicy::Flush`] by default.
    pub fn sync(mut self, policy: SyncPolicy) -> Self {
        self.sync = policy;
        self
    }

    /// What happens while records cannot be written; [`FailurePolicy::FailOpen`] by default.
    pub fn on_write_failure(mut self, policy: FailurePolicy) -> Self {
        self.failure = policy;
        self
    }

    /// After each record, atomically replace the file at `path` with that record's sequence
    /// number and hash, so that [`verify`](super::verify) detects records cut from the end.
    /// Keep it on another disk or host if you can: see the [module docs](super#what-verification-detects).
    ///
    /// Off by default. A checkpoint that cannot be written makes the trail count as failing (see
    /// [`FailurePolicy`]), although the record itself was written.
    pub fn checkpoint(mut self, path: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some(path.into());
        self
    }

    /// Opens (or creates) the trail and checks that its last records chain, so that new records
    /// continue the chain.
    ///
    /// # Errors
    ///
    /// The path is not a regular file or cannot be opened; the file ends with an incomplete
    /// record or its last records do not chain; the checkpoint is unreadable or names a record the
    /// file no longer has.
    pub fn build(self) -> Result<AuditTrail, TrailError> {
        let open_error = |source| TrailError::Open {
            path: self.path.clone(),
            source,
        };
        // Checked before opening, because opening a pipe for writing would block.
        match fs::metadata(&self.path) {
            Ok(metadata) if !metadata.is_file() => return Err(TrailError::NotRegularFile { path: self.path }),
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(open_error(err)),
        }
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        // Records name accounts, symbols and amounts: readable by the owner only, when created.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&self.path).map_err(open_error)?;
        let tail = read_tail(&mut file, &self.path)?;
        if let Some(checkpoint_path) = &self.checkpoint {
            reconcile_checkpoint(checkpoint_path, &tail)?;
            tail.head()
                .store(checkpoint_path, self.sync == SyncPolicy::Data)
                .map_err(|err| TrailError::Checkpoint {
                    path: checkpoint_path.clone(),
                    reason: format!("cannot be written: {err}"),
                })?;
        }
        let writer = ChainWriter {
            sink: Box::new(file),
            sync: self.sync,
            checkpoint: self.checkpoint,
            next_seq: tail.last_seq + 1,
            prev: tail.last_hash,
            good_len: tail.len,
            needs_repair: false,
        };
        Ok(AuditTrail::from_writer(self.path, self.failure, writer))
    }
}

/// A `tracing_subscriber` layer that appends every event whose target is exactly
/// [`keyward::audit`](crate::audit::TARGET) to a hash-chained file, one JSON line per event.
///
/// See the [module docs](super) for the record format and an example.
pub struct AuditTrail {
    path: PathBuf,
    failure: FailurePolicy,
    writer: Mutex<ChainWriter>,
    written: AtomicU64,
    dropped: AtomicU64,
    failing: AtomicBool,
    last_failure: Mutex<Option<String>>,
    /// The dispatcher this trail is part of, for its own reports; weak, since it owns the trail.
    dispatch: OnceLock<WeakDispatch>,
}

impl AuditTrail {
    /// Starts building a trail that writes to the file at `path`.
    pub fn builder(path: impl Into<PathBuf>) -> AuditTrailBuilder {
        AuditTrailBuilder {
            path: path.into(),
            sync: SyncPolicy::default(),
            failure: FailurePolicy::default(),
            checkpoint: None,
        }
    }

    fn from_writer(path: PathBuf, failure: FailurePolicy, writer: ChainWriter) -> Self {
        Self {
            path,
            failure,
            writer: Mutex::new(writer),
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            failing: AtomicBool::new(false),
            last_failure: Mutex::new(None),
            dispatch: OnceLock::new(),
        }
    }

    /// The trail's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Why audited calls must be refused now: `Some` while a trail configured with
    /// [`FailurePolicy::FailClosed`] is failing to write, `None` otherwise.
    ///
    /// `#[audited]` finds the trail with `Dispatch::downcast_ref::<AuditTrail>()` and calls this
    /// before each call. The next record that is written clears it.
    pub fn refusal(&self) -> Option<AuditUnavailable> {
        if self.failure == FailurePolicy::FailOpen || !self.failing.load(Ordering::Acquire) {
            return None;
        }
        let cause = self
            .last_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_else(|| "unknown write failure".to_owned());
        Some(AuditUnavailable::new(self.path.display().to_string(), cause))
    }

    /// Counts of written and dropped records, and whether the trail is failing.
    pub fn health(&self) -> TrailHealth {
        TrailHealth {
            records_written: self.written.load(Ordering::Relaxed),
            records_dropped: self.dropped.load(Ordering::Relaxed),
            failing: self.failing.load(Ordering::Acquire),
        }
    }

    fn record(&self, pending: &PendingRecord) {
        // The lock is released before reporting: the report is itself a `tracing` event, and
        // other layers may call back into this trail (`refusal`) while handling it.
        let outcome = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .append(pending);
        match outcome {
            Outcome::Written => {
                self.written.fetch_add(1, Ordering::Relaxed);
                self.recovered();
            }
            Outcome::CheckpointFailed(cause) => {
                self.written.fetch_add(1, Ordering::Relaxed);
                self.failed(format!("the checkpoint cannot be written: {cause}"));
            }
            Outcome::Dropped(cause) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                self.failed(cause);
            }
        }
    }

    fn failed(&self, cause: String) {
        *self.last_failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(cause.clone());
        if self.failing.swap(true, Ordering::AcqRel) {
            return;
        }
        let consequence = match self.failure {
            FailurePolicy::FailOpen => "audit records are being dropped",
            FailurePolicy::FailClosed => "audited calls are refused",
        };
        self.shout(&format!(
            "keyward: the audit trail {} cannot be written ({cause}); {consequence} until it can",
            self.path.display()
        ));
        let path = self.path.display().to_string();
        let policy = self.failure;
        self.report_to_log(move || {
            tracing::error!(
                target: SELF_TARGET,
                path,
                cause,
                ?policy,
                "audit trail write failed; {consequence} until a write succeeds",
            );
        });
    }

    fn recovered(&self) {
        // A plain load first: every record passes here, and a swap would write the cache line.
        if !self.failing.load(Ordering::Acquire) || !self.failing.swap(false, Ordering::AcqRel) {
            return;
        }
        *self.last_failure.lock().unwrap_or_else(PoisonError::into_inner) = None;
        let path = self.path.display().to_string();
        let dropped_so_far = self.dropped.load(Ordering::Relaxed);
        self.report_to_log(move || {
            tracing::warn!(target: SELF_TARGET, path, dropped_so_far, "audit trail writing again");
        });
    }

    /// Emits the trail's own event into the subscriber the trail belongs to.
    ///
    /// `tracing` silently drops events emitted on a thread while that thread's subscriber is
    /// handling another event, which is where the trail finds out about failures. A short-lived
    /// thread (once per failure streak, so rarely) emits the event there instead, through the
    /// dispatcher captured in `on_register_dispatch` (the global one if none was), and is joined,
    /// so the report is in the log before the failing event returns.
    fn report_to_log(&self, emit: impl FnOnce() + Send) {
        let dispatch = self.dispatch.get().and_then(WeakDispatch::upgrade);
        std::thread::scope(|scope| {
            let spawned = std::thread::Builder::new()
                .name("keyward-audit-report".into())
                .spawn_scoped(scope, move || match dispatch {
                    Some(dispatch) => tracing::dispatcher::with_default(&dispatch, emit),
                    None => emit(),
                });
            // Without a thread the stderr line is the only report; nothing else to do.
            if let Ok(reporter) = spawned {
                let _ = reporter.join();
            }
        });
    }

    /// Straight to stderr, because the failing trail may be the only log this process has.
    #[allow(
        clippy::print_stderr,
        reason = "a failing audit trail must be visible even without a log"
    )]
    fn shout(&self, message: &str) {
        eprintln!("{message}");
    }
}

impl<S> Layer<S> for AuditTrail
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    fn on_register_dispatch(&self, dispatch: &Dispatch) {
        // The first registration wins: a trail belongs to one subscriber.
        let _ = self.dispatch.set(dispatch.downgrade());
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        if metadata.target() != TARGET {
            return;
        }
        let mut fields = FieldsJson::default();
        event.record(&mut fields);
        let spans = ctx
            .event_scope(event)
            .map(|scope| {
                scope
                    .from_root()
                    .filter(|span| span.metadata().target() == TARGET)
                    .map(|span| span.name())
                    .collect()
            })
            .unwrap_or_default();
        self.record(&PendingRecord {
            level: metadata.level().as_str(),
            target: metadata.target().to_owned(),
            spans,
            fields,
        });
    }
}

impl fmt::Debug for AuditTrail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditTrail")
            .field("path", &self.path)
            .field("failure", &self.failure)
            .field("health", &self.health())
            .finish_non_exhaustive()
    }
}

/// Where the lines go: the trail's file, or a test double that fails on demand.
pub(crate) trait Sink: Send {
    /// Appends all of `bytes` in one call, or fails.
    fn append(&mut self, bytes: &[u8]) -> io::Result<()>;
    fn flush(&mut self) -> io::Result<()>;
    fn sync_data(&mut self) -> io::Result<()>;
    /// Cuts the file back to `len` bytes, removing a partly written line.
    fn truncate(&mut self, len: u64) -> io::Result<()>;
}

impl Sink for File {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        // The file is opened for appending, so every write lands at the current end, also
        // after a truncation.
        self.write_all(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        Write::flush(self)
    }

    fn sync_data(&mut self) -> io::Result<()> {
        File::sync_data(self)
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.set_len(len)
    }
}

/// The chain's state; only touched under the trail's lock, so seq and prev are assigned in the
/// order the lines reach the file.
pub(crate) struct ChainWriter {
    pub(crate) sink: Box<dyn Sink>,
    pub(crate) sync: SyncPolicy,
    pub(crate) checkpoint: Option<PathBuf>,
    pub(crate) next_seq: u64,
    pub(crate) prev: [u8; 32],
    /// The file's length after the last complete record.
    pub(crate) good_len: u64,
    /// A failed write could not be cut back: nothing may be appended until it is.
    pub(crate) needs_repair: bool,
}

enum Outcome {
    Written,
    CheckpointFailed(String),
    Dropped(String),
}

impl ChainWriter {
    fn append(&mut self, pending: &PendingRecord) -> Outcome {
        if self.needs_repair {
            if let Err(err) = self.sink.truncate(self.good_len) {
                return Outcome::Dropped(format!("a partly written record cannot be removed: {err}"));
            }
            self.needs_repair = false;
        }
        let line = pending.to_line(self.next_seq, OffsetDateTime::now_utc(), &self.prev);
        if let Err(err) = self.write_durably(line.as_bytes()) {
            // Whatever part of the line reached the file would tear the chain: cut it off.
            self.needs_repair = self.sink.truncate(self.good_len).is_err();
            return Outcome::Dropped(err.to_string());
        }
        let content = line.strip_suffix('\n').unwrap_or(&line);
        self.prev = hash_line(content.as_bytes());
        self.good_len += line.len() as u64;
        let seq = self.next_seq;
        self.next_seq += 1;
        if let Some(path) = &self.checkpoint {
            let checkpoint = Checkpoint { seq, hash: self.prev };
            if let Err(err) = checkpoint.store(path, self.sync == SyncPolicy::Data) {
                return Outcome::CheckpointFailed(err.to_string());
            }
        }
        Outcome::Written
    }

    fn write_durably(&mut self, line: &[u8]) -> io::Result<()> {
        self.sink.append(line)?;
        self.sink.flush()?;
        if self.sync == SyncPolicy::Data {
            self.sink.sync_data()?;
        }
        Ok(())
    }
}

/// The end of an existing trail: enough to continue its chain and to check its checkpoint.
struct Tail {
    len: u64,
    last_seq: u64,
    last_hash: [u8; 32],
    /// The record before the last, as (seq, hash), when there is one.
    before_last: Option<(u64, [u8; 32])>,
}

impl Tail {
    fn head(&self) -> Checkpoint {
        Checkpoint {
            seq: self.last_seq,
            hash: self.last_hash,
        }
    }
}

/// How much of the file's end is read at a time while looking for its last two lines.
const TAIL_CHUNK: u64 = 8 * 1024;

/// Reads the last two records of the file, checking that they chain, without reading the rest.
fn read_tail(file: &mut File, path: &Path) -> Result<Tail, TrailError> {
    let read_error = |source| TrailError::Open {
        path: path.to_path_buf(),
        source,
    };
    let len = file.metadata().map_err(read_error)?.len();
    if len == 0 {
        return Ok(Tail {
            len,
            last_seq: 0,
            last_hash: GENESIS_HASH,
            before_last: None,
        });
    }
    let mut start = len;
    let mut tail_bytes = Vec::new();
    // Two newlines before the final one mean the last two lines are complete.
    while start > 0 && bytecount_newlines(&tail_bytes[..tail_bytes.len().saturating_sub(1)]) < 2 {
        let chunk_start = start.saturating_sub(TAIL_CHUNK);
        let mut chunk = vec![0; usize::try_from(start - chunk_start).unwrap_or(0)];
        file.seek(SeekFrom::Start(chunk_start)).map_err(read_error)?;
        file.read_exact(&mut chunk).map_err(read_error)?;
        chunk.extend_from_slice(&tail_bytes);
        tail_bytes = chunk;
        start = chunk_start;
    }
    let Some(body) = tail_bytes.strip_suffix(b"\n") else {
        return Err(TrailError::TornTail {
            path: path.to_path_buf(),
        });
    };
    let mut lines: Vec<&[u8]> = body.split(|&byte| byte == b'\n').collect();
    if start > 0 {
        // The first piece may begin mid-line.
        lines.remove(0);
    }
    let broken = |reason: String| TrailError::BrokenTail {
        path: path.to_path_buf(),
        reason,
    };
    let (last_line, before_line) = match lines.as_slice() {
        [.., before, last] => (*last, Some(*before)),
        [last] => (*last, None),
        [] => return Err(broken("no complete record".into())),
    };
    let last = parse_chain_fields(last_line).map_err(|why| broken(format!("the last line: {why}")))?;
    let last_hash = hash_line(last_line);
    let before_last = match before_line {
        None => {
            if last
                != (ChainFields {
                    seq: 1,
                    prev: GENESIS_HASH,
                })
            {
                return Err(broken("the only record is not record 1 with prev 64 zeros".into()));
            }
            None
        }
        Some(before_line) => {
            let before =
                parse_chain_fields(before_line).map_err(|why| broken(format!("the line before the last: {why}")))?;
            let before_hash = hash_line(before_line);
            if before.seq.checked_add(1) != Some(last.seq) {
                return Err(broken(format!("record {} follows record {}", last.seq, before.seq)));
            }
            if last.prev != before_hash {
                return Err(broken(
                    "the last record's prev is not the hash of the line before it".into(),
                ));
            }
            Some((before.seq, before_hash))
        }
    };
    Ok(Tail {
        len,
        last_seq: last.seq,
        last_hash,
        before_last,
    })
}

fn bytecount_newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&byte| byte == b'\n').count()
}

/// Refuses to continue a trail whose checkpoint vouches for records it no longer has.
///
/// A checkpoint one record behind is normal (a crash between a record and its checkpoint); one
/// further behind is accepted too (the trail was appended to without a checkpoint), since only
/// the last two records are read here; `verify` checks the rest.
fn reconcile_checkpoint(path: &Path, tail: &Tail) -> Result<(), TrailError> {
    let problem = |reason: String| TrailError::Checkpoint {
        path: path.to_path_buf(),
        reason,
    };
    let vouched = match Checkpoint::load(path) {
        Ok(None) => return Ok(()),
        Ok(Some(vouched)) => vouched,
        Err(CheckpointProblem::Unreadable(err)) => return Err(problem(format!("cannot be read: {err}"))),
        Err(malformed @ CheckpointProblem::Malformed) => return Err(problem(malformed.to_string())),
    };
    if vouched.seq > tail.last_seq {
        return Err(problem(format!(
            "vouches for record {} but the trail ends at record {}: records were removed from its end",
            vouched.seq, tail.last_seq
        )));
    }
    let known_hash = if vouched.seq == tail.last_seq {
        Some(tail.last_hash)
    } else {
        tail.before_last
            .filter(|(seq, _)| *seq == vouched.seq)
            .map(|(_, hash)| hash)
    };
    if known_hash.is_some_and(|hash| hash != vouched.hash) {
        return Err(problem(format!(
            "does not match record {} of the trail: the trail was rewritten",
            vouched.seq
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tracing_subscriber::layer::SubscriberExt;

    /// An in-memory file that can be told to fail its next writes, part-way through a line.
    #[derive(Clone, Default)]
    struct FlakyDisk {
        state: Arc<Mutex<DiskState>>,
    }

    #[derive(Default)]
    struct DiskState {
        bytes: Vec<u8>,
        failures_left: usize,
        truncate_fails: bool,
    }

    impl Sink for FlakyDisk {
        fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
            let mut state = self.state.lock().unwrap();
            if state.failures_left > 0 {
                state.failures_left -= 1;
                // A full disk takes part of the line before it refuses the rest.
                state.bytes.extend_from_slice(&bytes[..bytes.len() / 2]);
                return Err(io::Error::new(io::ErrorKind::StorageFull, "No space left on device"));
            }
            state.bytes.extend_from_slice(bytes);
            Ok(())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
        fn sync_data(&mut self) -> io::Result<()> {
            Ok(())
        }
        fn truncate(&mut self, len: u64) -> io::Result<()> {
            let mut state = self.state.lock().unwrap();
            if state.truncate_fails {
                return Err(io::Error::other("truncate refused"));
            }
            state.bytes.truncate(len as usize);
            Ok(())
        }
    }

    fn trail_on(disk: &FlakyDisk, failure: FailurePolicy) -> AuditTrail {
        let writer = ChainWriter {
            sink: Box::new(disk.clone()),
            sync: SyncPolicy::Flush,
            checkpoint: None,
            next_seq: 1,
            prev: GENESIS_HASH,
            good_len: 0,
            needs_repair: false,
        };
        AuditTrail::from_writer(PathBuf::from("/var/log/test-audit.jsonl"), failure, writer)
    }

    fn verify_bytes(bytes: &[u8]) -> u64 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("copy.jsonl");
        fs::write(&path, bytes).unwrap();
        super::super::verify(&path, None).unwrap().records
    }

    #[test]
    fn failed_write_leaves_no_partial_line_and_the_chain_continues() {
        let disk = FlakyDisk::default();
        let subscriber = tracing_subscriber::registry().with(trail_on(&disk, FailurePolicy::FailOpen));
        let dispatch = tracing::Dispatch::new(subscriber);
        tracing::dispatcher::with_default(&dispatch, || {
            tracing::info!(target: "keyward::audit", n = 1);
            disk.state.lock().unwrap().failures_left = 2;
            tracing::info!(target: "keyward::audit", n = 2);
            tracing::info!(target: "keyward::audit", n = 3);
            tracing::info!(target: "keyward::audit", n = 4);
        });
        let trail = dispatch.downcast_ref::<AuditTrail>().unwrap();
        assert_eq!(
            trail.health(),
            TrailHealth {
                records_written: 2,
                records_dropped: 2,
                failing: false
            }
        );
        let bytes = disk.state.lock().unwrap().bytes.clone();
        assert_eq!(verify_bytes(&bytes), 2);
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.contains("\"n\":1") && text.contains("\"n\":4") && !text.contains("\"n\":2"),
            "{text}"
        );
    }

    #[test]
    fn fail_closed_refuses_while_failing_and_clears_after_a_good_write() {
        let disk = FlakyDisk::default();
        let subscriber = tracing_subscriber::registry().with(trail_on(&disk, FailurePolicy::FailClosed));
        let dispatch = tracing::Dispatch::new(subscriber);
        let trail = || dispatch.downcast_ref::<AuditTrail>().unwrap();
        tracing::dispatcher::with_default(&dispatch, || {
            assert!(trail().refusal().is_none());
            disk.state.lock().unwrap().failures_left = 1;
            tracing::info!(target: "keyward::audit", n = 1);
            let refusal = trail().refusal().unwrap();
            assert!(refusal.cause().contains("No space left on device"), "{refusal}");
            assert_eq!(refusal.path(), "/var/log/test-audit.jsonl");
            tracing::info!(target: "keyward::audit", n = 2);
            assert!(trail().refusal().is_none());
        });
        assert_eq!(verify_bytes(&disk.state.lock().unwrap().bytes), 1);
    }

    /// Counts the trail's reports about itself, by level.
    #[derive(Clone, Default)]
    struct SelfReports(Arc<Mutex<Vec<tracing::Level>>>);

    impl<S: Subscriber> Layer<S> for SelfReports {
        fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
            if event.metadata().target() == SELF_TARGET {
                self.0.lock().unwrap().push(*event.metadata().level());
            }
        }
    }

    #[test]
    fn a_failure_streak_is_reported_once_and_its_end_once() {
        let disk = FlakyDisk::default();
        let reports = SelfReports::default();
        let dispatch = tracing::Dispatch::new(
            tracing_subscriber::registry()
                .with(trail_on(&disk, FailurePolicy::FailOpen))
                .with(reports.clone()),
        );
        tracing::dispatcher::with_default(&dispatch, || {
            disk.state.lock().unwrap().failures_left = 3;
            for n in 0..5 {
                tracing::info!(target: "keyward::audit", n);
            }
            disk.state.lock().unwrap().failures_left = 1;
            tracing::info!(target: "keyward::audit", n = 5);
        });
        assert_eq!(
            *reports.0.lock().unwrap(),
            [tracing::Level::ERROR, tracing::Level::WARN, tracing::Level::ERROR]
        );
        assert_eq!(
            dispatch.downcast_ref::<AuditTrail>().unwrap().health().records_dropped,
            4
        );
    }

    #[test]
    fn fail_open_never_refuses() {
        let disk = FlakyDisk::default();
        disk.state.lock().unwrap().failures_left = 1;
        let trail = trail_on(&disk, FailurePolicy::FailOpen);
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(trail));
        tracing::dispatcher::with_default(&dispatch, || tracing::info!(target: "keyward::audit", n = 1));
        let trail = dispatch.downcast_ref::<AuditTrail>().unwrap();
        assert!(trail.health().failing);
        assert!(trail.refusal().is_none());
    }

    #[test]
    fn a_partial_line_that_cannot_be_cut_blocks_writes_until_it_is() {
        let disk = FlakyDisk::default();
        let dispatch =
            tracing::Dispatch::new(tracing_subscriber::registry().with(trail_on(&disk, FailurePolicy::FailClosed)));
        tracing::dispatcher::with_default(&dispatch, || {
            tracing::info!(target: "keyward::audit", n = 1);
            {
                let mut state = disk.state.lock().unwrap();
                state.failures_left = 1;
                state.truncate_fails = true;
            }
            tracing::info!(target: "keyward::audit", n = 2);
            // The torn half-line is still there; appending after it would break the chain.
            tracing::info!(target: "keyward::audit", n = 3);
            assert_eq!(
                dispatch.downcast_ref::<AuditTrail>().unwrap().health().records_dropped,
                2
            );
            disk.state.lock().unwrap().truncate_fails = false;
            tracing::info!(target: "keyward::audit", n = 4);
        });
        assert_eq!(verify_bytes(&disk.state.lock().unwrap().bytes), 2);
        assert!(dispatch.downcast_ref::<AuditTrail>().unwrap().refusal().is_none());
    }
}
