//! `keyward mock`: the embedded exchange in the foreground, its address on the first line,
//! accepting the credentials `keyward sign` signs with.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keyward_integration::Fixture;
use serde_json::Value;
use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

#[tokio::test]
async fn mock_and_sign_started_in_the_same_shell_work_together() {
    let fixture = Fixture::new("kucoin", 1);
    let vars = [
        ("KUCOIN_API_KEY", fixture.api_key.clone()),
        ("KUCOIN_API_SECRET", fixture.secret.clone()),
        ("KUCOIN_API_PASSPHRASE", fixture.passphrase.clone().unwrap()),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut mock = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(["mock", "kucoin", "--offset-ms", "-1500"])
        .current_dir(dir.path())
        .env_clear()
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    BufReader::new(mock.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let base = first_line.trim().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "first line: {first_line:?}");

    // The mock's clock runs 1.5 s behind, inside KuCoin's 5 s window: a request signed now passes.
    let url = format!("{base}/api/v1/accounts?currency=BTC");
    let signed = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(["sign", "kucoin", "GET", &url])
        .current_dir(dir.path())
        .env_clear()
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    let printed: Value = serde_json::from_slice(&signed.stdout).unwrap();
    let mut request = reqwest::Client::new().get(printed["url"].as_str().unwrap());
    for (name, value) in printed["headers"].as_object().unwrap() {
        request = request.header(name, value.as_str().unwrap());
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let body = response.text().await.unwrap();
    mock.kill().unwrap();
    let _ = mock.wait();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""code":"200000""#), "{body}");
}

#[test]
fn mock_without_credentials_says_which_variable_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(["mock", "binance"])
        .current_dir(dir.path())
        .env_clear()
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("BINANCE_API_KEY is missing"));
}
