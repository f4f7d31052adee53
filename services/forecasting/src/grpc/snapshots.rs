//! The snapshots' RPCs (`SnapshotService`): the weeks taken, a period's movement between two
//! of them, and the accuracy of a period's calls.

use chrono::NaiveDate;
use crm_platform::{
    error::Violations,
    money::CurrencyCode,
    paging::{KeyKind, Page, SortOrder},
};
use crm_proto::crm::{
    common::v1::PageResponse,
    forecasting::v1::{self as pb, snapshot_service_server::SnapshotService},
    opportunities::v1::OpportunityStatus,
};
use rust_decimal::Decimal;
use tonic::{Request, Response, Status};

use super::{
    authenticated,
    calls::call,
    scope::{self, money, period, resolved, wire_category},
    statistics::wire_method,
};
use crate::{
    domain::{
        accuracy::{Accuracy, Comparison},
        deal::DealStatus,
        movement::{MovedDeal, MovementKind, PipelineTotal, SnapshotDeal},
    },
    error::ForecastingError,
    service::{Forecasting, week_label},
    store::snapshots::SnapshotWeek,
};

const WEEKS_NEWEST_FIRST: SortOrder = SortOrder::new("week_start", KeyKind::Date, true);

pub(crate) struct SnapshotsApi {
    forecasting: Forecasting,
}

impl SnapshotsApi {
    pub(crate) fn new(forecasting: Forecasting) -> Self {
        Self { forecasting }
    }
}

fn day(violations: &mut Violations, field: &str, text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    if text.is_empty() {
        violations.add(
            field,
            "is required: a day of the snapshot's week, like 2026-12-07",
        );
        return None;
    }
    violations.check(
        field,
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| format!("{text:?} is not a date like 2026-12-07")),
    )
}

#[tonic::async_trait]
impl SnapshotService for SnapshotsApi {
    async fn list_snapshots(
        &self,
        request: Request<pb::ListSnapshotsRequest>,
    ) -> Result<Response<pb::ListSnapshotsResponse>, Status> {
        authenticated(&request)?;
        let request = request.into_inner();
        let page = Page::parse(request.page.as_ref(), WEEKS_NEWEST_FIRST)
            .map_err(ForecastingError::from)?;
        let listing = self.forecasting.list_snapshots(&page).await?;
        Ok(Response::new(pb::ListSnapshotsResponse {
            snapshots: listing.records.iter().map(snapshot).collect(),
            page: Some(PageResponse {
                next_page_token: listing.next_page_token,
            }),
        }))
    }

    async fn get_movement(
        &self,
        request: Request<pb::GetMovementRequest>,
    ) -> Result<Response<pb::GetMovementResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let requested = scope::requested(&mut violations, "scope", request.scope.as_ref());
        let label = scope::period_label(&mut violations, "period", &request.period);
        let from = day(&mut violations, "from_week", &request.from_week);
        let to = day(&mut violations, "to_week", &request.to_week);
        violations.into_result().map_err(ForecastingError::from)?;
        let (Some(from), Some(to)) = (from, to) else {
            return Err(ForecastingError::invalid("from_week", "is required").into());
        };
        let between = self
            .forecasting
            .movement(&caller, requested, label, from, to)
            .await?;
        let currency = between.counting.currency;
        let movement = &between.movement;
        let deal = |moved: &MovedDeal| pb::MovedDeal {
            opportunity_id: moved.id.to_string(),
            name: between.names.get(&moved.id).cloned().unwrap_or_default(),
            kind: wire_kind(moved.kind),
            before: moved
                .before
                .as_ref()
                .map(|state| deal_state(currency, state)),
            after: moved
                .after
                .as_ref()
                .map(|state| deal_state(currency, state)),
            amount: money(currency, moved.amount),
            change: money(currency, moved.change),
        };
        Ok(Response::new(pb::GetMovementResponse {
            period: Some(period(&between.counting.period)),
            scope: Some(resolved(&between.counting.scope)),
            start: Some(pipeline(currency, &between.from, &movement.start)),
            end: Some(pipeline(currency, &between.to, &movement.end)),
            groups: movement
                .groups
                .iter()
                .map(|group| pb::MovementGroup {
                    kind: wire_kind(group.kind),
                    deal_count: u32::try_from(group.deals.len()).unwrap_or(u32::MAX),
                    amount: money(currency, group.amount),
                    change: money(currency, group.change),
                    deals: group.deals.iter().map(deal).collect(),
                })
                .collect(),
            unchanged_count: u32::try_from(movement.unchanged_count).unwrap_or(u32::MAX),
            currency_code: currency
                .map(|code| code.as_str().to_owned())
                .unwrap_or_default(),
        }))
    }

    async fn get_accuracy(
        &self,
        request: Request<pb::GetAccuracyRequest>,
    ) -> Result<Response<pb::GetAccuracyResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let requested = scope::requested(&mut violations, "scope", request.scope.as_ref());
        let label = scope::period_label(&mut violations, "period", &request.period);
        violations.into_result().map_err(ForecastingError::from)?;
        let accuracy = self.forecasting.accuracy(&caller, requested, label).await?;
        let currency = accuracy.counting.currency;
        let levels = accuracy
            .levels
            .iter()
            .map(|level| {
                let calls: Vec<pb::JudgedCall> = level
                    .calls
                    .iter()
                    .map(|(judged, accuracy)| pb::JudgedCall {
                        call: Some(call(currency, judged)),
                        commit: Some(comparison(currency, &accuracy.commit)),
                        best_case: Some(comparison(currency, &accuracy.best_case)),
                    })
                    .collect();
                pb::LevelAccuracy {
                    scope: Some(resolved(&level.scope)),
                    booked: money(currency, level.booked),
                    final_call: calls.first().cloned(),
                    calls,
                    summary: Some(summary(currency, &level.summary)),
                }
            })
            .collect();
        let methods = accuracy
            .methods
            .iter()
            .map(|judged| pb::MethodAccuracy {
                method: wire_method(Some(judged.method)),
                forecast: Some(comparison(currency, &judged.comparison)),
                history_periods: u32::try_from(judged.history_periods).unwrap_or(u32::MAX),
            })
            .collect();
        Ok(Response::new(pb::GetAccuracyResponse {
            period: Some(period(&accuracy.counting.period)),
            levels,
            methods,
            currency_code: currency
                .map(|code| code.as_str().to_owned())
                .unwrap_or_default(),
        }))
    }
}

fn snapshot(week: &SnapshotWeek) -> pb::Snapshot {
    pb::Snapshot {
        week_start: week.week_start.to_string(),
        week_label: week_label(week.week_start),
        taken_at: Some(crm_platform::time::to_timestamp(week.taken_at)),
    }
}

fn pipeline(
    currency: Option<CurrencyCode>,
    week: &SnapshotWeek,
    total: &PipelineTotal,
) -> pb::SnapshotPipeline {
    pb::SnapshotPipeline {
        snapshot: Some(snapshot(week)),
        deal_count: u32::try_from(total.deal_count).unwrap_or(u32::MAX),
        total: money(currency, total.total),
        by_category: total
            .by_category
            .iter()
            .map(|(category, amount)| pb::CategoryAmount {
                category: wire_category(*category),
                amount: money(currency, *amount),
            })
            .collect(),
    }
}

fn deal_state(currency: Option<CurrencyCode>, deal: &SnapshotDeal) -> pb::SnapshotDealState {
    pb::SnapshotDealState {
        status: match deal.status {
            DealStatus::Open => OpportunityStatus::Open,
            DealStatus::Won => OpportunityStatus::Won,
            DealStatus::Lost => OpportunityStatus::Lost,
            DealStatus::Archived => OpportunityStatus::Archived,
        } as i32,
        category: wire_category(deal.category),
        amount: money(currency, deal.amount),
        expected_close_date: deal.expected_close_date.to_string(),
    }
}

fn wire_kind(kind: MovementKind) -> i32 {
    (match kind {
        MovementKind::In => pb::MovementKind::In,
        MovementKind::Out => pb::MovementKind::Out,
        MovementKind::Up => pb::MovementKind::Up,
        MovementKind::Down => pb::MovementKind::Down,
        MovementKind::PulledIn => pb::MovementKind::PulledIn,
        MovementKind::PushedOut => pb::MovementKind::PushedOut,
        MovementKind::Won => pb::MovementKind::Won,
        MovementKind::Lost => pb::MovementKind::Lost,
    }) as i32
}

fn comparison(currency: Option<CurrencyCode>, compared: &Comparison) -> pb::ForecastComparison {
    pb::ForecastComparison {
        forecast: money(currency, compared.forecast),
        actual: money(currency, compared.actual),
        error: money(currency, compared.error),
        absolute_percentage_error: percentage(compared.absolute_percentage_error),
    }
}

fn summary(currency: Option<CurrencyCode>, accuracy: &Accuracy) -> pb::AccuracySummary {
    pb::AccuracySummary {
        count: u32::try_from(accuracy.count).unwrap_or(u32::MAX),
        mean_error: accuracy.mean_error.and_then(|mean| money(currency, mean)),
        mean_absolute_percentage_error: percentage(accuracy.mean_absolute_percentage_error),
    }
}

/// Two decimals ("12.50"), empty for none.
fn percentage(value: Option<Decimal>) -> String {
    value
        .map(|value| crm_platform::money::fixed(value, 2).to_string())
        .unwrap_or_default()
}
