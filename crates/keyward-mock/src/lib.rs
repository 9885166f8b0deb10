//! An embedded exchange: a real HTTP server on 127.0.0.1 that stands in for Binance, Bybit, OKX,
//! Coinbase, Kraken, KuCoin, BitMEX or Gate in tests, examples and `keyward mock`.
//!
//! It authenticates every private request the way the exchange documents it, from the request
//! as received on the wire (raw query string, raw body bytes, headers), with its own
//! verification code: it does not depend on `keyward`, so keyward's signers are checked against
//! an independent reading of the documentation. Refusals carry the exchange's own status code and
//! error body; successes carry the exchange's envelope around what the mock understood of the
//! request. Every request is recorded with its [`Verdict`], every executed order as a
//! [`RecordedOrder`].
//!
//! Like the real exchanges, it enforces each exchange's documented rate limits, with the
//! exchange's own headers, `429`s and (Binance) escalating `418` bans; a test can tighten the
//! budget ([`Builder::weight_limit`]), lift it ([`Builder::without_rate_limits`]), drive every
//! clock-dependent behaviour from its own time ([`Builder::time_source`]), and inject the
//! failures of a bad day: 5xx, delays, connection resets, timeouts after execution, truncated or
//! non-JSON bodies ([`Fault`], [`FaultPlan`]).
//!
//! # Example
//!
//! A Binance request signed by hand, as Binance documents it:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use hmac::{Hmac, Mac};
//! use keyward_mock::{MockCredentials, MockExchange, Rejection, Verdict};
//!
//! let mock = MockExchange::builder("binance")?
//!     .credentials(MockCredentials::new("test-only-key-0001", "test-only-secret"))
//!     .start()
//!     .await?;
//!
//! let query = format!("symbol=BTCUSDT&timestamp={}", mock.now_ms());
//! let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"test-only-secret")?;
//! mac.update(query.as_bytes());
//! let signature = hex::encode(mac.finalize().into_bytes());
//!
//! let client = reqwest::Client::new();
//! let url = format!("{}/api/v3/account?{query}&signature={signature}", mock.base_url());
//! let accepted = client.get(&url).header("X-MBX-APIKEY", "test-only-key-0001").send().await?;
//! assert_eq!(accepted.status(), 200);
//!
//! let tampered = url.replace("BTCUSDT", "ETHUSDT");
//! let refused = client.get(&tampered).header("X-MBX-APIKEY", "test-only-key-0001").send().await?;
//! assert_eq!(refused.status(), 400);
//! assert_eq!(refused.text().await?, r#"{"code":-1022,"msg":"Signature for this request is not valid."}"#);
//!
//! let verdicts: Vec<Verdict> = mock.requests().iter().map(|r| r.verdict).collect();
//! assert_eq!(verdicts, [Verdict::Accepted, Verdict::Rejected(Rejection::BadSignature)]);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod builder;
mod clock;
mod credentials;
mod exchange;
mod faults;
mod limits;
mod permissions;
mod record;
mod reply;
mod respond;
mod running;
mod server;
mod state;
mod verify;
mod wire;

pub use builder::{Builder, MockExchange, UnknownExchange};
pub use credentials::MockCredentials;
pub use faults::{Fault, FaultPlan};
pub use permissions::MockKeyPermissions;
pub use record::{Ban, RecordedOrder, RecordedRequest, Rejection, Verdict};
pub use running::RunningMock;
