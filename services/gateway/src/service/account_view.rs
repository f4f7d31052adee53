//! The account 360 view (capability A5), assembled at request time: the account and its
//! contacts from the accounts service, its deals and its deal desk from the opportunities
//! service, the articles attached to its deals from the knowledge service, each called with the
//! caller's own token — so what the view holds is what those services would show the caller —
//! and the corporate currency from the gateway's own settings. Nothing is stored; the rules of
//! the view are in [`crate::domain::account_view`].

use std::{future::Future, sync::Arc};

use crm_platform::auth::Caller;
use crm_proto::crm::{
    accounts::v1::{self as accounts, account_service_client::AccountServiceClient},
    common::v1::{PageRequest, SortDirection},
    gateway::v1 as pb,
    knowledge::v1::{self as knowledge, deal_content_service_client::DealContentServiceClient},
    opportunities::v1::{
        self as opportunities, account_desk_service_client::AccountDeskServiceClient,
        opportunity_service_client::OpportunityServiceClient,
    },
};
use tonic::{Status, metadata::MetadataMap};
use uuid::Uuid;

use super::Gateway;
use crate::{
    domain::account_view,
    http::{
        REQUEST_ID,
        upstream::{Upstreams, passed_on},
    },
};

/// Most contacts, and most deals, one view holds: an account page shows what a person can take
/// in, and one call must not page through a service without end.
pub const MAX_ITEMS: usize = 2_000;
/// The largest page the services give.
const PAGE_SIZE: usize = 500;

const ACCOUNTS: &str = "accounts";
const OPPORTUNITIES: &str = "opportunities";
const KNOWLEDGE: &str = "knowledge";

/// The gateway's aggregated views of other services' data.
#[derive(Clone)]
pub struct AccountViews {
    gateway: Gateway,
    upstreams: Arc<Upstreams>,
}

impl AccountViews {
    /// Calls the services through the front door's `upstreams`: in this process when they are
    /// hosted here, else at their `CRM_GATEWAY_UPSTREAM_<SERVICE>`.
    pub fn new(gateway: Gateway, upstreams: Arc<Upstreams>) -> Self {
        Self { gateway, upstreams }
    }

    /// The account 360 view of `account_id` for `caller`, whose request `metadata` carries the
    /// token the services are called with. The account, the contacts, the deals, the deal desk
    /// and the settings are fetched concurrently; a status of a service is passed on as it is
    /// (an account out of the caller's reach is the accounts service's NOT_FOUND), a service
    /// that cannot be reached is UNAVAILABLE with a retry delay.
    pub async fn account_360(
        &self,
        caller: &Caller,
        metadata: &MetadataMap,
        account_id: Uuid,
    ) -> Result<pb::GetAccount360Response, Status> {
        let forwarded = forwarded(metadata);
        let (account, contacts, deals, deal_desk, settings, articles) = tokio::join!(
            self.account(&forwarded, account_id),
            self.contacts(&forwarded, account_id),
            self.deals(&forwarded, account_id),
            self.deal_desk(&forwarded, account_id),
            self.gateway.org_settings(caller),
            self.articles(&forwarded, account_id),
        );
        // The account answers first: one the caller cannot see is NOT_FOUND, whatever the
        // listings said.
        let account = account?;
        let (contacts, contacts_truncated) = contacts?;
        let (deals, opportunities_truncated) = deals?;
        let deal_desk = deal_desk?;
        let corporate_currency = settings?.corporate_currency;
        let lists = account_view::deal_lists(deals);
        let buying_roles = account_view::buying_roles(&contacts, &lists);
        let summary = account_view::summary(&lists, corporate_currency);
        let (articles, articles_truncated, articles_unavailable) = match articles {
            Ok(listed) => (listed.attachments, listed.truncated, false),
            Err(status) => {
                tracing::warn!(%account_id, code = ?status.code(), message = status.message(),
                    "the account 360 went without its articles: the knowledge service did not answer");
                (Vec::new(), false, true)
            }
        };
        Ok(pb::GetAccount360Response {
            account: Some(account),
            contacts,
            open_opportunities: lists.open,
            closed_opportunities: lists.closed,
            buying_roles,
            summary: Some(summary),
            contacts_truncated,
            opportunities_truncated,
            deal_desk: Some(deal_desk),
            articles,
            articles_truncated,
            articles_unavailable,
        })
    }

    /// The articles attached to the account's deals the caller sees (the knowledge service
    /// bounds the list itself: one call).
    async fn articles(
        &self,
        metadata: &MetadataMap,
        account_id: Uuid,
    ) -> Result<knowledge::ListAccountArticlesResponse, Status> {
        let mut client = DealContentServiceClient::new(self.upstreams.service(KNOWLEDGE)?);
        let reply = client
            .list_account_articles(request(
                metadata,
                knowledge::ListAccountArticlesRequest {
                    account_id: account_id.to_string(),
                },
            ))
            .await
            .map_err(|status| passed_on(KNOWLEDGE, status))?;
        Ok(reply.into_inner())
    }

    async fn account(
        &self,
        metadata: &MetadataMap,
        account_id: Uuid,
    ) -> Result<accounts::Account, Status> {
        let mut client = AccountServiceClient::new(self.upstreams.service(ACCOUNTS)?);
        let reply = client
            .get_account(request(
                metadata,
                accounts::GetAccountRequest {
                    account_id: account_id.to_string(),
                },
            ))
            .await
            .map_err(|status| passed_on(ACCOUNTS, status))?;
        reply.into_inner().account.ok_or_else(|| {
            tracing::error!(%account_id, "the accounts service answered GetAccount without an account");
            Status::internal("internal error")
        })
    }

    /// The account's active contacts by name.
    async fn contacts(
        &self,
        metadata: &MetadataMap,
        account_id: Uuid,
    ) -> Result<(Vec<accounts::Contact>, bool), Status> {
        let client = AccountServiceClient::new(self.upstreams.service(ACCOUNTS)?);
        all_pages(|page| {
            let mut client = client.clone();
            let listing = request(
                metadata,
                accounts::ListContactsRequest {
                    page: Some(page),
                    account_id: account_id.to_string(),
                    sort_by: accounts::ContactSortField::FullName.into(),
                    sort_direction: SortDirection::Ascending.into(),
                    ..Default::default()
                },
            );
            async move {
                let reply = client
                    .list_contacts(listing)
                    .await
                    .map_err(|status| passed_on(ACCOUNTS, status))?
                    .into_inner();
                Ok((reply.contacts, next_page(reply.page)))
            }
        })
        .await
    }

    /// The account's deals of every status but archived, in creation order (the view sorts
    /// them).
    async fn deals(
        &self,
        metadata: &MetadataMap,
        account_id: Uuid,
    ) -> Result<(Vec<opportunities::Opportunity>, bool), Status> {
        let client = OpportunityServiceClient::new(self.upstreams.service(OPPORTUNITIES)?);
        all_pages(|page| {
            let mut client = client.clone();
            let listing = request(
                metadata,
                opportunities::ListOpportunitiesRequest {
                    page: Some(page),
                    account_id: account_id.to_string(),
                    // Unspecified: every status but archived.
                    status: opportunities::OpportunityStatus::Unspecified.into(),
                    sort_by: opportunities::OpportunitySortField::CreatedAt.into(),
                    sort_direction: SortDirection::Ascending.into(),
                    ..Default::default()
                },
            );
            async move {
                let reply = client
                    .list_opportunities(listing)
                    .await
                    .map_err(|status| passed_on(OPPORTUNITIES, status))?
                    .into_inner();
                Ok((reply.opportunities, next_page(reply.page)))
            }
        })
        .await
    }

    /// The account's deal desk as the opportunities service shows it to the caller, today (the
    /// service bounds its lists itself: one call).
    async fn deal_desk(
        &self,
        metadata: &MetadataMap,
        account_id: Uuid,
    ) -> Result<opportunities::AccountDesk, Status> {
        let mut client = AccountDeskServiceClient::new(self.upstreams.service(OPPORTUNITIES)?);
        let reply = client
            .get_account_desk(request(
                metadata,
                opportunities::GetAccountDeskRequest {
                    account_id: account_id.to_string(),
                    as_of: String::new(),
                },
            ))
            .await
            .map_err(|status| passed_on(OPPORTUNITIES, status))?;
        reply.into_inner().desk.ok_or_else(|| {
            tracing::error!(%account_id, "the opportunities service answered GetAccountDesk without a desk");
            Status::internal("internal error")
        })
    }
}

/// What the services are told about the call: the caller's own credentials (their rules of
/// visibility apply to the caller, not to the gateway), the request id and the trace.
fn forwarded(metadata: &MetadataMap) -> MetadataMap {
    let mut forwarded = MetadataMap::new();
    for key in ["authorization", REQUEST_ID] {
        if let Some(value) = metadata.get(key) {
            forwarded.insert(key, value.clone());
        }
    }
    if let Some(traceparent) = crm_platform::telemetry::current_traceparent()
        .and_then(|traceparent| traceparent.parse().ok())
    {
        forwarded.insert("traceparent", traceparent);
    }
    forwarded
}

fn request<T>(metadata: &MetadataMap, message: T) -> tonic::Request<T> {
    tonic::Request::from_parts(metadata.clone(), Default::default(), message)
}

fn next_page(page: Option<crm_proto::crm::common::v1::PageResponse>) -> String {
    page.map(|page| page.next_page_token).unwrap_or_default()
}

/// Every item of a listing, page by page, up to [`MAX_ITEMS`]; and whether there were more.
/// `page` fetches one page: its items and the next page's token (empty after the last).
async fn all_pages<T, F, Fut>(mut page: F) -> Result<(Vec<T>, bool), Status>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, String), Status>>,
{
    let mut items = Vec::new();
    let mut token = String::new();
    loop {
        // Asking for one more than the view holds tells whether there are more.
        let size = PAGE_SIZE.min(MAX_ITEMS + 1 - items.len());
        let (mut batch, next) = page(PageRequest {
            page_size: size as u32,
            page_token: token,
        })
        .await?;
        let empty = batch.is_empty();
        items.append(&mut batch);
        if items.len() > MAX_ITEMS {
            items.truncate(MAX_ITEMS);
            return Ok((items, true));
        }
        // An empty page ends the listing even with a token: no loop on a service's mistake.
        if next.is_empty() || empty {
            return Ok((items, false));
        }
        token = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pages through a listing of `total` items as the services page (the token is where the
    /// next page starts): the items, whether there were more, and the page sizes asked for.
    async fn paged(total: usize) -> (Vec<usize>, bool, Vec<u32>) {
        let mut sizes = Vec::new();
        let (items, more) = all_pages(|page: PageRequest| {
            sizes.push(page.page_size);
            let from: usize = page.page_token.parse().unwrap_or(0);
            let to = (from + page.page_size as usize).min(total);
            let next = if to < total {
                to.to_string()
            } else {
                String::new()
            };
            std::future::ready(Ok(((from..to).collect(), next)))
        })
        .await
        .unwrap();
        (items, more, sizes)
    }

    #[tokio::test]
    async fn every_page_is_read_up_to_the_cap_and_one_item_more_tells_whether_there_are_more() {
        let (items, more, sizes) = paged(0).await;
        assert_eq!((items.len(), more, sizes), (0, false, vec![500]));

        let (items, more, sizes) = paged(1_200).await;
        assert_eq!(items, (0..1_200).collect::<Vec<_>>());
        assert_eq!((more, sizes), (false, vec![500, 500, 500]));

        // Exactly the cap: the last page says it was the last.
        let (items, more, sizes) = paged(2_000).await;
        assert_eq!((items.len(), more), (2_000, false));
        assert_eq!(sizes, [500, 500, 500, 500]);

        for total in [2_001, 5_000] {
            let (items, more, sizes) = paged(total).await;
            assert_eq!(items, (0..2_000).collect::<Vec<_>>());
            assert!(more);
            assert_eq!(sizes, [500, 500, 500, 500, 1]);
        }
    }

    #[tokio::test]
    async fn an_empty_page_ends_the_listing_even_with_a_token() {
        let mut calls = 0;
        let (items, more) = all_pages(|_page: PageRequest| {
            calls += 1;
            std::future::ready(Ok((Vec::<u8>::new(), "ff".to_owned())))
        })
        .await
        .unwrap();
        assert_eq!((items.len(), more, calls), (0, false, 1));
    }

    #[tokio::test]
    async fn a_failed_page_fails_the_listing() {
        let failed = all_pages(|_page: PageRequest| {
            std::future::ready(Err::<(Vec<u8>, String), _>(Status::not_found("gone")))
        })
        .await
        .unwrap_err();
        assert_eq!(failed.code(), tonic::Code::NotFound);
    }
}
