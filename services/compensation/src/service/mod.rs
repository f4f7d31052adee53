//! The compensation service's use cases, one transaction each (the ledger's: the consumer's).

pub mod ledger;
