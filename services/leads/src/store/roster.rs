//! The rep roster: reps as sales operations and the organisation's directory put them.

use chrono::NaiveDate;
use crm_platform::{access, auth::TeamPath};
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::domain::{fairness::RepStage, roster::Rep};

#[derive(sqlx::FromRow)]
struct RepRow {
    rep_id: Uuid,
    team_path: String,
    display_name: String,
    stage: String,
    started_on: NaiveDate,
    capacity: i32,
    claim_cap: i32,
    active: bool,
    open_pipeline: Decimal,
}

/// A stored value this version does not know is corrupt data, not a default.
fn corrupt_rep(rep_id: Uuid, what: &str, value: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(
        format!("rep {rep_id}: stored {what} {value} is not one this service knows").into(),
    )
}

impl TryFrom<RepRow> for Rep {
    type Error = sqlx::Error;

    fn try_from(row: RepRow) -> sqlx::Result<Rep> {
        let id = row.rep_id;
        Ok(Rep {
            rep_id: id,
            team_path: TeamPath::parse(&row.team_path)
                .map_err(|_| corrupt_rep(id, "team path", format!("{:?}", row.team_path)))?,
            display_name: row.display_name,
            stage: RepStage::parse(&row.stage)
                .ok_or_else(|| corrupt_rep(id, "stage", format!("{:?}", row.stage)))?,
            started_on: row.started_on,
            capacity: u32::try_from(row.capacity)
                .map_err(|_| corrupt_rep(id, "capacity", row.capacity))?,
            claim_cap: u32::try_from(row.claim_cap)
                .map_err(|_| corrupt_rep(id, "claim cap", row.claim_cap))?,
            active: row.active,
            open_pipeline: row.open_pipeline,
        })
    }
}

fn reps(rows: Vec<RepRow>) -> sqlx::Result<Vec<Rep>> {
    rows.into_iter().map(Rep::try_from).collect()
}

/// Puts a rep on the roster or updates them. A rep whose team comes from the organisation's
/// directory keeps it: `false` (nothing written) when `rep` names another team for them.
pub async fn upsert_rep(connection: &mut PgConnection, rep: &Rep) -> sqlx::Result<bool> {
    let written = sqlx::query(
        "INSERT INTO reps (rep_id, team_path, display_name, stage, started_on, capacity, claim_cap, active) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (rep_id) DO UPDATE SET team_path = EXCLUDED.team_path, \
         display_name = EXCLUDED.display_name, stage = EXCLUDED.stage, started_on = EXCLUDED.started_on, \
         capacity = EXCLUDED.capacity, claim_cap = EXCLUDED.claim_cap, active = EXCLUDED.active, updated_at = now() \
         WHERE NOT reps.from_directory OR reps.team_path = EXCLUDED.team_path",
    )
    .bind(rep.rep_id)
    .bind(rep.team_path.as_str())
    .bind(&rep.display_name)
    .bind(rep.stage.as_str())
    .bind(rep.started_on)
    .bind(i32::try_from(rep.capacity).unwrap_or(i32::MAX))
    .bind(i32::try_from(rep.claim_cap).unwrap_or(i32::MAX))
    .bind(rep.active)
    .execute(connection)
    .await?
    .rows_affected();
    Ok(written == 1)
}

const REP_COLUMNS: &str = "rep_id, team_path, display_name, stage, started_on, capacity, claim_cap, active, open_pipeline";

pub async fn get_rep(connection: &mut PgConnection, rep_id: Uuid) -> sqlx::Result<Option<Rep>> {
    let row: Option<RepRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REP_COLUMNS} FROM reps WHERE rep_id = $1"
    )))
    .bind(rep_id)
    .fetch_optional(connection)
    .await?;
    row.map(Rep::try_from).transpose()
}

/// Reps in a team subtree (`/northwind/east/` includes `/northwind/east/east-1/`).
pub async fn reps_in_subtree(
    connection: &mut PgConnection,
    team_path: &TeamPath,
) -> sqlx::Result<Vec<Rep>> {
    let mut query = QueryBuilder::<Postgres>::new(format!("SELECT {REP_COLUMNS} FROM reps WHERE "));
    access::push_within(&mut query, "team_path", team_path);
    query.push(" ORDER BY display_name, rep_id");
    reps(query.build_query_as().fetch_all(connection).await?)
}

pub async fn reps_by_id(connection: &mut PgConnection, rep_ids: &[Uuid]) -> sqlx::Result<Vec<Rep>> {
    let rows: Vec<RepRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REP_COLUMNS} FROM reps WHERE rep_id = ANY($1)"
    )))
    .bind(rep_ids)
    .fetch_all(connection)
    .await?;
    reps(rows)
}

/// A user as the organisation's directory describes them, for the roster.
pub struct DirectoryRep<'a> {
    pub user_id: Uuid,
    pub team_path: &'a TeamPath,
    pub display_name: &'a str,
    pub stage: RepStage,
    pub started_on: NaiveDate,
    pub is_rep: bool,
    pub active: bool,
}

/// The roster follows the directory: a rep is put on it (or updated) with the directory's
/// team, stage, start date and activity; a user who is no longer a rep stops taking leads.
pub async fn sync_rep_from_directory(
    connection: &mut PgConnection,
    user: &DirectoryRep<'_>,
) -> sqlx::Result<()> {
    if !user.is_rep {
        sqlx::query(
            "UPDATE reps SET active = false, team_path = $2, from_directory = true, updated_at = now() \
             WHERE rep_id = $1",
        )
        .bind(user.user_id)
        .bind(user.team_path.as_str())
        .execute(connection)
        .await?;
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO reps (rep_id, team_path, display_name, stage, started_on, active, from_directory) \
         VALUES ($1, $2, $3, $4, $5, $6, true) \
         ON CONFLICT (rep_id) DO UPDATE SET team_path = EXCLUDED.team_path, display_name = EXCLUDED.display_name, \
         stage = EXCLUDED.stage, started_on = EXCLUDED.started_on, active = EXCLUDED.active, \
         from_directory = true, updated_at = now()",
    )
    .bind(user.user_id)
    .bind(user.team_path.as_str())
    .bind(user.display_name)
    .bind(user.stage.as_str())
    .bind(user.started_on)
    .bind(user.active)
    .execute(connection)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> RepRow {
        RepRow {
            rep_id: Uuid::now_v7(),
            team_path: "/northwind/east/".into(),
            display_name: "Ravi".into(),
            stage: "senior".into(),
            started_on: NaiveDate::from_ymd_opt(2023, 1, 1).unwrap(),
            capacity: 50,
            claim_cap: 20,
            active: true,
            open_pipeline: Decimal::ZERO,
        }
    }

    #[test]
    fn a_roster_row_reads_back_typed() {
        let rep = Rep::try_from(row()).unwrap();
        assert_eq!(rep.stage, RepStage::Senior);
        assert_eq!(rep.team_path.as_str(), "/northwind/east/");
        assert_eq!((rep.capacity, rep.claim_cap), (50, 20));
    }

    /// The drift this replaces: a stage the service did not know was read as established.
    #[test]
    fn an_unknown_stored_stage_or_team_is_an_error_not_a_default() {
        for corrupt in [
            RepRow {
                stage: "veteran".into(),
                ..row()
            },
            RepRow {
                team_path: "East".into(),
                ..row()
            },
            RepRow {
                capacity: -1,
                ..row()
            },
        ] {
            assert!(matches!(
                Rep::try_from(corrupt),
                Err(sqlx::Error::Decode(_))
            ));
        }
    }
}
