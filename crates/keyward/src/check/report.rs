//! The outcome of a preflight: one [`Check`] per line, `ok`, `warn` or `fail`, with the fix.

use serde_json::{Value, json};
use std::fmt;

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Nothing to do.
    Ok,
    /// Safe to start, but something deserves a fix.
    Warn,
    /// Unsafe: a bot must not start like this.
    Fail,
}

impl Status {
    /// `ok`, `warn` or `fail`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warn => "warn",
            Self::Fail => "fail",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` so that `{:<4}` lines the checks up.
        f.pad(self.as_str())
    }
}

/// One check: its name, how it came out, what was found and, unless it is ok, the fix.
///
/// Never holds a secret, a passphrase or a full API key: keys appear as their fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// A short, stable name: `credentials`, `clock`, `ntp`, `authentication`, `permissions`,
    /// `ip-restriction`, `key-age`, `egress-ip`.
    pub name: &'static str,
    /// How it came out.
    pub status: Status,
    /// What was found, as a sentence.
    pub detail: String,
    /// The fix, as a sentence, when there is something to fix.
    pub fix: Option<String>,
}

impl Check {
    /// A check that passed.
    pub fn ok(name: &'static str, detail: impl Into<String>) -> Self {
        Self {
            name,
            status: Status::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    /// A check that warns, with its fix.
    pub fn warn(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            name,
            status: Status::Warn,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    /// A check that failed, with its fix.
    pub fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            name,
            status: Status::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

impl fmt::Display for Check {
    /// `fail permissions: withdrawals are enabled for key …Eh8A. Fix: ...`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<4} {}: {}", self.status, self.name, self.detail)?;
        if let Some(fix) = &self.fix {
            write!(f, " Fix: {fix}")?;
        }
        Ok(())
    }
}

/// Every check of one preflight, in the order they ran.
///
/// # Example
///
/// ```
/// use keyward::check::{Check, Report};
///
/// let report = Report {
///     exchange: "binance",
///     checks: vec![
///         Check::ok("clock", "the host clock is 12 ms behind binance."),
///         Check::fail("ip-restriction", "the key accepts requests from any IP address.", "Restrict it."),
///     ],
/// };
/// assert!(!report.ok());
/// assert_eq!(report.to_string().lines().count(), 2);
/// assert_eq!(report.to_json()["checks"][1]["status"], "fail");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The exchange checked.
    pub exchange: &'static str,
    /// The checks, in order.
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether no check failed: warnings do not stop a bot.
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|check| check.status != Status::Fail)
    }

    /// The check called `name`, if it ran.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|check| check.name == name)
    }

    /// `{"exchange":..,"checks":[{"name":..,"status":"ok|warn|fail","detail":..,"fix":..}],"ok":bool}`.
    pub fn to_json(&self) -> Value {
        let checks: Vec<Value> = self
            .checks
            .iter()
            .map(|check| {
                json!({
                    "name": check.name,
                    "status": check.status.as_str(),
                    "detail": check.detail,
                    "fix": check.fix,
                })
            })
            .collect();
        json!({"exchange": self.exchange, "checks": checks, "ok": self.ok()})
    }
}

impl fmt::Display for Report {
    /// One line per check.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for check in &self.checks {
            writeln!(f, "{check}")?;
        }
        Ok(())
    }
}
