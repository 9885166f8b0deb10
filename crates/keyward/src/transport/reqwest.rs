//! A transport over `reqwest::Client`.

use super::{DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT};
use crate::{Error, TransportError, TransportErrorKind};
use bytes::{Bytes, BytesMut};
use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};
use tower_service::Service;

/// Sends keyward's requests through a `reqwest::Client`.
///
/// # Example
///
/// ```
/// use keyward::transport::ReqwestTransport;
/// use std::time::Duration;
///
/// let transport = ReqwestTransport::new(reqwest::Client::new())
///     .timeout(Duration::from_secs(5))
///     .max_response_bytes(1 << 20);
/// # let _ = transport;
/// ```
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    timeout: Duration,
    max_response_bytes: usize,
}

impl ReqwestTransport {
    /// Sends through `client`.
    pub fn new(client: reqwest::Client) -> Self {
        Self {
            client,
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

impl Default for ReqwestTransport {
    fn default() -> Self {
        Self::new(reqwest::Client::new())
    }
}

fn transport_error(err: reqwest::Error) -> Error {
    let kind = if err.is_connect() {
        TransportErrorKind::Connect
    } else if err.is_timeout() {
        TransportErrorKind::Timeout
    } else if err.is_builder() {
        TransportErrorKind::InvalidRequest
    } else {
        TransportErrorKind::Io
    };
    let message = match kind {
        TransportErrorKind::Connect => "cannot connect; check the base URL and the network",
        TransportErrorKind::Timeout => "no complete response within the timeout",
        TransportErrorKind::InvalidRequest => "the request cannot be sent as it is",
        _ => "the connection failed while the request or its response was in flight",
    };
    // reqwest's own message names the URL, which carries signed query parameters: leave it out.
    Error::Transport(TransportError::new(kind, message).with_source(err.without_url()))
}

impl Service<http::Request<Bytes>> for ReqwestTransport {
    type Response = http::Response<Bytes>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Bytes>) -> Self::Future {
        let client = self.client.clone();
        let timeout = self.timeout;
        let limit = self.max_response_bytes;
        Box::pin(async move {
            let request = reqwest::Request::try_from(request).map_err(|err| {
                Error::Transport(
                    TransportError::new(TransportErrorKind::InvalidRequest, "the URL is not valid for reqwest")
                        .with_source(err.without_url()),
                )
            })?;
            let exchange = async {
                let mut response = client.execute(request).await.map_err(transport_error)?;
                let mut builder = http::Response::builder()
                    .status(response.status())
                    .version(response.version());
                if let Some(headers) = builder.headers_mut() {
                    *headers = std::mem::take(response.headers_mut());
                }
                let mut body = BytesMut::new();
                while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
                    if body.len() + chunk.len() > limit {
                        return Err(Error::Transport(TransportError::new(
                            TransportErrorKind::BodyTooLarge,
                            format!("the response body exceeds {limit} bytes; is the base URL an exchange API?"),
                        )));
                    }
                    body.extend_from_slice(&chunk);
                }
                builder.body(body.freeze()).map_err(|err| {
                    Error::Transport(TransportError::new(TransportErrorKind::Io, "invalid response").with_source(err))
                })
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
