//! Money on the wire (`crm.common.v1.Money`: currency code + decimal string) and in code
//! (`rust_decimal::Decimal`), never a float. Every amount a request carries is read here, by
//! [`Money::parse`], so every service refuses the same things with the same words: a currency
//! that is not an active ISO 4217 code, an amount that is not a plain decimal, more fraction
//! digits than the currency has, and — where the field says so — a negative amount. Amounts
//! are converted into the organisation's corporate currency here too ([`Money::converted`],
//! with the rates [`crate::org::OrgDirectory::to_corporate`] finds).

use std::{cmp::Ordering, fmt, str::FromStr};

use chrono::NaiveDate;
use crm_proto::crm::common::v1::Money as MoneyMessage;
use iso_currency::Currency;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::FieldViolation;

/// An amount in one currency, with at most the currency's minor-unit digits when it came
/// through [`Money::parse`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Money {
    pub currency: CurrencyCode,
    pub amount: Decimal,
}

/// An active ISO 4217 currency: a code in current use as money, from `iso_currency`'s table.
/// Funds (`BOV`, `CLF` …), the special codes (`XXX` no currency, `XTS` testing, `XAU` gold,
/// `XDR` …) and superseded currencies (`HRK` …) are not money a deal is priced in, and are
/// refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CurrencyCode(Currency);

impl CurrencyCode {
    /// The renminbi, the currency the demo company and its defaults are in.
    pub const CNY: CurrencyCode = CurrencyCode(Currency::CNY);

    /// The three-letter code, "CNY".
    pub fn as_str(&self) -> &'static str {
        self.0.code()
    }

    /// How many fraction digits an amount in this currency may have: CNY 2, JPY 0, KWD 3.
    pub fn minor_units(&self) -> u32 {
        // Every active currency in the table has an exponent; only special codes lack one.
        self.0.exponent().map_or(0, u32::from)
    }

    /// Every code [`FromStr`] accepts, in code order: the table's active currencies, found by
    /// asking it about every three upper-case letters (the OpenAPI document lists them).
    pub fn active() -> Vec<CurrencyCode> {
        let letters = || b'A'..=b'Z';
        letters()
            .flat_map(|a| letters().flat_map(move |b| letters().map(move |c| [a, b, c])))
            .filter_map(|code| std::str::from_utf8(&code).ok()?.parse().ok())
            .collect()
    }
}

impl Ord for CurrencyCode {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for CurrencyCode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl FromStr for CurrencyCode {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let active = Currency::from_code(value).filter(|currency| {
            !currency.is_fund()
                && !currency.is_special()
                && currency.is_superseded().is_none()
                && currency.exponent().is_some()
        });
        match active {
            Some(currency) => Ok(Self(currency)),
            None => Err(format!(
                "{value:?} is not an active ISO 4217 currency code (upper case, such as \"CNY\" or \"EUR\")"
            )),
        }
    }
}

impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which amounts a money field takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sign {
    /// Any amount: a balance, a difference.
    Any,
    /// Zero or more: a cost, a deal's amount, a threshold.
    NonNegative,
}

/// What a caller is told about a negative amount where none is allowed.
pub const NEGATIVE_MESSAGE: &str = "must not be negative";

impl Money {
    /// Reads the money field `field` of a request. A violation names the part at fault,
    /// `<field>.currency_code` or `<field>.amount`.
    pub fn parse(field: &str, message: &MoneyMessage, sign: Sign) -> Result<Self, FieldViolation> {
        let currency: CurrencyCode = message
            .currency_code
            .trim()
            .parse()
            .map_err(|error| FieldViolation::new(format!("{field}.currency_code"), error))?;
        let amount_field = format!("{field}.amount");
        let text = message.amount.trim();
        let refuse = |description: String| FieldViolation::new(amount_field.clone(), description);
        let amount = plain_decimal(text).map_err(refuse)?;
        let minor_units = currency.minor_units();
        if amount.scale() > minor_units {
            return Err(refuse(format!(
                "{text:?} has more fraction digits than {currency} has ({minor_units})"
            )));
        }
        let money = Self { currency, amount };
        if sign == Sign::NonNegative {
            money.require_non_negative(field)?;
        }
        Ok(money)
    }

    /// A money field that must not be negative (see [`Money::parse`]).
    pub fn non_negative(field: &str, message: &MoneyMessage) -> Result<Self, FieldViolation> {
        Self::parse(field, message, Sign::NonNegative)
    }

    /// The rule of [`Sign::NonNegative`], for a domain type that holds money it was given
    /// (the violation names `<field>.amount`).
    pub fn require_non_negative(&self, field: &str) -> Result<(), FieldViolation> {
        if self.amount.is_sign_negative() && !self.amount.is_zero() {
            return Err(FieldViolation::new(
                format!("{field}.amount"),
                NEGATIVE_MESSAGE,
            ));
        }
        Ok(())
    }

    /// Zero in `currency`.
    pub fn zero(currency: CurrencyCode) -> Self {
        Self {
            currency,
            amount: Decimal::ZERO,
        }
    }

    pub fn to_message(&self) -> MoneyMessage {
        MoneyMessage {
            currency_code: self.currency.to_string(),
            amount: self.amount.normalize().to_string(),
        }
    }

    /// This amount in `into` at `rate` units of `into` per unit of this currency: the product
    /// rounded to `into`'s minor units, half away from zero (commercial rounding: 0.005 →
    /// 0.01, -0.005 → -0.01), at exactly that scale. `None` only when the product is beyond
    /// what a `Decimal` holds (about 7.9 × 10^28).
    pub fn converted(&self, rate: Decimal, into: CurrencyCode) -> Option<Money> {
        let minor_units = into.minor_units();
        // 166200 is shown as 166200.00 in EUR; never a loss, the digits beyond are zero.
        let amount = fixed(self.amount.checked_mul(rate)?, minor_units);
        Some(Money {
            currency: into,
            amount,
        })
    }
}

/// An amount in the organisation's corporate currency, with the rate it was converted at and
/// the date that rate applies from: what a deal's events carry beside the deal's own amount, so
/// that no consumer needs exchange rates of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CorporateAmount {
    pub amount: Money,
    /// Units of the corporate currency per unit of the amount's own (1 for the same currency).
    pub rate: Decimal,
    /// The day the rate applies from (the conversion day itself for the same currency).
    pub rate_date: NaiveDate,
}

/// Reads a plain decimal, "-12.5" or "1150000.00" (surrounding white space ignored): no
/// exponent, no grouping. `Err` is the field's description of what is wrong.
pub fn plain_decimal(text: &str) -> Result<Decimal, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if text.contains(['e', 'E']) {
        return Err(format!(
            "{text:?} must be a plain decimal, not scientific notation"
        ));
    }
    Decimal::from_str_exact(text).map_err(|_| format!("{text:?} is not a decimal number"))
}

/// A request's decimal field (`TEXT_FORMAT_DECIMAL`: an optional minus, at most 20 integer and
/// 10 fraction digits). A value of that form that a `Decimal` cannot hold exactly (more than 28
/// significant digits) is a refusal for the data (FAILED_PRECONDITION, `INCONSISTENT_FIELDS`):
/// the schema calls it valid. Anything else that does not parse is invalid input.
pub fn parse_decimal(field: &str, text: &str) -> Result<Decimal, FieldViolation> {
    let text = text.trim();
    if let Ok(value) = Decimal::from_str_exact(text) {
        return Ok(value);
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (integer, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    let of_form = |part: &str, most: usize| {
        !part.is_empty() && part.len() <= most && part.bytes().all(|byte| byte.is_ascii_digit())
    };
    if of_form(integer, 20) && of_form(fraction, 10) {
        Err(FieldViolation::refusal(
            crate::error::reasons::INCONSISTENT_FIELDS,
            field,
            "has more significant digits than a figure can hold (28)",
        ))
    } else {
        Err(FieldViolation::new(field, "is not a decimal number"))
    }
}

/// The most fraction digits an exchange rate has: enough for currencies of very different unit
/// values (a rupiah is worth about 0.00002 Kuwaiti dinar).
pub const RATE_FRACTION_DIGITS: u32 = 10;

/// Reads an exchange rate, how many units of the corporate currency one unit of another
/// currency is worth: a positive [`plain_decimal`] with at most [`RATE_FRACTION_DIGITS`]
/// fraction digits (trailing zeros do not count). Returned without trailing zeros.
pub fn parse_exchange_rate(text: &str) -> Result<Decimal, String> {
    let rate = plain_decimal(text)?.normalize();
    if rate <= Decimal::ZERO {
        return Err("must be more than 0".to_owned());
    }
    if rate.scale() > RATE_FRACTION_DIGITS {
        return Err(format!(
            "{:?} has more than {RATE_FRACTION_DIGITS} fraction digits",
            text.trim()
        ));
    }
    Ok(rate)
}

/// `value` rounded half away from zero to at most `places` decimals — commercial rounding, as
/// invoices and reports round: 0.005 → 0.01, −0.005 → −0.01. Every figure the services compute
/// (amounts, rates, ratios) is rounded by this or [`fixed`], so they agree to the last digit —
/// but quote and deal line totals, which are [`round_half_even`].
pub fn round_commercial(value: Decimal, places: u32) -> Decimal {
    value.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
}

/// `value` rounded half to even to at most `places` decimals — banker's rounding: 0.125 → 0.12,
/// 0.135 → 0.14, −0.125 → −0.12. The rule of quote and deal line totals
/// (docs/adr/0014-deal-desk-in-opportunities.md): over many lines, ties round up as often as
/// down, so a sum of rounded lines drifts from the exact sum less than under
/// [`round_commercial`], which stays the rule of conversions and reports.
pub fn round_half_even(value: Decimal, places: u32) -> Decimal {
    value.round_dp_with_strategy(places, RoundingStrategy::MidpointNearestEven)
}

/// [`round_commercial`] shown with exactly `places` decimals (0.5 → "0.5000" at 4), for figures
/// whose wire form has a fixed number of decimals.
pub fn fixed(value: Decimal, places: u32) -> Decimal {
    let mut rounded = round_commercial(value, places);
    rounded.rescale(places);
    rounded
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_decimal_of_the_schemas_form_too_precise_to_hold_is_a_refusal() {
        assert_eq!(parse_decimal("q", " 2.5 ").unwrap(), Decimal::new(25, 1));
        let too_precise = parse_decimal("q", "-80544003180204501902.5537093368").unwrap_err();
        assert_eq!(too_precise.field, "q");
        assert_eq!(
            too_precise.reason,
            Some(crate::error::reasons::INCONSISTENT_FIELDS)
        );
        for malformed in ["1e5", "7,25", "", "-", "1.2.3"] {
            let violation = parse_decimal("q", malformed).unwrap_err();
            assert_eq!(violation.reason, None, "{malformed:?}");
            assert_eq!(violation.description, "is not a decimal number");
        }
    }

    #[test]
    fn figures_round_half_away_from_zero_and_fixed_keeps_its_decimals() {
        let value = |text: &str| text.parse::<Decimal>().unwrap();
        assert_eq!(round_commercial(value("0.005"), 2), value("0.01"));
        assert_eq!(round_commercial(value("-0.005"), 2), value("-0.01"));
        assert_eq!(round_commercial(value("2.5"), 0), value("3"));
        assert_eq!(round_commercial(value("0.5"), 4).to_string(), "0.5");
        assert_eq!(fixed(value("0.5"), 4).to_string(), "0.5000");
        assert_eq!(fixed(value("0.66665"), 4).to_string(), "0.6667");
        assert_eq!(fixed(value("7"), 2).to_string(), "7.00");
    }

    #[test]
    fn line_totals_round_half_to_even() {
        let value = |text: &str| text.parse::<Decimal>().unwrap();
        assert_eq!(round_half_even(value("0.125"), 2), value("0.12"));
        assert_eq!(round_half_even(value("0.135"), 2), value("0.14"));
        assert_eq!(round_half_even(value("-0.125"), 2), value("-0.12"));
        assert_eq!(round_half_even(value("0.1251"), 2), value("0.13"));
        assert_eq!(round_half_even(value("2.5"), 0), value("2"));
        assert_eq!(round_half_even(value("3.5"), 0), value("4"));
        assert_eq!(round_half_even(value("0.5"), 4).to_string(), "0.5");
    }

    fn message(currency: &str, amount: &str) -> MoneyMessage {
        MoneyMessage {
            currency_code: currency.into(),
            amount: amount.into(),
        }
    }

    fn parse(currency: &str, amount: &str) -> Result<Money, FieldViolation> {
        Money::parse("price", &message(currency, amount), Sign::Any)
    }

    /// Every code the kit accepts, from an exhaustive walk over AAA..ZZZ.
    static ACCEPTED_CODES: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        let letters = b'A'..=b'Z';
        letters
            .clone()
            .flat_map(|a| {
                letters.clone().flat_map(move |b| {
                    (b'A'..=b'Z').map(move |c| String::from_utf8(vec![a, b, c]).unwrap())
                })
            })
            .filter(|code| code.parse::<CurrencyCode>().is_ok())
            .collect()
    });

    #[test]
    fn the_active_codes_are_the_accepted_ones_in_order() {
        let active: Vec<String> = CurrencyCode::active()
            .iter()
            .map(|code| code.as_str().to_owned())
            .collect();
        assert_eq!(active, *ACCEPTED_CODES);
        assert!(active.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(active.iter().any(|code| code == "CNY"));
    }

    #[test]
    fn parses_exact_decimals() {
        let money = parse("CNY", "1150000.00").unwrap();
        assert_eq!(money.amount, Decimal::new(115_000_000, 2));
        assert_eq!(money.currency.as_str(), "CNY");
        assert_eq!(money.currency, CurrencyCode::CNY);
    }

    #[test]
    fn rejects_what_is_not_money_naming_the_part_at_fault() {
        for (currency, amount, field) in [
            ("cny", "1", "price.currency_code"),
            ("C", "1", "price.currency_code"),
            ("", "1", "price.currency_code"),
            ("CNY", "1e6", "price.amount"),
            ("CNY", "0.001", "price.amount"),
            ("CNY", "12,5", "price.amount"),
            ("CNY", "", "price.amount"),
            ("CNY", "NaN", "price.amount"),
        ] {
            let violation = parse(currency, amount).unwrap_err();
            assert_eq!(violation.field, field, "{currency} {amount}");
        }
    }

    #[test]
    fn only_active_currencies_are_money() {
        for code in [
            "CNY", "EUR", "USD", "JPY", "KWD", "HKD", "XAF", "XOF", "XCD",
        ] {
            assert!(code.parse::<CurrencyCode>().is_ok(), "{code}");
        }
        // No currency, testing, precious metals, drawing rights, funds, superseded.
        for code in [
            "XXX", "XTS", "XAU", "XAG", "XPT", "XDR", "BOV", "CLF", "USN", "HRK",
        ] {
            let error = code.parse::<CurrencyCode>().unwrap_err();
            assert!(error.contains("active ISO 4217"), "{code}: {error}");
        }
    }

    #[test]
    fn an_amount_has_at_most_the_minor_units_of_its_currency() {
        assert_eq!(CurrencyCode::CNY.minor_units(), 2);
        assert_eq!("JPY".parse::<CurrencyCode>().unwrap().minor_units(), 0);
        assert_eq!("KWD".parse::<CurrencyCode>().unwrap().minor_units(), 3);
        assert!(parse("CNY", "0.01").is_ok());
        assert!(parse("CNY", "0.015").is_err());
        assert!(parse("JPY", "1500").is_ok());
        let yen = parse("JPY", "1500.5").unwrap_err();
        assert_eq!(yen.field, "price.amount");
        assert!(
            yen.description.contains("JPY has (0)"),
            "{}",
            yen.description
        );
        assert!(parse("KWD", "1.125").is_ok());
        assert!(parse("KWD", "1.1255").is_err());
    }

    #[test]
    fn a_non_negative_field_refuses_a_negative_amount_and_takes_zero() {
        let refused = Money::non_negative("opportunity_amount", &message("CNY", "-5")).unwrap_err();
        assert_eq!(
            refused,
            FieldViolation::new("opportunity_amount.amount", NEGATIVE_MESSAGE)
        );
        assert!(Money::non_negative("cost", &message("CNY", "0")).is_ok());
        assert!(Money::non_negative("cost", &message("CNY", "-0.00")).is_ok());
        assert!(Money::parse("balance", &message("CNY", "-5"), Sign::Any).is_ok());
    }

    #[test]
    fn every_accepted_code_round_trips_and_has_minor_units() {
        let codes = &*ACCEPTED_CODES;
        assert!(codes.len() > 140, "only {} codes", codes.len());
        for code in codes {
            let currency: CurrencyCode = code.parse().unwrap();
            assert_eq!(currency.as_str(), code);
            assert_eq!(&currency.to_string(), code);
            assert!(currency.minor_units() <= 3, "{code}");
        }
    }

    fn money(currency: &str, amount: &str) -> Money {
        parse(currency, amount).unwrap()
    }

    fn rate(text: &str) -> Decimal {
        parse_exchange_rate(text).unwrap()
    }

    fn code(text: &str) -> CurrencyCode {
        text.parse().unwrap()
    }

    #[test]
    fn a_conversion_is_the_product_in_the_target_currencys_minor_units() {
        // 1,200,000.00 × 0.1385 = 166,200.000000 exactly.
        let euros = money("CNY", "1200000.00")
            .converted(rate("0.1385"), code("EUR"))
            .unwrap();
        assert_eq!(euros.currency, code("EUR"));
        assert_eq!(euros.amount.to_string(), "166200.00");
        // 123,457 JPY × 0.0478 = 5,901.2446 CNY → 5,901.24 (yen have no minor units, yuan 2).
        let yuan = money("JPY", "123457")
            .converted(rate("0.0478"), CurrencyCode::CNY)
            .unwrap();
        assert_eq!(yuan.amount.to_string(), "5901.24");
        // 1,000.00 CNY × 0.0425 = 42.5 KWD, shown with the dinar's 3 fraction digits.
        let dinars = money("CNY", "1000.00")
            .converted(rate("0.0425"), code("KWD"))
            .unwrap();
        assert_eq!(dinars.amount.to_string(), "42.500");
        // 10.99 EUR × 162.3 = 1,783.677 JPY → 1,784.
        let yen = money("EUR", "10.99")
            .converted(rate("162.3"), code("JPY"))
            .unwrap();
        assert_eq!(yen.amount.to_string(), "1784");
    }

    #[test]
    fn a_midpoint_is_rounded_away_from_zero() {
        let cases = [
            // 0.01 × 0.5 = 0.005 → 0.01, not the banker's 0.00.
            ("CNY", "0.01", "0.5", "CNY", "0.01"),
            ("CNY", "-0.01", "0.5", "CNY", "-0.01"),
            // 0.05 × 0.5 = 0.025 → 0.03 (half to even would give 0.02).
            ("CNY", "0.05", "0.5", "CNY", "0.03"),
            ("CNY", "0.0049", "1", "CNY", "0.00"),
            // 3 JPY × 0.5 = 1.5 → 2; 5 × 0.5 = 2.5 → 3.
            ("JPY", "3", "0.5", "JPY", "2"),
            ("JPY", "5", "0.5", "JPY", "3"),
            ("JPY", "-5", "0.5", "JPY", "-3"),
            // 1 CNY × 0.0425005 = 0.0425005 KWD → 0.043; × 0.0424999 → 0.042.
            ("CNY", "1", "0.0425005", "KWD", "0.043"),
            ("CNY", "1", "0.0424999", "KWD", "0.042"),
            // 0.0005 KWD at rate 1 into itself: the dinar's midpoint.
            ("KWD", "0.0005", "1", "KWD", "0.001"),
        ];
        for (from, amount, at, into, expected) in cases {
            let from_money = Money {
                currency: code(from),
                amount: Decimal::from_str_exact(amount).unwrap(),
            };
            let converted = from_money.converted(rate(at), code(into)).unwrap();
            assert_eq!(
                converted.amount.to_string(),
                expected,
                "{amount} {from} at {at} into {into}"
            );
        }
    }

    #[test]
    fn a_product_beyond_a_decimal_is_no_conversion() {
        let huge = Money {
            currency: CurrencyCode::CNY,
            amount: Decimal::MAX,
        };
        assert_eq!(huge.converted(rate("2"), code("EUR")), None);
    }

    #[test]
    fn an_exchange_rate_is_a_positive_decimal_of_at_most_ten_fraction_digits() {
        assert_eq!(rate("0.1385"), Decimal::new(1385, 4));
        assert_eq!(rate(" 7.2500 ").to_string(), "7.25");
        assert_eq!(rate("0.0000193001"), Decimal::new(193_001, 10));
        // Trailing zeros are not precision.
        assert_eq!(rate("0.12345678900").to_string(), "0.123456789");
        for (text, expected) in [
            ("0", "must be more than 0"),
            ("-0.1385", "must be more than 0"),
            ("0.00000000000", "must be more than 0"),
            ("0.12345678901", "more than 10 fraction digits"),
            ("1e-3", "not scientific notation"),
            ("", "must not be empty"),
            ("7,25", "is not a decimal number"),
        ] {
            let refused = parse_exchange_rate(text).unwrap_err();
            assert!(refused.contains(expected), "{text:?}: {refused}");
        }
    }

    proptest! {
        #[test]
        fn a_conversion_into_the_same_currency_at_rate_one_is_the_identity(
            index in any::<prop::sample::Index>(),
            units in any::<i64>(),
            scale in 0u32..=3,
        ) {
            let codes = &*ACCEPTED_CODES;
            let currency: CurrencyCode = codes[index.index(codes.len())].parse().unwrap();
            let amount = Decimal::new(units, scale.min(currency.minor_units()));
            let money = Money { currency, amount };
            prop_assert_eq!(money.converted(Decimal::ONE, currency).unwrap().amount, amount);
        }

        #[test]
        fn a_converted_amount_has_at_most_the_target_currencys_minor_units_and_is_near_the_product(
            from in any::<prop::sample::Index>(),
            into in any::<prop::sample::Index>(),
            units in -1_000_000_000_000_000i64..1_000_000_000_000_000,
            rate_units in 1i64..1_000_000_000_000,
            rate_scale in 0u32..=RATE_FRACTION_DIGITS,
        ) {
            let codes = &*ACCEPTED_CODES;
            let from: CurrencyCode = codes[from.index(codes.len())].parse().unwrap();
            let into: CurrencyCode = codes[into.index(codes.len())].parse().unwrap();
            let money = Money { currency: from, amount: Decimal::new(units, from.minor_units()) };
            let rate = Decimal::new(rate_units, rate_scale);
            let converted = money.converted(rate, into).unwrap();
            prop_assert_eq!(converted.currency, into);
            prop_assert!(converted.amount.scale() <= into.minor_units());
            // Off the exact product by at most half a minor unit.
            let half_unit = Decimal::new(5, into.minor_units() + 1);
            prop_assert!((converted.amount - money.amount * rate).abs() <= half_unit);
        }

        #[test]
        fn an_amount_within_the_minor_units_round_trips(
            index in any::<prop::sample::Index>(),
            units in any::<i64>(),
            scale in 0u32..=3,
        ) {
            let codes = &*ACCEPTED_CODES;
            let currency: CurrencyCode = codes[index.index(codes.len())].parse().unwrap();
            let amount = Decimal::new(units, scale);
            let money = Money { currency, amount };
            let parsed = Money::parse("price", &money.to_message(), Sign::Any);
            if scale <= currency.minor_units() {
                let back = parsed.unwrap();
                prop_assert_eq!(back.amount, amount);
                prop_assert_eq!(back.currency, currency);
            }
            if let Ok(back) = Money::parse("price", &money.to_message(), Sign::Any) {
                prop_assert!(back.amount.scale() <= currency.minor_units());
            }
        }

        #[test]
        fn a_non_negative_field_takes_exactly_the_amounts_not_below_zero(units in any::<i64>()) {
            let amount = Decimal::new(units, 2);
            let parsed = Money::non_negative("cost", &message("CNY", &amount.to_string()));
            prop_assert_eq!(parsed.is_ok(), units >= 0);
        }
    }
}
