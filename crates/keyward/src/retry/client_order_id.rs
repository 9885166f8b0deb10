//! Every order placement carries a client order id, generated when the caller gave none, so that
//! an ambiguous failure can be reconciled by looking the order up instead of placing it again.

use crate::exchange::{OrderPlacement, ParamLocation};
use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, utf8_percent_encode};
use serde_json::Value;

/// Everything but RFC 3986's unreserved characters is encoded: what every exchange's form and
/// query parser reads back unchanged.
const FORM_ENCODED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Makes sure `request`, an order placement, carries a client order id, and returns it.
///
/// A field the caller set is kept as it is; an absent one is added with a fresh id. Returns
/// `None` when the request has no place for one (a JSON body that is not an object), or
/// carries the field empty.
pub(crate) fn ensure_client_order_id(request: &mut http::Request<Bytes>, placement: &OrderPlacement) -> Option<String> {
    let field = placement.client_order_id;
    let given = match placement.location {
        ParamLocation::Json => return ensure_in_json(request, placement),
        ParamLocation::Form => form_value(request.body(), field),
        ParamLocation::Query => query_value(request.uri(), field),
        ParamLocation::QueryOrForm => form_value(request.body(), field).or_else(|| query_value(request.uri(), field)),
    };
    if let Some(given) = given {
        return Some(given).filter(|id| !id.is_empty());
    }
    let id = (placement.new_client_order_id)();
    let mut pair = String::with_capacity(3 * (field.len() + id.len()) + 1);
    pair.extend(utf8_percent_encode(field, FORM_ENCODED));
    pair.push('=');
    pair.extend(utf8_percent_encode(&id, FORM_ENCODED));
    let in_body = match placement.location {
        ParamLocation::Form => true,
        ParamLocation::QueryOrForm => !request.body().is_empty(),
        _ => false,
    };
    if in_body {
        let body = appended(request.body(), &pair);
        replace_body(request, body);
    } else {
        let uri = with_query_pair(request.uri(), &pair)?;
        *request.uri_mut() = uri;
    }
    Some(id)
}

fn ensure_in_json(request: &mut http::Request<Bytes>, placement: &OrderPlacement) -> Option<String> {
    let field = placement.client_order_id;
    let body = request.body();
    if body.iter().all(u8::is_ascii_whitespace) {
        let id = (placement.new_client_order_id)();
        let object = format!("{{{}:{}}}", Value::from(field), Value::from(id.as_str()));
        replace_body(request, object.into_bytes());
        return Some(id);
    }
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    if let Some(given) = object.get(field) {
        return match given {
            Value::String(id) if !id.is_empty() => Some(id.clone()),
            Value::Number(id) => Some(id.to_string()),
            _ => None,
        };
    }
    // Insert as text before the closing brace, rather than re-serialise, so that the caller's
    // members keep their order and formatting.
    let close = body.iter().rposition(|byte| *byte == b'}')?;
    let id = (placement.new_client_order_id)();
    let separator = if object.is_empty() { "" } else { "," };
    let member = format!("{separator}{}:{}", Value::from(field), Value::from(id.as_str()));
    let mut with_id = Vec::with_capacity(body.len() + member.len());
    with_id.extend_from_slice(&body[..close]);
    with_id.extend_from_slice(member.as_bytes());
    with_id.extend_from_slice(&body[close..]);
    replace_body(request, with_id);
    Some(id)
}

fn replace_body(request: &mut http::Request<Bytes>, body: Vec<u8>) {
    *request.body_mut() = Bytes::from(body);
    // A length the caller set no longer matches; the transport computes it from the body.
    request.headers_mut().remove(http::header::CONTENT_LENGTH);
}

/// The decoded value of `field` in `application/x-www-form-urlencoded` text.
fn form_value(encoded: &[u8], field: &str) -> Option<String> {
    encoded.split(|byte| *byte == b'&').find_map(|pair| {
        let (name, value) = match pair.iter().position(|byte| *byte == b'=') {
            Some(equals) => (&pair[..equals], &pair[equals + 1..]),
            None => (pair, &[][..]),
        };
        form_name_is(name, field).then(|| form_decode(value))
    })
}

/// Whether the encoded `name` decodes to `field`, decoding only names that need it: this runs
/// for every parameter of every order placement.
fn form_name_is(name: &[u8], field: &str) -> bool {
    match name.iter().any(|byte| matches!(byte, b'%' | b'+')) {
        true => form_decode(name) == field,
        // Decoding would only replace invalid UTF-8, which cannot equal a `&str` anyway.
        false => name == field.as_bytes(),
    }
}

fn query_value(uri: &http::Uri, field: &str) -> Option<String> {
    form_value(uri.query()?.as_bytes(), field)
}

fn form_decode(encoded: &[u8]) -> String {
    let spaced: Vec<u8> = encoded
        .iter()
        .map(|byte| if *byte == b'+' { b' ' } else { *byte })
        .collect();
    percent_decode(&spaced).decode_utf8_lossy().into_owned()
}

fn appended(encoded: &[u8], pair: &str) -> Vec<u8> {
    let mut text = Vec::with_capacity(encoded.len() + 1 + pair.len());
    text.extend_from_slice(encoded);
    if !text.is_empty() && !text.ends_with(b"&") {
        text.push(b'&');
    }
    text.extend_from_slice(pair.as_bytes());
    text
}

fn with_query_pair(uri: &http::Uri, pair: &str) -> Option<http::Uri> {
    let (path, query) = (uri.path(), uri.query().unwrap_or(""));
    // Built once, in one buffer, and handed over without a copy: the URI is parsed only once.
    let mut path_and_query = String::with_capacity(path.len() + query.len() + pair.len() + 2);
    path_and_query.push_str(path);
    path_and_query.push('?');
    path_and_query.push_str(query);
    if !query.is_empty() && !query.ends_with('&') {
        path_and_query.push('&');
    }
    path_and_query.push_str(pair);
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(http::uri::PathAndQuery::try_from(path_and_query).ok()?);
    http::Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placement(location: ParamLocation, field: &'static str) -> OrderPlacement {
        OrderPlacement {
            method: "POST",
            path: "/order",
            client_order_id: field,
            location,
            new_client_order_id: || "kw 1/é".to_owned(),
        }
    }

    fn request(uri: &str, body: &str) -> http::Request<Bytes> {
        http::Request::post(uri)
            .header(http::header::CONTENT_LENGTH, body.len())
            .body(Bytes::from(body.to_owned()))
            .unwrap()
    }

    fn ensure(location: ParamLocation, uri: &str, body: &str) -> (Option<String>, String, String) {
        let mut request = request(uri, body);
        let id = ensure_client_order_id(&mut request, &placement(location, "clOrdId"));
        let body = String::from_utf8(request.body().to_vec()).unwrap();
        (id, request.uri().to_string(), body)
    }

    #[test]
    fn json_gets_a_new_last_member_and_keeps_its_formatting() {
        let base = "https://x.test/order";
        let (id, _, body) = ensure(ParamLocation::Json, base, "{ \"sz\": \"1\",\n \"px\": 2 }\n");
        assert_eq!(id.as_deref(), Some("kw 1/é"));
        assert_eq!(body, "{ \"sz\": \"1\",\n \"px\": 2 ,\"clOrdId\":\"kw 1/é\"}\n");
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["clOrdId"], "kw 1/é");

        assert_eq!(ensure(ParamLocation::Json, base, "{}").2, r#"{"clOrdId":"kw 1/é"}"#);
        assert_eq!(ensure(ParamLocation::Json, base, "").2, r#"{"clOrdId":"kw 1/é"}"#);
        assert_eq!(
            ensure(ParamLocation::Json, base, r#"{"a":{"b":"}"}}"#).2,
            r#"{"a":{"b":"}"},"clOrdId":"kw 1/é"}"#
        );
    }

    #[test]
    fn json_keeps_the_callers_id_and_leaves_non_objects_alone() {
        let base = "https://x.test/order";
        let given = r#"{"clOrdId":"mine-1","sz":"1"}"#;
        assert_eq!(
            ensure(ParamLocation::Json, base, given),
            (Some("mine-1".into()), base.into(), given.into())
        );
        assert_eq!(
            ensure(ParamLocation::Json, base, r#"{"clOrdId":42}"#).0.as_deref(),
            Some("42")
        );
        assert_eq!(
            ensure(ParamLocation::Json, base, r#"[{"sz":"1"}]"#),
            (None, base.into(), r#"[{"sz":"1"}]"#.into())
        );
    }

    #[test]
    fn form_and_query_get_an_encoded_pair() {
        let (id, uri, body) = ensure(ParamLocation::Form, "https://x.test/order", "pair=XBTUSD&type=buy");
        assert_eq!(id.as_deref(), Some("kw 1/é"));
        assert_eq!(body, "pair=XBTUSD&type=buy&clOrdId=kw%201%2F%C3%A9");
        assert_eq!(uri, "https://x.test/order");
        assert_eq!(form_value(body.as_bytes(), "clOrdId").as_deref(), Some("kw 1/é"));

        let (_, uri, body) = ensure(ParamLocation::Query, "https://x.test/order?symbol=BTCUSDT", "");
        assert_eq!(uri, "https://x.test/order?symbol=BTCUSDT&clOrdId=kw%201%2F%C3%A9");
        assert_eq!(body, "");
        let (_, uri, _) = ensure(ParamLocation::Query, "https://x.test/order", "");
        assert_eq!(uri, "https://x.test/order?clOrdId=kw%201%2F%C3%A9");
    }

    #[test]
    fn query_or_form_uses_the_body_when_there_is_one() {
        let (_, uri, body) = ensure(ParamLocation::QueryOrForm, "https://x.test/order?a=1", "side=BUY");
        assert_eq!(
            (uri.as_str(), body.as_str()),
            ("https://x.test/order?a=1", "side=BUY&clOrdId=kw%201%2F%C3%A9")
        );
        let (_, uri, body) = ensure(ParamLocation::QueryOrForm, "https://x.test/order?side=BUY", "");
        assert_eq!(
            (uri.as_str(), body.as_str()),
            ("https://x.test/order?side=BUY&clOrdId=kw%201%2F%C3%A9", "")
        );
        // Given in the query while the body holds the rest: kept, nothing added.
        let (id, uri, body) = ensure(
            ParamLocation::QueryOrForm,
            "https://x.test/order?clOrdId=my+id",
            "side=BUY",
        );
        assert_eq!(id.as_deref(), Some("my id"));
        assert_eq!(
            (uri.as_str(), body.as_str()),
            ("https://x.test/order?clOrdId=my+id", "side=BUY")
        );
    }

    #[test]
    fn a_changed_body_drops_the_stale_content_length() {
        let mut request = request("https://x.test/order", "side=BUY");
        ensure_client_order_id(&mut request, &placement(ParamLocation::Form, "clOrdId"));
        assert!(request.headers().get(http::header::CONTENT_LENGTH).is_none());
    }

    #[test]
    fn an_empty_given_id_is_neither_reported_nor_duplicated() {
        let (id, _, body) = ensure(ParamLocation::Form, "https://x.test/order", "clOrdId=&side=BUY");
        assert_eq!((id, body.as_str()), (None, "clOrdId=&side=BUY"));
    }
}
