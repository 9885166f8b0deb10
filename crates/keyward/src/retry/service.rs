//! The retry service: the attempt loop.

use super::{
    Ambiguous,
    client_order_id::ensure_client_order_id,
    future::ResponseFuture,
    layer::Settings,
    policy::{Outcome, after_failure, is_read},
};
use crate::{Error, audit::Attempt};
use bytes::Bytes;
use std::{
    fmt,
    sync::Arc,
    task::{Context, Poll},
};
use tower::ServiceExt;
use tower_service::Service;

/// The service of [`RetryLayer`](super::RetryLayer).
#[derive(Clone)]
pub struct Retry<S> {
    inner: S,
    settings: Arc<Settings>,
}

impl<S> Retry<S> {
    pub(crate) fn new(inner: S, settings: Arc<Settings>) -> Self {
        Self { inner, settings }
    }
}

impl<S: fmt::Debug> fmt::Debug for Retry<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("settings", &self.settings)
            .field("inner", &self.inner)
            .finish()
    }
}

impl<S> Service<http::Request<Bytes>> for Retry<S>
where
    S: Service<http::Request<Bytes>, Response = http::Response<Bytes>, Error = Error> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = http::Response<Bytes>;
    type Error = Error;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Bytes>) -> Self::Future {
        // The service that was polled ready takes this request; the clone stays for the next.
        let clone = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, clone);
        ResponseFuture::new(send_with_retries(ready, Arc::clone(&self.settings), request))
    }
}

async fn send_with_retries<S>(
    mut service: S,
    settings: Arc<Settings>,
    mut request: http::Request<Bytes>,
) -> Result<http::Response<Bytes>, Error>
where
    S: Service<http::Request<Bytes>, Response = http::Response<Bytes>, Error = Error>,
{
    let read = is_read(request.method());
    // Before the first attempt, so that every attempt carries the same id.
    let client_order_id = settings
        .exchange
        .order_placement()
        .filter(|placement| placement.matches(request.method(), request.uri().path()))
        .and_then(|placement| ensure_client_order_id(&mut request, &placement));
    settings.budget.deposit();

    let mut attempt = 1;
    loop {
        let mut this_attempt = request.clone();
        this_attempt.extensions_mut().insert(Attempt(attempt));
        settings.stats.count_attempt(attempt == 1);
        let error = match service.call(this_attempt).await {
            Ok(response) => return Ok(response),
            Err(error) => error,
        };
        let at_least = match after_failure(&error, read) {
            Outcome::Fail => return Err(error),
            Outcome::Ambiguous => {
                settings.stats.count_ambiguous();
                tracing::warn!(
                    target: "keyward::retry",
                    exchange = settings.exchange.name(),
                    method = %request.method(),
                    path = request.uri().path(),
                    attempt,
                    error = error.kind(),
                    client_order_id = client_order_id.as_deref(),
                    "outcome unknown: not sent again"
                );
                return Err(Error::Ambiguous(Ambiguous::new(client_order_id, error)));
            }
            Outcome::Retry { at_least } => at_least,
        };
        // A `Retry-After` is honoured whatever its length: waiting is what the exchange asked
        // for, and the alternative, failing, leaves the caller to retry sooner. Bans are not
        // retried at all.
        if attempt >= settings.max_attempts {
            return Err(error);
        }
        if !settings.budget.withdraw() {
            settings.stats.count_budget_refusal();
            tracing::debug!(
                target: "keyward::retry",
                exchange = settings.exchange.name(),
                attempt,
                error = error.kind(),
                "retry budget spent: not retrying"
            );
            return Err(error);
        }
        let wait = settings.backoff.wait(attempt).max(at_least);
        tracing::debug!(
            target: "keyward::retry",
            exchange = settings.exchange.name(),
            attempt,
            error = error.kind(),
            wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            "retrying"
        );
        settings.clock.sleep(wait).await;
        attempt += 1;
        service.ready().await?;
    }
}
