#[keyward::audited(level = "info", level = "debug")]
fn call(a: u32) -> u32 {
    a
}

fn main() {}
