//! Ravi's plan for the Contoso Line 3 deal (O12: its technical win a week late) and Ada's two
//! care templates (A6: a birthday message, an anniversary letter).
//!
//! The plan is written only when the deal has none (a second run finds it: ALREADY_EXISTS) and
//! the templates only when their names are free, so a second run writes nothing.

use chrono::{Days, Utc};
use crm_proto::crm::opportunities::v1::{
    AddMilestoneRequest, CareChannel, CareTemplateInput, CareTemplateKind,
    CreateCareTemplateRequest, CreateDealPlanRequest, MilestoneInput,
    care_service_client::CareServiceClient, deal_plan_service_client::DealPlanServiceClient,
};
use tonic::Code;
use uuid::Uuid;

use super::{ADA, Api, RAVI, failed, opportunities::CONTOSO_LINE_3_ID};

/// The plan's milestones: (name, due in days from today; negative: late).
const MILESTONES: &[(&str, i64)] = &[
    ("Technical win: Line 3 pilot accepted", -7),
    ("Commercial terms agreed with procurement", 20),
    ("Contract signed by Contoso's board", 55),
];

pub(super) async fn load(api: &Api) -> anyhow::Result<()> {
    let mut plans = DealPlanServiceClient::new(api.channel());
    let deal = Uuid::from_u128(CONTOSO_LINE_3_ID).to_string();
    let created = plans
        .create_deal_plan(api.as_member(
            &RAVI,
            CreateDealPlanRequest {
                opportunity_id: deal.clone(),
                objective: "Line 3 signed before the end of Contoso's budget year".into(),
            },
        ))
        .await;
    match created {
        Ok(_) => {
            let today = Utc::now().date_naive();
            for (name, due_in) in MILESTONES {
                let due = if *due_in < 0 {
                    today.checked_sub_days(Days::new(due_in.unsigned_abs()))
                } else {
                    today.checked_add_days(Days::new(*due_in as u64))
                };
                let request = AddMilestoneRequest {
                    opportunity_id: deal.clone(),
                    milestone: Some(MilestoneInput {
                        name: (*name).into(),
                        due_on: due.unwrap_or(today).to_string(),
                        ..Default::default()
                    }),
                    expected_version: 0,
                };
                plans
                    .add_milestone(api.as_member(&RAVI, request))
                    .await
                    .map_err(failed(format!("milestone {name}")))?;
            }
        }
        Err(status) if status.code() == Code::AlreadyExists => {}
        Err(status) => return Err(failed("the Line 3 plan")(status)),
    }
    let mut care = CareServiceClient::new(api.channel());
    let templates = [
        (
            "Birthday message",
            CareTemplateKind::Birthday,
            CareChannel::Message,
            "",
            "Happy birthday, {contact_name}! Best wishes from all of us at Northwind. — {owner_name}",
        ),
        (
            "Contract anniversary letter",
            CareTemplateKind::ContractAnniversary,
            CareChannel::Letter,
            "{years} years together: thank you, {account_name}",
            "Dear {contact_name},\n\non {date} it is {years} years since {account_name} and Northwind signed our first contract. Thank you for your trust.\n\nKind regards,\n{owner_name}",
        ),
    ];
    for (name, kind, channel, subject, body) in templates {
        let request = CreateCareTemplateRequest {
            template: Some(CareTemplateInput {
                name: name.into(),
                kind: kind.into(),
                channel: channel.into(),
                subject: subject.into(),
                body: body.into(),
            }),
        };
        match care
            .create_care_template(api.as_member(&ADA, request))
            .await
        {
            Ok(_) => {}
            Err(status) if status.code() == Code::AlreadyExists => {}
            Err(status) => return Err(failed(format!("care template {name}"))(status)),
        }
    }
    Ok(())
}
