//! Egress IP: the public address this process leaves from, asked of an echo endpoint, compared
//! with the addresses expected and with the key's allow-list.

use super::{Options, Transport, get, report::Check};
use crate::exchange::KeyPermissions;
use std::net::IpAddr;

/// The `egress-ip` check.
pub(super) async fn check<T: Transport>(options: &Options, key: Option<&KeyPermissions>, transport: &T) -> Check {
    let Some(echo_url) = options.ip_echo_url.as_deref() else {
        let detail = if options.expect_ips.is_empty() {
            "not checked: no IP echo endpoint is configured."
        } else {
            "not checked: expected IP addresses are given, but no IP echo endpoint to compare them with."
        };
        return Check::warn(
            "egress-ip",
            detail,
            "Pass --ip-echo-url (e.g. https://api.ipify.org?format=json) and --expect-ip with your server's public address.",
        );
    };
    let egress = match get(transport, echo_url, "", |_| Ok(())).await {
        Ok(response) if response.status().is_success() => read_ip(response.body()),
        Ok(response) => Err(format!("it answered HTTP {}", response.status())),
        Err(message) => Err(message),
    };
    let egress = match egress {
        Ok(ip) => ip,
        Err(message) => {
            return Check::fail(
                "egress-ip",
                format!("cannot learn this host's public IP from the echo endpoint: {message}."),
                "Check --ip-echo-url: it must answer {\"ip\": \"...\"} or the address as plain text.",
            );
        }
    };
    let unexpected: Vec<&String> = options
        .expect_ips
        .iter()
        .filter(|expected| expected.parse::<IpAddr>().ok() != Some(egress))
        .collect();
    if !unexpected.is_empty() {
        let expected: Vec<&str> = unexpected.iter().map(|ip| ip.as_str()).collect();
        return Check::fail(
            "egress-ip",
            format!(
                "this host leaves from {egress}, not {} as expected.",
                expected.join(", ")
            ),
            "Send from the expected address (check the NAT gateway, proxy or VPN), or correct --expect-ip.",
        );
    }
    if let Some(key) = key.filter(|key| key.ip_restricted == Some(true) && !key.ips.is_empty()) {
        if !key.ips.iter().any(|allowed| allows(allowed, egress)) {
            return Check::fail(
                "egress-ip",
                format!(
                    "this host leaves from {egress}, which the key's allow-list ({}) does not contain: the exchange will refuse its requests.",
                    key.ips.join(", ")
                ),
                format!("Add {egress} to the key's IP allow-list, or send from an allowed address."),
            );
        }
        return Check::ok(
            "egress-ip",
            format!("this host leaves from {egress}, which the key allows."),
        );
    }
    let expected = if options.expect_ips.is_empty() {
        ""
    } else {
        ", as expected"
    };
    Check::ok("egress-ip", format!("this host leaves from {egress}{expected}."))
}

/// `{"ip": "..."}` (api.ipify.org's JSON format) or the address as plain text.
fn read_ip(body: &[u8]) -> Result<IpAddr, String> {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => value
            .get("ip")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| "its JSON answer has no \"ip\" string".to_owned())?,
        Err(_) => String::from_utf8_lossy(body).trim().to_owned(),
    };
    text.parse()
        .map_err(|_| format!("its answer is not an IP address ({} bytes)", body.len()))
}

/// Whether an allow-list entry (an address, or a CIDR range) allows `ip`.
fn allows(entry: &str, ip: IpAddr) -> bool {
    let entry = entry.trim();
    let Some((network, prefix)) = entry.split_once('/') else {
        return entry.parse::<IpAddr>().is_ok_and(|allowed| allowed == ip);
    };
    let (Ok(network), Ok(prefix)) = (network.parse::<IpAddr>(), prefix.parse::<u32>()) else {
        return false;
    };
    match (network, ip) {
        (IpAddr::V4(network), IpAddr::V4(ip)) if prefix <= 32 => {
            let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
            u32::from(network) & mask == u32::from(ip) & mask
        }
        (IpAddr::V6(network), IpAddr::V6(ip)) if prefix <= 128 => {
            let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
            u128::from(network) & mask == u128::from(ip) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_and_plain_text_answers() {
        assert_eq!(read_ip(br#"{"ip":"203.0.113.7"}"#).unwrap().to_string(), "203.0.113.7");
        assert_eq!(read_ip(b"2001:db8::1\n").unwrap().to_string(), "2001:db8::1");
        assert!(read_ip(br#"{"address":"203.0.113.7"}"#).is_err());
        assert!(read_ip(b"<html>").is_err());
    }

    #[test]
    fn matches_addresses_and_ranges() {
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        assert!(allows("203.0.113.7", ip));
        assert!(allows("203.0.113.0/24", ip));
        assert!(allows("0.0.0.0/0", ip));
        assert!(!allows("203.0.113.8", ip));
        assert!(!allows("203.0.112.0/24", ip));
        assert!(!allows("2001:db8::/32", ip));
        assert!(!allows("garbage", ip));
    }
}
