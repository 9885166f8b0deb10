//! `keyward check` against the embedded exchange, over real HTTP, with the command run as a
//! process: each unsafe key configuration fails with its message, a safe one passes, `--json`
//! parses, and nothing secret is printed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keyward_integration::Fixture;
use keyward_mock::{MockExchange, MockKeyPermissions, RunningMock};
use serde_json::Value;
use std::process::Command;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

struct Output {
    status: i32,
    stdout: String,
    stderr: String,
}

/// Runs `keyward check <exchange> --base-url <mock> ...` in an empty directory with only the
/// fixture's variables (and PATH) in its environment, at `RUST_LOG=trace`.
async fn check(fixture: &Fixture, mock: &RunningMock, args: &[&str]) -> Output {
    let prefix = fixture.exchange.to_ascii_uppercase();
    let mut vars = vec![
        (format!("{prefix}_API_KEY"), fixture.api_key.clone()),
        (format!("{prefix}_API_SECRET"), fixture.secret.clone()),
    ];
    if let Some(passphrase) = &fixture.passphrase {
        vars.push((format!("{prefix}_API_PASSPHRASE"), passphrase.clone()));
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_keyward"));
    command
        .args(["check", fixture.exchange, "--base-url", &mock.base_url()])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "trace")
        .envs(vars);
    let dir = tempfile::tempdir().unwrap();
    command.current_dir(dir.path());
    // The mock serves on this runtime while the command runs on a blocking thread.
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let output = Output {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    for forbidden in fixture.forbidden_strings() {
        assert!(
            !output.stdout.contains(&forbidden),
            "stdout shows a secret or key:\n{}",
            output.stdout
        );
        assert!(!output.stderr.contains(&forbidden), "stderr shows a secret or key");
    }
    output
}

async fn mock(fixture: &Fixture, permissions: Option<MockKeyPermissions>) -> RunningMock {
    let mut builder = MockExchange::builder(fixture.exchange)
        .unwrap()
        .credentials(fixture.mock())
        .without_rate_limits();
    if let Some(permissions) = permissions {
        builder = builder.key_permissions(fixture.api_key.clone(), permissions);
    }
    builder.start().await.unwrap()
}

fn line<'a>(output: &'a Output, name: &str) -> &'a str {
    output
        .stdout
        .lines()
        .find(|line| line.split_whitespace().nth(1) == Some(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no `{name}` line in:\n{}\nstderr:\n{}", output.stdout, output.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_enabled_key_fails() {
    let fixture = Fixture::new("binance", 1);
    let permissions = MockKeyPermissions {
        withdrawals: true,
        ..MockKeyPermissions::default()
    };
    let mock = mock(&fixture, Some(permissions)).await;
    let output = check(&fixture, &mock, &[]).await;
    assert_eq!(output.status, 1, "{}{}", output.stdout, output.stderr);
    let permissions = line(&output, "permissions");
    assert!(
        permissions.starts_with("fail permissions: Withdrawals enabled for key …cdef."),
        "{permissions}"
    );
    assert!(
        permissions.contains("Fix: Disable withdrawals for this key in binance's API-key settings"),
        "{permissions}"
    );
    assert!(line(&output, "ip-restriction").starts_with("ok"), "{}", output.stdout);
    assert!(line(&output, "clock").starts_with("ok"), "{}", output.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unrestricted_key_fails() {
    let fixture = Fixture::new("bybit", 1);
    let permissions = MockKeyPermissions {
        ips: Vec::new(),
        ..MockKeyPermissions::default()
    };
    let mock = mock(&fixture, Some(permissions)).await;
    let output = check(&fixture, &mock, &[]).await;
    assert_eq!(output.status, 1, "{}{}", output.stdout, output.stderr);
    let restriction = line(&output, "ip-restriction");
    assert!(
        restriction
            .starts_with("fail ip-restriction: the key is not IP-restricted: it accepts requests from any IP address."),
        "{restriction}"
    );
    assert!(
        restriction.contains("Fix: Restrict the key to your server's IP addresses"),
        "{restriction}"
    );
    assert!(line(&output, "permissions").starts_with("ok"), "{}", output.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mismatching_egress_ip_fails() {
    let fixture = Fixture::new("okx", 1);
    let mock = mock(&fixture, None).await;
    let echo = format!("{}/ip", mock.base_url());
    let output = check(&fixture, &mock, &["--ip-echo-url", &echo, "--expect-ip", "203.0.113.7"]).await;
    assert_eq!(output.status, 1, "{}{}", output.stdout, output.stderr);
    let egress = line(&output, "egress-ip");
    assert!(
        egress.starts_with("fail egress-ip: this host leaves from 127.0.0.1, not 203.0.113.7 as expected."),
        "{egress}"
    );
    assert!(egress.contains("Fix: Send from the expected address"), "{egress}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_egress_ip_outside_the_keys_allow_list_fails() {
    let fixture = Fixture::new("bybit", 2);
    let permissions = MockKeyPermissions {
        ips: vec!["203.0.113.7".to_owned()],
        ..MockKeyPermissions::default()
    };
    let mock = mock(&fixture, Some(permissions)).await;
    let echo = format!("{}/ip", mock.base_url());
    let output = check(&fixture, &mock, &["--ip-echo-url", &echo]).await;
    assert_eq!(output.status, 1, "{}{}", output.stdout, output.stderr);
    let egress = line(&output, "egress-ip");
    assert!(egress.contains("allow-list (203.0.113.7) does not contain"), "{egress}");
    assert!(
        egress.contains("Fix: Add 127.0.0.1 to the key's IP allow-list"),
        "{egress}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correctly_restricted_key_passes_on_every_reporting_exchange() {
    for exchange in ["binance", "bitmex", "bybit", "kucoin", "okx"] {
        let fixture = Fixture::new(exchange, 1);
        let mock = mock(&fixture, None).await;
        let echo = format!("{}/ip", mock.base_url());
        let output = check(&fixture, &mock, &["--ip-echo-url", &echo, "--expect-ip", "127.0.0.1"]).await;
        assert_eq!(output.status, 0, "{exchange}:\n{}{}", output.stdout, output.stderr);
        assert!(!output.stdout.contains("fail"), "{exchange}:\n{}", output.stdout);
        assert!(line(&output, "permissions").starts_with("ok   permissions: key …cdef cannot withdraw or transfer."));
        assert!(
            line(&output, "ip-restriction").starts_with("ok"),
            "{exchange}:\n{}",
            output.stdout
        );
        assert!(
            line(&output, "egress-ip").starts_with("ok   egress-ip: this host leaves from 127.0.0.1"),
            "{exchange}:\n{}",
            output.stdout
        );
        assert!(
            line(&output, "credentials")
                .contains(&format!("from environment ({}_API_KEY", exchange.to_ascii_uppercase())),
            "{exchange}:\n{}",
            output.stdout
        );
        // OKX reports no creation time; the others' keys were created just now.
        let age = line(&output, "key-age");
        if exchange == "okx" {
            assert!(
                age.starts_with("warn key-age: okx does not report when the key was created."),
                "{age}"
            );
        } else {
            assert!(age.starts_with("ok   key-age: the key was created 0 days ago"), "{age}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_key_fails_and_a_skewed_clock_fails() {
    let fixture = Fixture::new("kucoin", 1);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let permissions = MockKeyPermissions {
        // An hour more, so that the exchange clock running 7 s behind still counts 100 days.
        created_at_ms: Some(i64::try_from(now).unwrap() - 100 * DAY_MS - DAY_MS / 24),
        ..MockKeyPermissions::default()
    };
    let mock = MockExchange::builder("kucoin")
        .unwrap()
        .credentials(fixture.mock())
        .key_permissions(fixture.api_key.clone(), permissions)
        .clock_offset_ms(-7_000)
        .start()
        .await
        .unwrap();
    let output = check(&fixture, &mock, &[]).await;
    assert_eq!(output.status, 1, "{}{}", output.stdout, output.stderr);
    let age = line(&output, "key-age");
    assert!(
        age.starts_with("fail key-age: the key was created 100 days ago on kucoin. The maximum is 90 days."),
        "{age}"
    );
    let clock = line(&output, "clock");
    let offset: u64 = clock
        .strip_prefix("fail clock: the host clock is ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("{clock}"));
    assert!((6_800..=7_200).contains(&offset), "{clock}");
    assert!(clock.contains(" ms ahead of kucoin"), "{clock}");
    assert!(clock.contains("Fix: Synchronise the host clock with NTP"), "{clock}");
    // Signed for the exchange's time, the permission request still got through.
    assert!(line(&output, "permissions").starts_with("ok"), "{}", output.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_output_parses() {
    let fixture = Fixture::new("binance", 3);
    let permissions = MockKeyPermissions {
        transfers: true,
        ..MockKeyPermissions::default()
    };
    let mock = mock(&fixture, Some(permissions)).await;
    let echo = format!("{}/ip", mock.base_url());
    let ntp = sntp_server(std::time::Duration::ZERO).await.to_string();
    let output = check(&fixture, &mock, &["--json", "--ip-echo-url", &echo, "--ntp", &ntp]).await;
    assert_eq!(output.status, 1, "{}{}", output.stdout, output.stderr);
    assert_eq!(output.stdout.lines().count(), 1, "{}", output.stdout);
    let report: Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(report["exchange"], "binance");
    assert_eq!(report["ok"], false);
    let checks = report["checks"].as_array().unwrap();
    let names: Vec<&str> = checks.iter().map(|check| check["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "credentials",
            "clock",
            "ntp",
            "authentication",
            "permissions",
            "ip-restriction",
            "key-age",
            "egress-ip"
        ]
    );
    for check in checks {
        assert!(
            ["ok", "warn", "fail"].contains(&check["status"].as_str().unwrap()),
            "{check}"
        );
        assert!(check["detail"].is_string(), "{check}");
        assert_eq!(check["fix"].is_null(), check["status"] == "ok", "{check}");
    }
    let permissions = &checks[4];
    assert_eq!(permissions["status"], "fail");
    assert!(
        permissions["detail"].as_str().unwrap().starts_with("Transfers enabled"),
        "{permissions}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exchange_that_does_not_report_permissions_says_unknown_but_still_proves_the_key() {
    for exchange in ["coinbase", "kraken"] {
        let fixture = Fixture::new(exchange, 1);
        // Configured, but Coinbase Exchange and Kraken have no endpoint to report it through.
        let permissions = MockKeyPermissions {
            withdrawals: true,
            ..MockKeyPermissions::default()
        };
        let mock = mock(&fixture, Some(permissions)).await;
        let echo = format!("{}/ip", mock.base_url());
        let output = check(&fixture, &mock, &["--ip-echo-url", &echo, "--expect-ip", "127.0.0.1"]).await;
        assert_eq!(output.status, 0, "{exchange}:\n{}{}", output.stdout, output.stderr);
        let authentication = line(&output, "authentication");
        assert!(
            authentication.starts_with(&format!(
                "ok   authentication: credentials accepted: {exchange} answered a signed "
            )),
            "{authentication}"
        );
        let permissions = line(&output, "permissions");
        assert!(
            permissions.starts_with(&format!(
                "warn permissions: unknown: {exchange} does not report whether key …cdef can withdraw or transfer."
            )),
            "{permissions}"
        );
        assert!(
            permissions.contains(&format!("Fix: Verify on {exchange}'s API-key page")),
            "{permissions}"
        );
        assert!(line(&output, "ip-restriction").starts_with("warn"), "{}", output.stdout);
        assert!(line(&output, "key-age").starts_with("warn"), "{}", output.stdout);
        // The signed request reached the exchange and was accepted there.
        assert!(
            mock.requests()
                .iter()
                .any(|request| ["/profiles", "/0/private/BalanceEx"].contains(&request.path.as_str())),
            "{exchange}: {:?}",
            mock.requests()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_exchange_accepts_right_credentials_and_fails_a_wrong_secret_or_a_revoked_key() {
    for exchange in keyward::exchange::names() {
        let fixture = Fixture::new(exchange, 4);
        let prefix = exchange.to_ascii_uppercase();
        let mock = mock(&fixture, None).await;

        let right = check(&fixture, &mock, &[]).await;
        assert_eq!(right.status, 0, "{exchange}:\n{}{}", right.stdout, right.stderr);
        let accepted = line(&right, "authentication");
        assert!(
            accepted.starts_with(&format!(
                "ok   authentication: credentials accepted: {exchange} answered a signed "
            )),
            "{accepted}"
        );
        assert!(accepted.ends_with("for key …cdef."), "{accepted}");

        let wrong = check(&fixture.with_wrong_secret(), &mock, &[]).await;
        assert_eq!(
            wrong.status, 1,
            "{exchange}, a wrong secret:\n{}{}",
            wrong.stdout, wrong.stderr
        );
        let rejected = line(&wrong, "authentication");
        assert!(
            rejected.starts_with(&format!(
                "fail authentication: {exchange} rejected key …cdef on a signed "
            )),
            "{rejected}"
        );
        assert!(
            rejected.contains("Fix: The exchange rejected the key: check the API key"),
            "{rejected}"
        );
        assert!(
            rejected.contains(&format!("environment ({prefix}_API_KEY, {prefix}_API_SECRET")),
            "{rejected}"
        );
        // Nothing is claimed about a key the exchange refused.
        assert!(!wrong.stdout.contains(" permissions:"), "{}", wrong.stdout);

        assert!(mock.revoke(&fixture.api_key));
        let revoked = check(&fixture, &mock, &[]).await;
        assert_eq!(
            revoked.status, 1,
            "{exchange}, a revoked key:\n{}{}",
            revoked.stdout, revoked.stderr
        );
        assert!(
            line(&revoked, "authentication")
                .starts_with(&format!("fail authentication: {exchange} rejected key …cdef")),
            "{}",
            revoked.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bitmex_reports_withdrawals_and_ip_restriction_and_gate_its_ip_allow_list() {
    let fixture = Fixture::new("bitmex", 5);
    let withdrawing = MockKeyPermissions {
        withdrawals: true,
        ..MockKeyPermissions::default()
    };
    let output = check(&fixture, &mock(&fixture, Some(withdrawing)).await, &[]).await;
    assert_eq!(output.status, 1, "{}{}", output.stdout, output.stderr);
    let permissions = line(&output, "permissions");
    assert!(
        permissions.starts_with("fail permissions: Withdrawals enabled for key …cdef."),
        "{permissions}"
    );
    assert!(
        permissions.contains("Fix: Disable withdrawals for this key in bitmex's API-key settings"),
        "{permissions}"
    );
    assert_eq!(
        line(&output, "ip-restriction"),
        "ok   ip-restriction: the key is restricted to 127.0.0.1/32."
    );

    let unrestricted = MockKeyPermissions {
        ips: Vec::new(),
        ..MockKeyPermissions::default()
    };
    let output = check(&fixture, &mock(&fixture, Some(unrestricted.clone())).await, &[]).await;
    assert_eq!(output.status, 1, "{}{}", output.stdout, output.stderr);
    assert!(line(&output, "permissions").starts_with("ok   permissions: key …cdef cannot withdraw or transfer."));
    assert!(
        line(&output, "ip-restriction").starts_with("fail ip-restriction: the key is not IP-restricted"),
        "{}",
        output.stdout
    );

    let fixture = Fixture::new("gate", 5);
    let output = check(&fixture, &mock(&fixture, Some(unrestricted)).await, &[]).await;
    assert_eq!(output.status, 1, "{}{}", output.stdout, output.stderr);
    assert!(
        line(&output, "ip-restriction").starts_with("fail ip-restriction: the key is not IP-restricted"),
        "{}",
        output.stdout
    );
    assert!(
        line(&output, "permissions").starts_with("warn permissions: unknown: gate does not report"),
        "{}",
        output.stdout
    );
    let output = check(&fixture, &mock(&fixture, None).await, &[]).await;
    assert_eq!(output.status, 0, "{}{}", output.stdout, output.stderr);
    assert_eq!(
        line(&output, "ip-restriction"),
        "ok   ip-restriction: the key is restricted to 127.0.0.1."
    );
}

/// The library entry point a bot calls at start, over loopback: the same verdicts as the command.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preflight_library_call_fails_a_wrong_secret_on_every_exchange() {
    use keyward::{
        check::{Options, Status, preflight},
        credentials::sources::{Loaded, Provenance, SourceKind},
        transport::ReqwestTransport,
    };
    for exchange in keyward::exchange::ALL.iter().copied() {
        let fixture = Fixture::new(exchange.name(), 6);
        let mock = mock(&fixture, None).await;
        let options = Options::new().base_url(mock.base_url());
        for (credentials, accepted) in [(&fixture, true), (&fixture.with_wrong_secret(), false)] {
            let loaded = Loaded {
                credentials: (*credentials.credentials()).clone(),
                provenance: Provenance::new(SourceKind::Memory),
            };
            let report = preflight(exchange, &loaded, &options, ReqwestTransport::default()).await;
            let authentication = report.check("authentication").unwrap();
            let expected = if accepted { Status::Ok } else { Status::Fail };
            assert_eq!(authentication.status, expected, "{}: {report}", exchange.name());
            assert_eq!(report.ok(), accepted, "{}: {report}", exchange.name());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_credentials_are_a_usage_error_with_nothing_sent() {
    let fixture = Fixture::new("okx", 1);
    let mock = mock(&fixture, None).await;
    let dir = tempfile::tempdir().unwrap();
    let base = mock.base_url();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_keyward"))
            .args(["check", "okx", "--base-url", &base])
            .current_dir(dir.path())
            .env_clear()
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("OKX_API_KEY"));
    assert!(mock.requests().is_empty());
}

/// A loopback SNTP server (RFC 5905, server mode) whose clock runs `offset` ahead of this host:
/// enough of the protocol for a real client to synchronise against.
async fn sntp_server(offset: std::time::Duration) -> std::net::SocketAddr {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut request = [0u8; 48];
        while let Ok((_, peer)) = socket.recv_from(&mut request).await {
            // NTP time: seconds since 1900 and a 32-bit fraction.
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                + offset;
            let seconds = (now.as_secs() + 2_208_988_800) as u32;
            let fraction = ((u64::from(now.subsec_nanos()) << 32) / 1_000_000_000) as u32;
            let mut stamp = [0u8; 8];
            stamp[..4].copy_from_slice(&seconds.to_be_bytes());
            stamp[4..].copy_from_slice(&fraction.to_be_bytes());
            let mut reply = [0u8; 48];
            reply[0] = 0x24; // no leap warning, version 4, server mode
            reply[1] = 1; // stratum 1
            reply[2] = request[2];
            reply[3] = 0xEC; // precision 2^-20 s
            reply[12..16].copy_from_slice(b"LOCL");
            reply[16..24].copy_from_slice(&stamp); // reference
            reply[24..32].copy_from_slice(&request[40..48]); // originate: the client's transmit
            reply[32..40].copy_from_slice(&stamp); // receive
            reply[40..48].copy_from_slice(&stamp); // transmit
            let _ = socket.send_to(&reply, peer).await;
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_clock_is_compared_with_an_ntp_server() {
    let fixture = Fixture::new("okx", 9);
    let mock = mock(&fixture, None).await;

    let in_sync = sntp_server(std::time::Duration::ZERO).await.to_string();
    let out = check(&fixture, &mock, &["--ntp", &in_sync]).await;
    let ntp = line(&out, "ntp");
    assert!(ntp.starts_with("ok"), "{ntp}");

    let far = sntp_server(std::time::Duration::from_secs(30)).await.to_string();
    let out = check(&fixture, &mock, &["--ntp", &far]).await;
    assert_eq!(out.status, 1);
    let ntp = line(&out, "ntp");
    assert!(
        ntp.starts_with("fail") && ntp.contains("30.0") && ntp.contains("behind"),
        "{ntp}"
    );
    assert!(ntp.contains("Synchronise the host clock with NTP"), "{ntp}");
}
