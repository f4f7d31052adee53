//! Compensation plans (C1) as data: each version says, from its effective day, what a rep on it
//! earns per period — a base salary, commission tiered by attainment (applied marginally or
//! retroactively, paid on booking or on payment, with a ceiling and a cap), approved expenses,
//! a share of a team pool, SPIFFs on chosen products or pipelines, and a draw. Saving a plan
//! checks every version and names each thing that is wrong.
//!
//! Rates and attainment boundaries are percentages (5 = 5 %); amounts are in the plan's
//! currency, per period of the plan's period kind.

use chrono::NaiveDate;
use crm_platform::{
    error::{FieldViolation, Violations},
    fiscal::PeriodKind,
    money::CurrencyCode,
};
use rust_decimal::Decimal;
use uuid::Uuid;

/// How tiers apply to a period's credit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tiering {
    /// Only the part of the credit above a boundary earns the higher rate.
    Marginal,
    /// The whole period's credit earns the rate of the tier its total reaches.
    Retroactive,
}

/// When commission becomes payable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payout {
    /// In the period the deal is won.
    OnBooking,
    /// Earned when the deal is won, paid in proportion to what the customer has paid.
    OnPayment,
}

/// From `from_attainment` % of quota on (up to the next tier's), credit earns `rate` %.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tier {
    pub from_attainment: Decimal,
    pub rate: Decimal,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commission {
    /// Ordered by `from_attainment`, the first from 0; one tier is a flat rate. A tier above
    /// 100 % at a higher rate is an accelerator, one below at a lower rate a decelerator.
    pub tiers: Vec<Tier>,
    pub tiering: Tiering,
    pub payout: Payout,
    /// Credit beyond this attainment (%) earns nothing.
    pub attainment_ceiling: Option<Decimal>,
    /// The most commission (tiers and SPIFFs) a period pays.
    pub cap_per_period: Option<Decimal>,
}

impl Commission {
    /// Whether the rate depends on attainment, so a quota is needed.
    pub fn needs_quota(&self) -> bool {
        self.tiers.len() > 1 || self.attainment_ceiling.is_some()
    }
}

/// How a team pool is shared among the team's reps on the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PoolSplit {
    Evenly,
    /// In proportion to each rep's own bookings in the period.
    ByBookings,
    /// In proportion to stated weights (reps not named get nothing).
    ByWeights(Vec<(Uuid, Decimal)>),
}

/// `rate` % of the period's bookings of the team at `team_path` (and below) goes into a pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamPool {
    pub team_path: String,
    pub rate: Decimal,
    pub split: PoolSplit,
}

/// What a SPIFF pays per qualifying deal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpiffAmount {
    /// This much per deal (shared by the deal's splits).
    Fixed(Decimal),
    /// This percentage of the qualifying line items' amount (the whole deal's for a pipeline).
    Percent(Decimal),
}

/// A bonus on deals with any of `product_codes` among their lines or in any of `pipeline_ids`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spiff {
    pub name: String,
    pub product_codes: Vec<String>,
    pub pipeline_ids: Vec<Uuid>,
    pub amount: SpiffAmount,
}

/// An advance against commission: each period pays at least `amount`; a recoverable draw's
/// shortfall is owed and taken back from later periods' commission above the draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Draw {
    pub amount: Decimal,
    pub recoverable: bool,
}

/// One version of a plan, in force from `effective_from` until (before) `effective_until`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanVersion {
    pub version: u32,
    pub effective_from: NaiveDate,
    pub effective_until: Option<NaiveDate>,
    pub period: PeriodKind,
    pub currency: CurrencyCode,
    pub base_salary: Decimal,
    pub commission: Option<Commission>,
    pub reimburses_expenses: bool,
    pub expense_cap_per_period: Option<Decimal>,
    pub team_pool: Option<TeamPool>,
    pub spiffs: Vec<Spiff>,
    pub draw: Option<Draw>,
}

impl PlanVersion {
    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        self.effective_from <= day && self.effective_until.is_none_or(|until| day < until)
    }

    /// Every thing wrong with this version, fields named under `at` (e.g. `versions[1]`).
    pub fn check(&self, at: &str, violations: &mut Violations) {
        let field = |name: &str| format!("{at}.{name}");
        let minor = self.currency.minor_units();
        let mut amount = |name: &str, value: Decimal, positive: bool| {
            if value.is_sign_negative() || (positive && value.is_zero()) {
                let rule = if positive {
                    "greater than 0"
                } else {
                    "0 or more"
                };
                violations.add(field(name), format!("must be {rule}"));
            } else if value.normalize().scale() > minor {
                violations.add(
                    field(name),
                    format!("{} has {minor} decimals at most", self.currency),
                );
            }
        };
        amount("base_salary", self.base_salary, false);
        if let Some(cap) = self.expense_cap_per_period {
            amount("expense_cap_per_period", cap, true);
        }
        if let Some(draw) = &self.draw {
            amount("draw.amount", draw.amount, true);
        }
        if let Some(cap) = self
            .commission
            .as_ref()
            .and_then(|commission| commission.cap_per_period)
        {
            amount("commission.cap_per_period", cap, true);
        }
        for (index, spiff) in self.spiffs.iter().enumerate() {
            if let SpiffAmount::Fixed(value) = spiff.amount {
                amount(&format!("spiffs[{index}].amount"), value, true);
            }
        }
        if let Some(until) = self.effective_until
            && until <= self.effective_from
        {
            violations.add(field("effective_until"), "must be after effective_from");
        }
        if let Some(commission) = &self.commission {
            check_commission(&field("commission"), commission, violations);
        }
        if self.expense_cap_per_period.is_some() && !self.reimburses_expenses {
            violations.add(
                field("expense_cap_per_period"),
                "only a plan that reimburses expenses caps them",
            );
        }
        if let Some(pool) = &self.team_pool {
            check_pool(&field("team_pool"), pool, violations);
        }
        for (index, spiff) in self.spiffs.iter().enumerate() {
            check_spiff(&field(&format!("spiffs[{index}]")), spiff, violations);
        }
        if self.commission.is_none()
            && self.base_salary.is_zero()
            && self.team_pool.is_none()
            && self.spiffs.is_empty()
            && !self.reimburses_expenses
        {
            violations.add(at, "a plan version must pay something");
        }
        if self.draw.is_some() && self.commission.is_none() {
            violations.add(field("draw"), "a draw is an advance against commission");
        }
    }
}

fn percent(field: &str, value: Decimal, violations: &mut Violations) {
    if value.is_sign_negative() || value > Decimal::ONE_HUNDRED {
        violations.add(field, "must be a percentage from 0 to 100");
    }
}

fn check_commission(at: &str, commission: &Commission, violations: &mut Violations) {
    match commission.tiers.first() {
        None => violations.add(format!("{at}.tiers"), "must have at least one tier"),
        Some(first) if !first.from_attainment.is_zero() => violations.add(
            format!("{at}.tiers[0].from_attainment"),
            "the first tier starts at 0 % attainment",
        ),
        Some(_) => {}
    }
    for (index, tier) in commission.tiers.iter().enumerate() {
        percent(&format!("{at}.tiers[{index}].rate"), tier.rate, violations);
        if index > 0 && tier.from_attainment <= commission.tiers[index - 1].from_attainment {
            violations.add(
                format!("{at}.tiers[{index}].from_attainment"),
                format!(
                    "tiers are contiguous and ordered: must be above the previous tier's {} %",
                    commission.tiers[index - 1].from_attainment
                ),
            );
        }
    }
    if let Some(ceiling) = commission.attainment_ceiling {
        let last = commission
            .tiers
            .last()
            .map_or(Decimal::ZERO, |tier| tier.from_attainment);
        if ceiling <= last {
            violations.add(
                format!("{at}.attainment_ceiling"),
                format!("must be above the last tier's start ({last} %)"),
            );
        }
    }
}

fn check_pool(at: &str, pool: &TeamPool, violations: &mut Violations) {
    if crm_platform::auth::TeamPath::parse(&pool.team_path).is_err() {
        violations.add(
            format!("{at}.team_path"),
            "must be a team path like /east/east-1/",
        );
    }
    if pool.rate.is_zero() {
        violations.add(format!("{at}.rate"), "must be greater than 0");
    }
    percent(&format!("{at}.rate"), pool.rate, violations);
    if let PoolSplit::ByWeights(weights) = &pool.split {
        if weights.is_empty() {
            violations.add(format!("{at}.split.weights"), "must name at least one rep");
        }
        for (index, (user, weight)) in weights.iter().enumerate() {
            if !weight.is_sign_positive() || weight.is_zero() {
                violations.add(
                    format!("{at}.split.weights[{index}].weight"),
                    "must be greater than 0",
                );
            }
            if weights[..index].iter().any(|(other, _)| other == user) {
                violations.add(
                    format!("{at}.split.weights[{index}].user_id"),
                    "names a rep already weighted",
                );
            }
        }
    }
}

fn check_spiff(at: &str, spiff: &Spiff, violations: &mut Violations) {
    if spiff.name.trim().is_empty() {
        violations.add(format!("{at}.name"), "must not be empty");
    }
    if spiff.product_codes.is_empty() && spiff.pipeline_ids.is_empty() {
        violations.add(
            at,
            "must name the product codes or pipelines whose deals qualify",
        );
    }
    if let SpiffAmount::Percent(rate) = spiff.amount {
        if rate.is_zero() {
            violations.add(format!("{at}.amount"), "must be greater than 0");
        }
        percent(&format!("{at}.amount"), rate, violations);
    }
}

/// Checks a plan's versions together: each one's own rules, numbers 1, 2, … in order of their
/// effective days, and no two in force on one day.
pub fn check_versions(versions: &[PlanVersion]) -> Result<(), Vec<FieldViolation>> {
    let mut violations = Violations::new();
    if versions.is_empty() {
        violations.add("versions", "a plan has at least one version");
    }
    for (index, version) in versions.iter().enumerate() {
        let at = format!("versions[{index}]");
        version.check(&at, &mut violations);
        if version.version != index as u32 + 1 {
            violations.add(format!("{at}.version"), format!("must be {}", index + 1));
        }
        if let Some(previous) = index.checked_sub(1).map(|before| &versions[before]) {
            let overlaps = previous
                .effective_until
                .is_none_or(|until| until > version.effective_from);
            if version.effective_from <= previous.effective_from {
                violations.add(
                    format!("{at}.effective_from"),
                    "versions are ordered by their effective days",
                );
            } else if overlaps {
                violations.add(
                    format!("{at}.effective_from"),
                    format!(
                        "overlaps version {} (in force until {})",
                        previous.version,
                        previous
                            .effective_until
                            .map_or("further notice".to_owned(), |until| until.to_string())
                    ),
                );
            }
            if version.currency != previous.currency {
                violations.add(
                    format!("{at}.currency"),
                    "a plan pays in one currency across its versions",
                );
            }
        }
    }
    violations.into_result()
}

/// What saving `new` over `old` may not change, when the days before `locked_until` (the end
/// of the last closed period) have been paid: a version in force on one of them stays as it
/// was — but for ending it on a later day — and no other version may start before it.
pub fn check_locked(
    old: &[PlanVersion],
    new: &[PlanVersion],
    locked_until: NaiveDate,
) -> Result<(), Vec<FieldViolation>> {
    let mut violations = Violations::new();
    let unlocked = |until: Option<NaiveDate>| until.is_none_or(|until| until >= locked_until);
    for kept in old
        .iter()
        .filter(|version| version.effective_from < locked_until)
    {
        let at = new
            .iter()
            .position(|version| version.version == kept.version);
        let Some(index) = at else {
            violations.add(
                "versions",
                format!(
                    "version {} was in force in a closed period (before {locked_until}) and must stay",
                    kept.version
                ),
            );
            continue;
        };
        let saved = &new[index];
        let same_but_end = PlanVersion {
            effective_until: kept.effective_until,
            ..saved.clone()
        };
        if same_but_end != *kept {
            violations.add(
                format!("versions[{index}]"),
                format!(
                    "was in force in a closed period (before {locked_until}): only its end may change"
                ),
            );
        } else if saved.effective_until != kept.effective_until
            && !(unlocked(kept.effective_until) && unlocked(saved.effective_until))
        {
            violations.add(
                format!("versions[{index}].effective_until"),
                format!(
                    "may only end on or after {locked_until}, the end of the last closed period"
                ),
            );
        }
    }
    for (index, version) in new.iter().enumerate() {
        let was_locked = old
            .iter()
            .any(|kept| kept.version == version.version && kept.effective_from < locked_until);
        if !was_locked && version.effective_from < locked_until {
            violations.add(
                format!("versions[{index}].effective_from"),
                format!("must be on or after {locked_until}, the end of the last closed period"),
            );
        }
    }
    violations.into_result()
}

/// The version in force on `day`.
pub fn version_on(versions: &[PlanVersion], day: NaiveDate) -> Option<&PlanVersion> {
    versions.iter().find(|version| version.in_force_on(day))
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
