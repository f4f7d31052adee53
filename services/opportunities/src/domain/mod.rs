//! The opportunities domain: typed entities and their rules, no I/O.

pub mod activity;
pub mod board;
pub mod calendar;
pub mod criteria;
pub mod funnel;
pub mod ical;
pub mod opportunity;
pub mod order;
pub mod pipeline;
pub mod price_book;
pub mod quote;
pub mod quote_document;
pub mod settings;
pub mod stale;

pub use crm_platform::money::CorporateAmount;
