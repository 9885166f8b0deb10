//! The leak tripwire with 10 registered secrets beside the same writer without it, in bytes per
//! second, on a typical JSON log line that contains none of the secrets (the common case: the
//! tripwire must be cheap when it has nothing to do).
//!
//! The writer is a real one that a log goes to: a file behind a `std::io::LineWriter` (one
//! `write` per line, as `std::io::stdout` and a fmt layer over a `Mutex<File>` do), shared
//! through a `Mutex` as `tracing-subscriber` shares it. Both sides write the same bytes to the
//! same kind of writer; the tripwire wraps it. Each sample writes to a fresh file, so a long run
//! never fills the disk.
//!
//! - `tripwire/{keyward,plain}`: the `MakeWriter` driven directly, as the fmt layer does once per
//!   event: the row with the issue's target.
//! - `tripwire-buffered/{keyward,plain}`: informative, the same over a `BufWriter<File>`, which
//!   makes a `write` only every 8 KiB: the harshest baseline, nearly a `memcpy`.
//! - `tripwire-json-layer/{keyward,plain}`: informative, the whole `tracing-subscriber` JSON path
//!   with and without the tripwire, into the line-buffered file.

#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use keyward::tripwire::{Registry, Tripwire};
use std::{
    fs::File,
    io::{BufWriter, LineWriter, Write},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
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

/// A fresh file per criterion sample, removed after it, with the bytes it received checked.
struct Samples {
    dir: tempfile::TempDir,
    count: u64,
}

impl Samples {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            count: 0,
        }
    }

    fn next(&mut self) -> PathBuf {
        self.count += 1;
        self.dir.path().join(format!("sample-{}.log", self.count))
    }
}

/// Removes a sample's file after checking that every iteration reached it.
fn finish(path: &Path, iters: u64, at_least_per_iter: u64) {
    let written = std::fs::metadata(path).unwrap().len();
    assert!(
        written >= iters * at_least_per_iter,
        "{written} bytes for {iters} lines"
    );
    std::fs::remove_file(path).unwrap();
}

/// Times `iters` events, each one writer made and written whole, as the fmt layer does.
fn write_lines<M>(make: &M, iters: u64) -> Duration
where
    M: for<'a> MakeWriter<'a>,
{
    let start = Instant::now();
    for _ in 0..iters {
        let mut writer = make.make_writer();
        writer.write_all(black_box(LINE.as_bytes())).unwrap();
    }
    start.elapsed()
}

fn bench_writer(c: &mut Criterion, registry: &Arc<Registry>) {
    let mut samples = Samples::new();
    let mut group = c.benchmark_group("tripwire");
    group.throughput(Throughput::Bytes(LINE.len() as u64));
    for scrubbed in [true, false] {
        group.bench_function(if scrubbed { "keyward" } else { "plain" }, |b| {
            b.iter_custom(|iters| {
                let path = samples.next();
                let file = Mutex::new(LineWriter::new(File::create(&path).unwrap()));
                let elapsed = if scrubbed {
                    write_lines(&Tripwire::with_registry(file, Arc::clone(registry)), iters)
                } else {
                    write_lines(&file, iters)
                };
                finish(&path, iters, LINE.len() as u64);
                elapsed
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("tripwire-buffered");
    group.throughput(Throughput::Bytes(LINE.len() as u64));
    for scrubbed in [true, false] {
        group.bench_function(if scrubbed { "keyward" } else { "plain" }, |b| {
            b.iter_custom(|iters| {
                let path = samples.next();
                let file = Mutex::new(BufWriter::new(File::create(&path).unwrap()));
                let elapsed = if scrubbed {
                    let tripwire = Tripwire::with_registry(file, Arc::clone(registry));
                    let elapsed = write_lines(&tripwire, iters);
                    tripwire.make_writer().flush().unwrap();
                    elapsed
                } else {
                    let elapsed = write_lines(&file, iters);
                    file.lock().unwrap().flush().unwrap();
                    elapsed
                };
                finish(&path, iters, LINE.len() as u64);
                elapsed
            })
        });
    }
    group.finish();
}

fn bench_json_layer(c: &mut Criterion, registry: &Arc<Registry>) {
    let mut samples = Samples::new();
    let mut group = c.benchmark_group("tripwire-json-layer");
    group.throughput(Throughput::Elements(1));
    for scrubbed in [true, false] {
        group.bench_function(if scrubbed { "keyward" } else { "plain" }, |b| {
            b.iter_custom(|iters| {
                let path = samples.next();
                let file = Mutex::new(LineWriter::new(File::create(&path).unwrap()));
                let subscriber = tracing_subscriber::fmt().json();
                let dispatch = if scrubbed {
                    tracing::Dispatch::new(
                        subscriber
                            .with_writer(Tripwire::with_registry(file, Arc::clone(registry)))
                            .finish(),
                    )
                } else {
                    tracing::Dispatch::new(subscriber.with_writer(file).finish())
                };
                let elapsed = tracing::dispatcher::with_default(&dispatch, || {
                    let start = Instant::now();
                    for _ in 0..iters {
                        tracing::info!(
                            call = "place_order",
                            outcome = "ok",
                            elapsed_us = 42u64,
                            symbol = black_box("BTCUSDT"),
                            quantity = 0.5,
                            exchange = "binance",
                            "order sent"
                        );
                    }
                    start.elapsed()
                });
                drop(dispatch);
                finish(&path, iters, 100);
                elapsed
            })
        });
    }
    group.finish();
}

fn bench_tripwire(c: &mut Criterion) {
    let registry = registry_of_ten();
    bench_writer(c, &registry);
    bench_json_layer(c, &registry);
}

criterion_group!(benches, bench_tripwire);
criterion_main!(benches);
