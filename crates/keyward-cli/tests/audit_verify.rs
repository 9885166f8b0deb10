//! `keyward audit verify`, run as the binary, on trails written by the library.

#![allow(clippy::unwrap_used, reason = "test helpers may unwrap, like the tests themselves")]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use keyward::audit::TARGET;
use keyward::audit::trail::AuditTrail;
use tracing_subscriber::layer::SubscriberExt;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// A trail of five records, with its checkpoint.
    fn new() -> Self {
        let fixture = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        let trail = AuditTrail::builder(fixture.trail())
            .checkpoint(fixture.checkpoint())
            .build()
            .unwrap();
        tracing::subscriber::with_default(tracing_subscriber::registry().with(trail), || {
            for n in 1..=5 {
                tracing::info!(target: TARGET, n, exchange = "binance", "order placed");
            }
        });
        fixture
    }

    fn trail(&self) -> PathBuf {
        self.dir.path().join("audit.jsonl")
    }

    fn checkpoint(&self) -> PathBuf {
        self.dir.path().join("audit.checkpoint")
    }

    fn edit_lines(&self, edit: impl FnOnce(&mut Vec<String>)) {
        let mut lines: Vec<String> = fs::read_to_string(self.trail())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        edit(&mut lines);
        fs::write(
            self.trail(),
            lines.iter().map(|line| format!("{line}\n")).collect::<String>(),
        )
        .unwrap();
    }
}

fn keyward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keyward")).args(args).output().unwrap()
}

fn verify(trail: &Path, checkpoint: Option<&Path>) -> Output {
    let mut args = vec!["audit".to_owned(), "verify".to_owned(), trail.display().to_string()];
    if let Some(checkpoint) = checkpoint {
        args.extend(["--checkpoint".to_owned(), checkpoint.display().to_string()]);
    }
    keyward(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Asserts exit 1 and that stderr names `line` and contains `why`.
fn assert_tampered(output: &Output, line: u64, why: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(1), "stderr: {err}");
    assert!(err.contains(&format!("line {line}:")), "expected line {line}: {err}");
    assert!(err.contains(why), "expected {why:?}: {err}");
    assert!(stdout(output).is_empty(), "{}", stdout(output));
}

#[test]
fn an_intact_trail_prints_its_count_and_head() {
    let fixture = Fixture::new();
    let output = verify(&fixture.trail(), Some(&fixture.checkpoint()));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let head = keyward::audit::trail::verify(fixture.trail(), None).unwrap().head_hash;
    assert_eq!(stdout(&output), format!("ok: 5 records, head {head}\n"));
    assert_eq!(verify(&fixture.trail(), None).status.code(), Some(0));
}

#[test]
fn a_modified_record_fails() {
    let fixture = Fixture::new();
    fixture.edit_lines(|lines| lines[2] = lines[2].replace("\"n\":3", "\"n\":4"));
    assert_tampered(&verify(&fixture.trail(), None), 4, "hash of line 3");
}

#[test]
fn a_deleted_record_fails() {
    let fixture = Fixture::new();
    fixture.edit_lines(|lines| {
        lines.remove(1);
    });
    assert_tampered(&verify(&fixture.trail(), None), 2, "seq 3 where 2 was expected");
}

#[test]
fn an_inserted_record_fails() {
    let fixture = Fixture::new();
    fixture.edit_lines(|lines| {
        let copy = lines[1].clone();
        lines.insert(2, copy);
    });
    assert_tampered(&verify(&fixture.trail(), None), 3, "seq 2 where 3 was expected");
}

#[test]
fn reordered_records_fail() {
    let fixture = Fixture::new();
    fixture.edit_lines(|lines| lines.swap(3, 4));
    assert_tampered(&verify(&fixture.trail(), None), 4, "seq 5 where 4 was expected");
}

#[test]
fn a_torn_tail_fails() {
    let fixture = Fixture::new();
    let bytes = fs::read(fixture.trail()).unwrap();
    fs::write(fixture.trail(), &bytes[..bytes.len() - 20]).unwrap();
    assert_tampered(&verify(&fixture.trail(), None), 5, "incomplete last record");
}

#[test]
fn a_cut_tail_fails_only_with_the_checkpoint() {
    let fixture = Fixture::new();
    fixture.edit_lines(|lines| lines.truncate(3));
    assert_eq!(verify(&fixture.trail(), None).status.code(), Some(0));
    assert_tampered(
        &verify(&fixture.trail(), Some(&fixture.checkpoint())),
        4,
        "records were removed from its end",
    );
}

#[test]
fn a_missing_file_is_exit_2_with_a_clear_message() {
    let fixture = Fixture::new();
    let missing = fixture.dir.path().join("nope.jsonl");
    let output = verify(&missing, None);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("cannot read") && err.contains("nope.jsonl"), "{err}");

    let output = verify(&fixture.trail(), Some(&missing));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("does not exist"), "{}", stderr(&output));
}

#[test]
fn usage_errors_are_exit_2() {
    for args in [
        &["audit", "verify"][..],
        &["audit"],
        &["audit", "verify", "a", "--bogus"],
        &["frobnicate"],
    ] {
        let output = keyward(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains("Usage"), "{args:?}: {}", stderr(&output));
    }
}
