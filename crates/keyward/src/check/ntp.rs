//! The host clock against an NTP server, with `rsntp` (an RFC 5905 SNTP client): the exchange's
//! clock says whether requests will be accepted, NTP whether the host itself keeps time.

use super::Check;
use std::time::Duration;

/// How long to wait for the NTP server.
const TIMEOUT: Duration = Duration::from_secs(3);

/// Compares the host clock with the NTP server `server` (`host`, `host:port` or `ip:port`).
///
/// # Example
///
/// ```no_run
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use std::time::Duration;
/// let check = keyward::check::ntp("pool.ntp.org", (Duration::from_secs(1), Duration::from_secs(5))).await;
/// println!("{check}");
/// # });
/// ```
pub async fn ntp(server: &str, tolerance: (Duration, Duration)) -> Check {
    let mut client = rsntp::AsyncSntpClient::new();
    client.set_timeout(TIMEOUT);
    let result = match client.synchronize(server).await {
        Ok(result) => result,
        Err(err) => {
            return Check::warn(
                "ntp",
                format!("NTP server {server} did not answer: {err}."),
                "Give a reachable NTP server with --ntp, or check that UDP port 123 is open.",
            );
        }
    };
    let offset = result.clock_offset().as_secs_f64();
    let (warn, fail) = tolerance;
    let direction = if offset > 0.0 { "behind" } else { "ahead of" };
    let detail = format!(
        "the host clock is {:.3} s {direction} NTP server {server}.",
        offset.abs()
    );
    let off = Duration::from_secs_f64(offset.abs().min(1e9));
    if off > fail {
        Check::fail(
            "ntp",
            detail,
            "Synchronise the host clock with NTP (systemd-timesyncd, chrony) and keep it running.",
        )
    } else if off > warn {
        Check::warn(
            "ntp",
            detail,
            "Check the host's NTP synchronisation (`timedatectl`, `chronyc tracking`).",
        )
    } else {
        Check::ok("ntp", detail)
    }
}
