#[keyward::audited(redact(secret))]
fn call(key: &str) -> usize {
    key.len()
}

fn main() {}
