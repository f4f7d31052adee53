//! Customer care's RPCs (`CareService`): requests to domain inputs, every broken field named
//! at once; an unknown placeholder is the service's refusal, named.

use crm_platform::error::{Violations, optional_text, required_text};
use crm_proto::crm::opportunities::v1::{self as pb, care_service_server::CareService};
use tonic::{Request, Response, Status};

use super::{
    authenticated,
    deal_input::{id, version},
};
use crate::{
    convert::care as convert,
    error::OpportunitiesError,
    service::{Opportunities, TemplateDraft},
};

const MAX_NAME: usize = 200;
const MAX_SUBJECT: usize = 200;
const MAX_BODY: usize = 10_000;
const MAX_DAYS_BEFORE: u32 = 60;
const DEFAULT_WINDOW: u32 = 30;
const MAX_WINDOW: u32 = 366;

pub(crate) struct CareApi {
    opportunities: Opportunities,
}

impl CareApi {
    pub(crate) fn new(opportunities: Opportunities) -> Self {
        Self { opportunities }
    }
}

fn template_draft(input: Option<&pb::CareTemplateInput>) -> Result<TemplateDraft, Status> {
    let mut violations = Violations::new();
    let input = input.cloned().unwrap_or_default();
    let name = required_text(&mut violations, "template.name", &input.name, MAX_NAME);
    let kind = match pb::CareTemplateKind::try_from(input.kind) {
        Ok(pb::CareTemplateKind::Birthday) => "birthday",
        Ok(pb::CareTemplateKind::ContractAnniversary) => "contract_anniversary",
        Ok(pb::CareTemplateKind::Any) => "any",
        _ => {
            violations.add(
                "template.kind",
                "must be BIRTHDAY, CONTRACT_ANNIVERSARY or ANY",
            );
            ""
        }
    };
    let channel = match pb::CareChannel::try_from(input.channel) {
        Ok(pb::CareChannel::Letter) => "letter",
        Ok(pb::CareChannel::Message) => "message",
        _ => {
            violations.add("template.channel", "must be LETTER or MESSAGE");
            ""
        }
    };
    let subject = optional_text(
        &mut violations,
        "template.subject",
        &input.subject,
        MAX_SUBJECT,
    );
    let body = required_text(&mut violations, "template.body", &input.body, MAX_BODY);
    violations.into_result().map_err(OpportunitiesError::from)?;
    Ok(TemplateDraft {
        name,
        kind,
        channel,
        subject,
        body,
    })
}

fn one_date(field: &str, value: &str) -> Result<Option<chrono::NaiveDate>, Status> {
    let mut violations = Violations::new();
    let day = violations.optional_date(field, value);
    violations.into_result().map_err(OpportunitiesError::from)?;
    Ok(day)
}

#[tonic::async_trait]
impl CareService for CareApi {
    async fn get_care_settings(
        &self,
        request: Request<pb::GetCareSettingsRequest>,
    ) -> Result<Response<pb::GetCareSettingsResponse>, Status> {
        authenticated(&request)?;
        let settings = self.opportunities.care_settings().await?;
        Ok(Response::new(pb::GetCareSettingsResponse {
            settings: Some(convert::settings(&settings)),
        }))
    }

    async fn update_care_settings(
        &self,
        request: Request<pb::UpdateCareSettingsRequest>,
    ) -> Result<Response<pb::UpdateCareSettingsResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        for (field, value) in [
            ("birthday_days_before", request.birthday_days_before),
            ("anniversary_days_before", request.anniversary_days_before),
        ] {
            if value > MAX_DAYS_BEFORE {
                violations.add(field, format!("must be at most {MAX_DAYS_BEFORE}"));
            }
        }
        violations.into_result().map_err(OpportunitiesError::from)?;
        let expected = version(request.expected_version)?;
        let settings = self
            .opportunities
            .update_care_settings(
                &caller,
                request.birthday_days_before,
                request.anniversary_days_before,
                expected,
            )
            .await?;
        Ok(Response::new(pb::UpdateCareSettingsResponse {
            settings: Some(convert::settings(&settings)),
        }))
    }

    async fn create_care_template(
        &self,
        request: Request<pb::CreateCareTemplateRequest>,
    ) -> Result<Response<pb::CreateCareTemplateResponse>, Status> {
        let caller = authenticated(&request)?;
        let draft = template_draft(request.get_ref().template.as_ref())?;
        let template = self
            .opportunities
            .save_care_template(&caller, None, draft, None)
            .await?;
        Ok(Response::new(pb::CreateCareTemplateResponse {
            template: Some(convert::template(&template)),
        }))
    }

    async fn update_care_template(
        &self,
        request: Request<pb::UpdateCareTemplateRequest>,
    ) -> Result<Response<pb::UpdateCareTemplateResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let template_id = id("template_id", &request.template_id)?;
        let draft = template_draft(request.template.as_ref())?;
        let expected = version(request.expected_version)?;
        let template = self
            .opportunities
            .save_care_template(&caller, Some(template_id), draft, expected)
            .await?;
        Ok(Response::new(pb::UpdateCareTemplateResponse {
            template: Some(convert::template(&template)),
        }))
    }

    async fn archive_care_template(
        &self,
        request: Request<pb::ArchiveCareTemplateRequest>,
    ) -> Result<Response<pb::ArchiveCareTemplateResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let template_id = id("template_id", &request.template_id)?;
        let expected = version(request.expected_version)?;
        let template = self
            .opportunities
            .archive_care_template(&caller, template_id, expected)
            .await?;
        Ok(Response::new(pb::ArchiveCareTemplateResponse {
            template: Some(convert::template(&template)),
        }))
    }

    async fn list_care_templates(
        &self,
        request: Request<pb::ListCareTemplatesRequest>,
    ) -> Result<Response<pb::ListCareTemplatesResponse>, Status> {
        authenticated(&request)?;
        let templates = self
            .opportunities
            .list_care_templates(request.get_ref().include_archived)
            .await?;
        Ok(Response::new(pb::ListCareTemplatesResponse {
            templates: templates.iter().map(convert::template).collect(),
        }))
    }

    async fn render_care_template(
        &self,
        request: Request<pb::RenderCareTemplateRequest>,
    ) -> Result<Response<pb::RenderCareTemplateResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let template_id = id("template_id", &request.template_id)?;
        let contact_id = id("contact_id", &request.contact_id)?;
        let occurs_on = one_date("occurs_on", &request.occurs_on)?;
        let (subject, body) = self
            .opportunities
            .render_care_template(&caller, template_id, contact_id, occurs_on)
            .await?;
        Ok(Response::new(pb::RenderCareTemplateResponse {
            subject,
            body,
        }))
    }

    async fn list_care_reminders(
        &self,
        request: Request<pb::ListCareRemindersRequest>,
    ) -> Result<Response<pb::ListCareRemindersResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let from = one_date("from", &request.from)?;
        if request.days > MAX_WINDOW {
            return Err(OpportunitiesError::invalid(
                "days",
                format!("must be at most {MAX_WINDOW}"),
            )
            .into());
        }
        let days = if request.days == 0 {
            DEFAULT_WINDOW
        } else {
            request.days
        };
        let from = from.unwrap_or_else(|| crm_platform::time::now().date_naive());
        let reminders = self
            .opportunities
            .list_care_reminders(&caller, from, days)
            .await?;
        Ok(Response::new(pb::ListCareRemindersResponse {
            reminders: reminders.iter().map(convert::reminder).collect(),
        }))
    }
}
