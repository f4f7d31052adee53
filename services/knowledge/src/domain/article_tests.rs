use proptest::prelude::*;

use super::*;

const AUTHOR_REP: Actor = Actor {
    role: Role::Rep,
    is_author: true,
};
const OTHER_REP: Actor = Actor {
    role: Role::Rep,
    is_author: false,
};
const MANAGER: Actor = Actor {
    role: Role::Manager,
    is_author: false,
};

fn globex_battlecard() -> ArticleContent {
    ArticleContent {
        title: "  Winning against Globex  ".into(),
        summary: "Where Globex is weak, and how to show it".into(),
        body: "## Their pitch\nCheaper hardware.\n\n## Ours\nUptime.".into(),
        kind: ArticleKind::Battlecard,
        language: Language::Both,
        category: "Competitors".into(),
        tags: vec![
            "Price Objection".into(),
            "globex".into(),
            " GLOBEX ".into(),
            "".into(),
        ],
        stage_ids: Vec::new(),
        competitor_ids: vec![Uuid::from_u128(2), Uuid::from_u128(1), Uuid::from_u128(2)],
        product_codes: Vec::new(),
        industries: vec![" Manufacturing ".into(), "Manufacturing".into()],
    }
}

#[test]
fn a_version_is_written_reviewed_published_and_archived_by_the_right_people() {
    use ReviewAction::*;
    use VersionStatus::*;
    assert_eq!(review(Draft, Submit, AUTHOR_REP), Ok(InReview));
    assert_eq!(review(InReview, Publish, MANAGER), Ok(Published));
    assert_eq!(review(Published, Archive, MANAGER), Ok(Archived));
    assert_eq!(review(InReview, Reject, MANAGER), Ok(Draft));
    // A manager publishes a draft directly; a rep never publishes, even their own.
    assert_eq!(review(Draft, Publish, MANAGER), Ok(Published));
    assert_eq!(
        review(InReview, Publish, AUTHOR_REP),
        Err(ReviewRefused::NotAPublisher("publish"))
    );
    assert_eq!(
        review(Draft, Submit, OTHER_REP),
        Err(ReviewRefused::NotTheAuthor)
    );
    assert_eq!(
        review(Archived, Publish, MANAGER),
        Err(ReviewRefused::NotFrom {
            from: Archived,
            action: "published"
        })
    );
    assert_eq!(
        review(Published, Submit, AUTHOR_REP)
            .unwrap_err()
            .to_string(),
        "a published version cannot be submitted"
    );
}

#[test]
fn drafts_are_read_by_their_author_and_the_publishers_only() {
    for status in [
        VersionStatus::Draft,
        VersionStatus::InReview,
        VersionStatus::Archived,
    ] {
        assert!(readable(status, AUTHOR_REP));
        assert!(readable(status, MANAGER));
        assert!(!readable(status, OTHER_REP), "{status:?}");
    }
    assert!(readable(VersionStatus::Published, OTHER_REP));
}

#[test]
fn content_is_kept_trimmed_with_tags_normalised_and_lists_without_repeats() {
    let content = globex_battlecard().normalised();
    assert_eq!(content.title, "Winning against Globex");
    assert_eq!(content.tags, ["globex", "price-objection"]);
    assert_eq!(
        content.competitor_ids,
        [Uuid::from_u128(1), Uuid::from_u128(2)]
    );
    assert_eq!(content.industries, ["Manufacturing"]);
    assert_eq!(content.check(), Ok(()));
    assert_eq!(content.check_kind(), Ok(()));
}

#[test]
fn every_problem_of_an_article_is_named() {
    let mut content = globex_battlecard();
    content.title = " ".into();
    content.body = String::new();
    content.competitor_ids.clear();
    content.tags = vec!["x".repeat(TAG_MAX + 1)];
    let fields: Vec<String> = content
        .check()
        .unwrap_err()
        .into_iter()
        .map(|violation| violation.field)
        .collect();
    assert_eq!(fields, ["title", "body", "tags[0]"]);
    assert_eq!(content.check_kind().unwrap_err()[0].field, "competitor_ids");
    let playbook = ArticleContent {
        kind: ArticleKind::Playbook,
        ..globex_battlecard()
    };
    assert_eq!(playbook.check(), Ok(()));
    assert_eq!(playbook.check_kind().unwrap_err()[0].field, "stage_ids");
}

#[test]
fn kinds_languages_and_statuses_read_back_as_written() {
    for kind in ArticleKind::ALL {
        assert_eq!(ArticleKind::parse(kind.as_str()), Some(kind));
    }
    assert_eq!(Language::parse("zh"), Some(Language::Zh));
    assert_eq!(
        VersionStatus::parse("in_review"),
        Some(VersionStatus::InReview)
    );
    assert_eq!(ArticleKind::parse("memo"), None);
    assert!(Language::Both.serves(Language::Zh));
    assert!(Language::Zh.serves(Language::Both));
    assert!(!Language::En.serves(Language::Zh));
    assert_eq!(next_version(&[]), 1);
    assert_eq!(next_version(&[1, 3, 2]), 4);
}

proptest! {
    /// Normalising twice changes nothing, and a normalised tag has no white space or capitals.
    #[test]
    fn normalising_is_idempotent(tags in prop::collection::vec("[ a-zA-Z竞品]{0,12}", 0..8)) {
        let content = ArticleContent { tags, ..globex_battlecard() }.normalised();
        prop_assert_eq!(content.clone().normalised(), content.clone());
        for tag in &content.tags {
            prop_assert!(!tag.contains(char::is_whitespace) && *tag == tag.to_lowercase());
        }
    }
}
