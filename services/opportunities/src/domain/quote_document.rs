//! A quote as an HTML document a customer reads (RenderQuote): the seller, the account, the
//! lines with their quantities, prices, discounts and tax, the totals and the validity. Every
//! text taken from the records goes through the kit's HTML escape, so a product named `<b>` shows as
//! written and never as markup.

use std::fmt::Write;

use crm_platform::text::escape_html as escape;
use rust_decimal::Decimal;

use super::quote::{Quote, QuoteStatus};

/// A percentage as people write it: "18", "12.5".
fn percent(value: Decimal) -> String {
    format!("{}%", value.normalize())
}

/// The document of `quote`, sold by `company` (empty: not named) to `account_name`.
pub fn render(quote: &Quote, company: &str, account_name: &str) -> String {
    let currency = quote.terms.currency;
    let money = |amount: Decimal| {
        let mut shown = amount;
        shown.rescale(currency.minor_units());
        format!("{currency} {shown}")
    };
    let title = format!("Quote {} version {}", quote.number, quote.quote_version);
    let mut html = String::new();
    // Writing to a String cannot fail.
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{}</title>\n</head>\n<body>\n",
        escape(&title)
    );
    if !company.trim().is_empty() {
        let _ = writeln!(html, "<header><h2>{}</h2></header>", escape(company));
    }
    let _ = writeln!(html, "<h1>{}</h1>", escape(&title));
    let _ = writeln!(html, "<p>For: {}</p>", escape(account_name));
    let validity = match quote.status {
        QuoteStatus::Draft | QuoteStatus::PendingApproval | QuoteStatus::Approved => {
            "draft, not yet issued".to_owned()
        }
        status => status.as_str().replace('_', " "),
    };
    let _ = writeln!(
        html,
        "<p>Valid until {} ({}).</p>",
        quote.valid_until,
        escape(&validity)
    );
    html.push_str(
        "<table>\n<thead><tr><th>Product</th><th>Quantity</th><th>Unit price</th>\
         <th>Discount</th><th>Net</th><th>Tax</th><th>Total</th></tr></thead>\n<tbody>\n",
    );
    for (line, figures) in quote.lines.iter().zip(&quote.figures.lines) {
        let tax = line.tax_percent.unwrap_or(quote.terms.tax_percent);
        let _ = writeln!(
            html,
            "<tr><td>{} — {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{} ({})</td><td>{}</td></tr>",
            escape(&line.product_code),
            escape(&line.product_name),
            line.quantity.normalize(),
            money(line.unit_price.amount),
            percent(line.discount_percent),
            money(figures.net),
            money(figures.tax),
            percent(tax),
            money(figures.total),
        );
    }
    html.push_str("</tbody>\n</table>\n<table>\n");
    let figures = &quote.figures;
    let discount_label = format!("Quote discount ({})", percent(quote.terms.discount_percent));
    let rows = [
        ("Subtotal", figures.subtotal),
        (discount_label.as_str(), -figures.quote_discount),
        ("Amount before tax", figures.amount_before_tax),
        ("Tax", figures.tax),
        ("Total", figures.total),
    ];
    for (label, amount) in rows {
        let _ = writeln!(
            html,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(label),
            money(amount)
        );
    }
    html.push_str("</table>\n");
    if !quote.notes.trim().is_empty() {
        let _ = writeln!(html, "<p>{}</p>", escape(&quote.notes));
    }
    html.push_str("</body>\n</html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_five_characters_html_gives_a_meaning_are_escaped_and_nothing_else() {
        assert_eq!(
            escape(r#"<script>alert("Tom's & Jerry's")</script> 北京"#),
            "&lt;script&gt;alert(&quot;Tom&#39;s &amp; Jerry&#39;s&quot;)&lt;/script&gt; 北京"
        );
        assert_eq!(escape("&amp;"), "&amp;amp;");
        assert_eq!(escape(""), "");
    }
}
