//! A deal's line items in the corporate currency, as the services that count by product read
//! them (forecasting's sales analysis, compensation's SPIFFs): each line's share of the deal's
//! corporate amount, apportioned by the lines' totals so that a deal's lines add up to its
//! corporate amount to the cent — the analysis by product, the SPIFFs and the bookings agree.

use crm_proto::crm::opportunities::v1::Opportunity;
use rust_decimal::Decimal;

use crate::{
    money::{Money, Sign},
    shares::apportion,
};

/// One line item of a deal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DealLine {
    pub product_code: String,
    pub product_name: String,
    /// The line's share of the deal's corporate amount; `None` when the deal has none.
    pub corporate_amount: Option<Decimal>,
}

/// The deal's lines with their shares of `corporate_amount` (the deal's, as read with the
/// deal). A line whose total cannot be read weighs nothing rather than setting the whole deal
/// event aside: the pipeline counts the deal all the same. When no line weighs anything (free
/// lines only), the amount is shared evenly.
pub fn lines_of(opportunity: &Opportunity, corporate_amount: Option<Money>) -> Vec<DealLine> {
    let weights: Vec<Decimal> = opportunity
        .line_items
        .iter()
        .map(|line| {
            line.total
                .as_ref()
                .and_then(|total| Money::parse("line_items.total", total, Sign::NonNegative).ok())
                .map_or(Decimal::ZERO, |total| total.amount)
        })
        .collect();
    let shares = corporate_amount.and_then(|money| {
        let places = money.currency.minor_units().max(money.amount.scale());
        apportion(money.amount, &weights, places).or_else(|| {
            let even = vec![Decimal::ONE; weights.len()];
            apportion(money.amount, &even, places)
        })
    });
    opportunity
        .line_items
        .iter()
        .enumerate()
        .map(|(index, line)| DealLine {
            product_code: line.product_code.trim().to_owned(),
            product_name: line.product_name.trim().to_owned(),
            corporate_amount: shares
                .as_ref()
                .and_then(|shares| shares.get(index).copied()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::money::CurrencyCode;
    use crm_proto::crm::{common::v1::Money as MoneyMessage, opportunities::v1::LineItem};

    use super::*;

    fn line(code: &str, total: Option<&str>) -> LineItem {
        LineItem {
            product_code: code.into(),
            product_name: format!("{code} name"),
            total: total.map(|amount| MoneyMessage {
                currency_code: "USD".into(),
                amount: amount.into(),
            }),
            ..Default::default()
        }
    }

    fn cny(amount: &str) -> Option<Money> {
        Some(Money {
            currency: CurrencyCode::CNY,
            amount: amount.parse().unwrap(),
        })
    }

    fn shares(lines: &[DealLine]) -> Vec<Option<String>> {
        lines
            .iter()
            .map(|line| line.corporate_amount.map(|amount| amount.to_string()))
            .collect()
    }

    #[test]
    fn each_line_gets_its_share_of_the_corporate_amount_to_the_cent() {
        let opportunity = Opportunity {
            // USD 100 in three lines of 33.33, 33.33 and 33.34, converted at 7.1: CNY 710.00.
            line_items: vec![
                line("ROBOT", Some("33.33")),
                line("ARM", Some("33.33")),
                line("SERVICE", Some("33.34")),
            ],
            ..Default::default()
        };
        let lines = lines_of(&opportunity, cny("710.00"));
        // 236.643, 236.643, 236.714: 236.64 × 2 + 236.71 = 709.99, the missing cent to the
        // largest remainder (.4 of a cent).
        assert_eq!(
            shares(&lines),
            [
                Some("236.64".into()),
                Some("236.64".into()),
                Some("236.72".into())
            ]
        );
        assert_eq!(lines[0].product_code, "ROBOT");
        assert_eq!(lines[2].product_name, "SERVICE name");
    }

    #[test]
    fn without_a_corporate_amount_the_lines_have_no_share_and_free_lines_share_evenly() {
        let opportunity = Opportunity {
            line_items: vec![line("A", Some("0")), line("B", None)],
            ..Default::default()
        };
        assert_eq!(shares(&lines_of(&opportunity, None)), [None, None]);
        assert_eq!(
            shares(&lines_of(&opportunity, cny("0.01"))),
            [Some("0.01".into()), Some("0.00".into())]
        );
        assert!(lines_of(&Opportunity::default(), cny("5")).is_empty());
    }
}
