//! Splitting a whole into parts that add up to it exactly: the largest remainder method,
//! counted in integers.

use rust_decimal::Decimal;

/// `whole` (at most `places` decimals, not negative) split in proportion to `weights`, each
/// part at `places` decimals, the parts adding up to exactly `whole`: every part rounded down,
/// then the steps of 10^-places still missing given one each to the largest remainders (the
/// largest remainder method; equal remainders go to the earlier weight, which in an analysis
/// is the larger). Counted in integers, so exact. What a deal's corporate amount is to its
/// line items ([`crate::deals::read::lines`]), and 100 % to an analysis's groups. `None` when the weights' sum is not
/// positive, a weight or `whole` is negative, `whole` has more decimals than `places`, or the
/// figures are beyond what the counting holds.
pub fn apportion(whole: Decimal, weights: &[Decimal], places: u32) -> Option<Vec<Decimal>> {
    let negative = |value: &Decimal| value.is_sign_negative() && !value.is_zero();
    if negative(&whole) || whole.scale() > places || weights.iter().any(negative) {
        return None;
    }
    // Every weight as an integer count of the smallest unit any of them has.
    let scale = weights.iter().map(Decimal::scale).max().unwrap_or(0);
    let units = weights
        .iter()
        .map(|weight| {
            weight
                .mantissa()
                .checked_mul(10i128.checked_pow(scale - weight.scale())?)
        })
        .collect::<Option<Vec<i128>>>()?;
    let total = units
        .iter()
        .try_fold(0i128, |sum, unit| sum.checked_add(*unit))?;
    if total <= 0 {
        return None;
    }
    let steps = whole
        .mantissa()
        .checked_mul(10i128.checked_pow(places - whole.scale())?)?;
    let mut parts = Vec::with_capacity(units.len());
    let mut remainders = Vec::with_capacity(units.len());
    for (index, unit) in units.iter().enumerate() {
        let exact = unit.checked_mul(steps)?;
        parts.push(exact / total);
        remainders.push((exact % total, index));
    }
    // Fewer than one step per weight: each part lost less than one step to rounding down.
    let missing = steps - parts.iter().sum::<i128>();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    for (_, index) in remainders.iter().take(usize::try_from(missing).ok()?) {
        parts[*index] += 1;
    }
    parts
        .into_iter()
        .map(|part| Decimal::try_from_i128_with_scale(part, places).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn amount(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn amounts(texts: &[&str]) -> Vec<Decimal> {
        texts.iter().map(|text| amount(text)).collect()
    }

    fn money() -> impl Strategy<Value = Decimal> {
        // Cents up to ten million, and whole amounts, so scales differ.
        prop_oneof![
            (0i64..1_000_000_000).prop_map(|cents| Decimal::new(cents, 2)),
            (0i64..5).prop_map(|units| Decimal::new(units * 1000, 0)),
        ]
    }

    #[test]
    fn a_whole_is_apportioned_to_the_cent_in_proportion_to_the_weights() {
        let parts = |whole: &str, weights: &[&str]| apportion(amount(whole), &amounts(weights), 2);
        // A deal's corporate amount over its two lines.
        assert_eq!(
            parts("710000.00", &["30000.00", "70000.00"]),
            Some(amounts(&["213000", "497000"]))
        );
        // 3.333… and 6.666…: the second has the larger remainder.
        assert_eq!(parts("10", &["1", "2"]), Some(amounts(&["3.33", "6.67"])));
        assert_eq!(parts("0", &["1", "2"]), Some(amounts(&["0", "0"])));
        assert_eq!(
            parts("10.001", &["1"]),
            None,
            "more decimals than the parts have"
        );
        assert_eq!(parts("10", &["0"]), None);
    }

    proptest! {
    #[test]
    fn apportioned_parts_add_up_to_the_whole(
        whole in money(), weights in prop::collection::vec(money(), 1..10)
    ) {
        prop_assume!(weights.iter().sum::<Decimal>() > Decimal::ZERO);
        let parts = apportion(whole, &weights, 2).unwrap();
        prop_assert_eq!(parts.iter().sum::<Decimal>(), whole);
    }
    }
}
