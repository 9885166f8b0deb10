//! Watching a signer work: the parts of the string-to-sign, for `keyward sign --explain`.

/// Receives the parts of the string-to-sign as a signer assembles it.
///
/// Signers pass public values only (method, path, query, timestamp, body, body hash); never the
/// secret, the passphrase or the MAC key.
///
/// # Example
///
/// ```
/// use keyward::sign::{Explanation, SignTrace};
///
/// let mut explanation = Explanation::default();
/// explanation.part("timestamp", b"1578963600000");
/// explanation.string_to_sign(b"timestamp=1578963600000");
/// assert_eq!(explanation.parts()[0].0, "timestamp");
/// ```
pub trait SignTrace {
    /// One labelled part of the string-to-sign, in order.
    fn part(&mut self, label: &'static str, value: &[u8]);
    /// The complete string-to-sign.
    fn string_to_sign(&mut self, value: &[u8]);

    /// Whether this trace keeps what it is given. Signers assemble the complete string-to-sign
    /// for [`string_to_sign`](Self::string_to_sign) only when it does; otherwise they feed the
    /// parts straight to the MAC without allocating. Defaults to `true`.
    fn is_recording(&self) -> bool {
        true
    }
}

/// A [`SignTrace`] that ignores everything: the one the signing layer uses.
///
/// # Example
///
/// ```
/// use keyward::sign::{NoTrace, SignTrace};
/// NoTrace.part("ignored", b"");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTrace;

impl SignTrace for NoTrace {
    #[inline]
    fn part(&mut self, _: &'static str, _: &[u8]) {}
    #[inline]
    fn string_to_sign(&mut self, _: &[u8]) {}
    #[inline]
    fn is_recording(&self) -> bool {
        false
    }
}

/// A [`SignTrace`] that keeps everything, to show a user how a signature was made.
///
/// # Example
///
/// ```
/// use keyward::sign::{Explanation, SignTrace};
///
/// let mut e = Explanation::default();
/// e.string_to_sign(b"GET/api");
/// assert_eq!(e.signed(), b"GET/api");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Explanation {
    parts: Vec<(&'static str, Vec<u8>)>,
    signed: Vec<u8>,
}

impl Explanation {
    /// The labelled parts, in the order the signer used them.
    pub fn parts(&self) -> &[(&'static str, Vec<u8>)] {
        &self.parts
    }

    /// The complete string-to-sign.
    pub fn signed(&self) -> &[u8] {
        &self.signed
    }
}

impl SignTrace for Explanation {
    fn part(&mut self, label: &'static str, value: &[u8]) {
        self.parts.push((label, value.to_vec()));
    }

    fn string_to_sign(&mut self, value: &[u8]) {
        self.signed = value.to_vec();
    }
}
