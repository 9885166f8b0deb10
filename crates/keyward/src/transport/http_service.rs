//! A transport over any tower HTTP client service, such as hyper-util's.

use super::{DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT};
use crate::{BoxError, Error, TransportError, TransportErrorKind};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use std::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};
use tower_service::Service;

/// Sends keyward's requests through any `tower::Service<http::Request<Full<Bytes>>>` whose
/// response body is an `http_body::Body`, and buffers the response up to a limit.
///
/// # Example
///
/// ```
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use keyward::transport::HttpTransport;
/// use tower::{ServiceExt, service_fn};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let client = service_fn(|_: http::Request<Full<Bytes>>| async {
///     Ok::<_, std::io::Error>(http::Response::new(Full::new(Bytes::from_static(b"{}"))))
/// });
/// let response = HttpTransport::new(client).oneshot(http::Request::new(Bytes::new())).await.unwrap();
/// assert_eq!(response.body(), "{}");
/// # });
/// ```
#[derive(Clone)]
pub struct HttpTransport<S> {
    inner: S,
    timeout: Duration,
    max_response_bytes: usize,
}

impl<S> HttpTransport<S> {
    /// Sends through `inner`.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            timeout: DEFAULT_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// Bounds each attempt, from sending to the last byte of the response.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Fails responses whose body is larger than `bytes`.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }
}

#[cfg(feature = "hyper")]
impl
    HttpTransport<hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>>
{
    /// A plain-HTTP hyper-util client with keep-alive, for loopback and testnets behind a TLS
    /// proxy. For TLS, build the client with an HTTPS connector and use [`HttpTransport::new`].
    ///
    /// # Example
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let transport = keyward::transport::HttpTransport::hyper();
    /// # let _ = transport;
    /// # });
    /// ```
    pub fn hyper() -> Self {
        Self::new(
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(hyper_util::client::legacy::connect::HttpConnector::new()),
        )
    }
}

impl<S: fmt::Debug> fmt::Debug for HttpTransport<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTransport")
            .field("inner", &self.inner)
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

fn send_error(err: BoxError) -> Error {
    #[cfg(feature = "hyper")]
    if let Some(legacy) = err.downcast_ref::<hyper_util::client::legacy::Error>() {
        if legacy.is_connect() {
            return Error::Transport(
                TransportError::new(
                    TransportErrorKind::Connect,
                    "cannot connect; check the base URL and the network",
                )
                .with_source(err),
            );
        }
    }
    Error::Transport(
        TransportError::new(
            TransportErrorKind::Io,
            "the connection failed while the request or its response was in flight",
        )
        .with_source(err),
    )
}

impl<S, B> Service<http::Request<Bytes>> for HttpTransport<S>
where
    S: Service<http::Request<Full<Bytes>>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = http::Response<Bytes>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(|err| send_error(err.into()))
    }

    fn call(&mut self, request: http::Request<Bytes>) -> Self::Future {
        // The clone is the one that was driven to readiness; the original takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let timeout = self.timeout;
        let limit = self.max_response_bytes;
        Box::pin(async move {
            let exchange = async {
                let response = inner
                    .call(request.map(Full::new))
                    .await
                    .map_err(|err| send_error(err.into()))?;
                let (parts, body) = response.into_parts();
                let collected = Limited::new(body, limit).collect().await.map_err(|err| {
                    if err.is::<http_body_util::LengthLimitError>() {
                        Error::Transport(TransportError::new(
                            TransportErrorKind::BodyTooLarge,
                            format!("the response body exceeds {limit} bytes; is the base URL an exchange API?"),
                        ))
                    } else {
                        send_error(err)
                    }
                })?;
                Ok(http::Response::from_parts(parts, collected.to_bytes()))
            };
            match tokio::time::timeout(timeout, exchange).await {
                Ok(result) => result,
                Err(_) => Err(Error::Transport(TransportError::new(
                    TransportErrorKind::Timeout,
                    format!("no complete response within {timeout:?}"),
                ))),
            }
        })
    }
}
