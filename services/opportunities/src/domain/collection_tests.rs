use chrono::NaiveDate;
use crm_platform::money::CurrencyCode;
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn day(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, month, day).unwrap()
}

fn by_percent(percents: &[&str]) -> Vec<InstalmentInput> {
    percents
        .iter()
        .zip(1..)
        .map(|(percent, month)| InstalmentInput {
            due_date: day(month, 15),
            share: Share::Percent(dec(percent)),
            note: String::new(),
        })
        .collect()
}

fn amounts(instalments: &[Instalment]) -> Vec<Decimal> {
    instalments.iter().map(|i| i.amount).collect()
}

fn paid(instalments: &[Instalment]) -> Vec<Decimal> {
    instalments.iter().map(|i| i.paid).collect()
}

#[test]
fn thirty_seventy_of_an_odd_total_rounds_the_first_and_gives_the_last_the_remainder() {
    // 123,456.79 × 0.30 = 37,037.037 → 37,037.04; 123,456.79 − 37,037.04 = 86,419.75.
    let split = split(
        dec("123456.79"),
        CurrencyCode::CNY,
        &by_percent(&["30", "70"]),
    )
    .unwrap();
    assert_eq!(amounts(&split), [dec("37037.04"), dec("86419.75")]);
    assert_eq!(split[0].number, 1);
    assert_eq!(split[1].percent, Some(dec("70")));
    assert_eq!(split[0].status(), InstalmentStatus::Open);
}

#[test]
fn a_third_each_of_a_hundred_rounds_half_even_and_the_last_takes_the_cent() {
    // 100 × 33.335% = 33.335 → 33.34 (half to even: 4); twice 66.68; the last 33.32.
    let split = split(
        dec("100"),
        CurrencyCode::CNY,
        &by_percent(&["33.335", "33.335", "33.33"]),
    )
    .unwrap();
    assert_eq!(amounts(&split), [dec("33.34"), dec("33.34"), dec("33.32")]);
}

#[test]
fn mixed_shares_wrong_sums_and_going_back_in_time_are_refused_naming_the_field() {
    let mut mixed = by_percent(&["30", "70"]);
    mixed[1].share = Share::Amount(dec("10"));
    let refused = split(dec("100"), CurrencyCode::CNY, &mixed).unwrap_err();
    assert_eq!(refused[0].field, "instalments[1].amount");
    assert_eq!(refused[0].reason, Some(INCONSISTENT_FIELDS));

    let short = split(dec("100"), CurrencyCode::CNY, &by_percent(&["30", "60"])).unwrap_err();
    assert_eq!(short[0].field, "instalments");

    let mut back = by_percent(&["30", "70"]);
    back[1].due_date = day(1, 1);
    let refused = split(dec("100"), CurrencyCode::CNY, &back).unwrap_err();
    assert_eq!(refused[0].field, "instalments[1].due_date");

    let zero = split(dec("100"), CurrencyCode::CNY, &by_percent(&["0", "100"])).unwrap_err();
    assert_eq!(zero[0].field, "instalments[0].percent");

    let mut by_amount = by_percent(&["30", "70"]);
    by_amount[0].share = Share::Amount(dec("40.001"));
    by_amount[1].share = Share::Amount(dec("59.999"));
    let fine = split(dec("100"), CurrencyCode::CNY, &by_amount).unwrap_err();
    assert_eq!(fine[0].field, "instalments[0].amount");
    by_amount[0].share = Share::Amount(dec("40"));
    by_amount[1].share = Share::Amount(dec("50"));
    let sum = split(dec("100"), CurrencyCode::CNY, &by_amount).unwrap_err();
    assert_eq!(sum[0].field, "instalments");
    by_amount[1].share = Share::Amount(dec("60.00"));
    let exact = split(dec("100"), CurrencyCode::CNY, &by_amount).unwrap();
    assert_eq!(amounts(&exact), [dec("40"), dec("60")]);
}

#[test]
fn a_payment_fills_the_oldest_first_partly_and_the_rest_is_credit() {
    let mut schedule = split(dec("1000"), CurrencyCode::CNY, &by_percent(&["30", "70"])).unwrap();
    let (first, credit) = allocate(&mut schedule, dec("500"));
    assert_eq!(credit, Decimal::ZERO);
    assert_eq!(
        first,
        [
            Allocation {
                instalment_number: 1,
                amount: dec("300")
            },
            Allocation {
                instalment_number: 2,
                amount: dec("200")
            }
        ]
    );
    assert_eq!(schedule[0].status(), InstalmentStatus::Paid);
    assert_eq!(schedule[1].status(), InstalmentStatus::PartlyPaid);
    let (_, credit) = allocate(&mut schedule, dec("600"));
    assert_eq!(credit, dec("100"));
    assert_eq!(
        totals(&schedule, credit),
        ScheduleTotals {
            total: dec("1000"),
            paid: dec("1000"),
            open: Decimal::ZERO,
            overpaid: dec("100"),
        }
    );
    // A refund of 250 takes the 100 credit first, then 150 off the newest instalment.
    let (back, credit) = deallocate(&mut schedule, credit, dec("250"));
    assert_eq!(credit, Decimal::ZERO);
    assert_eq!(
        back,
        [Allocation {
            instalment_number: 2,
            amount: dec("-150")
        }]
    );
    assert_eq!(paid(&schedule), [dec("300"), dec("550")]);
}

#[test]
fn a_replacement_carries_what_was_paid_and_is_refused_below_it() {
    let schedule = split(dec("1000"), CurrencyCode::CNY, &by_percent(&["50", "50"])).unwrap();
    let carried = carry_paid(schedule.clone(), dec("700")).unwrap();
    assert_eq!(paid(&carried), [dec("500"), dec("200")]);
    let refused = carry_paid(schedule, dec("1000.01")).unwrap_err();
    assert_eq!(refused[0].field, "instalments");
}

/// Percents summing to 100: cut points in basis points of 10,000.
fn percents() -> impl Strategy<Value = Vec<Decimal>> {
    prop::collection::btree_set(1_u32..10_000, 0..6).prop_map(|cuts| {
        let mut points: Vec<u32> = cuts.into_iter().collect();
        points.push(10_000);
        let mut last = 0;
        points
            .into_iter()
            .map(|point| {
                let share = Decimal::new(i64::from(point - last), 2);
                last = point;
                share
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn percent_splits_sum_to_the_total_exactly(
        cents in 1_000_000_i64..100_000_000_000,
        shares in percents(),
    ) {
        let total = Decimal::new(cents, 2);
        let inputs: Vec<InstalmentInput> = shares
            .iter()
            .map(|share| InstalmentInput {
                due_date: day(1, 1),
                share: Share::Percent(*share),
                note: String::new(),
            })
            .collect();
        let split = split(total, CurrencyCode::CNY, &inputs).unwrap();
        prop_assert_eq!(split.iter().map(|i| i.amount).sum::<Decimal>(), total);
        for instalment in &split {
            prop_assert_eq!(instalment.amount.round_dp(2), instalment.amount);
        }
    }

    #[test]
    fn payments_never_exceed_instalments_and_refund_then_repay_is_consistent(
        payments in prop::collection::vec(1_i64..60_000, 1..6),
        refund_share in 0_u32..=100,
    ) {
        let total = dec("1000.00");
        let mut schedule =
            split(total, CurrencyCode::CNY, &by_percent(&["30", "30", "40"])).unwrap();
        let mut credit = Decimal::ZERO;
        let mut received = Decimal::ZERO;
        for cents in &payments {
            let amount = Decimal::new(*cents, 2);
            received += amount;
            let (allocations, left) = allocate(&mut schedule, amount);
            credit += left;
            let allocated: Decimal = allocations.iter().map(|a| a.amount).sum();
            prop_assert_eq!(allocated + left, amount);
        }
        for instalment in &schedule {
            prop_assert!(instalment.paid >= Decimal::ZERO && instalment.paid <= instalment.amount);
        }
        let figures = totals(&schedule, credit);
        prop_assert_eq!(figures.paid + figures.overpaid, received);
        let refund = (received * Decimal::from(refund_share) / Decimal::ONE_HUNDRED).round_dp(2);
        let (back, after) = deallocate(&mut schedule, credit, refund);
        let taken: Decimal = back.iter().map(|a| -a.amount).sum();
        prop_assert_eq!(taken + (credit - after), refund);
        // Paying the refund back again restores the figures.
        let (_, left) = allocate(&mut schedule, refund);
        prop_assert_eq!(totals(&schedule, after + left), figures);
    }
}
