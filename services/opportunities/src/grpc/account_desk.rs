//! The account desk's RPC (`AccountDeskService`): the account's id and the day, then one read.

use crm_platform::{error::Violations, paging::Page};
use crm_proto::crm::opportunities::v1::{
    self as pb, account_desk_service_server::AccountDeskService,
};
use tonic::{Request, Response, Status};

use super::{
    activities::ACTIVITIES_BY_TIME, authenticated, deal_input::id, expenses::EXPENSES_BY_DAY,
};
use crate::{
    convert::account_desk as wire,
    domain::account_desk::DESK_LIMIT,
    error::OpportunitiesError,
    service::{DeskPages, Opportunities},
};

pub(crate) struct AccountDeskApi {
    opportunities: Opportunities,
}

impl AccountDeskApi {
    pub(crate) fn new(opportunities: Opportunities) -> Self {
        Self { opportunities }
    }
}

#[tonic::async_trait]
impl AccountDeskService for AccountDeskApi {
    async fn get_account_desk(
        &self,
        request: Request<pb::GetAccountDeskRequest>,
    ) -> Result<Response<pb::GetAccountDeskResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let account_id = id("account_id", &request.account_id)?;
        let mut violations = Violations::new();
        let as_of = violations.optional_date("as_of", &request.as_of);
        violations.into_result().map_err(OpportunitiesError::from)?;
        // The first page of each listing the desk shares with the API, in the API's order.
        let pages = DeskPages {
            activities: Page::first(DESK_LIMIT as u32, ACTIVITIES_BY_TIME),
            expenses: Page::first(DESK_LIMIT as u32, EXPENSES_BY_DAY),
        };
        let desk = self
            .opportunities
            .account_desk(&caller, account_id, as_of, &pages)
            .await?;
        Ok(Response::new(pb::GetAccountDeskResponse {
            desk: Some(wire::desk(&desk)),
        }))
    }
}
