//! Articles (K1) over gRPC on real PostgreSQL and NATS: authors write, managers publish, every
//! version kept and diffable, drafts read only by their authors and the publishers, an event
//! on every change.

mod support;

use crm_proto::crm::knowledge::v1::{self as pb, ReviewAction, VersionStatus};
use support::*;
use tonic::Code;
use tonic_types::StatusExt;

fn status_of(article: &pb::Article) -> i32 {
    article.version.as_ref().unwrap().status
}

#[tokio::test]
async fn an_author_writes_a_manager_publishes_and_everyone_reads_it() {
    let app = start().await;
    let ravi = Articles::new(&app, RAVI).await;
    let nora = Articles::new(&app, NORA).await;
    let mei = Articles::new(&app, MEI).await;

    let draft = ravi.create(battlecard()).await.unwrap();
    assert_eq!(draft.revision, 1);
    assert_eq!(draft.latest_version, 1);
    assert_eq!(draft.published_version, 0);
    assert_eq!(status_of(&draft), VersionStatus::Draft as i32);
    let content = draft.version.as_ref().unwrap().content.as_ref().unwrap();
    // Kept normalised: tags lower case with dashes, sorted.
    assert_eq!(content.tags, ["globex", "price-objection"]);

    // A draft is its author's (and the publishers') until published.
    let hidden = nora.get(&draft.article_id, 0).await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound, "{hidden:?}");
    assert_eq!(mei.get(&draft.article_id, 0).await.unwrap().revision, 1);

    let submitted = ravi
        .review(&draft, 1, ReviewAction::Submit, "")
        .await
        .unwrap();
    assert_eq!(status_of(&submitted), VersionStatus::InReview as i32);
    // A rep does not publish, not even their own.
    let denied = ravi
        .review(&submitted, 1, ReviewAction::Publish, "")
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");

    let published = mei
        .review(&submitted, 1, ReviewAction::Publish, "Good.")
        .await
        .unwrap();
    assert_eq!(published.published_version, 1);
    assert_eq!(published.revision, 3);
    let version = published.version.as_ref().unwrap();
    assert_eq!(version.status, VersionStatus::Published as i32);
    assert_eq!(version.published_by, MEI);

    // Everyone reads it now, rendered without the script the author pasted.
    let read = nora.get(&draft.article_id, 0).await.unwrap();
    let html = &read.version.as_ref().unwrap().body_html;
    assert!(html.contains("<h1>Globex</h1>"), "{html}");
    assert!(html.contains("<strong>early</strong>"), "{html}");
    assert!(
        !html.contains("script") && !html.contains("alert"),
        "{html}"
    );

    assert_eq!(
        events_of(&app, &draft.article_id).await,
        [
            ("crm.knowledge.v1.article_changed".to_owned(), 1),
            ("crm.knowledge.v1.article_changed".to_owned(), 2),
            ("crm.knowledge.v1.article_published".to_owned(), 3),
        ]
    );
}

#[tokio::test]
async fn a_published_article_changes_by_a_new_version_and_the_two_are_compared() {
    let app = start().await;
    let ravi = Articles::new(&app, RAVI).await;
    let nora = Articles::new(&app, NORA).await;
    let mei = Articles::new(&app, MEI).await;
    let article = ravi.create(playbook()).await.unwrap();
    let v1 = mei
        .review(&article, 1, ReviewAction::Publish, "")
        .await
        .unwrap();

    // Nora improves it: version 2, a draft of hers, while version 1 stays in use.
    let mut better = playbook();
    better.title = "方案阶段打法（2027 版）".into();
    better.body = "## 方案\n\n确认预算和决策人，准备竞品对比。\n安排高层拜访。\n".into();
    let v2 = nora.save(&v1, better.clone()).await.unwrap();
    assert_eq!(v2.latest_version, 2);
    assert_eq!(v2.published_version, 1);
    assert_eq!(v2.version.as_ref().unwrap().author_id, NORA);
    // Readers other than her still get version 1.
    let shown = ravi.get(&article.article_id, 0).await.unwrap();
    assert_eq!(shown.version.as_ref().unwrap().version, 1);
    assert_eq!(
        shown
            .history
            .iter()
            .map(|entry| entry.version)
            .collect::<Vec<_>>(),
        [1]
    );
    // Her draft changes in place.
    better.summary = "方案阶段如何推进赢单，含高层拜访。".into();
    let v2 = nora.save(&v2, better).await.unwrap();
    assert_eq!(v2.latest_version, 2);

    let diff = mei.diff(&article.article_id, 1, 2).await.unwrap();
    let fields: Vec<&str> = diff
        .fields
        .iter()
        .map(|change| change.field.as_str())
        .collect();
    assert_eq!(fields, ["title", "summary"]);
    assert_eq!(diff.fields[0].from, "方案阶段打法");
    let lines: Vec<(i32, &str)> = diff.body[0]
        .lines
        .iter()
        .map(|line| (line.change, line.text.as_str()))
        .collect();
    use pb::diff_line::Change;
    assert_eq!(
        lines,
        [
            (Change::Same as i32, "## 方案"),
            (Change::Same as i32, ""),
            (Change::Same as i32, "确认预算和决策人，准备竞品对比。"),
            (Change::Added as i32, "安排高层拜访。"),
        ]
    );

    // Published, version 2 replaces version 1, which is archived and kept.
    let v2 = mei.review(&v2, 2, ReviewAction::Publish, "").await.unwrap();
    assert_eq!(v2.published_version, 2);
    let history: Vec<(u32, i32)> = v2
        .history
        .iter()
        .map(|entry| (entry.version, entry.status))
        .collect();
    assert_eq!(
        history,
        [
            (2, VersionStatus::Published as i32),
            (1, VersionStatus::Archived as i32)
        ]
    );
    assert_eq!(
        ravi.get(&article.article_id, 0)
            .await
            .unwrap()
            .version
            .unwrap()
            .version,
        2
    );
    // A reader reads what is in use (and what they wrote) only; the publishers every version.
    let archived = nora.get(&article.article_id, 1).await.unwrap_err();
    assert_eq!(archived.code(), Code::FailedPrecondition, "{archived:?}");
    assert_eq!(
        mei.get(&article.article_id, 1)
            .await
            .unwrap()
            .version
            .unwrap()
            .content
            .unwrap()
            .title,
        "方案阶段打法"
    );
    let events = events_of(&app, &article.article_id).await;
    assert_eq!(
        events.last().unwrap(),
        &("crm.knowledge.v1.article_published".to_owned(), 5)
    );
}

#[tokio::test]
async fn the_review_refuses_what_the_state_or_the_role_rules_out() {
    let app = start().await;
    let ravi = Articles::new(&app, RAVI).await;
    let nora = Articles::new(&app, NORA).await;
    let mei = Articles::new(&app, MEI).await;
    let ada = Articles::new(&app, ADA).await;

    // A battlecard names its competitor: a refusal for the data, naming the field.
    let mut nameless = battlecard();
    nameless.competitor_ids.clear();
    let refused = ravi.create(nameless).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let details = refused.get_details_bad_request().expect("field details");
    assert_eq!(details.field_violations[0].field, "content.competitor_ids");
    // A blank title is invalid.
    let mut blank = battlecard();
    blank.title = "  ".into();
    let invalid = ravi.create(blank).await.unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument, "{invalid:?}");
    assert_eq!(
        invalid.get_details_bad_request().unwrap().field_violations[0].field,
        "content.title"
    );

    let draft = ravi.create(battlecard()).await.unwrap();
    // Only the author submits; another rep does not even see the draft.
    let unseen = nora
        .review(&draft, 1, ReviewAction::Submit, "")
        .await
        .unwrap_err();
    assert_eq!(unseen.code(), Code::FailedPrecondition, "{unseen:?}");
    let submitted = ravi
        .review(&draft, 1, ReviewAction::Submit, "")
        .await
        .unwrap();
    // In review it does not change, and a stale revision is a conflict.
    let in_review = ravi.save(&submitted, battlecard()).await.unwrap_err();
    assert_eq!(in_review.code(), Code::FailedPrecondition, "{in_review:?}");
    assert_eq!(
        in_review.get_error_details().error_info().unwrap().reason,
        "VERSION_IN_REVIEW"
    );
    let stale = mei
        .review(&draft, 1, ReviewAction::Publish, "")
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "{stale:?}");
    // Sent back with a reason (none is refused), then it is a draft again.
    let silent = mei
        .review(&submitted, 1, ReviewAction::Reject, " ")
        .await
        .unwrap_err();
    assert_eq!(silent.code(), Code::FailedPrecondition, "{silent:?}");
    let sent_back = mei
        .review(
            &submitted,
            1,
            ReviewAction::Reject,
            "Cite the uptime figures.",
        )
        .await
        .unwrap();
    assert_eq!(status_of(&sent_back), VersionStatus::Draft as i32);
    assert_eq!(
        ravi.get(&draft.article_id, 0)
            .await
            .unwrap()
            .version
            .unwrap()
            .review_comment,
        "Cite the uptime figures."
    );
    // A draft is not archived; only a published version is.
    let not_published = ada
        .review(&sent_back, 1, ReviewAction::Archive, "")
        .await
        .unwrap_err();
    assert_eq!(not_published.code(), Code::FailedPrecondition);
    assert_eq!(
        not_published
            .get_error_details()
            .error_info()
            .unwrap()
            .reason,
        "REVIEW_REFUSED"
    );
    let published = ada
        .review(&sent_back, 1, ReviewAction::Publish, "")
        .await
        .unwrap();
    let archived = ada
        .review(&published, 1, ReviewAction::Archive, "Globex was acquired.")
        .await
        .unwrap();
    assert_eq!(archived.published_version, 0);
    // Archived, it is gone for readers, and nothing is published twice.
    assert_eq!(
        nora.get(&draft.article_id, 0).await.unwrap_err().code(),
        Code::NotFound
    );
    let again = ada
        .review(&archived, 1, ReviewAction::Publish, "")
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition, "{again:?}");
    let trail: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT action, from_status, to_status FROM article_reviews WHERE article_id = $1 \
         ORDER BY at",
    )
    .bind(uuid::Uuid::parse_str(&draft.article_id).unwrap())
    .fetch_all(app.pool("knowledge"))
    .await
    .unwrap();
    let trail: Vec<(&str, &str, &str)> = trail
        .iter()
        .map(|(a, f, t)| (a.as_str(), f.as_str(), t.as_str()))
        .collect();
    assert_eq!(
        trail,
        [
            ("submit", "draft", "in_review"),
            ("reject", "in_review", "draft"),
            ("publish", "draft", "published"),
            ("archive", "published", "archived"),
        ]
    );
}

#[tokio::test]
async fn listings_filter_and_show_each_reader_what_they_read() {
    let app = start().await;
    let ravi = Articles::new(&app, RAVI).await;
    let nora = Articles::new(&app, NORA).await;
    let mei = Articles::new(&app, MEI).await;
    let card = ravi.create(battlecard()).await.unwrap();
    mei.review(&card, 1, ReviewAction::Publish, "")
        .await
        .unwrap();
    let book = ravi.create(playbook()).await.unwrap();
    let mut bilingual = battlecard();
    bilingual.title = "Globex 竞品 battlecard".into();
    bilingual.language = pb::Language::Both as i32;
    let both = nora.create(bilingual).await.unwrap();
    mei.review(&both, 1, ReviewAction::Publish, "")
        .await
        .unwrap();

    let titles = |response: pb::ListArticlesResponse| -> Vec<String> {
        response
            .articles
            .into_iter()
            .map(|article| article.version.unwrap().content.unwrap().title)
            .collect()
    };
    // Nora sees the published ones, newest change first, each with its Markdown but not its
    // rendering (the article page's); Ravi his draft too.
    let listed = nora.list(Default::default()).await.unwrap();
    for article in &listed.articles {
        let version = article.version.as_ref().unwrap();
        assert_eq!(version.content.as_ref().unwrap().body, battlecard().body);
        assert_eq!(version.body_html, "");
    }
    assert_eq!(
        titles(listed),
        ["Globex 竞品 battlecard", "Winning against Globex"]
    );
    assert_eq!(
        titles(ravi.list(Default::default()).await.unwrap()),
        [
            "Globex 竞品 battlecard",
            "方案阶段打法",
            "Winning against Globex"
        ]
    );
    // Chinese readers get the Chinese and the bilingual ones.
    let chinese = pb::ListArticlesRequest {
        language: pb::Language::Zh as i32,
        ..Default::default()
    };
    assert_eq!(
        titles(ravi.list(chinese).await.unwrap()),
        ["Globex 竞品 battlecard", "方案阶段打法"]
    );
    let tagged = pb::ListArticlesRequest {
        tag: "Price Objection".into(),
        kind: pb::ArticleKind::Battlecard as i32,
        ..Default::default()
    };
    assert_eq!(titles(mei.list(tagged).await.unwrap()).len(), 2);
    let drafts = pb::ListArticlesRequest {
        status: VersionStatus::Draft as i32,
        ..Default::default()
    };
    assert_eq!(titles(mei.list(drafts).await.unwrap()), ["方案阶段打法"]);
    // Pages of one, no article skipped or repeated, none rendered.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = ravi
            .list(pb::ListArticlesRequest {
                page: Some(crm_proto::crm::common::v1::PageRequest {
                    page_size: 1,
                    page_token: token.clone(),
                }),
                ..Default::default()
            })
            .await
            .unwrap();
        for article in &page.articles {
            assert!(article.version.as_ref().unwrap().body_html.is_empty());
            seen.push(article.article_id.clone());
        }
        token = page.page.unwrap().next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, [both.article_id, book.article_id, card.article_id]);
}
