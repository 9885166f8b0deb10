//! The rate-limit decision: keyward's `MemoryStore::try_acquire` on one window budget beside
//! governor's `check_n` on one quota, both single-threaded and never refusing (limits far above
//! what a benchmark spends), so each measures the cost of saying "yes".
//!
//! `four-budgets` is informative: a Binance order draws on four budgets at once (weight, orders
//! per 10 s, orders per day, raw requests), all or nothing, in one critical section.
//!
//! The `contended` group runs the same decisions on two threads at once against one shared
//! store (and one shared governor limiter): the time reported is the wall time per decision of
//! one thread while the other one competes for the same state.
//!
//! `KEYWARD_RATE_LIMIT_PROFILE=<keyward|governor|four>:<decisions>` skips criterion and makes that
//! many single-threaded decisions, to count instructions under `valgrind --tool=callgrind` (two
//! runs with different counts; the difference divided by the difference of the counts).

#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, black_box, criterion_group};
use governor::{Quota, RateLimiter};
use keyward::rate_limit::{BudgetKey, BudgetSpec, BudgetStore, Draw, MemoryStore, Refill};
use std::{
    num::NonZeroU32,
    sync::Barrier,
    time::{Duration, Instant},
};

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

/// Runs `decide` `iters` times on each of two threads started together; the wall time of the
/// slower one.
fn on_two_threads(iters: u64, decide: impl Fn(u64) + Sync) -> Duration {
    let barrier = Barrier::new(2);
    let run = || {
        barrier.wait();
        let start = Instant::now();
        for i in 0..iters {
            decide(i);
        }
        start.elapsed()
    };
    std::thread::scope(|scope| {
        let other = scope.spawn(run);
        let mine = run();
        mine.max(other.join().unwrap())
    })
}

fn bench_contended(c: &mut Criterion) {
    let mut group = c.benchmark_group("rate-limit-contended");
    let store = MemoryStore::default();
    let one = [draw(0, Duration::from_secs(60))];
    let start = 1_700_000_000_000u64;
    group.bench_function("keyward", |b| {
        b.iter_custom(|iters| {
            on_two_threads(iters, |i| {
                let _ = black_box(store.try_acquire(black_box(&one), start + i));
            })
        })
    });
    let governor = RateLimiter::direct(Quota::per_second(NonZeroU32::MAX));
    let one_unit = NonZeroU32::MIN;
    group.bench_function("governor", |b| {
        b.iter_custom(|iters| {
            on_two_threads(iters, |_| {
                let _ = black_box(governor.check_n(black_box(one_unit)));
            })
        })
    });
    group.finish();
}

/// `KEYWARD_RATE_LIMIT_PROFILE=<which>:<decisions>`: see the module docs.
fn profile(which: &str, decisions: u64) {
    let store = MemoryStore::default();
    let governor = RateLimiter::direct(Quota::per_second(NonZeroU32::MAX));
    let one = [draw(0, Duration::from_secs(60))];
    let four = [
        draw(0, Duration::from_secs(60)),
        draw(1, Duration::from_secs(10)),
        draw(2, Duration::from_secs(86_400)),
        draw(3, Duration::from_secs(300)),
    ];
    let mut now = 1_700_000_000_000u64;
    for _ in 0..decisions {
        now += 1;
        match which {
            "keyward" => black_box(store.try_acquire(black_box(&one), now)).unwrap(),
            "four" => black_box(store.try_acquire(black_box(&four), now)).unwrap(),
            _ => black_box(governor.check_n(black_box(NonZeroU32::MIN)))
                .unwrap()
                .unwrap(),
        }
    }
}

criterion_group!(benches, bench_rate_limit, bench_contended);

fn main() {
    if let Ok(request) = std::env::var("KEYWARD_RATE_LIMIT_PROFILE") {
        let (which, decisions) = request
            .split_once(':')
            .unwrap_or_else(|| panic!("KEYWARD_RATE_LIMIT_PROFILE=<keyward|governor|four>:<decisions>"));
        profile(which, decisions.parse().unwrap());
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
