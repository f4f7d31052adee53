//! Work reports (O7): what a rep or a team did in a week or a month. The period is a span of
//! local days in a time zone (an ISO week from Monday, or a calendar month), measured as the
//! instants from the first day's start to the start of the day after the last; what was done
//! is counted per rep, and a team's figures are its reps' added up.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use crm_platform::{auth::TeamPath, money::CurrencyCode};
use rust_decimal::Decimal;
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PeriodKind {
    Week,
    Month,
}

impl PeriodKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
        }
    }
}

/// A week or a month of local days, `first_day..=last_day`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReportPeriod {
    pub kind: PeriodKind,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

impl ReportPeriod {
    /// The week (Monday to Sunday) or month holding `day`.
    pub fn containing(kind: PeriodKind, day: NaiveDate) -> Self {
        let first_day = match kind {
            PeriodKind::Week => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
            PeriodKind::Month => day.with_day(1).expect("every month has a first day"),
        };
        let after = match kind {
            PeriodKind::Week => first_day + Days::new(7),
            PeriodKind::Month => first_day + Months::new(1),
        };
        Self {
            kind,
            first_day,
            last_day: after.pred_opt().expect("a period ends after it starts"),
        }
    }

    /// The period just before this one.
    pub fn previous(self) -> Self {
        Self::containing(
            self.kind,
            self.first_day
                .pred_opt()
                .expect("a period has a day before it"),
        )
    }

    /// The last period wholly over on `today`: the one before today's.
    pub fn last_completed(kind: PeriodKind, today: NaiveDate) -> Self {
        Self::containing(kind, today).previous()
    }

    /// The instants the period covers in `zone`: from the start of its first day to the
    /// start of the day after its last (exclusive).
    pub fn bounds(&self, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let after = self
            .last_day
            .succ_opt()
            .expect("a period has a day after it");
        (
            start_of_day(self.first_day, zone),
            start_of_day(after, zone),
        )
    }
}

/// The first instant of a local day. Where a daylight-saving change skips midnight, the day
/// starts at the first local time that exists (the clocks moved from 00:00 to 01:00).
pub fn start_of_day(day: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let mut local = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    for _ in 0..4 {
        if let Some(start) = zone.from_local_datetime(&local).earliest() {
            return start.with_timezone(&Utc);
        }
        local += chrono::Duration::minutes(30);
    }
    // No zone skips more than two hours at midnight; treat the day as UTC's if one did.
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight exists"))
}

/// Whose work a report is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportSubject {
    Rep {
        user_id: Uuid,
        team_path: TeamPath,
    },
    /// The team and every team below it.
    Team(TeamPath),
}

impl ReportSubject {
    pub fn team_path(&self) -> &TeamPath {
        match self {
            ReportSubject::Rep { team_path, .. } | ReportSubject::Team(team_path) => team_path,
        }
    }

    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            ReportSubject::Rep { user_id, .. } => Some(*user_id),
            ReportSubject::Team(_) => None,
        }
    }
}

/// One thing counted for a rep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    Calls,
    Meetings,
    Visits,
    Emails,
    Notes,
    TasksCompleted,
    TasksOverdue,
    DealsCreated,
    DealsMovedForward,
    DealsMovedBack,
    DealsWon,
    DealsLost,
}

impl Metric {
    /// The metric of an activity of this kind (the activity log's `kind` column).
    pub fn of_activity(kind: &str) -> Option<Self> {
        match kind {
            "call" => Some(Metric::Calls),
            "meeting" => Some(Metric::Meetings),
            "visit" => Some(Metric::Visits),
            "email" => Some(Metric::Emails),
            "note" => Some(Metric::Notes),
            _ => None,
        }
    }
}

/// A count for one rep, as the store reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepCount {
    pub user_id: Uuid,
    pub team_path: String,
    pub metric: Metric,
    pub count: u32,
}

/// What was done: counts over the period, and the won deals' corporate amount.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkSummary {
    pub calls: u32,
    pub meetings: u32,
    pub visits: u32,
    pub emails: u32,
    pub notes: u32,
    pub tasks_completed: u32,
    pub tasks_overdue: u32,
    pub deals_created: u32,
    pub deals_moved_forward: u32,
    pub deals_moved_back: u32,
    pub deals_won: u32,
    pub deals_lost: u32,
    /// In the corporate currency; `None` without one.
    pub won_amount: Option<(CurrencyCode, Decimal)>,
}

impl WorkSummary {
    fn count_mut(&mut self, metric: Metric) -> &mut u32 {
        match metric {
            Metric::Calls => &mut self.calls,
            Metric::Meetings => &mut self.meetings,
            Metric::Visits => &mut self.visits,
            Metric::Emails => &mut self.emails,
            Metric::Notes => &mut self.notes,
            Metric::TasksCompleted => &mut self.tasks_completed,
            Metric::TasksOverdue => &mut self.tasks_overdue,
            Metric::DealsCreated => &mut self.deals_created,
            Metric::DealsMovedForward => &mut self.deals_moved_forward,
            Metric::DealsMovedBack => &mut self.deals_moved_back,
            Metric::DealsWon => &mut self.deals_won,
            Metric::DealsLost => &mut self.deals_lost,
        }
    }

    pub fn count(&self, metric: Metric) -> u32 {
        match metric {
            Metric::Calls => self.calls,
            Metric::Meetings => self.meetings,
            Metric::Visits => self.visits,
            Metric::Emails => self.emails,
            Metric::Notes => self.notes,
            Metric::TasksCompleted => self.tasks_completed,
            Metric::TasksOverdue => self.tasks_overdue,
            Metric::DealsCreated => self.deals_created,
            Metric::DealsMovedForward => self.deals_moved_forward,
            Metric::DealsMovedBack => self.deals_moved_back,
            Metric::DealsWon => self.deals_won,
            Metric::DealsLost => self.deals_lost,
        }
    }

    fn add_amount(&mut self, currency: CurrencyCode, amount: Decimal) {
        let total = self.won_amount.map_or(Decimal::ZERO, |(_, total)| total);
        self.won_amount = Some((currency, total + amount));
    }
}

/// A won deal's corporate amount, for one rep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepWonAmount {
    pub user_id: Uuid,
    pub currency: CurrencyCode,
    pub amount: Decimal,
}

/// One rep's part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepWork {
    pub user_id: Uuid,
    pub team_path: String,
    pub summary: WorkSummary,
}

/// The reps' summaries from their counts and won amounts, by user id.
pub fn rep_work(counts: &[RepCount], won: &[RepWonAmount]) -> Vec<RepWork> {
    let mut reps: Vec<RepWork> = Vec::new();
    let mut rep_of = |user_id: Uuid, team_path: &str| -> usize {
        match reps.iter().position(|rep| rep.user_id == user_id) {
            Some(index) => index,
            None => {
                reps.push(RepWork {
                    user_id,
                    team_path: team_path.to_owned(),
                    summary: WorkSummary::default(),
                });
                reps.len() - 1
            }
        }
    };
    let mut indexed = Vec::new();
    for count in counts {
        indexed.push((rep_of(count.user_id, &count.team_path), count));
    }
    let mut amounts = Vec::new();
    for amount in won {
        amounts.push((rep_of(amount.user_id, ""), amount));
    }
    for (index, count) in indexed {
        *reps[index].summary.count_mut(count.metric) += count.count;
    }
    for (index, amount) in amounts {
        reps[index]
            .summary
            .add_amount(amount.currency, amount.amount);
    }
    reps.sort_by_key(|rep| rep.user_id);
    reps
}

/// A team's figures: its reps' added up; the won amount in `corporate` (zero when a
/// corporate currency is set and nothing was won, absent without one).
pub fn team_summary(reps: &[RepWork], corporate: Option<CurrencyCode>) -> WorkSummary {
    let mut total = WorkSummary::default();
    for rep in reps {
        for metric in ALL_METRICS {
            *total.count_mut(metric) += rep.summary.count(metric);
        }
        if let Some((currency, amount)) = rep.summary.won_amount {
            total.add_amount(currency, amount);
        }
    }
    if let Some(currency) = corporate
        && total.won_amount.is_none()
    {
        total.won_amount = Some((currency, Decimal::ZERO));
    }
    total
}

pub const ALL_METRICS: [Metric; 12] = [
    Metric::Calls,
    Metric::Meetings,
    Metric::Visits,
    Metric::Emails,
    Metric::Notes,
    Metric::TasksCompleted,
    Metric::TasksOverdue,
    Metric::DealsCreated,
    Metric::DealsMovedForward,
    Metric::DealsMovedBack,
    Metric::DealsWon,
    Metric::DealsLost,
];

/// The most activities and stage moves a report lists (the summary counts them all).
pub const MAX_LISTED: usize = 200;
/// The most next steps a report lists.
pub const MAX_NEXT_STEPS: usize = 100;

#[cfg(test)]
#[path = "work_report_tests.rs"]
mod tests;
