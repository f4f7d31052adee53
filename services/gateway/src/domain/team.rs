//! A team: a node of the team tree, addressed by its path (`/northwind/east/`).

use chrono::{DateTime, Utc};
use crm_platform::{auth::TeamPath, error::FieldViolation};
use uuid::Uuid;

use super::check_name;

#[derive(Clone, Debug, PartialEq)]
pub struct Team {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub parent_team_id: Option<Uuid>,
    pub path: TeamPath,
    pub created_at: DateTime<Utc>,
}

impl Team {
    /// A new team `slug` under `parent` (the top of the tree when `None`); the slug is lowered
    /// and must make a valid path segment.
    pub fn new(
        slug: &str,
        name: &str,
        parent: Option<&Team>,
        now: DateTime<Utc>,
    ) -> Result<Team, Vec<FieldViolation>> {
        let mut violations = Vec::new();
        let slug = slug.trim().trim_matches('/').to_lowercase();
        let name = check_name(name, 200)
            .map_err(|message| violations.push(FieldViolation::new("name", message)))
            .ok();
        let parent_path = parent.map_or("/", |parent| parent.path.as_str());
        // One segment: a slash in the slug would smuggle in levels of the tree.
        let path = if slug.contains('/') {
            Err("a team's slug is one path segment, without '/'".to_owned())
        } else {
            TeamPath::parse(&format!("{parent_path}{slug}"))
        }
        .map_err(|message| violations.push(FieldViolation::new("slug", message)))
        .ok();
        match (name, path) {
            (Some(name), Some(path)) if violations.is_empty() => Ok(Team {
                id: Uuid::now_v7(),
                slug,
                name,
                parent_team_id: parent.map(|parent| parent.id),
                path,
                created_at: now,
            }),
            _ => Err(violations),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_team_path_extends_its_parents() {
        let now = crm_platform::time::now();
        let company = Team::new("Northwind", "Northwind", None, now).unwrap();
        assert_eq!(company.path.as_str(), "/northwind/");
        let east = Team::new("east", " East ", Some(&company), now).unwrap();
        assert_eq!(east.path.as_str(), "/northwind/east/");
        assert_eq!(east.name, "East");
        assert_eq!(east.parent_team_id, Some(company.id));
        let errors = Team::new("a b", "", Some(&company), now).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["name", "slug"]);
    }
}
