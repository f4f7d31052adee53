//! The statements' RPCs (`StatementService`).

use crm_platform::{
    auth::TeamPath,
    error::{FieldViolation, Violations, reasons::INCONSISTENT_FIELDS, required_text},
    money::{Money, Sign},
    time::to_timestamp,
};
use crm_proto::{
    crm::compensation::v1::{self as pb, statement_service_server::StatementService},
    google::api::HttpBody,
};
use tonic::{Request, Response, Status};

use super::authenticated;
use crate::{
    convert, document, error::CompensationError, service::Compensation,
    store::statements::ClosedPeriodRow,
};

pub(crate) struct StatementsApi {
    compensation: Compensation,
}

impl StatementsApi {
    pub(crate) fn new(compensation: Compensation) -> Self {
        Self { compensation }
    }
}

/// A required period label (its form is the schema's; what the calendar makes of it, the
/// service's).
fn period(violations: &mut Violations, text: &str) -> String {
    let label = text.trim();
    if label.is_empty() {
        violations.add("period", "is required: 2026-08, FY2027-Q1 or FY2027");
    }
    label.to_owned()
}

fn closed(row: &ClosedPeriodRow) -> pb::ClosedPeriod {
    pb::ClosedPeriod {
        period: Some(crm_proto::crm::forecasting::v1::FiscalPeriod {
            label: row.label.clone(),
            start_date: row.starts_on.to_string(),
            end_date: row.ends_on.pred_opt().unwrap_or(row.ends_on).to_string(),
        }),
        statement_count: row.statement_count as u32,
        total: row
            .currency
            .as_ref()
            .and_then(|currency| currency.parse().ok())
            .map(|currency| convert::money(row.total, currency)),
        closed_by: row
            .closed_by
            .map(|user| user.to_string())
            .unwrap_or_default(),
        closed_at: Some(to_timestamp(row.closed_at)),
    }
}

fn user_and_period(user_id: &str, label: &str) -> Result<(Option<uuid::Uuid>, String), Status> {
    let mut violations = Violations::new();
    let user = violations.optional_id("user_id", user_id);
    let label = period(&mut violations, label);
    violations.into_result().map_err(CompensationError::from)?;
    Ok((user, label))
}

#[tonic::async_trait]
impl StatementService for StatementsApi {
    async fn get_statement(
        &self,
        request: Request<pb::GetStatementRequest>,
    ) -> Result<Response<pb::GetStatementResponse>, Status> {
        let caller = authenticated(&request)?;
        let (user, label) = user_and_period(&request.get_ref().user_id, &request.get_ref().period)?;
        let statement = self.compensation.statement(&caller, user, &label).await?;
        Ok(Response::new(pb::GetStatementResponse {
            statement: Some(statement),
        }))
    }

    async fn render_statement(
        &self,
        request: Request<pb::RenderStatementRequest>,
    ) -> Result<Response<HttpBody>, Status> {
        let caller = authenticated(&request)?;
        let (user, label) = user_and_period(&request.get_ref().user_id, &request.get_ref().period)?;
        let statement = self.compensation.statement(&caller, user, &label).await?;
        Ok(Response::new(HttpBody {
            content_type: document::CONTENT_TYPE.into(),
            data: document::render(&statement).into_bytes(),
            extensions: Vec::new(),
        }))
    }

    async fn list_team_statements(
        &self,
        request: Request<pb::ListTeamStatementsRequest>,
    ) -> Result<Response<pb::ListTeamStatementsResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let team = match request.team_path.trim() {
            "" => None,
            text => violations.check("team_path", TeamPath::parse(text)),
        };
        let label = period(&mut violations, &request.period);
        violations.into_result().map_err(CompensationError::from)?;
        let team = self
            .compensation
            .team_statements(&caller, team, &label)
            .await?;
        let sum = |pick: fn(&pb::Statement) -> Option<&crm_proto::crm::common::v1::Money>| {
            team.currency.map(|currency| {
                let amount: rust_decimal::Decimal = team
                    .ranked
                    .iter()
                    .filter_map(|(_, _, statement)| pick(statement))
                    .filter_map(|money| money.amount.parse::<rust_decimal::Decimal>().ok())
                    .sum();
                convert::money(amount, currency)
            })
        };
        Ok(Response::new(pb::ListTeamStatementsResponse {
            period: Some(convert::period(&team.period)),
            total: sum(|statement| statement.total.as_ref()),
            credited: sum(|statement| statement.credited.as_ref()),
            statements: team
                .ranked
                .into_iter()
                .map(|(rank, team_path, statement)| pb::TeamStatement {
                    user_id: statement.user_id,
                    display_name: statement.display_name,
                    team_path,
                    status: statement.status,
                    total: statement.total,
                    credited: statement.credited,
                    quota: statement.quota,
                    attainment_percent: statement.attainment_percent,
                    rank,
                })
                .collect(),
        }))
    }

    async fn close_period(
        &self,
        request: Request<pb::ClosePeriodRequest>,
    ) -> Result<Response<pb::ClosePeriodResponse>, Status> {
        let caller = authenticated(&request)?;
        let mut violations = Violations::new();
        let label = period(&mut violations, &request.get_ref().period);
        violations.into_result().map_err(CompensationError::from)?;
        let row = self.compensation.close_period(&caller, &label).await?;
        Ok(Response::new(pb::ClosePeriodResponse {
            closed: Some(closed(&row)),
        }))
    }

    async fn list_closed_periods(
        &self,
        request: Request<pb::ListClosedPeriodsRequest>,
    ) -> Result<Response<pb::ListClosedPeriodsResponse>, Status> {
        let caller = authenticated(&request)?;
        let rows = self.compensation.closed_periods(&caller).await?;
        Ok(Response::new(pb::ListClosedPeriodsResponse {
            periods: rows.iter().map(closed).collect(),
        }))
    }

    async fn adjust_statement(
        &self,
        request: Request<pb::AdjustStatementRequest>,
    ) -> Result<Response<pb::AdjustStatementResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let user = violations.id("user_id", &request.user_id);
        let label = period(&mut violations, &request.period);
        let amount = match &request.amount {
            Some(amount) => violations.take(Money::parse("amount", amount, Sign::Any)),
            None => {
                violations.add("amount", "is required");
                None
            }
        };
        let note = required_text(&mut violations, "note", &request.note, 1000);
        if let Some(amount) = &amount
            && amount.amount.is_zero()
        {
            violations.push(FieldViolation::refusal(
                INCONSISTENT_FIELDS,
                "amount.amount",
                "must not be 0: an adjustment changes the pay",
            ));
        }
        violations.into_result().map_err(CompensationError::from)?;
        let (Some(user), Some(amount)) = (user, amount) else {
            return Err(CompensationError::invalid("amount", "is required").into());
        };
        let statement = self
            .compensation
            .adjust(&caller, user, &label, amount, note)
            .await?;
        Ok(Response::new(pb::AdjustStatementResponse {
            statement: Some(statement),
        }))
    }
}
