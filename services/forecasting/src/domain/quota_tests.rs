use proptest::prelude::*;

use super::*;

fn team(path: &str) -> TeamPath {
    TeamPath::parse(path).unwrap()
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn child(holder: Holder, weight: &str) -> Child {
    Child {
        holder,
        weight: dec(weight),
        ramp_percent: 100,
    }
}

fn amounts(parts: &[(Holder, Decimal)]) -> Vec<String> {
    parts.iter().map(|(_, amount)| amount.to_string()).collect()
}

#[test]
fn weights_split_the_parent_in_proportion() {
    let children = [
        child(Holder::Team(team("/n/east")), "50"),
        child(Holder::Team(team("/n/west")), "30"),
        child(Holder::Team(team("/n/south")), "20"),
    ];
    let parts = decompose(dec("1000000.00"), 2, &children).unwrap();
    assert_eq!(amounts(&parts), ["500000.00", "300000.00", "200000.00"]);
    assert_eq!(parts[0].0, Holder::Team(team("/n/east")));
}

#[test]
fn last_years_bookings_are_weights_and_a_rep_who_booked_nothing_gets_nothing() {
    let children = [
        child(Holder::Rep(Uuid::from_u128(1)), "120000.00"),
        child(Holder::Rep(Uuid::from_u128(2)), "80000.00"),
        child(Holder::Rep(Uuid::from_u128(3)), "0"),
    ];
    let parts = decompose(dec("50000.00"), 2, &children).unwrap();
    assert_eq!(amounts(&parts), ["30000.00", "20000.00", "0.00"]);
}

#[test]
fn an_even_split_gives_the_odd_cent_to_the_lowest_child() {
    // 100.00 / 3 = 33.333…: every remainder is equal, so the tie-break decides.
    let children = [
        child(Holder::Team(team("/n/c")), "1"),
        child(Holder::Team(team("/n/a")), "1"),
        child(Holder::Team(team("/n/b")), "1"),
    ];
    let parts = decompose(dec("100"), 2, &children).unwrap();
    assert_eq!(amounts(&parts), ["33.33", "33.34", "33.33"]);
}

#[test]
fn the_largest_remainder_takes_the_cent_left_over() {
    // 10 cents by 3 : 3 : 1 = 4.29, 4.29, 1.43 cents: floors 4 + 4 + 1 = 9; the remainders
    // are 30 mod 7 = 2, 2 and 10 mod 7 = 3, so the third child gets the last cent.
    let children = [
        child(Holder::Rep(Uuid::from_u128(1)), "3"),
        child(Holder::Rep(Uuid::from_u128(2)), "3"),
        child(Holder::Rep(Uuid::from_u128(3)), "1"),
    ];
    let parts = decompose(dec("0.10"), 2, &children).unwrap();
    assert_eq!(amounts(&parts), ["0.04", "0.04", "0.02"]);
}

#[test]
fn a_new_reps_ramp_scales_their_weight() {
    // Weights 1, 1, 1 and 0.25: 130,000 / 3.25 = 40,000 a full share.
    let mut children: Vec<Child> = (1..=4)
        .map(|id| child(Holder::Rep(Uuid::from_u128(id)), "1"))
        .collect();
    children[3].ramp_percent = 25;
    let parts = decompose(dec("130000.00"), 2, &children).unwrap();
    assert_eq!(
        amounts(&parts),
        ["40000.00", "40000.00", "40000.00", "10000.00"]
    );
}

#[test]
fn counts_split_in_whole_units() {
    let children: Vec<Child> = (1..=3)
        .map(|id| child(Holder::Rep(Uuid::from_u128(id)), "1"))
        .collect();
    let parts = decompose(dec("10"), 0, &children).unwrap();
    assert_eq!(amounts(&parts), ["4", "3", "3"]);
}

#[test]
fn what_cannot_be_split_is_an_error_not_a_division_by_zero() {
    let rep = |id| Holder::Rep(Uuid::from_u128(id));
    let nobody_booked = [child(rep(1), "0"), child(rep(2), "0.00")];
    assert_eq!(
        decompose(dec("100"), 2, &nobody_booked),
        Err(DecompositionError::NoBasis)
    );
    let all_ramping_from_zero = [Child {
        ramp_percent: 0,
        ..child(rep(1), "5")
    }];
    assert_eq!(
        decompose(dec("100"), 2, &all_ramping_from_zero),
        Err(DecompositionError::NoBasis)
    );
    assert_eq!(
        decompose(dec("100"), 2, &[]),
        Err(DecompositionError::NoChildren)
    );
    assert_eq!(
        decompose(dec("100"), 2, &[child(rep(1), "-1"), child(rep(2), "2")]),
        Err(DecompositionError::NegativeWeight(rep(1)))
    );
    assert_eq!(
        decompose(dec("100"), 2, &[child(rep(1), "1"), child(rep(1), "2")]),
        Err(DecompositionError::DuplicateChild(rep(1)))
    );
    assert_eq!(
        decompose(dec("10.005"), 2, &[child(rep(1), "1")]),
        Err(DecompositionError::FinerThanUnit)
    );
    assert_eq!(
        decompose(dec("-1"), 2, &[child(rep(1), "1")]),
        Err(DecompositionError::NegativeAmount)
    );
    assert_eq!(
        decompose(
            dec("79228162514264337593543950335"),
            2,
            &[child(rep(1), "1")]
        ),
        Err(DecompositionError::TooLarge)
    );
}

#[test]
fn a_ramp_gives_the_percent_of_each_month_of_tenure() {
    let ramp = RampSchedule::new(vec![25, 50, 75]).unwrap();
    let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
    assert_eq!(ramp.percent_for(day("2026-04-15"), day("2026-04-01")), 25);
    assert_eq!(ramp.percent_for(day("2026-04-15"), day("2026-06-01")), 75);
    assert_eq!(ramp.percent_for(day("2026-04-15"), day("2026-07-01")), 100);
    // Across a year end: November, December, January is the third month.
    assert_eq!(ramp.percent_for(day("2025-11-03"), day("2026-01-01")), 75);
    // Starting later in the period (or after it): the first month.
    assert_eq!(ramp.percent_for(day("2026-05-10"), day("2026-04-01")), 25);
    assert_eq!(RampSchedule::default().percent_in(1), 100);
    assert!(RampSchedule::new(vec![25, 101]).is_err());
    assert!(RampSchedule::new(vec![50; 25]).is_err());
}

#[test]
fn the_tree_knows_parents_and_children_of_every_level() {
    let (ann, bob) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let tree = TeamTree::new(
        [team("/n/west")],
        [(ann, team("/n/east/e1")), (bob, team("/n/east"))],
    );
    assert_eq!(parent_team(&team("/n/east/e1")), Some(team("/n/east")));
    assert_eq!(parent_team(&team("/n")), None);
    assert_eq!(tree.children(&Holder::Company), [Holder::Team(team("/n"))]);
    assert_eq!(
        tree.children(&Holder::Team(team("/n"))),
        [Holder::Team(team("/n/east")), Holder::Team(team("/n/west"))]
    );
    assert_eq!(
        tree.children(&Holder::Team(team("/n/east"))),
        [Holder::Team(team("/n/east/e1")), Holder::Rep(bob)]
    );
    assert_eq!(
        tree.parent(&Holder::Rep(ann)),
        Some(Holder::Team(team("/n/east/e1")))
    );
    assert_eq!(
        tree.parent(&Holder::Team(team("/n"))),
        Some(Holder::Company)
    );
    assert_eq!(tree.parent(&Holder::Rep(Uuid::from_u128(9))), None);
    assert!(tree.has_team(&team("/n")) && tree.has_team(&team("/n/west")));
    assert!(!tree.has_team(&team("/n/south")));
}

#[test]
fn the_check_names_every_parent_that_does_not_add_up() {
    let [r1, r2, r3, r4] = [1, 2, 3, 4].map(Uuid::from_u128);
    let tree = TeamTree::new(
        [team("/n/south")],
        [
            (r1, team("/n/east")),
            (r2, team("/n/east")),
            (r3, team("/n/west")),
            (r4, team("/n/west")),
        ],
    );
    let quotas: BTreeMap<Holder, Decimal> = [
        (Holder::Company, "1000"),
        (Holder::Team(team("/n")), "1000"),
        (Holder::Team(team("/n/east")), "600"),
        (Holder::Team(team("/n/west")), "400"),
        (Holder::Team(team("/n/south")), "50"),
        (Holder::Rep(r1), "300"),
        (Holder::Rep(r2), "250"),
        (Holder::Rep(r3), "400"),
    ]
    .into_iter()
    .map(|(holder, amount)| (holder, dec(amount)))
    .collect();
    let findings = check(&tree, &quotas);
    assert_eq!(
        findings,
        [
            // 600 + 400 + 50 handed down from 1,000.
            Finding {
                parent: Holder::Team(team("/n")),
                quota: dec("1000"),
                kind: FindingKind::ChildrenDoNotAddUp {
                    children_sum: dec("1050"),
                    difference: dec("50"),
                },
                children_without_quota: vec![],
            },
            // 300 + 250 of 600.
            Finding {
                parent: Holder::Team(team("/n/east")),
                quota: dec("600"),
                kind: FindingKind::ChildrenDoNotAddUp {
                    children_sum: dec("550"),
                    difference: dec("-50"),
                },
                children_without_quota: vec![],
            },
            // Nobody below holds any of it.
            Finding {
                parent: Holder::Team(team("/n/south")),
                quota: dec("50"),
                kind: FindingKind::NoChildQuotas,
                children_without_quota: vec![],
            },
        ]
    );
    // The company (1,000 = /n/'s 1,000) and the west (r3's 400, r4 holding none) add up.
}

#[test]
fn only_admins_set_the_company_and_managers_set_strictly_below_themselves() {
    let [admin, manager, rep, other] = [1, 2, 3, 4].map(Uuid::from_u128);
    let as_admin = Caller::user(admin, Role::Admin, team("/n"));
    let as_manager = Caller::user(manager, Role::Manager, team("/n/east"));
    let as_rep = Caller::user(rep, Role::Rep, team("/n/east"));
    let east = team("/n/east");
    assert_eq!(check_setter(&as_admin, &Holder::Company, None), Ok(()));
    assert_eq!(
        check_setter(&as_manager, &Holder::Company, None),
        Err(SetterRefusal::CompanyIsAdmins)
    );
    assert_eq!(
        check_setter(&as_admin, &Holder::Team(team("/n")), None),
        Ok(())
    );
    assert_eq!(
        check_setter(&as_manager, &Holder::Team(team("/n/east/e1")), None),
        Ok(())
    );
    assert_eq!(
        check_setter(&as_manager, &Holder::Team(east.clone()), None),
        Err(SetterRefusal::NotAboveHolder)
    );
    assert_eq!(
        check_setter(&as_manager, &Holder::Team(team("/n/west")), None),
        Err(SetterRefusal::NotAboveHolder)
    );
    assert_eq!(
        check_setter(&as_manager, &Holder::Rep(rep), Some(&team("/n/east/e1"))),
        Ok(())
    );
    assert_eq!(
        check_setter(&as_manager, &Holder::Rep(other), Some(&team("/n/west"))),
        Err(SetterRefusal::NotAboveHolder)
    );
    assert_eq!(
        check_setter(&as_manager, &Holder::Rep(manager), Some(&east)),
        Err(SetterRefusal::OwnQuota)
    );
    assert_eq!(
        check_setter(&as_admin, &Holder::Rep(admin), Some(&team("/n"))),
        Err(SetterRefusal::OwnQuota)
    );
    assert_eq!(
        check_setter(&as_rep, &Holder::Rep(other), Some(&east)),
        Err(SetterRefusal::NotAboveHolder)
    );
}

fn cents() -> impl Strategy<Value = Decimal> {
    (0i64..=1_000_000_000_000).prop_map(|cents| Decimal::new(cents, 2))
}

fn weights() -> impl Strategy<Value = Vec<(Decimal, u8)>> {
    prop::collection::vec(
        (
            (0i64..=1_000_000_000, 0u32..=4).prop_map(|(m, s)| Decimal::new(m, s)),
            prop_oneof![Just(100u8), 0u8..=100],
        ),
        1..12,
    )
}

proptest! {
    #[test]
    fn a_decomposition_adds_up_to_the_parent_exactly(total in cents(), weights in weights()) {
        let children: Vec<Child> = weights
            .iter()
            .enumerate()
            .map(|(index, (weight, ramp_percent))| Child {
                holder: Holder::Rep(Uuid::from_u128(index as u128)),
                weight: *weight,
                ramp_percent: *ramp_percent,
            })
            .collect();
        let effective: Vec<Decimal> = weights
            .iter()
            .map(|(weight, ramp)| *weight * Decimal::from(*ramp))
            .collect();
        let sum: Decimal = effective.iter().sum();
        match decompose(total, 2, &children) {
            Err(DecompositionError::NoBasis) => prop_assert!(sum.is_zero()),
            Err(error) => prop_assert!(false, "{error:?}"),
            Ok(parts) => {
                prop_assert_eq!(parts.iter().map(|(_, amount)| *amount).sum::<Decimal>(), total);
                for ((_, amount), weight) in parts.iter().zip(&effective) {
                    // Within a cent of the exact share, never below zero.
                    let exact = total * *weight / sum;
                    prop_assert!(*amount >= Decimal::ZERO);
                    prop_assert!((*amount - exact).abs() < Decimal::new(1, 2));
                    prop_assert!(amount.scale() <= 2);
                }
            }
        }
    }

    #[test]
    fn an_even_split_differs_by_at_most_a_cent(total in cents(), count in 1usize..40) {
        let children: Vec<Child> = (0..count)
            .map(|index| child(Holder::Rep(Uuid::from_u128(index as u128)), "1"))
            .collect();
        let parts = decompose(total, 2, &children).unwrap();
        let most = parts.iter().map(|(_, amount)| *amount).max().unwrap();
        let least = parts.iter().map(|(_, amount)| *amount).min().unwrap();
        prop_assert!(most - least <= Decimal::new(1, 2));
    }

    #[test]
    fn the_check_finds_exactly_the_altered_parents(
        company in cents(),
        team_sizes in prop::collection::vec(1usize..5, 1..5),
        altered_reps in prop::collection::vec((any::<prop::sample::Index>(), 1i64..100_000), 0..4),
        alter_company in any::<bool>(),
    ) {
        // A consistent plan: the company evenly to its teams, each team evenly to its reps.
        let teams: Vec<TeamPath> = (0..team_sizes.len())
            .map(|index| team(&format!("/n/t{index}")))
            .collect();
        let mut reps = Vec::new();
        for (index, size) in team_sizes.iter().enumerate() {
            for rep in 0..*size {
                reps.push((Uuid::from_u128((index * 10 + rep) as u128), teams[index].clone()));
            }
        }
        let tree = TeamTree::new(teams.clone(), reps.clone());
        let mut quotas = BTreeMap::from([
            (Holder::Company, company),
            (Holder::Team(team("/n")), company),
        ]);
        let top: Vec<Child> = teams.iter().map(|t| child(Holder::Team(t.clone()), "1")).collect();
        for (holder, amount) in decompose(company, 2, &top).unwrap() {
            let members: Vec<Child> = tree.children(&holder).into_iter().map(|h| child(h, "1")).collect();
            quotas.extend(decompose(amount, 2, &members).unwrap());
            quotas.insert(holder, amount);
        }
        prop_assert!(check(&tree, &quotas).is_empty());

        let mut expected = std::collections::BTreeSet::new();
        for (index, cents) in altered_reps {
            let (rep, rep_team) = index.get(&reps);
            *quotas.get_mut(&Holder::Rep(*rep)).unwrap() += Decimal::new(cents, 2);
            expected.insert(Holder::Team(rep_team.clone()));
        }
        if alter_company {
            *quotas.get_mut(&Holder::Company).unwrap() += Decimal::ONE;
            expected.insert(Holder::Company);
        }
        let found: std::collections::BTreeSet<Holder> =
            check(&tree, &quotas).into_iter().map(|finding| finding.parent).collect();
        prop_assert_eq!(found, expected);
    }
}
