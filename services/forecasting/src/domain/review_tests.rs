use super::*;
use crate::domain::accuracy::Comparison;

fn amount(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn some(text: &str) -> Option<Decimal> {
    Some(amount(text))
}

const RAVI: u128 = 1;
const MEI: u128 = 2;
const TOM: u128 = 3;
const EX: u128 = 4;

fn closed(deal: u128, owner: u128, outcome: Outcome, value: &str, on: &str) -> ClosedDeal {
    ClosedDeal {
        id: Uuid::from_u128(100 + deal),
        name: format!("d{deal}"),
        owner_id: Uuid::from_u128(owner),
        amount: amount(value),
        outcome,
        closed_on: on.parse().unwrap(),
    }
}

fn quarter() -> ReviewInput {
    use Outcome::{Lost, Won};
    let rep = |rep: u128, target: Option<&str>| RepTarget {
        rep_id: Uuid::from_u128(rep),
        target: target.map(amount),
    };
    ReviewInput {
        target: some("1200000"),
        // EX left the team but closed d7 in the quarter.
        reps: vec![
            rep(TOM, None),
            rep(MEI, Some("400000")),
            rep(RAVI, Some("500000")),
        ],
        closed: vec![
            closed(1, RAVI, Won, "300000", "2026-10-05"),
            closed(2, RAVI, Won, "250000", "2026-11-10"),
            closed(3, RAVI, Lost, "100000", "2026-11-20"),
            closed(4, MEI, Won, "300000", "2026-10-20"),
            closed(5, MEI, Lost, "400000", "2026-12-01"),
            closed(6, MEI, Lost, "50000", "2026-12-15"),
            closed(7, EX, Won, "100000", "2026-12-20"),
        ],
        // 1000000 forecast for 950000 booked: 50000 high, 5.263…%.
        forecast: Some(Comparison::of(amount("1000000"), amount("950000")).unwrap()),
        collections: Some(Collections {
            booked: amount("950000"),
            collected: amount("712500"),
        }),
        top: 2,
        money_places: 2,
    }
}

#[test]
fn the_review_counts_result_attainment_win_rates_and_collections() {
    let review = review(quarter());
    // 300000 + 250000 + 300000 + 100000 won; 950000 of 1200000 = 79.1666…%.
    assert_eq!(review.result, amount("950000"));
    assert_eq!(review.attainment, some("79.17"));
    // 4 of 7 closed deals = 57.142…%; 950000 of 1500000 closed = 63.333…%.
    assert_eq!((review.win_rate.won, review.win_rate.lost), (4, 3));
    assert_eq!(review.win_rate.lost_amount, amount("550000"));
    assert_eq!(review.win_rate.by_count, some("57.14"));
    assert_eq!(review.win_rate.by_amount, some("63.33"));
    assert_eq!(review.collection_rate, some("75"));
    let forecast = review.forecast.unwrap();
    assert_eq!(
        (forecast.error, forecast.absolute_percentage_error),
        (amount("50000"), some("5.26"))
    );
}

#[test]
fn the_largest_wins_and_losses_come_first_and_an_equal_amount_by_the_earlier_close() {
    let review = review(quarter());
    let names = |deals: &[ClosedDeal]| deals.iter().map(|d| d.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&review.top_wins), ["d1", "d4"]);
    assert_eq!(names(&review.top_losses), ["d5", "d3"]);
}

#[test]
fn each_rep_stands_against_the_team_average_and_the_teams_win_rate() {
    let review = review(quarter());
    // 950000 over four reps (EX counted: the deal was theirs); (110 + 75) / 2 attainment.
    assert_eq!(review.team_average.result, amount("237500"));
    assert_eq!(review.team_average.attainment, some("92.5"));
    let shown: Vec<_> = review
        .reps
        .iter()
        .map(|rep| {
            (
                rep.rank,
                rep.rep_id.as_u128(),
                rep.result,
                rep.attainment,
                rep.result_against_average,
                rep.attainment_against_average,
                rep.win_rate.by_count,
                rep.win_rate_against_team,
            )
        })
        .collect();
    let change = |absolute: &str, percent: &str| Change {
        absolute: amount(absolute),
        percent: some(percent),
    };
    assert_eq!(
        shown,
        [
            // 550000 of 500000; +312500 is 131.578…% of 237500; 2 of 3 won, 66.67 − 57.14.
            (
                1,
                RAVI,
                amount("550000"),
                some("110"),
                change("312500", "131.58"),
                some("17.5"),
                some("66.67"),
                some("9.53")
            ),
            (
                2,
                MEI,
                amount("300000"),
                some("75"),
                change("62500", "26.32"),
                some("-17.5"),
                some("33.33"),
                some("-23.81")
            ),
            // No target: after the reps with one.
            (
                3,
                EX,
                amount("100000"),
                None,
                change("-137500", "-57.89"),
                None,
                some("100"),
                some("42.86")
            ),
            (
                4,
                TOM,
                amount("0"),
                None,
                change("-237500", "-100"),
                None,
                None,
                None
            ),
        ]
    );
    assert_eq!(review.reps[0].win_rate.by_amount, some("84.62"));
}

#[test]
fn a_quiet_period_has_no_rates_to_show() {
    let review = review(ReviewInput {
        target: Some(Decimal::ZERO),
        reps: vec![],
        closed: vec![],
        forecast: None,
        collections: Some(Collections {
            booked: Decimal::ZERO,
            collected: Decimal::ZERO,
        }),
        top: 5,
        money_places: 2,
    });
    assert_eq!(review.result, Decimal::ZERO);
    assert_eq!(review.attainment, None);
    assert_eq!(review.win_rate.by_count, None);
    assert_eq!(review.win_rate.by_amount, None);
    assert_eq!(review.collection_rate, None);
    assert_eq!(
        review.team_average,
        TeamAverage {
            result: Decimal::ZERO,
            attainment: None
        }
    );
    assert!(review.reps.is_empty() && review.top_wins.is_empty());
}
