//! The response future of the retry layer.

use crate::Error;
use bytes::Bytes;
use std::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

type Attempts = Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, Error>> + Send + 'static>>;

/// The response future of [`Retry`](super::Retry): every attempt of one request, and the waits
/// between them.
///
/// It is boxed: the attempt loop awaits the inner service and the clock in turn, and a hand-written
/// state machine for that would be long and easy to get wrong for one allocation per request.
pub struct ResponseFuture {
    attempts: Attempts,
}

impl ResponseFuture {
    pub(crate) fn new(attempts: impl Future<Output = Result<http::Response<Bytes>, Error>> + Send + 'static) -> Self {
        Self {
            attempts: Box::pin(attempts),
        }
    }
}

impl Future for ResponseFuture {
    type Output = Result<http::Response<Bytes>, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.attempts.as_mut().poll(cx)
    }
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
