//! What a test leaves behind, removed when it ends: its databases and its JetStream streams
//! (those of its namespace). `Drop` cannot await, and the test's own runtime cannot be
//! re-entered from inside it, so one cleaner thread per test process, with a runtime and a
//! connection of its own, does the work. The dropping test waits only for what is quick — its
//! streams deleted, its databases marked ended (a comment on the database) — and the cleaner
//! drops the databases in the background (`DROP DATABASE … WITH (FORCE)`, which ends the
//! connections left, waits for a checkpoint and so takes a while). This holds for a test that
//! panicked too, since values are dropped while a panic unwinds. What a process did not get
//! to drop before it exited is marked ended, and the next test process drops it at start, as
//! it drops what a killed run left (databases and streams over an hour old).

use std::{sync::OnceLock, time::Duration};

use futures::StreamExt;
use sqlx::{PgPool, postgres::PgPoolOptions};
use tokio::sync::mpsc;

/// How long a dropping test waits for its part of the cleanup at most.
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(15);

/// The comment that marks a test database whose test has ended.
const ENDED: &str = "crmtest ended";

/// Set (to anything) to keep each test's databases and streams for a look after the run.
pub const KEEP_VARIABLE: &str = "CRM_TEST_KEEP";

/// Whether tests keep what they made (see [`KEEP_VARIABLE`]).
pub fn keep() -> bool {
    std::env::var_os(KEEP_VARIABLE).is_some()
}

enum Job {
    /// A test ended: delete its streams and mark its databases, answer, then drop them.
    Ended {
        databases: Vec<String>,
        /// The NATS URL and the event namespace.
        streams: Option<(String, String)>,
        done: std::sync::mpsc::Sender<()>,
    },
    /// Drop what earlier processes left (on the first database or app of this one).
    Sweep { nats_url: Option<String> },
}

/// The process's cleaner; `None` when it could not be started.
fn cleaner() -> Option<&'static mpsc::UnboundedSender<Job>> {
    static CLEANER: OnceLock<Option<mpsc::UnboundedSender<Job>>> = OnceLock::new();
    CLEANER
        .get_or_init(|| {
            let (jobs, queue) = mpsc::unbounded_channel();
            std::thread::Builder::new()
                .name("crm-test-cleaner".to_owned())
                .spawn(move || run_cleaner(queue))
                .map_err(|error| eprintln!("test cleaner not started: {error}"))
                .ok()?;
            Some(jobs)
        })
        .as_ref()
}

fn run_cleaner(mut queue: mpsc::UnboundedReceiver<Job>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return eprintln!("test cleaner has no runtime: {error}"),
    };
    runtime.block_on(async move {
        // Lazy: a process whose tests make no database connects nowhere.
        let server = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_lazy(&format!("{}/postgres", crate::postgres_url()));
        let Ok(server) = server else {
            return eprintln!("test cleaner: the PostgreSQL URL does not parse");
        };
        while let Some(job) = queue.recv().await {
            match job {
                Job::Ended {
                    databases,
                    streams,
                    done,
                } => {
                    for name in &databases {
                        report(name, mark_ended(&server, name).await);
                    }
                    if let Some((nats_url, namespace)) = streams {
                        report(
                            &namespace,
                            delete_streams(nats_url, namespace.clone()).await,
                        );
                    }
                    let _ = done.send(());
                    for name in databases {
                        tokio::spawn(drop_database(server.clone(), name));
                    }
                }
                Job::Sweep { nats_url } => {
                    report("stale test databases", sweep_databases(&server).await);
                    if let Some(nats_url) = nats_url {
                        report("stale test streams", sweep_stale_streams(&nats_url).await);
                    }
                }
            }
        }
    });
}

fn report(what: &str, result: anyhow::Result<()>) {
    if let Err(error) = result {
        eprintln!("test cleanup of {what}: {error:#}");
    }
}

/// The test that owned `databases` (and the streams of `streams`: NATS URL, namespace) has
/// ended: returns once its streams are deleted and its databases marked, which the cleaner
/// then drops. Never panics: a cleanup that fails is reported on stderr and left to a sweep.
pub fn test_ended(databases: Vec<String>, streams: Option<(String, String)>) {
    if keep() || (databases.is_empty() && streams.is_none()) {
        return;
    }
    let Some(cleaner) = cleaner() else {
        return;
    };
    let (done, finished) = std::sync::mpsc::channel();
    let job = Job::Ended {
        databases,
        streams,
        done,
    };
    if cleaner.send(job).is_err() {
        return eprintln!("test cleaner has stopped");
    }
    if finished.recv_timeout(CLEANUP_TIMEOUT).is_err() {
        eprintln!("test cleanup did not answer in {CLEANUP_TIMEOUT:?}");
    }
}

/// Has the cleaner drop, in the background, the test databases and (with a NATS URL) the test
/// streams earlier processes left: once per process for databases, and once for streams.
pub fn sweep(nats_url: Option<&str>) {
    static DATABASES: OnceLock<()> = OnceLock::new();
    static STREAMS: OnceLock<()> = OnceLock::new();
    if keep() {
        return;
    }
    let first_for_streams = nats_url.is_some() && STREAMS.set(()).is_ok();
    let first_for_databases = DATABASES.set(()).is_ok();
    if !first_for_streams && !first_for_databases {
        return;
    }
    if let Some(cleaner) = cleaner() {
        let _ = cleaner.send(Job::Sweep {
            nats_url: nats_url.filter(|_| first_for_streams).map(str::to_owned),
        });
    }
}

async fn mark_ended(server: &PgPool, name: &str) -> anyhow::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "COMMENT ON DATABASE \"{name}\" IS '{ENDED}'"
    )))
    .execute(server)
    .await?;
    Ok(())
}

async fn drop_database(server: PgPool, name: String) {
    let dropped = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&server)
    .await;
    if let Err(error) = dropped {
        // Another process's sweep may be dropping it at the same time.
        eprintln!("test database {name} not dropped: {error}");
    }
}

/// Test databases whose test ended, and those over an hour old (of runs that were killed).
async fn sweep_databases(server: &PgPool) -> anyhow::Result<()> {
    let left: Vec<String> = sqlx::query_scalar(
        "SELECT d.datname FROM pg_database d \
         WHERE d.datname LIKE 'crmtest\\_%' \
         AND (shobj_description(d.oid, 'pg_database') = $1 \
              OR (pg_stat_file('base/' || d.oid || '/PG_VERSION')).modification < now() - interval '1 hour')",
    )
    .bind(ENDED)
    .fetch_all(server)
    .await?;
    for name in left {
        tokio::spawn(drop_database(server.clone(), name));
    }
    Ok(())
}

/// The JetStream context of a new connection to `nats_url`, failing fast when it is down.
async fn jetstream(nats_url: &str) -> anyhow::Result<async_nats::jetstream::Context> {
    let client = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        .connect(nats_url)
        .await?;
    Ok(async_nats::jetstream::new(client))
}

/// Names of the streams that hold subjects under `namespace.` — the namespace's streams.
async fn namespace_streams(
    jetstream: &async_nats::jetstream::Context,
    namespace: &str,
) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    loop {
        let page: serde_json::Value = jetstream
            .request(
                "STREAM.NAMES",
                &serde_json::json!({"offset": names.len(), "subject": format!("{namespace}.>")}),
            )
            .await?;
        if let Some(error) = page.get("error") {
            anyhow::bail!("listing streams: {error}");
        }
        let streams: Vec<String> = page["streams"]
            .as_array()
            .map(|streams| {
                streams
                    .iter()
                    .filter_map(|name| name.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let total = page["total"].as_u64().unwrap_or(0) as usize;
        let last_page = streams.is_empty();
        names.extend(streams);
        if last_page || names.len() >= total {
            return Ok(names);
        }
    }
}

/// Deletes every stream of the event namespace `namespace` on `nats_url`.
pub async fn delete_streams(nats_url: String, namespace: String) -> anyhow::Result<()> {
    let jetstream = jetstream(&nats_url).await?;
    for name in namespace_streams(&jetstream, &namespace).await? {
        jetstream.delete_stream(&name).await?;
    }
    Ok(())
}

/// Deletes the streams of test namespaces ([`crate::unique_id`]: `T` and 12 hex digits, upper
/// case in a stream's name) created over an hour ago: those of runs that were killed.
async fn sweep_stale_streams(nats_url: &str) -> anyhow::Result<()> {
    let jetstream = jetstream(nats_url).await?;
    let mut names = Vec::new();
    let mut listing = jetstream.stream_names();
    while let Some(name) = listing.next().await {
        names.push(name?);
    }
    let cutoff = chrono::Utc::now().timestamp() - 3600;
    for name in names.into_iter().filter(|name| is_test_stream(name)) {
        let Ok(mut stream) = jetstream.get_stream(&name).await else {
            continue;
        };
        let created = match stream.info().await {
            Ok(info) => info.created.unix_timestamp(),
            Err(_) => continue,
        };
        if created < cutoff {
            let _ = jetstream.delete_stream(&name).await;
        }
    }
    Ok(())
}

/// `T0123456789AB_CRM_LEADS`: a stream of a test namespace.
fn is_test_stream(name: &str) -> bool {
    let Some((namespace, rest)) = name.split_once('_') else {
        return false;
    };
    let Some(id) = namespace.strip_prefix('T') else {
        return false;
    };
    rest.starts_with("CRM_")
        && id.len() == 12
        && id
            .chars()
            .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_test_namespaces_streams_are_swept() {
        assert!(is_test_stream("T0123456789AB_CRM_LEADS"));
        assert!(is_test_stream("T01AE150A4E87_CRM_DEADLETTER"));
        assert!(!is_test_stream("CRM_LEADS"));
        assert!(!is_test_stream("FUZZ19239_CRM_LEADS"));
        assert!(!is_test_stream("T0123_CRM_LEADS"));
        assert!(!is_test_stream("T0123456789AB_ORDERS"));
    }
}
