//! A TCP relay in front of moto that lets one instance's AWS calls through until a chosen request,
//! then stalls: the instance waits on that call for ever, as if the network or the store hung, until
//! the check kills it. What happened to the request before the stall is chosen too. In front of
//! PostgreSQL it can freeze every connection at once, as a network partition would.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// Where the relay stalls.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Tripwire {
    /// The request that copies an object (`x-amz-copy-source`) never reaches the store.
    BeforeCopy,
    /// The store copies the object; its answer never comes back.
    AfterCopy,
    /// The store deletes the object (`DELETE`); its answer never comes back.
    AfterDelete,
    /// CloudFront records the invalidation; its answer never comes back.
    AfterInvalidation,
    /// Nothing trips it; only [`Stall::freeze`] stops the traffic.
    Never,
}

impl Tripwire {
    fn matches(self, head: &[u8]) -> bool {
        let text = String::from_utf8_lossy(head).to_ascii_lowercase();
        match self {
            Self::BeforeCopy | Self::AfterCopy => {
                text.starts_with("put ") && text.contains("\r\nx-amz-copy-source:")
            }
            Self::AfterDelete => text.starts_with("delete "),
            Self::AfterInvalidation => text.starts_with("post ") && text.contains("/invalidation "),
            Self::Never => false,
        }
    }

    fn forwards_the_request(self) -> bool {
        !matches!(self, Self::BeforeCopy)
    }
}

/// The relay: its port, and a signal once it has stalled.
pub(crate) struct Stall {
    port: u16,
    frozen: Arc<AtomicBool>,
    cut: Arc<AtomicBool>,
    cutting: Arc<Notify>,
    tripped: Arc<Notify>,
    has_tripped: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Stall {
    /// Relays to `upstream` (`127.0.0.1:port`) until `tripwire` is met, once.
    pub(crate) async fn start(upstream: u16, tripwire: Tripwire) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the relay");
        let port = listener.local_addr().expect("relay address").port();
        let tripped = Arc::new(Notify::new());
        let has_tripped = Arc::new(AtomicBool::new(false));
        let frozen = Arc::new(AtomicBool::new(false));
        let cut = Arc::new(AtomicBool::new(false));
        let cutting = Arc::new(Notify::new());
        let (signal, flag, ice, scissors, snip) = (
            Arc::clone(&tripped),
            Arc::clone(&has_tripped),
            Arc::clone(&frozen),
            Arc::clone(&cut),
            Arc::clone(&cutting),
        );
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let wires = Wires {
                    tripwire,
                    tripped: Arc::clone(&signal),
                    has_tripped: Arc::clone(&flag),
                    frozen: Arc::clone(&ice),
                    cut: Arc::clone(&scissors),
                    cutting: Arc::clone(&snip),
                };
                tokio::spawn(relay(client, upstream, wires));
            }
        });
        Self {
            port,
            frozen,
            cut,
            cutting,
            tripped,
            has_tripped,
            task,
        }
    }

    /// `http://127.0.0.1:{port}`.
    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The relay's port.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Closes every connection and refuses new ones until [`Stall::mend`]: the store is down.
    pub(crate) fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.cutting.notify_waiters();
    }

    /// Relays again after [`Stall::cut`].
    pub(crate) fn mend(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }

    /// From now on nothing passes either way, and no connection closes: a network partition.
    pub(crate) fn freeze(&self) {
        self.frozen.store(true, Ordering::SeqCst);
    }

    /// Waits until a request met the tripwire.
    pub(crate) async fn tripped(&self) {
        let notified = self.tripped.notified();
        if !self.has_tripped.load(Ordering::SeqCst) {
            tokio::time::timeout(std::time::Duration::from_secs(30), notified)
                .await
                .expect("the tripwire was not met within 30 s");
        }
    }
}

impl Drop for Stall {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What a relay connection watches for.
struct Wires {
    tripwire: Tripwire,
    tripped: Arc<Notify>,
    has_tripped: Arc<AtomicBool>,
    frozen: Arc<AtomicBool>,
    cut: Arc<AtomicBool>,
    cutting: Arc<Notify>,
}

/// Relays one connection. The SDK sends one request at a time on a connection and waits for its
/// answer, so a read holding a request's head holds no other request.
async fn relay(client: TcpStream, upstream: u16, wires: Wires) {
    // Registered before the check, so a cut between the two is not missed.
    let cutting = wires.cutting.notified();
    if wires.cut.load(Ordering::SeqCst) {
        return;
    }
    tokio::select! {
        () = pass(client, upstream, &wires) => {}
        () = cutting => {}
    }
}

/// Relays until either side closes, unless frozen or stalled by the tripwire.
async fn pass(mut client: TcpStream, upstream: u16, wires: &Wires) {
    if wires.frozen.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.split();
    let (mut server_read, mut server_write) = server.split();
    let stalled = AtomicBool::new(false);
    let up = async {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = match client_read.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if wires.frozen.load(Ordering::SeqCst) {
                std::future::pending::<()>().await;
            }
            let chunk = &buffer[..n];
            let trip = !wires.has_tripped.load(Ordering::SeqCst) && wires.tripwire.matches(chunk);
            if trip {
                wires.has_tripped.store(true, Ordering::SeqCst);
                stalled.store(true, Ordering::SeqCst);
                if wires.tripwire.forwards_the_request() && server_write.write_all(chunk).await.is_err() {
                    return;
                }
                wires.tripped.notify_waiters();
                std::future::pending::<()>().await;
            }
            if server_write.write_all(chunk).await.is_err() {
                return;
            }
        }
    };
    let down = async {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = match server_read.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if stalled.load(Ordering::SeqCst) || wires.frozen.load(Ordering::SeqCst) {
                std::future::pending::<()>().await;
            }
            if client_write.write_all(&buffer[..n]).await.is_err() {
                return;
            }
        }
    };
    tokio::join!(up, down);
}
