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
}

impl ClockSkew {
    /// A skew of `offset` ms (or an unmeasurable one) against `tolerance`.
    pub fn new(offset: Option<i64>, tolerance: Duration) -> Self {
        Self { offset, tolerance }
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
                "clock skew: the offset to the exchange's clock cannot be measured (its server-time endpoint did \
                 not answer); nothing was sent"
            ),
        }
    }
}

impl std::error::Error for ClockSkew {}
