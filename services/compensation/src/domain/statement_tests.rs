//! Statements against figures computed by hand: the scenario's senior plan (5 % to quota, 8 %
//! above) and one test per component.

use crm_platform::fiscal::PeriodKind;
use proptest::prelude::*;

use super::*;
use crate::domain::{
    credit::DealLine,
    plan::{Commission, Draw, Payout, TeamPool, Tier, Tiering},
    testing::{self, d, day},
};

const RAVI: Uuid = Uuid::from_u128(0xb1);

fn senior(payout: Payout) -> PlanVersion {
    PlanVersion {
        version: 2,
        effective_from: day("2026-01-01"),
        effective_until: None,
        period: PeriodKind::Quarter,
        currency: "CNY".parse().unwrap(),
        base_salary: Decimal::ZERO,
        commission: Some(Commission {
            tiers: vec![
                Tier {
                    from_attainment: d("0"),
                    rate: d("5"),
                },
                Tier {
                    from_attainment: d("100"),
                    rate: d("8"),
                },
            ],
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
    testing::credit(RAVI, n, kind, deal, amount, on)
}

fn reversal(n: u128, of: u128, deal: u128, amount: &str, on: &str) -> Credit {
    Credit {
        reverses: Some(Uuid::from_u128(of)),
        ..credit(n, CreditKind::BookingReversal, deal, amount, on)
    }
}

/// Q4 2026 (92 days), the whole of it on the plan, quota 3,000,000.
fn input<'a>(
    plan: &'a PlanVersion,
    credits: &'a [Credit],
    history: &'a [DealHistory],
) -> StatementInput<'a> {
    StatementInput {
        user_id: RAVI,
        start: day("2026-10-01"),
        end: day("2027-01-01"),
        plan,
        assigned: (day("2026-10-01"), day("2027-01-01")),
        quota: Some(d("3000000")),
        credits,
        history,
        pool: None,
        draw_balance: Decimal::ZERO,
    }
}

fn amounts(statement: &Statement) -> Vec<(Component, Decimal)> {
    statement
        .lines
        .iter()
        .map(|line| (line.component, line.amount))
        .collect()
}

/// Deal 1: 2,400,000 won in October; deal 2, Contoso: 1,150,000 won in November.
fn scenario_bookings() -> Vec<Credit> {
    vec![
        credit(1, CreditKind::Booking, 1, "2400000", "2026-10-20"),
        credit(2, CreditKind::Booking, 2, "1150000", "2026-11-18"),
    ]
}

#[test]
fn the_contoso_deal_crosses_quota_and_shows_two_lines_split_at_the_boundary() {
    let plan = senior(Payout::OnBooking);
    let credits = scenario_bookings();
    let statement = compute(&input(&plan, &credits, &[])).unwrap();
    // 2,400,000 × 5 % = 120,000; of Contoso 600,000 × 5 % = 30,000 and 550,000 × 8 % = 44,000.
    assert_eq!(
        amounts(&statement),
        vec![
            (Component::Commission, d("120000")),
            (Component::Commission, d("30000")),
            (Component::Commission, d("44000")),
        ]
    );
    let contoso: Vec<&Line> = statement
        .lines
        .iter()
        .filter(|line| line.deal_id == Some(Uuid::from_u128(2)))
        .collect();
    assert_eq!(
        (contoso[0].tier, contoso[0].rate, contoso[0].base),
        (Some(0), Some(d("5")), d("600000"))
    );
    assert_eq!(
        (contoso[1].tier, contoso[1].rate, contoso[1].base),
        (Some(1), Some(d("8")), d("550000"))
    );
    assert_eq!(contoso[1].plan_version, 2);
    assert_eq!(statement.total, d("194000"));
    assert_eq!(statement.attainment.unwrap().round_dp(4), d("118.3333"));
}

/// What Contoso's quarter paid on it, on the on-payment plan: 22,200 of 74,000 earned, for
/// 345,000 collected of 1,150,000.
fn contoso_after_first_payment() -> DealHistory {
    DealHistory {
        deal_id: Uuid::from_u128(2),
        deal_name: "deal 2".into(),
        paid: d("22200"),
        booked: d("1150000"),
        earned: d("74000"),
        collected: d("345000"),
        released: d("22200"),
    }
}

#[test]
fn on_payment_the_first_30_percent_paid_releases_30_percent_and_losing_the_deal_claws_it_back() {
    let plan = senior(Payout::OnPayment);
    let mut credits = scenario_bookings();
    // Contoso's first instalment: 30 % of 1,150,000.
    credits.push(credit(3, CreditKind::Payment, 2, "345000", "2026-12-10"));
    let statement = compute(&input(&plan, &credits, &[])).unwrap();
    // Earned 120,000 + 30,000 + 44,000, shown; released 74,000 × 30 % = 22,200.
    assert_eq!(
        amounts(&statement),
        vec![
            (Component::CommissionEarned, d("120000")),
            (Component::CommissionEarned, d("30000")),
            (Component::CommissionEarned, d("44000")),
            (Component::CommissionReleased, d("22200")),
        ]
    );
    assert_eq!(statement.total, d("22200"));

    // Next quarter the deal is reopened and lost: exactly the 22,200 paid comes back.
    let history = [contoso_after_first_payment()];
    let next = [reversal(4, 2, 2, "1150000", "2027-01-12")];
    let mut later = input(&plan, &next, &history);
    (later.start, later.end, later.assigned) = (
        day("2027-01-01"),
        day("2027-04-01"),
        (day("2027-01-01"), day("2027-04-01")),
    );
    let clawed = compute(&later).unwrap();
    assert_eq!(amounts(&clawed), vec![(Component::Clawback, d("-22200"))]);
    assert_eq!(clawed.total + history[0].paid, Decimal::ZERO);
}

#[test]
fn a_refund_releases_a_negative_amount_and_more_payments_release_the_rest() {
    let plan = senior(Payout::OnPayment);
    let history = [contoso_after_first_payment()];
    // 100,000 of the first payment refunded: collected 245,000 of 1,150,000.
    let refund = [credit(5, CreditKind::Refund, 2, "100000", "2027-02-01")];
    let statement = compute(&input(&plan, &refund, &history)).unwrap();
    // 74,000 × 245,000 / 1,150,000 = 15,765.217… → 15,765.22; less 22,200 = −6,434.78.
    assert_eq!(
        amounts(&statement),
        vec![(Component::CommissionReleased, d("-6434.78"))]
    );
    // Everything else paid: the whole 74,000 released in all.
    let rest = [credit(6, CreditKind::Payment, 2, "805000", "2027-02-01")];
    let statement = compute(&input(&plan, &rest, &history)).unwrap();
    assert_eq!(
        amounts(&statement),
        vec![(Component::CommissionReleased, d("51800"))]
    );
}

#[test]
fn a_booking_reversed_in_its_own_period_counts_nowhere() {
    let plan = senior(Payout::OnBooking);
    let mut credits = scenario_bookings();
    credits.push(reversal(3, 1, 1, "2400000", "2026-12-01"));
    let statement = compute(&input(&plan, &credits, &[])).unwrap();
    // Contoso alone: 1,150,000 × 5 %, below quota now.
    assert_eq!(
        amounts(&statement),
        vec![(Component::Commission, d("57500"))]
    );
    assert_eq!(statement.credited, d("1150000"));
}

#[test]
fn spiffs_pay_on_qualifying_deals_by_the_split_share_and_the_cap_holds() {
    let mut plan = senior(Payout::OnBooking);
    plan.spiffs = vec![
        Spiff {
            name: "Robotics launch".into(),
            product_codes: vec!["ROBO-ARM".into()],
            pipeline_ids: Vec::new(),
            amount: SpiffAmount::Fixed(d("5000")),
        },
        Spiff {
            name: "Service attach".into(),
            product_codes: vec!["SVC".into()],
            pipeline_ids: Vec::new(),
            amount: SpiffAmount::Percent(d("2")),
        },
    ];
    plan.commission.as_mut().unwrap().cap_per_period = Some(d("50000"));
    // A shared deal, Ravi's 60 %: 600,000 of 1,000,000 (lines 800,000 arm, 200,000 service).
    let mut shared = credit(1, CreditKind::Booking, 1, "600000", "2026-10-20");
    shared.share = d("60");
    shared.lines = vec![
        DealLine {
            product_code: "ROBO-ARM".into(),
            amount: d("800000"),
        },
        DealLine {
            product_code: "SVC".into(),
            amount: d("200000"),
        },
    ];
    let statement = compute(&input(&plan, &[shared], &[])).unwrap();
    // 600,000 × 5 % = 30,000; SPIFFs 5,000 × 60 % = 3,000 and 200,000 × 60 % × 2 % = 2,400.
    assert_eq!(
        amounts(&statement),
        vec![
            (Component::Commission, d("30000")),
            (Component::Spiff, d("3000")),
            (Component::Spiff, d("2400")),
        ]
    );
    // Capped at 30,000: 5,400 taken off.
    plan.commission.as_mut().unwrap().cap_per_period = Some(d("30000"));
    let mut shared = credit(1, CreditKind::Booking, 1, "600000", "2026-10-20");
    shared.share = d("60");
    shared.lines = vec![DealLine {
        product_code: "ROBO-ARM".into(),
        amount: d("1000000"),
    }];
    let statement = compute(&input(&plan, &[shared], &[])).unwrap();
    assert_eq!(
        statement
            .lines
            .last()
            .map(|line| (line.component, line.amount)),
        Some((Component::CommissionCap, d("-3000")))
    );
    assert_eq!(statement.total, d("30000"));
}

#[test]
fn base_salary_and_quota_are_prorated_for_a_rep_joining_mid_quarter() {
    let mut plan = senior(Payout::OnBooking);
    plan.base_salary = d("90000");
    let credits = [credit(1, CreditKind::Booking, 1, "1000000", "2026-12-10")];
    let mut joined = input(&plan, &credits, &[]);
    // Joined 1 December: 31 of Q4's 92 days.
    joined.assigned = (day("2026-12-01"), day("2027-01-01"));
    let statement = compute(&joined).unwrap();
    // 90,000 × 31 / 92 = 30,326.086… → 30,326.09; quota 3,000,000 × 31 / 92 = 1,010,869.56…:
    // the 1,000,000 stays below it, 50,000.
    assert_eq!(
        amounts(&statement),
        vec![
            (Component::BaseSalary, d("30326.09")),
            (Component::Commission, d("50000"))
        ]
    );
    assert_eq!(statement.quota.unwrap().round_dp(2), d("1010869.57"));
}

#[test]
fn expenses_are_reimbursed_up_to_the_cap_and_a_team_pool_is_shared_evenly() {
    let mut plan = senior(Payout::OnBooking);
    plan.commission = None;
    plan.base_salary = d("60000");
    plan.reimburses_expenses = true;
    plan.expense_cap_per_period = Some(d("3000"));
    plan.team_pool = Some(TeamPool {
        team_path: "/northwind/east/east-1/".into(),
        rate: d("1.5"),
        split: PoolSplit::Evenly,
    });
    let credits = [
        credit(1, CreditKind::Expense, 0, "1800.40", "2026-10-03"),
        credit(2, CreditKind::Expense, 1, "1500", "2026-11-03"),
    ];
    let mut with_pool = input(&plan, &credits, &[]);
    with_pool.quota = None;
    with_pool.pool = Some(PoolShare {
        team_bookings: d("8000000"),
        rep_bookings: Decimal::ZERO,
        members: 3,
    });
    let statement = compute(&with_pool).unwrap();
    // Pool 1.5 % of 8,000,000 = 120,000, a third 40,000; expenses 3,300.40 capped to 3,000.
    assert_eq!(
        amounts(&statement),
        vec![
            (Component::BaseSalary, d("60000")),
            (Component::Expense, d("1800.40")),
            (Component::Expense, d("1500")),
            (Component::ExpenseCap, d("-300.40")),
            (Component::TeamPool, d("40000")),
        ]
    );
    assert_eq!(statement.total, d("103000"));
}

#[test]
fn a_recoverable_draw_tops_up_a_thin_quarter_and_is_taken_back_from_a_good_one() {
    let mut plan = senior(Payout::OnBooking);
    plan.draw = Some(Draw {
        amount: d("20000"),
        recoverable: true,
    });
    let thin = [credit(1, CreditKind::Booking, 1, "100000", "2026-10-20")];
    let statement = compute(&input(&plan, &thin, &[])).unwrap();
    // 5,000 commission, topped up by 15,000, owed.
    assert_eq!(
        amounts(&statement),
        vec![
            (Component::Commission, d("5000")),
            (Component::Draw, d("15000"))
        ]
    );
    assert_eq!(statement.draw_balance, d("15000"));
    let good = [credit(2, CreditKind::Booking, 2, "1000000", "2027-01-20")];
    let mut next = input(&plan, &good, &[]);
    next.draw_balance = statement.draw_balance;
    let statement = compute(&next).unwrap();
    // 50,000 commission; 30,000 above the draw, 15,000 of it recovers the balance.
    assert_eq!(
        amounts(&statement),
        vec![
            (Component::Commission, d("50000")),
            (Component::DrawRecovery, d("-15000"))
        ]
    );
    assert_eq!(statement.draw_balance, Decimal::ZERO);
    // Not recoverable: the top-up is kept.
    plan.draw = Some(Draw {
        amount: d("20000"),
        recoverable: false,
    });
    assert_eq!(
        compute(&input(&plan, &thin, &[])).unwrap().draw_balance,
        Decimal::ZERO
    );
}

#[test]
fn each_line_rounds_half_to_even_and_a_tiered_plan_without_quota_is_refused() {
    let mut plan = senior(Payout::OnBooking);
    plan.commission.as_mut().unwrap().tiers = vec![Tier {
        from_attainment: d("0"),
        rate: d("5"),
    }];
    // 0.5 × 5 % = 0.025 → 0.02 and 0.3 × 5 % = 0.015 → 0.02: ties to the even cent (half
    // away from zero would give 0.03 and 0.02).
    let credits = [
        credit(1, CreditKind::Booking, 1, "0.5", "2026-10-20"),
        credit(2, CreditKind::Booking, 2, "0.3", "2026-10-21"),
    ];
    let mut flat = input(&plan, &credits, &[]);
    flat.quota = None;
    assert_eq!(
        amounts(&compute(&flat).unwrap()),
        vec![
            (Component::Commission, d("0.02")),
            (Component::Commission, d("0.02"))
        ]
    );
    let tiered = senior(Payout::OnBooking);
    let mut no_quota = input(&tiered, &credits, &[]);
    no_quota.quota = None;
    assert_eq!(compute(&no_quota), Err(StatementProblem::NoQuota));
}

proptest! {
    /// Any period's bookings and payments: the statement's total is the sum of its paid lines;
    /// on payment, never more is released than was earned; and a clawback in the next period
    /// takes back exactly what this one paid on the deal.
    #[test]
    fn lines_add_up_and_a_clawback_reverses_exactly_what_was_paid(
        deals in prop::collection::vec((1_i64..500_000_000, 0_i64..=100), 1..6),
        on_payment in any::<bool>(),
    ) {
        let plan = senior(if on_payment { Payout::OnPayment } else { Payout::OnBooking });
        let mut credits = Vec::new();
        for (index, (cents, paid_percent)) in deals.iter().enumerate() {
            let n = index as u128 + 1;
            let amount = Decimal::new(*cents, 2);
            credits.push(Credit { amount, ..credit(n, CreditKind::Booking, n, "0", "2026-10-20") });
            let paid = amount * Decimal::from(*paid_percent) / Decimal::ONE_HUNDRED;
            credits.push(Credit { amount: paid, ..credit(100 + n, CreditKind::Payment, n, "0", "2026-11-20") });
        }
        let statement = compute(&input(&plan, &credits, &[])).unwrap();
        let paid: Decimal = statement.lines.iter().filter(|line| line.component.is_paid()).map(|line| line.amount).sum();
        prop_assert_eq!(statement.total, paid);
        let earned: Decimal = statement.lines.iter().filter(|line| matches!(line.component, Component::Commission | Component::CommissionEarned)).map(|line| line.amount).sum();
        prop_assert!(paid <= earned);
        // The first deal lost next quarter.
        let first = Uuid::from_u128(1);
        let paid_on_first: Decimal = statement.lines.iter().filter(|line| line.deal_id == Some(first) && line.component.is_paid()).map(|line| line.amount).sum();
        let history = [DealHistory { deal_id: first, paid: paid_on_first, ..DealHistory::default() }];
        let lost = [reversal(900, 1, 1, "1", "2027-01-05")];
        let clawed = compute(&input(&plan, &lost, &history)).unwrap();
        prop_assert_eq!(clawed.total, -paid_on_first);
    }
}
