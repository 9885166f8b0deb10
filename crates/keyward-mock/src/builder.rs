//! Configuring and starting a mock exchange.

use crate::{
    credentials::MockCredentials,
    exchange::{self, Protocol},
    running::RunningMock,
    server,
    state::State,
};
use std::{fmt, io, net::SocketAddr, sync::Arc};
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
#[derive(Debug)]
pub struct Builder {
    exchange: &'static dyn Protocol,
    credentials: Vec<MockCredentials>,
    port: u16,
    clock_offset_ms: i64,
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
        let state = Arc::new(State::new(self.exchange, keys, self.clock_offset_ms));
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], self.port))).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = server::router(Arc::clone(&state));
        let task = tokio::spawn(async move {
            // A dropped sender also stops the server: that is how dropping a RunningMock works.
            let shutdown = async {
                let _ = stopped.await;
            };
            axum::serve(listener, app).with_graceful_shutdown(shutdown).await
        });
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
