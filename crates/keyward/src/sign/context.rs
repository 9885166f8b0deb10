//! The moment and nonce a request is signed for, and the timestamp text schemes make of it.

use super::SignError;
use std::fmt;

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
        self.timestamp(TimestampFormat::Iso8601Millis).as_str().to_owned()
    }

    /// The moment (or the expiry, or the nonce, as [`TimestampFormat`] says) written out on
    /// the stack.
    pub fn timestamp(&self, format: TimestampFormat) -> TimestampText {
        match format {
            TimestampFormat::UnixMillis => TimestampText::decimal(self.unix_millis),
            TimestampFormat::UnixSeconds => TimestampText::decimal(self.unix_seconds()),
            TimestampFormat::ExpiresAfterSeconds(window) => {
                TimestampText::decimal(self.unix_seconds().saturating_add(window))
            }
            TimestampFormat::Iso8601Millis => TimestampText::iso8601_millis(self.unix_millis),
            TimestampFormat::Nonce => TimestampText::decimal(self.nonce),
        }
    }
}

/// How a scheme writes the signing moment.
///
/// # Example
///
/// ```
/// use keyward::sign::{SigningContext, TimestampFormat};
///
/// let ctx = SigningContext::at_millis(1_538_054_050_975);
/// assert_eq!(ctx.timestamp(TimestampFormat::UnixMillis).as_str(), "1538054050975");
/// assert_eq!(ctx.timestamp(TimestampFormat::UnixSeconds).as_str(), "1538054050");
/// assert_eq!(ctx.timestamp(TimestampFormat::ExpiresAfterSeconds(60)).as_str(), "1538054110");
/// assert_eq!(ctx.timestamp(TimestampFormat::Iso8601Millis).as_str(), "2018-09-27T13:14:10.975Z");
/// assert_eq!(ctx.with_nonce(42).timestamp(TimestampFormat::Nonce).as_str(), "42");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampFormat {
    /// Milliseconds since the Unix epoch (KuCoin, Bybit, Binance).
    UnixMillis,
    /// Whole seconds since the Unix epoch (Coinbase Exchange, Gate).
    UnixSeconds,
    /// Whole seconds since the Unix epoch of an expiry this many seconds after the moment
    /// (BitMEX's `api-expires`).
    ExpiresAfterSeconds(u64),
    /// ISO 8601 in UTC with milliseconds (OKX).
    Iso8601Millis,
    /// Not the moment but the context's [nonce](SigningContext::nonce), in decimal (Kraken).
    Nonce,
}

/// Room for the longest timestamp: ISO 8601 of the largest `u64` millisecond count (a nine-digit
/// year, 29 characters).
const TIMESTAMP_CAPACITY: usize = 32;

/// A timestamp written out as ASCII text in a stack buffer: signing puts it in the
/// string-to-sign and in a header without allocating for the text itself.
///
/// # Example
///
/// ```
/// use keyward::sign::{SigningContext, TimestampFormat};
///
/// let text = SigningContext::at_millis(7).timestamp(TimestampFormat::UnixMillis);
/// assert_eq!(text.as_bytes(), b"7");
/// assert_eq!(text.to_header_value()?, "7");
/// # Ok::<(), keyward::sign::SignError>(())
/// ```
#[derive(Clone, Copy)]
pub struct TimestampText {
    text: [u8; TIMESTAMP_CAPACITY],
    len: usize,
}

impl TimestampText {
    fn decimal(mut value: u64) -> Self {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        let len = digits.len() - start;
        let mut text = [0u8; TIMESTAMP_CAPACITY];
        text[..len].copy_from_slice(&digits[start..]);
        Self { text, len }
    }

    fn iso8601_millis(unix_millis: u64) -> Self {
        let secs = unix_millis / 1000;
        let rem = secs % 86_400;
        let (year, month, day) = civil_from_days(secs / 86_400);
        let fields = [month, day, rem / 3600, (rem % 3600) / 60, rem % 60, unix_millis % 1000];
        if year > 9999 {
            // Past the four-digit years of the fixed layout below: written field by field.
            let mut text = String::with_capacity(TIMESTAMP_CAPACITY);
            text.push_str(Self::decimal(year).as_str());
            let [month, day, hours, minutes, seconds, millis] = fields.map(Self::decimal);
            for (separator, field, width) in [
                ('-', month, 2),
                ('-', day, 2),
                ('T', hours, 2),
                (':', minutes, 2),
                (':', seconds, 2),
                ('.', millis, 3),
            ] {
                text.push(separator);
                text.extend(std::iter::repeat_n('0', width - field.len.min(width)));
                text.push_str(field.as_str());
            }
            text.push('Z');
            let mut fixed = [0u8; TIMESTAMP_CAPACITY];
            let len = text.len().min(TIMESTAMP_CAPACITY);
            fixed[..len].copy_from_slice(&text.as_bytes()[..len]);
            return Self { text: fixed, len };
        }
        let mut text = [0u8; TIMESTAMP_CAPACITY];
        text[..24].copy_from_slice(b"0000-00-00T00:00:00.000Z");
        let [month, day, hours, minutes, seconds, millis] = fields;
        for (range, value) in [
            (0..4, year),
            (5..7, month),
            (8..10, day),
            (11..13, hours),
            (14..16, minutes),
            (17..19, seconds),
            (20..23, millis),
        ] {
            write_fixed_width(&mut text[range], value);
        }
        Self { text, len: 24 }
    }

    /// The text as ASCII bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.text[..self.len]
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Digits and ISO 8601 punctuation are ASCII, so this never falls back to "".
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The text as a header value.
    ///
    /// # Errors
    ///
    /// Never for digits and ISO 8601; typed as fallible because `HeaderValue` construction is.
    pub fn to_header_value(&self) -> Result<http::HeaderValue, SignError> {
        http::HeaderValue::from_bytes(self.as_bytes()).map_err(SignError::header)
    }
}

impl fmt::Debug for TimestampText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TimestampText").field(&self.as_str()).finish()
    }
}

/// Writes `value` in decimal into all of `slot`, zero-padded (the value fits: callers pass
/// calendar fields).
fn write_fixed_width(slot: &mut [u8], mut value: u64) {
    for byte in slot.iter_mut().rev() {
        *byte = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `civil_from_days`).
///
/// Written out rather than pulling a date crate into the signing path: it is twelve lines of
/// integer arithmetic, and it lets signing write the timestamp on the stack.
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
    fn decimal_text_matches_display() {
        for value in [0, 1, 9, 10, 1_538_054_050_975, u64::MAX] {
            assert_eq!(TimestampText::decimal(value).as_str(), value.to_string());
        }
    }

    #[test]
    fn iso8601_past_year_9999_keeps_its_layout() {
        let text = SigningContext::at_millis(u64::MAX).iso8601_millis();
        assert_eq!(text.len(), 29, "{text}");
        assert!(text[..9].bytes().all(|byte| byte.is_ascii_digit()), "{text}");
        assert_eq!(&text[9..10], "-");
        assert!(text.ends_with(".615Z"), "{text}");
        // 10000-01-01T00:00:00.000Z, the first moment past the fixed layout.
        assert_eq!(
            SigningContext::at_millis(253_402_300_800_000).iso8601_millis(),
            "10000-01-01T00:00:00.000Z"
        );
        assert_eq!(
            SigningContext::at_millis(253_402_300_799_999).iso8601_millis(),
            "9999-12-31T23:59:59.999Z"
        );
    }

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
