use crm_proto::crm::leads::v1::{self as pb, web_form_service_server::WebFormService};
use tonic::{Request, Response, Status};

use crate::{error::LeadsError, service::Leads};

pub struct WebFormApi {
    leads: Leads,
}

impl WebFormApi {
    pub fn new(leads: Leads) -> Self {
        Self { leads }
    }
}

#[tonic::async_trait]
impl WebFormService for WebFormApi {
    async fn submit_web_form(
        &self,
        request: Request<pb::SubmitWebFormRequest>,
    ) -> Result<Response<pb::SubmitWebFormResponse>, Status> {
        let request = request.into_inner();
        let input = request
            .lead
            .ok_or_else(|| LeadsError::invalid("lead", "is required"))?;
        let receipt = self.leads.submit_web_form(&request.form_key, input).await?;
        Ok(Response::new(pb::SubmitWebFormResponse {
            receipt_id: receipt.to_string(),
        }))
    }
}
