//! `keyward sign`: the printed request is exactly what the exchange requires, the embedded
//! exchange accepts it as printed, and nothing secret reaches stderr even at `RUST_LOG=trace`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keyward_integration::Fixture;
use keyward_mock::{MockExchange, Verdict};
use serde_json::Value;
use std::{path::Path, process::Command};

const EXCHANGES: [&str; 8] = [
    "binance", "bitmex", "bybit", "coinbase", "gate", "kraken", "kucoin", "okx",
];

struct Output {
    status: i32,
    stdout: String,
    stderr: String,
}

/// Runs `keyward` in `dir` with only `vars` (and PATH) in its environment, at `RUST_LOG=trace`.
fn keyward(dir: &Path, vars: &[(String, String)], args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "trace")
        .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    Output {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
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

fn request_for(exchange: &str, base: &str) -> (&'static str, String, Option<&'static str>) {
    match exchange {
        "binance" => (
            "POST",
            format!(
                "{base}/api/v3/order?symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=0.1&newClientOrderId=cli-1"
            ),
            None,
        ),
        "bybit" => (
            "POST",
            format!("{base}/v5/order/create"),
            Some(r#"{"category": "spot", "symbol": "BTCUSDT", "orderLinkId": "cli-1"}"#),
        ),
        "okx" => ("GET", format!("{base}/api/v5/account/balance?ccy=BTC,%E4%B8%AD"), None),
        "coinbase" => ("GET", format!("{base}/accounts?limit=5&name=caf%C3%A9"), None),
        "kraken" => (
            "POST",
            format!("{base}/0/private/Balance"),
            Some("asset=XBT&note=caf%C3%A9"),
        ),
        "kucoin" => (
            "GET",
            format!("{base}/api/v1/accounts?currency=BTC&type=trade%20x"),
            None,
        ),
        "bitmex" => (
            "GET",
            format!("{base}/api/v1/position?filter=%7B%22symbol%22%3A+%22XBTUSD%22%7D"),
            None,
        ),
        _ => (
            "GET",
            format!("{base}/api/v4/spot/accounts?currency=BTC&note=a+b%2Bc"),
            None,
        ),
    }
}

#[tokio::test]
async fn the_printed_request_is_accepted_as_printed_by_the_embedded_exchange() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    for exchange in EXCHANGES {
        let fixture = Fixture::new(exchange, 1);
        let mock = MockExchange::builder(exchange)
            .unwrap()
            .credentials(fixture.mock())
            .start()
            .await
            .unwrap();
        let (method, url, body) = request_for(exchange, &mock.base_url());
        let mut args = vec!["sign", exchange, method, url.as_str()];
        if let Some(body) = body {
            args.extend(["--body", body]);
        }
        let out = keyward(dir.path(), &vars(&fixture), &args);
        assert_eq!(out.status, 0, "{exchange}: {}", out.stderr);
        let printed: Value = serde_json::from_str(&out.stdout).unwrap();

        // Send exactly what was printed.
        let mut request = client.request(
            printed["method"].as_str().unwrap().parse().unwrap(),
            printed["url"].as_str().unwrap(),
        );
        for (name, value) in printed["headers"].as_object().unwrap() {
            request = request.header(name, value.as_str().unwrap());
        }
        let response = request
            .body(printed["body"].as_str().unwrap().to_owned())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(
            mock.requests()[0].verdict,
            Verdict::Accepted,
            "{exchange}: {status} {text}"
        );

        // The API key header, and the passphrase header where the exchange wants it raw, are
        // there because the exchange requires them; the secret is there in no form.
        let headers = printed["headers"].as_object().unwrap();
        assert!(
            headers.values().any(|v| v == fixture.api_key.as_str()),
            "{exchange}: no API key header"
        );
        if matches!(exchange, "okx" | "coinbase") {
            assert!(
                headers
                    .values()
                    .any(|v| Some(v.as_str().unwrap()) == fixture.passphrase.as_deref())
            );
        }
        let secret_forms = &fixture.forbidden_strings()[1..];
        for form in secret_forms
            .iter()
            .filter(|f| fixture.passphrase.as_deref() != Some(f.as_str()))
        {
            assert!(
                !out.stdout.contains(form.as_str()),
                "{exchange}: a form of the secret is in the printed request"
            );
        }
        for form in fixture.forbidden_strings() {
            assert!(
                !out.stderr.contains(&form),
                "{exchange}: stderr leaks a secret form at RUST_LOG=trace"
            );
        }
    }
}

#[test]
fn at_fixes_the_clock_and_reproduces_the_published_binance_example() {
    let dir = tempfile::tempdir().unwrap();
    let vars = vec![
        // Binance's own documentation example key and secret (testdata/vectors.json).
        (
            "BINANCE_API_KEY".to_owned(),
            "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A".to_owned(),
        ),
        (
            "BINANCE_API_SECRET".to_owned(),
            "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j".to_owned(),
        ),
    ];
    let url = "https://api.binance.com/api/v3/order?symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000";
    let out = keyward(
        dir.path(),
        &vars,
        &["sign", "binance", "POST", url, "--at", "1499827319559"],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    let printed: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        printed["url"],
        format!(
            "{url}&timestamp=1499827319559&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        )
    );
    let again = keyward(
        dir.path(),
        &vars,
        &["sign", "binance", "POST", url, "--at", "1499827319559"],
    );
    assert_eq!(again.stdout, out.stdout, "--at makes the output reproducible");
}

#[test]
fn credentials_are_read_from_a_dot_env_file() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Fixture::new("okx", 2);
    let lines: Vec<String> = vars(&fixture).iter().map(|(k, v)| format!("{k}={v}")).collect();
    let dotenv = dir.path().join(".env");
    std::fs::write(&dotenv, lines.join("\n")).unwrap();
    // Readable by others, it is refused with the fix; private, it is used.
    std::fs::set_permissions(&dotenv, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let refused = keyward(
        dir.path(),
        &[],
        &["sign", "okx", "GET", "https://www.okx.com/api/v5/account/balance"],
    );
    assert_ne!(refused.status, 0);
    assert!(refused.stderr.contains("chmod 600"), "{}", refused.stderr);
    std::fs::set_permissions(&dotenv, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let out = keyward(
        dir.path(),
        &[],
        &[
            "sign",
            "okx",
            "GET",
            "https://www.okx.com/api/v5/account/balance",
            "--explain",
            "--at",
            "1607418537715",
        ],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("2020-12-08T09:08:57.715ZGET/api/v5/account/balance"),
        "{}",
        out.stdout
    );
}

#[test]
fn bad_input_gets_a_clear_message_and_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let okx = vars(&Fixture::new("okx", 3));
    // (environment, arguments, what the message must say)
    type Case<'a> = (Vec<(String, String)>, Vec<&'a str>, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            okx.clone(),
            vec!["sign", "mtgox", "GET", "https://x.test/"],
            "unknown exchange `mtgox`",
        ),
        (
            okx.clone(),
            vec!["sign", "okx", "GET", "api/v5/account"],
            "malformed URL",
        ),
        (
            vec![],
            vec!["sign", "okx", "GET", "https://www.okx.com/api/v5/account/balance"],
            "OKX_API_KEY is missing",
        ),
        (
            okx[..2].to_vec(),
            vec!["sign", "okx", "GET", "https://www.okx.com/api/v5/account/balance"],
            "OKX_API_PASSPHRASE is missing",
        ),
        (
            vec![
                ("KRAKEN_API_KEY".into(), "test-only-kraken-key-0001".into()),
                ("KRAKEN_API_SECRET".into(), "not base64!".into()),
            ],
            vec!["sign", "kraken", "POST", "https://api.kraken.com/0/private/Balance"],
            "not valid base64",
        ),
        (
            vec![
                ("COINBASE_API_KEY".into(), "test-only-coinbase-key-0001".into()),
                ("COINBASE_API_SECRET".into(), "###".into()),
                ("COINBASE_API_PASSPHRASE".into(), "test-only-passphrase".into()),
            ],
            vec!["sign", "coinbase", "GET", "https://api.exchange.coinbase.com/accounts"],
            "base64",
        ),
        (
            vec![
                ("BINANCE_API_KEY".into(), "test-only-binance-key-0001".into()),
                (
                    "BINANCE_API_SECRET".into(),
                    "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n".into(),
                ),
            ],
            vec!["sign", "binance", "GET", "https://api.binance.com/api/v3/account"],
            "Ed25519",
        ),
        (
            vec![
                ("GATE_API_KEY".into(), "test-only-gate-key-0001".into()),
                ("GATE_API_SECRET".into(), "  ".into()),
            ],
            vec!["sign", "gate", "GET", "https://api.gateio.ws/api/v4/spot/accounts"],
            "GATE_API_SECRET is empty",
        ),
    ];
    for (vars, args, expected) in cases {
        let out = keyward(dir.path(), &vars, &args);
        assert_ne!(out.status, 0, "{args:?} succeeded");
        assert!(
            out.stderr.contains(expected),
            "{args:?}: expected `{expected}` in: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{args:?}: nothing is printed on failure");
        for (_, value) in &vars {
            if value.len() > 6 && !value.starts_with("test-only-") {
                assert!(
                    !out.stderr.contains(value.trim()),
                    "{args:?}: the message echoes a secret"
                );
            }
        }
    }
}
