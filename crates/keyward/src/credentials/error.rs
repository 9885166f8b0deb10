//! Why credentials could not be used.

use std::fmt;

/// Credentials that cannot be used to sign for an exchange.
///
/// The message names the problem and the fix, never the secret itself.
///
/// # Example
///
/// ```
/// use keyward::credentials::CredentialError;
///
/// let err = CredentialError::MissingPassphrase { exchange: "okx" };
/// assert!(err.to_string().contains("OKX_API_PASSPHRASE"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialError {
    /// The exchange requires a passphrase and none was given.
    MissingPassphrase {
        /// The exchange's name, as in `okx`.
        exchange: &'static str,
    },
    /// The secret is not in the form the exchange issues.
    InvalidSecret {
        /// The exchange's name.
        exchange: &'static str,
        /// What is wrong with it, and how to fix it. Never contains the secret.
        problem: String,
    },
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingPassphrase { exchange } => write!(
                f,
                "{exchange} requires an API passphrase: set {}_API_PASSPHRASE to the passphrase chosen when the key was created",
                exchange.to_ascii_uppercase()
            ),
            Self::InvalidSecret { exchange, problem } => write!(
                f,
                "the {exchange} API secret is not usable: {problem} (check {}_API_SECRET)",
                exchange.to_ascii_uppercase()
            ),
        }
    }
}

impl std::error::Error for CredentialError {}
