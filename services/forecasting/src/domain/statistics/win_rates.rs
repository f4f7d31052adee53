//! Stage-to-win rates learned from history: of the closed deals that reached a stage, the share
//! that was won — what the stage has really been worth, beside the probability the pipeline's
//! designer gave it. An open deal's expected value counts at its stage's learned rate when
//! enough closed deals reached the stage to trust it, else at its nominal probability, and says
//! which.

use std::collections::{BTreeMap, BTreeSet};

use crm_platform::money::round_commercial;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{Overflow, add, div, mul};

/// A closed deal as the rates learn from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosedDeal {
    /// Every stage it was ever in (a set: a deal that went back and forth counts once).
    pub stages_reached: BTreeSet<Uuid>,
    pub won: bool,
}

/// What a stage has been worth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StageWinRate {
    pub stage_id: Uuid,
    /// Closed deals that reached the stage: the sample.
    pub closed: u64,
    /// Of those, the won.
    pub won: u64,
}

impl StageWinRate {
    /// `won ÷ closed`, exact, between 0 and 1 (the sample is never empty: a stage is only
    /// listed when a closed deal reached it).
    pub fn rate(&self) -> Result<Decimal, Overflow> {
        div(count_u64(self.won), count_u64(self.closed))
    }

    /// The rate as a percentage, two decimals (the kit's rounding of ratios).
    pub fn percent(&self) -> Result<Decimal, Overflow> {
        Ok(round_commercial(
            mul(self.rate()?, Decimal::ONE_HUNDRED)?,
            2,
        ))
    }

    /// Whether the sample is large enough to count open deals at the rate: at least
    /// `minimum_sample` closed deals (and at least one).
    pub fn trusted(&self, minimum_sample: u64) -> bool {
        self.closed >= minimum_sample.max(1)
    }
}

fn count_u64(n: u64) -> Decimal {
    Decimal::from(n)
}

/// The rates of every stage some closed deal reached.
pub fn learn<'a>(closed: impl IntoIterator<Item = &'a ClosedDeal>) -> BTreeMap<Uuid, StageWinRate> {
    let mut rates: BTreeMap<Uuid, StageWinRate> = BTreeMap::new();
    for deal in closed {
        for &stage_id in &deal.stages_reached {
            let rate = rates.entry(stage_id).or_insert(StageWinRate {
                stage_id,
                closed: 0,
                won: 0,
            });
            rate.closed += 1;
            rate.won += u64::from(deal.won);
        }
    }
    rates
}

/// An open deal to value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenDeal {
    pub stage_id: Uuid,
    /// In the corporate currency.
    pub amount: Decimal,
    /// 0 … 100: the deal's effective probability (its override, else its stage's default).
    pub nominal_probability: u8,
}

/// Where an expected value's probability came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateSource {
    /// The stage's learned rate, from a sample of at least the minimum.
    Learned,
    /// The deal's nominal probability: too few closed deals reached its stage.
    Nominal,
}

/// An open deal's worth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpectedValue {
    /// The amount × the probability used, rounded to the currency's minor units.
    pub amount: Decimal,
    pub source: RateSource,
}

/// `deal`'s expected value at its stage's learned rate when at least `minimum_sample` closed
/// deals reached the stage, else at its nominal probability. Multiplied before dividing, so
/// the one rounding is at the end.
pub fn expected_value(
    deal: &OpenDeal,
    rates: &BTreeMap<Uuid, StageWinRate>,
    minimum_sample: u64,
    minor_units: u32,
) -> Result<ExpectedValue, Overflow> {
    let (amount, source) = match rates.get(&deal.stage_id) {
        Some(rate) if rate.trusted(minimum_sample) => (
            div(
                mul(deal.amount, count_u64(rate.won))?,
                count_u64(rate.closed),
            )?,
            RateSource::Learned,
        ),
        _ => (
            div(
                mul(deal.amount, Decimal::from(deal.nominal_probability))?,
                Decimal::ONE_HUNDRED,
            )?,
            RateSource::Nominal,
        ),
    };
    Ok(ExpectedValue {
        amount: round_commercial(amount, minor_units),
        source,
    })
}

/// The open deals' totals: expected (learned rates where trusted) and nominal (every deal at
/// its nominal probability), each the sum of the deals' rounded values, as a list of them
/// would add up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PipelineValue {
    pub expected: Decimal,
    pub nominal: Decimal,
    /// How many deals counted at a learned rate.
    pub learned_deals: usize,
}

pub fn pipeline_value<'a>(
    deals: impl IntoIterator<Item = &'a OpenDeal>,
    rates: &BTreeMap<Uuid, StageWinRate>,
    minimum_sample: u64,
    minor_units: u32,
) -> Result<PipelineValue, Overflow> {
    let none = BTreeMap::new();
    let mut value = PipelineValue {
        expected: Decimal::ZERO,
        nominal: Decimal::ZERO,
        learned_deals: 0,
    };
    for deal in deals {
        let expected = expected_value(deal, rates, minimum_sample, minor_units)?;
        let nominal = expected_value(deal, &none, minimum_sample, minor_units)?;
        value.expected = add(value.expected, expected.amount)?;
        value.nominal = add(value.nominal, nominal.amount)?;
        value.learned_deals += usize::from(expected.source == RateSource::Learned);
    }
    Ok(value)
}

#[cfg(test)]
#[path = "win_rates_tests.rs"]
mod tests;
