//! AccountViewService: the account 360 view over gRPC (and, transcoded from its annotation, at
//! `GET /v1/accountViews/{account_id}`).

use crm_platform::{auth::caller, ids::parse_id};
use crm_proto::crm::gateway::v1::{self as pb, account_view_service_server::AccountViewService};
use tonic::{Request, Response, Status};

use crate::{error::GatewayError, service::AccountViews};

#[derive(Clone)]
pub struct AccountViewApi {
    views: AccountViews,
}

impl AccountViewApi {
    pub fn new(views: AccountViews) -> Self {
        Self { views }
    }
}

#[tonic::async_trait]
impl AccountViewService for AccountViewApi {
    async fn get_account360(
        &self,
        request: Request<pb::GetAccount360Request>,
    ) -> Result<Response<pb::GetAccount360Response>, Status> {
        let caller = caller(&request)?;
        let account_id =
            parse_id("account_id", &request.get_ref().account_id).map_err(GatewayError::from)?;
        let view = self
            .views
            .account_360(&caller, request.metadata(), account_id)
            .await?;
        Ok(Response::new(view))
    }
}
