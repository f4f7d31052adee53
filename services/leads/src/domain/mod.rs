//! The leads domain: the lead lifecycle, fair automatic assignment and claiming, recycling of
//! neglected leads, transparent scoring and duplicate handling, as plain functions.
//! No I/O here: the service loads the facts, calls these and stores the results (including the
//! explanations, which are the audit a manager reads), so every rule is unit- and
//! property-tested without a database.

pub mod assignment;
pub mod assignment_explanation;
pub mod claiming;
pub mod dedupe;
pub mod fairness;
pub mod lead;
pub mod lifecycle;
pub mod recycling;
pub mod routing;
pub mod scoring;

pub use assignment::{
    AssignmentDecision, AssignmentRule, AssignmentState, ClaimRefusal, CompanySizeBand,
    FALLBACK_GROUP, LeadProfile, RuleCriteria, assign, can_claim,
};
pub use assignment_explanation::AssignmentExplanation;
pub use dedupe::{
    DedupeAction, DuplicatePolicies, DuplicatePolicy, FieldOrigin, LeadContactPoints, LeadFields,
    Side, decide, merge_leads,
};
pub use fairness::{FairnessPolicy, RepLoad, RepStage, RoundRobinState, rep_weight};
pub use lifecycle::{LeadStatus, LeadTransition, LifecycleError, transition};
pub use recycling::{
    CooldownRefusal, LeadActivityClock, RecycleDecision, RecycleReason, RecyclingPolicy,
    reclaim_allowed, recycle_decision,
};
pub use scoring::{EngagementActivity, LeadScore, ScoreReason, ScoringInput, ScoringModel, score};
