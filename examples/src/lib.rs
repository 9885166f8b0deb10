//! Runnable examples of keyward live in this package's `examples` (see `quickstart.rs`).
