//! What the domain's tests build their figures from.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::credit::{Credit, CreditKind};

pub fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

pub fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// Ledger entry `n` of `user`'s (its sequence, and event `1000 + n`): `amount` CNY of deal
/// `deal` (none for 0, an expense's), counting on `on`, the rep's whole share.
pub fn credit(user: Uuid, n: u128, kind: CreditKind, deal: u128, amount: &str, on: &str) -> Credit {
    Credit {
        id: Uuid::from_u128(n),
        sequence: n as i64,
        user_id: user,
        kind,
        deal_id: (deal > 0).then(|| Uuid::from_u128(deal)),
        deal_name: format!("deal {deal}"),
        pipeline_id: None,
        lines: Vec::new(),
        effective_on: day(on),
        currency: "CNY".parse().unwrap(),
        amount: d(amount),
        share: Decimal::ONE_HUNDRED,
        reverses: None,
        event_id: Uuid::from_u128(1_000 + n),
    }
}
