//! Credentials that are reloaded and swapped while the bot runs.

use super::{
    CredentialError, CredentialSource, Credentials, ExposeSecret, Fingerprint,
    sources::{LoadCredentials, Provenance},
};
use crate::clock::{Clock, SystemClock};
use std::{
    fmt,
    sync::{Arc, RwLock, Weak},
    time::Duration,
};
use subtle::{Choice, ConstantTimeEq};

/// The default maximum age of a key: 90 days.
pub const DEFAULT_MAX_KEY_AGE: Duration = Duration::from_secs(90 * 24 * 60 * 60);

/// The default age from which a key should be rotated soon: 30 days.
pub const DEFAULT_KEY_AGE_WARNING: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The shortest interval [`RotatingCredentials::rotate_every`] reloads at: a shorter one would
/// run the source (a command, a secret manager) in a busy loop.
pub const MIN_ROTATION_PERIOD: Duration = Duration::from_secs(1);

/// Credentials reloaded from a [source](LoadCredentials) and swapped atomically, without a
/// restart.
///
/// It is a [`CredentialSource`]: the signing layer asks it for every request, so the request
/// after a swap is signed with the new key, while requests in flight keep the `Arc` of the key
/// they were signed with. Clones share the same credentials.
///
/// It reloads:
/// - on demand: [`rotate_now`](Self::rotate_now);
/// - on an interval: [`rotate_every`](Self::rotate_every), waiting on the injected
///   [`Clock`];
/// - on `SIGHUP`, if asked: [`rotate_on_sighup`](Self::rotate_on_sighup);
/// - once after the exchange rejects the key: [`reload_after_rejection`](Self::reload_after_rejection).
///
/// A reload that finds the same credentials changes nothing. One that finds new ones swaps them
/// in and emits a `keyward::audit` event, `event = "credentials.rotated"`, with the fingerprints
/// of the old and new keys (`old_api_key`, `new_api_key`), the `source`, the `trigger` and
/// `loaded_at_unix_ms`; never a key. A reload that fails keeps the current credentials and emits
/// `event = "credentials.rotation_failed"` at `WARN` with the error. Reloads never overlap.
///
/// [`age_check`](Self::age_check) tells how old the key is against a [`KeyAgePolicy`].
///
/// # Example
///
/// ```
/// use keyward::{Credentials, credentials::{CredentialSource, RotatingCredentials, Rotation, sources::{Loaded, Provenance, SourceKind, load_fn}}};
/// use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// // A source that hands out a new (test) key on every load.
/// let generation = Arc::new(AtomicUsize::new(0));
/// let source = load_fn(move || {
///     let n = generation.fetch_add(1, Ordering::SeqCst);
///     async move {
///         let credentials = Credentials::new(format!("test-only-key-generation-{n:04}"), format!("test-only-secret-{n}"));
///         Ok(Loaded { credentials, provenance: Provenance::new(SourceKind::Custom("vault")) })
///     }
/// });
///
/// let rotating = RotatingCredentials::load(source).await.unwrap();
/// let in_flight = rotating.current();
/// assert_eq!(in_flight.fingerprint().to_string(), "…0000");
///
/// let rotation = rotating.rotate_now().await.unwrap();
/// assert!(matches!(rotation, Rotation::Rotated { .. }));
/// assert_eq!(rotating.current().fingerprint().to_string(), "…0001");
/// assert_eq!(in_flight.fingerprint().to_string(), "…0000"); // still usable
/// # });
/// ```
#[derive(Clone)]
pub struct RotatingCredentials {
    shared: Arc<Shared>,
}

struct Shared {
    loader: Box<dyn LoadCredentials>,
    clock: Arc<dyn Clock>,
    policy: KeyAgePolicy,
    state: RwLock<State>,
    /// Serialises reloads, so that a burst of rejections or signals loads once at a time.
    reloading: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
struct State {
    credentials: Arc<Credentials>,
    provenance: Provenance,
    loaded_at_unix_ms: u64,
    created_at_unix_ms: Option<u64>,
    reloaded_after_rejection: bool,
}

#[derive(Debug, Clone, Copy)]
enum Trigger {
    OnDemand,
    Interval,
    Signal,
    Rejected,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Self::OnDemand => "on_demand",
            Self::Interval => "interval",
            Self::Signal => "signal",
            Self::Rejected => "rejected",
        }
    }
}

/// What a reload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rotation {
    /// New credentials were loaded and swapped in.
    Rotated {
        /// The fingerprint of the replaced key.
        old: Fingerprint,
        /// The fingerprint of the key now current.
        new: Fingerprint,
    },
    /// The source still holds the current credentials: nothing changed.
    Unchanged {
        /// The fingerprint of the current key.
        current: Fingerprint,
    },
    /// [`reload_after_rejection`](RotatingCredentials::reload_after_rejection): the rejected
    /// credentials had already been replaced, so nothing was loaded.
    AlreadyReplaced {
        /// The fingerprint of the current key.
        current: Fingerprint,
    },
    /// [`reload_after_rejection`](RotatingCredentials::reload_after_rejection): these credentials
    /// were already reloaded once after a rejection and did not change, so nothing was loaded.
    AlreadyReloaded {
        /// The fingerprint of the current key.
        current: Fingerprint,
    },
}

impl Rotation {
    /// Whether the current credentials differ from those before (or from the rejected ones): a
    /// rejected request is worth one retry exactly when this is true.
    pub fn key_changed(&self) -> bool {
        matches!(self, Self::Rotated { .. } | Self::AlreadyReplaced { .. })
    }
}

impl RotatingCredentials {
    /// Loads from `loader` now, with the system clock and the default [`KeyAgePolicy`].
    pub async fn load(loader: impl LoadCredentials) -> Result<Self, CredentialError> {
        Self::builder(loader).load().await
    }

    /// A builder, to set the clock or the key-age policy before the first load.
    pub fn builder(loader: impl LoadCredentials) -> RotatingCredentialsBuilder {
        RotatingCredentialsBuilder {
            loader: Box::new(loader),
            clock: Arc::new(SystemClock),
            policy: KeyAgePolicy::default(),
        }
    }

    /// Reloads now and swaps in what the source holds, if it changed.
    ///
    /// # Errors
    ///
    /// The source's error; the current credentials stay in place.
    pub async fn rotate_now(&self) -> Result<Rotation, CredentialError> {
        let _reloading = self.shared.reloading.lock().await;
        self.reload(Trigger::OnDemand).await
    }

    /// Reloads once after the exchange answered that `rejected` (the credentials the request was
    /// signed with) are invalid: the operator may have rotated the key in the source already.
    ///
    /// Loads only if `rejected` are still current and were not reloaded after a rejection
    /// before, so that a burst of rejected requests causes one reload, and a key that is simply
    /// wrong does not reload on every request. Retry the request once if
    /// [`Rotation::key_changed`].
    ///
    /// # Errors
    ///
    /// The source's error; the current credentials stay in place and are not reloaded again
    /// after a rejection.
    pub async fn reload_after_rejection(&self, rejected: &Arc<Credentials>) -> Result<Rotation, CredentialError> {
        let _reloading = self.shared.reloading.lock().await;
        {
            let state = self.read();
            let current = state.credentials.fingerprint();
            if !Arc::ptr_eq(&state.credentials, rejected) {
                return Ok(Rotation::AlreadyReplaced { current });
            }
            if state.reloaded_after_rejection {
                return Ok(Rotation::AlreadyReloaded { current });
            }
        }
        let result = self.reload(Trigger::Rejected).await;
        if !matches!(result, Ok(Rotation::Rotated { .. })) {
            // Reloads are serialised, so the credentials are still the rejected ones.
            self.write().reloaded_after_rejection = true;
        }
        result
    }

    /// Reloads every `period` (at least [`MIN_ROTATION_PERIOD`]), waiting on the clock, in a
    /// tokio task that stops when the returned handle is dropped or every clone of `self` is.
    ///
    /// A failed reload is audited and keeps the current credentials; the next period tries again.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    pub fn rotate_every(&self, period: Duration) -> RotationTask {
        let period = period.max(MIN_ROTATION_PERIOD);
        let clock = Arc::clone(&self.shared.clock);
        let shared = Arc::downgrade(&self.shared);
        RotationTask::spawn(async move {
            loop {
                clock.sleep(period).await;
                if !reload_if_alive(&shared, Trigger::Interval).await {
                    return;
                }
            }
        })
    }

    /// Reloads on every `SIGHUP`, in a tokio task that stops when the returned handle is dropped
    /// or every clone of `self` is. Once called, `SIGHUP` no longer terminates the process.
    ///
    /// # Errors
    ///
    /// When the signal handler cannot be installed.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime with I/O enabled.
    #[cfg(unix)]
    pub fn rotate_on_sighup(&self) -> std::io::Result<RotationTask> {
        let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        let shared = Arc::downgrade(&self.shared);
        Ok(RotationTask::spawn(async move {
            while hangups.recv().await.is_some() {
                if !reload_if_alive(&shared, Trigger::Signal).await {
                    return;
                }
            }
        }))
    }

    /// Notes when the exchange says the key of `credentials` was created (Binance `createTime`,
    /// Bybit `createdAt`, KuCoin `createdAt`), for [`age_check`](Self::age_check).
    ///
    /// Returns `false`, and notes nothing, if `credentials` are no longer current.
    pub fn set_created_at(&self, credentials: &Arc<Credentials>, created_at_unix_ms: u64) -> bool {
        let mut state = self.write();
        if !Arc::ptr_eq(&state.credentials, credentials) {
            return false;
        }
        state.created_at_unix_ms = Some(created_at_unix_ms);
        true
    }

    /// How old the current key is, against the [`KeyAgePolicy`].
    ///
    /// The age counts from the creation time the exchange reported
    /// ([`set_created_at`](Self::set_created_at)), or else from when the key was first loaded,
    /// which makes it a lower bound.
    pub fn age_check(&self) -> KeyAge {
        let state = self.read();
        let (since, basis) = match state.created_at_unix_ms {
            Some(created) => (created, KeyAgeBasis::Created),
            None => (state.loaded_at_unix_ms, KeyAgeBasis::Loaded),
        };
        let age = Duration::from_millis(self.shared.clock.unix_millis().saturating_sub(since));
        KeyAge {
            fingerprint: state.credentials.fingerprint(),
            age,
            basis,
            policy: self.shared.policy,
        }
    }

    /// Where the current credentials came from.
    pub fn provenance(&self) -> Provenance {
        self.read().provenance.clone()
    }

    /// When the current key was first loaded, in Unix milliseconds of the clock.
    pub fn loaded_at_unix_ms(&self) -> u64 {
        self.read().loaded_at_unix_ms
    }

    /// The fingerprint of the current key.
    pub fn fingerprint(&self) -> Fingerprint {
        self.read().credentials.fingerprint()
    }

    /// Loads and swaps; the caller holds `reloading`.
    async fn reload(&self, trigger: Trigger) -> Result<Rotation, CredentialError> {
        let loaded = match self.shared.loader.load().await {
            Ok(loaded) => loaded,
            Err(err) => {
                tracing::warn!(
                    target: "keyward::audit",
                    event = "credentials.rotation_failed",
                    trigger = trigger.as_str(),
                    api_key = %self.fingerprint(),
                    error = %err,
                );
                return Err(err);
            }
        };
        let now = self.shared.clock.unix_millis();
        let mut state = self.write();
        if same_credentials(&state.credentials, &loaded.credentials) {
            state.provenance = loaded.provenance;
            return Ok(Rotation::Unchanged {
                current: state.credentials.fingerprint(),
            });
        }
        let old = std::mem::replace(&mut *state, State::new(loaded.credentials, loaded.provenance, now));
        let new = state.credentials.fingerprint();
        let source = state.provenance.to_string();
        drop(state);
        tracing::info!(
            target: "keyward::audit",
            event = "credentials.rotated",
            trigger = trigger.as_str(),
            old_api_key = %old.credentials.fingerprint(),
            new_api_key = %new,
            source = source.as_str(),
            loaded_at_unix_ms = now,
            old_loaded_at_unix_ms = old.loaded_at_unix_ms,
        );
        Ok(Rotation::Rotated {
            old: old.credentials.fingerprint(),
            new,
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        // A poisoned lock only means a writer panicked between two whole values.
        self.shared
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.shared
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Reloads if any [`RotatingCredentials`] is still alive; `false` when none is.
async fn reload_if_alive(shared: &Weak<Shared>, trigger: Trigger) -> bool {
    let Some(shared) = shared.upgrade() else {
        return false;
    };
    let rotating = RotatingCredentials { shared };
    let _reloading = rotating.shared.reloading.lock().await;
    // A failure is audited in `reload` and keeps the current credentials.
    let _ = rotating.reload(trigger).await;
    true
}

impl State {
    fn new(credentials: Credentials, provenance: Provenance, loaded_at_unix_ms: u64) -> Self {
        Self {
            credentials: Arc::new(credentials),
            provenance,
            loaded_at_unix_ms,
            created_at_unix_ms: None,
            reloaded_after_rejection: false,
        }
    }
}

/// Whether `a` and `b` hold the same key, secret and passphrase, compared in constant time.
fn same_credentials(a: &Credentials, b: &Credentials) -> bool {
    let key = a.api_key().expose().as_bytes().ct_eq(b.api_key().expose().as_bytes());
    let secret = a
        .secret()
        .expose_secret()
        .as_bytes()
        .ct_eq(b.secret().expose_secret().as_bytes());
    let passphrase = match (a.passphrase(), b.passphrase()) {
        (Some(a), Some(b)) => a.expose_secret().as_bytes().ct_eq(b.expose_secret().as_bytes()),
        (None, None) => Choice::from(1),
        _ => Choice::from(0),
    };
    (key & secret & passphrase).into()
}

impl CredentialSource for RotatingCredentials {
    fn current(&self) -> Arc<Credentials> {
        Arc::clone(&self.read().credentials)
    }
}

impl fmt::Debug for RotatingCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.read();
        f.debug_struct("RotatingCredentials")
            .field("api_key", &format_args!("{}", state.credentials.fingerprint()))
            .field("source", &format_args!("{}", state.provenance))
            .field("loaded_at_unix_ms", &state.loaded_at_unix_ms)
            .field("policy", &self.shared.policy)
            .finish_non_exhaustive()
    }
}

/// Configures [`RotatingCredentials`] before the first load: see [`RotatingCredentials::builder`].
pub struct RotatingCredentialsBuilder {
    loader: Box<dyn LoadCredentials>,
    clock: Arc<dyn Clock>,
    policy: KeyAgePolicy,
}

impl RotatingCredentialsBuilder {
    /// The clock for load times, key ages and interval waits ([`SystemClock`] by default).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The key-age policy ([`KeyAgePolicy::default`]: warn from 30 days, at most 90).
    pub fn key_age_policy(mut self, policy: KeyAgePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Loads the credentials for the first time; emits `event = "credentials.loaded"`.
    ///
    /// # Errors
    ///
    /// The source's error.
    pub async fn load(self) -> Result<RotatingCredentials, CredentialError> {
        let loaded = self.loader.load().await?;
        let now = self.clock.unix_millis();
        tracing::info!(
            target: "keyward::audit",
            event = "credentials.loaded",
            api_key = %loaded.credentials.fingerprint(),
            source = %loaded.provenance,
            warnings = loaded.provenance.warnings().len(),
            loaded_at_unix_ms = now,
        );
        Ok(RotatingCredentials {
            shared: Arc::new(Shared {
                loader: self.loader,
                clock: self.clock,
                policy: self.policy,
                state: RwLock::new(State::new(loaded.credentials, loaded.provenance, now)),
                reloading: tokio::sync::Mutex::new(()),
            }),
        })
    }
}

impl fmt::Debug for RotatingCredentialsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RotatingCredentialsBuilder")
            .field("loader", &self.loader)
            .field("clock", &self.clock)
            .field("policy", &self.policy)
            .finish()
    }
}

/// A background reload task: it stops when this handle is dropped.
#[derive(Debug)]
#[must_use = "the task stops when its handle is dropped"]
pub struct RotationTask {
    handle: tokio::task::JoinHandle<()>,
}

impl RotationTask {
    fn spawn(task: impl std::future::Future<Output = ()> + Send + 'static) -> Self {
        Self {
            handle: tokio::spawn(task),
        }
    }

    /// Stops the task.
    pub fn stop(self) {}

    /// Whether the task has ended (every [`RotatingCredentials`] was dropped).
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
}

impl Drop for RotationTask {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// How old a key may get: a warning from `warn_after`, a failure from `max_age`.
///
/// # Example
///
/// ```
/// use keyward::credentials::KeyAgePolicy;
/// use std::time::Duration;
///
/// const DAY: Duration = Duration::from_secs(86_400);
/// assert_eq!(KeyAgePolicy::default(), KeyAgePolicy::new(30 * DAY, 90 * DAY));
/// // A warning threshold past the maximum is the maximum.
/// assert_eq!(KeyAgePolicy::new(200 * DAY, 60 * DAY).warn_after(), 60 * DAY);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyAgePolicy {
    warn_after: Duration,
    max_age: Duration,
}

impl KeyAgePolicy {
    /// Warn from `warn_after`, fail from `max_age`; `warn_after` is capped at `max_age`.
    pub fn new(warn_after: Duration, max_age: Duration) -> Self {
        Self {
            warn_after: warn_after.min(max_age),
            max_age,
        }
    }

    /// The age from which a key should be rotated soon.
    pub fn warn_after(&self) -> Duration {
        self.warn_after
    }

    /// The age from which a key is too old.
    pub fn max_age(&self) -> Duration {
        self.max_age
    }
}

impl Default for KeyAgePolicy {
    fn default() -> Self {
        Self::new(DEFAULT_KEY_AGE_WARNING, DEFAULT_MAX_KEY_AGE)
    }
}

/// What a key's age counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAgeBasis {
    /// The creation time the exchange reported.
    Created,
    /// When keyward first loaded the key: the true age is at least this.
    Loaded,
}

/// How a key's age compares with the [`KeyAgePolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAgeStatus {
    /// Younger than the warning age.
    Fresh,
    /// Past the warning age: rotate it soon.
    RotateSoon,
    /// Past the maximum age.
    TooOld,
}

/// The age of the current key, from [`RotatingCredentials::age_check`]. Its `Display` is a
/// sentence with the fix, for the preflight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyAge {
    fingerprint: Fingerprint,
    age: Duration,
    basis: KeyAgeBasis,
    policy: KeyAgePolicy,
}

impl KeyAge {
    /// The key's age.
    pub fn age(&self) -> Duration {
        self.age
    }

    /// What the age counts from.
    pub fn basis(&self) -> KeyAgeBasis {
        self.basis
    }

    /// The age against the policy.
    pub fn status(&self) -> KeyAgeStatus {
        if self.age >= self.policy.max_age {
            KeyAgeStatus::TooOld
        } else if self.age >= self.policy.warn_after {
            KeyAgeStatus::RotateSoon
        } else {
            KeyAgeStatus::Fresh
        }
    }

    /// The key's fingerprint.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }
}

impl fmt::Display for KeyAge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DAY: u64 = 24 * 60 * 60;
        let days = self.age.as_secs() / DAY;
        let max_days = self.policy.max_age.as_secs() / DAY;
        let basis = match self.basis {
            KeyAgeBasis::Created => "created on the exchange",
            KeyAgeBasis::Loaded => "since first loaded; the exchange did not report its creation time",
        };
        write!(f, "API key {} is {days} days old ({basis})", self.fingerprint)?;
        match self.status() {
            KeyAgeStatus::Fresh => write!(f, ", within the maximum of {max_days} days"),
            KeyAgeStatus::RotateSoon => write!(
                f,
                ": rotate it within {} days (maximum {max_days} days): create a new key on the exchange, \
                 switch to it, then delete this one",
                max_days.saturating_sub(days)
            ),
            KeyAgeStatus::TooOld => write!(
                f,
                ", past the maximum of {max_days} days: create a new key on the exchange, switch to it, \
                 then delete this one"
            ),
        }
    }
}
