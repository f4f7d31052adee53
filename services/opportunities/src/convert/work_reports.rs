//! Work reports, records → wire: the WorkReport message WorkReportService returns and the
//! schedule keeps.

use chrono::{DateTime, Utc};
use crm_platform::{
    money::{CurrencyCode, Money},
    time::to_timestamp,
};
use crm_proto::crm::{common::v1 as common, opportunities::v1 as pb};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::{
    domain::{
        opportunity::OpportunityStatus,
        work_report::{MAX_LISTED, PeriodKind, RepWork, ReportPeriod, ReportSubject, WorkSummary},
    },
    store::work_reports::{ActivityLine, ClosedLine, MoveLine, NextStepLine},
};

pub(crate) fn period_kind(kind: PeriodKind) -> pb::WorkReportPeriod {
    match kind {
        PeriodKind::Week => pb::WorkReportPeriod::Week,
        PeriodKind::Month => pb::WorkReportPeriod::Month,
    }
}

fn money(currency: CurrencyCode, amount: Decimal) -> common::Money {
    Money { currency, amount }.to_message()
}

/// A stored money pair (currency text and amount) as Money; `None` for an unknown currency.
fn stored_money(currency: &str, amount: Decimal) -> Option<common::Money> {
    Some(money(currency.parse().ok()?, amount))
}

pub(crate) fn summary(summary: &WorkSummary) -> pb::WorkSummary {
    pb::WorkSummary {
        calls: summary.calls,
        meetings: summary.meetings,
        visits: summary.visits,
        emails: summary.emails,
        notes: summary.notes,
        tasks_completed: summary.tasks_completed,
        tasks_overdue: summary.tasks_overdue,
        deals_created: summary.deals_created,
        deals_moved_forward: summary.deals_moved_forward,
        deals_moved_back: summary.deals_moved_back,
        deals_won: summary.deals_won,
        deals_lost: summary.deals_lost,
        won_amount: summary
            .won_amount
            .map(|(currency, amount)| money(currency, amount)),
    }
}

fn id_text(id: Option<Uuid>) -> String {
    id.map(|id| id.to_string()).unwrap_or_default()
}

fn activity_kind(kind: &str) -> pb::ActivityKind {
    match kind {
        "call" => pb::ActivityKind::Call,
        "meeting" => pb::ActivityKind::Meeting,
        "visit" => pb::ActivityKind::Visit,
        "email" => pb::ActivityKind::Email,
        "note" => pb::ActivityKind::Note,
        _ => pb::ActivityKind::Unspecified,
    }
}

fn activity(line: &ActivityLine) -> pb::ReportedActivity {
    pb::ReportedActivity {
        activity_id: line.id.to_string(),
        kind: activity_kind(&line.kind).into(),
        subject: line.subject.clone(),
        starts_at: Some(to_timestamp(line.starts_at)),
        owner_id: line.owner_id.to_string(),
        opportunity_id: id_text(line.opportunity_id),
        account_id: id_text(line.account_id),
        contact_id: id_text(line.contact_id),
        lead_id: id_text(line.lead_id),
        opportunity_name: line.opportunity_name.clone().unwrap_or_default(),
    }
}

fn deal_move(line: &MoveLine) -> pb::DealMove {
    pb::DealMove {
        opportunity_id: line.opportunity_id.to_string(),
        opportunity_name: line.opportunity_name.clone(),
        from_stage_id: line.from_stage_id.to_string(),
        from_stage_name: line.from_stage_name.clone(),
        to_stage_id: id_text(line.to_stage_id),
        to_stage_name: line.to_stage_name.clone().unwrap_or_default(),
        forward: line.forward,
        moved_at: Some(to_timestamp(line.moved_at)),
        owner_id: line.owner_id.to_string(),
    }
}

fn closed_deal(line: &ClosedLine) -> pb::ClosedDeal {
    pb::ClosedDeal {
        opportunity_id: line.id.to_string(),
        opportunity_name: line.name.clone(),
        amount: stored_money(&line.currency, line.amount),
        corporate_amount: line
            .corporate_currency
            .as_deref()
            .zip(line.corporate_amount)
            .and_then(|(currency, amount)| stored_money(currency, amount)),
        closed_at: Some(to_timestamp(line.closed_at)),
        owner_id: line.owner_id.to_string(),
    }
}

fn next_step(line: &NextStepLine) -> pb::NextStep {
    pb::NextStep {
        opportunity_id: line.id.to_string(),
        opportunity_name: line.name.clone(),
        next_step: line.next_step.clone(),
        expected_close_date: line.expected_close_date.to_string(),
        stage_name: line.stage_name.clone(),
        owner_id: line.owner_id.to_string(),
    }
}

/// What a report is made of, as read.
pub(crate) struct ReportParts {
    pub subject: ReportSubject,
    pub period: ReportPeriod,
    pub time_zone: String,
    pub summary: WorkSummary,
    /// A team's reps; empty for a rep's report.
    pub reps: Vec<RepWork>,
    pub activities: Vec<ActivityLine>,
    pub moves: Vec<MoveLine>,
    pub closed: Vec<ClosedLine>,
    pub next_steps: Vec<NextStepLine>,
    pub generated_at: DateTime<Utc>,
}

pub(crate) fn report(id: Option<Uuid>, parts: &ReportParts) -> pb::WorkReport {
    let won = OpportunityStatus::Won as i16;
    pb::WorkReport {
        id: id_text(id),
        user_id: id_text(parts.subject.user_id()),
        team_path: parts.subject.team_path().to_string(),
        period: period_kind(parts.period.kind).into(),
        period_start: parts.period.first_day.to_string(),
        period_end: parts.period.last_day.to_string(),
        time_zone: parts.time_zone.clone(),
        summary: Some(summary(&parts.summary)),
        reps: parts
            .reps
            .iter()
            .map(|rep| pb::RepWork {
                user_id: rep.user_id.to_string(),
                team_path: rep.team_path.clone(),
                summary: Some(summary(&rep.summary)),
            })
            .collect(),
        activities: parts
            .activities
            .iter()
            .take(MAX_LISTED)
            .map(activity)
            .collect(),
        activities_truncated: parts.activities.len() > MAX_LISTED,
        moves: parts.moves.iter().take(MAX_LISTED).map(deal_move).collect(),
        moves_truncated: parts.moves.len() > MAX_LISTED,
        won: parts
            .closed
            .iter()
            .filter(|line| line.status == won)
            .map(closed_deal)
            .collect(),
        lost: parts
            .closed
            .iter()
            .filter(|line| line.status != won)
            .map(closed_deal)
            .collect(),
        next_steps: parts.next_steps.iter().map(next_step).collect(),
        generated_at: Some(to_timestamp(parts.generated_at)),
    }
}
