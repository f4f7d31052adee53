//! Search (K2) through the service: the index follows the articles' events, shows each reader
//! what they read, and survives a restart (catching up from where its last commit stopped) and
//! a wipe (rebuilt from the database).

mod support;

use crm_proto::crm::knowledge::v1::{self as pb, ReviewAction};
use support::*;

async fn publish(ravi: &Articles, mei: &Articles, content: pb::ArticleContent) -> pb::Article {
    let draft = ravi.create(content).await.unwrap();
    mei.review(&draft, 1, ReviewAction::Publish, "")
        .await
        .unwrap()
}

#[tokio::test]
async fn the_index_follows_the_articles_and_shows_each_reader_what_they_read() {
    let app = start().await;
    let ravi = Articles::new(&app, RAVI).await;
    let mei = Articles::new(&app, MEI).await;
    publish(&ravi, &mei, battlecard()).await;
    publish(&ravi, &mei, playbook()).await;
    let mut draft = battlecard();
    draft.title = "Globex pricing notes".into();
    draft.body = "Draft notes on Globex pricing.".into();
    ravi.create(draft).await.unwrap();

    let nora = Search::new(&app, NORA).await;
    nora.until_first("Globex 竞品 battlecard", "Winning against Globex")
        .await;
    nora.until_first("方案 预算", "方案阶段打法").await;
    // The draft: its author and the publishers find it, other reps do not.
    assert!(
        !nora
            .titles("pricing notes")
            .await
            .contains(&"Globex pricing notes".to_owned())
    );
    Search::new(&app, RAVI)
        .await
        .until_first("pricing notes", "Globex pricing notes")
        .await;
    Search::new(&app, MEI)
        .await
        .until_first("pricing notes", "Globex pricing notes")
        .await;
    // Highlighted, the author's script gone.
    let hits = nora
        .ask(pb::SearchArticlesRequest {
            query: "uptime".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        hits[0].snippet_html.contains("<mark>uptime</mark>"),
        "{:?}",
        hits[0]
    );
    assert!(!hits[0].snippet_html.contains("<script"), "{:?}", hits[0]);
    // Filters.
    let chinese = nora
        .ask(pb::SearchArticlesRequest {
            query: "globex 方案".into(),
            language: pb::Language::Zh as i32,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        chinese
            .iter()
            .map(|hit| hit.title.as_str())
            .collect::<Vec<_>>(),
        ["方案阶段打法"]
    );
    let against_globex = nora
        .ask(pb::SearchArticlesRequest {
            query: "globex 方案".into(),
            competitor_id: GLOBEX.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(against_globex.len(), 1);
    assert_eq!(against_globex[0].title, "Winning against Globex");
    // A blank query is invalid.
    let blank = nora
        .ask(pb::SearchArticlesRequest {
            query: "  ".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(blank.code(), tonic::Code::InvalidArgument);
}

#[tokio::test]
async fn the_index_survives_a_restart_and_a_wipe() {
    let mut app = start().await;
    {
        let ravi = Articles::new(&app, RAVI).await;
        let mei = Articles::new(&app, MEI).await;
        publish(&ravi, &mei, battlecard()).await;
        Search::new(&app, NORA)
            .await
            .until_first("globex", "Winning against Globex")
            .await;
    }

    // Restarted: the index reopens as committed and follows from there.
    restart(&mut app, false).await;
    {
        let ravi = Articles::new(&app, RAVI).await;
        let mei = Articles::new(&app, MEI).await;
        let nora = Search::new(&app, NORA).await;
        nora.until_first("globex", "Winning against Globex").await;
        publish(&ravi, &mei, playbook()).await;
        nora.until_first("方案", "方案阶段打法").await;
        assert!(app.services.readiness().is_ready());
    }

    // Wiped: rebuilt from the database, nothing lost.
    restart(&mut app, true).await;
    let nora = Search::new(&app, NORA).await;
    nora.until_first("globex", "Winning against Globex").await;
    nora.until_first("方案", "方案阶段打法").await;
}
