//! SQL of the rankings and the period review (F7): the deals closed in a scope and period, and
//! the people the directory puts in a scope. Results by owner come from the pipeline sums
//! (`store::pipeline::sums`).

use chrono::NaiveDate;
use crm_platform::{access::push_within, money::Money};
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{deals::money, push_scope};
use crate::domain::{
    review::{ClosedDeal, Outcome},
    scope::Scope,
};

#[derive(sqlx::FromRow)]
struct ClosedRow {
    id: Uuid,
    name: String,
    owner_id: Uuid,
    status: String,
    corporate_amount: Decimal,
    closed_on: NaiveDate,
}

/// The deals of `scope` won or lost from `from` to before `until` (by the day closed) whose
/// corporate amount is in `currency`: a deal converted into another currency cannot be added
/// to the others.
pub async fn closed_deals(
    connection: &mut PgConnection,
    scope: &Scope,
    from: NaiveDate,
    until: NaiveDate,
    currency: &str,
) -> sqlx::Result<Vec<ClosedDeal>> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT id, name, owner_id, status, corporate_amount, \
         coalesce(closed_on, expected_close_date) AS closed_on FROM deals \
         WHERE status IN ('won', 'lost') AND corporate_currency = ",
    );
    query
        .push_bind(currency.to_owned())
        .push(" AND coalesce(closed_on, expected_close_date) >= ")
        .push_bind(from)
        .push(" AND coalesce(closed_on, expected_close_date) < ")
        .push_bind(until);
    push_scope(&mut query, scope, "");
    query
        .build_query_as::<ClosedRow>()
        .fetch_all(connection)
        .await?
        .into_iter()
        .map(|row| {
            Ok(ClosedDeal {
                id: row.id,
                name: row.name,
                owner_id: row.owner_id,
                amount: row.corporate_amount,
                outcome: match row.status.as_str() {
                    "won" => Outcome::Won,
                    _ => Outcome::Lost,
                },
                closed_on: row.closed_on,
            })
        })
        .collect()
}

/// A person of the directory.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Person {
    pub user_id: Uuid,
    pub display_name: String,
    pub team_path: String,
}

/// The active reps the directory puts in `scope` (a rep's scope: the rep, whatever the role).
pub async fn reps(connection: &mut PgConnection, scope: &Scope) -> sqlx::Result<Vec<Person>> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT user_id, display_name, team_path FROM org_users WHERE active",
    );
    match scope {
        Scope::Company => {
            query.push(" AND role = 'rep'");
        }
        Scope::Team(team) => {
            query.push(" AND role = 'rep' AND ");
            push_within(&mut query, "team_path", team);
        }
        Scope::Rep { user_id, .. } => {
            query.push(" AND user_id = ").push_bind(*user_id);
        }
    }
    query.push(" ORDER BY user_id");
    query.build_query_as().fetch_all(connection).await
}

/// The directory's names of `user_ids` (those it knows).
pub async fn people(connection: &mut PgConnection, user_ids: &[Uuid]) -> sqlx::Result<Vec<Person>> {
    sqlx::query_as("SELECT user_id, display_name, team_path FROM org_users WHERE user_id = ANY($1)")
        .bind(user_ids)
        .fetch_all(connection)
        .await
}

/// The team paths of the directory's people within `team`'s subtree: the sub-teams a team
/// leaderboard ranks, those without a deal included.
pub async fn team_paths_within(
    connection: &mut PgConnection,
    team: &crm_platform::auth::TeamPath,
) -> sqlx::Result<Vec<String>> {
    let mut query =
        QueryBuilder::<Postgres>::new("SELECT DISTINCT team_path FROM org_users WHERE active AND ");
    push_within(&mut query, "team_path", team);
    query.build_query_scalar().fetch_all(connection).await
}

/// A won deal of the wins feed, with its owner's name from the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Win {
    pub id: Uuid,
    pub name: String,
    pub owner_id: Uuid,
    pub owner_name: Option<String>,
    pub owner_team_path: String,
    pub amount: Money,
    pub corporate_amount: Option<Money>,
    pub closed_on: Option<NaiveDate>,
}

#[derive(sqlx::FromRow)]
struct WinRow {
    id: Uuid,
    name: String,
    owner_id: Uuid,
    owner_name: Option<String>,
    owner_team_path: String,
    currency: String,
    amount: Decimal,
    corporate_currency: Option<String>,
    corporate_amount: Option<Decimal>,
    closed_on: Option<NaiveDate>,
}

impl WinRow {
    fn into_win(self) -> sqlx::Result<Win> {
        let corporate_amount = match (self.corporate_currency, self.corporate_amount) {
            (Some(currency), Some(amount)) => Some(money(&currency, amount)?),
            _ => None,
        };
        Ok(Win {
            id: self.id,
            name: self.name,
            owner_id: self.owner_id,
            owner_name: self.owner_name,
            owner_team_path: self.owner_team_path,
            amount: money(&self.currency, self.amount)?,
            corporate_amount,
            closed_on: self.closed_on,
        })
    }
}

/// The latest won deals (of `owner` alone when given), newest first, at most `limit`.
pub async fn recent_wins(
    connection: &mut PgConnection,
    owner: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<Win>> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT d.id, d.name, d.owner_id, u.display_name AS owner_name, d.owner_team_path, \
         d.currency, d.amount, d.corporate_currency, d.corporate_amount, d.closed_on \
         FROM deals d LEFT JOIN org_users u ON u.user_id = d.owner_id WHERE d.status = 'won'",
    );
    if let Some(owner) = owner {
        query.push(" AND d.owner_id = ").push_bind(owner);
    }
    query
        .push(" ORDER BY d.closed_on DESC, d.id DESC LIMIT ")
        .push_bind(limit);
    let rows: Vec<WinRow> = query.build_query_as().fetch_all(connection).await?;
    rows.into_iter().map(WinRow::into_win).collect()
}
