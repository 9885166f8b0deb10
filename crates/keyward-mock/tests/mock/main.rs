//! The mock exchanges over real loopback HTTP, with requests signed by hand from each
//! exchange's documentation.

// Test helpers outside `#[test]` functions may unwrap too (team brief); clippy's
// `allow-unwrap-in-tests` only covers the test functions themselves.
#![allow(clippy::unwrap_used)]

mod binance;
mod bitmex;
mod bybit;
mod coinbase;
mod faults;
mod gate;
mod kraken;
mod kucoin;
mod lifecycle;
mod limits;
mod okx;
mod server_time;
mod support;
