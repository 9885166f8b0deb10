//! Fault injection: keyward's whole stack against the embedded exchange on a bad day, one fault
//! at a time and then all of them at random under concurrency. Every run ends in
//! [`Arena::check`]: no order executed twice, no success that did not execute, no ambiguity left
//! unchecked, no call hung, retries within bounds, nothing sent during a ban or a `Retry-After`,
//! and an audit trail that verifies with one record per request sent.
//!
//! A random run prints its seed; `KEYWARD_SEED=N cargo test -p keyward-integration --test
//! adversarial random` replays it: faults are drawn per call and attempt from the seed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use keyward::{
    Error, TransportErrorKind,
    exchange::{self, ExchangeErrorKind},
};
use keyward_integration::{
    Fixture,
    adversary::{ATTEMPT_TIMEOUT, Arena, CallKind, Figures, Finished, calls_of, mix, mixed_calls, mixed_faults, seeds},
};
use keyward_mock::{Fault, Rejection, Verdict};
use std::{sync::Arc, time::Duration};
use tracing::instrument::WithSubscriber;

/// Serialises the tests of this file: scoped `tracing` dispatchers created and dropped on other
/// threads while events fire race with tracing's per-callsite interest cache, and the trail
/// assertions need every event.
static ONE_AT_A_TIME: std::sync::LazyLock<tokio::sync::Mutex<()>> =
    std::sync::LazyLock::new(|| tokio::sync::Mutex::new(()));

const CONCURRENCY: usize = 12;

async fn arena(exchange: &'static str) -> Arc<Arena> {
    Arc::new(Arena::start(exchange, Fixture::new(exchange, 1), |builder| builder).await)
}

/// One read and one order, each meeting `fault` on its first attempt.
async fn one_fault(exchange: &'static str, fault: Fault) -> (Arc<Arena>, Vec<Finished>) {
    let arena = arena(exchange).await;
    let target = exchange::by_name(exchange).unwrap();
    let mut calls = calls_of(target, CallKind::Read, 0, 1);
    calls.extend(calls_of(target, CallKind::Order, 1, 1));
    let mut finished = Vec::new();
    for call in calls {
        let path = arena.request(&call).uri().path().to_owned();
        arena.mock.inject_for(&path, fault.clone());
        finished.extend(arena.run(vec![call], 1, |_, _| ()).await);
    }
    (arena, finished)
}

fn read(finished: &[Finished]) -> &Result<u16, Error> {
    &finished[0].result
}

fn order(finished: &[Finished]) -> &Result<u16, Error> {
    &finished[1].result
}

fn ambiguous(result: &Result<u16, Error>) -> bool {
    matches!(result, Err(Error::Ambiguous(_)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_is_retried_for_a_read_and_ambiguous_for_an_order_that_did_not_execute() {
    let _serial = ONE_AT_A_TIME.lock().await;
    for exchange in ["binance", "okx"] {
        let (arena, finished) = one_fault(exchange, Fault::Status(http::StatusCode::SERVICE_UNAVAILABLE)).await;
        assert!(read(&finished).is_ok(), "{exchange}: {:?}", read(&finished));
        assert!(ambiguous(order(&finished)), "{exchange}: {:?}", order(&finished));
        let figures = arena.check(&finished, 1, 2).await;
        assert_eq!(figures.ambiguous_executed, 0, "{exchange}: a 503 executes nothing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_answer_within_the_timeout_is_a_success() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let (arena, finished) = one_fault("bybit", Fault::Delay(ATTEMPT_TIMEOUT / 4)).await;
    assert!(read(&finished).is_ok() && order(&finished).is_ok(), "{finished:?}");
    assert_eq!(arena.check(&finished, 1, 2).await.orders_executed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_before_the_order_executes_is_ambiguous_and_it_executes_at_most_once() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let (arena, finished) = one_fault("kucoin", Fault::Delay(ATTEMPT_TIMEOUT * 2)).await;
    assert!(
        read(&finished).is_ok(),
        "a timed-out read is retried: {:?}",
        read(&finished)
    );
    let Err(Error::Ambiguous(cause)) = order(&finished) else {
        panic!("{:?}", order(&finished))
    };
    assert!(
        matches!(&*cause.cause, Error::Transport(err) if err.kind() == TransportErrorKind::Timeout),
        "{cause}"
    );
    // The exchange executes it after the client gave up: the record says so, once.
    let figures = arena.check(&finished, 1, 2).await;
    assert_eq!((figures.ambiguous_checked, figures.ambiguous_executed), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_after_the_order_executed_is_ambiguous_and_it_executed_once() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let (arena, finished) = one_fault("gate", Fault::TimeoutAfterExecute(Duration::from_secs(5))).await;
    assert!(read(&finished).is_ok(), "{:?}", read(&finished));
    assert!(ambiguous(order(&finished)), "{:?}", order(&finished));
    let figures = arena.check(&finished, 1, 2).await;
    assert_eq!(figures.ambiguous_executed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_before_the_request_is_read_loses_the_order_and_says_so() {
    let _serial = ONE_AT_A_TIME.lock().await;
    for exchange in ["coinbase", "kraken"] {
        let (arena, finished) = one_fault(exchange, Fault::ResetOnArrival).await;
        // Kraken's reads are `POST`s: keyward cannot know they change nothing.
        let retried = if exchange == "kraken" {
            ambiguous(read(&finished))
        } else {
            read(&finished).is_ok()
        };
        assert!(retried, "{exchange}: {:?}", read(&finished));
        assert!(ambiguous(order(&finished)), "{exchange}: {:?}", order(&finished));
        let figures = arena.check(&finished, 1, 2).await;
        assert_eq!(figures.ambiguous_executed, 0, "{exchange}");
        let reset: Vec<_> = arena
            .mock
            .requests()
            .into_iter()
            .filter(|request| request.fault == Some(Fault::ResetOnArrival))
            .collect();
        assert_eq!(reset.len(), 2, "{exchange}");
        assert!(
            reset.iter().all(|request| request.body.is_empty()),
            "{exchange}: the body was never read"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_after_the_request_was_read_is_ambiguous_and_executed_nothing() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let (arena, finished) = one_fault("bitmex", Fault::ResetBeforeResponse).await;
    assert!(read(&finished).is_ok(), "{:?}", read(&finished));
    assert!(ambiguous(order(&finished)), "{:?}", order(&finished));
    assert_eq!(arena.check(&finished, 1, 2).await.ambiguous_executed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_answer_to_an_executed_order_is_ambiguous() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let (arena, finished) = one_fault("okx", Fault::TruncatedBody).await;
    assert!(
        read(&finished).is_ok(),
        "a truncated read is retried: {:?}",
        read(&finished)
    );
    assert!(ambiguous(order(&finished)), "{:?}", order(&finished));
    assert_eq!(arena.check(&finished, 1, 2).await.ambiguous_executed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_json_answer_never_hides_an_execution() {
    let _serial = ONE_AT_A_TIME.lock().await;
    for exchange in exchange::names() {
        let (arena, finished) = one_fault(exchange, Fault::NotJson).await;
        // A proxy's page with the exchange's 200 is not the exchange's answer: a read is sent
        // again, and an order that executed behind the page is ambiguous, never a success or a
        // definite failure. (Kraken's private reads are `POST`s, ambiguous like its orders.)
        if exchange == "kraken" {
            assert!(ambiguous(read(&finished)), "{exchange}: {:?}", read(&finished));
        } else {
            assert!(read(&finished).is_ok(), "{exchange}: {:?}", read(&finished));
        }
        assert!(ambiguous(order(&finished)), "{exchange}: {:?}", order(&finished));
        assert_eq!(arena.check(&finished, 1, 2).await.ambiguous_executed, 1, "{exchange}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_answer_is_refused_and_an_order_behind_it_is_ambiguous() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let (arena, finished) = one_fault("binance", Fault::HugeBody(4 * 1024 * 1024)).await;
    assert!(
        matches!(read(&finished), Err(Error::Transport(err)) if err.kind() == TransportErrorKind::BodyTooLarge),
        "{:?}",
        read(&finished)
    );
    assert!(ambiguous(order(&finished)), "{:?}", order(&finished));
    assert_eq!(arena.check(&finished, 1, 2).await.ambiguous_executed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_429s_is_waited_out_without_sending_inside_a_retry_after() {
    let _serial = ONE_AT_A_TIME.lock().await;
    for exchange in ["binance", "bitmex", "bybit", "coinbase"] {
        let arena = arena(exchange).await;
        let target = exchange::by_name(exchange).unwrap();
        // The clock is measured first: the storm hits the calls, not the clock probe.
        let mut finished = arena.run(calls_of(target, CallKind::Read, 100, 1), 1, |_, _| ()).await;
        for _ in 0..20 {
            arena.mock.inject(Fault::TooManyRequests(Duration::from_secs(3)));
        }
        let calls = mixed_calls(target, 429, 0, 48);
        finished.extend(arena.run(calls, CONCURRENCY, |_, _| ()).await);
        let figures = arena.check(&finished, CONCURRENCY, 2).await;
        assert!(figures.rate_limited >= 20, "{exchange}: {figures:?}");
        assert!(figures.sent_inside_retry_after <= 2, "{exchange}: {figures:?}");
        for done in &finished {
            match &done.result {
                Ok(_) => {}
                Err(err) => assert!(
                    matches!(
                        err.exchange_error().map(|e| &e.kind),
                        Some(ExchangeErrorKind::RateLimited { .. })
                    ) || matches!(err, Error::Ambiguous(_)),
                    "{exchange}: {err}"
                ),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_in_the_middle_of_a_burst_stops_every_request_until_it_lifts() {
    let _serial = ONE_AT_A_TIME.lock().await;
    const BAN: Duration = Duration::from_secs(120);
    let arena = arena("binance").await;
    let target = exchange::by_name("binance").unwrap();
    let calls = mixed_calls(target, 418, 0, 96);
    let finished = arena
        .run(calls, CONCURRENCY, |arena, call| {
            if call.index == 40 {
                arena.force_ban(BAN);
            }
        })
        .await;
    let banned = finished
        .iter()
        .filter(|done| matches!(&done.result, Err(Error::Banned(_))))
        .count();
    let teapots = arena
        .mock
        .requests()
        .iter()
        .filter(|request| request.verdict == Verdict::Rejected(Rejection::Banned))
        .count();
    assert!(teapots >= 1, "the exchange answered the ban");
    assert!(
        banned >= 96 - 40 - CONCURRENCY,
        "{banned} calls refused without sending"
    );
    let figures = arena.check(&finished, CONCURRENCY, 2).await;
    assert!(figures.sent_during_bans as usize <= CONCURRENCY);

    // Once the ban lifts, calls go through again.
    arena.clock.advance(BAN + Duration::from_secs(1));
    let after = arena.run(mixed_calls(target, 419, 1000, 16), 4, |_, _| ()).await;
    assert!(after.iter().all(|done| done.result.is_ok()), "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_jumps_of_60_s_mid_run_are_absorbed() {
    let _serial = ONE_AT_A_TIME.lock().await;
    for exchange in ["binance", "okx", "kraken"] {
        let arena = arena(exchange).await;
        let target = exchange::by_name(exchange).unwrap();
        let calls = mixed_calls(target, 60, 0, 60);
        let finished = arena
            .run(calls, CONCURRENCY, |arena, call| match call.index {
                20 => arena.mock.set_clock_offset_ms(60_000),
                40 => arena.mock.set_clock_offset_ms(-60_000),
                _ => {}
            })
            .await;
        let figures = arena.check(&finished, CONCURRENCY, 2).await;
        let failed: Vec<_> = finished.iter().filter(|done| done.result.is_err()).collect();
        assert!(failed.is_empty(), "{exchange}: {failed:?} ({figures:?})");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotated_mid_run_loses_no_call() {
    let _serial = ONE_AT_A_TIME.lock().await;
    for exchange in ["bybit", "coinbase"] {
        let arena = arena(exchange).await;
        let target = exchange::by_name(exchange).unwrap();
        let old = arena.fixture.clone();
        let new = Fixture::new(exchange, 2);
        let mut finished = arena.run(mixed_calls(target, 7, 0, 40), CONCURRENCY, |_, _| ()).await;
        arena.mock.add_credentials(new.mock()).unwrap();
        arena.store.put(&new);
        let second = {
            let arena = Arc::clone(&arena);
            tokio::spawn(async move { arena.run(mixed_calls(target, 7, 40, 40), CONCURRENCY, |_, _| ()).await })
        };
        arena
            .credentials
            .rotate_now()
            .with_subscriber(arena.dispatch.clone())
            .await
            .unwrap();
        finished.extend(second.await.unwrap());
        assert!(arena.mock.revoke(&old.api_key));
        finished.extend(arena.run(mixed_calls(target, 7, 80, 40), CONCURRENCY, |_, _| ()).await);
        let figures = arena.check(&finished, CONCURRENCY, 4).await;
        assert_eq!(figures.succeeded, 120, "{exchange}: {figures:?}");
        assert!(arena.leaks(&[&old, &new]).is_empty(), "{exchange}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_ends_every_call_in_an_authentication_error() {
    let _serial = ONE_AT_A_TIME.lock().await;
    for exchange in exchange::names() {
        let arena = arena(exchange).await;
        let target = exchange::by_name(exchange).unwrap();
        assert!(arena.mock.revoke(&arena.fixture.api_key));
        let finished = arena.run(mixed_calls(target, 401, 0, 24), 6, |_, _| ()).await;
        for done in &finished {
            let Err(err) = &done.result else {
                panic!("{exchange}: call {} succeeded with a revoked key", done.call.index)
            };
            assert!(
                matches!(
                    err.exchange_error().map(|e| &e.kind),
                    Some(ExchangeErrorKind::Authentication)
                ),
                "{exchange}: {err}"
            );
        }
        let figures = arena.check(&finished, 6, 4).await;
        assert_eq!(figures.orders_executed, 0, "{exchange}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_faults_under_concurrency_break_no_promise() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut total = Figures::default();
    for seed in seeds(&[1, 2, 3]) {
        eprintln!(
            "adversarial seed={seed}, replay with KEYWARD_SEED={seed} cargo test -p keyward-integration --test adversarial random"
        );
        for (position, exchange) in exchange::names().into_iter().enumerate() {
            // Each exchange draws its own faults: the same call numbers must not meet the same ones.
            let plan_seed = mix(seed, position as u64);
            let arena = Arc::new(
                Arena::start(exchange, Fixture::new(exchange, 1), |builder| {
                    builder.fault_plan(mixed_faults(plan_seed))
                })
                .await,
            );
            let target = exchange::by_name(exchange).unwrap();
            let finished = arena
                .run(
                    mixed_calls(target, seed, 0, 60),
                    CONCURRENCY,
                    move |arena, call| match call.index {
                        20 => arena
                            .mock
                            .set_clock_offset_ms(if seed % 2 == 0 { 60_000 } else { -60_000 }),
                        40 if exchange == "binance" => arena.force_ban(Duration::from_secs(120)),
                        _ => {}
                    },
                )
                .await;
            let figures = arena.check(&finished, CONCURRENCY, 2).await;
            assert!(arena.leaks(&[&arena.fixture]).is_empty(), "{exchange} seed {seed}");
            for done in &finished {
                if let Err(err @ Error::Exchange(_)) = &done.result {
                    eprintln!(
                        "  seed {seed} {exchange} call {} ({:?}): {err}",
                        done.call.index, done.call.kind
                    );
                }
            }
            total += figures;
        }
    }
    eprintln!("adversarial figures: {total:?}");
    assert!(total.faults > 0 && total.ambiguous_checked > 0, "{total:?}");
}
