//! Where the signing layer reads credentials from, once per request.

use super::Credentials;
use std::sync::{Arc, RwLock};

/// Gives the credentials to sign the next request with.
///
/// The signing layer asks for every attempt, so a source whose answer changes (a rotated key)
/// takes effect on the next request, while requests in flight finish with the key they were
/// signed with.
///
/// # Example
///
/// ```
/// use keyward::{Credentials, credentials::CredentialSource};
/// use std::sync::Arc;
///
/// let source: Arc<Credentials> = Arc::new(Credentials::new("test-only-key-0123456789", "test-only-secret"));
/// assert_eq!(source.current().fingerprint().to_string(), "…6789");
/// ```
pub trait CredentialSource: Send + Sync + 'static {
    /// The credentials current now. Must be cheap: it is called for every attempt.
    fn current(&self) -> Arc<Credentials>;
}

impl CredentialSource for Arc<Credentials> {
    fn current(&self) -> Arc<Credentials> {
        Arc::clone(self)
    }
}

impl<T: CredentialSource + ?Sized> CredentialSource for Arc<T> {
    fn current(&self) -> Arc<Credentials> {
        (**self).current()
    }
}

/// Credentials that can be replaced while requests run: every clone shares the same cell.
///
/// # Example
///
/// ```
/// use keyward::{Credentials, credentials::{CredentialCell, CredentialSource}};
///
/// let cell = CredentialCell::new(Credentials::new("test-only-key-AAAAAAAAAAAA", "old-secret"));
/// let shared = cell.clone();
/// let old = cell.replace(Credentials::new("test-only-key-BBBBBBBBBBBB", "new-secret"));
/// assert_eq!(old.fingerprint().to_string(), "…AAAA");
/// assert_eq!(shared.current().fingerprint().to_string(), "…BBBB");
/// ```
#[derive(Clone, Debug)]
pub struct CredentialCell {
    current: Arc<RwLock<Arc<Credentials>>>,
}

impl CredentialCell {
    /// A cell holding `credentials`.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            current: Arc::new(RwLock::new(Arc::new(credentials))),
        }
    }

    /// Swaps in `credentials` atomically and returns the ones replaced.
    pub fn replace(&self, credentials: Credentials) -> Arc<Credentials> {
        let mut slot = self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        std::mem::replace(&mut *slot, Arc::new(credentials))
    }
}

impl CredentialSource for CredentialCell {
    fn current(&self) -> Arc<Credentials> {
        // A poisoned lock only means a writer panicked between two whole values: the value is intact.
        Arc::clone(&self.current.read().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}
