use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

#[test]
fn the_error_is_the_forecast_less_the_actual_and_its_percentage_is_of_the_actual() {
    assert_eq!(error(d("110"), d("100")), Ok(d("10")));
    assert_eq!(error(d("90"), d("120")), Ok(d("-30")));
    assert_eq!(
        absolute_percentage_error(d("90"), d("120")),
        Ok(Some(d("25")))
    );
    assert_eq!(
        Comparison::of(d("100"), d("300")).unwrap(),
        Comparison {
            forecast: d("100"),
            actual: d("300"),
            error: d("-200"),
            absolute_percentage_error: Some(d("66.67")),
        }
    );
}

#[test]
fn nothing_happened_has_an_error_but_no_percentage() {
    let comparison = Comparison::of(d("50"), Decimal::ZERO).unwrap();
    assert_eq!(comparison.error, d("50"));
    assert_eq!(comparison.absolute_percentage_error, None);
}

#[test]
fn the_summary_averages_the_errors_and_the_percentages_that_exist() {
    // Errors 10, −30, 50, −200 → bias −42.5; percentages 10, 25, (none), 66.666… → MAPE
    // 101.666… ÷ 3 = 33.888… → 33.89.
    let accuracy = Accuracy::of([
        (d("110"), d("100")),
        (d("90"), d("120")),
        (d("50"), d("0")),
        (d("100"), d("300")),
    ])
    .unwrap();
    assert_eq!(
        accuracy,
        Accuracy {
            count: 4,
            mean_error: Some(d("-42.5")),
            percentage_count: 3,
            mean_absolute_percentage_error: Some(d("33.89")),
        }
    );
}

#[test]
fn the_summary_rounds_once_at_the_end() {
    // Errors 0.004, 0.004, 0.007: the exact mean 0.005 rounds (half away from zero) to 0.01;
    // the mean of the rounded errors (0.00, 0.00, 0.01) would have been 0.00.
    let accuracy = Accuracy::of([
        (d("100.004"), d("100")),
        (d("100.004"), d("100")),
        (d("100.007"), d("100")),
    ])
    .unwrap();
    assert_eq!(accuracy.mean_error, Some(d("0.01")));
}

#[test]
fn no_forecasts_have_no_means() {
    let accuracy = Accuracy::of([]).unwrap();
    assert_eq!(accuracy.count, 0);
    assert_eq!(accuracy.mean_error, None);
    assert_eq!(accuracy.mean_absolute_percentage_error, None);
}

#[test]
fn an_overflow_is_an_error_not_a_panic() {
    assert_eq!(error(Decimal::MAX, Decimal::MIN), Err(Overflow));
    assert_eq!(
        Accuracy::of([(Decimal::MAX, Decimal::ZERO), (Decimal::MAX, Decimal::ZERO)]),
        Err(Overflow)
    );
}

proptest! {
    #[test]
    fn a_perfect_forecast_has_no_error(cents in 1_i64..10_000_000_000) {
        let actual = Decimal::new(cents, 2);
        let accuracy = Accuracy::of([(actual, actual)]).unwrap();
        prop_assert_eq!(accuracy.mean_error, Some(Decimal::ZERO));
        prop_assert_eq!(accuracy.mean_absolute_percentage_error, Some(Decimal::ZERO));
    }

    #[test]
    fn percentages_are_never_negative(forecast in 0_i64..1_000_000_000, actual in 1_i64..1_000_000_000) {
        let percentage = absolute_percentage_error(Decimal::new(forecast, 2), Decimal::new(actual, 2))
            .unwrap()
            .unwrap();
        prop_assert!(percentage >= Decimal::ZERO);
    }
}
