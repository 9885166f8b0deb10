//! Coinbase: STUB, to be replaced by the real integration.

use crate::{
    Credentials,
    credentials::CredentialError,
    exchange::{Exchange, ExchangeError, ServerTime},
    guard::EndpointRule,
    sign::Signer,
};
use std::sync::Arc;

/// The Coinbase integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct Coinbase;

impl Exchange for Coinbase {
    fn name(&self) -> &'static str {
        "coinbase"
    }

    fn default_base_url(&self) -> &'static str {
        "https://api.exchange.coinbase.com"
    }

    fn needs_passphrase(&self) -> bool {
        true
    }

    fn signer(&self, _credentials: &Credentials) -> Result<Arc<dyn Signer>, CredentialError> {
        Err(CredentialError::InvalidSecret { exchange: "coinbase", problem: "not implemented yet".into() })
    }

    fn classify(&self, _status: http::StatusCode, _headers: &http::HeaderMap, _body: &[u8]) -> Option<ExchangeError> {
        None
    }

    fn dangerous_endpoints(&self) -> &'static [EndpointRule] {
        &[]
    }

    fn server_time(&self) -> ServerTime {
        ServerTime { path: "/time", parse: |_| None }
    }

    fn signing_params(&self) -> &'static [&'static str] {
        &[]
    }
}
