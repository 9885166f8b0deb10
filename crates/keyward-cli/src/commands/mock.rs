//! `keyward mock`: run the embedded exchange in the foreground.

use super::sign::exchange_name;
use crate::env;
use clap::Args;
use keyward::{credentials::ExposeSecret, exchange::Exchange};
use keyward_mock::{MockCredentials, MockExchange};
use std::{io::Write, process::ExitCode};

/// The arguments of `keyward mock`.
#[derive(Debug, Args)]
pub(crate) struct Mock {
    /// The exchange to stand in for.
    #[arg(value_parser = exchange_name)]
    exchange: &'static dyn Exchange,
    /// The port on 127.0.0.1 (default: any free port).
    #[arg(long, value_name = "P", default_value_t = 0)]
    port: u16,
    /// Run the exchange's clock this many milliseconds ahead of the local clock (negative: behind).
    #[arg(long, value_name = "MS", default_value_t = 0, allow_hyphen_values = true)]
    offset_ms: i64,
    /// Replace the exchange's primary budget (Binance: request weight) with N units per window.
    #[arg(long, value_name = "N", requires = "weight_window_s")]
    weight_limit: Option<u64>,
    /// The window of --weight-limit, in seconds.
    #[arg(long, value_name = "S", requires = "weight_limit", value_parser = clap::value_parser!(u64).range(1..))]
    weight_window_s: Option<u64>,
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "keyward mock: {message}");
    ExitCode::from(2)
}

impl Mock {
    pub(crate) fn run(self) -> ExitCode {
        // The mock accepts the same credentials `keyward call` and `keyward sign` sign with.
        let credentials = match env::credentials(self.exchange) {
            Ok(credentials) => credentials,
            Err(err) => return fail(err),
        };
        let mut accepted = MockCredentials::new(
            credentials.api_key().expose().to_owned(),
            credentials.secret().expose_secret().to_owned(),
        );
        if let Some(passphrase) = credentials.passphrase() {
            accepted = accepted.with_passphrase(passphrase.expose_secret().to_owned());
        }
        let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(err) => return fail(format!("cannot start the async runtime: {err}")),
        };
        runtime.block_on(async {
            let builder = match MockExchange::builder(self.exchange.name()) {
                Ok(builder) => builder,
                Err(err) => return fail(err),
            };
            let mut builder = builder
                .credentials(accepted)
                .port(self.port)
                .clock_offset_ms(self.offset_ms);
            if let (Some(limit), Some(window)) = (self.weight_limit, self.weight_window_s) {
                builder = builder.weight_limit(limit, std::time::Duration::from_secs(window));
            }
            let mock = match builder.start().await {
                Ok(mock) => mock,
                Err(err) => return fail(format!("cannot start on port {}: {err}", self.port)),
            };
            let mut out = std::io::stdout().lock();
            if writeln!(out, "{}", mock.base_url()).and_then(|()| out.flush()).is_err() {
                return ExitCode::from(2);
            }
            drop(out);
            let _ = tokio::signal::ctrl_c().await;
            match mock.shutdown().await {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => fail(format!("shutdown: {err}")),
            }
        })
    }
}
