//! Stored leads to protobuf messages, and the small enum mappings between wire and domain.

use crm_platform::time::to_timestamp;
use crm_proto::crm::{common::v1 as common, leads::v1 as pb};

use crate::{
    domain::{assignment::CompanySizeBand, fairness::RepStage, lifecycle::LeadStatus},
    store::LeadRecord,
};

fn id(id: Option<uuid::Uuid>) -> String {
    id.map(|id| id.to_string()).unwrap_or_default()
}

pub fn lead(lead: &LeadRecord) -> pb::Lead {
    let score = &lead.score.0;
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
        company_size: i32::from(lead.company_size),
        product_interest: lead.product_interest.clone(),
        description: lead.description.clone(),
        source_channel: i32::from(lead.source_channel),
        campaign_id: id(lead.campaign_id),
        status: status(&lead.status) as i32,
        disqualify_reason: lead.disqualify_reason.clone().unwrap_or_default(),
        owner_id: id(lead.owner_id),
        owner_team_path: lead.owner_team_path.clone().unwrap_or_default(),
        pool_team_path: lead.pool_team_path.clone(),
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
        duplicate_score: u32::try_from(lead.duplicate_score).unwrap_or_default(),
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

fn status(value: &str) -> pb::LeadStatus {
    match LeadStatus::parse(value) {
        Ok(LeadStatus::New) => pb::LeadStatus::New,
        Ok(LeadStatus::Assigned) => pb::LeadStatus::Assigned,
        Ok(LeadStatus::Working) => pb::LeadStatus::Working,
        Ok(LeadStatus::Qualified) => pb::LeadStatus::Qualified,
        Ok(LeadStatus::Disqualified) => pb::LeadStatus::Disqualified,
        Ok(LeadStatus::Converted) => pb::LeadStatus::Converted,
        Err(_) => pb::LeadStatus::Unspecified,
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

pub fn size_band(value: i16) -> Option<CompanySizeBand> {
    match common::CompanySize::try_from(i32::from(value)).ok()? {
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

/// The channel's name as policies and scoring use it ("import", "web_form").
pub fn channel_name(channel: i16) -> &'static str {
    match pb::SourceChannel::try_from(i32::from(channel)).unwrap_or(pb::SourceChannel::Unspecified)
    {
        pb::SourceChannel::Api | pb::SourceChannel::Unspecified => "api",
        pb::SourceChannel::Import => "import",
        pb::SourceChannel::WebForm => "web_form",
        pb::SourceChannel::Campaign => "campaign",
        pb::SourceChannel::Manual => "manual",
    }
}

pub fn rep_stage(value: &str) -> RepStage {
    match value {
        "new" => RepStage::New,
        "senior" => RepStage::Senior,
        _ => RepStage::Established,
    }
}

pub fn rep_stage_name(stage: common::LifecycleStage) -> &'static str {
    match stage {
        common::LifecycleStage::New => "new",
        common::LifecycleStage::Senior => "senior",
        common::LifecycleStage::Established | common::LifecycleStage::Unspecified => "established",
    }
}

pub fn rep_stage_to_wire(value: &str) -> i32 {
    (match value {
        "new" => common::LifecycleStage::New,
        "senior" => common::LifecycleStage::Senior,
        _ => common::LifecycleStage::Established,
    }) as i32
}
