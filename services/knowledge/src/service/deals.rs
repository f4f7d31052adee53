//! Deal content (K3, K4): recommendations for a deal from what the service knows of it, and
//! the articles attached to deals. A deal is reached as the opportunities service would let
//! the caller reach it: by its owner and the owner's team.

use crm_platform::auth::{Caller, Visibility};
use uuid::Uuid;

use super::{Knowledge, Result};
use crate::{
    domain::{
        article::Language,
        recommend::{self, DealContext, Recommendation},
    },
    error::KnowledgeError,
    store::{
        self,
        deals::{Attached, Attachment, KnownDeal},
        summaries::ArticleSummary,
    },
};

const DEAL: &str = "deal";
const ARTICLE: &str = "article";

/// The most attachments one answer holds.
pub const MAX_ATTACHMENTS: i64 = 500;

/// An article recommended for a deal, with its headline and whether the deal has it.
#[derive(Clone, Debug)]
pub struct Recommended {
    pub article: ArticleSummary,
    pub recommendation: Recommendation,
    pub attached: bool,
}

/// What recommendations know of a deal.
pub fn context(known: &KnownDeal) -> DealContext {
    let industry = known.industry.trim();
    DealContext {
        stage_id: known.deal.stage_id,
        competitor_ids: known.deal.competitor_ids.clone(),
        product_codes: known.deal.product_codes.clone(),
        industry: (!industry.is_empty()).then(|| industry.to_owned()),
    }
}

impl Knowledge {
    /// The deal if the caller reaches it; NOT_FOUND alike for a deal out of reach and one whose
    /// events have not come.
    pub(super) async fn reached_deal(
        &self,
        connection: &mut sqlx::PgConnection,
        caller: &Caller,
        deal_id: Uuid,
    ) -> Result<KnownDeal> {
        store::deals::deal(connection, deal_id)
            .await?
            .filter(|known| caller.can_access(known.deal.owner_id, &known.deal.owner_team_path))
            .ok_or_else(|| KnowledgeError::not_found(DEAL, deal_id))
    }

    /// What to read for the deal, best first, at most `limit`.
    pub async fn recommend_for_deal(
        &self,
        caller: &Caller,
        deal_id: Uuid,
        language: Option<Language>,
        limit: usize,
    ) -> Result<(KnownDeal, Vec<Recommended>)> {
        let mut connection = self.pool.acquire().await?;
        let known = self.reached_deal(&mut connection, caller, deal_id).await?;
        let deal = context(&known);
        let candidates =
            store::summaries::published_links(&mut *connection, &deal, language).await?;
        let links: Vec<_> = candidates.iter().map(|(_, links)| links.clone()).collect();
        let attached = store::deals::attached_ids(&mut *connection, deal_id).await?;
        let recommended = recommend::recommend(&deal, &links, limit)
            .into_iter()
            .filter_map(|recommendation| {
                let (article, _) = candidates
                    .iter()
                    .find(|(summary, _)| summary.article_id == recommendation.article_id)?;
                Some(Recommended {
                    article: article.clone(),
                    attached: attached.contains(&recommendation.article_id),
                    recommendation,
                })
            })
            .collect();
        Ok((known, recommended))
    }

    /// Attaches a published article to a deal the caller reaches (again: the link as it is).
    pub async fn attach_article(
        &self,
        caller: &Caller,
        deal_id: Uuid,
        article_id: Uuid,
    ) -> Result<Attachment> {
        let mut transaction = self.pool.begin().await?;
        self.reached_deal(&mut transaction, caller, deal_id).await?;
        self.published_article(&mut transaction, article_id).await?;
        store::deals::attach(
            &mut transaction,
            deal_id,
            article_id,
            caller.user_id,
            crm_platform::time::now(),
        )
        .await?;
        let attachment =
            store::deals::attachments(&mut *transaction, Attached::Deal(deal_id), MAX_ATTACHMENTS)
                .await?
                .into_iter()
                .find(|attachment| attachment.article.article_id == article_id)
                .ok_or_else(|| KnowledgeError::not_found(ARTICLE, article_id))?;
        transaction.commit().await?;
        Ok(attachment)
    }

    /// The article's published headline; NOT_FOUND for an article with none (never published,
    /// or archived): only what readers can open is attached, viewed or taught.
    pub(super) async fn published_article(
        &self,
        connection: &mut sqlx::PgConnection,
        article_id: Uuid,
    ) -> Result<ArticleSummary> {
        store::summaries::published(connection, article_id)
            .await?
            .ok_or_else(|| KnowledgeError::not_found(ARTICLE, article_id))
    }

    pub async fn detach_article(
        &self,
        caller: &Caller,
        deal_id: Uuid,
        article_id: Uuid,
    ) -> Result<()> {
        let mut transaction = self.pool.begin().await?;
        self.reached_deal(&mut transaction, caller, deal_id).await?;
        if !store::deals::detach(&mut transaction, deal_id, article_id).await? {
            return Err(KnowledgeError::not_found(ARTICLE, article_id));
        }
        transaction.commit().await?;
        Ok(())
    }

    pub async fn deal_articles(&self, caller: &Caller, deal_id: Uuid) -> Result<Vec<Attachment>> {
        let mut connection = self.pool.acquire().await?;
        self.reached_deal(&mut connection, caller, deal_id).await?;
        Ok(
            store::deals::attachments(&mut *connection, Attached::Deal(deal_id), MAX_ATTACHMENTS)
                .await?,
        )
    }

    /// The attachments of the account's deals the caller sees, and whether there were more.
    /// An account is not this service's to refuse: one the caller reaches no deal of answers
    /// an empty list (the account 360 has asked the accounts service already).
    pub async fn account_articles(
        &self,
        caller: &Caller,
        account_id: Uuid,
    ) -> Result<(Vec<Attachment>, bool)> {
        let visibility: Visibility = caller.visibility();
        let mut attachments = store::deals::attachments(
            &self.pool,
            Attached::Account(account_id, &visibility),
            MAX_ATTACHMENTS + 1,
        )
        .await?;
        let truncated = attachments.len() as i64 > MAX_ATTACHMENTS;
        attachments.truncate(MAX_ATTACHMENTS as usize);
        Ok((attachments, truncated))
    }
}
