//! Target `classify_response`: every parser of an exchange's response body.

use crate::reply::ExchangeReply;
use keyward::exchange::ExchangeError;

/// The longest exchange-written message or code an error keeps: an error page can be a large
/// document from a proxy, and errors go into logs and the audit trail.
const MAX_KEPT_CHARS: usize = 300;

/// Feeds a response (in the [`reply`](crate::reply) format) to its exchange's error classifier,
/// and its body to the exchange's server-time, key-permission and live-limit parsers.
///
/// Checks that classification is deterministic, that every 4xx and 5xx is an error (a rejection
/// taken for a success would report an order that never happened), and that an error's message and
/// code are bounded.
pub fn classify_response(data: &[u8]) {
    let reply = ExchangeReply::parse(data);
    let exchange = reply.exchange;
    let classified = exchange.classify(reply.status, &reply.headers, reply.body);
    assert_eq!(
        classified,
        exchange.classify(reply.status, &reply.headers, reply.body),
        "{}: the same response classified twice differently",
        exchange.name()
    );
    if reply.status.is_client_error() || reply.status.is_server_error() {
        assert!(
            classified.is_some(),
            "{}: HTTP {} taken for a success",
            exchange.name(),
            reply.status
        );
    }
    if let Some(error) = &classified {
        check_error(exchange.name(), reply.status.as_u16(), error);
    }

    // The other parsers of bodies an exchange sends: they must take anything without panicking.
    let _ = (exchange.server_time().parse)(reply.body);
    if let Some(permissions) = exchange.key_permissions() {
        let _ = (permissions.parse)(reply.body);
    }
    if let Some(live) = exchange.rate_limits().live_limits {
        let budgets = exchange.rate_limits().budgets.len();
        for (budget, limit, window) in (live.parse)(reply.body) {
            assert!(
                budget < budgets,
                "{}: a live limit for budget {budget}",
                exchange.name()
            );
            assert!(
                limit > 0 && !window.is_zero(),
                "{}: a live limit of {limit} per {window:?} would stall every request",
                exchange.name()
            );
        }
    }
}

fn check_error(exchange: &str, status: u16, error: &ExchangeError) {
    assert_eq!(error.status, status, "{exchange}: the error names another status");
    let shown = error.to_string();
    assert!(shown.contains(error.kind.as_str()), "{exchange}: {shown}");
    let message_chars = error.message.chars().count();
    assert!(
        message_chars <= MAX_KEPT_CHARS,
        "{exchange}: an error keeps a message of {message_chars} characters"
    );
    if let Some(code) = &error.code {
        let code_chars = code.chars().count();
        assert!(
            code_chars <= MAX_KEPT_CHARS,
            "{exchange}: an error keeps a code of {code_chars} characters"
        );
    }
}
