//! Work reports' RPCs (`WorkReportService`): whose report, which period, which time zone.

use crm_platform::{
    error::{FieldViolation, Violations, reasons::INCONSISTENT_FIELDS},
    paging::{KeyKind, Page, SortOrder},
};
use crm_proto::crm::{
    common::v1::PageResponse,
    opportunities::v1::{self as pb, work_report_service_server::WorkReportService},
};
use tonic::{Request, Response, Status};

use super::{
    authenticated,
    deal_input::{id, optional_team, time_zone},
};
use crate::{
    domain::work_report::PeriodKind,
    error::OpportunitiesError,
    service::{Opportunities, WhoseReport},
    store::work_reports::ReportFilter,
};

/// Generated reports, newest period first.
const REPORTS_BY_PERIOD: SortOrder = SortOrder::new("period_start", KeyKind::Date, true);

pub(crate) struct WorkReportsApi {
    opportunities: Opportunities,
}

impl WorkReportsApi {
    pub(crate) fn new(opportunities: Opportunities) -> Self {
        Self { opportunities }
    }
}

fn period_kind(value: i32) -> Result<Option<PeriodKind>, OpportunitiesError> {
    Ok(match pb::WorkReportPeriod::try_from(value) {
        Ok(pb::WorkReportPeriod::Unspecified) => None,
        Ok(pb::WorkReportPeriod::Week) => Some(PeriodKind::Week),
        Ok(pb::WorkReportPeriod::Month) => Some(PeriodKind::Month),
        Err(_) => {
            return Err(OpportunitiesError::invalid(
                "period",
                format!("{value} is not a work report period"),
            ));
        }
    })
}

#[tonic::async_trait]
impl WorkReportService for WorkReportsApi {
    async fn compute_work_report(
        &self,
        request: Request<pb::ComputeWorkReportRequest>,
    ) -> Result<Response<pb::ComputeWorkReportResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let user_id = violations.optional_id("user_id", &request.user_id);
        let team = optional_team("team_path", &request.team_path, &mut violations);
        let day = violations.optional_date("date", &request.date);
        let zone = time_zone(&mut violations, "time_zone", &request.time_zone);
        let kind = period_kind(request.period)?;
        if kind.is_none() {
            violations.add("period", "is required");
        }
        if user_id.is_some() && team.is_some() {
            violations.push(FieldViolation::refusal(
                INCONSISTENT_FIELDS,
                "team_path",
                "a report is a user's or a team's: give user_id or team_path, not both",
            ));
        }
        violations.into_result().map_err(OpportunitiesError::from)?;
        let whose = match (user_id, team) {
            (Some(user_id), _) => WhoseReport::User(user_id),
            (None, Some(team)) => WhoseReport::Team(team),
            (None, None) => WhoseReport::Mine,
        };
        let report = self
            .opportunities
            .compute_work_report(
                &caller,
                whose,
                kind.unwrap_or(PeriodKind::Week),
                day,
                zone.unwrap_or(chrono_tz::Tz::UTC),
            )
            .await?;
        Ok(Response::new(pb::ComputeWorkReportResponse {
            report: Some(report),
        }))
    }

    async fn list_work_reports(
        &self,
        request: Request<pb::ListWorkReportsRequest>,
    ) -> Result<Response<pb::ListWorkReportsResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let user_id = violations.optional_id("user_id", &request.user_id);
        let team = optional_team("team_path", &request.team_path, &mut violations);
        violations.into_result().map_err(OpportunitiesError::from)?;
        let page = Page::parse(request.page.as_ref(), REPORTS_BY_PERIOD)
            .map_err(OpportunitiesError::from)?;
        let filter = ReportFilter {
            user_id,
            team_path: team.map(|team| team.to_string()),
            kind: period_kind(request.period)?,
        };
        let listing = self
            .opportunities
            .list_work_reports(&caller, &filter, &page)
            .await?;
        Ok(Response::new(pb::ListWorkReportsResponse {
            reports: listing.records,
            page: Some(PageResponse {
                next_page_token: listing.next_page_token,
            }),
        }))
    }

    async fn get_work_report(
        &self,
        request: Request<pb::GetWorkReportRequest>,
    ) -> Result<Response<pb::GetWorkReportResponse>, Status> {
        let caller = authenticated(&request)?;
        let report_id = id("report_id", &request.get_ref().report_id)?;
        let report = self
            .opportunities
            .get_work_report(&caller, report_id)
            .await?;
        Ok(Response::new(pb::GetWorkReportResponse {
            report: Some(report),
        }))
    }
}
