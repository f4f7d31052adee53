use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;

const ALL_METHODS: [Method; 3] = [
    Method::HoltWinters,
    Method::HoltLinear,
    Method::LinearRegression,
];
use crate::domain::accuracy::Accuracy;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn series(bookings: &[&str], season: usize) -> Series {
    Series {
        bookings: bookings.iter().map(|amount| d(amount)).collect(),
        season,
        minor_units: 2,
    }
}

#[test]
fn each_period_is_forecast_from_the_periods_before_it_only() {
    // From 100, 200 the line says 300 (right); from 100, 200, 300 it says 400 against 600:
    // error −200, 33.33 %. Bias −100, MAPE 33.333… ÷ 2 = 16.67.
    let backtest = backtest(
        &series(&["100", "200", "300", "600"], 1),
        Method::LinearRegression,
        2,
    )
    .unwrap();
    let points: Vec<_> = backtest
        .points
        .iter()
        .map(|point| {
            (
                point.period_index,
                point.comparison.forecast,
                point.comparison.error,
                point.comparison.absolute_percentage_error,
            )
        })
        .collect();
    assert_eq!(
        points,
        vec![
            (2, d("300"), d("0"), Some(d("0"))),
            (3, d("400"), d("-200"), Some(d("33.33"))),
        ]
    );
    assert_eq!(
        backtest.accuracy,
        Accuracy {
            count: 2,
            mean_error: Some(d("-100")),
            percentage_count: 2,
            mean_absolute_percentage_error: Some(d("16.67")),
        }
    );
}

#[test]
fn a_perfect_trend_backtests_without_error() {
    let trend = series(&["100", "120", "140", "160", "180", "200"], 1);
    for method in [Method::HoltLinear, Method::LinearRegression] {
        let backtest = backtest(&trend, method, 2).unwrap();
        assert_eq!(backtest.points.len(), 4);
        assert_eq!(backtest.accuracy.mean_error, Some(Decimal::ZERO));
        assert_eq!(
            backtest.accuracy.mean_absolute_percentage_error,
            Some(Decimal::ZERO)
        );
    }
}

#[test]
fn the_origin_is_raised_to_what_the_method_needs_and_shared_by_all() {
    let quarters = series(&["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"], 4);
    let winters = backtest(&quarters, Method::HoltWinters, 2).unwrap();
    assert_eq!(winters.points.first().unwrap().period_index, 8);
    assert_eq!(
        shared_origin(&[Method::HoltWinters, Method::LinearRegression], 4),
        8
    );
    assert_eq!(shared_origin(&[Method::HoltLinear], 4), 2);
}

fn judged(method: Method, mape: Option<&str>) -> Backtest {
    Backtest {
        method,
        points: Vec::new(),
        accuracy: Accuracy {
            count: 1,
            mean_error: Some(Decimal::ZERO),
            percentage_count: usize::from(mape.is_some()),
            mean_absolute_percentage_error: mape.map(d),
        },
    }
}

#[test]
fn the_recommended_method_has_the_smallest_mape_the_first_of_equals() {
    assert_eq!(
        recommend(&[
            judged(Method::HoltWinters, Some("12.5")),
            judged(Method::LinearRegression, Some("8.1")),
        ]),
        Some(Method::LinearRegression)
    );
    assert_eq!(
        recommend(&[
            judged(Method::HoltLinear, Some("8.1")),
            judged(Method::LinearRegression, Some("8.1")),
        ]),
        Some(Method::HoltLinear)
    );
    assert_eq!(
        recommend(&[
            judged(Method::HoltLinear, None),
            judged(Method::LinearRegression, Some("40")),
        ]),
        Some(Method::LinearRegression)
    );
    assert_eq!(recommend(&[judged(Method::HoltLinear, None)]), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn a_backtest_has_a_point_per_period_after_the_origin(
        cents in prop::collection::vec(0_i64..10_000_000, 2..14),
        extra in 0_usize..6,
    ) {
        let history = Series {
            bookings: cents.into_iter().map(|cents| Decimal::new(cents, 2)).collect(),
            season: 4,
            minor_units: 2,
        };
        for method in ALL_METHODS {
            let min_train = method.minimum_history(4) + extra;
            let backtest = backtest(&history, method, min_train).unwrap();
            prop_assert_eq!(
                backtest.points.len(),
                history.bookings.len().saturating_sub(min_train)
            );
            prop_assert_eq!(backtest.accuracy.count, backtest.points.len());
        }
    }
}

#[test]
fn on_a_seasonal_series_holt_winters_backtests_better_than_holt_and_is_recommended() {
    const PATTERN: [i64; 12] = [-300, -200, -100, 0, 100, 200, 300, 200, 100, 0, -100, -200];
    let months = Series {
        bookings: (0..36)
            .map(|t| Decimal::from(1000 + 10 * t as i64 + PATTERN[t % 12]))
            .collect(),
        season: 12,
        minor_units: 2,
    };
    let methods = Method::applicable(36, 12);
    let origin = shared_origin(&methods, 12);
    assert_eq!(origin, 24);
    let backtests: Vec<Backtest> = methods
        .iter()
        .map(|&method| backtest(&months, method, origin).unwrap())
        .collect();
    let winters = &backtests[0];
    assert_eq!(winters.method, Method::HoltWinters);
    assert_eq!(winters.points.len(), 12);
    assert_eq!(
        winters.accuracy.mean_absolute_percentage_error,
        Some(Decimal::ZERO)
    );
    assert!(backtests[1].accuracy.mean_absolute_percentage_error > Some(d("5")));
    assert_eq!(recommend(&backtests), Some(Method::HoltWinters));
    let holt = backtest(&months, Method::HoltLinear, origin).unwrap();
    assert!(
        holt.accuracy.mean_absolute_percentage_error
            > winters.accuracy.mean_absolute_percentage_error
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The one-run back-test gives exactly what fitting every prefix anew and forecasting the
    /// next period gives.
    #[test]
    fn the_backtest_equals_fitting_every_prefix_anew(
        cents in prop::collection::vec(0_i64..10_000_000, 9..14),
    ) {
        let history = Series {
            bookings: cents.into_iter().map(|cents| Decimal::new(cents, 2)).collect(),
            season: 4,
            minor_units: 2,
        };
        for method in ALL_METHODS {
            let origin = method.minimum_history(4);
            let fast = backtest(&history, method, origin).unwrap();
            for point in &fast.points {
                let prefix = Series {
                    bookings: history.bookings[..point.period_index].to_vec(),
                    ..history.clone()
                };
                let anew = crate::domain::statistics::forecast(&prefix, method, 1).unwrap();
                prop_assert_eq!(
                    point.comparison.forecast,
                    anew.bookings[0],
                    "{:?} at {}", method, point.period_index
                );
            }
        }
    }
}
