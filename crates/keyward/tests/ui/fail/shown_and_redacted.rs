#[keyward::audited(redact(note), show(note))]
fn call(note: &str) -> usize {
    note.len()
}

fn main() {}
