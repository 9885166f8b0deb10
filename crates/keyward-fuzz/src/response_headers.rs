//! Target `response_headers`: what keyward's layers read from response headers (rate-limit
//! counters, `Retry-After`, `Date`), through the same stack a [`Preset`](keyward::Preset) builds.

use crate::reply::ExchangeReply;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use keyward::{
    Error,
    classify::ClassifyLayer,
    clock::{Clock, ClockLayer, Sleep},
    exchange::{self, Exchange, ExchangeErrorKind},
    rate_limit::{Observation, RateLimitLayer, RateLimiter},
    retry::RetryLayer,
};
use std::{
    cell::RefCell,
    future::Future,
    pin::pin,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    task::Poll,
    time::Duration,
};
use tower::{ServiceBuilder, ServiceExt, service_fn};

/// When the run starts, on the local clock (a whole second, so that windows line up).
const START_UNIX_MILLIS: u64 = 1_700_000_000_000;
/// How far the fake exchange's clock runs ahead of the local one.
const EXCHANGE_AHEAD_MILLIS: u64 = 1_500;
/// Virtual time after which a run stops waiting: a `Retry-After` is honoured whatever its
/// length, so a long one makes the client wait that long, which is not a failure.
const PATIENCE: Duration = Duration::from_secs(30 * 86_400);
/// Requests the client sends, one after the other.
const CALLS: usize = 3;
/// What a ban without a `Retry-After` lasts at least: keyward's default is longer.
const SHORTEST_DEFAULT_BAN: Duration = Duration::from_secs(1);

/// Feeds a response (in the [`reply`](crate::reply) format) to every exchange's rate-limit
/// header reader, then serves it from a fake exchange to a client stacked like a preset
/// (retry, rate limit, clock, classify) that sends a few requests.
///
/// Checks that header readers only name budgets the exchange has, that every request ends (in a
/// response or a typed error) unless it waits out a `Retry-After`, and, from the fake exchange's
/// log, that nothing reaches it during a ban or before a `Retry-After` has passed.
pub fn response_headers(data: &[u8]) {
    let reply = ExchangeReply::parse(data);
    for exchange in exchange::ALL {
        check_observations(*exchange, &reply.headers);
    }
    RUNTIME.with(|runtime| {
        let runtime = runtime.borrow();
        let Some(runtime) = runtime.as_ref() else {
            return;
        };
        runtime.block_on(serve(&reply));
    });
}

thread_local! {
    static RUNTIME: RefCell<Option<tokio::runtime::Runtime>> = RefCell::new(
        tokio::runtime::Builder::new_current_thread().enable_time().build().ok()
    );
}

fn check_observations(exchange: &'static dyn Exchange, headers: &HeaderMap) {
    let spec = exchange.rate_limits();
    let mut seen = Vec::new();
    (spec.observe)(headers, &mut seen);
    for observation in &seen {
        let budget = match observation {
            Observation::Used { budget, .. }
            | Observation::Remaining { budget, .. }
            | Observation::ResetsAt { budget, .. } => *budget,
            _ => continue,
        };
        assert!(
            budget < spec.budgets.len(),
            "{}: a header names budget {budget} of {}",
            exchange.name(),
            spec.budgets.len()
        );
    }
    let mut again = Vec::new();
    (spec.observe)(headers, &mut again);
    assert_eq!(
        seen,
        again,
        "{}: the same headers read twice differently",
        exchange.name()
    );
}

async fn serve(reply: &ExchangeReply<'_>) {
    let exchange = reply.exchange;
    let clock = Arc::new(InstantClock::default());
    let fake = Arc::new(FakeExchange {
        exchange,
        status: reply.status,
        headers: reply.headers.clone(),
        body: Bytes::copy_from_slice(reply.body),
        clock: Arc::clone(&clock),
        log: Mutex::default(),
    });
    let local: Arc<dyn Clock> = clock.clone();
    let limiter = RateLimiter::new(exchange).clock(Arc::clone(&local));
    let answering = Arc::clone(&fake);
    let service = ServiceBuilder::new()
        .layer(RetryLayer::new(exchange).clock(Arc::clone(&local)))
        .layer(RateLimitLayer::with_limiter(limiter))
        .layer(ClockLayer::new(exchange).clock(Arc::clone(&local)))
        .layer(ClassifyLayer::new(exchange))
        .service(service_fn(move |request: http::Request<Bytes>| {
            let answer = answering.answer(&request);
            async move { Ok::<_, Error>(answer) }
        }));
    for _ in 0..CALLS {
        let Ok(request) =
            http::Request::get(format!("https://api.fuzz.invalid{}", private_path(exchange))).body(Bytes::new())
        else {
            return;
        };
        let ended = until_impatient(&clock, service.clone().oneshot(request)).await;
        if ended.is_none() {
            break;
        }
    }
    fake.check_log();
}

/// Runs `call` to its end, or until it waits on `clock` for longer than [`PATIENCE`].
async fn until_impatient<T>(clock: &InstantClock, call: impl Future<Output = T>) -> Option<T> {
    let mut call = pin!(call);
    std::future::poll_fn(|context| match call.as_mut().poll(context) {
        Poll::Ready(output) => Poll::Ready(Some(output)),
        Poll::Pending if clock.out_of_patience.load(Ordering::Acquire) => Poll::Ready(None),
        Poll::Pending => Poll::Pending,
    })
    .await
}

/// A path that spends budget on every exchange: its account balance, which needs a signature
/// (not added here: the fake exchange does not check it).
fn private_path(exchange: &dyn Exchange) -> &'static str {
    match exchange.name() {
        "binance" => "/api/v3/account",
        "bitmex" => "/api/v1/user/wallet",
        "bybit" => "/v5/account/wallet-balance",
        "coinbase" => "/api/v3/brokerage/accounts",
        "gate" => "/api/v4/spot/accounts",
        "kraken" => "/0/private/Balance",
        "kucoin" => "/api/v1/accounts",
        _ => "/api/v5/account/balance",
    }
}

/// The exchange's documented server-time answer for `unix_millis`.
fn time_body(exchange: &dyn Exchange, unix_millis: u64) -> String {
    let (seconds, millis) = (unix_millis / 1000, unix_millis % 1000);
    match exchange.name() {
        "binance" => format!(r#"{{"serverTime":{unix_millis}}}"#),
        "bitmex" => format!(r#"{{"name":"BitMEX API","timestamp":{unix_millis}}}"#),
        "bybit" => format!(r#"{{"retCode":0,"retMsg":"OK","result":{{}},"retExtInfo":{{}},"time":{unix_millis}}}"#),
        "coinbase" => format!(r#"{{"iso":"","epoch":{seconds}.{millis:03}}}"#),
        "gate" => format!(r#"{{"server_time":{unix_millis}}}"#),
        "kraken" => format!(r#"{{"error":[],"result":{{"unixtime":{seconds}}}}}"#),
        "kucoin" => format!(r#"{{"code":"200000","data":{unix_millis}}}"#),
        _ => format!(r#"{{"code":"0","msg":"","data":[{{"ts":"{unix_millis}"}}]}}"#),
    }
}

/// A clock whose sleeps end at once, a virtual moment later; one that would pass [`PATIENCE`]
/// never ends.
#[derive(Debug)]
struct InstantClock {
    unix_micros: AtomicU64,
    out_of_patience: AtomicBool,
}

impl Default for InstantClock {
    fn default() -> Self {
        Self {
            unix_micros: AtomicU64::new(START_UNIX_MILLIS * 1000),
            out_of_patience: AtomicBool::new(false),
        }
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

impl Clock for InstantClock {
    fn unix_millis(&self) -> u64 {
        self.unix_micros() / 1000
    }

    fn unix_micros(&self) -> u64 {
        self.unix_micros.load(Ordering::Acquire)
    }

    fn monotonic(&self) -> Duration {
        Duration::from_micros(self.unix_micros().saturating_sub(START_UNIX_MILLIS * 1000))
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let until = self.unix_micros().saturating_add(micros(duration));
        if until.saturating_sub(START_UNIX_MILLIS * 1000) > micros(PATIENCE) {
            self.out_of_patience.store(true, Ordering::Release);
            return Box::pin(std::future::pending());
        }
        self.unix_micros.fetch_max(until, Ordering::AcqRel);
        Box::pin(std::future::ready(()))
    }
}

/// An exchange that answers its time endpoint truthfully and everything else with the fuzzed
/// response, and logs when each request reached it.
struct FakeExchange {
    exchange: &'static dyn Exchange,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    clock: Arc<InstantClock>,
    log: Mutex<Vec<Arrival>>,
}

/// A request that reached the fake exchange, and what its answer asked of the client.
struct Arrival {
    at_millis: u64,
    /// How long nothing may be sent after this answer: a ban or a `Retry-After`.
    quiet_for: Duration,
}

impl FakeExchange {
    fn answer(&self, request: &http::Request<Bytes>) -> http::Response<Bytes> {
        let at_millis = self.clock.unix_millis();
        let (status, body) = if request.uri().path() == self.exchange.server_time().path {
            let body = time_body(self.exchange, at_millis + EXCHANGE_AHEAD_MILLIS);
            (StatusCode::OK, Bytes::from(body))
        } else {
            (self.status, self.body.clone())
        };
        let quiet_for = match self
            .exchange
            .classify(status, &self.headers, &body)
            .map(|error| error.kind)
        {
            Some(ExchangeErrorKind::Banned { retry_after }) => retry_after.unwrap_or(SHORTEST_DEFAULT_BAN),
            Some(ExchangeErrorKind::RateLimited { retry_after }) => retry_after.unwrap_or_default(),
            _ => Duration::ZERO,
        };
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arrival { at_millis, quiet_for });
        let mut response = http::Response::new(body);
        *response.status_mut() = status;
        *response.headers_mut() = self.headers.clone();
        response
    }

    fn check_log(&self) {
        let log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        for (index, earlier) in log.iter().enumerate() {
            let quiet_until = earlier
                .at_millis
                .saturating_add(u64::try_from(earlier.quiet_for.as_millis()).unwrap_or(u64::MAX));
            if let Some(later) = log[index + 1..].iter().find(|later| later.at_millis < quiet_until) {
                panic!(
                    "{}: a request reached the exchange {} ms after an answer that asked for quiet for {:?}",
                    self.exchange.name(),
                    later.at_millis - earlier.at_millis,
                    earlier.quiet_for
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_time_body_is_the_exchanges_own() {
        for exchange in exchange::ALL {
            let body = time_body(*exchange, 1_700_000_001_500);
            assert_eq!(
                (exchange.server_time().parse)(body.as_bytes()),
                Some(if exchange.name() == "kraken" {
                    1_700_000_001_000
                } else {
                    1_700_000_001_500
                }),
                "{}",
                exchange.name()
            );
        }
    }

    #[test]
    fn a_long_retry_after_is_waited_out_without_sending() {
        // Binance's 429 with a one-hour Retry-After: the first call gets it, then the client
        // holds every request for an hour (well within the patience), so all three calls end.
        response_headers(b"binance 429\nRetry-After: 3600\n\n{\"code\":-1003,\"msg\":\"Too many requests\"}");
    }

    #[test]
    #[should_panic(expected = "asked for quiet")]
    fn an_early_request_is_caught() {
        let fake = FakeExchange {
            exchange: exchange::ALL[0],
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            clock: Arc::default(),
            log: Mutex::new(vec![
                Arrival {
                    at_millis: 0,
                    quiet_for: Duration::from_secs(2),
                },
                Arrival {
                    at_millis: 1_999,
                    quiet_for: Duration::ZERO,
                },
            ]),
        };
        fake.check_log();
    }
}
