//! Everything a running mock exchange knows, behind one `Arc`.

use crate::{
    clock::Clock,
    credentials::MockCredentials,
    exchange::Protocol,
    faults::Faults,
    limits::Limits,
    permissions::MockKeyPermissions,
    record::{RecordedOrder, RecordedRequest},
};
use ed25519_dalek::VerifyingKey;
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, MutexGuard, RwLock,
        atomic::{AtomicU64, Ordering},
    },
};

/// An accepted key with its key material prepared once.
#[derive(Debug)]
pub(crate) struct Key {
    pub(crate) credentials: MockCredentials,
    /// Set when the secret is an Ed25519 PEM (Binance Ed25519 keys).
    pub(crate) ed25519: Option<VerifyingKey>,
}

/// The shared state of one running mock. What stands between a request and the exchange (its
/// [`Faults`] and its [`Limits`]) is consulted before the exchange handles the request.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) exchange: &'static dyn Protocol,
    pub(crate) clock: Clock,
    pub(crate) faults: Faults,
    pub(crate) limits: Limits,
    /// Set once the server stops accepting: held answers and idle connections end early.
    pub(crate) stopping: tokio::sync::watch::Sender<bool>,
    /// Accepted keys; a test may add and revoke keys while the mock runs (key rotation).
    keys: RwLock<Vec<Arc<Key>>>,
    journal: Mutex<Journal>,
    last_nonces: Mutex<HashMap<String, u64>>,
    order_sequence: AtomicU64,
    /// Requests that arrived and are not recorded yet.
    in_progress: AtomicU64,
    /// What the key-permission endpoints report, by API key; absent keys report the default.
    pub(crate) key_permissions: HashMap<String, MockKeyPermissions>,
}

#[derive(Debug, Default)]
struct Journal {
    requests: Vec<RecordedRequest>,
    orders: Vec<RecordedOrder>,
}

impl State {
    pub(crate) fn new(
        exchange: &'static dyn Protocol,
        keys: Vec<Key>,
        clock: Clock,
        faults: Faults,
        limits: Limits,
    ) -> Self {
        Self {
            exchange,
            clock,
            faults,
            limits,
            stopping: tokio::sync::watch::Sender::new(false),
            keys: RwLock::new(keys.into_iter().map(Arc::new).collect()),
            journal: Mutex::default(),
            last_nonces: Mutex::default(),
            order_sequence: AtomicU64::new(1),
            in_progress: AtomicU64::new(0),
            key_permissions: HashMap::new(),
        }
    }

    /// Reports these permissions for their keys.
    pub(crate) fn with_key_permissions(mut self, key_permissions: HashMap<String, MockKeyPermissions>) -> Self {
        self.key_permissions = key_permissions;
        self
    }

    /// The accepted key with this API key. API keys are public identifiers (they travel in a
    /// header), so an ordinary comparison is fine here; secrets are compared in constant time.
    pub(crate) fn key(&self, api_key: &str) -> Option<Arc<Key>> {
        let keys = self.keys.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        keys.iter().find(|key| key.credentials.api_key() == api_key).cloned()
    }

    /// Accepts `key` too (replacing an accepted key with the same API key).
    pub(crate) fn add_key(&self, key: Key) {
        let mut keys = self.keys.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        keys.retain(|accepted| accepted.credentials.api_key() != key.credentials.api_key());
        keys.push(Arc::new(key));
    }

    /// Stops accepting the key with this API key; whether there was one.
    pub(crate) fn revoke_key(&self, api_key: &str) -> bool {
        let mut keys = self.keys.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        let before = keys.len();
        keys.retain(|accepted| accepted.credentials.api_key() != api_key);
        keys.len() != before
    }

    /// A fresh order sequence number, for exchange order ids.
    pub(crate) fn next_order_number(&self) -> u64 {
        self.order_sequence.fetch_add(1, Ordering::Relaxed)
    }

    /// Accepts `nonce` for `api_key` if it is greater than every nonce accepted before, and
    /// remembers it; check and update happen under one lock so that concurrent requests cannot
    /// both pass with the same nonce.
    pub(crate) fn accept_increasing_nonce(&self, api_key: &str, nonce: u64) -> bool {
        let mut last_nonces = lock(&self.last_nonces);
        match last_nonces.get(api_key) {
            Some(&last) if nonce <= last => false,
            _ => {
                last_nonces.insert(api_key.to_owned(), nonce);
                true
            }
        }
    }

    /// Counts a request that just arrived as in progress until the returned guard is dropped
    /// (when it is recorded, or its connection is dropped first).
    pub(crate) fn arrived(self: &Arc<Self>) -> InProgress {
        self.in_progress.fetch_add(1, Ordering::SeqCst);
        InProgress(Arc::clone(self))
    }

    /// Requests that arrived and are not recorded yet.
    pub(crate) fn in_progress(&self) -> u64 {
        self.in_progress.load(Ordering::SeqCst)
    }

    pub(crate) fn record(&self, request: RecordedRequest, order: Option<RecordedOrder>) {
        let mut journal = lock(&self.journal);
        journal.requests.push(request);
        if let Some(order) = order {
            journal.orders.push(order);
        }
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.journal).requests.clone()
    }

    pub(crate) fn orders(&self) -> Vec<RecordedOrder> {
        lock(&self.journal).orders.clone()
    }

    pub(crate) fn clear_requests(&self) {
        lock(&self.journal).requests.clear();
    }
}

/// One request in progress, until dropped.
#[derive(Debug)]
pub(crate) struct InProgress(Arc<State>);

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.in_progress.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A panic while holding one of these locks cannot leave the journal half-written in a way that
/// matters to a test, so a poisoned lock is used as it is.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
