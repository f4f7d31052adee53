//! Statements (C4): a rep's of a period — computed while it is open, as locked once closed —
//! a team's with its leaderboard, the period close and manual adjustments. Statements leave the
//! service as the API's `Statement` message, the form a closed one is locked in.

use std::cmp::Ordering;

use crm_platform::{
    auth::{Caller, TeamPath},
    error::{FieldViolation, reasons::INCONSISTENT_FIELDS},
    fiscal::{FiscalCalendar, FiscalPeriod},
    money::{CurrencyCode, Money},
    org::OrgDirectory,
};
use crm_proto::crm::compensation::v1::{self as pb, StatementClosed};
use prost::Message;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    Compensation, Result, reach,
    run::{Closes, kind_name, open_statements},
};
use crate::{
    convert,
    domain::run::{Adjustment, RepStatement},
    error::CompensationError,
    store::{
        self,
        people::Person,
        statements::{ClosedPeriodRow, LockedStatement},
    },
};

/// A team's statements of a period, ranked.
#[derive(Clone, Debug)]
pub struct TeamStatements {
    pub period: FiscalPeriod,
    pub currency: Option<CurrencyCode>,
    /// By rank: `(rank, team path, statement)`.
    pub ranked: Vec<(u32, String, pb::Statement)>,
}

/// What the organisation's calendar makes of a period label, and its corporate currency.
async fn read_period(
    connection: &mut PgConnection,
    label: &str,
) -> Result<(FiscalCalendar, FiscalPeriod, Option<CurrencyCode>)> {
    let settings = OrgDirectory::settings(&mut *connection).await?;
    let period = settings.fiscal_calendar.parse(label).map_err(|error| {
        CompensationError::from(FieldViolation::refusal(
            INCONSISTENT_FIELDS,
            "period",
            error,
        ))
    })?;
    Ok((
        settings.fiscal_calendar,
        period,
        settings.corporate_currency,
    ))
}

fn decode(body: &[u8]) -> Result<pb::Statement> {
    pb::Statement::decode(body).map_err(|error| {
        CompensationError::from(sqlx::Error::Decode(
            format!("locked statement: {error}").into(),
        ))
    })
}

/// Highest attainment first (reps without a quota after those with one), then the highest
/// earnings, then by id.
fn leaderboard_order(a: &pb::Statement, b: &pb::Statement) -> Ordering {
    let attainment = |statement: &pb::Statement| -> Option<Decimal> {
        statement.attainment_percent.parse().ok()
    };
    let total = |statement: &pb::Statement| -> Decimal {
        statement
            .total
            .as_ref()
            .and_then(|money| money.amount.parse().ok())
            .unwrap_or_default()
    };
    match (attainment(a), attainment(b)) {
        (Some(x), Some(y)) => y.cmp(&x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
    .then_with(|| total(b).cmp(&total(a)))
    .then_with(|| a.user_id.cmp(&b.user_id))
}

impl Compensation {
    /// The statements of `users` for `period`: as locked when the period is closed (reps
    /// without one absent), else computed (reps on no plan absent; any other problem refused).
    async fn statements_of(
        &self,
        connection: &mut PgConnection,
        calendar: &FiscalCalendar,
        period: FiscalPeriod,
        people: &[Person],
    ) -> Result<Vec<pb::Statement>> {
        let users: Vec<Uuid> = people.iter().map(|person| person.user_id).collect();
        let closed = store::statements::closed_periods(connection).await?;
        let closes = Closes::of(&closed, period.kind());
        if closes.is_closed(&period) {
            return store::statements::locked(connection, &period.to_string(), Some(&users))
                .await?
                .iter()
                .map(|(_, body)| decode(body))
                .collect();
        }
        Ok(self
            .computed(
                connection,
                calendar,
                closes,
                period,
                people,
                pb::StatementStatus::Open,
            )
            .await?
            .into_iter()
            .map(|(_, wire)| wire)
            .collect())
    }

    /// A rep's statement of a period (the caller's own when `user_id` is `None`).
    pub async fn statement(
        &self,
        caller: &Caller,
        user_id: Option<Uuid>,
        label: &str,
    ) -> Result<pb::Statement> {
        let mut connection = self.pool.acquire().await?;
        self.know(&mut connection, caller).await?;
        let user_id = reach::rep(&mut connection, caller, user_id).await?;
        let (calendar, period, _) = read_period(&mut connection, label).await?;
        // The directory knows the rep: the caller was just remembered, anyone else was found
        // in it by the reach check.
        let people = store::people::of(&mut connection, &[user_id]).await?;
        self.statements_of(&mut connection, &calendar, period, &people)
            .await?
            .pop()
            .ok_or(CompensationError::Statement {
                user_id,
                label: period.to_string(),
                problem: crate::domain::statement::StatementProblem::NoPlan,
            })
    }

    /// The statements of a team subtree's reps for a period, ranked (the caller's team when
    /// `team_path` is `None`).
    pub async fn team_statements(
        &self,
        caller: &Caller,
        team_path: Option<TeamPath>,
        label: &str,
    ) -> Result<TeamStatements> {
        let team = reach::team(caller, team_path)?;
        let mut connection = self.pool.acquire().await?;
        self.know(&mut connection, caller).await?;
        let (calendar, period, currency) = read_period(&mut connection, label).await?;
        let people = store::people::within(&mut connection, team.as_str()).await?;
        let mut statements = self
            .statements_of(&mut connection, &calendar, period, &people)
            .await?;
        statements.sort_by(leaderboard_order);
        let ranked = statements
            .into_iter()
            .enumerate()
            .map(|(index, statement)| {
                let team_path = people
                    .iter()
                    .find(|person| person.user_id.to_string() == statement.user_id)
                    .map(|person| person.team_path.clone())
                    .unwrap_or_default();
                (index as u32 + 1, team_path, statement)
            })
            .collect();
        Ok(TeamStatements {
            period,
            currency,
            ranked,
        })
    }

    /// Closes a period (admin): every rep's statement of it computed and locked, with what it
    /// took in and the deals' standing after it, and `statement_closed` for each.
    pub async fn close_period(&self, caller: &Caller, label: &str) -> Result<ClosedPeriodRow> {
        reach::admin(caller)?;
        let mut transaction = self.pool.begin().await?;
        store::statements::lock_closing(&mut transaction).await?;
        let (calendar, period, currency) = read_period(&mut transaction, label).await?;
        let closed = store::statements::closed_periods(&mut transaction).await?;
        let closes = Closes::of(&closed, period.kind());
        if closed.iter().any(|row| row.label == period.to_string()) || closes.is_closed(&period) {
            return Err(CompensationError::PeriodClosed {
                label: period.to_string(),
            });
        }
        let today = crm_platform::time::now().date_naive();
        let not_closable = |why: String| CompensationError::NotClosable {
            label: period.to_string(),
            why,
        };
        if period.end() > today {
            return Err(not_closable(format!(
                "it has not ended (its last day is {})",
                period.last_day()
            )));
        }
        if let Some(end) = closes.last_end
            && end != period.start()
        {
            let next = calendar
                .period_of(period.kind(), end)
                .map(|next| next.to_string())
                .unwrap_or_default();
            return Err(not_closable(format!(
                "periods close in order, and {next} is the next to close"
            )));
        }
        let now = crm_platform::time::now();
        let people = Self::assigned(&mut transaction, period).await?;
        let mut locked = self
            .computed(
                &mut transaction,
                &calendar,
                closes,
                period,
                &people,
                pb::StatementStatus::Closed,
            )
            .await?;
        for (_, wire) in &mut locked {
            wire.closed_by = caller.user_id.to_string();
            wire.closed_at = Some(crm_platform::time::to_timestamp(now));
        }
        let rows: Vec<LockedStatement<'_>> = locked
            .iter()
            .map(|(statement, wire)| LockedStatement {
                user_id: statement.user_id,
                total: statement.total,
                draw_balance: statement.draw_balance,
                body: wire.encode_to_vec(),
                credit_ids: &statement.credit_ids,
                standing: &statement.standing,
            })
            .collect();
        let row = ClosedPeriodRow {
            label: period.to_string(),
            kind: kind_name(period.kind()).to_owned(),
            starts_on: period.start(),
            ends_on: period.end(),
            statement_count: rows.len() as i32,
            total: locked.iter().map(|(statement, _)| statement.total).sum(),
            currency: currency.map(|currency| currency.as_str().to_owned()),
            closed_by: Some(caller.user_id),
            closed_at: now,
        };
        store::statements::insert_closed(&mut transaction, &row).await?;
        store::statements::lock_statements(&mut transaction, &row.label, period.end(), &rows)
            .await?;
        let ids: Vec<String> = locked
            .iter()
            .map(|(statement, _)| format!("{}:{}", statement.user_id, row.label))
            .collect();
        let aggregates: Vec<(crm_platform::outbox::Aggregate<'_>, StatementClosed)> = ids
            .iter()
            .zip(locked)
            .map(|(id, (_, wire))| {
                (
                    crm_platform::outbox::Aggregate {
                        kind: "statement",
                        id,
                        version: 1,
                    },
                    StatementClosed {
                        statement: Some(wire),
                        changed_by: caller.user_id.to_string(),
                        occurred_at: Some(crm_platform::time::to_timestamp(now)),
                    },
                )
            })
            .collect();
        self.outbox
            .enqueue_many(&mut transaction, &aggregates)
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(row)
    }

    /// The people on a plan on a day of `period`, by id.
    async fn assigned(connection: &mut PgConnection, period: FiscalPeriod) -> Result<Vec<Person>> {
        let assigned =
            store::plans::assignments(connection, None, (Some(period.start()), Some(period.end())))
                .await?;
        let mut users: Vec<Uuid> = assigned
            .iter()
            .map(|stored| stored.assignment.user_id)
            .collect();
        users.sort_unstable();
        users.dedup();
        Ok(store::people::of(connection, &users).await?)
    }

    /// The statements of `people` for the open `period`, computed as of now, in their order,
    /// with the wire form `status` gives them; reps on no plan in it are left out, any other
    /// problem refuses them all.
    async fn computed(
        &self,
        connection: &mut PgConnection,
        calendar: &FiscalCalendar,
        closes: Closes,
        period: FiscalPeriod,
        people: &[Person],
        status: pb::StatementStatus,
    ) -> Result<Vec<(RepStatement, pb::Statement)>> {
        let users: Vec<Uuid> = people.iter().map(|person| person.user_id).collect();
        let computed = open_statements(connection, calendar, closes, &users, period).await?;
        let mut statements = Vec::with_capacity(computed.len());
        for (user_id, statement) in computed {
            let statement = match statement {
                Ok(statement) => statement,
                Err(crate::domain::statement::StatementProblem::NoPlan) => continue,
                Err(problem) => {
                    return Err(CompensationError::Statement {
                        user_id,
                        label: period.to_string(),
                        problem,
                    });
                }
            };
            let name = people
                .iter()
                .find(|person| person.user_id == user_id)
                .map_or("", |person| person.display_name.as_str());
            let wire = convert::statement_to_wire(&statement, name, status);
            statements.push((statement, wire));
        }
        Ok(statements)
    }

    /// Every statement of an open period, computed as its close would compute them, without
    /// locking anything: what a statement run costs, and a check that the same ledger gives
    /// the same statements (the benchmark's).
    pub async fn run_period(&self, label: &str) -> Result<Vec<pb::Statement>> {
        let mut connection = self.pool.acquire().await?;
        let (calendar, period, _) = read_period(&mut connection, label).await?;
        let closed = store::statements::closed_periods(&mut connection).await?;
        let closes = Closes::of(&closed, period.kind());
        if closes.is_closed(&period) {
            return Err(CompensationError::PeriodClosed {
                label: period.to_string(),
            });
        }
        let people = Self::assigned(&mut connection, period).await?;
        Ok(self
            .computed(
                &mut connection,
                &calendar,
                closes,
                period,
                &people,
                pb::StatementStatus::Open,
            )
            .await?
            .into_iter()
            .map(|(_, wire)| wire)
            .collect())
    }

    /// The closed periods, latest first.
    pub async fn closed_periods(&self, _caller: &Caller) -> Result<Vec<ClosedPeriodRow>> {
        let mut connection = self.pool.acquire().await?;
        Ok(store::statements::closed_periods(&mut connection).await?)
    }

    /// Adds an audited adjustment to a rep's statement of an open period (admin); answers the
    /// statement with it.
    pub async fn adjust(
        &self,
        caller: &Caller,
        user_id: Uuid,
        label: &str,
        amount: Money,
        note: String,
    ) -> Result<pb::Statement> {
        reach::admin(caller)?;
        let mut transaction = self.pool.begin().await?;
        store::statements::lock_closing(&mut transaction).await?;
        let user_id = reach::rep(&mut transaction, caller, Some(user_id)).await?;
        let (calendar, period, currency) = read_period(&mut transaction, label).await?;
        let closed = store::statements::closed_periods(&mut transaction).await?;
        if Closes::of(&closed, period.kind()).is_closed(&period) {
            return Err(CompensationError::PeriodClosed {
                label: period.to_string(),
            });
        }
        if currency != Some(amount.currency) {
            return Err(FieldViolation::refusal(
                INCONSISTENT_FIELDS,
                "amount.currency_code",
                match currency {
                    Some(currency) => format!("must be the plans' currency, {currency}"),
                    None => "the organisation has no corporate currency yet".to_owned(),
                },
            )
            .into());
        }
        let adjustment = Adjustment {
            id: Uuid::now_v7(),
            amount: amount.amount,
            note,
            adjusted_by: caller.user_id,
        };
        store::statements::add_adjustment(
            &mut transaction,
            user_id,
            &period.to_string(),
            amount.currency.as_str(),
            &adjustment,
        )
        .await?;
        // The statement with the adjustment, before committing it: a rep on no plan in the
        // period has no statement to adjust.
        let people = store::people::of(&mut transaction, &[user_id]).await?;
        let statement = self
            .statements_of(&mut transaction, &calendar, period, &people)
            .await?
            .pop()
            .ok_or(CompensationError::Statement {
                user_id,
                label: period.to_string(),
                problem: crate::domain::statement::StatementProblem::NoPlan,
            })?;
        self.outbox.commit(transaction).await?;
        Ok(statement)
    }
}
