use std::str::FromStr;

use proptest::prelude::*;

use super::*;

fn decimal(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

/// The migration's seeded settings: 40/35/25, a 1,000,000 scale, a 90-day horizon.
fn settings() -> BoardSettings {
    BoardSettings {
        probability_weight: 40,
        amount_weight: 35,
        closeness_weight: 25,
        amount_scale: decimal("1000000"),
        close_horizon_days: 90,
        version: 1,
    }
}

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
}

fn candidate(probability: u8, amount: Option<&str>, days_until_close: i64) -> BoardCandidate {
    BoardCandidate {
        id: Uuid::now_v7(),
        effective_probability: probability,
        corporate_amount: amount.map(decimal),
        expected_close_date: as_of() + chrono::Duration::days(days_until_close),
    }
}

fn shown(parts: &[ScorePart]) -> Vec<(&str, String, u32, String, String)> {
    parts
        .iter()
        .map(|part| {
            (
                part.name,
                part.value.to_string(),
                part.weight,
                part.points.to_string(),
                part.explanation.text.clone(),
            )
        })
        .collect()
}

#[test]
fn a_likely_large_deal_closing_soon_scores_its_weighted_parts() {
    // P = 60 / 100 = 0.6; A = min(1, 1,200,000 / 1,000,000) = 1; C = 1 − 12 / 90 = 0.8666…
    // score = 100 × (40 × 0.6 + 35 × 1 + 25 × 0.8666…) / 100 = 24 + 35 + 21.666… = 80.666…
    let deal = candidate(60, Some("1200000.00"), 12);
    let scored = score(&deal, as_of(), &settings());
    assert_eq!(rounded_score(&scored).to_string(), "80.67");
    assert_eq!(
        shown(&explain(
            &deal,
            Some(CurrencyCode::CNY),
            as_of(),
            &settings()
        )),
        vec![
            (
                "probability",
                "0.6000".into(),
                40,
                "24.00".into(),
                "probability 60%".into()
            ),
            (
                "amount",
                "1.0000".into(),
                35,
                "35.00".into(),
                "CNY 1,200,000.00 of a 1,000,000.00 scale".into()
            ),
            // 100 × 25 × 0.8666… / 100 = 21.666… → 21.67.
            (
                "closeness",
                "0.8667".into(),
                25,
                "21.67".into(),
                "closes in 12 days of a 90-day horizon".into()
            ),
        ]
    );
}

#[test]
fn each_part_is_a_share_of_its_full_value() {
    // P = 0.25, A = 300,000 / 1,000,000 = 0.3, C = 1 − 45 / 90 = 0.5:
    // 40 × 0.25 + 35 × 0.3 + 25 × 0.5 = 10 + 10.5 + 12.5 = 33.
    let scored = score(&candidate(25, Some("300000"), 45), as_of(), &settings());
    assert_eq!(scored.amount, decimal("0.3"));
    assert_eq!(scored.closeness, decimal("0.5"));
    assert_eq!(rounded_score(&scored).to_string(), "33.00");
    // Beyond the horizon closeness is 0, not negative: max(0, 1 − 120 / 90) = 0;
    // 40 × 0.1 + 35 × 0.05 + 0 = 4 + 1.75 = 5.75.
    let far = score(&candidate(10, Some("50000"), 120), as_of(), &settings());
    assert_eq!(far.closeness, Decimal::ZERO);
    assert_eq!(rounded_score(&far).to_string(), "5.75");
}

#[test]
fn a_deal_without_a_corporate_amount_or_due_already_scores_so() {
    // P = 0.75, A = 0 (no corporate amount), C = 1 (3 days past): 30 + 0 + 25 = 55.
    let deal = candidate(75, None, -3);
    assert_eq!(
        rounded_score(&score(&deal, as_of(), &settings())).to_string(),
        "55.00"
    );
    let parts = explain(&deal, Some(CurrencyCode::CNY), as_of(), &settings());
    assert_eq!(parts[1].value.to_string(), "0.0000");
    assert_eq!(
        parts[1].explanation.code,
        "opportunities.board.amount_missing"
    );
    assert_eq!(
        parts[1].explanation.text,
        "no amount in the corporate currency"
    );
    assert_eq!(parts[2].value.to_string(), "1.0000");
    assert_eq!(
        parts[2].explanation.code,
        "opportunities.board.closeness_due"
    );
    assert_eq!(parts[2].explanation.text, "3 days past its close date");
    assert_eq!(parts[2].explanation.params["days_overdue"], "3");
}

#[test]
fn closeness_texts_say_today_past_and_one_day() {
    let text = |days| {
        explain(&candidate(50, None, days), None, as_of(), &settings())[2]
            .explanation
            .clone()
    };
    assert_eq!(text(0).text, "closes today");
    assert_eq!(text(0).params["days_overdue"], "0");
    assert_eq!(text(-1).text, "1 day past its close date");
    assert_eq!(text(1).text, "closes in 1 day of a 90-day horizon");
    assert_eq!(text(1).code, "opportunities.board.closeness");
    assert_eq!(text(1).params["days"], "1");
    assert_eq!(text(1).params["horizon_days"], "90");
}

#[test]
fn texts_carry_their_values_as_parameters() {
    let deal = candidate(60, Some("1200000"), 12);
    let parts = explain(&deal, Some(CurrencyCode::CNY), as_of(), &settings());
    assert_eq!(parts[0].explanation.code, "opportunities.board.probability");
    assert_eq!(parts[0].explanation.params["probability"], "60");
    let amount = &parts[1].explanation;
    assert_eq!(amount.code, "opportunities.board.amount");
    assert_eq!(amount.params["currency"], "CNY");
    assert_eq!(amount.params["amount"], "1200000.00");
    assert_eq!(amount.params["amount_scale"], "1000000");
}

#[test]
fn midpoints_round_away_from_zero() {
    // Only the amount weighs: score = 100 × A = 100 × 123,450 / 1,000,000 = 12.345 → 12.35
    // (banker's rounding would give 12.34), and A = 0.12345 → 0.1235.
    let amount_only = BoardSettings {
        probability_weight: 0,
        amount_weight: 100,
        closeness_weight: 0,
        ..settings()
    };
    let deal = candidate(0, Some("123450"), 400);
    assert_eq!(
        rounded_score(&score(&deal, as_of(), &amount_only)).to_string(),
        "12.35"
    );
    let parts = explain(&deal, Some(CurrencyCode::CNY), as_of(), &amount_only);
    assert_eq!(parts[1].value.to_string(), "0.1235");
    assert_eq!(parts[1].points.to_string(), "12.35");
    assert_eq!(parts[0].points.to_string(), "0.00");
}

#[test]
fn the_ranking_is_by_score_then_close_date_then_id() {
    // e: 40 × 0.2 + 35 × min(1, 5) + 25 × (1 − 81 / 90) = 8 + 35 + 2.5 = 45.5
    // d: 40 × 0.2 + 35 × 1 + 25 × (1 − 84 / 90) = 8 + 35 + 1.666… = 44.666…
    // c: 40 × 0.5 + 0 + 25 × (1 − 27 / 90) = 20 + 17.5 = 37.5
    // a, b and the nil id: 40 × 0.5 + 0 + 25 × (1 − 30 / 90) = 20 + 16.666… = 36.666…,
    // closing the same day: by id, the nil id first.
    let mut a = candidate(50, None, 30);
    let mut b = candidate(50, None, 30);
    if a.id > b.id {
        std::mem::swap(&mut a, &mut b);
    }
    let nil = BoardCandidate {
        id: Uuid::nil(),
        ..candidate(50, None, 30)
    };
    let c = candidate(50, None, 27);
    let d = candidate(20, Some("5000000"), 84);
    let e = candidate(20, Some("5000000"), 81);
    let ranked = rank(&[a, b, c, d, e, nil], as_of(), &settings());
    let order: Vec<Uuid> = ranked.iter().map(|(candidate, _)| candidate.id).collect();
    assert_eq!(order, vec![e.id, d.id, c.id, nil.id, a.id, b.id]);
    let scores: Vec<String> = ranked
        .iter()
        .map(|(_, score)| rounded_score(score).to_string())
        .collect();
    assert_eq!(
        scores,
        ["45.50", "44.67", "37.50", "36.67", "36.67", "36.67"]
    );
}

#[test]
fn an_equal_score_ranks_the_earlier_close_date_first() {
    // Only probability weighs, so the dates differ but the scores do not (40 each).
    let probability_only = BoardSettings {
        probability_weight: 100,
        amount_weight: 0,
        closeness_weight: 0,
        ..settings()
    };
    let later = BoardCandidate {
        id: Uuid::nil(),
        ..candidate(40, None, 60)
    };
    let earlier = candidate(40, None, 10);
    let ranked = rank(&[later, earlier], as_of(), &probability_only);
    assert_eq!(ranked[0].0.id, earlier.id);
    assert_eq!(ranked[0].1.score, ranked[1].1.score);
}

#[test]
fn the_formula_names_the_settings() {
    assert_eq!(
        formula(&settings()),
        "score = 100 × (40 × probability + 35 × amount + 25 × closeness) / 100, where \
         probability = effective probability / 100; amount = min(1, corporate amount / \
         1000000), 0 without a corporate amount; closeness = 1 when the expected close date \
         is today or past, else max(0, 1 − days until close / 90)"
    );
}

#[test]
fn amounts_are_grouped_in_thousands() {
    assert_eq!(grouped(decimal("1200000.00")), "1,200,000.00");
    assert_eq!(grouped(decimal("999.5")), "999.5");
    assert_eq!(grouped(decimal("1000")), "1,000");
    assert_eq!(grouped(decimal("-12345.678")), "-12,345.678");
}

fn any_settings() -> impl Strategy<Value = BoardSettings> {
    (
        0u32..=100,
        0u32..=100,
        0u32..=100,
        1u64..1_000_000_000,
        1u32..=3650,
    )
        .prop_filter("not all weights 0", |(p, a, c, _, _)| p + a + c > 0)
        .prop_map(|(p, a, c, scale, horizon)| BoardSettings {
            probability_weight: p,
            amount_weight: a,
            closeness_weight: c,
            amount_scale: Decimal::from(scale),
            close_horizon_days: horizon,
            version: 1,
        })
}

fn any_amount() -> impl Strategy<Value = Option<Decimal>> {
    proptest::option::of(
        (0i64..1_000_000_000_000, 0u32..=2).prop_map(|(units, scale)| Decimal::new(units, scale)),
    )
}

fn scored(
    probability: u8,
    amount: Option<Decimal>,
    days: i64,
    settings: &BoardSettings,
) -> Decimal {
    let deal = BoardCandidate {
        id: Uuid::nil(),
        effective_probability: probability,
        corporate_amount: amount,
        expected_close_date: as_of() + chrono::Duration::days(days),
    };
    score(&deal, as_of(), settings).score
}

proptest! {
    #[test]
    fn a_score_lies_between_0_and_100(
        settings in any_settings(),
        probability in 0u8..=100,
        amount in any_amount(),
        days in -1000i64..5000,
    ) {
        let score = scored(probability, amount, days, &settings);
        prop_assert!(score >= Decimal::ZERO && score <= Decimal::ONE_HUNDRED);
    }

    #[test]
    fn a_score_rises_with_probability(
        settings in any_settings(),
        low in 0u8..=100,
        high in 0u8..=100,
        amount in any_amount(),
        days in -100i64..500,
    ) {
        let (low, high) = (low.min(high), low.max(high));
        prop_assert!(scored(low, amount, days, &settings) <= scored(high, amount, days, &settings));
    }

    #[test]
    fn a_score_rises_with_the_amount(
        settings in any_settings(),
        probability in 0u8..=100,
        first in any_amount(),
        second in any_amount(),
        days in -100i64..500,
    ) {
        // No corporate amount counts as the smallest.
        let (low, high) = (first.min(second), first.max(second));
        prop_assert!(scored(probability, low, days, &settings) <= scored(probability, high, days, &settings));
    }

    #[test]
    fn a_score_rises_as_the_close_date_nears(
        settings in any_settings(),
        probability in 0u8..=100,
        amount in any_amount(),
        first in -1000i64..5000,
        second in -1000i64..5000,
    ) {
        let (sooner, later) = (first.min(second), first.max(second));
        prop_assert!(scored(probability, amount, sooner, &settings) >= scored(probability, amount, later, &settings));
    }

    #[test]
    fn the_parts_points_add_up_to_the_score_within_rounding(
        settings in any_settings(),
        probability in 0u8..=100,
        amount in any_amount(),
        days in -100i64..500,
    ) {
        let deal = BoardCandidate {
            id: Uuid::nil(),
            effective_probability: probability,
            corporate_amount: amount,
            expected_close_date: as_of() + chrono::Duration::days(days),
        };
        let parts = explain(&deal, Some(CurrencyCode::CNY), as_of(), &settings);
        let points: Decimal = parts.iter().map(|part| part.points).sum();
        let shown = rounded_score(&score(&deal, as_of(), &settings));
        // Each of the four roundings moves a figure by at most 0.005.
        prop_assert!((points - shown).abs() <= decimal("0.02"));
        for part in &parts {
            prop_assert!(part.value >= Decimal::ZERO && part.value <= Decimal::ONE);
            prop_assert_eq!(part.value.scale(), 4);
            prop_assert_eq!(part.points.scale(), 2);
        }
    }
}
