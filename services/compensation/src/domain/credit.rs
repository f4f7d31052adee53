//! The credit ledger (C3): append-only entries, each from one event — a won deal's booking, its
//! reversal when the deal is reopened or lost, a payment, a refund, an approved expense — each
//! for one rep's split share. Shares are exact (amount × split percentage, never rounded), so
//! a shared deal's credits add up to the deal to the last digit: splitting never creates or
//! loses a cent.

use chrono::NaiveDate;
use crm_platform::money::CurrencyCode;
use rust_decimal::Decimal;
use uuid::Uuid;

/// What a ledger entry credits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CreditKind {
    /// A won deal's amount (corporate currency): what attainment counts.
    Booking,
    /// A booking taken back: the deal was reopened or lost after it was won.
    BookingReversal,
    /// What the customer paid on a won deal.
    Payment,
    /// A payment given back.
    Refund,
    /// An approved expense of the rep's.
    Expense,
}

impl CreditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CreditKind::Booking => "booking",
            CreditKind::BookingReversal => "booking_reversal",
            CreditKind::Payment => "payment",
            CreditKind::Refund => "refund",
            CreditKind::Expense => "expense",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            CreditKind::Booking,
            CreditKind::BookingReversal,
            CreditKind::Payment,
            CreditKind::Refund,
            CreditKind::Expense,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

/// A deal's line item, as SPIFFs on products read it: its product and share of the corporate
/// amount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DealLine {
    pub product_code: String,
    pub amount: Decimal,
}

/// One ledger entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credit {
    pub id: Uuid,
    /// The ledger's order: entries are appended, never changed.
    pub sequence: i64,
    pub user_id: Uuid,
    pub kind: CreditKind,
    /// The deal's (`None`: an expense not tied to a deal).
    pub deal_id: Option<Uuid>,
    pub deal_name: String,
    pub pipeline_id: Option<Uuid>,
    /// The deal's lines, for SPIFFs (bookings only), the whole deal's amounts.
    pub lines: Vec<DealLine>,
    /// The day it counts on: won, paid, refunded, approved (reversals: the day reversed).
    pub effective_on: NaiveDate,
    /// The corporate currency the amount is in.
    pub currency: CurrencyCode,
    /// The rep's share, exact and positive; the kind says which way it goes.
    pub amount: Decimal,
    /// The rep's split percentage of the deal (100 for expenses).
    pub share: Decimal,
    /// A reversal's booking (`BookingReversal`) — the entry it takes back.
    pub reverses: Option<Uuid>,
    /// The event that made it.
    pub event_id: Uuid,
}

impl Credit {
    /// Amount counted towards attainment: bookings up, their reversals down.
    pub fn signed(&self) -> Decimal {
        match self.kind {
            CreditKind::Booking | CreditKind::Payment | CreditKind::Expense => self.amount,
            CreditKind::BookingReversal | CreditKind::Refund => -self.amount,
        }
    }
}

/// A deal's revenue split: who is credited which percentage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    pub user_id: Uuid,
    pub percent: Decimal,
}

/// Why a deal's splits cannot credit it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SplitProblem {
    #[error("the splits add up to {0} %, not 100 %")]
    NotHundred(Decimal),
    #[error("the split of {0} is negative")]
    Negative(Uuid),
    #[error("{0} is split more than once")]
    Repeated(Uuid),
}

/// Each rep's exact share of `amount` by `splits`, which add up to 100 %; a deal without splits
/// credits its owner alone. The shares add up to `amount` exactly.
pub fn split_amount(
    amount: Decimal,
    owner_id: Uuid,
    splits: &[Split],
) -> Result<Vec<(Uuid, Decimal, Decimal)>, SplitProblem> {
    if splits.is_empty() {
        return Ok(vec![(owner_id, amount, Decimal::ONE_HUNDRED)]);
    }
    for (index, split) in splits.iter().enumerate() {
        if split.percent.is_sign_negative() {
            return Err(SplitProblem::Negative(split.user_id));
        }
        if splits[..index]
            .iter()
            .any(|other| other.user_id == split.user_id)
        {
            return Err(SplitProblem::Repeated(split.user_id));
        }
    }
    let total: Decimal = splits.iter().map(|split| split.percent).sum();
    if total != Decimal::ONE_HUNDRED {
        return Err(SplitProblem::NotHundred(total));
    }
    Ok(splits
        .iter()
        .filter(|split| !split.percent.is_zero())
        .map(|split| {
            (
                split.user_id,
                amount * split.percent / Decimal::ONE_HUNDRED,
                split.percent,
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn rep(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn a_shared_deal_credits_each_rep_their_share_exactly() {
        let splits = [
            Split {
                user_id: rep(1),
                percent: "33.33".parse().unwrap(),
            },
            Split {
                user_id: rep(2),
                percent: "66.67".parse().unwrap(),
            },
        ];
        let shares = split_amount("1150000.00".parse().unwrap(), rep(9), &splits).unwrap();
        assert_eq!(shares[0].1, "383295.0000".parse::<Decimal>().unwrap());
        assert_eq!(shares[1].1, "766705.0000".parse::<Decimal>().unwrap());
        assert_eq!(
            split_amount(Decimal::TEN, rep(9), &[]).unwrap(),
            vec![(rep(9), Decimal::TEN, Decimal::ONE_HUNDRED)]
        );
        let wrong = [
            Split {
                user_id: rep(1),
                percent: Decimal::from(60),
            },
            Split {
                user_id: rep(2),
                percent: Decimal::from(30),
            },
        ];
        assert_eq!(
            split_amount(Decimal::TEN, rep(9), &wrong),
            Err(SplitProblem::NotHundred(Decimal::from(90)))
        );
    }

    proptest! {
        /// However a deal is split (percentages with two decimals adding up to 100), the
        /// shares add up to the amount: no cent created or lost.
        #[test]
        fn splitting_never_creates_or_loses_a_cent(
            cents in 0_i64..10_000_000_000,
            cuts in prop::collection::vec(0_i64..10_000, 0..6),
        ) {
            let amount = Decimal::new(cents, 2);
            // Cut points in hundredths of a percent: the splits are the gaps between them.
            let mut points: Vec<i64> = cuts;
            points.push(0);
            points.push(10_000);
            points.sort_unstable();
            let splits: Vec<Split> = points
                .windows(2)
                .enumerate()
                .map(|(index, pair)| Split { user_id: rep(index as u128 + 1), percent: Decimal::new(pair[1] - pair[0], 2) })
                .collect();
            let shares = split_amount(amount, rep(99), &splits).unwrap();
            prop_assert_eq!(shares.iter().map(|share| share.1).sum::<Decimal>(), amount);
        }
    }
}
