//! Registered secrets.
use crate::credentials::ApiKey;

/// Registered secrets.
#[derive(Debug, Default)]
pub struct Registry {}

impl Registry {
    /// The process-wide registry.
    pub fn global() -> &'static Registry {
        static GLOBAL: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
        GLOBAL.get_or_init(Registry::default)
    }
    /// Registers a secret.
    pub fn register(&self, _secret: &[u8]) {}
    /// Registers an API key.
    pub fn register_api_key(&self, _key: &ApiKey) {}
}
