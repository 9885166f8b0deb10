//! The errors of keyward's middleware stack.

use crate::{
    audit::AuditUnavailable, clock::ClockSkew, credentials::CredentialError, exchange::ExchangeError, guard::Denied,
    rate_limit::Banned, retry::Ambiguous, sign::SignError,
};
use std::fmt;

/// A boxed error, as tower and hyper use.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a request through keyward's stack did not produce a successful response.
///
/// Every variant says whether the request reached the exchange: see [`Error::not_sent`].
///
/// # Example
///
/// ```
/// use keyward::{Error, sign::SignError};
///
/// let err = Error::from(SignError::InvalidRequest("no path".into()));
/// assert_eq!(err.kind(), "sign");
/// assert!(err.not_sent());
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The least-privilege guard refused the endpoint. Nothing was sent.
    Denied(Denied),
    /// The exchange answered with an error.
    Exchange(ExchangeError),
    /// The credentials cannot sign for this exchange. Nothing was sent.
    Credentials(CredentialError),
    /// The request cannot be signed as it is. Nothing was sent.
    Sign(SignError),
    /// The request could not be delivered, or its response not read.
    Transport(TransportError),
    /// The audit trail cannot write and fails closed. Nothing was sent.
    AuditUnavailable(AuditUnavailable),
    /// The local clock is too far from the exchange's. Nothing was sent.
    ClockSkew(ClockSkew),
    /// The exchange banned this client; nothing is sent until the ban lifts.
    Banned(Banned),
    /// A state-changing request failed with an unknown effect and was not re-sent.
    Ambiguous(Ambiguous),
}

impl Error {
    /// A short stable name for logs, audit records and summaries.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Denied(_) => "denied",
            Self::Exchange(err) => err.kind.as_str(),
            Self::Credentials(_) => "credentials",
            Self::Sign(_) => "sign",
            Self::Transport(err) => err.kind().as_str(),
            Self::AuditUnavailable(_) => "audit_unavailable",
            Self::ClockSkew(_) => "clock_skew",
            Self::Banned(_) => "banned",
            Self::Ambiguous(_) => "ambiguous",
        }
    }

    /// Whether it is certain that no byte of the request reached the exchange.
    pub fn not_sent(&self) -> bool {
        match self {
            Self::Denied(_)
            | Self::Credentials(_)
            | Self::Sign(_)
            | Self::AuditUnavailable(_)
            | Self::ClockSkew(_)
            | Self::Banned(_) => true,
            Self::Transport(err) => !err.may_have_been_sent(),
            Self::Exchange(_) | Self::Ambiguous(_) => false,
        }
    }

    /// The classified exchange error, if the exchange answered with one.
    pub fn exchange_error(&self) -> Option<&ExchangeError> {
        match self {
            Self::Exchange(err) => Some(err),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Denied(err) => err.fmt(f),
            Self::Exchange(err) => err.fmt(f),
            Self::Credentials(err) => err.fmt(f),
            Self::Sign(err) => err.fmt(f),
            Self::Transport(err) => err.fmt(f),
            Self::AuditUnavailable(err) => err.fmt(f),
            Self::ClockSkew(err) => err.fmt(f),
            Self::Banned(err) => err.fmt(f),
            Self::Ambiguous(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Denied(err) => Some(err),
            Self::Exchange(err) => Some(err),
            Self::Credentials(err) => Some(err),
            Self::Sign(err) => Some(err),
            Self::Transport(err) => Some(err),
            Self::AuditUnavailable(err) => Some(err),
            Self::ClockSkew(err) => Some(err),
            Self::Banned(err) => Some(err),
            Self::Ambiguous(err) => Some(err),
        }
    }
}

macro_rules! from {
    ($($variant:ident($ty:ty)),*) => {$(
        impl From<$ty> for Error {
            fn from(err: $ty) -> Self {
                Self::$variant(err)
            }
        }
    )*};
}
from!(
    Denied(Denied),
    Exchange(ExchangeError),
    Credentials(CredentialError),
    Sign(SignError),
    Transport(TransportError),
    AuditUnavailable(AuditUnavailable),
    ClockSkew(ClockSkew),
    Banned(Banned),
    Ambiguous(Ambiguous)
);

/// What went wrong in transport.
///
/// # Example
///
/// ```
/// use keyward::TransportErrorKind;
/// assert_eq!(TransportErrorKind::Connect.as_str(), "connect");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made: nothing was sent.
    Connect,
    /// The attempt took longer than its timeout.
    Timeout,
    /// The connection failed while sending or receiving.
    Io,
    /// The response body was larger than the configured limit.
    BodyTooLarge,
    /// The request could not be converted for the transport (e.g. an invalid URL). Nothing was sent.
    InvalidRequest,
}

impl TransportErrorKind {
    /// A short stable name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Timeout => "timeout",
            Self::Io => "io",
            Self::BodyTooLarge => "body_too_large",
            Self::InvalidRequest => "invalid_request",
        }
    }
}

/// A request that could not be delivered, or whose response could not be read.
///
/// # Example
///
/// ```
/// use keyward::{TransportError, TransportErrorKind};
///
/// let err = TransportError::new(TransportErrorKind::Timeout, "no response within 10 s");
/// assert!(err.may_have_been_sent());
/// ```
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    source: Option<BoxError>,
}

impl TransportError {
    /// An error of `kind` with a message that says what to check.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether the exchange may have received (and executed) the request.
    pub fn may_have_been_sent(&self) -> bool {
        !matches!(
            self.kind,
            TransportErrorKind::Connect | TransportErrorKind::InvalidRequest
        )
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "transport error ({}): {}", self.kind.as_str(), self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}
