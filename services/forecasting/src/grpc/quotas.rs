//! The quotas' RPCs (`QuotaService`): holders, kinds, periods and targets in; quotas, the
//! consistency report and attainment out.

use chrono::NaiveDate;
use crm_platform::{
    error::{FieldViolation, Violations, reasons::INCONSISTENT_FIELDS},
    money::{Money, parse_decimal},
};
use crm_proto::crm::forecasting::v1::{
    self as pb, quota_service_server::QuotaService, target_value,
};
use tonic::{Request, Response, Status};

use super::{
    authenticated,
    scope::{self, period, resolved},
};
use crate::{
    convert,
    domain::{
        quota::{FindingKind, RampSchedule},
        scope::RequestedScope,
        target::{self, TargetKind},
    },
    error::ForecastingError,
    service::{Basis, Decomposition, Forecasting, TargetInput},
};

pub(crate) struct QuotaApi {
    forecasting: Forecasting,
}

impl QuotaApi {
    pub(crate) fn new(forecasting: Forecasting) -> Self {
        Self { forecasting }
    }
}

/// A required target kind.
fn kind(violations: &mut Violations, field: &str, value: i32) -> Option<TargetKind> {
    let kind = convert::kind_from_wire(value);
    if kind.is_none() {
        violations.add(field, "is required: one of the TargetKind values");
    }
    kind
}

/// A holder: exactly one of the scope's fields (the service refuses none).
fn holder(
    violations: &mut Violations,
    field: &str,
    holder: Option<&pb::ForecastScope>,
) -> RequestedScope {
    if holder.is_none() {
        violations.add(field, "is required: one of user_id, team_path and company");
    }
    scope::requested(violations, field, holder)
}

fn target_input(
    violations: &mut Violations,
    target: Option<&pb::TargetValue>,
) -> Option<TargetInput> {
    let given = target
        .and_then(|target| target.of.as_ref())
        .filter(|of| !matches!(of, target_value::Of::Value(value) if value.trim().is_empty()));
    match given {
        Some(target_value::Of::Amount(amount)) => violations
            .take(Money::parse(
                "target.amount",
                amount,
                crm_platform::money::Sign::Any,
            ))
            .map(TargetInput::Amount),
        Some(target_value::Of::Value(value)) => violations
            .take(parse_decimal("target.value", value))
            .map(TargetInput::Value),
        // None, or an empty value: which of the two the target needs depends on the kind, a
        // refusal for the data as the wrong one is.
        None => {
            violations.push(FieldViolation::refusal(
                INCONSISTENT_FIELDS,
                "target",
                "needs an amount (revenue, average deal size) or a value (the other kinds)",
            ));
            None
        }
    }
}

#[tonic::async_trait]
impl QuotaService for QuotaApi {
    async fn set_quota(
        &self,
        request: Request<pb::SetQuotaRequest>,
    ) -> Result<Response<pb::SetQuotaResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let holder = holder(&mut violations, "holder", request.holder.as_ref());
        let kind = kind(&mut violations, "kind", request.kind);
        let label = scope::period_label(&mut violations, "period", &request.period);
        let target = target_input(&mut violations, request.target.as_ref());
        violations.into_result().map_err(ForecastingError::from)?;
        let (Some(kind), Some(target)) = (kind, target) else {
            return Err(ForecastingError::invalid("kind", "is required").into());
        };
        let quota = self
            .forecasting
            .set_quota(&caller, holder, kind, label, target)
            .await?;
        Ok(Response::new(pb::SetQuotaResponse {
            quota: Some(convert::quota(&quota)),
        }))
    }

    async fn decompose_quota(
        &self,
        request: Request<pb::DecomposeQuotaRequest>,
    ) -> Result<Response<pb::DecomposeQuotaResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let parent = holder(&mut violations, "parent", request.parent.as_ref());
        let kind = kind(&mut violations, "kind", request.kind);
        let label = scope::period_label(&mut violations, "period", &request.period);
        let basis = match pb::DecompositionBasis::try_from(request.basis) {
            Ok(pb::DecompositionBasis::Weights) => {
                let weights = request
                    .weights
                    .iter()
                    .enumerate()
                    .filter_map(|(index, weight)| {
                        let child = holder(
                            &mut violations,
                            &format!("weights[{index}].child"),
                            weight.child.as_ref(),
                        );
                        let value = violations.take(parse_decimal(
                            &format!("weights[{index}].weight"),
                            &weight.weight,
                        ))?;
                        Some((child, value))
                    })
                    .collect::<Vec<_>>();
                if request.weights.is_empty() {
                    violations.push(FieldViolation::refusal(
                        INCONSISTENT_FIELDS,
                        "weights",
                        "a split by weights names each child with its weight",
                    ));
                }
                Some(Basis::Weights(weights))
            }
            Ok(pb::DecompositionBasis::LastYearBookings) => Some(Basis::LastYearBookings),
            Ok(pb::DecompositionBasis::Evenly) => Some(Basis::Evenly),
            _ => {
                violations.add(
                    "basis",
                    "is required: weights, last year's bookings or evenly",
                );
                None
            }
        };
        if !request.weights.is_empty() && !matches!(basis, Some(Basis::Weights(_)) | None) {
            violations.push(FieldViolation::refusal(
                INCONSISTENT_FIELDS,
                "weights",
                "weights are given only for a split by weights",
            ));
        }
        let ramp = violations.check(
            "ramp_percents",
            RampSchedule::new(request.ramp_percents.clone()),
        );
        let new_reps: Vec<(uuid::Uuid, NaiveDate)> = request
            .new_reps
            .iter()
            .enumerate()
            .filter_map(|(index, rep)| {
                let user_id = violations.id(&format!("new_reps[{index}].user_id"), &rep.user_id);
                let started_on = violations.check(
                    &format!("new_reps[{index}].started_on"),
                    rep.started_on
                        .trim()
                        .parse::<NaiveDate>()
                        .map_err(|_| "is not an ISO date (YYYY-MM-DD)"),
                );
                Some((user_id?, started_on?))
            })
            .collect();
        violations.into_result().map_err(ForecastingError::from)?;
        let (Some(kind), Some(basis), Some(ramp)) = (kind, basis, ramp) else {
            return Err(ForecastingError::invalid("kind", "is required").into());
        };
        let (parent, children) = self
            .forecasting
            .decompose_quota(
                &caller,
                Decomposition {
                    parent,
                    kind,
                    basis,
                    ramp,
                    new_reps,
                },
                label,
            )
            .await?;
        Ok(Response::new(pb::DecomposeQuotaResponse {
            parent: Some(convert::quota(&parent)),
            children: children.iter().map(convert::quota).collect(),
        }))
    }

    async fn list_quotas(
        &self,
        request: Request<pb::ListQuotasRequest>,
    ) -> Result<Response<pb::ListQuotasResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let requested = scope::requested(&mut violations, "scope", request.scope.as_ref());
        let label = scope::period_label(&mut violations, "period", &request.period);
        let kind = match request.kind {
            0 => None,
            value => {
                let kind = convert::kind_from_wire(value);
                if kind.is_none() {
                    violations.add("kind", format!("{value} is not a target kind"));
                }
                kind
            }
        };
        violations.into_result().map_err(ForecastingError::from)?;
        let (_, quotas) = self
            .forecasting
            .list_quotas(&caller, requested, label, kind)
            .await?;
        Ok(Response::new(pb::ListQuotasResponse {
            quotas: quotas.iter().map(convert::quota).collect(),
        }))
    }

    async fn check_quotas(
        &self,
        request: Request<pb::CheckQuotasRequest>,
    ) -> Result<Response<pb::CheckQuotasResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let requested = scope::requested(&mut violations, "scope", request.scope.as_ref());
        let label = scope::period_label(&mut violations, "period", &request.period);
        let kind = kind(&mut violations, "kind", request.kind);
        violations.into_result().map_err(ForecastingError::from)?;
        let Some(kind) = kind else {
            return Err(ForecastingError::invalid("kind", "is required").into());
        };
        let (counting, findings) = self
            .forecasting
            .check_quotas(&caller, requested, label, kind)
            .await?;
        Ok(Response::new(pb::CheckQuotasResponse {
            period: Some(period(&counting.period)),
            findings: findings
                .iter()
                .map(|(finding, currency)| {
                    let figure = |value| convert::value(kind, *currency, value);
                    let (no_child_quotas, children_sum, difference) = match finding.kind {
                        FindingKind::NoChildQuotas => (true, None, None),
                        FindingKind::ChildrenDoNotAddUp {
                            children_sum,
                            difference,
                        } => (false, figure(children_sum), figure(difference)),
                    };
                    pb::QuotaFinding {
                        parent: Some(convert::holder(&finding.parent)),
                        quota: figure(finding.quota),
                        no_child_quotas,
                        children_sum,
                        difference,
                        children_without_quota: finding
                            .children_without_quota
                            .iter()
                            .map(convert::holder)
                            .collect(),
                    }
                })
                .collect(),
        }))
    }

    async fn get_attainment(
        &self,
        request: Request<pb::GetAttainmentRequest>,
    ) -> Result<Response<pb::GetAttainmentResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let requested = scope::requested(&mut violations, "scope", request.scope.as_ref());
        let label = scope::period_label(&mut violations, "period", &request.period);
        violations.into_result().map_err(ForecastingError::from)?;
        let attainment = self
            .forecasting
            .attainment(&caller, requested, label)
            .await?;
        let counting = &attainment.counting;
        let currency = counting.currency;
        let places = currency.map_or(2, |code| code.minor_units());
        let kinds = TargetKind::ALL
            .into_iter()
            .map(|kind| {
                let quota = attainment.targets.get(&kind);
                let actual = target::actual(kind, &attainment.counted, places)
                    .and_then(|actual| convert::value(kind, currency, actual));
                let percent = quota
                    .and_then(|quota| target::attainment(kind, quota.target, &attainment.counted));
                pb::KindAttainment {
                    kind: convert::kind(kind) as i32,
                    target: quota
                        .and_then(|quota| convert::value(kind, quota.currency, quota.target)),
                    actual,
                    attainment_percent: percent
                        .map(|percent| crm_platform::money::fixed(percent, 2).to_string())
                        .unwrap_or_default(),
                }
            })
            .collect();
        Ok(Response::new(pb::GetAttainmentResponse {
            scope: Some(resolved(&counting.scope)),
            period: Some(period(&counting.period)),
            kinds,
            days_counted: attainment.counted.days_counted,
            currency_code: currency
                .map(|code| code.as_str().to_owned())
                .unwrap_or_default(),
        }))
    }
}
