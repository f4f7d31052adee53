//! SQL for a deal's history: its stays in stages (O3), the funnel's monthly roll-up written with
//! each stay's start and end, and the audit trail of field changes.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, types::Json};
use uuid::Uuid;

use crate::domain::{
    opportunity::{FieldChange, Opportunity},
    pipeline::Stage,
};

/// How a stay in a stage ended (stage_history.exit_kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitKind {
    MovedForward = 1,
    MovedBack = 2,
    Won = 3,
    Lost = 4,
    Archived = 5,
    Reopened = 6,
}

fn month_of(time: DateTime<Utc>) -> NaiveDate {
    month_start(time.date_naive())
}

fn month_start(date: NaiveDate) -> NaiveDate {
    date.with_day(1).expect("every month has a first day")
}

/// Opens the deal's stay in `stage` (entered now by `by`); an open stage's entry counts in the
/// roll-up for the deal's owner.
pub(crate) async fn enter_stage(
    connection: &mut PgConnection,
    deal: &Opportunity,
    stage: &Stage,
    at: DateTime<Utc>,
    by: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO stage_history (id, opportunity_id, pipeline_id, stage_id, owner_id, \
         owner_team_path, entered_at, entered_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(Uuid::now_v7())
    .bind(deal.id)
    .bind(deal.pipeline_id)
    .bind(stage.id)
    .bind(deal.owner_id)
    .bind(deal.owner_team_path.as_str())
    .bind(at)
    .bind(by)
    .execute(&mut *connection)
    .await?;
    if stage.is_open() {
        roll_up_stage(
            connection,
            deal,
            stage.id,
            month_of(at),
            StageFlow::entered(),
        )
        .await?;
    }
    Ok(())
}

/// Closes the deal's open stay (in `stage`) now, returning how long it lasted; an open stage's
/// exit counts in the roll-up (advanced when forward or won, lost when lost).
pub(crate) async fn exit_stage(
    connection: &mut PgConnection,
    deal: &Opportunity,
    stage: &Stage,
    at: DateTime<Utc>,
    by: Option<Uuid>,
    kind: ExitKind,
) -> sqlx::Result<u64> {
    let entered_at: Option<DateTime<Utc>> = sqlx::query_scalar(
        "UPDATE stage_history SET exited_at = $2, exited_by = $3, exit_kind = $4 \
         WHERE opportunity_id = $1 AND exited_at IS NULL RETURNING entered_at",
    )
    .bind(deal.id)
    .bind(at)
    .bind(by)
    .bind(kind as i16)
    .fetch_optional(&mut *connection)
    .await?;
    let entered_at = entered_at.unwrap_or(deal.stage_entered_at);
    let seconds = u64::try_from((at - entered_at).num_seconds()).unwrap_or(0);
    if stage.is_open() && kind != ExitKind::Archived {
        let flow = StageFlow {
            exited: 1,
            advanced: i64::from(matches!(kind, ExitKind::MovedForward | ExitKind::Won)),
            lost: i64::from(kind == ExitKind::Lost),
            seconds: Decimal::from(seconds),
            ..StageFlow::default()
        };
        roll_up_stage(connection, deal, stage.id, month_of(at), flow).await?;
    }
    Ok(seconds)
}

/// What one stay adds to (or, negated, takes from) a month of the roll-up.
#[derive(Debug, Default, Clone, Copy)]
struct StageFlow {
    entered: i64,
    exited: i64,
    advanced: i64,
    lost: i64,
    seconds: Decimal,
}

impl StageFlow {
    fn entered() -> Self {
        Self {
            entered: 1,
            ..Self::default()
        }
    }
}

async fn roll_up_stage(
    connection: &mut PgConnection,
    deal: &Opportunity,
    stage_id: Uuid,
    month: NaiveDate,
    flow: StageFlow,
) -> sqlx::Result<()> {
    roll_up_stage_for(
        connection,
        (
            deal.pipeline_id,
            deal.owner_id,
            deal.owner_team_path.as_str(),
        ),
        stage_id,
        month,
        flow,
    )
    .await
}

async fn roll_up_stage_for(
    connection: &mut PgConnection,
    (pipeline_id, owner_id, team_path): (Uuid, Uuid, &str),
    stage_id: Uuid,
    month: NaiveDate,
    flow: StageFlow,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO funnel_stage_months (pipeline_id, stage_id, owner_id, owner_team_path, month, \
         entered, exited, advanced, lost, seconds_in_stage) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (pipeline_id, owner_id, month, stage_id) DO UPDATE SET \
         entered = funnel_stage_months.entered + EXCLUDED.entered, \
         exited = funnel_stage_months.exited + EXCLUDED.exited, \
         advanced = funnel_stage_months.advanced + EXCLUDED.advanced, \
         lost = funnel_stage_months.lost + EXCLUDED.lost, \
         seconds_in_stage = funnel_stage_months.seconds_in_stage + EXCLUDED.seconds_in_stage",
    )
    .bind(pipeline_id)
    .bind(stage_id)
    .bind(owner_id)
    .bind(team_path)
    .bind(month)
    .bind(flow.entered)
    .bind(flow.exited)
    .bind(flow.advanced)
    .bind(flow.lost)
    .bind(flow.seconds)
    .execute(connection)
    .await
    .map(drop)
}

/// Counts a won or lost deal in its close month (`sign` −1 takes a close back, as a reopen or
/// an archive of a closed deal does). The deal holds its close's outcome and amounts.
pub(crate) async fn roll_up_outcome(
    connection: &mut PgConnection,
    deal: &Opportunity,
    won: bool,
    sign: i64,
) -> sqlx::Result<()> {
    let Some(outcome) = &deal.outcome else {
        return Ok(());
    };
    let corporate = deal
        .corporate
        .as_ref()
        .map(|corporate| corporate.amount.amount);
    let cycle = Decimal::from((outcome.closed_at - deal.created_at).num_seconds().max(0));
    sqlx::query(
        "INSERT INTO funnel_outcome_months (pipeline_id, owner_id, owner_team_path, month, won, lost, \
         won_amount, won_with_amount, cycle_seconds) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (pipeline_id, owner_id, month) DO UPDATE SET \
         won = funnel_outcome_months.won + EXCLUDED.won, \
         lost = funnel_outcome_months.lost + EXCLUDED.lost, \
         won_amount = funnel_outcome_months.won_amount + EXCLUDED.won_amount, \
         won_with_amount = funnel_outcome_months.won_with_amount + EXCLUDED.won_with_amount, \
         cycle_seconds = funnel_outcome_months.cycle_seconds + EXCLUDED.cycle_seconds",
    )
    .bind(deal.pipeline_id)
    .bind(deal.owner_id)
    .bind(deal.owner_team_path.as_str())
    .bind(month_start(outcome.closed_on))
    .bind(if won { sign } else { 0 })
    .bind(if won { 0 } else { sign })
    .bind(if won {
        corporate.unwrap_or_default() * Decimal::from(sign)
    } else {
        Decimal::ZERO
    })
    .bind(if won && corporate.is_some() { sign } else { 0 })
    .bind(if won { cycle * Decimal::from(sign) } else { Decimal::ZERO })
    .execute(connection)
    .await
    .map(drop)
}

/// Takes every stage flow of the deal back out of the roll-up (an archived deal leaves the
/// funnel): each stay's entry and, if it ended other than by the archive, its exit.
pub(crate) async fn withdraw_stage_flows(
    connection: &mut PgConnection,
    deal_id: Uuid,
) -> sqlx::Result<()> {
    // An exit counts for the owner at the time of the exit: the owner the next stay began
    // with (a reassignment mid-stay moves the exit, not the entry).
    let stays: Vec<PastStay> = sqlx::query_as(
        "SELECT * FROM (SELECT h.pipeline_id, h.stage_id, h.owner_id, h.owner_team_path, \
         lead(h.owner_id) OVER stays AS exit_owner_id, \
         lead(h.owner_team_path) OVER stays AS exit_owner_team_path, h.entered_at, h.exited_at, \
         h.exit_kind, s.kind AS stage_kind FROM stage_history h JOIN stages s ON s.id = h.stage_id \
         WHERE h.opportunity_id = $1 WINDOW stays AS (ORDER BY h.entered_at, h.id)) stay \
         WHERE stage_kind = 1",
    )
    .bind(deal_id)
    .fetch_all(&mut *connection)
    .await?;
    for stay in stays {
        let PastStay {
            pipeline_id,
            stage_id,
            owner_id,
            owner_team_path: team_path,
            entered_at,
            exited_at,
            exit_kind,
            ..
        } = &stay;
        let (pipeline_id, stage_id, owner_id, entered_at, exited_at, exit_kind) = (
            *pipeline_id,
            *stage_id,
            *owner_id,
            *entered_at,
            *exited_at,
            *exit_kind,
        );
        let owner = (pipeline_id, owner_id, team_path.as_str());
        let exit_owner = (
            pipeline_id,
            stay.exit_owner_id.unwrap_or(owner_id),
            stay.exit_owner_team_path
                .as_deref()
                .unwrap_or(team_path.as_str()),
        );
        let entry = StageFlow {
            entered: -1,
            ..StageFlow::default()
        };
        roll_up_stage_for(connection, owner, stage_id, month_of(entered_at), entry).await?;
        if let (Some(exited_at), Some(kind)) = (exited_at, exit_kind)
            && kind != ExitKind::Archived as i16
        {
            let seconds = Decimal::from((exited_at - entered_at).num_seconds().max(0));
            let exit = StageFlow {
                exited: -1,
                advanced: -i64::from(
                    kind == ExitKind::MovedForward as i16 || kind == ExitKind::Won as i16,
                ),
                lost: -i64::from(kind == ExitKind::Lost as i16),
                seconds: -seconds,
                entered: 0,
            };
            roll_up_stage_for(connection, exit_owner, stage_id, month_of(exited_at), exit).await?;
        }
    }
    Ok(())
}

/// A stay as an archive takes it back out of the roll-up.
#[derive(sqlx::FromRow)]
struct PastStay {
    pipeline_id: Uuid,
    stage_id: Uuid,
    owner_id: Uuid,
    owner_team_path: String,
    exit_owner_id: Option<Uuid>,
    exit_owner_team_path: Option<String>,
    entered_at: DateTime<Utc>,
    exited_at: Option<DateTime<Utc>>,
    exit_kind: Option<i16>,
    #[allow(dead_code)]
    stage_kind: i16,
}

/// A stay as the API lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Stay {
    pub stage_id: Uuid,
    pub entered_at: DateTime<Utc>,
    pub entered_by: Option<Uuid>,
    pub exited_at: Option<DateTime<Utc>>,
    pub exited_by: Option<Uuid>,
}

pub(crate) async fn list_stays(
    connection: &mut PgConnection,
    deal_id: Uuid,
) -> sqlx::Result<Vec<Stay>> {
    sqlx::query_as(
        "SELECT stage_id, entered_at, entered_by, exited_at, exited_by FROM stage_history \
         WHERE opportunity_id = $1 ORDER BY entered_at, id",
    )
    .bind(deal_id)
    .fetch_all(connection)
    .await
}

/// After a team move: the user's open stays and roll-up rows belong to the new team, so the
/// funnel's visibility follows the user as the deals' does.
pub(crate) async fn rescope_owner(
    connection: &mut PgConnection,
    owner_id: Uuid,
    team_path: &str,
) -> sqlx::Result<()> {
    for table in [
        "stage_history",
        "funnel_stage_months",
        "funnel_outcome_months",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET owner_team_path = $2 WHERE owner_id = $1 AND owner_team_path <> $2"
        )))
        .bind(owner_id)
        .bind(team_path)
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

#[derive(serde::Serialize, serde::Deserialize)]
struct FieldChangeJson {
    field: String,
    old: String,
    new: String,
}

/// One audited version of a deal.
#[derive(Debug, Clone)]
pub(crate) struct AuditEntry {
    pub version: i64,
    pub changed_at: DateTime<Utc>,
    pub changed_by: Option<Uuid>,
    pub action: String,
    pub fields: Vec<FieldChange>,
    pub comment: String,
}

pub(crate) async fn record_change(
    connection: &mut PgConnection,
    deal: &Opportunity,
    changed_by: Option<Uuid>,
    action: &str,
    fields: &[FieldChange],
    comment: &str,
) -> sqlx::Result<()> {
    let fields: Vec<FieldChangeJson> = fields
        .iter()
        .map(|change| FieldChangeJson {
            field: change.field.clone(),
            old: change.old_value.clone(),
            new: change.new_value.clone(),
        })
        .collect();
    sqlx::query(
        "INSERT INTO opportunity_changes (opportunity_id, version, changed_at, changed_by, action, \
         fields, comment) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(deal.id)
    .bind(deal.version)
    .bind(deal.updated_at)
    .bind(changed_by)
    .bind(action)
    .bind(Json(fields))
    .bind(comment)
    .execute(connection)
    .await
    .map(drop)
}

/// The audit trail, newest first: `limit` entries below version `before` (if given).
pub(crate) async fn list_changes(
    connection: &mut PgConnection,
    deal_id: Uuid,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<AuditEntry>> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        i64,
        DateTime<Utc>,
        Option<Uuid>,
        String,
        Json<Vec<FieldChangeJson>>,
        String,
    )> = sqlx::query_as(
        "SELECT version, changed_at, changed_by, action, fields, comment FROM opportunity_changes \
             WHERE opportunity_id = $1 AND ($2::bigint IS NULL OR version < $2) \
             ORDER BY version DESC LIMIT $3",
    )
    .bind(deal_id)
    .bind(before)
    .bind(limit)
    .fetch_all(connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(version, changed_at, changed_by, action, fields, comment)| AuditEntry {
                version,
                changed_at,
                changed_by,
                action,
                fields: fields
                    .0
                    .into_iter()
                    .map(|change| FieldChange {
                        field: change.field,
                        old_value: change.old,
                        new_value: change.new,
                    })
                    .collect(),
                comment,
            },
        )
        .collect())
}
