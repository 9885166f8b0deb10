//! Rate limits over loopback, each exchange's own headers and refusals, and Binance's bans, all
//! driven by an injected time: nothing here sleeps.

use crate::support::*;
use http::Method;
use keyward_mock::{MockCredentials, MockExchange, Rejection, RunningMock, Verdict};
use serde_json::json;
use std::time::Duration;

/// A moment on a whole minute (and so on every shorter window), in exchange time.
const T0: i64 = 1_700_000_040_000;

async fn mock_with(exchange: &str, time: &ManualTime, budget: Option<(u64, Duration)>) -> RunningMock {
    let mut builder = MockExchange::builder(exchange).unwrap().time_source(time.source());
    // Only Binance requests are signed here; the other exchanges are limited before they check
    // a key, so they need none.
    if exchange == "binance" {
        builder = builder.credentials(MockCredentials::new(KEY, SECRET));
    }
    if let Some((limit, window)) = budget {
        builder = builder.weight_limit(limit, window);
    }
    builder.start().await.unwrap()
}

async fn call(mock: &RunningMock, method: Method, path: &str) -> Answer {
    send(client().request(method, format!("{}{path}", mock.base_url()))).await
}

/// A Binance order signed as Binance documents it, at the mock's time.
fn binance_order(mock: &RunningMock, client_order_id: &str) -> reqwest::RequestBuilder {
    let query = format!(
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=1\
         &newClientOrderId={client_order_id}&timestamp={}",
        mock.now_ms()
    );
    let signature = hex::encode(hmac_sha256(SECRET.as_bytes(), query.as_bytes()));
    client()
        .post(format!(
            "{}/api/v3/order?{query}&signature={signature}",
            mock.base_url()
        ))
        .header("X-MBX-APIKEY", KEY)
}

fn verdicts(mock: &RunningMock) -> Vec<Verdict> {
    mock.requests().iter().map(|request| request.verdict).collect()
}

#[tokio::test]
async fn binance_weight_headers_count_each_endpoint_s_documented_weight() {
    let time = ManualTime::at(T0);
    let mock = mock_with("binance", &time, None).await;
    let used = |answer: &Answer| answer.header_number("x-mbx-used-weight-1m");

    assert_eq!(used(&call(&mock, Method::GET, "/api/v3/time").await), 1);
    assert_eq!(used(&call(&mock, Method::GET, "/api/v3/exchangeInfo").await), 21);
    let depth = call(&mock, Method::GET, "/api/v3/depth?symbol=BTCUSDT&limit=500").await;
    assert_eq!(used(&depth), 46);
    // Weight is spent before authentication: a refused request costs as much as a served one.
    let refused = call(&mock, Method::GET, "/api/v3/account?timestamp=1&signature=00").await;
    assert_eq!(refused.status, 401);
    assert_eq!(used(&refused), 66);
    assert!(refused.headers.get("x-mbx-order-count-10s").is_none());

    let first = send(binance_order(&mock, "kw-first")).await;
    assert_eq!(first.status, 200, "{}", first.json);
    assert_eq!(used(&first), 67);
    assert_eq!(first.header_number("x-mbx-order-count-10s"), 1);
    assert_eq!(first.header_number("x-mbx-order-count-1d"), 1);
    let second = send(binance_order(&mock, "kw-second")).await;
    assert_eq!((used(&second), second.header_number("x-mbx-order-count-10s")), (68, 2));

    // A new minute empties the weight, a new 10 s the short order count; the day's count stays.
    time.advance(60_000);
    let third = send(binance_order(&mock, "kw-third")).await;
    assert_eq!(used(&third), 1);
    assert_eq!(third.header_number("x-mbx-order-count-10s"), 1);
    assert_eq!(third.header_number("x-mbx-order-count-1d"), 3);
    assert_eq!(mock.orders().len(), 3);
}

#[tokio::test]
async fn binance_exchange_info_lists_the_limits_in_force() {
    let time = ManualTime::at(T0);
    let documented = mock_with("binance", &time, None).await;
    let info = call(&documented, Method::GET, "/api/v3/exchangeInfo").await;
    assert_eq!(
        info.json["rateLimits"],
        json!([
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
            {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
        ])
    );
    assert_eq!(info.json["serverTime"], T0);

    let tight = mock_with("binance", &time, Some((1200, Duration::from_secs(30)))).await;
    let info = call(&tight, Method::GET, "/api/v3/exchangeInfo").await;
    assert_eq!(
        info.json["rateLimits"][0],
        json!({"rateLimitType": "REQUEST_WEIGHT", "interval": "SECOND", "intervalNum": 30, "limit": 1200})
    );
    assert_eq!(
        info.json["rateLimits"][1]["limit"], 100,
        "order limits are not the primary budget"
    );
    assert_eq!(info.header_number("x-mbx-used-weight-30s"), 20);
}

#[tokio::test]
async fn binance_answers_429_then_bans_a_client_that_keeps_sending_and_lifts_the_ban_in_time() {
    let time = ManualTime::at(T0);
    let mock = mock_with("binance", &time, Some((3, Duration::from_secs(60)))).await;
    for expected in 1..=3 {
        let answer = call(&mock, Method::GET, "/api/v3/time").await;
        assert_eq!(
            (answer.status, answer.header_number("x-mbx-used-weight-1m")),
            (200, expected)
        );
    }

    let throttled = call(&mock, Method::GET, "/api/v3/time").await;
    assert_eq!(throttled.status, 429);
    assert_eq!(throttled.header_number("retry-after"), 60, "until the minute ends");
    assert_eq!(
        throttled.header_number("x-mbx-used-weight-1m"),
        3,
        "a refused request costs nothing"
    );
    assert_eq!(
        throttled.json,
        json!({"code": -1003, "msg": "Too much request weight used; current limit is 3 request weight per 1 MINUTE. \
            Please use WebSocket Streams for live updates to avoid polling the API."})
    );

    // A straggler right behind the 429 (in flight when it was sent) is refused, not banned.
    time.advance(500);
    assert_eq!(call(&mock, Method::GET, "/api/v3/time").await.status, 429);

    // Still sending inside the Retry-After, two seconds on: an IP ban, 2 minutes the first time.
    time.advance(1_500);
    let banned = call(&mock, Method::GET, "/api/v3/time").await;
    let until = T0 + 2_000 + 120_000;
    assert_eq!(banned.status, 418);
    assert_eq!(banned.header_number("retry-after"), 120);
    assert_eq!(
        banned.json,
        json!({"code": -1003, "msg": format!("Way too much request weight used; IP banned until {until}. \
            Please use WebSocket Streams for live updates to avoid bans.")})
    );
    assert_eq!(mock.banned_until_ms(), Some(until));

    // Every request is refused during the ban, whatever it is, and nothing is executed.
    for path in ["/api/v3/ping", "/api/v3/account", "/sapi/v1/capital/config/getall"] {
        assert_eq!(call(&mock, Method::GET, path).await.status, 418, "{path}");
    }
    let order = send(binance_order(&mock, "kw-during-ban")).await;
    assert_eq!(order.status, 418);
    assert!(mock.orders().is_empty());
    time.set(until - 1_000);
    let late = call(&mock, Method::GET, "/api/v3/time").await;
    assert_eq!((late.status, late.header_number("retry-after")), (418, 1));

    time.set(until);
    assert_eq!(mock.banned_until_ms(), None);
    assert_eq!(call(&mock, Method::GET, "/api/v3/time").await.status, 200);

    // A repeat offender is banned twice as long.
    for _ in 0..2 {
        assert_eq!(call(&mock, Method::GET, "/api/v3/time").await.status, 200);
    }
    assert_eq!(call(&mock, Method::GET, "/api/v3/time").await.status, 429);
    time.advance(2_000);
    let again = call(&mock, Method::GET, "/api/v3/time").await;
    assert_eq!((again.status, again.header_number("retry-after")), (418, 240));

    let verdicts = verdicts(&mock);
    assert_eq!(
        verdicts
            .iter()
            .filter(|v| **v == Verdict::Rejected(Rejection::RateLimited))
            .count(),
        3
    );
    assert_eq!(
        verdicts
            .iter()
            .filter(|v| **v == Verdict::Rejected(Rejection::Banned))
            .count(),
        7
    );
    assert_eq!(verdicts.iter().filter(|v| v.is_accepted()).count(), 6);
}

#[tokio::test]
async fn a_client_that_honours_retry_after_is_never_banned() {
    let time = ManualTime::at(T0);
    let mock = mock_with("binance", &time, Some((2, Duration::from_secs(10)))).await;
    for _round in 0..5 {
        for _ in 0..2 {
            assert_eq!(call(&mock, Method::GET, "/api/v3/time").await.status, 200);
        }
        let throttled = call(&mock, Method::GET, "/api/v3/time").await;
        assert_eq!(throttled.status, 429);
        time.advance(throttled.header_number("retry-after") * 1000);
    }
    assert_eq!(mock.banned_until_ms(), None);
    mock.reset_limits();
    assert_eq!(
        call(&mock, Method::GET, "/api/v3/time")
            .await
            .header_number("x-mbx-used-weight-10s"),
        1
    );
}

/// Three requests against a budget of two: what the first two say about the budget, and how the
/// third is refused.
async fn spend_two_of_two(exchange: &str, method: Method, path: &str) -> (RunningMock, Vec<Answer>) {
    let time = ManualTime::at(T0);
    let mock = mock_with(exchange, &time, Some((2, Duration::from_secs(10)))).await;
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(call(&mock, method.clone(), path).await);
    }
    assert_eq!(
        mock.requests()[2].verdict,
        Verdict::Rejected(Rejection::RateLimited),
        "{exchange}: {}",
        answers[2].json
    );
    (mock, answers)
}

#[tokio::test]
async fn bybit_counts_each_endpoint_with_its_headers_and_refuses_with_10006() {
    let (mock, answers) = spend_two_of_two("bybit", Method::GET, "/v5/account/wallet-balance").await;
    assert_eq!(answers[0].header_number("x-bapi-limit"), 2);
    assert_eq!(answers[0].header_number("x-bapi-limit-status"), 1);
    assert_eq!(
        answers[0].header_number("x-bapi-limit-reset-timestamp"),
        T0,
        "not spent: now"
    );
    assert_eq!(answers[1].header_number("x-bapi-limit-status"), 0);
    assert_eq!(
        answers[1].header_number("x-bapi-limit-reset-timestamp"),
        T0 + 10_000,
        "spent: the reset"
    );
    assert_eq!(answers[2].status, 200);
    assert_eq!(answers[2].json["retCode"], 10006);
    assert_eq!(answers[2].json["retMsg"], "Too many visits!");
    assert_eq!(answers[2].header_number("x-bapi-limit-status"), 0);

    let other_endpoint = call(&mock, Method::GET, "/v5/order/realtime").await;
    assert_eq!(other_endpoint.header_number("x-bapi-limit-status"), 1);
    let public = call(&mock, Method::GET, "/v5/market/time").await;
    assert!(public.headers.get("x-bapi-limit").is_none());
}

#[tokio::test]
async fn bybit_documents_ten_orders_a_second() {
    let time = ManualTime::at(T0);
    let mock = mock_with("bybit", &time, None).await;
    for _ in 0..10 {
        let answer = call(&mock, Method::POST, "/v5/order/create").await;
        assert_eq!(answer.header_number("x-bapi-limit"), 10);
        assert_ne!(answer.json["retCode"], 10006);
    }
    assert_eq!(
        call(&mock, Method::POST, "/v5/order/create").await.json["retCode"],
        10006
    );
    time.advance(1_000);
    assert_ne!(
        call(&mock, Method::POST, "/v5/order/create").await.json["retCode"],
        10006
    );
}

#[tokio::test]
async fn okx_refuses_with_50011_and_http_429() {
    let (_mock, answers) = spend_two_of_two("okx", Method::GET, "/api/v5/account/balance").await;
    assert_eq!(answers[2].status, 429);
    assert_eq!(
        answers[2].json,
        json!({
            "code": "50011",
            "msg": "Rate limit reached. Please refer to API documentation and throttle requests accordingly.",
            "data": [],
        })
    );
}

#[tokio::test]
async fn coinbase_refuses_private_and_public_buckets_apart() {
    let (mock, answers) = spend_two_of_two("coinbase", Method::GET, "/accounts").await;
    assert_eq!(answers[2].status, 429);
    assert_eq!(answers[2].json, json!({"message": "Private rate limit exceeded"}));
    for _ in 0..2 {
        assert_eq!(call(&mock, Method::GET, "/time").await.status, 200);
    }
    let public = call(&mock, Method::GET, "/time").await;
    assert_eq!(
        (public.status, public.json.clone()),
        (429, json!({"message": "Public rate limit exceeded"}))
    );
}

#[tokio::test]
async fn kraken_refuses_with_its_error_array() {
    let (mock, answers) = spend_two_of_two("kraken", Method::POST, "/0/private/Balance").await;
    assert_eq!(answers[2].status, 200);
    assert_eq!(answers[2].json, json!({"error": ["EAPI:Rate limit exceeded"]}));
    // AddOrder does not count on the REST counter: it reaches authentication.
    let order = call(&mock, Method::POST, "/0/private/AddOrder").await;
    assert_ne!(order.json, json!({"error": ["EAPI:Rate limit exceeded"]}));
}

#[tokio::test]
async fn kraken_s_counter_decays_per_key_as_documented() {
    let time = ManualTime::at(T0);
    let mock = mock_with("kraken", &time, None).await;
    let balance = |key: &'static str| {
        let request = client()
            .post(format!("{}/0/private/Balance", mock.base_url()))
            .header("API-Key", key)
            .header("API-Sign", "test-only-signature")
            .body("nonce=1");
        async move { send(request).await.json }
    };
    let limited = json!({"error": ["EAPI:Rate limit exceeded"]});
    for _ in 0..15 {
        assert_ne!(balance("test-only-key-a").await, limited);
    }
    assert_eq!(balance("test-only-key-a").await, limited);
    assert_ne!(
        balance("test-only-key-b").await,
        limited,
        "each key has its own counter"
    );
    // 0.33 per second: one call is back after a little over 3 s.
    time.advance(2_900);
    assert_eq!(balance("test-only-key-a").await, limited);
    time.advance(200);
    assert_ne!(balance("test-only-key-a").await, limited);
}

#[tokio::test]
async fn kucoin_reports_its_pool_and_refuses_with_429000() {
    let (_mock, answers) = spend_two_of_two("kucoin", Method::GET, "/api/v1/accounts").await;
    assert_eq!(answers[0].header_number("gw-ratelimit-limit"), 2);
    assert_eq!(answers[0].header_number("gw-ratelimit-remaining"), 1);
    assert_eq!(answers[0].header_number("gw-ratelimit-reset"), 10_000);
    assert_eq!(answers[1].header_number("gw-ratelimit-remaining"), 0);
    assert_eq!(answers[2].status, 429);
    assert_eq!(answers[2].json, json!({"code": "429000", "msg": "Too Many Requests"}));
    assert_eq!(answers[2].header_number("gw-ratelimit-remaining"), 0);
}

#[tokio::test]
async fn bitmex_reports_its_bucket_and_refuses_with_retry_after() {
    let (_mock, answers) = spend_two_of_two("bitmex", Method::GET, "/api/v1/position").await;
    assert_eq!(answers[0].header_number("x-ratelimit-limit"), 2);
    assert_eq!(answers[0].header_number("x-ratelimit-remaining"), 1);
    // Two units refill over 10 s: one spent unit is back 5 s later.
    assert_eq!(answers[0].header_number("x-ratelimit-reset"), T0 / 1000 + 5);
    assert_eq!(answers[1].header_number("x-ratelimit-remaining"), 0);
    assert_eq!(answers[1].header_number("x-ratelimit-reset"), T0 / 1000 + 10);
    assert_eq!(answers[2].status, 429);
    assert_eq!(answers[2].header_number("retry-after"), 5);
    assert_eq!(
        answers[2].json,
        json!({"error": {"message": "Rate limit exceeded, retry in 5 seconds.", "name": "RateLimitError"}})
    );
}

#[tokio::test]
async fn bitmex_limits_order_routes_per_second_too() {
    let time = ManualTime::at(T0);
    let mock = mock_with("bitmex", &time, None).await;
    for remaining in (0..10).rev() {
        let answer = call(&mock, Method::POST, "/api/v1/order").await;
        assert_eq!(answer.header_number("x-ratelimit-remaining-1s"), remaining);
        assert_eq!(answer.header_number("x-ratelimit-limit-1s"), 10);
    }
    assert_eq!(call(&mock, Method::POST, "/api/v1/order").await.status, 429);
    let read = call(&mock, Method::GET, "/api/v1/position").await;
    assert!(read.headers.get("x-ratelimit-remaining-1s").is_none());
    assert_eq!(read.header_number("x-ratelimit-remaining"), 120 - 11);
}

#[tokio::test]
async fn gate_reports_each_endpoint_and_refuses_with_too_many_requests() {
    let (_mock, answers) = spend_two_of_two("gate", Method::GET, "/api/v4/spot/accounts").await;
    assert_eq!(answers[0].header_number("x-gate-ratelimit-limit"), 2);
    assert_eq!(answers[0].header_number("x-gate-ratelimit-requests-remain"), 1);
    assert_eq!(answers[0].header_number("x-gate-ratelimit-reset-timestamp"), T0);
    assert_eq!(answers[1].header_number("x-gate-ratelimit-requests-remain"), 0);
    assert_eq!(
        answers[1].header_number("x-gate-ratelimit-reset-timestamp"),
        T0 + 10_000
    );
    assert_eq!(answers[2].status, 429);
    assert_eq!(
        answers[2].json,
        json!({"label": "TOO_MANY_REQUESTS", "message": "Request rate exceeds limits"})
    );
}

#[tokio::test]
async fn limits_can_be_lifted_for_tests_about_something_else() {
    let mock = MockExchange::builder("kraken")
        .unwrap()
        .without_rate_limits()
        .start()
        .await
        .unwrap();
    for _ in 0..40 {
        let answer = call(&mock, Method::POST, "/0/private/Balance").await;
        assert_ne!(answer.json, json!({"error": ["EAPI:Rate limit exceeded"]}));
    }
    let binance = MockExchange::builder("binance")
        .unwrap()
        .weight_limit(1, Duration::from_secs(60))
        .without_rate_limits()
        .start()
        .await
        .unwrap();
    let info = call(&binance, Method::GET, "/api/v3/exchangeInfo").await;
    assert_eq!(info.json["rateLimits"], json!([]));
    assert!(info.headers.get("x-mbx-used-weight-1m").is_none());
    assert_eq!(call(&binance, Method::GET, "/api/v3/time").await.status, 200);
}
