//! What a failed attempt means for the next one: the policy table of the module docs, in code.

use crate::{
    Error, TransportErrorKind,
    exchange::{ExchangeError, ExchangeErrorKind},
};
use std::time::Duration;

/// What to do after an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Sending again cannot duplicate an effect: retry, after waiting at least this long.
    Retry { at_least: Duration },
    /// A state-changing request may have taken effect: never send it again.
    Ambiguous,
    /// Sending again would get the same answer, or is not allowed: return the error.
    Fail,
}

/// Whether `method` only reads, so that sending it twice cannot change anything.
pub(crate) fn is_read(method: &http::Method) -> bool {
    matches!(*method, http::Method::GET | http::Method::HEAD)
}

/// The outcome of an attempt that failed with `error`; `read` says whether the request only reads.
pub(crate) fn after_failure(error: &Error, read: bool) -> Outcome {
    match error {
        Error::Exchange(error) => after_exchange_error(error, read),
        Error::Transport(error) => match error.kind() {
            TransportErrorKind::Connect => Outcome::Retry {
                at_least: Duration::ZERO,
            },
            // Nothing was sent, but the same request cannot be converted the next time either.
            TransportErrorKind::InvalidRequest => Outcome::Fail,
            // The exchange answered; a read would get the same oversized answer again.
            TransportErrorKind::BodyTooLarge if read => Outcome::Fail,
            _ if read => Outcome::Retry {
                at_least: Duration::ZERO,
            },
            // Timeout, reset, I/O, or an answer we could not read: the request may have executed.
            _ => Outcome::Ambiguous,
        },
        // The clock offset could not be measured (the time endpoint failed): nothing was sent,
        // and the next attempt measures again.
        Error::ClockSkew(skew) if skew.offset.is_none() => Outcome::Retry {
            at_least: Duration::ZERO,
        },
        // Refused before sending (guard, credentials, signing, audit, clock, ban), or already
        // decided by another retry layer: the same request would be refused again.
        _ => Outcome::Fail,
    }
}

fn after_exchange_error(error: &ExchangeError, read: bool) -> Outcome {
    match &error.kind {
        ExchangeErrorKind::RateLimited { retry_after } => Outcome::Retry {
            at_least: retry_after.unwrap_or_default(),
        },
        // A fresh attempt is stamped and signed afresh, so a stale timestamp or nonce heals.
        ExchangeErrorKind::TimestampOutsideWindow => Outcome::Retry {
            at_least: Duration::ZERO,
        },
        // Something other than the exchange answered: a read is safe to repeat, a change may
        // have taken effect.
        ExchangeErrorKind::UnreadableAnswer if read => Outcome::Retry {
            at_least: Duration::ZERO,
        },
        ExchangeErrorKind::UnreadableAnswer => Outcome::Ambiguous,
        // Not executed, but deterministic: the same key and request get the same answer, and
        // repeated authentication failures lock keys out (Kraken) or escalate bans.
        ExchangeErrorKind::Banned { .. }
        | ExchangeErrorKind::Authentication
        | ExchangeErrorKind::InvalidSignature
        | ExchangeErrorKind::InsufficientPermission => Outcome::Fail,
        // A kind added later that the exchange rejected before executing.
        kind if kind.not_executed() => Outcome::Retry {
            at_least: Duration::ZERO,
        },
        // A server error: the exchange may have executed the request before failing.
        _ if error.status >= 500 && read => Outcome::Retry {
            at_least: Duration::ZERO,
        },
        _ if error.status >= 500 => Outcome::Ambiguous,
        // A definite rejection (4xx, or an error in a 200 envelope).
        _ => Outcome::Fail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{TransportError, audit::AuditUnavailable, clock::ClockSkew, rate_limit::Banned};

    fn exchange(kind: ExchangeErrorKind, status: u16) -> Error {
        Error::Exchange(ExchangeError::new(kind, status, None, "test"))
    }

    fn transport(kind: TransportErrorKind) -> Error {
        Error::Transport(TransportError::new(kind, "test"))
    }

    const RETRY: Outcome = Outcome::Retry {
        at_least: Duration::ZERO,
    };

    #[test]
    fn the_policy_table_holds() {
        let rate_limited = ExchangeErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(2)),
        };
        let cases = [
            // (error, outcome for a read, outcome for a non-read)
            (
                exchange(rate_limited, 429),
                Outcome::Retry {
                    at_least: Duration::from_secs(2),
                },
                Outcome::Retry {
                    at_least: Duration::from_secs(2),
                },
            ),
            (exchange(ExchangeErrorKind::TimestampOutsideWindow, 400), RETRY, RETRY),
            (exchange(ExchangeErrorKind::Other, 503), RETRY, Outcome::Ambiguous),
            (exchange(ExchangeErrorKind::Other, 500), RETRY, Outcome::Ambiguous),
            (exchange(ExchangeErrorKind::Other, 400), Outcome::Fail, Outcome::Fail),
            (exchange(ExchangeErrorKind::Other, 200), Outcome::Fail, Outcome::Fail),
            (
                exchange(ExchangeErrorKind::UnreadableAnswer, 200),
                RETRY,
                Outcome::Ambiguous,
            ),
            (
                exchange(ExchangeErrorKind::Authentication, 401),
                Outcome::Fail,
                Outcome::Fail,
            ),
            (
                exchange(ExchangeErrorKind::InvalidSignature, 400),
                Outcome::Fail,
                Outcome::Fail,
            ),
            (
                exchange(ExchangeErrorKind::InsufficientPermission, 403),
                Outcome::Fail,
                Outcome::Fail,
            ),
            (
                exchange(ExchangeErrorKind::Banned { retry_after: None }, 418),
                Outcome::Fail,
                Outcome::Fail,
            ),
            (transport(TransportErrorKind::Connect), RETRY, RETRY),
            (transport(TransportErrorKind::Timeout), RETRY, Outcome::Ambiguous),
            (transport(TransportErrorKind::Io), RETRY, Outcome::Ambiguous),
            (
                transport(TransportErrorKind::BodyTooLarge),
                Outcome::Fail,
                Outcome::Ambiguous,
            ),
            (
                transport(TransportErrorKind::InvalidRequest),
                Outcome::Fail,
                Outcome::Fail,
            ),
            (
                Error::AuditUnavailable(AuditUnavailable::new("audit.jsonl", "disk full")),
                Outcome::Fail,
                Outcome::Fail,
            ),
            (
                Error::ClockSkew(ClockSkew::new(Some(90_000), Duration::from_secs(1))),
                Outcome::Fail,
                Outcome::Fail,
            ),
            (
                Error::Banned(Banned {
                    until_unix_millis: 1,
                    remaining: Duration::from_secs(1),
                }),
                Outcome::Fail,
                Outcome::Fail,
            ),
        ];
        for (error, read, write) in cases {
            assert_eq!(after_failure(&error, true), read, "read: {error}");
            assert_eq!(after_failure(&error, false), write, "non-read: {error}");
        }
    }

    #[test]
    fn only_get_and_head_are_reads() {
        assert!(is_read(&http::Method::GET));
        assert!(is_read(&http::Method::HEAD));
        for method in [
            http::Method::POST,
            http::Method::PUT,
            http::Method::DELETE,
            http::Method::PATCH,
        ] {
            assert!(!is_read(&method), "{method}");
        }
    }
}
