use chrono::DateTime;

use super::*;
use crate::domain::article::ArticleContent;

const RAVI: Uuid = Uuid::from_u128(0xb1);
const NORA: Uuid = Uuid::from_u128(0xb2);
const GLOBEX: Uuid = Uuid::from_u128(0xc1);

fn version(number: u32, status: VersionStatus, author: Uuid, content: ArticleContent) -> Version {
    Version {
        number,
        status,
        content,
        author_id: author,
        created_at: DateTime::UNIX_EPOCH,
        updated_at: DateTime::UNIX_EPOCH,
        published_at: None,
        published_by: None,
        review_comment: String::new(),
    }
}

fn content(kind: ArticleKind, language: Language, title: &str, body: &str) -> ArticleContent {
    ArticleContent {
        title: title.into(),
        summary: String::new(),
        body: body.into(),
        kind,
        language,
        category: String::new(),
        tags: vec![],
        stage_ids: vec![],
        competitor_ids: vec![],
        product_codes: vec![],
        industries: vec![],
    }
}

fn article(id: u128, revision: i64, versions: Vec<Version>) -> IndexedArticle {
    IndexedArticle {
        id: Uuid::from_u128(id),
        revision,
        versions,
    }
}

fn query(text: &str, by: Uuid) -> SearchQuery {
    SearchQuery {
        text: text.into(),
        by: Searcher {
            user_id: by,
            publishes: false,
        },
        filters: SearchFilters::default(),
        limit: 10,
    }
}

fn found(index: &SearchIndex, query: &SearchQuery) -> Vec<u128> {
    index
        .search(query)
        .unwrap()
        .iter()
        .map(|hit| hit.article_id.as_u128())
        .collect()
}

/// A battlecard against Globex in English, a Chinese one, a proposal playbook and Nora's draft.
/// An index in memory, open for writing.
fn writable() -> SearchIndex {
    let index = SearchIndex::in_memory().unwrap();
    index.open_writer().unwrap();
    index
}

fn library() -> SearchIndex {
    let index = writable();
    let mut card = content(
        ArticleKind::Battlecard,
        Language::En,
        "Winning against Globex",
        "Globex discounts early. We win on uptime and support.",
    );
    card.competitor_ids = vec![GLOBEX];
    card.tags = vec!["pricing".into()];
    let mut chinese = content(
        ArticleKind::Battlecard,
        Language::Zh,
        "Globex 竞品分析",
        "Globex 价格低，但我们的赢单率更高：强调服务和稳定性。",
    );
    chinese.competitor_ids = vec![GLOBEX];
    let playbook = content(
        ArticleKind::Playbook,
        Language::En,
        "Proposal stage playbook",
        "Confirm the budget and the decision makers before sending proposals.",
    );
    let draft = content(
        ArticleKind::ObjectionHandling,
        Language::En,
        "Too expensive? Answering price objections",
        "Compare the total cost of ownership, not the price.",
    );
    for (id, versions) in [
        (1, vec![version(1, VersionStatus::Published, RAVI, card)]),
        (2, vec![version(1, VersionStatus::Published, RAVI, chinese)]),
        (
            3,
            vec![version(1, VersionStatus::Published, RAVI, playbook)],
        ),
        (4, vec![version(1, VersionStatus::Draft, NORA, draft)]),
    ] {
        assert!(index.apply(&article(id, 1, versions)).unwrap());
    }
    index.commit(4).unwrap();
    index
}

#[test]
fn english_chinese_and_mixed_queries_find_their_articles() {
    let index = library();
    assert_eq!(found(&index, &query("winning against globex", RAVI))[0], 1);
    assert_eq!(found(&index, &query("竞品分析", RAVI))[0], 2);
    assert_eq!(
        found(&index, &query("Globex 竞品 battlecard", RAVI))[..2].len(),
        2
    );
    // Stems: "proposal" finds "proposals" and the title's "Proposal".
    assert_eq!(found(&index, &query("proposal", RAVI)), [3]);
    // Traditional characters find the Simplified text.
    assert_eq!(found(&index, &query("競品", RAVI))[0], 2);
    // A word jieba does not have is still found through its characters.
    assert_eq!(found(&index, &query("稳定", RAVI))[0], 2);
}

#[test]
fn drafts_are_found_by_their_authors_and_the_publishers_only() {
    let index = library();
    assert!(found(&index, &query("ownership", RAVI)).is_empty());
    assert_eq!(found(&index, &query("ownership", NORA)), [4]);
    let mut manager = query("ownership", Uuid::from_u128(0xa2));
    manager.by.publishes = true;
    assert_eq!(found(&index, &manager), [4]);
}

#[test]
fn a_version_in_review_is_read_like_a_draft_and_its_published_one_by_everyone() {
    let index = writable();
    let published = content(
        ArticleKind::Playbook,
        Language::En,
        "Negotiation playbook",
        "Trade concessions, never give them.",
    );
    let in_review = content(
        ArticleKind::Playbook,
        Language::En,
        "Negotiation playbook",
        "Trade concessions, never give them. Escalate a discount above 15% to the deal desk.",
    );
    let reviewed = version(2, VersionStatus::InReview, NORA, in_review);
    index
        .apply(&article(
            7,
            3,
            vec![
                version(1, VersionStatus::Published, RAVI, published),
                reviewed,
            ],
        ))
        .unwrap();
    index.commit(1).unwrap();
    let hits = |by: Uuid, publishes: bool, text: &str| {
        let mut asked = query(text, by);
        asked.by.publishes = publishes;
        index
            .search(&asked)
            .unwrap()
            .iter()
            .map(|hit| (hit.article_id.as_u128(), hit.version))
            .collect::<Vec<_>>()
    };
    // Only the version in review holds "escalate": its author and the publishers find it, a
    // rep who did not write it does not.
    assert_eq!(hits(NORA, false, "escalate"), [(7, 2)]);
    assert_eq!(hits(Uuid::from_u128(0xa2), true, "escalate"), [(7, 2)]);
    assert!(hits(RAVI, false, "escalate").is_empty());
    // Words both versions hold find the article once: the rep its published version.
    assert_eq!(hits(RAVI, false, "concessions"), [(7, 1)]);
    assert_eq!(hits(NORA, false, "concessions").len(), 1);
}

#[test]
fn filters_narrow_the_results() {
    let index = library();
    let mut chinese = query("globex", RAVI);
    chinese.filters.language = Some(Language::Zh);
    assert_eq!(found(&index, &chinese), [2]);
    let mut tagged = query("globex", RAVI);
    tagged.filters.tag = Some("pricing".into());
    assert_eq!(found(&index, &tagged), [1]);
    let mut competitor = query("uptime 稳定", RAVI);
    competitor.filters.competitor_id = Some(GLOBEX);
    assert_eq!(found(&index, &competitor).len(), 2);
    let mut playbooks = query("globex proposal", RAVI);
    playbooks.filters.kind = Some(ArticleKind::Playbook);
    assert_eq!(found(&index, &playbooks), [3]);
}

#[test]
fn snippets_highlight_the_matches_and_escape_the_rest() {
    let index = writable();
    let tricky = content(
        ArticleKind::Training,
        Language::En,
        "Discount <rules>",
        "Never give a discount before the <b>budget</b> is confirmed.",
    );
    index
        .apply(&article(
            9,
            1,
            vec![version(1, VersionStatus::Published, RAVI, tricky)],
        ))
        .unwrap();
    index.commit(1).unwrap();
    let hit = &index.search(&query("discount", RAVI)).unwrap()[0];
    assert_eq!(hit.title_html, "<mark>Discount</mark> &lt;rules&gt;");
    assert!(
        hit.snippet_html.contains("<mark>discount</mark>"),
        "{}",
        hit.snippet_html
    );
    assert!(!hit.snippet_html.contains("<b>"), "{}", hit.snippet_html);
}

#[test]
fn an_older_revision_never_replaces_a_newer_one() {
    let index = library();
    let stale = content(ArticleKind::Playbook, Language::En, "Stale title", "old");
    assert!(
        !index
            .apply(&article(
                3,
                1,
                vec![version(1, VersionStatus::Published, RAVI, stale.clone())]
            ))
            .unwrap()
    );
    // Archived: gone from searches, its revision remembered.
    assert!(index.apply(&article(3, 2, vec![])).unwrap());
    index.commit(5).unwrap();
    assert!(found(&index, &query("proposal", RAVI)).is_empty());
    assert!(
        !index
            .apply(&article(
                3,
                1,
                vec![version(1, VersionStatus::Published, RAVI, stale)]
            ))
            .unwrap()
    );
    assert_eq!(
        index.state(),
        Some(IndexState {
            analysis_version: ANALYSIS_VERSION,
            sequence: 5
        })
    );
}

#[test]
fn an_index_in_a_directory_reopens_as_it_was_committed() {
    let dir = std::env::temp_dir().join(format!("crm-knowledge-index-test-{}", Uuid::now_v7()));
    {
        let index = SearchIndex::open(&dir).unwrap();
        index.open_writer().unwrap();
        assert_eq!(index.state(), None);
        let card = content(ArticleKind::Battlecard, Language::En, "Globex", "uptime");
        index
            .apply(&article(
                1,
                3,
                vec![version(1, VersionStatus::Published, RAVI, card)],
            ))
            .unwrap();
        index.commit(42).unwrap();
    }
    let reopened = SearchIndex::open(&dir).unwrap();
    assert_eq!(reopened.state().unwrap().sequence, 42);
    // A second writer waits for the first to let go.
    reopened.open_writer().unwrap();
    let other = SearchIndex::open(&dir).unwrap();
    assert!(other.open_writer().is_err());
    reopened.close_writer();
    other.open_writer().unwrap();
    assert_eq!(found(&reopened, &query("globex", RAVI)), [1]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An index of `commits` segments: article `n` committed alone at sequence `n`.
fn segmented(commits: u128) -> SearchIndex {
    let index = writable();
    for id in 1..=commits {
        let card = content(
            ArticleKind::Battlecard,
            Language::En,
            &format!("Globex battlecard {id}"),
            "uptime and support",
        );
        index
            .apply(&article(
                id,
                1,
                vec![version(1, VersionStatus::Published, RAVI, card)],
            ))
            .unwrap();
        index.commit(id as u64).unwrap();
    }
    index
}

#[tokio::test]
async fn settling_merges_the_small_segments_and_keeps_what_is_found() {
    let index = segmented(6);
    assert_eq!(index.segments(), 6);
    let before = found(&index, &query("globex uptime", RAVI));
    assert_eq!(before.len(), 6);
    assert!(index.settle().await.unwrap());
    // One segment per commit of one article: all the same size, so the largest stays whole
    // and the five others become one.
    assert_eq!(index.segments(), 2);
    let mut after = found(&index, &query("globex uptime", RAVI));
    let mut expected = before.clone();
    after.sort();
    expected.sort();
    assert_eq!(after, expected);
    assert_eq!(index.state().unwrap().sequence, 6);
    // Two segments are left as they are.
    assert!(index.settle().await.unwrap());
    assert_eq!(index.segments(), 2);
}

#[tokio::test]
async fn a_largest_segment_of_many_deleted_versions_is_merged_too() {
    let index = writable();
    let titled = |title: &str| {
        vec![version(
            1,
            VersionStatus::Published,
            RAVI,
            content(ArticleKind::Playbook, Language::En, title, "budget"),
        )]
    };
    for id in 1..=5 {
        index
            .apply(&article(id, 1, titled("Proposal playbook")))
            .unwrap();
    }
    index.commit(1).unwrap();
    // Two of the five revised, each in a commit of its own: two fifths of the largest
    // segment are deleted versions.
    for id in 1..=2 {
        index
            .apply(&article(id, 2, titled("Negotiation playbook")))
            .unwrap();
        index.commit(1 + id as u64).unwrap();
    }
    assert_eq!(index.segments(), 3);
    assert!(index.settle().await.unwrap());
    assert_eq!(index.segments(), 1);
    assert_eq!(index.documents(), 5);
    let mut negotiation = found(&index, &query("negotiation", RAVI));
    negotiation.sort();
    assert_eq!(negotiation, [1, 2]);
    assert_eq!(index.state().unwrap().sequence, 3);
}
