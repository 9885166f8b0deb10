//! The hash-chained, append-only audit trail, and its verifier.
//!
//! [`AuditTrail`] is a `tracing_subscriber` layer. Every event whose target is exactly
//! [`keyward::audit`](crate::audit::TARGET) (what `#[audited]` emits) becomes one line of JSON,
//! appended to a file with a single `write` and flushed (with [`SyncPolicy::Data`], also
//! `fsync`ed) before the event returns:
//!
//! ```text
//! {"seq":1,"ts":"2025-01-31T23:59:59.123456Z","prev":"0000…0000","level":"INFO","target":"keyward::audit","spans":["place_order"],"fields":{"exchange":"binance","outcome":"ok"}}
//! ```
//!
//! - `seq` counts records from 1, one by one.
//! - `ts` is the time of writing, RFC 3339 in UTC with microseconds.
//! - `prev` is the hex SHA-256 of the previous line's bytes without its newline (64 zeros for
//!   the first record), which chains each record to all those before it.
//! - `spans` names the enclosing spans whose target is `keyward::audit`, outermost first.
//! - `fields` holds the event's fields: strings, integers, floats and booleans as JSON values,
//!   anything recorded with `?` or `%` as its `Debug` or `Display` string.
//!
//! A trail opened on an existing file continues its chain. It refuses to open a file whose last
//! line is incomplete or whose last records do not chain, rather than bury the damage under new
//! records. One process writes a trail at a time: two writers would interleave their chains.
//!
//! When a write fails (a full disk, a revoked permission), whatever part of the line reached the
//! file is cut off again, so the file never holds a torn record, and the failure is reported on
//! stderr and as an `error` event on target `keyward::audit::trail`, once per streak of
//! failures (a `warn` event follows when writing resumes). The [`FailurePolicy`] decides whether audited calls go on meanwhile:
//! [`AuditTrail::health`] counts what was dropped, and [`AuditTrail::refusal`] tells
//! `#[audited]` to refuse calls while a fail-closed trail is failing.
//!
//! # What verification detects
//!
//! [`verify`] (and `keyward audit verify <FILE>`) reads the file front to back and reports the
//! first line that is not a record, is numbered out of order, or whose `prev` is not the hash of
//! the line before. That detects a modified, deleted, inserted or reordered record anywhere
//! except at the very end, and an incomplete last line.
//!
//! The chain alone cannot see what happened after its last record. **Removing the last `k` whole
//! records, for any `k` up to and including all of them (an empty file), leaves a valid chain**,
//! and so does rewriting the last record. A *checkpoint* closes that gap: with
//! [`AuditTrailBuilder::checkpoint`], after each record the trail atomically replaces a small
//! file with `{"seq":N,"hash":"<sha256 of line N>"}`, and `verify` with that checkpoint requires
//! record `N` to exist with exactly that hash, so cutting or rewriting the tail fails
//! verification. Records after `N` are accepted, since a crash may come between a record and its
//! checkpoint.
//!
//! A checkpoint on the same disk as the trail does not stop an attacker who can write both: they
//! can cut the trail and rewrite the checkpoint to match (or rewrite the whole chain from the
//! point they changed, since the chain has no key). Ship the head hash elsewhere as well (the
//! `head` that `keyward audit verify` prints, to another host, a ticket, a metrics system), and
//! compare a later verification with it.
//!
//! # Example
//!
//! ```
//! use keyward::audit::trail::{self, AuditTrail, FailurePolicy};
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("audit.jsonl");
//! let checkpoint = dir.path().join("audit.checkpoint");
//! let trail = AuditTrail::builder(&path)
//!     .on_write_failure(FailurePolicy::FailClosed)
//!     .checkpoint(&checkpoint)
//!     .build()?;
//! let subscriber = tracing_subscriber::registry().with(trail);
//!
//! tracing::subscriber::with_default(subscriber, || {
//!     tracing::info!(target: keyward::audit::TARGET, exchange = "binance", quantity = 0.5, "order placed");
//!     tracing::info!(target: "my_bot", "not an audit event: not in the trail");
//! });
//!
//! let report = trail::verify(&path, Some(&checkpoint))?;
//! assert_eq!(report.records, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod checkpoint;
mod error;
mod layer;
mod record;
mod verify;

pub use error::TrailError;
pub use layer::{AuditTrail, AuditTrailBuilder, FailurePolicy, SyncPolicy, TrailHealth};
pub use verify::{VerifyError, VerifyFailure, VerifyReport, verify};
