//! What the knowledge tests start from: the service alone on real PostgreSQL and NATS, its
//! clients with a token for each of Northwind's people, and content builders.
#![allow(dead_code)] // each test file uses part of it

use crm_platform::auth::{Caller, Role, TeamPath};
use crm_proto::crm::knowledge::v1::{self as pb, article_service_client::ArticleServiceClient};
use crm_test_support::{TestApp, authorized};
use tonic::transport::Channel;

pub const ADA: &str = "01900000-0000-7000-8000-0000000000a1";
pub const MEI: &str = "01900000-0000-7000-8000-0000000000a2";
pub const RAVI: &str = "01900000-0000-7000-8000-0000000000b1";
pub const NORA: &str = "01900000-0000-7000-8000-0000000000b2";

/// Globex, a competitor of the demo's (an id as the opportunities service gives it).
pub const GLOBEX: &str = "01900000-0000-7000-8000-00000000c0e1";
/// The "Proposal" stage of the demo pipeline.
pub const PROPOSAL: &str = "01900000-0000-7000-8000-0000000005a4";

const PEOPLE: [(&str, Role, &str); 4] = [
    (ADA, Role::Admin, "/northwind/"),
    (MEI, Role::Manager, "/northwind/east/"),
    (RAVI, Role::Rep, "/northwind/east/east-1/"),
    (NORA, Role::Rep, "/northwind/east/east-1/"),
];

pub fn caller(id: &str) -> Caller {
    let (_, role, team) = PEOPLE
        .iter()
        .find(|person| person.0 == id)
        .expect("a person");
    Caller::user(id.parse().unwrap(), *role, TeamPath::parse(team).unwrap())
}

pub async fn start() -> TestApp {
    TestApp::spawn(&[crm_knowledge::module()]).await
}

/// The article service as `who`.
pub struct Articles {
    client: ArticleServiceClient<Channel>,
    token: String,
}

impl Articles {
    pub async fn new(app: &TestApp, who: &str) -> Self {
        Self {
            client: ArticleServiceClient::new(app.channel().await),
            token: app.token(&caller(who)),
        }
    }

    pub async fn create(&self, content: pb::ArticleContent) -> Result<pb::Article, tonic::Status> {
        let request = pb::CreateArticleRequest {
            content: Some(content),
        };
        Ok(self
            .client
            .clone()
            .create_article(authorized(request, &self.token))
            .await?
            .into_inner()
            .article
            .unwrap())
    }

    pub async fn save(
        &self,
        article: &pb::Article,
        content: pb::ArticleContent,
    ) -> Result<pb::Article, tonic::Status> {
        let request = pb::SaveDraftRequest {
            article_id: article.article_id.clone(),
            revision: article.revision,
            content: Some(content),
        };
        Ok(self
            .client
            .clone()
            .save_draft(authorized(request, &self.token))
            .await?
            .into_inner()
            .article
            .unwrap())
    }

    pub async fn review(
        &self,
        article: &pb::Article,
        version: u32,
        action: pb::ReviewAction,
        comment: &str,
    ) -> Result<pb::Article, tonic::Status> {
        let request = pb::ReviewVersionRequest {
            article_id: article.article_id.clone(),
            version,
            action: action as i32,
            comment: comment.into(),
            revision: article.revision,
        };
        Ok(self
            .client
            .clone()
            .review_version(authorized(request, &self.token))
            .await?
            .into_inner()
            .article
            .unwrap())
    }

    pub async fn get(&self, article_id: &str, version: u32) -> Result<pb::Article, tonic::Status> {
        let request = pb::GetArticleRequest {
            article_id: article_id.into(),
            version,
        };
        Ok(self
            .client
            .clone()
            .get_article(authorized(request, &self.token))
            .await?
            .into_inner()
            .article
            .unwrap())
    }

    pub async fn list(
        &self,
        request: pb::ListArticlesRequest,
    ) -> Result<pb::ListArticlesResponse, tonic::Status> {
        Ok(self
            .client
            .clone()
            .list_articles(authorized(request, &self.token))
            .await?
            .into_inner())
    }

    pub async fn diff(
        &self,
        article_id: &str,
        from_version: u32,
        to_version: u32,
    ) -> Result<pb::DiffVersionsResponse, tonic::Status> {
        let request = pb::DiffVersionsRequest {
            article_id: article_id.into(),
            from_version,
            to_version,
        };
        Ok(self
            .client
            .clone()
            .diff_versions(authorized(request, &self.token))
            .await?
            .into_inner())
    }
}

/// The Globex battlecard, in English.
pub fn battlecard() -> pb::ArticleContent {
    pb::ArticleContent {
        title: "Winning against Globex".into(),
        summary: "Where we beat Globex and how to say it.".into(),
        body: "# Globex\n\nThey discount **early**; we win on uptime.\n\n\
               <script>alert('x')</script>\n\n- Ask for the SLA\n- Show the reference\n"
            .into(),
        kind: pb::ArticleKind::Battlecard as i32,
        language: pb::Language::En as i32,
        category: "Competitors".into(),
        tags: vec!["Globex".into(), "price objection".into()],
        stage_ids: vec![],
        competitor_ids: vec![GLOBEX.into()],
        product_codes: vec![],
        industries: vec!["Manufacturing".into()],
    }
}

/// The proposal playbook, in Chinese.
pub fn playbook() -> pb::ArticleContent {
    pb::ArticleContent {
        title: "方案阶段打法".into(),
        summary: "方案阶段如何推进赢单。".into(),
        body: "## 方案\n\n确认预算和决策人，准备竞品对比。\n".into(),
        kind: pb::ArticleKind::Playbook as i32,
        language: pb::Language::Zh as i32,
        category: "销售流程".into(),
        tags: vec!["方案".into()],
        stage_ids: vec![PROPOSAL.into()],
        competitor_ids: vec![],
        product_codes: vec![],
        industries: vec![],
    }
}

/// The events the service wrote for `article_id`, in order: (subject, aggregate version).
pub async fn events_of(app: &TestApp, article_id: &str) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT subject, aggregate_version FROM outbox \
         WHERE aggregate_type = 'article' AND aggregate_id = $1 ORDER BY seq",
    )
    .bind(article_id)
    .fetch_all(app.pool("knowledge"))
    .await
    .unwrap()
}

/// The search service as `who`.
pub struct Search {
    client: crm_proto::crm::knowledge::v1::search_service_client::SearchServiceClient<Channel>,
    token: String,
}

impl Search {
    pub async fn new(app: &TestApp, who: &str) -> Self {
        Self {
            client: crm_proto::crm::knowledge::v1::search_service_client::SearchServiceClient::new(
                app.channel().await,
            ),
            token: app.token(&caller(who)),
        }
    }

    pub async fn ask(
        &self,
        request: pb::SearchArticlesRequest,
    ) -> Result<Vec<pb::SearchHit>, tonic::Status> {
        Ok(self
            .client
            .clone()
            .search_articles(authorized(request, &self.token))
            .await?
            .into_inner()
            .hits)
    }

    /// The titles found for `query`.
    pub async fn titles(&self, query: &str) -> Vec<String> {
        self.ask(pb::SearchArticlesRequest {
            query: query.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|hit| hit.title)
        .collect()
    }

    /// Waits until `query`'s best hit is `title` (the index follows the events).
    pub async fn until_first(&self, query: &str, title: &str) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let titles = match self
                .ask(pb::SearchArticlesRequest {
                    query: query.into(),
                    ..Default::default()
                })
                .await
            {
                Ok(hits) => hits.into_iter().map(|hit| hit.title).collect(),
                Err(status) if status.code() == tonic::Code::Unavailable => Vec::new(),
                Err(status) => panic!("search failed: {status:?}"),
            };
            if titles.first().map(String::as_str) == Some(title) {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("{query:?} never found {title:?} first: {titles:?}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

/// Stops the app's services and starts them again on the same databases, stream namespace
/// and index directory (`wipe`: the index directory removed in between).
pub async fn restart(app: &mut TestApp, wipe: bool) {
    app.services.shutdown().await.unwrap();
    if wipe {
        std::fs::remove_dir_all(
            crm_test_support::scratch_dir(&app.namespace).join("knowledge-index"),
        )
        .unwrap();
    }
    app.services = crm_platform::host::start(app.settings.clone(), &[crm_knowledge::module()])
        .await
        .unwrap();
}
pub mod deals;
