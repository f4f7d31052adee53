//! The forecast calls' RPCs (`ForecastCallService`): a call's numbers in, calls and the team
//! tree's current calls out.

use crm_platform::{
    error::{Violations, optional_text},
    money::{CurrencyCode, Money, Sign},
    paging::{KeyKind, Page, SortOrder},
};
use crm_proto::crm::forecasting::v1::{
    self as pb, forecast_call_service_server::ForecastCallService, resolved_scope,
};
use tonic::{Request, Response, Status};

use super::{
    authenticated,
    scope::{self, money, period},
};
use crate::{
    domain::{
        call::{CallNumbers, CallScope, ForecastCall, TeamLevel},
        deal::ForecastCategory,
    },
    error::ForecastingError,
    service::{CallAmounts, CallInput, Forecasting},
    store::calls::StoredCall,
};

/// The history's order: newest first.
const CALLS_NEWEST_FIRST: SortOrder = SortOrder::new("submitted_at", KeyKind::Time, true);

const MAX_NOTE: usize = 1000;

pub(crate) struct CallsApi {
    forecasting: Forecasting,
}

impl CallsApi {
    pub(crate) fn new(forecasting: Forecasting) -> Self {
        Self { forecasting }
    }
}

/// A call's three amounts under `field`, each required.
fn amounts(
    violations: &mut Violations,
    field: &str,
    given: &pb::CallNumbers,
) -> Option<CallAmounts> {
    let mut read = |name: &str, money: &Option<crm_proto::crm::common::v1::Money>| {
        let at = format!("{field}.{name}");
        match money {
            Some(money) => violations.take(Money::parse(&at, money, Sign::Any)),
            None => {
                violations.add(at, "is required");
                None
            }
        }
    };
    let commit = read("commit", &given.commit);
    let best_case = read("best_case", &given.best_case);
    let pipeline = read("pipeline", &given.pipeline);
    Some([commit?, best_case?, pipeline?])
}

#[tonic::async_trait]
impl ForecastCallService for CallsApi {
    async fn submit_call(
        &self,
        request: Request<pb::SubmitCallRequest>,
    ) -> Result<Response<pb::SubmitCallResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let team = scope::optional_team(&mut violations, "team_path", &request.team_path);
        let label = scope::period_label(&mut violations, "period", &request.period).to_owned();
        let numbers = request
            .numbers
            .as_ref()
            .and_then(|given| amounts(&mut violations, "numbers", given));
        let adjustment = request
            .adjustment
            .as_ref()
            .and_then(|given| amounts(&mut violations, "adjustment", given));
        let note = optional_text(&mut violations, "note", &request.note, MAX_NOTE);
        violations.into_result().map_err(ForecastingError::from)?;
        let (stored, currency) = self
            .forecasting
            .submit_call(
                &caller,
                CallInput {
                    team,
                    period: label,
                    numbers,
                    adjustment,
                    note,
                },
            )
            .await?;
        Ok(Response::new(pb::SubmitCallResponse {
            call: Some(call(Some(currency), &stored)),
        }))
    }

    async fn list_calls(
        &self,
        request: Request<pb::ListCallsRequest>,
    ) -> Result<Response<pb::ListCallsResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let requested = scope::requested(&mut violations, "scope", request.scope.as_ref());
        let label = scope::period_label(&mut violations, "period", &request.period);
        violations.into_result().map_err(ForecastingError::from)?;
        let page = Page::parse(request.page.as_ref(), CALLS_NEWEST_FIRST)
            .map_err(ForecastingError::from)?;
        let (counting, listing) = self
            .forecasting
            .list_calls(&caller, requested, label, &page)
            .await?;
        Ok(Response::new(pb::ListCallsResponse {
            calls: listing
                .records
                .iter()
                .map(|stored| call(counting.currency, stored))
                .collect(),
            page: Some(crm_proto::crm::common::v1::PageResponse {
                next_page_token: listing.next_page_token,
            }),
        }))
    }

    async fn get_call_roll_up(
        &self,
        request: Request<pb::GetCallRollUpRequest>,
    ) -> Result<Response<pb::GetCallRollUpResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let team = scope::optional_team(&mut violations, "team_path", &request.team_path);
        let label = scope::period_label(&mut violations, "period", &request.period);
        violations.into_result().map_err(ForecastingError::from)?;
        let roll_up = self.forecasting.call_roll_up(&caller, team, label).await?;
        let currency = roll_up.counting.currency;
        let levels = roll_up.levels()?;
        Ok(Response::new(pb::GetCallRollUpResponse {
            period: Some(period(&roll_up.counting.period)),
            team: Some(team_level(currency, &levels)),
            currency_code: currency
                .map(|code| code.as_str().to_owned())
                .unwrap_or_default(),
        }))
    }
}

fn team_level(currency: Option<CurrencyCode>, level: &TeamLevel<'_>) -> pb::TeamCallLevel {
    let current =
        |found: Option<&ForecastCall>| found.map(|found| forecast_call(currency, found, None));
    pb::TeamCallLevel {
        team_path: level.team_path.as_str().to_owned(),
        reps: level
            .reps
            .iter()
            .map(|rep| pb::RepCallLevel {
                user_id: rep.user_id.to_string(),
                current_call: current(rep.call),
            })
            .collect(),
        sub_teams: level
            .sub_teams
            .iter()
            .map(|sub_team| team_level(currency, sub_team))
            .collect(),
        current_call: current(level.call),
        below: Some(numbers(currency, &level.below)),
        number: Some(numbers(currency, &level.number)),
        reps_without_call: u32::try_from(level.reps_without_call).unwrap_or(u32::MAX),
    }
}

pub(crate) fn numbers(currency: Option<CurrencyCode>, numbers: &CallNumbers) -> pb::CallNumbers {
    pb::CallNumbers {
        commit: money(currency, numbers.commit),
        best_case: money(currency, numbers.best_case),
        pipeline: money(currency, numbers.pipeline),
    }
}

pub(crate) fn call(currency: Option<CurrencyCode>, stored: &StoredCall) -> pb::ForecastCall {
    forecast_call(currency, &stored.call, Some(&stored.team_path))
}

/// A call on the wire; `filed_under` is the team of a rep call (a team call's is its own).
pub(crate) fn forecast_call(
    currency: Option<CurrencyCode>,
    call: &ForecastCall,
    filed_under: Option<&crm_platform::auth::TeamPath>,
) -> pb::ForecastCall {
    let (scope, team_path) = match &call.scope {
        CallScope::Rep(user_id) => (
            resolved_scope::Of::UserId(user_id.to_string()),
            filed_under
                .map(|team| team.as_str().to_owned())
                .unwrap_or_default(),
        ),
        CallScope::Team(team) => (
            resolved_scope::Of::TeamPath(team.as_str().to_owned()),
            team.as_str().to_owned(),
        ),
    };
    let pipeline_of = |category| call.pipeline.get(&category).copied().unwrap_or_default();
    let closed = pipeline_of(ForecastCategory::Closed);
    let commit_total = closed + pipeline_of(ForecastCategory::Commit);
    pb::ForecastCall {
        call_id: call.id.to_string(),
        scope: Some(pb::ResolvedScope { of: Some(scope) }),
        period: Some(period(&call.period)),
        team_path,
        submitted_by: call.submitted_by.to_string(),
        submitted_at: Some(crm_platform::time::to_timestamp(call.submitted_at)),
        numbers: Some(numbers(currency, &call.numbers)),
        rolled_up: call
            .team
            .as_ref()
            .map(|team| numbers(currency, &team.rolled_up)),
        adjustment: call.team.as_ref().map(|team| {
            numbers(
                currency,
                &CallNumbers {
                    commit: team.adjustment.commit,
                    best_case: team.adjustment.best_case,
                    pipeline: team.adjustment.pipeline,
                },
            )
        }),
        note: call.note.clone(),
        pipeline: Some(pb::PipelineAtCall {
            closed: money(currency, closed),
            commit: money(currency, pipeline_of(ForecastCategory::Commit)),
            best_case: money(currency, pipeline_of(ForecastCategory::BestCase)),
            pipeline: money(currency, pipeline_of(ForecastCategory::Pipeline)),
            omitted: money(currency, pipeline_of(ForecastCategory::Omitted)),
            commit_total: money(currency, commit_total),
            best_case_total: money(
                currency,
                commit_total + pipeline_of(ForecastCategory::BestCase),
            ),
        }),
    }
}
