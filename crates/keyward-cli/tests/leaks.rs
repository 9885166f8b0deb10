//! Leak hunting: every `keyward` subcommand, on every exchange where it applies, at
//! `RUST_LOG=trace`, with fixture credentials from the environment or a `.env` file, on the
//! happy paths and the error paths (a wrong secret, a revoked key, bad flags, an unreadable or
//! malformed `.env`, a secret the exchange cannot use or that is not UTF-8). Every byte of stdout and stderr, and every file left in the sandbox
//! (working directory, `TMPDIR`, `HOME`, audit trails), is scanned for every form of every
//! secret and for the full API key (see `keyward_integration::leak`).
//!
//! The one output allowed to hold a credential is `keyward sign`'s stdout: it prints the request
//! as it will be sent, with the API key header (and the raw passphrase header of OKX and
//! Coinbase), because the exchange requires them. Only those forms are allowed there.
//!
//! The CLI reads credentials from the environment and `.env` only; it has no secrets-file
//! option, so a malformed `.env` is its malformed secrets file.
//!
//! Each test prints its figures (`cargo test -p keyward-cli --test leaks -- --nocapture`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use keyward_integration::{
    Fixture,
    leak::{Finished, LeakScan, Needles, Sandbox},
};
use keyward_mock::{Fault, FaultPlan, MockExchange, RunningMock};
use std::{
    io::{Read, Write},
    process::Command,
    sync::Arc,
    time::Duration,
};

const EXCHANGES: [&str; 8] = [
    "binance", "bitmex", "bybit", "coinbase", "gate", "kraken", "kucoin", "okx",
];

/// An authenticated read on each exchange, that the embedded exchange answers.
fn read_call(exchange: &str) -> [&'static str; 2] {
    match exchange {
        "binance" => ["GET", "/api/v3/account"],
        "bitmex" => ["GET", "/api/v1/position"],
        "bybit" => ["GET", "/v5/account/wallet-balance?accountType=UNIFIED"],
        "coinbase" => ["GET", "/accounts"],
        "gate" => ["GET", "/api/v4/spot/accounts"],
        "kraken" => ["POST", "/0/private/Balance"],
        "kucoin" => ["GET", "/api/v1/accounts"],
        _ => ["GET", "/api/v5/account/balance"],
    }
}

/// The variables of `fixture`, as `keyward` reads them.
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

/// `fixture`'s variables as `.env` lines.
fn dotenv_lines(fixture: &Fixture) -> String {
    vars(fixture)
        .iter()
        .map(|(name, value)| format!("{name}={value}\n"))
        .collect()
}

fn fixtures(variant: u8) -> Vec<Fixture> {
    EXCHANGES
        .iter()
        .map(|exchange| Fixture::new(exchange, variant))
        .collect()
}

/// Every form of every fixture's credentials, and every 16-byte piece of each secret, which
/// no output shows on purpose.
fn needles(fixtures: &[Fixture]) -> Needles {
    fixtures.iter().fold(Needles::new(), |needles, fixture| {
        let label = format!("{} secret", fixture.exchange);
        needles
            .fixture(fixture)
            .fragments(&label, fixture.secret.as_bytes(), 16)
    })
}

fn new_sandbox(root: &tempfile::TempDir, name: &str) -> Sandbox {
    let dir = root.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    Sandbox::new(&dir).unwrap()
}

/// `keyward <args>` in the sandbox, with `vars` as its only credentials.
fn keyward(sandbox: &Sandbox, vars: &[(String, String)], args: &[&str]) -> Command {
    let mut command = sandbox.command(env!("CARGO_BIN_EXE_keyward"));
    command.args(args).envs(vars.iter().map(|(k, v)| (k, v)));
    command
}

/// Runs a command off the async runtime, which serves the embedded exchange meanwhile.
async fn run(sandbox: &Arc<Sandbox>, command: Command) -> Finished {
    let sandbox = Arc::clone(sandbox);
    tokio::task::spawn_blocking(move || sandbox.run(command).unwrap())
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

fn finish(name: &str, sandbox: &Sandbox, mut scan: LeakScan) {
    sandbox.scan_files(&mut scan).unwrap();
    eprintln!("leak scan, {name}: {}", scan.figures());
    scan.assert_clean();
}

#[test]
fn sign_on_every_exchange_prints_only_the_headers_the_exchange_requires() {
    let root = tempfile::tempdir().unwrap();
    let fixtures = fixtures(1);
    let mut scan = LeakScan::new(needles(&fixtures));
    let from_env = new_sandbox(&root, "env");
    let mut from_dotenv = new_sandbox(&root, "dotenv");
    let all_lines: String = fixtures.iter().map(dotenv_lines).collect();
    from_dotenv.input(".env", all_lines.as_bytes(), 0o600).unwrap();
    for fixture in &fixtures {
        let exchange = fixture.exchange;
        let [method, path] = read_call(exchange);
        let url = format!("https://api.example.invalid{path}");
        // A POST carries its parameters in the body (Bybit signs a POST by its body only).
        let post_url = format!("https://api.example.invalid{}", path.split('?').next().unwrap_or(path));
        let body = if matches!(exchange, "binance" | "kraken") {
            "asset=XBT"
        } else {
            r#"{"note":"x"}"#
        };
        // The same credentials from the environment, and from a `.env` with no variable set.
        for (source, sandbox, credentials) in [("env", &from_env, vars(fixture)), (".env", &from_dotenv, Vec::new())] {
            let runs = [
                ("", vec!["sign", exchange, method, &url, "--explain"]),
                (
                    " --body",
                    vec![
                        "sign",
                        exchange,
                        "POST",
                        &post_url,
                        "--body",
                        body,
                        "--at",
                        "1700000000000",
                    ],
                ),
            ];
            for (label, args) in runs {
                let name = format!("sign {exchange}{label} ({source})");
                let out = sandbox.run(keyward(sandbox, &credentials, &args)).unwrap();
                assert_eq!(out.code(), 0, "{name}: {}", out.stderr_text());
                // Once, in its header; Bybit's string-to-sign holds the key too, which --explain
                // shows as a part and as the whole.
                let key_copies = if exchange == "bybit" && label.is_empty() { 3 } else { 1 };
                scan.allow(
                    &format!("{name}: stdout"),
                    &format!("{exchange} API key: raw"),
                    key_copies,
                );
                if matches!(exchange, "okx" | "coinbase") {
                    scan.allow(&format!("{name}: stdout"), &format!("{exchange} passphrase: raw"), 1);
                }
                out.scan(&name, &mut scan);
            }
        }
    }
    // The allowance was needed: the key header is there, so the scan sees what it looks for.
    let key_headers = scan
        .allowed()
        .iter()
        .filter(|hit| hit.form.ends_with("API key: raw"))
        .count();
    assert_eq!(key_headers, fixtures.len() * 4);
    for sandbox in [&from_env, &from_dotenv] {
        sandbox.scan_files(&mut scan).unwrap();
    }
    eprintln!("leak scan, sign: {}", scan.figures());
    scan.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_once_and_repeated_on_every_exchange() {
    let root = tempfile::tempdir().unwrap();
    let fixtures = fixtures(2);
    let mut scan = LeakScan::new(needles(&fixtures));
    let sandbox = Arc::new(new_sandbox(&root, "call"));
    for fixture in &fixtures {
        let exchange = fixture.exchange;
        let mock = mock(fixture).await;
        let base = mock.base_url();
        let [method, path] = read_call(exchange);
        let trail = format!("audit-{exchange}.jsonl");
        let once = [
            "call",
            exchange,
            method,
            path,
            "--base-url",
            &base,
            "--audit-log",
            &trail,
        ];
        let out = run(&sandbox, keyward(&sandbox, &vars(fixture), &once)).await;
        assert_eq!(out.code(), 0, "call {exchange}: {}", out.stderr_text());
        out.scan(&format!("call {exchange}"), &mut scan);

        // A 503 on the way makes the retry path log too.
        mock.inject(Fault::Status(http::StatusCode::SERVICE_UNAVAILABLE));
        let trail = format!("audit-{exchange}-repeat.jsonl");
        let repeated = [
            "call",
            exchange,
            method,
            path,
            "--base-url",
            &base,
            "--repeat",
            "12",
            "--concurrency",
            "4",
            "--audit-log",
            &trail,
        ];
        let out = run(&sandbox, keyward(&sandbox, &vars(fixture), &repeated)).await;
        assert_eq!(out.code(), 0, "call {exchange} --repeat: {}", out.stderr_text());
        assert!(out.stdout_text().contains(r#""sent":12"#), "{}", out.stdout_text());
        out.scan(&format!("call {exchange} --repeat"), &mut scan);
        assert!(
            sandbox.work().join(&trail).metadata().unwrap().len() > 0,
            "the audit trail is written, and scanned below"
        );
    }
    finish("call", &sandbox, scan);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_on_every_exchange_as_text_and_json() {
    let root = tempfile::tempdir().unwrap();
    let fixtures = fixtures(3);
    let mut scan = LeakScan::new(needles(&fixtures));
    let sandbox = Arc::new(new_sandbox(&root, "check"));
    for fixture in &fixtures {
        let exchange = fixture.exchange;
        let mock = mock(fixture).await;
        let base = mock.base_url();
        for json in [false, true] {
            let mut args = vec!["check", exchange, "--base-url", &base];
            if json {
                args.push("--json");
            }
            let out = run(&sandbox, keyward(&sandbox, &vars(fixture), &args)).await;
            // 1 is a failed check (the fixture key has no IP restriction on some exchanges).
            assert!(matches!(out.code(), 0 | 1), "check {exchange}: {}", out.stderr_text());
            assert!(!out.stdout.is_empty(), "check {exchange} printed its report");
            out.scan(&format!("check {exchange} json={json}"), &mut scan);
        }
    }
    finish("check", &sandbox, scan);
}

/// One plain HTTP/1.1 request over loopback, answered or not: what anyone on the machine can send.
fn unsigned_request(base: &str, path: &str) -> String {
    let address = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
fn mock_on_every_exchange_started_driven_and_stopped() {
    let root = tempfile::tempdir().unwrap();
    let fixtures = fixtures(4);
    let wrong: Vec<_> = fixtures.iter().map(Fixture::with_wrong_secret).collect();
    let mut scan = LeakScan::new(needles(&[fixtures.clone(), wrong].concat()));
    let sandbox = new_sandbox(&root, "mock");
    for fixture in &fixtures {
        let exchange = fixture.exchange;
        let credentials = vars(fixture);
        let running = sandbox
            .spawn(keyward(
                &sandbox,
                &credentials,
                &["mock", exchange, "--offset-ms", "1500"],
            ))
            .unwrap();
        let base = running.next_line(Duration::from_secs(30)).unwrap().trim().to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "mock {exchange}: {base}");
        let [method, path] = read_call(exchange);

        let signed = sandbox
            .run(keyward(
                &sandbox,
                &credentials,
                &["call", exchange, method, path, "--base-url", &base],
            ))
            .unwrap();
        assert_eq!(
            signed.code(),
            0,
            "call {exchange} on keyward mock: {}",
            signed.stderr_text()
        );
        signed.scan(&format!("call {exchange} on keyward mock"), &mut scan);
        let wrong = vars(&fixture.with_wrong_secret());
        let rejected = sandbox
            .run(keyward(
                &sandbox,
                &wrong,
                &["call", exchange, method, path, "--base-url", &base],
            ))
            .unwrap();
        assert_ne!(rejected.code(), 0, "a wrong secret is rejected");
        rejected.scan(
            &format!("call {exchange} with a wrong secret on keyward mock"),
            &mut scan,
        );
        let answer = unsigned_request(&base, path.split('?').next().unwrap());
        scan.stream(
            &format!("mock {exchange}: an unsigned request's answer"),
            answer.as_bytes(),
        );

        running.interrupt().unwrap();
        let stopped = running.wait().unwrap();
        assert_eq!(
            stopped.code(),
            0,
            "mock {exchange} stops on Ctrl-C: {}",
            stopped.stderr_text()
        );
        stopped.scan(&format!("mock {exchange}"), &mut scan);
    }
    finish("mock", &sandbox, scan);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_on_honest_and_tampered_trails() {
    let root = tempfile::tempdir().unwrap();
    let fixtures: Vec<_> = ["okx", "coinbase", "kraken"]
        .map(|exchange| Fixture::new(exchange, 5))
        .into();
    let mut scan = LeakScan::new(needles(&fixtures));
    let sandbox = Arc::new(new_sandbox(&root, "audit"));
    for fixture in &fixtures {
        let exchange = fixture.exchange;
        let mock = mock(fixture).await;
        let [method, path] = read_call(exchange);
        let trail = format!("audit-{exchange}.jsonl");
        let args = [
            "call",
            exchange,
            method,
            path,
            "--base-url",
            &mock.base_url(),
            "--repeat",
            "3",
            "--audit-log",
            &trail,
        ];
        let out = run(&sandbox, keyward(&sandbox, &vars(fixture), &args)).await;
        assert_eq!(out.code(), 0, "call {exchange}: {}", out.stderr_text());
        out.scan(&format!("call {exchange} --audit-log"), &mut scan);

        let honest = std::fs::read_to_string(sandbox.work().join(&trail)).unwrap();
        let lines: Vec<&str> = honest.lines().collect();
        assert!(lines.len() >= 4, "{exchange}: {} records", lines.len());
        let tampered = honest.replacen(r#""outcome":"ok""#, r#""outcome":"err""#, 1);
        assert_ne!(tampered, honest, "{exchange}: a record to tamper with");
        let cases = [
            ("honest", honest.clone(), 0),
            ("tampered", tampered, 1),
            (
                "a record deleted",
                [&lines[..1], &lines[2..]].concat().join("\n") + "\n",
                1,
            ),
            ("garbage appended", format!("{honest}{{not json\n"), 1),
        ];
        for (case, text, expected) in cases {
            let file = format!("verify-{exchange}-{}.jsonl", case.replace(' ', "-"));
            std::fs::write(sandbox.work().join(&file), text).unwrap();
            let out = run(&sandbox, keyward(&sandbox, &[], &["audit", "verify", &file])).await;
            assert_eq!(out.code(), expected, "{exchange} {case}: {}", out.stderr_text());
            out.scan(&format!("audit verify {exchange} {case}"), &mut scan);
        }
    }
    let missing = run(
        &sandbox,
        keyward(&sandbox, &[], &["audit", "verify", "no-such-trail.jsonl"]),
    )
    .await;
    assert_eq!(missing.code(), 2, "{}", missing.stderr_text());
    missing.scan("audit verify, a missing file", &mut scan);
    finish("audit verify", &sandbox, scan);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_and_a_revoked_key_on_every_exchange() {
    let root = tempfile::tempdir().unwrap();
    let fixtures = fixtures(6);
    let wrong: Vec<_> = fixtures.iter().map(Fixture::with_wrong_secret).collect();
    let mut scan = LeakScan::new(needles(&[fixtures.clone(), wrong.clone()].concat()));
    let sandbox = Arc::new(new_sandbox(&root, "rejected"));
    for (fixture, wrong) in fixtures.iter().zip(&wrong) {
        let exchange = fixture.exchange;
        let mock = mock(fixture).await;
        let base = mock.base_url();
        let [method, path] = read_call(exchange);
        let args = [
            "call",
            exchange,
            method,
            path,
            "--base-url",
            &base,
            "--audit-log",
            "audit.jsonl",
        ];
        let out = run(&sandbox, keyward(&sandbox, &vars(wrong), &args)).await;
        assert_eq!(out.code(), 1, "{exchange}, a wrong secret: {}", out.stderr_text());
        out.scan(&format!("call {exchange} with a wrong secret"), &mut scan);
        let out = run(
            &sandbox,
            keyward(&sandbox, &vars(wrong), &["check", exchange, "--base-url", &base]),
        )
        .await;
        // Every preflight signs one request, which the exchange refuses.
        assert_eq!(
            out.code(),
            1,
            "{exchange}, check with a wrong secret: {}",
            out.stderr_text()
        );
        out.scan(&format!("check {exchange} with a wrong secret"), &mut scan);

        assert!(mock.revoke(&fixture.api_key));
        let out = run(&sandbox, keyward(&sandbox, &vars(fixture), &args)).await;
        assert_eq!(out.code(), 1, "{exchange}, a revoked key: {}", out.stderr_text());
        out.scan(&format!("call {exchange} with a revoked key"), &mut scan);
        let repeated = [
            "call",
            exchange,
            method,
            path,
            "--base-url",
            &base,
            "--repeat",
            "4",
            "--concurrency",
            "2",
        ];
        let out = run(&sandbox, keyward(&sandbox, &vars(fixture), &repeated)).await;
        assert_eq!(
            out.code(),
            1,
            "{exchange}, a revoked key, repeated: {}",
            out.stderr_text()
        );
        out.scan(&format!("call {exchange} --repeat with a revoked key"), &mut scan);
    }
    finish("wrong secret and revoked key", &sandbox, scan);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_flags() {
    let root = tempfile::tempdir().unwrap();
    let fixture = Fixture::new("okx", 7);
    let mut scan = LeakScan::new(needles(std::slice::from_ref(&fixture)));
    let sandbox = Arc::new(new_sandbox(&root, "flags"));
    let mock = mock(&fixture).await;
    let base = mock.base_url();
    let cases: [&[&str]; 10] = [
        &["call", "okx", "GET", "/api/v5/account/balance", "--no-such-flag"],
        &[
            "call",
            "okx",
            "GET",
            "/api/v5/account/balance",
            "--base-url",
            &base,
            "--query",
            "no-equals-sign",
        ],
        &[
            "call",
            "okx",
            "GET",
            "/api/v5/account/balance",
            "--base-url",
            &base,
            "--timeout",
            "-1",
        ],
        &[
            "call",
            "okx",
            "GET",
            "/api/v5/account/balance",
            "--base-url",
            &base,
            "--concurrency",
            "0",
            "--repeat",
            "2",
        ],
        &[
            "call",
            "okx",
            "NOT A METHOD",
            "/api/v5/account/balance",
            "--base-url",
            &base,
        ],
        &["call", "nosuchexchange", "GET", "/x"],
        &["sign", "okx", "GET"],
        &["sign", "okx", "GET", "not-a-url"],
        &["mock", "okx", "--weight-limit", "5"],
        &["check", "okx", "--base-url", "not-a-url"],
    ];
    for args in cases {
        let out = run(&sandbox, keyward(&sandbox, &vars(&fixture), args)).await;
        assert_eq!(out.code(), 2, "{args:?}: {}", out.stderr_text());
        out.scan(&format!("keyward {}", args.join(" ")), &mut scan);
    }
    // A secret pasted onto the command line by mistake, as a stray argument: clap would quote
    // it back in its usage error; keyward does not.
    let url = "https://www.okx.com/api/v5/account/balance";
    for args in [
        vec!["sign", "okx", "GET", url, fixture.secret.as_str()],
        vec![
            "call",
            "okx",
            "GET",
            "/api/v5/account/balance",
            "--base-url",
            &base,
            fixture.secret.as_str(),
        ],
    ] {
        let out = run(&sandbox, keyward(&sandbox, &vars(&fixture), &args)).await;
        assert_eq!(out.code(), 2, "{}", out.stderr_text());
        assert!(
            out.stderr_text().contains("unexpected argument (not repeated"),
            "{}",
            out.stderr_text()
        );
        out.scan(
            &format!("keyward {} <stray secret>", args[..args.len() - 1].join(" ")),
            &mut scan,
        );
    }
    finish("bad flags", &sandbox, scan);
}

/// A `.env` that cannot be used, and how to make it.
struct BrokenDotenv {
    name: &'static str,
    make: fn(&mut Sandbox, &Fixture),
}

fn broken_dotenvs() -> Vec<BrokenDotenv> {
    fn write(sandbox: &mut Sandbox, contents: &[u8], mode: u32) {
        sandbox.input(".env", contents, mode).unwrap();
    }
    vec![
        BrokenDotenv {
            name: "readable by others",
            make: |sandbox, fixture| write(sandbox, dotenv_lines(fixture).as_bytes(), 0o644),
        },
        BrokenDotenv {
            name: "a folder",
            make: |sandbox, _| {
                std::fs::create_dir(sandbox.work().join(".env")).unwrap();
                sandbox.exclude(sandbox.work().join(".env"));
            },
        },
        BrokenDotenv {
            name: "a dangling link",
            make: |sandbox, _| {
                #[cfg(unix)]
                std::os::unix::fs::symlink("gone", sandbox.work().join(".env")).unwrap();
                sandbox.exclude(sandbox.work().join(".env"));
            },
        },
        BrokenDotenv {
            name: "an unterminated quote",
            make: |sandbox, fixture| {
                let variables = vars(fixture);
                let (key, secret) = (&variables[0], &variables[1]);
                let text = format!("{}={}\n{}=\"{}\nOTHER=1\n", key.0, key.1, secret.0, secret.1);
                write(sandbox, (text + &dotenv_lines(fixture)).as_bytes(), 0o600);
            },
        },
        BrokenDotenv {
            name: "not UTF-8",
            make: |sandbox, fixture| {
                let mut bytes = dotenv_lines(fixture).into_bytes();
                bytes.extend_from_slice(b"\xff\xfe");
                bytes.extend_from_slice(fixture.secret.as_bytes());
                bytes.extend_from_slice(b"\n");
                write(sandbox, &bytes, 0o600);
            },
        },
        BrokenDotenv {
            name: "oversized",
            make: |sandbox, fixture| write(sandbox, dotenv_lines(fixture).repeat(2000).as_bytes(), 0o600),
        },
        BrokenDotenv {
            name: "a secret over two lines",
            make: |sandbox, fixture| {
                let lines = dotenv_lines(fixture);
                let prefix = fixture.exchange.to_ascii_uppercase();
                let secret = format!("{prefix}_API_SECRET=\"{0}\n{0}\"\n", fixture.secret);
                let lines: String = lines
                    .lines()
                    .filter(|l| !l.contains("_API_SECRET="))
                    .map(|l| format!("{l}\n"))
                    .collect();
                write(sandbox, (lines + &secret).as_bytes(), 0o600);
            },
        },
        BrokenDotenv {
            name: "a line without `=`",
            make: |sandbox, fixture| {
                let text = dotenv_lines(fixture).replacen('=', " ", 2);
                write(sandbox, text.as_bytes(), 0o600);
            },
        },
        BrokenDotenv {
            name: "a secret with a control character",
            make: |sandbox, fixture| {
                let prefix = fixture.exchange.to_ascii_uppercase();
                let lines: String = dotenv_lines(fixture)
                    .lines()
                    .filter(|l| !l.contains("_API_SECRET="))
                    .map(|l| format!("{l}\n"))
                    .collect();
                let text = format!("{lines}{prefix}_API_SECRET={}\u{7}{}\n", fixture.secret, fixture.secret);
                write(sandbox, text.as_bytes(), 0o600);
            },
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_or_malformed_dotenv_for_every_command_that_loads_credentials() {
    let root = tempfile::tempdir().unwrap();
    let fixtures = [Fixture::new("okx", 8), Fixture::new("kraken", 8)];
    let mut scan = LeakScan::new(needles(&fixtures));
    let mut sandboxes = Vec::new();
    for fixture in &fixtures {
        let exchange = fixture.exchange;
        let mock = mock(fixture).await;
        let base = mock.base_url();
        let [method, path] = read_call(exchange);
        let url = format!("{base}{path}");
        for broken in broken_dotenvs() {
            let mut sandbox = new_sandbox(&root, &format!("{exchange}-{}", broken.name.replace(' ', "-")));
            (broken.make)(&mut sandbox, fixture);
            let sandbox = Arc::new(sandbox);
            let commands: [&[&str]; 3] = [
                &["sign", exchange, method, &url],
                &["call", exchange, method, path, "--base-url", &base],
                &["check", exchange, "--base-url", &base],
            ];
            for args in commands {
                let out = run(&sandbox, keyward(&sandbox, &[], args)).await;
                assert_eq!(
                    out.code(),
                    2,
                    "{exchange}, .env {}, {}: {}",
                    broken.name,
                    args[0],
                    out.stderr_text()
                );
                assert!(
                    out.stderr_text().contains(".env") || out.stderr_text().contains("_API_"),
                    "{}",
                    out.stderr_text()
                );
                out.scan(&format!("{} {exchange}, .env {}", args[0], broken.name), &mut scan);
            }
            // `keyward mock` runs until Ctrl-C once it starts: it must refuse to start.
            let mock_sandbox = Arc::clone(&sandbox);
            let out = tokio::task::spawn_blocking(move || {
                let running = mock_sandbox
                    .spawn(keyward(&mock_sandbox, &[], &["mock", exchange]))
                    .unwrap();
                if let Some(line) = running.next_line(Duration::from_secs(5)) {
                    running.interrupt().unwrap();
                    panic!("keyward mock started on a broken .env: {line}");
                }
                running.wait().unwrap()
            })
            .await
            .unwrap();
            assert_eq!(
                out.code(),
                2,
                "{exchange}, .env {}, mock: {}",
                broken.name,
                out.stderr_text()
            );
            out.scan(&format!("mock {exchange}, .env {}", broken.name), &mut scan);
            sandboxes.push(sandbox);
        }
    }
    for sandbox in &sandboxes {
        sandbox.scan_files(&mut scan).unwrap();
    }
    eprintln!("leak scan, broken .env: {}", scan.figures());
    scan.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_the_exchange_cannot_use() {
    let root = tempfile::tempdir().unwrap();
    let sandbox = Arc::new(new_sandbox(&root, "unusable"));
    // Kraken and Coinbase secrets must be base64; a Binance secret that looks like PEM must be
    // an Ed25519 key. The signer's error must not quote what it could not use.
    let cases = [
        ("kraken", "test-only-kraken-secret-not!base64?", None),
        (
            "coinbase",
            "test-only-coinbase-secret-not!base64?",
            Some("test-only-passphrase-unusable"),
        ),
        (
            "binance",
            "-----BEGIN PRIVATE KEY-----\ntest-only-binance-not-a-pem-body\n-----END PRIVATE KEY-----\n",
            None,
        ),
    ];
    let mut needles = Needles::new();
    for (exchange, secret, passphrase) in cases {
        needles = needles
            .api_key(
                &format!("{exchange} API key"),
                &format!("test-only-{exchange}-key-unusable-0123456789abcdef"),
            )
            .secret(&format!("{exchange} secret"), secret.trim().as_bytes());
        if let Some(passphrase) = passphrase {
            needles = needles.secret(&format!("{exchange} passphrase"), passphrase.as_bytes());
        }
    }
    // The PEM body alone is the key material.
    needles = needles.secret("binance PEM body", b"test-only-binance-not-a-pem-body");
    needles = needles
        .fixture(&Fixture::new("okx", 9))
        .fixture(&Fixture::new("kraken", 9));
    let mut scan = LeakScan::new(needles);
    for (exchange, secret, passphrase) in cases {
        let prefix = exchange.to_ascii_uppercase();
        let mut credentials = vec![
            (
                format!("{prefix}_API_KEY"),
                format!("test-only-{exchange}-key-unusable-0123456789abcdef"),
            ),
            (format!("{prefix}_API_SECRET"), secret.to_owned()),
        ];
        if let Some(passphrase) = passphrase {
            credentials.push((format!("{prefix}_API_PASSPHRASE"), passphrase.to_owned()));
        }
        let [method, path] = read_call(exchange);
        let url = format!("http://127.0.0.1:1{path}");
        let runs: [&[&str]; 2] = [
            &["sign", exchange, method, &url, "--explain"],
            &["call", exchange, method, path, "--base-url", "http://127.0.0.1:1"],
        ];
        for args in runs {
            let out = run(&sandbox, keyward(&sandbox, &credentials, args)).await;
            assert_ne!(out.code(), 0, "{exchange} {}: {}", args[0], out.stdout_text());
            out.scan(&format!("{} {exchange}, an unusable secret", args[0]), &mut scan);
        }
    }
    // A secret variable that is not UTF-8: the bytes of the secret, then one that is not.
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        for fixture in [Fixture::new("okx", 9), Fixture::new("kraken", 9)] {
            let exchange = fixture.exchange;
            let not_utf8 = std::ffi::OsString::from_vec([fixture.secret.as_bytes(), b"\xff"].concat());
            let [method, path] = read_call(exchange);
            let url = format!("http://127.0.0.1:1{path}");
            let runs: [&[&str]; 2] = [
                &["sign", exchange, method, &url],
                &["call", exchange, method, path, "--base-url", "http://127.0.0.1:1"],
            ];
            for args in runs {
                let mut command = keyward(&sandbox, &vars(&fixture), args);
                command.env(format!("{}_API_SECRET", exchange.to_ascii_uppercase()), &not_utf8);
                let out = run(&sandbox, command).await;
                assert_eq!(out.code(), 2, "{exchange} {}: {}", args[0], out.stderr_text());
                assert!(out.stderr_text().contains("not UTF-8"), "{}", out.stderr_text());
                out.scan(
                    &format!("{} {exchange}, a secret that is not UTF-8", args[0]),
                    &mut scan,
                );
            }
        }
    }
    finish("unusable secrets", &sandbox, scan);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_through_faults_on_every_exchange() {
    let root = tempfile::tempdir().unwrap();
    let fixtures = fixtures(10);
    let mut scan = LeakScan::new(needles(&fixtures));
    let sandbox = Arc::new(new_sandbox(&root, "faults"));
    let plan = FaultPlan::new(7)
        .with(Fault::Status(http::StatusCode::INTERNAL_SERVER_ERROR), 0.1)
        .with(Fault::ResetBeforeResponse, 0.05)
        .with(Fault::TruncatedBody, 0.05)
        .with(Fault::NotJson, 0.05)
        .with(Fault::TooManyRequests(Duration::from_millis(200)), 0.05)
        .with(Fault::TimeoutAfterExecute(Duration::from_millis(700)), 0.05);
    let mut faulted = 0;
    for fixture in &fixtures {
        let exchange = fixture.exchange;
        let mock = mock(fixture).await;
        mock.set_fault_plan(Some(plan.clone()));
        let [method, path] = read_call(exchange);
        let trail = format!("audit-{exchange}.jsonl");
        let args = [
            "call",
            exchange,
            method,
            path,
            "--base-url",
            &mock.base_url(),
            "--repeat",
            "10",
            "--concurrency",
            "3",
            "--timeout",
            "0.5",
            "--audit-log",
            &trail,
        ];
        let out = run(&sandbox, keyward(&sandbox, &vars(fixture), &args)).await;
        // Some calls may fail, as typed errors in the summary.
        assert!(matches!(out.code(), 0 | 1), "{exchange}: {}", out.stderr_text());
        assert!(
            out.stdout_text().contains(r#""sent":10"#),
            "{exchange}: {}",
            out.stdout_text()
        );
        out.scan(&format!("call {exchange} through faults"), &mut scan);
        let summary: serde_json::Value = serde_json::from_str(out.stdout_text().lines().last().unwrap()).unwrap();
        faulted += summary["retries"].as_u64().unwrap() + summary["failed"].as_u64().unwrap();
    }
    assert!(faulted > 0, "the fault plan made some calls retry or fail");

    // An order whose answer never arrives: reported ambiguous, with its client order id.
    let binance = &fixtures[0];
    let mock = mock(binance).await;
    mock.inject_for("/api/v3/order", Fault::TimeoutAfterExecute(Duration::from_millis(700)));
    let args = [
        "call",
        "binance",
        "POST",
        "/api/v3/order",
        "--base-url",
        &mock.base_url(),
        "--query",
        "symbol=BTCUSDT",
        "--query",
        "side=BUY",
        "--query",
        "type=LIMIT",
        "--query",
        "timeInForce=GTC",
        "--query",
        "quantity=0.01",
        "--query",
        "price=30000",
        "--timeout",
        "0.5",
        "--audit-log",
        "audit-order.jsonl",
    ];
    let out = run(&sandbox, keyward(&sandbox, &vars(binance), &args)).await;
    assert_eq!(out.code(), 1, "{}", out.stderr_text());
    assert_eq!(mock.orders().len(), 1, "executed once, not re-sent");
    out.scan("call binance, an order that timed out after executing", &mut scan);
    finish("faults", &sandbox, scan);
}
