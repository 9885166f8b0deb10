//! Audit records: what [`#[audited]`](macro@crate::audited) emits, how it redacts, and where
//! the records go.
//!
//! # The record of a call
//!
//! Every call of an audited function emits exactly one `tracing` event with target
//! [`keyward::audit`](TARGET) when it finishes, with these fields:
//!
//! | field | value |
//! |---|---|
//! | `call` | the function's name, or `name = ".."` |
//! | `outcome` | `"ok"`; `"err"` for an `Err` return; `"panic"` (emitted while the panic unwinds); `"cancelled"` for a future dropped before it completed |
//! | `elapsed_us` | microseconds from the call to its end, as `u64` |
//! | `error` | the error's `Display` (its `Debug` if it has no `Display`), only on `Err` |
//! | `ret` | with `ret`: the `Ok` value (or the value of a non-`Result` return), redacted like a parameter |
//! | one per parameter | named after the parameter; `self` is never recorded |
//! | constants | `exchange = "binance"` and the like, as given |
//!
//! The call runs inside a span with the same target, name, parameters and constants, so every
//! event of the code it calls (the per-attempt events of the middleware) is attributed to it.
//!
//! # Redaction
//!
//! Redaction is the default, not an option:
//! 1. **By type.** A parameter whose type is [`Sensitive`] (`secrecy`'s `SecretString`,
//!    `SecretBox<_>`, keyward's [`Credentials`](crate::Credentials), also behind `&`, `Option`,
//!    `Box`, `Rc`, `Arc`) is recorded as `"[REDACTED]"`. `show(..)` cannot override this.
//! 2. **By name.** A parameter whose name contains `secret`, `password`, `passphrase`, `token`,
//!    `signature` or `private` (any case) is recorded as `"[REDACTED]"`; one whose name contains
//!    `key` is recorded as its [`Fingerprint`](crate::credentials::Fingerprint) (`"…Eh8A"`).
//!    `show(x)` opts a parameter out of name-based redaction; `redact(x)` forces it.
//! 3. Everything else is recorded as a JSON number, boolean or string when it is one, and as its
//!    `Debug` text otherwise. `skip(x)` and `skip_all` leave parameters out.
//!
//! Secrets that reach a log some other way (an error message, a library's trace output) are
//! caught by the [tripwire](crate::tripwire).
//!
//! # Cost
//!
//! When `keyward::audit` is disabled at the call's level, an audited call checks one cached
//! flag: no argument is formatted, nothing is allocated, the clock is not read.
//!
//! # When the trail cannot write
//!
//! The [`trail`] decides what a failed write means: fail-open (report loudly, keep trading;
//! the default, because a bot that cannot cancel its open orders is worse off than one with a
//! gap in its audit) or fail-closed. Fail-closed refuses audited calls whose error type
//! implements `From<`[`AuditUnavailable`]`>` before they do anything, and keyward's own
//! middleware refuses to send requests.

mod attempt;
pub(crate) mod capture;
mod unavailable;

#[cfg(feature = "trail")]
pub mod trail;

pub use attempt::{Attempt, AttemptAudit, AttemptAuditLayer, AttemptFuture};
pub use capture::{AuditValue, KeyText, Native, REDACTED, Sensitive};
pub use unavailable::AuditUnavailable;

/// The `tracing` target of every audit event and span.
pub const TARGET: &str = "keyward::audit";

/// Whether the audit trail of the current subscriber is failing and configured to fail closed:
/// `Some` means audited work must be refused before it starts.
///
/// # Example
///
/// ```
/// // With no trail installed there is nothing to refuse.
/// assert!(keyward::audit::refusal().is_none());
/// ```
#[inline]
pub fn refusal() -> Option<AuditUnavailable> {
    #[cfg(feature = "trail")]
    {
        tracing::dispatcher::get_default(|dispatch| {
            dispatch
                .downcast_ref::<trail::AuditTrail>()
                .and_then(trail::AuditTrail::refusal)
        })
    }
    #[cfg(not(feature = "trail"))]
    {
        None
    }
}
