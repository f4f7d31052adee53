//! Statements (C4): what a rep earns in one period under one plan version, line by line, each
//! line naming the deal, the plan version, the component, the rate or tier and the base it
//! applied to. Computed from the period's ledger entries and what earlier statements paid on
//! each deal, deterministically: the same inputs give the same lines, in the same order, to the
//! cent.
//!
//! The rules (docs/capabilities.md, C4):
//! - bookings count towards attainment in ledger order; a booking reversed in the same period
//!   counts nowhere; a booking of an earlier period reversed in this one is clawed back — every
//!   line earlier statements paid on the deal, exactly;
//! - on an on-payment plan the booking's commission is earned (shown, not paid) and released as
//!   the customer pays: cumulatively, earned × collected ÷ booked, less what was released before
//!   (so a refund releases a negative amount);
//! - each line is rounded once, half to even, to the currency's minor unit ([`round_line`]);
//!   the statement's total is the sum of its payable lines.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use crm_platform::money::{CurrencyCode, round_half_even};
use rust_decimal::Decimal;
use uuid::Uuid;

pub use super::settlement::DealHistory;
use super::{
    assignment::proration,
    credit::{Credit, CreditKind},
    plan::{Payout, PlanVersion, PoolSplit, Spiff, SpiffAmount},
    settlement::{self, Earned},
    tiers::Schedule,
};

/// The one rounding of compensation: a line's exact amount, half to even, to the currency's
/// minor unit.
pub fn round_line(value: Decimal, currency: CurrencyCode) -> Decimal {
    round_half_even(value, currency.minor_units())
}

/// What a line pays for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Component {
    BaseSalary,
    /// Commission paid on booking, one line per tier a credit falls in.
    Commission,
    /// Commission earned on booking by an on-payment plan: shown, paid as released.
    CommissionEarned,
    /// The part of earned commission the customer's payments release.
    CommissionReleased,
    Spiff,
    /// Commission (and SPIFFs) above the plan's cap per period, taken off.
    CommissionCap,
    /// What earlier statements paid on a deal that is no longer won, taken back.
    Clawback,
    Expense,
    /// Expenses above the plan's cap per period, not reimbursed.
    ExpenseCap,
    TeamPool,
    /// The draw topping commission up to its amount.
    Draw,
    /// A recoverable draw paid earlier, taken back from commission above the draw.
    DrawRecovery,
    /// An audited manual adjustment (or a late entry of a closed period).
    Adjustment,
}

impl Component {
    /// Whether the line is paid (in the total); earned-on-payment lines only explain.
    pub fn is_paid(self) -> bool {
        self != Component::CommissionEarned
    }

    /// Whether the draw counts the line as commission.
    fn is_commission(self) -> bool {
        matches!(
            self,
            Component::Commission
                | Component::CommissionReleased
                | Component::Spiff
                | Component::CommissionCap
                | Component::Clawback
                | Component::TeamPool
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Component::BaseSalary => "base_salary",
            Component::Commission => "commission",
            Component::CommissionEarned => "commission_earned",
            Component::CommissionReleased => "commission_released",
            Component::Spiff => "spiff",
            Component::CommissionCap => "commission_cap",
            Component::Clawback => "clawback",
            Component::Expense => "expense",
            Component::ExpenseCap => "expense_cap",
            Component::TeamPool => "team_pool",
            Component::Draw => "draw",
            Component::DrawRecovery => "draw_recovery",
            Component::Adjustment => "adjustment",
        }
    }
}

/// One line of a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub component: Component,
    pub deal_id: Option<Uuid>,
    pub deal_name: String,
    /// The ledger entry the line applies to.
    pub credit_id: Option<Uuid>,
    pub plan_version: u32,
    /// The commission tier's index (from 0) in the plan version.
    pub tier: Option<usize>,
    /// The percentage applied to `base`.
    pub rate: Option<Decimal>,
    /// What the rate applied to, exact.
    pub base: Decimal,
    /// Rounded by [`round_line`].
    pub amount: Decimal,
    /// In words, for the rep.
    pub note: String,
}

/// The rep's part of a team pool: the team's bookings in the period and how the pool is shared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolShare {
    pub team_bookings: Decimal,
    /// The rep's own bookings (for a pool shared by bookings).
    pub rep_bookings: Decimal,
    /// The reps sharing the pool (for a pool shared evenly).
    pub members: u32,
}

/// Everything one statement is computed from.
#[derive(Clone, Debug)]
pub struct StatementInput<'a> {
    pub user_id: Uuid,
    /// The period, `[start, end)`.
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub plan: &'a PlanVersion,
    /// The part of the period the rep is on the plan, `[from, until)`.
    pub assigned: (NaiveDate, NaiveDate),
    /// The period's quota, before proration.
    pub quota: Option<Decimal>,
    /// The statement's ledger entries, in ledger order.
    pub credits: &'a [Credit],
    /// Earlier statements' figures of the rep's deals.
    pub history: &'a [DealHistory],
    pub pool: Option<PoolShare>,
    /// Recoverable draw paid and not yet recovered, before this period.
    pub draw_balance: Decimal,
}

/// Why a statement cannot be computed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StatementProblem {
    #[error("the plan's tiers need a quota for the period, and none (or 0) is set")]
    NoQuota,
    #[error("the rep is on no plan paying per such a period on any of its days")]
    NoPlan,
}

/// A computed statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub lines: Vec<Line>,
    /// The sum of the paid lines.
    pub total: Decimal,
    /// Bookings credited in the period (net).
    pub credited: Decimal,
    /// The prorated quota.
    pub quota: Option<Decimal>,
    /// credited ÷ quota, in % (exact).
    pub attainment: Option<Decimal>,
    pub draw_balance: Decimal,
}

pub(super) struct Builder<'a> {
    pub(super) input: &'a StatementInput<'a>,
    pub(super) lines: Vec<Line>,
}

impl Builder<'_> {
    pub(super) fn line(
        &mut self,
        component: Component,
        credit: Option<&Credit>,
        base: Decimal,
        rate: Option<Decimal>,
        exact: Decimal,
        note: String,
    ) -> Decimal {
        let amount = round_line(exact, self.input.plan.currency);
        self.lines.push(Line {
            component,
            deal_id: credit.and_then(|credit| credit.deal_id),
            deal_name: credit
                .map(|credit| credit.deal_name.clone())
                .unwrap_or_default(),
            credit_id: credit.map(|credit| credit.id),
            plan_version: self.input.plan.version,
            tier: None,
            rate,
            base,
            amount,
            note,
        });
        amount
    }

    fn sum(&self, pick: impl Fn(Component) -> bool) -> Decimal {
        self.lines
            .iter()
            .filter(|line| pick(line.component))
            .map(|line| line.amount)
            .sum()
    }
}

fn percent_of(value: Decimal, rate: Decimal) -> Decimal {
    value * rate / Decimal::ONE_HUNDRED
}

/// Computes the statement.
pub fn compute(input: &StatementInput<'_>) -> Result<Statement, StatementProblem> {
    let plan = input.plan;
    let share_of_period = proration(input.start, input.end, input.assigned.0, input.assigned.1);
    let mut builder = Builder {
        input,
        lines: Vec::new(),
    };
    if !plan.base_salary.is_zero() {
        builder.line(
            Component::BaseSalary,
            None,
            plan.base_salary,
            Some(share_of_period * Decimal::ONE_HUNDRED),
            plan.base_salary * share_of_period,
            if share_of_period == Decimal::ONE {
                "base salary".into()
            } else {
                format!(
                    "base salary for {} to {}",
                    input.assigned.0,
                    input.assigned.1.pred_opt().unwrap_or(input.assigned.1)
                )
            },
        );
    }
    let reversed_here: HashSet<Uuid> = input
        .credits
        .iter()
        .filter_map(|credit| credit.reverses)
        .collect();
    let bookings: Vec<&Credit> = input
        .credits
        .iter()
        .filter(|credit| credit.kind == CreditKind::Booking && !reversed_here.contains(&credit.id))
        .collect();
    let credited: Decimal = bookings.iter().map(|credit| credit.amount).sum();
    let quota = input.quota.map(|quota| quota * share_of_period);
    let mut earned: BTreeMap<Uuid, Earned<'_>> = BTreeMap::new();
    if let Some(commission) = &plan.commission {
        let quota = match quota {
            Some(quota) if !quota.is_zero() => quota,
            // Without bookings to rate, tiers need no quota (releases of earlier bookings do
            // not depend on it).
            _ if commission.needs_quota() && !bookings.is_empty() => {
                return Err(StatementProblem::NoQuota);
            }
            _ => Decimal::ZERO,
        };
        let schedule = Schedule::new(commission, quota);
        let component = match commission.payout {
            Payout::OnBooking => Component::Commission,
            Payout::OnPayment => Component::CommissionEarned,
        };
        let mut before = Decimal::ZERO;
        for booking in &bookings {
            for segment in schedule.segments(before, booking.amount, credited) {
                let note = match segment.tier {
                    Some(tier) => format!(
                        "tier {} at {} % of {}",
                        tier + 1,
                        segment.rate.normalize(),
                        booking.deal_name
                    ),
                    None => format!(
                        "above the {} % attainment ceiling",
                        commission
                            .attainment_ceiling
                            .unwrap_or_default()
                            .normalize()
                    ),
                };
                let amount = builder.line(
                    component,
                    Some(booking),
                    segment.base,
                    Some(segment.rate),
                    segment.commission(),
                    note,
                );
                builder.lines.last_mut().expect("just pushed").tier = segment.tier;
                if let Some(deal) = booking.deal_id {
                    earned
                        .entry(deal)
                        .or_insert_with(|| Earned::on(booking))
                        .commission += amount;
                }
            }
            if let Some(deal) = booking.deal_id {
                earned
                    .entry(deal)
                    .or_insert_with(|| Earned::on(booking))
                    .booked += booking.amount;
            }
            before += booking.amount;
        }
        for booking in &bookings {
            for spiff in &plan.spiffs {
                spiff_line(&mut builder, spiff, booking);
            }
        }
        if commission.payout == Payout::OnPayment {
            settlement::release(&mut builder, &earned);
        }
        if let Some(cap) = commission.cap_per_period {
            let paid = builder.sum(|component| {
                matches!(
                    component,
                    Component::Commission | Component::CommissionReleased | Component::Spiff
                )
            });
            if paid > cap {
                builder.line(
                    Component::CommissionCap,
                    None,
                    paid,
                    None,
                    cap - paid,
                    format!("commission above the cap of {cap} for the period"),
                );
            }
        }
    } else {
        for booking in &bookings {
            for spiff in &plan.spiffs {
                spiff_line(&mut builder, spiff, booking);
            }
        }
    }
    settlement::clawbacks(&mut builder, &reversed_here);
    if plan.reimburses_expenses {
        for expense in input
            .credits
            .iter()
            .filter(|credit| credit.kind == CreditKind::Expense)
        {
            builder.line(
                Component::Expense,
                Some(expense),
                expense.amount,
                Some(Decimal::ONE_HUNDRED),
                expense.amount,
                "approved expense reimbursed".into(),
            );
        }
        let reimbursed = builder.sum(|component| component == Component::Expense);
        if let Some(cap) = plan.expense_cap_per_period
            && reimbursed > cap
        {
            builder.line(
                Component::ExpenseCap,
                None,
                reimbursed,
                None,
                cap - reimbursed,
                format!("expenses above the cap of {cap} for the period"),
            );
        }
    }
    if let (Some(pool), Some(share)) = (&plan.team_pool, &input.pool) {
        let fraction = match &pool.split {
            PoolSplit::Evenly => Decimal::ONE / Decimal::from(share.members.max(1)),
            PoolSplit::ByBookings if share.team_bookings.is_zero() => Decimal::ZERO,
            PoolSplit::ByBookings => share.rep_bookings / share.team_bookings,
            PoolSplit::ByWeights(weights) => {
                let total: Decimal = weights.iter().map(|(_, weight)| *weight).sum();
                let mine = weights
                    .iter()
                    .find(|(user, _)| *user == input.user_id)
                    .map_or(Decimal::ZERO, |(_, weight)| *weight);
                if total.is_zero() {
                    Decimal::ZERO
                } else {
                    mine / total
                }
            }
        };
        let pool_amount = percent_of(share.team_bookings, pool.rate);
        builder.line(
            Component::TeamPool,
            None,
            share.team_bookings,
            Some(pool.rate),
            pool_amount * fraction,
            format!(
                "{} % of the team's bookings, {} % of the pool to the rep",
                pool.rate.normalize(),
                (fraction * Decimal::ONE_HUNDRED).round_dp(4).normalize()
            ),
        );
    }
    let mut draw_balance = input.draw_balance;
    if let Some(draw) = &plan.draw {
        let guaranteed = round_line(draw.amount * share_of_period, plan.currency);
        let commission = builder.sum(Component::is_commission);
        if commission < guaranteed {
            let topped = builder.line(
                Component::Draw,
                None,
                guaranteed,
                None,
                guaranteed - commission,
                format!(
                    "draw of {guaranteed}{}",
                    if draw.recoverable {
                        ", recoverable"
                    } else {
                        ""
                    }
                ),
            );
            if draw.recoverable {
                draw_balance += topped;
            }
        } else if draw.recoverable && draw_balance > Decimal::ZERO {
            let recovered = draw_balance.min(commission - guaranteed);
            if recovered > Decimal::ZERO {
                builder.line(
                    Component::DrawRecovery,
                    None,
                    draw_balance,
                    None,
                    -recovered,
                    format!("recovering the draw paid earlier ({draw_balance} outstanding)"),
                );
                draw_balance -= recovered;
            }
        }
    }
    let total = builder.sum(Component::is_paid);
    Ok(Statement {
        total,
        credited,
        attainment: quota
            .filter(|quota| !quota.is_zero())
            .map(|quota| credited / quota * Decimal::ONE_HUNDRED),
        quota,
        draw_balance,
        lines: builder.lines,
    })
}

/// The SPIFF a booking earns, if it qualifies.
fn spiff_line(builder: &mut Builder<'_>, spiff: &Spiff, booking: &Credit) {
    let by_pipeline = booking
        .pipeline_id
        .is_some_and(|pipeline| spiff.pipeline_ids.contains(&pipeline));
    let qualifying: Decimal = booking
        .lines
        .iter()
        .filter(|line| spiff.product_codes.contains(&line.product_code))
        .map(|line| line.amount)
        .sum();
    let qualifies = by_pipeline
        || booking
            .lines
            .iter()
            .any(|line| spiff.product_codes.contains(&line.product_code));
    if !qualifies {
        return;
    }
    let share = booking.share;
    let (base, rate, exact) = match spiff.amount {
        SpiffAmount::Fixed(amount) => (amount, share, percent_of(amount, share)),
        SpiffAmount::Percent(rate) => {
            let whole = if by_pipeline {
                booking.amount
            } else {
                percent_of(qualifying, share)
            };
            (whole, rate, percent_of(whole, rate))
        }
    };
    builder.line(
        Component::Spiff,
        Some(booking),
        base,
        Some(rate),
        exact,
        format!("SPIFF {}", spiff.name),
    );
}

#[cfg(test)]
#[path = "statement_tests.rs"]
mod tests;
