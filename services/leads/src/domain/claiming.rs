//! Claiming from the pool (L3): the cap that keeps one rep from emptying it.

use std::fmt;

use super::fairness::RepLoad;

/// Why a rep may not claim a pool lead. The `Display` text is shown to the rep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimRefusal {
    Inactive,
    ClaimCapReached { claimed: u32, cap: u32 },
}

impl fmt::Display for ClaimRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClaimRefusal::Inactive => f.write_str("an inactive rep cannot claim leads"),
            ClaimRefusal::ClaimCapReached { claimed, cap } => {
                write!(f, "claim cap reached: {claimed} of {cap} leads claimed")
            }
        }
    }
}

impl std::error::Error for ClaimRefusal {}

/// Whether the rep may claim one more lead, holding `open_claimed` claimed open leads now. The
/// cap keeps one rep from emptying the pool; automatic capacity is a separate limit.
pub fn can_claim(rep: &RepLoad, claim_cap: u32, open_claimed: u32) -> Result<(), ClaimRefusal> {
    if !rep.active {
        return Err(ClaimRefusal::Inactive);
    }
    if open_claimed >= claim_cap {
        return Err(ClaimRefusal::ClaimCapReached {
            claimed: open_claimed,
            cap: claim_cap,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;
    use uuid::Uuid;

    use super::super::fairness::RepStage;
    use super::*;

    fn ravi() -> RepLoad {
        RepLoad {
            rep_id: Uuid::from_u128(1),
            display_name: "Ravi".into(),
            stage: RepStage::Senior,
            tenure_days: 1100,
            open_leads: 9,
            capacity: 25,
            open_pipeline: Decimal::ZERO,
            active: true,
        }
    }

    #[test]
    fn a_claim_over_the_cap_is_refused_with_a_clear_error() {
        let ravi = ravi();
        assert_eq!(can_claim(&ravi, 20, 19), Ok(()));
        let refusal = can_claim(&ravi, 20, 20).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "claim cap reached: 20 of 20 leads claimed"
        );
        let away = RepLoad {
            active: false,
            ..ravi
        };
        assert_eq!(can_claim(&away, 20, 0), Err(ClaimRefusal::Inactive));
    }
}
