//! What changed between two versions of an article (K1: every version diffable): each content
//! field that differs, and the body line by line in hunks — runs of changed lines with up to
//! [`CONTEXT_LINES`] unchanged ones around them, as a reviewer reads a change.

use similar::{ChangeTag, TextDiff};

use super::article::ArticleContent;

/// Unchanged lines kept before and after each change.
pub const CONTEXT_LINES: usize = 3;

/// A content field that differs, as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldChange {
    pub field: &'static str,
    pub from: String,
    pub to: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineChange {
    Same,
    Removed,
    Added,
}

/// A line of the body's diff with its numbers in the older and newer body (1-based; `None`
/// where the line is not in that body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffLine {
    pub change: LineChange,
    pub text: String,
    pub from_line: Option<usize>,
    pub to_line: Option<usize>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionDiff {
    pub fields: Vec<FieldChange>,
    pub body: Vec<Vec<DiffLine>>,
}

fn joined<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The fields other than the body, in the content's order, as text.
fn fields(content: &ArticleContent) -> [(&'static str, String); 10] {
    [
        ("title", content.title.clone()),
        ("summary", content.summary.clone()),
        ("kind", content.kind.as_str().to_owned()),
        ("language", content.language.as_str().to_owned()),
        ("category", content.category.clone()),
        ("tags", joined(&content.tags)),
        ("stage_ids", joined(&content.stage_ids)),
        ("competitor_ids", joined(&content.competitor_ids)),
        ("product_codes", joined(&content.product_codes)),
        ("industries", joined(&content.industries)),
    ]
}

/// The difference from `older` to `newer`.
pub fn diff(older: &ArticleContent, newer: &ArticleContent) -> VersionDiff {
    let fields = fields(older)
        .into_iter()
        .zip(fields(newer))
        .filter(|((_, from), (_, to))| from != to)
        .map(|((field, from), (_, to))| FieldChange { field, from, to })
        .collect();
    let text = TextDiff::from_lines(older.body.as_str(), newer.body.as_str());
    let body = text
        .grouped_ops(CONTEXT_LINES)
        .iter()
        .map(|group| {
            group
                .iter()
                .flat_map(|op| text.iter_changes(op))
                .map(|change| DiffLine {
                    change: match change.tag() {
                        ChangeTag::Equal => LineChange::Same,
                        ChangeTag::Delete => LineChange::Removed,
                        ChangeTag::Insert => LineChange::Added,
                    },
                    text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
                    from_line: change.old_index().map(|index| index + 1),
                    to_line: change.new_index().map(|index| index + 1),
                })
                .collect()
        })
        .collect();
    VersionDiff { fields, body }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::article::{ArticleKind, Language};
    use proptest::prelude::*;

    fn content(title: &str, body: &str, tags: &[&str]) -> ArticleContent {
        ArticleContent {
            title: title.into(),
            summary: String::new(),
            body: body.into(),
            kind: ArticleKind::ObjectionHandling,
            language: Language::En,
            category: String::new(),
            tags: tags.iter().map(|tag| tag.to_string()).collect(),
            stage_ids: vec![],
            competitor_ids: vec![],
            product_codes: vec![],
            industries: vec![],
        }
    }

    #[test]
    fn same_content_has_no_changes() {
        let version = content("Price", "a\nb\n", &["pricing"]);
        assert_eq!(diff(&version, &version), VersionDiff::default());
    }

    #[test]
    fn changed_fields_are_named_with_both_values() {
        let older = content("Price objections", "a\n", &["pricing"]);
        let newer = content("Handling price objections", "a\n", &["discount", "pricing"]);
        assert_eq!(
            diff(&older, &newer).fields,
            vec![
                FieldChange {
                    field: "title",
                    from: "Price objections".into(),
                    to: "Handling price objections".into()
                },
                FieldChange {
                    field: "tags",
                    from: "pricing".into(),
                    to: "discount, pricing".into()
                },
            ]
        );
    }

    #[test]
    fn a_changed_line_comes_with_three_lines_of_context() {
        let older = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
        let newer = "1\n2\n3\n4\n5\nsix\n7\n8\n9\n10\n";
        let body = diff(&content("t", older, &[]), &content("t", newer, &[])).body;
        assert_eq!(body.len(), 1);
        let lines: Vec<(LineChange, &str, Option<usize>, Option<usize>)> = body[0]
            .iter()
            .map(|line| {
                (
                    line.change,
                    line.text.as_str(),
                    line.from_line,
                    line.to_line,
                )
            })
            .collect();
        use LineChange::*;
        assert_eq!(
            lines,
            vec![
                (Same, "3", Some(3), Some(3)),
                (Same, "4", Some(4), Some(4)),
                (Same, "5", Some(5), Some(5)),
                (Removed, "6", Some(6), None),
                (Added, "six", None, Some(6)),
                (Same, "7", Some(7), Some(7)),
                (Same, "8", Some(8), Some(8)),
                (Same, "9", Some(9), Some(9)),
            ]
        );
    }

    #[test]
    fn changes_far_apart_are_separate_hunks() {
        let older: String = (1..=30).map(|n| format!("{n}\n")).collect();
        let newer: String = (1..=30)
            .map(|n| match n {
                2 => "two\n".to_owned(),
                28 => "twenty-eight\n".to_owned(),
                n => format!("{n}\n"),
            })
            .collect();
        let body = diff(&content("t", &older, &[]), &content("t", &newer, &[])).body;
        assert_eq!(body.len(), 2);
    }

    proptest! {
        /// Replaying a diff gives back both bodies: the older from its same and removed lines,
        /// the newer from its same and added lines (with context as large as the bodies).
        #[test]
        fn the_diff_holds_both_bodies(
            older in proptest::collection::vec("[a-c]{0,2}", 0..12),
            newer in proptest::collection::vec("[a-c]{0,2}", 0..12),
        ) {
            let older_body: String = older.iter().map(|line| format!("{line}\n")).collect();
            let newer_body: String = newer.iter().map(|line| format!("{line}\n")).collect();
            let text = TextDiff::from_lines(older_body.as_str(), newer_body.as_str());
            let mut rebuilt_older = String::new();
            let mut rebuilt_newer = String::new();
            for change in text.iter_all_changes() {
                match change.tag() {
                    ChangeTag::Equal => {
                        rebuilt_older.push_str(change.value());
                        rebuilt_newer.push_str(change.value());
                    }
                    ChangeTag::Delete => rebuilt_older.push_str(change.value()),
                    ChangeTag::Insert => rebuilt_newer.push_str(change.value()),
                }
            }
            prop_assert_eq!(rebuilt_older, older_body.clone());
            prop_assert_eq!(rebuilt_newer, newer_body.clone());
            // And the hunks name every changed line exactly once.
            let hunks = diff(&content("t", &older_body, &[]), &content("t", &newer_body, &[])).body;
            let removed = hunks.iter().flatten().filter(|line| line.change == LineChange::Removed).count();
            let added = hunks.iter().flatten().filter(|line| line.change == LineChange::Added).count();
            let expected_removed = text.iter_all_changes().filter(|c| c.tag() == ChangeTag::Delete).count();
            let expected_added = text.iter_all_changes().filter(|c| c.tag() == ChangeTag::Insert).count();
            prop_assert_eq!(removed, expected_removed);
            prop_assert_eq!(added, expected_added);
        }
    }
}
