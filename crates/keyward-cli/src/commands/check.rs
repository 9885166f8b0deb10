//! `keyward check`: the preflight, one line per check, or one JSON object with `--json`.

use super::sign::{absolute_url, exchange_name};
use crate::env;
use clap::Args;
use keyward::{
    check::{Options, preflight},
    exchange::Exchange,
    transport::ReqwestTransport,
};
use std::{io::Write, process::ExitCode, time::Duration};

/// The arguments of `keyward check`.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The exchange.
    #[arg(value_parser = exchange_name)]
    exchange: &'static dyn Exchange,
    /// The exchange's base URL: a testnet, or the embedded exchange (`keyward mock`).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// A public IP this host must leave from; repeatable. Needs --ip-echo-url.
    #[arg(long = "expect-ip", value_name = "IP")]
    expect_ips: Vec<std::net::IpAddr>,
    /// An endpoint that answers this host's public IP, as {"ip": "..."} or plain text
    /// (e.g. https://api.ipify.org?format=json).
    #[arg(long, value_name = "URL")]
    ip_echo_url: Option<String>,
    /// An NTP server to compare the host clock with (not built in yet: reported as a warning).
    #[arg(long, value_name = "HOST")]
    ntp: Option<String>,
    /// Print one JSON object instead of one line per check.
    #[arg(long)]
    json: bool,
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "keyward check: {message}");
    ExitCode::from(2)
}

impl CheckArgs {
    pub(crate) fn run(self) -> ExitCode {
        for url in self.base_url.iter().chain(&self.ip_echo_url) {
            if let Err(message) = absolute_url(url) {
                return fail(message);
            }
        }
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(err) => return fail(format!("cannot start the async runtime: {err}")),
        };
        let loaded = match runtime.block_on(env::load(self.exchange)) {
            Ok(loaded) => loaded,
            Err(err) => return fail(err),
        };
        let mut options = Options::new();
        if let Some(url) = &self.base_url {
            options = options.base_url(url.clone());
        }
        if let Some(url) = &self.ip_echo_url {
            options = options.ip_echo_url(url.clone());
        }
        if let Some(server) = &self.ntp {
            options = options.ntp(server.clone());
        }
        for ip in &self.expect_ips {
            options = options.expect_ip(ip.to_string());
        }
        let transport = ReqwestTransport::default().timeout(Duration::from_secs(10));
        let report = runtime.block_on(preflight(self.exchange, &loaded, &options, transport));
        let text = if self.json {
            format!("{}\n", report.to_json())
        } else {
            report.to_string()
        };
        if std::io::stdout().lock().write_all(text.as_bytes()).is_err() {
            return ExitCode::from(2);
        }
        if report.ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    }
}
