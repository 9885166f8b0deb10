//! Writing a MAC tag or signature out as text, on the stack, for a header or a parameter.
//!
//! Exchanges want the signature as lowercase hex or standard base64. Encoding into a fixed buffer
//! instead of a `String` keeps signing to the allocations the request itself needs, and the
//! header value is marked sensitive so that `http`'s own `Debug` never prints it.
//!
//! # Example
//!
//! ```
//! use hmac::{Hmac, Mac};
//! use keyward::sign::{EncodedSignature, SignatureEncoding};
//!
//! let mac = Hmac::<sha2::Sha256>::new_from_slice(b"test-only-secret").unwrap();
//! let signature = EncodedSignature::mac(&mac, b"GET/api/v3/account", SignatureEncoding::LowerHex)?;
//! assert_eq!(signature.as_str().len(), 64);
//! assert!(signature.to_header_value()?.is_sensitive());
//! # Ok::<(), keyward::sign::SignError>(())
//! ```

use super::SignError;
use hmac::Mac;
use http::HeaderValue;
use std::fmt;

/// Room for the longest signature keyward writes: hex of a 64-byte tag (HMAC-SHA512), which is
/// also more than base64 of a 64-byte tag or Ed25519 signature needs.
const CAPACITY: usize = 128;

/// How an exchange wants its signature written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureEncoding {
    /// Lowercase hexadecimal.
    LowerHex,
    /// Standard base64 with padding.
    Base64,
}

/// A signature encoded as text in a stack buffer.
///
/// # Example
///
/// ```
/// use keyward::sign::{EncodedSignature, SignatureEncoding};
///
/// assert_eq!(EncodedSignature::encode(&[0xde, 0xad], SignatureEncoding::LowerHex)?.as_str(), "dead");
/// assert_eq!(EncodedSignature::encode(&[0xde, 0xad], SignatureEncoding::Base64)?.as_str(), "3q0=");
/// # Ok::<(), keyward::sign::SignError>(())
/// ```
#[derive(Clone)]
pub struct EncodedSignature {
    text: [u8; CAPACITY],
    len: usize,
}

impl EncodedSignature {
    /// Encodes `raw` (a MAC tag or a signature).
    ///
    /// # Errors
    ///
    /// [`SignError::InvalidRequest`] if `raw` is longer than any MAC or signature keyward uses
    /// (more than 64 bytes); that is a bug in the signer, not in the request.
    pub fn encode(raw: &[u8], encoding: SignatureEncoding) -> Result<Self, SignError> {
        let mut text = [0u8; CAPACITY];
        let len = match encoding {
            SignatureEncoding::LowerHex => {
                let len = raw.len() * 2;
                text.get_mut(..len)
                    .and_then(|out| hex::encode_to_slice(raw, out).ok())
                    .map(|()| len)
            }
            SignatureEncoding::Base64 => {
                base64::Engine::encode_slice(&base64::engine::general_purpose::STANDARD, raw, &mut text).ok()
            }
        };
        let len = len.ok_or_else(|| SignError::InvalidRequest("internal error: the signature is too long".into()))?;
        Ok(Self { text, len })
    }

    /// MACs `message` with a copy of the prepared `mac` (the prepared state stays keyed for the
    /// next request) and encodes the tag.
    ///
    /// # Errors
    ///
    /// As [`encode`](Self::encode), for a MAC with a tag longer than 64 bytes.
    pub fn mac<M: Mac + Clone>(mac: &M, message: &[u8], encoding: SignatureEncoding) -> Result<Self, SignError> {
        let mut mac = mac.clone();
        mac.update(message);
        Self::encode(&mac.finalize().into_bytes(), encoding)
    }

    /// The signature as text.
    pub fn as_str(&self) -> &str {
        // Hex and base64 are ASCII, so this never falls back to "".
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The signature as ASCII bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.text[..self.len]
    }

    /// The signature as a header value marked sensitive.
    ///
    /// # Errors
    ///
    /// Never for hex or base64; typed as fallible because `HeaderValue` construction is.
    pub fn to_header_value(&self) -> Result<HeaderValue, SignError> {
        let mut value = HeaderValue::from_bytes(self.as_bytes()).map_err(SignError::header)?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl fmt::Debug for EncodedSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A signature is not a secret, but it authorises one request: keep it out of logs.
        f.write_str("EncodedSignature([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use hmac::Hmac;

    #[test]
    fn matches_the_allocating_encoders_for_every_tag_size() {
        let tag = [0xa5u8; 64];
        for len in [0, 1, 20, 32, 63, 64] {
            let raw = &tag[..len];
            let hex = EncodedSignature::encode(raw, SignatureEncoding::LowerHex).unwrap();
            assert_eq!(hex.as_str(), hex::encode(raw));
            let b64 = EncodedSignature::encode(raw, SignatureEncoding::Base64).unwrap();
            assert_eq!(b64.as_str(), base64::engine::general_purpose::STANDARD.encode(raw));
        }
    }

    #[test]
    fn too_long_input_is_an_error_not_a_panic() {
        assert!(EncodedSignature::encode(&[0u8; 65], SignatureEncoding::LowerHex).is_err());
        assert!(EncodedSignature::encode(&[0u8; 97], SignatureEncoding::Base64).is_err());
    }

    #[test]
    fn mac_leaves_the_prepared_state_keyed() {
        let mac = Hmac::<sha2::Sha256>::new_from_slice(b"test-only-secret").unwrap();
        let first = EncodedSignature::mac(&mac, b"message", SignatureEncoding::LowerHex).unwrap();
        let second = EncodedSignature::mac(&mac, b"message", SignatureEncoding::LowerHex).unwrap();
        assert_eq!(first.as_str(), second.as_str());
        let mut independent = Hmac::<sha2::Sha256>::new_from_slice(b"test-only-secret").unwrap();
        independent.update(b"message");
        assert_eq!(first.as_str(), hex::encode(independent.finalize().into_bytes()));
    }

    #[test]
    fn header_value_is_sensitive_and_debug_is_redacted() {
        let signature = EncodedSignature::encode(&[1, 2, 3], SignatureEncoding::Base64).unwrap();
        let header = signature.to_header_value().unwrap();
        assert!(header.is_sensitive());
        assert_eq!(header, "AQID");
        assert!(!format!("{signature:?}").contains("AQID"));
    }
}
