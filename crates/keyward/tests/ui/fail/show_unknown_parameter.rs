#[keyward::audited(show(token))]
fn call(tokens: u32) -> u32 {
    tokens
}

fn main() {}
