use super::*;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn tier(from: &str, rate: &str) -> Tier {
    Tier {
        from_attainment: d(from),
        rate: d(rate),
    }
}

fn version(number: u32, from: &str, until: Option<&str>) -> PlanVersion {
    PlanVersion {
        version: number,
        effective_from: day(from),
        effective_until: until.map(day),
        period: PeriodKind::Quarter,
        currency: "CNY".parse().unwrap(),
        base_salary: d("90000"),
        commission: Some(Commission {
            tiers: vec![tier("0", "3"), tier("50", "5"), tier("100", "8")],
            tiering: Tiering::Marginal,
            payout: Payout::OnPayment,
            attainment_ceiling: Some(d("200")),
            cap_per_period: Some(d("500000")),
        }),
        reimburses_expenses: true,
        expense_cap_per_period: Some(d("3000")),
        team_pool: None,
        spiffs: Vec::new(),
        draw: Some(Draw {
            amount: d("20000"),
            recoverable: true,
        }),
    }
}

fn fields(result: Result<(), Vec<FieldViolation>>) -> Vec<String> {
    result
        .unwrap_err()
        .into_iter()
        .map(|violation| violation.field)
        .collect()
}

#[test]
fn a_plan_with_a_decelerator_accelerator_ceiling_and_cap_is_valid() {
    let versions = [
        version(1, "2026-01-01", Some("2027-01-01")),
        version(2, "2027-01-01", None),
    ];
    assert_eq!(check_versions(&versions), Ok(()));
    assert_eq!(version_on(&versions, day("2026-12-31")).unwrap().version, 1);
    assert_eq!(version_on(&versions, day("2027-01-01")).unwrap().version, 2);
    assert_eq!(version_on(&versions, day("2025-12-31")), None);
}

#[test]
fn tiers_out_of_order_negative_rates_and_a_low_ceiling_are_each_named() {
    let mut plan = version(1, "2026-01-01", None);
    let commission = plan.commission.as_mut().unwrap();
    commission.tiers = vec![tier("10", "3"), tier("100", "-1"), tier("80", "8")];
    commission.attainment_ceiling = Some(d("50"));
    commission.cap_per_period = Some(d("0"));
    plan.base_salary = d("100.001");
    assert_eq!(
        fields(check_versions(&[plan])),
        vec![
            "versions[0].base_salary",
            "versions[0].commission.cap_per_period",
            "versions[0].commission.tiers[0].from_attainment",
            "versions[0].commission.tiers[1].rate",
            "versions[0].commission.tiers[2].from_attainment",
            "versions[0].commission.attainment_ceiling",
        ]
    );
}

#[test]
fn overlapping_versions_and_other_inconsistencies_are_refused() {
    let mut second = version(2, "2026-06-01", None);
    second.currency = "USD".parse().unwrap();
    let violations =
        check_versions(&[version(1, "2026-01-01", Some("2026-07-01")), second]).unwrap_err();
    assert_eq!(violations[0].field, "versions[1].effective_from");
    assert!(
        violations[0]
            .description
            .contains("overlaps version 1 (in force until 2026-07-01)")
    );
    assert_eq!(violations[1].field, "versions[1].currency");

    let mut odd = version(3, "2026-01-01", Some("2025-01-01"));
    odd.commission = None;
    odd.reimburses_expenses = false;
    odd.spiffs = vec![Spiff {
        name: " ".into(),
        product_codes: Vec::new(),
        pipeline_ids: Vec::new(),
        amount: SpiffAmount::Percent(d("120")),
    }];
    odd.team_pool = Some(TeamPool {
        team_path: "/North Wind/".into(),
        rate: d("0"),
        split: PoolSplit::ByWeights(vec![
            (Uuid::from_u128(1), d("1")),
            (Uuid::from_u128(1), d("0")),
        ]),
    });
    assert_eq!(
        fields(check_versions(&[odd])),
        vec![
            "versions[0].effective_until".to_owned(),
            "versions[0].expense_cap_per_period".into(),
            "versions[0].team_pool.team_path".into(),
            "versions[0].team_pool.rate".into(),
            "versions[0].team_pool.split.weights[1].weight".into(),
            "versions[0].team_pool.split.weights[1].user_id".into(),
            "versions[0].spiffs[0].name".into(),
            "versions[0].spiffs[0]".into(),
            "versions[0].spiffs[0].amount".into(),
            "versions[0].draw".into(),
            "versions[0].version".into(),
        ]
    );
}

/// Days before 2026-10-01 are paid: version 1 (in force then) may only be ended later, and
/// nothing new may start before that day.
#[test]
fn a_version_paid_in_a_closed_period_only_ends_later() {
    let locked = day("2026-10-01");
    let old = [version(1, "2026-01-01", None)];
    // Ending it, and a second version after the closed days: accepted.
    let ended = [
        version(1, "2026-01-01", Some("2026-11-01")),
        version(2, "2026-11-01", None),
    ];
    assert_eq!(check_locked(&old, &ended, locked), Ok(()));
    // Ending it inside the closed days, re-rating it, a version starting in them, dropping it.
    let early = [version(1, "2026-01-01", Some("2026-09-01"))];
    assert_eq!(
        fields(check_locked(&old, &early, locked)),
        ["versions[0].effective_until"]
    );
    let mut rerated = version(1, "2026-01-01", None);
    rerated.base_salary = d("95000");
    assert_eq!(
        fields(check_locked(&old, &[rerated], locked)),
        ["versions[0]"]
    );
    let backdated = [
        version(1, "2026-01-01", Some("2026-09-01")),
        version(2, "2026-09-01", None),
    ];
    assert_eq!(
        fields(check_locked(&old, &backdated, locked)),
        ["versions[0].effective_until", "versions[1].effective_from"]
    );
    assert_eq!(fields(check_locked(&old, &[], locked)), ["versions"]);
    // A version that started after the closed days changes freely.
    let later = [version(1, "2026-10-01", None)];
    let mut changed = version(1, "2026-10-01", None);
    changed.base_salary = d("1");
    assert_eq!(check_locked(&later, &[changed], locked), Ok(()));
}
