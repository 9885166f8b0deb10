//! The soak: thousands of mixed calls across the eight exchanges, through the whole stack, with
//! a plan of mixed faults, a clock jump, a key rotation and (Binance) a ban in the middle, on
//! virtual time. It asserts keyward's promises after each exchange ([`Arena::check`]), prints one
//! block of figures and writes them to `target/reliability/soak.json` for RELIABILITY.md.
//!
//! `KEYWARD_SEED=N` replays a run; the default seed is fixed, so CI figures are comparable.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use keyward::exchange;
use keyward_integration::{
    Fixture,
    adversary::{Arena, Figures, mix, mixed_calls, mixed_faults},
};
use std::{path::PathBuf, sync::Arc, time::Duration};
use tracing::instrument::WithSubscriber;

/// Calls per exchange, in three phases: before, during and after the rotation.
const CALLS_PER_EXCHANGE: u64 = 330;
const CONCURRENCY: usize = 16;
const DEFAULT_SEED: u64 = 20_261_128;

/// Where the figures go: `<target>/reliability/soak.json`, `<target>` from `CARGO_TARGET_DIR`
/// or from this test's own path (`<target>/debug/deps/soak-*`).
fn figures_path() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().unwrap();
            exe.ancestors().nth(3).unwrap().to_path_buf()
        });
    target.join("reliability").join("soak.json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_thousands_of_calls_across_every_exchange() {
    let seed = std::env::var("KEYWARD_SEED")
        .ok()
        .and_then(|seed| seed.trim().parse().ok())
        .unwrap_or(DEFAULT_SEED);
    eprintln!("soak seed={seed}, replay with KEYWARD_SEED={seed} cargo test -p keyward-integration --test soak");
    let started = std::time::Instant::now();
    let mut total = Figures::default();
    let mut leaks = Vec::new();
    let third = CALLS_PER_EXCHANGE / 3;
    for (position, name) in exchange::names().into_iter().enumerate() {
        let target = exchange::by_name(name).unwrap();
        // Each exchange draws its own faults: the same call numbers must not meet the same ones.
        let plan_seed = mix(seed, position as u64);
        let old = Fixture::new(name, 1);
        let new = Fixture::new(name, 2);
        let arena =
            Arc::new(Arena::start(name, old.clone(), |builder| builder.fault_plan(mixed_faults(plan_seed))).await);

        // Before the rotation: the exchange's clock jumps a minute in the middle.
        let jump = if seed % 2 == 0 { 60_000 } else { -60_000 };
        let mut finished = arena
            .run(mixed_calls(target, seed, 0, third), CONCURRENCY, move |arena, call| {
                if call.index == third / 2 {
                    arena.mock.set_clock_offset_ms(jump);
                }
            })
            .await;

        // During: the new key is accepted, stored, and rotated to under load.
        arena.mock.add_credentials(new.mock()).unwrap();
        arena.store.put(&new);
        let during = {
            let arena = Arc::clone(&arena);
            tokio::spawn(async move {
                arena
                    .run(mixed_calls(target, seed, third, third), CONCURRENCY, |_, _| ())
                    .await
            })
        };
        arena
            .credentials
            .rotate_now()
            .with_subscriber(arena.dispatch.clone())
            .await
            .unwrap();
        finished.extend(during.await.unwrap());

        // After: the old key is revoked; Binance bans the IP in the middle of the burst.
        assert!(arena.mock.revoke(&old.api_key));
        let rest = CALLS_PER_EXCHANGE - 2 * third;
        let ban_at = 2 * third + rest / 3;
        finished.extend(
            arena
                .run(
                    mixed_calls(target, seed, 2 * third, rest),
                    CONCURRENCY,
                    move |arena, call| {
                        if call.index == ban_at && arena.exchange.name() == "binance" {
                            arena.force_ban(Duration::from_secs(120));
                        }
                    },
                )
                .await,
        );

        for done in &finished {
            if let Err(err @ keyward::Error::Exchange(_)) = &done.result {
                eprintln!("  {name} call {} ({:?}): {err}", done.call.index, done.call.kind);
            }
        }
        let figures = arena.check(&finished, CONCURRENCY, 4).await;
        eprintln!(
            "  {name}: {} calls, {} faults, {} retries, {} 429s ({} from its budgets), {} ambiguous",
            figures.calls,
            figures.faults,
            figures.retries,
            figures.rate_limited,
            figures.rate_limited_by_budget,
            figures.ambiguous
        );
        total += figures;
        leaks.extend(arena.leaks(&[&old, &new]));
    }
    let elapsed = started.elapsed();

    let errors = total
        .errors
        .iter()
        .map(|(kind, count)| format!("{kind}={count}"))
        .collect::<Vec<_>>()
        .join(" ");
    eprintln!(
        "soak figures (seed {seed}, {} exchanges, {:.1} s)\n  \
         calls            {}\n  succeeded        {}\n  errors           {} ({errors})\n  \
         orders           {} placed, {} executed\n  ambiguous        {} (all {} checked, {} had executed)\n  \
         requests sent    {}\n  faults injected  {}\n  retries          {}\n  429s             {} ({} from the exchange's own budgets)\n  \
         bans             {} (forced), {} requests in flight when one began\n  \
         Retry-After      {} requests in flight past the grace\n  \
         double executions 0\n  leaked secrets   {}\n  audit records    {}",
        total.runs,
        elapsed.as_secs_f64(),
        total.calls,
        total.succeeded,
        total.calls - total.succeeded,
        total.orders,
        total.orders_executed,
        total.ambiguous,
        total.ambiguous_checked,
        total.ambiguous_executed,
        total.attempts,
        total.faults,
        total.retries,
        total.rate_limited,
        total.rate_limited_by_budget,
        total.bans,
        total.sent_during_bans,
        total.sent_inside_retry_after,
        leaks.len(),
        total.trail_records,
    );
    let json = serde_json::json!({
        "seed": seed,
        "exchanges": total.runs,
        "calls": total.calls,
        "succeeded": total.succeeded,
        "orders": total.orders,
        "orders_executed": total.orders_executed,
        "ambiguous": total.ambiguous,
        "ambiguous_checked": total.ambiguous_checked,
        "ambiguous_executed": total.ambiguous_executed,
        "requests_sent": total.attempts,
        "faults_injected": total.faults,
        "retries": total.retries,
        "rate_limited": total.rate_limited,
        "rate_limited_by_budget": total.rate_limited_by_budget,
        "bans": total.bans,
        "sent_during_bans": total.sent_during_bans,
        "sent_inside_retry_after": total.sent_inside_retry_after,
        "double_executions": 0,
        "leaked_secrets": leaks.len(),
        "audit_records": total.trail_records,
        "elapsed_ms": u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
    });
    let path = figures_path();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, format!("{json}\n")).unwrap();

    // Double executions are asserted per exchange by `check`; leaks here.
    assert_eq!(leaks, Vec::<String>::new(), "secrets leaked");
    assert!(total.calls >= 2_500, "{total:?}");
    assert!(total.faults > 0 && total.retries > 0, "{total:?}");
}
