//! A statement as a document the rep reads and keeps (RenderStatement, `text/html`): who, which
//! period, under which plan versions, every line with its deal, component, tier, rate and base,
//! and the totals. Every text from the records goes through the kit's HTML escape, so a deal
//! named `<b>` shows as written and never as markup. The same statement renders to the same
//! bytes.

use std::fmt::Write;

use crm_platform::text::escape_html as escape;
use crm_proto::crm::{common::v1::Money, compensation::v1 as pb};

pub const CONTENT_TYPE: &str = "text/html; charset=utf-8";

fn money(amount: Option<&Money>) -> String {
    amount.map_or_else(String::new, |money| {
        format!("{} {}", money.currency_code, money.amount)
    })
}

fn component(value: i32) -> &'static str {
    match pb::Component::try_from(value).unwrap_or(pb::Component::Unspecified) {
        pb::Component::Unspecified => "",
        pb::Component::BaseSalary => "Base salary",
        pb::Component::Commission => "Commission",
        pb::Component::CommissionEarned => "Commission earned (paid as collected)",
        pb::Component::CommissionReleased => "Commission released",
        pb::Component::Spiff => "SPIFF",
        pb::Component::CommissionCap => "Commission cap",
        pb::Component::Clawback => "Clawback",
        pb::Component::Expense => "Expense",
        pb::Component::ExpenseCap => "Expense cap",
        pb::Component::TeamPool => "Team pool",
        pb::Component::Draw => "Draw",
        pb::Component::DrawRecovery => "Draw recovery",
        pb::Component::Adjustment => "Adjustment",
    }
}

/// The document of `statement`.
pub fn render(statement: &pb::Statement) -> String {
    let period = statement.period.clone().unwrap_or_default();
    let status = match pb::StatementStatus::try_from(statement.status) {
        Ok(pb::StatementStatus::Closed) => "closed",
        _ => "open — may still change",
    };
    let title = format!("Statement {} — {}", period.label, statement.display_name);
    let mut html = String::new();
    // Writing to a String cannot fail.
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{}</title>\n<style>table{{border-collapse:collapse}}td,th{{border:1px solid #999;\
         padding:2px 6px}}td.n{{text-align:right}}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(&title),
        escape(&title)
    );
    let _ = writeln!(
        html,
        "<p>Period {} ({} to {}), {}.</p>",
        escape(&period.label),
        escape(&period.start_date),
        escape(&period.end_date),
        status
    );
    let _ = writeln!(html, "<h2>Plans</h2>\n<ul>");
    for part in &statement.parts {
        let _ = writeln!(
            html,
            "<li>{} version {}, {} to {} (before)</li>",
            escape(&part.plan_name),
            part.plan_version,
            escape(&part.from),
            escape(&part.until)
        );
    }
    let _ = writeln!(
        html,
        "</ul>\n<h2>Lines</h2>\n<table>\n<tr><th>Component</th><th>Deal</th><th>Plan version</th>\
         <th>Tier</th><th>Rate %</th><th>Base</th><th>Amount</th><th>Note</th></tr>"
    );
    for line in &statement.lines {
        let amount = money(line.amount.as_ref());
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}{}</td></tr>",
            component(line.component),
            escape(&line.deal_name),
            line.plan_version,
            if line.tier == 0 {
                String::new()
            } else {
                line.tier.to_string()
            },
            escape(&line.rate),
            escape(&line.base),
            if line.paid {
                escape(&amount)
            } else {
                format!("({})", escape(&amount))
            },
            escape(&line.note),
            if line.adjusts_period.is_empty() {
                String::new()
            } else {
                format!(" — late entry of {}", escape(&line.adjusts_period))
            }
        );
    }
    let _ = writeln!(html, "</table>\n<h2>Totals</h2>\n<table>");
    let mut row = |name: &str, value: String| {
        let _ = writeln!(
            html,
            "<tr><th>{name}</th><td class=\"n\">{}</td></tr>",
            escape(&value)
        );
    };
    row("Credited bookings", money(statement.credited.as_ref()));
    row("Quota", money(statement.quota.as_ref()));
    row(
        "Attainment",
        if statement.attainment_percent.is_empty() {
            String::new()
        } else {
            format!("{} %", statement.attainment_percent)
        },
    );
    row("Draw outstanding", money(statement.draw_balance.as_ref()));
    row("Total pay", money(statement.total.as_ref()));
    let _ = writeln!(
        html,
        "</table>\n<p>Amounts in parentheses are earned and paid as the customer pays; every \
         line is rounded once, half to even, to the currency's minor unit.</p>\n</body>\n</html>"
    );
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_records_texts_are_escaped_and_every_line_is_shown() {
        let statement = pb::Statement {
            display_name: "Ravi <Sr>".into(),
            period: Some(crm_proto::crm::forecasting::v1::FiscalPeriod {
                label: "FY2027-Q1".into(),
                start_date: "2026-10-01".into(),
                end_date: "2026-12-31".into(),
            }),
            status: pb::StatementStatus::Closed as i32,
            lines: vec![pb::StatementLine {
                component: pb::Component::Commission as i32,
                deal_name: "Contoso <b>robots</b>".into(),
                plan_version: 2,
                tier: 2,
                rate: "8".into(),
                base: "550000".into(),
                amount: Some(Money {
                    currency_code: "CNY".into(),
                    amount: "44000.00".into(),
                }),
                paid: true,
                ..Default::default()
            }],
            ..Default::default()
        };
        let html = render(&statement);
        assert!(html.contains("Contoso &lt;b&gt;robots&lt;/b&gt;"));
        assert!(html.contains("Ravi &lt;Sr&gt;"));
        assert!(html.contains("<td class=\"n\">CNY 44000.00</td>"));
        assert!(!html.contains("<b>robots"));
        assert_eq!(
            render(&statement),
            html,
            "the same statement, the same bytes"
        );
    }
}
