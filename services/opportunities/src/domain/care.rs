//! Customer care (A6): when a contact's important date next recurs, and the care templates'
//! placeholders.
//!
//! A birthday may be kept without its year ("--03-14"); an anniversary counts its years from
//! the date kept. February 29th recurs on February 28th in a year without it.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};

/// The kinds of important dates care reminds of (accounts' OTHER dates get none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CareKind {
    Birthday,
    ContractAnniversary,
}

impl CareKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CareKind::Birthday => "birthday",
            CareKind::ContractAnniversary => "contract_anniversary",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "birthday" => Some(CareKind::Birthday),
            "contract_anniversary" => Some(CareKind::ContractAnniversary),
            _ => None,
        }
    }
}

/// A date that recurs each year: month and day, with the year when it is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecurringDate {
    pub year: Option<i32>,
    pub month: u32,
    pub day: u32,
}

impl RecurringDate {
    /// "2019-06-30" or "--03-14" (month and day, "--02-29" among them); `None` otherwise.
    pub fn parse(value: &str) -> Option<Self> {
        if let Some(month_day) = value.strip_prefix("--") {
            let (month, day) = month_day.split_once('-')?;
            let (month, day): (u32, u32) = (month.parse().ok()?, day.parse().ok()?);
            // 2000 is a leap year: every month and day that ever occurs is a date in it.
            NaiveDate::from_ymd_opt(2000, month, day)?;
            return Some(Self {
                year: None,
                month,
                day,
            });
        }
        let date: NaiveDate = value.parse().ok()?;
        Some(Self {
            year: Some(date.year()),
            month: date.month(),
            day: date.day(),
        })
    }

    /// The day it falls on in `year` (February 29th on the 28th without a leap day).
    pub fn in_year(&self, year: i32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, self.month, self.day)
            .or_else(|| NaiveDate::from_ymd_opt(year, self.month, self.day - 1))
            .unwrap_or(NaiveDate::MIN)
    }

    /// The first day it recurs on or after `day` (never before the date itself, when its year
    /// is known).
    pub fn next_on_or_after(&self, day: NaiveDate) -> NaiveDate {
        let this_year = self.in_year(day.year());
        let next = if this_year >= day {
            this_year
        } else {
            self.in_year(day.year() + 1)
        };
        match self.year {
            Some(year) if next.year() < year => self.in_year(year),
            _ => next,
        }
    }

    /// Whole years from the date kept to `occurrence` (`None` without a year).
    pub fn years_at(&self, occurrence: NaiveDate) -> Option<i32> {
        self.year.map(|year| occurrence.year() - year)
    }
}

/// The placeholders a care template's subject and body may use.
pub const PLACEHOLDERS: [&str; 5] = [
    "contact_name",
    "account_name",
    "date",
    "owner_name",
    "years",
];

/// The `{name}`s of `text` that are not placeholders, each once, in order of name.
pub fn unknown_placeholders(text: &str) -> Vec<String> {
    let mut unknown = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !PLACEHOLDERS.contains(&name) {
            unknown.insert(name.to_owned());
        }
        rest = &after[end + 1..];
    }
    unknown.into_iter().collect()
}

/// What fills the placeholders.
#[derive(Debug, Clone, Default)]
pub struct CareValues {
    pub contact_name: String,
    pub account_name: String,
    pub date: String,
    pub owner_name: String,
    pub years: String,
}

/// `text` with its placeholders filled, as plain text (nothing escaped).
pub fn render(text: &str, values: &CareValues) -> String {
    text.replace("{contact_name}", &values.contact_name)
        .replace("{account_name}", &values.account_name)
        .replace("{date}", &values.date)
        .replace("{owner_name}", &values.owner_name)
        .replace("{years}", &values.years)
}

#[cfg(test)]
#[path = "care_tests.rs"]
mod tests;
