#[keyward::audited(exchange = "binance", exchange = "okx")]
fn call(a: u32) -> u32 {
    a
}

fn main() {}
