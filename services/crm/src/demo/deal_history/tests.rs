use std::collections::HashMap;

use chrono::{Datelike, Duration, TimeZone, Utc};

use super::*;
use crate::demo::{NORA, RAVI, WES};

/// Anchors in every month of a year, at odd times of day, and today: the shapes hold whenever
/// the demo is loaded.
fn anchors() -> Vec<DateTime<Utc>> {
    let first = Utc.with_ymd_and_hms(2026, 1, 9, 6, 41, 17).unwrap();
    (0..12)
        .map(|month| first + Duration::days(31 * month) + Duration::minutes(97 * month))
        .chain([crm_platform::time::now()])
        .collect()
}

fn closed(deals: &[PlannedDeal]) -> impl Iterator<Item = &PlannedDeal> {
    deals.iter().filter(|deal| deal.outcome.is_some())
}

#[test]
fn the_same_anchor_gives_the_same_history_numbered_in_order() {
    for anchor in anchors() {
        let deals = generate(anchor);
        assert_eq!(deals, generate(anchor));
        for (index, deal) in deals.iter().enumerate() {
            assert_eq!(deal.number as usize, index);
        }
    }
}

#[test]
fn the_anchor_is_recovered_from_the_first_deal() {
    for anchor in anchors() {
        let deals = generate(anchor);
        assert_eq!(deals[0].owner.user_id(), RAVI.user_id());
        assert_eq!(anchor_of_first_deal(deals[0].created_at), anchor);
    }
}

#[test]
fn two_years_hold_some_hundreds_of_deals_a_third_of_the_closed_ones_won() {
    for anchor in anchors() {
        let deals = generate(anchor);
        assert!((400..=800).contains(&deals.len()), "{} deals", deals.len());
        let won = closed(&deals)
            .filter(|deal| matches!(deal.outcome, Some(Outcome::Won(_))))
            .count();
        let closed = closed(&deals).count();
        let permille = won * 1000 / closed;
        assert!(
            (250..=350).contains(&permille),
            "win rate {permille}‰ at {anchor}"
        );
    }
}

#[test]
fn stays_run_from_creation_in_time_order_to_where_the_deal_is_at_the_anchor() {
    for anchor in anchors() {
        for deal in generate(anchor) {
            assert_eq!(deal.stays[0].entered_at, deal.created_at);
            assert_eq!(deal.stays[0].stage, StageAt::Open(0));
            assert!(deal.created_at.date_naive() < anchor.date_naive());
            for pair in deal.stays.windows(2) {
                assert!(pair[0].entered_at < pair[1].entered_at, "{}", deal.name);
                assert!(
                    matches!(pair[0].stage, StageAt::Open(_)),
                    "closing stays come last"
                );
            }
            let last = deal.stays.last().unwrap();
            assert!(last.entered_at <= anchor);
            match (last.stage, deal.outcome) {
                (StageAt::Open(stage), None) => {
                    assert!(stage < deal.motion.stages().len());
                    assert!(deal.close_note.is_empty());
                }
                (StageAt::Won, Some(Outcome::Won(_)))
                | (StageAt::Lost, Some(Outcome::Lost(..))) => {
                    assert_eq!(deal.expected_close, last.entered_at.date_naive());
                    assert!(!deal.close_note.is_empty());
                }
                other => panic!("{}: last stay and outcome disagree: {other:?}", deal.name),
            }
        }
    }
}

#[test]
fn open_deals_sit_in_every_open_stage_closing_in_the_coming_months() {
    for anchor in anchors() {
        let deals = generate(anchor);
        let today = anchor.date_naive();
        for motion in [Motion::Direct, Motion::Service] {
            for stage in 0..motion.stages().len() {
                let open = deals
                    .iter()
                    .filter(|deal| deal.motion == motion && deal.outcome.is_none())
                    .filter(|deal| deal.stays.last().unwrap().stage == StageAt::Open(stage))
                    .count();
                assert!(
                    open > 0,
                    "no open deal in {motion:?} stage {stage} at {anchor}"
                );
            }
        }
        for deal in deals.iter().filter(|deal| deal.outcome.is_none()) {
            assert!(
                deal.expected_close > today && deal.expected_close <= today + Duration::days(180)
            );
        }
    }
}

#[test]
fn losses_have_reasons_and_the_competitor_taken_to_is_on_the_deal_globex_most_of_all() {
    for anchor in anchors() {
        let deals = generate(anchor);
        let mut met = HashMap::new();
        let mut lost_to = HashMap::new();
        for deal in &deals {
            for competitor in &deal.competitors {
                *met.entry(*competitor).or_insert(0) += 1;
            }
            if let Some(Outcome::Lost(reason, taken_by)) = deal.outcome {
                if reason == LostReason::Competitor {
                    assert!(taken_by.is_some(), "a loss to a competitor names it");
                }
                if let Some(competitor) = taken_by {
                    assert!(deal.competitors.contains(&competitor));
                    *lost_to.entry(competitor).or_insert(0) += 1;
                }
            }
        }
        let most =
            |counts: &HashMap<usize, i32>| counts.iter().max_by_key(|(_, n)| **n).map(|(c, _)| *c);
        assert_eq!(most(&met), Some(0), "Globex is met most often");
        assert_eq!(
            most(&lost_to),
            Some(0),
            "Globex takes most of the lost deals"
        );
        assert_eq!(met.len(), COMPETITORS.len(), "every competitor is met");
    }
}

#[test]
fn some_deals_move_back_a_stage() {
    for anchor in anchors() {
        let moved_back = generate(anchor)
            .iter()
            .filter(|deal| {
                deal.stays
                    .windows(2)
                    .any(|pair| match (pair[0].stage, pair[1].stage) {
                        (StageAt::Open(from), StageAt::Open(to)) => to < from,
                        _ => false,
                    })
            })
            .count();
        assert!(moved_back >= 5, "{moved_back} moved back");
    }
}

#[test]
fn amounts_run_from_tens_of_thousands_to_millions_a_few_in_dollars_and_euros() {
    for anchor in anchors() {
        let deals = generate(anchor);
        let yuan: Vec<u64> = deals
            .iter()
            .filter(|deal| deal.currency == "CNY")
            .map(|deal| deal.amount_minor / 100)
            .collect();
        assert!(yuan.iter().any(|amount| *amount < 100_000));
        assert!(yuan.iter().any(|amount| *amount >= 2_000_000));
        assert!(yuan.iter().all(|amount| *amount >= 10_000));
        let foreign = |code: &str| deals.iter().filter(|deal| deal.currency == code).count();
        assert!(
            foreign("USD") > 0 && foreign("USD") * 20 < deals.len(),
            "{} in USD",
            foreign("USD")
        );
        // A. Datum, priced in euros, is one of Nora's first prospects: few deals, if any yet.
        assert!(
            foreign("EUR") * 20 < deals.len(),
            "{} in EUR",
            foreign("EUR")
        );
        for deal in &deals {
            assert_eq!(
                Some(deal.currency).filter(|code| *code != "CNY"),
                foreign_currency(deal.account)
            );
            assert!(deal.amount_text().ends_with(".00"));
        }
    }
}

#[test]
fn each_rep_sells_on_their_accounts_from_the_day_they_started() {
    for anchor in anchors() {
        let deals = generate(anchor);
        for rep in [RAVI, WES, NORA] {
            let started = anchor - Duration::days(leads::started_days_ago(&rep));
            let theirs: Vec<&PlannedDeal> = deals
                .iter()
                .filter(|deal| deal.owner.user_id() == rep.user_id())
                .collect();
            assert!(!theirs.is_empty(), "{} has deals", rep.name);
            for deal in theirs {
                assert!(deal.created_at >= started.min(anchor - Duration::days(HISTORY_DAYS)));
                let own = deal.account.owner.user_id() == rep.user_id();
                assert!(own || deal.account.name == "Tailspin Logistics" && rep.name == "Wes");
            }
        }
        let nora = deals
            .iter()
            .filter(|deal| deal.owner.user_id() == NORA.user_id())
            .count();
        assert!(nora < 15, "Nora is new: {nora} deals");
    }
}

#[test]
fn fewer_deals_open_around_the_spring_festival_than_after_the_spring_fairs() {
    let deals = generate(Utc.with_ymd_and_hms(2026, 12, 20, 8, 0, 0).unwrap());
    let opened_in = |month: u32| {
        deals
            .iter()
            .filter(|deal| deal.created_at.month() == month)
            .count()
    };
    assert!(
        opened_in(2) * 2 < opened_in(3),
        "February {} March {}",
        opened_in(2),
        opened_in(3)
    );
}

#[test]
fn the_history_never_names_the_scenario_deal() {
    for anchor in anchors() {
        assert!(
            generate(anchor)
                .iter()
                .all(|deal| !deal.name.contains("Line 3"))
        );
    }
}

#[test]
fn the_generator_is_spread_evenly() {
    let mut rng = Rng::new(1);
    let mut counts = [0u32; 10];
    for _ in 0..10_000 {
        counts[rng.below(10) as usize] += 1;
    }
    assert!(
        counts.iter().all(|count| (900..1100).contains(count)),
        "{counts:?}"
    );
    assert_eq!(Rng::new(7).next_u64(), Rng::new(7).next_u64());
}
