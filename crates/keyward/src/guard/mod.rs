//! The least-privilege guard: endpoints a trading bot never needs are refused before any byte
//! leaves the process.
//!
//! A stolen key does its worst damage through withdrawals, transfers, sub-accounts and API-key
//! management. The exchange's key settings should forbid them, but that is a setting someone can
//! forget; the guard makes "this bot cannot withdraw" a property of the client as well. By
//! default it denies every such endpoint of the exchange ([`Exchange::dangerous_endpoints`]);
//! [`GuardPolicy`] adds the bot's own denylist, allowlist, or a strict allow-only list.
//!
//! A denied request returns [`Denied`] naming the endpoint and the rule, is recorded as a
//! `keyward::audit` event (`event = "http.denied"`), and is never sent.
//!
//! [`Exchange::dangerous_endpoints`]: crate::exchange::Exchange::dangerous_endpoints
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use keyward::{exchange, guard::GuardLayer, Error};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let service = ServiceBuilder::new()
//!     .layer(GuardLayer::new(exchange::by_name("binance").unwrap()))
//!     .service(service_fn(|_: http::Request<Bytes>| async {
//!         Ok::<_, Error>(http::Response::new(Bytes::new()))
//!     }));
//! let withdraw = http::Request::post("https://api.binance.com/sapi/v1/capital/withdraw/apply")
//!     .body(Bytes::new()).unwrap();
//! let err = service.oneshot(withdraw).await.unwrap_err();
//! assert!(matches!(err, Error::Denied(_)));
//! assert!(err.to_string().contains("withdrawal"));
//! # });
//! ```

mod denied;
mod layer;
mod policy;
mod rule;

pub use denied::Denied;
pub use layer::{Guard, GuardLayer};
pub use policy::GuardPolicy;
pub use rule::{EndpointCategory, EndpointRule};
