//! Time: the injected [`Clock`], and [`ClockLayer`], which stamps every request with the
//! exchange's time rather than the host's.
//!
//! Exchanges reject a signed request whose timestamp strays from their clock by more than a
//! few seconds (Binance: 1 s ahead, 5 s behind by default), and a host clock off by that much
//! is common on laptops and fresh VMs. [`ClockLayer`] measures the offset and corrects for it:
//!
//! - **Measuring.** The first request, and the first after the estimate is older than
//!   [`resync_every`](ClockLayer::resync_every), first sends a `GET` to the exchange's
//!   [server-time endpoint](crate::exchange::Exchange::server_time) at the same host, marked
//!   [`Public`](crate::sign::Public) so it goes out unsigned, through the rest of the stack.
//!   The offset is the server's time minus the local time at the round trip's midpoint, so it
//!   is exact to within half the round trip. One probe runs at a time: concurrent requests wait
//!   for it.
//! - **Refusing.** If the offset exceeds the [tolerance](ClockLayer::tolerance) (60 s by
//!   default), or cannot be measured, the request fails with
//!   [`Error::ClockSkew`](crate::Error::ClockSkew) and is not sent. A host that far off needs
//!   its clock fixed (NTP), not papered over.
//! - **Stamping.** Each request gets a [`SigningContext`](crate::sign::SigningContext) at
//!   local time plus the offset, which the signing layer below signs for.
//! - **Refining.** Every response's `Date` header is compared with the corrected clock; if it
//!   disagrees by more than 2 s (it has whole seconds only), the next request measures again.
//! - **Recovering.** A request the exchange rejects for its timestamp or nonce
//!   ([`TimestampOutsideWindow`](crate::exchange::ExchangeErrorKind::TimestampOutsideWindow))
//!   is re-stamped after a fresh measurement and sent once more. The exchange checks time
//!   before executing anything, so this cannot place an order twice.
//!
//! # Nonces
//!
//! The nonce is `max(corrected Unix time in microseconds, previous nonce + 1)`, shared by every
//! clone of the layer, so it strictly increases across concurrent requests. Kraken rejects a
//! nonce not above the last one it saw for the key, across process restarts too. Because the
//! nonce follows the clock, a restarted process starts above the last nonce of the one before,
//! unless that one ran ahead of the clock by issuing more than one nonce per microsecond; in
//! milliseconds, one request per millisecond would already be too many. Microseconds also stay
//! above the millisecond nonces the signing layer uses on its own. One caveat: the corrected
//! clock of two processes differs by their estimates' error, up to a second for Kraken (whose
//! server time has whole seconds), so a restart within a second of a burst can still collide;
//! a nonce window on the key absorbs that.
//!
//! Concurrent requests overtake each other between stamping and the exchange (on a
//! multi-threaded runtime a burst nearly always arrives out of order), so a strictly increasing
//! nonce is not enough on its own for an exchange that checks nonce order. For those (see
//! [`Exchange::nonce_must_increase`](crate::exchange::Exchange::nonce_must_increase)) the layer
//! sends one request at a time, from stamping to response. For Kraken this costs nothing that
//! matters: its private call counter allows a burst of 15 and refills at 0.33 to 1 call per
//! second, far below what sequential requests reach.
//!
//! # Example
//!
//! A Binance whose clock runs 2.5 s ahead of a (virtual) local clock:
//!
//! ```
//! use bytes::Bytes;
//! use keyward::{clock::{ClockLayer, VirtualClock}, exchange, sign::SigningContext};
//! use std::sync::Arc;
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let local = VirtualClock::at_unix_millis(1_700_000_000_000);
//! let layer = ClockLayer::new(exchange::by_name("binance").unwrap()).clock(Arc::new(local));
//! let offset = layer.offset_handle();
//! let service = ServiceBuilder::new().layer(layer).service(service_fn(|request: http::Request<Bytes>| async move {
//!     let body = match request.uri().path() {
//!         "/api/v3/time" => r#"{"serverTime":1700000002500}"#.to_owned(),
//!         // The signing layer would sign for this moment.
//!         _ => request.extensions().get::<SigningContext>().unwrap().unix_millis().to_string(),
//!     };
//!     Ok::<_, keyward::Error>(http::Response::new(Bytes::from(body)))
//! }));
//!
//! let request = http::Request::get("https://api.binance.com/api/v3/account").body(Bytes::new()).unwrap();
//! let response = service.oneshot(request).await.unwrap();
//! assert_eq!(response.body(), "1700000002500");
//! assert_eq!(offset.offset_millis(), Some(2_500));
//! # });
//! ```

mod error;
mod future;
mod layer;
mod offset;
mod service;
mod time;

pub use error::ClockSkew;
pub use future::ResponseFuture;
pub use layer::{ClockLayer, DEFAULT_RESYNC_EVERY, DEFAULT_TOLERANCE};
pub use offset::ClockOffset;
pub use service::ClockCorrection;
pub use time::{Clock, Sleep, SystemClock, VirtualClock};
