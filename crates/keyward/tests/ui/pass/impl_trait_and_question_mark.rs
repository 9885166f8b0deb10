use std::fmt::Display;

#[keyward::audited]
fn parse(text: &str) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = text.parse()?;
    Ok(n * 2)
}

#[keyward::audited]
fn shown(n: u32) -> impl Display {
    n
}

#[keyward::audited]
async fn parse_async(text: &str) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
    let n: u32 = text.parse()?;
    Ok(n)
}

struct Client;

impl Client {
    #[keyward::audited(exchange = "kraken", name = "client.nonce")]
    fn nonce<'a>(&'a self, prefix: &'a str) -> &'a str {
        prefix
    }
}

fn main() {
    let _ = parse("21");
    let _ = shown(3).to_string();
    let _ = parse_async("1");
    let _ = Client.nonce("n");
}
