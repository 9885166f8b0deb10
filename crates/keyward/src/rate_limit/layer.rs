//! The rate-limit layer: waits for budget instead of failing, learns from the server's
//! counters, honours `Retry-After`, and stops sending during a ban.

use super::{
    Banned, BudgetKey, BudgetSpec, BudgetStore, Draw, MAX_BUDGETS, MemoryStore, Observation, RateLimitSpec, Refill,
};
use crate::{
    Error,
    clock::{Clock, SystemClock},
    exchange::{Exchange, ExchangeErrorKind},
    sign::Public,
};
use bytes::Bytes;
use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};
use tower::ServiceExt;
use tower_layer::Layer;
use tower_service::Service;

/// How long requests are held after a 429 that names no `Retry-After`.
const DEFAULT_HOLD: Duration = Duration::from_secs(1);
/// How long a ban lasts when the exchange does not say (Binance's first ban is 2 minutes).
const DEFAULT_BAN: Duration = Duration::from_secs(120);

/// Reads the exchange's clock offset (exchange minus local, ms), to align budget windows to the
/// exchange's time; [`ClockOffset`](crate::clock::ClockOffset) handles provide one.
pub type OffsetSource = Arc<dyn Fn() -> Option<i64> + Send + Sync>;

/// What a limiter did: how long requests waited, and what the exchange answered.
///
/// # Example
///
/// ```
/// let limiter = keyward::rate_limit::RateLimiter::new(keyward::exchange::by_name("binance").unwrap());
/// assert_eq!(limiter.stats().waited, std::time::Duration::ZERO);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimitStats {
    /// Total time requests waited for budget, a hold or a `Retry-After`.
    pub waited: Duration,
    /// 429 (or the exchange's rate-limit code) answers seen.
    pub rate_limited: u64,
    /// Bans seen.
    pub bans: u64,
    /// Requests refused without sending because of a ban.
    pub refused_while_banned: u64,
}

#[derive(Debug, Default)]
struct Counters {
    waited_micros: AtomicU64,
    rate_limited: AtomicU64,
    bans: AtomicU64,
    refused_while_banned: AtomicU64,
}

/// The state one client (or several clients on the same key or IP) spends its budgets from.
///
/// Cloning shares the state. Build it once, then give it to every [`RateLimitLayer`] that draws
/// on the same budgets.
///
/// # Example
///
/// ```
/// use keyward::{clock::VirtualClock, exchange, rate_limit::{RateLimitLayer, RateLimiter}};
/// use std::sync::Arc;
///
/// let limiter = RateLimiter::new(exchange::by_name("binance").unwrap()).clock(Arc::new(VirtualClock::now()));
/// let for_orders = RateLimitLayer::with_limiter(limiter.clone());
/// let for_market_data = RateLimitLayer::with_limiter(limiter);
/// # let _ = (for_orders, for_market_data);
/// ```
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<LimiterInner>,
}

struct LimiterInner {
    exchange: &'static dyn Exchange,
    spec: &'static RateLimitSpec,
    clock: Arc<dyn Clock>,
    store: Arc<dyn BudgetStore>,
    offset: Option<OffsetSource>,
    /// Live limits loaded from the exchange, budget by budget: (limit, window).
    live: RwLock<[Option<(u64, Duration)>; MAX_BUDGETS]>,
    live_loaded: tokio::sync::OnceCell<()>,
    counters: Counters,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("exchange", &self.inner.exchange.name())
            .field("store", &self.inner.store)
            .field("stats", &self.stats())
            .finish()
    }
}

impl RateLimiter {
    /// A limiter with `exchange`'s documented budgets, in memory, on the system clock.
    pub fn new(exchange: &'static dyn Exchange) -> Self {
        Self::build(exchange, Arc::new(SystemClock), Arc::new(MemoryStore::default()), None)
    }

    fn build(
        exchange: &'static dyn Exchange,
        clock: Arc<dyn Clock>,
        store: Arc<dyn BudgetStore>,
        offset: Option<OffsetSource>,
    ) -> Self {
        Self {
            inner: Arc::new(LimiterInner {
                exchange,
                spec: exchange.rate_limits(),
                clock,
                store,
                offset,
                live: RwLock::new([None; MAX_BUDGETS]),
                live_loaded: tokio::sync::OnceCell::new(),
                counters: Counters::default(),
            }),
        }
    }

    fn rebuild(self, f: impl FnOnce(&mut (Arc<dyn Clock>, Arc<dyn BudgetStore>, Option<OffsetSource>))) -> Self {
        let inner = &self.inner;
        let mut parts = (Arc::clone(&inner.clock), Arc::clone(&inner.store), inner.offset.clone());
        f(&mut parts);
        Self::build(inner.exchange, parts.0, parts.1, parts.2)
    }

    /// Reads time and waits through `clock` (a [`VirtualClock`](crate::clock::VirtualClock) in tests).
    pub fn clock(self, clock: Arc<dyn Clock>) -> Self {
        self.rebuild(|parts| parts.0 = clock)
    }

    /// Keeps the state in `store` (to share it beyond this process).
    pub fn store(self, store: Arc<dyn BudgetStore>) -> Self {
        self.rebuild(|parts| parts.1 = store)
    }

    /// Aligns budget windows to the exchange's clock, offset by what `offset` reports.
    pub fn exchange_offset(self, offset: impl Fn() -> Option<i64> + Send + Sync + 'static) -> Self {
        self.rebuild(|parts| parts.2 = Some(Arc::new(offset)))
    }

    /// What this limiter did so far.
    pub fn stats(&self) -> RateLimitStats {
        let counters = &self.inner.counters;
        RateLimitStats {
            waited: Duration::from_micros(counters.waited_micros.load(Ordering::Relaxed)),
            rate_limited: counters.rate_limited.load(Ordering::Relaxed),
            bans: counters.bans.load(Ordering::Relaxed),
            refused_while_banned: counters.refused_while_banned.load(Ordering::Relaxed),
        }
    }

    /// The limit of budget `index` now: the live one when loaded, else the documented default.
    pub fn limit(&self, index: usize) -> Option<u64> {
        self.budget(index).map(|(_, limit)| limit)
    }

    /// The live limits loaded so far, budget by budget: copied out in one short read.
    fn live(&self) -> [Option<(u64, Duration)>; MAX_BUDGETS] {
        *self.inner.live.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Exchange time, in Unix ms.
    fn now(&self) -> u64 {
        self.exchange_time(self.inner.clock.unix_millis())
    }

    /// The exchange time of the local time `local`, by the offset estimate known now.
    fn exchange_time(&self, local: u64) -> u64 {
        match self.inner.offset.as_ref().and_then(|offset| offset()) {
            Some(offset) => local.saturating_add_signed(offset),
            None => local,
        }
    }

    /// Budget `index` as in force now: the live limit and window when loaded, else the
    /// documented ones.
    fn budget(&self, index: usize) -> Option<(BudgetSpec, u64)> {
        self.budget_with(index, &self.live())
    }

    /// [`budget`](Self::budget) with the live limits already read.
    fn budget_with(&self, index: usize, live: &[Option<(u64, Duration)>; MAX_BUDGETS]) -> Option<(BudgetSpec, u64)> {
        let mut budget = *self.inner.spec.budgets.get(index)?;
        let mut limit = budget.limit;
        if let Some((live_limit, window)) = live.get(index).copied().flatten() {
            limit = live_limit;
            if let Refill::Window(_) = budget.refill {
                budget.refill = Refill::Window(window);
            }
        }
        Some((budget, limit))
    }

    fn draws(&self, request: &http::Request<Bytes>) -> Vec<Draw> {
        let spec = self.inner.spec;
        let cost = (spec.cost)(
            request.method(),
            request.uri().path(),
            request.uri().query().unwrap_or(""),
        );
        let live = self.live();
        (0..spec.budgets.len())
            .zip(cost.units())
            .filter(|(_, units)| **units > 0)
            .filter_map(|(index, units)| {
                let (budget, limit) = self.budget_with(index, &live)?;
                Some(Draw {
                    key: BudgetKey {
                        budget: index,
                        endpoint: budget.per_endpoint.then(|| request.uri().path().to_owned()),
                    },
                    spec: budget,
                    limit,
                    cost: *units,
                })
            })
            .collect()
    }

    async fn wait(&self, duration: Duration) {
        let micros = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
        self.inner.counters.waited_micros.fetch_add(micros, Ordering::Relaxed);
        self.inner.clock.sleep(duration).await;
    }

    /// Waits until the request's budgets allow it and no hold is in force; fails at once during
    /// a ban. Returns the local time at which the budgets were spent.
    async fn acquire(&self, draws: &[Draw]) -> Result<u64, Error> {
        loop {
            let now = self.now();
            if let Some(until) = self.inner.store.banned_until().filter(|until| *until > now) {
                self.inner.counters.refused_while_banned.fetch_add(1, Ordering::Relaxed);
                return Err(Error::Banned(Banned {
                    until_unix_millis: until,
                    remaining: Duration::from_millis(until - now),
                }));
            }
            if let Some(until) = self.inner.store.held_until().filter(|until| *until > now) {
                tracing::debug!(
                    target: "keyward::rate_limit",
                    exchange = self.inner.exchange.name(),
                    wait_ms = until - now,
                    "holding for a Retry-After"
                );
                self.wait(Duration::from_millis(until - now)).await;
                continue;
            }
            match self.inner.store.try_acquire(draws, now) {
                Ok(()) => return Ok(self.inner.clock.unix_millis()),
                Err(wait) => {
                    tracing::debug!(
                        target: "keyward::rate_limit",
                        exchange = self.inner.exchange.name(),
                        wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        budgets = ?draws.iter().map(|draw| (draw.spec.name, draw.limit, draw.cost)).collect::<Vec<_>>(),
                        "waiting for budget"
                    );
                    self.wait(wait).await;
                }
            }
        }
    }

    /// Learns from the outcome of a request sent at local time `sent`: the server's counters, a
    /// 429's `Retry-After`, a ban.
    ///
    /// The server's counts are applied to the window of the send time in exchange time by the
    /// offset known *now*: the first requests of a client go out before its clock offset is
    /// measured, and their counts must land in the window the exchange counted them in.
    fn learn(&self, draws: &[Draw], sent: u64, result: &Result<http::Response<Bytes>, Error>) {
        let now = self.now();
        let sent = self.exchange_time(sent);
        match result {
            Ok(response) => {
                let mut observations = Vec::new();
                (self.inner.spec.observe)(response.headers(), &mut observations);
                let endpoint = draws.iter().find_map(|draw| draw.key.endpoint.as_deref());
                for observation in observations {
                    self.apply(observation, endpoint, sent);
                }
            }
            Err(Error::Exchange(err)) => match &err.kind {
                ExchangeErrorKind::RateLimited { retry_after } => {
                    // The answer does not say which budget ran out, so no budget is marked spent
                    // (marking a five-minute budget spent would stall the client for minutes): the
                    // hold waits out exactly what the exchange asked.
                    self.inner.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
                    self.inner
                        .store
                        .hold_until(now.saturating_add(millis(retry_after.unwrap_or(DEFAULT_HOLD))));
                }
                ExchangeErrorKind::Banned { retry_after } => {
                    self.inner.counters.bans.fetch_add(1, Ordering::Relaxed);
                    self.inner
                        .store
                        // Saturating: a `Retry-After` of centuries must not wrap round to no ban.
                        .ban_until(now.saturating_add(millis(retry_after.unwrap_or(DEFAULT_BAN))));
                }
                _ => {}
            },
            Err(_) => {}
        }
    }

    fn apply(&self, observation: Observation, endpoint: Option<&str>, sent: u64) {
        let (budget, used) = match observation {
            Observation::Used { budget, used } => (budget, Some(used)),
            Observation::Remaining { budget, remaining } => {
                let limit = self.limit(budget).unwrap_or(0);
                (budget, Some(limit.saturating_sub(remaining)))
            }
            _ => return,
        };
        // The window in force, not the documented one: a count must land in the same windows
        // the requests were spent in.
        let Some((spec, _)) = self.budget(budget) else {
            return;
        };
        let key = BudgetKey {
            budget,
            endpoint: spec.per_endpoint.then(|| endpoint.unwrap_or_default().to_owned()),
        };
        if let Some(used) = used {
            self.inner.store.observe_used(&key, &spec, used, sent);
        }
    }

    /// Loads the exchange's live limits once, through `inner`, before the first request.
    async fn load_live_limits<S>(&self, inner: &mut S, like: &http::Request<Bytes>)
    where
        S: Service<http::Request<Bytes>, Response = http::Response<Bytes>, Error = Error>,
    {
        let Some(live) = self.inner.spec.live_limits else {
            return;
        };
        self.inner
            .live_loaded
            .get_or_init(|| async {
                let uri = like.uri();
                let url = format!(
                    "{}://{}{}",
                    uri.scheme_str().unwrap_or("https"),
                    uri.authority().map_or("", |a| a.as_str()),
                    live.path
                );
                let Ok(mut probe) = http::Request::get(url).body(Bytes::new()) else {
                    return;
                };
                probe.extensions_mut().insert(Public);
                let draws = self.draws(&probe);
                let Ok(sent) = self.acquire(&draws).await else {
                    return;
                };
                let result = match inner.ready().await {
                    Ok(ready) => ready.call(probe).await,
                    Err(err) => Err(err),
                };
                self.learn(&draws, sent, &result);
                match result {
                    Ok(response) => {
                        let parsed = (live.parse)(response.body());
                        let mut slots = self.inner.live.write().unwrap_or_else(|poisoned| poisoned.into_inner());
                        for (index, limit, window) in parsed {
                            if let Some(slot) = slots.get_mut(index) {
                                *slot = Some((limit, window));
                            }
                        }
                    }
                    Err(err) => tracing::warn!(
                        exchange = self.inner.exchange.name(),
                        error = %err,
                        "cannot load live rate limits; using the documented defaults"
                    ),
                }
            })
            .await;
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The limiter a request was admitted by, found in the request's extensions.
///
/// Layers below the limiter that send requests of their own (the clock layer's server-time
/// probe, its re-send after a timestamp rejection) charge them through it, so that the
/// limiter's count matches the exchange's to the unit.
///
/// # Example
///
/// ```
/// use bytes::Bytes;
/// use keyward::{clock::VirtualClock, exchange, rate_limit::{Meter, RateLimiter}};
/// use std::sync::Arc;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let limiter = RateLimiter::new(exchange::by_name("binance").unwrap()).clock(Arc::new(VirtualClock::now()));
/// let meter = Meter::new(limiter.clone());
/// let probe = http::Request::get("https://api.binance.com/api/v3/time").body(Bytes::new()).unwrap();
/// let admission = meter.admit(&probe).await.unwrap();
/// meter.settle(admission, &Ok(http::Response::new(Bytes::new())));
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct Meter(RateLimiter);

/// Budget a [`Meter`] granted to one request, to settle when its answer arrives.
#[derive(Debug)]
pub struct Admission {
    draws: Vec<Draw>,
    sent: u64,
}

impl Meter {
    /// A meter drawing on `limiter`.
    pub fn new(limiter: RateLimiter) -> Self {
        Self(limiter)
    }

    /// Waits until `request` fits the budgets (failing at once during a ban) and spends them.
    pub async fn admit(&self, request: &http::Request<Bytes>) -> Result<Admission, Error> {
        let draws = self.0.draws(request);
        let sent = self.0.acquire(&draws).await?;
        Ok(Admission { draws, sent })
    }

    /// Learns from the answer to an admitted request: the server's counters, a 429, a ban.
    pub fn settle(&self, admission: Admission, result: &Result<http::Response<Bytes>, Error>) {
        self.0.learn(&admission.draws, admission.sent, result);
    }
}

/// Spends budgets in the exchange's own units before each request, waiting (never failing)
/// when they are spent. See the [module docs](super).
#[derive(Clone, Debug)]
pub struct RateLimitLayer {
    limiter: RateLimiter,
}

impl RateLimitLayer {
    /// A layer with its own limiter for `exchange`, with the documented budgets.
    pub fn new(exchange: &'static dyn Exchange) -> Self {
        Self::with_limiter(RateLimiter::new(exchange))
    }

    /// A layer that draws on `limiter`, which other layers may share.
    pub fn with_limiter(limiter: RateLimiter) -> Self {
        Self { limiter }
    }

    /// The limiter, to read its stats or share it.
    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit {
            inner,
            limiter: self.limiter.clone(),
        }
    }
}

/// The service of [`RateLimitLayer`].
#[derive(Clone, Debug)]
pub struct RateLimit<S> {
    inner: S,
    limiter: RateLimiter,
}

/// The response future of [`RateLimit`].
pub type RateLimitFuture = Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, Error>> + Send>>;

impl<S> Service<http::Request<Bytes>> for RateLimit<S>
where
    S: Service<http::Request<Bytes>, Response = http::Response<Bytes>, Error = Error> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = http::Response<Bytes>;
    type Error = Error;
    type Future = RateLimitFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Readiness is awaited inside the future, after the budget: a request waiting for
        // budget must not hold a slot of the inner service.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: http::Request<Bytes>) -> Self::Future {
        let limiter = self.limiter.clone();
        let mut inner = self.inner.clone();
        request.extensions_mut().insert(Meter::new(limiter.clone()));
        Box::pin(async move {
            limiter.load_live_limits(&mut inner, &request).await;
            let draws = limiter.draws(&request);
            let sent = limiter.acquire(&draws).await?;
            let result = inner.ready().await?.call(request).await;
            limiter.learn(&draws, sent, &result);
            result
        })
    }
}
