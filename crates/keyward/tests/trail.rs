//! The audit trail: the records it writes, how it continues a file, and what `verify` detects.

#![allow(clippy::unwrap_used, reason = "test helpers may unwrap, like the tests themselves")]

use std::fs;
use std::path::{Path, PathBuf};

use keyward::audit::TARGET;
use keyward::audit::trail::{self, AuditTrail, FailurePolicy, SyncPolicy, TrailError, VerifyFailure};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tracing_subscriber::layer::SubscriberExt;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn trail(&self) -> PathBuf {
        self.dir.path().join("audit.jsonl")
    }

    fn checkpoint(&self) -> PathBuf {
        self.dir.path().join("audit.checkpoint")
    }

    /// Appends `count` audit records numbered from `first`, through a freshly built trail.
    fn write(&self, first: u64, count: u64) {
        let trail = AuditTrail::builder(self.trail())
            .checkpoint(self.checkpoint())
            .build()
            .unwrap();
        tracing::subscriber::with_default(tracing_subscriber::registry().with(trail), || {
            for n in first..first + count {
                tracing::info!(target: TARGET, n, "order placed");
            }
        });
    }

    fn lines(&self) -> Vec<String> {
        fs::read_to_string(self.trail())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn rewrite(&self, lines: &[String]) {
        fs::write(
            self.trail(),
            lines.iter().map(|line| format!("{line}\n")).collect::<String>(),
        )
        .unwrap();
    }

    fn verify(&self) -> Result<trail::VerifyReport, trail::VerifyError> {
        trail::verify(self.trail(), None)
    }

    fn verify_with_checkpoint(&self) -> Result<trail::VerifyReport, trail::VerifyError> {
        trail::verify(self.trail(), Some(&self.checkpoint()))
    }
}

fn sha256_hex(line: &str) -> String {
    hex::encode(Sha256::digest(line.as_bytes()))
}

fn parse(line: &str) -> Value {
    serde_json::from_str(line).unwrap()
}

#[test]
fn records_have_the_documented_format() {
    let fixture = Fixture::new();
    let trail = AuditTrail::builder(fixture.trail()).build().unwrap();
    let subscriber = tracing_subscriber::registry().with(trail);
    tracing::subscriber::with_default(subscriber, || {
        let outer = tracing::info_span!(target: "keyward::audit", "place_order", exchange = "binance");
        let _outer = outer.enter();
        let unrelated = tracing::info_span!("http_request");
        let _unrelated = unrelated.enter();
        let inner = tracing::info_span!(target: "keyward::audit", "attempt");
        let _inner = inner.enter();
        tracing::warn!(
            target: "keyward::audit",
            symbol = "BTC\"USDT",
            quantity = 0.5,
            count = 3u64,
            delta = -2i64,
            ok = true,
            side = ?Some("buy"),
            venue = %"binance",
            "order placed"
        );
    });
    let lines = fixture.lines();
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert!(line.starts_with("{\"seq\":1,\"ts\":\""), "{line}");
    let record = parse(line);
    assert_eq!(record["prev"], "0".repeat(64));
    assert_eq!(record["level"], "WARN");
    assert_eq!(record["target"], "keyward::audit");
    assert_eq!(record["spans"], serde_json::json!(["place_order", "attempt"]));
    assert_eq!(
        record["fields"],
        serde_json::json!({
            "message": "order placed",
            "symbol": "BTC\"USDT",
            "quantity": 0.5,
            "count": 3,
            "delta": -2,
            "ok": true,
            "side": "Some(\"buy\")",
            "venue": "binance",
        })
    );
    let ts = record["ts"].as_str().unwrap();
    let parsed = time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339).unwrap();
    assert_eq!(parsed.offset(), time::UtcOffset::UTC);
    assert!(
        ts.ends_with('Z') && ts.len() == "2025-01-31T23:59:59.123456Z".len(),
        "{ts}"
    );
    let age = time::OffsetDateTime::now_utc() - parsed;
    assert!(age >= time::Duration::ZERO && age < time::Duration::minutes(5), "{ts}");
}

#[test]
fn only_events_on_exactly_the_audit_target_are_written() {
    let fixture = Fixture::new();
    let trail = AuditTrail::builder(fixture.trail()).build().unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(trail), || {
        tracing::info!("application event");
        tracing::info!(target: "keyward", "parent target");
        tracing::info!(target: "keyward::audit::trail", "the trail's own report");
        tracing::info!(target: "keyward::auditor", "a prefix is not enough");
        tracing::debug!(target: "keyward::audit", kept = true);
    });
    let lines = fixture.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(parse(&lines[0])["fields"]["kept"], true);
    assert_eq!(parse(&lines[0])["level"], "DEBUG");
}

#[test]
fn each_record_chains_to_the_previous_line() {
    let fixture = Fixture::new();
    fixture.write(1, 3);
    let lines = fixture.lines();
    for (index, line) in lines.iter().enumerate() {
        let record = parse(line);
        assert_eq!(record["seq"], index as u64 + 1);
        if index > 0 {
            assert_eq!(record["prev"], sha256_hex(&lines[index - 1]));
        }
    }
    let report = fixture.verify().unwrap();
    assert_eq!(report.records, 3);
    assert_eq!(report.head_hash, sha256_hex(&lines[2]));
}

#[test]
fn a_reopened_trail_continues_the_chain() {
    let fixture = Fixture::new();
    fixture.write(1, 2);
    fixture.write(3, 2);
    let lines = fixture.lines();
    assert_eq!(parse(&lines[2])["seq"], 3);
    assert_eq!(parse(&lines[2])["fields"]["n"], 3);
    assert_eq!(fixture.verify_with_checkpoint().unwrap().records, 4);
}

#[test]
fn the_checkpoint_names_the_last_record_and_its_hash() {
    let fixture = Fixture::new();
    AuditTrail::builder(fixture.trail())
        .checkpoint(fixture.checkpoint())
        .build()
        .unwrap();
    let empty: Value = serde_json::from_slice(&fs::read(fixture.checkpoint()).unwrap()).unwrap();
    assert_eq!(empty, serde_json::json!({"seq": 0, "hash": "0".repeat(64)}));
    fixture.write(1, 2);
    let checkpoint: Value = serde_json::from_slice(&fs::read(fixture.checkpoint()).unwrap()).unwrap();
    let lines = fixture.lines();
    assert_eq!(checkpoint, serde_json::json!({"seq": 2, "hash": sha256_hex(&lines[1])}));
}

#[test]
fn concurrent_writers_produce_one_valid_chain() {
    let fixture = Fixture::new();
    let trail = AuditTrail::builder(fixture.trail())
        .sync(SyncPolicy::Data)
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(trail));
    std::thread::scope(|scope| {
        for thread in 0..4 {
            let dispatch = dispatch.clone();
            scope.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for n in 0..25 {
                        tracing::info!(target: TARGET, thread, n);
                    }
                });
            });
        }
    });
    assert_eq!(fixture.verify().unwrap().records, 100);
    let health = dispatch.downcast_ref::<AuditTrail>().unwrap().health();
    assert_eq!(
        (health.records_written, health.records_dropped, health.failing),
        (100, 0, false)
    );
}

#[test]
fn the_trail_is_found_in_the_dispatcher_and_does_not_refuse_when_healthy() {
    let fixture = Fixture::new();
    let trail = AuditTrail::builder(fixture.trail())
        .on_write_failure(FailurePolicy::FailClosed)
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(trail));
    let found = dispatch.downcast_ref::<AuditTrail>().unwrap();
    assert_eq!(found.path(), fixture.trail());
    assert!(found.refusal().is_none());
}

// ---- Setup failures -------------------------------------------------------------------------

fn build_error(path: &Path) -> TrailError {
    AuditTrail::builder(path).build().unwrap_err()
}

#[test]
fn a_directory_is_not_a_trail() {
    let fixture = Fixture::new();
    let err = build_error(fixture.dir.path());
    assert!(matches!(err, TrailError::NotRegularFile { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&fixture.dir.path().display().to_string()),
        "{err}"
    );
}

#[test]
fn a_missing_directory_is_an_open_error_naming_the_path() {
    let fixture = Fixture::new();
    let path = fixture.dir.path().join("no-such-dir").join("audit.jsonl");
    let err = build_error(&path);
    assert!(matches!(err, TrailError::Open { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string()) && message.contains("directory exists"),
        "{message}"
    );
}

#[test]
fn a_torn_last_line_refuses_to_open() {
    let fixture = Fixture::new();
    fixture.write(1, 2);
    let mut bytes = fs::read(fixture.trail()).unwrap();
    bytes.truncate(bytes.len() - 10);
    fs::write(fixture.trail(), &bytes).unwrap();
    let err = build_error(&fixture.trail());
    assert!(matches!(err, TrailError::TornTail { .. }), "{err:?}");
    assert!(err.to_string().contains("keyward audit verify"), "{err}");
}

#[test]
fn a_broken_tail_refuses_to_open() {
    let fixture = Fixture::new();
    fixture.write(1, 3);
    let mut lines = fixture.lines();
    lines[1] = lines[1].replace("\"n\":2", "\"n\":9");
    fixture.rewrite(&lines);
    let err = build_error(&fixture.trail());
    assert!(matches!(err, TrailError::BrokenTail { .. }), "{err:?}");
}

#[test]
fn a_trail_with_lines_longer_than_a_read_chunk_continues_its_chain() {
    let fixture = Fixture::new();
    let trail = AuditTrail::builder(fixture.trail()).build().unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(trail), || {
        for n in 0..20 {
            // The trail reads its tail in 8 KiB chunks; the last two lines span several.
            let padding = "x".repeat(if n < 18 { 3000 } else { 20_000 });
            tracing::info!(target: TARGET, n, padding = padding.as_str());
        }
    });
    fixture.write(21, 1);
    assert_eq!(fixture.verify().unwrap().records, 21);
}

#[test]
fn a_checkpoint_ahead_of_the_trail_refuses_to_open() {
    let fixture = Fixture::new();
    fixture.write(1, 3);
    let mut lines = fixture.lines();
    lines.pop();
    fixture.rewrite(&lines);
    let err = AuditTrail::builder(fixture.trail())
        .checkpoint(fixture.checkpoint())
        .build()
        .unwrap_err();
    assert!(matches!(err, TrailError::Checkpoint { .. }), "{err:?}");
    assert!(err.to_string().contains("removed"), "{err}");
}

// ---- Verification ---------------------------------------------------------------------------

fn failure_line(result: Result<trail::VerifyReport, trail::VerifyError>) -> (u64, VerifyFailure) {
    let err = result.unwrap_err();
    (err.line, err.reason)
}

#[test]
fn a_modified_record_breaks_the_link_after_it() {
    let fixture = Fixture::new();
    fixture.write(1, 4);
    let mut lines = fixture.lines();
    lines[1] = lines[1].replace("\"n\":2", "\"n\":20");
    fixture.rewrite(&lines);
    let err = fixture.verify().unwrap_err();
    assert_eq!(err.line, 3);
    assert!(matches!(err.reason, VerifyFailure::BrokenLink));
    assert!(err.to_string().contains("hash of line 2"), "{err}");
}

#[test]
fn a_deleted_record_is_a_gap_in_seq() {
    let fixture = Fixture::new();
    fixture.write(1, 4);
    let mut lines = fixture.lines();
    lines.remove(1);
    fixture.rewrite(&lines);
    let (line, reason) = failure_line(fixture.verify());
    assert_eq!(line, 2);
    assert!(
        matches!(reason, VerifyFailure::WrongSeq { expected: 2, found: 3 }),
        "{reason:?}"
    );
}

#[test]
fn a_deleted_first_record_is_detected() {
    let fixture = Fixture::new();
    fixture.write(1, 3);
    let mut lines = fixture.lines();
    lines.remove(0);
    fixture.rewrite(&lines);
    assert_eq!(failure_line(fixture.verify()).0, 1);
}

#[test]
fn an_inserted_record_with_a_valid_link_is_detected() {
    let fixture = Fixture::new();
    fixture.write(1, 3);
    let mut lines = fixture.lines();
    lines.insert(
        2,
        format!(
            "{{\"seq\":3,\"ts\":\"2025-01-01T00:00:00.000000Z\",\"prev\":\"{}\",\"level\":\"INFO\",\
         \"target\":\"keyward::audit\",\"spans\":[],\"fields\":{{\"forged\":true}}}}",
            sha256_hex(&lines[1])
        ),
    );
    fixture.rewrite(&lines);
    let (line, reason) = failure_line(fixture.verify());
    assert_eq!(line, 4);
    assert!(
        matches!(reason, VerifyFailure::WrongSeq { expected: 4, found: 3 }),
        "{reason:?}"
    );
}

#[test]
fn reordered_records_are_detected() {
    let fixture = Fixture::new();
    fixture.write(1, 4);
    let mut lines = fixture.lines();
    lines.swap(1, 2);
    fixture.rewrite(&lines);
    let (line, reason) = failure_line(fixture.verify());
    assert_eq!(line, 2);
    assert!(
        matches!(reason, VerifyFailure::WrongSeq { expected: 2, found: 3 }),
        "{reason:?}"
    );
}

#[test]
fn a_torn_tail_and_a_garbage_line_are_reported() {
    let fixture = Fixture::new();
    fixture.write(1, 3);
    let bytes = fs::read(fixture.trail()).unwrap();
    fs::write(fixture.trail(), &bytes[..bytes.len() - 1]).unwrap();
    let (line, reason) = failure_line(fixture.verify());
    assert_eq!(line, 3);
    assert!(matches!(reason, VerifyFailure::TornTail), "{reason:?}");

    let mut lines = fixture.lines();
    lines[0] = "not json".into();
    fixture.rewrite(&lines);
    let (line, reason) = failure_line(fixture.verify());
    assert_eq!(line, 1);
    assert!(matches!(reason, VerifyFailure::NotARecord(_)), "{reason:?}");
}

#[test]
fn tail_truncation_passes_the_chain_but_not_the_checkpoint() {
    let fixture = Fixture::new();
    fixture.write(1, 4);
    let mut lines = fixture.lines();
    lines.truncate(2);
    fixture.rewrite(&lines);
    // The documented blind spot of the chain alone.
    assert_eq!(fixture.verify().unwrap().records, 2);
    let (line, reason) = failure_line(fixture.verify_with_checkpoint());
    assert_eq!(line, 3);
    assert!(
        matches!(
            reason,
            VerifyFailure::Truncated {
                checkpoint_seq: 4,
                records: 2
            }
        ),
        "{reason:?}"
    );
}

#[test]
fn removing_every_record_is_caught_by_the_checkpoint() {
    let fixture = Fixture::new();
    fixture.write(1, 2);
    fs::write(fixture.trail(), "").unwrap();
    assert_eq!(fixture.verify().unwrap().records, 0);
    let (line, reason) = failure_line(fixture.verify_with_checkpoint());
    assert_eq!(line, 1);
    assert!(matches!(reason, VerifyFailure::Truncated { .. }), "{reason:?}");
}

#[test]
fn a_rewritten_last_record_is_caught_by_the_checkpoint() {
    let fixture = Fixture::new();
    fixture.write(1, 3);
    let mut lines = fixture.lines();
    lines[2] = lines[2].replace("\"n\":3", "\"n\":30");
    fixture.rewrite(&lines);
    assert!(fixture.verify().is_ok());
    let (line, reason) = failure_line(fixture.verify_with_checkpoint());
    assert_eq!(line, 3);
    assert!(matches!(reason, VerifyFailure::CheckpointMismatch), "{reason:?}");
}

#[test]
fn records_after_the_checkpoint_are_accepted() {
    // A crash between a record and its checkpoint leaves the checkpoint one record behind.
    let fixture = Fixture::new();
    fixture.write(1, 3);
    let saved = fs::read(fixture.checkpoint()).unwrap();
    fixture.write(4, 1);
    fs::write(fixture.checkpoint(), saved).unwrap();
    assert_eq!(fixture.verify_with_checkpoint().unwrap().records, 4);
}

#[test]
fn unreadable_files_are_not_tampering() {
    let fixture = Fixture::new();
    let err = fixture.verify().unwrap_err();
    assert!(err.is_unreadable(), "{err:?}");
    fixture.write(1, 1);
    fs::write(fixture.checkpoint(), "garbage").unwrap();
    let err = fixture.verify_with_checkpoint().unwrap_err();
    assert!(err.is_unreadable(), "{err:?}");
    assert!(err.to_string().contains("not a keyward checkpoint"), "{err}");
}
