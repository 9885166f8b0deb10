//! Rotating credentials: the atomic swap, its audit event, reloads on demand, on an interval,
//! on SIGHUP and after a rejection, and key age.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use keyward::{
    Credentials,
    clock::{Clock, VirtualClock},
    credentials::{
        CredentialError, CredentialSource, ExposeSecret, KeyAgeBasis, KeyAgePolicy, KeyAgeStatus, RotatingCredentials,
        Rotation,
        sources::{LoadCredentials, Loaded, Provenance, SourceKind, load_fn},
    },
};
use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

const DAY: Duration = Duration::from_secs(86_400);

fn generation(n: usize) -> Credentials {
    Credentials::new(
        format!("test-only-key-generation-{n:04}"),
        format!("test-only-secret-generation-{n:04}"),
    )
}

/// A secret store whose content a test replaces, counting how often it is read.
#[derive(Clone)]
struct Vault {
    current: Arc<Mutex<Result<Credentials, CredentialError>>>,
    loads: Arc<AtomicUsize>,
}

impl Vault {
    fn holding(credentials: Credentials) -> Self {
        Self {
            current: Arc::new(Mutex::new(Ok(credentials))),
            loads: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn put(&self, value: Result<Credentials, CredentialError>) {
        *self.current.lock().unwrap() = value;
    }

    fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }

    fn source(&self) -> impl LoadCredentials {
        let vault = self.clone();
        load_fn(move || {
            vault.loads.fetch_add(1, Ordering::SeqCst);
            let value = vault.current.lock().unwrap().clone();
            async move {
                Ok(Loaded {
                    credentials: value?,
                    provenance: Provenance::new(SourceKind::Custom("vault")).origin("secret/binance"),
                })
            }
        })
    }
}

#[tokio::test]
async fn rotation_swaps_and_in_flight_users_keep_their_credentials() {
    let vault = Vault::holding(generation(1));
    let rotating = RotatingCredentials::load(vault.source()).await.unwrap();
    let in_flight = rotating.current();
    let shared_clone = rotating.clone();

    assert_eq!(
        rotating.rotate_now().await.unwrap(),
        Rotation::Unchanged {
            current: in_flight.fingerprint()
        }
    );
    assert!(
        Arc::ptr_eq(&rotating.current(), &in_flight),
        "an unchanged reload keeps the same Arc"
    );

    vault.put(Ok(generation(2)));
    let rotation = rotating.rotate_now().await.unwrap();
    assert_eq!(
        rotation,
        Rotation::Rotated {
            old: generation(1).fingerprint(),
            new: generation(2).fingerprint()
        }
    );
    assert!(rotation.key_changed());
    assert_eq!(
        shared_clone.current().secret().expose_secret(),
        "test-only-secret-generation-0002"
    );
    // The request signed before the swap still holds the old credentials, intact.
    assert_eq!(in_flight.secret().expose_secret(), "test-only-secret-generation-0001");
    assert_eq!(vault.loads(), 3);
}

#[tokio::test]
async fn a_secret_change_under_the_same_key_is_a_rotation() {
    let vault = Vault::holding(generation(1));
    let rotating = RotatingCredentials::load(vault.source()).await.unwrap();
    vault.put(Ok(Credentials::new(
        "test-only-key-generation-0001",
        "test-only-secret-new",
    )));
    assert!(rotating.rotate_now().await.unwrap().key_changed());
    vault.put(Ok(Credentials::new(
        "test-only-key-generation-0001",
        "test-only-secret-new",
    )
    .with_passphrase("test-only-pass")));
    assert!(rotating.rotate_now().await.unwrap().key_changed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_never_see_half_a_swap() {
    let vault = Vault::holding(generation(0));
    let rotating = RotatingCredentials::load(vault.source()).await.unwrap();
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let rotating = rotating.clone();
            tokio::spawn(async move {
                for _ in 0..2_000 {
                    let credentials = rotating.current();
                    let key = credentials.api_key().expose();
                    let secret = credentials.secret().expose_secret();
                    assert_eq!(key[key.len() - 4..], secret[secret.len() - 4..]);
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for n in 1..=50 {
        vault.put(Ok(generation(n)));
        assert!(rotating.rotate_now().await.unwrap().key_changed());
    }
    for reader in readers {
        reader.await.unwrap();
    }
    assert_eq!(rotating.fingerprint(), generation(50).fingerprint());
}

#[tokio::test]
async fn rotation_is_an_audit_event_with_fingerprints_never_keys() {
    let clock = VirtualClock::at_unix_millis(1_700_000_000_000);
    let vault = Vault::holding(generation(1));
    let ((), captured) = support::capture_async(async {
        let rotating = RotatingCredentials::builder(vault.source())
            .clock(clock.clone())
            .load()
            .await
            .unwrap();
        clock.advance(Duration::from_secs(60));
        vault.put(Ok(generation(2)));
        rotating.rotate_now().await.unwrap();
    })
    .await;

    let events = captured.events();
    assert_eq!(events.len(), 2, "{events:#?}");
    let loaded = &events[0];
    assert_eq!(loaded["target"], "keyward::audit");
    assert_eq!(loaded["event"], "credentials.loaded");
    assert_eq!(loaded["api_key"], "…0001");
    assert_eq!(loaded["source"], "vault (secret/binance)");
    assert_eq!(loaded["loaded_at_unix_ms"], 1_700_000_000_000u64);

    let rotated = &events[1];
    assert_eq!(rotated["target"], "keyward::audit");
    assert_eq!(rotated["level"], "INFO");
    assert_eq!(rotated["event"], "credentials.rotated");
    assert_eq!(rotated["trigger"], "on_demand");
    assert_eq!(rotated["old_api_key"], "…0001");
    assert_eq!(rotated["new_api_key"], "…0002");
    assert_eq!(rotated["source"], "vault (secret/binance)");
    assert_eq!(rotated["loaded_at_unix_ms"], 1_700_000_060_000u64);
    assert_eq!(rotated["old_loaded_at_unix_ms"], 1_700_000_000_000u64);

    let everything = captured.everything();
    for n in [1, 2] {
        assert!(
            !everything.contains(&format!("test-only-key-generation-{n:04}")),
            "{everything}"
        );
        assert!(
            !everything.contains(&format!("test-only-secret-generation-{n:04}")),
            "{everything}"
        );
    }
}

#[tokio::test]
async fn a_failed_reload_keeps_the_current_credentials_and_is_audited() {
    let vault = Vault::holding(generation(1));
    let rotating = RotatingCredentials::load(vault.source()).await.unwrap();
    vault.put(Err(CredentialError::Empty {
        location: "secret/binance".to_owned(),
    }));
    let (result, captured) = support::capture_async(rotating.rotate_now()).await;
    assert!(matches!(result, Err(CredentialError::Empty { .. })), "{result:?}");
    assert_eq!(rotating.fingerprint(), generation(1).fingerprint());
    let event = captured.single_event();
    assert_eq!(event["level"], "WARN");
    assert_eq!(event["event"], "credentials.rotation_failed");
    assert_eq!(event["api_key"], "…0001");
    assert_eq!(
        event["error"],
        "secret/binance is empty: set it to the value the exchange issued"
    );
}

#[tokio::test]
async fn a_rejection_reloads_once() {
    let vault = Vault::holding(generation(1));
    let rotating = RotatingCredentials::load(vault.source()).await.unwrap();
    let rejected = rotating.current();

    // The key is wrong and the vault has nothing newer: one reload, then none.
    let first = rotating.reload_after_rejection(&rejected).await.unwrap();
    assert_eq!(
        first,
        Rotation::Unchanged {
            current: rejected.fingerprint()
        }
    );
    assert!(!first.key_changed());
    let again = rotating.reload_after_rejection(&rejected).await.unwrap();
    assert!(matches!(again, Rotation::AlreadyReloaded { .. }), "{again:?}");
    assert_eq!(vault.loads(), 2);

    // The operator rotates in the vault: the next rotation picks it up.
    vault.put(Ok(generation(2)));
    assert!(rotating.rotate_now().await.unwrap().key_changed());
    let rejected = rotating.current();
    vault.put(Ok(generation(3)));

    // Concurrent rejections of the same key reload once; the others find it replaced.
    let outcomes = futures_join(
        rotating.reload_after_rejection(&rejected),
        rotating.reload_after_rejection(&rejected),
    )
    .await;
    let mut kinds: Vec<_> = [outcomes.0.unwrap(), outcomes.1.unwrap()]
        .iter()
        .map(|outcome| match outcome {
            Rotation::Rotated { .. } => "rotated",
            Rotation::AlreadyReplaced { .. } => "already replaced",
            other => panic!("{other:?}"),
        })
        .collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["already replaced", "rotated"]);
    assert_eq!(vault.loads(), 4);
    assert_eq!(rotating.fingerprint(), generation(3).fingerprint());
}

async fn futures_join<A: std::future::Future, B: std::future::Future>(a: A, b: B) -> (A::Output, B::Output) {
    tokio::join!(a, b)
}

#[tokio::test]
async fn the_interval_waits_on_the_clock_and_stops_with_its_handle() {
    let clock = VirtualClock::at_unix_millis(1_700_000_000_000);
    let vault = Vault::holding(generation(1));
    let rotating = RotatingCredentials::builder(vault.source())
        .clock(clock.clone())
        .load()
        .await
        .unwrap();
    let task = rotating.rotate_every(Duration::from_secs(3600));
    vault.put(Ok(generation(2)));
    // Virtual sleeps take a moment of real time each (to let requests in flight land).
    for _ in 0..2_000 {
        if vault.loads() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(vault.loads() >= 4, "{} loads", vault.loads());
    assert_eq!(rotating.fingerprint(), generation(2).fingerprint());
    // Each reload came after an hour on the clock.
    assert!(clock.slept() >= Duration::from_secs(3 * 3600), "{:?}", clock.slept());

    task.stop();
    let loads = vault.loads();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(vault.loads(), loads, "no reload after the handle is dropped");
}

#[tokio::test]
async fn the_interval_has_a_floor() {
    let clock = VirtualClock::at_unix_millis(0);
    let vault = Vault::holding(generation(1));
    let rotating = RotatingCredentials::builder(vault.source())
        .clock(clock.clone())
        .load()
        .await
        .unwrap();
    let _task = rotating.rotate_every(Duration::ZERO);
    while vault.loads() < 3 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(clock.slept() >= Duration::from_secs(2), "{:?}", clock.slept());
}

#[tokio::test]
async fn the_interval_task_ends_when_the_credentials_are_dropped() {
    let clock = VirtualClock::at_unix_millis(0);
    let vault = Vault::holding(generation(1));
    let rotating = RotatingCredentials::builder(vault.source())
        .clock(clock)
        .load()
        .await
        .unwrap();
    let task = rotating.rotate_every(Duration::from_secs(60));
    drop(rotating);
    for _ in 0..2_000 {
        if task.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(task.is_finished());
}

#[cfg(unix)]
#[tokio::test]
async fn sighup_reloads() {
    let vault = Vault::holding(generation(1));
    let rotating = RotatingCredentials::load(vault.source()).await.unwrap();
    let _task = rotating.rotate_on_sighup().unwrap();
    vault.put(Ok(generation(2)));
    let status = tokio::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .await
        .unwrap();
    assert!(status.success());
    let swapped = tokio::time::timeout(Duration::from_secs(5), async {
        while rotating.fingerprint() != generation(2).fingerprint() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(swapped.is_ok(), "SIGHUP did not rotate the credentials");
}

#[tokio::test]
async fn key_age_counts_from_the_exchange_creation_time_when_known() {
    let clock = VirtualClock::at_unix_millis(1_700_000_000_000);
    let vault = Vault::holding(generation(1));
    let rotating = RotatingCredentials::builder(vault.source())
        .clock(clock.clone())
        .load()
        .await
        .unwrap();

    let age = rotating.age_check();
    assert_eq!(
        (age.status(), age.basis(), age.age()),
        (KeyAgeStatus::Fresh, KeyAgeBasis::Loaded, Duration::ZERO)
    );

    clock.advance(31 * DAY);
    let age = rotating.age_check();
    assert_eq!(age.status(), KeyAgeStatus::RotateSoon);
    assert_eq!(
        age.to_string(),
        "API key …0001 is 31 days old (since first loaded; the exchange did not report its creation time): \
         rotate it within 59 days (maximum 90 days): create a new key on the exchange, switch to it, then delete \
         this one"
    );

    let current = rotating.current();
    let created = clock.unix_millis() - u64::try_from((120 * DAY).as_millis()).unwrap();
    assert!(rotating.set_created_at(&current, created));
    let age = rotating.age_check();
    assert_eq!(
        (age.status(), age.basis()),
        (KeyAgeStatus::TooOld, KeyAgeBasis::Created)
    );
    assert_eq!(age.age(), 120 * DAY);
    assert!(age.to_string().contains("past the maximum of 90 days"), "{age}");

    // A new key starts young, and a report about the old one no longer applies.
    vault.put(Ok(generation(2)));
    rotating.rotate_now().await.unwrap();
    assert_eq!(rotating.age_check().status(), KeyAgeStatus::Fresh);
    assert!(!rotating.set_created_at(&current, created));
    assert_eq!(rotating.age_check().basis(), KeyAgeBasis::Loaded);
}

#[tokio::test]
async fn key_age_policy_is_configurable() {
    let clock = VirtualClock::at_unix_millis(1_700_000_000_000);
    let rotating = RotatingCredentials::builder(Vault::holding(generation(1)).source())
        .clock(clock.clone())
        .key_age_policy(KeyAgePolicy::new(5 * DAY, 10 * DAY))
        .load()
        .await
        .unwrap();
    clock.advance(6 * DAY);
    assert_eq!(rotating.age_check().status(), KeyAgeStatus::RotateSoon);
    clock.advance(4 * DAY);
    assert_eq!(rotating.age_check().status(), KeyAgeStatus::TooOld);
}

#[tokio::test]
async fn debug_shows_the_fingerprint_only() {
    let rotating = RotatingCredentials::load(Vault::holding(generation(7)).source())
        .await
        .unwrap();
    let shown = format!("{rotating:?}");
    assert!(shown.contains("…0007"), "{shown}");
    assert!(!shown.contains("test-only-key-generation-0007"), "{shown}");
    assert!(!shown.contains("test-only-secret-generation-0007"), "{shown}");
}
