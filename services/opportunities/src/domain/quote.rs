//! Quotes (O6): a deal's priced offer — lines of products with their list and quoted prices,
//! line and quote discounts, tax — its figures under one rounding rule, the discount that
//! decides whether a manager must approve it, who may approve, and the life of a quote version
//! (docs/adr/0014-deal-desk-in-opportunities.md).
//!
//! The rule: each line's figures are rounded half to even to the currency's minor unit, one
//! step at a time — the line's net (quantity × unit price × (1 − line discount)), that net
//! after the quote's discount, and the tax on it — and the quote's figures are the sums of the
//! rounded lines. So the totals always equal what the customer adds up from the lines.

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{
    auth::TeamPath,
    error::{FieldViolation, reasons::INCONSISTENT_FIELDS},
    money::{CurrencyCode, Money, round_half_even},
};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::opportunity::LineItem;

/// A line of a quote.
#[derive(Debug, Clone, PartialEq)]
pub struct QuoteLine {
    pub product_code: String,
    pub product_name: String,
    /// Positive.
    pub quantity: Decimal,
    /// The price book's price on the quote's pricing day; `None` for an item the book does not
    /// list (its unit price is then its list price too).
    pub list_price: Option<Money>,
    /// The price quoted for one unit (the list price unless the rep set another), in the
    /// quote's currency, not negative.
    pub unit_price: Money,
    /// 0..=100: off this line.
    pub discount_percent: Decimal,
    /// 0..=100: this line's tax rate; `None`: the quote's.
    pub tax_percent: Option<Decimal>,
}

/// What applies to every line: the currency, the quote's discount and its tax rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteTerms {
    pub currency: CurrencyCode,
    /// 0..=100: off every line's net, after the lines' own discounts.
    pub discount_percent: Decimal,
    /// 0..=100: the tax rate of lines without one of their own.
    pub tax_percent: Decimal,
}

/// One line's figures, each rounded to the currency's minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineFigures {
    /// Quantity × list price (× unit price for an unlisted item).
    pub list_amount: Decimal,
    /// Quantity × unit price × (1 − line discount).
    pub net: Decimal,
    /// The net after the quote's discount.
    pub discounted: Decimal,
    /// The discounted net × the line's tax rate.
    pub tax: Decimal,
    /// Discounted net + tax.
    pub total: Decimal,
}

/// A quote's figures: the sums of its lines' rounded figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteFigures {
    pub lines: Vec<LineFigures>,
    /// Σ list amounts: what the quote would cost at list prices, before tax.
    pub list_total: Decimal,
    /// Σ nets: after the lines' discounts.
    pub subtotal: Decimal,
    /// Σ (net − discounted): what the quote's discount takes off.
    pub quote_discount: Decimal,
    /// Σ discounted nets: the quote's amount before tax, which an accepted quote sets as the
    /// deal's amount.
    pub amount_before_tax: Decimal,
    pub tax: Decimal,
    /// Σ line totals.
    pub total: Decimal,
    /// How far below list prices the quote is, before tax: (list total − amount before tax) /
    /// list total × 100, to two decimals half to even; 0 for a quote worth nothing at list.
    pub discount_percent: Decimal,
}

fn percent_off(amount: Decimal, percent: Decimal) -> Decimal {
    amount * (Decimal::ONE_HUNDRED - percent) / Decimal::ONE_HUNDRED
}

/// The figures of one line under `terms`.
pub fn line_figures(line: &QuoteLine, terms: &QuoteTerms) -> LineFigures {
    let places = terms.currency.minor_units();
    let round = |value: Decimal| round_half_even(value, places);
    let list_price = line.list_price.as_ref().unwrap_or(&line.unit_price).amount;
    let net = round(percent_off(
        line.quantity * line.unit_price.amount,
        line.discount_percent,
    ));
    let discounted = round(percent_off(net, terms.discount_percent));
    let tax_percent = line.tax_percent.unwrap_or(terms.tax_percent);
    let tax = round(discounted * tax_percent / Decimal::ONE_HUNDRED);
    LineFigures {
        list_amount: round(line.quantity * list_price),
        net,
        discounted,
        tax,
        total: discounted + tax,
    }
}

/// The figures of a quote's lines under `terms`.
pub fn figures(lines: &[QuoteLine], terms: &QuoteTerms) -> QuoteFigures {
    let lines: Vec<LineFigures> = lines.iter().map(|line| line_figures(line, terms)).collect();
    let sum = |part: fn(&LineFigures) -> Decimal| lines.iter().map(part).sum::<Decimal>();
    let list_total = sum(|line| line.list_amount);
    let subtotal = sum(|line| line.net);
    let amount_before_tax = sum(|line| line.discounted);
    let discount_percent = if list_total > Decimal::ZERO {
        round_half_even(
            (list_total - amount_before_tax) / list_total * Decimal::ONE_HUNDRED,
            2,
        )
    } else {
        Decimal::ZERO
    };
    QuoteFigures {
        list_total,
        subtotal,
        quote_discount: subtotal - amount_before_tax,
        amount_before_tax,
        tax: sum(|line| line.tax),
        total: sum(|line| line.total),
        discount_percent,
        lines,
    }
}

/// Whether a quote this far below list needs a manager's approval: above the threshold, not at
/// it (a 15% threshold lets 15.00% through).
pub fn needs_approval(figures: &QuoteFigures, threshold_percent: Decimal) -> bool {
    figures.discount_percent > threshold_percent
}

/// Where a quote version is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuoteStatus {
    /// Being written: lines and terms change.
    Draft,
    /// Submitted with a discount above the threshold: waits for a manager.
    PendingApproval,
    /// Submitted within the threshold, or approved: ready to be issued.
    Approved,
    /// A manager refused the discount (revise it into a new version).
    Rejected,
    /// Sent to the customer: read-only from here on.
    Issued,
    /// The customer accepted it: it set the deal's amount and lines, and became an order.
    Accepted,
    /// The customer declined it.
    Declined,
    /// Replaced by a newer version of the quote before it was accepted.
    Superseded,
}

/// What is done to a quote version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteAction {
    /// Change lines or terms.
    Edit,
    /// Ask for it to be issued; `needs_approval` says whether a manager must approve first.
    Submit {
        needs_approval: bool,
    },
    Approve,
    Reject,
    Issue,
    Accept,
    Decline,
    /// A newer version was made from this one.
    Supersede,
}

/// A move the quote's status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IllegalQuoteMove {
    pub status: QuoteStatus,
    pub action: QuoteAction,
}

impl QuoteStatus {
    /// The status after `action`, or why it cannot be done now. A version that has been
    /// issued never changes again but by the customer's answer; a revision is a new version
    /// (the old one superseded unless it was accepted or declined).
    pub fn after(self, action: QuoteAction) -> Result<QuoteStatus, IllegalQuoteMove> {
        use QuoteAction as A;
        use QuoteStatus as S;
        let next = match (self, action) {
            (S::Draft, A::Edit) => S::Draft,
            (
                S::Draft,
                A::Submit {
                    needs_approval: true,
                },
            ) => S::PendingApproval,
            (
                S::Draft,
                A::Submit {
                    needs_approval: false,
                },
            ) => S::Approved,
            (S::PendingApproval, A::Approve) => S::Approved,
            (S::PendingApproval, A::Reject) => S::Rejected,
            (S::Approved, A::Issue) => S::Issued,
            (S::Issued, A::Accept) => S::Accepted,
            (S::Issued, A::Decline) => S::Declined,
            (
                S::Draft | S::PendingApproval | S::Approved | S::Rejected | S::Issued,
                A::Supersede,
            ) => S::Superseded,
            (status, action) => return Err(IllegalQuoteMove { status, action }),
        };
        Ok(next)
    }

    /// Whether lines and terms may still change.
    pub fn is_editable(self) -> bool {
        self == QuoteStatus::Draft
    }
}

impl QuoteStatus {
    /// The stored and logged name (`draft`, `pending_approval`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            QuoteStatus::Draft => "draft",
            QuoteStatus::PendingApproval => "pending_approval",
            QuoteStatus::Approved => "approved",
            QuoteStatus::Rejected => "rejected",
            QuoteStatus::Issued => "issued",
            QuoteStatus::Accepted => "accepted",
            QuoteStatus::Declined => "declined",
            QuoteStatus::Superseded => "superseded",
        }
    }

    pub fn parse(name: &str) -> Option<QuoteStatus> {
        [
            QuoteStatus::Draft,
            QuoteStatus::PendingApproval,
            QuoteStatus::Approved,
            QuoteStatus::Rejected,
            QuoteStatus::Issued,
            QuoteStatus::Accepted,
            QuoteStatus::Declined,
            QuoteStatus::Superseded,
        ]
        .into_iter()
        .find(|status| status.as_str() == name)
    }
}

impl std::fmt::Display for QuoteStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A manager's decision on a discount above the threshold: the shared approval's.
pub use super::approval::Decision;

/// A version's submission and the discount's audit.
#[derive(Debug, Clone, PartialEq)]
pub struct Approval {
    pub submitted_by: Uuid,
    pub submitted_at: DateTime<Utc>,
    /// The threshold in force at submission.
    pub threshold_percent: Decimal,
    pub required: bool,
    /// Who decided, when, what, and their note (a rejection's reason).
    pub decision: Option<(Decision, Uuid, DateTime<Utc>)>,
    pub note: String,
}

/// One version of a quote.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    pub id: Uuid,
    pub opportunity_id: Uuid,
    pub account_id: Option<Uuid>,
    pub owner_id: Uuid,
    pub owner_team_path: TeamPath,
    /// "Q-2026-000123": the same for every version.
    pub number: String,
    pub quote_version: i32,
    pub revised_from: Option<Uuid>,
    pub status: QuoteStatus,
    pub price_list_id: Option<Uuid>,
    pub pricing_date: NaiveDate,
    pub terms: QuoteTerms,
    pub lines: Vec<QuoteLine>,
    pub figures: QuoteFigures,
    pub valid_until: NaiveDate,
    pub notes: String,
    pub approval: Option<Approval>,
    /// Why the customer declined, if they said.
    pub decline_reason: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_by: Uuid,
    pub updated_at: DateTime<Utc>,
    /// The row's own version (expected_version, the events' aggregate version).
    pub revision: i64,
}

/// The quote settings (a singleton).
#[derive(Debug, Clone, PartialEq)]
pub struct QuoteSettings {
    pub discount_approval_threshold_percent: Decimal,
    pub default_tax_percent: Decimal,
    /// The seller's name at the head of a rendered quote; empty: none shown.
    pub company_name: String,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<Uuid>,
}

/// The first amount too large for a line: deals' amounts have at most 20 integer digits, and
/// an accepted quote's lines become a deal's.
fn largest_amount() -> Decimal {
    Decimal::from(10_u64.pow(19)) * Decimal::TEN
}

fn is_percent(value: Decimal) -> bool {
    (Decimal::ZERO..=Decimal::ONE_HUNDRED).contains(&value)
}

/// What the OpenAPI schema cannot say of a quote's lines and terms (a quantity above zero,
/// percentages within 0..=100, prices in the quote's currency, figures an amount can hold):
/// refusals for the data (FAILED_PRECONDITION, INCONSISTENT_FIELDS), every one at once.
/// `lines_field` names the lines as the request does; `terms_field` prefixes the terms'. Checked
/// before [`figures`], which then cannot overflow.
pub fn check_quote(
    lines_field: &str,
    terms_field: &str,
    lines: &[QuoteLine],
    terms: &QuoteTerms,
) -> Result<(), Vec<FieldViolation>> {
    let mut violations = Vec::new();
    let refuse = |violations: &mut Vec<FieldViolation>, field: String, text: String| {
        violations.push(FieldViolation::refusal(INCONSISTENT_FIELDS, field, text));
    };
    for (percent, name) in [
        (terms.discount_percent, "discount_percent"),
        (terms.tax_percent, "tax_percent"),
    ] {
        if !is_percent(percent) {
            refuse(
                &mut violations,
                format!("{terms_field}{name}"),
                "must be between 0 and 100".into(),
            );
        }
    }
    let mut total = Some(Decimal::ZERO);
    for (index, line) in lines.iter().enumerate() {
        let at = format!("{lines_field}[{index}]");
        if line.quantity <= Decimal::ZERO {
            refuse(
                &mut violations,
                format!("{at}.quantity"),
                "must be above zero".into(),
            );
        }
        if !is_percent(line.discount_percent) {
            refuse(
                &mut violations,
                format!("{at}.discount_percent"),
                "must be between 0 and 100".into(),
            );
        }
        if line.tax_percent.is_some_and(|tax| !is_percent(tax)) {
            refuse(
                &mut violations,
                format!("{at}.tax_percent"),
                "must be between 0 and 100".into(),
            );
        }
        if line.unit_price.currency != terms.currency {
            refuse(
                &mut violations,
                format!("{at}.unit_price.currency_code"),
                format!("must be the quote's currency, {}", terms.currency),
            );
        }
        let prices = [Some(&line.unit_price), line.list_price.as_ref()];
        let gross = prices.into_iter().flatten().map(|price| {
            line.quantity
                .checked_mul(price.amount)
                .filter(|gross| gross.abs() < largest_amount())
        });
        match gross.collect::<Option<Vec<_>>>() {
            Some(gross) => {
                total = total.and_then(|sum| sum.checked_add(gross[0]));
            }
            None => refuse(
                &mut violations,
                format!("{at}.quantity"),
                format!("× the unit price must be below {}", largest_amount()),
            ),
        }
    }
    if violations.is_empty() && total.is_none_or(|sum| sum >= largest_amount()) {
        refuse(
            &mut violations,
            lines_field.to_owned(),
            format!("add up to {} or more", largest_amount()),
        );
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

/// The deal's line items an accepted quote sets: each quote line's product, quantity and unit
/// price, with a discount that makes the deal line's total ([`LineItem::total`]) exactly the
/// quote line's discounted net — so the deal's amount (their sum) is the quote's amount before
/// tax to the cent. The discount is the line's and the quote's combined (1 − (1 − l)(1 − q))
/// when that rounds to the same cent, as it nearly always does; otherwise (the quote's figures
/// round twice, the deal's once) the exact share of the gross the discounted net leaves,
/// computed to Decimal's precision, which rounds back to it.
pub fn deal_line_items(quote_lines: &[QuoteLine], terms: &QuoteTerms) -> Vec<LineItem> {
    quote_lines
        .iter()
        .map(|line| {
            let target = line_figures(line, terms).discounted;
            let combined = line.discount_percent + terms.discount_percent
                - line.discount_percent * terms.discount_percent / Decimal::ONE_HUNDRED;
            let mut item = LineItem {
                product_code: line.product_code.clone(),
                product_name: line.product_name.clone(),
                quantity: line.quantity,
                unit_price: line.unit_price,
                discount_percent: combined.normalize(),
            };
            let gross = line.quantity * line.unit_price.amount;
            if item.total().amount != target && gross > Decimal::ZERO {
                item.discount_percent = (Decimal::ONE_HUNDRED
                    - target * Decimal::ONE_HUNDRED / gross)
                    .clamp(Decimal::ZERO, Decimal::ONE_HUNDRED);
            }
            item
        })
        .collect()
}

#[cfg(test)]
#[path = "quote_tests.rs"]
mod tests;
