//! From one request as received to its answer: the injected fault first, then the exchange's rate
//! limits, then the exchange itself; every request is recorded with its verdict and fault, and
//! every answer carries a `Date` from the exchange's clock.

use crate::{
    exchange,
    faults::Fault,
    limits::Usage,
    record::{RecordedRequest, Rejection},
    reply::Reply,
    server::ConnectionControl,
    state::State,
    wire::WireRequest,
};
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body::{Frame, SizeHint};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use std::{
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

/// Bodies larger than this are refused before the exchange sees them; no exchange request
/// the mock models comes near it.
const MAX_BODY_BYTES: usize = 1 << 20;

/// What a proxy in front of an exchange answers when it cannot reach it: the `NotJson` fault.
const PROXY_ERROR_PAGE: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n\
    <body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n";

/// Answers one request.
pub(crate) async fn respond(
    state: &Arc<State>,
    connection: &ConnectionControl,
    request: Request<Incoming>,
) -> Response<MockBody> {
    let in_progress = state.arrived();
    let arrival = state.limits.count_arrival();
    let received_at_ms = state.clock.now_ms();
    let (parts, body) = request.into_parts();
    // Drawn as soon as the head is in, so that a fault can strike before the body is read.
    let fault = state.faults.next(parts.uri.path(), &parts.headers);
    if let Some(Fault::ResetOnArrival) = fault {
        let wire = WireRequest {
            method: parts.method,
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or_default().to_owned(),
            headers: parts.headers,
            body: Bytes::new(),
        };
        let reply = Reply::rejected(Rejection::InjectedFault, StatusCode::BAD_GATEWAY, serde_json::json!({}));
        connection.reset();
        record(state, wire, &reply, fault.clone(), (received_at_ms, arrival));
        // Never sent: the connection fails at hyper's next read or write.
        return answer(state, reply, None);
    }
    let Ok(body) = Limited::new(body, MAX_BODY_BYTES).collect().await else {
        let reply = Reply::rejected(
            Rejection::BadRequest,
            StatusCode::PAYLOAD_TOO_LARGE,
            serde_json::json!({}),
        );
        return answer(state, reply, None);
    };
    let wire = WireRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body: body.to_bytes(),
    };

    let reply = match &fault {
        Some(Fault::Status(status)) => Reply::rejected(Rejection::InjectedFault, *status, serde_json::json!({})),
        Some(Fault::TooManyRequests(wait)) => too_many_requests(state, *wait),
        Some(Fault::ResetBeforeResponse) => {
            let reply = Reply::rejected(Rejection::InjectedFault, StatusCode::BAD_GATEWAY, serde_json::json!({}));
            connection.reset();
            record(state, wire, &reply, fault.clone(), (received_at_ms, arrival));
            // Never sent: the connection fails at hyper's first write.
            return answer(state, reply, None);
        }
        Some(Fault::Delay(delay)) => {
            // In a task of its own: hyper drops the handling of a request whose client hung up
            // (a client timeout during the delay), but an exchange executes what it received
            // whether or not anyone still waits for the answer.
            let (delayed, delay, fault) = (Arc::clone(state), *delay, fault.clone());
            let handling = tokio::spawn(async move {
                hold(&delayed, delay).await;
                let reply = exchange::serve_within_limits(&delayed, &wire);
                record(&delayed, wire, &reply, fault.clone(), (received_at_ms, arrival));
                drop(in_progress);
                answer(&delayed, reply, fault.as_ref())
            });
            return handling.await.unwrap_or_else(|_| internal_error());
        }
        _ => exchange::serve_within_limits(state, &wire),
    };
    // Recorded before a held answer leaves, so a test sees the executed order while its client
    // is still waiting.
    record(state, wire, &reply, fault.clone(), (received_at_ms, arrival));
    drop(in_progress);
    if let Some(Fault::TimeoutAfterExecute(hold_for)) = &fault {
        hold(state, *hold_for).await;
    }
    answer(state, reply, fault.as_ref())
}

/// The exchange's own "too many requests" answer for its first budget, telling the client to
/// wait `wait`, without charging or counting anything.
fn too_many_requests(state: &State, wait: Duration) -> Reply {
    let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
    let now_ms = state.clock.now_ms();
    match state.limits.budgets().first() {
        Some(budget) => {
            let exceeded = Usage {
                budget: *budget,
                used: budget.limit,
                resets_at_ms: now_ms.saturating_add(wait_ms),
                now_ms,
            };
            let mut reply = state.exchange.throttled(state, &exceeded, wait_ms);
            state.exchange.limit_headers(&[exceeded], &mut reply.headers);
            reply
        }
        None => Reply::rejected(
            Rejection::RateLimited,
            StatusCode::TOO_MANY_REQUESTS,
            serde_json::json!({}),
        )
        .with_header("retry-after", exchange::retry_after_seconds(wait_ms)),
    }
}

fn record(
    state: &State,
    wire: WireRequest,
    reply: &Reply,
    fault: Option<Fault>,
    (received_at_ms, arrival): (i64, u64),
) {
    state.record(
        RecordedRequest {
            method: wire.method,
            path: wire.path,
            query: wire.query,
            headers: wire.headers,
            body: wire.body,
            verdict: reply.verdict,
            fault,
            received_at_ms,
            arrival,
        },
        reply.order.as_deref().cloned(),
    );
}

/// Waits `duration`, or less if the mock is shutting down, so that a held answer never holds up
/// a shutdown.
async fn hold(state: &State, duration: Duration) {
    let mut stopping = state.stopping.subscribe();
    tokio::select! {
        _ = tokio::time::sleep(duration) => {}
        _ = async { stopping.wait_for(|stopping| *stopping).await.is_ok() } => {}
    }
}

/// A bare `500`: the answer when handling a request panicked.
pub(crate) fn internal_error() -> Response<MockBody> {
    let mut response = Response::new(MockBody::whole(Bytes::new()));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}

/// The HTTP answer for `reply`, shaped by a fault that mangles answers.
fn answer(state: &State, reply: Reply, fault: Option<&Fault>) -> Response<MockBody> {
    let json = Bytes::from(serde_json::to_vec(&reply.body).unwrap_or_default());
    let (content_type, body) = match fault {
        Some(Fault::NotJson) => (
            "text/html",
            MockBody::whole(Bytes::from_static(PROXY_ERROR_PAGE.as_bytes())),
        ),
        Some(Fault::TruncatedBody) => ("application/json", MockBody::truncated(json.clone())),
        Some(Fault::HugeBody(size)) => {
            // A JSON array of the answer repeated until it is `size` bytes.
            let mut huge = Vec::with_capacity(size.saturating_add(json.len()));
            huge.push(b'[');
            while huge.len() < *size {
                if huge.len() > 1 {
                    huge.push(b',');
                }
                huge.extend_from_slice(&json);
            }
            huge.push(b']');
            ("application/json", MockBody::whole(Bytes::from(huge)))
        }
        _ => ("application/json", MockBody::whole(json.clone())),
    };
    let mut response = Response::new(body);
    *response.status_mut() = reply.status;
    *response.headers_mut() = *reply.headers;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(Fault::TruncatedBody) = fault {
        // The whole length is announced; the body stops halfway.
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(json.len()));
    }
    // Every exchange sends `Date`; clients estimate clock offsets from it, so it follows the
    // mock's clock, not the local one.
    let date = httpdate::fmt_http_date(state.clock.now_system_time());
    if let Ok(value) = HeaderValue::from_str(&date) {
        headers.insert(header::DATE, value);
    }
    response
}

/// An answer's body: whole, or cut off halfway by the `TruncatedBody` fault.
#[derive(Debug)]
pub(crate) struct MockBody {
    data: Option<Bytes>,
    ending: Ending,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The body ends after its data.
    Complete,
    /// After its data the body stalls once, so hyper flushes what it has to the socket, then
    /// fails, so hyper closes the connection short of the announced length.
    Stall,
    Fail,
}

impl MockBody {
    fn whole(data: Bytes) -> Self {
        Self {
            data: Some(data),
            ending: Ending::Complete,
        }
    }

    fn truncated(data: Bytes) -> Self {
        Self {
            data: Some(data.slice(..data.len() / 2)),
            ending: Ending::Stall,
        }
    }
}

impl http_body::Body for MockBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if let Some(data) = this.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        match this.ending {
            Ending::Complete => Poll::Ready(None),
            Ending::Stall => {
                this.ending = Ending::Fail;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Ending::Fail => Poll::Ready(Some(Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "body truncated by an injected fault",
            )))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.ending == Ending::Complete
    }

    fn size_hint(&self) -> SizeHint {
        match (self.ending, &self.data) {
            (Ending::Complete, Some(data)) => SizeHint::with_exact(data.len() as u64),
            (Ending::Complete, None) => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }
}
