//! Bybit: STUB, to be replaced by the real integration.

use crate::{
    Credentials,
    credentials::CredentialError,
    exchange::{Exchange, ExchangeError, ServerTime},
    guard::EndpointRule,
    sign::Signer,
};
use std::sync::Arc;

/// The Bybit integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bybit;

impl Exchange for Bybit {
    fn name(&self) -> &'static str {
        "bybit"
    }

    fn default_base_url(&self) -> &'static str {
        "https://api.bybit.com"
    }

    fn needs_passphrase(&self) -> bool {
        false
    }

    fn signer(&self, _credentials: &Credentials) -> Result<Arc<dyn Signer>, CredentialError> {
        Err(CredentialError::InvalidSecret { exchange: "bybit", problem: "not implemented yet".into() })
    }

    fn classify(&self, _status: http::StatusCode, _headers: &http::HeaderMap, _body: &[u8]) -> Option<ExchangeError> {
        None
    }

    fn dangerous_endpoints(&self) -> &'static [EndpointRule] {
        &[]
    }

    fn server_time(&self) -> ServerTime {
        ServerTime { path: "/v5/market/time", parse: |_| None }
    }

    fn signing_params(&self) -> &'static [&'static str] {
        &[]
    }
}
