//! SQL of plans (`plans`, `plan_versions`) and assignments (`assignments`). A version is
//! stored as its API message ([`crate::convert`]), read back through the same mapping.

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::money::CurrencyCode;
use crm_proto::crm::compensation::v1 as pb;
use prost::Message;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    convert,
    domain::{assignment::Assignment, plan::PlanVersion},
};

/// A plan as stored.
#[derive(Clone, Debug)]
pub struct StoredPlan {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub currency: CurrencyCode,
    pub versions: Vec<PlanVersion>,
    pub revision: i64,
    pub updated_by: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct PlanRow {
    id: Uuid,
    name: String,
    description: String,
    currency: String,
    revision: i64,
    updated_by: Option<Uuid>,
    updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    plan_id: Uuid,
    body: Vec<u8>,
}

fn decode_error(error: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(error.to_string().into())
}

/// A stored version back in the domain's form. It was checked when saved, so a version that
/// no longer reads is a corrupt row, not a request's fault.
fn version(body: &[u8], currency: CurrencyCode) -> sqlx::Result<PlanVersion> {
    let wire = pb::PlanVersion::decode(body).map_err(decode_error)?;
    let mut violations = crm_platform::error::Violations::new();
    convert::version_from_wire(&mut violations, "version", &wire, currency).ok_or_else(|| {
        decode_error(format!(
            "stored plan version: {:?}",
            violations.into_result()
        ))
    })
}

async fn with_versions(
    connection: &mut PgConnection,
    rows: Vec<PlanRow>,
) -> sqlx::Result<Vec<StoredPlan>> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let versions: Vec<VersionRow> = sqlx::query_as(
        "SELECT plan_id, body FROM plan_versions WHERE plan_id = ANY($1) ORDER BY plan_id, version",
    )
    .bind(&ids)
    .fetch_all(connection)
    .await?;
    rows.into_iter()
        .map(|row| {
            let currency: CurrencyCode = row.currency.parse().map_err(decode_error)?;
            Ok(StoredPlan {
                versions: versions
                    .iter()
                    .filter(|version| version.plan_id == row.id)
                    .map(|stored| version(&stored.body, currency))
                    .collect::<sqlx::Result<_>>()?,
                id: row.id,
                name: row.name,
                description: row.description,
                currency,
                revision: row.revision,
                updated_by: row.updated_by,
                updated_at: row.updated_at,
            })
        })
        .collect()
}

const PLAN_COLUMNS: &str = "id, name, description, currency, revision, updated_by, updated_at";

/// The plan, locked for update when `lock`.
pub async fn get(
    connection: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<StoredPlan>> {
    let row: Option<PlanRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PLAN_COLUMNS} FROM plans WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    )))
    .bind(id)
    .fetch_optional(&mut *connection)
    .await?;
    Ok(with_versions(connection, row.into_iter().collect())
        .await?
        .pop())
}

/// Plans by name; only `ids` when given.
pub async fn list(
    connection: &mut PgConnection,
    ids: Option<&[Uuid]>,
) -> sqlx::Result<Vec<StoredPlan>> {
    let rows: Vec<PlanRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PLAN_COLUMNS} FROM plans WHERE $1::uuid[] IS NULL OR id = ANY($1) ORDER BY name, id"
    )))
    .bind(ids)
    .fetch_all(&mut *connection)
    .await?;
    with_versions(connection, rows).await
}

/// Writes the plan and replaces its versions.
pub async fn save(connection: &mut PgConnection, plan: &StoredPlan) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO plans (id, name, description, currency, revision, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description, \
         currency = EXCLUDED.currency, revision = EXCLUDED.revision, \
         updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at",
    )
    .bind(plan.id)
    .bind(&plan.name)
    .bind(&plan.description)
    .bind(plan.currency.as_str())
    .bind(plan.revision)
    .bind(plan.updated_by)
    .bind(plan.updated_at)
    .execute(&mut *connection)
    .await?;
    sqlx::query("DELETE FROM plan_versions WHERE plan_id = $1")
        .bind(plan.id)
        .execute(&mut *connection)
        .await?;
    let numbers: Vec<i32> = plan
        .versions
        .iter()
        .map(|version| version.version as i32)
        .collect();
    let from: Vec<NaiveDate> = plan
        .versions
        .iter()
        .map(|version| version.effective_from)
        .collect();
    let until: Vec<Option<NaiveDate>> = plan
        .versions
        .iter()
        .map(|version| version.effective_until)
        .collect();
    let bodies: Vec<Vec<u8>> = plan
        .versions
        .iter()
        .map(|version| convert::version_to_wire(version).encode_to_vec())
        .collect();
    sqlx::query(
        "INSERT INTO plan_versions (plan_id, version, effective_from, effective_until, body) \
         SELECT $1, * FROM unnest($2::int[], $3::date[], $4::date[], $5::bytea[])",
    )
    .bind(plan.id)
    .bind(&numbers)
    .bind(&from)
    .bind(&until)
    .bind(&bodies)
    .execute(connection)
    .await?;
    Ok(())
}

/// An assignment as stored, with who made it.
#[derive(Clone, Debug)]
pub struct StoredAssignment {
    pub assignment: Assignment,
    pub plan_name: String,
    pub assigned_by: Option<Uuid>,
    pub assigned_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct AssignmentRow {
    id: Uuid,
    user_id: Uuid,
    plan_id: Uuid,
    plan_name: String,
    from_day: NaiveDate,
    until_day: Option<NaiveDate>,
    assigned_by: Option<Uuid>,
    assigned_at: DateTime<Utc>,
}

impl From<AssignmentRow> for StoredAssignment {
    fn from(row: AssignmentRow) -> Self {
        StoredAssignment {
            assignment: Assignment {
                id: row.id,
                user_id: row.user_id,
                plan_id: row.plan_id,
                from: row.from_day,
                until: row.until_day,
            },
            plan_name: row.plan_name,
            assigned_by: row.assigned_by,
            assigned_at: row.assigned_at,
        }
    }
}

const ASSIGNMENT_COLUMNS: &str = "a.id, a.user_id, a.plan_id, p.name AS plan_name, a.from_day, \
     a.until_day, a.assigned_by, a.assigned_at";

/// Writes a new assignment, or an existing one's end.
pub async fn save_assignment(
    connection: &mut PgConnection,
    assignment: &Assignment,
    assigned_by: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO assignments (id, user_id, plan_id, from_day, until_day, assigned_by) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (id) DO UPDATE SET until_day = EXCLUDED.until_day",
    )
    .bind(assignment.id)
    .bind(assignment.user_id)
    .bind(assignment.plan_id)
    .bind(assignment.from)
    .bind(assignment.until)
    .bind(assigned_by)
    .execute(connection)
    .await?;
    Ok(())
}

/// One assignment, locked for update.
pub async fn assignment(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<StoredAssignment>> {
    let row: Option<AssignmentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM assignments a JOIN plans p ON p.id = a.plan_id \
         WHERE a.id = $1 FOR UPDATE OF a"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    Ok(row.map(StoredAssignment::from))
}

/// The assignments of `users` (all, when `None`) covering any day of `[from, until)` (a bound
/// left out is open), by rep then day.
pub async fn assignments(
    connection: &mut PgConnection,
    users: Option<&[Uuid]>,
    (from, until): (Option<NaiveDate>, Option<NaiveDate>),
) -> sqlx::Result<Vec<StoredAssignment>> {
    let rows: Vec<AssignmentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM assignments a JOIN plans p ON p.id = a.plan_id \
         WHERE ($1::uuid[] IS NULL OR a.user_id = ANY($1)) \
         AND daterange(a.from_day, a.until_day) && daterange($2::date, $3::date) \
         ORDER BY a.user_id, a.from_day"
    )))
    .bind(users)
    .bind(from)
    .bind(until)
    .fetch_all(connection)
    .await?;
    Ok(rows.into_iter().map(StoredAssignment::from).collect())
}
