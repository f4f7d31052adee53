//! The kinds of target a quota sets (F3) and each one's attainment, from counted inputs:
//! revenue (closed won), calls, meetings and visits per week (from the activity log), new
//! accounts (an account whose first won deal falls in the period), average deal size (won
//! amount ÷ won deals) and growth (percent over the same period last year). A team target is
//! any of these set for a team. Pure: the service counts, this divides — never by zero.

use crm_platform::money::round_commercial;
use rust_decimal::Decimal;

/// What a target measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TargetKind {
    /// Closed won revenue in the corporate currency.
    Revenue,
    CallsPerWeek,
    MeetingsPerWeek,
    VisitsPerWeek,
    NewAccounts,
    /// Won amount ÷ won deals, in the corporate currency.
    AverageDealSize,
    /// Percent of won revenue over the same period a year earlier.
    Growth,
}

/// How a kind's target and actual are expressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// An amount of money (the corporate currency).
    Money,
    /// A whole number (new accounts) or a rate per week (activities, 2 decimals).
    Count,
    /// A percent (2 decimals).
    Percent,
}

impl TargetKind {
    pub const ALL: [TargetKind; 7] = [
        TargetKind::Revenue,
        TargetKind::CallsPerWeek,
        TargetKind::MeetingsPerWeek,
        TargetKind::VisitsPerWeek,
        TargetKind::NewAccounts,
        TargetKind::AverageDealSize,
        TargetKind::Growth,
    ];

    /// How the store and the events name it.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Revenue => "revenue",
            TargetKind::CallsPerWeek => "calls_per_week",
            TargetKind::MeetingsPerWeek => "meetings_per_week",
            TargetKind::VisitsPerWeek => "visits_per_week",
            TargetKind::NewAccounts => "new_accounts",
            TargetKind::AverageDealSize => "average_deal_size",
            TargetKind::Growth => "growth",
        }
    }

    pub fn parse(text: &str) -> Option<TargetKind> {
        TargetKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    pub fn measure(self) -> Measure {
        match self {
            TargetKind::Revenue | TargetKind::AverageDealSize => Measure::Money,
            TargetKind::CallsPerWeek
            | TargetKind::MeetingsPerWeek
            | TargetKind::VisitsPerWeek
            | TargetKind::NewAccounts => Measure::Count,
            TargetKind::Growth => Measure::Percent,
        }
    }

    /// Whether a parent's target is the sum of its children's: revenue, activities and new
    /// accounts add up; an average or a growth rate does not, so it is neither decomposed
    /// nor checked.
    pub fn is_additive(self) -> bool {
        !matches!(self, TargetKind::AverageDealSize | TargetKind::Growth)
    }

    /// The decimals a target of the kind may have: the currency's for money, none for new
    /// accounts, 2 for a rate per week or a percent.
    pub fn places(self, currency_places: u32) -> u32 {
        match self {
            TargetKind::Revenue | TargetKind::AverageDealSize => currency_places,
            TargetKind::NewAccounts => 0,
            _ => 2,
        }
    }
}

/// What the service counted for a holder and a period.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counted {
    /// Closed won in the period, corporate currency.
    pub won_amount: Decimal,
    pub won_deals: u64,
    /// Closed won in the same period a year earlier.
    pub won_amount_a_year_earlier: Decimal,
    pub new_accounts: u64,
    pub calls: u64,
    pub meetings: u64,
    pub visits: u64,
    /// The days the activities were counted over: the period's, up to today for a period
    /// under way.
    pub days_counted: u32,
}

/// The actual of `kind`, rounded as the kind is shown (money to `currency_places`, rates and
/// percents to 2); `None` where it has no value yet (no won deal for an average, nothing
/// booked a year earlier for growth, no day counted for a rate).
pub fn actual(kind: TargetKind, counted: &Counted, currency_places: u32) -> Option<Decimal> {
    let places = kind.places(currency_places);
    exact_actual(kind, counted).map(|value| round_commercial(value, places))
}

fn exact_actual(kind: TargetKind, counted: &Counted) -> Option<Decimal> {
    match kind {
        TargetKind::Revenue => Some(counted.won_amount),
        TargetKind::CallsPerWeek => per_week(counted.calls, counted.days_counted),
        TargetKind::MeetingsPerWeek => per_week(counted.meetings, counted.days_counted),
        TargetKind::VisitsPerWeek => per_week(counted.visits, counted.days_counted),
        TargetKind::NewAccounts => Some(Decimal::from(counted.new_accounts)),
        TargetKind::AverageDealSize => ratio(counted.won_amount, Decimal::from(counted.won_deals)),
        TargetKind::Growth => exact_growth(counted.won_amount, counted.won_amount_a_year_earlier),
    }
}

/// Attainment of `target` by the exact actual of `kind`: actual ÷ target as a percent, 2
/// decimals; `None` when the target is 0 or the actual has no value. Counted from the
/// unrounded actual, so a rate of 2.258 calls a week against 3 is 75.27 %.
pub fn attainment(kind: TargetKind, target: Decimal, counted: &Counted) -> Option<Decimal> {
    percent(exact_actual(kind, counted)?, target)
}

/// `part` ÷ `whole` × 100 to 2 decimals; `None` when `whole` is 0 (or the quotient is beyond a
/// `Decimal`).
pub fn percent(part: Decimal, whole: Decimal) -> Option<Decimal> {
    let hundredfold = ratio(part, whole)?.checked_mul(Decimal::ONE_HUNDRED)?;
    Some(round_commercial(hundredfold, 2))
}

/// Growth of `this` over `a_year_earlier` in percent (exact); `None` when nothing was booked
/// a year earlier (growth from nothing has no percent).
fn exact_growth(this: Decimal, a_year_earlier: Decimal) -> Option<Decimal> {
    ratio(this.checked_sub(a_year_earlier)?, a_year_earlier)?.checked_mul(Decimal::ONE_HUNDRED)
}

/// `count` over `days` as a weekly rate (exact); `None` for no day.
pub fn per_week(count: u64, days: u32) -> Option<Decimal> {
    ratio(
        Decimal::from(count).checked_mul(Decimal::from(7))?,
        Decimal::from(days),
    )
}

fn ratio(numerator: Decimal, denominator: Decimal) -> Option<Decimal> {
    if denominator.is_zero() {
        return None;
    }
    numerator.checked_div(denominator)
}

#[cfg(test)]
#[path = "target_tests.rs"]
mod tests;
