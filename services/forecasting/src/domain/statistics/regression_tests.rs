use rust_decimal::Decimal;

use super::*;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

#[test]
fn the_line_through_five_periods_is_the_hand_computed_one() {
    // x̄ = 2, ȳ = 600; Σ(x − x̄)(y − ȳ) = 600 + 100 + 0 + 200 + 800 = 1700, Σ(x − x̄)² = 10:
    // slope 170, intercept 600 − 170 × 2 = 260.
    let line = fit(&[d("300"), d("500"), d("400"), d("800"), d("1000")]).unwrap();
    assert_eq!(
        line,
        Line {
            intercept: d("260"),
            slope: d("170")
        }
    );
    assert_eq!(line.forecast(5, 2).unwrap(), vec![d("1110"), d("1280")]);
}

#[test]
fn one_period_draws_no_line() {
    assert_eq!(
        fit(&[d("300")]),
        Err(StatisticsError::NotEnoughHistory { needed: 2, got: 1 })
    );
}
