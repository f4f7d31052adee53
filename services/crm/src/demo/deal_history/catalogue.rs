//! What the history is made of: the sales motions and their stages, the competitors, the
//! reasons deals close for, how each rep sells and the seasons — and the small deterministic
//! generator the history draws from.

use crate::demo::{Member, NORA, RAVI, WES};

/// A small deterministic generator (splitmix64): the demo needs reproducible variety, not
/// cryptographic randomness.
pub(in crate::demo) struct Rng(u64);

impl Rng {
    pub(in crate::demo) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// 0..n (n > 0).
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// lo..=hi.
    pub(super) fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// True `permille` times in a thousand.
    pub(super) fn chance(&mut self, permille: i64) -> bool {
        (self.below(1000) as i64) < permille
    }

    /// An index of `weights`, each as likely as its weight.
    pub(super) fn weighted(&mut self, weights: &[u64]) -> usize {
        let mut roll = self.below(weights.iter().sum());
        for (index, weight) in weights.iter().enumerate() {
            if roll < *weight {
                return index;
            }
            roll -= weight;
        }
        unreachable!("the roll is below the sum of the weights")
    }
}

/// A sales motion: a pipeline of the demo and how deals move through its open stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::demo) enum Motion {
    /// The seeded "Direct" pipeline: automation projects.
    Direct,
    /// The demo's "Service contracts" pipeline: maintenance, parts and monitoring.
    Service,
}

/// How deals move through one open stage.
pub(in crate::demo) struct StageProfile {
    pub(in crate::demo) name: &'static str,
    pub(super) min_days: i64,
    pub(super) max_days: i64,
    /// Of the deals leaving the stage, how many in a thousand move on.
    pub(super) advance_permille: i64,
    pub(in crate::demo) next_step: &'static str,
}

const fn stage(
    name: &'static str,
    days: (i64, i64),
    advance_permille: i64,
    next_step: &'static str,
) -> StageProfile {
    StageProfile {
        name,
        min_days: days.0,
        max_days: days.1,
        advance_permille,
        next_step,
    }
}

/// Direct's open stages as the opportunities service seeds them.
pub(in crate::demo) const DIRECT_STAGES: &[StageProfile] = &[
    stage(
        "Qualify",
        (3, 21),
        680,
        "Confirm budget and the decision maker",
    ),
    stage(
        "Develop",
        (10, 45),
        720,
        "Site survey and requirements workshop",
    ),
    stage(
        "Propose",
        (7, 35),
        760,
        "Present the proposal to the buying committee",
    ),
    stage("Negotiate", (7, 40), 800, "Agree terms with procurement"),
];

/// The service pipeline's open stages (the demo creates it with these).
pub(in crate::demo) const SERVICE_STAGES: &[StageProfile] = &[
    stage(
        "Scope",
        (4, 21),
        820,
        "Review the installed base and service levels",
    ),
    stage("Quote", (5, 30), 680, "Send the renewal quote"),
];

impl Motion {
    pub(in crate::demo) fn stages(self) -> &'static [StageProfile] {
        match self {
            Motion::Direct => DIRECT_STAGES,
            Motion::Service => SERVICE_STAGES,
        }
    }
}

/// A competitor of the demo's catalogue, and how it competes.
pub(in crate::demo) struct DemoCompetitor {
    pub(in crate::demo) name: &'static str,
    pub(in crate::demo) website: &'static str,
    pub(in crate::demo) description: &'static str,
    pub(in crate::demo) strengths: &'static str,
    pub(in crate::demo) weaknesses: &'static str,
    /// How often it is met, relative to the others.
    pub(super) met_weight: u64,
    /// Permille off a deal's chance of moving on from Propose and Negotiate while it is on it.
    pub(super) pressure_permille: i64,
    /// Why a customer went with it.
    pub(super) won_because: &'static str,
}

pub(in crate::demo) const COMPETITORS: &[DemoCompetitor] = &[
    DemoCompetitor {
        name: "Globex",
        website: "https://globex.example",
        description: "Automation lines and robotics; the market leader in East China.",
        strengths: "Lower list prices; large installed base; strong with procurement.",
        weaknesses: "Long lead times; thin local service team.",
        met_weight: 45,
        pressure_permille: 90,
        won_because: "a lower price and an existing Globex line on site",
    },
    DemoCompetitor {
        name: "Initech",
        website: "https://initech.example",
        description: "MES and line-control software with integration partners.",
        strengths: "Software depth; good references in electronics.",
        weaknesses: "Hardware through partners; slow to customise.",
        met_weight: 25,
        pressure_permille: 50,
        won_because: "their MES already running in the customer's other plants",
    },
    DemoCompetitor {
        name: "Umbrella Automation",
        website: "https://umbrella-automation.example",
        description: "Low-cost regional integrator.",
        strengths: "Price; quick to start.",
        weaknesses: "Small engineering team; patchy documentation.",
        met_weight: 18,
        pressure_permille: 30,
        won_because: "the cheapest bid",
    },
    DemoCompetitor {
        name: "Vandelay Industrial",
        website: "https://vandelay.example",
        description: "European engineering group, premium lines.",
        strengths: "Engineering quality; European references.",
        weaknesses: "Expensive; decisions made abroad.",
        met_weight: 12,
        pressure_permille: 40,
        won_because: "their parent company's global framework agreement",
    },
];

/// A reason a deal was won, as the opportunities service seeds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::demo) enum WonReason {
    ProductFit,
    Price,
    Relationship,
}

/// A reason a deal was lost, as the opportunities service seeds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::demo) enum LostReason {
    Price,
    Competitor,
    NoDecision,
    NoBudget,
}

/// How a rep sells: deals opened a week (in hundredths, before the season) and permille added
/// to each open stage's chance of moving on (the rep's strengths and weak spots).
pub(super) struct RepProfile {
    pub(super) member: Member,
    pub(super) deals_per_week_hundredths: u64,
    pub(super) advance_bonus: [i64; 4],
}

pub(super) const REPS: &[RepProfile] = &[
    // Senior: converts well, strongest at closing.
    RepProfile {
        member: RAVI,
        deals_per_week_hundredths: 330,
        advance_bonus: [20, 10, 20, 40],
    },
    // Established: busy, but loses too many deals once they reach the proposal.
    RepProfile {
        member: WES,
        deals_per_week_hundredths: 360,
        advance_bonus: [0, -10, -90, 0],
    },
    // New: a handful of first deals.
    RepProfile {
        member: NORA,
        deals_per_week_hundredths: 160,
        advance_bonus: [-60, -40, -40, -40],
    },
];

/// Deals opened in a month, in percent of an average month (January first).
pub(super) const SEASON_PERCENT: [u64; 12] = [60, 45, 130, 125, 115, 105, 85, 80, 115, 80, 120, 95];
