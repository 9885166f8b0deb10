//! Clock: the host clock's offset to the exchange's, measured at the round trip's midpoint.

use super::{Transport, get, report::Check};
use crate::{clock::Clock, exchange::Exchange};
use std::time::Duration;

/// The `clock` check, and the offset (exchange minus host, in milliseconds) when measured.
pub(super) async fn check<T: Transport>(
    exchange: &dyn Exchange,
    base_url: &str,
    clock: &dyn Clock,
    (warn_beyond, fail_beyond): (Duration, Duration),
    transport: &T,
) -> (Check, Option<i64>) {
    let server_time = exchange.server_time();
    let sent_at = clock.unix_millis();
    let answer = get(transport, base_url, server_time.path, |_| Ok(())).await;
    let received_at = clock.unix_millis();
    let name = exchange.name();
    let body = match answer {
        Ok(response) if response.status().is_success() => response.into_body(),
        Ok(response) => {
            return (
                Check::fail(
                    "clock",
                    format!(
                        "{name}'s server time ({}) answered HTTP {}.",
                        server_time.path,
                        response.status()
                    ),
                    "Check --base-url and that the exchange is reachable from this host.",
                ),
                None,
            );
        }
        Err(message) => {
            return (
                Check::fail(
                    "clock",
                    format!("cannot ask {name} for its time: {message}."),
                    "Check --base-url and that the exchange is reachable from this host.",
                ),
                None,
            );
        }
    };
    let Some(server_ms) = (server_time.parse)(&body) else {
        return (
            Check::fail(
                "clock",
                format!(
                    "{name}'s answer at {} is not its documented server time.",
                    server_time.path
                ),
                "Check that --base-url points at the exchange's API.",
            ),
            None,
        );
    };
    let midpoint = sent_at / 2 + received_at / 2 + (sent_at % 2 + received_at % 2) / 2;
    let offset = i64::try_from(i128::from(server_ms) - i128::from(midpoint)).unwrap_or(i64::MAX);
    let round_trip = received_at.saturating_sub(sent_at);
    let direction = if offset > 0 { "behind" } else { "ahead of" };
    let detail = format!(
        "the host clock is {} ms {direction} {name} (measured to within {} ms).",
        offset.unsigned_abs(),
        round_trip / 2 + 1
    );
    let magnitude = Duration::from_millis(offset.unsigned_abs());
    let fix = "Synchronise the host clock with NTP (e.g. enable systemd-timesyncd or chrony).";
    let check = if magnitude > fail_beyond {
        Check::fail(
            "clock",
            format!(
                "{detail} The exchange rejects signed requests beyond {} ms.",
                fail_beyond.as_millis()
            ),
            fix,
        )
    } else if magnitude > warn_beyond {
        Check::warn("clock", detail, fix)
    } else {
        Check::ok("clock", detail)
    };
    (check, Some(offset))
}
