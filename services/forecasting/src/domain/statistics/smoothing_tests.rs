use rust_decimal::Decimal;

use super::*;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

#[test]
fn holt_by_hand_on_three_periods() {
    // 100, 120, 150 at alpha = beta = 0.5: level 100, trend 20; period 1 predicted 120 (no
    // error), level 120, trend 20; period 2 predicted 140, error 10: level 145, trend
    // 0.5 × 25 + 0.5 × 20 = 22.5. The next period: 167.5.
    let fit = run_holt(
        &[d("100"), d("120"), d("150")],
        d("0.5"),
        d("0.5"),
        &mut |_, _, _| {},
    )
    .unwrap();
    assert_eq!((fit.level, fit.trend), (d("145"), d("22.5")));
    assert_eq!(fit.sum_of_squares, d("100"));
    assert_eq!(fit.forecast(2).unwrap(), vec![d("167.5"), d("190")]);
}

#[test]
fn the_weights_chosen_minimise_the_squared_one_step_errors() {
    let bookings = [
        d("100"),
        d("130"),
        d("90"),
        d("160"),
        d("120"),
        d("170"),
        d("150"),
    ];
    let best = fit_holt(&bookings).unwrap();
    for alpha in grid() {
        for beta in grid() {
            let other = run_holt(&bookings, alpha, beta, &mut |_, _, _| {}).unwrap();
            assert!(
                best.sum_of_squares <= other.sum_of_squares,
                "{alpha} {beta}"
            );
        }
    }
}

#[test]
fn holt_winters_starts_from_the_first_two_seasons() {
    // Quarters 10, 20, 30, 40 then 14, 24, 34, 44: means 25 and 29, trend 1 a quarter; the
    // level at the fourth quarter is 25 + 1.5 = 26.5, and the offsets are the first year less
    // the line 23.5, 24.5, 25.5, 26.5: −13.5, −4.5, 4.5, 13.5.
    let bookings: Vec<Decimal> = [10, 20, 30, 40, 14, 24, 34, 44]
        .into_iter()
        .map(Decimal::from)
        .collect();
    let start = start_holt_winters(&bookings, 4).unwrap();
    assert_eq!((start.level, start.trend), (d("26.5"), d("1")));
    assert_eq!(
        start.seasonals,
        vec![d("-13.5"), d("-4.5"), d("4.5"), d("13.5")]
    );
    // The second year is the first plus the trend: fitted without error, continued exactly.
    let fit = fit_holt_winters(&bookings, 4).unwrap();
    assert_eq!(fit.sum_of_squares, Decimal::ZERO);
    assert_eq!(
        fit.forecast(5).unwrap(),
        vec![d("18"), d("28"), d("38"), d("48"), d("22")]
    );
}
