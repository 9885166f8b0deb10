//! What a credential read from a file, a variable or a command must look like.

use crate::credentials::CredentialError;
use zeroize::Zeroizing;

/// The most a credential file or command output may hold. A real credential (even an Ed25519
/// PEM) is under a kilobyte; more means the wrong file or command.
pub(super) const MAX_SECRET_BYTES: usize = 64 * 1024;

/// The credential in `raw`: UTF-8, trailing line breaks removed, not empty, one line unless it
/// is a PEM block (Binance Ed25519 keys), no other control characters.
///
/// `location` names where it came from in errors; the value itself never appears in one.
pub(crate) fn credential_text(raw: &[u8], location: &str) -> Result<Zeroizing<String>, CredentialError> {
    let malformed = |problem: &str| CredentialError::Malformed {
        location: location.to_owned(),
        problem: problem.to_owned(),
    };
    let text = std::str::from_utf8(raw).map_err(|_| malformed("it is not UTF-8 text"))?;
    let text = text.trim_end_matches(['\n', '\r']);
    if text.trim().is_empty() {
        return Err(CredentialError::Empty {
            location: location.to_owned(),
        });
    }
    // A lone carriage return breaks a line too (and a header or a signature with it).
    let lines = text.split("\r\n").flat_map(|line| line.split(['\n', '\r'])).count();
    if lines > 1 && !is_pem(text) {
        return Err(malformed(&format!(
            "it has {lines} lines, and a credential is one line (a PEM private key is the only exception)"
        )));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(malformed("it contains control characters"));
    }
    Ok(Zeroizing::new(text.to_owned()))
}

/// Moves the text out of its zeroizing wrapper without copying it: for [`Credentials::new`],
/// which keeps it in a zeroizing `SecretString`.
///
/// [`Credentials::new`]: crate::Credentials::new
pub(super) fn into_secret(mut text: Zeroizing<String>) -> String {
    std::mem::take(&mut *text)
}

fn is_pem(text: &str) -> bool {
    let text = text.trim();
    text.starts_with("-----BEGIN ") && text.ends_with("-----") && text.contains("\n-----END ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_line_breaks_are_removed_and_nothing_else() {
        assert_eq!(credential_text(b"abc def\r\n\n", "x").unwrap().as_str(), "abc def");
        assert_eq!(credential_text(b" abc", "x").unwrap().as_str(), " abc");
    }

    #[test]
    fn pem_may_span_lines_other_text_may_not() {
        let pem = b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n";
        assert!(credential_text(pem, "x").is_ok());
        let err = credential_text(b"line-one\nline-two\n", "the output of `x`").unwrap_err();
        assert!(matches!(err, CredentialError::Malformed { .. }), "{err}");
        assert!(!err.to_string().contains("line-one"), "{err}");
    }

    #[test]
    fn empty_and_binary_are_refused() {
        assert!(matches!(
            credential_text(b"\n\n", "x"),
            Err(CredentialError::Empty { .. })
        ));
        assert!(matches!(
            credential_text(b"a\x00b", "x"),
            Err(CredentialError::Malformed { .. })
        ));
        assert!(matches!(
            credential_text(b"\xff\xfe", "x"),
            Err(CredentialError::Malformed { .. })
        ));
    }
}
