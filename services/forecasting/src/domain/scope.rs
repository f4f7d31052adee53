//! Whose numbers a forecast counts, and who may read them: a rep their own; a manager their
//! team subtree's and each of its reps'; an admin everything, the company's included. The
//! same rule every forecasting family (pipeline, quotas, calls, snapshots, statistics,
//! review, analysis) applies.

use crm_platform::auth::{Caller, TeamPath, Visibility};
use uuid::Uuid;

/// The scope a request names, before it is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestedScope {
    /// The caller's own: a rep's deals, a manager's team subtree, an admin's company.
    Mine,
    Rep(Uuid),
    Team(TeamPath),
    Company,
}

/// A scope the caller may read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// One rep's deals (by owner), with the rep's team.
    Rep {
        user_id: Uuid,
        team_path: TeamPath,
    },
    /// A team and every team below it.
    Team(TeamPath),
    Company,
}

/// Why a scope is out of reach, in the words of the rule.
pub const OUT_OF_REACH: &str = "a rep reads their own forecast numbers; a manager their team subtree's and its reps'; an admin every one, the company's included";

impl Scope {
    /// The scope `caller` means by [`RequestedScope::Mine`].
    pub fn mine(caller: &Caller) -> Scope {
        match caller.visibility() {
            Visibility::All => Scope::Company,
            Visibility::TeamSubtree(team) => Scope::Team(team),
            Visibility::Own(user_id) => Scope::Rep {
                user_id,
                team_path: caller.team_path.clone(),
            },
        }
    }

    /// Whether `caller` may read the scope.
    pub fn readable_by(&self, caller: &Caller) -> bool {
        match (self, caller.visibility()) {
            (_, Visibility::All) => true,
            (Scope::Rep { user_id, team_path }, _) => caller.can_access(*user_id, team_path),
            (Scope::Team(team), Visibility::TeamSubtree(reach)) => team.is_within(&reach),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use crm_platform::auth::Role;

    use super::*;

    fn team(path: &str) -> TeamPath {
        TeamPath::parse(path).unwrap()
    }

    #[test]
    fn each_role_reads_its_own_reach() {
        let rep = Caller::user(Uuid::now_v7(), Role::Rep, team("/northwind/east/east-1/"));
        let manager = Caller::user(Uuid::now_v7(), Role::Manager, team("/northwind/east/"));
        let admin = Caller::user(Uuid::now_v7(), Role::Admin, team("/northwind/"));
        let reps_deals = Scope::Rep {
            user_id: rep.user_id,
            team_path: rep.team_path.clone(),
        };
        let other_rep = Scope::Rep {
            user_id: Uuid::now_v7(),
            team_path: team("/northwind/east/east-1/"),
        };
        let west_rep = Scope::Rep {
            user_id: Uuid::now_v7(),
            team_path: team("/northwind/west/"),
        };
        assert!(reps_deals.readable_by(&rep));
        assert!(!other_rep.readable_by(&rep));
        assert!(!Scope::Team(team("/northwind/east/east-1/")).readable_by(&rep));
        assert!(other_rep.readable_by(&manager));
        assert!(!west_rep.readable_by(&manager));
        assert!(Scope::Team(team("/northwind/east/east-1/")).readable_by(&manager));
        assert!(!Scope::Team(team("/northwind/")).readable_by(&manager));
        assert!(!Scope::Company.readable_by(&manager));
        assert!(Scope::Company.readable_by(&admin));
        assert!(west_rep.readable_by(&admin));
        assert_eq!(Scope::mine(&rep), reps_deals);
        assert_eq!(Scope::mine(&manager), Scope::Team(team("/northwind/east/")));
        assert_eq!(Scope::mine(&admin), Scope::Company);
    }
}
