//! The leak tripwire: what it scrubs, through the `MakeWriter` a subscriber uses.

#![allow(clippy::unwrap_used, reason = "test helpers may unwrap, like the tests themselves")]

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use keyward::Credentials;
use keyward::credentials::ApiKey;
use keyward::tripwire::{Registry, Tripwire};
use proptest::prelude::*;
use tracing_subscriber::fmt::MakeWriter;

/// A writer whose output the test reads back; also records how many separate writes it got.
#[derive(Clone, Default)]
struct Captured {
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.bytes.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.bytes.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn tripwire_with(secrets: &[&[u8]]) -> (Tripwire<impl for<'a> MakeWriter<'a> + use<>>, Captured, Arc<Registry>) {
    let registry = Arc::new(Registry::new());
    for secret in secrets {
        registry.register(secret);
    }
    let captured = Captured::default();
    let sink = captured.clone();
    (
        Tripwire::with_registry(move || sink.clone(), Arc::clone(&registry)),
        captured,
        registry,
    )
}

/// Contains a space, `/`, `+`, `?`, `=`, `~`, `>` and a non-ASCII letter, so that each encoding
/// differs from the others, and is 25 bytes long, so base64 pads it with `==`.
const SECRET: &str = "test-only sécret/+?=~>>?";

#[test]
fn every_form_of_a_secret_is_scrubbed() {
    let forms = [
        SECRET,
        "746573742d6f6e6c792073c3a9637265742f2b3f3d7e3e3e3f",
        "746573742D6F6E6C792073C3A9637265742F2B3F3D7E3E3E3F",
        "dGVzdC1vbmx5IHPDqWNyZXQvKz89fj4+Pw==",
        "dGVzdC1vbmx5IHPDqWNyZXQvKz89fj4+Pw",
        "dGVzdC1vbmx5IHPDqWNyZXQvKz89fj4-Pw==",
        "dGVzdC1vbmx5IHPDqWNyZXQvKz89fj4-Pw",
        "test-only%20s%C3%A9cret%2F%2B%3F%3D~%3E%3E%3F",
        "test%2Donly%20s%C3%A9cret%2F%2B%3F%3D%7E%3E%3E%3F",
        "test-only+s%C3%A9cret%2F%2B%3F%3D%7E%3E%3E%3F",
    ];
    let (tripwire, captured, _) = tripwire_with(&[SECRET.as_bytes()]);
    for form in forms {
        let mut writer = tripwire.make_writer();
        write!(writer, "value=<{form}>;").unwrap();
        drop(writer);
        assert_eq!(captured.text(), "value=<[REDACTED]>;", "form {form}");
        captured.bytes.lock().unwrap().clear();
    }
}

#[test]
fn a_secret_split_across_writes_is_still_caught() {
    let (tripwire, captured, _) = tripwire_with(&[b"test-only-secret-split"]);
    let mut writer = tripwire.make_writer();
    writer.write_all(b"header test-only-se").unwrap();
    writer.write_all(b"cret-sp").unwrap();
    writer.write_all(b"lit trailer\n").unwrap();
    assert_eq!(
        captured.text(),
        "",
        "nothing reaches the inner writer before the event is complete"
    );
    drop(writer);
    assert_eq!(captured.text(), "header [REDACTED] trailer\n");
}

#[test]
fn flush_writes_what_was_buffered() {
    let (tripwire, captured, _) = tripwire_with(&[b"test-only-secret-flush"]);
    let mut writer = tripwire.make_writer();
    writer.write_all(b"a test-only-secret-flush b").unwrap();
    writer.flush().unwrap();
    assert_eq!(captured.text(), "a [REDACTED] b");
    drop(writer);
    assert_eq!(captured.text(), "a [REDACTED] b", "nothing is written twice");
}

#[test]
fn overlapping_and_nested_secrets_leave_no_fragment() {
    let first: &[u8] = b"test-only-alpha-OVERLAP";
    let second: &[u8] = b"OVERLAP-beta-test-only";
    let inner: &[u8] = b"alpha";
    let (tripwire, captured, _) = tripwire_with(&[first, second, inner]);
    let mut writer = tripwire.make_writer();
    writer
        .write_all(b"[test-only-alpha-OVERLAP-beta-test-only] and alpha and test-only-alpha-OVERLAP")
        .unwrap();
    drop(writer);
    assert_eq!(captured.text(), "[[REDACTED]] and [REDACTED] and [REDACTED]");
}

#[test]
fn an_api_key_is_replaced_by_its_fingerprint() {
    let registry = Arc::new(Registry::new());
    // Binance's documented example key (testdata/vectors.json), not a real one.
    let key = ApiKey::new("vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A");
    registry.register_api_key(&key);
    registry.register(b"test-only-secret-next-to-key");
    let encoded = hex::encode(key.expose());
    let logged = format!("X-MBX-APIKEY: {} hex={encoded}", key.expose());
    assert_eq!(registry.scrub_str(&logged), "X-MBX-APIKEY: …Eh8A hex=…Eh8A");
    // Where a key and a secret touch, the stricter replacement wins.
    let touching = format!("{}test-only-secret-next-to-key", key.expose());
    assert_eq!(registry.scrub_str(&touching), "[REDACTED]");
}

#[test]
fn the_same_bytes_as_key_and_secret_are_redacted() {
    let registry = Registry::new();
    let key = ApiKey::new("test-only-key-and-secret-0000");
    registry.register_api_key(&key);
    registry.register(key.expose().as_bytes());
    assert_eq!(registry.len(), 1);
    assert_eq!(registry.scrub_str("test-only-key-and-secret-0000"), "[REDACTED]");
}

#[test]
fn empty_secrets_are_ignored_and_short_ones_are_matched() {
    let registry = Registry::new();
    registry.register(b"");
    assert!(registry.is_empty());
    assert_eq!(registry.scrub_str("nothing to hide"), "nothing to hide");
    registry.register(b"pin");
    assert_eq!(
        registry.scrub_str("pin=pin spinning"),
        "[REDACTED]=[REDACTED] s[REDACTED]ning"
    );
}

#[test]
fn registering_twice_keeps_one_entry() {
    let registry = Registry::new();
    registry.register(b"test-only-secret-twice");
    registry.register(b"test-only-secret-twice");
    assert_eq!(registry.len(), 1);
}

#[test]
fn credentials_are_scrubbed_from_a_formatted_log_by_the_global_registry() {
    let credentials = Credentials::new("test-only-api-key-global-0001", "test-only-secret-global-0001")
        .with_passphrase("test-only-passphrase-global-0001");
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(Tripwire::new(move || sink.clone()))
        .without_time()
        .with_ansi(false)
        .finish();
    #[derive(Debug)]
    #[allow(dead_code, reason = "only read through Debug, which is the leak under test")]
    struct Careless<'a> {
        key: &'a str,
        secret: &'a str,
        passphrase: &'a str,
    }
    use keyward::credentials::ExposeSecret;
    let careless = Careless {
        key: credentials.api_key().expose(),
        secret: credentials.secret().expose_secret(),
        passphrase: credentials.passphrase().unwrap().expose_secret(),
    };
    tracing::subscriber::with_default(subscriber, || {
        tracing::warn!(request = ?careless, "oops");
    });
    let logged = captured.text();
    assert!(logged.contains("oops"), "{logged}");
    assert!(!logged.contains("test-only-secret-global-0001"), "{logged}");
    assert!(!logged.contains("test-only-passphrase-global-0001"), "{logged}");
    assert!(!logged.contains("test-only-api-key-global-0001"), "{logged}");
    assert!(logged.contains("…0001"), "the key's fingerprint stays: {logged}");
}

/// Every form the tripwire promises to catch, computed independently of its implementation.
fn forms(secret: &[u8]) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use percent_encoding::{NON_ALPHANUMERIC, percent_encode};
    const UNRESERVED: &percent_encoding::AsciiSet =
        &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    vec![
        String::from_utf8(secret.to_vec()).unwrap(),
        hex::encode(secret),
        hex::encode_upper(secret),
        STANDARD.encode(secret),
        STANDARD_NO_PAD.encode(secret),
        URL_SAFE.encode(secret),
        URL_SAFE_NO_PAD.encode(secret),
        percent_encode(secret, UNRESERVED).to_string(),
        percent_encode(secret, NON_ALPHANUMERIC).to_string(),
    ]
}

fn secret_strategy() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 1..200).prop_map(|chars| {
        let mut secret = String::new();
        for c in chars {
            if secret.len() + c.len_utf8() > 200 {
                break;
            }
            secret.push(c);
        }
        secret
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever the secret and the text around it, and however the text is cut into writes, no
    /// form of the secret is left in what reaches the inner writer.
    ///
    /// The output is checked between the `[REDACTED]` markers: unscrubbed input is copied
    /// verbatim between them, so a surviving form shows up inside one piece, while a short secret
    /// that merely reappears where a marker meets its neighbour (`"D]"`) is no leak.
    #[test]
    fn no_form_of_a_secret_survives(
        secret in secret_strategy(),
        around in proptest::collection::vec(any::<String>(), 10),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let forms = forms(secret.as_bytes());
        prop_assume!(forms.iter().all(|form| !form.contains("[REDACTED]")));
        let (tripwire, captured, _) = tripwire_with(&[secret.as_bytes()]);
        let mut input = around[0].clone();
        for (form, after) in forms.iter().zip(&around[1..]) {
            input.push_str(form);
            input.push_str(after);
        }
        let mut cut_points: Vec<usize> = cuts.iter().map(|cut| cut.index(input.len() + 1)).collect();
        cut_points.sort_unstable();
        let mut writer = tripwire.make_writer();
        let mut from = 0;
        for cut in cut_points {
            writer.write_all(&input.as_bytes()[from..cut]).unwrap();
            from = cut;
        }
        writer.write_all(&input.as_bytes()[from..]).unwrap();
        drop(writer);
        let output = captured.text();
        for piece in output.split("[REDACTED]") {
            for form in &forms {
                prop_assert!(!piece.contains(form.as_str()), "{form:?} survived in {output:?}");
            }
        }
    }
}
