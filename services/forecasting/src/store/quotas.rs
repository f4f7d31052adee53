//! SQL of quotas: one row per holder, kind and period, written with a new version each time;
//! read by holder or by period within a scope. And the team tree quotas are checked against,
//! from the directory's users.

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{
    access::push_within,
    auth::TeamPath,
    fiscal::{FiscalPeriod, PeriodKind},
    money::CurrencyCode,
};
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::domain::{quota::Holder, scope::Scope, target::TargetKind};

const COLUMNS: &str = "id, level, holder_key, holder_team_path, kind, period_kind, \
     period_label, period_start, period_end, currency, target, version, set_by, set_at";

#[derive(sqlx::FromRow)]
struct QuotaRow {
    id: Uuid,
    level: String,
    holder_key: String,
    holder_team_path: String,
    kind: String,
    period_kind: String,
    period_label: String,
    period_start: NaiveDate,
    period_end: NaiveDate,
    currency: Option<String>,
    target: Decimal,
    version: i64,
    set_by: Uuid,
    set_at: DateTime<Utc>,
}

/// A quota as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredQuota {
    pub id: Uuid,
    pub holder: Holder,
    /// A team's path, a rep's team when set; `None` for the company.
    pub holder_team_path: Option<TeamPath>,
    pub kind: TargetKind,
    pub period_kind: PeriodKind,
    pub period_label: String,
    pub period_start: NaiveDate,
    /// The day after the period's last.
    pub period_end: NaiveDate,
    /// A money target's currency.
    pub currency: Option<CurrencyCode>,
    pub target: Decimal,
    pub version: i64,
    pub set_by: Uuid,
    pub set_at: DateTime<Utc>,
}

/// A quota to write.
pub struct NewQuota<'a> {
    pub holder: &'a Holder,
    pub holder_team_path: Option<&'a TeamPath>,
    pub kind: TargetKind,
    pub period: &'a FiscalPeriod,
    pub currency: Option<CurrencyCode>,
    pub target: Decimal,
    pub set_by: Uuid,
}

pub fn period_kind_name(kind: PeriodKind) -> &'static str {
    match kind {
        PeriodKind::Month => "month",
        PeriodKind::Quarter => "quarter",
        PeriodKind::Year => "year",
    }
}

fn decode(what: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("{what} {value:?}").into())
}

impl TryFrom<QuotaRow> for StoredQuota {
    type Error = sqlx::Error;

    fn try_from(row: QuotaRow) -> sqlx::Result<Self> {
        let team = |path: &str| TeamPath::parse(path).map_err(|_| decode("team path", path));
        let holder = match row.level.as_str() {
            "company" => Holder::Company,
            "team" => Holder::Team(team(&row.holder_key)?),
            "rep" => Holder::Rep(
                row.holder_key
                    .parse()
                    .map_err(|_| decode("user id", &row.holder_key))?,
            ),
            other => return Err(decode("quota level", other)),
        };
        let period_kind = match row.period_kind.as_str() {
            "month" => PeriodKind::Month,
            "quarter" => PeriodKind::Quarter,
            "year" => PeriodKind::Year,
            other => return Err(decode("period kind", other)),
        };
        Ok(StoredQuota {
            id: row.id,
            holder,
            holder_team_path: match row.holder_team_path.as_str() {
                "" => None,
                path => Some(team(path)?),
            },
            kind: TargetKind::parse(&row.kind).ok_or_else(|| decode("target kind", &row.kind))?,
            period_kind,
            period_label: row.period_label,
            period_start: row.period_start,
            period_end: row.period_end,
            currency: row
                .currency
                .map(|code| code.parse().map_err(|_| decode("currency", &code)))
                .transpose()?,
            target: row.target,
            version: row.version,
            set_by: row.set_by,
            set_at: row.set_at,
        })
    }
}

/// Writes `quota`: a new row at version 1, or the holder's quota of that kind and period
/// replaced at the next version.
pub async fn upsert(
    connection: &mut PgConnection,
    quota: &NewQuota<'_>,
) -> sqlx::Result<StoredQuota> {
    let row: QuotaRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO quotas AS q (id, level, holder_key, holder_team_path, kind, period_kind, \
         period_label, period_start, period_end, currency, target, version, set_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12) \
         ON CONFLICT (level, holder_key, kind, period_kind, period_start) DO UPDATE SET \
         holder_team_path = EXCLUDED.holder_team_path, period_label = EXCLUDED.period_label, \
         period_end = EXCLUDED.period_end, currency = EXCLUDED.currency, \
         target = EXCLUDED.target, version = q.version + 1, set_by = EXCLUDED.set_by, \
         set_at = now() RETURNING {COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(quota.holder.level())
    .bind(quota.holder.key())
    .bind(quota.holder_team_path.map_or("", TeamPath::as_str))
    .bind(quota.kind.as_str())
    .bind(period_kind_name(quota.period.kind()))
    .bind(quota.period.to_string())
    .bind(quota.period.start())
    .bind(quota.period.end())
    .bind(quota.currency.map(|code| code.as_str()))
    .bind(quota.target)
    .bind(quota.set_by)
    .fetch_one(connection)
    .await?;
    row.try_into()
}

/// The holder's quota of `kind` for `period`, row-locked for the rest of the transaction
/// (a decomposition splits what it read).
pub async fn lock(
    connection: &mut PgConnection,
    holder: &Holder,
    kind: TargetKind,
    period: &FiscalPeriod,
) -> sqlx::Result<Option<StoredQuota>> {
    let row: Option<QuotaRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM quotas WHERE level = $1 AND holder_key = $2 AND kind = $3 \
         AND period_kind = $4 AND period_start = $5 FOR UPDATE"
    )))
    .bind(holder.level())
    .bind(holder.key())
    .bind(kind.as_str())
    .bind(period_kind_name(period.kind()))
    .bind(period.start())
    .fetch_optional(connection)
    .await?;
    row.map(StoredQuota::try_from).transpose()
}

/// The quotas of `period` (of `kind`, or every kind) whose holder lies in `scope`: the
/// company's and everyone's for the company; a team's own, its sub-teams' and its reps' for a
/// team; a rep's own. By level, holder, kind.
pub async fn in_scope(
    connection: &mut PgConnection,
    scope: &Scope,
    period: &FiscalPeriod,
    kind: Option<TargetKind>,
) -> sqlx::Result<Vec<StoredQuota>> {
    let mut query =
        QueryBuilder::<Postgres>::new(format!("SELECT {COLUMNS} FROM quotas WHERE period_kind = "));
    query
        .push_bind(period_kind_name(period.kind()))
        .push(" AND period_start = ")
        .push_bind(period.start());
    if let Some(kind) = kind {
        query.push(" AND kind = ").push_bind(kind.as_str());
    }
    match scope {
        Scope::Company => {}
        Scope::Team(team) => {
            query.push(" AND level <> 'company' AND ");
            push_within(&mut query, "holder_team_path", team);
        }
        Scope::Rep { user_id, .. } => {
            query
                .push(" AND level = 'rep' AND holder_key = ")
                .push_bind(user_id.to_string());
        }
    }
    query.push(
        " ORDER BY CASE level WHEN 'company' THEN 0 WHEN 'team' THEN 1 ELSE 2 END, \
         holder_key, kind",
    );
    let rows: Vec<QuotaRow> = query.build_query_as().fetch_all(connection).await?;
    rows.into_iter().map(StoredQuota::try_from).collect()
}

/// The team tree as the directory knows it: every user's team (with the teams above it,
/// added by the tree), and the active reps with their teams.
pub async fn directory_tree(
    connection: &mut PgConnection,
) -> sqlx::Result<(Vec<TeamPath>, Vec<(Uuid, TeamPath)>)> {
    let users: Vec<(Uuid, String, Option<String>, bool)> =
        sqlx::query_as("SELECT user_id, team_path, role, active FROM org_users")
            .fetch_all(connection)
            .await?;
    let mut teams = Vec::new();
    let mut reps = Vec::new();
    for (user_id, path, role, active) in users {
        let team = TeamPath::parse(&path).map_err(|_| decode("team path", &path))?;
        if role.as_deref() == Some("rep") && active {
            reps.push((user_id, team.clone()));
        }
        teams.push(team);
    }
    Ok((teams, reps))
}
