//! The mock exchange's clock: a base time (the local clock, or a test's injected time source)
//! plus an adjustable offset, and the date formats exchanges answer in.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// A test's own notion of "now", in Unix milliseconds (see `Builder::time_source`).
pub(crate) type TimeSource = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The exchange's clock. The offset can change while the server runs, so that a test can move
/// the exchange's time without restarting it. Every window, decay, ban and timestamp check of
/// the mock reads this clock, so a test that injects a time source drives all of them.
pub(crate) struct Clock {
    offset_ms: AtomicI64,
    source: Option<TimeSource>,
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clock")
            .field("offset_ms", &self.offset_ms())
            .field("injected", &self.source.is_some())
            .finish()
    }
}

impl Clock {
    pub(crate) fn new(offset_ms: i64, source: Option<TimeSource>) -> Self {
        Self {
            offset_ms: AtomicI64::new(offset_ms),
            source,
        }
    }

    pub(crate) fn set_offset_ms(&self, offset_ms: i64) {
        self.offset_ms.store(offset_ms, Ordering::Relaxed);
    }

    pub(crate) fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// The exchange's time in Unix milliseconds.
    pub(crate) fn now_ms(&self) -> i64 {
        let base = match &self.source {
            Some(source) => source(),
            None => local_now_ms(),
        };
        base.saturating_add(self.offset_ms())
    }

    /// The exchange's time as a `SystemTime`, for the `Date` header (clamped at the epoch).
    pub(crate) fn now_system_time(&self) -> SystemTime {
        let millis = u64::try_from(self.now_ms()).unwrap_or(0);
        UNIX_EPOCH + Duration::from_millis(millis)
    }
}

/// The local clock in Unix milliseconds.
pub(crate) fn local_now_ms() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(elapsed) => i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX),
        // A local clock before 1970 is a broken machine; the mock then starts at the epoch.
        Err(_) => 0,
    }
}

/// A calendar moment in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub(crate) year: i64,
    pub(crate) month: u32,
    pub(crate) day: u32,
    pub(crate) hour: u32,
    pub(crate) minute: u32,
    pub(crate) second: u32,
    pub(crate) millis: u32,
    /// 0 = Sunday.
    pub(crate) weekday: u32,
}

impl Civil {
    pub(crate) fn from_unix_ms(unix_ms: i64) -> Self {
        let days = unix_ms.div_euclid(86_400_000);
        let in_day = unix_ms.rem_euclid(86_400_000);
        let (year, month, day) = civil_from_days(days);
        // The casts are in range: each value is reduced modulo its unit above.
        let secs = (in_day / 1000) as u32;
        Self {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: (secs % 3600) / 60,
            second: secs % 60,
            millis: (in_day % 1000) as u32,
            weekday: (days + 4).rem_euclid(7) as u32,
        }
    }

    /// `2020-12-08T09:08:57.715Z`, as OKX, Coinbase and BitMEX write times.
    pub(crate) fn iso8601_millis(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.millis
        )
    }

    /// `Sun, 21 Mar 21 14:23:14 +0000`: Kraken's `rfc1123` field, with a two-digit year.
    pub(crate) fn kraken_rfc1123(&self) -> String {
        const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        format!(
            "{}, {:02} {} {:02} {:02}:{:02}:{:02} +0000",
            DAYS[self.weekday as usize % 7],
            self.day,
            MONTHS[(self.month as usize + 11) % 12],
            self.year.rem_euclid(100),
            self.hour,
            self.minute,
            self.second
        )
    }
}

/// Parses an ISO 8601 UTC time with optional fraction (`2020-12-08T09:08:57.715Z`) to Unix
/// milliseconds. Anything else, including other time zones, is `None`: OKX documents only `Z`.
pub(crate) fn parse_iso8601_ms(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() < 20 || bytes.last() != Some(&b'Z') {
        return None;
    }
    let field = |from: usize, to: usize| -> Option<i64> {
        let part = text.get(from..to)?;
        if !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    if bytes[4] != b'-' || bytes[7] != b'-' || bytes[10] != b'T' || bytes[13] != b':' || bytes[16] != b':' {
        return None;
    }
    let (year, month, day) = (field(0, 4)?, field(5, 7)?, field(8, 10)?);
    let (hour, minute, second) = (field(11, 13)?, field(14, 16)?, field(17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let fraction = &text[19..text.len() - 1];
    let millis = match fraction.strip_prefix('.') {
        None if fraction.is_empty() => 0,
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            let padded = format!("{digits:0<3}");
            padded[..3].parse::<i64>().ok()?
        }
        _ => return None,
    };
    let days = days_from_civil(year, month as u32, day as u32);
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis)
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_moments() {
        let okx_doc_example = Civil::from_unix_ms(1_607_418_537_715);
        assert_eq!(okx_doc_example.iso8601_millis(), "2020-12-08T09:08:57.715Z");
        assert_eq!(
            Civil::from_unix_ms(951_782_400_001).iso8601_millis(),
            "2000-02-29T00:00:00.001Z"
        );
        // Kraken's documented example answer for 1616336594.
        assert_eq!(
            Civil::from_unix_ms(1_616_336_594_000).kraken_rfc1123(),
            "Sun, 21 Mar 21 14:23:14 +0000"
        );
    }

    #[test]
    fn parses_what_it_formats() {
        for millis in [0, 951_782_400_001, 1_607_418_537_715, 4_102_444_799_999] {
            let text = Civil::from_unix_ms(millis).iso8601_millis();
            assert_eq!(parse_iso8601_ms(&text), Some(millis), "{text}");
        }
        assert_eq!(parse_iso8601_ms("2020-12-08T09:08:57Z"), Some(1_607_418_537_000));
        assert_eq!(parse_iso8601_ms("2020-12-08T09:08:57.7Z"), Some(1_607_418_537_700));
    }

    #[test]
    fn rejects_other_shapes() {
        for text in [
            "",
            "1607418537715",
            "2020-12-08 09:08:57.715Z",
            "2020-12-08T09:08:57.715+01:00",
            "2020-13-08T09:08:57.715Z",
            "2020-12-08T09:08:57.Z",
        ] {
            assert_eq!(parse_iso8601_ms(text), None, "{text}");
        }
    }

    #[test]
    fn offset_moves_the_clock() {
        let clock = Clock::new(0, None);
        let before = clock.now_ms();
        clock.set_offset_ms(-1_000_000_000);
        assert!(clock.now_ms() < before - 999_000_000);
    }

    #[test]
    fn an_injected_source_replaces_the_local_clock_and_keeps_the_offset() {
        let now = Arc::new(AtomicI64::new(1_000));
        let source = Arc::clone(&now);
        let clock = Clock::new(500, Some(Arc::new(move || source.load(Ordering::Relaxed))));
        assert_eq!(clock.now_ms(), 1_500);
        now.store(61_000, Ordering::Relaxed);
        assert_eq!(clock.now_ms(), 61_500);
    }
}
