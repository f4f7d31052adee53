use std::str::FromStr;

use crm_platform::money::{CurrencyCode, Money};
use proptest::prelude::*;

use super::*;
use crate::domain::deal::tests::opportunity;

fn cny(amount: &str) -> Money {
    Money {
        currency: CurrencyCode::from_str("CNY").unwrap(),
        amount: Decimal::from_str(amount).unwrap(),
    }
}

/// An open deal of 1,000,000 CNY at 60 %, best case, closing 2027-01-30.
fn deal() -> PipelineDeal {
    let mut deal = PipelineDeal::from_opportunity(&opportunity()).unwrap();
    deal.corporate_amount = Some(cny("1000000"));
    deal
}

fn sum(contribution: &Contribution) -> MonthTotals {
    MonthTotals {
        owner_id: contribution.owner_id,
        owner_team_path: contribution.owner_team_path.as_str().to_owned(),
        month: contribution.month,
        status: contribution.status,
        category: contribution.category,
        currency: contribution.currency.map(str::to_owned),
        totals: Totals {
            deal_count: 1,
            amount: contribution.amount,
            weighted: contribution.weighted,
        },
    }
}

#[test]
fn an_open_deal_counts_weighted_in_its_close_month_and_stage_category() {
    let contribution = Contribution::of(&deal(), None).unwrap();
    assert_eq!(contribution.month.to_string(), "2027-01-01");
    assert_eq!(contribution.category, ForecastCategory::BestCase);
    assert_eq!(contribution.amount, Decimal::from(1_000_000));
    assert_eq!(contribution.weighted, Decimal::from(600_000));
}

#[test]
fn an_override_holds_only_in_the_stage_it_was_set_at() {
    let deal = deal();
    let chosen = CategoryOverride {
        stage_id: deal.stage_id,
        category: ForecastCategory::Commit,
    };
    assert_eq!(
        Contribution::of(&deal, Some(&chosen)).unwrap().category,
        ForecastCategory::Commit
    );
    let mut moved = deal.clone();
    moved.stage_id = Uuid::now_v7();
    assert_eq!(
        Contribution::of(&moved, Some(&chosen)).unwrap().category,
        ForecastCategory::BestCase,
        "the next stage's category applies again"
    );
}

#[test]
fn a_won_deal_counts_whole_in_the_month_won_and_a_lost_one_weighs_nothing() {
    let mut won = deal();
    won.status = DealStatus::Won;
    won.closed_on = Some(NaiveDate::from_ymd_opt(2026, 12, 18).unwrap());
    let contribution = Contribution::of(&won, None).unwrap();
    assert_eq!(contribution.month.to_string(), "2026-12-01");
    assert_eq!(contribution.category, ForecastCategory::Closed);
    assert_eq!(contribution.weighted, Decimal::from(1_000_000));
    let mut lost = won.clone();
    lost.status = DealStatus::Lost;
    assert_eq!(
        Contribution::of(&lost, None).unwrap().weighted,
        Decimal::ZERO
    );
    let mut archived = won;
    archived.status = DealStatus::Archived;
    assert_eq!(Contribution::of(&archived, None), None);
}

#[test]
fn a_deal_without_a_corporate_amount_is_counted_as_unconverted() {
    let mut deal = deal();
    deal.corporate_amount = None;
    let contribution = Contribution::of(&deal, None).unwrap();
    assert_eq!(contribution.currency, None);
    let forecast = Forecast::from_sums([&sum(&contribution)], Some("CNY"));
    assert_eq!(forecast.unconverted_deals, 1);
    assert_eq!(forecast.open(), Totals::default());
}

/// Hand-computed: commit 500,000 at 90 % (450,000), best case 1,000,000 at 60 % (600,000),
/// pipeline 200,000 at 20 % (40,000), omitted 300,000 at 10 % (30,000), won 250,000.
#[test]
fn a_forecast_adds_categories_into_commit_best_case_and_weighted_totals() {
    let deals = [
        ("500000", 90, ForecastCategory::Commit, DealStatus::Open),
        ("1000000", 60, ForecastCategory::BestCase, DealStatus::Open),
        ("200000", 20, ForecastCategory::Pipeline, DealStatus::Open),
        ("300000", 10, ForecastCategory::Omitted, DealStatus::Open),
        ("250000", 100, ForecastCategory::Closed, DealStatus::Won),
        ("80000", 0, ForecastCategory::Omitted, DealStatus::Lost),
    ];
    let sums: Vec<MonthTotals> = deals
        .iter()
        .map(|(amount, probability, category, status)| {
            let mut deal = deal();
            deal.corporate_amount = Some(cny(amount));
            deal.effective_probability = *probability;
            deal.category = *category;
            deal.status = *status;
            sum(&Contribution::of(&deal, None).unwrap())
        })
        .collect();
    let forecast = Forecast::from_sums(&sums, Some("CNY"));
    assert_eq!(
        forecast.open().deal_count,
        3,
        "omitted is not open pipeline"
    );
    assert_eq!(forecast.open().weighted, Decimal::from(1_090_000));
    assert_eq!(forecast.closed.amount, Decimal::from(250_000));
    assert_eq!(forecast.lost.amount, Decimal::from(80_000));
    assert_eq!(forecast.commit_total(), Decimal::from(750_000));
    assert_eq!(forecast.best_case_total(), Decimal::from(1_750_000));
    assert_eq!(forecast.weighted_total(), Decimal::from(1_340_000));
    assert_eq!(
        forecast.category(ForecastCategory::Omitted).weighted,
        Decimal::from(30_000)
    );
}

#[test]
fn sums_in_a_former_corporate_currency_are_not_added_to_the_current_ones() {
    let mut contribution = Contribution::of(&deal(), None).unwrap();
    contribution.currency = Some("USD");
    let forecast = Forecast::from_sums([&sum(&contribution)], Some("CNY"));
    assert_eq!(forecast.unconverted_deals, 1);
    assert_eq!(forecast.weighted_total(), Decimal::ZERO);
}

#[test]
fn a_roll_up_puts_each_sum_under_its_sub_team_or_its_rep() {
    let team = TeamPath::parse("/northwind/east/").unwrap();
    let manager = Uuid::now_v7();
    let place = |path: &str, owner: Uuid, amount: &str| {
        let mut deal = deal();
        deal.owner_team_path = TeamPath::parse(path).unwrap();
        deal.owner_id = owner;
        deal.corporate_amount = Some(cny(amount));
        sum(&Contribution::of(&deal, None).unwrap())
    };
    let (ravi, mei) = (Uuid::now_v7(), Uuid::now_v7());
    let sums = [
        place("/northwind/east/", manager, "100"),
        place("/northwind/east/east-1/", ravi, "200"),
        place("/northwind/east/east-1/shanghai/", mei, "300"),
        place("/northwind/east/east-2/", mei, "400"),
    ];
    let lines = RollUpLines::of(&team, &sums, Some("CNY"));
    assert_eq!(lines.reps.len(), 1);
    assert_eq!(lines.reps[&manager].open().amount, Decimal::from(100));
    assert_eq!(
        lines.teams.keys().collect::<Vec<_>>(),
        ["/northwind/east/east-1/", "/northwind/east/east-2/"]
    );
    assert_eq!(
        lines.teams["/northwind/east/east-1/"].open().amount,
        Decimal::from(500),
        "the subtree's deals, sub-teams' included"
    );
    // The lines add up to the whole.
    let whole = Forecast::from_sums(&sums, Some("CNY"));
    let mut added = Totals::default();
    for forecast in lines.teams.values().chain(lines.reps.values()) {
        added.add(&forecast.open());
    }
    assert_eq!(added, whole.open());
}

proptest! {
    /// The weighted amount never exceeds the amount and is exact to the probability.
    #[test]
    fn weighted_is_amount_times_probability(cents in 0i64..10_000_000_000, probability in 0u8..=100) {
        let mut deal = deal();
        deal.corporate_amount = Some(Money {
            currency: CurrencyCode::from_str("CNY").unwrap(),
            amount: Decimal::new(cents, 2),
        });
        deal.effective_probability = probability;
        let contribution = Contribution::of(&deal, None).unwrap();
        prop_assert!(contribution.weighted <= contribution.amount);
        prop_assert_eq!(
            contribution.weighted * Decimal::ONE_HUNDRED,
            contribution.amount * Decimal::from(probability)
        );
    }

    /// Adding sums in any order gives the same forecast.
    #[test]
    fn the_order_of_sums_changes_nothing(
        amounts in proptest::collection::vec((0i64..1_000_000_000, 0u8..=100, 1u8..=4), 1..20),
    ) {
        let sums: Vec<MonthTotals> = amounts
            .iter()
            .map(|(cents, probability, category)| {
                let mut deal = deal();
                deal.corporate_amount = Some(Money {
                    currency: CurrencyCode::from_str("CNY").unwrap(),
                    amount: Decimal::new(*cents, 2),
                });
                deal.effective_probability = *probability;
                deal.category = OPEN_CATEGORIES[usize::from(*category - 1)];
                sum(&Contribution::of(&deal, None).unwrap())
            })
            .collect();
        let forward = Forecast::from_sums(&sums, Some("CNY"));
        let backward = Forecast::from_sums(sums.iter().rev(), Some("CNY"));
        prop_assert_eq!(&forward, &backward);
        prop_assert!(forward.commit_total() <= forward.best_case_total());
    }
}
