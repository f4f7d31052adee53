//! The demo's two years of selling, worked out before anything is written: which deals each
//! rep opened, week by week, and how each one went — stage by stage, with the days it spent in
//! each, the stage it dropped out at, the competitors it met and why it was won or lost. The
//! funnel, the rep comparison and the competitive analysis (and forecasting later) learn from
//! this history, so it has the shapes real pipelines have:
//!
//! - creation follows the seasons of selling in China: quiet around the Spring Festival
//!   (January, February) and the October holidays, busy after the spring trade fairs and in the
//!   autumn;
//! - every open stage keeps a share of the deals and loses the rest (fewer the further a deal
//!   got); about three deals in ten that close are won; a deal spends days to weeks in a stage,
//!   the larger ones longer; now and then one moves back a stage;
//! - amounts follow the customer's industry, from tens of thousands of yuan (service contracts,
//!   small packaging firms) to millions (energy, automotive); the customers with a foreign
//!   parent are priced in US dollars or euros;
//! - Globex is met most often and wins most of the deals lost to a competitor;
//! - a rep sells from the day they started (Ravi the whole two years, Wes for the last 400 days,
//!   Nora for the last 25), on their own accounts (Wes also on Tailspin, head office's West
//!   account);
//! - the deals opened in the last weeks are still open, their close dates in the coming
//!   months, and every open stage holds some (where none happens to, the last deal that reached
//!   it is still there).
//!
//! Everything comes from a fixed seed and the anchor (the moment the history ends), so the same
//! anchor gives the same deals; the anchor is recoverable from the first deal, which is
//! created exactly [`HISTORY_DAYS`] before it ([`anchor_of_first_deal`]).

mod catalogue;
mod draws;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use crm_proto::crm::common::v1::CompanySize;

use super::{
    ADA, Member,
    accounts::{ACCOUNTS, DemoAccount},
    leads,
};
pub(super) use catalogue::{
    COMPETITORS, DIRECT_STAGES, LostReason, Motion, Rng, SERVICE_STAGES, StageProfile, WonReason,
};
use catalogue::{REPS, RepProfile, SEASON_PERCENT};
pub(super) use draws::foreign_currency;
use draws::{amount, close_note, competitors, deal_name, lost, lost_reason, won_reason};

/// How far back the history goes.
pub(super) const HISTORY_DAYS: i64 = 730;
/// The seed every demo history grows from.
const SEED: u64 = 0x4e6f_7274_6877_696e; // "Northwin"

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Won(WonReason),
    /// The competitor it went to, if one (an index of [`COMPETITORS`], on the deal).
    Lost(LostReason, Option<usize>),
}

/// Where a deal was: an open stage of its motion (an index of its stages), or closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StageAt {
    Open(usize),
    Won,
    Lost,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct PlannedStay {
    pub(super) stage: StageAt,
    pub(super) entered_at: DateTime<Utc>,
}

/// One deal of the history.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PlannedDeal {
    /// Its place in the history (its id is made from it).
    pub(super) number: u32,
    pub(super) owner: Member,
    pub(super) account: &'static DemoAccount,
    pub(super) motion: Motion,
    pub(super) name: String,
    pub(super) currency: &'static str,
    /// In the currency's minor units (cents, fen).
    pub(super) amount_minor: u64,
    pub(super) created_at: DateTime<Utc>,
    /// From creation on; the last one is where the deal is.
    pub(super) stays: Vec<PlannedStay>,
    pub(super) expected_close: NaiveDate,
    pub(super) outcome: Option<Outcome>,
    pub(super) close_note: String,
    /// Indexes of [`COMPETITORS`].
    pub(super) competitors: Vec<usize>,
}

impl PlannedDeal {
    /// The amount as the wire writes it: "1200000.00".
    pub(super) fn amount_text(&self) -> String {
        format!("{}.{:02}", self.amount_minor / 100, self.amount_minor % 100)
    }
}

/// The history that ends at `anchor`.
pub(super) fn generate(anchor: DateTime<Utc>) -> Vec<PlannedDeal> {
    let mut rng = Rng::new(SEED);
    let mut deals = Vec::new();
    let start = anchor - Duration::days(HISTORY_DAYS);
    for rep in REPS {
        let started = anchor - Duration::days(leads::started_days_ago(&rep.member));
        let accounts = accounts_of(&rep.member);
        let weights: Vec<u64> = accounts
            .iter()
            .map(|account| account_weight(account))
            .collect();
        let mut week_start = start;
        while week_start < anchor {
            let season = SEASON_PERCENT[week_start.month0() as usize];
            let expected = rep.deals_per_week_hundredths * season / 100;
            let count = (expected + rng.below(100)) / 100;
            for _ in 0..count {
                let created_at = if deals.is_empty() {
                    // The first deal (Ravi's: he sold before the history starts) marks where
                    // the history starts, see anchor_of_first_deal.
                    start
                } else {
                    working_time(&mut rng, week_start)
                };
                let account = accounts[rng.weighted(&weights)];
                let deal = simulate(
                    &mut rng,
                    rep,
                    account,
                    created_at,
                    anchor,
                    deals.len() as u32,
                );
                // Not before the rep started, and not today (the history ends before now).
                if created_at >= started && created_at.date_naive() < anchor.date_naive() {
                    deals.push(deal);
                }
            }
            week_start += Duration::days(7);
        }
    }
    keep_every_stage_open(&mut deals, anchor);
    deals
}

/// A pipeline with an empty open stage shows nothing there: where no deal happens to be in
/// one at the anchor, the last deal that reached it is still there (it was closed later in the
/// plan), its close date in the coming weeks.
fn keep_every_stage_open(deals: &mut [PlannedDeal], anchor: DateTime<Utc>) {
    for motion in [Motion::Direct, Motion::Service] {
        for stage in 0..motion.stages().len() {
            let here = StageAt::Open(stage);
            let is_here = |deal: &PlannedDeal| {
                deal.motion == motion
                    && deal.outcome.is_none()
                    && deal.stays.last().map(|stay| stay.stage) == Some(here)
            };
            if deals.iter().any(is_here) {
                continue;
            }
            let latest = deals
                .iter_mut()
                .filter(|deal| {
                    deal.motion == motion && deal.stays.iter().any(|stay| stay.stage == here)
                })
                .max_by_key(|deal| {
                    deal.stays
                        .iter()
                        .rev()
                        .find(|stay| stay.stage == here)
                        .map(|stay| stay.entered_at)
                });
            let Some(deal) = latest else { continue };
            let keep = deal
                .stays
                .iter()
                .rposition(|stay| stay.stage == here)
                .expect("it reached the stage");
            deal.stays.truncate(keep + 1);
            deal.outcome = None;
            deal.close_note.clear();
            deal.expected_close = anchor.date_naive() + Duration::days(21);
        }
    }
}

/// The anchor of the history whose first deal was created at `first_created_at`.
pub(super) fn anchor_of_first_deal(first_created_at: DateTime<Utc>) -> DateTime<Utc> {
    first_created_at + Duration::days(HISTORY_DAYS)
}

/// The accounts a rep sells to: their own, and head office's accounts in their region.
fn accounts_of(rep: &Member) -> Vec<&'static DemoAccount> {
    let region = if rep.team.starts_with("/northwind/west") {
        "West"
    } else {
        "East"
    };
    ACCOUNTS
        .iter()
        .filter(|account| {
            account.owner.user_id() == rep.user_id()
                || account.owner.user_id() == ADA.user_id() && account.region == region
        })
        .collect()
}

/// Bigger customers buy more often; those with a foreign parent seldom (most of their projects
/// go through the parent's global suppliers).
fn account_weight(account: &DemoAccount) -> u64 {
    if foreign_currency(account).is_some() {
        return 1;
    }
    match account.size {
        CompanySize::Enterprise => 5,
        CompanySize::Large => 4,
        CompanySize::Medium => 3,
        _ => 2,
    }
}

/// A weekday of the week starting at `week_start`, between 9:00 and 18:00 China time.
fn working_time(rng: &mut Rng, week_start: DateTime<Utc>) -> DateTime<Utc> {
    let mut day = week_start.date_naive() + Duration::days(rng.between(0, 6));
    match day.weekday() {
        Weekday::Sat => day -= Duration::days(1),
        Weekday::Sun => day += Duration::days(1),
        _ => {}
    }
    // 01:00 to 10:00 UTC is 09:00 to 18:00 in China (UTC+8, no daylight saving).
    let seconds = rng.between(3600, 10 * 3600 - 1);
    day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc() + Duration::seconds(seconds)
}

/// One deal from its creation to where it is at `anchor`.
fn simulate(
    rng: &mut Rng,
    rep: &RepProfile,
    account: &'static DemoAccount,
    created_at: DateTime<Utc>,
    anchor: DateTime<Utc>,
    number: u32,
) -> PlannedDeal {
    let motion = if rng.chance(200) {
        Motion::Service
    } else {
        Motion::Direct
    };
    let (currency, amount_minor, size_permille) = amount(rng, account, motion);
    let competitors = competitors(rng, motion);
    let pressure: i64 = competitors
        .iter()
        .map(|competitor| COMPETITORS[*competitor].pressure_permille)
        .sum();
    let stages = motion.stages();
    let mut stays = vec![PlannedStay {
        stage: StageAt::Open(0),
        entered_at: created_at,
    }];
    let mut at = created_at;
    let mut current = 0;
    let mut moved_back = false;
    let outcome = loop {
        let profile = &stages[current];
        // Larger deals take longer: up to half as long again.
        let days = rng.between(profile.min_days, profile.max_days);
        let seconds =
            (days * 86_400 * (1000 + size_permille / 2)) / 1000 + rng.between(0, 8 * 3600);
        at += Duration::seconds(seconds);
        let mut advance = profile.advance_permille;
        if motion == Motion::Direct {
            advance += rep.advance_bonus[current];
            if current >= 2 {
                advance -= pressure;
            }
        }
        if current >= 2 && !moved_back && rng.chance(70) {
            // The customer re-opened the scope: back a stage, once.
            moved_back = true;
            current -= 1;
            stays.push(PlannedStay {
                stage: StageAt::Open(current),
                entered_at: at,
            });
            continue;
        }
        if !rng.chance(advance) {
            let reason = lost_reason(rng, current);
            break lost(rng, reason, &competitors);
        }
        if current + 1 == stages.len() {
            break Outcome::Won(won_reason(rng));
        }
        current += 1;
        stays.push(PlannedStay {
            stage: StageAt::Open(current),
            entered_at: at,
        });
    };
    stays.push(PlannedStay {
        stage: match outcome {
            Outcome::Won(_) => StageAt::Won,
            Outcome::Lost(..) => StageAt::Lost,
        },
        entered_at: at,
    });
    let mut competitors = competitors;
    if let Outcome::Lost(_, Some(competitor)) = outcome
        && !competitors.contains(&competitor)
    {
        competitors.push(competitor);
    }
    let planned_close = at.date_naive();
    // What has happened by the anchor: a deal still under way is open where it is now.
    let still_open = at > anchor;
    stays.retain(|stay| stay.entered_at <= anchor);
    let today = anchor.date_naive();
    let (outcome, expected_close, close_note) = if still_open {
        let close = planned_close.clamp(today + Duration::days(7), today + Duration::days(180));
        (None, close, String::new())
    } else {
        (Some(outcome), planned_close, close_note(outcome))
    };
    PlannedDeal {
        number,
        owner: rep.member,
        account,
        motion,
        name: deal_name(rng, account, motion, created_at),
        currency,
        amount_minor,
        created_at,
        stays,
        expected_close,
        outcome,
        close_note,
        competitors,
    }
}

#[cfg(test)]
mod tests;
