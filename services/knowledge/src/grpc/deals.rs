//! Deal content's RPCs (`DealContentService`).

use crm_platform::{error::Violations, paging::limit};
use crm_proto::crm::knowledge::v1::{self as pb, deal_content_service_server::DealContentService};
use tonic::{Request, Response, Status};

use super::{authenticated, enum_filter, required_ids};
use crate::{
    convert::{
        self,
        deals::{attachment_to_wire, deal_to_wire, recommended_to_wire},
    },
    error::KnowledgeError,
    service::Knowledge,
};

pub(crate) struct DealContentApi {
    knowledge: Knowledge,
}

impl DealContentApi {
    pub(crate) fn new(knowledge: Knowledge) -> Self {
        Self { knowledge }
    }
}

#[tonic::async_trait]
impl DealContentService for DealContentApi {
    async fn recommend_for_deal(
        &self,
        request: Request<pb::RecommendForDealRequest>,
    ) -> Result<Response<pb::RecommendForDealResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let deal_id = violations.id("deal_id", &request.deal_id);
        let language = enum_filter(
            &mut violations,
            "language",
            request.language,
            convert::language_from_wire,
        );
        let limit = limit(&mut violations, request.limit, 10, 50) as usize;
        violations.into_result().map_err(KnowledgeError::from)?;
        let deal_id = deal_id.unwrap_or_default();
        let (known, recommended) = self
            .knowledge
            .recommend_for_deal(&caller, deal_id, language, limit)
            .await?;
        Ok(Response::new(pb::RecommendForDealResponse {
            deal: Some(deal_to_wire(&known)),
            recommendations: recommended
                .iter()
                .map(|recommended| recommended_to_wire(&known, recommended))
                .collect(),
        }))
    }

    async fn attach_article(
        &self,
        request: Request<pb::AttachArticleRequest>,
    ) -> Result<Response<pb::AttachArticleResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let [deal_id, article_id] = required_ids([
            ("deal_id", &request.deal_id),
            ("article_id", &request.article_id),
        ])?;
        let attachment = self
            .knowledge
            .attach_article(&caller, deal_id, article_id)
            .await?;
        Ok(Response::new(pb::AttachArticleResponse {
            attachment: Some(attachment_to_wire(&attachment)),
        }))
    }

    async fn detach_article(
        &self,
        request: Request<pb::DetachArticleRequest>,
    ) -> Result<Response<pb::DetachArticleResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let [deal_id, article_id] = required_ids([
            ("deal_id", &request.deal_id),
            ("article_id", &request.article_id),
        ])?;
        self.knowledge
            .detach_article(&caller, deal_id, article_id)
            .await?;
        Ok(Response::new(pb::DetachArticleResponse {}))
    }

    async fn list_deal_articles(
        &self,
        request: Request<pb::ListDealArticlesRequest>,
    ) -> Result<Response<pb::ListDealArticlesResponse>, Status> {
        let caller = authenticated(&request)?;
        let [deal_id] = required_ids([("deal_id", &request.get_ref().deal_id)])?;
        let attachments = self.knowledge.deal_articles(&caller, deal_id).await?;
        Ok(Response::new(pb::ListDealArticlesResponse {
            attachments: attachments.iter().map(attachment_to_wire).collect(),
        }))
    }

    async fn list_account_articles(
        &self,
        request: Request<pb::ListAccountArticlesRequest>,
    ) -> Result<Response<pb::ListAccountArticlesResponse>, Status> {
        let caller = authenticated(&request)?;
        let [account_id] = required_ids([("account_id", &request.get_ref().account_id)])?;
        let (attachments, truncated) = self.knowledge.account_articles(&caller, account_id).await?;
        Ok(Response::new(pb::ListAccountArticlesResponse {
            attachments: attachments.iter().map(attachment_to_wire).collect(),
            truncated,
        }))
    }
}
