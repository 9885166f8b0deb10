//! Where limiter state lives: behind a small trait, so that a store shared across processes
//! (Redis, say) can replace the in-memory one without touching the layer.

use super::{BudgetSpec, BudgetState};
use std::{
    collections::HashMap,
    fmt,
    sync::{Mutex, MutexGuard},
    time::Duration,
};

/// Which budget: the exchange's budget index, and the endpoint for per-endpoint budgets.
///
/// # Example
///
/// ```
/// use keyward::rate_limit::BudgetKey;
/// let key = BudgetKey { budget: 0, endpoint: Some("/v5/order/create".into()) };
/// # let _ = key;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BudgetKey {
    /// The index in the exchange's [`RateLimitSpec::budgets`](super::RateLimitSpec::budgets).
    pub budget: usize,
    /// The endpoint, for budgets kept per endpoint.
    pub endpoint: Option<String>,
}

/// One budget a request draws on, with its current limit.
#[derive(Debug, Clone)]
pub struct Draw {
    /// Which budget.
    pub key: BudgetKey,
    /// Its declaration.
    pub spec: BudgetSpec,
    /// Its limit now (the live limit when one was loaded).
    pub limit: u64,
    /// The units the request costs.
    pub cost: u64,
}

/// The state of a limiter. Every method is synchronous and quick: implementations must not
/// block for long, and the layer never holds anything across an await.
///
/// # Example
///
/// A store is used through the layer; here directly:
///
/// ```
/// use keyward::rate_limit::{BudgetKey, BudgetSpec, BudgetStore, Draw, MemoryStore, Refill};
/// use std::time::Duration;
///
/// let store = MemoryStore::default();
/// let spec = BudgetSpec::new("REQUESTS", 2, Refill::Window(Duration::from_secs(1)));
/// let draw = Draw { key: BudgetKey { budget: 0, endpoint: None }, spec, limit: 2, cost: 2 };
/// assert!(store.try_acquire(std::slice::from_ref(&draw), 0).is_ok());
/// // Full until the next second, plus the boundary margin (a twentieth of the window).
/// assert_eq!(store.try_acquire(&[draw], 10), Err(Duration::from_millis(1_040)));
/// ```
pub trait BudgetStore: fmt::Debug + Send + Sync + 'static {
    /// Spends every draw, all or nothing, or says how long to wait until all fit.
    fn try_acquire(&self, draws: &[Draw], now: u64) -> Result<(), Duration>;

    /// Applies the server's count of used units, reported for a request sent at `sent`.
    fn observe_used(&self, key: &BudgetKey, spec: &BudgetSpec, used: u64, sent: u64);

    /// Holds every request until `until` (a `Retry-After`); keeps the later of two holds.
    fn hold_until(&self, until: u64);

    /// Until when requests are held, if they are.
    fn held_until(&self) -> Option<u64>;

    /// Records a ban until `until`; keeps the later of two bans.
    fn ban_until(&self, until: u64);

    /// Until when the client is banned, if it is.
    fn banned_until(&self) -> Option<u64>;
}

/// The in-memory store: one mutex over every budget of one limiter (requests spend a few
/// budgets at once, all or nothing, so one short critical section is simplest and fast).
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<MemoryState>,
}

#[derive(Debug, Default)]
struct MemoryState {
    budgets: HashMap<BudgetKey, BudgetState>,
    held_until: Option<u64>,
    banned_until: Option<u64>,
}

impl MemoryStore {
    fn lock(&self) -> MutexGuard<'_, MemoryState> {
        // The state is plain numbers, valid after any panic.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl BudgetStore for MemoryStore {
    fn try_acquire(&self, draws: &[Draw], now: u64) -> Result<(), Duration> {
        let mut state = self.lock();
        let mut wait = Duration::ZERO;
        for draw in draws {
            let budget = state.budgets.entry(draw.key.clone()).or_default();
            wait = wait.max(budget.wait_for(draw.spec.refill, draw.limit, draw.cost, now));
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        for draw in draws {
            state
                .budgets
                .entry(draw.key.clone())
                .or_default()
                .spend(draw.spec.refill, draw.cost, now);
        }
        Ok(())
    }

    fn observe_used(&self, key: &BudgetKey, spec: &BudgetSpec, used: u64, sent: u64) {
        self.lock()
            .budgets
            .entry(key.clone())
            .or_default()
            .observe_used(spec.refill, used, sent);
    }

    fn hold_until(&self, until: u64) {
        let mut state = self.lock();
        state.held_until = Some(state.held_until.map_or(until, |held| held.max(until)));
    }

    fn held_until(&self) -> Option<u64> {
        self.lock().held_until
    }

    fn ban_until(&self, until: u64) {
        let mut state = self.lock();
        state.banned_until = Some(state.banned_until.map_or(until, |banned| banned.max(until)));
    }

    fn banned_until(&self) -> Option<u64> {
        self.lock().banned_until
    }
}
