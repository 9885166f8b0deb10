//! Each exchange's signer on a typical order placement, beside two baselines computed over the
//! very string-to-sign the signer produced (captured once with an `Explanation`):
//!
//! - `floor`: the cryptography the scheme cannot avoid, with a MAC keyed once and cloned per call
//!   (for Gate and Kraken that includes the body digest the canonical string embeds);
//! - `naive`: what most SDKs do per call: copy the canonical string into a fresh buffer, re-key
//!   the MAC from the secret (decoding a base64 secret first, signing KuCoin's passphrase again),
//!   and encode the signature into a new `String`.
//!
//! Neither baseline touches the request, which keyward's signer does (URL or headers), so both
//! are conservative: keyward does strictly more work than either.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use base64::Engine as _;
use bytes::Bytes;
use criterion::{BatchSize, Criterion, black_box, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use keyward::{
    Credentials, exchange,
    sign::{Explanation, NoTrace, SigningContext},
};
use sha2::{Digest, Sha256, Sha512};

const KEY: &str = "test-only-key-0123456789abcdef";
const SECRET: &str = "test-only-secret-0123456789abcdef0123456789";
const PASSPHRASE: &str = "test-only-passphrase";
const MILLIS: u64 = 1_700_000_000_123;

#[derive(Clone, Copy)]
enum Hash {
    Sha256,
    Sha512,
}

#[derive(Clone, Copy)]
enum Encoding {
    Hex,
    Base64,
}

/// One exchange's typical signed request and how its scheme signs.
struct Case {
    exchange: &'static str,
    method: &'static str,
    url: &'static str,
    body: &'static str,
    hash: Hash,
    encoding: Encoding,
    /// The secret is base64 and decoded before keying (Kraken, Coinbase Exchange).
    base64_secret: bool,
}

const CASES: &[Case] = &[
    Case {
        exchange: "binance",
        method: "POST",
        url: "https://api.binance.com/api/v3/order?symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000",
        body: "",
        hash: Hash::Sha256,
        encoding: Encoding::Hex,
        base64_secret: false,
    },
    Case {
        exchange: "bitmex",
        method: "POST",
        url: "https://www.bitmex.com/api/v1/order",
        body: r#"{"symbol":"XBTUSD","side":"Buy","orderQty":100,"price":50000,"ordType":"Limit"}"#,
        hash: Hash::Sha256,
        encoding: Encoding::Hex,
        base64_secret: false,
    },
    Case {
        exchange: "bybit",
        method: "POST",
        url: "https://api.bybit.com/v5/order/create",
        body: r#"{"category":"spot","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.1","price":"50000"}"#,
        hash: Hash::Sha256,
        encoding: Encoding::Hex,
        base64_secret: false,
    },
    Case {
        exchange: "coinbase",
        method: "POST",
        url: "https://api.exchange.coinbase.com/orders",
        body: r#"{"product_id":"BTC-USD","side":"buy","type":"limit","size":"0.01","price":"50000"}"#,
        hash: Hash::Sha256,
        encoding: Encoding::Base64,
        base64_secret: true,
    },
    Case {
        exchange: "gate",
        method: "POST",
        url: "https://api.gateio.ws/api/v4/spot/orders",
        body: r#"{"currency_pair":"BTC_USDT","side":"buy","amount":"0.001","price":"50000"}"#,
        hash: Hash::Sha512,
        encoding: Encoding::Hex,
        base64_secret: false,
    },
    Case {
        exchange: "kraken",
        method: "POST",
        url: "https://api.kraken.com/0/private/AddOrder",
        body: "ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25",
        hash: Hash::Sha512,
        encoding: Encoding::Base64,
        base64_secret: true,
    },
    Case {
        exchange: "kucoin",
        method: "POST",
        url: "https://api.kucoin.com/api/v1/orders",
        body: r#"{"clientOid":"test-only-oid-1","side":"buy","symbol":"BTC-USDT","type":"limit","size":"0.01","price":"50000"}"#,
        hash: Hash::Sha256,
        encoding: Encoding::Base64,
        base64_secret: false,
    },
    Case {
        exchange: "okx",
        method: "POST",
        url: "https://www.okx.com/api/v5/trade/order",
        body: r#"{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit","sz":"0.01","px":"50000"}"#,
        hash: Hash::Sha256,
        encoding: Encoding::Base64,
        base64_secret: false,
    },
];

impl Case {
    fn secret(&self) -> String {
        if self.base64_secret {
            base64::engine::general_purpose::STANDARD.encode(SECRET)
        } else {
            SECRET.to_owned()
        }
    }

    fn request(&self) -> http::Request<Bytes> {
        let content_type = if self.body.starts_with('{') {
            "application/json"
        } else {
            "application/x-www-form-urlencoded"
        };
        http::Request::builder()
            .method(self.method)
            .uri(self.url)
            .header(http::header::CONTENT_TYPE, content_type)
            .body(Bytes::from_static(self.body.as_bytes()))
            .unwrap()
    }
}

/// `mac` (keyed once) over `message`: the least any HMAC-SHA256 scheme must do per request.
fn floor_sha256(mac: &Hmac<Sha256>, message: &[u8]) -> [u8; 32] {
    let mut mac = mac.clone();
    mac.update(message);
    mac.finalize().into_bytes().into()
}

fn floor_sha512(mac: &Hmac<Sha512>, message: &[u8]) -> [u8; 64] {
    let mut mac = mac.clone();
    mac.update(message);
    mac.finalize().into_bytes().into()
}

fn encode(encoding: Encoding, bytes: &[u8]) -> String {
    match encoding {
        Encoding::Hex => hex::encode(bytes),
        Encoding::Base64 => base64::engine::general_purpose::STANDARD.encode(bytes),
    }
}

fn part<'e>(explanation: &'e Explanation, label: &str) -> &'e [u8] {
    explanation
        .parts()
        .iter()
        .find(|(name, _)| *name == label)
        .map(|(_, value)| value.as_slice())
        .unwrap_or_default()
}

fn bench_signers(c: &mut Criterion) {
    let context = SigningContext::at_millis(MILLIS);
    for case in CASES {
        let mut credentials = Credentials::new(KEY, case.secret());
        if matches!(case.exchange, "coinbase" | "kucoin" | "okx") {
            credentials = credentials.with_passphrase(PASSPHRASE);
        }
        let signer = exchange::by_name(case.exchange).unwrap().signer(&credentials).unwrap();
        let template = case.request();

        // The exact string the signer signs, so the baselines sign the same bytes.
        let mut explanation = Explanation::default();
        signer.sign(&mut template.clone(), &context, &mut explanation).unwrap();
        let signed = explanation.signed().to_vec();
        assert!(!signed.is_empty(), "{}: nothing to sign", case.exchange);
        let kraken_nonce = part(&explanation, "nonce").to_vec();
        let kraken_postdata = part(&explanation, "postdata").to_vec();

        let key_bytes: Vec<u8> = if case.base64_secret {
            SECRET.as_bytes().to_vec()
        } else {
            case.secret().into_bytes()
        };
        let mac256 = Hmac::<Sha256>::new_from_slice(&key_bytes).unwrap();
        let mac512 = Hmac::<Sha512>::new_from_slice(&key_bytes).unwrap();

        let mut group = c.benchmark_group(format!("sign-{}", case.exchange));
        group.bench_function("keyward", |b| {
            b.iter_batched(
                || template.clone(),
                |mut request| {
                    signer.sign(&mut request, black_box(&context), &mut NoTrace).unwrap();
                    request
                },
                BatchSize::SmallInput,
            )
        });
        group.bench_function("floor", |b| {
            b.iter_batched(
                || template.clone(),
                |request| {
                    match (case.exchange, case.hash) {
                        ("kraken", _) => {
                            let digest = Sha256::new()
                                .chain_update(black_box(&kraken_nonce))
                                .chain_update(black_box(&kraken_postdata))
                                .finalize();
                            black_box(digest);
                            black_box(floor_sha512(&mac512, black_box(&signed)));
                        }
                        ("gate", _) => {
                            let mut body_hash = [0u8; 128];
                            hex::encode_to_slice(Sha512::digest(black_box(request.body())), &mut body_hash).unwrap();
                            black_box(body_hash);
                            black_box(floor_sha512(&mac512, black_box(&signed)));
                        }
                        (_, Hash::Sha256) => {
                            black_box(floor_sha256(&mac256, black_box(&signed)));
                        }
                        (_, Hash::Sha512) => {
                            black_box(floor_sha512(&mac512, black_box(&signed)));
                        }
                    }
                    request
                },
                BatchSize::SmallInput,
            )
        });
        let secret = case.secret();
        group.bench_function("naive", |b| {
            b.iter_batched(
                || template.clone(),
                |request| {
                    let key = if case.base64_secret {
                        base64::engine::general_purpose::STANDARD
                            .decode(black_box(&secret))
                            .unwrap()
                    } else {
                        black_box(&secret).as_bytes().to_vec()
                    };
                    let message = black_box(&signed).clone();
                    let signature = match (case.exchange, case.hash) {
                        ("kraken", _) => {
                            let mut inner = Sha256::new();
                            inner.update(black_box(&kraken_nonce));
                            inner.update(black_box(&kraken_postdata));
                            black_box(inner.finalize());
                            let mut mac = Hmac::<Sha512>::new_from_slice(&key).unwrap();
                            mac.update(&message);
                            encode(case.encoding, &mac.finalize().into_bytes())
                        }
                        ("gate", _) => {
                            black_box(hex::encode(Sha512::digest(black_box(request.body()))));
                            let mut mac = Hmac::<Sha512>::new_from_slice(&key).unwrap();
                            mac.update(&message);
                            encode(case.encoding, &mac.finalize().into_bytes())
                        }
                        (_, Hash::Sha256) => {
                            let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
                            mac.update(&message);
                            encode(case.encoding, &mac.finalize().into_bytes())
                        }
                        (_, Hash::Sha512) => {
                            let mut mac = Hmac::<Sha512>::new_from_slice(&key).unwrap();
                            mac.update(&message);
                            encode(case.encoding, &mac.finalize().into_bytes())
                        }
                    };
                    if case.exchange == "kucoin" {
                        // KuCoin's key version 2 sends the passphrase HMAC-signed too.
                        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
                        mac.update(PASSPHRASE.as_bytes());
                        black_box(encode(case.encoding, &mac.finalize().into_bytes()));
                    }
                    black_box(signature);
                    request
                },
                BatchSize::SmallInput,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, bench_signers);
criterion_main!(benches);
