use std::str::FromStr;

use proptest::prelude::*;

use super::*;
use crate::domain::settings::seeded_board_settings as seeded;

fn decimal(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

/// The first migration's weights, 40/35/25, and staleness weighing nothing (what a tuned
/// organisation keeps), with the seeded scale and horizon. The staleness tests weigh it.
fn settings() -> BoardSettings {
    BoardSettings {
        probability_weight: 40,
        amount_weight: 35,
        closeness_weight: 25,
        staleness_weight: 0,
        ..seeded()
    }
}

/// Its pipeline's wait before a deal goes stale, in these tests.
const STALE_AFTER: u32 = 14;

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
}

/// A deal with an activity today.
fn candidate(probability: u8, amount: Option<&str>, days_until_close: i64) -> BoardCandidate {
    BoardCandidate {
        id: Uuid::now_v7(),
        effective_probability: probability,
        corporate_amount: amount.map(decimal),
        expected_close_date: as_of() + chrono::Duration::days(days_until_close),
        days_without_activity: 0,
        stale_after_days: STALE_AFTER,
    }
}

fn idle(candidate: BoardCandidate, days_without_activity: u32) -> BoardCandidate {
    BoardCandidate {
        days_without_activity,
        ..candidate
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
            (
                "staleness",
                "0.0000".into(),
                0,
                "0.00".into(),
                "last activity today (stale after 14)".into()
            ),
        ]
    );
}

#[test]
fn a_stale_deal_scores_its_staleness_part() {
    // Seeded 35/30/20/15. P = 0.6, A = 1, C = 1 − 12 / 90 = 0.8666…, and 21 days without
    // activity in a 14-day pipeline: S = min(1, 21 / 28) = 0.75.
    // score = 100 × (35 × 0.6 + 30 × 1 + 20 × 0.8666… + 15 × 0.75) / 100
    //       = 21 + 30 + 17.333… + 11.25 = 79.583… → 79.58.
    let deal = idle(candidate(60, Some("1200000.00"), 12), 21);
    let scored = score(&deal, as_of(), &seeded());
    assert_eq!(scored.staleness, decimal("0.75"));
    assert_eq!(rounded_score(&scored).to_string(), "79.58");
    let parts = explain(&deal, Some(CurrencyCode::CNY), as_of(), &seeded());
    let points: Vec<String> = parts.iter().map(|part| part.points.to_string()).collect();
    assert_eq!(points, ["21.00", "30.00", "17.33", "11.25"]);
    let staleness = &parts[3];
    assert_eq!(
        (
            staleness.name,
            staleness.value.to_string(),
            staleness.weight
        ),
        ("staleness", "0.7500".into(), 15)
    );
    assert_eq!(staleness.explanation.code, "opportunities.board.staleness");
    assert_eq!(
        staleness.explanation.text,
        "no activity for 21 days (stale after 14)"
    );
    assert_eq!(staleness.explanation.params["days"], "21");
    assert_eq!(staleness.explanation.params["stale_after_days"], "14");
}

#[test]
fn staleness_is_nothing_until_the_deal_goes_stale_then_half_then_full_at_twice_the_wait() {
    let staleness = |days, stale_after_days| {
        let deal = BoardCandidate {
            stale_after_days,
            ..idle(candidate(50, None, 30), days)
        };
        score(&deal, as_of(), &seeded())
            .staleness
            .normalize()
            .to_string()
    };
    assert_eq!(staleness(13, 14), "0");
    // The day it goes stale: 14 / 28.
    assert_eq!(staleness(14, 14), "0.5");
    assert_eq!(staleness(21, 14), "0.75");
    assert_eq!(staleness(28, 14), "1");
    assert_eq!(staleness(400, 14), "1");
    // A pipeline whose deals never go stale.
    assert_eq!(staleness(400, 0), "0");
    // The longest wait, a deal idle for ever.
    assert_eq!(staleness(u32::MAX, 365), "1");
}

#[test]
fn staleness_texts_say_today_ago_stale_and_never() {
    let text = |days, stale_after_days| {
        let deal = BoardCandidate {
            stale_after_days,
            ..idle(candidate(50, None, 30), days)
        };
        explain(&deal, None, as_of(), &seeded())[3]
            .explanation
            .clone()
    };
    assert_eq!(text(0, 14).text, "last activity today (stale after 14)");
    assert_eq!(text(0, 14).code, "opportunities.board.staleness_recent");
    assert_eq!(text(1, 14).text, "last activity 1 day ago (stale after 14)");
    assert_eq!(text(13, 14).params["days"], "13");
    assert_eq!(
        text(14, 14).text,
        "no activity for 14 days (stale after 14)"
    );
    assert_eq!(text(1, 1).text, "no activity for 1 day (stale after 1)");
    let never = text(90, 0);
    assert_eq!(never.code, "opportunities.board.staleness_never");
    assert_eq!(never.text, "its pipeline's deals never go stale");
    assert!(never.params.is_empty());
}

#[test]
fn a_stale_deal_overtakes_an_equal_fresh_one() {
    // Alike in all but their last activity: 2 days ago (S = 0: 35 × 0.5 + 0 + 20 × (1 − 30 /
    // 90) = 17.5 + 13.333… = 30.83) and 20 days ago (S = 20 / 28: + 15 × 0.714285… = 10.714…
    // → 41.55). The fresh one has the smaller id, so without staleness it would rank first.
    let fresh = BoardCandidate {
        id: Uuid::nil(),
        ..idle(candidate(50, None, 30), 2)
    };
    let stale = idle(candidate(50, None, 30), 20);
    let ranked = rank(&[fresh, stale], as_of(), &seeded());
    let order: Vec<Uuid> = ranked.iter().map(|(candidate, _)| candidate.id).collect();
    assert_eq!(order, [stale.id, fresh.id]);
    let scores: Vec<String> = ranked
        .iter()
        .map(|(_, score)| rounded_score(score).to_string())
        .collect();
    assert_eq!(scores, ["41.55", "30.83"]);
    // Where staleness weighs nothing the id decides again.
    assert_eq!(
        rank(&[stale, fresh], as_of(), &settings())[0].0.id,
        fresh.id
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
        formula(&seeded()),
        "score = 100 × (35 × probability + 30 × amount + 20 × closeness + 15 × staleness) / \
         100, where probability = effective probability / 100; amount = min(1, corporate \
         amount / 1000000), 0 without a corporate amount; closeness = 1 when the expected close \
         date is today or past, else max(0, 1 − days until close / 90); staleness = 0 until the \
         deal has gone without activity for its pipeline's stale-after days (never when those \
         are 0), then min(1, days without activity / (2 × stale-after days))"
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
        (0u32..=100, 0u32..=100, 0u32..=100, 0u32..=100),
        1u64..1_000_000_000,
        1u32..=3650,
    )
        .prop_filter("not all weights 0", |((p, a, c, s), _, _)| {
            p + a + c + s > 0
        })
        .prop_map(|((p, a, c, s), scale, horizon)| BoardSettings {
            probability_weight: p,
            amount_weight: a,
            closeness_weight: c,
            staleness_weight: s,
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

/// A deal closing in `days`, idle for `idle_days` in a pipeline waiting `stale_after_days`.
fn any_deal(
    probability: u8,
    amount: Option<Decimal>,
    days: i64,
    (idle_days, stale_after_days): (u32, u32),
) -> BoardCandidate {
    BoardCandidate {
        id: Uuid::nil(),
        effective_probability: probability,
        corporate_amount: amount,
        expected_close_date: as_of() + chrono::Duration::days(days),
        days_without_activity: idle_days,
        stale_after_days,
    }
}

fn any_idleness() -> impl Strategy<Value = (u32, u32)> {
    (0u32..2000, 0u32..=365)
}

fn scored(
    probability: u8,
    amount: Option<Decimal>,
    days: i64,
    idleness: (u32, u32),
    settings: &BoardSettings,
) -> Decimal {
    score(
        &any_deal(probability, amount, days, idleness),
        as_of(),
        settings,
    )
    .score
}

proptest! {
    #[test]
    fn a_score_lies_between_0_and_100(
        settings in any_settings(),
        probability in 0u8..=100,
        amount in any_amount(),
        days in -1000i64..5000,
        idleness in any_idleness(),
    ) {
        let score = scored(probability, amount, days, idleness, &settings);
        prop_assert!(score >= Decimal::ZERO && score <= Decimal::ONE_HUNDRED);
    }

    #[test]
    fn a_score_rises_with_probability(
        settings in any_settings(),
        low in 0u8..=100,
        high in 0u8..=100,
        amount in any_amount(),
        days in -100i64..500,
        idleness in any_idleness(),
    ) {
        let (low, high) = (low.min(high), low.max(high));
        prop_assert!(
            scored(low, amount, days, idleness, &settings)
                <= scored(high, amount, days, idleness, &settings)
        );
    }

    #[test]
    fn a_score_rises_with_the_amount(
        settings in any_settings(),
        probability in 0u8..=100,
        first in any_amount(),
        second in any_amount(),
        days in -100i64..500,
        idleness in any_idleness(),
    ) {
        // No corporate amount counts as the smallest.
        let (low, high) = (first.min(second), first.max(second));
        prop_assert!(
            scored(probability, low, days, idleness, &settings)
                <= scored(probability, high, days, idleness, &settings)
        );
    }

    #[test]
    fn a_score_rises_as_the_close_date_nears(
        settings in any_settings(),
        probability in 0u8..=100,
        amount in any_amount(),
        first in -1000i64..5000,
        second in -1000i64..5000,
        idleness in any_idleness(),
    ) {
        let (sooner, later) = (first.min(second), first.max(second));
        prop_assert!(
            scored(probability, amount, sooner, idleness, &settings)
                >= scored(probability, amount, later, idleness, &settings)
        );
    }

    #[test]
    fn a_score_rises_the_longer_a_deal_goes_without_activity(
        settings in any_settings(),
        probability in 0u8..=100,
        amount in any_amount(),
        days in -100i64..500,
        first in 0u32..2000,
        second in 0u32..2000,
        stale_after_days in 0u32..=365,
    ) {
        let (recent, idler) = (first.min(second), first.max(second));
        prop_assert!(
            scored(probability, amount, days, (recent, stale_after_days), &settings)
                <= scored(probability, amount, days, (idler, stale_after_days), &settings)
        );
    }

    #[test]
    fn the_parts_points_add_up_to_the_score_within_rounding(
        settings in any_settings(),
        probability in 0u8..=100,
        amount in any_amount(),
        days in -100i64..500,
        idleness in any_idleness(),
    ) {
        let deal = any_deal(probability, amount, days, idleness);
        let parts = explain(&deal, Some(CurrencyCode::CNY), as_of(), &settings);
        let points: Decimal = parts.iter().map(|part| part.points).sum();
        let shown = rounded_score(&score(&deal, as_of(), &settings));
        // Each of the five roundings moves a figure by at most 0.005.
        prop_assert!((points - shown).abs() <= decimal("0.025"));
        for part in &parts {
            prop_assert!(part.value >= Decimal::ZERO && part.value <= Decimal::ONE);
            prop_assert_eq!(part.value.scale(), 4);
            prop_assert_eq!(part.points.scale(), 2);
        }
    }
}
