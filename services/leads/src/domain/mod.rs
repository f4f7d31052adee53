//! The leads domain: the lead lifecycle, fair automatic assignment and claiming, recycling of
//! neglected leads, transparent scoring and duplicate handling, as plain functions.
//! No I/O here: the service loads the facts, calls these and stores the results (including the
//! explanations, which are the audit a manager reads), so every rule is unit- and
//! property-tested without a database.

pub mod assignment;
pub mod assignment_explanation;
pub mod campaign;
pub mod campaign_deal;
pub mod campaign_funnel;
pub mod capture;
pub mod claiming;
pub mod dedupe;
pub mod fairness;
pub mod lead;
pub mod lifecycle;
pub mod recycling;
pub mod roster;
pub mod routing;
pub mod scoring;
