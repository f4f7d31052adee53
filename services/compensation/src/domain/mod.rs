//! The compensation domain: typed, no I/O.
//!
//! Money is exact throughout: credits are the deals', payments' and expenses' corporate amounts
//! times the rep's split share, never rounded; a statement line is rounded once, when it is
//! made, half to even to the currency's minor unit ([`statement::round_line`]) — the one
//! rounding rule of compensation (docs/adr/0015-compensation-exactness.md).

pub mod assignment;
pub mod credit;
pub mod ledger;
pub mod plan;
pub mod run;
pub mod settlement;
pub mod statement;
#[cfg(test)]
mod testing;
pub mod tiers;
