//! The draws that give a deal its looks: amount and currency, competitors, why it closed and
//! its name.

use chrono::{DateTime, Datelike, Utc};

use super::{COMPETITORS, DemoAccount, LostReason, Motion, Outcome, Rng, WonReason};

/// The deal's currency, amount (minor units) and size within its industry's range (permille).
pub(super) fn amount(
    rng: &mut Rng,
    account: &DemoAccount,
    motion: Motion,
) -> (&'static str, u64, i64) {
    let (low, high) = industry_range_yuan(account.industry);
    let (low, high) = match motion {
        Motion::Direct => (low, high),
        // Service contracts are a tenth of a project.
        Motion::Service => ((low / 10).max(10_000), high / 10),
    };
    // Two draws multiplied: many modest deals, a few large ones.
    let size_permille = rng.below(1000) * rng.below(1000) / 1000;
    let yuan = low + (high - low) * size_permille / 1000;
    let (currency, units) = match foreign_currency(account) {
        // Rounded to hundreds of the currency, at about its rate.
        Some("USD") => ("USD", yuan / 7 / 100 * 100),
        Some("EUR") => ("EUR", yuan / 8 / 100 * 100),
        _ => ("CNY", yuan / 1000 * 1000),
    };
    (currency, units * 100, size_permille as i64)
}

/// The customers with a foreign parent, priced in its currency.
pub(in crate::demo) fn foreign_currency(account: &DemoAccount) -> Option<&'static str> {
    match account.name {
        "Relecloud Automotive" => Some("USD"),
        "A. Datum Components" => Some("EUR"),
        _ => None,
    }
}

/// What an automation project costs in an industry, in yuan.
fn industry_range_yuan(industry: &str) -> (u64, u64) {
    match industry {
        "Energy" => (400_000, 6_000_000),
        "Automotive" => (300_000, 5_000_000),
        "Pharmaceuticals" => (200_000, 4_000_000),
        "Manufacturing" => (150_000, 3_000_000),
        "Chemicals" => (200_000, 2_500_000),
        "Logistics" | "Metals" => (150_000, 2_000_000),
        "Utilities" => (100_000, 1_800_000),
        "Electronics" => (100_000, 1_500_000),
        "Food & Beverage" => (60_000, 900_000),
        "Packaging" => (30_000, 500_000),
        _ => (30_000, 400_000),
    }
}

/// The competitors on a deal: more than half of the projects meet one, some two.
pub(super) fn competitors(rng: &mut Rng, motion: Motion) -> Vec<usize> {
    let permille = match motion {
        Motion::Direct => 550,
        Motion::Service => 250,
    };
    if !rng.chance(permille) {
        return Vec::new();
    }
    let weights: Vec<u64> = COMPETITORS
        .iter()
        .map(|competitor| competitor.met_weight)
        .collect();
    let first = rng.weighted(&weights);
    let second = rng.weighted(&weights);
    if rng.chance(300) && second != first {
        vec![first, second]
    } else {
        vec![first]
    }
}

/// Early losses are about money and priorities, later ones about competitors and price.
pub(super) fn lost_reason(rng: &mut Rng, stage: usize) -> LostReason {
    use LostReason::{Competitor, NoBudget, NoDecision, Price};
    if stage == 0 {
        [NoBudget, NoDecision, Price][rng.weighted(&[45, 40, 15])]
    } else {
        [Competitor, Price, NoDecision, NoBudget][rng.weighted(&[40, 25, 25, 10])]
    }
}

/// A loss, with the competitor it went to when one took it.
pub(super) fn lost(rng: &mut Rng, reason: LostReason, competitors: &[usize]) -> Outcome {
    let pick = |rng: &mut Rng, among: &[usize]| {
        let weights: Vec<u64> = among
            .iter()
            .map(|competitor| COMPETITORS[*competitor].met_weight)
            .collect();
        among[rng.weighted(&weights)]
    };
    let lost_to = match reason {
        LostReason::Competitor if competitors.is_empty() => {
            // Only met at the end: the competitor joins the deal as it takes it.
            let all: Vec<usize> = (0..COMPETITORS.len()).collect();
            Some(pick(rng, &all))
        }
        LostReason::Competitor => Some(pick(rng, competitors)),
        LostReason::Price if !competitors.is_empty() && rng.chance(500) => {
            Some(pick(rng, competitors))
        }
        _ => None,
    };
    Outcome::Lost(reason, lost_to)
}

pub(super) fn won_reason(rng: &mut Rng) -> WonReason {
    [
        WonReason::ProductFit,
        WonReason::Relationship,
        WonReason::Price,
    ][rng.weighted(&[50, 30, 20])]
}

pub(super) fn close_note(outcome: Outcome) -> String {
    match outcome {
        Outcome::Won(WonReason::ProductFit) => {
            "Our line met the cycle time; references convinced them.".into()
        }
        Outcome::Won(WonReason::Relationship) => {
            "Long-standing customer; the plant team backed us.".into()
        }
        Outcome::Won(WonReason::Price) => "Best total cost over five years.".into(),
        Outcome::Lost(_, Some(competitor)) => format!(
            "Went with {} for {}.",
            COMPETITORS[competitor].name, COMPETITORS[competitor].won_because
        ),
        Outcome::Lost(LostReason::Price, None) => "Our quote was above their budget.".into(),
        Outcome::Lost(LostReason::NoBudget, None) => "Capex frozen for the year.".into(),
        Outcome::Lost(_, None) => "The project was postponed indefinitely.".into(),
    }
}

/// "Contoso — Robotic welding cell", "Tailspin — Maintenance contract 2025".
pub(super) fn deal_name(
    rng: &mut Rng,
    account: &DemoAccount,
    motion: Motion,
    created_at: DateTime<Utc>,
) -> String {
    // The account's name without its last word ("Contoso Ltd" → "Contoso").
    let short = account
        .name
        .rsplit_once(' ')
        .map_or(account.name, |(short, _)| short);
    let what = match motion {
        Motion::Direct => {
            const PROJECTS: &[&str] = &[
                "Robotic welding cell",
                "Conveyor retrofit",
                "Vision inspection",
                "Palletising robots",
                "MES integration",
                "Packaging line upgrade",
                "Warehouse automation",
                "Process control upgrade",
                "Energy monitoring",
            ];
            // Line 3 is the scenario's live deal at Contoso: history names other lines.
            let project = rng.below(PROJECTS.len() as u64 + 2) as usize;
            match PROJECTS.get(project) {
                Some(project) => (*project).to_owned(),
                None => format!("Line {} automation", [1, 2, 4, 5, 6][rng.below(5) as usize]),
            }
        }
        Motion::Service => {
            const SERVICES: &[&str] = &[
                "Maintenance contract",
                "Spare parts agreement",
                "Remote monitoring",
                "Operator training",
            ];
            format!(
                "{} {}",
                SERVICES[rng.below(SERVICES.len() as u64) as usize],
                created_at.year()
            )
        }
    };
    format!("{short} — {what}")
}
