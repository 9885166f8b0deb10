//! The `MakeWriter` wrapper that scrubs each event before it is written.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::Arc;

use tracing::Metadata;
use tracing_subscriber::fmt::MakeWriter;
use zeroize::Zeroizing;

use super::Registry;

/// Most formatted events fit, so the buffer rarely reallocates (a reallocation leaves an
/// unzeroized copy of what was buffered behind).
const EVENT_BUFFER_CAPACITY: usize = 1024;

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
/// A secret split across a `flush` is not caught; `tracing_subscriber` does not flush within an
/// event.
pub struct ScrubbingWriter<'a, W: Write> {
    inner: W,
    registry: &'a Registry,
    buffered: Zeroizing<Vec<u8>>,
}

impl<'a, W: Write> ScrubbingWriter<'a, W> {
    fn new(inner: W, registry: &'a Registry) -> Self {
        Self {
            inner,
            registry,
            buffered: Zeroizing::new(Vec::with_capacity(EVENT_BUFFER_CAPACITY)),
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
        let _ = self.write_scrubbed().and_then(|()| self.inner.flush());
    }
}

impl<W: Write> std::fmt::Debug for ScrubbingWriter<'_, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScrubbingWriter")
            .field("buffered_bytes", &self.buffered.len())
            .finish_non_exhaustive()
    }
}
