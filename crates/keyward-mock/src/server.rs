//! The HTTP side: an accept loop that serves each connection with hyper's connection API, so that
//! an injected fault can reset the very connection its request came on. Every request goes to
//! [`respond`](crate::respond::respond).

use crate::{respond, state::State};
use hyper::{server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use std::{
    convert::Infallible,
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::oneshot,
    task::JoinSet,
};

/// Serves until `stop` fires (or its sender is dropped), then stops accepting, lets every
/// connection finish the request it is answering, and returns.
pub(crate) async fn serve(listener: TcpListener, state: Arc<State>, stop: oneshot::Receiver<()>) -> io::Result<()> {
    let mut connections = JoinSet::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, Arc::clone(&state)));
                }
                // Out of file descriptors, or a connection that died in the backlog: the
                // listener itself is fine, so keep going after a breath.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    state.stopping.send_replace(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

async fn serve_connection(stream: TcpStream, state: Arc<State>) {
    let control = Arc::new(ConnectionControl::default());
    let io = TokioIo::new(ResettableStream {
        stream,
        control: Arc::clone(&control),
    });
    let mut stopping = state.stopping.subscribe();
    let service = service_fn(move |request| {
        let state = Arc::clone(&state);
        let control = Arc::clone(&control);
        async move { Ok::<_, Infallible>(respond::respond(&state, &control, request).await) }
    });
    let connection = http1::Builder::new().serve_connection(io, service);
    tokio::pin!(connection);
    tokio::select! {
        // Errors are the client's business (it hung up, or a fault reset the connection).
        _ = connection.as_mut() => {}
        _ = async { stopping.wait_for(|stopping| *stopping).await.is_ok() } => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

/// What a request's handling may do to the connection it came on.
#[derive(Debug, Default)]
pub(crate) struct ConnectionControl {
    reset: AtomicBool,
}

impl ConnectionControl {
    /// Resets the connection instead of sending the answer: the next read or write on it fails
    /// and the socket closes with a TCP RST.
    pub(crate) fn reset(&self) {
        self.reset.store(true, Ordering::SeqCst);
    }

    fn reset_requested(&self) -> bool {
        self.reset.load(Ordering::SeqCst)
    }
}

/// A TCP stream that a [`ConnectionControl`] can reset. hyper owns the stream while it serves the
/// connection, so the reset happens here, at its next use: a zero linger makes the close that
/// follows the error an RST rather than a FIN, as when a peer or middlebox drops a connection.
struct ResettableStream {
    stream: TcpStream,
    control: Arc<ConnectionControl>,
}

impl ResettableStream {
    fn reset_if_requested(&self) -> Option<io::Error> {
        if !self.control.reset_requested() {
            return None;
        }
        // If the option cannot be set the close is a FIN: still no answer, just a politer drop.
        let _ = self.stream.set_zero_linger();
        Some(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "connection reset by an injected fault",
        ))
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(error) = this.reset_if_requested() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(error) = this.reset_if_requested() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(error) = this.reset_if_requested() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut this.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(error) = this.reset_if_requested() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(error) = this.reset_if_requested() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut this.stream).poll_shutdown(cx)
    }
}
