//! The organisation's settings: what holds for the whole company rather than a team or a user.

use chrono::{DateTime, Utc};
use crm_platform::{
    fiscal::{FiscalCalendar, FiscalYearNaming},
    money::CurrencyCode,
};
use uuid::Uuid;

/// The one row of organisation settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgSettings {
    /// The aggregate id its events carry.
    pub id: Uuid,
    /// Digits without "+" ("86"): the country calling code national phone numbers are read
    /// with in every service; `None`: none, such numbers are refused.
    pub default_calling_code: Option<String>,
    /// The currency the organisation reports in: every deal's amount is also given in it,
    /// converted with the exchange rates into it. `None` until an admin sets it; once set it
    /// changes but is never unset (the deals' corporate amounts need one).
    pub corporate_currency: Option<CurrencyCode>,
    /// The fiscal year's start month and naming; the calendar year until set.
    pub fiscal_calendar: FiscalCalendar,
    /// 0 until first changed.
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A partial update; `None` leaves a setting as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SettingsChanges {
    /// `Some(None)` clears the code; the code already checked
    /// ([`crm_contact_data::normalize_calling_code`]).
    pub default_calling_code: Option<Option<String>>,
    pub corporate_currency: Option<CurrencyCode>,
    /// 1..=12, already checked.
    pub fiscal_year_start_month: Option<u32>,
    pub fiscal_year_naming: Option<FiscalYearNaming>,
}

impl OrgSettings {
    /// Applies `changes`; returns the names of the settings that changed (none: nothing to
    /// write or publish).
    pub fn apply(&mut self, changes: SettingsChanges) -> Vec<&'static str> {
        let mut changed = Vec::new();
        if let Some(code) = changes
            .default_calling_code
            .filter(|code| *code != self.default_calling_code)
        {
            self.default_calling_code = code;
            changed.push("default_calling_code");
        }
        if let Some(currency) = changes
            .corporate_currency
            .filter(|currency| Some(*currency) != self.corporate_currency)
        {
            self.corporate_currency = Some(currency);
            changed.push("corporate_currency");
        }
        let start_month = changes
            .fiscal_year_start_month
            .unwrap_or(self.fiscal_calendar.start_month());
        let naming = changes
            .fiscal_year_naming
            .unwrap_or(self.fiscal_calendar.naming());
        // The month was checked on the wire; one that still is no month changes nothing, and
        // nothing is reported changed that was not.
        if let Ok(calendar) = FiscalCalendar::new(start_month, naming) {
            if calendar.start_month() != self.fiscal_calendar.start_month() {
                changed.push("fiscal_year_start_month");
            }
            if calendar.naming() != self.fiscal_calendar.naming() {
                changed.push("fiscal_year_naming");
            }
            self.fiscal_calendar = calendar;
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unset() -> OrgSettings {
        OrgSettings {
            id: Uuid::now_v7(),
            default_calling_code: None,
            corporate_currency: None,
            fiscal_calendar: FiscalCalendar::default(),
            version: 0,
            updated_at: None,
        }
    }

    #[test]
    fn only_real_changes_count() {
        let mut settings = unset();
        assert!(settings.apply(SettingsChanges::default()).is_empty());
        let set = SettingsChanges {
            default_calling_code: Some(Some("86".into())),
            ..SettingsChanges::default()
        };
        assert_eq!(settings.apply(set.clone()), ["default_calling_code"]);
        assert_eq!(settings.default_calling_code.as_deref(), Some("86"));
        assert!(settings.apply(set).is_empty());
        let clear = SettingsChanges {
            default_calling_code: Some(None),
            ..SettingsChanges::default()
        };
        assert_eq!(settings.apply(clear), ["default_calling_code"]);
        assert_eq!(settings.default_calling_code, None);
    }

    #[test]
    fn the_corporate_currency_changes_alone_or_with_the_calling_code() {
        let mut settings = unset();
        let yuan = SettingsChanges {
            corporate_currency: Some(CurrencyCode::CNY),
            ..SettingsChanges::default()
        };
        assert_eq!(settings.apply(yuan.clone()), ["corporate_currency"]);
        assert_eq!(settings.corporate_currency, Some(CurrencyCode::CNY));
        assert!(settings.apply(yuan).is_empty());
        let both = SettingsChanges {
            default_calling_code: Some(Some("44".into())),
            corporate_currency: Some("EUR".parse().unwrap()),
            ..SettingsChanges::default()
        };
        assert_eq!(
            settings.apply(both),
            ["default_calling_code", "corporate_currency"]
        );
        assert_eq!(settings.corporate_currency.unwrap().as_str(), "EUR");
        // Leaving the currency out keeps it.
        settings.apply(SettingsChanges::default());
        assert_eq!(settings.corporate_currency.unwrap().as_str(), "EUR");
    }

    #[test]
    fn the_fiscal_calendar_changes_by_start_month_and_naming() {
        let mut settings = unset();
        let april = SettingsChanges {
            fiscal_year_start_month: Some(4),
            ..SettingsChanges::default()
        };
        assert_eq!(settings.apply(april.clone()), ["fiscal_year_start_month"]);
        assert_eq!(settings.fiscal_calendar.start_month(), 4);
        assert!(settings.apply(april).is_empty());
        let ending = SettingsChanges {
            fiscal_year_start_month: Some(4),
            fiscal_year_naming: Some(FiscalYearNaming::EndingYear),
            ..SettingsChanges::default()
        };
        assert_eq!(settings.apply(ending), ["fiscal_year_naming"]);
        assert_eq!(
            settings.fiscal_calendar,
            FiscalCalendar::new(4, FiscalYearNaming::EndingYear).unwrap()
        );
    }
}
