//! Collections, domain → wire: what CollectionService returns and the payment events carry.

use crm_platform::{
    money::{CurrencyCode, Money},
    time::to_timestamp,
};
use crm_proto::crm::{common::v1::Money as MoneyMessage, opportunities::v1 as pb};
use rust_decimal::Decimal;

use crate::{
    domain::{
        collection::{Allocation, InstalmentStatus},
        payment::{Payment, PaymentMethod, PaymentSchedule, Refund},
        receivable::{AgeingBucket, Receivable, ReceivableTotals},
    },
    service::Receivables,
};

fn money(currency: CurrencyCode, amount: Decimal) -> Option<MoneyMessage> {
    Some(Money { currency, amount }.to_message())
}

pub(crate) fn instalment_status(status: InstalmentStatus) -> pb::InstalmentStatus {
    match status {
        InstalmentStatus::Open => pb::InstalmentStatus::Open,
        InstalmentStatus::PartlyPaid => pb::InstalmentStatus::PartlyPaid,
        InstalmentStatus::Paid => pb::InstalmentStatus::Paid,
    }
}

pub(crate) fn method(method: PaymentMethod) -> pb::PaymentMethod {
    match method {
        PaymentMethod::BankTransfer => pb::PaymentMethod::BankTransfer,
        PaymentMethod::Card => pb::PaymentMethod::Card,
        PaymentMethod::Cash => pb::PaymentMethod::Cash,
        PaymentMethod::Cheque => pb::PaymentMethod::Cheque,
        PaymentMethod::Other => pb::PaymentMethod::Other,
    }
}

fn allocations(
    currency: CurrencyCode,
    allocations: &[Allocation],
) -> Vec<pb::InstalmentAllocation> {
    allocations
        .iter()
        .map(|a| pb::InstalmentAllocation {
            instalment_number: a.instalment_number,
            amount: money(currency, a.amount),
        })
        .collect()
}

pub(crate) fn refund(currency: CurrencyCode, refund: &Refund) -> pb::Refund {
    pb::Refund {
        id: refund.id.to_string(),
        amount: money(currency, refund.amount),
        reason: refund.reason.clone(),
        allocations: allocations(currency, &refund.allocations),
        from_credit: money(currency, refund.from_credit),
        recorded_by: refund.recorded_by.to_string(),
        recorded_at: Some(to_timestamp(refund.recorded_at)),
    }
}

pub(crate) fn payment(currency: CurrencyCode, payment: &Payment) -> pb::Payment {
    pb::Payment {
        id: payment.id.to_string(),
        amount: money(currency, payment.amount),
        refunded: money(currency, payment.refunded),
        received_on: payment.received_on.to_string(),
        method: method(payment.method).into(),
        reference: payment.reference.clone(),
        allocations: allocations(currency, &payment.allocations),
        to_credit: money(currency, payment.to_credit),
        refunds: payment
            .refunds
            .iter()
            .map(|r| refund(currency, r))
            .collect(),
        recorded_by: payment.recorded_by.to_string(),
        recorded_at: Some(to_timestamp(payment.recorded_at)),
    }
}

pub(crate) fn schedule(schedule: &PaymentSchedule, payments: &[Payment]) -> pb::PaymentSchedule {
    let currency = schedule.currency;
    let totals = schedule.totals();
    pb::PaymentSchedule {
        id: schedule.id.to_string(),
        opportunity_id: schedule.opportunity_id.to_string(),
        order_id: schedule
            .order_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        account_id: schedule
            .account_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        owner_id: schedule.owner_id.to_string(),
        owner_team_path: schedule.owner_team_path.to_string(),
        currency_code: currency.to_string(),
        instalments: schedule
            .instalments
            .iter()
            .map(|i| pb::Instalment {
                number: i.number,
                due_date: i.due_date.to_string(),
                percent: i
                    .percent
                    .map(|p| p.normalize().to_string())
                    .unwrap_or_default(),
                amount: money(currency, i.amount),
                paid: money(currency, i.paid),
                open: money(currency, i.open()),
                status: instalment_status(i.status()).into(),
                note: i.note.clone(),
            })
            .collect(),
        totals: Some(pb::ScheduleTotals {
            total: money(currency, totals.total),
            paid: money(currency, totals.paid),
            open: money(currency, totals.open),
            overpaid: money(currency, totals.overpaid),
        }),
        payments: payments.iter().map(|p| payment(currency, p)).collect(),
        created_by: schedule.created_by.to_string(),
        created_at: Some(to_timestamp(schedule.created_at)),
        updated_by: schedule.updated_by.to_string(),
        updated_at: Some(to_timestamp(schedule.updated_at)),
        version: schedule.revision.unsigned_abs(),
    }
}

fn bucket(bucket: AgeingBucket) -> pb::AgeingBucket {
    match bucket {
        AgeingBucket::NotDue => pb::AgeingBucket::NotDue,
        AgeingBucket::Days1To30 => pb::AgeingBucket::Days1To30,
        AgeingBucket::Days31To60 => pb::AgeingBucket::Days31To60,
        AgeingBucket::Days61To90 => pb::AgeingBucket::Days61To90,
        AgeingBucket::Over90 => pb::AgeingBucket::Over90,
    }
}

fn receivable(receivable: &Receivable) -> pb::Receivable {
    let id = |id: Option<uuid::Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
    pb::Receivable {
        opportunity_id: receivable.opportunity_id.to_string(),
        schedule_id: receivable.schedule_id.to_string(),
        order_id: id(receivable.order_id),
        account_id: id(receivable.account_id),
        owner_id: receivable.owner_id.to_string(),
        owner_team_path: receivable.owner_team_path.to_string(),
        instalment_number: receivable.instalment_number,
        due_date: receivable.due_date.to_string(),
        open: money(receivable.currency, receivable.open),
        days_overdue: u32::try_from(receivable.days_overdue).unwrap_or(u32::MAX),
        bucket: bucket(receivable.bucket).into(),
    }
}

fn totals(totals: &ReceivableTotals) -> pb::ReceivableTotals {
    pb::ReceivableTotals {
        key: totals.key.clone(),
        currency_code: totals.currency.to_string(),
        buckets: AgeingBucket::ALL
            .iter()
            .zip(totals.buckets)
            .map(|(b, amount)| pb::BucketAmount {
                bucket: bucket(*b).into(),
                amount: money(totals.currency, amount),
            })
            .collect(),
        total: money(totals.currency, totals.total),
    }
}

pub(crate) fn receivables(receivables: &Receivables) -> pb::ListReceivablesResponse {
    pb::ListReceivablesResponse {
        receivables: receivables.receivables.iter().map(receivable).collect(),
        totals: receivables.totals.iter().map(totals).collect(),
        by_owner: receivables.by_owner.iter().map(totals).collect(),
        by_team: receivables.by_team.iter().map(totals).collect(),
        as_of: receivables.as_of.to_string(),
    }
}
