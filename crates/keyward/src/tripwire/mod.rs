//! The leak tripwire.

mod registry;
pub use registry::Registry;
