//! Everything that can go wrong in the opportunities service, mapped once to the wire: the
//! kit's common failures, and the deals' own typed ones.

use crm_platform::error::{CommonError, ErrorCode, FieldViolation, Reason, ServiceError};
use uuid::Uuid;

use crate::domain::{
    expense::ExpenseStatus, opportunity::OpportunityStatus, pipeline::StageKind, quote::QuoteStatus,
};

#[derive(Debug, thiserror::Error)]
pub enum OpportunitiesError {
    #[error(transparent)]
    Common(#[from] CommonError),
    /// A move forward leaves stages whose exit criteria the deal does not meet; each missing
    /// field is a violation.
    #[error("the deal cannot leave {stage} yet: {}", describe(.missing))]
    ExitCriteriaNotMet {
        stage: String,
        missing: Vec<FieldViolation>,
    },
    /// The deal's status does not allow the action (changing a won deal, winning a lost one).
    #[error("opportunity {id} is {status}, so it cannot be {action}")]
    NotAllowedInStatus {
        id: Uuid,
        status: OpportunityStatus,
        action: &'static str,
    },
    /// A stage that deals or their history use cannot be deleted, only retired.
    #[error("stage {stage} is used by deals or their history: retire it instead of deleting it")]
    StageInUse { stage: String },
    /// A deal's status follows its stage's kind, so a stage deals sit in keeps its kind.
    #[error(
        "stage {stage} holds deals, so it cannot change from {from} to {to}: add a new stage and move the deals instead"
    )]
    StageKindInUse {
        stage: String,
        from: StageKind,
        to: StageKind,
    },
    /// A create retried with an id another user already created a record under.
    #[error("{kind} {id} already exists")]
    IdTaken { kind: &'static str, id: Uuid },
    /// A name another record of the kind has (pipelines, competitors, close reasons).
    #[error("a {kind} named {name:?} exists already")]
    NameTaken { kind: &'static str, name: String },
    /// The deal's currency differs from the corporate currency and no rate covers the day.
    #[error(
        "no exchange rate from {currency} into {corporate} on or before {on}: an admin sets one"
    )]
    NoExchangeRate {
        currency: String,
        corporate: String,
        on: chrono::NaiveDate,
    },
    /// A deal with line items takes its amount from them.
    #[error("the deal's amount is the sum of its line items: change the line items instead")]
    AmountFromLineItems,
    /// Deals in a currency take their list prices from its default list, so the default stays
    /// active.
    #[error(
        "price list {name:?} is the default for {currency}: make another list the default before retiring it"
    )]
    DefaultPriceList { name: String, currency: String },
    /// The quote version's status does not allow the action (editing a submitted version,
    /// approving one that waits for nobody, issuing a draft).
    #[error("quote {id} is {status}, so it cannot be {action}")]
    QuoteNotAllowedInStatus {
        id: Uuid,
        status: QuoteStatus,
        action: &'static str,
    },
    /// The expense's status does not allow the action (approving one twice, changing a
    /// submitted one).
    #[error("expense {id} is {status}, so it cannot be {action}")]
    ExpenseNotAllowedInStatus {
        id: Uuid,
        status: ExpenseStatus,
        action: &'static str,
    },
}

fn describe(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|violation| format!("{} {}", violation.field, violation.description))
        .collect::<Vec<_>>()
        .join("; ")
}

impl ServiceError for OpportunitiesError {
    fn code(&self) -> ErrorCode {
        match self {
            OpportunitiesError::Common(common) => common.code(),
            OpportunitiesError::IdTaken { .. } | OpportunitiesError::NameTaken { .. } => {
                ErrorCode::AlreadyExists
            }
            OpportunitiesError::ExitCriteriaNotMet { .. }
            | OpportunitiesError::NotAllowedInStatus { .. }
            | OpportunitiesError::StageInUse { .. }
            | OpportunitiesError::StageKindInUse { .. }
            | OpportunitiesError::NoExchangeRate { .. }
            | OpportunitiesError::AmountFromLineItems
            | OpportunitiesError::DefaultPriceList { .. }
            | OpportunitiesError::QuoteNotAllowedInStatus { .. }
            | OpportunitiesError::ExpenseNotAllowedInStatus { .. } => ErrorCode::FailedPrecondition,
        }
    }

    fn field_violations(&self) -> &[FieldViolation] {
        match self {
            OpportunitiesError::Common(common) => common.field_violations(),
            OpportunitiesError::ExitCriteriaNotMet { missing, .. } => missing,
            _ => &[],
        }
    }

    /// The refusals' reasons ([`reasons`]) and texts for people ([`text_codes`]), sent beside
    /// the English message as a `google.rpc.ErrorInfo`; the English is the `Display` text.
    fn reason(&self) -> Option<Reason> {
        let reason = |reason: &'static str, code: &str| Reason::new(reason, code, self.to_string());
        Some(match self {
            OpportunitiesError::Common(common) => return common.reason(),
            OpportunitiesError::ExitCriteriaNotMet { stage, missing } => reason(
                reasons::EXIT_CRITERIA_NOT_MET,
                text_codes::EXIT_CRITERIA_NOT_MET,
            )
            .param("stage", stage)
            .param(
                "fields",
                missing
                    .iter()
                    .map(|violation| violation.field.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            OpportunitiesError::NotAllowedInStatus { id, status, action } => reason(
                reasons::OPPORTUNITY_STATUS_NOT_ALLOWED,
                text_codes::NOT_ALLOWED_IN_STATUS,
            )
            .param("id", id)
            .param("status", status)
            .param("action", action),
            OpportunitiesError::StageInUse { stage } => {
                reason(reasons::STAGE_IN_USE, text_codes::STAGE_IN_USE).param("stage", stage)
            }
            OpportunitiesError::StageKindInUse { stage, from, to } => {
                reason(reasons::STAGE_KIND_IN_USE, text_codes::STAGE_KIND_IN_USE)
                    .param("stage", stage)
                    .param("from", from)
                    .param("to", to)
            }
            OpportunitiesError::IdTaken { kind, id } => {
                reason(reasons::ID_TAKEN, text_codes::ID_TAKEN)
                    .param("kind", kind)
                    .param("id", id)
            }
            OpportunitiesError::NameTaken { kind, name } => {
                reason(reasons::NAME_TAKEN, text_codes::NAME_TAKEN)
                    .param("kind", kind)
                    .param("name", name)
            }
            OpportunitiesError::NoExchangeRate {
                currency,
                corporate,
                on,
            } => reason(reasons::NO_EXCHANGE_RATE, text_codes::NO_EXCHANGE_RATE)
                .param("currency", currency)
                .param("corporate_currency", corporate)
                .param("on", on),
            OpportunitiesError::AmountFromLineItems => reason(
                reasons::AMOUNT_FROM_LINE_ITEMS,
                text_codes::AMOUNT_FROM_LINE_ITEMS,
            ),
            OpportunitiesError::DefaultPriceList { name, currency } => {
                reason(reasons::DEFAULT_PRICE_LIST, text_codes::DEFAULT_PRICE_LIST)
                    .param("name", name)
                    .param("currency", currency)
            }
            OpportunitiesError::QuoteNotAllowedInStatus { id, status, action } => reason(
                reasons::QUOTE_STATUS_NOT_ALLOWED,
                text_codes::QUOTE_STATUS_NOT_ALLOWED,
            )
            .param("id", id)
            .param("status", status)
            .param("action", action),
            OpportunitiesError::ExpenseNotAllowedInStatus { id, status, action } => reason(
                reasons::EXPENSE_STATUS_NOT_ALLOWED,
                text_codes::EXPENSE_STATUS_NOT_ALLOWED,
            )
            .param("id", id)
            .param("status", status)
            .param("action", action),
        })
    }
}

/// The reasons of the opportunities' refusals (the `reason` of their `google.rpc.ErrorInfo`,
/// domain `crm`), for programs. Never changed in meaning or metadata.
pub mod reasons {
    /// FAILED_PRECONDITION: a move forward leaves a stage whose exit criteria are unmet; the
    /// violations name every missing field.
    pub const EXIT_CRITERIA_NOT_MET: &str = "EXIT_CRITERIA_NOT_MET";
    /// FAILED_PRECONDITION: the deal's status rules the action out.
    pub const OPPORTUNITY_STATUS_NOT_ALLOWED: &str = "OPPORTUNITY_STATUS_NOT_ALLOWED";
    /// FAILED_PRECONDITION: a stage in use is retired, not deleted.
    pub const STAGE_IN_USE: &str = "STAGE_IN_USE";
    /// FAILED_PRECONDITION: a stage deals sit in keeps its kind (open, won, lost).
    pub const STAGE_KIND_IN_USE: &str = "STAGE_KIND_IN_USE";
    /// ALREADY_EXISTS: a create retried with an id another user's record has.
    pub const ID_TAKEN: &str = "ID_TAKEN";
    /// ALREADY_EXISTS: the name is another record's.
    pub const NAME_TAKEN: &str = "NAME_TAKEN";
    /// FAILED_PRECONDITION: no rate converts the deal's currency into the corporate one.
    pub const NO_EXCHANGE_RATE: &str = "NO_EXCHANGE_RATE";
    /// FAILED_PRECONDITION: the deal's line items set its amount.
    pub const AMOUNT_FROM_LINE_ITEMS: &str = "AMOUNT_FROM_LINE_ITEMS";
    /// FAILED_PRECONDITION: a currency's default price list is not retired (another list is
    /// made the default first).
    pub const DEFAULT_PRICE_LIST: &str = "DEFAULT_PRICE_LIST";
    /// FAILED_PRECONDITION: the quote version's status rules the action out (only a draft is
    /// edited or submitted, only a pending discount approved or rejected, …).
    pub const QUOTE_STATUS_NOT_ALLOWED: &str = "QUOTE_STATUS_NOT_ALLOWED";
    /// FAILED_PRECONDITION: the expense's status rules the action out (only a draft or a
    /// rejected one is changed or submitted, only a submitted one approved or rejected).
    pub const EXPENSE_STATUS_NOT_ALLOWED: &str = "EXPENSE_STATUS_NOT_ALLOWED";
}

/// The texts for people of the refusals, with their parameters. Never changed in meaning or
/// parameters.
pub mod text_codes {
    /// "the deal cannot leave {stage} yet: …". `stage`, `fields` (comma-separated).
    pub const EXIT_CRITERIA_NOT_MET: &str = "opportunities.exit_criteria_not_met";
    /// "opportunity {id} is {status}, so it cannot be {action}". `id`, `status`, `action`.
    pub const NOT_ALLOWED_IN_STATUS: &str = "opportunities.not_allowed_in_status";
    /// `stage`.
    pub const STAGE_IN_USE: &str = "opportunities.stage_in_use";
    /// "stage {stage} holds deals, so it cannot change from {from} to {to}: …". `stage`,
    /// `from`, `to` (`open`, `won`, `lost`).
    pub const STAGE_KIND_IN_USE: &str = "opportunities.stage_kind_in_use";
    /// `kind`, `id`.
    pub const ID_TAKEN: &str = "opportunities.id_taken";
    /// `kind`, `name`.
    pub const NAME_TAKEN: &str = "opportunities.name_taken";
    /// `currency`, `corporate_currency`, `on`.
    pub const NO_EXCHANGE_RATE: &str = "opportunities.no_exchange_rate";
    /// No parameters.
    pub const AMOUNT_FROM_LINE_ITEMS: &str = "opportunities.amount_from_line_items";
    /// "price list {name} is the default for {currency}: …". `name`, `currency`.
    pub const DEFAULT_PRICE_LIST: &str = "opportunities.default_price_list";
    /// "quote {id} is {status}, so it cannot be {action}". `id`, `status` (`draft`,
    /// `pending_approval`, `approved`, `rejected`, `issued`, `accepted`, `declined`,
    /// `superseded`), `action`.
    pub const QUOTE_STATUS_NOT_ALLOWED: &str = "opportunities.quote_status_not_allowed";
    /// "expense {id} is {status}, so it cannot be {action}". `id`, `status` (`draft`,
    /// `submitted`, `approved`, `rejected`), `action`.
    pub const EXPENSE_STATUS_NOT_ALLOWED: &str = "opportunities.expense_status_not_allowed";
}

#[cfg(test)]
mod tests {
    use tonic_types::StatusExt;

    use super::*;

    /// Programs branch on the reasons and consoles translate by the codes: the exit-criteria
    /// refusal names every missing field both as violations and in its metadata.
    #[test]
    fn an_exit_criteria_refusal_names_every_missing_field_on_the_wire() {
        let refused = OpportunitiesError::ExitCriteriaNotMet {
            stage: "Qualify".into(),
            missing: vec![
                FieldViolation::new(
                    "custom_fields.budget",
                    "must be filled before the deal leaves Qualify",
                ),
                FieldViolation::new(
                    "buying_committee.decision_maker",
                    "needs a member with this role before the deal leaves Qualify",
                ),
            ],
        };
        let status = tonic::Status::from(refused);
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        let details = status.get_error_details();
        let info = details.error_info().expect("error info");
        assert_eq!(info.reason, "EXIT_CRITERIA_NOT_MET");
        assert_eq!(
            info.metadata["text_code"],
            "opportunities.exit_criteria_not_met"
        );
        assert_eq!(
            info.metadata["fields"],
            "custom_fields.budget,buying_committee.decision_maker"
        );
        let violations = &details.bad_request().expect("violations").field_violations;
        assert_eq!(violations.len(), 2);
        assert_eq!(violations[0].field, "custom_fields.budget");
    }

    /// A stage's kind change refused while deals sit in it says which stage and which change.
    #[test]
    fn a_kind_change_of_a_stage_in_use_names_the_stage_and_the_kinds() {
        let status = tonic::Status::from(OpportunitiesError::StageKindInUse {
            stage: "Propose".into(),
            from: StageKind::Open,
            to: StageKind::Won,
        });
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        let details = status.get_error_details();
        let info = details.error_info().expect("error info");
        assert_eq!(info.reason, "STAGE_KIND_IN_USE");
        let text_code = &info.metadata["text_code"];
        assert_eq!(text_code, "opportunities.stage_kind_in_use");
        assert_eq!(info.metadata["stage"], "Propose");
        assert_eq!(info.metadata["from"], "open");
        assert_eq!(info.metadata["to"], "won");
    }
}

crm_platform::service_error_conversions!(OpportunitiesError);
