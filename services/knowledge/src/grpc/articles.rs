//! The articles' RPCs (`ArticleService`).

use crm_platform::{
    error::{Violations, optional_text},
    ids::expected_version,
    paging::Page,
};
use crm_proto::crm::{
    common::v1::PageResponse,
    knowledge::v1::{self as pb, article_service_server::ArticleService},
};
use tonic::{Request, Response, Status};

use super::{authenticated, enum_filter};
use crate::{
    convert,
    domain::article::normalise_tag,
    error::KnowledgeError,
    service::Knowledge,
    store::articles::{ArticleFilter, RECENT_FIRST},
};

pub(crate) struct ArticlesApi {
    knowledge: Knowledge,
}

impl ArticlesApi {
    pub(crate) fn new(knowledge: Knowledge) -> Self {
        Self { knowledge }
    }
}

/// A version number a request names: 0 is none.
fn required_version(violations: &mut Violations, field: &str, value: u32) -> u32 {
    if value == 0 {
        violations.add(field, "is required: a version number, 1 or more");
    }
    value
}

#[tonic::async_trait]
impl ArticleService for ArticlesApi {
    async fn create_article(
        &self,
        request: Request<pb::CreateArticleRequest>,
    ) -> Result<Response<pb::CreateArticleResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let content =
            convert::content_from_wire(&mut violations, "content", request.content.as_ref());
        violations.into_result().map_err(KnowledgeError::from)?;
        let Some(content) = content else {
            return Err(KnowledgeError::invalid("content", "is required").into());
        };
        let article = self.knowledge.create_article(&caller, content).await?;
        Ok(Response::new(pb::CreateArticleResponse {
            article: Some(convert::article_to_wire(&article)),
        }))
    }

    async fn save_draft(
        &self,
        request: Request<pb::SaveDraftRequest>,
    ) -> Result<Response<pb::SaveDraftResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let id = violations.id("article_id", &request.article_id);
        let revision = violations.take(expected_version("revision", request.revision));
        let content =
            convert::content_from_wire(&mut violations, "content", request.content.as_ref());
        violations.into_result().map_err(KnowledgeError::from)?;
        let (Some(id), Some(revision), Some(content)) = (id, revision, content) else {
            return Err(KnowledgeError::invalid("content", "is required").into());
        };
        let article = self
            .knowledge
            .save_draft(&caller, id, revision, content)
            .await?;
        Ok(Response::new(pb::SaveDraftResponse {
            article: Some(convert::article_to_wire(&article)),
        }))
    }

    async fn review_version(
        &self,
        request: Request<pb::ReviewVersionRequest>,
    ) -> Result<Response<pb::ReviewVersionResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let id = violations.id("article_id", &request.article_id);
        let version = required_version(&mut violations, "version", request.version);
        let action = convert::action_from_wire(request.action);
        if action.is_none() {
            violations.add("action", "must be submit, reject, publish or archive");
        }
        let comment = optional_text(&mut violations, "comment", &request.comment, 2000);
        let revision = violations.take(expected_version("revision", request.revision));
        violations.into_result().map_err(KnowledgeError::from)?;
        let (Some(id), Some(action), Some(revision)) = (id, action, revision) else {
            return Err(KnowledgeError::invalid("action", "is required").into());
        };
        let article = self
            .knowledge
            .review(&caller, id, version, action, comment, revision)
            .await?;
        Ok(Response::new(pb::ReviewVersionResponse {
            article: Some(convert::article_to_wire(&article)),
        }))
    }

    async fn get_article(
        &self,
        request: Request<pb::GetArticleRequest>,
    ) -> Result<Response<pb::GetArticleResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let id = violations.id("article_id", &request.article_id);
        violations.into_result().map_err(KnowledgeError::from)?;
        let Some(id) = id else {
            return Err(KnowledgeError::invalid("article_id", "is required").into());
        };
        let number = (request.version != 0).then_some(request.version);
        let article = self.knowledge.article(&caller, id, number).await?;
        Ok(Response::new(pb::GetArticleResponse {
            article: Some(convert::article_to_wire(&article)),
        }))
    }

    async fn list_articles(
        &self,
        request: Request<pb::ListArticlesRequest>,
    ) -> Result<Response<pb::ListArticlesResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let kind = enum_filter(
            &mut violations,
            "kind",
            request.kind,
            convert::kind_from_wire,
        );
        let status = enum_filter(
            &mut violations,
            "status",
            request.status,
            convert::status_from_wire,
        );
        let language = enum_filter(
            &mut violations,
            "language",
            request.language,
            convert::language_from_wire,
        );
        let tag = normalise_tag(&optional_text(&mut violations, "tag", &request.tag, 50));
        let category = optional_text(&mut violations, "category", &request.category, 100);
        violations.into_result().map_err(KnowledgeError::from)?;
        let page =
            Page::parse(request.page.as_ref(), RECENT_FIRST).map_err(KnowledgeError::from)?;
        let filter = ArticleFilter {
            kind,
            status,
            language,
            tag: (!tag.is_empty()).then_some(tag),
            category: (!category.is_empty()).then_some(category),
        };
        let listing = self.knowledge.articles(&caller, &filter, &page).await?;
        Ok(Response::new(pb::ListArticlesResponse {
            articles: listing
                .records
                .iter()
                .map(|(head, version)| convert::listed_to_wire(head, version))
                .collect(),
            page: Some(PageResponse {
                next_page_token: listing.next_page_token,
            }),
        }))
    }

    async fn diff_versions(
        &self,
        request: Request<pb::DiffVersionsRequest>,
    ) -> Result<Response<pb::DiffVersionsResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let id = violations.id("article_id", &request.article_id);
        let from = required_version(&mut violations, "from_version", request.from_version);
        let to = required_version(&mut violations, "to_version", request.to_version);
        violations.into_result().map_err(KnowledgeError::from)?;
        let Some(id) = id else {
            return Err(KnowledgeError::invalid("article_id", "is required").into());
        };
        let diff = self.knowledge.diff(&caller, id, from, to).await?;
        Ok(Response::new(convert::diff_to_wire(from, to, &diff)))
    }
}
