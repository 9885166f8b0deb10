//! Authentication, key permissions, IP restriction and key age, as the exchange reports them.
//!
//! One signed request does both jobs: the exchange's acceptance proves the key, secret and
//! passphrase, and its answer carries whatever the exchange reports about the key.

use super::{Options, Transport, preflight::send, report::Check};
use crate::{
    credentials::{KeyAgePolicy, KeyAgeStatus, sources::Loaded},
    exchange::{CredentialsProbe, Exchange, KeyPermissions},
    sign::{NoTrace, SigningContext},
};
use bytes::Bytes;
use std::time::Duration;

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// The `authentication`, `permissions`, `ip-restriction` and `key-age` checks, and what the
/// exchange reported.
pub(super) async fn checks<T: Transport>(
    exchange: &dyn Exchange,
    base_url: &str,
    loaded: &Loaded,
    now_ms: u64,
    options: &Options,
    transport: &T,
) -> (Vec<Check>, Option<KeyPermissions>) {
    let name = exchange.name();
    let credentials = &loaded.credentials;
    let fingerprint = credentials.fingerprint();
    // Fails rather than warns: a preflight that signs nothing cannot tell a wrong secret.
    let Some(probe) = signed_request(exchange) else {
        let check = Check::fail(
            "authentication",
            format!("keyward knows no signed request for {name}, so it cannot tell whether {name} accepts the key."),
            format!(
                "Give the {name} integration a credentials probe (`Exchange::credentials_probe`), a cheap signed private read."
            ),
        );
        return (vec![check], None);
    };
    let signer = match exchange.signer(credentials) {
        Ok(signer) => signer,
        Err(err) => {
            return (
                vec![Check::fail(
                    "authentication",
                    format!("{err}."),
                    "Load the key's correct secret.",
                )],
                None,
            );
        }
    };
    let request = format!("{} {}", probe.method, probe.path);
    let answer = send(
        transport,
        probe.method.clone(),
        base_url,
        probe.path,
        Bytes::from_static(probe.body.as_bytes()),
        |request| {
            signer
                .sign(request, &SigningContext::at_millis(now_ms), &mut NoTrace)
                .map_err(|err| err.to_string())
        },
    )
    .await;
    let response = match answer {
        Ok(response) => response,
        Err(message) => {
            let check = Check::fail(
                "authentication",
                format!("cannot reach {name} for a signed {request}: {message}."),
                "Check --base-url and that the exchange is reachable from this host.",
            );
            return (vec![check], None);
        }
    };
    if let Some(refusal) = exchange.classify(response.status(), response.headers(), response.body()) {
        let secrets = if exchange.needs_passphrase() {
            "API key, secret and passphrase"
        } else {
            "API key and secret"
        };
        let check = Check::fail(
            "authentication",
            format!("{name} rejected key {fingerprint} on a signed {request}: {refusal}."),
            format!(
                "The exchange rejected the key: check the {secrets}, read from {}: that they belong together, that the key is still active and may read account data, and that this host's IP is allowed.",
                loaded.provenance
            ),
        );
        return (vec![check], None);
    }
    let mut checks = vec![Check::ok(
        "authentication",
        format!("credentials accepted: {name} answered a signed {request} for key {fingerprint}."),
    )];
    let Some(permissions) = (probe.parse)(response.body(), credentials.api_key().expose()) else {
        checks.push(Check::fail(
            "permissions",
            format!("{name}'s answer at {} is not the documented key report.", probe.path),
            "Check that --base-url points at the exchange's API.",
        ));
        return (checks, None);
    };
    checks.push(rights(name, fingerprint, &permissions, options));
    checks.push(ip_restriction(name, &permissions, options));
    checks.push(key_age(name, &permissions, now_ms, options.key_age));
    (checks, Some(permissions))
}

/// The one signed request the preflight sends: the exchange's key report where it has a plain
/// one, its credentials probe otherwise.
fn signed_request(exchange: &dyn Exchange) -> Option<Probe> {
    if let Some(endpoint) = exchange.key_permissions() {
        return Some(Probe {
            method: http::Method::GET,
            path: endpoint.path,
            body: "",
            parse: Box::new(move |body, _| (endpoint.parse)(body)),
        });
    }
    exchange.credentials_probe().map(|probe: CredentialsProbe| Probe {
        method: probe.method,
        path: probe.path,
        body: probe.body,
        parse: Box::new(probe.parse),
    })
}

type ParseReport = Box<dyn Fn(&[u8], &str) -> Option<KeyPermissions> + Send + Sync>;

struct Probe {
    method: http::Method,
    path: &'static str,
    body: &'static str,
    parse: ParseReport,
}

fn rights(
    name: &str,
    fingerprint: crate::credentials::Fingerprint,
    permissions: &KeyPermissions,
    options: &Options,
) -> Check {
    let mut enabled = Vec::new();
    let mut allowed = Vec::new();
    for (right, on, allow) in [
        ("withdrawals", permissions.withdrawals, options.allow_withdrawals),
        ("transfers", permissions.transfers, options.allow_transfers),
    ] {
        if on == Some(true) {
            if allow {
                allowed.push(right)
            } else {
                enabled.push(right)
            }
        }
    }
    let unreported: Vec<&str> = [
        ("withdrawals", permissions.withdrawals),
        ("transfers", permissions.transfers),
    ]
    .into_iter()
    .filter(|(_, on)| on.is_none())
    .map(|(right, _)| right)
    .collect();
    if permissions.withdrawals.is_none() && permissions.transfers.is_none() {
        return Check::warn(
            "permissions",
            format!("unknown: {name} does not report whether key {fingerprint} can withdraw or transfer."),
            format!(
                "Verify on {name}'s API-key page that the key cannot withdraw or transfer: a trading bot never needs them."
            ),
        );
    }
    let mut note = String::new();
    if !allowed.is_empty() {
        note.push_str(&format!(
            " {} enabled, allowed by configuration.",
            allowed.join(" and ")
        ));
    }
    if !unreported.is_empty() {
        note.push_str(&format!(" {name} does not report {}.", unreported.join(" or ")));
    }
    if !enabled.is_empty() {
        return Check::fail(
            "permissions",
            format!(
                "{} enabled for key {fingerprint}.{note}",
                capitalised(&enabled.join(" and "))
            ),
            format!(
                "Disable {} for this key in {name}'s API-key settings: a trading bot never needs them, and a stolen key with them drains the account.",
                enabled.join(" and ")
            ),
        );
    }
    let detail = format!("key {fingerprint} cannot withdraw or transfer.{note}");
    if allowed.is_empty() {
        Check::ok("permissions", detail)
    } else {
        Check::warn(
            "permissions",
            detail,
            format!(
                "Use a key without {} unless this bot must move funds.",
                allowed.join(" and ")
            ),
        )
    }
}

fn ip_restriction(name: &str, permissions: &KeyPermissions, options: &Options) -> Check {
    match permissions.ip_restricted {
        Some(true) if permissions.ips.is_empty() => Check::ok(
            "ip-restriction",
            format!("the key is restricted to a list of IP addresses ({name} does not say which)."),
        ),
        Some(true) => Check::ok(
            "ip-restriction",
            format!("the key is restricted to {}.", permissions.ips.join(", ")),
        ),
        Some(false) => {
            let fix = format!(
                "Restrict the key to your server's IP addresses in {name}'s API-key settings, so a stolen key is useless elsewhere."
            );
            let detail = "the key is not IP-restricted: it accepts requests from any IP address.";
            if options.allow_unrestricted_ip {
                Check::warn("ip-restriction", format!("{detail} Allowed by configuration."), fix)
            } else {
                Check::fail("ip-restriction", detail, fix)
            }
        }
        None => Check::warn(
            "ip-restriction",
            format!("{name} does not report whether the key is IP-restricted."),
            format!("Check the key's IP allow-list in {name}'s API-key settings."),
        ),
    }
}

fn key_age(name: &str, permissions: &KeyPermissions, now_ms: u64, policy: KeyAgePolicy) -> Check {
    let Some(created) = permissions.created_at_unix_ms else {
        return Check::warn(
            "key-age",
            format!("{name} does not report when the key was created."),
            format!(
                "Rotate the key at least every {} days.",
                policy.max_age().as_secs() / 86_400
            ),
        );
    };
    let age = Duration::from_millis(now_ms.saturating_sub(created));
    let days = now_ms.saturating_sub(created) / DAY_MS;
    let status = if age > policy.max_age() {
        KeyAgeStatus::TooOld
    } else if age > policy.warn_after() {
        KeyAgeStatus::RotateSoon
    } else {
        KeyAgeStatus::Fresh
    };
    let max_days = policy.max_age().as_secs() / 86_400;
    let detail = format!("the key was created {days} days ago on {name}.");
    match status {
        KeyAgeStatus::TooOld => Check::fail(
            "key-age",
            format!("{detail} The maximum is {max_days} days."),
            format!("Create a new key on {name}, switch the bot to it, then delete this one."),
        ),
        KeyAgeStatus::RotateSoon => Check::warn(
            "key-age",
            format!("{detail} Rotate it before it is {max_days} days old."),
            format!("Create a new key on {name} and switch the bot to it soon."),
        ),
        _ => Check::ok("key-age", detail),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defect this guards against: a preflight that never signs passes a wrong secret.
    #[test]
    fn every_exchange_has_a_signed_request_to_prove_its_key() {
        for exchange in crate::exchange::ALL {
            let probe = signed_request(*exchange);
            assert!(probe.is_some(), "{} signs nothing in the preflight", exchange.name());
        }
    }

    #[test]
    fn a_report_without_rights_is_unknown_not_ok() {
        let options = Options::new();
        let fingerprint = crate::credentials::Fingerprint::of("test-only-key-0123456789");
        let unknown = rights("kraken", fingerprint, &KeyPermissions::default(), &options);
        assert_eq!(unknown.status, super::super::Status::Warn);
        assert!(
            unknown.detail.starts_with("unknown: kraken does not report"),
            "{}",
            unknown.detail
        );
        assert!(
            unknown
                .fix
                .as_deref()
                .is_some_and(|fix| fix.starts_with("Verify on kraken's API-key page")),
            "{unknown:?}"
        );
    }
}
