//! Why credentials could not be used.

use std::{fmt, time::Duration};

/// Credentials that cannot be loaded, or cannot be used to sign for an exchange.
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
    /// A credential source has no value where one is required.
    Missing {
        /// Where it was looked for: `environment variable BINANCE_API_KEY`, a path.
        location: String,
        /// How to provide it.
        fix: String,
    },
    /// A credential source holds an empty value.
    Empty {
        /// Where the empty value is.
        location: String,
    },
    /// A credential source holds a value that cannot be a credential (not text, several lines).
    Malformed {
        /// Where the value is.
        location: String,
        /// What is wrong with it and how to fix it. Never contains the value.
        problem: String,
    },
    /// A credential source cannot be read.
    Unreadable {
        /// What could not be read.
        location: String,
        /// Why, from the operating system.
        problem: String,
    },
    /// A credential source is refused because it is unsafe: a `.env` that git tracks, a file
    /// others can read or write.
    Refused {
        /// The refused source.
        location: String,
        /// What makes it unsafe.
        problem: String,
        /// The command or change that makes it safe.
        fix: String,
    },
    /// A credential command could not be started.
    CommandNotStarted {
        /// The program and its arguments.
        command: String,
        /// Why, from the operating system.
        problem: String,
    },
    /// A credential command exited unsuccessfully.
    CommandFailed {
        /// The program and its arguments.
        command: String,
        /// Its exit status.
        status: String,
        /// The start of its standard error, scrubbed of registered secrets. Its standard output
        /// is never kept.
        stderr: String,
    },
    /// A credential command did not finish in time and was killed.
    CommandTimedOut {
        /// The program and its arguments.
        command: String,
        /// How long it was given.
        timeout: Duration,
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
            Self::Missing { location, fix } => write!(f, "{location} is missing: {fix}"),
            Self::Empty { location } => write!(f, "{location} is empty: set it to the value the exchange issued"),
            Self::Malformed { location, problem } => write!(f, "{location} is not a usable credential: {problem}"),
            Self::Unreadable { location, problem } => write!(f, "{location} cannot be read: {problem}"),
            Self::Refused { location, problem, fix } => {
                write!(f, "refusing to load credentials from {location}: {problem}; fix: {fix}")
            }
            Self::CommandNotStarted { command, problem } => {
                write!(f, "the credential command `{command}` could not be started: {problem}")
            }
            Self::CommandFailed {
                command,
                status,
                stderr,
            } if stderr.is_empty() => {
                write!(
                    f,
                    "the credential command `{command}` failed ({status}) with no error output"
                )
            }
            Self::CommandFailed {
                command,
                status,
                stderr,
            } => {
                write!(f, "the credential command `{command}` failed ({status}): {stderr}")
            }
            Self::CommandTimedOut { command, timeout } => write!(
                f,
                "the credential command `{command}` did not finish within {} ms and was killed: \
                 check that it does not wait for input (a passphrase prompt, a login)",
                timeout.as_millis()
            ),
        }
    }
}

impl std::error::Error for CredentialError {}
