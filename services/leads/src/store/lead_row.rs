//! A lead's row: the stored form of [`Lead`], its codes for enums, and the conversions both
//! ways. A stored value this version does not know is an error, never a default.

use chrono::{DateTime, Utc};
use crm_platform::auth::TeamPath;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::{
    assignment::CompanySizeBand,
    lead::{Lead, SourceChannel, StoredScore},
    lifecycle::LeadStatus,
};

/// A lead as its row holds it (and as merge snapshots keep it, as JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub(super) struct LeadRow {
    pub(super) id: Uuid,
    pub(super) first_name: String,
    pub(super) last_name: String,
    pub(super) email: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) company: String,
    pub(super) title: String,
    pub(super) website: String,
    pub(super) industry: String,
    pub(super) territory: String,
    pub(super) company_size: i16,
    pub(super) product_interest: String,
    pub(super) description: String,
    pub(super) source_channel: i16,
    pub(super) campaign_id: Option<Uuid>,
    pub(super) status: String,
    pub(super) disqualify_reason: Option<String>,
    pub(super) owner_id: Option<Uuid>,
    pub(super) owner_team_path: Option<String>,
    pub(super) held_by_claim: bool,
    pub(super) pool_team_path: String,
    pub(super) score_total: i32,
    pub(super) score: Json<StoredScore>,
    pub(super) possible_duplicate_of: Option<Uuid>,
    pub(super) duplicate_score: i16,
    pub(super) merged_into_lead_id: Option<Uuid>,
    pub(super) converted_account_id: Option<Uuid>,
    pub(super) converted_contact_id: Option<Uuid>,
    pub(super) converted_opportunity_id: Option<Uuid>,
    pub(super) converted_at: Option<DateTime<Utc>>,
    pub(super) assigned_at: Option<DateTime<Utc>>,
    pub(super) last_touched_at: Option<DateTime<Utc>>,
    pub(super) recycle_warned_at: Option<DateTime<Utc>>,
    pub(super) version: i64,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
}

/// A stored value this version does not know: corrupt data, never a default.
fn corrupt(what: &str, value: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("stored lead {what} {value} is not one this service knows").into())
}

fn stored_team(path: &str) -> sqlx::Result<TeamPath> {
    TeamPath::parse(path).map_err(|_| corrupt("team path", format!("{path:?}")))
}

/// The stored code of a company size (the wire's `CompanySize` number; 0 for none).
pub(super) fn size_code(size: Option<CompanySizeBand>) -> i16 {
    match size {
        None => 0,
        Some(CompanySizeBand::Small) => 1,
        Some(CompanySizeBand::Medium) => 2,
        Some(CompanySizeBand::Large) => 3,
        Some(CompanySizeBand::Enterprise) => 4,
    }
}

fn size_of_code(code: i16) -> sqlx::Result<Option<CompanySizeBand>> {
    Ok(match code {
        0 => None,
        1 => Some(CompanySizeBand::Small),
        2 => Some(CompanySizeBand::Medium),
        3 => Some(CompanySizeBand::Large),
        4 => Some(CompanySizeBand::Enterprise),
        other => return Err(corrupt("company size", other)),
    })
}

/// The stored code of a source channel (the wire's `SourceChannel` number).
pub(super) fn channel_code(channel: SourceChannel) -> i16 {
    match channel {
        SourceChannel::Api => 1,
        SourceChannel::Import => 2,
        SourceChannel::WebForm => 3,
        SourceChannel::Campaign => 4,
        SourceChannel::Manual => 5,
    }
}

pub(super) fn channel_of_code(code: i16) -> sqlx::Result<SourceChannel> {
    Ok(match code {
        1 => SourceChannel::Api,
        2 => SourceChannel::Import,
        3 => SourceChannel::WebForm,
        4 => SourceChannel::Campaign,
        5 => SourceChannel::Manual,
        other => return Err(corrupt("source channel", other)),
    })
}

impl TryFrom<LeadRow> for Lead {
    type Error = sqlx::Error;

    fn try_from(row: LeadRow) -> sqlx::Result<Lead> {
        Ok(Lead {
            id: row.id,
            first_name: row.first_name,
            last_name: row.last_name,
            email: row.email,
            phone: row.phone,
            company: row.company,
            title: row.title,
            website: row.website,
            industry: row.industry,
            territory: row.territory,
            company_size: size_of_code(row.company_size)?,
            product_interest: row.product_interest,
            description: row.description,
            source_channel: channel_of_code(row.source_channel)?,
            campaign_id: row.campaign_id,
            status: LeadStatus::parse(&row.status).map_err(|_| corrupt("status", &row.status))?,
            disqualify_reason: row.disqualify_reason,
            owner_id: row.owner_id,
            owner_team_path: row
                .owner_team_path
                .as_deref()
                .map(stored_team)
                .transpose()?,
            held_by_claim: row.held_by_claim,
            pool_team_path: stored_team(&row.pool_team_path)?,
            score: row.score.0,
            possible_duplicate_of: row.possible_duplicate_of,
            duplicate_score: u8::try_from(row.duplicate_score)
                .map_err(|_| corrupt("duplicate score", row.duplicate_score))?,
            merged_into_lead_id: row.merged_into_lead_id,
            converted_account_id: row.converted_account_id,
            converted_contact_id: row.converted_contact_id,
            converted_opportunity_id: row.converted_opportunity_id,
            converted_at: row.converted_at,
            assigned_at: row.assigned_at,
            last_touched_at: row.last_touched_at,
            recycle_warned_at: row.recycle_warned_at,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

impl From<&Lead> for LeadRow {
    fn from(lead: &Lead) -> LeadRow {
        LeadRow {
            id: lead.id,
            first_name: lead.first_name.clone(),
            last_name: lead.last_name.clone(),
            email: lead.email.clone(),
            phone: lead.phone.clone(),
            company: lead.company.clone(),
            title: lead.title.clone(),
            website: lead.website.clone(),
            industry: lead.industry.clone(),
            territory: lead.territory.clone(),
            company_size: size_code(lead.company_size),
            product_interest: lead.product_interest.clone(),
            description: lead.description.clone(),
            source_channel: channel_code(lead.source_channel),
            campaign_id: lead.campaign_id,
            status: lead.status.as_str().to_owned(),
            disqualify_reason: lead.disqualify_reason.clone(),
            owner_id: lead.owner_id,
            owner_team_path: lead.owner_team_path.as_ref().map(|path| path.to_string()),
            held_by_claim: lead.held_by_claim,
            pool_team_path: lead.pool_team_path.to_string(),
            score_total: lead.score.total,
            score: Json(lead.score.clone()),
            possible_duplicate_of: lead.possible_duplicate_of,
            duplicate_score: i16::from(lead.duplicate_score),
            merged_into_lead_id: lead.merged_into_lead_id,
            converted_account_id: lead.converted_account_id,
            converted_contact_id: lead.converted_contact_id,
            converted_opportunity_id: lead.converted_opportunity_id,
            converted_at: lead.converted_at,
            assigned_at: lead.assigned_at,
            last_touched_at: lead.last_touched_at,
            recycle_warned_at: lead.recycle_warned_at,
            version: lead.version,
            created_at: lead.created_at,
            updated_at: lead.updated_at,
        }
    }
}

/// A lead as a merge keeps it (the row's JSON form, so snapshots stored before stay readable).
pub(crate) fn snapshot(lead: &Lead) -> serde_json::Value {
    serde_json::to_value(LeadRow::from(lead)).expect("a lead row serialises")
}

/// A lead back from [`snapshot`]; an error for a snapshot this version cannot read.
pub(crate) fn from_snapshot(value: serde_json::Value) -> Result<Lead, String> {
    let row: LeadRow = serde_json::from_value(value).map_err(|error| error.to_string())?;
    Lead::try_from(row).map_err(|error| error.to_string())
}

pub(super) fn leads(rows: Vec<LeadRow>) -> sqlx::Result<Vec<Lead>> {
    rows.into_iter().map(Lead::try_from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> LeadRow {
        let now = Utc::now();
        LeadRow {
            id: Uuid::now_v7(),
            first_name: "Li".into(),
            last_name: "Wei".into(),
            email: Some("li.wei@contoso.cn".into()),
            phone: None,
            company: "Contoso".into(),
            title: String::new(),
            website: String::new(),
            industry: String::new(),
            territory: "east".into(),
            company_size: 3,
            product_interest: String::new(),
            description: String::new(),
            source_channel: 2,
            campaign_id: None,
            status: "assigned".into(),
            disqualify_reason: None,
            owner_id: Some(Uuid::now_v7()),
            owner_team_path: Some("/northwind/east/".into()),
            held_by_claim: false,
            pool_team_path: "/northwind/".into(),
            score_total: 0,
            score: Json(StoredScore::default()),
            possible_duplicate_of: None,
            duplicate_score: 0,
            merged_into_lead_id: None,
            converted_account_id: None,
            converted_contact_id: None,
            converted_opportunity_id: None,
            converted_at: None,
            assigned_at: Some(now),
            last_touched_at: Some(now),
            recycle_warned_at: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn a_row_reads_back_typed_and_writes_back_the_same() {
        let row = row();
        let lead = Lead::try_from(row.clone()).unwrap();
        assert_eq!(lead.status, LeadStatus::Assigned);
        assert_eq!(lead.company_size, Some(CompanySizeBand::Large));
        assert_eq!(lead.source_channel, SourceChannel::Import);
        assert_eq!(lead.pool_team_path.as_str(), "/northwind/");
        assert_eq!(LeadRow::from(&lead), row);
    }

    /// The drift this replaces: a status the service did not know was read as `new`.
    #[test]
    fn an_unknown_stored_value_is_an_error_not_a_default() {
        let corrupt_rows = [
            LeadRow {
                status: "archived".into(),
                ..row()
            },
            LeadRow {
                company_size: 9,
                ..row()
            },
            LeadRow {
                source_channel: 0,
                ..row()
            },
            LeadRow {
                pool_team_path: "not a path".into(),
                ..row()
            },
            LeadRow {
                duplicate_score: -1,
                ..row()
            },
        ];
        for corrupt in corrupt_rows {
            assert!(matches!(
                Lead::try_from(corrupt),
                Err(sqlx::Error::Decode(_))
            ));
        }
    }

    #[test]
    fn a_merge_snapshot_round_trips() {
        let lead = Lead::try_from(row()).unwrap();
        assert_eq!(from_snapshot(snapshot(&lead)).unwrap(), lead);
    }
}
