//! Work reports' use cases (O7): a rep's or a team's week or month computed on demand, and the
//! schedule's generation of every completed period's reports — once, in one transaction that
//! claims the period, whatever the number of replicas ticking (kit `schedule`).
//!
//! Who reads what: a rep their own reports; a manager theirs, their team subtree's and its
//! reps'; an admin all (PERMISSION_DENIED otherwise, as the report is no secret's existence).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use crm_platform::{
    auth::{Caller, TeamPath, Visibility},
    org::OrgDirectory,
    paging::{Listing, Page, SortKey},
    schedule,
};
use crm_proto::crm::opportunities::v1 as pb;
use prost::Message;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Opportunities, Result};
use crate::{
    convert::work_reports::{self as convert, ReportParts},
    domain::work_report::{self, PeriodKind, ReportPeriod, ReportSubject},
    error::OpportunitiesError,
    store::work_reports::{self as store, GeneratedReport, ReportFilter, Span},
};

/// The schedule's job name (its advisory lock).
pub const WORK_REPORTS: &str = "work-reports";

/// Whose report a caller asks for.
#[derive(Debug, Clone)]
pub enum WhoseReport {
    /// The caller's own.
    Mine,
    User(Uuid),
    Team(TeamPath),
}

impl Opportunities {
    /// The report of `whose` for the `kind` of period holding `day` (today in `zone` when
    /// `None`), computed now.
    pub async fn compute_work_report(
        &self,
        caller: &Caller,
        whose: WhoseReport,
        kind: PeriodKind,
        day: Option<NaiveDate>,
        zone: Tz,
    ) -> Result<pb::WorkReport> {
        let mut connection = self.pool.acquire().await?;
        let subject = self.report_subject(&mut connection, caller, whose).await?;
        let now = crm_platform::time::now();
        let day = day.unwrap_or_else(|| now.with_timezone(&zone).date_naive());
        let period = ReportPeriod::containing(kind, day);
        let parts = read_report(&mut connection, subject, period, zone, now).await?;
        Ok(convert::report(None, &parts))
    }

    /// Resolves and checks whose report it is.
    async fn report_subject(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        whose: WhoseReport,
    ) -> Result<ReportSubject> {
        let refused = || {
            OpportunitiesError::permission_denied(
                "a rep reads their own work reports; a manager their team subtree's and its reps'; an admin every one",
            )
        };
        match whose {
            WhoseReport::Mine => Ok(ReportSubject::Rep {
                user_id: caller.user_id,
                team_path: caller.team_path.clone(),
            }),
            WhoseReport::User(user_id) if user_id == caller.user_id => Ok(ReportSubject::Rep {
                user_id,
                team_path: caller.team_path.clone(),
            }),
            WhoseReport::User(user_id) => {
                let team_path = OrgDirectory::team_of(connection, user_id)
                    .await?
                    .ok_or_else(|| OpportunitiesError::not_found("user", user_id))?;
                if !caller.can_access(user_id, &team_path) {
                    return Err(refused());
                }
                Ok(ReportSubject::Rep { user_id, team_path })
            }
            WhoseReport::Team(team) => match caller.visibility() {
                Visibility::All => Ok(ReportSubject::Team(team)),
                Visibility::TeamSubtree(reach) if team.is_within(&reach) => {
                    Ok(ReportSubject::Team(team))
                }
                _ => Err(refused()),
            },
        }
    }

    /// A generated report the caller reads (NOT_FOUND otherwise).
    pub async fn get_work_report(&self, caller: &Caller, id: Uuid) -> Result<pb::WorkReport> {
        let mut connection = self.pool.acquire().await?;
        let bytes = store::get_report(&mut connection, caller, id)
            .await?
            .ok_or_else(|| OpportunitiesError::not_found("work report", id))?;
        decode(&bytes)
    }

    /// The generated reports the caller reads, newest period first.
    pub async fn list_work_reports(
        &self,
        caller: &Caller,
        filter: &ReportFilter,
        page: &Page,
    ) -> Result<Listing<pb::WorkReport>> {
        let mut connection = self.pool.acquire().await?;
        let rows = store::list_reports(&mut connection, caller, filter, page).await?;
        let listing = Listing::from_rows(rows, page, |(start, id, _)| (SortKey::Date(*start), *id));
        let mut reports = Vec::with_capacity(listing.records.len());
        for (_, _, bytes) in &listing.records {
            reports.push(decode(bytes)?);
        }
        Ok(Listing {
            records: reports,
            next_page_token: listing.next_page_token,
        })
    }

    /// The schedule's job: generates the reports of the last completed week and month in
    /// `zone` as of `now`, if not yet generated — for every rep with work in the period and
    /// every team above them — with a `work_report_generated` event each. Returns how many
    /// reports it generated (0 when another replica holds the job, or all were done).
    pub async fn run_work_reports(&self, now: DateTime<Utc>, zone: Tz) -> Result<u64> {
        let today = now.with_timezone(&zone).date_naive();
        let mut generated = 0;
        for kind in [PeriodKind::Week, PeriodKind::Month] {
            let period = ReportPeriod::last_completed(kind, today);
            generated += self.generate_period(period, zone, now).await?;
        }
        Ok(generated)
    }

    async fn generate_period(
        &self,
        period: ReportPeriod,
        zone: Tz,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let mut transaction = self.pool.begin().await?;
        if store::period_generated(&mut transaction, period.kind, period.first_day).await?
            || !schedule::try_lock(&mut transaction, WORK_REPORTS).await?
            || !store::mark_period_generated(&mut transaction, period.kind, period.first_day, now)
                .await?
        {
            // Ended here, not when dropped: a dropped transaction is rolled back lazily, and
            // its connection would hold the job's lock until then.
            transaction.rollback().await?;
            return Ok(0);
        }
        let (from, to) = period.bounds(zone);
        let reps = store::reps_with_work(&mut transaction, Span { from, to }).await?;
        // By path, so teams come out in tree order.
        let mut teams = BTreeMap::new();
        let mut subjects = Vec::new();
        for (user_id, team_path) in reps {
            let Ok(team_path) = TeamPath::parse(&team_path) else {
                continue;
            };
            teams.extend(
                team_path
                    .ancestors()
                    .into_iter()
                    .map(|team| (team.to_string(), team)),
            );
            subjects.push(ReportSubject::Rep { user_id, team_path });
        }
        subjects.extend(teams.into_values().map(ReportSubject::Team));
        let mut count = 0;
        for subject in subjects {
            let parts = read_report(&mut transaction, subject, period, zone, now).await?;
            let id = Uuid::now_v7();
            let message = convert::report(Some(id), &parts);
            store::insert_report(
                &mut transaction,
                &GeneratedReport {
                    id,
                    user_id: parts.subject.user_id(),
                    team_path: parts.subject.team_path().to_string(),
                    kind: period.kind,
                    period_start: period.first_day,
                    period_end: period.last_day,
                    time_zone: parts.time_zone.clone(),
                    message: message.encode_to_vec(),
                    generated_at: now,
                },
            )
            .await?;
            let event = pb::WorkReportGenerated {
                report_id: id.to_string(),
                user_id: message.user_id.clone(),
                team_path: message.team_path.clone(),
                period: message.period,
                period_start: message.period_start.clone(),
                period_end: message.period_end.clone(),
                time_zone: message.time_zone.clone(),
                summary: message.summary.clone(),
            };
            self.outbox
                .enqueue_for(&mut transaction, "work_report", id, 1, &event)
                .await?;
            count += 1;
        }
        self.outbox.commit(transaction).await?;
        Ok(count)
    }
}

/// Reads everything the subject's report of `period` holds.
async fn read_report(
    connection: &mut PgConnection,
    subject: ReportSubject,
    period: ReportPeriod,
    zone: Tz,
    now: DateTime<Utc>,
) -> Result<ReportParts> {
    let (from, to) = period.bounds(zone);
    let span = Span { from, to };
    let corporate = OrgDirectory::settings(&mut *connection)
        .await?
        .corporate_currency;
    let counts = store::rep_counts(connection, &subject, span).await?;
    let won = match corporate {
        Some(currency) => store::won_amounts(connection, &subject, span, currency).await?,
        None => Vec::new(),
    };
    let reps = work_report::rep_work(&counts, &won);
    let summary = work_report::team_summary(&reps, corporate);
    Ok(ReportParts {
        activities: store::activities(connection, &subject, span).await?,
        moves: store::moves(connection, &subject, span).await?,
        closed: store::closed(connection, &subject, span).await?,
        next_steps: store::next_steps(connection, &subject).await?,
        reps: match subject {
            ReportSubject::Team(_) => reps,
            ReportSubject::Rep { .. } => Vec::new(),
        },
        subject,
        period,
        time_zone: zone.name().to_owned(),
        summary,
        generated_at: now,
    })
}

fn decode(bytes: &[u8]) -> Result<pb::WorkReport> {
    pb::WorkReport::decode(bytes)
        .map_err(|error| OpportunitiesError::from(crate::store::corrupt(error)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_team_has_every_team_above_it() {
        let teams = TeamPath::parse("/northwind/east/east-1/")
            .unwrap()
            .ancestors();
        let names: Vec<&str> = teams.iter().map(TeamPath::as_str).collect();
        assert_eq!(
            names,
            ["/northwind/", "/northwind/east/", "/northwind/east/east-1/"]
        );
    }
}
