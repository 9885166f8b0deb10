//! The error of a banned client.

use std::{fmt, time::Duration};

/// The exchange banned this client (HTTP 418, or its own ban code): every request through the
/// limiter fails at once, without being sent, until the ban lifts.
///
/// # Example
///
/// ```
/// use keyward::rate_limit::Banned;
/// use std::time::Duration;
///
/// let banned = Banned { until_unix_millis: 1_700_000_120_000, remaining: Duration::from_secs(120) };
/// assert!(banned.to_string().contains("120 s"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Banned {
    /// When the ban lifts, in Unix milliseconds by the local clock.
    pub until_unix_millis: u64,
    /// How long that is from now.
    pub remaining: Duration,
}

impl fmt::Display for Banned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "banned by the exchange for another {} s: nothing is sent until the ban lifts, because exchanges \
             escalate bans for clients that keep sending (Binance: from 2 minutes to 3 days)",
            self.remaining.as_secs()
        )
    }
}

impl std::error::Error for Banned {}
