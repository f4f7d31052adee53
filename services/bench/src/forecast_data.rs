//! The `forecast` scenario's data and raw baselines: open deals as the opportunities service's
//! events describe them, spread over a fiscal year, 500 reps and the four open categories; and
//! the company's (or one rep's) weighted pipeline as one plain GROUP BY over the forecasting
//! service's own `deals` table, the baseline the service's sums are measured against.

use chrono::{Days, NaiveDate};
use crm_proto::crm::{
    common::v1::Money,
    opportunities::v1::{
        CorporateAmount, ForecastCategory, Opportunity, OpportunityAmountChanged,
        OpportunityCreated, OpportunityStatus, StageSummary,
    },
};
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use crate::opportunities::Person;

/// Deal ids are `DEAL_BASE + n`.
const DEAL_BASE: u128 = 0x01900000_0000_7000_8000_100000000000;

pub fn deal_id(n: usize) -> Uuid {
    Uuid::from_u128(DEAL_BASE + n as u128)
}

/// A fixed pseudo-random number for `n` and `salt` (splitmix64): the data is the same on every
/// run.
fn mixed(n: usize, salt: u64) -> u64 {
    let mut z = (n as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const CATEGORIES: [ForecastCategory; 4] = [
    ForecastCategory::Pipeline,
    ForecastCategory::BestCase,
    ForecastCategory::Commit,
    ForecastCategory::Omitted,
];

/// Deal `n`'s state at `version`: owned by one of `reps`, in a stage of one of the four open
/// categories at 10 to 90 %, 10,000 to 2,000,000 CNY (with `bump` yuan added: a later
/// version's amount change), expected to close on a day of the year from `year_start`.
pub fn deal(
    n: usize,
    reps: &[Person],
    year_start: NaiveDate,
    version: u64,
    bump: u64,
) -> Opportunity {
    let owner = &reps[n % reps.len()];
    let category = CATEGORIES[(mixed(n, 1) % 4) as usize];
    let probability = 10 + 10 * (mixed(n, 2) % 9) as u32;
    let yuan = 10_000 + mixed(n, 3) % 1_990_000 + bump;
    let amount = format!("{yuan}.{:02}", mixed(n, 4) % 100);
    let close = year_start
        .checked_add_days(Days::new(mixed(n, 5) % 365))
        .unwrap_or(year_start);
    let cny = Money {
        currency_code: "CNY".into(),
        amount: amount.clone(),
    };
    Opportunity {
        id: deal_id(n).to_string(),
        name: format!("Bench deal {n}"),
        account_id: Uuid::from_u128(DEAL_BASE + (1 << 40) + (n % 50_000) as u128).to_string(),
        owner_id: owner.id().to_string(),
        owner_team_path: owner.caller.team_path.as_str().to_owned(),
        pipeline_id: crate::opportunities::DIRECT.to_string(),
        stage: Some(StageSummary {
            stage_id: Uuid::from_u128(DEAL_BASE + (2 << 40) + category as u128).to_string(),
            name: format!("{category:?}"),
            forecast_category: category as i32,
            default_probability: probability,
            ..Default::default()
        }),
        effective_probability: probability,
        amount: Some(cny.clone()),
        corporate_amount: Some(CorporateAmount {
            amount: Some(cny),
            rate: "1".into(),
            rate_date: year_start.to_string(),
        }),
        expected_close_date: close.to_string(),
        status: OpportunityStatus::Open as i32,
        version,
        ..Default::default()
    }
}

pub fn created(deal: Opportunity) -> OpportunityCreated {
    OpportunityCreated {
        opportunity: Some(deal),
        ..Default::default()
    }
}

pub fn amount_changed(deal: Opportunity) -> OpportunityAmountChanged {
    OpportunityAmountChanged {
        opportunity: Some(deal),
        ..Default::default()
    }
}

/// What the plain GROUP BY counts: open deals of every category but omitted, their weighted
/// amounts, and the omitted ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawPipeline {
    pub open_deals: i64,
    pub open_weighted: Decimal,
    pub omitted_deals: i64,
}

/// The weighted pipeline of the open deals expected to close from `from` to before `until`,
/// straight from the `deals` table by category: the company's, or `owner`'s.
pub async fn raw_pipeline(
    pool: &PgPool,
    from: NaiveDate,
    until: NaiveDate,
    owner: Option<Uuid>,
) -> anyhow::Result<RawPipeline> {
    let rows: Vec<(i16, i64, Option<Decimal>, Option<Decimal>)> = sqlx::query_as(
        "SELECT category, count(*), sum(corporate_amount), \
         sum(corporate_amount * effective_probability / 100) FROM deals \
         WHERE status = 'open' AND expected_close_date >= $1 AND expected_close_date < $2 \
         AND ($3::uuid IS NULL OR owner_id = $3) GROUP BY category",
    )
    .bind(from)
    .bind(until)
    .bind(owner)
    .fetch_all(pool)
    .await?;
    let mut raw = RawPipeline {
        open_deals: 0,
        open_weighted: Decimal::ZERO,
        omitted_deals: 0,
    };
    for (category, count, _amount, weighted) in rows {
        if category == ForecastCategory::Omitted as i16 {
            raw.omitted_deals += count;
        } else {
            raw.open_deals += count;
            raw.open_weighted += weighted.unwrap_or_default();
        }
    }
    Ok(raw)
}
