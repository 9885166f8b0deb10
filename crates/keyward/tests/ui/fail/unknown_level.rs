#[keyward::audited(level = "loud")]
fn call(a: u32) -> u32 {
    a
}

fn main() {}
