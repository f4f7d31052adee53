//! PostgreSQL: one database per service, created if missing, migrated from `migrations/`.

use std::{str::FromStr, time::Duration};

use sqlx::{
    ConnectOptions, Connection, PgPool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::config::Secret;

/// The platform's own tables (outbox, inbox), present in every service database.
pub fn platform_migrator() -> Migrator {
    sqlx::migrate!("../../migrations/platform")
}

/// Creates the database named in `url` when it does not exist yet (connecting to the server's
/// `postgres` database to do so).
pub async fn ensure_database(url: &Secret) -> anyhow::Result<()> {
    let options = PgConnectOptions::from_str(url.expose())?;
    let database = options
        .get_database()
        .ok_or_else(|| anyhow::anyhow!("database URL names no database"))?
        .to_owned();
    let mut admin = options.clone().database("postgres").connect().await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&database)
            .fetch_one(&mut admin)
            .await?;
    if !exists {
        let statement = format!("CREATE DATABASE \"{}\"", database.replace('"', "\"\""));
        match sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut admin)
            .await
        {
            Ok(_) => tracing::info!(database, "created database"),
            // Another process created it between our check and our create.
            Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("42P04") => {}
            Err(error) => return Err(error.into()),
        }
    }
    admin.close().await?;
    Ok(())
}

/// A pooled connection idle for this long is pinged before it is handed out.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// Opens a pool to one service database.
pub async fn connect(url: &Secret, max_connections: u32) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(url.expose())?;
    // No ping before each checkout of a busy connection: it costs a round trip on every
    // transaction (sqlx pings on release anyway). A connection idle for longer may have been
    // cut while it waited (a database restart, a failover, a proxy's idle timeout) and is
    // pinged first, so that the first requests after an outage do not fail on dead
    // connections.
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for < PING_WHEN_IDLE_FOR {
                    return Ok(true);
                }
                Ok(connection.ping().await.is_ok())
            })
        })
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await?;
    warn_without_autovacuum(&pool).await;
    Ok(pool)
}

/// Says so when the server does not vacuum and analyse by itself. The outbox, the inbox and
/// the read models grow by thousands of rows a minute; without autovacuum their statistics,
/// and the plans PostgreSQL caches on them, stay those of their first minutes: a sequential
/// scan chosen for an empty table is kept for a million rows (seen on a server with it off:
/// forecasting's read of a batch's 100 deals scanned all 100,000 rows instead of the index).
/// Said once a process: the all-in-one `crm` opens a pool per service on one server.
async fn warn_without_autovacuum(pool: &PgPool) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if WARNED.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let setting = sqlx::query_scalar::<_, String>("SELECT current_setting('autovacuum')")
        .fetch_one(pool)
        .await;
    if matches!(setting.as_deref(), Ok("off"))
        && !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        tracing::warn!(
            "PostgreSQL runs with autovacuum off: query plans will not follow the tables' growth; turn it on (docs/operations.md)"
        );
    }
}

/// Applies the platform's migrations and then the service's. Each migrator ignores the other's
/// versions in the shared `_sqlx_migrations` table.
pub async fn migrate(pool: &PgPool, service_migrator: fn() -> Migrator) -> anyhow::Result<()> {
    for make_migrator in [platform_migrator, service_migrator] {
        let mut migrator = make_migrator();
        migrator.set_ignore_missing(true);
        migrator.run(pool).await?;
    }
    Ok(())
}

/// Makes the transaction just begun read one snapshot: a report's queries then agree with
/// each other while events and writes commit beside it.
pub async fn read_one_snapshot(connection: &mut sqlx::PgConnection) -> sqlx::Result<()> {
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(connection)
        .await?;
    Ok(())
}
