//! The knowledge service's rows of the matrix (docs/api.md, "Knowledge"), run by the parent
//! file's tests over the same organisation, transports and report: everyone writes drafts and
//! reads what is published; a draft is read only by its author and by managers and admins
//! (NOT_FOUND for anyone else); only its author submits it; only managers and admins send
//! back, publish and archive (PERMISSION_DENIED otherwise). Each cell gets articles of its own,
//! written before the calls run. The deal content, usage and training rows are in
//! `knowledge_content.rs` beside this file.

use crm_proto::crm::knowledge::v1::{
    self as pb, ReviewAction, article_service_client::ArticleServiceClient,
};
use crm_test_support::authorized;
use tonic::transport::Channel;

use super::{
    DENIED, Expect, Http, NOT_FOUND, OK, Org, Refusal, Report, Role, Transport, Who, no_ids,
};

#[path = "knowledge_content.rs"]
mod deal_content;

#[derive(Clone, Debug)]
pub(crate) enum Call {
    /// Deal content, usage and training.
    Content(deal_content::Call),
    Create(pb::CreateArticleRequest),
    SaveDraft(pb::SaveDraftRequest),
    Review(pb::ReviewVersionRequest),
    Get(pb::GetArticleRequest),
    List,
    Diff(pb::DiffVersionsRequest),
}

/// Whose article a cell acts on, and in which state it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Article {
    /// A draft the actor wrote.
    OwnDraft,
    /// A draft Nora wrote (for the rep Ravi, a teammate's).
    NorasDraft,
    /// Nora's draft she submitted.
    NorasInReview,
    /// Nora's article, published (version 1) with a new draft of hers (version 2) for the
    /// publishing rows, or as is.
    Published,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Create,
    Get(Article),
    List,
    SaveDraft(Article),
    Submit(Article),
    SendBack(Article),
    Publish(Article),
    Archive(Article),
    Diff,
}

#[rustfmt::skip]
const ACTIONS: &[(Action, Expect, Expect, Expect)] = &[
    // action                                    admin      manager    rep
    (Action::Create,                             OK,        OK,        OK),
    (Action::Get(Article::Published),            OK,        OK,        OK),
    (Action::Get(Article::OwnDraft),             OK,        OK,        OK),
    (Action::Get(Article::NorasDraft),           OK,        OK,        NOT_FOUND),
    (Action::List,                               OK,        OK,        OK),
    (Action::SaveDraft(Article::OwnDraft),       OK,        OK,        OK),
    (Action::SaveDraft(Article::NorasDraft),     OK,        OK,        NOT_FOUND),
    // A new version of a published article: anyone may start one.
    (Action::SaveDraft(Article::Published),      OK,        OK,        OK),
    (Action::Submit(Article::OwnDraft),          OK,        OK,        OK),
    (Action::Submit(Article::NorasDraft),        DENIED,    DENIED,    NOT_FOUND_VERSION),
    (Action::SendBack(Article::NorasInReview),   OK,        OK,        NOT_FOUND_VERSION),
    (Action::Publish(Article::OwnDraft),         OK,        OK,        DENIED),
    (Action::Publish(Article::NorasInReview),    OK,        OK,        NOT_FOUND_VERSION),
    (Action::Archive(Article::Published),        OK,        OK,        DENIED),
    (Action::Diff,                               OK,        OK,        OK),
];

/// A version out of the caller's reach is named as no version of the article
/// (FAILED_PRECONDITION naming `version`), exactly as a version that does not exist.
const NOT_FOUND_VERSION: Expect = Expect::Refused(tonic::Code::FailedPrecondition);

fn content(title: &str) -> pb::ArticleContent {
    pb::ArticleContent {
        title: title.into(),
        summary: "How to answer it.".into(),
        body: "When they say **too expensive**, ask what it is compared with.\n".into(),
        kind: pb::ArticleKind::ObjectionHandling as i32,
        language: pb::Language::En as i32,
        tags: vec!["pricing".into()],
        ..Default::default()
    }
}

struct Writer {
    client: ArticleServiceClient<Channel>,
}

impl Writer {
    async fn create(&mut self, token: &str, title: &str) -> pb::Article {
        let request = pb::CreateArticleRequest {
            content: Some(content(title)),
        };
        self.client
            .create_article(authorized(request, token))
            .await
            .expect("an article")
            .into_inner()
            .article
            .unwrap()
    }

    async fn review(
        &mut self,
        token: &str,
        article: &pb::Article,
        version: u32,
        action: ReviewAction,
    ) -> pb::Article {
        let request = pb::ReviewVersionRequest {
            article_id: article.article_id.clone(),
            version,
            action: action as i32,
            comment: String::new(),
            revision: 0,
        };
        self.client
            .review_version(authorized(request, token))
            .await
            .expect("a review step")
            .into_inner()
            .article
            .unwrap()
    }

    /// An article in the state a cell acts on; its id.
    async fn article(&mut self, org: &Org, actor: &str, which: Article) -> String {
        let nora = org.token(Who::Nora);
        let mei = org.token(Who::Mei);
        let article = match which {
            Article::OwnDraft => self.create(actor, "Own draft").await,
            Article::NorasDraft => self.create(nora, "Nora's draft").await,
            Article::NorasInReview => {
                let draft = self.create(nora, "Nora's draft in review").await;
                self.review(nora, &draft, 1, ReviewAction::Submit).await
            }
            Article::Published => {
                let draft = self.create(nora, "Published").await;
                self.review(mei, &draft, 1, ReviewAction::Publish).await
            }
        };
        article.article_id
    }
}

async fn prepare(org: &Org, action: Action, role: Role) -> Call {
    let mut writer = Writer {
        client: ArticleServiceClient::new(org.channel.clone()),
    };
    let actor = org.token(Who::actor(role));
    let review = |article_id: String, action: ReviewAction| {
        Call::Review(pb::ReviewVersionRequest {
            article_id,
            version: 1,
            action: action as i32,
            comment: "Please cite a customer.".into(),
            revision: 0,
        })
    };
    match action {
        Action::Create => Call::Create(pb::CreateArticleRequest {
            content: Some(content("New")),
        }),
        Action::Get(which) => Call::Get(pb::GetArticleRequest {
            article_id: writer.article(org, actor, which).await,
            version: 0,
        }),
        Action::List => Call::List,
        Action::SaveDraft(which) => Call::SaveDraft(pb::SaveDraftRequest {
            article_id: writer.article(org, actor, which).await,
            revision: 0,
            content: Some(content("Changed")),
        }),
        Action::Submit(which) => review(
            writer.article(org, actor, which).await,
            ReviewAction::Submit,
        ),
        Action::SendBack(which) => review(
            writer.article(org, actor, which).await,
            ReviewAction::Reject,
        ),
        Action::Publish(which) => review(
            writer.article(org, actor, which).await,
            ReviewAction::Publish,
        ),
        Action::Archive(which) => review(
            writer.article(org, actor, which).await,
            ReviewAction::Archive,
        ),
        Action::Diff => {
            let article_id = writer.article(org, actor, Article::Published).await;
            Call::Diff(pb::DiffVersionsRequest {
                article_id,
                from_version: 1,
                to_version: 1,
            })
        }
    }
}

pub(super) async fn run_actions<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    super::run_table(org, transport, report, ACTIONS, async |action, role| {
        (
            super::Call::Knowledge(prepare(org, action, role).await),
            None,
        )
    })
    .await;
    deal_content::run_actions(org, transport, report).await;
}

/// A call straight to the service's gRPC API.
pub(super) async fn grpc(
    channel: &Channel,
    token: &str,
    call: Call,
) -> Result<Vec<String>, Refusal> {
    let mut articles = ArticleServiceClient::new(channel.clone());
    let answered = match call {
        Call::Content(call) => return deal_content::grpc(channel, token, call).await,
        Call::Create(r) => articles
            .create_article(authorized(r, token))
            .await
            .map(no_ids),
        Call::SaveDraft(r) => articles.save_draft(authorized(r, token)).await.map(no_ids),
        Call::Review(r) => articles
            .review_version(authorized(r, token))
            .await
            .map(no_ids),
        Call::Get(r) => articles.get_article(authorized(r, token)).await.map(no_ids),
        Call::List => articles
            .list_articles(authorized(pb::ListArticlesRequest::default(), token))
            .await
            .map(no_ids),
        Call::Diff(r) => articles
            .diff_versions(authorized(r, token))
            .await
            .map(no_ids),
    };
    Ok(answered?)
}

/// A call through the gateway's HTTP/JSON front door.
pub(super) async fn http(door: &Http, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
    use http::Method;
    let get = async |path: String| door.send(Method::GET, &path, token, None).await.map(no_ids);
    let post = async |path: String, body: Vec<u8>| {
        door.send(Method::POST, &path, token, Some(body))
            .await
            .map(no_ids)
    };
    match call {
        Call::Content(call) => deal_content::http(door, token, call).await,
        Call::Create(r) => post("/v1/knowledge/articles".into(), door.json(&r)).await,
        Call::SaveDraft(r) => {
            let path = format!("/v1/knowledge/articles/{}:saveDraft", r.article_id);
            post(path, door.json(&r)).await
        }
        Call::Review(r) => {
            let path = format!("/v1/knowledge/articles/{}:review", r.article_id);
            post(path, door.json(&r)).await
        }
        Call::Get(r) => get(format!("/v1/knowledge/articles/{}", r.article_id)).await,
        Call::List => get("/v1/knowledge/articles".into()).await,
        Call::Diff(r) => {
            get(format!(
                "/v1/knowledge/articles/{}:diff{}",
                r.article_id,
                super::opportunities::query(&[
                    ("from_version", &r.from_version.to_string()),
                    ("to_version", &r.to_version.to_string()),
                ])
            ))
            .await
        }
    }
}
