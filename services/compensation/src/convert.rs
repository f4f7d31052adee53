//! Plans and statements on the wire and at rest: the API's `PlanVersion` message to the
//! domain's (every field checked, each problem named) and back, and a computed statement to
//! the API's `Statement`. A plan's versions and a closed statement are stored as these
//! messages, so this is their one mapping.

use crm_platform::{
    error::{FieldViolation, Violations, reasons::INCONSISTENT_FIELDS},
    fiscal::{FiscalPeriod, PeriodKind},
    ids::parse_id,
    money::{CurrencyCode, fixed, parse_decimal},
};
use crm_proto::crm::{
    common::v1::Money as MoneyMessage,
    compensation::v1::{self as pb, spiff},
};
use rust_decimal::Decimal;

use crate::domain::{
    plan::{
        Commission, Draw, Payout, PlanVersion, PoolSplit, Spiff, SpiffAmount, TeamPool, Tier,
        Tiering,
    },
    run::RepStatement,
    statement::Component,
};

fn decimal(violations: &mut Violations, field: &str, text: &str) -> Option<Decimal> {
    violations.take(parse_decimal(field, text))
}

/// A decimal that may be left out (empty).
fn optional_decimal(violations: &mut Violations, field: &str, text: &str) -> Option<Decimal> {
    if text.trim().is_empty() {
        return None;
    }
    decimal(violations, field, text)
}

fn required_decimal(violations: &mut Violations, field: &str, text: &str) -> Option<Decimal> {
    if text.trim().is_empty() {
        violations.add(field, "is required");
        return None;
    }
    decimal(violations, field, text)
}

pub(crate) fn period_from_wire(value: i32) -> Option<PeriodKind> {
    match pb::PlanPeriod::try_from(value).ok()? {
        pb::PlanPeriod::Month => Some(PeriodKind::Month),
        pb::PlanPeriod::Quarter => Some(PeriodKind::Quarter),
        pb::PlanPeriod::FiscalYear => Some(PeriodKind::Year),
        pb::PlanPeriod::Unspecified => None,
    }
}

pub(crate) fn period_to_wire(kind: PeriodKind) -> pb::PlanPeriod {
    match kind {
        PeriodKind::Month => pb::PlanPeriod::Month,
        PeriodKind::Quarter => pb::PlanPeriod::Quarter,
        PeriodKind::Year => pb::PlanPeriod::FiscalYear,
    }
}

fn commission(violations: &mut Violations, at: &str, wire: &pb::Commission) -> Option<Commission> {
    let tiers: Vec<Option<Tier>> = wire
        .tiers
        .iter()
        .enumerate()
        .map(|(index, tier)| {
            let from = required_decimal(
                violations,
                &format!("{at}.tiers[{index}].from_attainment"),
                &tier.from_attainment,
            );
            let rate =
                required_decimal(violations, &format!("{at}.tiers[{index}].rate"), &tier.rate);
            Some(Tier {
                from_attainment: from?,
                rate: rate?,
            })
        })
        .collect();
    let tiering = match pb::Tiering::try_from(wire.tiering) {
        Ok(pb::Tiering::Marginal) => Some(Tiering::Marginal),
        Ok(pb::Tiering::Retroactive) => Some(Tiering::Retroactive),
        _ => {
            violations.add(
                format!("{at}.tiering"),
                "is required: marginal or retroactive",
            );
            None
        }
    };
    let payout = match pb::Payout::try_from(wire.payout) {
        Ok(pb::Payout::OnBooking) => Some(Payout::OnBooking),
        Ok(pb::Payout::OnPayment) => Some(Payout::OnPayment),
        _ => {
            violations.add(
                format!("{at}.payout"),
                "is required: on booking or on payment",
            );
            None
        }
    };
    let ceiling = optional_decimal(
        violations,
        &format!("{at}.attainment_ceiling"),
        &wire.attainment_ceiling,
    );
    let cap = optional_decimal(
        violations,
        &format!("{at}.cap_per_period"),
        &wire.cap_per_period,
    );
    Some(Commission {
        tiers: tiers.into_iter().collect::<Option<Vec<_>>>()?,
        tiering: tiering?,
        payout: payout?,
        attainment_ceiling: ceiling,
        cap_per_period: cap,
    })
}

fn team_pool(violations: &mut Violations, at: &str, wire: &pb::TeamPool) -> Option<TeamPool> {
    let rate = required_decimal(violations, &format!("{at}.rate"), &wire.rate);
    let split = match pb::PoolSplit::try_from(wire.split) {
        Ok(pb::PoolSplit::Evenly) => Some(PoolSplit::Evenly),
        Ok(pb::PoolSplit::ByBookings) => Some(PoolSplit::ByBookings),
        Ok(pb::PoolSplit::ByWeights) => {
            let weights: Vec<Option<(uuid::Uuid, Decimal)>> = wire
                .weights
                .iter()
                .enumerate()
                .map(|(index, weight)| {
                    let user = violations.take(parse_id(
                        &format!("{at}.weights[{index}].user_id"),
                        &weight.user_id,
                    ));
                    let value = required_decimal(
                        violations,
                        &format!("{at}.weights[{index}].weight"),
                        &weight.weight,
                    );
                    Some((user?, value?))
                })
                .collect();
            weights
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .map(PoolSplit::ByWeights)
        }
        _ => {
            violations.add(
                format!("{at}.split"),
                "is required: evenly, by bookings or by weights",
            );
            None
        }
    };
    if !matches!(split, Some(PoolSplit::ByWeights(_))) && !wire.weights.is_empty() {
        violations.push(FieldViolation::refusal(
            INCONSISTENT_FIELDS,
            format!("{at}.weights"),
            "only a pool split by weights has weights",
        ));
    }
    Some(TeamPool {
        team_path: wire.team_path.trim().to_owned(),
        rate: rate?,
        split: split?,
    })
}

fn spiff(violations: &mut Violations, at: &str, wire: &pb::Spiff) -> Option<Spiff> {
    let pipeline_ids: Vec<Option<uuid::Uuid>> = wire
        .pipeline_ids
        .iter()
        .enumerate()
        .map(|(index, id)| violations.take(parse_id(&format!("{at}.pipeline_ids[{index}]"), id)))
        .collect();
    // An amount of either kind left empty is none given: which of the two a SPIFF pays the
    // schema cannot say.
    let amount = match &wire.amount {
        Some(spiff::Amount::FixedAmount(amount)) if !amount.trim().is_empty() => {
            decimal(violations, &format!("{at}.fixed_amount"), amount).map(SpiffAmount::Fixed)
        }
        Some(spiff::Amount::Percent(rate)) if !rate.trim().is_empty() => {
            decimal(violations, &format!("{at}.percent"), rate).map(SpiffAmount::Percent)
        }
        _ => {
            violations.push(FieldViolation::refusal(
                INCONSISTENT_FIELDS,
                at,
                "needs a fixed_amount or a percent",
            ));
            None
        }
    };
    Some(Spiff {
        name: wire.name.trim().to_owned(),
        product_codes: wire
            .product_codes
            .iter()
            .map(|code| code.trim().to_owned())
            .collect(),
        pipeline_ids: pipeline_ids.into_iter().collect::<Option<Vec<_>>>()?,
        amount: amount?,
    })
}

/// A version from the wire, its fields named under `at` (`versions[1]`); `None` with the
/// problems collected. The domain's own checks ([`crate::domain::plan::check_versions`]) come
/// after.
pub(crate) fn version_from_wire(
    violations: &mut Violations,
    at: &str,
    wire: &pb::PlanVersion,
    currency: CurrencyCode,
) -> Option<PlanVersion> {
    let field = |name: &str| format!("{at}.{name}");
    let effective_from = violations.date(&field("effective_from"), &wire.effective_from);
    let effective_until =
        violations.optional_date(&field("effective_until"), &wire.effective_until);
    let period = period_from_wire(wire.period);
    if period.is_none() {
        violations.add(
            field("period"),
            "is required: month, quarter or fiscal year",
        );
    }
    let base_salary = optional_decimal(violations, &field("base_salary"), &wire.base_salary);
    let commission = wire
        .commission
        .as_ref()
        .map(|commission| self::commission(violations, &field("commission"), commission));
    let expense_cap = optional_decimal(
        violations,
        &field("expense_cap_per_period"),
        &wire.expense_cap_per_period,
    );
    let team_pool = wire
        .team_pool
        .as_ref()
        .map(|pool| self::team_pool(violations, &field("team_pool"), pool));
    let spiffs: Vec<Option<Spiff>> = wire
        .spiffs
        .iter()
        .enumerate()
        .map(|(index, wire)| spiff(violations, &field(&format!("spiffs[{index}]")), wire))
        .collect();
    let draw = wire.draw.as_ref().map(|draw| {
        required_decimal(violations, &field("draw.amount"), &draw.amount).map(|amount| Draw {
            amount,
            recoverable: draw.recoverable,
        })
    });
    Some(PlanVersion {
        version: wire.version,
        effective_from: effective_from?,
        effective_until,
        period: period?,
        currency,
        base_salary: base_salary.unwrap_or_default(),
        commission: commission
            .map(|commission| commission.ok_or(()))
            .transpose()
            .ok()?,
        reimburses_expenses: wire.reimburses_expenses,
        expense_cap_per_period: expense_cap,
        team_pool: team_pool.map(|pool| pool.ok_or(())).transpose().ok()?,
        spiffs: spiffs.into_iter().collect::<Option<Vec<_>>>()?,
        draw: draw.map(|draw| draw.ok_or(())).transpose().ok()?,
    })
}

fn text(value: Option<Decimal>) -> String {
    value
        .map(|value| value.normalize().to_string())
        .unwrap_or_default()
}

/// A version as the API answers it, and as it is stored.
pub(crate) fn version_to_wire(version: &PlanVersion) -> pb::PlanVersion {
    pb::PlanVersion {
        version: version.version,
        effective_from: version.effective_from.to_string(),
        effective_until: version
            .effective_until
            .map(|until| until.to_string())
            .unwrap_or_default(),
        period: period_to_wire(version.period) as i32,
        base_salary: text(Some(version.base_salary).filter(|salary| !salary.is_zero())),
        commission: version
            .commission
            .as_ref()
            .map(|commission| pb::Commission {
                tiers: commission
                    .tiers
                    .iter()
                    .map(|tier| pb::Tier {
                        from_attainment: tier.from_attainment.normalize().to_string(),
                        rate: tier.rate.normalize().to_string(),
                    })
                    .collect(),
                tiering: match commission.tiering {
                    Tiering::Marginal => pb::Tiering::Marginal,
                    Tiering::Retroactive => pb::Tiering::Retroactive,
                } as i32,
                payout: match commission.payout {
                    Payout::OnBooking => pb::Payout::OnBooking,
                    Payout::OnPayment => pb::Payout::OnPayment,
                } as i32,
                attainment_ceiling: text(commission.attainment_ceiling),
                cap_per_period: text(commission.cap_per_period),
            }),
        reimburses_expenses: version.reimburses_expenses,
        expense_cap_per_period: text(version.expense_cap_per_period),
        team_pool: version.team_pool.as_ref().map(|pool| {
            let (split, weights) = match &pool.split {
                PoolSplit::Evenly => (pb::PoolSplit::Evenly, Vec::new()),
                PoolSplit::ByBookings => (pb::PoolSplit::ByBookings, Vec::new()),
                PoolSplit::ByWeights(weights) => (
                    pb::PoolSplit::ByWeights,
                    weights
                        .iter()
                        .map(|(user, weight)| pb::PoolWeight {
                            user_id: user.to_string(),
                            weight: weight.normalize().to_string(),
                        })
                        .collect(),
                ),
            };
            pb::TeamPool {
                team_path: pool.team_path.clone(),
                rate: pool.rate.normalize().to_string(),
                split: split as i32,
                weights,
            }
        }),
        spiffs: version
            .spiffs
            .iter()
            .map(|spiff| pb::Spiff {
                name: spiff.name.clone(),
                product_codes: spiff.product_codes.clone(),
                pipeline_ids: spiff.pipeline_ids.iter().map(ToString::to_string).collect(),
                amount: Some(match spiff.amount {
                    SpiffAmount::Fixed(amount) => {
                        spiff::Amount::FixedAmount(amount.normalize().to_string())
                    }
                    SpiffAmount::Percent(rate) => {
                        spiff::Amount::Percent(rate.normalize().to_string())
                    }
                }),
            })
            .collect(),
        draw: version.draw.map(|draw| pb::Draw {
            amount: draw.amount.normalize().to_string(),
            recoverable: draw.recoverable,
        }),
    }
}

fn component(component: Component) -> pb::Component {
    match component {
        Component::BaseSalary => pb::Component::BaseSalary,
        Component::Commission => pb::Component::Commission,
        Component::CommissionEarned => pb::Component::CommissionEarned,
        Component::CommissionReleased => pb::Component::CommissionReleased,
        Component::Spiff => pb::Component::Spiff,
        Component::CommissionCap => pb::Component::CommissionCap,
        Component::Clawback => pb::Component::Clawback,
        Component::Expense => pb::Component::Expense,
        Component::ExpenseCap => pb::Component::ExpenseCap,
        Component::TeamPool => pb::Component::TeamPool,
        Component::Draw => pb::Component::Draw,
        Component::DrawRecovery => pb::Component::DrawRecovery,
        Component::Adjustment => pb::Component::Adjustment,
    }
}

/// An amount of the statement's currency, at its minor unit.
pub(crate) fn money(amount: Decimal, currency: CurrencyCode) -> MoneyMessage {
    let mut shown = amount;
    shown.rescale(currency.minor_units());
    MoneyMessage {
        currency_code: currency.as_str().to_owned(),
        amount: shown.to_string(),
    }
}

pub(crate) fn period(period: &FiscalPeriod) -> crm_proto::crm::forecasting::v1::FiscalPeriod {
    crm_proto::crm::forecasting::v1::FiscalPeriod {
        label: period.to_string(),
        start_date: period.start().to_string(),
        end_date: period.last_day().to_string(),
    }
}

/// A computed statement as the API answers it (and a closed one is locked).
pub(crate) fn statement_to_wire(
    statement: &RepStatement,
    display_name: &str,
    status: pb::StatementStatus,
) -> pb::Statement {
    let currency = statement.currency;
    pb::Statement {
        user_id: statement.user_id.to_string(),
        display_name: display_name.to_owned(),
        period: Some(period(&statement.period)),
        status: status as i32,
        parts: statement
            .parts
            .iter()
            .map(|part| pb::StatementPart {
                plan_id: part.plan_id.to_string(),
                plan_name: part.plan_name.clone(),
                plan_version: part.plan_version,
                from: part.from.to_string(),
                until: part.until.to_string(),
            })
            .collect(),
        lines: statement
            .lines
            .iter()
            .map(|run| {
                let line = &run.line;
                pb::StatementLine {
                    component: component(line.component) as i32,
                    deal_id: line.deal_id.map(|id| id.to_string()).unwrap_or_default(),
                    deal_name: line.deal_name.clone(),
                    credit_id: line.credit_id.map(|id| id.to_string()).unwrap_or_default(),
                    event_id: run.event_id.map(|id| id.to_string()).unwrap_or_default(),
                    plan_id: run.plan_id.map(|id| id.to_string()).unwrap_or_default(),
                    plan_version: line.plan_version,
                    tier: line.tier.map_or(0, |tier| tier as u32 + 1),
                    rate: text(line.rate),
                    base: line.base.normalize().to_string(),
                    amount: Some(money(line.amount, currency)),
                    note: line.note.clone(),
                    adjusts_period: run.adjusts_period.clone().unwrap_or_default(),
                    paid: line.component.is_paid(),
                }
            })
            .collect(),
        total: Some(money(statement.total, currency)),
        credited: Some(money(statement.credited, currency)),
        quota: statement.quota.map(|quota| money(quota, currency)),
        attainment_percent: statement
            .attainment()
            .map(|attainment| fixed(attainment, 2).to_string())
            .unwrap_or_default(),
        draw_balance: Some(money(statement.draw_balance, currency)),
        closed_by: String::new(),
        closed_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field survives the trip to the wire (and so to the store) and back.
    #[test]
    fn a_version_reads_back_as_it_was_written() {
        let wire = pb::PlanVersion {
            version: 1,
            effective_from: "2026-01-01".into(),
            effective_until: "2027-01-01".into(),
            period: pb::PlanPeriod::Quarter as i32,
            base_salary: "30000".into(),
            commission: Some(pb::Commission {
                tiers: vec![
                    pb::Tier {
                        from_attainment: "0".into(),
                        rate: "5".into(),
                    },
                    pb::Tier {
                        from_attainment: "100".into(),
                        rate: "8".into(),
                    },
                ],
                tiering: pb::Tiering::Marginal as i32,
                payout: pb::Payout::OnPayment as i32,
                attainment_ceiling: "200".into(),
                cap_per_period: "100000".into(),
            }),
            reimburses_expenses: true,
            expense_cap_per_period: "5000".into(),
            team_pool: Some(pb::TeamPool {
                team_path: "/acme/east/".into(),
                rate: "1".into(),
                split: pb::PoolSplit::ByWeights as i32,
                weights: vec![pb::PoolWeight {
                    user_id: uuid::Uuid::from_u128(7).to_string(),
                    weight: "2".into(),
                }],
            }),
            spiffs: vec![pb::Spiff {
                name: "Robots".into(),
                product_codes: vec!["ROBOT".into()],
                pipeline_ids: vec![],
                amount: Some(spiff::Amount::Percent("2".into())),
            }],
            draw: Some(pb::Draw {
                amount: "2000".into(),
                recoverable: true,
            }),
        };
        let mut violations = Violations::new();
        let version = version_from_wire(&mut violations, "versions[0]", &wire, CurrencyCode::CNY)
            .expect("a version");
        assert!(violations.is_empty());
        assert_eq!(version_to_wire(&version), wire);
    }

    #[test]
    fn every_malformed_field_is_named() {
        let wire = pb::PlanVersion {
            version: 1,
            effective_from: "January".into(),
            commission: Some(pb::Commission {
                tiers: vec![pb::Tier {
                    from_attainment: "0".into(),
                    rate: "five".into(),
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut violations = Violations::new();
        assert!(
            version_from_wire(&mut violations, "versions[0]", &wire, CurrencyCode::CNY).is_none()
        );
        let fields: Vec<String> = violations
            .into_result()
            .unwrap_err()
            .into_iter()
            .map(|violation| violation.field)
            .collect();
        assert_eq!(
            fields,
            [
                "versions[0].effective_from",
                "versions[0].period",
                "versions[0].commission.tiers[0].rate",
                "versions[0].commission.tiering",
                "versions[0].commission.payout",
            ]
        );
    }
}
