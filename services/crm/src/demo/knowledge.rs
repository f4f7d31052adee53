//! The knowledge base: the starter library (`crm_knowledge::starter`) — a playbook per stage of
//! Direct and the service pipeline, battlecards for the demo's competitors, objection handling,
//! product sheets and an onboarding course, in English and Chinese — written by Ravi and Nora
//! and published by Mei, each naming the stages and competitors it is about by their ids. An
//! article whose title is already in the base is left as it is, so a second run adds nothing.
//!
//! Then Mei makes the onboarding course of the welcome, the console tour, discovery and the
//! Qualify playbook (once: by its title), which every rep the gateway later registers in the
//! "new" lifecycle stage is given at once; and Ravi, on the Contoso deal in Propose against
//! Globex, attaches the proposal playbook and the Globex battlecard (attaching is idempotent),
//! reads them for the deal and finds the battlecard helpful (once: a second run sees his vote)
//! — once the knowledge service has heard of the deal from the opportunities service's events.

use std::collections::HashMap;

use crm_knowledge::starter;
use crm_proto::crm::{
    common::v1::PageRequest,
    knowledge::v1::{
        AttachArticleRequest, CourseInput, CreateArticleRequest, CreateCourseRequest,
        GetArticleUsageRequest, ListArticlesRequest, ListCoursesRequest, RecordViewRequest,
        ReviewAction, ReviewVersionRequest, Vote, VoteHelpfulRequest,
        article_service_client::ArticleServiceClient,
        deal_content_service_client::DealContentServiceClient,
        training_service_client::TrainingServiceClient, usage_service_client::UsageServiceClient,
    },
    opportunities::v1::{
        ListCompetitorsRequest, ListPipelinesRequest,
        pipeline_service_client::PipelineServiceClient,
    },
};

use tonic::Code;
use uuid::Uuid;

use super::{
    ADA, Api, MEI, NORA, RAVI, failed,
    opportunities::{CONTOSO_LINE_3_ID, retry_while},
};

/// The onboarding course's title and its lessons (the starter library's keys), in order.
const ONBOARDING: &str = "Your first weeks at Northwind";
const ONBOARDING_LESSONS: [&str; 4] = [
    "onboarding-welcome-en",
    "onboarding-crm-zh",
    "discovery-training-en",
    "qualify-en",
];
/// What Ravi reads for the Contoso deal.
const CONTOSO_READING: [&str; 2] = ["propose-en", "globex-en"];

/// The articles already in the base (every status) by title, as Mei reads them: their ids.
async fn titles(api: &Api) -> anyhow::Result<HashMap<String, String>> {
    let mut articles = ArticleServiceClient::new(api.channel());
    let mut titles = HashMap::new();
    let mut page_token = String::new();
    loop {
        let page = articles
            .list_articles(api.as_member(
                &MEI,
                ListArticlesRequest {
                    page: Some(PageRequest {
                        page_size: 500,
                        page_token: page_token.clone(),
                    }),
                    ..Default::default()
                },
            ))
            .await
            .map_err(failed("articles"))?
            .into_inner();
        titles.extend(page.articles.into_iter().filter_map(|article| {
            let title = article.version?.content?.title;
            Some((title, article.article_id))
        }));
        page_token = page
            .page
            .map(|page| page.next_page_token)
            .unwrap_or_default();
        if page_token.is_empty() {
            return Ok(titles);
        }
    }
}

pub(super) async fn load(api: &Api) -> anyhow::Result<()> {
    let mut pipelines = PipelineServiceClient::new(api.channel());
    let stages: HashMap<String, String> = pipelines
        .list_pipelines(api.as_member(&ADA, ListPipelinesRequest {}))
        .await
        .map_err(failed("pipelines"))?
        .into_inner()
        .pipelines
        .into_iter()
        .flat_map(|pipeline| pipeline.stages)
        .map(|stage| (stage.name, stage.id))
        .collect();
    let competitors: HashMap<String, String> = pipelines
        .list_competitors(api.as_member(
            &ADA,
            ListCompetitorsRequest {
                include_retired: false,
            },
        ))
        .await
        .map_err(failed("competitors"))?
        .into_inner()
        .competitors
        .into_iter()
        .map(|competitor| (competitor.name, competitor.id))
        .collect();
    let mut known = titles(api).await?;
    let mut articles = ArticleServiceClient::new(api.channel());
    let library = starter::articles();
    for (position, article) in library.iter().enumerate() {
        if known.contains_key(&article.title) {
            continue;
        }
        let ids = |names: &[String], of: &HashMap<String, String>, what: &str| {
            names
                .iter()
                .map(|name| {
                    of.get(name).cloned().ok_or_else(|| {
                        anyhow::anyhow!("demo article {}: no {what} {name:?}", article.key)
                    })
                })
                .collect::<anyhow::Result<Vec<String>>>()
        };
        let content = article.content(
            ids(&article.stages, &stages, "stage")?,
            ids(&article.competitors, &competitors, "competitor")?,
        );
        let author = if position % 2 == 0 { &RAVI } else { &NORA };
        let draft = articles
            .create_article(api.as_member(
                author,
                CreateArticleRequest {
                    content: Some(content),
                },
            ))
            .await
            .map_err(failed(format!("article {}", article.key)))?
            .into_inner()
            .article
            .ok_or_else(|| anyhow::anyhow!("demo article {}: no article answered", article.key))?;
        articles
            .review_version(api.as_member(
                &MEI,
                ReviewVersionRequest {
                    article_id: draft.article_id.clone(),
                    version: 1,
                    action: ReviewAction::Publish as i32,
                    comment: String::new(),
                    revision: draft.revision,
                },
            ))
            .await
            .map_err(failed(format!("publishing article {}", article.key)))?;
        known.insert(article.title.clone(), draft.article_id);
    }
    let id_of = |key: &str| {
        library
            .iter()
            .find(|article| article.key == key)
            .and_then(|article| known.get(&article.title).cloned())
            .ok_or_else(|| anyhow::anyhow!("demo: the starter library has no article {key}"))
    };
    onboarding_course(api, &id_of).await?;
    contoso_reading(api, &id_of).await
}

async fn onboarding_course(
    api: &Api,
    id_of: &impl Fn(&str) -> anyhow::Result<String>,
) -> anyhow::Result<()> {
    let mut training = TrainingServiceClient::new(api.channel());
    let courses = training
        .list_courses(api.as_member(&MEI, ListCoursesRequest {}))
        .await
        .map_err(failed("courses"))?
        .into_inner()
        .courses;
    if courses.iter().any(|course| course.title == ONBOARDING) {
        return Ok(());
    }
    let article_ids = ONBOARDING_LESSONS
        .iter()
        .map(|key| id_of(key))
        .collect::<anyhow::Result<Vec<_>>>()?;
    training
        .create_course(
            api.as_member(
                &MEI,
                CreateCourseRequest {
                    course: Some(CourseInput {
                        title: ONBOARDING.into(),
                        description: "Who we sell to and how, the console, discovery calls and \
                                  qualifying a deal: read in your first two weeks."
                            .into(),
                        onboarding: true,
                        article_ids,
                    }),
                },
            ),
        )
        .await
        .map_err(failed("the onboarding course"))?;
    Ok(())
}

async fn contoso_reading(
    api: &Api,
    id_of: &impl Fn(&str) -> anyhow::Result<String>,
) -> anyhow::Result<()> {
    let deal_id = Uuid::from_u128(CONTOSO_LINE_3_ID).to_string();
    let deals = DealContentServiceClient::new(api.channel());
    let mut usage = UsageServiceClient::new(api.channel());
    // Ravi's vote is the reading's last step: once given, a second run adds no views.
    let battlecard = GetArticleUsageRequest {
        article_id: id_of("globex-en")?,
    };
    let read_before = usage
        .get_article_usage(api.as_member(&RAVI, battlecard))
        .await
        .map_err(failed("the battlecard's usage"))?
        .into_inner()
        .usage
        .is_some_and(|usage| usage.your_vote == Vote::Helpful as i32);
    if read_before {
        return Ok(());
    }
    for key in CONTOSO_READING {
        let article_id = id_of(key)?;
        let request = AttachArticleRequest {
            deal_id: deal_id.clone(),
            article_id: article_id.clone(),
        };
        // NOT_FOUND names the deal until its events have come.
        retry_while(
            &format!("attaching {key} to the Contoso deal"),
            |status| status.code() == Code::NotFound,
            || {
                let (mut deals, request) = (deals.clone(), request.clone());
                async move { deals.attach_article(api.as_member(&RAVI, request)).await }
            },
        )
        .await?;
        usage
            .record_view(api.as_member(
                &RAVI,
                RecordViewRequest {
                    article_id: article_id.clone(),
                    deal_id: deal_id.clone(),
                },
            ))
            .await
            .map_err(failed(format!("reading {key}")))?;
    }
    usage
        .vote_helpful(api.as_member(
            &RAVI,
            VoteHelpfulRequest {
                article_id: id_of("globex-en")?,
                vote: Vote::Helpful as i32,
            },
        ))
        .await
        .map_err(failed("the battlecard's vote"))?;
    Ok(())
}
