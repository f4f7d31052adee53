//! The assignment engine by example, and its invariants as properties.

use super::super::fairness::RepStage;
use super::*;
use proptest::prelude::*;
use rust_decimal::Decimal;

fn rep(number: u128, name: &str, stage: RepStage, tenure_days: u32) -> RepLoad {
    RepLoad {
        rep_id: Uuid::from_u128(number),
        display_name: name.into(),
        stage,
        tenure_days,
        open_leads: 0,
        capacity: 25,
        open_pipeline: Decimal::from(800_000),
        active: true,
    }
}

fn rule(
    number: u128,
    name: &str,
    position: u32,
    territories: &[&str],
    reps: &[Uuid],
) -> AssignmentRule {
    AssignmentRule {
        id: Uuid::from_u128(1000 + number),
        name: name.into(),
        position,
        criteria: RuleCriteria {
            territories: territories.iter().map(|t| t.to_string()).collect(),
            ..RuleCriteria::default()
        },
        reps: reps.to_vec(),
    }
}

fn east_lead() -> LeadProfile {
    LeadProfile {
        territory: Some("East".into()),
        ..LeadProfile::default()
    }
}

/// Ravi (senior, 9 of 25 open) and Nora (day 12, 5 of 25 open, thin pipeline).
fn east_team() -> (RepLoad, RepLoad) {
    let mut ravi = rep(1, "Ravi", RepStage::Senior, 1100);
    ravi.open_leads = 9;
    let mut nora = rep(2, "Nora", RepStage::New, 12);
    nora.open_leads = 5;
    nora.open_pipeline = Decimal::from(20_000);
    (ravi, nora)
}

fn chosen(decision: &AssignmentDecision) -> Option<Uuid> {
    match decision {
        AssignmentDecision::Assigned { rep_id, .. } => Some(*rep_id),
        AssignmentDecision::StaysInPool { .. } => None,
    }
}

#[test]
fn the_east_rule_favours_the_new_rep_and_says_why() {
    let (ravi, nora) = east_team();
    let rules = [rule(
        1,
        "East territory",
        1,
        &["east"],
        &[ravi.rep_id, nora.rep_id],
    )];
    let mut state = AssignmentState::default();
    let loads = [ravi.clone(), nora.clone()];
    let decision = assign(
        &east_lead(),
        &rules,
        &[],
        &loads,
        &FairnessPolicy::default(),
        &mut state,
    );
    let AssignmentDecision::Assigned {
        rep_id,
        rule_id,
        explanation,
        ..
    } = decision
    else {
        panic!("{decision:?}");
    };
    assert_eq!(rep_id, nora.rep_id);
    assert_eq!(rule_id, Some(rules[0].id));
    assert_eq!(
        explanation.summary(),
        "rule 'East territory' matched (territory=east); Nora chosen by weighted \
         round-robin: weight 2.40 (new rep ×2.0 day 12, spare capacity 0.80, \
         thin pipeline ×1.5) vs Ravi 0.64"
    );
    let json = serde_json::to_string(&explanation).unwrap();
    assert_eq!(
        serde_json::from_str::<AssignmentExplanation>(&json).unwrap(),
        explanation
    );
}

#[test]
fn over_many_leads_nora_gets_her_weight_share() {
    let (ravi, nora) = east_team();
    let rules = [rule(
        1,
        "East territory",
        1,
        &["east"],
        &[ravi.rep_id, nora.rep_id],
    )];
    let mut state = AssignmentState::default();
    let loads = [ravi, nora.clone()];
    let to_nora = (0..100)
        .filter(|_| {
            let decision = assign(
                &east_lead(),
                &rules,
                &[],
                &loads,
                &FairnessPolicy::default(),
                &mut state,
            );
            chosen(&decision) == Some(nora.rep_id)
        })
        .count();
    // 2.40 / (2.40 + 0.64) of 100 = 78.9
    assert!((78..=80).contains(&to_nora), "{to_nora}");
}

#[test]
fn rules_are_tried_by_position_and_a_full_group_falls_through() {
    let (mut ravi, nora) = east_team();
    let wes = rep(3, "Wes", RepStage::Established, 400);
    ravi.open_leads = 25;
    let rules = [
        rule(2, "East overflow", 2, &[], &[nora.rep_id]),
        rule(1, "East territory", 1, &["east"], &[ravi.rep_id]),
        rule(3, "West territory", 0, &["west"], &[wes.rep_id]),
    ];
    let mut state = AssignmentState::default();
    let loads = [ravi, nora.clone(), wes];
    let decision = assign(
        &east_lead(),
        &rules,
        &[],
        &loads,
        &FairnessPolicy::default(),
        &mut state,
    );
    let AssignmentDecision::Assigned {
        rep_id,
        rule_name,
        explanation,
        ..
    } = decision
    else {
        panic!("{decision:?}");
    };
    assert_eq!((rep_id, rule_name.as_str()), (nora.rep_id, "East overflow"));
    let outcomes: Vec<&RuleOutcome> = explanation.rules.iter().map(|r| &r.outcome).collect();
    let RuleOutcome::NotMatched { mismatch } = outcomes[0] else {
        panic!("{outcomes:?}");
    };
    assert_eq!(mismatch, r#"territory=east is not one of ["west"]"#);
    assert!(matches!(
        outcomes[1],
        RuleOutcome::MatchedWithoutEligibleRep { .. }
    ));
    assert!(explanation.summary().starts_with(
        "rule 'East overflow' matched (any lead); Nora chosen as the only eligible rep"
    ));
}

#[test]
fn the_fallback_group_takes_what_no_rule_places() {
    let (mut ravi, nora) = east_team();
    ravi.active = false;
    let rules = [rule(1, "West territory", 1, &["west"], &[ravi.rep_id])];
    let mut state = AssignmentState::default();
    let loads = [ravi.clone(), nora.clone()];
    let decision = assign(
        &east_lead(),
        &rules,
        &[ravi.rep_id, nora.rep_id],
        &loads,
        &FairnessPolicy::default(),
        &mut state,
    );
    let AssignmentDecision::Assigned {
        rep_id,
        rule_id,
        explanation,
        ..
    } = decision
    else {
        panic!("{decision:?}");
    };
    assert_eq!((rep_id, rule_id), (nora.rep_id, None));
    assert_eq!(
        explanation.summary(),
        "no rule matched; fallback group used; Nora chosen as the only eligible rep: \
         weight 2.40 (new rep ×2.0 day 12, spare capacity 0.80, thin pipeline ×1.5); \
         not eligible: Ravi (inactive)"
    );
    assert!(state.groups.contains_key(FALLBACK_GROUP));
}

#[test]
fn with_everyone_full_or_away_the_lead_stays_in_the_pool() {
    let (mut ravi, mut nora) = east_team();
    ravi.open_leads = 25;
    nora.active = false;
    let rules = [rule(
        1,
        "East territory",
        1,
        &["east"],
        &[ravi.rep_id, nora.rep_id],
    )];
    let loads = [ravi.clone(), nora.clone()];
    let decision = assign(
        &east_lead(),
        &rules,
        &[ravi.rep_id, nora.rep_id],
        &loads,
        &FairnessPolicy::default(),
        &mut AssignmentState::default(),
    );
    assert_eq!(
        decision,
        AssignmentDecision::StaysInPool {
            reason: "rule 'East territory' matched but had no eligible rep and no rep of the \
                     team is eligible: Ravi (at capacity 25/25), Nora (inactive)"
                .into()
        }
    );
}

/// Up to six reps, ids 1..=n, with arbitrary loads.
fn any_reps(eligible_only: bool) -> impl Strategy<Value = Vec<RepLoad>> {
    proptest::collection::vec(
        (
            0..3usize,
            0u32..200,
            0u32..30,
            0u32..30,
            0i64..200_000,
            proptest::bool::weighted(0.85),
        ),
        1..7,
    )
    .prop_map(move |rows| {
        rows.into_iter()
            .enumerate()
            .map(
                |(index, (stage, tenure, open, capacity, pipeline, active))| {
                    let stage = [RepStage::New, RepStage::Established, RepStage::Senior][stage];
                    let mut load = rep(index as u128 + 1, &format!("rep{index}"), stage, tenure);
                    load.capacity = if eligible_only {
                        capacity + 1
                    } else {
                        capacity
                    };
                    load.open_leads = if eligible_only {
                        open % load.capacity
                    } else {
                        open
                    };
                    load.open_pipeline = Decimal::from(pipeline);
                    load.active = eligible_only || active;
                    load
                },
            )
            .collect()
    })
}

fn ids(loads: &[RepLoad]) -> Vec<Uuid> {
    loads.iter().map(|load| load.rep_id).collect()
}

/// The rep chosen for an East lead under the default policy, if any.
fn assign_east(
    rules: &[AssignmentRule],
    fallback: &[Uuid],
    loads: &[RepLoad],
    state: &mut AssignmentState,
) -> Option<Uuid> {
    let policy = FairnessPolicy::default();
    chosen(&assign(
        &east_lead(),
        rules,
        fallback,
        loads,
        &policy,
        state,
    ))
}

fn is_eligible(load: &RepLoad) -> bool {
    rep_weight(load, &FairnessPolicy::default()).is_ok()
}

proptest! {
    #[test]
    fn with_constant_loads_each_share_stays_within_one_lead(
        reps in any_reps(true),
        leads in 1usize..300,
    ) {
        let rules = [rule(1, "all", 1, &[], &ids(&reps))];
        let mut state = AssignmentState::default();
        let mut counts: BTreeMap<Uuid, f64> = BTreeMap::new();
        for _ in 0..leads {
            let rep_id = assign_east(&rules, &[], &reps, &mut state).unwrap();
            *counts.entry(rep_id).or_default() += 1.0;
        }
        let policy = FairnessPolicy::default();
        let weights: Vec<f64> =
            reps.iter().map(|r| rep_weight(r, &policy).unwrap().weight).collect();
        let total: f64 = weights.iter().sum();
        for (load, weight) in reps.iter().zip(&weights) {
            let expected = leads as f64 * weight / total;
            let count = counts.get(&load.rep_id).copied().unwrap_or_default();
            prop_assert!(
                (count - expected).abs() <= 1.0 + 1e-6,
                "{} got {count}, expected {expected}", load.display_name
            );
        }
    }

    #[test]
    fn equal_weights_take_turns(reps in 1usize..8, leads in 1usize..100) {
        let loads: Vec<RepLoad> =
            (1..=reps as u128).map(|n| rep(n, "r", RepStage::Established, 400)).collect();
        let fallback = ids(&loads);
        let mut state = AssignmentState::default();
        let mut counts: BTreeMap<Uuid, usize> = fallback.iter().map(|id| (*id, 0)).collect();
        for _ in 0..leads {
            let rep_id = assign_east(&[], &fallback, &loads, &mut state).unwrap();
            *counts.get_mut(&rep_id).unwrap() += 1;
        }
        let max = counts.values().max().unwrap();
        let min = counts.values().min().unwrap();
        prop_assert!(max - min <= 1, "{counts:?}");
    }

    #[test]
    fn capacity_is_never_exceeded_and_assignment_stops_when_all_are_full(
        mut reps in any_reps(false),
        rule_size in 0usize..7,
    ) {
        let everyone = ids(&reps);
        let rule_reps = &everyone[..rule_size.min(everyone.len())];
        let rules = [rule(1, "some", 1, &["east"], rule_reps)];
        let spare: u32 = reps
            .iter()
            .filter(|r| r.active)
            .map(|r| r.capacity.saturating_sub(r.open_leads))
            .sum();
        let mut state = AssignmentState::default();
        let mut assigned = 0;
        for _ in 0..spare + 5 {
            let Some(rep_id) = assign_east(&rules, &everyone, &reps, &mut state) else {
                continue;
            };
            assigned += 1;
            let load = reps.iter_mut().find(|r| r.rep_id == rep_id).unwrap();
            prop_assert!(load.open_leads < load.capacity);
            load.open_leads += 1;
        }
        prop_assert_eq!(assigned, spare);
    }

    #[test]
    fn a_lead_a_staffed_rule_matches_never_goes_to_the_fallback(
        reps in any_reps(false),
        split in 1usize..6,
    ) {
        let everyone = ids(&reps);
        let split = split.min(everyone.len());
        let (rule_reps, fallback) = everyone.split_at(split);
        let rules = [rule(1, "East territory", 1, &["east"], rule_reps)];
        let policy = FairnessPolicy::default();
        let mut state = AssignmentState::default();
        let decision = assign(&east_lead(), &rules, fallback, &reps, &policy, &mut state);
        if reps[..split].iter().any(is_eligible) {
            let AssignmentDecision::Assigned { rep_id, rule_id, .. } = decision else {
                return Err(TestCaseError::fail("a staffed rule left the lead in the pool"));
            };
            prop_assert!(rule_reps.contains(&rep_id));
            prop_assert_eq!(rule_id, Some(rules[0].id));
        }
    }

    #[test]
    fn the_chosen_rep_is_eligible_and_in_the_chosen_group(
        reps in any_reps(false),
        territory in proptest::sample::select(vec!["east", "west", "north"]),
        groups in proptest::collection::vec(
            (
                proptest::sample::select(vec!["east", "west", ""]),
                proptest::collection::vec(0usize..6, 0..4),
            ),
            0..4,
        ),
        fallback in proptest::collection::vec(0usize..6, 0..4),
        rounds in 1usize..5,
    ) {
        let everyone = ids(&reps);
        let pick = |indexes: &[usize]| -> Vec<Uuid> {
            indexes.iter().filter_map(|i| everyone.get(*i).copied()).collect()
        };
        let rules: Vec<AssignmentRule> = groups
            .iter()
            .enumerate()
            .map(|(n, (t, members))| {
                let territories: Vec<&str> = if t.is_empty() { vec![] } else { vec![*t] };
                rule(n as u128, "r", (n % 2) as u32, &territories, &pick(members))
            })
            .collect();
        let fallback = pick(&fallback);
        let profile = LeadProfile {
            territory: Some(territory.into()),
            ..LeadProfile::default()
        };
        let policy = FairnessPolicy::default();
        let mut state = AssignmentState::default();
        for _ in 0..rounds {
            let decision = assign(&profile, &rules, &fallback, &reps, &policy, &mut state);
            let AssignmentDecision::Assigned { rep_id, rule_id, explanation, .. } = decision
            else {
                continue;
            };
            let group = match rule_id {
                Some(id) => rules.iter().find(|r| r.id == id).unwrap().reps.clone(),
                None => fallback.clone(),
            };
            prop_assert!(group.contains(&rep_id));
            let load = reps.iter().find(|r| r.rep_id == rep_id).unwrap();
            prop_assert!(is_eligible(load));
            prop_assert_eq!(explanation.chosen_rep_id, rep_id);
        }
    }
}
