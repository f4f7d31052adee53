//! A deal as the forecast counts it: the state every deal event of the opportunities service
//! carries, replaced only by a newer version (`crm_platform::deals::supersedes`), so the read
//! model is right under redelivery, replay and out-of-order delivery. An archived deal stays as
//! a tombstone at the version it reached, so an older event delivered late cannot bring it back.

use chrono::NaiveDate;
pub use crm_platform::deals::DealStatus;
use crm_platform::{
    auth::TeamPath,
    deals::read,
    money::{Money, Sign},
};
use crm_proto::crm::opportunities::v1::{self as pb, Opportunity};
use rust_decimal::Decimal;
use uuid::Uuid;

/// Where a deal stands in the forecast, from its stage (F2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ForecastCategory {
    Pipeline = 1,
    BestCase = 2,
    Commit = 3,
    Closed = 4,
    Omitted = 5,
}

impl ForecastCategory {
    pub fn from_wire(value: i32) -> Option<Self> {
        match pb::ForecastCategory::try_from(value).ok()? {
            pb::ForecastCategory::Pipeline => Some(ForecastCategory::Pipeline),
            pb::ForecastCategory::BestCase => Some(ForecastCategory::BestCase),
            pb::ForecastCategory::Commit => Some(ForecastCategory::Commit),
            pb::ForecastCategory::Closed => Some(ForecastCategory::Closed),
            pb::ForecastCategory::Omitted => Some(ForecastCategory::Omitted),
            pb::ForecastCategory::Unspecified => None,
        }
    }
}

/// One person's share of a deal's revenue (a deal's add up to 100).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Split {
    pub user_id: Uuid,
    pub percent: Decimal,
}

/// A deal of the pipeline read model.
#[derive(Clone, Debug, PartialEq)]
pub struct PipelineDeal {
    pub id: Uuid,
    pub version: i64,
    pub name: String,
    pub account_id: Uuid,
    pub owner_id: Uuid,
    /// Roll-ups along the team tree and visibility follow it.
    pub owner_team_path: TeamPath,
    pub pipeline_id: Uuid,
    pub stage_id: Uuid,
    pub stage_name: String,
    pub category: ForecastCategory,
    pub status: DealStatus,
    /// 0..=100: the override if set, else the stage's default.
    pub effective_probability: u8,
    /// In the deal's own currency.
    pub amount: Money,
    /// In the corporate currency with the rate the opportunities service used; `None` while
    /// the organisation had none, or no rate for the deal's currency.
    pub corporate_amount: Option<Money>,
    pub expected_close_date: NaiveDate,
    /// The day it was won or lost (UTC).
    pub closed_on: Option<NaiveDate>,
    pub splits: Vec<Split>,
}

impl PipelineDeal {
    /// Reads the deal's state from an event. An error names what is malformed: the producer
    /// sent data that will be as bad on every delivery.
    pub fn from_opportunity(opportunity: &Opportunity) -> Result<Self, String> {
        let stage = opportunity
            .stage
            .as_ref()
            .ok_or("opportunity.stage is missing")?;
        let category = ForecastCategory::from_wire(stage.forecast_category).ok_or_else(|| {
            format!(
                "opportunity.stage.forecast_category {} is not a category",
                stage.forecast_category
            )
        })?;
        let effective_probability = u8::try_from(opportunity.effective_probability)
            .ok()
            .filter(|probability| *probability <= 100)
            .ok_or_else(|| {
                format!(
                    "opportunity.effective_probability {} is not 0 to 100",
                    opportunity.effective_probability
                )
            })?;
        let amount = opportunity
            .amount
            .as_ref()
            .ok_or("opportunity.amount is missing")
            .and_then(|amount| {
                Money::parse("opportunity.amount", amount, Sign::NonNegative)
                    .map_err(|_| "opportunity.amount is not an amount of money")
            })?;
        let expected_close_date =
            NaiveDate::parse_from_str(opportunity.expected_close_date.trim(), "%Y-%m-%d").map_err(
                |_| {
                    format!(
                        "opportunity.expected_close_date {:?} is not an ISO date",
                        opportunity.expected_close_date
                    )
                },
            )?;
        let splits = opportunity
            .splits
            .iter()
            .map(|split| {
                Ok(Split {
                    user_id: read::id("splits.user_id", &split.user_id)?,
                    percent: split.percent.trim().parse().map_err(|_| {
                        format!(
                            "opportunity.splits.percent {:?} is not a decimal",
                            split.percent
                        )
                    })?,
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(PipelineDeal {
            id: read::id("id", &opportunity.id)?,
            version: read::version(opportunity)?,
            name: opportunity.name.clone(),
            account_id: read::id("account_id", &opportunity.account_id)?,
            owner_id: read::id("owner_id", &opportunity.owner_id)?,
            owner_team_path: TeamPath::parse(&opportunity.owner_team_path).map_err(|error| {
                format!(
                    "opportunity.owner_team_path {:?}: {error}",
                    opportunity.owner_team_path
                )
            })?,
            pipeline_id: read::id("pipeline_id", &opportunity.pipeline_id)?,
            stage_id: read::id("stage.stage_id", &stage.stage_id)?,
            stage_name: stage.name.clone(),
            category,
            status: read::status(opportunity)?,
            effective_probability,
            amount,
            corporate_amount: read::corporate_amount(opportunity)?,
            expected_close_date,
            closed_on: read::closed_on(opportunity)?,
            splits,
        })
    }
}

#[cfg(test)]
#[path = "deal_tests.rs"]
pub(crate) mod tests;
