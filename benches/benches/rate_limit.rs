//! The rate-limit decision: keyward's `MemoryStore::try_acquire` on one window budget beside
//! governor's `check_n` on one quota, both single-threaded and never refusing (limits far above
//! what a benchmark spends), so each measures the cost of saying "yes".
//!
//! `four-budgets` is informative: a Binance order draws on four budgets at once (weight, orders
//! per 10 s, orders per day, raw requests), all or nothing, in one critical section.

#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use governor::{Quota, RateLimiter};
use keyward::rate_limit::{BudgetKey, BudgetSpec, BudgetStore, Draw, MemoryStore, Refill};
use std::{num::NonZeroU32, time::Duration};

/// So large that no benchmark run spends it: only the accepting path is measured.
const UNSPENDABLE: u64 = 1 << 50;

fn draw(budget: usize, window: Duration) -> Draw {
    let spec = BudgetSpec::new("REQUESTS", UNSPENDABLE, Refill::Window(window));
    Draw {
        key: BudgetKey { budget, endpoint: None },
        spec,
        limit: UNSPENDABLE,
        cost: 1,
    }
}

fn bench_rate_limit(c: &mut Criterion) {
    let mut group = c.benchmark_group("rate-limit");
    let store = MemoryStore::default();
    let one = [draw(0, Duration::from_secs(60))];
    let mut now = 1_700_000_000_000u64;
    group.bench_function("keyward", |b| {
        b.iter(|| {
            // Time moves on, as it would between requests, so windows roll over now and then.
            now += 1;
            store.try_acquire(black_box(&one), now)
        })
    });
    let governor = RateLimiter::direct(Quota::per_second(NonZeroU32::MAX));
    let one_unit = NonZeroU32::MIN;
    group.bench_function("governor", |b| b.iter(|| governor.check_n(black_box(one_unit))));

    let store = MemoryStore::default();
    let four = [
        draw(0, Duration::from_secs(60)),
        draw(1, Duration::from_secs(10)),
        draw(2, Duration::from_secs(86_400)),
        draw(3, Duration::from_secs(300)),
    ];
    group.bench_function("keyward-four-budgets", |b| {
        b.iter(|| {
            now += 1;
            store.try_acquire(black_box(&four), now)
        })
    });
    group.finish();
}

criterion_group!(benches, bench_rate_limit);
criterion_main!(benches);
