//! Fingerprints: which key was used, without revealing it.

use std::fmt;

/// Identifies an API key in logs and audit records without revealing it.
///
/// The fingerprint of a key of 16 characters or more is an ellipsis followed by its last four
/// characters (`…Eh8A`): exchanges show keys in full in their key-management pages, so the tail is
/// what an operator can match by eye, while four characters of a 24-to-64 character random key
/// leave it unguessable. A shorter value is not a real exchange key, and four characters of it
/// would be most of it, so it is shown as `[REDACTED]`.
///
/// # Example
///
/// ```
/// use keyward::credentials::Fingerprint;
///
/// assert_eq!(Fingerprint::of("vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A").to_string(), "…Eh8A");
/// assert_eq!(Fingerprint::of("short").to_string(), "[REDACTED]");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    tail: [char; 4],
    shown: bool,
}

/// Keys shorter than this are redacted instead of fingerprinted.
const MIN_FINGERPRINTED_LEN: usize = 16;

impl Fingerprint {
    /// The fingerprint of `key`.
    pub fn of(key: &str) -> Self {
        let count = key.chars().count();
        let mut tail = ['\0'; 4];
        if count < MIN_FINGERPRINTED_LEN {
            return Self { tail, shown: false };
        }
        for (slot, c) in tail.iter_mut().zip(key.chars().skip(count - 4)) {
            *slot = c;
        }
        Self { tail, shown: true }
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.shown {
            return f.write_str("[REDACTED]");
        }
        f.write_str("…")?;
        for c in self.tail {
            fmt::Write::write_char(f, c)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_tail_is_kept_whole() {
        assert_eq!(Fingerprint::of("ñññññññññññññññéèêë").to_string(), "…éèêë");
    }

    #[test]
    fn fifteen_characters_are_redacted() {
        assert_eq!(Fingerprint::of("123456789012345").to_string(), "[REDACTED]");
        assert_eq!(Fingerprint::of("1234567890123456").to_string(), "…3456");
    }
}
