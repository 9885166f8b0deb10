//! `keyward sign`: print a request exactly as it would be sent, signed.

use crate::env;
use bytes::Bytes;
use clap::Args;
use keyward::{
    exchange::{self, Exchange},
    sign::{Explanation, SigningContext},
};
use serde_json::{Map, Value, json};
use std::{
    io::Write,
    process::ExitCode,
    time::{SystemTime, UNIX_EPOCH},
};

/// The arguments of `keyward sign`.
#[derive(Debug, Args)]
pub(crate) struct Sign {
    /// The exchange.
    #[arg(value_parser = exchange_name)]
    exchange: &'static dyn Exchange,
    /// The HTTP method, e.g. GET or POST.
    method: String,
    /// The full URL, with any query parameters already in it, e.g.
    /// https://api.binance.com/api/v3/order?symbol=BTCUSDT
    url: String,
    /// The request body, exactly as it will be sent.
    #[arg(long, value_name = "STRING")]
    body: Option<String>,
    /// Sign for this moment (Unix milliseconds) instead of now, for reproducible output.
    #[arg(long, value_name = "UNIX_MS")]
    at: Option<u64>,
    /// Also print the string-to-sign and where each part came from (never the secret).
    #[arg(long)]
    explain: bool,
}

/// Parses an exchange name for clap, listing the known ones when it is not.
pub(crate) fn exchange_name(name: &str) -> Result<&'static dyn Exchange, String> {
    exchange::by_name(&name.to_ascii_lowercase()).ok_or_else(|| {
        format!(
            "unknown exchange `{name}`; expected one of: {}",
            exchange::names().join(" ")
        )
    })
}

/// Checks a URL: absolute, http or https, with a host.
pub(crate) fn absolute_url(url: &str) -> Result<http::Uri, String> {
    let uri: http::Uri = url.parse().map_err(|err| {
        format!("malformed URL `{url}`: {err}; give a full URL such as https://api.binance.com/api/v3/account")
    })?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(_)) => Ok(uri),
        _ => Err(format!(
            "malformed URL `{url}`: it needs a scheme (http or https) and a host, \
             such as https://api.binance.com/api/v3/account"
        )),
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "keyward sign: {message}");
    ExitCode::from(2)
}

/// A part of the string-to-sign as text, or as hex when it is not printable text.
fn shown(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) if !text.chars().any(|c| c.is_control() && c != '\n') => text.replace('\n', "\\n"),
        _ => format!("hex:{}", hex::encode(bytes)),
    }
}

impl Sign {
    pub(crate) fn run(self) -> ExitCode {
        let method = match http::Method::from_bytes(self.method.to_ascii_uppercase().as_bytes()) {
            Ok(method) => method,
            Err(_) => return fail(format!("`{}` is not an HTTP method", self.method)),
        };
        let uri = match absolute_url(&self.url) {
            Ok(uri) => uri,
            Err(message) => return fail(message),
        };
        let credentials = match env::credentials(self.exchange) {
            Ok(credentials) => credentials,
            Err(err) => return fail(err),
        };
        let signer = match self.exchange.signer(&credentials) {
            Ok(signer) => signer,
            Err(err) => return fail(err),
        };
        let at = self.at.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        });
        let body = Bytes::from(self.body.unwrap_or_default());
        let mut builder = http::Request::builder().method(method).uri(uri);
        if !body.is_empty() {
            let content_type = if body.starts_with(b"{") || body.starts_with(b"[") {
                "application/json"
            } else {
                "application/x-www-form-urlencoded"
            };
            builder = builder.header(http::header::CONTENT_TYPE, content_type);
        }
        let mut request = match builder.body(body) {
            Ok(request) => request,
            Err(err) => return fail(format!("cannot build the request: {err}")),
        };
        let mut explanation = Explanation::default();
        if let Err(err) = signer.sign(&mut request, &SigningContext::at_millis(at), &mut explanation) {
            return fail(err);
        }

        let mut headers = Map::new();
        for (name, value) in request.headers() {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            headers.insert(name.as_str().to_owned(), Value::String(value));
        }
        let printed = json!({
            "method": request.method().as_str(),
            "url": request.uri().to_string(),
            "headers": headers,
            "body": String::from_utf8_lossy(request.body()),
        });
        let mut out = std::io::stdout().lock();
        let mut text = printed.to_string();
        if self.explain {
            text.push_str("\n# string-to-sign, part by part:");
            for (label, value) in explanation.parts() {
                text.push_str(&format!("\n#   {label}: {}", shown(value)));
            }
            text.push_str(&format!("\n# signed: {}", shown(explanation.signed())));
            text.push_str("\n# the secret keys the MAC and is never shown");
        }
        if writeln!(out, "{text}").is_err() {
            return ExitCode::from(2);
        }
        ExitCode::SUCCESS
    }
}
