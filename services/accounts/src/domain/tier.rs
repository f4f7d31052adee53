//! Tiering (A3): an account's tier from its trailing-12-month won revenue against the
//! organisation's thresholds, and a manager's override that wins over the computed tier.

use chrono::{DateTime, Days, NaiveDate, Utc};
use crm_platform::{
    error::{FieldViolation, reasons},
    money::{CurrencyCode, Money},
};
use rust_decimal::Decimal;
use uuid::Uuid;

/// An account's tier, ordered from the most valuable: `A < B < C`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccountTier {
    A = 1,
    B = 2,
    C = 3,
}

impl AccountTier {
    /// The number `crm.accounts.v1.AccountTier` and the database give it; 0 is none.
    pub fn from_number(value: i32) -> Result<Option<Self>, String> {
        match value {
            0 => Ok(None),
            1 => Ok(Some(AccountTier::A)),
            2 => Ok(Some(AccountTier::B)),
            3 => Ok(Some(AccountTier::C)),
            other => Err(format!("{other} is not an account tier")),
        }
    }

    pub fn number(self) -> i16 {
        self as i16
    }
}

/// Tier A at or above `a`, B at or above `b`, else C; both in one currency, neither negative,
/// `a` not below `b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TierThresholds {
    a: Money,
    b: Money,
}

impl TierThresholds {
    /// Checks the pair; violations name `a_threshold` and `b_threshold` as a request does.
    pub fn new(a: Money, b: Money) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Vec::new();
        for (field, money) in [("a_threshold", &a), ("b_threshold", &b)] {
            if let Err(violation) = money.require_non_negative(field) {
                violations.push(violation);
            }
        }
        if a.currency != b.currency {
            violations.push(FieldViolation::refusal(
                reasons::INCONSISTENT_FIELDS,
                "b_threshold.currency_code",
                format!("must be a_threshold's currency, {}", a.currency),
            ));
        } else if a.amount < b.amount {
            violations.push(FieldViolation::refusal(
                reasons::INCONSISTENT_FIELDS,
                "a_threshold.amount",
                format!("must not be below b_threshold ({})", b.amount.normalize()),
            ));
        }
        if violations.is_empty() {
            Ok(Self { a, b })
        } else {
            Err(violations)
        }
    }

    pub fn a(&self) -> Money {
        self.a
    }

    pub fn b(&self) -> Money {
        self.b
    }

    /// The currency revenue is counted in.
    pub fn currency(&self) -> CurrencyCode {
        self.a.currency
    }

    /// The tier of `revenue` (in [`TierThresholds::currency`]).
    pub fn tier_for(&self, revenue: Decimal) -> AccountTier {
        if revenue >= self.a.amount {
            AccountTier::A
        } else if revenue >= self.b.amount {
            AccountTier::B
        } else {
            AccountTier::C
        }
    }
}

/// The thresholds as an admin last set them; `version` 0 while never set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TierSettings {
    pub thresholds: Option<TierThresholds>,
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Days a win counts for: its closing day and the 364 days after it.
pub const TRAILING_DAYS: u64 = 365;

/// The first closing day that counts on `today` (UTC): the window is `today` and the 364 days
/// before it. A close date after `today` counts too (it is in the window, not past it).
pub fn window_start(today: NaiveDate) -> NaiveDate {
    today
        .checked_sub_days(Days::new(TRAILING_DAYS - 1))
        .unwrap_or(NaiveDate::MIN)
}

pub fn in_trailing_window(closed_on: NaiveDate, today: NaiveDate) -> bool {
    closed_on >= window_start(today)
}

/// A won deal as tiering sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Win {
    pub opportunity_id: Uuid,
    /// The corporate amount its events carried; absent while the organisation had no
    /// corporate currency or no rate for the deal's.
    pub corporate_amount: Option<Money>,
    pub closed_on: Option<NaiveDate>,
}

/// Why a win in the window was not counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uncounted {
    NoCorporateAmount,
    /// Amounts are never converted here: the events carry corporate amounts already, so one in
    /// another currency means the corporate currency and the thresholds disagree.
    OtherCurrency(CurrencyCode),
}

/// An account's figures as of one day.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub computed_tier: Option<AccountTier>,
    pub trailing_won_revenue: Option<Money>,
    pub window_start: NaiveDate,
    /// Wins in the window that could not be counted, for the log.
    pub uncounted: Vec<(Uuid, Uncounted)>,
}

/// The trailing revenue of `wins` and its tier on `today`. Without thresholds there is no
/// currency to count in: no revenue and no tier. A win without a close date is outside every
/// window.
pub fn evaluate(wins: &[Win], thresholds: Option<&TierThresholds>, today: NaiveDate) -> Evaluation {
    let window_start = window_start(today);
    let Some(thresholds) = thresholds else {
        return Evaluation {
            computed_tier: None,
            trailing_won_revenue: None,
            window_start,
            uncounted: Vec::new(),
        };
    };
    let currency = thresholds.currency();
    let mut total = Decimal::ZERO;
    let mut uncounted = Vec::new();
    for win in wins {
        if !win
            .closed_on
            .is_some_and(|day| in_trailing_window(day, today))
        {
            continue;
        }
        match win.corporate_amount {
            Some(amount) if amount.currency == currency => total += amount.amount,
            Some(amount) => uncounted.push((
                win.opportunity_id,
                Uncounted::OtherCurrency(amount.currency),
            )),
            None => uncounted.push((win.opportunity_id, Uncounted::NoCorporateAmount)),
        }
    }
    Evaluation {
        computed_tier: Some(thresholds.tier_for(total)),
        trailing_won_revenue: Some(Money {
            currency,
            amount: total,
        }),
        window_start,
        uncounted,
    }
}

/// An account's tiering: the override, the computed figures and what they were computed with.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tiering {
    pub tier_override: Option<AccountTier>,
    pub computed_tier: Option<AccountTier>,
    pub trailing_won_revenue: Option<Money>,
    /// The thresholds' version of the last evaluation (0: none).
    pub settings_version: i64,
    /// The window's first day at the last evaluation (`None`: never evaluated).
    pub window_start: Option<NaiveDate>,
}

impl Tiering {
    /// The account's tier: the override while one is set, else the computed one.
    pub fn effective(&self) -> Option<AccountTier> {
        self.tier_override.or(self.computed_tier)
    }

    /// After `evaluation` under the thresholds' `settings_version`; the override stays.
    pub fn evaluated(&self, evaluation: &Evaluation, settings_version: i64) -> Tiering {
        Tiering {
            tier_override: self.tier_override,
            computed_tier: evaluation.computed_tier,
            trailing_won_revenue: evaluation.trailing_won_revenue,
            settings_version,
            window_start: Some(evaluation.window_start),
        }
    }
}

/// Why an account's tier changed (`AccountTierChanged.reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TierChangeReason {
    RevenueChanged,
    AgedOut,
    ThresholdsChanged,
    AccountsMerged,
    OverrideSet,
    OverrideCleared,
}

impl TierChangeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            TierChangeReason::RevenueChanged => "revenue_changed",
            TierChangeReason::AgedOut => "aged_out",
            TierChangeReason::ThresholdsChanged => "thresholds_changed",
            TierChangeReason::AccountsMerged => "accounts_merged",
            TierChangeReason::OverrideSet => "override_set",
            TierChangeReason::OverrideCleared => "override_cleared",
        }
    }

    /// Why a re-evaluation by the periodic job was due: thresholds the account was not
    /// evaluated with, or else wins that left the window.
    pub fn for_reevaluation(tiering: &Tiering, settings: &TierSettings) -> Self {
        if tiering.settings_version != settings.version {
            TierChangeReason::ThresholdsChanged
        } else {
            TierChangeReason::AgedOut
        }
    }

    /// A manager set (`Some`) or cleared (`None`) the override.
    pub fn for_override(tier_override: Option<AccountTier>) -> Self {
        match tier_override {
            Some(_) => TierChangeReason::OverrideSet,
            None => TierChangeReason::OverrideCleared,
        }
    }
}

#[cfg(test)]
mod tests;
