//! The clock-correction service: measures, stamps, refines and resyncs.

use super::{
    Clock, ClockSkew,
    future::ResponseFuture,
    offset::{Estimate, Freshness, SyncState},
};
use crate::{
    Error,
    exchange::{Exchange, ExchangeErrorKind},
    rate_limit::Meter,
    sign::{Public, SigningContext},
};
use bytes::Bytes;
use std::{
    fmt,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, UNIX_EPOCH},
};
use tower::ServiceExt;
use tower_service::Service;

/// How far a response's `Date` may stray from the corrected clock before the estimate is
/// measured again. `Date` has one-second resolution, so a tighter bound would resync for
/// rounding alone.
const DATE_DISAGREEMENT_MILLIS: i64 = 2_000;

/// The service of [`ClockLayer`](super::ClockLayer).
pub struct ClockCorrection<S> {
    inner: S,
    shared: Arc<Shared>,
}

/// The settings and state every clone shares.
pub(super) struct Shared {
    pub(super) exchange: &'static dyn Exchange,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) tolerance: Duration,
    pub(super) resync_every: Duration,
    /// Whether requests must reach the exchange in nonce order (see the module docs).
    pub(super) in_nonce_order: bool,
    pub(super) state: Arc<SyncState>,
}

impl<S> ClockCorrection<S> {
    pub(super) fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self { inner, shared }
    }
}

impl<S: Clone> Clone for ClockCorrection<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for ClockCorrection<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClockCorrection")
            .field("exchange", &self.shared.exchange.name())
            .field("offset_millis", &self.shared.state.estimate().map(|e| e.offset_millis))
            .field("inner", &self.inner)
            .finish()
    }
}

impl<S> Service<http::Request<Bytes>> for ClockCorrection<S>
where
    S: Service<http::Request<Bytes>, Response = http::Response<Bytes>, Error = Error> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Bytes>;
    type Error = Error;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Bytes>) -> Self::Future {
        // The clone is not ready yet; the instance that is goes into the future (tower's pattern).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        if request.extensions().get::<Public>().is_some() {
            // Public requests carry no timestamp: nothing to measure or stamp.
            return ResponseFuture::new(inner.call(request));
        }
        let shared = Arc::clone(&self.shared);
        ResponseFuture::new(async move { shared.send(inner, request).await })
    }
}

impl Shared {
    async fn send<S>(&self, mut inner: S, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, Error>
    where
        S: Service<http::Request<Bytes>, Response = http::Response<Bytes>, Error = Error>,
    {
        // Kept as received, before stamping: a retry must be signed afresh, not re-sent as is.
        let original = request.clone();
        let meter = request.extensions().get::<Meter>().cloned();
        let (result, generation) = self.stamp_and_send(&mut inner, request, meter.as_ref()).await?;
        match result {
            Err(Error::Exchange(rejection)) if rejection.kind == ExchangeErrorKind::TimestampOutsideWindow => {
                // The exchange checks time and nonce before executing anything, so sending again
                // cannot duplicate an effect.
                tracing::debug!(
                    exchange = self.exchange.name(),
                    code = rejection.code.as_deref(),
                    "timestamp rejected; measuring the clock offset again and re-sending once"
                );
                self.state.mark_stale(generation);
                // The re-send weighs on the exchange's budget like any request.
                let admission = match &meter {
                    Some(meter) => Some(meter.admit(&original).await?),
                    None => None,
                };
                let (retried, _) = self.stamp_and_send(&mut inner, original, meter.as_ref()).await?;
                if let (Some(meter), Some(admission)) = (&meter, admission) {
                    meter.settle(admission, &retried);
                }
                retried
            }
            other => other,
        }
    }

    /// Stamps `request` with the corrected time and sends it. The outer error is a refusal
    /// before sending (skew, or the inner service not ready); the inner result is the answer,
    /// with the generation of the estimate it was stamped with.
    async fn stamp_and_send<S>(
        &self,
        inner: &mut S,
        mut request: http::Request<Bytes>,
        meter: Option<&Meter>,
    ) -> Result<(Result<http::Response<Bytes>, Error>, u64), Error>
    where
        S: Service<http::Request<Bytes>, Response = http::Response<Bytes>, Error = Error>,
    {
        let estimate = self.synced(inner, request.uri(), meter).await?;
        if estimate.offset_millis.unsigned_abs() > u64::try_from(self.tolerance.as_millis()).unwrap_or(u64::MAX) {
            // Measure again next time: the host clock may be fixed meanwhile.
            self.state.mark_stale(estimate.generation);
            return Err(ClockSkew::new(Some(estimate.offset_millis), self.tolerance).into());
        }
        let _in_order = match self.in_nonce_order {
            true => Some(self.state.in_nonce_order.lock().await),
            false => None,
        };
        let corrected_micros = self
            .clock
            .unix_micros()
            .saturating_add_signed(estimate.offset_millis.saturating_mul(1000));
        let sent_at_millis = corrected_micros / 1000;
        let context = SigningContext::at_millis(sent_at_millis).with_nonce(self.state.next_nonce(corrected_micros));
        request.extensions_mut().insert(context);
        inner.ready().await?;
        let result = inner.call(request).await;
        if let Ok(response) = &result {
            self.refine(response.headers(), sent_at_millis, estimate);
        }
        Ok((result, estimate.generation))
    }

    /// The current estimate, measured first if there is none, it is stale or too old. Only one
    /// probe runs at a time; requests that arrive meanwhile wait for its result.
    async fn synced<S>(&self, inner: &mut S, target: &http::Uri, meter: Option<&Meter>) -> Result<Estimate, ClockSkew>
    where
        S: Service<http::Request<Bytes>, Response = http::Response<Bytes>, Error = Error>,
    {
        let probes_seen = match self.state.freshness(self.clock.monotonic(), self.resync_every) {
            Freshness::Fresh(estimate) => return Ok(estimate),
            Freshness::Needed { probes } => probes,
        };
        let _probing = self.state.probing.lock().await;
        if let Freshness::Fresh(estimate) = self.state.freshness(self.clock.monotonic(), self.resync_every) {
            return Ok(estimate);
        }
        // A probe failed while this request waited: a second one right away would most likely
        // fail the same way, and each waiter trying in turn would multiply the delay.
        if let Some(failure) = self.state.failure_since(probes_seen) {
            return Err(failure);
        }
        let outcome = self.probe(inner, target, meter).await;
        self.state.record_probe(outcome)
    }

    /// Asks the exchange for its time, at the host `target` is sent to, and measures the
    /// offset at the round trip's midpoint.
    async fn probe<S>(&self, inner: &mut S, target: &http::Uri, meter: Option<&Meter>) -> Result<Estimate, ClockSkew>
    where
        S: Service<http::Request<Bytes>, Response = http::Response<Bytes>, Error = Error>,
    {
        let unmeasurable = ClockSkew::new(None, self.tolerance);
        let server_time = self.exchange.server_time();
        let Some(request) = probe_request(target, server_time.path) else {
            tracing::warn!(exchange = self.exchange.name(), "cannot build the server-time request");
            return Err(unmeasurable);
        };
        // The probe weighs on the exchange's budget (Binance: 1), so the limiter above counts it.
        let admission = match meter {
            Some(meter) => Some(meter.admit(&request).await.map_err(|_| unmeasurable.clone())?),
            None => None,
        };
        let sent_micros = self.clock.unix_micros();
        let sent_monotonic = self.clock.monotonic();
        let answer = match inner.ready().await {
            Ok(ready) => ready.call(request).await,
            Err(error) => Err(error),
        };
        if let (Some(meter), Some(admission)) = (meter, admission) {
            meter.settle(admission, &answer);
        }
        let received_micros = self.clock.unix_micros();
        let round_trip = self.clock.monotonic().saturating_sub(sent_monotonic);
        let server_millis = match answer {
            Ok(response) => (server_time.parse)(response.body()),
            // Something other than the exchange answered (an HTML page, say): most often a base
            // URL that is not the exchange's API, which the hint below names.
            Err(Error::Exchange(error)) if error.kind == ExchangeErrorKind::UnreadableAnswer => None,
            Err(error) => {
                tracing::warn!(exchange = self.exchange.name(), %error, "the server-time request failed");
                return Err(ClockSkew::unmeasurable(
                    self.tolerance,
                    format!("its server-time endpoint {} failed: {error}", server_time.path),
                ));
            }
        };
        let Some(server_millis) = server_millis else {
            tracing::warn!(exchange = self.exchange.name(), "the server-time answer cannot be read");
            return Err(ClockSkew::unmeasurable(
                self.tolerance,
                format!(
                    "the answer of {} is not {}'s server time; check that the base URL is the exchange's API",
                    server_time.path,
                    self.exchange.name()
                ),
            ));
        };
        let midpoint_micros = (i128::from(sent_micros) + i128::from(received_micros)) / 2;
        let offset_micros = i128::from(server_millis) * 1000 - midpoint_micros;
        // Rounded to the nearest millisecond; the clamp only matters for absurd answers, which
        // the tolerance then refuses.
        let offset_millis =
            i64::try_from(offset_micros.div_euclid(1000) + i128::from(offset_micros.rem_euclid(1000) >= 500))
                .unwrap_or(if offset_micros < 0 { i64::MIN } else { i64::MAX });
        tracing::debug!(
            exchange = self.exchange.name(),
            offset_ms = offset_millis,
            round_trip_ms = u64::try_from(round_trip.as_millis()).unwrap_or(u64::MAX),
            "clock offset measured"
        );
        Ok(Estimate {
            offset_millis,
            measured_at_unix_millis: u64::try_from(midpoint_micros / 1000).unwrap_or(0),
            measured_at_monotonic: sent_monotonic + round_trip / 2,
            round_trip,
            generation: 0,
        })
    }

    /// Compares the response's `Date` with the corrected clock; a disagreement of more than
    /// [`DATE_DISAGREEMENT_MILLIS`] marks the estimate stale, so that the next request measures
    /// again. A missing or unreadable `Date` says nothing.
    fn refine(&self, headers: &http::HeaderMap, sent_at_millis: u64, estimate: Estimate) {
        let Some(date_millis) = headers
            .get(http::header::DATE)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| httpdate::parse_http_date(text).ok())
            .and_then(|date| date.duration_since(UNIX_EPOCH).ok())
            .and_then(|since_epoch| i64::try_from(since_epoch.as_millis()).ok())
        else {
            return;
        };
        let received_at_millis = self.clock.unix_millis().saturating_add_signed(estimate.offset_millis);
        let disagreement = date_disagreement(
            date_millis,
            i64::try_from(sent_at_millis).unwrap_or(i64::MAX),
            i64::try_from(received_at_millis).unwrap_or(i64::MAX),
        );
        if disagreement > DATE_DISAGREEMENT_MILLIS {
            tracing::debug!(
                exchange = self.exchange.name(),
                disagreement_ms = disagreement,
                "the response's Date disagrees with the corrected clock; the offset will be measured again"
            );
            self.state.mark_stale(estimate.generation);
        }
    }
}

/// How far the second a `Date` names, `[date, date + 1 s)`, lies from the span in which the
/// response was produced, `[sent, received]` on the corrected clock; 0 when they overlap.
fn date_disagreement(date_millis: i64, sent_millis: i64, received_millis: i64) -> i64 {
    let date_end = date_millis.saturating_add(1_000);
    if date_end < sent_millis {
        sent_millis - date_end
    } else if date_millis > received_millis {
        date_millis - received_millis
    } else {
        0
    }
}

/// `GET scheme://authority/path` of the request being sent, marked public so that the signing
/// layer lets it through unsigned. A relative target gives a relative probe, as the transport
/// would see the request itself.
fn probe_request(target: &http::Uri, path: &'static str) -> Option<http::Request<Bytes>> {
    let uri = match (target.scheme(), target.authority()) {
        (Some(scheme), Some(authority)) => http::Uri::builder()
            .scheme(scheme.clone())
            .authority(authority.clone())
            .path_and_query(path)
            .build()
            .ok()?,
        _ => http::Uri::from_static(path),
    };
    let mut request = http::Request::get(uri).body(Bytes::new()).ok()?;
    request.extensions_mut().insert(Public);
    Some(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        clock::{ClockLayer, VirtualClock},
        exchange::{self, ExchangeError},
    };
    use std::sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    };
    use tower::{ServiceBuilder, service_fn};

    /// What the inner service received: each request's signing context (none for a probe).
    type Sent = Arc<Mutex<Vec<Option<SigningContext>>>>;

    /// A Binance 2.5 s ahead of a virtual local clock, recording what the layer sends, and
    /// rejecting the first `reject` private requests for their timestamp.
    fn binance(
        reject: usize,
    ) -> (
        ClockCorrection<
            impl Service<http::Request<Bytes>, Response = http::Response<Bytes>, Error = Error, Future: Send + 'static>
            + Clone
            + Send
            + 'static,
        >,
        Sent,
    ) {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let rejections = Arc::new(AtomicUsize::new(reject));
        let recorder = Arc::clone(&sent);
        let service = service_fn(move |request: http::Request<Bytes>| {
            let recorder = Arc::clone(&recorder);
            let rejections = Arc::clone(&rejections);
            async move {
                // Lets concurrent requests pile up behind a probe in flight.
                tokio::task::yield_now().await;
                recorder
                    .lock()
                    .unwrap()
                    .push(request.extensions().get::<SigningContext>().copied());
                if request.uri().path() == "/api/v3/time" {
                    return Ok(http::Response::new(Bytes::from_static(
                        br#"{"serverTime":1700000002500}"#,
                    )));
                }
                if rejections
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                    .is_ok()
                {
                    return Err(Error::Exchange(ExchangeError::new(
                        ExchangeErrorKind::TimestampOutsideWindow,
                        400,
                        Some("-1021".into()),
                        "Timestamp for this request is outside of the recvWindow.",
                    )));
                }
                Ok(http::Response::new(Bytes::new()))
            }
        });
        let layer = ClockLayer::new(exchange::by_name("binance").unwrap())
            .clock(Arc::new(VirtualClock::at_unix_millis(1_700_000_000_000)));
        (ServiceBuilder::new().layer(layer).service(service), sent)
    }

    fn private() -> http::Request<Bytes> {
        http::Request::get("https://api.binance.com/api/v3/account")
            .body(Bytes::new())
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_wait_for_one_probe_and_get_distinct_nonces() {
        let (service, sent) = binance(0);
        let tasks: Vec<_> = (0..16)
            .map(|_| tokio::spawn(service.clone().oneshot(private())))
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let sent = sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 17);
        assert_eq!(sent[0], None, "the probe goes first, unstamped");
        let mut nonces: Vec<u64> = sent[1..].iter().map(|context| context.unwrap().nonce()).collect();
        assert!(
            sent[1..]
                .iter()
                .all(|context| context.unwrap().unix_millis() == 1_700_000_002_500)
        );
        nonces.sort_unstable();
        nonces.dedup();
        assert_eq!(nonces.len(), 16);
        assert!(nonces[0] >= 1_700_000_002_500_000, "microseconds of corrected time");
    }

    #[tokio::test]
    async fn a_timestamp_rejection_is_resynced_and_restamped_once() {
        let (service, sent) = binance(1);
        service.clone().oneshot(private()).await.unwrap();
        let trail = sent.lock().unwrap().clone();
        assert_eq!(trail.len(), 4, "probe, rejected, probe, accepted: {trail:?}");
        assert_eq!((trail[0], trail[2]), (None, None));
        assert!(trail[3].unwrap().nonce() > trail[1].unwrap().nonce());

        // A second rejection in a row is the caller's to see: the layer re-sends only once.
        let (service, sent) = binance(2);
        let err = service.oneshot(private()).await.unwrap_err();
        assert_eq!(err.kind(), "timestamp_outside_window");
        assert_eq!(sent.lock().unwrap().len(), 4);
    }

    #[test]
    fn a_date_within_its_second_of_the_exchange_span_agrees() {
        // Date has whole seconds: a response produced at .900 says .000 of the same second.
        assert_eq!(date_disagreement(10_000, 10_900, 10_950), 0);
        assert_eq!(date_disagreement(10_000, 9_000, 10_000), 0);
        assert_eq!(date_disagreement(10_000, 9_000, 9_990), 10);
        assert_eq!(date_disagreement(10_000, 13_500, 13_600), 2_500);
        assert_eq!(date_disagreement(20_000, 13_500, 13_600), 6_400);
    }

    #[test]
    fn the_probe_goes_to_the_host_of_the_request() {
        let target: http::Uri = "https://api.binance.com:8443/api/v3/order?symbol=BTCUSDT"
            .parse()
            .unwrap();
        let probe = probe_request(&target, "/api/v3/time").unwrap();
        assert_eq!(probe.uri(), "https://api.binance.com:8443/api/v3/time");
        assert_eq!(probe.method(), http::Method::GET);
        assert!(probe.extensions().get::<Public>().is_some());
        let relative = probe_request(&"/api/v3/order".parse().unwrap(), "/api/v3/time").unwrap();
        assert_eq!(relative.uri(), "/api/v3/time");
    }
}
