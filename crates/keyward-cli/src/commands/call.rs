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
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
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
    /// Send the request N times, then print a JSON summary line: requests sent, ok and failed
    /// (by kind), retries, time waited for rate limits, and the whole run's time (elapsed_ms).
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
                    let started = Instant::now();
                    let summary = repeat(client, request, count, self.concurrency).await;
                    let elapsed = started.elapsed();
                    let stats = preset.stats();
                    let line = json!({
                        "sent": summary.sent,
                        "ok": summary.ok,
                        "failed": summary.failed,
                        "errors": summary.errors,
                        "retries": stats.retries,
                        "waited_ms": u64::try_from(stats.waited.as_millis()).unwrap_or(u64::MAX),
                        "elapsed_ms": elapsed_ms(elapsed),
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

/// Milliseconds to the microsecond: a short run's rate would be coarse in whole milliseconds.
fn elapsed_ms(elapsed: Duration) -> f64 {
    (elapsed.as_micros() as f64) / 1_000.0
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
    // `concurrency` workers that each send one request after the other, rather than one task
    // per request: no spawn, semaphore permit or join per request, and nothing that grows
    // with `count`.
    let claimed = Arc::new(AtomicU64::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..u64::try_from(concurrency).unwrap_or(u64::MAX).min(count) {
        let (client, request, claimed, progress) =
            (client.clone(), request.clone(), Arc::clone(&claimed), progress.clone());
        workers.spawn(async move {
            let mut summary = Summary::default();
            while claimed.fetch_add(1, Ordering::Relaxed) < count {
                summary.sent += 1;
                let outcome = client.clone().oneshot(request.clone()).await;
                tally(&mut summary, outcome.map(|response| is_json(response.body())));
                if let Some(progress) = &progress {
                    progress.inc(1);
                }
            }
            summary
        });
    }
    let mut summary = Summary::default();
    while let Some(done) = workers.join_next().await {
        if let Ok(part) = done {
            summary.add(part);
        }
    }
    // A worker that panicked took its tally with it: what it sent counts as failed.
    summary.count_lost(claimed.load(Ordering::Relaxed).min(count));
    if let Some(progress) = progress {
        progress.finish_and_clear();
    }
    summary
}

/// Whether `body` is one JSON value, checked without building it.
fn is_json(body: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
}

fn tally(summary: &mut Summary, outcome: Result<bool, Error>) {
    match outcome {
        Ok(true) => summary.ok += 1,
        Ok(false) => summary.fail("not_json", 1),
        Err(err) => summary.fail(err.kind(), 1),
    }
}

impl Summary {
    fn fail(&mut self, kind: &'static str, count: u64) {
        self.failed += count;
        *self.errors.entry(kind).or_default() += count;
    }

    /// Adds one worker's tally.
    fn add(&mut self, part: Summary) {
        self.sent += part.sent;
        self.ok += part.ok;
        self.failed += part.failed;
        for (kind, count) in part.errors {
            *self.errors.entry(kind).or_default() += count;
        }
    }

    /// Counts the requests that were claimed but are in no worker's tally as sent and failed.
    fn count_lost(&mut self, claimed: u64) {
        let lost = claimed.saturating_sub(self.sent);
        if lost > 0 {
            self.sent += lost;
            self.fail("panic", lost);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// A service that answers after yielding, JSON for most requests and HTML for every tenth,
    /// and records how many requests were in flight at most.
    fn counting_service(
        calls: Arc<AtomicU64>,
        in_flight: Arc<AtomicUsize>,
        most_in_flight: Arc<AtomicUsize>,
    ) -> impl tower::Service<
        http::Request<Bytes>,
        Response = http::Response<Bytes>,
        Error = Error,
        Future = impl Future<Output = Result<http::Response<Bytes>, Error>> + Send,
    > + Clone
    + Send
    + 'static {
        tower::service_fn(move |_request: http::Request<Bytes>| {
            let (calls, in_flight, most_in_flight) =
                (Arc::clone(&calls), Arc::clone(&in_flight), Arc::clone(&most_in_flight));
            async move {
                let call = calls.fetch_add(1, Ordering::SeqCst);
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most_in_flight.fetch_max(now, Ordering::SeqCst);
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
                in_flight.fetch_sub(1, Ordering::SeqCst);
                let body = if call % 10 == 9 {
                    "<html>busy</html>"
                } else {
                    r#"{"balances":[]}"#
                };
                Ok::<_, Error>(http::Response::new(Bytes::from(body)))
            }
        })
    }

    #[tokio::test]
    async fn repeat_sends_exactly_n_with_c_in_flight_and_tallies_each() {
        let calls = Arc::new(AtomicU64::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let service = counting_service(Arc::clone(&calls), Arc::default(), Arc::clone(&most));
        let summary = repeat(service, http::Request::new(Bytes::new()), 200, 8).await;
        assert_eq!(calls.load(Ordering::SeqCst), 200);
        assert_eq!((summary.sent, summary.ok, summary.failed), (200, 180, 20));
        assert_eq!(summary.errors.get("not_json"), Some(&20));
        assert_eq!(most.load(Ordering::SeqCst), 8, "requests in flight at most");
    }

    #[tokio::test]
    async fn fewer_requests_than_workers_are_each_sent_once() {
        let calls = Arc::new(AtomicU64::new(0));
        let service = counting_service(Arc::clone(&calls), Arc::default(), Arc::default());
        let summary = repeat(service, http::Request::new(Bytes::new()), 3, 8).await;
        assert_eq!((calls.load(Ordering::SeqCst), summary.sent, summary.ok), (3, 3, 3));
    }

    #[test]
    fn requests_lost_with_a_panicked_worker_count_as_failed() {
        let mut summary = Summary {
            sent: 7,
            ok: 7,
            ..Summary::default()
        };
        summary.count_lost(10);
        assert_eq!((summary.sent, summary.ok, summary.failed), (10, 7, 3));
        assert_eq!(summary.errors.get("panic"), Some(&3));
        summary.count_lost(10);
        assert_eq!(summary.sent, 10, "nothing more is lost");
    }
}
