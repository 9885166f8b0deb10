//! Rate-limit budgets in the exchange's own units. (The layer is being written.)

mod error;
mod spec;

pub use error::Banned;
pub use spec::{BudgetSpec, Cost, LiveLimits, MAX_BUDGETS, Observation, RateLimitSpec, Refill};
