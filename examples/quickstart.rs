//! keyward in thirty seconds: an audited exchange client against the embedded exchange.
//!
//! Run it with `cargo run -p keyward-examples --example quickstart`. It needs no network and no
//! real key: the embedded exchange (a real HTTP server on 127.0.0.1 that checks real Binance
//! signatures) stands in for Binance, with test-only credentials.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use bytes::Bytes;
use keyward::{
    Credentials, Error, Preset,
    audit::trail::{self, AuditTrail},
    audited, exchange,
    preset::PresetService,
    transport::ReqwestTransport,
};
use keyward_mock::{MockCredentials, MockExchange};
use std::sync::Arc;
use tower::ServiceExt;
use tracing_subscriber::{EnvFilter, prelude::*};

// Test-only credentials for the embedded exchange: not a real key of anyone.
const API_KEY: &str = "test-only-quickstart-key-0123456789abcdef";
const API_SECRET: &str = "test-only-quickstart-secret-fedcba9876543210";

/// A small Binance client. Each method call leaves one audit record; each HTTP attempt another.
struct Client {
    base_url: String,
    http: PresetService<ReqwestTransport, Arc<Credentials>>,
}

impl Client {
    async fn send(&self, method: &str, path_and_query: &str) -> Result<String, Error> {
        let request = http::Request::builder()
            .method(method)
            .uri(format!("{}{path_and_query}", self.base_url))
            .body(Bytes::new())
            .map_err(|err| Error::Sign(keyward::sign::SignError::InvalidRequest(err.to_string())))?;
        let response = self.http.clone().oneshot(request).await?;
        Ok(String::from_utf8_lossy(response.body()).into_owned())
    }

    #[audited(exchange = "binance")]
    async fn account(&self) -> Result<String, Error> {
        self.send("GET", "/api/v3/account").await
    }

    #[audited(exchange = "binance")]
    async fn place_order(&self, symbol: &str, side: &str, quantity: f64, price: f64) -> Result<String, Error> {
        let query = format!(
            "/api/v3/order?symbol={symbol}&side={side}&type=LIMIT&timeInForce=GTC&quantity={quantity}&price={price}"
        );
        self.send("POST", &query).await
    }

    #[audited(exchange = "binance")]
    async fn withdraw(&self, asset: &str, amount: f64, address: &str) -> Result<String, Error> {
        let query = format!("/sapi/v1/capital/withdraw/apply?coin={asset}&amount={amount}&address={address}");
        self.send("POST", &query).await
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let trail_path = dir.path().join("audit.jsonl");

    // 1. Logging: human-readable logs on stderr, through the leak tripwire; audit records to a
    //    hash-chained file.
    let trail = AuditTrail::builder(&trail_path).build()?;
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(keyward::tripwire::Tripwire::new(std::io::stderr))
                .with_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"))),
        )
        .with(trail)
        .init();

    // 2. The embedded exchange, standing in for Binance.
    let mock = MockExchange::builder("binance")?
        .credentials(MockCredentials::new(API_KEY, API_SECRET))
        .start()
        .await?;
    println!("embedded Binance at {}", mock.base_url());

    // 3. The client: one call builds the whole stack (guard, signing, audit, classification).
    let credentials = Arc::new(Credentials::new(API_KEY, API_SECRET));
    let binance = exchange::by_name("binance").ok_or("binance is built in")?;
    let client = Client {
        base_url: mock.base_url(),
        http: Preset::new(binance, credentials).service(ReqwestTransport::default()),
    };

    let account = client.account().await?;
    println!(
        "✔ signed call accepted by the exchange ({} bytes of account data)",
        account.len()
    );

    let order = client.place_order("BTCUSDT", "BUY", 0.01, 30_000.0).await?;
    println!(
        "✔ order placed and executed once ({} orders on the exchange's book)",
        mock.orders().len()
    );
    let _ = order;

    match client.withdraw("BTC", 1.0, "bc1q-attacker-address").await {
        Err(Error::Denied(denied)) => println!("✔ withdrawal refused before sending: {denied}"),
        other => return Err(format!("the guard should have refused the withdrawal: {other:?}").into()),
    }
    let received = mock.requests().len();
    println!("✔ the exchange received {received} requests (the withdrawal never left the process)");

    // 4. The audit trail: one record per call and per attempt, hash-chained, verified.
    let report = trail::verify(&trail_path, None)?;
    println!(
        "✔ audit trail {}: {} records, head {}",
        trail_path.display(),
        report.records,
        report.head_hash
    );
    let text = std::fs::read_to_string(&trail_path)?;
    assert!(
        !text.contains(API_SECRET) && !text.contains(API_KEY),
        "no secret and no full key in the trail"
    );
    println!("✔ no secret and no full API key in the trail; the key appears as its fingerprint …cdef");
    println!("\nthe trail, one JSON record per line:");
    for line in text.lines() {
        println!("  {line}");
    }
    Ok(())
}
