//! What work reports read — the activity log, tasks, stage history and deals of a rep or a team
//! over a span of instants — and the generated reports themselves. A generated report is kept
//! as the `WorkReport` message it was served as (protobuf bytes): it is a document of what was
//! true when it was made, read back whole, and the message's compatibility rules (buf
//! breaking) keep old ones readable.

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{
    access::{OwnerColumns, push_visibility, push_within},
    auth::Caller,
    money::CurrencyCode,
    paging::Page,
};
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::domain::{
    opportunity::OpportunityStatus,
    work_report::{
        MAX_LISTED, MAX_NEXT_STEPS, Metric, PeriodKind, RepCount, RepWonAmount, ReportSubject,
    },
};

/// The instants a report covers, `from..to`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// ` AND <the row is the subject's>` for a table aliased `alias`.
fn push_subject(query: &mut QueryBuilder<Postgres>, subject: &ReportSubject, alias: &str) {
    match subject {
        ReportSubject::Rep { user_id, .. } => {
            query
                .push(format!(" AND {alias}.owner_id = "))
                .push_bind(*user_id);
        }
        ReportSubject::Team(path) => {
            query.push(" AND ");
            push_within(query, &format!("{alias}.owner_team_path"), path);
        }
    }
}

fn push_span(query: &mut QueryBuilder<Postgres>, column: &str, span: Span) {
    query
        .push(format!(" AND {column} >= "))
        .push_bind(span.from)
        .push(format!(" AND {column} < "))
        .push_bind(span.to);
}

/// Every count of the subject's reps over the span, one row per rep and metric.
pub(crate) async fn rep_counts(
    connection: &mut PgConnection,
    subject: &ReportSubject,
    span: Span,
) -> sqlx::Result<Vec<RepCount>> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT a.owner_id, max(a.owner_team_path), a.kind, count(*) FROM activities a WHERE true",
    );
    push_subject(&mut query, subject, "a");
    push_span(&mut query, "a.starts_at", span);
    query.push(
        " GROUP BY a.owner_id, a.kind UNION ALL \
         SELECT t.owner_id, max(t.owner_team_path), 'tasks_completed', count(*) FROM tasks t WHERE true",
    );
    push_subject(&mut query, subject, "t");
    push_span(&mut query, "t.completed_at", span);
    query.push(
        " GROUP BY t.owner_id UNION ALL \
         SELECT t.owner_id, max(t.owner_team_path), 'tasks_overdue', count(*) FROM tasks t WHERE true",
    );
    push_subject(&mut query, subject, "t");
    query
        .push(" AND t.due_at < ")
        .push_bind(span.to)
        .push(" AND (t.completed_at IS NULL OR t.completed_at >= ")
        .push_bind(span.to)
        .push(
            ") GROUP BY t.owner_id UNION ALL \
             SELECT o.owner_id, max(o.owner_team_path), 'deals_created', count(*) FROM opportunities o \
             WHERE o.status <> ",
        )
        .push_bind(OpportunityStatus::Archived as i16);
    push_subject(&mut query, subject, "o");
    push_span(&mut query, "o.created_at", span);
    query.push(
        " GROUP BY o.owner_id UNION ALL \
         SELECT h.owner_id, max(h.owner_team_path), \
         CASE h.exit_kind WHEN 1 THEN 'moved_forward' ELSE 'moved_back' END, count(*) \
         FROM stage_history h WHERE h.exit_kind IN (1, 2)",
    );
    push_subject(&mut query, subject, "h");
    push_span(&mut query, "h.exited_at", span);
    query
        .push(
            " GROUP BY h.owner_id, h.exit_kind UNION ALL \
             SELECT o.owner_id, max(o.owner_team_path), \
             CASE o.status WHEN 2 THEN 'won' ELSE 'lost' END, count(*) FROM opportunities o \
             WHERE o.status IN (",
        )
        .push_bind(OpportunityStatus::Won as i16)
        .push(", ")
        .push_bind(OpportunityStatus::Lost as i16)
        .push(")");
    push_subject(&mut query, subject, "o");
    push_span(&mut query, "o.closed_at", span);
    query.push(" GROUP BY o.owner_id, o.status");
    let rows: Vec<(Uuid, String, String, i64)> =
        query.build_query_as().fetch_all(connection).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(user_id, team_path, metric, count)| {
            let metric = match metric.as_str() {
                "tasks_completed" => Metric::TasksCompleted,
                "tasks_overdue" => Metric::TasksOverdue,
                "deals_created" => Metric::DealsCreated,
                "moved_forward" => Metric::DealsMovedForward,
                "moved_back" => Metric::DealsMovedBack,
                "won" => Metric::DealsWon,
                "lost" => Metric::DealsLost,
                kind => Metric::of_activity(kind)?,
            };
            Some(RepCount {
                user_id,
                team_path,
                metric,
                count: u32::try_from(count).unwrap_or(u32::MAX),
            })
        })
        .collect())
}

/// The corporate amounts the subject's reps won over the span, in `corporate` (deals
/// converted before a change of corporate currency are left out rather than mixed in).
pub(crate) async fn won_amounts(
    connection: &mut PgConnection,
    subject: &ReportSubject,
    span: Span,
    corporate: CurrencyCode,
) -> sqlx::Result<Vec<RepWonAmount>> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT o.owner_id, sum(o.corporate_amount) FROM opportunities o WHERE o.status = ",
    );
    query
        .push_bind(OpportunityStatus::Won as i16)
        .push(" AND o.corporate_currency = ")
        .push_bind(corporate.as_str());
    push_subject(&mut query, subject, "o");
    push_span(&mut query, "o.closed_at", span);
    query.push(" GROUP BY o.owner_id");
    let rows: Vec<(Uuid, Decimal)> = query.build_query_as().fetch_all(connection).await?;
    Ok(rows
        .into_iter()
        .map(|(user_id, amount)| RepWonAmount {
            user_id,
            currency: corporate,
            amount,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
pub(crate) struct ActivityLine {
    pub id: Uuid,
    pub kind: String,
    pub subject: String,
    pub starts_at: DateTime<Utc>,
    pub owner_id: Uuid,
    pub opportunity_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub lead_id: Option<Uuid>,
    pub opportunity_name: Option<String>,
}

/// The span's activities, newest first, one more than a report lists (to tell it was cut).
pub(crate) async fn activities(
    connection: &mut PgConnection,
    subject: &ReportSubject,
    span: Span,
) -> sqlx::Result<Vec<ActivityLine>> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT a.id, a.kind, a.subject, a.starts_at, a.owner_id, a.opportunity_id, a.account_id, \
         a.contact_id, a.lead_id, o.name AS opportunity_name FROM activities a \
         LEFT JOIN opportunities o ON o.id = a.opportunity_id WHERE true",
    );
    push_subject(&mut query, subject, "a");
    push_span(&mut query, "a.starts_at", span);
    query
        .push(" ORDER BY a.starts_at DESC, a.id DESC LIMIT ")
        .push_bind(MAX_LISTED as i64 + 1);
    query.build_query_as().fetch_all(connection).await
}

#[derive(sqlx::FromRow)]
pub(crate) struct MoveLine {
    pub opportunity_id: Uuid,
    pub opportunity_name: String,
    pub from_stage_id: Uuid,
    pub from_stage_name: String,
    pub to_stage_id: Option<Uuid>,
    pub to_stage_name: Option<String>,
    pub forward: bool,
    pub moved_at: DateTime<Utc>,
    pub owner_id: Uuid,
}

/// The span's stage moves (forward and back, not closes), oldest first, one more than listed.
pub(crate) async fn moves(
    connection: &mut PgConnection,
    subject: &ReportSubject,
    span: Span,
) -> sqlx::Result<Vec<MoveLine>> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT h.opportunity_id, o.name AS opportunity_name, h.stage_id AS from_stage_id, \
         s.name AS from_stage_name, n.stage_id AS to_stage_id, ns.name AS to_stage_name, \
         h.exit_kind = 1 AS forward, h.exited_at AS moved_at, h.owner_id \
         FROM stage_history h JOIN opportunities o ON o.id = h.opportunity_id \
         JOIN stages s ON s.id = h.stage_id \
         LEFT JOIN LATERAL (SELECT next.stage_id FROM stage_history next \
           WHERE next.opportunity_id = h.opportunity_id AND next.entered_at >= h.exited_at \
           AND next.id <> h.id ORDER BY next.entered_at LIMIT 1) n ON true \
         LEFT JOIN stages ns ON ns.id = n.stage_id WHERE h.exit_kind IN (1, 2)",
    );
    push_subject(&mut query, subject, "h");
    push_span(&mut query, "h.exited_at", span);
    query
        .push(" ORDER BY h.exited_at, h.id LIMIT ")
        .push_bind(MAX_LISTED as i64 + 1);
    query.build_query_as().fetch_all(connection).await
}

#[derive(sqlx::FromRow)]
pub(crate) struct ClosedLine {
    pub id: Uuid,
    pub name: String,
    pub currency: String,
    pub amount: Decimal,
    pub corporate_currency: Option<String>,
    pub corporate_amount: Option<Decimal>,
    pub closed_at: DateTime<Utc>,
    pub owner_id: Uuid,
    pub status: i16,
}

/// The deals won or lost over the span, in the order they closed (at most the listed many).
pub(crate) async fn closed(
    connection: &mut PgConnection,
    subject: &ReportSubject,
    span: Span,
) -> sqlx::Result<Vec<ClosedLine>> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT o.id, o.name, o.currency, o.amount, o.corporate_currency, o.corporate_amount, \
         o.closed_at, o.owner_id, o.status FROM opportunities o WHERE o.status IN (",
    );
    query
        .push_bind(OpportunityStatus::Won as i16)
        .push(", ")
        .push_bind(OpportunityStatus::Lost as i16)
        .push(")");
    push_subject(&mut query, subject, "o");
    push_span(&mut query, "o.closed_at", span);
    query
        .push(" ORDER BY o.closed_at, o.id LIMIT ")
        .push_bind(MAX_LISTED as i64);
    query.build_query_as().fetch_all(connection).await
}

#[derive(sqlx::FromRow)]
pub(crate) struct NextStepLine {
    pub id: Uuid,
    pub name: String,
    pub next_step: String,
    pub expected_close_date: NaiveDate,
    pub stage_name: String,
    pub owner_id: Uuid,
}

/// The subject's open deals with a next step, by expected close date.
pub(crate) async fn next_steps(
    connection: &mut PgConnection,
    subject: &ReportSubject,
) -> sqlx::Result<Vec<NextStepLine>> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT o.id, o.name, o.next_step, o.expected_close_date, s.name AS stage_name, o.owner_id \
         FROM opportunities o JOIN stages s ON s.id = o.stage_id WHERE o.status = ",
    );
    query
        .push_bind(OpportunityStatus::Open as i16)
        .push(" AND o.next_step <> ''");
    push_subject(&mut query, subject, "o");
    query
        .push(" ORDER BY o.expected_close_date, o.id LIMIT ")
        .push_bind(MAX_NEXT_STEPS as i64);
    query.build_query_as().fetch_all(connection).await
}

/// The reps with any work over the span, with the team path of their latest record in it.
pub(crate) async fn reps_with_work(
    connection: &mut PgConnection,
    span: Span,
) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as(
        "SELECT DISTINCT ON (owner_id) owner_id, owner_team_path FROM ( \
           SELECT owner_id, owner_team_path, starts_at AS at FROM activities \
             WHERE starts_at >= $1 AND starts_at < $2 \
           UNION ALL SELECT owner_id, owner_team_path, completed_at FROM tasks \
             WHERE completed_at >= $1 AND completed_at < $2 \
           UNION ALL SELECT owner_id, owner_team_path, exited_at FROM stage_history \
             WHERE exited_at >= $1 AND exited_at < $2 \
           UNION ALL SELECT owner_id, owner_team_path, created_at FROM opportunities \
             WHERE created_at >= $1 AND created_at < $2 \
           UNION ALL SELECT owner_id, owner_team_path, closed_at FROM opportunities \
             WHERE closed_at >= $1 AND closed_at < $2 \
         ) AS work ORDER BY owner_id, at DESC",
    )
    .bind(span.from)
    .bind(span.to)
    .fetch_all(connection)
    .await
}

/// A generated report's key and its message.
pub(crate) struct GeneratedReport {
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub team_path: String,
    pub kind: PeriodKind,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub time_zone: String,
    pub message: Vec<u8>,
    pub generated_at: DateTime<Utc>,
}

/// Whether the period's reports were generated (they are, all at once, in one transaction).
pub(crate) async fn period_generated(
    connection: &mut PgConnection,
    kind: PeriodKind,
    period_start: NaiveDate,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM generated_work_periods WHERE period_kind = $1 AND period_start = $2)",
    )
    .bind(kind.as_str())
    .bind(period_start)
    .fetch_one(connection)
    .await
}

/// Marks the period generated; false when another transaction already had.
pub(crate) async fn mark_period_generated(
    connection: &mut PgConnection,
    kind: PeriodKind,
    period_start: NaiveDate,
    at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO generated_work_periods (period_kind, period_start, generated_at) \
         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(kind.as_str())
    .bind(period_start)
    .bind(at)
    .execute(connection)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub(crate) async fn insert_report(
    connection: &mut PgConnection,
    report: &GeneratedReport,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO work_reports (id, user_id, team_path, period_kind, period_start, period_end, \
         time_zone, report, generated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(report.id)
    .bind(report.user_id)
    .bind(&report.team_path)
    .bind(report.kind.as_str())
    .bind(report.period_start)
    .bind(report.period_end)
    .bind(&report.time_zone)
    .bind(&report.message)
    .bind(report.generated_at)
    .execute(connection)
    .await?;
    Ok(())
}

/// Who reads a generated report: a rep's is theirs (and their managers'); a team's is its
/// managers' — the kit's rule with the rep as owner (none for a team's report).
const REPORT_OWNER: OwnerColumns = OwnerColumns {
    owner_id: "user_id",
    team_path: "team_path",
};

pub(crate) async fn get_report(
    connection: &mut PgConnection,
    reader: &Caller,
    id: Uuid,
) -> sqlx::Result<Option<Vec<u8>>> {
    let mut query = QueryBuilder::<Postgres>::new("SELECT report FROM work_reports WHERE id = ");
    query.push_bind(id);
    push_visibility(&mut query, &reader.visibility(), REPORT_OWNER);
    query.build_query_scalar().fetch_optional(connection).await
}

/// Which generated reports a listing holds.
pub(crate) struct ReportFilter {
    pub user_id: Option<Uuid>,
    pub team_path: Option<String>,
    pub kind: Option<PeriodKind>,
}

/// The reader's generated reports, newest period first (keyset on period_start, id).
pub(crate) async fn list_reports(
    connection: &mut PgConnection,
    reader: &Caller,
    filter: &ReportFilter,
    page: &Page,
) -> sqlx::Result<Vec<(NaiveDate, Uuid, Vec<u8>)>> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT period_start, id, report FROM work_reports WHERE true",
    );
    push_visibility(&mut query, &reader.visibility(), REPORT_OWNER);
    if let Some(user_id) = filter.user_id {
        query.push(" AND user_id = ").push_bind(user_id);
    }
    if let Some(team_path) = &filter.team_path {
        query
            .push(" AND user_id IS NULL AND team_path = ")
            .push_bind(team_path.clone());
    }
    if let Some(kind) = filter.kind {
        query.push(" AND period_kind = ").push_bind(kind.as_str());
    }
    page.push_keyset(&mut query);
    query.build_query_as().fetch_all(connection).await
}
