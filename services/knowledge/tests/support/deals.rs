//! Deals, accounts and people as the other services announce them, for the deal content and
//! training tests: events published on the producers' streams in the test's namespace.

use chrono::NaiveDate;
use crm_proto::crm::{
    accounts::v1::{Account, AccountUpdated},
    common::v1::LifecycleStage,
    gateway::v1::{self as gateway, UserCreated, UserUpdated},
    knowledge::v1 as pb,
    opportunities::v1::{
        DealCompetitor, LineItem, Opportunity, OpportunityCreated, OpportunityStageChanged,
        OpportunityStatus, StageSummary,
    },
};
use crm_test_support::TestApp;

use super::{MEI, RAVI, caller};

pub const CONTOSO: &str = "01900000-0000-7000-8000-0000000ac001";
pub const QUALIFY: &str = "01900000-0000-7000-8000-0000000005a1";

/// The service with the streams of the services it hears from.
pub async fn start_with_producers() -> TestApp {
    let app = super::start().await;
    for producer in ["opportunities", "accounts", "gateway"] {
        app.stand_in_for("knowledge", producer).await;
    }
    app
}

/// Publishes an article: Ravi writes it, Mei publishes it. Its id.
pub async fn published(app: &TestApp, content: pb::ArticleContent) -> String {
    let author = super::Articles::new(app, RAVI).await;
    let publisher = super::Articles::new(app, MEI).await;
    let article = author.create(content).await.unwrap();
    let submitted = author
        .review(&article, 1, pb::ReviewAction::Submit, "")
        .await
        .unwrap();
    publisher
        .review(&submitted, 1, pb::ReviewAction::Publish, "")
        .await
        .unwrap();
    article.article_id
}

/// A draft of Ravi's, never published. Its id.
pub async fn draft(app: &TestApp, content: pb::ArticleContent) -> String {
    super::Articles::new(app, RAVI)
        .await
        .create(content)
        .await
        .unwrap()
        .article_id
}

/// A deal of `owner`'s on Contoso at `version`, in `stage`, against `competitors`, of
/// `products`.
pub fn deal(
    id: &str,
    owner: &str,
    version: u64,
    stage: (&str, &str),
    competitors: &[(&str, &str)],
    products: &[&str],
    status: OpportunityStatus,
) -> Opportunity {
    let team = caller(owner).team_path;
    Opportunity {
        id: id.into(),
        name: format!("Contoso deal {}", &id[id.len() - 3..]),
        account_id: CONTOSO.into(),
        owner_id: owner.into(),
        owner_team_path: team.as_str().into(),
        pipeline_id: "01900000-0000-7000-8000-000000000001".into(),
        stage: Some(StageSummary {
            stage_id: stage.0.into(),
            name: stage.1.into(),
            ..Default::default()
        }),
        competitors: competitors
            .iter()
            .map(|(id, name)| DealCompetitor {
                competitor_id: (*id).into(),
                competitor_name: (*name).into(),
                ..Default::default()
            })
            .collect(),
        line_items: products
            .iter()
            .map(|code| LineItem {
                product_code: (*code).into(),
                quantity: "1".into(),
                ..Default::default()
            })
            .collect(),
        status: status as i32,
        version,
        ..Default::default()
    }
}

pub async fn announce_created(app: &TestApp, opportunity: Opportunity) {
    app.publish_event(
        "knowledge",
        &OpportunityCreated {
            opportunity: Some(opportunity),
            change: None,
        },
    )
    .await;
}

pub async fn announce_stage(app: &TestApp, opportunity: Opportunity) {
    app.publish_event(
        "knowledge",
        &OpportunityStageChanged {
            opportunity: Some(opportunity),
            ..Default::default()
        },
    )
    .await;
}

pub async fn announce_industry(app: &TestApp, industry: &str, version: u64) {
    app.publish_event(
        "knowledge",
        &AccountUpdated {
            account: Some(Account {
                id: CONTOSO.into(),
                name: "Contoso".into(),
                industry: industry.into(),
                version,
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .await;
}

/// A user as the directory announces them.
pub fn user(
    id: &str,
    name: &str,
    role: gateway::Role,
    team: &str,
    stage: LifecycleStage,
    version: u64,
) -> gateway::User {
    gateway::User {
        id: id.into(),
        display_name: name.into(),
        role: role as i32,
        team_path: team.into(),
        stage: stage as i32,
        started_on: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap().to_string(),
        active: true,
        version,
        ..Default::default()
    }
}

pub async fn announce_user(app: &TestApp, user: gateway::User, created: bool) {
    if created {
        app.publish_event("knowledge", &UserCreated { user: Some(user) })
            .await;
    } else {
        app.publish_event(
            "knowledge",
            &UserUpdated {
                user: Some(user),
                ..Default::default()
            },
        )
        .await;
    }
}
