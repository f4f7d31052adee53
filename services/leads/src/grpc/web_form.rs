use crm_proto::crm::leads::v1::{self as pb, web_form_service_server::WebFormService};
use tonic::{Request, Response, Status};

use crate::{convert, error::LeadsError, service::Leads};

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
        // The form decides the channel and the campaign.
        let input = pb::LeadInput {
            source_channel: pb::SourceChannel::WebForm as i32,
            campaign_id: String::new(),
            ..input
        };
        let lead = self
            .leads
            .validate_with_calling_code(|code| convert::validate_lead_input(&input, code, "lead"))
            .await?;
        let receipt = self.leads.submit_web_form(&request.form_key, lead).await?;
        Ok(Response::new(pb::SubmitWebFormResponse {
            receipt_id: receipt.to_string(),
        }))
    }
}
