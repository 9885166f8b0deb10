//! Bitmex: STUB, to be replaced by the real integration.

use crate::{
    Credentials,
    credentials::CredentialError,
    exchange::{Exchange, ExchangeError, ServerTime},
    guard::EndpointRule,
    sign::Signer,
};
use std::sync::Arc;

/// The Bitmex integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bitmex;

impl Exchange for Bitmex {
    fn name(&self) -> &'static str {
        "bitmex"
    }

    fn default_base_url(&self) -> &'static str {
        "https://www.bitmex.com"
    }

    fn needs_passphrase(&self) -> bool {
        false
    }

    fn signer(&self, _credentials: &Credentials) -> Result<Arc<dyn Signer>, CredentialError> {
        Err(CredentialError::InvalidSecret { exchange: "bitmex", problem: "not implemented yet".into() })
    }

    fn classify(&self, _status: http::StatusCode, _headers: &http::HeaderMap, _body: &[u8]) -> Option<ExchangeError> {
        None
    }

    fn dangerous_endpoints(&self) -> &'static [EndpointRule] {
        &[]
    }

    fn server_time(&self) -> ServerTime {
        ServerTime { path: "/api/v1", parse: |_| None }
    }

    fn signing_params(&self) -> &'static [&'static str] {
        &[]
    }
}
