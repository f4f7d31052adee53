use crm_platform::{
    auth::{Caller, Role, TeamPath},
    money::{CurrencyCode, Money},
};
use proptest::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::*;
use crate::domain::approval::{ApprovalRefusal, check_approver};

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn cny(amount: &str) -> Money {
    Money {
        currency: CurrencyCode::CNY,
        amount: dec(amount),
    }
}

fn line(code: &str, quantity: &str, list: Option<&str>, unit: &str, discount: &str) -> QuoteLine {
    QuoteLine {
        product_code: code.into(),
        product_name: code.into(),
        quantity: dec(quantity),
        list_price: list.map(cny),
        unit_price: cny(unit),
        discount_percent: dec(discount),
        tax_percent: None,
    }
}

fn terms(discount: &str, tax: &str) -> QuoteTerms {
    QuoteTerms {
        currency: CurrencyCode::CNY,
        discount_percent: dec(discount),
        tax_percent: dec(tax),
    }
}

/// The scenario's quote of the Contoso deal: two robots and the installation at list, 18% off
/// the quote, 13% VAT.
#[test]
fn the_contoso_quote_adds_up_by_hand() {
    let lines = [
        line("LINE3-ROBOT", "2", Some("500000.00"), "500000.00", "0"),
        line("LINE3-INSTALL", "1", Some("200000.00"), "200000.00", "0"),
    ];
    let figures = figures(&lines, &terms("18", "13"));
    // 1,000,000.00 × 0.82 = 820,000.00 and 200,000.00 × 0.82 = 164,000.00; VAT 106,600.00 and
    // 21,320.00.
    assert_eq!(figures.list_total, dec("1200000.00"));
    assert_eq!(figures.subtotal, dec("1200000.00"));
    assert_eq!(figures.quote_discount, dec("216000.00"));
    assert_eq!(figures.amount_before_tax, dec("984000.00"));
    assert_eq!(figures.tax, dec("127920.00"));
    assert_eq!(figures.total, dec("1111920.00"));
    assert_eq!(figures.discount_percent, dec("18.00"));
    assert!(needs_approval(&figures, dec("15")));
    assert!(!needs_approval(&figures, dec("18")));
}

/// Each step rounds half to even to the cent: 3 × 0.125 = 0.375 → 0.38 (8 is even), less 10%
/// = 0.342 → 0.34, VAT 13% = 0.0442 → 0.04; a line price cut below list counts as discount.
#[test]
fn each_step_of_a_line_rounds_half_to_even() {
    let figures = figures(
        &[
            line("BOLT", "3", Some("0.125"), "0.125", "0"),
            line("NUT", "1", Some("0.20"), "0.15", "0"),
        ],
        &terms("10", "13"),
    );
    assert_eq!(
        figures.lines[0],
        LineFigures {
            list_amount: dec("0.38"),
            net: dec("0.38"),
            discounted: dec("0.34"),
            tax: dec("0.04"),
            total: dec("0.38"),
        }
    );
    // 0.15 less 10% = 0.135 → 0.14 (4 is even), VAT 0.0182 → 0.02.
    assert_eq!(
        figures.lines[1],
        LineFigures {
            list_amount: dec("0.20"),
            net: dec("0.15"),
            discounted: dec("0.14"),
            tax: dec("0.02"),
            total: dec("0.16"),
        }
    );
    assert_eq!(figures.total, dec("0.54"));
    // (0.58 − 0.48) / 0.58 = 17.241…% → 17.24.
    assert_eq!(figures.discount_percent, dec("17.24"));
}

#[test]
fn a_line_rate_overrides_the_quotes_and_an_unlisted_item_is_its_own_list_price() {
    let mut exempt = line("SERVICE", "2", None, "100.00", "5");
    exempt.tax_percent = Some(Decimal::ZERO);
    let figures = figures(&[exempt], &terms("0", "13"));
    assert_eq!(figures.list_total, dec("200.00"));
    assert_eq!(figures.subtotal, dec("190.00"));
    assert_eq!(figures.tax, Decimal::ZERO);
    assert_eq!(figures.total, dec("190.00"));
    assert_eq!(figures.discount_percent, dec("5.00"));
}

#[test]
fn a_quote_worth_nothing_at_list_has_no_discount() {
    let figures = figures(
        &[line("FREE", "1", Some("0"), "0", "0")],
        &terms("50", "13"),
    );
    assert_eq!(figures.total, Decimal::ZERO);
    assert_eq!(figures.discount_percent, Decimal::ZERO);
    assert!(!needs_approval(&figures, Decimal::ZERO));
}

fn caller(role: Role, team: &str) -> Caller {
    Caller::user(Uuid::now_v7(), role, TeamPath::parse(team).unwrap())
}

#[test]
fn a_manager_above_the_owner_or_an_admin_decides_and_never_the_owner() {
    let ravi = caller(Role::Rep, "/northwind/east/east-1");
    let owner_team = &ravi.team_path;
    let mei = caller(Role::Manager, "/northwind/east");
    let east_1_lead = caller(Role::Manager, "/northwind/east/east-1");
    let west_manager = caller(Role::Manager, "/northwind/west");
    let ada = caller(Role::Admin, "/northwind");
    let nora = caller(Role::Rep, "/northwind/east/east-1");
    assert_eq!(check_approver(&mei, ravi.user_id, owner_team), Ok(()));
    assert_eq!(
        check_approver(&east_1_lead, ravi.user_id, owner_team),
        Ok(())
    );
    assert_eq!(check_approver(&ada, ravi.user_id, owner_team), Ok(()));
    assert_eq!(
        check_approver(&ravi, ravi.user_id, owner_team),
        Err(ApprovalRefusal::OwnRecord)
    );
    assert_eq!(
        check_approver(&nora, ravi.user_id, owner_team),
        Err(ApprovalRefusal::NotAboveOwner)
    );
    assert_eq!(
        check_approver(&west_manager, ravi.user_id, owner_team),
        Err(ApprovalRefusal::NotAboveOwner)
    );
    // A manager's own deal needs someone above them; an admin's own, another admin.
    assert_eq!(
        check_approver(&mei, mei.user_id, &mei.team_path),
        Err(ApprovalRefusal::OwnRecord)
    );
    assert_eq!(
        check_approver(&ada, ada.user_id, &ada.team_path),
        Err(ApprovalRefusal::OwnRecord)
    );
}

#[test]
fn a_quote_moves_from_draft_through_approval_to_the_customers_answer() {
    use QuoteAction as A;
    use QuoteStatus as S;
    let path = [
        (S::Draft, A::Edit, S::Draft),
        (
            S::Draft,
            A::Submit {
                needs_approval: true,
            },
            S::PendingApproval,
        ),
        (
            S::Draft,
            A::Submit {
                needs_approval: false,
            },
            S::Approved,
        ),
        (S::PendingApproval, A::Approve, S::Approved),
        (S::PendingApproval, A::Reject, S::Rejected),
        (S::Approved, A::Issue, S::Issued),
        (S::Issued, A::Accept, S::Accepted),
        (S::Issued, A::Decline, S::Declined),
        (S::Issued, A::Supersede, S::Superseded),
        (S::Rejected, A::Supersede, S::Superseded),
    ];
    for (from, action, to) in path {
        assert_eq!(from.after(action), Ok(to), "{from:?} {action:?}");
    }
    // Issued versions never change; approval is asked once; answers come to issued quotes.
    for (from, action) in [
        (S::Issued, A::Edit),
        (S::Approved, A::Edit),
        (S::PendingApproval, A::Edit),
        (S::Approved, A::Approve),
        (S::Draft, A::Approve),
        (S::Draft, A::Issue),
        (S::PendingApproval, A::Issue),
        (S::Approved, A::Accept),
        (S::Accepted, A::Supersede),
        (S::Declined, A::Supersede),
        (S::Accepted, A::Decline),
        (S::Superseded, A::Accept),
    ] {
        assert_eq!(
            from.after(action),
            Err(IllegalQuoteMove {
                status: from,
                action
            })
        );
    }
    assert!(S::Draft.is_editable());
    assert!(!S::Issued.is_editable());
}

fn money_amount(max_units: i64) -> impl Strategy<Value = Decimal> {
    (0..max_units).prop_map(|cents| Decimal::new(cents, 2))
}

fn percent() -> impl Strategy<Value = Decimal> {
    (0_i64..=10_000).prop_map(|hundredths| Decimal::new(hundredths, 2))
}

prop_compose! {
    fn any_line()(
        quantity in (1_i64..100_000).prop_map(|thousandths| Decimal::new(thousandths, 3)),
        list in money_amount(100_000_000),
        cut in money_amount(100_000_000),
        discount in percent(),
        tax in prop::option::of(percent()),
        listed in any::<bool>(),
    ) -> QuoteLine {
        let unit = (list - cut).max(Decimal::ZERO);
        QuoteLine {
            product_code: "P".into(),
            product_name: "Product".into(),
            quantity,
            list_price: listed.then_some(Money { currency: CurrencyCode::CNY, amount: list }),
            unit_price: Money { currency: CurrencyCode::CNY, amount: unit },
            discount_percent: discount,
            tax_percent: tax,
        }
    }
}

proptest! {
    /// The totals are the sums of the rounded lines, each figure is at the cent, and the parts
    /// add up: subtotal − quote discount + tax = total.
    #[test]
    fn totals_are_sums_of_rounded_lines(
        lines in prop::collection::vec(any_line(), 0..12),
        discount in percent(),
        tax in percent(),
    ) {
        let terms = QuoteTerms { currency: CurrencyCode::CNY, discount_percent: discount, tax_percent: tax };
        let figures = figures(&lines, &terms);
        let each: Vec<LineFigures> = lines.iter().map(|line| line_figures(line, &terms)).collect();
        prop_assert_eq!(&figures.lines, &each);
        prop_assert_eq!(figures.total, each.iter().map(|line| line.total).sum::<Decimal>());
        prop_assert_eq!(figures.tax, each.iter().map(|line| line.tax).sum::<Decimal>());
        prop_assert_eq!(figures.subtotal - figures.quote_discount + figures.tax, figures.total);
        for line in &each {
            for value in [line.list_amount, line.net, line.discounted, line.tax, line.total] {
                prop_assert!(value.scale() <= 2, "{value} is not at the cent");
                prop_assert!(value >= Decimal::ZERO);
            }
            prop_assert!(line.discounted <= line.net);
        }
    }

    /// A 0% quote discount changes nothing: every line's discounted net is its net.
    #[test]
    fn a_zero_quote_discount_changes_nothing(
        lines in prop::collection::vec(any_line(), 1..12),
        tax in percent(),
    ) {
        let figures = figures(&lines, &terms_with(Decimal::ZERO, tax));
        prop_assert_eq!(figures.quote_discount, Decimal::ZERO);
        prop_assert_eq!(figures.amount_before_tax, figures.subtotal);
        for line in &figures.lines {
            prop_assert_eq!(line.discounted, line.net);
        }
    }

    /// Lines at list price without discounts are 0% below list; any discount never makes the
    /// quote dearer than list.
    #[test]
    fn the_discount_below_list_is_between_0_and_100(
        lines in prop::collection::vec(any_line(), 1..12),
        discount in percent(),
    ) {
        let figures = figures(&lines, &terms_with(discount, Decimal::ZERO));
        prop_assert!(figures.discount_percent <= Decimal::ONE_HUNDRED);
        prop_assert!(figures.discount_percent >= Decimal::ZERO);
        let at_list: Vec<QuoteLine> = lines
            .iter()
            .map(|line| QuoteLine {
                unit_price: line.list_price.unwrap_or(line.unit_price),
                discount_percent: Decimal::ZERO,
                ..line.clone()
            })
            .collect();
        let plain = super::figures(&at_list, &terms_with(Decimal::ZERO, Decimal::ZERO));
        prop_assert_eq!(plain.discount_percent, Decimal::ZERO);
    }
}

fn terms_with(discount: Decimal, tax: Decimal) -> QuoteTerms {
    QuoteTerms {
        currency: CurrencyCode::CNY,
        discount_percent: discount,
        tax_percent: tax,
    }
}

proptest! {
    /// An accepted quote's lines become the deal's without a cent moving: every deal line's
    /// total is the quote line's discounted net, so the deal's amount is the amount before tax.
    #[test]
    fn deal_line_items_add_up_to_the_amount_before_tax(
        lines in prop::collection::vec(any_line(), 1..12),
        discount in percent(),
        tax in percent(),
    ) {
        let terms = terms_with(discount, tax);
        let items = deal_line_items(&lines, &terms);
        let quoted = figures(&lines, &terms);
        for (item, line) in items.iter().zip(&quoted.lines) {
            prop_assert_eq!(item.total().amount, line.discounted);
            prop_assert!((Decimal::ZERO..=Decimal::ONE_HUNDRED).contains(&item.discount_percent));
        }
        let amount = crate::domain::opportunity::line_items_amount(CurrencyCode::CNY, &items);
        prop_assert_eq!(amount.amount, quoted.amount_before_tax);
    }
}

/// A line's 10% and the quote's 10% make 19% off the deal line, when that lands on the cent.
#[test]
fn the_deal_line_discount_combines_the_line_and_quote_discounts() {
    let lines = [line("LINE3-ROBOT", "3", Some("333.33"), "333.33", "10")];
    let items = deal_line_items(&lines, &terms("10", "13"));
    assert_eq!(items[0].discount_percent, dec("19"));
    assert_eq!(items[0].total().amount, dec("809.99"));
}

/// What the schema cannot state is refused, every field at once, and nothing overflows.
#[test]
fn a_quote_beyond_what_amounts_hold_is_refused_without_a_panic() {
    let huge = line(
        "HUGE",
        "99999999999999999999",
        None,
        "99999999999999999999.99",
        "101",
    );
    let refused = check_quote("lines", "", &[huge], &terms("-1", "13")).unwrap_err();
    let fields: Vec<&str> = refused.iter().map(|v| v.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "discount_percent",
            "lines[0].discount_percent",
            "lines[0].quantity"
        ]
    );
    assert!(refused.iter().all(|violation| violation.reason.is_some()));
}
