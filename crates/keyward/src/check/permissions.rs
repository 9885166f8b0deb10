//! Key permissions, IP restriction and key age, as the exchange reports them.

use super::{Options, Transport, get, report::Check};
use crate::{
    Credentials,
    credentials::{KeyAgePolicy, KeyAgeStatus},
    exchange::{Exchange, KeyPermissions},
    sign::{NoTrace, SigningContext},
};
use std::time::Duration;

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// The `permissions`, `ip-restriction` and `key-age` checks, and what the exchange reported.
pub(super) async fn checks<T: Transport>(
    exchange: &dyn Exchange,
    base_url: &str,
    credentials: &Credentials,
    now_ms: u64,
    options: &Options,
    transport: &T,
) -> (Vec<Check>, Option<KeyPermissions>) {
    let name = exchange.name();
    let Some(endpoint) = exchange.key_permissions() else {
        let check = Check::warn(
            "permissions",
            format!("{name} does not report a key's permissions or IP restriction through its API."),
            format!(
                "Check in {name}'s API-key settings that the key cannot withdraw or transfer and is restricted to your server's IP addresses."
            ),
        );
        return (vec![check], None);
    };
    let signer = match exchange.signer(credentials) {
        Ok(signer) => signer,
        Err(err) => {
            return (
                vec![Check::fail(
                    "permissions",
                    format!("{err}."),
                    "Load the key's correct secret.",
                )],
                None,
            );
        }
    };
    let answer = get(transport, base_url, endpoint.path, |request| {
        signer
            .sign(request, &SigningContext::at_millis(now_ms), &mut NoTrace)
            .map_err(|err| err.to_string())
    })
    .await;
    let response = match answer {
        Ok(response) => response,
        Err(message) => {
            let check = Check::fail(
                "permissions",
                format!("cannot ask {name} for the key's permissions: {message}."),
                "Check --base-url and that the exchange is reachable from this host.",
            );
            return (vec![check], None);
        }
    };
    if let Some(refusal) = exchange.classify(response.status(), response.headers(), response.body()) {
        let check = Check::fail(
            "permissions",
            format!("{name} refused to report the key's permissions: {refusal}."),
            "Check that the key, secret and passphrase belong together, that the key may read account data, and that this host's IP is allowed.",
        );
        return (vec![check], None);
    }
    let Some(permissions) = (endpoint.parse)(response.body()) else {
        let check = Check::fail(
            "permissions",
            format!("{name}'s answer at {} is not the documented key report.", endpoint.path),
            "Check that --base-url points at the exchange's API.",
        );
        return (vec![check], None);
    };
    let fingerprint = credentials.fingerprint();
    let mut checks = vec![rights(name, fingerprint, &permissions, options)];
    checks.push(ip_restriction(name, &permissions, options));
    checks.push(key_age(name, &permissions, now_ms, options.key_age));
    (checks, Some(permissions))
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
