//! Turns exchange error responses into typed errors, right above the transport.
//!
//! Exchanges report errors in their own shapes, and some with HTTP 200 (Bybit's `retCode`,
//! Kraken's `error` list). [`ClassifyLayer`] asks the exchange's
//! [classifier](crate::exchange::Exchange::classify) about every response, so that every layer
//! above it (audit, retry, rate limits, clock) sees an [`Error::Exchange`] with a kind, never a
//! successful response that is in fact a rejection.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use keyward::{classify::ClassifyLayer, exchange::{self, ExchangeErrorKind}, Error};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let service = ServiceBuilder::new()
//!     .layer(ClassifyLayer::new(exchange::by_name("binance").unwrap()))
//!     .service(service_fn(|_: http::Request<Bytes>| async {
//!         Ok::<_, Error>(http::Response::builder().status(400)
//!             .body(Bytes::from_static(br#"{"code":-1022,"msg":"Signature for this request is not valid."}"#)).unwrap())
//!     }));
//! let err = service.oneshot(http::Request::new(Bytes::new())).await.unwrap_err();
//! assert_eq!(err.exchange_error().unwrap().kind, ExchangeErrorKind::InvalidSignature);
//! # });
//! ```

use crate::{Error, exchange::Exchange};
use bytes::Bytes;
use std::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};
use tower_layer::Layer;
use tower_service::Service;

/// Classifies responses with the exchange's classifier. See the [module docs](self).
#[derive(Clone)]
pub struct ClassifyLayer {
    exchange: &'static dyn Exchange,
}

impl ClassifyLayer {
    /// Classifies responses of `exchange`.
    pub fn new(exchange: &'static dyn Exchange) -> Self {
        Self { exchange }
    }
}

impl fmt::Debug for ClassifyLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClassifyLayer")
            .field("exchange", &self.exchange.name())
            .finish()
    }
}

impl<S> Layer<S> for ClassifyLayer {
    type Service = Classify<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Classify {
            inner,
            exchange: self.exchange,
        }
    }
}

/// The service of [`ClassifyLayer`].
#[derive(Clone)]
pub struct Classify<S> {
    inner: S,
    exchange: &'static dyn Exchange,
}

impl<S: fmt::Debug> fmt::Debug for Classify<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Classify")
            .field("exchange", &self.exchange.name())
            .field("inner", &self.inner)
            .finish()
    }
}

impl<S> Service<http::Request<Bytes>> for Classify<S>
where
    S: Service<http::Request<Bytes>, Response = http::Response<Bytes>, Error = Error>,
{
    type Response = http::Response<Bytes>;
    type Error = Error;
    type Future = ClassifyFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Bytes>) -> Self::Future {
        ClassifyFuture {
            inner: self.inner.call(request),
            exchange: self.exchange,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`Classify`].
    pub struct ClassifyFuture<F> {
        #[pin]
        inner: F,
        exchange: &'static dyn Exchange,
    }
}

impl<F> fmt::Debug for ClassifyFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClassifyFuture")
            .field("exchange", &self.exchange.name())
            .finish()
    }
}

impl<F> Future for ClassifyFuture<F>
where
    F: Future<Output = Result<http::Response<Bytes>, Error>>,
{
    type Output = Result<http::Response<Bytes>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = std::task::ready!(this.inner.poll(cx))?;
        Poll::Ready(
            match this
                .exchange
                .classify(response.status(), response.headers(), response.body())
            {
                Some(error) => Err(Error::Exchange(error)),
                None => Ok(response),
            },
        )
    }
}
