//! An exchange's rate limits, as data: what each integration declares.

use std::time::Duration;

/// The most budgets one exchange declares (Binance: request weight, orders per 10 s, orders per
/// day, raw requests).
pub const MAX_BUDGETS: usize = 4;

/// How a budget's spent units come back.
///
/// # Example
///
/// ```
/// use keyward::rate_limit::Refill;
/// use std::time::Duration;
///
/// let binance_weight = Refill::Window(Duration::from_secs(60));
/// let kraken_counter = Refill::Decay { units_per_second: 0.33 };
/// # let _ = (binance_weight, kraken_counter);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Refill {
    /// Everything comes back at the start of each fixed window, aligned to Unix time (Binance's
    /// minute, Gate's and OKX's seconds).
    Window(Duration),
    /// The counter decays continuously at this rate (Kraken's call counter).
    Decay {
        /// Units regained per second.
        units_per_second: f64,
    },
}

/// One budget, in the exchange's own units.
///
/// # Example
///
/// ```
/// use keyward::rate_limit::{BudgetSpec, Refill};
/// use std::time::Duration;
///
/// const WEIGHT: BudgetSpec = BudgetSpec::new("REQUEST_WEIGHT", 6000, Refill::Window(Duration::from_secs(60)));
/// assert_eq!(WEIGHT.limit, 6000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetSpec {
    /// The exchange's name for it (`REQUEST_WEIGHT`, `ORDERS`, ...), as in its headers and docs.
    pub name: &'static str,
    /// How many units the budget holds.
    pub limit: u64,
    /// How spent units come back.
    pub refill: Refill,
    /// Whether each endpoint (path) has a budget of its own, as on Bybit.
    pub per_endpoint: bool,
}

impl BudgetSpec {
    /// A budget shared by every endpoint.
    pub const fn new(name: &'static str, limit: u64, refill: Refill) -> Self {
        Self {
            name,
            limit,
            refill,
            per_endpoint: false,
        }
    }

    /// The same budget, kept separately for each endpoint.
    pub const fn per_endpoint(mut self) -> Self {
        self.per_endpoint = true;
        self
    }
}

/// What one request costs, in units of each of the exchange's budgets (same order as
/// [`RateLimitSpec::budgets`]).
///
/// # Example
///
/// ```
/// use keyward::rate_limit::Cost;
///
/// let order = Cost::of(&[1, 1, 1]); // weight 1, one order per 10 s, one per day
/// assert_eq!(order.units()[1], 1);
/// assert_eq!(Cost::FREE.units(), &[0, 0, 0, 0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cost([u64; MAX_BUDGETS]);

impl Cost {
    /// A request that spends nothing.
    pub const FREE: Cost = Cost([0; MAX_BUDGETS]);

    /// The cost given budget by budget; missing trailing budgets cost nothing.
    pub const fn of(units: &[u64]) -> Self {
        let mut all = [0; MAX_BUDGETS];
        let mut i = 0;
        while i < units.len() && i < MAX_BUDGETS {
            all[i] = units[i];
            i += 1;
        }
        Self(all)
    }

    /// The units, budget by budget.
    pub fn units(&self) -> &[u64; MAX_BUDGETS] {
        &self.0
    }
}

/// What a response's headers say about a budget.
///
/// # Example
///
/// ```
/// use keyward::rate_limit::Observation;
///
/// // Binance: `X-MBX-USED-WEIGHT-1M: 1180`
/// let seen = Observation::Used { budget: 0, used: 1180 };
/// # let _ = seen;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Observation {
    /// The exchange counts this many units used in the current window (or counter).
    Used {
        /// The index of the budget in [`RateLimitSpec::budgets`].
        budget: usize,
        /// Units used.
        used: u64,
    },
    /// The exchange counts this many units left.
    Remaining {
        /// The index of the budget in [`RateLimitSpec::budgets`].
        budget: usize,
        /// Units left.
        remaining: u64,
    },
    /// The exchange says the budget resets at this Unix time (milliseconds).
    ResetsAt {
        /// The index of the budget in [`RateLimitSpec::budgets`].
        budget: usize,
        /// When, in Unix milliseconds.
        unix_millis: u64,
    },
}

/// Where an exchange publishes its live limits (Binance changes them; its `exchangeInfo`
/// `rateLimits` are authoritative, the documented defaults serve only until they are loaded).
#[derive(Debug, Clone, Copy)]
pub struct LiveLimits {
    /// The public path to `GET`.
    pub path: &'static str,
    /// Reads the live limits from the response body.
    pub parse: fn(&[u8]) -> Vec<LiveLimit>,
}

/// `(budget index, limit, window)`: one live limit read from the exchange.
pub type LiveLimit = (usize, u64, Duration);

/// An exchange's rate limits: its budgets with their documented defaults, what each request
/// costs, and how to read the server's own counters from response headers.
///
/// # Example
///
/// ```
/// let spec = keyward::exchange::by_name("binance").unwrap().rate_limits();
/// assert!(spec.budgets.iter().any(|budget| budget.name == "REQUEST_WEIGHT"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RateLimitSpec {
    /// The budgets, at most [`MAX_BUDGETS`].
    pub budgets: &'static [BudgetSpec],
    /// What a request with this method, path and query costs.
    pub cost: fn(&http::Method, &str, &str) -> Cost,
    /// Reads the server's counters from response headers, appending to the list.
    pub observe: fn(&http::HeaderMap, &mut Vec<Observation>),
    /// Where live limits are published, if the exchange publishes them.
    pub live_limits: Option<LiveLimits>,
}

impl RateLimitSpec {
    /// No budgets: nothing is limited on the client side.
    pub const NONE: RateLimitSpec = RateLimitSpec {
        budgets: &[],
        cost: |_, _, _| Cost::FREE,
        observe: |_, _| {},
        live_limits: None,
    };
}
