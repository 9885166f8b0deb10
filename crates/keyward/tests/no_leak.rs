//! The redaction promise as a property: for arbitrary secrets (unicode, 1 to 200 bytes) flowing
//! through every redaction path (typed parameters, named parameters, `ret`, errors, structs with
//! secret fields, and the tripwire), the captured output never contains the secret, its hex or
//! its base64.
//!
//! Two checks, because a one-byte secret such as `a` occurs in any log by chance:
//! - the `#[audited]` output does not depend on the secret at all: the same calls with two
//!   different secrets produce the same output, byte for byte, once timings are masked;
//! - no form of the secret occurs in the output, for secrets of 8 bytes or more (the tripwire's
//!   documented floor for meaningful matching).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use keyward::{
    audited,
    credentials::SecretString,
    tripwire::{Registry, Tripwire},
};
use proptest::prelude::*;
use std::{
    fmt,
    sync::{Arc, Mutex},
};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Debug)]
struct Holder {
    label: &'static str,
    credential: SecretString,
}

#[derive(Debug)]
struct AuthError {
    presented: SecretString,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "authentication failed with {:?}", self.presented)
    }
}

impl std::error::Error for AuthError {}

#[audited(ret)]
fn typed(
    first: SecretString,
    second: Option<&SecretString>,
    third: Arc<SecretString>,
) -> Result<SecretString, AuthError> {
    let _ = (second, third);
    Ok(first)
}

#[audited]
fn named(
    password: &str,
    api_token: String,
    client_secret: &str,
    signature: &str,
    private_key: &str,
    passphrase: &str,
) -> usize {
    password.len() + api_token.len() + client_secret.len() + signature.len() + private_key.len() + passphrase.len()
}

#[audited(ret)]
fn structs(holder: &Holder) -> Holder {
    Holder {
        label: holder.label,
        credential: holder.credential.clone(),
    }
}

#[audited]
fn errors(attempt: u32, presented: SecretString) -> Result<(), AuthError> {
    let _ = attempt;
    Err(AuthError { presented })
}

/// Everything the audited paths log, as JSON lines (events with their spans), timings masked.
fn audited_output(secret: &str) -> String {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_span_list(true)
        .without_time()
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let s = || SecretString::from(secret.to_owned());
        let _ = typed(s(), Some(&s()), Arc::new(s()));
        let _ = named(secret, secret.to_owned(), secret, secret, secret, secret);
        let _ = structs(&Holder {
            label: "exchange",
            credential: s(),
        });
        let _ = errors(1, s());
    });
    let text = buffer.text();
    let mut masked = String::with_capacity(text.len());
    for piece in text.split("\"elapsed_us\":") {
        if masked.is_empty() && !text.starts_with("\"elapsed_us\":") {
            masked.push_str(piece);
            continue;
        }
        masked.push_str("\"elapsed_us\":N");
        masked.push_str(piece.trim_start_matches(|c: char| c.is_ascii_digit()));
    }
    masked
}

/// What a chatty library logs when it prints the secret in every form, through a tripwire that
/// knows the secret.
fn tripwire_output(secret: &str) -> String {
    let registry = Arc::new(Registry::new());
    registry.register(secret.as_bytes());
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(Tripwire::with_registry(move || writer.clone(), registry))
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        tracing::trace!(target: "hyper::proto", "authorization: {secret}");
        tracing::debug!(hex = %hex::encode(secret), "signing");
        tracing::info!(b64 = %base64::engine::general_purpose::STANDARD.encode(secret), url = %format!("https://x.test/?k={secret}&v=1"));
    });
    buffer.text()
}

fn forms(secret: &str) -> [String; 4] {
    [
        secret.to_owned(),
        hex::encode(secret),
        hex::encode_upper(secret),
        base64::engine::general_purpose::STANDARD.encode(secret),
    ]
}

fn secret_strategy() -> impl Strategy<Value = String> {
    "\\PC{1,200}".prop_filter("1 to 200 bytes", |s| (1..=200).contains(&s.len()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn audited_output_does_not_depend_on_the_secret(first in secret_strategy(), second in secret_strategy()) {
        prop_assume!(first != second);
        let one = audited_output(&first);
        prop_assert!(one.contains("\"outcome\":\"err\""), "the error path ran");
        prop_assert_eq!(one, audited_output(&second));
    }

    #[test]
    fn no_form_of_the_secret_reaches_any_output(secret in secret_strategy()) {
        prop_assume!(secret.len() >= 8);
        let audited = audited_output(&secret);
        let scrubbed = tripwire_output(&secret);
        prop_assert!(scrubbed.contains("[REDACTED]"));
        for form in forms(&secret) {
            prop_assert!(!audited.contains(&form), "audited output leaks {:?}", form);
            prop_assert!(!scrubbed.contains(&form), "tripwire output leaks {:?}", form);
        }
    }
}
