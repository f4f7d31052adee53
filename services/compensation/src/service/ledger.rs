//! Keeping the credit ledger from events (C3): entries appended once per source and rep, and a
//! deal that is no longer won taking back each of its standing bookings — exactly once, since
//! a booking is reversed at most once and a reversal's source is its event's.

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    domain::{credit::CreditKind, ledger::NewCredit},
    store,
};

/// Appends the entries an event makes; how many were new.
pub async fn credit(
    connection: &mut PgConnection,
    credits: &[NewCredit],
    event_id: Uuid,
) -> sqlx::Result<u64> {
    let mut appended = 0;
    for credit in credits {
        appended += u64::from(store::credits::append(connection, credit, event_id).await?);
    }
    Ok(appended)
}

/// Reverses every booking of `deal_id` that still stands, on `effective_on`, as the deal's
/// `version` (reopened, or lost after being won) says; how many were reversed.
pub async fn reverse_bookings(
    connection: &mut PgConnection,
    deal_id: Uuid,
    version: i64,
    effective_on: NaiveDate,
    event_id: Uuid,
) -> sqlx::Result<u64> {
    let standing = store::credits::standing_bookings(connection, deal_id).await?;
    let reversals: Vec<NewCredit> = standing
        .into_iter()
        .map(|booking| NewCredit {
            source: format!("reversal:{deal_id}:{version}"),
            user_id: booking.user_id,
            kind: CreditKind::BookingReversal,
            deal_id: Some(deal_id),
            deal_name: booking.deal_name,
            pipeline_id: booking.pipeline_id,
            effective_on,
            currency: booking.currency,
            amount: booking.amount,
            share: booking.share,
            reverses: Some(booking.id),
            lines: Vec::new(),
        })
        .collect();
    credit(connection, &reversals, event_id).await
}
