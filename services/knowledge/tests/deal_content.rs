//! Deal content (K3, K4) and usage (K5) over gRPC on real PostgreSQL and NATS: deals and
//! industries kept from the other services' events by version, recommendations with their
//! reasons, attachments on deals and accounts, views, votes and content influence.

mod support;

use crm_proto::crm::{
    knowledge::v1::{
        self as pb, deal_content_service_client::DealContentServiceClient,
        usage_service_client::UsageServiceClient,
    },
    opportunities::v1::OpportunityStatus,
};
use crm_test_support::{TestApp, authorized};
use support::{deals::*, *};
use tonic::{Code, transport::Channel};

const DEAL: &str = "01900000-0000-7000-8000-0000000d0001";
const INITECH: &str = "01900000-0000-7000-8000-00000000c0e2";

struct As {
    deals: DealContentServiceClient<Channel>,
    usage: UsageServiceClient<Channel>,
    token: String,
}

impl As {
    async fn new(app: &TestApp, who: &str) -> Self {
        let channel = app.channel().await;
        Self {
            deals: DealContentServiceClient::new(channel.clone()),
            usage: UsageServiceClient::new(channel),
            token: app.token(&caller(who)),
        }
    }

    async fn recommend(
        &self,
        deal_id: &str,
        language: pb::Language,
    ) -> Result<pb::RecommendForDealResponse, tonic::Status> {
        let request = pb::RecommendForDealRequest {
            deal_id: deal_id.into(),
            language: language as i32,
            limit: 0,
        };
        Ok(self
            .deals
            .clone()
            .recommend_for_deal(authorized(request, &self.token))
            .await?
            .into_inner())
    }

    async fn attach(
        &self,
        deal_id: &str,
        article_id: &str,
    ) -> Result<pb::DealArticle, tonic::Status> {
        let request = pb::AttachArticleRequest {
            deal_id: deal_id.into(),
            article_id: article_id.into(),
        };
        Ok(self
            .deals
            .clone()
            .attach_article(authorized(request, &self.token))
            .await?
            .into_inner()
            .attachment
            .unwrap())
    }

    async fn detach(&self, deal_id: &str, article_id: &str) -> Result<(), tonic::Status> {
        let request = pb::DetachArticleRequest {
            deal_id: deal_id.into(),
            article_id: article_id.into(),
        };
        self.deals
            .clone()
            .detach_article(authorized(request, &self.token))
            .await?;
        Ok(())
    }

    async fn on_deal(&self, deal_id: &str) -> Vec<String> {
        let request = pb::ListDealArticlesRequest {
            deal_id: deal_id.into(),
        };
        titles(
            self.deals
                .clone()
                .list_deal_articles(authorized(request, &self.token))
                .await
                .unwrap()
                .into_inner()
                .attachments,
        )
    }

    async fn on_account(&self) -> Vec<String> {
        let request = pb::ListAccountArticlesRequest {
            account_id: CONTOSO.into(),
        };
        titles(
            self.deals
                .clone()
                .list_account_articles(authorized(request, &self.token))
                .await
                .unwrap()
                .into_inner()
                .attachments,
        )
    }

    async fn view(&self, article_id: &str, deal_id: &str) -> pb::ArticleUsage {
        let request = pb::RecordViewRequest {
            article_id: article_id.into(),
            deal_id: deal_id.into(),
        };
        self.usage
            .clone()
            .record_view(authorized(request, &self.token))
            .await
            .unwrap()
            .into_inner()
            .usage
            .unwrap()
    }

    async fn vote(&self, article_id: &str, vote: pb::Vote) -> pb::ArticleUsage {
        let request = pb::VoteHelpfulRequest {
            article_id: article_id.into(),
            vote: vote as i32,
        };
        self.usage
            .clone()
            .vote_helpful(authorized(request, &self.token))
            .await
            .unwrap()
            .into_inner()
            .usage
            .unwrap()
    }

    async fn influence(&self, min_closed: u32) -> pb::GetContentInfluenceResponse {
        let request = pb::GetContentInfluenceRequest {
            kind: 0,
            min_closed,
        };
        self.usage
            .clone()
            .get_content_influence(authorized(request, &self.token))
            .await
            .unwrap()
            .into_inner()
    }
}

fn titles(attachments: Vec<pb::DealArticle>) -> Vec<String> {
    attachments
        .into_iter()
        .map(|attachment| attachment.article.unwrap().title)
        .collect()
}

fn product_sheet() -> pb::ArticleContent {
    pb::ArticleContent {
        title: "Line 3 robot cell".into(),
        summary: "What the cell does.".into(),
        body: "Cycle time, uptime, footprint.".into(),
        kind: pb::ArticleKind::ProductSheet as i32,
        language: pb::Language::En as i32,
        product_codes: vec!["line3-robot".into()],
        ..Default::default()
    }
}

fn objections() -> pb::ArticleContent {
    pb::ArticleContent {
        title: "Too expensive".into(),
        body: "Reframe on total cost.".into(),
        kind: pb::ArticleKind::ObjectionHandling as i32,
        language: pb::Language::En as i32,
        ..Default::default()
    }
}

/// The library: the Globex battlecard (for manufacturing), the proposal playbook (Chinese),
/// the robot cell's sheet, an objection article about nothing on the deal, and a battlecard
/// draft never published. Returns (battlecard, playbook).
async fn library(app: &TestApp) -> (String, String) {
    let battlecard_id = published(app, battlecard()).await;
    let playbook_id = published(app, playbook()).await;
    published(app, product_sheet()).await;
    published(app, objections()).await;
    draft(
        app,
        pb::ArticleContent {
            title: "Globex, draft".into(),
            ..battlecard()
        },
    )
    .await;
    (battlecard_id, playbook_id)
}

#[tokio::test]
async fn the_deal_s_stage_competitors_products_and_industry_rank_what_to_read() {
    let app = start_with_producers().await;
    library(&app).await;
    let qualify = (QUALIFY, "Qualify");
    let proposal = (PROPOSAL, "Proposal");
    let open = OpportunityStatus::Open;
    announce_created(&app, deal(DEAL, RAVI, 1, qualify, &[], &[], open)).await;
    let globex = [(GLOBEX, "Globex")];
    announce_stage(
        &app,
        deal(DEAL, RAVI, 3, proposal, &globex, &["LINE3-ROBOT"], open),
    )
    .await;
    // An older state delivered late changes nothing; so does an older industry.
    announce_stage(&app, deal(DEAL, RAVI, 2, qualify, &[], &[], open)).await;
    announce_industry(&app, "Manufacturing", 2).await;
    announce_industry(&app, "Retail", 1).await;
    app.handled("knowledge", 5).await;

    let ravi = As::new(&app, RAVI).await;
    let answer = ravi
        .recommend(DEAL, pb::Language::Unspecified)
        .await
        .unwrap();
    let known = answer.deal.unwrap();
    assert_eq!(
        (
            known.version,
            known.stage_name.as_str(),
            known.industry.as_str()
        ),
        (3, "Proposal", "Manufacturing")
    );
    assert_eq!(known.competitor_names, ["Globex"]);
    assert_eq!(known.product_codes, ["LINE3-ROBOT"]);
    // Battlecard against Globex 40 + for manufacturing 5 = 45; the stage's playbook 40; the
    // product's sheet 15; the objection article shares nothing, the draft is no one's read.
    let ranked: Vec<(String, u32)> = answer
        .recommendations
        .iter()
        .map(|recommendation| {
            (
                recommendation.article.as_ref().unwrap().title.clone(),
                recommendation.score,
            )
        })
        .collect();
    assert_eq!(
        ranked,
        [
            ("Winning against Globex".to_owned(), 45),
            ("方案阶段打法".to_owned(), 40),
            ("Line 3 robot cell".to_owned(), 15),
        ]
    );
    let reasons = &answer.recommendations[0].reasons;
    assert_eq!(reasons.len(), 2);
    assert_eq!(reasons[0].kind, pb::ReasonKind::Competitor as i32);
    assert!(reasons[0].primary);
    assert_eq!(reasons[0].competitor_name, "Globex");
    let text = reasons[0].text.as_ref().unwrap();
    assert_eq!(text.code, "knowledge.recommend.competitor_battlecard");
    assert_eq!(text.text, "Battlecard against Globex");
    assert_eq!(reasons[1].kind, pb::ReasonKind::Industry as i32);
    assert_eq!(reasons[1].points, 5);
    let stage = &answer.recommendations[1].reasons[0];
    assert_eq!(
        (stage.kind, stage.stage_name.as_str(), stage.points),
        (pb::ReasonKind::Stage as i32, "Proposal", 40)
    );

    // A Chinese reader gets what serves them.
    let chinese = ravi.recommend(DEAL, pb::Language::Zh).await.unwrap();
    assert_eq!(chinese.recommendations.len(), 1);
    assert_eq!(
        chinese.recommendations[0].article.as_ref().unwrap().title,
        "方案阶段打法"
    );

    // The deal is reached as the opportunities service would: its owner's manager sees it,
    // another rep does not, and a deal never announced is no one's.
    let mei = As::new(&app, MEI).await;
    assert_eq!(
        mei.recommend(DEAL, pb::Language::Unspecified)
            .await
            .unwrap()
            .recommendations
            .len(),
        3
    );
    let nora = As::new(&app, NORA).await;
    let hidden = nora
        .recommend(DEAL, pb::Language::Unspecified)
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound, "{hidden:?}");
    let unknown = ravi
        .recommend(
            "01900000-0000-7000-8000-0000000d0999",
            pb::Language::Unspecified,
        )
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let bad = ravi
        .recommend("not-a-deal", pb::Language::Unspecified)
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);

    // A competitor added later moves the ranking with the next version.
    let both = [(GLOBEX, "Globex"), (INITECH, "Initech")];
    announce_stage(&app, deal(DEAL, RAVI, 4, proposal, &both, &[], open)).await;
    app.handled("knowledge", 6).await;
    let later = ravi
        .recommend(DEAL, pb::Language::Unspecified)
        .await
        .unwrap();
    assert_eq!(later.deal.unwrap().version, 4);
    let titles: Vec<&str> = later
        .recommendations
        .iter()
        .map(|recommendation| recommendation.article.as_ref().unwrap().title.as_str())
        .collect();
    assert_eq!(titles, ["Winning against Globex", "方案阶段打法"]);
}

#[tokio::test]
async fn articles_attached_to_deals_show_on_the_deal_and_the_account() {
    let app = start_with_producers().await;
    let (battlecard_id, playbook_id) = library(&app).await;
    let draft_id = draft(&app, objections()).await;
    let proposal = (PROPOSAL, "Proposal");
    let globex = [(GLOBEX, "Globex")];
    announce_created(
        &app,
        deal(
            DEAL,
            RAVI,
            1,
            proposal,
            &globex,
            &[],
            OpportunityStatus::Open,
        ),
    )
    .await;
    app.handled("knowledge", 1).await;

    let ravi = As::new(&app, RAVI).await;
    let first = ravi.attach(DEAL, &battlecard_id).await.unwrap();
    assert_eq!(first.deal_status, "open");
    assert_eq!(first.attached_by, RAVI);
    // Again: the link as it is.
    let again = ravi.attach(DEAL, &battlecard_id).await.unwrap();
    assert_eq!(again.attached_at, first.attached_at);
    ravi.attach(DEAL, &playbook_id).await.unwrap();
    assert_eq!(
        ravi.on_deal(DEAL).await,
        ["方案阶段打法", "Winning against Globex"]
    );
    let recommended = ravi
        .recommend(DEAL, pb::Language::Unspecified)
        .await
        .unwrap();
    assert!(recommended.recommendations.iter().all(|item| item.attached));

    // Only what readers can open is attached; only a deal in reach is attached to.
    let unpublished = ravi.attach(DEAL, &draft_id).await.unwrap_err();
    assert_eq!(unpublished.code(), Code::NotFound, "{unpublished:?}");
    let nora = As::new(&app, NORA).await;
    let out_of_reach = nora.attach(DEAL, &battlecard_id).await.unwrap_err();
    assert_eq!(out_of_reach.code(), Code::NotFound);

    // The account 360's content: the caller's deals' attachments.
    assert_eq!(ravi.on_account().await.len(), 2);
    assert_eq!(As::new(&app, MEI).await.on_account().await.len(), 2);
    assert!(nora.on_account().await.is_empty());

    ravi.detach(DEAL, &playbook_id).await.unwrap();
    assert_eq!(ravi.on_deal(DEAL).await, ["Winning against Globex"]);
    let gone = ravi.detach(DEAL, &playbook_id).await.unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
}

#[tokio::test]
async fn content_influence_counts_the_deals_touched_by_outcome_with_the_sample_shown() {
    let app = start_with_producers().await;
    let (battlecard_id, playbook_id) = library(&app).await;
    let proposal = (PROPOSAL, "Proposal");
    let won = "01900000-0000-7000-8000-0000000d0101";
    let lost = "01900000-0000-7000-8000-0000000d0102";
    let open = "01900000-0000-7000-8000-0000000d0103";
    let noras = "01900000-0000-7000-8000-0000000d0104";
    let untouched = "01900000-0000-7000-8000-0000000d0105";
    let withdrawn = "01900000-0000-7000-8000-0000000d0106";
    for (id, owner, status) in [
        (won, RAVI, OpportunityStatus::Won),
        (lost, RAVI, OpportunityStatus::Lost),
        (open, RAVI, OpportunityStatus::Open),
        (noras, NORA, OpportunityStatus::Won),
        (untouched, RAVI, OpportunityStatus::Lost),
        (withdrawn, RAVI, OpportunityStatus::Open),
    ] {
        announce_created(&app, deal(id, owner, 1, proposal, &[], &[], status)).await;
    }
    app.handled("knowledge", 6).await;

    let ravi = As::new(&app, RAVI).await;
    let nora = As::new(&app, NORA).await;
    ravi.attach(won, &battlecard_id).await.unwrap();
    ravi.attach(lost, &battlecard_id).await.unwrap();
    ravi.view(&battlecard_id, open).await;
    ravi.view(&battlecard_id, open).await;
    ravi.attach(withdrawn, &battlecard_id).await.unwrap();
    nora.attach(noras, &battlecard_id).await.unwrap();
    ravi.view(&playbook_id, won).await;
    let usage = ravi.view(&battlecard_id, "").await;
    assert_eq!((usage.views, usage.readers), (3, 1));
    // A withdrawn deal counts nowhere.
    announce_stage(
        &app,
        deal(
            withdrawn,
            RAVI,
            2,
            proposal,
            &[],
            &[],
            OpportunityStatus::Archived,
        ),
    )
    .await;
    app.handled("knowledge", 7).await;

    // Votes: one each, a later one replacing the voter's.
    ravi.vote(&battlecard_id, pb::Vote::Helpful).await;
    nora.vote(&battlecard_id, pb::Vote::NotHelpful).await;
    let usage = ravi.vote(&battlecard_id, pb::Vote::NotHelpful).await;
    assert_eq!((usage.helpful_votes, usage.not_helpful_votes), (0, 2));
    assert_eq!(usage.your_vote, pb::Vote::NotHelpful as i32);

    // The manager sees all of the team's deals: the battlecard touched four (won 2, lost 1,
    // open 1): 2 ÷ 3 = 0.6667; the playbook one won deal, too few for a rate at 3.
    let mei = As::new(&app, MEI).await;
    let influence = mei.influence(3).await;
    let rows: Vec<(String, u64, u64, u64, u64, String)> = influence
        .articles
        .iter()
        .map(|row| {
            let outcomes = row.outcomes.as_ref().unwrap();
            (
                row.article.as_ref().unwrap().title.clone(),
                outcomes.deals,
                outcomes.won,
                outcomes.lost,
                outcomes.open,
                outcomes.win_rate.clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("Winning against Globex".into(), 4, 2, 1, 1, "0.6667".into()),
            ("方案阶段打法".into(), 1, 1, 0, 0, String::new()),
        ]
    );
    assert_eq!(influence.articles[0].views, 3);
    assert_eq!(influence.articles[0].not_helpful_votes, 2);
    assert_eq!(influence.kinds.len(), 2);
    // Every deal the manager sees, touched or not: won 2, lost 2, open 1.
    let all = influence.all_deals.unwrap();
    assert_eq!((all.deals, all.won, all.lost, all.open), (5, 2, 2, 1));
    assert_eq!(all.win_rate, "0.5000");
    assert_eq!(influence.min_closed, 3);

    // A rep sees their own deals only, and at the default sample no rate from two closed.
    let own = ravi.influence(0).await;
    let battlecard = own.articles[0].outcomes.as_ref().unwrap();
    assert_eq!(
        (battlecard.deals, battlecard.won, battlecard.lost),
        (3, 1, 1)
    );
    assert_eq!(battlecard.win_rate, "");
    assert_eq!(own.min_closed, 10);
}
