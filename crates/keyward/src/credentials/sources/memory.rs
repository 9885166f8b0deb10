//! Credentials already in memory, and loaders written as closures.

use super::{LoadCredentials, LoadFuture, Loaded, Provenance, SourceKind};
use crate::credentials::{CredentialError, Credentials};
use std::{fmt, future::Future};

/// Credentials handed over as they are: for tests, and for secret managers with an SDK that
/// already produced [`Credentials`] (which registered them with the tripwire).
///
/// # Example
///
/// ```
/// use keyward::{Credentials, credentials::sources::{InMemory, LoadCredentials, SourceKind}};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let source = InMemory::new(Credentials::new("test-only-key-0123456789", "test-only-secret"));
/// let loaded = source.load().await.unwrap();
/// assert_eq!(loaded.provenance.kind(), SourceKind::Memory);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct InMemory {
    credentials: Credentials,
}

impl InMemory {
    /// A source that always loads `credentials`.
    pub fn new(credentials: Credentials) -> Self {
        Self { credentials }
    }
}

impl LoadCredentials for InMemory {
    fn load(&self) -> LoadFuture<'_> {
        let loaded = Loaded {
            credentials: self.credentials.clone(),
            provenance: Provenance::new(SourceKind::Memory),
        };
        Box::pin(async move { Ok(loaded) })
    }
}

/// A loader from a closure returning a future: see [`load_fn`].
#[derive(Clone)]
pub struct LoadFn<F> {
    load: F,
}

/// A loader that calls `load` each time: for a secret manager's SDK, or a test.
///
/// # Example
///
/// ```
/// use keyward::{Credentials, credentials::sources::{LoadCredentials, Loaded, Provenance, SourceKind, load_fn}};
///
/// let source = load_fn(|| async {
///     let credentials = Credentials::new("test-only-key-from-sdk-0001", "test-only-secret-sdk");
///     Ok(Loaded { credentials, provenance: Provenance::new(SourceKind::Custom("sdk")) })
/// });
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert_eq!(source.load().await.unwrap().credentials.fingerprint().to_string(), "…0001");
/// # });
/// ```
pub fn load_fn<F, Fut>(load: F) -> LoadFn<F>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Loaded, CredentialError>> + Send + 'static,
{
    LoadFn { load }
}

impl<F, Fut> LoadCredentials for LoadFn<F>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Loaded, CredentialError>> + Send + 'static,
{
    fn load(&self) -> LoadFuture<'_> {
        Box::pin((self.load)())
    }
}

impl<F> fmt::Debug for LoadFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadFn").finish_non_exhaustive()
    }
}
