//! The hash-chained audit trail beside a plain `tracing-subscriber` JSON layer, both appending
//! one line per event to a file and pushing it to the OS before the event returns (the trail
//! with its default `SyncPolicy::Flush`: one `write` per record; the fmt layer writes each line
//! with one `write` too). Reported in records per second.
//!
//! Each sample writes to a fresh file, so a long run never fills the disk and the trail never
//! re-reads a large file.

#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use keyward::audit::trail::AuditTrail;
use std::{
    fs::File,
    path::Path,
    sync::Mutex,
    time::{Duration, Instant},
};
use tracing_subscriber::layer::SubscriberExt;

/// One audit record, as `#[audited]` would emit it for an order placement.
fn record() {
    tracing::info!(
        target: "keyward::audit",
        call = "place_order",
        outcome = "ok",
        elapsed_us = 42u64,
        symbol = "BTCUSDT",
        quantity = 0.5,
        price = 50_000.0,
        api_key = "…cdef",
        exchange = "binance",
    );
}

fn timed(dispatch: tracing::Dispatch, iters: u64) -> Duration {
    tracing::dispatcher::with_default(&dispatch, || {
        let start = Instant::now();
        for _ in 0..iters {
            record();
        }
        start.elapsed()
    })
}

fn trail(path: &Path) -> tracing::Dispatch {
    let trail = AuditTrail::builder(path).build().unwrap();
    tracing::Dispatch::new(tracing_subscriber::registry().with(trail))
}

fn plain_json(path: &Path) -> tracing::Dispatch {
    let file = File::create(path).unwrap();
    let layer = tracing_subscriber::fmt::layer().json().with_writer(Mutex::new(file));
    tracing::Dispatch::new(tracing_subscriber::registry().with(layer))
}

fn bench_trail(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("trail");
    group.throughput(Throughput::Elements(1));
    let mut sample = 0u64;
    for (name, make) in [
        ("keyward", trail as fn(&Path) -> tracing::Dispatch),
        ("json-file", plain_json),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                sample += 1;
                let path = dir.path().join(format!("{name}-{sample}.jsonl"));
                let elapsed = timed(make(&path), iters);
                let written = std::fs::metadata(&path).unwrap().len();
                assert!(iters == 0 || written > 0, "{name} wrote nothing");
                std::fs::remove_file(&path).unwrap();
                elapsed
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_trail);
criterion_main!(benches);
