//! A request exactly as it arrived, and the ways exchanges read parameters out of it.

use bytes::Bytes;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

/// A request as received on the wire: nothing re-encoded, nothing reordered. Deliberately not
/// `Debug`: its headers carry keys and passphrases; [`RecordedRequest`](crate::RecordedRequest)
/// is the redacted view.
pub(crate) struct WireRequest {
    pub(crate) method: http::Method,
    pub(crate) path: String,
    /// The raw query without `?`; empty if none.
    pub(crate) query: String,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Bytes,
}

impl WireRequest {
    /// A header's value, if present, non-empty and text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .filter(|value| !value.is_empty())
    }

    /// The path with `?query` when there is a query: what OKX, Coinbase, KuCoin and BitMEX sign.
    pub(crate) fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }

    pub(crate) fn body_text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    fn body_is_json(&self) -> bool {
        let declared_json = self
            .header("content-type")
            .is_some_and(|content_type| content_type.to_ascii_lowercase().contains("json"));
        let looks_json = matches!(self.body.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'['));
        declared_json || looks_json
    }

    /// Every parameter, the way the exchange understands them: the query string's pairs, then
    /// the body's (a JSON object's fields, or form pairs). A JSON body that is not an object is
    /// kept whole under `"body"`.
    pub(crate) fn params(&self) -> Map<String, Value> {
        let mut params = Map::new();
        for (name, value) in form_pairs(&self.query) {
            params.insert(name, Value::String(value));
        }
        if self.body.is_empty() {
            return params;
        }
        if self.body_is_json() {
            match serde_json::from_slice::<Value>(&self.body) {
                Ok(Value::Object(fields)) => params.extend(fields),
                Ok(other) => {
                    params.insert("body".into(), other);
                }
                Err(_) => {
                    params.insert("body".into(), Value::String(self.body_text().into_owned()));
                }
            }
        } else {
            for (name, value) in form_pairs(&self.body_text()) {
                params.insert(name, Value::String(value));
            }
        }
        params
    }
}

/// Decodes `application/x-www-form-urlencoded` pairs (`+` is a space).
pub(crate) fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(name), form_decode(value))
        })
        .collect()
}

fn form_decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// A parameter as text: JSON strings as they are, numbers as written.
pub(crate) fn param_text(params: &Map<String, Value>, name: &str) -> Option<String> {
    match params.get(name)? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// The echo every exchange puts in its success envelope for endpoints it does not model: what
/// it understood of the request, so a test can check the request arrived intact.
pub(crate) fn echo(request: &WireRequest) -> Value {
    serde_json::json!({
        "method": request.method.as_str(),
        "path": request.path,
        "query": request.query,
        "params": Value::Object(request.params()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str, content_type: Option<&str>, body: &str) -> WireRequest {
        let mut headers = http::HeaderMap::new();
        if let Some(content_type) = content_type {
            headers.insert("content-type", content_type.parse().unwrap());
        }
        WireRequest {
            method: http::Method::POST,
            path: "/x".into(),
            query: query.into(),
            headers,
            body: Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn merges_query_and_form_body() {
        let params = request("symbol=%EF%BC%91&side=BUY", None, "quantity=1&note=a+b").params();
        assert_eq!(param_text(&params, "symbol").as_deref(), Some("１"));
        assert_eq!(param_text(&params, "quantity").as_deref(), Some("1"));
        assert_eq!(param_text(&params, "note").as_deref(), Some("a b"));
    }

    #[test]
    fn reads_json_bodies_with_their_types() {
        let params = request("", Some("application/json"), r#"{"size":100,"text":"t-1"}"#).params();
        assert_eq!(params["size"], serde_json::json!(100));
        assert_eq!(param_text(&params, "size").as_deref(), Some("100"));
        let array = request("", Some("application/json"), "[1,2]").params();
        assert_eq!(array["body"], serde_json::json!([1, 2]));
    }
}
