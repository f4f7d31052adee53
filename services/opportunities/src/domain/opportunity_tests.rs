use std::str::FromStr;

use proptest::prelude::*;

use super::*;

fn cny(amount: &str) -> Money {
    Money {
        currency: "CNY".parse().unwrap(),
        amount: Decimal::from_str(amount).unwrap(),
    }
}

fn item(quantity: &str, price: &str, discount: &str) -> LineItem {
    LineItem {
        product_code: "LINE3-ROBOT".into(),
        product_name: "Line 3 robot cell".into(),
        quantity: Decimal::from_str(quantity).unwrap(),
        unit_price: cny(price),
        discount_percent: Decimal::from_str(discount).unwrap(),
    }
}

fn split(user: Uuid, percent: &str) -> RevenueSplit {
    RevenueSplit {
        user_id: user,
        percent: Decimal::from_str(percent).unwrap(),
    }
}

fn member(user: Uuid) -> TeamMember {
    TeamMember {
        user_id: user,
        role: DealTeamRole::SalesEngineer,
    }
}

fn descriptions(result: Result<(), Vec<FieldViolation>>) -> Vec<String> {
    result
        .unwrap_err()
        .into_iter()
        .map(|violation| format!("{}: {}", violation.field, violation.description))
        .collect()
}

pub(crate) fn deal() -> Opportunity {
    let now = Utc::now();
    let owner = Uuid::now_v7();
    Opportunity {
        id: Uuid::now_v7(),
        name: "Contoso — Line 3 automation".into(),
        account_id: Uuid::now_v7(),
        owner_id: owner,
        owner_team_path: TeamPath::parse("/northwind/east/east-1/").unwrap(),
        pipeline_id: Uuid::now_v7(),
        stage_id: Uuid::now_v7(),
        status: OpportunityStatus::Open,
        probability_override: None,
        effective_probability: 10,
        amount: cny("1200000.00"),
        corporate: None,
        expected_close_date: NaiveDate::from_ymd_opt(2027, 1, 30).unwrap(),
        next_step: String::new(),
        source_lead_id: None,
        campaign_id: None,
        custom_fields: BTreeMap::new(),
        line_items: Vec::new(),
        team: Vec::new(),
        splits: owner_split(owner),
        competitors: Vec::new(),
        committee: Vec::new(),
        outcome: None,
        closed_from_stage_id: None,
        stage_entered_at: now,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

#[test]
fn a_line_total_is_quantity_times_price_less_discount_rounded_to_the_cent() {
    // 3 × 333,333.33 = 999,999.99; less 12.5% = 874,999.99125 → 874,999.99
    assert_eq!(item("3", "333333.33", "12.5").total(), cny("874999.99"));
    // 2.5 × 0.05 = 0.125; no discount → 0.12 (half to even), 3.5 × 0.05 = 0.175 → 0.18
    assert_eq!(item("2.5", "0.05", "0").total(), cny("0.12"));
    assert_eq!(item("3.5", "0.05", "0").total(), cny("0.18"));
    // a free line
    assert_eq!(item("1", "1000", "100").total(), cny("0"));
}

#[test]
fn the_amount_of_a_deal_with_line_items_is_their_sum() {
    let items = [item("3", "333333.33", "12.5"), item("1", "325000.01", "0")];
    // 874,999.99 + 325,000.01
    assert_eq!(
        line_items_amount("CNY".parse().unwrap(), &items),
        cny("1200000.00")
    );
}

#[test]
fn line_items_keep_to_the_deal_currency_positive_quantities_and_discounts_in_range() {
    let mut euro = item("1", "10", "0");
    euro.unit_price.currency = "EUR".parse().unwrap();
    let items = [item("0", "10", "0"), item("1", "10", "101"), euro];
    assert_eq!(
        descriptions(validate_line_items(
            "line_items",
            "CNY".parse().unwrap(),
            &items
        )),
        [
            "line_items[0].quantity: must be above zero",
            "line_items[1].discount_percent: must be between 0 and 100",
            "line_items[2].unit_price.currency_code: must be the deal's currency, CNY",
        ]
    );
}

/// Figures too large for an amount (20 integer digits) are refused, never overflowed: a
/// quantity and a price the schema allows can multiply past what a Decimal holds.
#[test]
fn line_items_too_large_for_an_amount_are_refused() {
    let huge = "99999999999999999999";
    let items = [item(huge, huge, "0"), item("1", "10", "0")];
    assert_eq!(
        descriptions(validate_line_items(
            "line_items",
            "CNY".parse().unwrap(),
            &items
        )),
        ["line_items[0].quantity: × the unit price must be below 100000000000000000000"]
    );
    let most = "60000000000000000000";
    let items = [item("1", most, "0"), item("1", most, "0")];
    assert_eq!(
        descriptions(validate_line_items(
            "line_items",
            "CNY".parse().unwrap(),
            &items
        )),
        ["line_items: add up to 100000000000000000000 or more"]
    );
    // The lines' totals count, after their discounts: 6e19 + 3e19.
    let items = [item("1", most, "0"), item("1", most, "50")];
    assert!(validate_line_items("line_items", "CNY".parse().unwrap(), &items).is_ok());
    let items = [item("1", "99999999999999999999.99", "0")];
    assert!(validate_line_items("line_items", "CNY".parse().unwrap(), &items).is_ok());
}

#[test]
fn splits_add_up_to_exactly_one_hundred_among_owner_and_team() {
    let (owner, engineer, overlay, stranger) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    let team = [member(engineer), member(overlay)];
    assert_eq!(
        validate_team(
            owner,
            &team,
            &[
                split(owner, "33.34"),
                split(engineer, "33.33"),
                split(overlay, "33.33")
            ]
        ),
        Ok(())
    );
    assert_eq!(validate_team(owner, &team, &[]), Ok(()));
    assert_eq!(
        descriptions(validate_team(
            owner,
            &team,
            &[split(owner, "60"), split(engineer, "30")]
        )),
        ["splits: add up to 90, not exactly 100"]
    );
    assert_eq!(
        descriptions(validate_team(
            owner,
            &[member(owner), member(engineer), member(engineer)],
            &[
                split(owner, "50.001"),
                split(stranger, "49.999"),
                split(owner, "0")
            ]
        )),
        [
            "team[0].user_id: is the owner, who is on the team already",
            "team[2].user_id: is on the team twice",
            "splits[0].percent: has more than two decimals",
            "splits[1].percent: has more than two decimals",
            "splits[1].user_id: is neither the owner nor on the deal team",
            "splits[2].percent: must be above 0 and at most 100",
            "splits[2].user_id: has a split already",
        ]
    );
}

#[test]
fn a_reassigned_deal_passes_the_old_owner_share_to_the_new_owner() {
    let (old, new, engineer) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    assert_eq!(
        splits_after_reassignment(&[split(old, "70"), split(engineer, "30")], old, new),
        [split(new, "70"), split(engineer, "30")]
    );
    // The new owner had a share as a team member: the shares add.
    assert_eq!(
        splits_after_reassignment(&[split(old, "70"), split(new, "30")], old, new),
        [split(new, "100")]
    );
}

#[test]
fn committee_influence_stays_inside_the_committee() {
    let (li, zhang, outsider) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let person = |contact_id: Uuid, influences: Vec<Uuid>| CommitteeMember {
        contact_id,
        contact_name: String::new(),
        role: BuyingRole::Champion,
        attitude: Attitude::Supporter,
        influences,
        note: String::new(),
    };
    assert_eq!(
        validate_committee(&[person(li, vec![zhang]), person(zhang, vec![])]),
        Ok(())
    );
    assert_eq!(
        descriptions(validate_committee(&[
            person(li, vec![li, outsider, zhang, zhang]),
            person(zhang, vec![]),
            person(zhang, vec![]),
        ])),
        [
            "members[0].influences[0]: is the member itself",
            "members[0].influences[1]: is not a member of the committee",
            "members[0].influences[3]: is named twice",
            "members[2].contact_id: is on the committee twice",
        ]
    );
}

#[test]
fn a_change_lists_each_changed_field_with_old_and_new_values() {
    let deal = deal();
    let mut changes = OpportunityChanges {
        name: Some(deal.name.clone()),
        amount: Some(cny("1150000.00")),
        probability_override: Some(Some(60)),
        next_step: Some("Site visit".into()),
        ..Default::default()
    };
    changes
        .custom_fields
        .insert("budget".into(), "approved".into());
    let (next, changed) = apply_changes(&deal, &changes, 10).unwrap();
    assert_eq!(
        changed,
        [
            FieldChange::new("amount", "CNY 1200000.00", "CNY 1150000.00"),
            FieldChange::new("probability_override", "", "60"),
            FieldChange::new("next_step", "", "Site visit"),
            FieldChange::new("custom_fields.budget", "", "approved"),
        ]
    );
    assert_eq!(next.effective_probability, 60);
    assert_eq!(next.amount, cny("1150000.00"));

    let clear = OpportunityChanges {
        probability_override: Some(None),
        ..Default::default()
    };
    let (cleared, changed) = apply_changes(&next, &clear, 25).unwrap();
    assert_eq!(cleared.effective_probability, 25);
    assert_eq!(
        changed,
        [FieldChange::new("probability_override", "60", "")]
    );
    let (_, nothing) = apply_changes(&cleared, &OpportunityChanges::default(), 25).unwrap();
    assert!(nothing.is_empty());
}

#[test]
fn line_items_set_the_amount_and_a_bare_amount_is_then_refused() {
    let deal = deal();
    let with_items = OpportunityChanges {
        line_items: Some(vec![item("2", "500000", "0")]),
        ..Default::default()
    };
    let (next, changed) = apply_changes(&deal, &with_items, 10).unwrap();
    assert_eq!(next.amount, cny("1000000"));
    assert_eq!(
        changed,
        [
            FieldChange::new("line_items", "0 items", "1 items"),
            FieldChange::new("amount", "CNY 1200000.00", "CNY 1000000"),
        ]
    );
    let bare = OpportunityChanges {
        amount: Some(cny("5")),
        ..Default::default()
    };
    assert_eq!(
        apply_changes(&next, &bare, 10),
        Err(ChangeProblem::AmountFromLineItems)
    );
}

fn percents() -> impl Strategy<Value = Vec<u32>> {
    // Shares in hundredths of a percent that add up to 100.00.
    prop::collection::vec(1u32..5_000, 1..6).prop_map(|mut shares| {
        let total: u32 = shares.iter().sum();
        let scaled: Vec<u32> = shares
            .iter()
            .map(|share| (share * 10_000 / total).max(1))
            .collect();
        shares = scaled;
        let sum: u32 = shares.iter().sum();
        if sum < 10_000 {
            shares[0] += 10_000 - sum;
        } else if sum > 10_000 {
            let index = shares
                .iter()
                .position(|share| *share > sum - 10_000)
                .unwrap();
            shares[index] -= sum - 10_000;
        }
        shares
    })
}

proptest! {
    #[test]
    fn reassignment_keeps_the_splits_at_one_hundred(shares in percents(), new_is_member in any::<bool>()) {
        let owner = Uuid::now_v7();
        let users: Vec<Uuid> = std::iter::once(owner)
            .chain((1..shares.len()).map(|_| Uuid::now_v7()))
            .collect();
        let splits: Vec<RevenueSplit> = users
            .iter()
            .zip(&shares)
            .map(|(user, share)| RevenueSplit { user_id: *user, percent: Decimal::new(i64::from(*share), 2) })
            .collect();
        let team: Vec<TeamMember> = users[1..].iter().copied().map(member).collect();
        prop_assert_eq!(validate_team(owner, &team, &splits), Ok(()));
        let new_owner = if new_is_member && users.len() > 1 { users[1] } else { Uuid::now_v7() };
        let after = splits_after_reassignment(&splits, owner, new_owner);
        let total: Decimal = after.iter().map(|split| split.percent).sum();
        prop_assert_eq!(total, Decimal::ONE_HUNDRED);
        prop_assert!(after.iter().all(|split| split.user_id != owner));
    }

    #[test]
    fn a_line_total_never_exceeds_the_gross_and_has_the_currency_minor_units(
        quantity in 1i64..10_000, cents in 0i64..100_000_000, discount in 0i64..=10_000,
    ) {
        let line = LineItem {
            product_code: "P".into(),
            product_name: String::new(),
            quantity: Decimal::new(quantity, 0),
            unit_price: Money { currency: "CNY".parse().unwrap(), amount: Decimal::new(cents, 2) },
            discount_percent: Decimal::new(discount, 2),
        };
        let total = line.total();
        prop_assert!(total.amount <= line.quantity * line.unit_price.amount);
        prop_assert!(total.amount >= Decimal::ZERO);
        prop_assert!(total.amount.scale() <= 2);
    }
}
