//! Endpoint rules: which method and path a rule matches, and why it exists.

use std::{borrow::Cow, fmt};

/// Why an endpoint is dangerous.
///
/// # Example
///
/// ```
/// use keyward::guard::EndpointCategory;
/// assert_eq!(EndpointCategory::Withdrawal.to_string(), "withdrawal");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EndpointCategory {
    /// Moves funds off the exchange.
    Withdrawal,
    /// Moves funds between accounts or wallets.
    Transfer,
    /// Creates or controls sub-accounts.
    SubAccount,
    /// Creates, changes or deletes API keys.
    ApiKeyManagement,
    /// Named by the user's own configuration.
    Custom,
}

impl fmt::Display for EndpointCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Withdrawal => "withdrawal",
            Self::Transfer => "transfer",
            Self::SubAccount => "sub-account",
            Self::ApiKeyManagement => "api-key management",
            Self::Custom => "custom",
        })
    }
}

/// A method and path pattern.
///
/// The pattern is matched against the request's path, percent-decoded, with repeated slashes
/// collapsed, case-insensitively (so `/SAPI//v1/capital/withdraw/apply` cannot slip past
/// `/sapi/v1/capital/withdraw/`). A pattern ending in `/` matches every path below it; a `*`
/// segment matches any one segment; otherwise the whole path must match.
///
/// # Example
///
/// ```
/// use keyward::guard::{EndpointCategory, EndpointRule};
///
/// let rule = EndpointRule::new(None, "/sapi/v1/capital/withdraw/", EndpointCategory::Withdrawal);
/// assert!(rule.matches(&http::Method::POST, "/sapi/v1/capital/withdraw/apply"));
/// assert!(rule.matches(&http::Method::POST, "/SAPI//v1/capital/withdraw/apply"));
/// assert!(rule.matches(&http::Method::POST, "/sapi/v1/x/../capital/%77ithdraw/apply"));
/// assert!(!rule.matches(&http::Method::GET, "/sapi/v1/capital/config/getall"));
///
/// let rule = EndpointRule::new(Some("POST"), "/api/v1/accounts/*/transfer", EndpointCategory::Transfer);
/// assert!(rule.matches(&http::Method::POST, "/api/v1/accounts/abc/transfer"));
/// assert!(!rule.matches(&http::Method::GET, "/api/v1/accounts/abc/transfer"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRule {
    /// The HTTP method it applies to, or `None` for every method.
    pub method: Option<Cow<'static, str>>,
    /// The path pattern.
    pub path: Cow<'static, str>,
    /// Why it exists.
    pub category: EndpointCategory,
}

impl EndpointRule {
    /// A rule for `method` (or every method) and `path`.
    pub const fn new(method: Option<&'static str>, path: &'static str, category: EndpointCategory) -> Self {
        let method = match method {
            Some(method) => Some(Cow::Borrowed(method)),
            None => None,
        };
        Self {
            method,
            path: Cow::Borrowed(path),
            category,
        }
    }

    /// A rule from the user's own configuration (category [`EndpointCategory::Custom`]).
    ///
    /// # Example
    ///
    /// ```
    /// use keyward::guard::EndpointRule;
    ///
    /// let rule = EndpointRule::custom(Some("DELETE".to_owned()), "/api/v3/openOrders".to_owned());
    /// assert!(rule.matches(&http::Method::DELETE, "/api/v3/openOrders"));
    /// ```
    pub fn custom(method: Option<String>, path: String) -> Self {
        Self {
            method: method.map(Cow::Owned),
            path: Cow::Owned(path),
            category: EndpointCategory::Custom,
        }
    }

    /// Whether a request with `method` to `path` (the URL path, possibly percent-encoded)
    /// falls under this rule.
    pub fn matches(&self, method: &http::Method, path: &str) -> bool {
        self.matches_normalized(method, &NormalizedPath::new(path))
    }

    /// [`matches`](Self::matches) for a path normalised once for every rule of a policy.
    pub(crate) fn matches_normalized(&self, method: &http::Method, path: &NormalizedPath<'_>) -> bool {
        self.method_matches(method) && segments_match(pattern_segments(&self.path), self.path.ends_with('/'), path)
    }

    fn method_matches(&self, method: &http::Method) -> bool {
        self.method
            .as_deref()
            .is_none_or(|wanted| method.as_str().eq_ignore_ascii_case(wanted))
    }
}

/// The non-empty segments of a rule's pattern.
fn pattern_segments(pattern: &str) -> impl Iterator<Item = &str> {
    pattern.split('/').filter(|segment| !segment.is_empty())
}

/// Whether the `wanted` pattern segments (`*` for any one) match `path`, whole or, for a
/// `prefix` pattern, as a prefix.
fn segments_match<'w>(mut wanted: impl Iterator<Item = &'w str>, prefix: bool, path: &NormalizedPath<'_>) -> bool {
    let mut actual = path.segments.iter();
    loop {
        match (wanted.next(), actual.next()) {
            (None, None) => return true,
            (None, Some(_)) => return prefix,
            (Some(_), None) => return false,
            (Some("*"), Some(_)) => {}
            (Some(w), Some(a)) if w.eq_ignore_ascii_case(a) => {}
            _ => return false,
        }
    }
}

/// A rule with its pattern split into segments once, when a guard layer is built, rather than
/// on every request: a policy checks every request against a few dozen rules.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    rule: EndpointRule,
    segments: Box<[Box<str>]>,
    prefix: bool,
}

impl CompiledRule {
    pub(crate) fn new(rule: &EndpointRule) -> Self {
        Self {
            rule: rule.clone(),
            segments: pattern_segments(&rule.path).map(Box::from).collect(),
            prefix: rule.path.ends_with('/'),
        }
    }

    /// The rule it was compiled from.
    pub(crate) fn rule(&self) -> &EndpointRule {
        &self.rule
    }

    /// The same answer as [`EndpointRule::matches_normalized`].
    pub(crate) fn matches(&self, method: &http::Method, path: &NormalizedPath<'_>) -> bool {
        // The path first: it tells most rules apart at the first segment, while most rules
        // name the same method.
        segments_match(self.segments.iter().map(|segment| &**segment), self.prefix, path)
            && self.rule.method_matches(method)
    }
}

/// A request path as servers route it: percent-decoded, empty and `.` segments dropped, `..`
/// resolved. Servers resolve `.` and `..` before routing, so the guard does too: otherwise
/// `/sapi/v1/x/../capital/withdraw/apply` would slip past a withdrawal rule.
#[derive(Debug)]
pub(crate) struct NormalizedPath<'a> {
    segments: Vec<Cow<'a, str>>,
}

impl<'a> NormalizedPath<'a> {
    pub(crate) fn new(path: &'a str) -> Self {
        let mut segments: Vec<Cow<'a, str>> = Vec::with_capacity(8);
        // Most paths have no escapes: then the segments borrow from the path, and the decoder
        // (which also validates UTF-8) is not run at all.
        let decoded = match path.contains('%') {
            true => percent_decode(path),
            false => Cow::Borrowed(path),
        };
        let mut push = |segment: Cow<'a, str>| match segment.as_ref() {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            _ => segments.push(segment),
        };
        match decoded {
            Cow::Borrowed(decoded) => decoded.split('/').for_each(|segment| push(Cow::Borrowed(segment))),
            Cow::Owned(decoded) => decoded
                .split('/')
                .for_each(|segment| push(Cow::Owned(segment.to_owned()))),
        }
        Self { segments }
    }
}

fn percent_decode(path: &str) -> std::borrow::Cow<'_, str> {
    percent_encoding::percent_decode_str(path).decode_utf8_lossy()
}
