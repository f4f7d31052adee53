//! Campaigns (L8): where leads come from and what it cost, so the funnel can say what each
//! lead and each won deal was worth.

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{
    auth::TeamPath,
    error::{FieldViolation, Violations, reasons},
    money::Money,
};
use uuid::Uuid;

use super::lead::SourceChannel;

/// A marketing campaign.
#[derive(Clone, Debug, PartialEq)]
pub struct Campaign {
    pub id: Uuid,
    pub name: String,
    /// `None`: the campaign did not say.
    pub channel: Option<SourceChannel>,
    pub cost: Money,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
}

impl Campaign {
    /// A new campaign, or every rule it breaks (fields named `campaign.<field>`).
    pub fn new(
        name: &str,
        channel: Option<SourceChannel>,
        cost: Money,
        starts_on: Option<NaiveDate>,
        ends_on: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<Campaign, Vec<FieldViolation>> {
        let mut violations = Violations::new();
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            violations.add("campaign.name", "must be 1 to 200 characters");
        }
        violations.take(cost.require_non_negative("campaign.cost"));
        if let (Some(start), Some(end)) = (starts_on, ends_on)
            && end < start
        {
            // Each date is valid alone: together they contradict (FAILED_PRECONDITION).
            violations.push(FieldViolation::refusal(
                reasons::INCONSISTENT_FIELDS,
                "campaign.ends_on",
                "must not be before starts_on",
            ));
        }
        violations.into_result()?;
        Ok(Campaign {
            id: Uuid::now_v7(),
            name: name.to_owned(),
            channel,
            cost,
            starts_on,
            ends_on,
            created_at: now,
        })
    }
}

/// A form on a website that captures leads for a team's pool (and a campaign), with a key
/// instead of a user's token.
#[derive(Clone, Debug, PartialEq)]
pub struct WebForm {
    pub id: Uuid,
    pub name: String,
    pub campaign_id: Option<Uuid>,
    /// Whose pool its leads go to.
    pub team_path: TeamPath,
    pub rate_limit_per_minute: u32,
    pub active: bool,
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;

    fn cny(amount: i64) -> Money {
        Money {
            currency: crm_platform::money::CurrencyCode::CNY,
            amount: Decimal::from(amount),
        }
    }

    #[test]
    fn a_campaign_is_named_costs_nothing_negative_and_ends_after_it_starts() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        let now = Utc::now();
        let expo = Campaign::new(" Expo ", None, cny(5000), Some(day(1)), Some(day(3)), now);
        assert_eq!(expo.unwrap().name, "Expo");
        let errors = Campaign::new("", None, cny(-1), Some(day(3)), Some(day(1)), now).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            ["campaign.name", "campaign.cost.amount", "campaign.ends_on"]
        );
        // Dates each valid, contradicting: a refusal for the data (422), not invalid input.
        let reversed = Campaign::new("Expo", None, cny(1), Some(day(3)), Some(day(1)), now);
        let refused = reversed.unwrap_err();
        assert_eq!(refused[0].reason, Some(reasons::INCONSISTENT_FIELDS));
    }
}
