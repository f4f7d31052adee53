//! A converted lead becomes a deal (L6 → O2), exactly once: the deal takes the id the leads
//! service chose in `LeadConverted`, so a redelivery or a replay finds it and creates nothing.

use std::{collections::BTreeMap, str::FromStr};

use chrono::{Days, NaiveDate};
use crm_platform::{
    auth::TeamPath,
    ids::parse_id,
    money::{CurrencyCode, Money, Sign},
    org::OrgDirectory,
};
use crm_proto::crm::leads::v1::LeadConverted;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Opportunities, Result, deals::pipeline_of, to_corporate};
use crate::{
    domain::opportunity::{self, Opportunity, OpportunityStatus},
    error::OpportunitiesError,
    store::{self, replicas::ReplicaRecord},
};

/// A converted deal without a close date closes this many days after conversion.
const DEFAULT_CLOSE_IN_DAYS: u64 = 90;

/// The currency of a converted deal that names no amount: the corporate one, else CNY (the
/// currency the organisation's first deployment sells in).
const FALLBACK_CURRENCY: &str = "CNY";

impl Opportunities {
    /// Creates the deal a lead's conversion announced, in the handler's transaction; a deal
    /// with the event's id already existing (redelivery, replay) is left as it is.
    pub(crate) async fn apply_lead_conversion(
        &self,
        connection: &mut PgConnection,
        conversion: &LeadConverted,
    ) -> Result<()> {
        let id = parse_id("opportunity_id", &conversion.opportunity_id)?;
        let account_id = parse_id("account_id", &conversion.account_id)?;
        let owner_id = parse_id("owner_id", &conversion.owner_id)?;
        let owner_team_path = TeamPath::parse(&conversion.owner_team_path)
            .map_err(|error| OpportunitiesError::invalid("owner_team_path", error))?;
        // The account and contact the accounts service creates from the same event: known here
        // at version 0 until its own events arrive, so the committee can name the contact.
        store::replicas::upsert_account(
            connection,
            &ReplicaRecord {
                id: account_id,
                name: conversion.account_name.clone(),
                status: 1,
                merged_into: None,
                version: 0,
                owner: Some((owner_id, owner_team_path.to_string())),
            },
        )
        .await?;
        if let Ok(contact_id) = parse_id("contact_id", &conversion.contact_id) {
            store::replicas::upsert_contact(
                connection,
                &ReplicaRecord {
                    id: contact_id,
                    name: conversion.contact_full_name.clone(),
                    status: 1,
                    merged_into: None,
                    version: 0,
                    owner: None,
                },
                account_id,
            )
            .await?;
        }
        if store::deals::get_deal(connection, id, false)
            .await?
            .is_some()
        {
            return Ok(());
        }
        let Some(pipeline_id) = store::pipelines::default_pipeline_id(connection).await? else {
            return Err(OpportunitiesError::unusable_reference(
                "opportunity_id",
                "cannot be created: the organisation has no default pipeline",
            ));
        };
        let pipeline = store::pipelines::get_pipeline(connection, pipeline_id, false)
            .await?
            .ok_or_else(|| OpportunitiesError::not_found("pipeline", pipeline_id))?;
        let stage = pipeline
            .first_open_stage()
            .ok_or_else(|| {
                OpportunitiesError::unusable_reference(
                    "opportunity_id",
                    "cannot be created: the default pipeline has no open stage in use",
                )
            })?
            .clone();
        let amount = match &conversion.opportunity_amount {
            Some(amount) => Money::parse("opportunity_amount", amount, Sign::NonNegative)?,
            None => {
                let currency = match OrgDirectory::settings(&mut *connection)
                    .await?
                    .corporate_currency
                {
                    Some(currency) => currency,
                    None => CurrencyCode::from_str(FALLBACK_CURRENCY)
                        .expect("the fallback currency is an active code"),
                };
                Money::zero(currency)
            }
        };
        let now = crm_platform::time::now();
        let expected_close_date = match conversion.expected_close_date.trim() {
            "" => now.date_naive() + Days::new(DEFAULT_CLOSE_IN_DAYS),
            text => NaiveDate::from_str(text)
                .map_err(|_| OpportunitiesError::invalid("expected_close_date", "is not a date"))?,
        };
        let campaign_id = match conversion.campaign_id.trim() {
            "" => None,
            text => Some(parse_id("campaign_id", text)?),
        };
        let source_lead_id = conversion
            .lead
            .as_ref()
            .and_then(|lead| Uuid::parse_str(&lead.id).ok());
        // No rate yet is no reason to lose a conversion: the deal keeps no corporate amount
        // until its amount next changes (docs/events.md).
        let corporate = to_corporate(connection, &amount, now.date_naive()).await?;
        let name = match conversion.opportunity_name.trim() {
            "" => conversion.account_name.trim().to_owned(),
            name => name.to_owned(),
        };
        let deal = Opportunity {
            id,
            name,
            account_id,
            owner_id,
            owner_team_path,
            pipeline_id: pipeline.id,
            stage_id: stage.id,
            status: OpportunityStatus::Open,
            probability_override: None,
            effective_probability: stage.default_probability,
            amount,
            corporate,
            expected_close_date,
            next_step: String::new(),
            source_lead_id,
            campaign_id,
            custom_fields: BTreeMap::new(),
            line_items: Vec::new(),
            team: Vec::new(),
            splits: opportunity::owner_split(owner_id),
            competitors: Vec::new(),
            committee: Vec::new(),
            outcome: None,
            closed_from_stage_id: None,
            stage_entered_at: now,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        if store::deals::insert_deal(connection, &deal, Some(owner_id)).await? {
            let pipeline = pipeline_of(connection, &deal).await?;
            self.record_creation(connection, &deal, &pipeline, Some(owner_id))
                .await?;
        }
        Ok(())
    }
}
