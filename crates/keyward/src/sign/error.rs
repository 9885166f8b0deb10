//! Why a request could not be signed.

use std::fmt;

/// A request that could not be signed. Nothing was sent.
///
/// # Example
///
/// ```
/// use keyward::sign::SignError;
///
/// let err = SignError::InvalidRequest("the URL has no path".into());
/// assert_eq!(err.to_string(), "cannot sign request: the URL has no path");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignError {
    /// The request cannot be signed as it is; the message says why and what to change.
    InvalidRequest(String),
    /// A signed value could not be put into a header.
    Header(String),
}

impl SignError {
    /// Wraps an invalid-header-value error (it never contains the value).
    pub fn header(err: http::header::InvalidHeaderValue) -> Self {
        Self::Header(err.to_string())
    }
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidRequest(why) => write!(f, "cannot sign request: {why}"),
            Self::Header(why) => write!(f, "cannot sign request: a signed header is not valid: {why}"),
        }
    }
}

impl std::error::Error for SignError {}
