//! The error of a clock too far from the exchange's.

use std::{fmt, time::Duration};

/// The local clock is too far from the exchange's, or the offset could not be measured: the
/// request was not sent, since the exchange would reject it (or accept it in the wrong window).
///
/// # Example
///
/// ```
/// use keyward::clock::ClockSkew;
/// use std::time::Duration;
///
/// let skew = ClockSkew::new(Some(90_000), Duration::from_secs(60));
/// assert!(skew.to_string().contains("90.000 s ahead"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockSkew {
    /// The exchange's time minus local time, in milliseconds, if it could be measured.
    pub offset: Option<i64>,
    /// The largest offset this client accepts.
    pub tolerance: Duration,
    /// Why the offset could not be measured, when it could not.
    pub cause: Option<String>,
}

impl ClockSkew {
    /// A skew of `offset` ms (or an unmeasurable one) against `tolerance`.
    pub fn new(offset: Option<i64>, tolerance: Duration) -> Self {
        Self {
            offset,
            tolerance,
            cause: None,
        }
    }

    /// An offset that could not be measured, and why (never containing a secret).
    ///
    /// # Example
    ///
    /// ```
    /// use keyward::clock::ClockSkew;
    /// use std::time::Duration;
    ///
    /// let skew = ClockSkew::unmeasurable(Duration::from_secs(60), "its server-time endpoint answered 503");
    /// assert!(skew.to_string().contains("answered 503"));
    /// ```
    pub fn unmeasurable(tolerance: Duration, cause: impl Into<String>) -> Self {
        Self {
            offset: None,
            tolerance,
            cause: Some(cause.into()),
        }
    }
}

impl fmt::Display for ClockSkew {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(offset) => write!(
                f,
                "clock skew: the exchange's clock is {}.{:03} s {} the local clock, more than the {:?} this client \
                 tolerates; synchronise the host clock (NTP) or raise the tolerance",
                offset.unsigned_abs() / 1000,
                offset.unsigned_abs() % 1000,
                if offset >= 0 { "ahead of" } else { "behind" },
                self.tolerance
            ),
            None => write!(
                f,
                "clock skew: the offset to the exchange's clock cannot be measured ({}); nothing was sent",
                self.cause
                    .as_deref()
                    .unwrap_or("its server-time endpoint did not answer")
            ),
        }
    }
}

impl std::error::Error for ClockSkew {}
