//! Safe retries. (The layer is being written.)

mod error;

pub use error::Ambiguous;
