//! Behaviour of `#[audited]`, observed through a real `tracing-subscriber` registry.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use keyward::{Credentials, audited, credentials::SecretString};
use serde_json::json;
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};
use support::{capture, capture_async};

#[derive(Debug)]
struct OrderError(&'static str);
impl std::fmt::Display for OrderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "order rejected: {}", self.0)
    }
}

#[audited(exchange = "binance")]
fn place(symbol: &str, quantity: f64, count: u32, api_key: &str, api_secret: &str) -> Result<u64, OrderError> {
    if quantity <= 0.0 {
        return Err(OrderError("quantity must be positive"));
    }
    Ok(u64::from(count) + symbol.len() as u64 + api_key.len() as u64 + api_secret.len() as u64)
}

#[test]
fn sync_call_emits_one_event_with_every_field() {
    let (result, captured) = capture(|| {
        place(
            "BTCUSDT",
            0.5,
            3,
            "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
            "hunter2-secret",
        )
    });
    assert!(result.is_ok());
    let event = captured.single_event();
    assert_eq!(event["call"], "place");
    assert_eq!(event["outcome"], "ok");
    assert!(event["elapsed_us"].is_u64());
    assert!(event.get("error").is_none());
    assert_eq!(event["symbol"], "BTCUSDT");
    assert_eq!(event["quantity"], 0.5);
    assert_eq!(event["count"], 3);
    assert_eq!(event["api_key"], "…Eh8A");
    assert_eq!(event["api_secret"], "[REDACTED]");
    assert_eq!(event["exchange"], "binance");
    assert_eq!(captured.target_of_events(), vec!["keyward::audit"]);
    assert!(!captured.everything().contains("hunter2-secret"));
}

#[test]
fn err_records_the_display_of_the_error() {
    let (result, captured) = capture(|| place("BTCUSDT", -1.0, 3, "k", "s"));
    assert!(result.is_err());
    let event = captured.single_event();
    assert_eq!(event["outcome"], "err");
    assert_eq!(event["error"], "order rejected: quantity must be positive");
}

#[audited]
fn boom(code: u8) -> u8 {
    if code > 0 {
        panic!("exploded with {code}");
    }
    code
}

#[test]
fn panic_is_recorded_before_the_unwind_continues() {
    let (result, captured) = capture(|| std::panic::catch_unwind(|| boom(7)));
    assert!(result.is_err());
    let event = captured.single_event();
    assert_eq!(event["outcome"], "panic");
    assert_eq!(event["code"], 7);
}

#[derive(Debug)]
struct Client {
    credentials: Credentials,
    sent: u32,
}

impl Client {
    #[audited(level = "debug", name = "client.balance")]
    fn balance(&self, asset: &str) -> Result<f64, std::io::Error> {
        let _ = &self.credentials;
        Ok(if asset == "BTC" { 1.5 } else { 0.0 })
    }

    #[audited(ret)]
    fn send(&mut self, body: String) -> Result<u32, std::io::Error> {
        self.sent += body.len() as u32;
        Ok(self.sent)
    }

    #[audited(skip(credentials))]
    async fn rotate(&mut self, credentials: Credentials, reason: &str) -> Result<(), std::io::Error> {
        tokio::task::yield_now().await;
        tracing::info!(target: "keyward::audit", reason, "rotating");
        self.credentials = credentials;
        Ok(())
    }
}

fn client() -> Client {
    Client {
        credentials: Credentials::new("test-only-key-0123456789", "test-only-secret-abcdef"),
        sent: 0,
    }
}

#[test]
fn methods_take_self_and_mut_self_and_never_record_self() {
    let mut client = client();
    let (_, captured) = capture(|| {
        client.balance("BTC").unwrap();
        client.send("hello".into()).unwrap();
    });
    let events = captured.events();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["call"], "client.balance");
    assert_eq!(events[0]["level"], "DEBUG");
    assert_eq!(events[0]["asset"], "BTC");
    assert!(events[0].get("self").is_none());
    assert_eq!(events[1]["call"], "send");
    assert_eq!(events[1]["ret"], 5);
    assert!(!captured.everything().contains("test-only-secret-abcdef"));
}

#[tokio::test]
async fn async_methods_record_on_completion_and_child_events_are_attributed() {
    let mut client = client();
    let new = Credentials::new("test-only-key-9876543210", "test-only-secret-rotated");
    let (result, captured) = capture_async(client.rotate(new, "scheduled")).await;
    result.unwrap();
    let events = captured.events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["message"], "rotating");
    assert_eq!(events[0]["spans"], json!(["rotate"]));
    assert_eq!(events[1]["call"], "rotate");
    assert_eq!(events[1]["outcome"], "ok");
    assert_eq!(events[1]["reason"], "scheduled");
    assert!(events[1].get("credentials").is_none());
    assert!(!captured.everything().contains("test-only-secret-rotated"));
}

trait Venue {
    async fn ping(&self, attempt: u32) -> Result<u32, String>;
}

struct Loopback;

impl Venue for Loopback {
    #[audited]
    async fn ping(&self, attempt: u32) -> Result<u32, String> {
        if attempt == 0 {
            Err("no attempt".to_owned())
        } else {
            Ok(attempt)
        }
    }
}

#[tokio::test]
async fn async_fn_in_trait_impls() {
    let (result, captured) = capture_async(Loopback.ping(0)).await;
    assert!(result.is_err());
    let event = captured.single_event();
    assert_eq!(event["call"], "ping");
    assert_eq!(event["outcome"], "err");
    assert_eq!(event["error"], "no attempt");
}

#[async_trait::async_trait]
trait Legacy {
    async fn fetch(&self, path: &str, token: &str) -> Result<usize, std::io::Error>;
}

#[async_trait::async_trait]
impl Legacy for Loopback {
    #[audited]
    async fn fetch(&self, path: &str, token: &str) -> Result<usize, std::io::Error> {
        tokio::task::yield_now().await;
        Ok(path.len() + token.len())
    }
}

#[tokio::test]
async fn async_trait_methods_are_audited_around_the_future() {
    let (result, captured) = capture_async(Loopback.fetch("/api/v3/order", "bearer-xyz")).await;
    assert_eq!(result.unwrap(), 23);
    let event = captured.single_event();
    assert_eq!(event["call"], "fetch");
    assert_eq!(event["path"], "/api/v3/order");
    assert_eq!(event["token"], "[REDACTED]");
}

#[audited]
fn generic<T: std::fmt::Debug + Clone>(item: T, items: &[T]) -> usize {
    items.len() + usize::from(format!("{item:?}").is_empty())
}

#[test]
fn generic_functions() {
    let (n, captured) = capture(|| generic(7u8, &[1, 2, 3]));
    assert_eq!(n, 3);
    let event = captured.single_event();
    assert_eq!(event["item"], "7");
    assert_eq!(event["items"], "[1, 2, 3]");
}

#[audited]
fn typed_secrets(
    plain: SecretString,
    borrowed: &SecretString,
    maybe: Option<Arc<SecretString>>,
    credentials: &Credentials,
    wrapped: Box<SecretString>,
) -> usize {
    let _ = (plain, borrowed, maybe, credentials, wrapped);
    1
}

#[test]
fn secret_types_are_redacted_behind_references_options_and_pointers() {
    let creds = Credentials::new("test-only-key-0123456789", "test-only-secret-typed");
    let (_, captured) = capture(|| {
        typed_secrets(
            SecretString::from("typed-secret-one"),
            &SecretString::from("typed-secret-two"),
            Some(Arc::new(SecretString::from("typed-secret-three"))),
            &creds,
            Box::new(SecretString::from("typed-secret-four")),
        )
    });
    let event = captured.single_event();
    for field in ["plain", "borrowed", "maybe", "credentials", "wrapped"] {
        assert_eq!(event[field], "[REDACTED]", "{field}");
    }
    assert!(!captured.everything().contains("typed-secret"));
}

#[audited(show(token_count), redact(note), skip(ignored))]
fn arguments(token_count: u32, note: &str, ignored: &str, password_hint: &str) -> u32 {
    let _ = (note, ignored, password_hint);
    token_count
}

#[test]
fn show_redact_and_skip() {
    let (_, captured) = capture(|| arguments(12, "visible-note", "ignored-value", "hint"));
    let event = captured.single_event();
    assert_eq!(event["token_count"], 12);
    assert_eq!(event["note"], "[REDACTED]");
    assert!(event.get("ignored").is_none());
    assert_eq!(event["password_hint"], "[REDACTED]");
    assert!(!captured.everything().contains("visible-note"));
}

#[audited(show(secret))]
fn show_never_overrides_type(secret: SecretString) -> usize {
    let _ = secret;
    0
}

#[test]
fn show_does_not_reveal_a_secret_type() {
    let (_, captured) = capture(|| show_never_overrides_type(SecretString::from("shown-but-typed")));
    assert_eq!(captured.single_event()["secret"], "[REDACTED]");
}

#[audited(skip_all)]
fn nothing_recorded(a: u32, b: &str) -> u32 {
    a + b.len() as u32
}

#[test]
fn skip_all_records_only_the_call() {
    let (_, captured) = capture(|| nothing_recorded(1, "two"));
    let event = captured.single_event();
    assert!(event.get("a").is_none() && event.get("b").is_none());
    assert_eq!(event["call"], "nothing_recorded");
}

struct Counted(Arc<AtomicUsize>);
impl std::fmt::Debug for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fetch_add(1, Ordering::SeqCst);
        f.write_str("Counted")
    }
}

#[audited]
fn formatted(value: Counted) -> usize {
    let _ = value;
    0
}

#[test]
fn disabled_target_formats_nothing() {
    let count = Arc::new(AtomicUsize::new(0));
    let (_, captured) = support::capture_filtered("keyward::audit=off", || formatted(Counted(count.clone())));
    assert_eq!(count.load(Ordering::SeqCst), 0);
    assert!(captured.events().is_empty());
    let (_, captured) = capture(|| formatted(Counted(count.clone())));
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(captured.single_event()["value"], "Counted");
}

#[tokio::test]
async fn dropped_future_is_recorded_as_cancelled() {
    #[audited]
    async fn never(step: u8) -> u8 {
        std::future::pending::<()>().await;
        step
    }
    let (_, captured) = capture_async(async {
        let fut = never(3);
        let _ = tokio::time::timeout(std::time::Duration::from_millis(1), fut).await;
    })
    .await;
    let event = captured.single_event();
    assert_eq!(event["outcome"], "cancelled");
    assert_eq!(event["step"], 3);
}
