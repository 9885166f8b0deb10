//! Target `secret_file`: the check every credential read from a secrets file or a command's
//! output goes through.

use crate::leak::assert_not_quoted;
use keyward::__private::fuzzing;

/// Checks a secrets file's content as `SecretFiles` and `CommandSource` do.
///
/// Checks that an accepted credential is the content less its trailing line breaks, not blank,
/// without control characters, and one line unless it is a PEM block: a stray line break or
/// control character inside an API key or secret breaks the request's signature or headers
/// far from where the file was read. And that an error never quotes the content.
pub fn secret_file(data: &[u8]) {
    match fuzzing::credential_text(data) {
        Ok(text) => {
            let text = text.as_str();
            assert!(
                data.starts_with(text.as_bytes()),
                "the credential is not the file's content"
            );
            assert!(
                data[text.len()..].iter().all(|byte| matches!(byte, b'\n' | b'\r')),
                "more than the trailing line breaks was removed"
            );
            assert!(!text.trim().is_empty(), "a blank credential was accepted");
            assert!(
                !text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')),
                "a credential with control characters was accepted"
            );
            let pem = text.trim().starts_with("-----BEGIN ") && text.trim().ends_with("-----");
            assert!(
                pem || !text.contains(['\n', '\r']),
                "a credential of several lines that is not a PEM block was accepted"
            );
        }
        Err(err) => assert_not_quoted(&err.to_string(), data, "secrets file fuzz.secret"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_shapes_pass_the_checks() {
        secret_file(b"test-only-secret-0123456789\r\n");
        secret_file(b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n");
        secret_file(b"test-only-secret-line-one\ntest-only-secret-line-two\n");
        secret_file(b"\xff\xfe test-only-secret");
    }
}
