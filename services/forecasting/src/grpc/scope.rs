//! The wire forms every forecasting family shares: the scope a request names, the one it was
//! counted for, a fiscal period, money in the corporate currency, a forecast category.

use crm_platform::{
    auth::TeamPath,
    error::{FieldViolation, Violations, reasons::INCONSISTENT_FIELDS},
    fiscal::FiscalPeriod,
    money::{CurrencyCode, Money, fixed},
};
use crm_proto::crm::{
    common::v1::Money as MoneyMessage,
    forecasting::v1::{self as pb, resolved_scope},
    opportunities::v1::ForecastCategory as WireCategory,
};
use rust_decimal::Decimal;

use crate::domain::{
    deal::ForecastCategory,
    scope::{RequestedScope, Scope},
};

/// The scope a request names under `field` (`scope`): at most one of its three fields.
pub(crate) fn requested(
    violations: &mut Violations,
    field: &str,
    scope: Option<&pb::ForecastScope>,
) -> RequestedScope {
    let Some(scope) = scope else {
        return RequestedScope::Mine;
    };
    let user_id = violations.optional_id(&format!("{field}.user_id"), &scope.user_id);
    let team = optional_team(violations, &format!("{field}.team_path"), &scope.team_path);
    let named = usize::from(!scope.user_id.trim().is_empty())
        + usize::from(!scope.team_path.trim().is_empty())
        + usize::from(scope.company);
    if named > 1 {
        violations.push(FieldViolation::refusal(
            INCONSISTENT_FIELDS,
            field,
            "a forecast is one rep's, one team's or the company's: give at most one of user_id, team_path and company",
        ));
    }
    match (user_id, team, scope.company) {
        (Some(user_id), _, _) => RequestedScope::Rep(user_id),
        (None, Some(team), _) => RequestedScope::Team(team),
        (None, None, true) => RequestedScope::Company,
        (None, None, false) => RequestedScope::Mine,
    }
}

/// A team path, `None` when empty.
pub(crate) fn optional_team(
    violations: &mut Violations,
    field: &str,
    text: &str,
) -> Option<TeamPath> {
    match text.trim() {
        "" => None,
        text => violations.check(field, TeamPath::parse(text)),
    }
}

/// A required period label; its form is read in the organisation's calendar by the service.
pub(crate) fn period_label<'a>(violations: &mut Violations, field: &str, text: &'a str) -> &'a str {
    let text = text.trim();
    if text.is_empty() {
        violations.add(field, "is required: a month like 2026-08, a fiscal quarter like FY2027-Q1 or a fiscal year like FY2027");
    }
    text
}

/// A forecast category of a request; unspecified is `None`.
pub(crate) fn category(
    violations: &mut Violations,
    field: &str,
    value: i32,
) -> Option<ForecastCategory> {
    if value == WireCategory::Unspecified as i32 {
        return None;
    }
    let category = ForecastCategory::from_wire(value);
    if category.is_none() {
        violations.add(field, format!("{value} is not a forecast category"));
    }
    category
}

pub(crate) fn wire_category(category: ForecastCategory) -> i32 {
    category as i32
}

pub(crate) fn resolved(scope: &Scope) -> pb::ResolvedScope {
    pb::ResolvedScope {
        of: Some(match scope {
            Scope::Rep { user_id, .. } => resolved_scope::Of::UserId(user_id.to_string()),
            Scope::Team(team) => resolved_scope::Of::TeamPath(team.as_str().to_owned()),
            Scope::Company => resolved_scope::Of::Company(true),
        }),
    }
}

pub(crate) fn period(period: &FiscalPeriod) -> pb::FiscalPeriod {
    pb::FiscalPeriod {
        label: period.to_string(),
        start_date: period.start().to_string(),
        end_date: period.last_day().to_string(),
    }
}

/// An amount of the corporate currency, rounded to its minor unit (once: the sums are exact);
/// absent without a corporate currency.
pub(crate) fn money(currency: Option<CurrencyCode>, amount: Decimal) -> Option<MoneyMessage> {
    currency.map(|currency| {
        Money {
            currency,
            amount: fixed(amount, currency.minor_units()),
        }
        .to_message()
    })
}
