//! The guard as a tower layer.

use super::{GuardPolicy, policy::CompiledPolicy};
use crate::{Error, exchange::Exchange, future::ResponseFuture};
use bytes::Bytes;
use std::{
    fmt,
    sync::Arc,
    task::{Context, Poll},
};
use tower_layer::Layer;
use tower_service::Service;

/// Refuses, before anything is sent, the endpoints its [`GuardPolicy`] denies.
///
/// See the [module docs](super) for an example.
#[derive(Clone)]
pub struct GuardLayer {
    exchange: &'static dyn Exchange,
    policy: Arc<GuardPolicy>,
    /// The policy's rules split into segments once, not on every request.
    compiled: Arc<CompiledPolicy>,
}

impl GuardLayer {
    /// The default policy for `exchange`: its dangerous endpoints are denied.
    pub fn new(exchange: &'static dyn Exchange) -> Self {
        Self::with_policy(exchange, GuardPolicy::default())
    }

    /// A custom policy.
    pub fn with_policy(exchange: &'static dyn Exchange, policy: GuardPolicy) -> Self {
        Self {
            exchange,
            compiled: Arc::new(CompiledPolicy::new(&policy, exchange)),
            policy: Arc::new(policy),
        }
    }
}

impl fmt::Debug for GuardLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardLayer")
            .field("exchange", &self.exchange.name())
            .field("policy", &self.policy)
            .finish()
    }
}

impl<S> Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Guard {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`GuardLayer`].
#[derive(Clone)]
pub struct Guard<S> {
    inner: S,
    layer: GuardLayer,
}

impl<S: fmt::Debug> fmt::Debug for Guard<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("layer", &self.layer)
            .field("inner", &self.inner)
            .finish()
    }
}

impl<S> Service<http::Request<Bytes>> for Guard<S>
where
    S: Service<http::Request<Bytes>, Error = Error>,
{
    type Response = S::Response;
    type Error = Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Bytes>) -> Self::Future {
        let exchange = self.layer.exchange;
        match self.layer.compiled.check(request.method(), request.uri().path()) {
            Ok(()) => ResponseFuture::inner(self.inner.call(request)),
            Err(denied) => {
                tracing::event!(
                    target: "keyward::audit",
                    tracing::Level::WARN,
                    event = "http.denied",
                    exchange = exchange.name(),
                    method = denied.method().as_str(),
                    path = denied.path(),
                    rule = denied.rule().path.as_ref(),
                    category = %denied.rule().category,
                    outcome = "denied",
                );
                ResponseFuture::refused(denied)
            }
        }
    }
}
