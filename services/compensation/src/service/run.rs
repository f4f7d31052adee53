//! A statement run over many reps: their assignments, plans, quotas, ledger entries, late
//! entries, adjustments and the standing the last closed period left, each read in one
//! statement for all of them; then, per rep, every open period from the first one the rep has
//! up to the one asked for, each statement handing its standing to the next.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use crm_platform::fiscal::{FiscalCalendar, FiscalPeriod, PeriodKind};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    domain::{
        credit::{Credit, CreditKind},
        run::{LateCredit, Part, RepPeriod, RepStatement, run},
        statement::{PoolShare, StatementProblem},
    },
    store::{
        self,
        plans::{StoredAssignment, StoredPlan},
        statements::ClosedPeriodRow,
    },
};

pub(super) fn kind_name(kind: PeriodKind) -> &'static str {
    match kind {
        PeriodKind::Month => "month",
        PeriodKind::Quarter => "quarter",
        PeriodKind::Year => "year",
    }
}

/// Where the closed periods of a kind stand.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Closes {
    /// The first closed period's first day: entries from it on belong to closed statements
    /// or are late.
    pub first_start: Option<NaiveDate>,
    /// The last closed period's end: the first open period starts there.
    pub last_end: Option<NaiveDate>,
}

impl Closes {
    pub(super) fn of(closed: &[ClosedPeriodRow], kind: PeriodKind) -> Closes {
        let mine = closed.iter().filter(|row| row.kind == kind_name(kind));
        Closes {
            first_start: mine.clone().map(|row| row.starts_on).min(),
            last_end: mine.map(|row| row.ends_on).max(),
        }
    }

    pub(super) fn is_closed(&self, period: &FiscalPeriod) -> bool {
        self.last_end.is_some_and(|end| period.start() < end)
    }
}

/// The parts of `period` a rep is on a plan version paying per the period's kind.
fn parts<'a>(
    period: &FiscalPeriod,
    assignments: &[&StoredAssignment],
    plans: &'a HashMap<Uuid, StoredPlan>,
) -> Vec<Part<'a>> {
    let mut parts = Vec::new();
    for stored in assignments {
        let Some((from, until)) = stored.assignment.within(period.start(), period.end()) else {
            continue;
        };
        let Some(plan) = plans.get(&stored.assignment.plan_id) else {
            continue;
        };
        for version in &plan.versions {
            let version_from = version.effective_from.max(from);
            let version_until = version.effective_until.map_or(until, |end| end.min(until));
            if version_from < version_until && version.period == period.kind() {
                parts.push(Part {
                    plan_id: plan.id,
                    plan_name: plan.name.clone(),
                    version,
                    from: version_from,
                    until: version_until,
                    pool: None,
                });
            }
        }
    }
    parts.sort_by_key(|part| part.from);
    parts
}

/// A rep's bookings (net of reversals) on days `[from, until)`.
fn booked(credits: &[Credit], from: NaiveDate, until: NaiveDate) -> Decimal {
    credits
        .iter()
        .filter(|credit| from <= credit.effective_on && credit.effective_on < until)
        .filter(|credit| {
            matches!(
                credit.kind,
                CreditKind::Booking | CreditKind::BookingReversal
            )
        })
        .map(Credit::signed)
        .sum()
}

/// Each rep's statement of `period` (open), or why it cannot be computed; reps on no plan in
/// it get [`StatementProblem::NoPlan`].
pub(super) async fn open_statements(
    connection: &mut PgConnection,
    calendar: &FiscalCalendar,
    closes: Closes,
    users: &[Uuid],
    period: FiscalPeriod,
) -> sqlx::Result<Vec<(Uuid, Result<RepStatement, StatementProblem>)>> {
    let assignments =
        store::plans::assignments(connection, Some(users), (None, Some(period.end()))).await?;
    let plan_ids: Vec<Uuid> = assignments
        .iter()
        .map(|stored| stored.assignment.plan_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let plans: HashMap<Uuid, StoredPlan> = store::plans::list(connection, Some(&plan_ids))
        .await?
        .into_iter()
        .map(|plan| (plan.id, plan))
        .collect();
    let mut by_rep: HashMap<Uuid, Vec<&StoredAssignment>> = HashMap::new();
    for stored in &assignments {
        by_rep
            .entry(stored.assignment.user_id)
            .or_default()
            .push(stored);
    }
    // Each rep's first period to compute: the first open one, or the one their first
    // assignment starts in when nothing was closed before it.
    let chain_start = |rep: &Uuid| -> FiscalPeriod {
        let first_assigned = by_rep
            .get(rep)
            .and_then(|assigned| assigned.iter().map(|stored| stored.assignment.from).min())
            .unwrap_or(period.start());
        let from = closes
            .last_end
            .map_or(first_assigned, |end| end.max(first_assigned))
            .min(period.start());
        calendar.period_of(period.kind(), from).unwrap_or(period)
    };
    let starts: HashMap<Uuid, FiscalPeriod> =
        users.iter().map(|rep| (*rep, chain_start(rep))).collect();
    let earliest = starts
        .values()
        .map(FiscalPeriod::start)
        .min()
        .unwrap_or(period.start());
    let labels: Vec<String> = {
        let mut labels = Vec::new();
        let mut at = calendar
            .period_of(period.kind(), earliest)
            .unwrap_or(period);
        while at.start() <= period.start() {
            labels.push(at.to_string());
            at = at.shifted(1);
        }
        labels
    };
    let quotas: HashMap<(Uuid, String), Decimal> = store::quotas::of(connection, users, &labels)
        .await?
        .into_iter()
        .map(|(user, label, amount)| ((user, label), amount))
        .collect();
    let mut adjustments: HashMap<(Uuid, String), Vec<_>> = HashMap::new();
    for (user, label, adjustment) in
        store::statements::adjustments(connection, users, &labels).await?
    {
        adjustments
            .entry((user, label))
            .or_default()
            .push(adjustment);
    }
    let mut credits: HashMap<Uuid, Vec<Credit>> = HashMap::new();
    for credit in store::credits::of_reps(connection, users, earliest, period.end()).await? {
        credits.entry(credit.user_id).or_default().push(credit);
    }
    let mut late: HashMap<Uuid, Vec<LateCredit>> = HashMap::new();
    if let (Some(first), Some(last)) = (closes.first_start, closes.last_end) {
        for credit in store::credits::late(connection, users, first, last).await? {
            let closed_period = calendar
                .period_of(period.kind(), credit.effective_on)
                .map(|closed| closed.to_string())
                .unwrap_or_default();
            late.entry(credit.user_id).or_default().push(LateCredit {
                credit,
                closed_period,
            });
        }
    }
    let before = closes.last_end.unwrap_or(earliest);
    let mut standing = store::statements::standing(connection, users, before).await?;
    let draws = store::statements::draw_balances(connection, users, before).await?;
    let mut pools: HashMap<(String, NaiveDate, NaiveDate), Decimal> = HashMap::new();
    let mut members: HashMap<(Uuid, String, NaiveDate, NaiveDate), i64> = HashMap::new();
    let no_credits = Vec::new();
    let mut statements = Vec::with_capacity(users.len());
    for rep in users {
        let assigned = by_rep.get(rep).map_or(&[][..], Vec::as_slice);
        let rep_credits = credits.get(rep).unwrap_or(&no_credits);
        let mut history = standing.remove(rep).unwrap_or_default();
        let mut draw_balance = draws.get(rep).copied().unwrap_or_default();
        let mut at = starts[rep];
        let mut last: Option<Result<RepStatement, StatementProblem>> = None;
        while at.start() <= period.start() {
            let mut rep_parts = parts(&at, assigned, &plans);
            for part in &mut rep_parts {
                let Some(pool) = &part.version.team_pool else {
                    continue;
                };
                let key = (pool.team_path.clone(), part.from, part.until);
                if !pools.contains_key(&key) {
                    let team = store::credits::team_bookings(
                        connection,
                        &pool.team_path,
                        part.from,
                        part.until,
                    )
                    .await?;
                    pools.insert(key.clone(), team);
                }
                let member_key = (part.plan_id, pool.team_path.clone(), part.from, part.until);
                if !members.contains_key(&member_key) {
                    let count = store::people::pool_members(
                        connection,
                        part.plan_id,
                        &pool.team_path,
                        part.from,
                        part.until,
                    )
                    .await?;
                    members.insert(member_key.clone(), count);
                }
                part.pool = Some(PoolShare {
                    team_bookings: pools[&key],
                    rep_bookings: booked(rep_credits, part.from, part.until),
                    members: u32::try_from(members[&member_key]).unwrap_or(u32::MAX),
                });
            }
            let label = at.to_string();
            let first_open = closes.last_end == Some(at.start());
            let input = RepPeriod {
                user_id: *rep,
                period: at,
                parts: rep_parts,
                quota: quotas.get(&(*rep, label.clone())).copied(),
                credits: rep_credits
                    .iter()
                    .filter(|credit| at.contains(credit.effective_on))
                    .cloned()
                    .collect(),
                late: if first_open {
                    late.remove(rep).unwrap_or_default()
                } else {
                    Vec::new()
                },
                adjustments: adjustments.remove(&(*rep, label)).unwrap_or_default(),
            };
            let computed = run(&input, &mut history, &mut draw_balance);
            // A period before the one asked for without a plan pays nothing and moves nothing.
            if at.start() == period.start() {
                last = Some(computed);
            } else if let Err(problem) = &computed
                && *problem != StatementProblem::NoPlan
            {
                last = Some(computed);
                break;
            }
            at = at.shifted(1);
        }
        statements.push((*rep, last.unwrap_or(Err(StatementProblem::NoPlan))));
    }
    Ok(statements)
}
