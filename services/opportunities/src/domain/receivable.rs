//! Receivables (O8): what is open of the schedules' instalments on a day, how late it is
//! (ageing buckets), and the sums per bucket and currency — overall, per rep and per team.
//!
//! An instalment is overdue from the day after its due date: on the due date it is still "not
//! due". Days overdue 1–30, 31–60, 61–90 and over 90 are the buckets; sums are never mixed
//! across currencies.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use crm_platform::{auth::TeamPath, money::CurrencyCode};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::payment::PaymentSchedule;

/// How late an open instalment is on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgeingBucket {
    NotDue,
    Days1To30,
    Days31To60,
    Days61To90,
    Over90,
}

impl AgeingBucket {
    pub const ALL: [AgeingBucket; 5] = [
        AgeingBucket::NotDue,
        AgeingBucket::Days1To30,
        AgeingBucket::Days31To60,
        AgeingBucket::Days61To90,
        AgeingBucket::Over90,
    ];
}

/// Days past due on `as_of` (zero when not due) and the bucket they fall in.
pub fn ageing(due_date: NaiveDate, as_of: NaiveDate) -> (i64, AgeingBucket) {
    let days = (as_of - due_date).num_days();
    let bucket = match days {
        ..=0 => AgeingBucket::NotDue,
        1..=30 => AgeingBucket::Days1To30,
        31..=60 => AgeingBucket::Days31To60,
        61..=90 => AgeingBucket::Days61To90,
        _ => AgeingBucket::Over90,
    };
    (days.max(0), bucket)
}

/// One open instalment on a day.
#[derive(Debug, Clone, PartialEq)]
pub struct Receivable {
    pub schedule_id: Uuid,
    pub opportunity_id: Uuid,
    pub order_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub owner_id: Uuid,
    pub owner_team_path: TeamPath,
    pub instalment_number: u32,
    pub due_date: NaiveDate,
    pub currency: CurrencyCode,
    pub open: Decimal,
    pub days_overdue: i64,
    pub bucket: AgeingBucket,
}

/// The open instalments of `schedules` on `as_of`, oldest due first.
pub fn receivables(schedules: &[PaymentSchedule], as_of: NaiveDate) -> Vec<Receivable> {
    let mut open: Vec<Receivable> = schedules
        .iter()
        .flat_map(|schedule| {
            schedule
                .instalments
                .iter()
                .filter(|instalment| instalment.open() > Decimal::ZERO)
                .map(move |instalment| {
                    let (days_overdue, bucket) = ageing(instalment.due_date, as_of);
                    Receivable {
                        schedule_id: schedule.id,
                        opportunity_id: schedule.opportunity_id,
                        order_id: schedule.order_id,
                        account_id: schedule.account_id,
                        owner_id: schedule.owner_id,
                        owner_team_path: schedule.owner_team_path.clone(),
                        instalment_number: instalment.number,
                        due_date: instalment.due_date,
                        currency: schedule.currency,
                        open: instalment.open(),
                        days_overdue,
                        bucket,
                    }
                })
        })
        .collect();
    open.sort_by_key(|r| (r.due_date, r.opportunity_id, r.instalment_number));
    open
}

/// The sums of one group (everything, a rep, a team) in one currency, per bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivableTotals {
    /// The rep's id or the team's path; empty for the overall sums.
    pub key: String,
    pub currency: CurrencyCode,
    /// Every bucket, in order, zero where nothing is.
    pub buckets: [Decimal; 5],
    pub total: Decimal,
}

/// The sums of `receivables` grouped by `key` and currency, ordered by key then currency.
pub fn totals_by(
    receivables: &[Receivable],
    key: impl Fn(&Receivable) -> String,
) -> Vec<ReceivableTotals> {
    let mut groups: BTreeMap<(String, &'static str), ReceivableTotals> = BTreeMap::new();
    for receivable in receivables {
        let key = key(receivable);
        let entry = groups
            .entry((key.clone(), receivable.currency.as_str()))
            .or_insert_with(|| ReceivableTotals {
                key,
                currency: receivable.currency,
                buckets: [Decimal::ZERO; 5],
                total: Decimal::ZERO,
            });
        let index = AgeingBucket::ALL
            .iter()
            .position(|bucket| *bucket == receivable.bucket)
            .unwrap_or_default();
        entry.buckets[index] += receivable.open;
        entry.total += receivable.open;
    }
    groups.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, month, day).unwrap()
    }

    #[test]
    fn ageing_buckets_start_the_day_after_the_due_date() {
        let due = day(3, 31);
        assert_eq!(ageing(due, day(3, 1)), (0, AgeingBucket::NotDue));
        assert_eq!(ageing(due, due), (0, AgeingBucket::NotDue));
        assert_eq!(ageing(due, day(4, 1)), (1, AgeingBucket::Days1To30));
        assert_eq!(ageing(due, day(4, 30)), (30, AgeingBucket::Days1To30));
        assert_eq!(ageing(due, day(5, 1)), (31, AgeingBucket::Days31To60));
        assert_eq!(ageing(due, day(5, 30)), (60, AgeingBucket::Days31To60));
        assert_eq!(ageing(due, day(6, 29)), (90, AgeingBucket::Days61To90));
        assert_eq!(ageing(due, day(6, 30)), (91, AgeingBucket::Over90));
    }
}
