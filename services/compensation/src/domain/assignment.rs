//! Plan assignments (C2): a rep is on one plan at a time, over date ranges that never overlap;
//! a rep who joins or leaves mid-period is on the plan for part of it, and the quota and base
//! salary are prorated by the days of that part.

use chrono::NaiveDate;
use crm_platform::error::FieldViolation;
use rust_decimal::Decimal;
use uuid::Uuid;

/// Rep `user_id` is on plan `plan_id` from `from` until (before) `until`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub id: Uuid,
    pub user_id: Uuid,
    pub plan_id: Uuid,
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

impl Assignment {
    pub fn overlaps(&self, other: &Assignment) -> bool {
        let before =
            |until: Option<NaiveDate>, from: NaiveDate| until.is_some_and(|until| until <= from);
        !(before(self.until, other.from) || before(other.until, self.from))
    }

    /// The days of `[start, end)` the assignment covers, as `[from, until)`; `None`: none.
    pub fn within(&self, start: NaiveDate, end: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let from = self.from.max(start);
        let until = self.until.map_or(end, |until| until.min(end));
        (from < until).then_some((from, until))
    }

    /// Checks a new assignment against the rep's others (`existing`, its own earlier state
    /// left out).
    pub fn check(&self, existing: &[Assignment]) -> Result<(), FieldViolation> {
        if let Some(until) = self.until
            && until <= self.from
        {
            return Err(FieldViolation::new("until", "must be after from"));
        }
        match existing.iter().find(|other| {
            other.user_id == self.user_id && other.id != self.id && self.overlaps(other)
        }) {
            Some(other) => Err(FieldViolation::new(
                "from",
                format!(
                    "the rep is on another plan from {} until {}: assignments must not overlap",
                    other.from,
                    other
                        .until
                        .map_or("further notice".to_owned(), |until| until.to_string())
                ),
            )),
            None => Ok(()),
        }
    }
}

/// The share of the period `[start, end)` that `[from, until)` covers: days ÷ days, exact to
/// 28 digits (1 for the whole period).
pub fn proration(start: NaiveDate, end: NaiveDate, from: NaiveDate, until: NaiveDate) -> Decimal {
    let period = (end - start).num_days();
    let covered = (until.min(end) - from.max(start)).num_days().max(0);
    if period <= 0 || covered >= period {
        return Decimal::ONE;
    }
    Decimal::from(covered) / Decimal::from(period)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn on(id: u128, from: &str, until: Option<&str>) -> Assignment {
        Assignment {
            id: Uuid::from_u128(id),
            user_id: Uuid::from_u128(7),
            plan_id: Uuid::from_u128(70),
            from: day(from),
            until: until.map(day),
        }
    }

    #[test]
    fn assignments_of_a_rep_must_not_overlap() {
        let first = on(1, "2027-01-01", Some("2027-04-01"));
        assert!(
            on(2, "2027-04-01", None)
                .check(std::slice::from_ref(&first))
                .is_ok()
        );
        let clash = on(2, "2027-03-31", None)
            .check(std::slice::from_ref(&first))
            .unwrap_err();
        assert!(
            clash
                .description
                .contains("from 2027-01-01 until 2027-04-01"),
            "{clash}"
        );
        // Open-ended before: anything later overlaps.
        let open = on(3, "2026-01-01", None);
        assert!(
            on(4, "2030-01-01", Some("2030-02-01"))
                .check(&[open])
                .is_err()
        );
        assert!(on(5, "2027-02-01", Some("2027-02-01")).check(&[]).is_err());
    }

    #[test]
    fn a_rep_joining_mid_quarter_is_prorated_by_days() {
        // FY Q1 2027 has 90 days; joined 1 March: 31 days of 90.
        let (start, end) = (day("2027-01-01"), day("2027-04-01"));
        let share = proration(start, end, day("2027-03-01"), end);
        assert_eq!(share, Decimal::from(31) / Decimal::from(90));
        assert_eq!(proration(start, end, start, end), Decimal::ONE);
        assert_eq!(
            on(1, "2027-03-01", None).within(start, end),
            Some((day("2027-03-01"), end))
        );
        assert_eq!(on(1, "2027-04-01", None).within(start, end), None);
    }
}
