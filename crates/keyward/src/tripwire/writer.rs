//! The `MakeWriter` wrapper that scrubs each event before it is written.
//!
//! Each thread keeps one event buffer and lends it to the writer of each event, so the common
//! case (an event on a thread that logged before) allocates nothing. The bytes an event used are
//! zeroed before the buffer goes back, so a buffer at rest holds no log text.

use std::borrow::Cow;
use std::cell::Cell;
use std::io::{self, Write};
use std::sync::Arc;

use tracing::Metadata;
use tracing_subscriber::fmt::MakeWriter;
use zeroize::{Zeroize, Zeroizing};

use super::Registry;

/// Most formatted events fit, so the buffer rarely reallocates (a reallocation leaves an
/// unzeroized copy of what was buffered behind).
const EVENT_BUFFER_CAPACITY: usize = 1024;

/// A buffer that grew past this for one huge event is freed rather than kept by the thread.
const KEPT_BUFFER_CAPACITY: usize = 64 * 1024;

thread_local! {
    /// This thread's spare event buffer: empty, with the bytes it last held zeroed.
    static SPARE_BUFFER: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// This thread's spare buffer, or a new one when it is lent out (an event logged while another
/// is being written) or the thread is exiting.
fn borrow_buffer() -> Vec<u8> {
    let mut buffer = SPARE_BUFFER.try_with(Cell::take).unwrap_or_default();
    if buffer.capacity() == 0 {
        buffer.reserve(EVENT_BUFFER_CAPACITY);
    }
    buffer
}

/// Zeroes what `buffer` holds and keeps it for this thread's next event.
fn return_buffer(mut buffer: Vec<u8>) {
    buffer.as_mut_slice().zeroize();
    buffer.clear();
    if buffer.capacity() <= KEPT_BUFFER_CAPACITY {
        let _ = SPARE_BUFFER.try_with(|spare| spare.set(buffer));
    }
}

/// A [`MakeWriter`] that scrubs every registered secret from what it writes.
///
/// See the [module docs](super) for how to turn it on.
#[derive(Debug, Clone)]
pub struct Tripwire<M> {
    inner: M,
    registry: RegistryRef,
}

#[derive(Debug, Clone)]
enum RegistryRef {
    Global,
    Own(Arc<Registry>),
}

impl RegistryRef {
    fn get(&self) -> &Registry {
        match self {
            Self::Global => Registry::global(),
            Self::Own(registry) => registry,
        }
    }
}

impl<M> Tripwire<M> {
    /// Wraps `inner`, scrubbing the secrets of the [global registry](Registry::global).
    pub fn new(inner: M) -> Self {
        Self {
            inner,
            registry: RegistryRef::Global,
        }
    }

    /// Wraps `inner`, scrubbing the secrets of `registry` (for tests, or a separate set of keys).
    pub fn with_registry(inner: M, registry: Arc<Registry>) -> Self {
        Self {
            inner,
            registry: RegistryRef::Own(registry),
        }
    }
}

impl<'a, M> MakeWriter<'a> for Tripwire<M>
where
    M: MakeWriter<'a>,
{
    type Writer = ScrubbingWriter<'a, M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        ScrubbingWriter::new(self.inner.make_writer(), self.registry.get())
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        ScrubbingWriter::new(self.inner.make_writer_for(meta), self.registry.get())
    }
}

/// The writer a [`Tripwire`] makes for one event: it buffers everything written to it and
/// writes it, scrubbed, to the inner writer on [`flush`](Write::flush) or when dropped.
///
/// The scrubbed event reaches the inner writer in one `write_all`; the inner writer is flushed
/// only when this writer is, so a buffered inner writer (a `BufWriter`) keeps batching.
///
/// A secret split across a `flush` is not caught; `tracing_subscriber` does not flush within an
/// event.
pub struct ScrubbingWriter<'a, W: Write> {
    inner: W,
    registry: &'a Registry,
    /// Zeroed after each write to the inner writer, and given back to the thread when dropped.
    buffered: Vec<u8>,
}

impl<'a, W: Write> ScrubbingWriter<'a, W> {
    fn new(inner: W, registry: &'a Registry) -> Self {
        Self {
            inner,
            registry,
            buffered: borrow_buffer(),
        }
    }

    fn write_scrubbed(&mut self) -> io::Result<()> {
        if self.buffered.is_empty() {
            return Ok(());
        }
        let written = match self.registry.scrub(&self.buffered) {
            Cow::Borrowed(clean) => self.inner.write_all(clean),
            Cow::Owned(scrubbed) => self.inner.write_all(&Zeroizing::new(scrubbed)),
        };
        self.buffered.as_mut_slice().zeroize();
        self.buffered.clear();
        written
    }
}

impl<W: Write> Write for ScrubbingWriter<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffered.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_scrubbed()?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for ScrubbingWriter<'_, W> {
    fn drop(&mut self) {
        // A log writer has nowhere to report its own failure; losing the line is the only option.
        let _ = self.write_scrubbed();
        return_buffer(std::mem::take(&mut self.buffered));
    }
}

impl<W: Write> std::fmt::Debug for ScrubbingWriter<'_, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScrubbingWriter")
            .field("buffered_bytes", &self.buffered.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// What reached the inner writer, and how often it was flushed.
    #[derive(Clone, Default)]
    struct Recorded {
        bytes: Arc<Mutex<Vec<u8>>>,
        flushes: Arc<Mutex<usize>>,
    }

    impl Write for Recorded {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.bytes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            *self.flushes.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += 1;
            Ok(())
        }
    }

    impl Recorded {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.bytes.lock().unwrap_or_else(std::sync::PoisonError::into_inner)).into_owned()
        }

        fn flushes(&self) -> usize {
            *self.flushes.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
        }
    }

    fn tripwire(secret: &[u8]) -> (Tripwire<impl for<'a> MakeWriter<'a>>, Recorded) {
        let registry = Arc::new(Registry::new());
        registry.register(secret);
        let recorded = Recorded::default();
        let sink = recorded.clone();
        (Tripwire::with_registry(move || sink.clone(), registry), recorded)
    }

    #[test]
    fn an_event_written_while_another_is_open_gets_its_own_buffer() {
        let (tripwire, recorded) = tripwire(b"test-only-secret-nested");
        let mut outer = tripwire.make_writer();
        outer.write_all(b"outer test-only-secret-").unwrap_or_default();
        {
            let mut inner = tripwire.make_writer();
            inner.write_all(b"inner test-only-secret-nested\n").unwrap_or_default();
        }
        outer.write_all(b"nested\n").unwrap_or_default();
        drop(outer);
        assert_eq!(recorded.text(), "inner [REDACTED]\nouter [REDACTED]\n");
    }

    #[test]
    fn the_thread_reuses_one_buffer_and_every_event_starts_empty() {
        let (tripwire, recorded) = tripwire(b"test-only-secret-reuse");
        let first = {
            let mut writer = tripwire.make_writer();
            writer.write_all(b"first test-only-secret-reuse\n").unwrap_or_default();
            writer.buffered.as_ptr()
        };
        let mut writer = tripwire.make_writer();
        assert!(writer.buffered.is_empty(), "the buffer comes back cleared");
        assert_eq!(writer.buffered.as_ptr(), first, "and is the same allocation");
        writer.write_all(b"second\n").unwrap_or_default();
        drop(writer);
        assert_eq!(recorded.text(), "first [REDACTED]\nsecond\n");
    }

    #[test]
    fn a_huge_event_does_not_stay_allocated_on_the_thread() {
        let (tripwire, _) = tripwire(b"test-only-secret-huge");
        let mut writer = tripwire.make_writer();
        writer
            .write_all(&vec![b'x'; 2 * KEPT_BUFFER_CAPACITY])
            .unwrap_or_default();
        drop(writer);
        let writer = tripwire.make_writer();
        assert!(writer.buffered.capacity() <= KEPT_BUFFER_CAPACITY);
    }

    #[test]
    fn the_inner_writer_is_flushed_only_when_the_event_writer_is() {
        let (tripwire, recorded) = tripwire(b"test-only-secret-flush");
        let mut writer = tripwire.make_writer();
        writer.write_all(b"line\n").unwrap_or_default();
        drop(writer);
        assert_eq!((recorded.text().as_str(), recorded.flushes()), ("line\n", 0));
        let mut writer = tripwire.make_writer();
        writer.write_all(b"flushed\n").unwrap_or_default();
        writer.flush().unwrap_or_default();
        assert_eq!((recorded.text().as_str(), recorded.flushes()), ("line\nflushed\n", 1));
    }
}
