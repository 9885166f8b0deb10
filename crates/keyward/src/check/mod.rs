//! The preflight: what a bot checks before it starts, and what `keyward check` prints.
//!
//! The bots that get drained share the same few mistakes: a key with withdrawal rights, a key
//! usable from any IP, a key never rotated, a clock left to drift, a key left in a file others
//! can read. [`preflight`] checks each, with the safe configuration as the default:
//!
//! | check | fails when | warns when |
//! |---|---|---|
//! | `credentials` | | the source raised warnings (a world-readable secrets file, ...) |
//! | `clock` | the host is more than 5 s off the exchange, or its time cannot be read | more than 1 s off |
//! | `authentication` | the exchange refused the signed request: wrong key, secret or passphrase, revoked key | |
//! | `permissions` | the key can withdraw or transfer (unless [allowed](Options::allow_withdrawals)) | the exchange does not report them (Kraken, Coinbase, Gate): unknown, verify on its key page |
//! | `ip-restriction` | the key accepts any IP (unless [allowed](Options::allow_unrestricted_ip)) | not reported |
//! | `key-age` | the key is older than 90 days | older than 30 days, or its age is not reported |
//! | `egress-ip` | this host leaves from another IP than expected, or than the key allows | no IP echo endpoint is configured |
//!
//! Permissions come from the exchange's own report (Binance `GET
//! /sapi/v1/account/apiRestrictions`, Bybit `GET /v5/user/query-api`, OKX `GET
//! /api/v5/account/config`, KuCoin `GET /api/v1/user/api-key`, BitMEX `GET /api/v1/apiKey`, and
//! Gate `GET /api/v4/account/detail` for the IP allow-list only), asked with a request signed by
//! the key itself: see [`Exchange::key_permissions`](crate::exchange::Exchange::key_permissions)
//! and [`Exchange::credentials_probe`](crate::exchange::Exchange::credentials_probe). Where the
//! exchange reports nothing (Coinbase Exchange, Kraken) a cheap signed private read still proves
//! that it accepts the key: a preflight that never signs could not fail for a wrong secret.
//!
//! Comparing the clock with an NTP server is not built in yet: the offset to the exchange is
//! what decides whether its signed requests are accepted.
//!
//! # Example
//!
//! ```no_run
//! use keyward::{check::{Options, preflight}, credentials::sources::{EnvSource, LoadCredentials}, exchange,
//!     transport::ReqwestTransport};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let binance = exchange::by_name("binance").unwrap();
//! let loaded = EnvSource::for_exchange(binance).load().await?;
//! let report = preflight(binance, &loaded, &Options::new().expect_ip("203.0.113.7"), ReqwestTransport::default()).await;
//! if !report.ok() {
//!     eprint!("{report}");
//!     std::process::exit(1);
//! }
//! # Ok(()) }
//! ```

mod clock;
mod egress;
mod hygiene;
mod ntp;
mod permissions;
mod preflight;
mod report;

pub use ntp::ntp;
pub use preflight::{DEFAULT_CLOCK_FAILURE, DEFAULT_CLOCK_WARNING, Options, Transport, preflight};
pub use report::{Check, Report, Status};

use preflight::get;
