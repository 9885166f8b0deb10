//! Exchange error responses, classified.

use std::{fmt, time::Duration};

/// What an exchange's error response means for the caller.
///
/// # Example
///
/// ```
/// use keyward::exchange::ExchangeErrorKind;
///
/// assert!(ExchangeErrorKind::InvalidSignature.not_executed());
/// assert!(!ExchangeErrorKind::Other.not_executed());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExchangeErrorKind {
    /// The API key is unknown, disabled or expired, or the passphrase is wrong.
    Authentication,
    /// The signature does not match the request.
    InvalidSignature,
    /// The timestamp, expiry or nonce is outside the exchange's window.
    TimestampOutsideWindow,
    /// Too many requests; the exchange may say when to try again.
    RateLimited {
        /// From `Retry-After` or the exchange's own field, when given.
        retry_after: Option<Duration>,
    },
    /// The IP or key is banned for a while.
    Banned {
        /// How long the ban lasts, when the exchange says.
        retry_after: Option<Duration>,
    },
    /// The key lacks the permission for this endpoint, or the IP is not on its list.
    InsufficientPermission,
    /// Any other error the exchange reported.
    Other,
    /// A success status whose body is not the exchange's answer: an HTML page from a proxy or
    /// CDN in front of the exchange, say, or a body without the envelope every answer of the
    /// exchange carries. Whether the request took effect is unknown, so a state-changing
    /// request is not sent again.
    UnreadableAnswer,
}

impl ExchangeErrorKind {
    /// Whether the exchange demonstrably rejected the request before executing it, so that
    /// sending it again cannot duplicate its effect.
    pub fn not_executed(&self) -> bool {
        !matches!(self, Self::Other | Self::UnreadableAnswer)
    }

    /// A short stable name for logs, audit records and summaries.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Authentication => "authentication",
            Self::InvalidSignature => "invalid_signature",
            Self::TimestampOutsideWindow => "timestamp_outside_window",
            Self::RateLimited { .. } => "rate_limited",
            Self::Banned { .. } => "banned",
            Self::InsufficientPermission => "insufficient_permission",
            Self::Other => "exchange_error",
            Self::UnreadableAnswer => "unreadable_answer",
        }
    }
}

/// An error response from an exchange, classified.
///
/// # Example
///
/// ```
/// use keyward::exchange::{ExchangeError, ExchangeErrorKind};
///
/// let err = ExchangeError::new(ExchangeErrorKind::InvalidSignature, 400, Some("-1022".into()),
///     "Signature for this request is not valid.");
/// assert_eq!(err.to_string(),
///     "exchange rejected the request (invalid_signature, HTTP 400, code -1022): Signature for this request is not valid.");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeError {
    /// What it means.
    pub kind: ExchangeErrorKind,
    /// The HTTP status.
    pub status: u16,
    /// The exchange's own error code, if it has one.
    pub code: Option<String>,
    /// The exchange's message.
    pub message: String,
}

impl ExchangeError {
    /// An error of `kind`.
    pub fn new(kind: ExchangeErrorKind, status: u16, code: Option<String>, message: impl Into<String>) -> Self {
        Self {
            kind,
            status,
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exchange rejected the request ({}, HTTP {}",
            self.kind.as_str(),
            self.status
        )?;
        if let Some(code) = &self.code {
            write!(f, ", code {code}")?;
        }
        write!(f, "): {}", self.message)
    }
}

impl std::error::Error for ExchangeError {}
