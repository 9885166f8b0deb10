//! Reload the credentials once when the exchange rejects the key, and re-send once.
//!
//! An operator who revokes a key on the exchange and puts its successor in the secret store
//! should not have to restart the bot, nor wait for the next interval reload. When an attempt
//! fails with [`ExchangeErrorKind::Authentication`] (a key that is unknown, disabled, expired or
//! revoked), [`ReloadOnRejection`] asks the [`RotatingCredentials`] to
//! [reload after the rejection](RotatingCredentials::reload_after_rejection) and, when that
//! yields another key, sends the request once more, unsigned as it was received, so that the
//! layers below stamp and sign it afresh with the new key.
//!
//! Re-sending is safe: an exchange checks the key before it executes anything, so a request
//! rejected for its key had no effect. Only `Authentication` triggers a reload: a bad signature,
//! a missing permission or an IP off the key's list would fail again with any key from the same
//! source, and repeated authentication failures lock keys out on some exchanges.
//!
//! # Which credentials signed the attempt
//!
//! The signing layer below asks the credential source for every attempt but does not report its
//! choice upwards, so this layer reads [`RotatingCredentials::current`] just before it calls the
//! inner service, and hands those to `reload_after_rejection`. The credentials only move
//! forward, so if a rotation lands between that read and the signing, the attempt was signed
//! with *newer* credentials than the ones read: the reload then answers
//! [`Rotation::AlreadyReplaced`](super::Rotation::AlreadyReplaced) without loading, and the
//! request is re-sent once more than strictly needed. It is never re-sent twice, and a burst of
//! rejected requests loads the source once, because `reload_after_rejection` only loads while
//! the rejected credentials are still current and were not reloaded after a rejection before.
//!
//! Place it above the clock and signing layers (so the re-send is stamped and signed afresh)
//! and below the rate limiter; the re-send draws on the rate-limit budget like any request.
//! [`Preset::reload_on_rejection`](crate::Preset::reload_on_rejection) puts it there.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use keyward::{Credentials, Error, credentials::{ReloadOnRejectionLayer, RotatingCredentials, sources::{Loaded, Provenance, SourceKind, load_fn}}};
//! use keyward::exchange::{ExchangeError, ExchangeErrorKind};
//! use keyward::{exchange, sign::SignLayer};
//! use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! // The secret store already holds the successor of the key the exchange revoked.
//! let loads = Arc::new(AtomicUsize::new(0));
//! let counter = Arc::clone(&loads);
//! let store = load_fn(move || {
//!     let n = counter.fetch_add(1, Ordering::SeqCst);
//!     async move {
//!         let credentials = Credentials::new(format!("test-only-key-generation-{n:04}"), "test-only-secret");
//!         Ok(Loaded { credentials, provenance: Provenance::new(SourceKind::Custom("vault")) })
//!     }
//! });
//! let rotating = RotatingCredentials::load(store).await.unwrap();
//!
//! // An exchange that knows only the second key.
//! let exchange = service_fn(|request: http::Request<Bytes>| async move {
//!     match request.headers().get("X-BAPI-API-KEY").map(|key| key.as_bytes()) {
//!         Some(b"test-only-key-generation-0001") => Ok(http::Response::new(Bytes::new())),
//!         _ => Err(Error::from(ExchangeError::new(ExchangeErrorKind::Authentication, 401, None, "API key is invalid."))),
//!     }
//! });
//! let client = ServiceBuilder::new()
//!     .layer(ReloadOnRejectionLayer::new(rotating.clone()))
//!     .layer(SignLayer::new(exchange::by_name("bybit").unwrap(), rotating.clone()))
//!     .service(exchange);
//!
//! let request = http::Request::get("https://api.bybit.com/v5/account/wallet-balance").body(Bytes::new()).unwrap();
//! client.oneshot(request).await.unwrap();
//! assert_eq!(loads.load(Ordering::SeqCst), 2); // the first load, and one reload
//! assert_eq!(rotating.fingerprint().to_string(), "…0001");
//! # });
//! ```

use super::{CredentialSource, RotatingCredentials};
use crate::{Error, exchange::ExchangeErrorKind, rate_limit::Meter, sign::Public};
use bytes::Bytes;
use pin_project_lite::pin_project;
use std::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};
use tower::ServiceExt;
use tower_layer::Layer;
use tower_service::Service;

/// Reloads the [`RotatingCredentials`] once when the exchange rejects the key, and re-sends the
/// request once with the new key. See the [module docs](self).
#[derive(Clone)]
pub struct ReloadOnRejectionLayer {
    /// `None`: the layer passes requests through, for stacks (the preset) whose type must not
    /// depend on whether the feature is on.
    rotating: Option<RotatingCredentials>,
}

impl ReloadOnRejectionLayer {
    /// Reloads `rotating` after a rejection. It must be the source the signing layer below
    /// signs with: the layer reads it to know which key signed the rejected attempt.
    pub fn new(rotating: RotatingCredentials) -> Self {
        Self {
            rotating: Some(rotating),
        }
    }

    /// A layer that passes every request through unchanged.
    pub(crate) fn off() -> Self {
        Self { rotating: None }
    }
}

impl fmt::Debug for ReloadOnRejectionLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReloadOnRejectionLayer")
            .field("rotating", &self.rotating)
            .finish()
    }
}

impl<S> Layer<S> for ReloadOnRejectionLayer {
    type Service = ReloadOnRejection<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ReloadOnRejection {
            inner,
            rotating: self.rotating.clone(),
        }
    }
}

/// The service of [`ReloadOnRejectionLayer`].
#[derive(Clone)]
pub struct ReloadOnRejection<S> {
    inner: S,
    rotating: Option<RotatingCredentials>,
}

impl<S: fmt::Debug> fmt::Debug for ReloadOnRejection<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReloadOnRejection")
            .field("rotating", &self.rotating)
            .field("inner", &self.inner)
            .finish()
    }
}

impl<S> Service<http::Request<Bytes>> for ReloadOnRejection<S>
where
    S: Service<http::Request<Bytes>, Response = http::Response<Bytes>, Error = Error> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Bytes>;
    type Error = Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Bytes>) -> Self::Future {
        let rotating = match &self.rotating {
            // Public requests carry no key that could be rejected.
            Some(rotating) if request.extensions().get::<Public>().is_none() => rotating.clone(),
            _ => return ResponseFuture::passthrough(self.inner.call(request)),
        };
        // The clone is not ready yet; the instance that is goes into the future (tower's pattern).
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        ResponseFuture::reloading(send(inner, rotating, request))
    }
}

/// Sends `request`; after an authentication rejection, reloads and re-sends it once if the key
/// changed.
async fn send<S>(
    mut inner: S,
    rotating: RotatingCredentials,
    request: http::Request<Bytes>,
) -> Result<http::Response<Bytes>, Error>
where
    S: Service<http::Request<Bytes>, Response = http::Response<Bytes>, Error = Error>,
{
    // Kept as received, unsigned: the re-send must be stamped and signed afresh.
    let original = request.clone();
    // Read before the call, so they are these or older than the ones that sign (module docs).
    let signed_with = rotating.current();
    let result = inner.call(request).await;
    let rejection = match &result {
        Err(Error::Exchange(rejection)) if rejection.kind == ExchangeErrorKind::Authentication => rejection,
        _ => return result,
    };
    let rotation = match rotating.reload_after_rejection(&signed_with).await {
        Ok(rotation) if rotation.key_changed() => rotation,
        Ok(rotation) => {
            tracing::warn!(
                rejected_api_key = %signed_with.fingerprint(),
                code = rejection.code.as_deref(),
                ?rotation,
                "the exchange rejected the API key and the credential source holds no other; not re-sending"
            );
            return result;
        }
        // The failed reload is audited by `RotatingCredentials`; the caller needs the rejection.
        Err(_) => return result,
    };
    tracing::info!(
        rejected_api_key = %signed_with.fingerprint(),
        api_key = %rotating.fingerprint(),
        code = rejection.code.as_deref(),
        ?rotation,
        "the exchange rejected the API key; re-sending once with the reloaded one"
    );
    // The re-send weighs on the exchange's budget like any request.
    let meter = original.extensions().get::<Meter>().cloned();
    let admission = match &meter {
        Some(meter) => Some(meter.admit(&original).await?),
        None => None,
    };
    inner.ready().await?;
    let retried = inner.call(original).await;
    if let (Some(meter), Some(admission)) = (&meter, admission) {
        meter.settle(admission, &retried);
    }
    retried
}

type Reloading = Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, Error>> + Send>>;

pin_project! {
    /// The response future of [`ReloadOnRejection`].
    ///
    /// A request that may be re-sent is boxed: it awaits a send, a reload and a second send, a
    /// sequence a hand-written state machine would only obscure. A request that cannot be (a
    /// public one, or the layer switched off) polls the inner future in place.
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Passthrough { #[pin] future: F },
        Reloading { future: Reloading },
    }
}

impl<F> ResponseFuture<F> {
    fn passthrough(future: F) -> Self {
        Self {
            state: State::Passthrough { future },
        }
    }

    fn reloading(future: impl Future<Output = Result<http::Response<Bytes>, Error>> + Send + 'static) -> Self {
        Self {
            state: State::Reloading {
                future: Box::pin(future),
            },
        }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F> Future for ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<Bytes>, Error>>,
{
    type Output = Result<http::Response<Bytes>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Passthrough { future } => future.poll(cx),
            StateProj::Reloading { future } => future.as_mut().poll(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Credentials,
        credentials::sources::{Loaded, Provenance, SourceKind, load_fn},
        exchange::{self, ExchangeError},
        sign::SignLayer,
    };
    use std::sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    };
    use tower::{ServiceBuilder, service_fn};

    /// A secret store holding one test key at a time, counting its loads.
    #[derive(Clone, Default)]
    struct Store {
        key: Arc<Mutex<String>>,
        loads: Arc<AtomicUsize>,
    }

    impl Store {
        fn holding(key: &str) -> Self {
            let store = Self::default();
            store.put(key);
            store
        }

        fn put(&self, key: &str) {
            *self.key.lock().unwrap() = key.to_owned();
        }

        async fn rotating(&self) -> RotatingCredentials {
            let store = self.clone();
            RotatingCredentials::load(load_fn(move || {
                store.loads.fetch_add(1, Ordering::SeqCst);
                let key = store.key.lock().unwrap().clone();
                async move {
                    Ok(Loaded {
                        credentials: Credentials::new(key, "test-only-secret"),
                        provenance: Provenance::new(SourceKind::Custom("test")),
                    })
                }
            }))
            .await
            .unwrap()
        }
    }

    /// An exchange that accepts only `accepted` and records the key of every request.
    fn exchange_accepting(
        accepted: &'static str,
        seen: Arc<Mutex<Vec<String>>>,
        kind: ExchangeErrorKind,
    ) -> impl Service<
        http::Request<Bytes>,
        Response = http::Response<Bytes>,
        Error = Error,
        Future = impl Future<Output = Result<http::Response<Bytes>, Error>> + Send,
    > + Clone
    + Send
    + 'static {
        service_fn(move |request: http::Request<Bytes>| {
            let key = request
                .headers()
                .get("X-BAPI-API-KEY")
                .and_then(|key| key.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            seen.lock().unwrap().push(key.clone());
            let kind = kind.clone();
            async move {
                if key == accepted {
                    Ok(http::Response::new(Bytes::new()))
                } else {
                    Err(Error::from(ExchangeError::new(kind, 401, None, "API key is invalid.")))
                }
            }
        })
    }

    const OLD: &str = "test-only-key-rotation-0old";
    const NEW: &str = "test-only-key-rotation-0new";

    fn request() -> http::Request<Bytes> {
        http::Request::get("https://api.bybit.com/v5/account/wallet-balance")
            .body(Bytes::new())
            .unwrap()
    }

    async fn client(
        store: &Store,
        kind: ExchangeErrorKind,
    ) -> (
        impl Service<http::Request<Bytes>, Response = http::Response<Bytes>, Error = Error> + Clone,
        Arc<Mutex<Vec<String>>>,
    ) {
        let rotating = store.rotating().await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let service = ServiceBuilder::new()
            .layer(ReloadOnRejectionLayer::new(rotating.clone()))
            .layer(SignLayer::new(exchange::by_name("bybit").unwrap(), rotating))
            .service(exchange_accepting(NEW, Arc::clone(&seen), kind));
        (service, seen)
    }

    #[tokio::test]
    async fn a_rejected_key_is_reloaded_once_and_the_request_re_sent_with_the_new_one() {
        let store = Store::holding(OLD);
        let (service, seen) = client(&store, ExchangeErrorKind::Authentication).await;
        store.put(NEW);
        service.oneshot(request()).await.unwrap();
        assert_eq!(*seen.lock().unwrap(), [OLD, NEW]);
        assert_eq!(store.loads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_rejected_key_without_a_successor_fails_without_a_re_send() {
        let store = Store::holding(OLD);
        let (service, seen) = client(&store, ExchangeErrorKind::Authentication).await;
        let err = service.clone().oneshot(request()).await.unwrap_err();
        assert_eq!(err.kind(), "authentication");
        // A second rejection of the same key does not load the source again.
        service.oneshot(request()).await.unwrap_err();
        assert_eq!(*seen.lock().unwrap(), [OLD, OLD]);
        assert_eq!(store.loads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn other_rejections_neither_reload_nor_re_send() {
        let store = Store::holding(OLD);
        let (service, seen) = client(&store, ExchangeErrorKind::InsufficientPermission).await;
        store.put(NEW);
        let err = service.oneshot(request()).await.unwrap_err();
        assert_eq!(err.kind(), "insufficient_permission");
        assert_eq!(*seen.lock().unwrap(), [OLD]);
        assert_eq!(store.loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_switched_off_layer_passes_rejections_through() {
        let store = Store::holding(OLD);
        let rotating = store.rotating().await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let service = ServiceBuilder::new()
            .layer(ReloadOnRejectionLayer::off())
            .layer(SignLayer::new(exchange::by_name("bybit").unwrap(), rotating))
            .service(exchange_accepting(
                NEW,
                Arc::clone(&seen),
                ExchangeErrorKind::Authentication,
            ));
        store.put(NEW);
        service.oneshot(request()).await.unwrap_err();
        assert_eq!(*seen.lock().unwrap(), [OLD]);
        assert_eq!(store.loads.load(Ordering::SeqCst), 1);
    }
}
