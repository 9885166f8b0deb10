//! A MAC keyed once per credential and copied for every request.
//!
//! Keying HMAC hashes the key padded with `ipad` and with `opad`: two compression rounds that
//! depend only on the secret. Doing them once and cloning the resulting state per request saves
//! those rounds on every call; it also means the state is key-derived material that must be
//! treated like the secret itself.
//!
//! # What is wiped, and what is not
//!
//! `hmac` 0.12 and `sha2` 0.10 expose no way to zeroize a keyed state, and keyward forbids
//! `unsafe`, so [`KeyedMac`] does what safe code can: on drop it overwrites its state with a MAC
//! keyed with the empty key (a public value) and passes the overwritten state to
//! [`std::hint::black_box`] so that the compiler keeps the store. That is best effort, as the
//! `black_box` docs say of any such use. What remains in memory, as in the `zeroize` docs'
//! list of caveats:
//!
//! - the copy cloned for each request, which lives on the signing thread's stack until that stack
//!   space is reused (it has absorbed the request's string-to-sign, so it is as sensitive as the
//!   keyed state);
//! - copies left behind when the state was moved before it reached its final place (from the
//!   signer's constructor into its `Arc`), again on the stack;
//! - copies made by [`Clone`], each wiped the same way when dropped.
//!
//! # Example
//!
//! ```
//! use hmac::{Hmac, Mac};
//! use keyward::sign::{KeyedMac, SignatureEncoding};
//!
//! let keyed = KeyedMac::<Hmac<sha2::Sha256>>::new(b"test-only-secret").unwrap();
//! let mut mac = keyed.start();
//! mac.update(b"GET/api/v3/account");
//! let once = mac.finalize().into_bytes();
//! assert_eq!(keyed.sign(b"GET/api/v3/account", SignatureEncoding::LowerHex)?.as_str(), hex::encode(once));
//! assert_eq!(format!("{keyed:?}"), "KeyedMac([REDACTED])");
//! # Ok::<(), keyward::sign::SignError>(())
//! ```

use super::{EncodedSignature, SignError, SignatureEncoding};
use hmac::{Mac, digest::KeyInit};
use std::fmt;

/// A MAC state keyed once with a secret, cloned per message, wiped (best effort) on drop.
///
/// It is not `Debug`-printable beyond its name: the state is key-derived material.
pub struct KeyedMac<M: Mac + KeyInit + Clone> {
    state: M,
}

impl<M: Mac + KeyInit + Clone> KeyedMac<M> {
    /// Keys the MAC with `key`.
    ///
    /// # Errors
    ///
    /// The MAC's own error when it refuses a key of this length (HMAC takes any length).
    pub fn new(key: &[u8]) -> Result<Self, hmac::digest::InvalidLength> {
        Ok(Self {
            state: <M as KeyInit>::new_from_slice(key)?,
        })
    }

    /// A copy of the keyed state, ready for one message.
    #[inline]
    pub fn start(&self) -> M {
        self.state.clone()
    }

    /// MACs `message` and encodes the tag.
    ///
    /// # Errors
    ///
    /// As [`EncodedSignature::encode`], for a MAC with a tag longer than 64 bytes.
    pub fn sign(&self, message: &[u8], encoding: SignatureEncoding) -> Result<EncodedSignature, SignError> {
        let mut mac = self.start();
        mac.update(message);
        EncodedSignature::encode(&mac.finalize().into_bytes(), encoding)
    }
}

impl<M: Mac + KeyInit + Clone> Clone for KeyedMac<M> {
    fn clone(&self) -> Self {
        Self {
            state: self.state.clone(),
        }
    }
}

impl<M: Mac + KeyInit + Clone> fmt::Debug for KeyedMac<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyedMac([REDACTED])")
    }
}

impl<M: Mac + KeyInit + Clone> Drop for KeyedMac<M> {
    fn drop(&mut self) {
        // See the module docs: overwrite with a public state, and keep the store alive.
        if let Ok(blank) = <M as KeyInit>::new_from_slice(&[]) {
            self.state = blank;
        }
        std::hint::black_box(&mut self.state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::Hmac;
    use sha2::{Sha256, Sha512};

    #[test]
    fn every_copy_signs_like_a_freshly_keyed_mac() {
        let keyed = KeyedMac::<Hmac<Sha512>>::new(b"test-only-secret").unwrap();
        let copy = keyed.clone();
        drop(keyed);
        let mut fresh = <Hmac<Sha512> as Mac>::new_from_slice(b"test-only-secret").unwrap();
        fresh.update(b"message");
        let expected = hex::encode(fresh.finalize().into_bytes());
        for _ in 0..2 {
            assert_eq!(
                copy.sign(b"message", SignatureEncoding::LowerHex).unwrap().as_str(),
                expected
            );
        }
    }

    #[test]
    fn debug_shows_nothing_of_the_state() {
        let keyed = KeyedMac::<Hmac<Sha256>>::new(b"test-only-secret").unwrap();
        assert_eq!(format!("{keyed:?}"), "KeyedMac([REDACTED])");
    }
}
