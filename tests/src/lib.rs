//! Shared fixtures for keyward's cross-crate integration tests: test-only credentials for every
//! exchange in the form that exchange issues them, and a log capture at `trace` level for leak
//! checks.
//!
//! Every key, secret and passphrase here is a test fixture, not a credential of anyone.

pub mod adversary;

use base64::Engine;
use keyward::{
    Credentials,
    clock::{Clock, VirtualClock},
};
use keyward_mock::{Builder, MockCredentials, MockExchange};
use std::sync::{Arc, Mutex};

pub mod leak;

/// A test fixture key, secret and passphrase for one exchange.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The exchange's name.
    pub exchange: &'static str,
    /// The API key.
    pub api_key: String,
    /// The secret, in the form the exchange issues it.
    pub secret: String,
    /// The passphrase, for exchanges that use one.
    pub passphrase: Option<String>,
}

impl Fixture {
    /// Test-only credentials for `exchange`; `variant` makes distinct ones.
    pub fn new(exchange: &'static str, variant: u8) -> Self {
        let api_key = format!("test-only-{exchange}-key-{variant:02}-0123456789abcdef");
        let raw_secret = format!("test-only-{exchange}-secret-{variant:02}-fedcba9876543210");
        // Kraken and Coinbase issue base64 secrets; the others use the text as it is.
        let secret = match exchange {
            "kraken" | "coinbase" => base64::engine::general_purpose::STANDARD.encode(raw_secret.as_bytes()),
            _ => raw_secret,
        };
        let passphrase =
            matches!(exchange, "okx" | "coinbase" | "kucoin").then(|| format!("test-only-passphrase-{variant:02}"));
        Self {
            exchange,
            api_key,
            secret,
            passphrase,
        }
    }

    /// The same key with another secret, to sign wrongly.
    pub fn with_wrong_secret(&self) -> Self {
        let mut wrong = Self::new(self.exchange, 99);
        wrong.api_key = self.api_key.clone();
        wrong.passphrase = self.passphrase.clone();
        wrong
    }

    /// As keyward credentials.
    pub fn credentials(&self) -> Arc<Credentials> {
        let credentials = Credentials::new(self.api_key.clone(), self.secret.clone());
        Arc::new(match &self.passphrase {
            Some(passphrase) => credentials.with_passphrase(passphrase.clone()),
            None => credentials,
        })
    }

    /// As credentials the embedded exchange accepts.
    pub fn mock(&self) -> MockCredentials {
        let credentials = MockCredentials::new(self.api_key.clone(), self.secret.clone());
        match &self.passphrase {
            Some(passphrase) => credentials.with_passphrase(passphrase.clone()),
            None => credentials,
        }
    }

    /// Every form of every secret part that must never appear in output, the full API key
    /// first: raw, hex, base64 and percent-encoded, as [`leak::Needles`] lists them.
    pub fn forbidden_strings(&self) -> Vec<String> {
        leak::Needles::new().fixture(self).strings()
    }
}

/// A builder for the embedded exchange that reads its time from `clock`, so that keyward's
/// layers and the exchange share one virtual time: budget windows, `Retry-After`s and bans
/// pass in microseconds, and timestamps still agree.
pub fn mock_on(fixture: &Fixture, clock: &VirtualClock) -> Builder {
    let clock = clock.clone();
    let time = move || i64::try_from(clock.unix_millis()).unwrap_or(i64::MAX);
    MockExchange::builder(fixture.exchange)
        .unwrap_or_else(|err| panic!("{err}"))
        .credentials(fixture.mock())
        .time_source(Arc::new(time))
}

/// Everything written by a `tracing_subscriber::fmt` subscriber at `trace` level, with no
/// tripwire in between: what the tests check for leaks.
#[derive(Debug, Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// The captured text so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }

    /// A dispatch that logs everything, from every crate, into this capture (see
    /// [`scoped_dispatch`]).
    pub fn subscriber(&self) -> tracing::Dispatch {
        let capture = self.clone();
        scoped_dispatch(
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(move || capture.clone())
                .finish(),
        )
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `subscriber` as a [`tracing::Dispatch`] for a test to scope with `with_subscriber`, after
/// making sure that a second dispatch stays alive for the whole test process.
///
/// While exactly one `Dispatch` exists, tracing-core 0.1 computes a callsite's cached interest
/// from the default of whichever thread hits the callsite first (tokio-rs/tracing#3611 and
/// #2874). A thread with no subscriber, such as the mock's connection tasks, then caches
/// `Interest::never` for everyone, and a scoped capture on another thread silently loses those
/// events. With two dispatches alive, interest is computed from every registered dispatch and
/// checked per event against the current thread's default, so scoped captures on parallel
/// threads each see all of their own events.
pub fn scoped_dispatch(subscriber: impl tracing::Subscriber + Send + Sync + 'static) -> tracing::Dispatch {
    static SECOND_DISPATCH: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
    SECOND_DISPATCH.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
    tracing::Dispatch::new(subscriber)
}
