//! An account's deal desk (A5): the bounds of its lists, its payments newest first, and what is
//! open and overdue on its schedules per currency. The families' own rules (what a quote, an
//! activity, an expense or a plan is, who reads it) stay in their modules; this one only
//! gathers.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::money::CurrencyCode;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{
    payment::{Payment, PaymentSchedule},
    receivable::Receivable,
};

/// Most items of each list of the desk: an account page shows the latest, and a list that is
/// cut says so.
pub const DESK_LIMIT: usize = 50;

/// `rows` fetched with one more than `limit`: the first `limit`, and whether there were more.
pub fn bounded<T>(mut rows: Vec<T>, limit: usize) -> (Vec<T>, bool) {
    let more = rows.len() > limit;
    rows.truncate(limit);
    (rows, more)
}

/// A payment with the schedule it was received on.
#[derive(Debug, Clone, PartialEq)]
pub struct DeskPayment {
    pub opportunity_id: Uuid,
    pub currency: CurrencyCode,
    pub payment: Payment,
}

/// The payments of `schedules`, the newest received first (then the latest recorded, then by
/// id, so the order never depends on the database's), at most `limit`, and whether there were
/// more.
pub fn newest_payments(
    schedules: Vec<(PaymentSchedule, Vec<Payment>)>,
    limit: usize,
) -> (Vec<DeskPayment>, bool) {
    let mut payments: Vec<DeskPayment> = schedules
        .into_iter()
        .flat_map(|(schedule, payments)| {
            payments.into_iter().map(move |payment| DeskPayment {
                opportunity_id: schedule.opportunity_id,
                currency: schedule.currency,
                payment,
            })
        })
        .collect();
    let newest = |desk: &DeskPayment| -> (NaiveDate, DateTime<Utc>, Uuid) {
        let payment = &desk.payment;
        (payment.received_on, payment.recorded_at, payment.id)
    };
    payments.sort_by_key(|desk| std::cmp::Reverse(newest(desk)));
    bounded(payments, limit)
}

/// What is open on a customer's schedules in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenFigures {
    pub currency: CurrencyCode,
    pub open: Decimal,
    /// The part of `open` past due.
    pub overdue: Decimal,
    pub open_instalments: u32,
    pub overdue_instalments: u32,
}

/// `receivables` (the open instalments on a day) summed per currency, by currency code; an
/// instalment is overdue from the day after its due date, as receivables age.
pub fn open_figures(receivables: &[Receivable]) -> Vec<OpenFigures> {
    let mut figures: BTreeMap<&'static str, OpenFigures> = BTreeMap::new();
    for receivable in receivables {
        let entry = figures
            .entry(receivable.currency.as_str())
            .or_insert_with(|| OpenFigures {
                currency: receivable.currency,
                open: Decimal::ZERO,
                overdue: Decimal::ZERO,
                open_instalments: 0,
                overdue_instalments: 0,
            });
        entry.open += receivable.open;
        entry.open_instalments += 1;
        if receivable.days_overdue > 0 {
            entry.overdue += receivable.open;
            entry.overdue_instalments += 1;
        }
    }
    figures.into_values().collect()
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use chrono::TimeZone;
    use crm_platform::auth::TeamPath;

    use super::*;
    use crate::domain::{collection::Instalment, payment::PaymentMethod, receivable};

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn euro() -> CurrencyCode {
        "EUR".parse().unwrap()
    }

    fn day(month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, month, day).unwrap()
    }

    fn schedule(
        currency: CurrencyCode,
        instalments: &[(NaiveDate, Decimal, Decimal)],
    ) -> PaymentSchedule {
        let at = Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap();
        PaymentSchedule {
            id: Uuid::now_v7(),
            opportunity_id: Uuid::now_v7(),
            order_id: None,
            account_id: Some(Uuid::now_v7()),
            owner_id: Uuid::now_v7(),
            owner_team_path: TeamPath::parse("/northwind/east/").unwrap(),
            currency,
            instalments: instalments
                .iter()
                .enumerate()
                .map(|(index, (due_date, amount, paid))| Instalment {
                    number: index as u32 + 1,
                    due_date: *due_date,
                    percent: None,
                    amount: *amount,
                    paid: *paid,
                    note: String::new(),
                })
                .collect(),
            overpaid: Decimal::ZERO,
            created_by: Uuid::now_v7(),
            created_at: at,
            updated_by: Uuid::now_v7(),
            updated_at: at,
            revision: 1,
        }
    }

    fn payment(schedule: &PaymentSchedule, received_on: NaiveDate, hour: u32) -> Payment {
        Payment {
            id: Uuid::now_v7(),
            schedule_id: schedule.id,
            amount: dec("100"),
            refunded: Decimal::ZERO,
            received_on,
            method: PaymentMethod::BankTransfer,
            reference: String::new(),
            allocations: Vec::new(),
            to_credit: Decimal::ZERO,
            refunds: Vec::new(),
            recorded_by: Uuid::now_v7(),
            recorded_at: Utc.with_ymd_and_hms(2027, 3, 1, hour, 0, 0).unwrap(),
        }
    }

    #[test]
    fn a_list_is_bounded_and_says_when_it_was_cut() {
        assert_eq!(bounded(vec![1, 2, 3], 3), (vec![1, 2, 3], false));
        assert_eq!(bounded(vec![1, 2, 3, 4], 3), (vec![1, 2, 3], true));
        assert_eq!(bounded(Vec::<u8>::new(), 3), (vec![], false));
    }

    #[test]
    fn payments_of_every_schedule_come_newest_received_first_then_latest_recorded() {
        let cny = schedule(CurrencyCode::CNY, &[]);
        let eur = schedule(euro(), &[]);
        let march = payment(&cny, day(3, 1), 9);
        let april = payment(&eur, day(4, 1), 9);
        let march_later = payment(&cny, day(3, 1), 15);
        let (payments, more) = newest_payments(
            vec![
                (cny.clone(), vec![march.clone(), march_later.clone()]),
                (eur.clone(), vec![april.clone()]),
            ],
            2,
        );
        let ids: Vec<Uuid> = payments.iter().map(|desk| desk.payment.id).collect();
        assert_eq!(ids, [april.id, march_later.id]);
        assert!(more, "March's first payment is left out");
        assert_eq!(payments[0].currency, euro());
        assert_eq!(payments[0].opportunity_id, eur.opportunity_id);
        assert_eq!(payments[1].opportunity_id, cny.opportunity_id);
    }

    #[test]
    fn open_and_overdue_are_summed_per_currency_overdue_from_the_day_after_the_due_date() {
        let cny = schedule(
            CurrencyCode::CNY,
            &[
                // Paid: not open.
                (day(1, 31), dec("333576"), dec("333576")),
                // Partly paid and late on the day.
                (day(2, 28), dec("500000"), dec("100000")),
                // Due on the day: open, not yet overdue.
                (day(3, 31), dec("278344"), dec("0")),
            ],
        );
        let eur = schedule(euro(), &[(day(6, 30), dec("1200.50"), dec("0"))]);
        let open = receivable::receivables(&[eur, cny], day(3, 31));
        assert_eq!(
            open_figures(&open),
            [
                OpenFigures {
                    currency: CurrencyCode::CNY,
                    open: dec("678344"),
                    overdue: dec("400000"),
                    open_instalments: 2,
                    overdue_instalments: 1,
                },
                OpenFigures {
                    currency: euro(),
                    open: dec("1200.50"),
                    overdue: dec("0"),
                    open_instalments: 1,
                    overdue_instalments: 0,
                },
            ]
        );
        assert_eq!(open_figures(&[]), []);
    }
}
