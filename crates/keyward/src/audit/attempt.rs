//! The per-attempt audit layer: one `keyward::audit` event per HTTP attempt.

use crate::{
    Error,
    audit::{REDACTED, refusal},
    exchange::Exchange,
    future::ResponseFuture,
    sign::SignedWith,
};
use bytes::Bytes;
use pin_project_lite::pin_project;
use std::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Instant,
};
use tower_layer::Layer;
use tower_service::Service;

/// Which attempt of a request this is, counted from 1: set by the retry layer, read by the
/// audit layer. A request without it is attempt 1.
///
/// # Example
///
/// ```
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(keyward::audit::Attempt(2));
/// assert_eq!(request.extensions().get::<keyward::audit::Attempt>(), Some(&keyward::audit::Attempt(2)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt(pub u32);

/// Records every HTTP attempt as one `keyward::audit` event, attributed to the enclosing
/// `#[audited]` call by its span.
///
/// The event (`event = "http.attempt"`) carries `exchange`, `method`, `path`, `query` (with the
/// exchange's signing parameters, such as `signature` and `timestamp`, masked), `status`, `code`
/// (the exchange's error code), `error` (the error kind), `latency_us`, `attempt`, `api_key` (the
/// key's fingerprint) and `outcome`. Never the secret, the passphrase, the signature or the full
/// API key: headers and bodies are not recorded.
///
/// Place it below the signing layer, so that it records what was actually sent. When the audit
/// trail fails closed, it refuses the request before it is sent.
///
/// # Example
///
/// ```
/// use bytes::Bytes;
/// use keyward::{audit::AttemptAuditLayer, exchange, Error};
/// use tower::{ServiceBuilder, ServiceExt, service_fn};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let service = ServiceBuilder::new()
///     .layer(AttemptAuditLayer::new(exchange::by_name("okx").unwrap()))
///     .service(service_fn(|_: http::Request<Bytes>| async { Ok::<_, Error>(http::Response::new(Bytes::new())) }));
/// let request = http::Request::get("https://www.okx.com/api/v5/account/balance").body(Bytes::new()).unwrap();
/// service.oneshot(request).await.unwrap();
/// # });
/// ```
#[derive(Clone)]
pub struct AttemptAuditLayer {
    exchange: &'static dyn Exchange,
}

impl AttemptAuditLayer {
    /// Audits the attempts of requests to `exchange`.
    pub fn new(exchange: &'static dyn Exchange) -> Self {
        Self { exchange }
    }
}

impl fmt::Debug for AttemptAuditLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttemptAuditLayer")
            .field("exchange", &self.exchange.name())
            .finish()
    }
}

impl<S> Layer<S> for AttemptAuditLayer {
    type Service = AttemptAudit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AttemptAudit {
            inner,
            exchange: self.exchange,
        }
    }
}

/// The service of [`AttemptAuditLayer`].
#[derive(Clone)]
pub struct AttemptAudit<S> {
    inner: S,
    exchange: &'static dyn Exchange,
}

impl<S: fmt::Debug> fmt::Debug for AttemptAudit<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttemptAudit")
            .field("exchange", &self.exchange.name())
            .field("inner", &self.inner)
            .finish()
    }
}

/// What the event needs from the request, captured before it is handed on.
struct Sent {
    exchange: &'static dyn Exchange,
    method: http::Method,
    path: String,
    query: String,
    attempt: u32,
    api_key: Option<SignedWith>,
    started: Instant,
}

impl<S> Service<http::Request<Bytes>> for AttemptAudit<S>
where
    S: Service<http::Request<Bytes>, Response = http::Response<Bytes>, Error = Error>,
{
    type Response = http::Response<Bytes>;
    type Error = Error;
    type Future = AttemptFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Bytes>) -> Self::Future {
        let enabled = tracing::enabled!(target: "keyward::audit", tracing::Level::INFO);
        let sent = enabled.then(|| Sent {
            exchange: self.exchange,
            method: request.method().clone(),
            path: request.uri().path().to_owned(),
            query: masked_query(request.uri().query().unwrap_or(""), self.exchange.signing_params()),
            attempt: request.extensions().get::<Attempt>().map_or(1, |a| a.0),
            api_key: request.extensions().get::<SignedWith>().copied(),
            started: Instant::now(),
        });
        if enabled {
            if let Some(refused) = refusal() {
                let future = AttemptFuture {
                    inner: ResponseFuture::refused(refused),
                    sent,
                };
                return future;
            }
        }
        AttemptFuture {
            inner: ResponseFuture::inner(self.inner.call(request)),
            sent,
        }
    }
}

pin_project! {
    /// The response future of [`AttemptAudit`]: emits the event when the attempt ends.
    pub struct AttemptFuture<F> {
        #[pin]
        inner: ResponseFuture<F>,
        sent: Option<Sent>,
    }
}

impl<F> fmt::Debug for AttemptFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttemptFuture").finish_non_exhaustive()
    }
}

impl<F> Future for AttemptFuture<F>
where
    F: Future<Output = Result<http::Response<Bytes>, Error>>,
{
    type Output = Result<http::Response<Bytes>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let Some(sent) = this.sent.take() {
            record(&sent, &result);
        }
        Poll::Ready(result)
    }
}

fn record(sent: &Sent, result: &Result<http::Response<Bytes>, Error>) {
    let latency_us = u64::try_from(sent.started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let (outcome, status, code, error) = match result {
        Ok(response) => ("ok", Some(response.status().as_u16()), None, None),
        Err(Error::Exchange(err)) => ("err", Some(err.status), err.code.as_deref(), Some(err.kind.as_str())),
        Err(err) => ("err", None, None, Some(err.kind())),
    };
    let api_key = sent.api_key.map(|signed| tracing::field::display(signed.0));
    tracing::event!(
        target: "keyward::audit",
        tracing::Level::INFO,
        event = "http.attempt",
        exchange = sent.exchange.name(),
        method = sent.method.as_str(),
        path = sent.path.as_str(),
        query = sent.query.as_str(),
        status,
        code,
        error,
        latency_us,
        attempt = sent.attempt,
        api_key,
        outcome,
    );
}

/// The query with the value of every signing parameter replaced by `[REDACTED]`.
///
/// One pass over the bytes into one buffer: it runs for every attempt while the audit target is
/// enabled.
pub(crate) fn masked_query(query: &str, signing_params: &[&str]) -> String {
    let mut masked = String::with_capacity(query.len() + 16);
    // Plain byte scans for the delimiters (both ASCII, so every cut is a character boundary):
    // cheaper than `str::split` on queries this short.
    let mut start = 0;
    loop {
        let end = query.as_bytes()[start..]
            .iter()
            .position(|byte| *byte == b'&')
            .map_or(query.len(), |offset| start + offset);
        let pair = &query[start..end];
        let name = &pair[..pair.bytes().position(|byte| byte == b'=').unwrap_or(pair.len())];
        if signing_params.iter().any(|param| param.eq_ignore_ascii_case(name)) {
            masked.push_str(name);
            masked.push('=');
            masked.push_str(REDACTED);
        } else {
            masked.push_str(pair);
        }
        if end == query.len() {
            return masked;
        }
        masked.push('&');
        start = end + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_parameters_are_masked_in_place() {
        assert_eq!(
            masked_query("symbol=BTCUSDT&timestamp=1&signature=abc", &["signature", "timestamp"]),
            "symbol=BTCUSDT&timestamp=[REDACTED]&signature=[REDACTED]"
        );
        assert_eq!(masked_query("", &["signature"]), "");
        assert_eq!(masked_query("Signature=x", &["signature"]), "Signature=[REDACTED]");
        assert_eq!(
            masked_query("a=1&&signature&b=&signature=x=y&", &["signature"]),
            "a=1&&signature=[REDACTED]&b=&signature=[REDACTED]&"
        );
    }
}
