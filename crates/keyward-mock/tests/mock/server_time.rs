use crate::support::*;
use keyward_mock::MockExchange;
use serde_json::Value;
use std::time::UNIX_EPOCH;

/// Reads the exchange's time, in ms, from its documented answer shape.
fn server_ms(exchange: &str, body: &Value) -> i64 {
    let text_ms = |value: &Value| value.as_str().unwrap().parse::<i64>().unwrap();
    match exchange {
        "binance" => body["serverTime"].as_i64().unwrap(),
        "bybit" => {
            assert_eq!(body["retCode"], 0);
            text_ms(&body["result"]["timeNano"]) / 1_000_000
        }
        "okx" => text_ms(&body["data"][0]["ts"]),
        "coinbase" => {
            let epoch = (body["epoch"].as_f64().unwrap() * 1000.0).round() as i64;
            assert!(body["iso"].as_str().unwrap().ends_with('Z'));
            epoch
        }
        "kraken" => {
            assert_eq!(body["error"], serde_json::json!([]));
            assert!(body["result"]["rfc1123"].as_str().unwrap().ends_with("+0000"));
            body["result"]["unixtime"].as_i64().unwrap() * 1000
        }
        "kucoin" => body["data"].as_i64().unwrap(),
        "bitmex" => body["timestamp"].as_i64().unwrap(),
        "gate" => body["server_time"].as_i64().unwrap(),
        other => panic!("no time endpoint for {other}"),
    }
}

const TIME_PATHS: [(&str, &str); 8] = [
    ("binance", "/api/v3/time"),
    ("bitmex", "/api/v1"),
    ("bybit", "/v5/market/time"),
    ("coinbase", "/time"),
    ("gate", "/api/v4/spot/time"),
    ("kraken", "/0/public/Time"),
    ("kucoin", "/api/v1/timestamp"),
    ("okx", "/api/v5/public/time"),
];

#[tokio::test]
async fn every_exchange_tells_its_offset_time_in_body_and_date_header() {
    let offset = 86_400_000 + 12_345;
    assert_eq!(MockExchange::names(), TIME_PATHS.map(|(name, _)| name));
    for (exchange, path) in TIME_PATHS {
        let mock = MockExchange::builder(exchange)
            .unwrap()
            .clock_offset_ms(offset)
            .start()
            .await
            .unwrap();
        let before = local_now_ms();
        let answer = send(client().get(format!("{}{path}", mock.base_url()))).await;
        let after = local_now_ms();
        assert_eq!(answer.status, 200, "{exchange}");

        let told = server_ms(exchange, &answer.json);
        // Kraken tells whole seconds.
        assert!(
            told >= before + offset - 1000 && told <= after + offset,
            "{exchange}: {told}"
        );

        let date = httpdate::parse_http_date(answer.date.as_deref().unwrap()).unwrap();
        let date_ms = date.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
        assert!(
            date_ms >= before + offset - 1000 && date_ms <= after + offset,
            "{exchange} Date"
        );
        assert!(mock.requests()[0].verdict.is_accepted());
    }
}

#[tokio::test]
async fn errors_carry_a_date_header_too() {
    let mock = MockExchange::builder("okx").unwrap().start().await.unwrap();
    let answer = send(client().get(format!("{}/api/v5/account/balance", mock.base_url()))).await;
    assert_eq!(answer.status, 401);
    assert!(answer.date.is_some());
}

#[tokio::test]
async fn the_clock_can_move_while_running() {
    let mock = MockExchange::builder("binance").unwrap().start().await.unwrap();
    mock.set_clock_offset_ms(-3_600_000);
    let answer = send(client().get(format!("{}/api/v3/time", mock.base_url()))).await;
    let told = answer.json["serverTime"].as_i64().unwrap();
    assert!((local_now_ms() - 3_600_000 - told).abs() < 1000);
}

#[tokio::test]
async fn an_injected_time_source_drives_every_server_time_and_date() {
    let time = ManualTime::at(1_600_000_000_000);
    for (exchange, path) in TIME_PATHS {
        let mock = MockExchange::builder(exchange)
            .unwrap()
            .time_source(time.source())
            .clock_offset_ms(2_000)
            .start()
            .await
            .unwrap();
        time.advance(61_000);
        let expected = time.now() + 2_000;
        let answer = send(client().get(format!("{}{path}", mock.base_url()))).await;
        assert_eq!(server_ms(exchange, &answer.json), expected, "{exchange}");
        let date = httpdate::parse_http_date(answer.date.as_deref().unwrap()).unwrap();
        let date_ms = date.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
        assert_eq!(date_ms, expected, "{exchange} Date");
    }
}

#[tokio::test]
async fn timestamp_checks_follow_the_injected_time() {
    let time = ManualTime::at(1_600_000_000_000);
    let mock = MockExchange::builder("binance")
        .unwrap()
        .credentials(keyward_mock::MockCredentials::new(KEY, SECRET))
        .time_source(time.source())
        .start()
        .await
        .unwrap();
    let query = format!("timestamp={}", time.now());
    let signature = hex::encode(hmac_sha256(SECRET.as_bytes(), query.as_bytes()));
    let url = format!("{}/api/v3/account?{query}&signature={signature}", mock.base_url());
    assert_eq!(send(client().get(&url).header("X-MBX-APIKEY", KEY)).await.status, 200);
    // The same request, 6 s later by the injected time, is outside Binance's 5 s recvWindow.
    time.advance(6_000);
    let stale = send(client().get(&url).header("X-MBX-APIKEY", KEY)).await;
    assert_eq!(
        (stale.status, stale.json["code"].clone()),
        (400, serde_json::json!(-1021))
    );
}
