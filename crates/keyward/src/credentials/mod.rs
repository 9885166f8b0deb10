//! API credentials that never leak.
//!
//! [`Credentials`] holds an exchange API key, its secret and, for the exchanges that use one, a
//! passphrase. Every part lives in a [`secrecy::SecretString`], so it is zeroized when dropped and
//! redacted in `Debug`; the type is deliberately not `Serialize`, not `Display`, and its secret is
//! only reachable through the greppable [`ExposeSecret::expose_secret`].
//!
//! The API key is not a secret in the cryptographic sense (it travels in a header of every
//! request), but a full key in a log still tells an attacker which account to aim at, so it is
//! shown only as its [`Fingerprint`].
//!
//! With the `tripwire` feature, constructing credentials registers the secret, the passphrase and
//! the API key with the [global tripwire registry](crate::tripwire::Registry::global), so that
//! they are scrubbed from every log written through a [`Tripwire`](crate::tripwire::Tripwire).
//!
//! # Example
//!
//! ```
//! use keyward::Credentials;
//!
//! // Test fixture, not a real key.
//! let creds = Credentials::new("vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A", "example-secret")
//!     .with_passphrase("example-passphrase");
//! let shown = format!("{creds:?}");
//! assert!(shown.contains("…Eh8A"));
//! assert!(!shown.contains("example-secret"));
//! assert!(!shown.contains("example-passphrase"));
//! ```

mod fingerprint;

mod error;
pub mod reload;
mod rotating;
mod source;
pub mod sources;

pub use error::CredentialError;
pub use fingerprint::Fingerprint;
pub use reload::{ReloadOnRejection, ReloadOnRejectionLayer};
pub use rotating::{
    DEFAULT_KEY_AGE_WARNING, DEFAULT_MAX_KEY_AGE, KeyAge, KeyAgeBasis, KeyAgePolicy, KeyAgeStatus, MIN_ROTATION_PERIOD,
    RotatingCredentials, RotatingCredentialsBuilder, Rotation, RotationTask,
};
pub use secrecy::{ExposeSecret, SecretString};
pub use source::{CredentialCell, CredentialSource};
pub use sources::{LoadCredentials, Loaded, Provenance};

use std::fmt;

/// An exchange API key: sent with every request, but shown only as its [`Fingerprint`].
///
/// # Example
///
/// ```
/// use keyward::credentials::ApiKey;
///
/// let key = ApiKey::new("LAqUlngMIQkIUjXMUreyu3qn");
/// assert_eq!(format!("{key:?}"), "ApiKey(…u3qn)");
/// assert_eq!(key.expose(), "LAqUlngMIQkIUjXMUreyu3qn");
/// ```
#[derive(Clone)]
pub struct ApiKey(SecretString);

impl ApiKey {
    /// Wraps an API key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(SecretString::from(key.into()))
    }

    /// The full key, for the one place that needs it: the request header or parameter.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The fingerprint that identifies this key in logs and audit records.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(self.expose())
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.fingerprint())
    }
}

/// An API key, its secret and an optional passphrase.
///
/// See the [module docs](self) for what it guarantees.
///
/// # Example
///
/// ```
/// use keyward::{Credentials, credentials::ExposeSecret};
///
/// let creds = Credentials::new("my-api-key-0123456789", "my-secret");
/// assert_eq!(creds.secret().expose_secret(), "my-secret");
/// assert!(creds.passphrase().is_none());
/// ```
#[derive(Clone)]
pub struct Credentials {
    api_key: ApiKey,
    secret: SecretString,
    passphrase: Option<SecretString>,
}

impl Credentials {
    /// Credentials from an API key and its secret.
    ///
    /// With the `tripwire` feature, both are registered with the global tripwire registry.
    pub fn new(api_key: impl Into<String>, secret: impl Into<String>) -> Self {
        let api_key = ApiKey::new(api_key);
        let secret = SecretString::from(secret.into());
        register_with_tripwire(&api_key, &secret, None);
        Self {
            api_key,
            secret,
            passphrase: None,
        }
    }

    /// Adds the passphrase that OKX, Coinbase Exchange and KuCoin require.
    pub fn with_passphrase(mut self, passphrase: impl Into<String>) -> Self {
        let passphrase = SecretString::from(passphrase.into());
        register_with_tripwire(&self.api_key, &self.secret, Some(&passphrase));
        self.passphrase = Some(passphrase);
        self
    }

    /// The API key.
    pub fn api_key(&self) -> &ApiKey {
        &self.api_key
    }

    /// The API secret (for Binance Ed25519 keys: the private key in PEM form).
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }

    /// The passphrase, if the exchange uses one.
    pub fn passphrase(&self) -> Option<&SecretString> {
        self.passphrase.as_ref()
    }

    /// The fingerprint of the API key, which names these credentials in logs.
    pub fn fingerprint(&self) -> Fingerprint {
        self.api_key.fingerprint()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &format_args!("{}", self.fingerprint()))
            .field("secret", &format_args!("[REDACTED]"))
            .field(
                "passphrase",
                &format_args!(
                    "{}",
                    if self.passphrase.is_some() {
                        "[REDACTED]"
                    } else {
                        "None"
                    }
                ),
            )
            .finish()
    }
}

#[cfg(feature = "tripwire")]
fn register_with_tripwire(api_key: &ApiKey, secret: &SecretString, passphrase: Option<&SecretString>) {
    let registry = crate::tripwire::Registry::global();
    registry.register_api_key(api_key);
    registry.register(secret.expose_secret().as_bytes());
    if let Some(passphrase) = passphrase {
        registry.register(passphrase.expose_secret().as_bytes());
    }
}

#[cfg(not(feature = "tripwire"))]
fn register_with_tripwire(_: &ApiKey, _: &SecretString, _: Option<&SecretString>) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secret_material() {
        let creds = Credentials::new("AKIAEXAMPLEKEY0123456789", "s3cr3t-value").with_passphrase("pass-phrase");
        let shown = format!("{creds:?} {:?} {:?}", creds.api_key(), creds.secret());
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(!shown.contains("pass-phrase"), "{shown}");
        assert!(!shown.contains("AKIAEXAMPLEKEY0123456789"), "{shown}");
        assert!(shown.contains("…6789"), "{shown}");
    }
}
