//! The rep roster: who takes leads, in which team, at which stage, with which limits.

use chrono::NaiveDate;
use crm_platform::auth::TeamPath;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::fairness::RepStage;

/// Most leads and claims a rep can be given.
pub const MAX_REP_LIMIT: u32 = 10_000;

/// A rep on the roster.
#[derive(Clone, Debug, PartialEq)]
pub struct Rep {
    pub rep_id: Uuid,
    pub team_path: TeamPath,
    pub display_name: String,
    pub stage: RepStage,
    pub started_on: NaiveDate,
    /// Most open leads the rep is given automatically.
    pub capacity: u32,
    /// Most open leads the rep may hold by claiming.
    pub claim_cap: u32,
    pub active: bool,
    /// Value of the rep's open deals.
    pub open_pipeline: Decimal,
}

impl Rep {
    /// The name for people, or the id when the roster has none.
    pub fn name(&self) -> String {
        if self.display_name.is_empty() {
            self.rep_id.to_string()
        } else {
            self.display_name.clone()
        }
    }
}

impl RepStage {
    pub const ALL: [RepStage; 3] = [RepStage::New, RepStage::Established, RepStage::Senior];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RepStage::New => "new",
            RepStage::Established => "established",
            RepStage::Senior => "senior",
        }
    }

    pub fn parse(value: &str) -> Option<RepStage> {
        RepStage::ALL
            .into_iter()
            .find(|stage| stage.as_str() == value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_round_trip_through_their_spelling_and_others_are_unknown() {
        for stage in RepStage::ALL {
            assert_eq!(RepStage::parse(stage.as_str()), Some(stage));
        }
        assert_eq!(RepStage::parse("veteran"), None);
    }

    #[test]
    fn a_rep_without_a_name_is_named_by_id() {
        let rep = Rep {
            rep_id: Uuid::nil(),
            team_path: TeamPath::parse("/northwind/").unwrap(),
            display_name: String::new(),
            stage: RepStage::New,
            started_on: NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
            capacity: 5,
            claim_cap: 5,
            active: true,
            open_pipeline: Decimal::ZERO,
        };
        assert_eq!(rep.name(), Uuid::nil().to_string());
    }
}
