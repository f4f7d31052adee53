//! Knowledge search (issue [knowledge] item 7): 100,000 generated articles in English, Chinese
//! and both, loaded as the service writes them (each article's rows and its `article_changed`
//! in one transaction, through the outbox) and followed into the search index by the service's
//! keeper; then, once the machine is quiet (the index's merges done), SearchArticles at 16
//! concurrent clients over gRPC, against a plain `ILIKE` scan
//! of the same rows for the same queries (the raw baseline); then 10,000 of the articles
//! changed and the time until the index has caught up with all of them (the last changed one
//! found by its new word).
//!
//! Texts are drawn from a small vocabulary of selling words in both languages, by each
//! article's number, so every run has the same data — and long posting lists, the hard case.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use crm_platform::{
    auth::Role,
    outbox::{Aggregate, Outbox},
    time::to_timestamp,
};
use crm_proto::crm::knowledge::v1::{self as pb, search_service_client::SearchServiceClient};
use crm_test_support::authorized;
use tokio::time::Instant;
use uuid::Uuid;

use crate::{
    measure::{Latencies, until_quiet},
    opportunities::{Hosted, Person},
    report::{Row, ScenarioReport, latency_rows},
};

/// Articles loaded.
const ARTICLES: usize = 100_000;
/// Articles changed for the catch-up.
const CHANGED: usize = 10_000;
/// Concurrent search clients.
const CLIENTS: usize = 16;
/// Rows per load transaction.
const CHUNK: usize = 2_000;
/// The goal of the issue.
const P95_GOAL_MS: f64 = 20.0;

const ENGLISH: &[&str] = &[
    "proposal",
    "budget",
    "decision",
    "maker",
    "procurement",
    "discount",
    "pricing",
    "uptime",
    "service",
    "contract",
    "renewal",
    "pilot",
    "demo",
    "integration",
    "robot",
    "conveyor",
    "vision",
    "quality",
    "scrap",
    "throughput",
    "payback",
    "reference",
    "customer",
    "plant",
    "line",
    "shift",
    "maintenance",
    "support",
    "warranty",
    "delivery",
    "lead",
    "time",
    "competitor",
    "objection",
    "training",
    "onboarding",
    "forecast",
    "pipeline",
    "stage",
    "negotiation",
    "committee",
    "sponsor",
    "champion",
    "risk",
    "value",
    "ownership",
    "cost",
    "automation",
    "software",
    "licence",
    "upgrade",
    "expansion",
    "partner",
    "channel",
];
const CHINESE: &[&str] = &[
    "方案",
    "预算",
    "决策人",
    "采购",
    "折扣",
    "价格",
    "稳定性",
    "服务",
    "合同",
    "续约",
    "试用",
    "演示",
    "集成",
    "机器人",
    "输送线",
    "视觉",
    "质量",
    "报废",
    "产能",
    "回本",
    "样板客户",
    "客户",
    "工厂",
    "产线",
    "班次",
    "维护",
    "支持",
    "质保",
    "交期",
    "竞品",
    "异议",
    "培训",
    "入职",
    "预测",
    "销售漏斗",
    "阶段",
    "谈判",
    "委员会",
    "发起人",
    "风险",
    "价值",
    "总拥有成本",
    "成本",
    "自动化",
    "软件",
    "许可",
    "升级",
    "增购",
    "合作伙伴",
    "渠道",
    "赢单率",
    "商机",
];
const COMPETITORS: &[&str] = &["Globex", "Initech", "Umbrella", "Vandelay"];

/// A small deterministic generator (splitmix64) per article.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[(self.next() % words.len() as u64) as usize]
    }

    fn words(&mut self, language: pb::Language, count: usize) -> String {
        let mut text = String::new();
        for index in 0..count {
            let word = match language {
                pb::Language::Zh => self.pick(CHINESE),
                pb::Language::Both if index % 2 == 1 => self.pick(CHINESE),
                _ => self.pick(ENGLISH),
            };
            if !text.is_empty() && language != pb::Language::Zh {
                text.push(' ');
            }
            text.push_str(word);
        }
        text
    }
}

fn language_of(number: usize) -> pb::Language {
    match number % 3 {
        0 => pb::Language::En,
        1 => pb::Language::Zh,
        _ => pb::Language::Both,
    }
}

/// Article `number`'s content (`extra`: a word added to its title, for the catch-up).
fn content(number: usize, extra: Option<&str>) -> pb::ArticleContent {
    let mut draw = Draw(number as u64);
    let language = language_of(number);
    let competitor = COMPETITORS[number % COMPETITORS.len()];
    let mut title = format!("{competitor} {}", draw.words(language, 4));
    if let Some(extra) = extra {
        title = format!("{title} {extra}");
    }
    let body = (0..4)
        .map(|_| draw.words(language, 20))
        .collect::<Vec<_>>()
        .join("\n\n");
    let kind = [
        pb::ArticleKind::Training,
        pb::ArticleKind::ObjectionHandling,
        pb::ArticleKind::Training,
    ][number % 3];
    pb::ArticleContent {
        title,
        summary: draw.words(language, 10),
        body,
        kind: kind as i32,
        language: language as i32,
        category: "Bench".into(),
        tags: vec![draw.pick(ENGLISH).to_owned()],
        ..Default::default()
    }
}

fn version(
    content: pb::ArticleContent,
    author: Uuid,
    now: prost_types::Timestamp,
) -> pb::ArticleVersion {
    pb::ArticleVersion {
        version: 1,
        status: pb::VersionStatus::Published as i32,
        content: Some(content),
        body_html: String::new(),
        author_id: author.to_string(),
        created_at: Some(now),
        updated_at: Some(now),
        published_at: Some(now),
        published_by: author.to_string(),
        review_comment: String::new(),
    }
}

/// Writes articles `range` at `revision` (their rows and an `article_published` each, in one
/// transaction per chunk), as the service does on publish.
async fn write(
    pool: &sqlx::PgPool,
    ids: &[Uuid],
    range: std::ops::Range<usize>,
    revision: i64,
    extra: &dyn Fn(usize) -> Option<String>,
    author: Uuid,
) -> anyhow::Result<()> {
    let outbox = Outbox::new();
    let numbers: Vec<usize> = range.collect();
    for chunk in numbers.chunks(CHUNK) {
        let now = Utc::now();
        let stamp = to_timestamp(now);
        let contents: Vec<pb::ArticleContent> = chunk
            .iter()
            .map(|&number| content(number, extra(number).as_deref()))
            .collect();
        let chunk_ids: Vec<Uuid> = chunk.iter().map(|&number| ids[number]).collect();
        let mut transaction = pool.begin().await?;
        sqlx::query(
            "INSERT INTO articles (id, revision, latest_version, published_version, created_by, \
             created_at, updated_at) SELECT id, $2, 1, 1, $3, $4, $4 FROM unnest($1::uuid[]) AS id \
             ON CONFLICT (id) DO UPDATE SET revision = EXCLUDED.revision, updated_at = EXCLUDED.updated_at",
        )
        .bind(&chunk_ids)
        .bind(revision)
        .bind(author)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        let titles: Vec<&str> = contents
            .iter()
            .map(|content| content.title.as_str())
            .collect();
        let summaries: Vec<&str> = contents
            .iter()
            .map(|content| content.summary.as_str())
            .collect();
        let bodies: Vec<&str> = contents
            .iter()
            .map(|content| content.body.as_str())
            .collect();
        let languages: Vec<&str> = contents
            .iter()
            .map(|content| match pb::Language::try_from(content.language) {
                Ok(pb::Language::Zh) => "zh",
                Ok(pb::Language::Both) => "both",
                _ => "en",
            })
            .collect();
        let kinds: Vec<&str> = contents
            .iter()
            .map(|content| match pb::ArticleKind::try_from(content.kind) {
                Ok(pb::ArticleKind::ObjectionHandling) => "objection_handling",
                _ => "training",
            })
            .collect();
        let tags: Vec<String> = contents
            .iter()
            .map(|content| content.tags[0].clone())
            .collect();
        sqlx::query(
            "INSERT INTO article_versions (article_id, version, status, title, summary, body, kind, \
             language, category, tags, stage_ids, competitor_ids, product_codes, industries, \
             author_id, created_at, updated_at, published_at, published_by) \
             SELECT a.id, 1, 'published', a.title, a.summary, a.body, a.kind, a.language, 'Bench', \
             ARRAY[a.tag], '{}', '{}', '{}', '{}', $8, $9, $9, $9, $8 \
             FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
             $7::text[]) AS a(id, title, summary, body, kind, language, tag) \
             ON CONFLICT (article_id, version) DO UPDATE SET title = EXCLUDED.title, \
             updated_at = EXCLUDED.updated_at",
        )
        .bind(&chunk_ids)
        .bind(&titles)
        .bind(&summaries)
        .bind(&bodies)
        .bind(&kinds)
        .bind(&languages)
        .bind(&tags)
        .bind(author)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        let id_texts: Vec<String> = chunk_ids.iter().map(Uuid::to_string).collect();
        let events: Vec<(Aggregate<'_>, pb::ArticlePublished)> = id_texts
            .iter()
            .zip(contents)
            .map(|(id, content)| {
                (
                    Aggregate {
                        kind: "article",
                        id,
                        version: revision,
                    },
                    pb::ArticlePublished {
                        article: Some(pb::ArticleSnapshot {
                            article_id: id.clone(),
                            revision: revision as u64,
                            versions: vec![version(content, author, stamp)],
                            created_at: Some(stamp),
                        }),
                        version: 1,
                        replaced_version: 0,
                        changed_by: author.to_string(),
                        occurred_at: Some(stamp),
                    },
                )
            })
            .collect();
        outbox.enqueue_many(&mut transaction, &events).await?;
        transaction.commit().await?;
    }
    Ok(())
}

/// Searches until `query`'s hits include `title`, or `limit` passes.
async fn until_found(
    search: &SearchServiceClient<tonic::transport::Channel>,
    token: &str,
    query: &str,
    title: &str,
    limit: Duration,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    loop {
        let answer = search
            .clone()
            .search_articles(authorized(
                pb::SearchArticlesRequest {
                    query: query.into(),
                    limit: 50,
                    ..Default::default()
                },
                token,
            ))
            .await;
        if let Ok(answer) = answer
            && answer
                .into_inner()
                .hits
                .iter()
                .any(|hit| hit.title == title)
        {
            return Ok(started.elapsed());
        }
        anyhow::ensure!(
            started.elapsed() < limit,
            "{query:?} did not find {title:?} in {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The queries the clients take turns at: English, Chinese and mixed.
fn queries() -> Vec<String> {
    let mut draw = Draw(7);
    (0..200)
        .map(|index| match index % 3 {
            0 => format!("{} {}", draw.pick(ENGLISH), draw.pick(ENGLISH)),
            1 => format!("{}{}", draw.pick(CHINESE), draw.pick(CHINESE)),
            _ => format!(
                "{} {} {}",
                draw.pick(COMPETITORS),
                draw.pick(CHINESE),
                draw.pick(ENGLISH)
            ),
        })
        .collect()
}

pub async fn run(
    duration: Duration,
    overrides: &std::collections::BTreeMap<String, String>,
) -> anyhow::Result<ScenarioReport> {
    let hosted = Hosted::start_modules(
        &[crm_opportunities::module(), crm_knowledge::module()],
        8,
        overrides,
    )
    .await?;
    let result = measure(&hosted, duration).await;
    hosted.cleanup().await;
    result
}

async fn measure(hosted: &Hosted, duration: Duration) -> anyhow::Result<ScenarioReport> {
    let raw = hosted.baseline_pool_of(crm_knowledge::NAME, 4).await?;
    let author = Person::new(Role::Rep, "/northwind/east/", "Bench Author")?;
    let reader = Person::new(Role::Rep, "/northwind/west/", "Bench Reader")?;
    let ids: Vec<Uuid> = (0..ARTICLES).map(|_| Uuid::now_v7()).collect();
    let channel = hosted.channel().await?;
    let token = hosted.token(&reader.caller);
    let search = SearchServiceClient::new(channel.clone());

    let started = Instant::now();
    write(&raw, &ids, 0..ARTICLES, 1, &|_| None, author.id()).await?;
    let written = started.elapsed();
    let last = content(ARTICLES - 1, None).title;
    let followed = until_found(&search, &token, &last, &last, Duration::from_secs(1800)).await?;
    let loaded = started.elapsed();

    // The search load: 16 clients for `duration`, each taking the next query in turn.
    // Search latency is what a rep sees on an index in use, not while the load that filled it
    // is still merging its segments: the clients start once the machine is quiet (how long
    // that took is reported).
    let settled = until_quiet(Duration::from_secs(120)).await;
    let queries = Arc::new(queries());
    let deadline = Instant::now() + duration;
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let search = search.clone();
        let token = token.clone();
        let queries = queries.clone();
        clients.push(tokio::spawn(async move {
            let mut latencies = Latencies::new();
            let mut hits = 0usize;
            let mut turn = client;
            while Instant::now() < deadline {
                let query = queries[turn % queries.len()].clone();
                turn += CLIENTS;
                let asked = Instant::now();
                let answer = search
                    .clone()
                    .search_articles(authorized(
                        pb::SearchArticlesRequest {
                            query,
                            ..Default::default()
                        },
                        &token,
                    ))
                    .await?;
                latencies.record(asked.elapsed());
                hits += answer.into_inner().hits.len();
            }
            anyhow::Ok((latencies, hits))
        }));
    }
    let mut service = Latencies::new();
    let mut hits = 0;
    for client in clients {
        let (latencies, found) = client.await??;
        service.merge(&latencies);
        hits += found;
    }
    let searches = service.count();

    // The raw baseline: the first word of each query looked up by ILIKE over title, summary
    // and body, one client, 50 queries.
    let mut baseline = Latencies::new();
    for query in queries.iter().take(50) {
        let word = query.split_whitespace().next().unwrap_or(query);
        let pattern = format!("%{word}%");
        let asked = Instant::now();
        let _: Vec<(Uuid,)> = sqlx::query_as(
            "SELECT article_id FROM article_versions WHERE status = 'published' AND \
             (title ILIKE $1 OR summary ILIKE $1 OR body ILIKE $1) LIMIT 10",
        )
        .bind(&pattern)
        .fetch_all(&raw)
        .await?;
        baseline.record(asked.elapsed());
    }

    // The catch-up: 10,000 articles changed (a new word in each title), then found.
    let started = Instant::now();
    let marker = |number: usize| Some(format!("zephyr{number}"));
    write(&raw, &ids, 0..CHANGED, 2, &marker, author.id()).await?;
    let changed_written = started.elapsed();
    let last_changed = content(CHANGED - 1, marker(CHANGED - 1).as_deref()).title;
    until_found(
        &search,
        &token,
        &format!("zephyr{}", CHANGED - 1),
        &last_changed,
        Duration::from_secs(600),
    )
    .await?;
    let caught_up = started.elapsed();

    let mut report = ScenarioReport::new(
        "knowledge",
        format!(
            "knowledge search over {ARTICLES} articles (English, Chinese, both) at {CLIENTS} clients"
        ),
        "knowledge service (SearchArticles over gRPC)",
        "raw ILIKE scan",
    );
    latency_rows(&mut report, "search: ", &service, &baseline, P95_GOAL_MS);
    report.row(Row::new(
        format!("index catch-up of {CHANGED} changed articles (first write → last found)"),
        "s",
        Some(caught_up.as_secs_f64()),
        None,
    ));
    report.row(Row::new(
        format!("load of {ARTICLES} articles through the outbox into the index"),
        "s",
        Some(loaded.as_secs_f64()),
        None,
    ));
    report.note(format!(
        "{searches} searches in {duration:?} ({:.0} a second), {:.1} hits each on average; the baseline's p95 is one ILIKE query at a time",
        searches as f64 / duration.as_secs_f64(),
        hits as f64 / searches.max(1) as f64
    ));
    report.note(format!(
        "load: the rows and events written in {:.1} s, the last article found {:.1} s after the writes ended, the machine quiet {:.1} s later (the index's merges; the searches start then); catch-up: 10,000 changes written in {:.1} s (baseline column), the last one found at {:.1} s",
        written.as_secs_f64(),
        followed.as_secs_f64(),
        settled.as_secs_f64(),
        changed_written.as_secs_f64(),
        caught_up.as_secs_f64()
    ));
    Ok(report)
}
