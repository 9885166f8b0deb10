//! The no-leak check shared by the credential targets: an error about a secrets file must not
//! quote the file.

use std::collections::HashSet;

/// The shortest run of input bytes that counts as quoted. Shorter runs occur by chance in any
/// message ("line ", "=\"") and a secret is longer.
const QUOTE_BYTES: usize = 16;

/// Panics if `message` holds any run of [`QUOTE_BYTES`] bytes of `input` that is not also in
/// `allowed` (the fixed wording and the location the caller gave, which an input may repeat).
pub(crate) fn assert_not_quoted(message: &str, input: &[u8], allowed: &str) {
    let message = message.as_bytes();
    if message.len() < QUOTE_BYTES || input.len() < QUOTE_BYTES {
        return;
    }
    let in_message: HashSet<&[u8]> = message.windows(QUOTE_BYTES).collect();
    for run in input.windows(QUOTE_BYTES) {
        if in_message.contains(run) && !contains(allowed.as_bytes(), run) {
            panic!(
                "an error quotes its input: {:?} appears in {:?}",
                String::from_utf8_lossy(run),
                String::from_utf8_lossy(message)
            );
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "quotes its input")]
    fn a_quoted_secret_is_caught() {
        assert_not_quoted(
            "bad line: test-only-secret-0123456789",
            b"KEY=test-only-secret-0123456789\n",
            "",
        );
    }

    #[test]
    fn fixed_wording_is_not_a_quote() {
        assert_not_quoted(
            "the line is not shown because it may hold a secret",
            b"the line is not shown because",
            "the line is not shown because it may hold a secret",
        );
    }
}
