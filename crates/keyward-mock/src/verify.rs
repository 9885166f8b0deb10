//! The primitives every exchange's verification is built from: HMACs over parts of the request
//! as received, decoding of the presented signature, and constant-time comparison.

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq;

/// HMAC-SHA256 of the concatenated `parts`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail; an empty MAC simply never matches.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return Vec::new();
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// HMAC-SHA512 of the concatenated `parts`.
pub(crate) fn hmac_sha512(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha512>::new_from_slice(key) else {
        return Vec::new();
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// Whether the presented signature equals the expected MAC, in time independent of where they
/// differ. An empty expected value never matches.
pub(crate) fn same(expected: &[u8], presented: &[u8]) -> bool {
    !expected.is_empty() && bool::from(expected.ct_eq(presented))
}

/// Compares a hex signature (either case: the exchanges that use hex accept both).
pub(crate) fn hex_matches(expected: &[u8], presented: &str) -> bool {
    match hex::decode(presented) {
        Ok(bytes) => same(expected, &bytes),
        Err(_) => false,
    }
}

/// Compares a standard base64 signature.
pub(crate) fn base64_matches(expected: &[u8], presented: &str) -> bool {
    match BASE64.decode(presented) {
        Ok(bytes) => same(expected, &bytes),
        Err(_) => false,
    }
}

/// Standard base64 decoding of a secret.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    BASE64.decode(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_comparison_ignores_case_and_rejects_garbage() {
        let mac = hmac_sha256(b"test-only-secret", &[b"a", b"b"]);
        assert_eq!(mac, hmac_sha256(b"test-only-secret", &[b"ab"]));
        assert!(hex_matches(&mac, &hex::encode(&mac)));
        assert!(hex_matches(&mac, &hex::encode_upper(&mac)));
        assert!(!hex_matches(&mac, "zz"));
        assert!(!hex_matches(&mac, &hex::encode(&mac[..31])));
        assert!(!same(&[], &[]));
    }

    #[test]
    fn base64_comparison() {
        let mac = hmac_sha512(b"k", &[b"m"]);
        assert!(base64_matches(&mac, &BASE64.encode(&mac)));
        assert!(!base64_matches(&mac, "not base64!"));
    }
}
