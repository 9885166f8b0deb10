//! The exchange integrations: one folder per exchange, one line per exchange in [`ALL`].
//!
//! An integration is data plus a few small functions, behind the [`Exchange`] trait:
//! - its [`Signer`]: where the key, timestamp or nonce, and signature go;
//! - its [dangerous endpoints](Exchange::dangerous_endpoints), denied by the least-privilege guard;
//! - its [error classifier](Exchange::classify): a response body to a typed [`ExchangeError`];
//! - its [server-time endpoint](Exchange::server_time), for clock-offset estimates;
//! - the [signing parameters](Exchange::signing_params) the audit layer masks.
//!
//! # Adding an exchange
//!
//! 1. Create `src/exchange/<name>/` with a `mod.rs` that defines a unit struct implementing
//!    [`Exchange`] (copy the shape of a neighbour: `sign.rs` for the signer, `classify.rs` for
//!    errors, `endpoints.rs` for the guard's list).
//! 2. Add one line to [`ALL`] (and the `mod` line above it).
//!
//! Nothing else in keyward names exchanges: the CLI, the guard, the audit layer and the presets
//! all look exchanges up in [`ALL`]. The unit tests of the new folder must reproduce the
//! exchange's published signing examples.
//!
//! # Example
//!
//! ```
//! let okx = keyward::exchange::by_name("okx").unwrap();
//! assert!(okx.needs_passphrase());
//! assert_eq!(keyward::exchange::ALL.len(), 8);
//! ```

mod error;
mod order;
mod response;

pub mod binance;
pub mod bitmex;
pub mod bybit;
pub mod coinbase;
pub mod gate;
pub mod kraken;
pub mod kucoin;
pub mod okx;

pub use error::{ExchangeError, ExchangeErrorKind};
pub use order::{OrderPlacement, ParamLocation};

use crate::{Credentials, credentials::CredentialError, guard::EndpointRule, rate_limit::RateLimitSpec, sign::Signer};
use std::{fmt, sync::Arc};

/// Every exchange keyward integrates, in alphabetical order. Adding one adds one line here.
pub static ALL: &[&dyn Exchange] = &[
    &binance::Binance,
    &bitmex::Bitmex,
    &bybit::Bybit,
    &coinbase::Coinbase,
    &gate::Gate,
    &kraken::Kraken,
    &kucoin::Kucoin,
    &okx::Okx,
];

/// Looks an exchange up by its lower-case name (`binance`, `okx`, ...).
///
/// # Example
///
/// ```
/// assert_eq!(keyward::exchange::by_name("kraken").unwrap().name(), "kraken");
/// assert!(keyward::exchange::by_name("mtgox").is_none());
/// ```
pub fn by_name(name: &str) -> Option<&'static dyn Exchange> {
    ALL.iter().copied().find(|exchange| exchange.name() == name)
}

/// The names of every exchange, for help texts and error messages.
///
/// # Example
///
/// ```
/// assert!(keyward::exchange::names().contains(&"gate"));
/// ```
pub fn names() -> Vec<&'static str> {
    ALL.iter().map(|exchange| exchange.name()).collect()
}

/// Where an exchange tells its time, and how to read the answer.
///
/// # Example
///
/// ```
/// let time = keyward::exchange::by_name("binance").unwrap().server_time();
/// assert_eq!(time.path, "/api/v3/time");
/// assert_eq!((time.parse)(br#"{"serverTime":1499827319559}"#), Some(1_499_827_319_559));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ServerTime {
    /// The unauthenticated path to `GET`.
    pub path: &'static str,
    /// Reads the server's time, in Unix milliseconds, from the response body.
    pub parse: fn(&[u8]) -> Option<u64>,
}

/// Where an exchange reports what an API key may do, and how to read the answer: a signed `GET`.
///
/// # Example
///
/// ```
/// let endpoint = keyward::exchange::by_name("binance").unwrap().key_permissions().unwrap();
/// assert_eq!(endpoint.path, "/sapi/v1/account/apiRestrictions");
/// let body = br#"{"ipRestrict":true,"createTime":1698645219000,"enableWithdrawals":false,"enableInternalTransfer":false}"#;
/// let permissions = (endpoint.parse)(body).unwrap();
/// assert_eq!(permissions.withdrawals, Some(false));
/// assert_eq!(permissions.ip_restricted, Some(true));
/// assert!(keyward::exchange::by_name("kraken").unwrap().key_permissions().is_none());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct KeyPermissionsEndpoint {
    /// The path to `GET`, signed with the key in question.
    pub path: &'static str,
    /// Reads the key's permissions from a successful response body; `None` if it is not the
    /// documented answer.
    pub parse: fn(&[u8]) -> Option<KeyPermissions>,
}

/// A signed private request that proves the exchange accepts a key, for exchanges whose key
/// report is not a plain signed `GET` of the key's own permissions: BitMEX lists every key of
/// the account, Kraken's private endpoints take only `POST`, and Coinbase Exchange and Kraken
/// report nothing about the key at all.
///
/// # Example
///
/// ```
/// let probe = keyward::exchange::by_name("kraken").unwrap().credentials_probe().unwrap();
/// assert_eq!((probe.method.as_str(), probe.path), ("POST", "/0/private/BalanceEx"));
/// let body = br#"{"error":[],"result":{"ZUSD":{"balance":"0.0000","hold_trade":"0.0000"}}}"#;
/// let accepted = (probe.parse)(body, "test-only-key").unwrap();
/// assert_eq!(accepted, keyward::exchange::KeyPermissions::default());
/// ```
#[derive(Debug, Clone)]
pub struct CredentialsProbe {
    /// The method to send.
    pub method: http::Method,
    /// The path to send to, signed with the key in question.
    pub path: &'static str,
    /// The body, form-encoded (`POST`); the signer adds its nonce where the scheme has one.
    pub body: &'static str,
    /// Reads what a successful answer reports about the key whose public part is `api_key`:
    /// `None` if it is not the documented answer; a [`KeyPermissions`] of all `None` if the
    /// exchange reports nothing but the key was accepted.
    pub parse: fn(body: &[u8], api_key: &str) -> Option<KeyPermissions>,
}

/// What an exchange reports about an API key. `None` means the exchange does not report it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPermissions {
    /// Whether the key may withdraw funds.
    pub withdrawals: Option<bool>,
    /// Whether the key may transfer funds between accounts or sub-accounts.
    pub transfers: Option<bool>,
    /// Whether the key is restricted to a list of IP addresses.
    pub ip_restricted: Option<bool>,
    /// The IP addresses (or ranges, as the exchange writes them) the key is restricted to, where
    /// the exchange lists them.
    pub ips: Vec<String>,
    /// When the key was created, in Unix milliseconds.
    pub created_at_unix_ms: Option<u64>,
}

/// One exchange integration. See the [module docs](self) for adding one.
///
/// # Example
///
/// ```
/// use keyward::exchange::Exchange;
///
/// fn describe(exchange: &dyn Exchange) -> String {
///     format!("{} at {}", exchange.name(), exchange.default_base_url())
/// }
/// assert_eq!(describe(&keyward::exchange::bitmex::Bitmex), "bitmex at https://www.bitmex.com");
/// ```
pub trait Exchange: fmt::Debug + Send + Sync + 'static {
    /// The lower-case name used on the command line and in environment variables (`OKX_API_KEY`).
    fn name(&self) -> &'static str;

    /// The production REST base URL.
    fn default_base_url(&self) -> &'static str;

    /// Whether keys of this exchange come with a passphrase.
    fn needs_passphrase(&self) -> bool {
        false
    }

    /// Prepares a signer for `credentials`: decodes and pre-keys the secret once.
    fn signer(&self, credentials: &Credentials) -> Result<Arc<dyn Signer>, CredentialError>;

    /// Classifies a response as an exchange error, or `None` if it is a success.
    fn classify(&self, status: http::StatusCode, headers: &http::HeaderMap, body: &[u8]) -> Option<ExchangeError>;

    /// The endpoints the least-privilege guard denies by default: withdrawals, transfers,
    /// sub-account and API-key management.
    fn dangerous_endpoints(&self) -> &'static [EndpointRule];

    /// The exchange's server-time endpoint.
    fn server_time(&self) -> ServerTime;

    /// Query and body parameter names and header names that carry signing material (signature,
    /// timestamp, nonce, key), which the audit layer masks. Compared case-insensitively.
    fn signing_params(&self) -> &'static [&'static str];

    /// The exchange's rate limits: budgets with documented defaults, request costs, and how to
    /// read its counters from response headers.
    fn rate_limits(&self) -> &'static RateLimitSpec {
        &RateLimitSpec::NONE
    }

    /// The order-placement endpoint and its client-order-id field, if the integration knows it.
    fn order_placement(&self) -> Option<OrderPlacement> {
        None
    }

    /// Whether the exchange rejects a nonce that is not above the last one it received for the
    /// key (Kraken), so that requests must reach it in the order they were signed: the clock
    /// layer then sends one at a time.
    fn nonce_must_increase(&self) -> bool {
        false
    }

    /// Where the exchange reports a key's permissions, IP restriction and age, if it does.
    fn key_permissions(&self) -> Option<KeyPermissionsEndpoint> {
        None
    }

    /// The signed request the preflight sends when [`key_permissions`](Self::key_permissions)
    /// is `None`, to prove that the exchange accepts the key and secret.
    fn credentials_probe(&self) -> Option<CredentialsProbe> {
        None
    }
}
