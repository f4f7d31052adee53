//! The search RPC (`SearchService`).

use crm_platform::{
    error::{Violations, optional_text, required_text},
    paging::limit,
};
use crm_proto::crm::knowledge::v1::{self as pb, search_service_server::SearchService};
use tonic::{Request, Response, Status};

use super::{authenticated, enum_filter};
use crate::{
    convert,
    domain::article::normalise_tag,
    error::KnowledgeError,
    search::index::{Hit, SearchFilters},
    service::{Knowledge, SearchInput},
};

/// Hits when the request asks for none, and at most.
const DEFAULT_LIMIT: u32 = 10;
const MAX_LIMIT: u32 = 50;

pub(crate) struct SearchApi {
    knowledge: Knowledge,
}

impl SearchApi {
    pub(crate) fn new(knowledge: Knowledge) -> Self {
        Self { knowledge }
    }
}

fn hit_to_wire(hit: Hit) -> pb::SearchHit {
    pb::SearchHit {
        article_id: hit.article_id.to_string(),
        version: hit.version,
        status: convert::status_to_wire(hit.status) as i32,
        kind: convert::kind_to_wire(hit.kind) as i32,
        language: convert::language_to_wire(hit.language) as i32,
        title: hit.title,
        summary: hit.summary,
        score: f64::from(hit.score),
        title_html: hit.title_html,
        snippet_html: hit.snippet_html,
    }
}

#[tonic::async_trait]
impl SearchService for SearchApi {
    async fn search_articles(
        &self,
        request: Request<pb::SearchArticlesRequest>,
    ) -> Result<Response<pb::SearchArticlesResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let text = required_text(&mut violations, "query", &request.query, 200);
        let kind = enum_filter(
            &mut violations,
            "kind",
            request.kind,
            convert::kind_from_wire,
        );
        let language = enum_filter(
            &mut violations,
            "language",
            request.language,
            convert::language_from_wire,
        );
        let tag = normalise_tag(&optional_text(&mut violations, "tag", &request.tag, 50));
        let stage_id = violations.optional_id("stage_id", &request.stage_id);
        let competitor_id = violations.optional_id("competitor_id", &request.competitor_id);
        let product_code =
            optional_text(&mut violations, "product_code", &request.product_code, 64);
        let limit = limit(&mut violations, request.limit, DEFAULT_LIMIT, MAX_LIMIT) as usize;
        violations.into_result().map_err(KnowledgeError::from)?;
        let hits = self
            .knowledge
            .search(
                &caller,
                SearchInput {
                    text,
                    filters: SearchFilters {
                        kind,
                        language,
                        tag: (!tag.is_empty()).then_some(tag),
                        stage_id,
                        competitor_id,
                        product_code: (!product_code.is_empty()).then_some(product_code),
                    },
                    limit,
                },
            )
            .await?;
        Ok(Response::new(pb::SearchArticlesResponse {
            hits: hits.into_iter().map(hit_to_wire).collect(),
        }))
    }
}
