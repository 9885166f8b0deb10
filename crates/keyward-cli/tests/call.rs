//! `keyward call`: through the full stack to the embedded exchange; the summary line; bad
//! input; and no secret in any output at `RUST_LOG=trace`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keyward_integration::Fixture;
use keyward_mock::{Fault, MockExchange, RunningMock};
use serde_json::Value;
use std::{path::Path, process::Command};

struct Output {
    status: i32,
    stdout: String,
    stderr: String,
}

fn vars(fixture: &Fixture) -> Vec<(String, String)> {
    let prefix = fixture.exchange.to_ascii_uppercase();
    let mut vars = vec![
        (format!("{prefix}_API_KEY"), fixture.api_key.clone()),
        (format!("{prefix}_API_SECRET"), fixture.secret.clone()),
    ];
    if let Some(passphrase) = &fixture.passphrase {
        vars.push((format!("{prefix}_API_PASSPHRASE"), passphrase.clone()));
    }
    vars
}

/// Runs `keyward` off the async runtime (it starts its own), at `RUST_LOG=trace`.
async fn keyward(dir: &Path, fixture: &Fixture, args: Vec<String>) -> Output {
    let dir = dir.to_owned();
    let vars = vars(fixture);
    tokio::task::spawn_blocking(move || {
        let output = Command::new(env!("CARGO_BIN_EXE_keyward"))
            .args(&args)
            .current_dir(dir)
            .env_clear()
            .env("RUST_LOG", "trace")
            .envs(vars)
            .output()
            .unwrap();
        Output {
            status: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

async fn mock(fixture: &Fixture) -> RunningMock {
    MockExchange::builder(fixture.exchange)
        .unwrap()
        .credentials(fixture.mock())
        .start()
        .await
        .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn assert_no_secret(fixture: &Fixture, out: &Output, files: &[String]) {
    for form in fixture.forbidden_strings() {
        assert!(!out.stdout.contains(&form), "stdout leaks a secret form");
        assert!(
            !out.stderr.contains(&form),
            "stderr leaks a secret form at RUST_LOG=trace"
        );
        for file in files {
            assert!(!file.contains(&form), "the audit trail leaks a secret form");
        }
    }
}

#[tokio::test]
async fn a_call_goes_through_the_full_stack_and_leaves_an_audit_trail() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Fixture::new("okx", 1);
    let mock = mock(&fixture).await;
    let trail = dir.path().join("audit.jsonl");
    let out = keyward(
        dir.path(),
        &fixture,
        args(&[
            "call",
            "okx",
            "GET",
            "/api/v5/account/balance",
            "--base-url",
            &mock.base_url(),
            "--query",
            "ccy=BTC",
        ]),
    )
    .await;
    let mut with_trail = args(&[
        "call",
        "okx",
        "GET",
        "/api/v5/account/balance",
        "--base-url",
        &mock.base_url(),
    ]);
    with_trail.extend(args(&["--audit-log", trail.to_str().unwrap()]));
    let logged = keyward(dir.path(), &fixture, with_trail).await;

    assert_eq!(out.status, 0, "{}", out.stderr);
    let body: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(body["code"], "0", "{body}");
    assert!(
        out.stderr.contains("http.attempt"),
        "trace logs show the per-attempt audit"
    );
    assert_eq!(logged.status, 0, "{}", logged.stderr);
    let records = std::fs::read_to_string(&trail).unwrap();
    assert!(records.contains(r#""event":"http.attempt""#), "{records}");
    let verified = keyward::audit::trail::verify(&trail, None).unwrap();
    assert!(verified.records >= 2, "the probe and the call");
    assert_no_secret(&fixture, &out, &[records]);
    assert_no_secret(&fixture, &logged, &[]);
}

#[tokio::test]
async fn repeat_ends_with_one_json_summary_line() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Fixture::new("bybit", 2);
    let mock = mock(&fixture).await;
    mock.inject(Fault::Status(http::StatusCode::SERVICE_UNAVAILABLE));
    let out = keyward(
        dir.path(),
        &fixture,
        args(&[
            "call",
            "bybit",
            "GET",
            "/v5/account/wallet-balance",
            "--base-url",
            &mock.base_url(),
            "--query",
            "accountType=UNIFIED",
            "--repeat",
            "40",
            "--concurrency",
            "4",
        ]),
    )
    .await;
    assert_eq!(out.status, 0, "{}", out.stderr);
    let last = out.stdout.lines().last().unwrap();
    let summary: Value = serde_json::from_str(last).unwrap();
    assert_eq!(summary["sent"], 40);
    assert_eq!(summary["ok"], 40);
    assert_eq!(summary["failed"], 0);
    assert_eq!(summary["errors"], serde_json::json!({}));
    assert!(
        summary["retries"].as_u64().unwrap() >= 1,
        "the 503 was retried: {summary}"
    );
    assert!(summary["waited_ms"].is_u64());
    assert_no_secret(&fixture, &out, &[]);
}

#[tokio::test]
async fn failures_are_counted_by_kind_and_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Fixture::new("binance", 3);
    let mock = mock(&fixture).await;
    let out = keyward(
        dir.path(),
        &fixture,
        args(&[
            "call",
            "binance",
            "POST",
            "/sapi/v1/capital/withdraw/apply",
            "--base-url",
            &mock.base_url(),
            "--repeat",
            "3",
        ]),
    )
    .await;
    assert_eq!(out.status, 1);
    let summary: Value = serde_json::from_str(out.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["failed"], 3);
    assert_eq!(summary["errors"]["denied"], 3);
}

#[tokio::test]
async fn bad_input_gets_a_clear_message_and_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Fixture::new("kucoin", 4);
    let mock = mock(&fixture).await;
    let base = mock.base_url();

    // Nothing listens there.
    let unreachable = keyward(
        dir.path(),
        &fixture,
        args(&[
            "call",
            "kucoin",
            "GET",
            "/api/v1/accounts",
            "--base-url",
            "http://127.0.0.1:1",
            "--timeout",
            "2",
        ]),
    )
    .await;
    assert_ne!(unreachable.status, 0);
    assert!(
        unreachable.stderr.contains("check the base URL"),
        "{}",
        unreachable.stderr
    );

    // A proxy's HTML error page instead of the exchange's JSON, for the call (not the clock
    // probe that precedes it), on every attempt: a read is sent again after one such page.
    for _attempt in 0..3 {
        mock.inject_for("/api/v1/accounts", Fault::NotJson);
    }
    let not_json = keyward(
        dir.path(),
        &fixture,
        args(&["call", "kucoin", "GET", "/api/v1/accounts", "--base-url", &base]),
    )
    .await;
    assert_ne!(not_json.status, 0);
    assert!(
        not_json.stderr.contains("not the exchange's answer"),
        "{}",
        not_json.stderr
    );

    // A base URL that is no exchange at all: its "server time" is an HTML page too.
    mock.set_fault_plan(Some(keyward_mock::FaultPlan::new(1).with(Fault::NotJson, 1.0)));
    let not_an_exchange = keyward(
        dir.path(),
        &fixture,
        args(&["call", "kucoin", "GET", "/api/v1/accounts", "--base-url", &base]),
    )
    .await;
    mock.set_fault_plan(None);
    assert_ne!(not_an_exchange.status, 0);
    assert!(
        not_an_exchange
            .stderr
            .contains("check that the base URL is the exchange's API"),
        "{}",
        not_an_exchange.stderr
    );

    // An answer of 8 MiB where a few hundred bytes are expected.
    mock.inject_for("/api/v1/accounts", Fault::HugeBody(8 << 20));
    let huge = keyward(
        dir.path(),
        &fixture,
        args(&["call", "kucoin", "GET", "/api/v1/accounts", "--base-url", &base]),
    )
    .await;
    assert_ne!(huge.status, 0);
    assert!(huge.stderr.contains("exceeds"), "{}", huge.stderr);

    for out in [&unreachable, &not_json, &not_an_exchange, &huge] {
        assert_no_secret(&fixture, out, &[]);
    }
}
