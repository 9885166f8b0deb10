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
        if let Some(wanted) = &self.method {
            if !method.as_str().eq_ignore_ascii_case(wanted) {
                return false;
            }
        }
        let mut actual = path.segments.iter();
        let prefix = self.path.ends_with('/');
        let mut wanted = self.path.split('/').filter(|s| !s.is_empty());
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
        let mut segments: Vec<Cow<'a, str>> = Vec::new();
        // Most paths have no escapes: then the segments borrow from the path.
        let decoded = percent_decode(path);
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
