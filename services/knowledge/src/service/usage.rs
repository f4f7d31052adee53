//! Usage and content influence (K5).

use crm_platform::auth::Caller;
use uuid::Uuid;

use super::{Knowledge, Result};
use crate::{
    domain::{article::ArticleKind, influence::Outcomes},
    store::{
        self,
        usage::{ArticleInfluence, Usage},
    },
};

/// Content influence over the deals a caller sees.
#[derive(Clone, Debug)]
pub struct Influence {
    pub articles: Vec<ArticleInfluence>,
    pub kinds: Vec<(ArticleKind, Outcomes)>,
    pub all_deals: Outcomes,
}

impl Knowledge {
    /// Records the caller's read of a published article, from a deal they reach if named.
    pub async fn record_view(
        &self,
        caller: &Caller,
        article_id: Uuid,
        deal_id: Option<Uuid>,
    ) -> Result<Usage> {
        let mut transaction = self.pool.begin().await?;
        self.published_article(&mut transaction, article_id).await?;
        if let Some(deal_id) = deal_id {
            self.reached_deal(&mut transaction, caller, deal_id).await?;
        }
        store::usage::record_view(
            &mut transaction,
            article_id,
            caller.user_id,
            deal_id,
            crm_platform::time::now(),
        )
        .await?;
        let usage = store::usage::usage(&mut *transaction, article_id, caller.user_id).await?;
        transaction.commit().await?;
        Ok(usage)
    }

    /// The caller's vote on a published article, replacing theirs.
    pub async fn vote(&self, caller: &Caller, article_id: Uuid, helpful: bool) -> Result<Usage> {
        let mut transaction = self.pool.begin().await?;
        self.published_article(&mut transaction, article_id).await?;
        store::usage::vote(
            &mut transaction,
            article_id,
            caller.user_id,
            helpful,
            crm_platform::time::now(),
        )
        .await?;
        let usage = store::usage::usage(&mut *transaction, article_id, caller.user_id).await?;
        transaction.commit().await?;
        Ok(usage)
    }

    pub async fn usage(&self, caller: &Caller, article_id: Uuid) -> Result<Usage> {
        let mut connection = self.pool.acquire().await?;
        self.published_article(&mut connection, article_id).await?;
        Ok(store::usage::usage(&mut *connection, article_id, caller.user_id).await?)
    }

    /// The influence of the articles (of one kind, if given) over the deals the caller sees.
    pub async fn influence(&self, caller: &Caller, kind: Option<ArticleKind>) -> Result<Influence> {
        let visibility = caller.visibility();
        // One snapshot for the three readings, so they add up.
        let mut transaction = self.pool.begin().await?;
        crm_platform::db::read_one_snapshot(&mut transaction).await?;
        let articles =
            store::usage::article_influence(&mut *transaction, &visibility, kind).await?;
        let kinds = store::usage::kind_influence(&mut *transaction, &visibility, kind).await?;
        let all_deals = store::usage::all_deals(&mut *transaction, &visibility).await?;
        transaction.commit().await?;
        Ok(Influence {
            articles,
            kinds,
            all_deals,
        })
    }
}
