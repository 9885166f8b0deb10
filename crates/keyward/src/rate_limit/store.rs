//! Where limiter state lives: behind a small trait, so that a store shared across processes
//! (Redis, say) can replace the in-memory one without touching the layer.

use super::{BudgetSpec, BudgetState, MAX_BUDGETS, budget::Touched};
use std::{
    collections::HashMap,
    fmt,
    sync::{
        Mutex, MutexGuard,
        atomic::{AtomicU64, Ordering},
    },
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
///
/// Budgets shared by every endpoint sit in a small array indexed by budget, and only
/// per-endpoint budgets in a map, so that the common draw hashes nothing and clones no key.
/// Holds and bans are atomics, read without the lock: every request checks them first.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<MemoryState>,
    /// Until when requests are held (Unix ms), or 0 for no hold.
    held_until: AtomicU64,
    /// Until when the client is banned (Unix ms), or 0 for no ban.
    banned_until: AtomicU64,
}

#[derive(Debug, Default)]
struct MemoryState {
    shared: [BudgetState; MAX_BUDGETS],
    per_endpoint: HashMap<BudgetKey, BudgetState>,
}

impl MemoryState {
    #[inline]
    fn budget(&mut self, key: &BudgetKey) -> &mut BudgetState {
        if key.endpoint.is_none() && key.budget < MAX_BUDGETS {
            return &mut self.shared[key.budget];
        }
        self.per_endpoint(key)
    }

    #[inline(never)]
    fn per_endpoint(&mut self, key: &BudgetKey) -> &mut BudgetState {
        // Cloning the key (an endpoint path) only the first time it is seen.
        if !self.per_endpoint.contains_key(key) {
            self.per_endpoint.insert(key.clone(), BudgetState::default());
        }
        match self.per_endpoint.get_mut(key) {
            Some(budget) => budget,
            None => unreachable!("inserted just above"),
        }
    }
}

impl MemoryStore {
    fn lock(&self) -> MutexGuard<'_, MemoryState> {
        // The state is plain numbers, valid after any panic.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// [`BudgetStore::try_acquire`] for more draws than an exchange declares budgets: a caller's own.
fn try_acquire_many(state: &mut MemoryState, draws: &[Draw], now: u64) -> Result<(), Duration> {
    let mut wait = Duration::ZERO;
    for draw in draws {
        let budget = state.budget(&draw.key);
        wait = wait.max(budget.wait_for(draw.spec.refill, draw.limit, draw.cost, now));
    }
    if !wait.is_zero() {
        return Err(wait);
    }
    for draw in draws {
        state.budget(&draw.key).spend(draw.spec.refill, draw.cost, now);
    }
    Ok(())
}

/// `Some(until)` for a stored moment, `None` for the 0 that stands for none.
fn moment(stored: &AtomicU64) -> Option<u64> {
    Some(stored.load(Ordering::Acquire)).filter(|until| *until != 0)
}

impl BudgetStore for MemoryStore {
    fn try_acquire(&self, draws: &[Draw], now: u64) -> Result<(), Duration> {
        let mut state = self.lock();
        if let [draw] = draws {
            let budget = state.budget(&draw.key);
            let touched = budget.check(draw.spec.refill, draw.limit, draw.cost, now)?;
            budget.commit(draw.cost, touched);
            return Ok(());
        }
        if draws.len() > MAX_BUDGETS {
            return try_acquire_many(&mut state, draws, now);
        }
        // Every draw is checked (and its windows rolled) before any is spent: all or nothing.
        let mut touched = [Touched::default(); MAX_BUDGETS];
        let mut wait = Duration::ZERO;
        for (draw, touched) in draws.iter().zip(&mut touched) {
            match state
                .budget(&draw.key)
                .check(draw.spec.refill, draw.limit, draw.cost, now)
            {
                Ok(fits) => *touched = fits,
                Err(more) => wait = wait.max(more),
            }
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        for (draw, touched) in draws.iter().zip(touched) {
            state.budget(&draw.key).commit(draw.cost, touched);
        }
        Ok(())
    }

    fn observe_used(&self, key: &BudgetKey, spec: &BudgetSpec, used: u64, sent: u64) {
        self.lock().budget(key).observe_used(spec.refill, used, sent);
    }

    fn hold_until(&self, until: u64) {
        self.held_until.fetch_max(until, Ordering::AcqRel);
    }

    fn held_until(&self) -> Option<u64> {
        moment(&self.held_until)
    }

    fn ban_until(&self, until: u64) {
        self.banned_until.fetch_max(until, Ordering::AcqRel);
    }

    fn banned_until(&self) -> Option<u64> {
        moment(&self.banned_until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rate_limit::Refill;

    fn draw(budget: usize, endpoint: Option<&str>, limit: u64, cost: u64) -> Draw {
        Draw {
            key: BudgetKey {
                budget,
                endpoint: endpoint.map(str::to_owned),
            },
            spec: BudgetSpec::new("TEST", limit, Refill::Window(Duration::from_secs(10))),
            limit,
            cost,
        }
    }

    #[test]
    fn draws_are_spent_all_or_nothing() {
        let store = MemoryStore::default();
        assert!(store.try_acquire(&[draw(0, None, 5, 5)], 1_000).is_ok());
        // Budget 0 is full: budget 1 must not be charged for the refused request.
        assert!(
            store
                .try_acquire(&[draw(1, None, 3, 3), draw(0, None, 5, 1)], 1_000)
                .is_err()
        );
        assert!(store.try_acquire(&[draw(1, None, 3, 3)], 1_000).is_ok());
        assert!(store.try_acquire(&[draw(1, None, 3, 1)], 1_000).is_err());
    }

    #[test]
    fn per_endpoint_and_unusual_budgets_are_kept_apart() {
        let store = MemoryStore::default();
        let many: Vec<Draw> = (0..MAX_BUDGETS + 2).map(|budget| draw(budget, None, 2, 2)).collect();
        assert!(store.try_acquire(&many, 1_000).is_ok());
        assert!(store.try_acquire(&many[MAX_BUDGETS + 1..], 1_000).is_err());
        assert!(store.try_acquire(&[draw(0, Some("/a"), 2, 2)], 1_000).is_ok());
        assert!(store.try_acquire(&[draw(0, Some("/b"), 2, 2)], 1_000).is_ok());
        assert!(store.try_acquire(&[draw(0, Some("/a"), 2, 1)], 1_000).is_err());
        // The server's count lands on the endpoint's own budget.
        store.observe_used(&draw(0, Some("/c"), 2, 0).key, &draw(0, None, 2, 0).spec, 2, 1_000);
        assert!(store.try_acquire(&[draw(0, Some("/c"), 2, 1)], 1_000).is_err());
    }

    #[test]
    fn holds_and_bans_keep_the_later_moment() {
        let store = MemoryStore::default();
        assert_eq!((store.held_until(), store.banned_until()), (None, None));
        store.hold_until(2_000);
        store.hold_until(1_000);
        store.ban_until(5_000);
        store.ban_until(9_000);
        assert_eq!((store.held_until(), store.banned_until()), (Some(2_000), Some(9_000)));
    }
}
