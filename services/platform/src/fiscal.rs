//! The organisation's fiscal calendar (OrgSettings' `fiscal_year_start_month` and
//! `fiscal_year_naming`, kept by the gateway): the months, quarters and fiscal years that
//! forecasts, quotas and commission plans are counted in. A fiscal year is twelve calendar
//! months from its start month; its quarters are three of them each; a month is a calendar
//! month. All of it is pure date arithmetic, the same in every service that reads the calendar.
//!
//! Labels: a month is its calendar month (`2026-08`), a quarter `FY2027-Q1`, a year `FY2027`.
//! Which calendar year names a fiscal year that spans two is the organisation's choice (the year
//! it starts in, as in China and Japan; or the year it ends in, as many US companies do).

use std::{fmt, str::FromStr};

use chrono::{Datelike, Months, NaiveDate};

/// Which calendar year names a fiscal year that does not start in January.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FiscalYearNaming {
    /// Named by the calendar year it starts in: April 2026 – March 2027 is FY2026.
    #[default]
    StartingYear,
    /// Named by the calendar year it ends in: April 2026 – March 2027 is FY2027.
    EndingYear,
}

/// How long a period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeriodKind {
    Month,
    Quarter,
    Year,
}

impl PeriodKind {
    /// Calendar months in one period of the kind.
    pub fn months(self) -> u32 {
        match self {
            PeriodKind::Month => 1,
            PeriodKind::Quarter => 3,
            PeriodKind::Year => 12,
        }
    }
}

/// The organisation's fiscal calendar. The default is the calendar year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FiscalCalendar {
    start_month: u32,
    naming: FiscalYearNaming,
}

impl Default for FiscalCalendar {
    fn default() -> Self {
        FiscalCalendar {
            start_month: 1,
            naming: FiscalYearNaming::StartingYear,
        }
    }
}

/// One month, quarter or fiscal year of a calendar: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FiscalPeriod {
    kind: PeriodKind,
    /// The first day.
    start: NaiveDate,
    /// The fiscal year's name (2027 for FY2027).
    fiscal_year: i32,
    /// 1-based within the fiscal year: the quarter (1..=4) or the fiscal month (1..=12); 1 for
    /// a year.
    number: u32,
}

/// Dates are kept between years 1000 and 9998, so every period and its neighbours exist.
const FIRST_YEAR: i32 = 1000;
const LAST_YEAR: i32 = 9998;

impl FiscalCalendar {
    /// A calendar whose fiscal year starts on the first of `start_month` (1..=12).
    pub fn new(start_month: u32, naming: FiscalYearNaming) -> Result<Self, String> {
        if !(1..=12).contains(&start_month) {
            return Err(format!(
                "the start month must be 1 to 12, not {start_month}"
            ));
        }
        Ok(FiscalCalendar {
            start_month,
            naming,
        })
    }

    /// The calendar as a database keeps it (`start_month`, the naming's `as_str`).
    pub fn from_stored(start_month: i32, naming: &str) -> Result<Self, String> {
        let start_month = u32::try_from(start_month).map_err(|error| error.to_string())?;
        FiscalCalendar::new(start_month, naming.parse()?)
    }

    pub fn start_month(&self) -> u32 {
        self.start_month
    }

    pub fn naming(&self) -> FiscalYearNaming {
        self.naming
    }

    /// The period of `kind` that holds `date`; `None` for dates outside years 1000 to 9998.
    pub fn period_of(&self, kind: PeriodKind, date: NaiveDate) -> Option<FiscalPeriod> {
        if !(FIRST_YEAR..=LAST_YEAR).contains(&date.year()) {
            return None;
        }
        let year_start = self.year_start_holding(date);
        let months_in = months_between(year_start, first_of_month(date));
        let index = months_in / kind.months();
        let start = year_start.checked_add_months(Months::new(index * kind.months()))?;
        Some(FiscalPeriod {
            kind,
            start,
            fiscal_year: self.year_name(year_start),
            number: index + 1,
        })
    }

    /// The `number`th period of `kind` (1-based) of fiscal year `fiscal_year`.
    pub fn period(
        &self,
        kind: PeriodKind,
        fiscal_year: i32,
        number: u32,
    ) -> Result<FiscalPeriod, String> {
        let count = 12 / kind.months();
        if !(1..=count).contains(&number) {
            return Err(format!("must be 1 to {count}, not {number}"));
        }
        let start_year = match self.naming {
            FiscalYearNaming::EndingYear if self.start_month > 1 => fiscal_year - 1,
            _ => fiscal_year,
        };
        let year_start = (FIRST_YEAR..=LAST_YEAR)
            .contains(&start_year)
            .then(|| NaiveDate::from_ymd_opt(start_year, self.start_month, 1))
            .flatten()
            .ok_or_else(|| format!("fiscal year {fiscal_year} is out of range"))?;
        let start = year_start
            .checked_add_months(Months::new((number - 1) * kind.months()))
            .ok_or_else(|| format!("fiscal year {fiscal_year} is out of range"))?;
        Ok(FiscalPeriod {
            kind,
            start,
            fiscal_year,
            number,
        })
    }

    /// The period a label names (`2026-08`, `FY2027-Q1`, `FY2027`), in this calendar.
    pub fn parse(&self, label: &str) -> Result<FiscalPeriod, String> {
        let label = label.trim();
        let unknown = || format!("{label:?} is not a period: 2026-08, FY2027-Q1 or FY2027 are");
        if let Some(fiscal) = label.strip_prefix("FY") {
            let (year, quarter) = match fiscal.split_once("-Q") {
                Some((year, quarter)) => (year, Some(quarter)),
                None => (fiscal, None),
            };
            let year = four_digits(year).ok_or_else(unknown)?;
            return match quarter {
                None => self.period(PeriodKind::Year, year, 1),
                Some(quarter) => {
                    let quarter = match quarter {
                        "1" => 1,
                        "2" => 2,
                        "3" => 3,
                        "4" => 4,
                        _ => return Err(unknown()),
                    };
                    self.period(PeriodKind::Quarter, year, quarter)
                }
            };
        }
        let (year, month) = label.split_once('-').ok_or_else(unknown)?;
        let year = four_digits(year).ok_or_else(unknown)?;
        let month = match month.as_bytes() {
            [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
                u32::from(a - b'0') * 10 + u32::from(b - b'0')
            }
            _ => return Err(unknown()),
        };
        let date = NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(unknown)?;
        self.period_of(PeriodKind::Month, date)
            .ok_or_else(|| format!("{label:?} is out of range"))
    }

    /// The first day of the fiscal year holding `date`.
    fn year_start_holding(&self, date: NaiveDate) -> NaiveDate {
        let year = if date.month() >= self.start_month {
            date.year()
        } else {
            date.year() - 1
        };
        // Always a date: the year is within the range `period_of` keeps to, less one.
        NaiveDate::from_ymd_opt(year, self.start_month, 1).unwrap_or(date)
    }

    /// The name of the fiscal year starting on `year_start`.
    fn year_name(&self, year_start: NaiveDate) -> i32 {
        match self.naming {
            FiscalYearNaming::EndingYear if self.start_month > 1 => year_start.year() + 1,
            _ => year_start.year(),
        }
    }
}

impl FiscalPeriod {
    pub fn kind(&self) -> PeriodKind {
        self.kind
    }

    /// The first day of the period.
    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// The day after the period's last.
    pub fn end(&self) -> NaiveDate {
        self.shifted(1).start
    }

    /// The last day of the period.
    pub fn last_day(&self) -> NaiveDate {
        self.end().pred_opt().unwrap_or(self.start)
    }

    pub fn fiscal_year(&self) -> i32 {
        self.fiscal_year
    }

    /// The quarter (1..=4) or fiscal month (1..=12) within the fiscal year; 1 for a year.
    pub fn number(&self) -> u32 {
        self.number
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date < self.end()
    }

    /// The period `by` periods of the same kind later (earlier when negative).
    pub fn shifted(&self, by: i32) -> FiscalPeriod {
        let months = by * self.kind.months() as i32;
        let start = if months >= 0 {
            self.start.checked_add_months(Months::new(months as u32))
        } else {
            self.start
                .checked_sub_months(Months::new(months.unsigned_abs()))
        }
        .unwrap_or(self.start);
        let count = 12 / self.kind.months() as i32;
        let index = (self.number as i32 - 1) + by;
        FiscalPeriod {
            kind: self.kind,
            start,
            fiscal_year: self.fiscal_year + index.div_euclid(count),
            number: index.rem_euclid(count) as u32 + 1,
        }
    }

    /// The period before this one (a quarter's previous quarter).
    pub fn previous(&self) -> FiscalPeriod {
        self.shifted(-1)
    }

    /// The same period a year earlier (growth targets, year-on-year trends).
    pub fn a_year_earlier(&self) -> FiscalPeriod {
        self.shifted(-(12 / self.kind.months() as i32))
    }

    /// The periods of `kind` inside this one, in order (a year's four quarters).
    pub fn parts(&self, kind: PeriodKind) -> Vec<FiscalPeriod> {
        if kind > self.kind {
            return Vec::new();
        }
        let count = self.kind.months() / kind.months();
        let first_number = (self.number - 1) * self.kind.months() / kind.months() + 1;
        let first = FiscalPeriod {
            kind,
            start: self.start,
            fiscal_year: self.fiscal_year,
            number: first_number,
        };
        (0..count as i32)
            .map(|index| first.shifted(index))
            .collect()
    }
}

/// `2026-08`, `FY2027-Q1`, `FY2027`.
impl fmt::Display for FiscalPeriod {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            PeriodKind::Month => write!(formatter, "{}", self.start.format("%Y-%m")),
            PeriodKind::Quarter => write!(formatter, "FY{:04}-Q{}", self.fiscal_year, self.number),
            PeriodKind::Year => write!(formatter, "FY{:04}", self.fiscal_year),
        }
    }
}

impl FromStr for FiscalYearNaming {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "starting_year" => Ok(FiscalYearNaming::StartingYear),
            "ending_year" => Ok(FiscalYearNaming::EndingYear),
            other => Err(format!("{other:?} is not a fiscal year naming")),
        }
    }
}

impl FiscalYearNaming {
    /// How it is stored: `starting_year`, `ending_year`.
    pub fn as_str(self) -> &'static str {
        match self {
            FiscalYearNaming::StartingYear => "starting_year",
            FiscalYearNaming::EndingYear => "ending_year",
        }
    }
}

fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

/// Whole months from `from` to `to`, both firsts of months, `from` ≤ `to`.
fn months_between(from: NaiveDate, to: NaiveDate) -> u32 {
    let months = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32;
    months.max(0) as u32
}

fn four_digits(text: &str) -> Option<i32> {
    (text.len() == 4 && text.bytes().all(|byte| byte.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
        .filter(|year| (FIRST_YEAR..=LAST_YEAR).contains(year))
}

#[cfg(test)]
#[path = "fiscal_tests.rs"]
mod tests;
