//! `idle-rss`: resident memory of a service process at rest — the release `crm-accounts`
//! binary (one service, the Kubernetes shape) and `crm serve --services all`, each started
//! against fresh databases, left idle, then read from /proc.

use std::{path::PathBuf, process::Stdio, time::Duration};

use crm_test_support::{TestDatabase, unique_id};

use crate::{
    report::{Row, ScenarioReport, Target},
    setup,
};

/// How long a process idles before it is measured.
const SETTLE: Duration = Duration::from_secs(8);

/// A sibling binary of this one (same target directory).
fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::current_exe()?
        .parent()
        .ok_or_else(|| anyhow::anyhow!("crm-bench has no directory"))?
        .join(name);
    anyhow::ensure!(
        path.exists(),
        "{} not found: build it with `cargo build --release -p {}`",
        path.display(),
        name
    );
    Ok(path)
}

/// Starts `program args` against fresh databases for `services`, lets it settle, and returns
/// its resident set in MiB.
async fn idle_rss(
    program: &str,
    args: &[&str],
    services: &[crm_platform::host::ServiceModule],
) -> anyhow::Result<f64> {
    let mut command = tokio::process::Command::new(binary(program)?);
    let mut databases = Vec::new();
    for service in services {
        let database = TestDatabase::create(service.migrator).await;
        command.env(
            format!("CRM_{}_DATABASE_URL", service.name.to_ascii_uppercase()),
            database.url.expose(),
        );
        databases.push(database);
    }
    let mut child = command
        .args(args)
        .env("CRM_GRPC_ADDR", "127.0.0.1:0")
        .env("CRM_METRICS_ADDR", "127.0.0.1:0")
        .env("CRM_EVENT_NAMESPACE", unique_id())
        .env("CRM_NATS_URL", crm_test_support::nats_url())
        .env(
            "CRM_JWT_KEYS",
            format!("bench={}", crm_test_support::TEST_JWT_SECRET),
        )
        // The gateway signs tokens, and its front door must not collide with a running suite.
        .env("CRM_JWT_SIGNING_KEY_ID", "bench")
        .env("CRM_GATEWAY_HTTP_ADDR", "127.0.0.1:0")
        .env("CRM_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    tokio::time::sleep(SETTLE).await;
    if let Some(status) = child.try_wait()? {
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            use tokio::io::AsyncReadExt;
            let _ = pipe.read_to_string(&mut stderr).await;
        }
        anyhow::bail!("{program} exited early ({status}): {}", stderr.trim());
    }
    let pid = child
        .id()
        .ok_or_else(|| anyhow::anyhow!("{program} exited early"))?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rss_kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS for {program}"))?;
    child.kill().await?;
    for database in databases {
        database.pool.close().await;
        let _ = setup::drop_database(&database.name).await;
    }
    Ok(rss_kib / 1024.0)
}

pub async fn run() -> anyhow::Result<ScenarioReport> {
    let one = idle_rss("crm-accounts", &["serve"], &[crm_accounts::module()]).await?;
    let all = idle_rss(
        "crm",
        &["serve", "--services", "all"],
        &[
            crm_gateway::module(),
            crm_accounts::module(),
            crm_leads::module(),
        ],
    )
    .await?;
    let mut report = ScenarioReport::new(
        "idle-rss",
        format!("resident memory after {} s idle", SETTLE.as_secs()),
        "process",
        "—",
    );
    report
        .row(Row::new("crm-accounts serve", "MiB", Some(one), None).target(Target::AtMost(50.0)))
        .row(Row::new("crm serve --services all (gateway, accounts, leads)", "MiB", Some(all), None).target(Target::AtMost(50.0)))
        .note("VmRSS from /proc/<pid>/status; each process connected to PostgreSQL and NATS, relays and consumers running");
    Ok(report)
}
