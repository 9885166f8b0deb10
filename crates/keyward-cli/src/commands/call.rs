//! `keyward call`: send a request through an exchange's full preset stack.

use super::sign::exchange_name;
use crate::{env, logging};
use bytes::Bytes;
use clap::Args;
use keyward::{Error, Preset, exchange::Exchange, transport::ReqwestTransport};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::json;
use std::{
    collections::BTreeMap,
    io::{IsTerminal, Write},
    path::PathBuf,
    process::ExitCode,
    sync::Arc,
    time::Duration,
};
use tower::ServiceExt;

/// Query values are encoded except for RFC 3986 unreserved characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The arguments of `keyward call`.
#[derive(Debug, Args)]
pub(crate) struct Call {
    /// The exchange.
    #[arg(value_parser = exchange_name)]
    exchange: &'static dyn Exchange,
    /// The HTTP method, e.g. GET or POST.
    method: String,
    /// The path, e.g. /api/v3/account.
    path: String,
    /// The exchange's base URL: a testnet, or the embedded exchange (`keyward mock`).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// A query parameter, repeatable; the value is percent-encoded.
    #[arg(long = "query", value_name = "k=v", value_parser = key_value)]
    queries: Vec<(String, String)>,
    /// The request body, exactly as it will be sent.
    #[arg(long, value_name = "STRING")]
    body: Option<String>,
    /// Send the request N times, then print a JSON summary line.
    #[arg(long, value_name = "N")]
    repeat: Option<u64>,
    /// How many requests are in flight at once with --repeat.
    #[arg(long, value_name = "C", default_value_t = 1)]
    concurrency: usize,
    /// Bound each attempt to this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    timeout: f64,
    /// Write the hash-chained audit trail to this file.
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
}

fn key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("`{text}` is not k=v"))
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "keyward call: {message}");
    ExitCode::from(2)
}

/// The outcome of a run with `--repeat`.
#[derive(Debug, Default)]
struct Summary {
    sent: u64,
    ok: u64,
    failed: u64,
    errors: BTreeMap<&'static str, u64>,
}

impl Call {
    fn url(&self) -> Result<String, String> {
        let base = self
            .base_url
            .as_deref()
            .unwrap_or(self.exchange.default_base_url())
            .trim_end_matches('/');
        super::sign::absolute_url(base)?;
        if !self.path.starts_with('/') {
            return Err(format!(
                "the path `{}` must start with /, such as /api/v3/account",
                self.path
            ));
        }
        let mut url = format!("{base}{}", self.path);
        for (i, (key, value)) in self.queries.iter().enumerate() {
            url.push(if i == 0 && !self.path.contains('?') { '?' } else { '&' });
            url.push_str(&utf8_percent_encode(key, QUERY_VALUE).to_string());
            url.push('=');
            url.push_str(&utf8_percent_encode(value, QUERY_VALUE).to_string());
        }
        Ok(url)
    }

    fn request(&self, method: &http::Method, url: &str) -> Result<http::Request<Bytes>, String> {
        let body = Bytes::from(self.body.clone().unwrap_or_default());
        let mut builder = http::Request::builder().method(method.clone()).uri(url);
        if !body.is_empty() {
            let json = body.starts_with(b"{") || body.starts_with(b"[");
            let content_type = if json {
                "application/json"
            } else {
                "application/x-www-form-urlencoded"
            };
            builder = builder.header(http::header::CONTENT_TYPE, content_type);
        }
        builder
            .body(body)
            .map_err(|err| format!("cannot build the request: {err}"))
    }

    pub(crate) fn run(self) -> ExitCode {
        if let Err(err) = logging::init_with_trail(self.audit_log.as_deref()) {
            return fail(err);
        }
        let Ok(method) = http::Method::from_bytes(self.method.to_ascii_uppercase().as_bytes()) else {
            return fail(format!("`{}` is not an HTTP method", self.method));
        };
        let url = match self.url() {
            Ok(url) => url,
            Err(message) => return fail(message),
        };
        if !(self.timeout.is_finite() && self.timeout > 0.0) {
            return fail("--timeout takes a positive number of seconds");
        }
        if self.concurrency == 0 {
            return fail("--concurrency takes a number of at least 1");
        }
        let credentials = match env::credentials(self.exchange) {
            Ok(credentials) => Arc::new(credentials),
            Err(err) => return fail(err),
        };
        // Refuse unusable credentials before anything is sent.
        if let Err(err) = self.exchange.signer(&credentials) {
            return fail(err);
        }
        let request = match self.request(&method, &url) {
            Ok(request) => request,
            Err(message) => return fail(message),
        };
        let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(err) => return fail(format!("cannot start the async runtime: {err}")),
        };
        let transport = ReqwestTransport::default().timeout(Duration::from_secs_f64(self.timeout));
        let preset = Preset::new(self.exchange, credentials);
        let client = preset.service(transport);
        runtime.block_on(async move {
            match self.repeat {
                None => match client.oneshot(request).await {
                    Ok(response) => print_body(response.body()),
                    Err(err) => {
                        let _ = writeln!(std::io::stderr(), "keyward call: {err}");
                        ExitCode::from(1)
                    }
                },
                Some(count) => {
                    let summary = repeat(client, request, count, self.concurrency).await;
                    let stats = preset.stats();
                    let line = json!({
                        "sent": summary.sent,
                        "ok": summary.ok,
                        "failed": summary.failed,
                        "errors": summary.errors,
                        "retries": stats.retries,
                        "waited_ms": u64::try_from(stats.waited.as_millis()).unwrap_or(u64::MAX),
                    });
                    let _ = writeln!(std::io::stdout(), "{line}");
                    if summary.failed == 0 {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    }
                }
            }
        })
    }
}

/// Prints a response body, which must be JSON: an exchange API answers in JSON, so anything
/// else means the base URL points somewhere else (a web page, a proxy's error page).
fn print_body(body: &[u8]) -> ExitCode {
    if serde_json::from_slice::<serde_json::Value>(body).is_err() {
        let _ = writeln!(
            std::io::stderr(),
            "keyward call: the response is not JSON ({} bytes); check that --base-url points at the exchange's API",
            body.len()
        );
        return ExitCode::from(1);
    }
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(body);
    let _ = out.write_all(b"\n");
    ExitCode::SUCCESS
}

async fn repeat<S>(client: S, request: http::Request<Bytes>, count: u64, concurrency: usize) -> Summary
where
    S: tower::Service<http::Request<Bytes>, Response = http::Response<Bytes>, Error = Error> + Clone + Send + 'static,
    S::Future: Send,
{
    let progress = (std::io::stderr().is_terminal() && count > 1).then(|| indicatif::ProgressBar::new(count));
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    let mut summary = Summary::default();
    for _ in 0..count {
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            break;
        };
        let client = client.clone();
        let request = request.clone();
        tasks.spawn(async move {
            let outcome = client.oneshot(request).await;
            drop(permit);
            outcome.map(|response| serde_json::from_slice::<serde_json::Value>(response.body()).is_ok())
        });
        summary.sent += 1;
        while let Some(done) = tasks.try_join_next() {
            tally(&mut summary, done, progress.as_ref());
        }
    }
    while let Some(done) = tasks.join_next().await {
        tally(&mut summary, done, progress.as_ref());
    }
    if let Some(progress) = progress {
        progress.finish_and_clear();
    }
    summary
}

fn tally(
    summary: &mut Summary,
    done: Result<Result<bool, Error>, tokio::task::JoinError>,
    progress: Option<&indicatif::ProgressBar>,
) {
    match done {
        Ok(Ok(true)) => summary.ok += 1,
        Ok(Ok(false)) => {
            summary.failed += 1;
            *summary.errors.entry("not_json").or_default() += 1;
        }
        Ok(Err(err)) => {
            summary.failed += 1;
            *summary.errors.entry(err.kind()).or_default() += 1;
        }
        Err(_) => {
            summary.failed += 1;
            *summary.errors.entry("panic").or_default() += 1;
        }
    }
    if let Some(progress) = progress {
        progress.inc(1);
    }
}
