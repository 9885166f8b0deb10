//! Feeding a string-to-sign to a MAC part by part, reporting each part to the [`SignTrace`].
//!
//! Every exchange signs a concatenation of request parts (timestamp, method, path, body, ...).
//! [`Prehash`] keeps two things true for all of them:
//!
//! - `keyward sign --explain` sees exactly the parts that were signed, in order, and the whole;
//! - when the trace does not record (the signing layer passes [`NoTrace`](super::NoTrace)), the
//!   parts go straight into the MAC: the string-to-sign is never assembled, nothing is copied
//!   and nothing is allocated.
//!
//! # Example
//!
//! ```
//! use hmac::{Hmac, Mac};
//! use keyward::sign::{Explanation, KeyedMac, SignatureEncoding, prehash::Prehash};
//!
//! let keyed = KeyedMac::<Hmac<sha2::Sha256>>::new(b"test-only-secret").unwrap();
//! let mut explanation = Explanation::default();
//! let mut prehash = Prehash::new(keyed.start(), b"", &mut explanation);
//! prehash.part("method", b"GET");
//! prehash.part("path", b"/api/v3/account");
//! let signature = prehash.finish(SignatureEncoding::LowerHex)?;
//! assert_eq!(explanation.parts()[1], ("path", b"/api/v3/account".to_vec()));
//! assert_eq!(explanation.signed(), b"GET/api/v3/account");
//! assert_eq!(signature.as_str(), keyed.sign(b"GET/api/v3/account", SignatureEncoding::LowerHex)?.as_str());
//! # Ok::<(), keyward::sign::SignError>(())
//! ```

use super::{EncodedSignature, SignError, SignTrace, SignatureEncoding};
use hmac::Mac;
use http::Uri;
use std::{borrow::Cow, fmt};

/// A string-to-sign being fed to a MAC, one labelled part at a time.
pub struct Prehash<'t, M> {
    mac: M,
    separator: &'static [u8],
    trace: &'t mut dyn SignTrace,
    /// The whole string-to-sign, kept only when the trace records it.
    recorded: Option<Vec<u8>>,
    parts: usize,
}

impl<'t, M: Mac> Prehash<'t, M> {
    /// Starts a string-to-sign for `mac` (a copy of a keyed state), with `separator` between
    /// each two parts (Gate joins its parts with `\n`; most schemes with nothing).
    pub fn new(mac: M, separator: &'static [u8], trace: &'t mut dyn SignTrace) -> Self {
        let recorded = trace.is_recording().then(Vec::new);
        Self {
            mac,
            separator,
            trace,
            recorded,
            parts: 0,
        }
    }

    /// Appends one part.
    pub fn part(&mut self, label: &'static str, value: &[u8]) {
        self.part_in_pieces(label, &[value]);
    }

    /// Appends one part that the request holds in several pieces (a path and its query, a body
    /// and the parameters the signer adds): the MAC reads the pieces in place, and only a
    /// recording trace sees them joined.
    pub fn part_in_pieces(&mut self, label: &'static str, pieces: &[&[u8]]) {
        if self.parts > 0 {
            self.mac.update(self.separator);
        }
        self.parts += 1;
        for piece in pieces {
            self.mac.update(piece);
        }
        if let Some(recorded) = self.recorded.as_mut() {
            if self.parts > 1 {
                recorded.extend_from_slice(self.separator);
            }
            let start = recorded.len();
            for piece in pieces {
                recorded.extend_from_slice(piece);
            }
            self.trace.part(label, &recorded[start..]);
        }
    }

    /// Reports the whole string-to-sign to the trace and returns the MAC's tag, encoded.
    ///
    /// # Errors
    ///
    /// As [`EncodedSignature::encode`], for a MAC with a tag longer than 64 bytes.
    pub fn finish(self, encoding: SignatureEncoding) -> Result<EncodedSignature, SignError> {
        if let Some(recorded) = &self.recorded {
            self.trace.string_to_sign(recorded);
        }
        EncodedSignature::encode(&self.mac.finalize().into_bytes(), encoding)
    }
}

impl<M> fmt::Debug for Prehash<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The MAC state is key-derived and the parts may be confidential: show the count only.
        f.debug_struct("Prehash")
            .field("parts", &self.parts)
            .finish_non_exhaustive()
    }
}

/// The request target as sent: the path, then `?` and the query when the URL has one (even an
/// empty one). `None` when the URL has no path to sign, as `*`.
///
/// Borrowed from the URL in every ordinary case; a URL whose path is implied (`https://h?x=1`)
/// gets the `/` it is sent with.
///
/// # Example
///
/// ```
/// use keyward::sign::prehash;
///
/// let uri: http::Uri = "https://www.okx.com/api/v5/account/balance?ccy=BTC".parse()?;
/// assert_eq!(prehash::request_target(&uri).as_deref(), Some("/api/v5/account/balance?ccy=BTC"));
/// assert_eq!(prehash::request_target(&"*".parse()?), None);
/// # Ok::<(), http::uri::InvalidUri>(())
/// ```
pub fn request_target(uri: &Uri) -> Option<Cow<'_, str>> {
    let path = uri.path();
    if !path.starts_with('/') {
        return None;
    }
    if let Some(target) = uri.path_and_query().map(|target| target.as_str()) {
        if target.starts_with('/') {
            return Some(Cow::Borrowed(target));
        }
    }
    Some(match uri.query() {
        Some(query) => Cow::Owned(format!("{path}?{query}")),
        None => Cow::Borrowed(path),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::{Explanation, KeyedMac, NoTrace};
    use hmac::Hmac;
    use sha2::Sha256;

    fn keyed() -> KeyedMac<Hmac<Sha256>> {
        KeyedMac::new(b"test-only-secret").unwrap()
    }

    #[test]
    fn reports_every_part_in_order_then_the_whole_with_separators() {
        let mut explanation = Explanation::default();
        let mut prehash = Prehash::new(keyed().start(), b"\n", &mut explanation);
        prehash.part("a", b"12");
        prehash.part("b", b"");
        prehash.part_in_pieces("c", &[b"3", b"45"]);
        let signature = prehash.finish(SignatureEncoding::LowerHex).unwrap();
        let labels: Vec<_> = explanation.parts().iter().map(|(label, _)| *label).collect();
        assert_eq!(labels, ["a", "b", "c"]);
        assert_eq!(explanation.parts()[2].1, b"345");
        assert_eq!(explanation.signed(), b"12\n\n345");
        let expected = keyed().sign(b"12\n\n345", SignatureEncoding::LowerHex).unwrap();
        assert_eq!(signature.as_str(), expected.as_str());
    }

    #[test]
    fn without_a_recording_trace_the_mac_reads_the_same_bytes() {
        let mut trace = NoTrace;
        let mut prehash = Prehash::new(keyed().start(), b"\n", &mut trace);
        prehash.part("a", b"12");
        prehash.part("b", b"");
        prehash.part_in_pieces("c", &[b"3", b"45"]);
        let signature = prehash.finish(SignatureEncoding::Base64).unwrap();
        let expected = keyed().sign(b"12\n\n345", SignatureEncoding::Base64).unwrap();
        assert_eq!(signature.as_str(), expected.as_str());
    }

    #[test]
    fn request_target_keeps_the_target_as_sent() {
        let target = |uri: &str| request_target(&uri.parse().unwrap()).map(Cow::into_owned);
        assert_eq!(target("https://h/a/b?x=%2B&y=1").as_deref(), Some("/a/b?x=%2B&y=1"));
        assert_eq!(target("https://h/a?").as_deref(), Some("/a?"));
        assert_eq!(target("https://h").as_deref(), Some("/"));
        assert_eq!(target("https://h?x=1").as_deref(), Some("/?x=1"));
        assert_eq!(target("/orders").as_deref(), Some("/orders"));
        assert_eq!(target("*"), None);
    }
}
