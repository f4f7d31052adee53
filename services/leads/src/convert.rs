//! Wire ⇄ domain: leads to protobuf messages, a wire lead input to a validated new lead, and
//! the enum mappings between the two.

use crm_platform::{
    error::{FieldViolation, Violations},
    time::to_timestamp,
};
use crm_proto::crm::{common::v1 as common, leads::v1 as pb};

use crate::domain::{
    assignment::CompanySizeBand,
    fairness::RepStage,
    lead::{Lead, LeadDraft, NewLead, SourceChannel},
    lifecycle::LeadStatus,
};

fn id(id: Option<uuid::Uuid>) -> String {
    id.map(|id| id.to_string()).unwrap_or_default()
}

pub fn lead(lead: &Lead) -> pb::Lead {
    let score = &lead.score;
    pb::Lead {
        id: lead.id.to_string(),
        first_name: lead.first_name.clone(),
        last_name: lead.last_name.clone(),
        email: lead.email.clone().unwrap_or_default(),
        phone: lead.phone.clone().unwrap_or_default(),
        company: lead.company.clone(),
        title: lead.title.clone(),
        website: lead.website.clone(),
        industry: lead.industry.clone(),
        territory: lead.territory.clone(),
        company_size: lead.company_size.map_or(0, size_band_to_wire),
        product_interest: lead.product_interest.clone(),
        description: lead.description.clone(),
        source_channel: channel_to_wire(lead.source_channel) as i32,
        campaign_id: id(lead.campaign_id),
        status: status_to_wire(lead.status) as i32,
        disqualify_reason: lead.disqualify_reason.clone().unwrap_or_default(),
        owner_id: id(lead.owner_id),
        owner_team_path: lead
            .owner_team_path
            .as_ref()
            .map(|path| path.to_string())
            .unwrap_or_default(),
        pool_team_path: lead.pool_team_path.to_string(),
        score: Some(pb::LeadScore {
            total: score.total,
            fit: score.fit,
            engagement: score.engagement,
            reasons: score
                .reasons
                .iter()
                .map(|stored| {
                    let reason = stored.reason();
                    pb::ScoreReason {
                        text: Some(reason.text().to_wire()),
                        label: reason.label,
                        points: reason.points,
                    }
                })
                .collect(),
        }),
        possible_duplicate_of: id(lead.possible_duplicate_of),
        duplicate_score: u32::from(lead.duplicate_score),
        merged_into_lead_id: id(lead.merged_into_lead_id),
        converted_account_id: id(lead.converted_account_id),
        converted_contact_id: id(lead.converted_contact_id),
        converted_opportunity_id: id(lead.converted_opportunity_id),
        assigned_at: lead.assigned_at.map(to_timestamp),
        last_touched_at: lead.last_touched_at.map(to_timestamp),
        version: lead.version as u64,
        created_at: Some(to_timestamp(lead.created_at)),
        updated_at: Some(to_timestamp(lead.updated_at)),
    }
}

fn status_to_wire(status: LeadStatus) -> pb::LeadStatus {
    match status {
        LeadStatus::New => pb::LeadStatus::New,
        LeadStatus::Assigned => pb::LeadStatus::Assigned,
        LeadStatus::Working => pb::LeadStatus::Working,
        LeadStatus::Qualified => pb::LeadStatus::Qualified,
        LeadStatus::Disqualified => pb::LeadStatus::Disqualified,
        LeadStatus::Converted => pb::LeadStatus::Converted,
    }
}

/// A wire lead to a validated [`NewLead`], its fields named `<path>.<field>`; every problem,
/// of the wire's enums and ids and of the domain's rules, is reported at once.
pub fn validate_lead_input(
    input: &pb::LeadInput,
    default_calling_code: Option<&str>,
    path: &str,
) -> Result<NewLead, Vec<FieldViolation>> {
    let mut violations = Violations::new();
    let field = |name: &str| format!("{path}.{name}");
    let company_size = match common::CompanySize::try_from(input.company_size) {
        Ok(size) => size_band(size),
        Err(_) => {
            violations.add(
                field("company_size"),
                format!("{} is not a company size", input.company_size),
            );
            None
        }
    };
    let source_channel = match pb::SourceChannel::try_from(input.source_channel) {
        Ok(channel) => channel_from_wire(channel),
        Err(_) => {
            violations.add(
                field("source_channel"),
                format!("{} is not a source channel", input.source_channel),
            );
            None
        }
    };
    let campaign_id = violations.optional_id(&field("campaign_id"), &input.campaign_id);
    LeadDraft {
        first_name: &input.first_name,
        last_name: &input.last_name,
        email: &input.email,
        phone: &input.phone,
        company: &input.company,
        title: &input.title,
        website: &input.website,
        industry: &input.industry,
        territory: &input.territory,
        company_size,
        product_interest: &input.product_interest,
        description: &input.description,
        source_channel,
        campaign_id,
    }
    .validate(default_calling_code, path, violations)
}

/// A wire company size; `None` for unspecified.
pub fn size_from_wire(value: i32) -> Result<Option<CompanySizeBand>, FieldViolation> {
    common::CompanySize::try_from(value)
        .map(size_band)
        .map_err(|_| FieldViolation::new("company_size", format!("{value} is not a company size")))
}

/// A wire channel; `None` for unspecified.
pub fn channel_from_wire(channel: pb::SourceChannel) -> Option<SourceChannel> {
    Some(match channel {
        pb::SourceChannel::Unspecified => return None,
        pb::SourceChannel::Api => SourceChannel::Api,
        pb::SourceChannel::Import => SourceChannel::Import,
        pb::SourceChannel::WebForm => SourceChannel::WebForm,
        pb::SourceChannel::Campaign => SourceChannel::Campaign,
        pb::SourceChannel::Manual => SourceChannel::Manual,
    })
}

pub fn channel_to_wire(channel: SourceChannel) -> pb::SourceChannel {
    match channel {
        SourceChannel::Api => pb::SourceChannel::Api,
        SourceChannel::Import => pb::SourceChannel::Import,
        SourceChannel::WebForm => pb::SourceChannel::WebForm,
        SourceChannel::Campaign => pb::SourceChannel::Campaign,
        SourceChannel::Manual => pb::SourceChannel::Manual,
    }
}

pub fn status_from_wire(value: i32) -> Option<LeadStatus> {
    match pb::LeadStatus::try_from(value).ok()? {
        pb::LeadStatus::Unspecified => None,
        pb::LeadStatus::New => Some(LeadStatus::New),
        pb::LeadStatus::Assigned => Some(LeadStatus::Assigned),
        pb::LeadStatus::Working => Some(LeadStatus::Working),
        pb::LeadStatus::Qualified => Some(LeadStatus::Qualified),
        pb::LeadStatus::Disqualified => Some(LeadStatus::Disqualified),
        pb::LeadStatus::Converted => Some(LeadStatus::Converted),
    }
}

pub fn size_band(size: common::CompanySize) -> Option<CompanySizeBand> {
    match size {
        common::CompanySize::Unspecified => None,
        common::CompanySize::Small => Some(CompanySizeBand::Small),
        common::CompanySize::Medium => Some(CompanySizeBand::Medium),
        common::CompanySize::Large => Some(CompanySizeBand::Large),
        common::CompanySize::Enterprise => Some(CompanySizeBand::Enterprise),
    }
}

pub fn size_band_to_wire(band: CompanySizeBand) -> i32 {
    (match band {
        CompanySizeBand::Small => common::CompanySize::Small,
        CompanySizeBand::Medium => common::CompanySize::Medium,
        CompanySizeBand::Large => common::CompanySize::Large,
        CompanySizeBand::Enterprise => common::CompanySize::Enterprise,
    }) as i32
}

/// A wire lifecycle stage as the roster keeps it; unspecified is established.
pub fn rep_stage_from_wire(stage: common::LifecycleStage) -> RepStage {
    match stage {
        common::LifecycleStage::New => RepStage::New,
        common::LifecycleStage::Senior => RepStage::Senior,
        common::LifecycleStage::Established | common::LifecycleStage::Unspecified => {
            RepStage::Established
        }
    }
}

pub fn rep_stage_to_wire(stage: RepStage) -> i32 {
    (match stage {
        RepStage::New => common::LifecycleStage::New,
        RepStage::Senior => common::LifecycleStage::Senior,
        RepStage::Established => common::LifecycleStage::Established,
    }) as i32
}
