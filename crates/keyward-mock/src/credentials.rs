//! The keys the mock exchange accepts.

use secrecy::{ExposeSecret, SecretString};
use std::fmt;

/// An API key the mock exchange accepts, with its secret and, for OKX, Coinbase and KuCoin, its
/// passphrase.
///
/// The secret is whatever the exchange hands out: a plain string (Binance HMAC, Bybit, OKX,
/// KuCoin, BitMEX, Gate), base64 (Coinbase, Kraken), or a PKCS#8 PEM Ed25519 private key (or its
/// public-key PEM) for a Binance Ed25519 key. `Debug` shows only the key's last four characters.
///
/// # Example
///
/// ```
/// use keyward_mock::MockCredentials;
///
/// let creds = MockCredentials::new("test-only-key-0001", "test-only-secret").with_passphrase("test-only-pass");
/// let shown = format!("{creds:?}");
/// assert!(shown.contains("…0001"));
/// assert!(!shown.contains("test-only-secret"));
/// assert!(!shown.contains("test-only-pass"));
/// ```
#[derive(Clone)]
pub struct MockCredentials {
    api_key: String,
    secret: SecretString,
    passphrase: Option<SecretString>,
}

impl MockCredentials {
    /// A key and its secret.
    pub fn new(api_key: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into(),
            secret: SecretString::from(secret.into()),
            passphrase: None,
        }
    }

    /// The same key with a passphrase (OKX, Coinbase, KuCoin).
    pub fn with_passphrase(mut self, passphrase: impl Into<String>) -> Self {
        self.passphrase = Some(SecretString::from(passphrase.into()));
        self
    }

    /// The API key.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    pub(crate) fn secret(&self) -> &str {
        self.secret.expose_secret()
    }

    pub(crate) fn passphrase(&self) -> Option<&str> {
        self.passphrase.as_ref().map(|passphrase| passphrase.expose_secret())
    }
}

impl fmt::Debug for MockCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockCredentials")
            .field("api_key", &KeyHint(&self.api_key))
            .field("secret", &"[REDACTED]")
            .field("passphrase", &self.passphrase.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

/// Shows an API key as its last four characters, the way keyward's fingerprints do, so logs and
/// error bodies identify a key without carrying it.
#[derive(Clone, Copy)]
pub(crate) struct KeyHint<'a>(pub(crate) &'a str);

impl fmt::Display for KeyHint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() <= 8 {
            // Too short to show a part without showing most of it.
            return f.write_str("…");
        }
        let tail: String = chars[chars.len() - 4..].iter().collect();
        write!(f, "…{tail}")
    }
}

impl fmt::Debug for KeyHint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}
