//! Helpers shared by keyward's benchmarks: in-memory sinks for log output.
//!
//! The benchmarks themselves live in `benches/`; `cargo xtask bench` runs them and prints the
//! ratio of each keyward measurement to its baseline.

use std::{
    io,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};
use tracing_subscriber::fmt::MakeWriter;

/// A writer that counts the bytes it is given and drops them: the cheapest possible log sink, so
/// that a benchmark measures formatting and middleware, not memory traffic or disk.
///
/// # Example
///
/// ```
/// use std::io::Write;
/// let sink = keyward_benches::CountingSink::default();
/// sink.clone().write_all(b"abc").unwrap();
/// assert_eq!(sink.bytes(), 3);
/// ```
#[derive(Debug, Clone, Default)]
pub struct CountingSink {
    bytes: Arc<AtomicU64>,
}

impl CountingSink {
    /// How many bytes were written so far, by every clone.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

impl io::Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CountingSink {
    type Writer = CountingSink;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
