//! The response future of the clock-correction service.

use crate::Error;
use bytes::Bytes;
use std::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

type Inner = Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, Error>> + Send>>;

/// The response future of [`ClockCorrection`](super::ClockCorrection).
///
/// Boxed: one request may wait for a probe, send, resync and send again, a sequence of awaits
/// that a hand-written state machine would only obscure.
pub struct ResponseFuture {
    inner: Inner,
}

impl ResponseFuture {
    pub(super) fn new(future: impl Future<Output = Result<http::Response<Bytes>, Error>> + Send + 'static) -> Self {
        Self {
            inner: Box::pin(future),
        }
    }
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl Future for ResponseFuture {
    type Output = Result<http::Response<Bytes>, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}
