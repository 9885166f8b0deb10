#[keyward::audited(skip(b))]
fn call(a: u32) -> u32 {
    a
}

fn main() {}
