//! Configuring and starting a mock exchange.

use crate::{
    clock::{Clock, TimeSource},
    credentials::MockCredentials,
    exchange::{self, Protocol},
    faults::{FaultPlan, Faults},
    limits::Limits,
    permissions::MockKeyPermissions,
    running::RunningMock,
    server,
    state::State,
};
use std::{collections::HashMap, fmt, io, net::SocketAddr, sync::Arc, time::Duration};
use tokio::net::TcpListener;

/// Entry point: a mock of one exchange, configured through its [`Builder`].
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use keyward_mock::{MockCredentials, MockExchange};
///
/// let mock = MockExchange::builder("okx")?
///     .credentials(MockCredentials::new("test-only-key-0001", "test-only-secret").with_passphrase("test-only-pass"))
///     .clock_offset_ms(-2_000)
///     .start()
///     .await?;
/// assert!(mock.base_url().starts_with("http://127.0.0.1:"));
/// assert!(MockExchange::builder("mtgox").is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct MockExchange;

impl MockExchange {
    /// A builder for the exchange called `name`: one of [`MockExchange::names`].
    pub fn builder(name: &str) -> Result<Builder, UnknownExchange> {
        let exchange = exchange::by_name(name).ok_or_else(|| UnknownExchange { name: name.to_owned() })?;
        Ok(Builder {
            exchange,
            credentials: Vec::new(),
            port: 0,
            clock_offset_ms: 0,
            time_source: None,
            primary_budget: None,
            rate_limited: true,
            fault_plan: None,
            key_permissions: HashMap::new(),
        })
    }

    /// The exchanges the mock stands in for, in alphabetical order.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(keyward_mock::MockExchange::names().len(), 8);
    /// ```
    pub fn names() -> Vec<&'static str> {
        exchange::names()
    }
}

/// Settings of a mock exchange before it starts.
pub struct Builder {
    exchange: &'static dyn Protocol,
    credentials: Vec<MockCredentials>,
    port: u16,
    clock_offset_ms: i64,
    time_source: Option<TimeSource>,
    primary_budget: Option<(u64, i64)>,
    rate_limited: bool,
    fault_plan: Option<FaultPlan>,
    /// Set by `Builder::key_permissions` (permissions.rs).
    pub(crate) key_permissions: HashMap<String, MockKeyPermissions>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("exchange", &self.exchange.name())
            .field("credentials", &self.credentials)
            .field("port", &self.port)
            .field("clock_offset_ms", &self.clock_offset_ms)
            .field("time_source", &self.time_source.as_ref().map(|_| "injected"))
            .field("primary_budget", &self.primary_budget)
            .field("rate_limited", &self.rate_limited)
            .field("fault_plan", &self.fault_plan)
            .field("key_permissions", &self.key_permissions)
            .finish()
    }
}

impl Builder {
    /// Accepts this key. May be called several times: every key given is accepted.
    pub fn credentials(mut self, credentials: MockCredentials) -> Self {
        self.credentials.push(credentials);
        self
    }

    /// Listens on this port of 127.0.0.1; the default, 0, takes any free port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Runs the exchange's clock this many milliseconds ahead of the local clock (negative:
    /// behind). Also adjustable while running, with [`RunningMock::set_clock_offset_ms`].
    pub fn clock_offset_ms(mut self, offset_ms: i64) -> Self {
        self.clock_offset_ms = offset_ms;
        self
    }

    /// Takes the base of the exchange's clock from `now_ms` (Unix milliseconds) instead of the
    /// system clock; the [offset](Self::clock_offset_ms) still applies on top. Every window,
    /// decay, ban and timestamp check of the mock reads this clock, so a test can drive the mock
    /// and keyward's `VirtualClock` from one source of time, without sleeping.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::sync::{Arc, atomic::{AtomicI64, Ordering}};
    ///
    /// let now = Arc::new(AtomicI64::new(1_700_000_000_000));
    /// let source = Arc::clone(&now);
    /// let mock = keyward_mock::MockExchange::builder("binance")?
    ///     .time_source(Arc::new(move || source.load(Ordering::SeqCst)))
    ///     .clock_offset_ms(3_000)
    ///     .start()
    ///     .await?;
    /// assert_eq!(mock.now_ms(), 1_700_000_003_000);
    /// now.fetch_add(60_000, Ordering::SeqCst);
    /// assert_eq!(mock.now_ms(), 1_700_000_063_000);
    /// # Ok(())
    /// # }
    /// ```
    pub fn time_source(mut self, now_ms: Arc<dyn Fn() -> i64 + Send + Sync>) -> Self {
        self.time_source = Some(now_ms);
        self
    }

    /// Replaces the exchange's primary rate-limit budget: `limit` units (requests, or weight
    /// where the exchange counts weight) per `window`, for tight-budget tests and
    /// `keyward mock --weight-limit N --weight-window-s S`.
    ///
    /// The primary budget is Binance's `REQUEST_WEIGHT` (its order counts and raw-request limit
    /// stay as documented), BitMEX's request bucket (not its per-second order limit), and every
    /// budget of the others: each endpoint's on Bybit, OKX and Gate, both resource pools on
    /// KuCoin, both buckets on Coinbase, and Kraken's call counter. A budget keeps its kind: a
    /// window stays a window, a bucket or decaying counter refills `limit` units per `window`.
    /// A limit of 0 counts as 1, a window shorter than a millisecond as one millisecond.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// let mock = keyward_mock::MockExchange::builder("binance")?
    ///     .weight_limit(40, Duration::from_secs(10))
    ///     .start()
    ///     .await?;
    /// let url = format!("{}/api/v3/exchangeInfo", mock.base_url());
    /// let answer = reqwest::get(&url).await?;
    /// assert_eq!(answer.headers()["x-mbx-used-weight-10s"], "20");
    /// let info: serde_json::Value = answer.json().await?;
    /// assert_eq!(info["rateLimits"][0]["limit"], 40);
    /// assert_eq!(info["rateLimits"][0]["interval"], "SECOND");
    /// assert_eq!(info["rateLimits"][0]["intervalNum"], 10);
    /// # Ok(())
    /// # }
    /// ```
    pub fn weight_limit(mut self, limit: u64, window: Duration) -> Self {
        let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX).max(1);
        self.primary_budget = Some((limit.max(1), window_ms));
        self
    }

    /// Lifts every rate limit: no budget, no rate-limit header, no 429 and no ban, and Binance's
    /// `exchangeInfo` lists no `rateLimits`. For tests about something else (signing, say) that
    /// send faster than the exchange allows. Overrides [`weight_limit`](Self::weight_limit).
    pub fn without_rate_limits(mut self) -> Self {
        self.rate_limited = false;
        self
    }

    /// Draws faults at random from `plan` for every request that finds no injected fault
    /// queued. Also adjustable while running, with [`RunningMock::set_fault_plan`].
    pub fn fault_plan(mut self, plan: FaultPlan) -> Self {
        self.fault_plan = Some(plan);
        self
    }

    /// Binds 127.0.0.1 and serves until the returned [`RunningMock`] is shut down or dropped.
    ///
    /// Fails with [`io::ErrorKind::InvalidInput`] for credentials the exchange could never have
    /// issued (a Kraken secret that is not base64, a Binance PEM that is not an Ed25519 key), and
    /// with the bind error if the port is taken.
    pub async fn start(self) -> Result<RunningMock, io::Error> {
        let mut keys = Vec::with_capacity(self.credentials.len());
        for credentials in self.credentials {
            let key = self
                .exchange
                .prepare_key(credentials)
                .map_err(|problem| io::Error::new(io::ErrorKind::InvalidInput, problem))?;
            keys.push(key);
        }
        let state = Arc::new(
            State::new(
                self.exchange,
                keys,
                Clock::new(self.clock_offset_ms, self.time_source),
                Faults::new(self.fault_plan),
                if self.rate_limited {
                    Limits::new(self.exchange.budgets(), self.primary_budget)
                } else {
                    Limits::new(&[], None)
                },
            )
            .with_key_permissions(self.key_permissions),
        );
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], self.port))).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(listener, Arc::clone(&state), stopped));
        Ok(RunningMock::new(addr, state, stop, task))
    }
}

/// The name given to [`MockExchange::builder`] is not an exchange the mock knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownExchange {
    name: String,
}

impl fmt::Display for UnknownExchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown exchange `{}`: the mock knows {}",
            self.name,
            exchange::names().join(", ")
        )
    }
}

impl std::error::Error for UnknownExchange {}
