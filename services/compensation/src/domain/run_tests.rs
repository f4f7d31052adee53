//! Statement runs against figures computed by hand: a plan version changing mid-period, a late
//! entry of a closed period, a manual adjustment, and a deal's commission settling over three
//! periods.

use crm_platform::fiscal::{FiscalCalendar, PeriodKind};

use super::*;
use crate::domain::{
    credit::CreditKind,
    plan::{Commission, Payout, Tier, Tiering},
    testing::{self, d, day},
};

fn month(label: &str) -> FiscalPeriod {
    FiscalCalendar::default().parse(label).unwrap()
}

const REP: Uuid = Uuid::from_u128(0xa1);
const PLAN: Uuid = Uuid::from_u128(0xf1);

fn flat(
    version: u32,
    from: &str,
    until: Option<&str>,
    base: &str,
    rate: &str,
    payout: Payout,
) -> PlanVersion {
    PlanVersion {
        version,
        effective_from: day(from),
        effective_until: until.map(day),
        period: PeriodKind::Month,
        currency: "CNY".parse().unwrap(),
        base_salary: d(base),
        commission: Some(Commission {
            tiers: vec![Tier {
                from_attainment: Decimal::ZERO,
                rate: d(rate),
            }],
            tiering: Tiering::Marginal,
            payout,
            attainment_ceiling: None,
            cap_per_period: None,
        }),
        reimburses_expenses: false,
        expense_cap_per_period: None,
        team_pool: None,
        spiffs: Vec::new(),
        draw: None,
    }
}

fn credit(n: u128, kind: CreditKind, deal: u128, amount: &str, on: &str) -> Credit {
    testing::credit(REP, n, kind, deal, amount, on)
}

fn part<'a>(version: &'a PlanVersion, from: &str, until: &str) -> Part<'a> {
    Part {
        plan_id: PLAN,
        plan_name: "Field sales".into(),
        version,
        from: day(from),
        until: day(until),
        pool: None,
    }
}

/// November 2026 (30 days) on version 1 (base 10,000, 5 %) until the 16th, then version 2
/// (base 12,000, 8 %): base 5,000.00 + 6,000.00; the booking of the 5th at 5 % (10,000 →
/// 500.00), the one of the 20th at 8 % (20,000 → 1,600.00); October's late booking in the
/// first part (1,000 → 50.00) naming October; a spot bonus of 123.45. Total 13,273.45.
#[test]
fn a_period_of_two_versions_with_a_late_entry_and_an_adjustment() {
    let first = flat(
        1,
        "2026-01-01",
        Some("2026-11-16"),
        "10000",
        "5",
        Payout::OnBooking,
    );
    let second = flat(2, "2026-11-16", None, "12000", "8", Payout::OnBooking);
    let rep = RepPeriod {
        user_id: REP,
        period: month("2026-11"),
        parts: vec![
            part(&first, "2026-11-01", "2026-11-16"),
            part(&second, "2026-11-16", "2026-12-01"),
        ],
        quota: None,
        credits: vec![
            credit(2, CreditKind::Booking, 20, "10000", "2026-11-05"),
            credit(3, CreditKind::Booking, 30, "20000", "2026-11-20"),
        ],
        late: vec![LateCredit {
            credit: credit(1, CreditKind::Booking, 10, "1000", "2026-10-30"),
            closed_period: "2026-10".into(),
        }],
        adjustments: vec![Adjustment {
            id: Uuid::from_u128(77),
            amount: d("123.45"),
            note: "spot bonus for the Contoso launch".into(),
            adjusted_by: Uuid::from_u128(0xad),
        }],
    };
    let mut history = Vec::new();
    let mut draw = Decimal::ZERO;
    let statement = run(&rep, &mut history, &mut draw).unwrap();
    let lines: Vec<(Component, Decimal, u32, Option<&str>)> = statement
        .lines
        .iter()
        .map(|line| {
            (
                line.line.component,
                line.line.amount,
                line.line.plan_version,
                line.adjusts_period.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (Component::BaseSalary, d("5000.00"), 1, None),
            (Component::Commission, d("50.00"), 1, Some("2026-10")),
            (Component::Commission, d("500.00"), 1, None),
            (Component::BaseSalary, d("6000.00"), 2, None),
            (Component::Commission, d("1600.00"), 2, None),
            (Component::Adjustment, d("123.45"), 2, None),
        ]
    );
    assert_eq!(statement.total, d("13273.45"));
    assert_eq!(statement.credited, d("31000"));
    assert_eq!(statement.parts.len(), 2);
    assert_eq!(statement.credit_ids.len(), 3);
    assert_eq!(
        statement.lines[1].event_id,
        Some(Uuid::from_u128(1001)),
        "a line points at the event behind its entry"
    );
    // Each deal's standing: what was paid on it.
    let paid: Vec<(u128, Decimal)> = history
        .iter()
        .map(|deal| (deal.deal_id.as_u128(), deal.paid))
        .collect();
    assert_eq!(
        paid,
        [(10, d("50.00")), (20, d("500.00")), (30, d("1600.00"))]
    );
}

/// 10 % on payment, monthly: won for 50,000 in November (5,000.00 earned, nothing paid), 30 %
/// paid in December (1,500.00 released), lost in January (1,500.00 clawed back) — carried
/// from one period to the next by the standing each statement leaves.
#[test]
fn a_deals_commission_settles_over_three_periods() {
    let plan = flat(1, "2026-01-01", None, "0", "10", Payout::OnPayment);
    let period = |label: &str, credits: Vec<Credit>| RepPeriod {
        user_id: REP,
        period: month(label),
        parts: vec![Part {
            from: month(label).start(),
            until: month(label).end(),
            ..part(&plan, "2026-01-01", "2026-01-02")
        }],
        quota: None,
        credits,
        late: Vec::new(),
        adjustments: Vec::new(),
    };
    let won = credit(1, CreditKind::Booking, 9, "50000", "2026-11-10");
    let mut lost = credit(3, CreditKind::BookingReversal, 9, "50000", "2027-01-08");
    lost.reverses = Some(won.id);
    let runs = [
        period("2026-11", vec![won]),
        period(
            "2026-12",
            vec![credit(2, CreditKind::Payment, 9, "15000", "2026-12-15")],
        ),
        period("2027-01", vec![lost]),
    ];
    let mut history = Vec::new();
    let mut draw = Decimal::ZERO;
    let totals: Vec<Decimal> = runs
        .iter()
        .map(|rep| run(rep, &mut history, &mut draw).unwrap().total)
        .collect();
    assert_eq!(totals, [d("0"), d("1500.00"), d("-1500.00")]);
    assert_eq!(history.len(), 1);
    let deal = &history[0];
    assert_eq!(
        (deal.booked, deal.paid, deal.released),
        (d("0"), d("0"), d("0"))
    );
    assert_eq!(deal.collected, d("15000"));
}

#[test]
fn a_rep_on_no_plan_has_no_statement() {
    let rep = RepPeriod {
        user_id: REP,
        period: month("2026-11"),
        parts: Vec::new(),
        quota: None,
        credits: Vec::new(),
        late: Vec::new(),
        adjustments: Vec::new(),
    };
    let mut draw = Decimal::ZERO;
    assert_eq!(
        run(&rep, &mut Vec::new(), &mut draw),
        Err(StatementProblem::NoPlan)
    );
}
