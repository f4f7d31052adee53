//! Usage's RPCs (`UsageService`).

use crm_platform::error::Violations;
use crm_proto::crm::knowledge::v1::{self as pb, usage_service_server::UsageService};
use tonic::{Request, Response, Status};

use super::{authenticated, enum_filter, required_ids};
use crate::{
    convert::{
        self,
        deals::{influence_to_wire, usage_to_wire},
    },
    domain::influence::DEFAULT_MIN_CLOSED,
    error::KnowledgeError,
    service::Knowledge,
};

pub(crate) struct UsageApi {
    knowledge: Knowledge,
}

impl UsageApi {
    pub(crate) fn new(knowledge: Knowledge) -> Self {
        Self { knowledge }
    }
}

/// The most closed deals a caller may ask a win rate to wait for.
const MAX_MIN_CLOSED: u32 = 10_000;

#[tonic::async_trait]
impl UsageService for UsageApi {
    async fn record_view(
        &self,
        request: Request<pb::RecordViewRequest>,
    ) -> Result<Response<pb::RecordViewResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let article_id = violations.id("article_id", &request.article_id);
        let deal_id = violations.optional_id("deal_id", &request.deal_id);
        violations.into_result().map_err(KnowledgeError::from)?;
        let article_id = article_id.unwrap_or_default();
        let usage = self
            .knowledge
            .record_view(&caller, article_id, deal_id)
            .await?;
        Ok(Response::new(pb::RecordViewResponse {
            usage: Some(usage_to_wire(article_id, &usage)),
        }))
    }

    async fn vote_helpful(
        &self,
        request: Request<pb::VoteHelpfulRequest>,
    ) -> Result<Response<pb::VoteHelpfulResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let article_id = violations.id("article_id", &request.article_id);
        let helpful = match pb::Vote::try_from(request.vote) {
            Ok(pb::Vote::Helpful) => Some(true),
            Ok(pb::Vote::NotHelpful) => Some(false),
            _ => {
                violations.add("vote", "is required: helpful or not helpful");
                None
            }
        };
        violations.into_result().map_err(KnowledgeError::from)?;
        let article_id = article_id.unwrap_or_default();
        let usage = self
            .knowledge
            .vote(&caller, article_id, helpful.unwrap_or_default())
            .await?;
        Ok(Response::new(pb::VoteHelpfulResponse {
            usage: Some(usage_to_wire(article_id, &usage)),
        }))
    }

    async fn get_article_usage(
        &self,
        request: Request<pb::GetArticleUsageRequest>,
    ) -> Result<Response<pb::GetArticleUsageResponse>, Status> {
        let caller = authenticated(&request)?;
        let [article_id] = required_ids([("article_id", &request.get_ref().article_id)])?;
        let usage = self.knowledge.usage(&caller, article_id).await?;
        Ok(Response::new(pb::GetArticleUsageResponse {
            usage: Some(usage_to_wire(article_id, &usage)),
        }))
    }

    async fn get_content_influence(
        &self,
        request: Request<pb::GetContentInfluenceRequest>,
    ) -> Result<Response<pb::GetContentInfluenceResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let kind = enum_filter(
            &mut violations,
            "kind",
            request.kind,
            convert::kind_from_wire,
        );
        if request.min_closed > MAX_MIN_CLOSED {
            violations.add("min_closed", format!("must be at most {MAX_MIN_CLOSED}"));
        }
        violations.into_result().map_err(KnowledgeError::from)?;
        let min_closed = match request.min_closed {
            0 => DEFAULT_MIN_CLOSED,
            value => value,
        };
        let influence = self.knowledge.influence(&caller, kind).await?;
        Ok(Response::new(influence_to_wire(&influence, min_closed)))
    }
}
