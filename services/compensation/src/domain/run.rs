//! A statement run: one rep's statement of one period, from the parts of it the rep was on a
//! plan version, the period's ledger entries, the entries recorded after an earlier period
//! closed, and manual adjustments — with the deals' standing and the draw balance carried from
//! one part (and one period) to the next. No I/O: the service loads the inputs, this computes.
//!
//! The rules (docs/capabilities.md, C4):
//! - each part (an assignment and a plan version in force over some of the period's days) is
//!   computed by [`statement::compute`] with the entries of its days; the quota and the base
//!   salary are prorated by the part's days;
//! - an entry of a closed period's days recorded after the close ("late") counts in the first
//!   part of the rep's next open period, its lines naming the closed period (`adjusts_period`);
//! - a manual adjustment is one line, rounded by the one rule, after the parts.

use chrono::NaiveDate;
use crm_platform::{fiscal::FiscalPeriod, money::CurrencyCode};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{
    credit::Credit,
    plan::PlanVersion,
    settlement::{DealHistory, carry_forward, standing_after},
    statement::{
        Component, Line, PoolShare, StatementInput, StatementProblem, compute, round_line,
    },
};

/// Days `[from, until)` of the period on one plan version.
#[derive(Clone, Debug)]
pub struct Part<'a> {
    pub plan_id: Uuid,
    pub plan_name: String,
    pub version: &'a PlanVersion,
    pub from: NaiveDate,
    pub until: NaiveDate,
    /// The team pool's figures for these days, when the version has a pool.
    pub pool: Option<PoolShare>,
}

/// A late entry: recorded after `closed_period` (its days') closed.
#[derive(Clone, Debug)]
pub struct LateCredit {
    pub credit: Credit,
    pub closed_period: String,
}

/// An audited manual adjustment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adjustment {
    pub id: Uuid,
    pub amount: Decimal,
    pub note: String,
    pub adjusted_by: Uuid,
}

/// Everything one rep's statement of one period is computed from.
#[derive(Clone, Debug)]
pub struct RepPeriod<'a> {
    pub user_id: Uuid,
    pub period: FiscalPeriod,
    /// In day order, not overlapping.
    pub parts: Vec<Part<'a>>,
    /// The period's revenue quota, before proration.
    pub quota: Option<Decimal>,
    /// The entries of the period's days, in ledger order.
    pub credits: Vec<Credit>,
    pub late: Vec<LateCredit>,
    pub adjustments: Vec<Adjustment>,
}

/// A line with the plan it was computed under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunLine {
    pub line: Line,
    pub plan_id: Option<Uuid>,
    /// A late entry's closed period.
    pub adjusts_period: Option<String>,
    /// The event behind the line's ledger entry.
    pub event_id: Option<Uuid>,
}

/// One part as the statement shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartSummary {
    pub plan_id: Uuid,
    pub plan_name: String,
    pub plan_version: u32,
    pub from: NaiveDate,
    pub until: NaiveDate,
}

/// A rep's computed statement of a period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepStatement {
    pub user_id: Uuid,
    pub period: FiscalPeriod,
    /// The plans' currency.
    pub currency: CurrencyCode,
    pub parts: Vec<PartSummary>,
    pub lines: Vec<RunLine>,
    pub total: Decimal,
    pub credited: Decimal,
    /// The parts' prorated quotas added up; `None` without a quota.
    pub quota: Option<Decimal>,
    pub draw_balance: Decimal,
    /// The deals the statement touched, as they stand after it.
    pub standing: Vec<DealHistory>,
    /// Every ledger entry the statement took in (the period's and the late ones).
    pub credit_ids: Vec<Uuid>,
}

impl RepStatement {
    /// credited ÷ quota × 100, exact; `None` without a quota (or a quota of 0).
    pub fn attainment(&self) -> Option<Decimal> {
        self.quota
            .filter(|quota| !quota.is_zero())
            .map(|quota| self.credited / quota * Decimal::ONE_HUNDRED)
    }
}

/// Computes `rep`'s statement, starting from `history` and `draw_balance` (what earlier
/// statements left), which it moves on to what this one leaves.
pub fn run(
    rep: &RepPeriod<'_>,
    history: &mut Vec<DealHistory>,
    draw_balance: &mut Decimal,
) -> Result<RepStatement, StatementProblem> {
    let Some(last) = rep.parts.last() else {
        return Err(StatementProblem::NoPlan);
    };
    let mut statement = RepStatement {
        user_id: rep.user_id,
        period: rep.period,
        currency: last.version.currency,
        parts: Vec::with_capacity(rep.parts.len()),
        lines: Vec::new(),
        total: Decimal::ZERO,
        credited: Decimal::ZERO,
        quota: None,
        draw_balance: *draw_balance,
        standing: Vec::new(),
        credit_ids: rep
            .credits
            .iter()
            .map(|credit| credit.id)
            .chain(rep.late.iter().map(|late| late.credit.id))
            .collect(),
    };
    let mut touched: Vec<DealHistory> = Vec::new();
    for (index, part) in rep.parts.iter().enumerate() {
        let mut credits: Vec<Credit> = Vec::new();
        if index == 0 {
            credits.extend(rep.late.iter().map(|late| late.credit.clone()));
        }
        credits.extend(
            rep.credits
                .iter()
                .filter(|credit| {
                    part.from <= credit.effective_on && credit.effective_on < part.until
                })
                .cloned(),
        );
        let input = StatementInput {
            user_id: rep.user_id,
            start: rep.period.start(),
            end: rep.period.end(),
            plan: part.version,
            assigned: (part.from, part.until),
            quota: rep.quota,
            credits: &credits,
            history,
            pool: part.pool.clone(),
            draw_balance: *draw_balance,
        };
        let computed = compute(&input)?;
        let after = standing_after(history, &credits, &computed.lines);
        carry_forward(&mut touched, after.clone());
        carry_forward(history, after);
        *draw_balance = computed.draw_balance;
        statement.total += computed.total;
        statement.credited += computed.credited;
        if let Some(quota) = computed.quota {
            statement.quota = Some(statement.quota.unwrap_or_default() + quota);
        }
        statement
            .lines
            .extend(computed.lines.into_iter().map(|line| {
                let credit = line
                    .credit_id
                    .and_then(|id| credits.iter().find(|credit| credit.id == id));
                RunLine {
                    adjusts_period: line.credit_id.and_then(|id| {
                        rep.late
                            .iter()
                            .find(|late| late.credit.id == id)
                            .map(|late| late.closed_period.clone())
                    }),
                    event_id: credit.map(|credit| credit.event_id),
                    plan_id: Some(part.plan_id),
                    line,
                }
            }));
        statement.parts.push(PartSummary {
            plan_id: part.plan_id,
            plan_name: part.plan_name.clone(),
            plan_version: part.version.version,
            from: part.from,
            until: part.until,
        });
    }
    for adjustment in &rep.adjustments {
        let amount = round_line(adjustment.amount, last.version.currency);
        statement.total += amount;
        statement.lines.push(RunLine {
            line: Line {
                component: Component::Adjustment,
                deal_id: None,
                deal_name: String::new(),
                credit_id: None,
                plan_version: last.version.version,
                tier: None,
                rate: None,
                base: adjustment.amount,
                amount,
                note: adjustment.note.clone(),
            },
            plan_id: Some(last.plan_id),
            adjusts_period: None,
            event_id: None,
        });
    }
    statement.draw_balance = *draw_balance;
    statement.standing = touched;
    Ok(statement)
}

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;
