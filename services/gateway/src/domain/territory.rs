//! Sales territories: the entity, the code format, what a new territory and a change must
//! satisfy, who may change one, and the rule that keeps the territory hierarchy a tree
//! (APAC → China → East China) when a territory moves under another parent.

use std::{collections::HashMap, hash::Hash};

use chrono::{DateTime, Utc};
use crm_platform::{
    auth::{Caller, Role, TeamPath},
    error::Violations,
};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq)]
pub struct Territory {
    pub id: Uuid,
    /// Stable: never changes once created.
    pub code: String,
    pub name: String,
    pub parent_territory_id: Option<Uuid>,
    /// The parent's code, read with the territory.
    pub parent_code: Option<String>,
    /// The team covering the territory, if any, and its path.
    pub team_id: Option<Uuid>,
    pub team_path: Option<TeamPath>,
    pub description: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A territory to create; its fields are checked by [`NewTerritory::check`].
#[derive(Clone, Debug, Default)]
pub struct NewTerritory {
    pub code: String,
    pub name: String,
    pub parent: Option<Uuid>,
    pub team: Option<Uuid>,
    pub description: String,
}

/// A partial update; `parent: Some(None)` makes the territory top-level, `team: Some(None)`
/// leaves it uncovered.
#[derive(Clone, Debug, Default)]
pub struct TerritoryChanges {
    pub name: Option<String>,
    pub parent: Option<Option<Uuid>>,
    pub team: Option<Option<Uuid>>,
    pub description: Option<String>,
}

pub const MAX_DESCRIPTION_CHARS: usize = 2000;

pub fn check_name(violations: &mut Violations, name: &str) -> String {
    let name = name.trim();
    if let Err(message) = super::check_name(name, 200) {
        violations.add("name", message);
    }
    name.to_owned()
}

pub fn check_description(violations: &mut Violations, description: &str) -> String {
    let description = description.trim();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        violations.add(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        );
    }
    description.to_owned()
}

/// Territory codes from the wire, normalised; a bad one is reported as `field[index]`.
pub fn check_codes(violations: &mut Violations, field: &str, codes: &[String]) -> Vec<String> {
    codes
        .iter()
        .enumerate()
        .filter_map(|(index, code)| {
            violations.check(&format!("{field}[{index}]"), normalize_code(code))
        })
        .collect()
}

impl NewTerritory {
    /// Normalises code, name and description, recording what is wrong with them.
    pub fn check(&mut self, violations: &mut Violations) {
        if let Some(code) = violations.check("code", normalize_code(&self.code)) {
            self.code = code;
        }
        self.name = check_name(violations, &self.name);
        self.description = check_description(violations, &self.description);
    }
}

impl TerritoryChanges {
    /// Normalises the name and description given, recording what is wrong with them.
    pub fn check(&mut self, violations: &mut Violations) {
        if let Some(name) = &self.name {
            self.name = Some(check_name(violations, name));
        }
        if let Some(description) = &self.description {
            self.description = Some(check_description(violations, description));
        }
    }
}

/// Admins change every territory; managers those covered by a team of their subtree (so never
/// an uncovered one); reps none.
pub fn may_manage_territory(caller: &Caller, team_path: Option<&TeamPath>) -> bool {
    match caller.role {
        Role::Admin => true,
        Role::Manager => team_path.is_some_and(|path| path.is_within(&caller.team_path)),
        Role::Rep => false,
    }
}

/// The longest code.
pub const MAX_CODE_CHARS: usize = 64;

/// A territory code: lower-case letters and digits in words joined by single dashes, at most
/// 64 characters ("cn-east", "apac", "0755-shenzhen"). Surrounding blanks are trimmed and upper
/// case lowered, so " CN-East " is "cn-east"; anything else is refused with the reason.
pub fn normalize_code(code: &str) -> Result<String, String> {
    let code = code.trim().to_lowercase();
    if code.is_empty() {
        return Err("is required: a slug such as \"cn-east\"".to_owned());
    }
    if code.chars().count() > MAX_CODE_CHARS {
        return Err(format!("must be at most {MAX_CODE_CHARS} characters"));
    }
    if let Some(bad) = code
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "{code:?} contains {bad:?}: use lower-case letters a-z, digits and dashes, such as \"cn-east\""
        ));
    }
    if code.starts_with('-') || code.ends_with('-') || code.contains("--") {
        return Err(format!(
            "{code:?} must start and end with a letter or digit and have no double dashes"
        ));
    }
    Ok(code)
}

/// Where `territory` would sit if it moved under `new_parent`, given every territory's current
/// parent: `None` when the hierarchy stays a tree, else the loop the move would close, from the
/// territory up to itself again (`[apac, east, china, apac]` for moving `apac` under its
/// grandchild `east`). Moving to the top (`new_parent: None`) never makes a loop.
///
/// `parents` needs the new parent's ancestors only; a territory missing from it is a root. A
/// loop already in `parents` that does not pass through `territory` is reported too, so a
/// damaged hierarchy is never made worse.
pub fn cycle_if_moved<K: Copy + Eq + Hash>(
    parents: &HashMap<K, Option<K>>,
    territory: K,
    new_parent: Option<K>,
) -> Option<Vec<K>> {
    let mut chain = vec![territory];
    let mut current = new_parent;
    while let Some(node) = current {
        let seen = chain.contains(&node);
        chain.push(node);
        if seen {
            return Some(chain);
        }
        current = parents.get(&node).copied().flatten();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn managers_change_territories_covered_within_their_subtree_only() {
        let path = |text: &str| TeamPath::parse(text).unwrap();
        let manager = Caller::user(Uuid::now_v7(), Role::Manager, path("/northwind/east/"));
        assert!(may_manage_territory(
            &manager,
            Some(&path("/northwind/east/"))
        ));
        assert!(may_manage_territory(
            &manager,
            Some(&path("/northwind/east/east-1/"))
        ));
        assert!(!may_manage_territory(
            &manager,
            Some(&path("/northwind/east-1/"))
        ));
        assert!(
            !may_manage_territory(&manager, None),
            "never an uncovered one"
        );
        let rep = Caller::user(Uuid::now_v7(), Role::Rep, path("/northwind/east/"));
        assert!(!may_manage_territory(&rep, Some(&path("/northwind/east/"))));
        let admin = Caller::user(Uuid::now_v7(), Role::Admin, path("/northwind/"));
        assert!(may_manage_territory(&admin, None));
    }

    #[test]
    fn codes_are_slugs() {
        assert_eq!(normalize_code(" CN-East ").unwrap(), "cn-east");
        assert_eq!(normalize_code("apac").unwrap(), "apac");
        assert_eq!(normalize_code("0755-shenzhen").unwrap(), "0755-shenzhen");
        assert_eq!(normalize_code(&"a".repeat(64)).unwrap(), "a".repeat(64));
        for bad in [
            "",
            "   ",
            "cn east",
            "cn_east",
            "cn.east",
            "-east",
            "east-",
            "cn--east",
            "华东",
            &"a".repeat(65),
        ] {
            assert!(normalize_code(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(
            normalize_code("cn east")
                .unwrap_err()
                .contains("lower-case letters"),
            "the reason says what is allowed"
        );
    }

    #[test]
    fn a_move_under_itself_or_a_descendant_is_a_loop() {
        // apac → china → east; emea.
        let parents = HashMap::from([
            ("apac", None),
            ("china", Some("apac")),
            ("east", Some("china")),
            ("emea", None),
        ]);
        assert_eq!(cycle_if_moved(&parents, "east", Some("emea")), None);
        assert_eq!(cycle_if_moved(&parents, "east", None), None);
        assert_eq!(
            cycle_if_moved(&parents, "china", Some("china")).unwrap(),
            ["china", "china"]
        );
        assert_eq!(
            cycle_if_moved(&parents, "apac", Some("east")).unwrap(),
            ["apac", "east", "china", "apac"]
        );
        // Unknown ancestors are roots.
        assert_eq!(cycle_if_moved(&parents, "apac", Some("nowhere")), None);
    }

    /// Every territory reaches a root within as many steps as there are territories.
    fn is_forest(parents: &HashMap<usize, Option<usize>>) -> bool {
        parents.keys().all(|start| {
            let mut current = Some(*start);
            for _ in 0..=parents.len() {
                match current {
                    None => return true,
                    Some(node) => current = parents.get(&node).copied().flatten(),
                }
            }
            false
        })
    }

    proptest! {
        /// A random forest, then random moves: each accepted move keeps it a forest, and each
        /// refused one would really have closed a loop.
        #[test]
        fn a_move_never_creates_a_cycle(
            shape in proptest::collection::vec(proptest::option::of(0usize..1000), 1..16),
            moves in proptest::collection::vec((0usize..1000, proptest::option::of(0usize..1000)), 0..40),
        ) {
            let count = shape.len();
            // Territory i's parent is an earlier one (or none): a forest to start from.
            let mut parents: HashMap<usize, Option<usize>> = shape
                .iter()
                .enumerate()
                .map(|(i, parent)| (i, parent.filter(|_| i > 0).map(|p| p % i)))
                .collect();
            prop_assert!(is_forest(&parents));
            for (territory, target) in moves {
                let territory = territory % count;
                let target = target.map(|t| t % count);
                let mut moved = parents.clone();
                moved.insert(territory, target);
                match cycle_if_moved(&parents, territory, target) {
                    None => {
                        prop_assert!(is_forest(&moved), "accepted {territory} under {target:?}");
                        parents = moved;
                    }
                    Some(chain) => {
                        prop_assert!(!is_forest(&moved), "refused {territory} under {target:?} needlessly");
                        prop_assert_eq!(chain.first(), Some(&territory));
                        prop_assert_eq!(chain.last(), Some(&territory));
                    }
                }
                prop_assert!(is_forest(&parents));
            }
        }

        /// A normalised code is accepted again as it is, and fits the database's CHECK.
        #[test]
        fn normalised_codes_are_stable(code in "[ A-Za-z0-9_-]{0,70}") {
            if let Ok(normal) = normalize_code(&code) {
                prop_assert_eq!(normalize_code(&normal), Ok(normal.clone()));
                prop_assert!(normal.len() <= MAX_CODE_CHARS);
                prop_assert!(normal.split('-').all(|word| !word.is_empty()
                    && word.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())));
            }
        }
    }
}
