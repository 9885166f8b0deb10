//! The baseline of `keyward call --repeat N --concurrency C` (issue 6): the same signed Binance
//! GET, sent N times with a plain `reqwest::Client`, C requests in flight, and nothing else.
//!
//! `plain_reqwest_loop <base-url> <path> <N> <C>` reads `BINANCE_API_KEY` and
//! `BINANCE_API_SECRET` from the environment (as `keyward call` does; never from the command
//! line), signs all N requests before the clock starts, as Binance documents `SIGNED` endpoints
//! (`recvWindow=60000&timestamp=…&signature=<hex HMAC-SHA256 of the query>`, key in
//! `X-MBX-APIKEY`), then sends them from C tasks over one client. Like `keyward call`, it reads
//! each response body whole and checks that it is JSON. It prints one JSON line:
//! `{"sent":N,"ok":N,"failed":0,"elapsed_us":…}`; `cargo xtask bench` reads it.
//!
//! It signs by hand with `hmac` rather than through keyward, so that the baseline shares no code
//! with what it is compared with.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::{
    process::ExitCode,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

/// The widest window Binance accepts, so that requests signed before the loop stay valid.
const RECV_WINDOW_MS: u64 = 60_000;

/// The outcome of the timed loop.
#[derive(Default)]
struct Tally {
    ok: u64,
    failed: u64,
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("plain_reqwest_loop: {message}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base_url, path, count, concurrency] = args.as_slice() else {
        return fail("usage: plain_reqwest_loop <base-url> <path> <N> <concurrency>");
    };
    let (Ok(count), Ok(concurrency)) = (count.parse::<usize>(), concurrency.parse::<usize>()) else {
        return fail("N and concurrency are whole numbers");
    };
    if concurrency == 0 {
        return fail("concurrency is at least 1");
    }
    let (Ok(api_key), Ok(secret)) = (std::env::var("BINANCE_API_KEY"), std::env::var("BINANCE_API_SECRET")) else {
        return fail("set BINANCE_API_KEY and BINANCE_API_SECRET");
    };
    let Ok(mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return fail("the secret cannot key an HMAC");
    };
    let client = reqwest::Client::new();
    let mut queues: Vec<Vec<reqwest::Request>> = (0..concurrency).map(|_| Vec::new()).collect();
    for index in 0..count {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_millis();
        let query = format!("recvWindow={RECV_WINDOW_MS}&timestamp={timestamp}");
        let mut signature = mac.clone();
        signature.update(query.as_bytes());
        let signature = hex::encode(signature.finalize().into_bytes());
        let url = format!("{base_url}{path}?{query}&signature={signature}");
        let request = match client.get(url).header("X-MBX-APIKEY", &api_key).build() {
            Ok(request) => request,
            Err(err) => return fail(format!("cannot build the request: {err}")),
        };
        queues[index % concurrency].push(request);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => return fail(format!("cannot start the async runtime: {err}")),
    };
    let (tally, elapsed) = runtime.block_on(async move {
        let started = Instant::now();
        let workers: Vec<_> = queues
            .into_iter()
            .map(|queue| tokio::spawn(send_all(client.clone(), queue)))
            .collect();
        let mut tally = Tally::default();
        for worker in workers {
            match worker.await {
                Ok(done) => {
                    tally.ok += done.ok;
                    tally.failed += done.failed;
                }
                Err(_) => tally.failed += 1,
            }
        }
        (tally, started.elapsed())
    });
    println!(
        r#"{{"sent":{count},"ok":{},"failed":{},"elapsed_us":{}}}"#,
        tally.ok,
        tally.failed,
        elapsed.as_micros()
    );
    if tally.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Sends `queue` one request after the other: one of the requests in flight.
async fn send_all(client: reqwest::Client, queue: Vec<reqwest::Request>) -> Tally {
    let mut tally = Tally::default();
    for request in queue {
        let answered = match client.execute(request).await {
            Ok(response) if response.status().is_success() => response.bytes().await.ok(),
            _ => None,
        };
        match answered.map(|body| serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_ok()) {
            Some(true) => tally.ok += 1,
            _ => tally.failed += 1,
        }
    }
    tally
}
