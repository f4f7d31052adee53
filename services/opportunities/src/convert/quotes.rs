//! Quotes, domain → wire: what QuoteService returns and the quote events carry.

use crm_platform::{
    money::{CurrencyCode, Money},
    time::to_timestamp,
};
use crm_proto::crm::opportunities::v1 as pb;
use rust_decimal::Decimal;

use crate::domain::quote::{Decision, Quote, QuoteSettings, QuoteStatus};

pub(crate) fn status(status: QuoteStatus) -> pb::QuoteStatus {
    match status {
        QuoteStatus::Draft => pb::QuoteStatus::Draft,
        QuoteStatus::PendingApproval => pb::QuoteStatus::PendingApproval,
        QuoteStatus::Approved => pb::QuoteStatus::Approved,
        QuoteStatus::Rejected => pb::QuoteStatus::Rejected,
        QuoteStatus::Issued => pb::QuoteStatus::Issued,
        QuoteStatus::Accepted => pb::QuoteStatus::Accepted,
        QuoteStatus::Declined => pb::QuoteStatus::Declined,
        QuoteStatus::Superseded => pb::QuoteStatus::Superseded,
    }
}

fn money(currency: CurrencyCode, amount: Decimal) -> Option<crm_proto::crm::common::v1::Money> {
    Some(Money { currency, amount }.to_message())
}

pub(crate) fn quote(quote: &Quote) -> pb::Quote {
    let currency = quote.terms.currency;
    let at = |amount: Decimal| money(currency, amount);
    let lines = quote
        .lines
        .iter()
        .zip(&quote.figures.lines)
        .map(|(line, figures)| pb::QuoteLine {
            product_code: line.product_code.clone(),
            product_name: line.product_name.clone(),
            quantity: line.quantity.normalize().to_string(),
            list_price: line.list_price.map(|price| price.to_message()),
            unit_price: Some(line.unit_price.to_message()),
            discount_percent: line.discount_percent.normalize().to_string(),
            tax_percent: line
                .tax_percent
                .map(|tax| tax.normalize().to_string())
                .unwrap_or_default(),
            list_amount: at(figures.list_amount),
            net: at(figures.net),
            discounted: at(figures.discounted),
            tax: at(figures.tax),
            total: at(figures.total),
        })
        .collect();
    let figures = &quote.figures;
    let approval = quote.approval.as_ref().map(|approval| {
        let decision = approval.decision;
        pb::QuoteApproval {
            submitted_by: approval.submitted_by.to_string(),
            submitted_at: Some(to_timestamp(approval.submitted_at)),
            threshold_percent: approval.threshold_percent.normalize().to_string(),
            required: approval.required,
            decision: match decision {
                None => pb::QuoteDiscountDecision::Unspecified,
                Some((Decision::Approved, _, _)) => pb::QuoteDiscountDecision::Approved,
                Some((Decision::Rejected, _, _)) => pb::QuoteDiscountDecision::Rejected,
            }
            .into(),
            decided_by: decision
                .map(|(_, by, _)| by.to_string())
                .unwrap_or_default(),
            decided_at: decision.map(|(_, _, at)| to_timestamp(at)),
            note: approval.note.clone(),
        }
    });
    pb::Quote {
        id: quote.id.to_string(),
        opportunity_id: quote.opportunity_id.to_string(),
        account_id: quote
            .account_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        owner_id: quote.owner_id.to_string(),
        owner_team_path: quote.owner_team_path.to_string(),
        number: quote.number.clone(),
        quote_version: quote.quote_version.unsigned_abs(),
        status: status(quote.status).into(),
        currency_code: currency.to_string(),
        price_list_id: quote
            .price_list_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        pricing_date: quote.pricing_date.to_string(),
        discount_percent: quote.terms.discount_percent.normalize().to_string(),
        tax_percent: quote.terms.tax_percent.normalize().to_string(),
        lines,
        figures: Some(pb::QuoteFigures {
            list_total: at(figures.list_total),
            subtotal: at(figures.subtotal),
            quote_discount: at(figures.quote_discount),
            amount_before_tax: at(figures.amount_before_tax),
            tax: at(figures.tax),
            total: at(figures.total),
            discount_percent: figures.discount_percent.to_string(),
        }),
        valid_until: quote.valid_until.to_string(),
        notes: quote.notes.clone(),
        approval,
        created_by: quote.created_by.to_string(),
        created_at: Some(to_timestamp(quote.created_at)),
        updated_by: quote.updated_by.to_string(),
        updated_at: Some(to_timestamp(quote.updated_at)),
        version: quote.revision.unsigned_abs(),
        revised_from: quote
            .revised_from
            .map(|id| id.to_string())
            .unwrap_or_default(),
        decline_reason: quote.decline_reason.clone(),
    }
}

pub(crate) fn settings(settings: &QuoteSettings) -> pb::QuoteSettings {
    pb::QuoteSettings {
        discount_approval_threshold_percent: settings
            .discount_approval_threshold_percent
            .normalize()
            .to_string(),
        default_tax_percent: settings.default_tax_percent.normalize().to_string(),
        version: settings.version.unsigned_abs(),
        updated_at: Some(to_timestamp(settings.updated_at)),
        updated_by: settings
            .updated_by
            .map(|id| id.to_string())
            .unwrap_or_default(),
        company_name: settings.company_name.clone(),
    }
}
