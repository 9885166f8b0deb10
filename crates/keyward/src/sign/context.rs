//! The moment and nonce a request is signed for.

/// When a request is signed, and with which nonce.
///
/// The clock layer fills it from corrected exchange time; tests and `keyward sign --at` fix it.
///
/// # Example
///
/// ```
/// use keyward::sign::SigningContext;
///
/// let ctx = SigningContext::at_millis(1_538_054_050_975);
/// assert_eq!(ctx.unix_seconds(), 1_538_054_050);
/// assert_eq!(ctx.iso8601_millis(), "2018-09-27T13:14:10.975Z");
/// assert_eq!(ctx.nonce(), 1_538_054_050_975);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigningContext {
    unix_millis: u64,
    nonce: u64,
}

impl SigningContext {
    /// A context at `unix_millis`, whose nonce is the same number.
    pub fn at_millis(unix_millis: u64) -> Self {
        Self {
            unix_millis,
            nonce: unix_millis,
        }
    }

    /// The same moment with another nonce (Kraken requires nonces that strictly increase).
    pub fn with_nonce(mut self, nonce: u64) -> Self {
        self.nonce = nonce;
        self
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(&self) -> u64 {
        self.unix_millis
    }

    /// Whole seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> u64 {
        self.unix_millis / 1000
    }

    /// The nonce for schemes that use one.
    pub fn nonce(&self) -> u64 {
        self.nonce
    }

    /// The moment as ISO 8601 in UTC with milliseconds, as OKX wants it: `2020-12-08T09:08:57.715Z`.
    pub fn iso8601_millis(&self) -> String {
        let secs = self.unix_millis / 1000;
        let millis = self.unix_millis % 1000;
        let days = secs / 86_400;
        let rem = secs % 86_400;
        let (year, month, day) = civil_from_days(days);
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60
        )
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `civil_from_days`).
///
/// Written out rather than pulling a date crate into the signing path: it is twelve lines of
/// integer arithmetic, and signing must not allocate more than the timestamp string.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_matches_known_dates() {
        assert_eq!(
            SigningContext::at_millis(0).iso8601_millis(),
            "1970-01-01T00:00:00.000Z"
        );
        assert_eq!(
            SigningContext::at_millis(951_782_400_001).iso8601_millis(),
            "2000-02-29T00:00:00.001Z"
        );
        assert_eq!(
            SigningContext::at_millis(1_607_418_537_715).iso8601_millis(),
            "2020-12-08T09:08:57.715Z"
        );
    }
}
