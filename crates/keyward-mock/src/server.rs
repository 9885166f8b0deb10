//! The HTTP side: one axum fallback handler that hands every request, exactly as received, to
//! the exchange, records it with its verdict, and stamps the answer with a `Date` header.

use crate::{exchange, record::RecordedRequest, state::State, wire::WireRequest};
use axum::{
    Router,
    body::{Body, to_bytes},
    extract::{Request, State as AxumState},
    response::{IntoResponse, Response},
};
use http::{HeaderValue, StatusCode, header};
use std::sync::Arc;

/// Bodies larger than this are refused before the exchange sees them; no exchange request
/// the mock models comes near it.
const MAX_BODY_BYTES: usize = 1 << 20;

pub(crate) fn router(state: Arc<State>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

async fn handle(AxumState(state): AxumState<Arc<State>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, MAX_BODY_BYTES).await else {
        return with_date(&state, StatusCode::PAYLOAD_TOO_LARGE.into_response());
    };
    let wire = WireRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body,
    };

    let reply = state.faults.before().unwrap_or_else(|| exchange::serve(&state, &wire));

    let response = (reply.status, axum::Json(reply.body)).into_response();
    state.record(
        RecordedRequest {
            method: wire.method,
            path: wire.path,
            query: wire.query,
            headers: wire.headers,
            body: wire.body,
            verdict: reply.verdict,
        },
        reply.order,
    );
    with_date(&state, response)
}

/// Every exchange sends `Date`; clients estimate clock offsets from it, so it follows the
/// mock's clock, not the local one.
fn with_date(state: &State, mut response: Response<Body>) -> Response<Body> {
    let date = httpdate::fmt_http_date(state.clock.now_system_time());
    if let Ok(value) = HeaderValue::from_str(&date) {
        response.headers_mut().insert(header::DATE, value);
    }
    response
}
