//! Time: the injected [`Clock`], and the skew error.
//!
//! (The clock-correction layer is being written.)

mod error;
mod time;

pub use error::ClockSkew;
pub use time::{Clock, Sleep, SystemClock, VirtualClock};
