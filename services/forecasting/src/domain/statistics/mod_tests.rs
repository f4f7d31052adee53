use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;

const ALL_METHODS: [Method; 3] = [
    Method::HoltWinters,
    Method::HoltLinear,
    Method::LinearRegression,
];

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn series(bookings: Vec<Decimal>, season: usize) -> Series {
    Series {
        bookings,
        season,
        minor_units: 2,
    }
}

/// `1000 + 10 t` plus a fixed twelve-month pattern (adding up to 0), for `months` months.
fn seasonal(months: usize) -> Vec<Decimal> {
    const PATTERN: [i64; 12] = [-300, -200, -100, 0, 100, 200, 300, 200, 100, 0, -100, -200];
    (0..months)
        .map(|t| Decimal::from(1000 + 10 * t as i64 + PATTERN[t % 12]))
        .collect()
}

#[test]
fn the_season_is_only_modelled_with_two_full_seasons_of_history() {
    assert_eq!(Method::best_for(24, 12), Method::HoltWinters);
    assert_eq!(Method::best_for(23, 12), Method::HoltLinear);
    assert_eq!(Method::best_for(8, 4), Method::HoltWinters);
    assert_eq!(Method::best_for(7, 4), Method::HoltLinear);
    // No season: smoothing with a trend, however long the history.
    assert_eq!(Method::best_for(100, 1), Method::HoltLinear);
    assert_eq!(
        Method::applicable(24, 12),
        vec![Method::HoltWinters, Method::LinearRegression]
    );
    assert_eq!(
        Method::applicable(5, 12),
        vec![Method::HoltLinear, Method::LinearRegression]
    );
    assert_eq!(Method::applicable(1, 12), vec![]);
}

#[test]
fn a_constant_series_is_forecast_as_that_constant_by_every_method() {
    let constant = series(vec![d("1234.56"); 24], 12);
    for method in ALL_METHODS {
        let forecast = forecast(&constant, method, 3).unwrap();
        assert_eq!(forecast.bookings, vec![d("1234.56"); 3], "{method:?}");
    }
}

#[test]
fn a_linear_trend_is_continued_to_the_cent_by_holt_and_the_regression() {
    // y = 100 + 20 t for t = 0 … 11; the next three periods are 340, 360, 380.
    let trend = series((0..12).map(|t| Decimal::from(100 + 20 * t)).collect(), 1);
    let expected = vec![d("340"), d("360"), d("380")];
    let holt = forecast(&trend, Method::HoltLinear, 3).unwrap();
    assert_eq!(holt.bookings, expected);
    // Every weight fits a perfect trend: the tie goes to the smallest.
    assert_eq!(
        holt.parameters,
        Parameters::Smoothing {
            alpha: d("0.1"),
            beta: d("0.1"),
            gamma: None
        }
    );
    let regression = forecast(&trend, Method::LinearRegression, 3).unwrap();
    assert_eq!(regression.bookings, expected);
    assert_eq!(
        regression.parameters,
        Parameters::Line {
            intercept: d("100"),
            slope: d("20")
        }
    );
}

#[test]
fn holt_winters_reproduces_a_trend_with_a_season_and_beats_holt_on_it() {
    let history = series(seasonal(36), 12);
    let truth = seasonal(48)[36..].to_vec();
    let distance = |forecast: &[Decimal]| -> Decimal {
        forecast
            .iter()
            .zip(&truth)
            .map(|(forecast, actual)| (forecast - actual).abs())
            .sum()
    };
    let winters = forecast(&history, Method::HoltWinters, 12).unwrap();
    for (forecast, actual) in winters.bookings.iter().zip(&truth) {
        assert!(
            (forecast - actual).abs() <= d("0.01"),
            "{forecast} vs {actual}"
        );
    }
    let holt = forecast(&history, Method::HoltLinear, 12).unwrap();
    assert!(distance(&winters.bookings) * Decimal::TEN < distance(&holt.bookings));
}

#[test]
fn holt_winters_stays_close_on_a_seasonal_series_with_noise() {
    // ±15 of deterministic noise on the pattern: the forecast stays within 60 of the truth.
    let noisy: Vec<Decimal> = seasonal(36)
        .into_iter()
        .enumerate()
        .map(|(t, value)| value + Decimal::from([15, -10, 5, -15, 10][t % 5]))
        .collect();
    let truth = seasonal(48)[36..].to_vec();
    let winters = forecast(&series(noisy, 12), Method::HoltWinters, 12).unwrap();
    for (forecast, actual) in winters.bookings.iter().zip(&truth) {
        assert!(
            (forecast - actual).abs() <= d("60"),
            "{forecast} vs {actual}"
        );
    }
}

#[test]
fn a_falling_trend_forecasts_no_bookings_rather_than_negative_ones() {
    let falling = series(vec![d("500"), d("400"), d("300"), d("200"), d("100")], 1);
    for method in [Method::HoltLinear, Method::LinearRegression] {
        let forecast = forecast(&falling, method, 2).unwrap();
        assert_eq!(
            forecast.bookings,
            vec![Decimal::ZERO, Decimal::ZERO],
            "{method:?}"
        );
    }
}

#[test]
fn forecasts_are_rounded_to_the_currencys_minor_units() {
    // Slope 0.5, intercept 99.8333…: the next period is 101.3333….
    let bookings = vec![d("100"), d("100"), d("101")];
    let cents = forecast(&series(bookings.clone(), 1), Method::LinearRegression, 1).unwrap();
    assert_eq!(cents.bookings, vec![d("101.33")]);
    let yen = Series {
        bookings,
        season: 1,
        minor_units: 0,
    };
    let yen = forecast(&yen, Method::LinearRegression, 1).unwrap();
    assert_eq!(yen.bookings, vec![d("101")]);
}

#[test]
fn too_short_a_history_is_an_error_naming_what_is_needed() {
    assert_eq!(
        forecast(&series(seasonal(20), 12), Method::HoltWinters, 1),
        Err(StatisticsError::NotEnoughHistory {
            needed: 24,
            got: 20
        })
    );
    assert_eq!(
        forecast(&series(vec![d("1")], 1), Method::HoltLinear, 1),
        Err(StatisticsError::NotEnoughHistory { needed: 2, got: 1 })
    );
}

#[test]
fn an_overflow_is_an_error_not_a_panic() {
    let huge = series(
        vec![Decimal::MAX / Decimal::TWO, Decimal::MAX, Decimal::ZERO],
        1,
    );
    for method in [Method::HoltLinear, Method::LinearRegression] {
        assert_eq!(
            forecast(&huge, method, 1),
            Err(StatisticsError::Overflow),
            "{method:?}"
        );
    }
}

fn amounts(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Decimal>> {
    prop::collection::vec(
        (0_i64..100_000_000).prop_map(|cents| Decimal::new(cents, 2)),
        len,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_constant_is_forecast_as_itself(cents in 0_i64..10_000_000_000, len in 2_usize..16) {
        let constant = Decimal::new(cents, 2);
        let history = series(vec![constant; len], 4);
        for method in Method::applicable(len, 4) {
            let forecast = forecast(&history, method, 4).unwrap();
            prop_assert_eq!(forecast.bookings, vec![constant; 4]);
        }
    }

    #[test]
    fn forecasts_are_never_negative(bookings in amounts(2..16)) {
        let history = series(bookings, 4);
        for method in Method::applicable(history.bookings.len(), 4) {
            let forecast = forecast(&history, method, 6).unwrap();
            prop_assert!(forecast.bookings.iter().all(|amount| *amount >= Decimal::ZERO));
        }
    }

    #[test]
    fn scaling_the_bookings_scales_the_forecast(bookings in amounts(2..14), k in 2_i64..20) {
        let k = Decimal::from(k);
        let history = series(bookings.clone(), 4);
        let scaled = series(bookings.iter().map(|amount| amount * k).collect(), 4);
        for method in Method::applicable(bookings.len(), 4) {
            let plain = forecast(&history, method, 3).unwrap();
            let scaled = forecast(&scaled, method, 3).unwrap();
            for (plain, scaled) in plain.bookings.iter().zip(&scaled.bookings) {
                // Each side rounds to the cent once: the scaled one may differ from k × the
                // plain one by k half-cents and a half-cent.
                let tolerance = (k + Decimal::ONE) * d("0.005") + scaled.abs() * d("0.000001");
                prop_assert!((plain * k - scaled).abs() <= tolerance, "{} × {} vs {}", plain, k, scaled);
            }
        }
    }
}
