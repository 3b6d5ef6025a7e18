//! The accept loop: HTTP/1.1 connections with a bounded count, a deadline for each request head
//! (which is also the idle keep-alive timeout), and a graceful shutdown with a deadline
//! (docs/operations.md, "Timeouts and limits"; docs/decisions.md, "Serving connections").
//!
//! At `max_connections` a new connection takes the place of the oldest one with no request in
//! flight (a half-sent or idle one, whose client loses nothing it was promised); when every
//! connection is busy the new one is answered 503 and closed. Shutdown stops accepting, gives
//! connections with no request in flight a second for a request already on its way (then closes
//! them), lets the others finish their request, and after `shutdown_timeout` closes whatever is
//! left.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

/// What the accept loop enforces; from `[server]` in the settings.
#[derive(Clone, Debug)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_timeout: Duration,
}

impl Limits {
    pub fn from_settings(server: &crate::config::ServerSettings) -> Self {
        Self {
            header_read_timeout: Duration::from_secs(server.header_read_timeout_seconds),
            max_connections: server.max_connections,
            shutdown_timeout: Duration::from_secs(server.shutdown_timeout_seconds),
        }
    }
}

/// A connection's read buffer never grows past this (request heads are far smaller; bodies are
/// streamed to the handler, which refuses more than the body limit).
const MAX_BUF_BYTES: usize = 64 * 1024;
/// At shutdown, how long a connection with nothing in flight is still read, for a request that
/// was already on its way when the signal came.
const IDLE_GRACE: Duration = Duration::from_millis(1000);
/// Connections answered 503 at once at most; beyond that they are closed without an answer.
const MAX_SHED_AT_ONCE: usize = 64;
const SHED_RESPONSE: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: text/plain\r\n\
Content-Length: 20\r\nConnection: close\r\n\r\nserver at capacity.\n";

struct Connection {
    /// Requests in flight on it (a response counts until its body has been handed to hyper).
    busy: Arc<AtomicUsize>,
    evict: Arc<Notify>,
    evicting: AtomicBool,
}

#[derive(Default)]
struct Registry {
    /// By arrival: the first entry is the oldest connection.
    open: Mutex<BTreeMap<u64, Connection>>,
}

impl Registry {
    fn count(&self) -> usize {
        self.open.lock().map_or(0, |open| open.len())
    }

    fn add(&self, id: u64) -> (Arc<AtomicUsize>, Arc<Notify>) {
        let busy = Arc::new(AtomicUsize::new(0));
        let evict = Arc::new(Notify::new());
        if let Ok(mut open) = self.open.lock() {
            open.insert(
                id,
                Connection { busy: busy.clone(), evict: evict.clone(), evicting: AtomicBool::new(false) },
            );
        }
        (busy, evict)
    }

    fn remove(&self, id: u64) {
        if let Ok(mut open) = self.open.lock() {
            open.remove(&id);
        }
    }

    /// Asks the oldest connection with no request in flight to close; false when all are busy.
    fn evict_oldest_idle(&self) -> bool {
        let Ok(open) = self.open.lock() else { return false };
        for connection in open.values() {
            if connection.busy.load(Ordering::Acquire) == 0
                && !connection.evicting.swap(true, Ordering::AcqRel)
            {
                connection.evict.notify_one();
                return true;
            }
        }
        false
    }

    /// Connections not yet asked to close.
    fn admitted(&self) -> usize {
        self.open
            .lock()
            .map_or(0, |open| open.values().filter(|c| !c.evicting.load(Ordering::Acquire)).count())
    }
}

/// Counts a request in flight on its connection until dropped.
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn new(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::AcqRel);
        Self(counter.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then shuts down as described above.
pub async fn run(
    listener: TcpListener,
    app: crate::http::App,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let registry = Arc::new(Registry::default());
    let shed = Arc::new(Semaphore::new(MAX_SHED_AT_ONCE));
    let (stop, stopping) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut next_id: u64 = 0;
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_BUF_BYTES);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        while tasks.try_join_next().is_some() {}
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of file descriptors, say: wait a little rather than spin.
                tracing::warn!(error = %err, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if registry.admitted() >= limits.max_connections && !registry.evict_oldest_idle() {
            tracing::debug!(%peer, "every connection busy: answering 503");
            if let Ok(permit) = shed.clone().try_acquire_owned() {
                tasks.spawn(async move {
                    let _permit = permit;
                    shed_connection(stream).await;
                });
            }
            continue;
        }
        next_id += 1;
        let id = next_id;
        let (busy, evict) = registry.add(id);
        let service = {
            let (app, busy, stopping) = (app.clone(), busy.clone(), stopping.clone());
            hyper::service::service_fn(move |request| {
                handle(app.clone(), peer, busy.clone(), stopping.clone(), request)
            })
        };
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let registry = registry.clone();
        let mut stopping = stopping.clone();
        tasks.spawn(async move {
            tokio::pin!(connection);
            enum End {
                Done,
                Evicted,
                Stopping,
            }
            let end = tokio::select! {
                result = connection.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(%peer, error = %err, "connection ended");
                    }
                    End::Done
                }
                () = evict.notified() => End::Evicted,
                _ = stopping.wait_for(|stop| *stop) => End::Stopping,
            };
            let idle = || busy.load(Ordering::Acquire) == 0;
            match end {
                End::Done => {}
                // Nothing in flight (idle, or a half-sent head): dropped, its client was
                // promised nothing.
                End::Evicted if idle() => {}
                End::Stopping if idle() => {
                    // A request may be on its way on this kept-alive connection (sent as the
                    // signal came): it is served, with `Connection: close`, if its head arrives
                    // within the grace; otherwise the connection is dropped.
                    let grace = tokio::time::sleep(IDLE_GRACE);
                    tokio::pin!(grace);
                    let mut tick = tokio::time::interval(Duration::from_millis(20));
                    let started = loop {
                        tokio::select! {
                            _ = connection.as_mut() => break false,
                            () = &mut grace => break false,
                            _ = tick.tick() => if !idle() { break true },
                        }
                    };
                    if started {
                        connection.as_mut().graceful_shutdown();
                        let _ = connection.await;
                    }
                }
                // A request in flight finishes first, then the connection closes.
                End::Evicted | End::Stopping => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            registry.remove(id);
        });
    }
    drop(listener);
    let open = registry.count();
    tracing::info!(open_connections = open, "no longer accepting connections; finishing requests in flight");
    let _ = stop.send(true);
    let drained =
        tokio::time::timeout(limits.shutdown_timeout, async { while tasks.join_next().await.is_some() {} })
            .await;
    if drained.is_err() {
        tracing::warn!(
            left = registry.count(),
            timeout_seconds = limits.shutdown_timeout.as_secs(),
            "shutdown deadline reached: closing the connections left"
        );
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
    Ok(())
}

/// The router for one connection: the peer address for `ConnectInfo`, and each request counted
/// as in flight until its response body is done.
async fn handle(
    mut app: crate::http::App,
    peer: SocketAddr,
    busy: Arc<AtomicUsize>,
    stopping: watch::Receiver<bool>,
    mut request: hyper::Request<Incoming>,
) -> Result<axum::response::Response, Infallible> {
    let guard = Busy::new(&busy);
    request.extensions_mut().insert(ConnectInfo(peer));
    let mut response = app.call(request.map(axum::body::Body::new)).await;
    // Shutting down: this connection closes after the response (hyper honours the header).
    if *stopping.borrow() {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    Ok(response.map(move |body| {
        axum::body::Body::new(body.map_frame(move |frame| {
            let _in_flight = &guard;
            frame
        }))
    }))
}

/// Answers 503 on a connection there is no room for, and closes it.
async fn shed_connection(mut stream: TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(SHED_RESPONSE).await;
        let _ = stream.shutdown().await;
    })
    .await;
}
