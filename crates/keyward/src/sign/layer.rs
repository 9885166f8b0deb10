//! The signing layer: signs every attempt afresh, with the credentials current at that moment.

use super::{NoTrace, Signer, SigningContext};
use crate::{
    Credentials, Error,
    credentials::{CredentialSource, Fingerprint},
    exchange::Exchange,
    future::ResponseFuture,
};
use bytes::Bytes;
use std::{
    fmt,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::{SystemTime, UNIX_EPOCH},
};
use tower_layer::Layer;
use tower_service::Service;

/// Which key signed a request: put in the request's extensions by [`Sign`], read by the audit
/// layer.
///
/// # Example
///
/// ```
/// use keyward::{credentials::Fingerprint, sign::SignedWith};
/// let signed = SignedWith(Fingerprint::of("test-only-key-0123456789"));
/// assert_eq!(signed.0.to_string(), "…6789");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedWith(pub Fingerprint);

/// Marks a request that must go out unsigned: a public endpoint such as server time or
/// exchange info, sent through the same stack (and audited like the rest).
///
/// # Example
///
/// ```
/// let mut request = http::Request::new(bytes::Bytes::new());
/// request.extensions_mut().insert(keyward::sign::Public);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Public;

/// Signs requests for one exchange with credentials from a [`CredentialSource`].
///
/// The moment signed for is the [`SigningContext`] found in the request's extensions (the clock
/// layer puts it there, from corrected exchange time), or else the local clock with a nonce that
/// strictly increases across all requests of this layer.
///
/// # Example
///
/// ```
/// use bytes::Bytes;
/// use keyward::{Credentials, exchange, sign::SignLayer};
/// use std::sync::Arc;
/// use tower::{ServiceBuilder, ServiceExt, service_fn};
///
/// # tokio_test_block_on(async {
/// let credentials = Arc::new(Credentials::new("test-only-key-0123456789", "test-only-secret"));
/// let service = ServiceBuilder::new()
///     .layer(SignLayer::new(exchange::by_name("bybit").unwrap(), credentials))
///     .service(service_fn(|request: http::Request<Bytes>| async move {
///         assert!(request.headers().contains_key("X-BAPI-SIGN"));
///         Ok::<_, keyward::Error>(http::Response::new(Bytes::new()))
///     }));
/// let request = http::Request::get("https://api.bybit.com/v5/order/realtime?category=spot").body(Bytes::new()).unwrap();
/// service.oneshot(request).await.unwrap();
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub struct SignLayer<C> {
    shared: Arc<Shared<C>>,
}

struct Shared<C> {
    exchange: &'static dyn Exchange,
    credentials: C,
    /// The signer prepared for the credentials last seen, so that the secret is decoded and the
    /// MAC keyed once per key, not once per request.
    prepared: RwLock<Option<Prepared>>,
    last_nonce: AtomicU64,
}

/// A signer, the credentials it was prepared from, and their fingerprint (computed once, as it
/// walks the whole key).
type Prepared = (Arc<Credentials>, Arc<dyn Signer>, Fingerprint);

impl<C: CredentialSource> SignLayer<C> {
    /// Signs for `exchange` with credentials from `credentials`.
    pub fn new(exchange: &'static dyn Exchange, credentials: C) -> Self {
        Self {
            shared: Arc::new(Shared {
                exchange,
                credentials,
                prepared: RwLock::new(None),
                last_nonce: AtomicU64::new(0),
            }),
        }
    }
}

impl<C> Clone for SignLayer<C> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<C> fmt::Debug for SignLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignLayer")
            .field("exchange", &self.shared.exchange.name())
            .finish()
    }
}

impl<S, C> Layer<S> for SignLayer<C> {
    type Service = Sign<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        Sign {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The service of [`SignLayer`].
pub struct Sign<S, C> {
    inner: S,
    shared: Arc<Shared<C>>,
}

impl<S: Clone, C> Clone for Sign<S, C> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: fmt::Debug, C> fmt::Debug for Sign<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sign")
            .field("exchange", &self.shared.exchange.name())
            .field("inner", &self.inner)
            .finish()
    }
}

impl<C: CredentialSource> Shared<C> {
    fn signer_for(&self, credentials: &Arc<Credentials>) -> Result<(Arc<dyn Signer>, Fingerprint), Error> {
        {
            let prepared = self.prepared.read().unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some((for_credentials, signer, fingerprint)) = prepared.as_ref() {
                if Arc::ptr_eq(for_credentials, credentials) {
                    return Ok((Arc::clone(signer), *fingerprint));
                }
            }
        }
        let signer = self.exchange.signer(credentials)?;
        let fingerprint = credentials.fingerprint();
        let mut prepared = self.prepared.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        *prepared = Some((Arc::clone(credentials), Arc::clone(&signer), fingerprint));
        Ok((signer, fingerprint))
    }

    fn local_context(&self) -> SigningContext {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        // Strictly increasing even when two requests are signed in the same millisecond or the
        // clock steps back.
        let nonce = self
            .last_nonce
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |last| Some(now.max(last + 1)))
            .map_or(now, |last| now.max(last + 1));
        SigningContext::at_millis(now).with_nonce(nonce)
    }
}

impl<S, C> Service<http::Request<Bytes>> for Sign<S, C>
where
    S: Service<http::Request<Bytes>, Error = Error>,
    C: CredentialSource,
{
    type Response = S::Response;
    type Error = Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Bytes>) -> Self::Future {
        if request.extensions().get::<Public>().is_some() {
            return ResponseFuture::inner(self.inner.call(request));
        }
        let credentials = self.shared.credentials.current();
        let (signer, fingerprint) = match self.shared.signer_for(&credentials) {
            Ok(prepared) => prepared,
            Err(error) => return ResponseFuture::refused(error),
        };
        let context = match request.extensions().get::<SigningContext>() {
            Some(context) => *context,
            None => self.shared.local_context(),
        };
        if let Err(error) = signer.sign(&mut request, &context, &mut NoTrace) {
            return ResponseFuture::refused(error);
        }
        request.extensions_mut().insert(SignedWith(fingerprint));
        ResponseFuture::inner(self.inner.call(request))
    }
}
