//! A kill -9 of the all-in-one `crm` process during keyed writes: after a restart every
//! request that got no answer is retried with its `Idempotency-Key` and is answered within
//! 10 s of the restart being ready; a request answered before the crash gets that same answer
//! again; and every write was applied exactly once.

use std::{
    collections::{BTreeMap, HashSet},
    net::TcpListener,
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use crm_platform::{auth::JwtSigner, config::Secret};
use crm_test_support::{
    TEST_JWT_SECRET, TestDatabase, nats_url, postgres_url, test_settings, unique_id, user,
};
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use tokio::process::{Child, Command};

/// Keyed lead captures sent in all.
const WRITES: usize = 240;
/// Sent at once.
const CONCURRENCY: usize = 24;
/// The process is killed once this many writes were answered.
const KILL_AFTER: usize = 60;
/// What the issue promises: every retry after a crash answered within this of the restart.
const ANSWERED_WITHIN: Duration = Duration::from_secs(10);

type HttpClient = Client<HttpConnector, Full<Bytes>>;

struct Suite {
    env: Vec<(String, String)>,
    base: String,
}

impl Suite {
    fn start(&self) -> Child {
        let mut command = Command::new(env!("CARGO_BIN_EXE_crm"));
        command
            .args(["serve", "--services", "all"])
            .envs(self.env.iter().map(|(key, value)| (key, value)))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        command.spawn().expect("start crm")
    }

    /// Waits until the front door answers (the restart is ready).
    async fn ready(&self, client: &HttpClient, child: &mut Child) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            assert!(
                child.try_wait().unwrap().is_none(),
                "crm exited before it was ready"
            );
            let request = http::Request::get(format!("{}/healthz", self.base))
                .body(Full::new(Bytes::new()))
                .unwrap();
            if let Ok(Ok(response)) =
                tokio::time::timeout(Duration::from_secs(1), client.request(request)).await
                && response.status() == 200
            {
                return;
            }
            assert!(Instant::now() < deadline, "crm did not become ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// One keyed capture; `None` when no answer came (connection refused or cut).
async fn send(
    client: &HttpClient,
    base: &str,
    token: &str,
    key: &str,
    body: &str,
) -> Option<(u16, bool, Bytes)> {
    let request = http::Request::post(format!("{base}/v1/leads"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(15), client.request(request))
        .await
        .ok()?
        .ok()?;
    let status = response.status().as_u16();
    let replayed = response.headers().contains_key("idempotency-replayed");
    let body = response.into_body().collect().await.ok()?.to_bytes();
    Some((status, replayed, body))
}

fn capture_body(index: usize) -> String {
    serde_json::json!({"lead": {
        "first_name": "Wei",
        "last_name": format!("Li {index}"),
        "email": format!("wei.{index}@crash{index}.example"),
        "company": format!("Crash Test {index} Ltd"),
    }})
    .to_string()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn after_a_kill_9_every_retry_is_answered_within_10_s_with_the_first_result_and_writes_once()
{
    let modules = crm::all_modules();
    let mut databases = Vec::new();
    for module in &modules {
        databases.push(TestDatabase::create(module.migrator).await);
    }
    let namespace = unique_id();
    let port = free_port();
    let mut env = vec![
        ("CRM_GRPC_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
        ("CRM_METRICS_ADDR".to_owned(), "off".to_owned()),
        (
            "CRM_GATEWAY_HTTP_ADDR".to_owned(),
            format!("127.0.0.1:{port}"),
        ),
        (
            "CRM_GATEWAY_RATE_LIMIT_PER_SECOND".to_owned(),
            "0".to_owned(),
        ),
        ("CRM_POSTGRES_URL".to_owned(), postgres_url()),
        ("CRM_NATS_URL".to_owned(), nats_url()),
        ("CRM_EVENT_NAMESPACE".to_owned(), namespace.clone()),
        ("CRM_JWT_KEYS".to_owned(), format!("test={TEST_JWT_SECRET}")),
        ("CRM_JWT_SIGNING_KEY_ID".to_owned(), "test".to_owned()),
        ("CRM_LOG".to_owned(), "warn".to_owned()),
    ];
    for (module, database) in modules.iter().zip(&databases) {
        env.push((
            format!("CRM_{}_DATABASE_URL", module.name.to_ascii_uppercase()),
            database.url.expose().to_owned(),
        ));
    }
    let urls: Vec<(&str, &Secret)> = modules
        .iter()
        .zip(&databases)
        .map(|(module, database)| (module.name, &database.url))
        .collect();
    let settings = test_settings(&namespace, &urls, &nats_url());
    let token = JwtSigner::new(&settings.jwt).unwrap().sign(
        &user("rep", "/northwind/east/east-1"),
        Duration::from_secs(600),
    );
    let suite = Suite {
        env,
        base: format!("http://127.0.0.1:{port}"),
    };
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: HttpClient = Client::builder(TokioExecutor::new()).build(connector);

    let mut child = suite.start();
    suite.ready(&client, &mut child).await;

    // Keyed writes, CONCURRENCY at a time, until the process is killed mid-run.
    let keys: Vec<String> = (0..WRITES)
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    let answered = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(0));
    let (kill_tx, kill_rx) = tokio::sync::oneshot::channel::<()>();
    let kill_tx = Arc::new(std::sync::Mutex::new(Some(kill_tx)));
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (client, base, token, keys) = (
            client.clone(),
            suite.base.clone(),
            token.clone(),
            keys.clone(),
        );
        let (answered, killed, next, kill_tx) = (
            answered.clone(),
            killed.clone(),
            next.clone(),
            kill_tx.clone(),
        );
        senders.spawn(async move {
            let mut results = Vec::new();
            while !killed.load(Ordering::SeqCst) {
                let index = next.fetch_add(1, Ordering::SeqCst);
                if index >= WRITES {
                    break;
                }
                let reply = send(&client, &base, &token, &keys[index], &capture_body(index)).await;
                if reply.is_some()
                    && answered.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER
                    && let Some(kill) = kill_tx.lock().unwrap().take()
                {
                    let _ = kill.send(());
                }
                results.push((index, reply));
            }
            results
        });
    }
    kill_rx.await.expect("enough writes were answered");
    child.start_kill().expect("kill -9");
    killed.store(true, Ordering::SeqCst);
    child.wait().await.unwrap();
    let mut first_answers: BTreeMap<usize, (u16, Bytes)> = BTreeMap::new();
    while let Some(results) = senders.join_next().await {
        for (index, reply) in results.unwrap() {
            if let Some((status, _, body)) = reply {
                first_answers.insert(index, (status, body));
            }
        }
    }
    let unanswered: Vec<usize> = (0..WRITES)
        .filter(|index| !first_answers.contains_key(index))
        .collect();
    assert!(
        !unanswered.is_empty(),
        "the kill came mid-run: some writes got no answer"
    );

    let leads = &databases[modules.iter().position(|m| m.name == "leads").unwrap()];
    let count_leads = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM leads")
            .fetch_one(&leads.pool)
            .await
            .unwrap() as usize
    };
    // Writes that committed in the service but whose answer never reached the client: their
    // retries are answered from the service's stored replies.
    let committed_unanswered = count_leads().await - first_answers.len();

    // Restart; retry every request with its key until it is answered.
    let mut child = suite.start();
    suite.ready(&client, &mut child).await;
    let ready = Instant::now();
    let mut retries = tokio::task::JoinSet::new();
    for (index, key) in keys.iter().cloned().enumerate() {
        let (client, base, token) = (client.clone(), suite.base.clone(), token.clone());
        retries.spawn(async move {
            loop {
                match send(&client, &base, &token, &key, &capture_body(index)).await {
                    // Still in flight (its first holder not yet found dead): as Retry-After says.
                    Some((409, _, _)) | None if ready.elapsed() < ANSWERED_WITHIN => {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    Some((status, replayed, body)) => {
                        return (index, status, replayed, body, ready.elapsed());
                    }
                    None => return (index, 0, false, Bytes::new(), ready.elapsed()),
                }
            }
        });
    }
    let mut lead_ids = HashSet::new();
    let mut slowest = Duration::ZERO;
    while let Some(result) = retries.join_next().await {
        let (index, status, replayed, body, after) = result.unwrap();
        slowest = slowest.max(after);
        assert_eq!(
            status,
            200,
            "write {index} answered {status} {:?} {after:?} after the restart",
            String::from_utf8_lossy(&body)
        );
        assert!(
            after <= ANSWERED_WITHIN,
            "write {index} was answered {after:?} after the restart"
        );
        if let Some((first_status, first_body)) = first_answers.get(&index) {
            assert!(replayed, "write {index} was answered before: a replay");
            assert_eq!(
                (*first_status, first_body),
                (status, &body),
                "write {index}: the replay is the first answer"
            );
        }
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        lead_ids.insert(json["lead"]["id"].as_str().unwrap().to_owned());
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();

    let stored: Vec<String> = sqlx::query_scalar("SELECT id::text FROM leads")
        .fetch_all(&leads.pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), WRITES, "each write applied exactly once");
    assert_eq!(
        stored.into_iter().collect::<HashSet<_>>(),
        lead_ids,
        "the answers name the stored leads"
    );
    eprintln!(
        "{} of {WRITES} writes unanswered at the kill ({committed_unanswered} of them committed); \
         every retry answered within {slowest:?} of the restart",
        unanswered.len()
    );
    assert_eq!(count_leads().await, WRITES);
}
