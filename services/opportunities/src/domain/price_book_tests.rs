use std::str::FromStr;

use proptest::prelude::*;

use super::*;

fn day(text: &str) -> NaiveDate {
    NaiveDate::from_str(text).unwrap()
}

fn cny(amount: &str) -> Money {
    Money {
        currency: CurrencyCode::CNY,
        amount: Decimal::from_str(amount).unwrap(),
    }
}

fn entry(product_id: Uuid, from: &str, amount: &str) -> PriceEntry {
    PriceEntry {
        price_list_id: Uuid::nil(),
        product_id,
        product_code: "LINE3-ROBOT".into(),
        product_name: "Line 3 robot cell".into(),
        effective_from: day(from),
        unit_price: cny(amount),
        set_at: DateTime::UNIX_EPOCH,
        set_by: None,
    }
}

fn product(code: &str, name: &str) -> Product {
    Product {
        id: Uuid::now_v7(),
        code: code.into(),
        name: name.into(),
        family: String::new(),
        unit: DEFAULT_UNIT.into(),
        description: String::new(),
        active: true,
        version: 1,
        created_at: DateTime::UNIX_EPOCH,
        updated_at: DateTime::UNIX_EPOCH,
    }
}

fn list(is_default: bool) -> PriceList {
    PriceList {
        id: Uuid::now_v7(),
        name: "China 2027".into(),
        currency: CurrencyCode::CNY,
        description: String::new(),
        is_default,
        active: true,
        version: 1,
        created_at: DateTime::UNIX_EPOCH,
        updated_at: DateTime::UNIX_EPOCH,
    }
}

fn draft(code: &str, price: Option<&str>) -> LineItemDraft {
    LineItemDraft {
        product_code: code.into(),
        product_name: "as the caller names it".into(),
        quantity: Decimal::TWO,
        unit_price: price.map(cny),
        discount_percent: Decimal::ZERO,
    }
}

#[test]
fn the_price_on_a_day_is_the_latest_dated_on_or_before_it() {
    let robot = Uuid::now_v7();
    let entries = [
        entry(robot, "2027-01-01", "100000"),
        entry(robot, "2027-07-01", "110000"),
        entry(robot, "2027-03-15", "105000"),
    ];
    let price = |on: &str| price_on(&entries, day(on)).map(|entry| entry.unit_price.amount);
    assert_eq!(price("2026-12-31"), None);
    assert_eq!(price("2027-01-01"), Some(Decimal::from(100_000)));
    assert_eq!(price("2027-03-14"), Some(Decimal::from(100_000)));
    assert_eq!(price("2027-03-15"), Some(Decimal::from(105_000)));
    assert_eq!(price("2027-06-30"), Some(Decimal::from(105_000)));
    assert_eq!(price("2031-01-01"), Some(Decimal::from(110_000)));
    assert_eq!(price_on(&[], day("2027-01-01")), None);
}

#[test]
fn a_price_is_in_the_list_currency_and_not_negative() {
    let china = list(true);
    assert_eq!(check_price(&china, &cny("0")), Ok(()));
    let euros = Money {
        currency: "EUR".parse().unwrap(),
        amount: Decimal::from(-1),
    };
    let refused = check_price(&china, &euros).unwrap_err();
    let named: Vec<(&str, &str)> = refused
        .iter()
        .map(|v| (v.field.as_str(), v.description.as_str()))
        .collect();
    assert_eq!(
        named,
        [
            (
                "unit_price.currency_code",
                "must be the price list's currency, CNY"
            ),
            ("unit_price.amount", "must not be negative"),
        ]
    );
    assert!(
        refused
            .iter()
            .all(|v| v.reason == Some(INCONSISTENT_FIELDS))
    );
}

#[test]
fn texts_are_trimmed_and_checked_for_length() {
    let mut violations = Violations::new();
    assert_eq!(
        required_text(&mut violations, "code", "  LINE3-ROBOT ", MAX_CODE),
        "LINE3-ROBOT"
    );
    assert_eq!(
        required_text(&mut violations, "code", &"é".repeat(64), MAX_CODE)
            .chars()
            .count(),
        64
    );
    assert!(violations.is_empty());
    required_text(&mut violations, "code", "   ", MAX_CODE);
    required_text(&mut violations, "name", &"x".repeat(201), MAX_NAME);
    assert_eq!(
        optional_text(&mut violations, "family", "  ", MAX_FAMILY),
        ""
    );
    optional_text(&mut violations, "unit", &"h".repeat(33), MAX_UNIT);
    let named: Vec<String> = violations
        .into_result()
        .unwrap_err()
        .into_iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect();
    assert_eq!(
        named,
        [
            "code: must not be empty",
            "name: must be at most 200 characters",
            "unit: must be at most 32 characters",
        ]
    );
}

#[test]
fn codes_are_one_without_regard_to_case() {
    let robot = product("LINE3-Robot", "Line 3 robot cell");
    assert!(robot.has_code("line3-robot"));
    assert!(robot.has_code("LINE3-ROBOT"));
    assert!(!robot.has_code("LINE3-ROBOT-2"));
}

#[test]
fn the_default_list_is_not_retired_and_an_inactive_list_is_no_default() {
    let retire = PriceListChanges {
        active: Some(false),
        ..Default::default()
    };
    assert_eq!(
        retire.apply(&list(true)),
        Err(PriceListProblem::RetiringTheDefault)
    );
    let other = list(false);
    assert!(!retire.apply(&other).unwrap().active);
    let both = PriceListChanges {
        active: Some(false),
        make_default: true,
        ..Default::default()
    };
    assert!(matches!(
        both.apply(&other),
        Err(PriceListProblem::Invalid(violations)) if violations[0].field == "make_default"
    ));
    let promote = PriceListChanges {
        make_default: true,
        name: Some("China".into()),
        ..Default::default()
    };
    let promoted = promote.apply(&other).unwrap();
    assert!(promoted.is_default);
    assert_eq!(promoted.name, "China");
    assert_eq!(promoted.version, other.version);
}

#[test]
fn line_items_take_the_book_s_spelling_name_and_list_price() {
    let robot = product("LINE3-ROBOT", "Line 3 robot cell");
    let book = BookPrices {
        products: vec![robot.clone()],
        list_prices: vec![(robot.id, cny("120000.00"))],
        day: day("2027-02-01"),
    };
    let items = price_line_items(
        "line_items",
        CurrencyCode::CNY,
        vec![
            draft("line3-robot", None),
            draft("Line3-Robot", Some("99000")),
            draft("CUSTOM-JIG", Some("5000")),
        ],
        &book,
        InactiveProducts::Kept(&[]),
    )
    .unwrap();
    assert_eq!(items[0].product_code, "LINE3-ROBOT");
    assert_eq!(items[0].product_name, "Line 3 robot cell");
    assert_eq!(items[0].unit_price, cny("120000.00"));
    assert_eq!(items[0].total(), cny("240000.00"));
    // A price of its own wins over the list's.
    assert_eq!(items[1].unit_price, cny("99000"));
    assert_eq!(items[1].product_code, "LINE3-ROBOT");
    // Unlisted: as the caller gave it.
    assert_eq!(items[2].product_code, "CUSTOM-JIG");
    assert_eq!(items[2].product_name, "as the caller names it");
}

#[test]
fn a_line_without_a_price_from_anywhere_is_refused_naming_its_price() {
    let robot = product("LINE3-ROBOT", "Line 3 robot cell");
    let book = BookPrices {
        products: vec![robot],
        list_prices: Vec::new(),
        day: day("2027-02-01"),
    };
    let refused = price_line_items(
        "opportunity.line_items",
        CurrencyCode::CNY,
        vec![
            draft("CUSTOM-JIG", Some("5000")),
            draft("CUSTOM-JIG", None),
            draft("LINE3-ROBOT", None),
        ],
        &book,
        InactiveProducts::Kept(&[]),
    )
    .unwrap_err();
    let named: Vec<String> = refused
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect();
    assert_eq!(
        named,
        [
            "opportunity.line_items[1].unit_price: is required: the price book does not list \"CUSTOM-JIG\"",
            "opportunity.line_items[2].unit_price: is required: LINE3-ROBOT has no price in the default CNY price list on 2027-02-01",
        ]
    );
    assert!(
        refused
            .iter()
            .all(|v| v.reason == Some(INCONSISTENT_FIELDS))
    );
}

proptest! {
    /// Whatever the dated prices, the one in force on a day is dated on or before it and no
    /// other such entry is dated later — and a day before every entry has none.
    #[test]
    fn the_price_in_force_is_the_latest_not_after_the_day(
        offsets in proptest::collection::btree_set(0i64..2000, 0..12),
        asked in -10i64..2100,
    ) {
        let start = day("2027-01-01");
        let product_id = Uuid::nil();
        let entries: Vec<PriceEntry> = offsets
            .iter()
            .map(|offset| {
                let mut dated = entry(product_id, "2027-01-01", &offset.to_string());
                dated.effective_from = start + chrono::Days::new(*offset as u64);
                dated
            })
            .collect();
        let on = start + chrono::TimeDelta::days(asked);
        match price_on(&entries, on) {
            Some(found) => {
                prop_assert!(found.effective_from <= on);
                prop_assert!(entries
                    .iter()
                    .all(|other| other.effective_from > on || other.effective_from <= found.effective_from));
            }
            None => prop_assert!(entries.iter().all(|other| other.effective_from > on)),
        }
    }
}

/// A retired product is sold no more: a new line naming it is refused, a deal that has it
/// keeps it, and imported history names what was sold then.
#[test]
fn an_inactive_product_stays_only_where_it_is_already() {
    let mut retired = product("OLD-ROBOT", "Robot cell, first generation");
    retired.active = false;
    let book = BookPrices {
        products: vec![retired],
        list_prices: Vec::new(),
        day: day("2027-02-01"),
    };
    let lines = || vec![draft("old-robot", Some("90000"))];
    let refused = price_line_items(
        "line_items",
        CurrencyCode::CNY,
        lines(),
        &book,
        InactiveProducts::Kept(&[]),
    )
    .unwrap_err();
    assert_eq!(refused[0].field, "line_items[0].product_code");
    assert_eq!(
        refused[0].description,
        "OLD-ROBOT is no longer sold (inactive in the price book)"
    );
    assert_eq!(refused[0].reason, Some(INCONSISTENT_FIELDS));
    let kept = price_line_items(
        "line_items",
        CurrencyCode::CNY,
        lines(),
        &book,
        InactiveProducts::Allowed,
    )
    .unwrap();
    assert_eq!(kept[0].product_code, "OLD-ROBOT");
    let again = price_line_items(
        "line_items",
        CurrencyCode::CNY,
        lines(),
        &book,
        InactiveProducts::Kept(&kept),
    )
    .unwrap();
    assert_eq!(again, kept);
}
