//! Credential hygiene: where the credentials came from, the checks their source passed, and its
//! warnings (a `.env` git could not be asked about, a secrets file others can read).

use super::report::Check;
use crate::credentials::{Fingerprint, sources::Provenance};

/// The `credentials` check: `warn` when the source raised warnings, `ok` otherwise.
pub(super) fn check(provenance: &Provenance, fingerprint: Fingerprint) -> Check {
    let mut detail = format!("key {fingerprint} from {provenance}.");
    if !provenance.checks_passed().is_empty() {
        detail.push_str(&format!(" Passed: {}.", sentences(provenance.checks_passed())));
    }
    if provenance.warnings().is_empty() {
        return Check::ok("credentials", detail);
    }
    detail.push_str(&format!(" Warnings: {}.", sentences(provenance.warnings())));
    Check::warn("credentials", detail, sentences(provenance.warnings()))
}

fn sentences(items: &[String]) -> String {
    items
        .iter()
        .map(|item| item.trim_end_matches('.'))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{check::Status, credentials::sources::SourceKind};

    #[test]
    fn names_the_origins_and_passes_warnings_on() {
        let fingerprint = Fingerprint::of("test-only-key-0123456789");
        let clean = Provenance::new(SourceKind::Environment)
            .origin("OKX_API_KEY")
            .origin("OKX_API_SECRET")
            .passed("every variable is set and not empty");
        let clean = check(&clean, fingerprint);
        assert_eq!(clean.status, Status::Ok);
        assert!(
            clean.detail.contains("environment (OKX_API_KEY, OKX_API_SECRET)"),
            "{}",
            clean.detail
        );
        assert!(clean.detail.contains("…6789"), "{}", clean.detail);
        assert!(!clean.detail.contains("test-only-key"), "{}", clean.detail);

        let warned = Provenance::new(SourceKind::SecretsFile)
            .origin("/run/secrets/api_secret")
            .warning("/run/secrets/api_secret is readable by others; mount it 0400.");
        let warned = check(&warned, fingerprint);
        assert_eq!(warned.status, Status::Warn);
        assert_eq!(
            warned.fix.as_deref(),
            Some("/run/secrets/api_secret is readable by others; mount it 0400")
        );
    }
}
