//! A database outage on demand: a TCP forwarder between the services' pools and the test
//! PostgreSQL that a test cuts and restores, without stopping the server the other tests
//! share. A cut does what a server shutting down does: each open connection gets the FATAL
//! error `57P01` (admin shutdown) and is closed; new connections are closed as soon as they are
//! accepted, as by a server that went away.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use crm_platform::{config::Secret, host};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::watch,
    task::JoinHandle,
};

use crate::{TestApp, nats_url, postgres_url};

/// A forwarder to the test PostgreSQL; see the module documentation.
pub struct PgProxy {
    addr: SocketAddr,
    state: Arc<ProxyState>,
    accepting: JoinHandle<()>,
}

struct ProxyState {
    cut: AtomicBool,
    /// Counts the cuts: a forwarded connection ends when it changes.
    cuts: watch::Sender<u64>,
}

impl Drop for PgProxy {
    fn drop(&mut self) {
        self.accepting.abort();
        self.state.cuts.send_modify(|cuts| *cuts += 1);
    }
}

impl PgProxy {
    /// Listens on a free local port and forwards to the server of [`postgres_url`].
    pub async fn start() -> Self {
        let upstream = upstream_address();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let state = Arc::new(ProxyState {
            cut: AtomicBool::new(false),
            cuts: watch::Sender::new(0),
        });
        let accepting = tokio::spawn(accept(listener, upstream, state.clone()));
        Self {
            addr,
            state,
            accepting,
        }
    }

    /// The URL of `database` through the proxy (the test server's user and options).
    pub fn url(&self, database: &str) -> Secret {
        let server = postgres_url();
        let (scheme, rest) = server.split_once("://").expect("a postgres:// URL");
        let user = rest.rsplit_once('@').map(|(user, _)| format!("{user}@"));
        Secret::new(format!(
            "{scheme}://{}{}/{database}",
            user.unwrap_or_default(),
            self.addr
        ))
    }

    /// The outage: open connections are told the server is shutting down and closed, new ones
    /// closed at once.
    pub fn cut(&self) {
        self.state.cut.store(true, Ordering::SeqCst);
        self.state.cuts.send_modify(|cuts| *cuts += 1);
    }

    /// The database is back: new connections are forwarded again.
    pub fn restore(&self) {
        self.state.cut.store(false, Ordering::SeqCst);
    }
}

async fn accept(listener: TcpListener, upstream: String, state: Arc<ProxyState>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        if state.cut.load(Ordering::SeqCst) {
            drop(client);
            continue;
        }
        let mut cuts = state.cuts.subscribe();
        let upstream = upstream.clone();
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(&upstream).await else {
                return;
            };
            let (mut client, mut server) = (client, server);
            tokio::select! {
                _ = cuts.changed() => {}
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => return,
            }
            drop(server);
            shut_down(client).await;
        });
    }
}

/// What PostgreSQL sends a connection when it shuts down: an ErrorResponse (FATAL, SQLSTATE
/// 57P01), then end of stream. The client's next statement is read out until it hangs up, so
/// that it reads the error rather than a reset.
async fn shut_down(mut client: TcpStream) {
    let mut fields = Vec::new();
    for (kind, value) in [
        (b'S', "FATAL"),
        (b'V', "FATAL"),
        (b'C', "57P01"),
        (b'M', "terminating connection due to administrator command"),
    ] {
        fields.push(kind);
        fields.extend_from_slice(value.as_bytes());
        fields.push(0);
    }
    fields.push(0);
    let mut message = vec![b'E'];
    message.extend_from_slice(&(fields.len() as u32 + 4).to_be_bytes());
    message.extend_from_slice(&fields);
    if client.write_all(&message).await.is_err() || client.shutdown().await.is_err() {
        return;
    }
    let mut sink = [0; 1024];
    let drain = async { while matches!(client.read(&mut sink).await, Ok(read) if read > 0) {} };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), drain).await;
}

/// `host:port` of the test server.
fn upstream_address() -> String {
    let server = postgres_url();
    let (_, rest) = server.split_once("://").expect("a postgres:// URL");
    let host_port = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let host_port = host_port.split(['/', '?']).next().unwrap_or(host_port);
    if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    }
}

impl TestApp {
    /// [`TestApp::spawn_with`], with every service's database reached through `proxy`, so that
    /// the test can cut it. The databases are created and migrated directly.
    pub async fn spawn_through(
        proxy: &PgProxy,
        modules: &[host::ServiceModule],
        overrides: &[(&str, &str)],
    ) -> Self {
        let databases = Self::databases_for(modules).await;
        let proxied: Vec<Secret> = databases
            .iter()
            .map(|database| proxy.url(&database.name))
            .collect();
        Self::start_on(modules, databases, &proxied, &nats_url(), overrides).await
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    use super::*;

    #[tokio::test]
    async fn a_cut_proxy_refuses_the_database_until_restored() {
        let proxy = PgProxy::start().await;
        let url = proxy.url("postgres");
        let mut connection = sqlx::PgConnection::connect(url.expose())
            .await
            .expect("through the proxy");
        sqlx::query("SELECT 1")
            .execute(&mut connection)
            .await
            .unwrap();

        proxy.cut();

        let error = sqlx::query("SELECT 1")
            .execute(&mut connection)
            .await
            .expect_err("the open connection is closed");
        assert_eq!(
            error
                .as_database_error()
                .and_then(|error| error.code())
                .as_deref(),
            Some("57P01"),
            "as by a server shutting down: {error}"
        );
        assert!(sqlx::PgConnection::connect(url.expose()).await.is_err());
        proxy.restore();
        let mut again = sqlx::PgConnection::connect(url.expose())
            .await
            .expect("restored");
        sqlx::query("SELECT 1").execute(&mut again).await.unwrap();
    }
}
