//! keyward in thirty seconds: an audited Binance client against the embedded exchange.
//!
//! Run it with `cargo run -p keyward-examples --example quickstart`. No network and no real key:
//! the embedded exchange (a real HTTP server on 127.0.0.1 that checks real Binance signatures,
//! weights and bans) stands in for Binance, with test-only credentials. Its clock runs 3 s ahead
//! of this machine's and its weight budget is tight. Step by step, the client:
//! 1. makes a signed call;
//! 2. corrects the clock offset (a naive client, signing with the local clock, is rejected);
//! 3. spends the whole weight budget without a 429 or a ban;
//! 4. is refused a withdrawal by the least-privilege guard, before sending anything;
//! 5. reports an order that timed out after executing as `Ambiguous`, and does not send it again;
//! 6. verifies the hash-chained audit trail of all of it.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use bytes::Bytes;
use keyward::{
    Credentials, Error, Preset,
    audit::trail::{self, AuditTrail},
    audited,
    classify::ClassifyLayer,
    exchange::{self, Exchange},
    preset::PresetService,
    sign::SignLayer,
    transport::ReqwestTransport,
};
use keyward_mock::{Fault, MockCredentials, MockExchange, Rejection, Verdict};
use std::{sync::Arc, time::Duration};
use tower::{ServiceBuilder, ServiceExt};
use tracing_subscriber::{EnvFilter, prelude::*};

// Test-only credentials for the embedded exchange: not a real key of anyone.
const API_KEY: &str = "test-only-quickstart-key-0123456789abcdef";
const API_SECRET: &str = "test-only-quickstart-secret-fedcba9876543210";

/// The embedded exchange's budget: 200 weight per 5 s, ten account reads (weight 20 each).
const WEIGHT_LIMIT: u64 = 200;
const WEIGHT_WINDOW: Duration = Duration::from_secs(5);

type Http = PresetService<ReqwestTransport, Arc<Credentials>>;

/// A small Binance client. Each method call leaves one audit record; each HTTP attempt another.
struct Client {
    base_url: String,
    http: Http,
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

fn step(n: u8, text: impl std::fmt::Display) {
    println!("{n}. {text}");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let trail_path = dir.path().join("audit.jsonl");

    // Logs on stderr through the leak tripwire (RUST_LOG=debug to see them); audit records to
    // a hash-chained file.
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(keyward::tripwire::Tripwire::new(std::io::stderr))
                .with_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("error"))),
        )
        .with(AuditTrail::builder(&trail_path).build()?)
        .init();

    // The embedded exchange: Binance, 3 s ahead of this machine, with a tight weight budget.
    let mock = MockExchange::builder("binance")?
        .credentials(MockCredentials::new(API_KEY, API_SECRET))
        .clock_offset_ms(3_000)
        .weight_limit(WEIGHT_LIMIT, WEIGHT_WINDOW)
        .start()
        .await?;
    println!(
        "embedded Binance at {} (3 s ahead, {WEIGHT_LIMIT} weight per {WEIGHT_WINDOW:?})\n",
        mock.base_url()
    );

    // One call builds the whole stack: guard, retries, rate limits, clock, signing, audit.
    let credentials = Arc::new(Credentials::new(API_KEY, API_SECRET));
    let binance: &'static dyn Exchange = exchange::by_name("binance").ok_or("binance is built in")?;
    let preset = Preset::new(binance, Arc::clone(&credentials));
    let client = Client {
        base_url: mock.base_url(),
        http: preset.service(ReqwestTransport::default().timeout(Duration::from_secs(1))),
    };

    // A naive client, for comparison: it signs with the local clock, with a tight recvWindow.
    let naive = ServiceBuilder::new()
        .layer(SignLayer::new(binance, Arc::clone(&credentials)))
        .layer(ClassifyLayer::new(binance))
        .service(ReqwestTransport::default());
    let tight = format!("{}/api/v3/account?recvWindow=1000", mock.base_url());
    let rejected = naive.oneshot(http::Request::get(&tight).body(Bytes::new())?).await;

    // 1. A signed call.
    let account = client.account().await?;
    step(
        1,
        format!("signed call accepted ({} bytes of account data)", account.len()),
    );

    // 2. The clock: keyward measured the offset and stamps requests with the exchange's time.
    let offset = preset.offset().offset_millis().unwrap_or_default();
    let corrected = client.send("GET", "/api/v3/account?recvWindow=1000").await;
    step(
        2,
        format!(
            "clock offset measured: the exchange is {:+.3} s ahead; a naive client is rejected ({}), keyward's request \
             is {}",
            offset as f64 / 1000.0,
            rejected.err().map_or("accepted?".to_owned(), |err| err.to_string()),
            if corrected.is_ok() { "accepted" } else { "rejected" }
        ),
    );

    // 3. The budget: 25 account reads, 8 at a time, where the budget allows 10 per 5 s.
    let reads = 25;
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let client = Arc::new(client);
    let permits = Arc::new(tokio::sync::Semaphore::new(8));
    for _ in 0..reads {
        let (client, permit) = (Arc::clone(&client), Arc::clone(&permits).acquire_owned().await?);
        tasks.spawn(async move {
            let result = client.account().await;
            drop(permit);
            result
        });
    }
    while let Some(read) = tasks.join_next().await {
        read??;
    }
    let refused = |kind| {
        mock.requests()
            .iter()
            .filter(|r| r.verdict == Verdict::Rejected(kind))
            .count()
    };
    step(
        3,
        format!(
            "{reads} reads spent the budget in {:.1} s, pacing themselves: {} answered 429, {} banned",
            started.elapsed().as_secs_f64(),
            refused(Rejection::RateLimited),
            refused(Rejection::Banned)
        ),
    );

    // 4. A withdrawal, refused by the guard.
    let received = mock.requests().len();
    match client.withdraw("BTC", 1.0, "bc1q-attacker-address").await {
        Err(Error::Denied(denied)) => step(4, format!("withdrawal refused before sending: {denied}")),
        other => return Err(format!("the guard should have refused the withdrawal: {other:?}").into()),
    }
    assert_eq!(mock.requests().len(), received, "nothing reached the exchange");

    // 5. An order the exchange executes, whose answer never arrives within the timeout.
    mock.inject_for("/api/v3/order", Fault::TimeoutAfterExecute(Duration::from_secs(3)));
    match client.place_order("BTCUSDT", "BUY", 0.01, 30_000.0).await {
        Err(Error::Ambiguous(ambiguous)) => {
            let id = ambiguous.client_order_id.clone().unwrap_or_default();
            let executed = mock
                .orders()
                .iter()
                .filter(|order| order.client_order_id.as_deref() == Some(&id))
                .count();
            step(
                5,
                format!(
                    "order timed out after executing: reported Ambiguous with client order id {id}, not re-sent \
                     (executed {executed} time on the exchange)"
                ),
            );
        }
        other => return Err(format!("the order should be ambiguous: {other:?}").into()),
    }

    // 6. The audit trail: one record per call and per attempt, hash-chained, verified.
    let report = trail::verify(&trail_path, None)?;
    let text = std::fs::read_to_string(&trail_path)?;
    assert!(
        !text.contains(API_SECRET) && !text.contains(API_KEY),
        "no secret and no full key in the trail"
    );
    step(
        6,
        format!(
            "audit trail verified: {} records, head {}…; no secret, the key only as its fingerprint …cdef",
            report.records,
            &report.head_hash[..16]
        ),
    );
    println!("\nthe last records of {}:", trail_path.display());
    for line in text.lines().rev().take(3).collect::<Vec<_>>().into_iter().rev() {
        println!("  {line}");
    }
    Ok(())
}
