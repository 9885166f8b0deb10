//! Preparing credentials for a signer, once: checking the secret, keying the MAC, and turning the
//! API key and passphrase into sensitive header values.
//!
//! Every problem is a [`CredentialError`] that names the exchange and the fix, never the value.
//!
//! # Example
//!
//! ```
//! use hmac::Hmac;
//! use keyward::{Credentials, sign::{KeyedMac, Material, Whitespace}};
//!
//! let credentials = Credentials::new("test-only-key-0123456789", "test-only-secret")
//!     .with_passphrase("test-only-passphrase");
//! let material = Material::of("okx", &credentials);
//! let mac: KeyedMac<Hmac<sha2::Sha256>> = material.hmac(material.secret(Whitespace::Keep)?.as_bytes())?;
//! assert!(material.api_key_header()?.is_sensitive());
//! assert!(material.passphrase_header()?.is_sensitive());
//! # Ok::<(), keyward::credentials::CredentialError>(())
//! ```

use super::KeyedMac;
use crate::{
    Credentials,
    credentials::{ApiKey, CredentialError, ExposeSecret, SecretString},
};
use hmac::{Mac, digest::KeyInit};
use http::{HeaderValue, header::InvalidHeaderValue};
use zeroize::Zeroizing;

/// What surrounding whitespace in a secret means for an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whitespace {
    /// The secret is used exactly as given, whitespace included.
    Keep,
    /// Surrounding whitespace is dropped (a secret in the exchange's alphabet cannot contain it).
    Trim,
    /// Surrounding whitespace is refused: it is most likely a stray newline from a file, and
    /// signing with it would fail at the exchange with a less helpful error.
    Reject,
}

/// The credentials of one exchange, being prepared for its signer.
///
/// # Example
///
/// ```
/// use keyward::{Credentials, credentials::CredentialError, sign::{Material, Whitespace}};
///
/// let credentials = Credentials::new("test-only-key-0123456789", "test-only-secret\n");
/// let err = Material::of("gate", &credentials).secret(Whitespace::Reject).unwrap_err();
/// assert!(matches!(err, CredentialError::InvalidSecret { exchange: "gate", .. }));
/// assert_eq!(Material::of("gate", &credentials).secret(Whitespace::Trim)?, "test-only-secret");
/// # Ok::<(), CredentialError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Material<'a> {
    exchange: &'static str,
    credentials: &'a Credentials,
}

impl<'a> Material<'a> {
    /// The `credentials` of `exchange` (its lower-case name, used in error messages).
    pub fn of(exchange: &'static str, credentials: &'a Credentials) -> Self {
        Self { exchange, credentials }
    }

    /// A [`CredentialError::InvalidSecret`] of this exchange; `problem` says what is wrong and
    /// must not contain the secret.
    pub fn invalid(&self, problem: &str) -> CredentialError {
        CredentialError::InvalidSecret {
            exchange: self.exchange,
            problem: problem.to_owned(),
        }
    }

    /// The secret, refused when empty, with surrounding whitespace handled as `whitespace` says.
    ///
    /// # Errors
    ///
    /// [`CredentialError::InvalidSecret`] for an empty secret (for [`Whitespace::Keep`], one
    /// without any character; otherwise one of whitespace only) or, for [`Whitespace::Reject`],
    /// one with surrounding whitespace.
    pub fn secret(&self, whitespace: Whitespace) -> Result<&'a str, CredentialError> {
        let secret = self.credentials.secret().expose_secret();
        let trimmed = secret.trim();
        let checked = match whitespace {
            Whitespace::Keep => secret,
            Whitespace::Trim | Whitespace::Reject => trimmed,
        };
        if checked.is_empty() {
            return Err(self.invalid("it is empty"));
        }
        if whitespace == Whitespace::Reject && trimmed != secret {
            return Err(self.invalid("it has leading or trailing whitespace (a stray newline?); remove it"));
        }
        Ok(checked)
    }

    /// Whether the secret is a PEM block (`-----BEGIN ...`) rather than an HMAC secret.
    pub fn secret_is_pem(&self) -> bool {
        self.credentials
            .secret()
            .expose_secret()
            .trim_start()
            .starts_with("-----BEGIN")
    }

    /// Decodes a base64 `secret` (as Kraken and Coinbase Exchange issue them) into a buffer that
    /// is zeroed when dropped.
    ///
    /// # Errors
    ///
    /// [`CredentialError::InvalidSecret`] with `problem` when `secret` is not standard base64.
    pub fn decode_base64(&self, secret: &str, problem: &str) -> Result<Zeroizing<Vec<u8>>, CredentialError> {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(secret)
            .map(Zeroizing::new)
            .map_err(|_| self.invalid(problem))
    }

    /// A MAC keyed with `key`, prepared once and cloned for every request.
    ///
    /// # Errors
    ///
    /// [`CredentialError::InvalidSecret`] when `key` has a length the MAC refuses (HMAC takes
    /// any length).
    pub fn hmac<M: Mac + KeyInit + Clone>(&self, key: &[u8]) -> Result<KeyedMac<M>, CredentialError> {
        KeyedMac::new(key).map_err(|_| self.invalid("it cannot key the MAC"))
    }

    /// The API key.
    pub fn api_key(&self) -> &'a ApiKey {
        self.credentials.api_key()
    }

    /// The passphrase.
    ///
    /// # Errors
    ///
    /// [`CredentialError::MissingPassphrase`] when the credentials have none.
    pub fn passphrase(&self) -> Result<&'a SecretString, CredentialError> {
        self.credentials.passphrase().ok_or(CredentialError::MissingPassphrase {
            exchange: self.exchange,
        })
    }

    /// The API key as a sensitive header value.
    ///
    /// # Errors
    ///
    /// [`CredentialError::InvalidSecret`] when the key has characters a header cannot carry.
    pub fn api_key_header(&self) -> Result<HeaderValue, CredentialError> {
        sensitive_header(self.credentials.api_key().expose()).map_err(|_| {
            self.invalid("the API key (not the secret) contains characters that cannot be sent in an HTTP header")
        })
    }

    /// The passphrase as a sensitive header value.
    ///
    /// # Errors
    ///
    /// [`CredentialError::MissingPassphrase`] without a passphrase; [`CredentialError::InvalidSecret`]
    /// when it has characters a header cannot carry.
    pub fn passphrase_header(&self) -> Result<HeaderValue, CredentialError> {
        sensitive_header(self.passphrase()?.expose_secret())
            .map_err(|_| self.invalid("the passphrase contains characters that cannot be sent in an HTTP header"))
    }
}

/// `value` as a header value marked sensitive, so that `http`'s `Debug` and HTTP/2 header
/// compression leave it out.
///
/// Control characters other than tab (a stray newline, say) are refused, as
/// [`HeaderValue::from_str`] refuses them; the error never contains the value.
///
/// # Example
///
/// ```
/// let value = keyward::sign::sensitive_header("test-only-key-0123456789")?;
/// assert!(value.is_sensitive());
/// assert!(keyward::sign::sensitive_header("line\nbreak").is_err());
/// # Ok::<(), http::header::InvalidHeaderValue>(())
/// ```
pub fn sensitive_header(value: &str) -> Result<HeaderValue, InvalidHeaderValue> {
    let mut header = HeaderValue::from_str(value)?;
    header.set_sensitive(true);
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::Hmac;
    use sha2::Sha256;

    fn material(credentials: &Credentials) -> Material<'_> {
        Material::of("test", credentials)
    }

    #[test]
    fn each_whitespace_policy_keeps_its_documented_meaning() {
        let padded = Credentials::new("test-only-key-0123456789", " test-only-secret\n");
        assert_eq!(
            material(&padded).secret(Whitespace::Keep).unwrap(),
            " test-only-secret\n"
        );
        assert_eq!(material(&padded).secret(Whitespace::Trim).unwrap(), "test-only-secret");
        let err = material(&padded).secret(Whitespace::Reject).unwrap_err();
        assert!(err.to_string().contains("whitespace"), "{err}");
        assert!(!err.to_string().contains("test-only-secret"), "{err}");

        let blank = Credentials::new("test-only-key-0123456789", "  ");
        assert_eq!(material(&blank).secret(Whitespace::Keep).unwrap(), "  ");
        for policy in [Whitespace::Trim, Whitespace::Reject] {
            let err = material(&blank).secret(policy).unwrap_err();
            assert!(err.to_string().contains("empty"), "{err}");
        }
        let empty = Credentials::new("test-only-key-0123456789", "");
        assert!(material(&empty).secret(Whitespace::Keep).is_err());
    }

    #[test]
    fn headers_are_sensitive_and_errors_never_show_the_value() {
        let credentials =
            Credentials::new("test-only-key-0123456789", "test-only-secret").with_passphrase("test-only\npass");
        let material = material(&credentials);
        assert_eq!(material.api_key_header().unwrap(), "test-only-key-0123456789");
        assert!(material.api_key_header().unwrap().is_sensitive());
        let err = material.passphrase_header().unwrap_err();
        assert!(err.to_string().contains("passphrase"), "{err}");
        assert!(!err.to_string().contains("test-only"), "{err}");

        let without = Credentials::new("test-only-key-0123456789", "test-only-secret");
        assert_eq!(
            Material::of("test", &without).passphrase_header().unwrap_err(),
            CredentialError::MissingPassphrase { exchange: "test" }
        );
        let broken_key = Credentials::new("test-only-key-0123456789\r\n", "test-only-secret");
        assert!(Material::of("test", &broken_key).api_key_header().is_err());
    }

    #[test]
    fn base64_pem_and_hmac() {
        let credentials = Credentials::new("test-only-key-0123456789", "  -----BEGIN PRIVATE KEY-----");
        let material = material(&credentials);
        assert!(material.secret_is_pem());
        assert_eq!(
            material.decode_base64("dGVzdA==", "not base64").unwrap().as_slice(),
            b"test"
        );
        assert!(material.decode_base64("not base64!", "not base64").is_err());
        assert!(material.hmac::<Hmac<Sha256>>(b"").is_ok());
    }
}
