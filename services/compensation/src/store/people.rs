//! The people statements are about, from the organisation's directory replica (`org_users`,
//! the kit's table, kept by the org consumer).

use sqlx::PgConnection;
use uuid::Uuid;

/// A rep as the directory names them.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Person {
    pub user_id: Uuid,
    pub display_name: String,
    pub team_path: String,
}

/// `users` the directory knows.
pub async fn of(connection: &mut PgConnection, users: &[Uuid]) -> sqlx::Result<Vec<Person>> {
    sqlx::query_as(
        "SELECT user_id, display_name, team_path FROM org_users WHERE user_id = ANY($1) \
         ORDER BY user_id",
    )
    .bind(users)
    .fetch_all(connection)
    .await
}

/// Everyone whose team is `team_path` or below it.
pub async fn within(connection: &mut PgConnection, team_path: &str) -> sqlx::Result<Vec<Person>> {
    sqlx::query_as(
        "SELECT user_id, display_name, team_path FROM org_users \
         WHERE starts_with(team_path, $1) ORDER BY user_id",
    )
    .bind(team_path)
    .fetch_all(connection)
    .await
}

/// How many of `plan_id`'s reps, on it on a day of `[from, until)`, are in `team_path` or
/// below: the reps a pool shared evenly is shared among.
pub async fn pool_members(
    connection: &mut PgConnection,
    plan_id: Uuid,
    team_path: &str,
    from: chrono::NaiveDate,
    until: chrono::NaiveDate,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT count(DISTINCT a.user_id) FROM assignments a \
         JOIN org_users u ON u.user_id = a.user_id \
         WHERE a.plan_id = $1 AND starts_with(u.team_path, $2) \
         AND daterange(a.from_day, a.until_day) && daterange($3, $4)",
    )
    .bind(plan_id)
    .bind(team_path)
    .bind(from)
    .bind(until)
    .fetch_one(connection)
    .await
}
