//! The opportunities domain: typed entities and their rules, no I/O.

pub mod account_desk;
pub mod activity;
pub mod approval;
pub mod board;
pub mod calendar;
pub mod care;
pub mod collection;
pub mod criteria;
pub mod expense;
pub mod funnel;
pub mod ical;
pub mod opportunity;
pub mod order;
pub mod payment;
pub mod pipeline;
pub mod plan;
pub mod price_book;
pub mod quote;
pub mod quote_document;
pub mod receivable;
pub mod settings;
pub mod stale;
pub mod work_report;

pub use crm_platform::money::CorporateAmount;
