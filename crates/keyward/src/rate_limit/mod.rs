//! Rate-limit budgets in the exchange's own units, spent to the last unit without a ban.
//!
//! Exchanges count requests their own way: Binance in request *weight* per minute plus orders
//! per 10 s and per day, Kraken in a call counter that decays, Bybit per endpoint per second.
//! Each integration declares its budgets ([`RateLimitSpec`], with the documented defaults, and for
//! Binance the live limits loaded from `exchangeInfo` at start). [`RateLimitLayer`]:
//! - spends each request's [`Cost`] before sending it, and **waits** (async backpressure, through
//!   the injected [`Clock`](crate::clock::Clock)) while a budget is spent, instead of failing;
//! - aligns windows to the exchange's clock, with a small margin at each boundary, so it never
//!   spends a new window while the exchange still counts the old one;
//! - corrects its counts from the server's headers (`X-MBX-USED-WEIGHT-*`, `X-Bapi-Limit-*`,
//!   `x-ratelimit-*`, `X-Gate-RateLimit-*`), which also count other clients on the same key or IP;
//! - on a 429, holds every request until `Retry-After`;
//! - on a 418 or a ban, fails every request at once with [`Banned`], without sending, until the
//!   ban lifts: exchanges escalate bans for clients that keep sending.
//!
//! One [`RateLimiter`] is shared (`Clone`) by every service of a client, and can be shared by
//! several clients on the same key or IP. Its state sits behind [`BudgetStore`], so a store shared
//! across processes can replace [`MemoryStore`].
//!
//! Why not tower's `RateLimit` or governor: tower's counts requests, not weights, and is not
//! `Clone` (tower #794); governor's GCRA answers "now or when" for one quota, but exchange
//! budgets are fixed windows aligned to the exchange's clock, decaying counters and per-endpoint
//! limits corrected by server headers, which need their own state (see `budget.rs`).
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use keyward::{Error, clock::VirtualClock, exchange, rate_limit::{RateLimitLayer, RateLimiter}};
//! use std::sync::Arc;
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let clock = VirtualClock::now();
//! let limiter = RateLimiter::new(exchange::by_name("kraken").unwrap()).clock(Arc::new(clock.clone()));
//! let service = ServiceBuilder::new()
//!     .layer(RateLimitLayer::with_limiter(limiter.clone()))
//!     .service(service_fn(|_: http::Request<Bytes>| async { Ok::<_, Error>(http::Response::new(Bytes::new())) }));
//! for _ in 0..40 {
//!     let request = http::Request::post("https://api.kraken.com/0/private/Balance").body(Bytes::new()).unwrap();
//!     service.clone().oneshot(request).await.unwrap();
//! }
//! // Kraken's counter decays: forty calls cannot all go at once, so the limiter waited.
//! assert!(limiter.stats().waited > std::time::Duration::ZERO);
//! # });
//! ```

mod budget;
mod error;
mod layer;
mod spec;
mod store;

pub use budget::BudgetState;
pub use error::Banned;
pub use layer::{
    Admission, Meter, OffsetSource, RateLimit, RateLimitFuture, RateLimitLayer, RateLimitStats, RateLimiter,
};
pub use spec::{BudgetSpec, Cost, LiveLimit, LiveLimits, MAX_BUDGETS, Observation, RateLimitSpec, Refill};
pub use store::{BudgetKey, BudgetStore, Draw, MemoryStore};
