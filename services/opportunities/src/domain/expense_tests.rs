use crm_platform::money::{CurrencyCode, Money};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn cny(amount: &str) -> Money {
    Money {
        currency: CurrencyCode::CNY,
        amount: dec(amount),
    }
}

fn usd(amount: &str) -> Money {
    Money {
        currency: "USD".parse().unwrap(),
        amount: dec(amount),
    }
}

fn spent(status: ExpenseStatus, amount: Money, corporate: Option<Money>) -> SummedExpense {
    SummedExpense {
        status,
        amount,
        corporate,
    }
}

#[test]
fn an_owner_writes_and_submits_drafts_and_rejected_ones_a_manager_decides_submitted_ones() {
    use ExpenseAction::*;
    use ExpenseStatus::*;
    assert_eq!(next_status(Draft, Update), Some(Draft));
    assert_eq!(next_status(Rejected, Update), Some(Rejected));
    assert_eq!(next_status(Draft, Submit), Some(Submitted));
    assert_eq!(next_status(Rejected, Submit), Some(Submitted));
    assert_eq!(next_status(Submitted, Approve), Some(Approved));
    assert_eq!(next_status(Submitted, Reject), Some(Rejected));
    for action in [Update, Submit, Approve, Reject] {
        assert_eq!(next_status(Approved, action), None, "{action:?}");
    }
    for action in [Update, Submit] {
        assert_eq!(next_status(Submitted, action), None, "{action:?}");
    }
    for status in [Draft, Rejected] {
        assert_eq!(next_status(status, Approve), None);
        assert_eq!(next_status(status, Reject), None);
    }
}

#[test]
fn names_round_trip() {
    for category in ExpenseCategory::ALL {
        assert_eq!(ExpenseCategory::parse(category.as_str()), Some(category));
    }
    for status in ExpenseStatus::ALL {
        assert_eq!(ExpenseStatus::parse(status.as_str()), Some(status));
    }
    assert_eq!(ExpenseCategory::parse("bribes"), None);
}

/// CNY 1,280.50 + 356.00 approved, 99.90 submitted, a draft and a rejected one left out; the
/// cost of sale of a won CNY 984,000 deal is 1,636.50 / 984,000 × 100 = 0.16631… → 0.17.
#[test]
fn sums_by_hand_and_the_cost_of_sale_to_two_places() {
    let expenses = [
        spent(
            ExpenseStatus::Approved,
            cny("1280.50"),
            Some(cny("1280.50")),
        ),
        spent(ExpenseStatus::Approved, cny("356.00"), Some(cny("356.00"))),
        spent(ExpenseStatus::Submitted, cny("99.90"), None),
        spent(ExpenseStatus::Draft, cny("5000"), None),
        spent(ExpenseStatus::Rejected, cny("700"), None),
    ];
    let summary = summarise(&expenses, Some(CurrencyCode::CNY), Some(cny("984000")));
    assert_eq!(summary.approved, vec![cny("1636.50")]);
    assert_eq!(summary.submitted, vec![cny("99.90")]);
    assert_eq!(summary.approved_corporate, Some(cny("1636.50")));
    assert_eq!(summary.unconverted, 0);
    assert_eq!(summary.cost_of_sale_percent, Some(dec("0.17")));
    assert_eq!(summary.cost_of_sale_percent.unwrap().to_string(), "0.17");
}

/// Per currency sorted by code; a USD expense without a rate is unconverted and adds nothing to
/// the corporate total; 0.125 % rounds half away from zero to 0.13 (commercial rounding).
#[test]
fn currencies_apart_and_unconverted_expenses_counted() {
    let expenses = [
        spent(ExpenseStatus::Approved, usd("40.00"), None),
        spent(ExpenseStatus::Approved, cny("125.00"), Some(cny("125.00"))),
        spent(ExpenseStatus::Approved, usd("10.00"), Some(cny("70.00"))),
    ];
    let summary = summarise(&expenses, Some(CurrencyCode::CNY), Some(cny("156000")));
    assert_eq!(summary.approved, vec![cny("125.00"), usd("50.00")]);
    assert_eq!(summary.approved_corporate, Some(cny("195.00")));
    assert_eq!(summary.unconverted, 1);
    assert_eq!(summary.cost_of_sale_percent, Some(dec("0.13")));
    let tie = summarise(
        &expenses[1..2],
        Some(CurrencyCode::CNY),
        Some(cny("100000")),
    );
    assert_eq!(tie.cost_of_sale_percent, Some(dec("0.13")));
}

#[test]
fn no_cost_of_sale_without_a_won_amount_or_a_corporate_currency() {
    let expenses = [spent(ExpenseStatus::Approved, cny("10"), None)];
    let without_won = summarise(&expenses, Some(CurrencyCode::CNY), None);
    assert_eq!(without_won.cost_of_sale_percent, None);
    assert_eq!(without_won.unconverted, 1);
    let zero_won = summarise(&expenses, Some(CurrencyCode::CNY), Some(cny("0")));
    assert_eq!(zero_won.cost_of_sale_percent, None);
    let without_corporate = summarise(&expenses, None, Some(cny("1000")));
    assert_eq!(without_corporate.approved_corporate, None);
    assert_eq!(without_corporate.cost_of_sale_percent, None);
}

proptest! {
    /// The approved corporate total is the sum of the approved expenses' corporate amounts,
    /// whatever else the deal holds, and the per-currency approved sums add up to the same.
    #[test]
    fn the_corporate_total_is_the_sum_of_approved_amounts(
        lines in prop::collection::vec((0usize..4, 1i64..10_000_000), 0..40)
    ) {
        let expenses: Vec<SummedExpense> = lines
            .iter()
            .map(|&(status, cents)| {
                let amount = Money { currency: CurrencyCode::CNY, amount: Decimal::new(cents, 2) };
                spent(ExpenseStatus::ALL[status], amount, Some(amount))
            })
            .collect();
        let expected: Decimal = expenses
            .iter()
            .filter(|expense| expense.status == ExpenseStatus::Approved)
            .map(|expense| expense.amount.amount)
            .sum();
        let summary = summarise(&expenses, Some(CurrencyCode::CNY), None);
        prop_assert_eq!(summary.approved_corporate.unwrap().amount, expected);
        let per_currency: Decimal = summary.approved.iter().map(|money| money.amount).sum();
        prop_assert_eq!(per_currency, expected);
        prop_assert_eq!(summary.unconverted, 0);
    }
}
