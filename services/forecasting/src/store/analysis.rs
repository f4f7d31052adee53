//! SQL of the sales analysis (F8): the deals of a scope and span added up by a dimension, in
//! PostgreSQL (exact decimals), with the label each group is shown by.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::push_scope;
use crate::domain::scope::Scope;

/// What is added up (see `AnalysisMeasure` in proto/crm/forecasting/v1/analysis.proto).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    Bookings,
    Pipeline,
    WeightedPipeline,
}

/// What the deals are grouped by in SQL. Teams and months are grouped by the owner's team path
/// and the first day of the month; the service folds those into sub-teams and the period's
/// months.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dimension {
    Product,
    Customer,
    Industry,
    Rep,
    TeamPath,
    Month,
}

/// One group's sum.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct GroupSum {
    pub key: String,
    pub label: String,
    pub amount: Decimal,
}

/// The deals of `scope` counted by `measure` from `from` to before `until`, in `currency`,
/// added up by `dimension`.
pub async fn sums(
    connection: &mut PgConnection,
    scope: &Scope,
    measure: Measure,
    dimension: Dimension,
    (from, until): (NaiveDate, NaiveDate),
    currency: &str,
) -> sqlx::Result<Vec<GroupSum>> {
    // Won deals count on the day won, open ones on their expected close date.
    let (status, day) = match measure {
        Measure::Bookings => ("won", "coalesce(d.closed_on, d.expected_close_date)"),
        Measure::Pipeline | Measure::WeightedPipeline => ("open", "d.expected_close_date"),
    };
    // A deal's lines share its corporate amount; a deal without lines counts whole.
    let base = match dimension {
        Dimension::Product => "coalesce(l.corporate_amount, d.corporate_amount)",
        _ => "d.corporate_amount",
    };
    let amount = match measure {
        Measure::WeightedPipeline => format!("{base} * d.effective_probability / 100"),
        Measure::Bookings | Measure::Pipeline => base.to_owned(),
    };
    let (key, label, join) = match dimension {
        Dimension::Product => (
            "coalesce(l.product_code, '')",
            "coalesce(max(l.product_name), '')",
            "LEFT JOIN deal_lines l ON l.deal_id = d.id",
        ),
        Dimension::Customer => (
            "d.account_id::text",
            "coalesce(max(a.name), '')",
            "LEFT JOIN accounts a ON a.id = d.account_id",
        ),
        Dimension::Industry => (
            "coalesce(a.industry, '')",
            "coalesce(max(a.industry), '')",
            "LEFT JOIN accounts a ON a.id = d.account_id",
        ),
        Dimension::Rep => (
            "d.owner_id::text",
            "coalesce(max(u.display_name), '')",
            "LEFT JOIN org_users u ON u.user_id = d.owner_id",
        ),
        Dimension::TeamPath => ("d.owner_team_path", "d.owner_team_path", ""),
        Dimension::Month => ("to_char(date_trunc('month', DAY), 'YYYY-MM-DD')", "''", ""),
    };
    let key = key.replace("DAY", day);
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "SELECT {key} AS key, {label} AS label, sum({amount}) AS amount FROM deals d {join} \
         WHERE d.status = '{status}' AND d.corporate_currency = "
    ));
    query
        .push_bind(currency.to_owned())
        .push(format!(" AND {day} >= "))
        .push_bind(from)
        .push(format!(" AND {day} < "))
        .push_bind(until);
    push_scope(&mut query, scope, "d.");
    query.push(" GROUP BY 1");
    if dimension == Dimension::TeamPath {
        query.push(", 2");
    }
    query.build_query_as().fetch_all(connection).await
}
