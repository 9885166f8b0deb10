//! Assembling a string-to-sign from labelled parts, reporting each part to the [`SignTrace`].
//!
//! Every exchange signs a concatenation of request parts (timestamp, method, path, body, ...).
//! Building it here keeps two things true for all of them: `keyward sign --explain` sees exactly
//! the parts that were signed, in order, and the string is allocated once, at its final size.
//!
//! # Example
//!
//! ```
//! use keyward::sign::{Explanation, prehash};
//!
//! let mut explanation = Explanation::default();
//! let signed = prehash::concat(&mut explanation, &[("method", b"GET"), ("path", b"/api/v3/account")]);
//! assert_eq!(signed, b"GET/api/v3/account");
//! assert_eq!(explanation.parts()[1], ("path", b"/api/v3/account".to_vec()));
//! assert_eq!(explanation.signed(), b"GET/api/v3/account");
//! ```

use super::SignTrace;
use http::Uri;

/// The parts one after another, with nothing between them.
///
/// Reports each part with its label, then the whole, to `trace`.
///
/// # Example
///
/// ```
/// use keyward::sign::{NoTrace, prehash};
///
/// assert_eq!(prehash::concat(&mut NoTrace, &[("timestamp", b"1578963600000"), ("body", b"")]), b"1578963600000");
/// ```
pub fn concat(trace: &mut dyn SignTrace, parts: &[(&'static str, &[u8])]) -> Vec<u8> {
    join(trace, b"", parts)
}

/// The parts with `separator` between each two of them (Gate joins its parts with `\n`).
///
/// Reports each part with its label, then the whole, to `trace`; the separators are not parts.
///
/// # Example
///
/// ```
/// use keyward::sign::{Explanation, prehash};
///
/// let mut explanation = Explanation::default();
/// let signed = prehash::join(&mut explanation, b"\n", &[("method", b"GET"), ("path", b"/api/v4/spot/orders")]);
/// assert_eq!(signed, b"GET\n/api/v4/spot/orders");
/// assert_eq!(explanation.parts().len(), 2);
/// ```
pub fn join(trace: &mut dyn SignTrace, separator: &[u8], parts: &[(&'static str, &[u8])]) -> Vec<u8> {
    let separators = separator.len() * parts.len().saturating_sub(1);
    let mut prehash = Vec::with_capacity(parts.iter().map(|(_, value)| value.len()).sum::<usize>() + separators);
    for (index, &(label, value)) in parts.iter().enumerate() {
        trace.part(label, value);
        if index > 0 {
            prehash.extend_from_slice(separator);
        }
        prehash.extend_from_slice(value);
    }
    trace.string_to_sign(&prehash);
    prehash
}

/// The request target as sent: the path, then `?` and the query when the URL has one (even an
/// empty one). `None` when the URL has no path to sign, as `*` or a bare authority.
///
/// # Example
///
/// ```
/// use keyward::sign::prehash;
///
/// let uri: http::Uri = "https://www.okx.com/api/v5/account/balance?ccy=BTC".parse()?;
/// assert_eq!(prehash::path_and_query(&uri).as_deref(), Some("/api/v5/account/balance?ccy=BTC"));
/// assert_eq!(prehash::path_and_query(&"*".parse()?), None);
/// # Ok::<(), http::uri::InvalidUri>(())
/// ```
pub fn path_and_query(uri: &Uri) -> Option<String> {
    let path = uri.path();
    if !path.starts_with('/') {
        return None;
    }
    Some(match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::Explanation;

    #[test]
    fn allocates_exactly_once_at_the_final_size() {
        let signed = join(
            &mut Explanation::default(),
            b"\n",
            &[("a", b"12"), ("b", b""), ("c", b"345")],
        );
        assert_eq!(signed, b"12\n\n345");
        assert_eq!(signed.capacity(), signed.len());
    }

    #[test]
    fn reports_every_part_in_order_then_the_whole() {
        let mut explanation = Explanation::default();
        let signed = concat(
            &mut explanation,
            &[("timestamp", b"1"), ("method", b"POST"), ("body", b"{}")],
        );
        let labels: Vec<_> = explanation.parts().iter().map(|(label, _)| *label).collect();
        assert_eq!(labels, ["timestamp", "method", "body"]);
        assert_eq!(explanation.signed(), signed.as_slice());
        assert_eq!(signed, b"1POST{}");
    }

    #[test]
    fn path_and_query_keeps_the_target_as_sent() {
        let target = |uri: &str| path_and_query(&uri.parse().unwrap());
        assert_eq!(target("https://h/a/b?x=%2B&y=1").as_deref(), Some("/a/b?x=%2B&y=1"));
        assert_eq!(target("https://h/a?").as_deref(), Some("/a?"));
        assert_eq!(target("https://h").as_deref(), Some("/"));
        assert_eq!(target("/orders").as_deref(), Some("/orders"));
        assert_eq!(target("*"), None);
    }

    #[test]
    fn no_parts_sign_nothing() {
        assert!(join(&mut Explanation::default(), b"\n", &[]).is_empty());
    }
}
