//! `#[audited]` beside `#[tracing::instrument]` on the same method with the same arguments:
//!
//! - `disabled`: a JSON subscriber is installed, but a per-target filter turns both targets off,
//!   as an application that logs its own targets and not keyward's would;
//! - `enabled`: both targets on, JSON into a sink that counts and drops the bytes; the baseline is
//!   `#[instrument]` plus one `info!` event carrying the fields keyward's record carries (`call`,
//!   `outcome`, `elapsed_us`, the parameters and the constant `exchange`).

#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use keyward::audited;
use keyward_benches::CountingSink;
use std::{io, time::Instant};
use tracing::level_filters::LevelFilter;
use tracing_subscriber::{filter::Targets, layer::SubscriberExt};

const BASELINE_TARGET: &str = "bench::instrumented";

struct Client;

impl Client {
    #[audited(exchange = "binance")]
    fn place_order(&self, symbol: &str, quantity: f64, price: f64, api_key: &str) -> Result<u64, io::Error> {
        Ok(black_box(
            quantity as u64 + price as u64 + symbol.len() as u64 + api_key.len() as u64,
        ))
    }

    #[tracing::instrument(
        target = "bench::instrumented",
        level = "info",
        skip(self),
        fields(exchange = "binance")
    )]
    fn place_order_instrumented(
        &self,
        symbol: &str,
        quantity: f64,
        price: f64,
        api_key: &str,
    ) -> Result<u64, io::Error> {
        // Read the clock only when the event is on, as careful hand-written code would.
        let started = tracing::enabled!(target: "bench::instrumented", tracing::Level::INFO).then(Instant::now);
        let result = Ok(black_box(
            quantity as u64 + price as u64 + symbol.len() as u64 + api_key.len() as u64,
        ));
        if let Some(started) = started {
            tracing::info!(
                target: "bench::instrumented",
                call = "place_order",
                outcome = "ok",
                elapsed_us = started.elapsed().as_micros() as u64,
                symbol,
                quantity,
                price,
                api_key,
                exchange = "binance",
            );
        }
        result
    }
}

const API_KEY: &str = "test-only-key-0123456789abcdef";

fn bench_audited(c: &mut Criterion) {
    let client = Client;
    {
        let off = Targets::new()
            .with_target(keyward::audit::TARGET, LevelFilter::OFF)
            .with_target(BASELINE_TARGET, LevelFilter::OFF)
            .with_default(LevelFilter::INFO);
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(CountingSink::default()),
            )
            .with(off);
        let _guard = tracing::subscriber::set_default(subscriber);
        let mut group = c.benchmark_group("audited-disabled");
        group.bench_function("keyward", |b| {
            b.iter(|| client.place_order(black_box("BTCUSDT"), black_box(0.5), black_box(50_000.0), API_KEY))
        });
        group.bench_function("instrument", |b| {
            b.iter(|| {
                client.place_order_instrumented(black_box("BTCUSDT"), black_box(0.5), black_box(50_000.0), API_KEY)
            })
        });
        group.finish();
    }
    {
        let sink = CountingSink::default();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().json().with_writer(sink.clone()))
            .with(Targets::new().with_default(LevelFilter::INFO));
        let _guard = tracing::subscriber::set_default(subscriber);
        let mut group = c.benchmark_group("audited-enabled");
        group.bench_function("keyward", |b| {
            b.iter(|| client.place_order(black_box("BTCUSDT"), black_box(0.5), black_box(50_000.0), API_KEY))
        });
        group.bench_function("instrument", |b| {
            b.iter(|| {
                client.place_order_instrumented(black_box("BTCUSDT"), black_box(0.5), black_box(50_000.0), API_KEY)
            })
        });
        group.finish();
        assert!(
            sink.bytes() > 0,
            "the enabled subscriber wrote nothing: the comparison would be void"
        );
    }
}

criterion_group!(benches, bench_audited);
criterion_main!(benches);
