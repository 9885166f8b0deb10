//! The leak tripwire with 10 registered secrets beside the same writer without it, in bytes per
//! second, on a typical JSON log line that contains none of the secrets (the common case: the
//! tripwire must be cheap when it has nothing to do).
//!
//! `writer` drives the `MakeWriter` directly, as the fmt layer does once per event;
//! `json-layer` is informative: the whole `tracing-subscriber` JSON path with and without it.

#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use keyward::tripwire::{Registry, Tripwire};
use keyward_benches::CountingSink;
use std::{io::Write, sync::Arc};
use tracing_subscriber::fmt::MakeWriter;

const LINE: &str = r#"{"timestamp":"2025-01-31T23:59:59.123456Z","level":"INFO","fields":{"message":"order sent","call":"place_order","outcome":"ok","elapsed_us":42,"symbol":"BTCUSDT","quantity":0.5,"price":50000.0,"api_key":"…cdef","exchange":"binance"},"target":"my_bot::orders","span":{"exchange":"binance","name":"place_order"}}
"#;

fn registry_of_ten() -> Arc<Registry> {
    let registry = Arc::new(Registry::new());
    for index in 0..10 {
        registry.register(format!("test-only-secret-{index:02}-0123456789abcdefghij").as_bytes());
    }
    registry
}

fn bench_tripwire(c: &mut Criterion) {
    let registry = registry_of_ten();
    let mut group = c.benchmark_group("tripwire");
    group.throughput(Throughput::Bytes(LINE.len() as u64));
    let tripwire = Tripwire::with_registry(CountingSink::default(), Arc::clone(&registry));
    group.bench_function("keyward", |b| {
        b.iter(|| {
            // One writer per event, as the fmt layer asks for; it scrubs and passes on when dropped.
            let mut writer = tripwire.make_writer();
            writer.write_all(black_box(LINE.as_bytes())).unwrap();
        })
    });
    let plain = CountingSink::default();
    group.bench_function("plain", |b| {
        b.iter(|| {
            let mut writer = plain.make_writer();
            writer.write_all(black_box(LINE.as_bytes())).unwrap();
        })
    });
    group.finish();
    assert!(plain.bytes() > 0);

    let mut group = c.benchmark_group("tripwire-json-layer");
    group.throughput(Throughput::Elements(1));
    for (name, scrubbed) in [("keyward", true), ("plain", false)] {
        let sink = CountingSink::default();
        let subscriber = tracing_subscriber::fmt().json();
        let dispatch = if scrubbed {
            tracing::Dispatch::new(
                subscriber
                    .with_writer(Tripwire::with_registry(sink.clone(), Arc::clone(&registry)))
                    .finish(),
            )
        } else {
            tracing::Dispatch::new(subscriber.with_writer(sink.clone()).finish())
        };
        tracing::dispatcher::with_default(&dispatch, || {
            group.bench_function(name, |b| {
                b.iter(|| {
                    tracing::info!(
                        call = "place_order",
                        outcome = "ok",
                        elapsed_us = 42u64,
                        symbol = black_box("BTCUSDT"),
                        quantity = 0.5,
                        exchange = "binance",
                        "order sent"
                    )
                })
            });
        });
        assert!(sink.bytes() > 0, "{name} wrote nothing");
    }
    group.finish();
}

criterion_group!(benches, bench_tripwire);
criterion_main!(benches);
