//! The period-close review (F7) of a team or the company: target, result and attainment, the
//! forecast's accuracy, win rates, collection rate, the largest wins and losses, and each rep
//! against the team — the seeds' "result review", counted from the deals closed in the period.
//! Amounts are in the corporate currency.

use chrono::NaiveDate;
use crm_platform::money::round_commercial;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{
    accuracy::Comparison,
    analysis::Change,
    ranking::{Contender, PERCENT_PLACES, leaderboard, percent_of},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Won,
    Lost,
}

/// A deal won or lost in the period, credited to its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosedDeal {
    pub id: Uuid,
    pub name: String,
    pub owner_id: Uuid,
    pub amount: Decimal,
    pub outcome: Outcome,
    pub closed_on: NaiveDate,
}

/// Won against closed, by count and by amount (a few large losses weigh in the second).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WinRate {
    pub won: u32,
    pub lost: u32,
    pub won_amount: Decimal,
    pub lost_amount: Decimal,
    /// Percent of closed deals won; `None` with none closed.
    pub by_count: Option<Decimal>,
    /// Percent of the closed amount won; `None` when nothing of value closed.
    pub by_amount: Option<Decimal>,
}

impl WinRate {
    pub fn of<'a>(deals: impl IntoIterator<Item = &'a ClosedDeal>) -> WinRate {
        let mut rate = WinRate::default();
        for deal in deals {
            match deal.outcome {
                Outcome::Won => {
                    rate.won += 1;
                    rate.won_amount += deal.amount;
                }
                Outcome::Lost => {
                    rate.lost += 1;
                    rate.lost_amount += deal.amount;
                }
            }
        }
        rate.by_count = percent_of(
            Decimal::from(rate.won),
            Decimal::from(rate.won) + Decimal::from(rate.lost),
        );
        rate.by_amount = percent_of(rate.won_amount, rate.won_amount + rate.lost_amount);
        rate
    }
}

/// What was invoiced (booked to be paid) in the period and what of it was collected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Collections {
    pub booked: Decimal,
    pub collected: Decimal,
}

/// A rep of the reviewed team, with the rep's target for the period if one was set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepTarget {
    pub rep_id: Uuid,
    pub target: Option<Decimal>,
}

/// What the review is counted from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewInput {
    /// The team's (or company's) own target.
    pub target: Option<Decimal>,
    /// The team's reps; owners of closed deals not among them (who left, say) are added.
    pub reps: Vec<RepTarget>,
    pub closed: Vec<ClosedDeal>,
    /// The period's forecast against its result (the accuracy every forecast is judged by).
    pub forecast: Option<Comparison>,
    pub collections: Option<Collections>,
    /// How many of the largest wins and losses to show.
    pub top: usize,
    /// Decimals of the corporate currency, for the averages.
    pub money_places: u32,
}

/// The team's average rep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamAverage {
    /// Result per rep, to the corporate currency's decimals.
    pub result: Decimal,
    /// The mean of the attainments of the reps with a target, as shown.
    pub attainment: Option<Decimal>,
}

/// A rep's figures against the team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepReview {
    /// On the team's leaderboard for the period.
    pub rank: u32,
    pub rep_id: Uuid,
    pub target: Option<Decimal>,
    pub result: Decimal,
    pub attainment: Option<Decimal>,
    pub win_rate: WinRate,
    pub result_against_average: Change,
    /// Percentage points against the team's average attainment.
    pub attainment_against_average: Option<Decimal>,
    /// Percentage points against the team's win rate by count.
    pub win_rate_against_team: Option<Decimal>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeriodReview {
    pub target: Option<Decimal>,
    /// Closed-won bookings.
    pub result: Decimal,
    pub attainment: Option<Decimal>,
    pub forecast: Option<Comparison>,
    pub win_rate: WinRate,
    /// Percent of the booked amount collected; `None` without collections or bookings.
    pub collection_rate: Option<Decimal>,
    /// The largest first (then the earlier close, then id).
    pub top_wins: Vec<ClosedDeal>,
    pub top_losses: Vec<ClosedDeal>,
    pub team_average: TeamAverage,
    /// In leaderboard order.
    pub reps: Vec<RepReview>,
}

/// Counts the review of a period.
pub fn review(input: ReviewInput) -> PeriodReview {
    let win_rate = WinRate::of(&input.closed);
    let mut reps = input.reps;
    for deal in &input.closed {
        if !reps.iter().any(|rep| rep.rep_id == deal.owner_id) {
            reps.push(RepTarget {
                rep_id: deal.owner_id,
                target: None,
            });
        }
    }
    let owned = |rep_id: Uuid| {
        input
            .closed
            .iter()
            .filter(move |deal| deal.owner_id == rep_id)
    };
    let standings = leaderboard(
        reps.iter()
            .map(|rep| Contender {
                id: rep.rep_id,
                target: rep.target,
                result: WinRate::of(owned(rep.rep_id)).won_amount,
            })
            .collect(),
    );
    let team_average = TeamAverage {
        result: average(standings.iter().map(|standing| standing.result))
            .map_or(Decimal::ZERO, |mean| {
                round_commercial(mean, input.money_places)
            }),
        attainment: average(standings.iter().filter_map(|standing| standing.attainment))
            .map(|mean| round_commercial(mean, PERCENT_PLACES)),
    };
    let rep_reviews = standings
        .into_iter()
        .map(|standing| {
            let rep_rate = WinRate::of(owned(standing.id));
            RepReview {
                rank: standing.rank,
                rep_id: standing.id,
                target: standing.target,
                result: standing.result,
                attainment: standing.attainment,
                result_against_average: Change::between(standing.result, team_average.result),
                attainment_against_average: standing
                    .attainment
                    .zip(team_average.attainment)
                    .map(|(mine, team)| mine - team),
                win_rate_against_team: rep_rate
                    .by_count
                    .zip(win_rate.by_count)
                    .map(|(mine, team)| mine - team),
                win_rate: rep_rate,
            }
        })
        .collect();
    let top = |outcome: Outcome| {
        let mut deals: Vec<ClosedDeal> = input
            .closed
            .iter()
            .filter(|deal| deal.outcome == outcome)
            .cloned()
            .collect();
        deals.sort_by(|a, b| {
            (b.amount.cmp(&a.amount))
                .then_with(|| a.closed_on.cmp(&b.closed_on))
                .then_with(|| a.id.cmp(&b.id))
        });
        deals.truncate(input.top);
        deals
    };
    let result = win_rate.won_amount;
    PeriodReview {
        target: input.target,
        result,
        attainment: input
            .target
            .filter(|target| *target > Decimal::ZERO)
            .and_then(|target| percent_of(result, target)),
        forecast: input.forecast,
        collection_rate: input
            .collections
            .filter(|collections| collections.booked > Decimal::ZERO)
            .and_then(|collections| percent_of(collections.collected, collections.booked)),
        top_wins: top(Outcome::Won),
        top_losses: top(Outcome::Lost),
        win_rate,
        team_average,
        reps: rep_reviews,
    }
}

fn average(values: impl Iterator<Item = Decimal>) -> Option<Decimal> {
    let (sum, count) = values.fold((Decimal::ZERO, 0u32), |(sum, count), value| {
        (sum + value, count + 1)
    });
    (count > 0).then(|| sum / Decimal::from(count))
}

#[cfg(test)]
#[path = "review_tests.rs"]
mod tests;
