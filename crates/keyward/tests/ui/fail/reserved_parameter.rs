#[keyward::audited]
fn call(outcome: u32) -> u32 {
    outcome
}

fn main() {}
