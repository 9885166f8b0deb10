//! The preflight's settings and its one entry point.

use super::{Check, Report, clock, egress, hygiene, permissions};
use crate::{
    clock::{Clock, SystemClock},
    credentials::{KeyAgePolicy, sources::Loaded},
    exchange::Exchange,
};
use bytes::Bytes;
use std::{fmt, sync::Arc, time::Duration};
use tower::{Service, ServiceExt};

/// What the preflight sends through: any keyward transport (`ReqwestTransport`,
/// `HttpTransport`), or a test double.
pub trait Transport:
    Service<http::Request<Bytes>, Response = http::Response<Bytes>, Error = crate::Error, Future: Send>
    + Clone
    + Send
    + Sync
{
}

impl<T> Transport for T where
    T: Service<http::Request<Bytes>, Response = http::Response<Bytes>, Error = crate::Error, Future: Send>
        + Clone
        + Send
        + Sync
{
}

/// The preflight's settings. The defaults are the safe ones: a key that can withdraw or
/// transfer, or that is not IP-restricted, fails.
///
/// # Example
///
/// ```
/// use keyward::check::Options;
/// use std::time::Duration;
///
/// let options = Options::new()
///     .base_url("https://testnet.binance.vision")
///     .expect_ip("203.0.113.7")
///     .ip_echo_url("https://api.ipify.org?format=json")
///     .clock_tolerance(Duration::from_millis(500), Duration::from_secs(1));
/// # let _ = options;
/// ```
#[derive(Clone)]
pub struct Options {
    pub(super) base_url: Option<String>,
    pub(super) expect_ips: Vec<String>,
    pub(super) ip_echo_url: Option<String>,
    pub(super) ntp: Option<String>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) clock_warn: Duration,
    pub(super) clock_fail: Duration,
    pub(super) allow_withdrawals: bool,
    pub(super) allow_transfers: bool,
    pub(super) allow_unrestricted_ip: bool,
    pub(super) key_age: KeyAgePolicy,
}

/// The clock offset beyond which the preflight warns: Binance refuses requests 1 s ahead.
pub const DEFAULT_CLOCK_WARNING: Duration = Duration::from_secs(1);
/// The clock offset beyond which the preflight fails: Binance's default `recvWindow`, 5 s.
pub const DEFAULT_CLOCK_FAILURE: Duration = Duration::from_secs(5);

impl Options {
    /// The safe defaults: the exchange's production URL, no egress check, the system clock,
    /// warn beyond 1 s and fail beyond 5 s of clock offset, nothing dangerous allowed, keys
    /// warned about from 30 days and refused from 90.
    pub fn new() -> Self {
        Self {
            base_url: None,
            expect_ips: Vec::new(),
            ip_echo_url: None,
            ntp: None,
            clock: Arc::new(SystemClock),
            clock_warn: DEFAULT_CLOCK_WARNING,
            clock_fail: DEFAULT_CLOCK_FAILURE,
            allow_withdrawals: false,
            allow_transfers: false,
            allow_unrestricted_ip: false,
            key_age: KeyAgePolicy::default(),
        }
    }

    /// Asks this base URL (a testnet, the embedded exchange) instead of the production one.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Expects this process to leave from `ip`; may be given several times.
    pub fn expect_ip(mut self, ip: impl Into<String>) -> Self {
        self.expect_ips.push(ip.into());
        self
    }

    /// Learns the egress IP from this endpoint: `{"ip": "..."}` or plain text.
    pub fn ip_echo_url(mut self, url: impl Into<String>) -> Self {
        self.ip_echo_url = Some(url.into());
        self
    }

    /// Also compares the host clock with this NTP server (`host`, `host:port`).
    pub fn ntp(mut self, server: impl Into<String>) -> Self {
        self.ntp = Some(server.into());
        self
    }

    /// Reads local time from `clock` instead of the system clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Warns beyond `warn` of clock offset, fails beyond `fail` (raised to `warn` if lower).
    pub fn clock_tolerance(mut self, warn: Duration, fail: Duration) -> Self {
        self.clock_warn = warn;
        self.clock_fail = fail.max(warn);
        self
    }

    /// Lets a key that can withdraw pass with a warning. Only for a bot whose job is to withdraw.
    pub fn allow_withdrawals(mut self, allow: bool) -> Self {
        self.allow_withdrawals = allow;
        self
    }

    /// Lets a key that can transfer between accounts pass with a warning.
    pub fn allow_transfers(mut self, allow: bool) -> Self {
        self.allow_transfers = allow;
        self
    }

    /// Lets a key usable from any IP pass with a warning.
    pub fn allow_unrestricted_ip(mut self, allow: bool) -> Self {
        self.allow_unrestricted_ip = allow;
        self
    }

    /// The key-age policy (default: warn from 30 days, fail from 90).
    pub fn key_age(mut self, policy: KeyAgePolicy) -> Self {
        self.key_age = policy;
        self
    }
}

impl Default for Options {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("base_url", &self.base_url)
            .field("expect_ips", &self.expect_ips)
            .field("ip_echo_url", &self.ip_echo_url)
            .field("ntp", &self.ntp)
            .field("clock_warn", &self.clock_warn)
            .field("clock_fail", &self.clock_fail)
            .field("allow_withdrawals", &self.allow_withdrawals)
            .field("allow_transfers", &self.allow_transfers)
            .field("allow_unrestricted_ip", &self.allow_unrestricted_ip)
            .field("key_age", &self.key_age)
            .finish_non_exhaustive()
    }
}

/// Runs every check for `exchange` with the `loaded` credentials, sending through `transport`.
///
/// The checks run in order: credential hygiene, clock, authentication (one signed request,
/// signed for the exchange's time, that the exchange must accept), key permissions, IP
/// restriction and key age (from that request's answer, `warn` where the exchange does not
/// report them), egress IP. The report never holds a secret, a passphrase or a full key.
pub async fn preflight<T: Transport>(
    exchange: &'static dyn Exchange,
    loaded: &Loaded,
    options: &Options,
    transport: T,
) -> Report {
    let base_url = options
        .base_url
        .as_deref()
        .unwrap_or(exchange.default_base_url())
        .trim_end_matches('/')
        .to_owned();
    let mut checks: Vec<Check> = vec![hygiene::check(&loaded.provenance, loaded.credentials.fingerprint())];

    let tolerance = (options.clock_warn, options.clock_fail);
    let (clock_check, offset) = clock::check(exchange, &base_url, options.clock.as_ref(), tolerance, &transport).await;
    checks.push(clock_check);
    if let Some(server) = &options.ntp {
        checks.push(super::ntp(server, tolerance).await);
    }

    // Signed for the exchange's time, so that a skewed host still learns what its key may do.
    let now = options.clock.unix_millis();
    let exchange_now = offset.map_or(now, |offset| now.saturating_add_signed(offset));
    let (permission_checks, reported) =
        permissions::checks(exchange, &base_url, loaded, exchange_now, options, &transport).await;
    checks.extend(permission_checks);

    checks.push(egress::check(options, reported.as_ref(), &transport).await);
    Report {
        exchange: exchange.name(),
        checks,
    }
}

/// `GET base + path`, prepared by `prepare` (signing), through `transport`; a failure as a
/// sentence fragment without the URL (it may carry signed parameters).
pub(super) async fn get<T: Transport>(
    transport: &T,
    base: &str,
    path: &str,
    prepare: impl FnOnce(&mut http::Request<Bytes>) -> Result<(), String>,
) -> Result<http::Response<Bytes>, String> {
    send(transport, http::Method::GET, base, path, Bytes::new(), prepare).await
}

/// `method base + path` with `body`, prepared by `prepare` (signing), through `transport`; a
/// `POST` is sent form-encoded (the signer may add a nonce to its body). A failure as a sentence
/// fragment without the URL.
pub(super) async fn send<T: Transport>(
    transport: &T,
    method: http::Method,
    base: &str,
    path: &str,
    body: Bytes,
    prepare: impl FnOnce(&mut http::Request<Bytes>) -> Result<(), String>,
) -> Result<http::Response<Bytes>, String> {
    let url = format!("{base}{path}");
    let form = method == http::Method::POST;
    let mut builder = http::Request::builder().method(method).uri(url.as_str());
    if form {
        builder = builder.header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let mut request = builder.body(body).map_err(|_| format!("`{base}` is not a valid URL"))?;
    prepare(&mut request)?;
    transport.clone().oneshot(request).await.map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;

    fn assert_send<F: Future + Send>(_: F) {}

    /// A bot may spawn the preflight on a multi-threaded runtime.
    #[test]
    fn the_preflight_future_is_send() {
        let exchange = crate::exchange::by_name("binance");
        let loaded = crate::credentials::sources::Loaded {
            credentials: crate::Credentials::new("test-only-key-0123456789", "test-only-secret"),
            provenance: crate::credentials::sources::Provenance::new(crate::credentials::sources::SourceKind::Memory),
        };
        let transport = tower::service_fn(|_: http::Request<Bytes>| async {
            Ok::<_, crate::Error>(http::Response::new(Bytes::new()))
        });
        if let Some(exchange) = exchange {
            assert_send(preflight(exchange, &loaded, &Options::new(), transport));
        }
    }
}
