//! The whole stack for one exchange, in the right order, in one call.
//!
//! From the outside in:
//! 1. [`Guard`]: refuses dangerous endpoints before anything else happens;
//! 2. [`Retry`]: retries what is safe (reads, and what the exchange rejected unexecuted), gives
//!    order placements a client order id, and reports an order with an unknown outcome as
//!    [`Ambiguous`](crate::retry::Ambiguous) instead of sending it twice;
//! 3. [`RateLimit`]: spends the exchange's budgets, waiting when they are spent; fails fast
//!    during a ban;
//! 4. [`ReloadOnRejection`], when asked for with [`Preset::reload_on_rejection`]: reloads the
//!    credentials once when the exchange rejects the key, and re-sends once with the new one;
//! 5. [`ClockCorrection`]: stamps each attempt with the exchange's time; resyncs and resends
//!    once after a timestamp rejection;
//! 6. [`Sign`]: signs each attempt afresh with the credentials current at that moment;
//! 7. [`AttemptAudit`]: records each attempt as sent (signing parameters masked);
//! 8. [`Classify`]: turns exchange error responses into typed errors;
//! 9. the transport you give it.
//!
//! The order matters: every retry goes through the limiter and is stamped and signed afresh;
//! the limiter's budget windows follow the exchange's clock (from the clock layer's estimate);
//! the audit records exactly what was sent.
//!
//! # Example
//!
//! ```no_run
//! use bytes::Bytes;
//! use keyward::{Credentials, Preset, exchange, transport::ReqwestTransport};
//! use std::sync::Arc;
//! use tower::ServiceExt;
//!
//! # async fn run() -> Result<(), keyward::Error> {
//! let credentials = Arc::new(Credentials::new("key-from-your-secret-store", "secret-from-your-secret-store"));
//! let client = Preset::new(exchange::by_name("binance").unwrap(), credentials)
//!     .service(ReqwestTransport::default());
//! let request = http::Request::get("https://api.binance.com/api/v3/account").body(Bytes::new()).unwrap();
//! let response = client.oneshot(request).await?;
//! # let _ = response; Ok(()) }
//! ```

use crate::{
    audit::{AttemptAudit, AttemptAuditLayer},
    classify::{Classify, ClassifyLayer},
    clock::{Clock, ClockCorrection, ClockLayer, ClockOffset, SystemClock},
    credentials::{CredentialSource, ReloadOnRejection, ReloadOnRejectionLayer, RotatingCredentials},
    exchange::Exchange,
    guard::{Guard, GuardLayer, GuardPolicy},
    rate_limit::{RateLimit, RateLimitLayer, RateLimiter},
    retry::{Retry, RetryLayer},
    sign::{Sign, SignLayer},
};
use std::{fmt, sync::Arc, time::Duration};
use tower::ServiceBuilder;
use tower_layer::Layer;

/// The service a [`Preset`] builds around a transport `T`.
pub type PresetService<T, C> =
    Guard<Retry<RateLimit<ReloadOnRejection<ClockCorrection<Sign<AttemptAudit<Classify<T>>, C>>>>>>;

/// What a preset's layers did, for summaries.
///
/// # Example
///
/// ```
/// use keyward::{Credentials, Preset, exchange};
/// use std::sync::Arc;
///
/// let preset = Preset::new(exchange::by_name("gate").unwrap(), Arc::new(Credentials::new("k", "s")));
/// assert_eq!(preset.stats().retries, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PresetStats {
    /// Attempts sent again after a failure that was safe to retry.
    pub retries: u64,
    /// Time spent waiting for rate-limit budget, holds and `Retry-After`s.
    pub waited: Duration,
    /// Rate-limit rejections (429 and the like) seen.
    pub rate_limited: u64,
    /// Bans seen.
    pub bans: u64,
}

/// Builds keyward's stack for one exchange. See the [module docs](self).
pub struct Preset<C> {
    exchange: &'static dyn Exchange,
    credentials: C,
    policy: GuardPolicy,
    clock: Arc<dyn Clock>,
    limiter: RateLimiter,
    clock_layer: ClockLayer,
    retry: RetryLayer,
    reload: ReloadOnRejectionLayer,
}

impl<C: CredentialSource + Clone> Preset<C> {
    /// The stack for `exchange`, signing with `credentials`, with the default guard policy.
    pub fn new(exchange: &'static dyn Exchange, credentials: C) -> Self {
        let clock_layer = ClockLayer::new(exchange);
        let offset = clock_layer.offset_handle();
        Self {
            exchange,
            credentials,
            policy: GuardPolicy::default(),
            clock: Arc::new(SystemClock),
            limiter: RateLimiter::new(exchange).exchange_offset(move || offset.offset_millis()),
            clock_layer,
            retry: RetryLayer::new(exchange),
            reload: ReloadOnRejectionLayer::off(),
        }
    }

    /// Reads time and waits through `clock` (a [`VirtualClock`](crate::clock::VirtualClock) in
    /// tests): clock correction, rate-limit waits and retry backoff. Call it first: it starts
    /// the clock estimate, the limiter and the retry counters afresh.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock_layer = ClockLayer::new(self.exchange).clock(Arc::clone(&clock));
        let offset = self.clock_layer.offset_handle();
        self.limiter = RateLimiter::new(self.exchange)
            .clock(Arc::clone(&clock))
            .exchange_offset(move || offset.offset_millis());
        self.retry = RetryLayer::new(self.exchange).clock(Arc::clone(&clock));
        self.clock = clock;
        self
    }

    /// The largest clock offset to the exchange this client accepts (default 60 s); beyond it,
    /// requests fail with [`ClockSkew`](crate::clock::ClockSkew) before anything is sent.
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.clock_layer = self.clock_layer.tolerance(tolerance);
        self
    }

    /// Replaces the retry layer (attempts, backoff, budget).
    pub fn retry(mut self, retry: RetryLayer) -> Self {
        self.retry = retry;
        self
    }

    /// The clock offset estimate, shared with the running stack.
    pub fn offset(&self) -> ClockOffset {
        self.clock_layer.offset_handle()
    }

    /// Draws on `limiter` (shared with other clients on the same key or IP).
    pub fn rate_limiter(mut self, limiter: RateLimiter) -> Self {
        self.limiter = limiter;
        self
    }

    /// The limiter this preset draws on.
    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// What the layers did so far.
    pub fn stats(&self) -> PresetStats {
        let limits = self.limiter.stats();
        PresetStats {
            retries: self.retry.stats().retries(),
            waited: limits.waited,
            rate_limited: limits.rate_limited,
            bans: limits.bans,
        }
    }

    /// Replaces the guard policy.
    pub fn guard(mut self, policy: GuardPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The exchange this preset is for.
    pub fn exchange(&self) -> &'static dyn Exchange {
        self.exchange
    }

    /// Wraps `transport` in the stack.
    pub fn service<T>(&self, transport: T) -> PresetService<T, C> {
        self.layer(transport)
    }
}

impl Preset<RotatingCredentials> {
    /// Reloads the credentials once when the exchange rejects the key as invalid, and re-sends
    /// the request once with the new key: see [`ReloadOnRejection`]. Off by default.
    ///
    /// It reloads the same [`RotatingCredentials`] the preset signs with, so the two cannot
    /// disagree about which key signed a request.
    pub fn reload_on_rejection(mut self) -> Self {
        self.reload = ReloadOnRejectionLayer::new(self.credentials.clone());
        self
    }
}

impl<C> fmt::Debug for Preset<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Preset")
            .field("exchange", &self.exchange.name())
            .field("policy", &self.policy)
            .field("clock", &self.clock)
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

impl<T, C: CredentialSource + Clone> Layer<T> for Preset<C> {
    type Service = PresetService<T, C>;

    fn layer(&self, transport: T) -> Self::Service {
        ServiceBuilder::new()
            .layer(GuardLayer::with_policy(self.exchange, self.policy.clone()))
            .layer(self.retry.clone())
            .layer(RateLimitLayer::with_limiter(self.limiter.clone()))
            .layer(self.reload.clone())
            .layer(self.clock_layer.clone())
            .layer(SignLayer::new(self.exchange, self.credentials.clone()))
            .layer(AttemptAuditLayer::new(self.exchange))
            .layer(ClassifyLayer::new(self.exchange))
            .service(transport)
    }
}
