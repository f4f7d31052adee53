//! Collections' records (O8): a deal's payment schedule and the payments and refunds recorded
//! against it; the rules that move money between them are in [`super::collection`].

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{auth::TeamPath, money::CurrencyCode};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::collection::{self, Allocation, Instalment, ScheduleTotals};

/// How a payment was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentMethod {
    BankTransfer,
    Card,
    Cash,
    Cheque,
    Other,
}

impl PaymentMethod {
    pub const ALL: [PaymentMethod; 5] = [
        PaymentMethod::BankTransfer,
        PaymentMethod::Card,
        PaymentMethod::Cash,
        PaymentMethod::Cheque,
        PaymentMethod::Other,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::BankTransfer => "bank_transfer",
            PaymentMethod::Card => "card",
            PaymentMethod::Cash => "cash",
            PaymentMethod::Cheque => "cheque",
            PaymentMethod::Other => "other",
        }
    }
}

/// A deal's payment schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentSchedule {
    pub id: Uuid,
    pub opportunity_id: Uuid,
    /// The order whose total (with tax) the schedule is of; `None`: the deal's amount.
    pub order_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub owner_id: Uuid,
    pub owner_team_path: TeamPath,
    pub currency: CurrencyCode,
    pub instalments: Vec<Instalment>,
    /// The credit balance: paid beyond the instalments.
    pub overpaid: Decimal,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_by: Uuid,
    pub updated_at: DateTime<Utc>,
    pub revision: i64,
}

impl PaymentSchedule {
    pub fn totals(&self) -> ScheduleTotals {
        collection::totals(&self.instalments, self.overpaid)
    }
}

/// A refund of part of a payment.
#[derive(Debug, Clone, PartialEq)]
pub struct Refund {
    pub id: Uuid,
    pub amount: Decimal,
    pub reason: String,
    /// Negative amounts taken back from instalments.
    pub allocations: Vec<Allocation>,
    pub from_credit: Decimal,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

/// A payment received against a schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    pub id: Uuid,
    pub schedule_id: Uuid,
    pub amount: Decimal,
    pub refunded: Decimal,
    pub received_on: NaiveDate,
    pub method: PaymentMethod,
    pub reference: String,
    pub allocations: Vec<Allocation>,
    pub to_credit: Decimal,
    /// Oldest first.
    pub refunds: Vec<Refund>,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

impl Payment {
    /// What of the payment may still be refunded.
    pub fn unrefunded(&self) -> Decimal {
        self.amount - self.refunded
    }
}
