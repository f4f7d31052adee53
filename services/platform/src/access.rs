//! The visibility rule in SQL: the same rule as [`Caller::can_access`], written once for every
//! listing, so no service compares team paths by hand. Team paths are compared as
//! [`TeamPath`]s: "is within" is a prefix test on paths that always end in `/`, which is why
//! `/east-1/` is not within `/east/`.

use sqlx::{Postgres, QueryBuilder};

use crate::auth::{TeamPath, Visibility};

#[cfg(doc)]
use crate::auth::Caller;

/// The columns that say who owns a row.
#[derive(Clone, Copy, Debug)]
pub struct OwnerColumns {
    pub owner_id: &'static str,
    pub team_path: &'static str,
}

/// `owner_id` and `owner_team_path`, the names every service uses.
pub const OWNER_COLUMNS: OwnerColumns = OwnerColumns {
    owner_id: "owner_id",
    team_path: "owner_team_path",
};

/// ` AND <the caller may see the row>`.
pub fn push_visibility(
    query: &mut QueryBuilder<Postgres>,
    visibility: &Visibility,
    columns: OwnerColumns,
) {
    match visibility {
        Visibility::All => {}
        Visibility::TeamSubtree(path) => {
            query.push(" AND ");
            push_within(query, columns.team_path, path);
        }
        Visibility::Own(user_id) => {
            query
                .push(format!(" AND {} = ", columns.owner_id))
                .push_bind(*user_id);
        }
    }
}

/// `<column> LIKE '<path>%'`: the team path in `column` is `path` or lies below it. Written
/// as LIKE so a `text_pattern_ops` index serves it.
pub fn push_within(query: &mut QueryBuilder<Postgres>, column: &str, path: &TeamPath) {
    query
        .push(format!("{column} LIKE "))
        .push_bind(subtree_pattern(path));
}

/// `starts_with('<path>', <column>)`: the team path in `column` holds `path` (is it or an
/// ancestor of it), the reverse of [`push_within`].
pub fn push_holds(query: &mut QueryBuilder<Postgres>, column: &str, path: &TeamPath) {
    query
        .push("starts_with(")
        .push_bind(path.as_str().to_owned())
        .push(format!(", {column})"));
}

/// The LIKE pattern of a subtree. Team paths hold only `[a-z0-9-/]`, no wildcards; escaped
/// all the same so the pattern can never match more than the subtree.
fn subtree_pattern(path: &TeamPath) -> String {
    format!("{}%", escape_like(path.as_str()))
}

/// `%text%` for `ILIKE`, with the caller's `%`, `_` and `\` matched literally.
pub fn contains_pattern(text: &str) -> String {
    format!("%{}%", escape_like(text))
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn sql(visibility: &Visibility) -> String {
        let mut query = QueryBuilder::<Postgres>::new("SELECT 1 FROM accounts WHERE true");
        push_visibility(&mut query, visibility, OWNER_COLUMNS);
        query.sql().as_str().to_owned()
    }

    #[test]
    fn each_visibility_has_its_predicate() {
        assert_eq!(sql(&Visibility::All), "SELECT 1 FROM accounts WHERE true");
        let east = TeamPath::parse("/northwind/east").unwrap();
        assert_eq!(
            sql(&Visibility::TeamSubtree(east)),
            "SELECT 1 FROM accounts WHERE true AND owner_team_path LIKE $1"
        );
        assert_eq!(
            sql(&Visibility::Own(Uuid::now_v7())),
            "SELECT 1 FROM accounts WHERE true AND owner_id = $1"
        );
    }

    #[test]
    fn a_subtree_pattern_stops_at_the_segment_boundary() {
        let east = TeamPath::parse("/northwind/east").unwrap();
        assert_eq!(subtree_pattern(&east), "/northwind/east/%");
    }

    #[test]
    fn contains_patterns_match_wildcards_literally() {
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
