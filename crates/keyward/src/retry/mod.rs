//! Safe retries: send again what cannot execute twice, and never what might have.
//!
//! [`RetryLayer`] sits above the rate-limit, clock and signing layers, so that each attempt is
//! stamped and signed afresh: it sends a clone of the request as it received it, with
//! [`audit::Attempt(n)`](crate::audit::Attempt) (from 1) in its extensions.
//!
//! # What is retried
//!
//! A read is `GET` or `HEAD`; everything else may change state.
//!
//! | the attempt failed with | read | non-read |
//! |---|---|---|
//! | exchange: rate limited | retry, waiting at least its `Retry-After` | retry, the same |
//! | exchange: timestamp or nonce outside the window | retry | retry |
//! | exchange: other error, HTTP ≥ 500 | retry | [`Ambiguous`] |
//! | exchange: other error, HTTP < 500 (a definite rejection) | fail | fail |
//! | exchange: authentication, signature, permission, ban | fail | fail |
//! | transport: connect (nothing was sent) | retry | retry |
//! | transport: timeout, I/O, connection reset | retry | [`Ambiguous`] |
//! | transport: response body too large | fail | [`Ambiguous`] |
//! | transport: invalid request | fail | fail |
//! | denied, credentials, signing, audit unavailable, clock skew, banned | fail | fail |
//!
//! "Fail" returns the error as it is. Authentication, signature and permission errors were not
//! executed, but the same key gets the same answer, and some exchanges lock a key out after
//! repeated failures. An [`Ambiguous`] error means the request may have executed: it is never
//! sent again, and carries the client order id to look the order up by.
//!
//! A retry also needs an attempt left ([`max_attempts`](RetryLayer::max_attempts), default 3)
//! and a retry in the [budget](RetryBudget). Otherwise the last error is returned. A
//! `Retry-After` is honoured whatever its length: it is what the exchange asked for.
//!
//! # Waits
//!
//! Exponential backoff with full jitter: before retry `n`, a random wait between zero and
//! `min(max, base * 2^(n-1))` ([`backoff`](RetryLayer::backoff), default 100 ms and 5 s),
//! raised to the exchange's `Retry-After` when it gave one. Every wait goes through the layer's
//! [`Clock`](crate::clock::Clock), so tests spend them on a
//! [`VirtualClock`](crate::clock::VirtualClock).
//!
//! # Client order ids
//!
//! An order placement (the exchange's [`order_placement`](crate::exchange::Exchange::order_placement)
//! matches its method and path) always carries a client order id: when the caller gave none,
//! the layer adds a fresh one before the first attempt (a member of a JSON object, or a
//! percent-encoded `&field=value` in a form body or the query), so every attempt carries the
//! same id, and an [`Ambiguous`] outcome names it.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use keyward::{
//!     Error, audit::Attempt, clock::VirtualClock,
//!     exchange::{self, ExchangeError, ExchangeErrorKind},
//!     retry::RetryLayer,
//! };
//! use std::{sync::Arc, time::Duration};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! // An exchange that fails the first two attempts of every request with a 503.
//! let exchange = service_fn(|request: http::Request<Bytes>| async move {
//!     match request.extensions().get::<Attempt>() {
//!         Some(Attempt(1 | 2)) => Err(Error::Exchange(ExchangeError::new(
//!             ExchangeErrorKind::Other, 503, None, "Service Unavailable"))),
//!         _ => Ok(http::Response::new(Bytes::from_static(b"{}"))),
//!     }
//! });
//! let clock = VirtualClock::at_unix_millis(1_700_000_000_000);
//! let retry = RetryLayer::new(exchange::by_name("binance").unwrap())
//!     .clock(Arc::new(clock.clone()))
//!     .max_attempts(3)
//!     .backoff(Duration::from_millis(100), Duration::from_secs(2));
//! let stats = retry.stats();
//! let client = ServiceBuilder::new()
//!     .layer(retry)
//!     // .layer(RateLimitLayer..).layer(SignLayer..).layer(AttemptAuditLayer..).layer(ClassifyLayer..)
//!     .service(exchange);
//!
//! // A read is retried: it succeeds on its third attempt, after two jittered waits.
//! let read = http::Request::get("https://api.binance.com/api/v3/account").body(Bytes::new()).unwrap();
//! assert!(client.clone().oneshot(read).await.is_ok());
//! assert_eq!((stats.attempts(), stats.retries()), (3, 2));
//! assert!(clock.slept() <= Duration::from_millis(100 + 200));
//!
//! // A cancellation may have executed before the 503: it is not sent again.
//! let cancel = http::Request::delete("https://api.binance.com/api/v3/order?orderId=7").body(Bytes::new()).unwrap();
//! let Err(Error::Ambiguous(ambiguous)) = client.oneshot(cancel).await else { panic!("not ambiguous") };
//! assert_eq!(ambiguous.client_order_id, None);
//! assert_eq!((stats.attempts(), stats.ambiguous()), (4, 1));
//! # });
//! ```

mod backoff;
mod budget;
mod client_order_id;
mod error;
mod future;
mod layer;
mod policy;
mod service;
mod stats;

pub use budget::{InvalidRetryBudget, RetryBudget};
pub use error::Ambiguous;
pub use future::ResponseFuture;
pub use layer::RetryLayer;
pub use service::Retry;
pub use stats::RetryStats;
