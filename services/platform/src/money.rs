//! Money on the wire (`crm.common.v1.Money`: currency code + decimal string) and in code
//! (`rust_decimal::Decimal`), never a float.

use std::{fmt, str::FromStr};

use crm_proto::crm::common::v1::Money as MoneyMessage;
use rust_decimal::Decimal;

/// An amount in one currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Money {
    pub currency: CurrencyCode,
    pub amount: Decimal,
}

/// An ISO 4217 code: three upper-case ASCII letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CurrencyCode([u8; 3]);

impl CurrencyCode {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("validated ASCII")
    }
}

impl FromStr for CurrencyCode {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let bytes = value.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(format!(
                "currency code {value:?} must be three upper-case letters (ISO 4217)"
            ));
        }
        Ok(Self([bytes[0], bytes[1], bytes[2]]))
    }
}

impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Most fraction digits an amount may carry on the wire.
pub const MAX_SCALE: u32 = 4;

impl Money {
    /// Parses a wire amount; the error text is meant for a field violation.
    pub fn from_message(message: &MoneyMessage) -> Result<Self, String> {
        let currency = message.currency_code.parse()?;
        let text = message.amount.trim();
        if text.is_empty() {
            return Err("amount must not be empty".to_owned());
        }
        if text.contains(['e', 'E']) {
            return Err(format!(
                "amount {text:?} must be a plain decimal, not scientific notation"
            ));
        }
        let amount = Decimal::from_str_exact(text)
            .map_err(|_| format!("amount {text:?} is not a decimal number"))?;
        if amount.scale() > MAX_SCALE {
            return Err(format!(
                "amount {text:?} has more than {MAX_SCALE} fraction digits"
            ));
        }
        Ok(Self { currency, amount })
    }

    pub fn to_message(&self) -> MoneyMessage {
        MoneyMessage {
            currency_code: self.currency.to_string(),
            amount: self.amount.normalize().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn message(currency: &str, amount: &str) -> MoneyMessage {
        MoneyMessage {
            currency_code: currency.into(),
            amount: amount.into(),
        }
    }

    #[test]
    fn parses_exact_decimals() {
        let money = Money::from_message(&message("CNY", "1150000.00")).unwrap();
        assert_eq!(money.amount, Decimal::new(115_000_000, 2));
        assert_eq!(money.currency.as_str(), "CNY");
    }

    #[test]
    fn rejects_what_is_not_money() {
        assert!(Money::from_message(&message("cny", "1")).is_err());
        assert!(Money::from_message(&message("CNY", "1e6")).is_err());
        assert!(Money::from_message(&message("CNY", "0.00001")).is_err());
        assert!(Money::from_message(&message("CNY", "12,5")).is_err());
        assert!(Money::from_message(&message("CNY", "")).is_err());
    }

    proptest! {
        #[test]
        fn wire_round_trip_keeps_the_value(units in any::<i64>(), scale in 0u32..=4) {
            let money = Money { currency: "EUR".parse().unwrap(), amount: Decimal::new(units, scale) };
            let back = Money::from_message(&money.to_message()).unwrap();
            prop_assert_eq!(back.amount, money.amount);
        }
    }
}
