//! The knowledge base: the starter library (`crm_knowledge::starter`) — a playbook per stage of
//! Direct and the service pipeline, battlecards for the demo's competitors, objection handling,
//! product sheets and an onboarding course, in English and Chinese — written by Ravi and Nora
//! and published by Mei, each naming the stages and competitors it is about by their ids. An
//! article whose title is already in the base is left as it is, so a second run adds nothing.

use std::collections::HashMap;

use crm_knowledge::starter;
use crm_proto::crm::{
    common::v1::PageRequest,
    knowledge::v1::{
        CreateArticleRequest, ListArticlesRequest, ReviewAction, ReviewVersionRequest,
        article_service_client::ArticleServiceClient,
    },
    opportunities::v1::{
        ListCompetitorsRequest, ListPipelinesRequest,
        pipeline_service_client::PipelineServiceClient,
    },
};

use super::{ADA, Api, MEI, NORA, RAVI, failed};

/// The titles already in the base (every status), as Mei reads them.
async fn titles(api: &Api) -> anyhow::Result<Vec<String>> {
    let mut articles = ArticleServiceClient::new(api.channel());
    let mut titles = Vec::new();
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
        titles.extend(
            page.articles
                .into_iter()
                .filter_map(|article| article.version?.content.map(|content| content.title)),
        );
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
    let known = titles(api).await?;
    let mut articles = ArticleServiceClient::new(api.channel());
    for (position, article) in starter::articles().into_iter().enumerate() {
        if known.contains(&article.title) {
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
    }
    Ok(())
}
