//! The starter library: a small, realistic knowledge base in English and Chinese — a playbook
//! per stage of the demo's pipelines, battlecards for its competitors, objection handling,
//! product sheets and an onboarding course — naming stages and competitors by name (the demo
//! resolves them to ids). The demo loads it; the judged query set (`content/
//! judged_queries.json`) is measured against it.

use serde::Deserialize;

use crate::domain::article::{ArticleKind, Language};

/// An article of the starter library.
#[derive(Clone, Debug, Deserialize)]
pub struct StarterArticle {
    /// A stable name the judged queries refer to.
    pub key: String,
    #[serde(deserialize_with = "kind")]
    pub kind: ArticleKind,
    #[serde(deserialize_with = "language")]
    pub language: Language,
    pub category: String,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub tags: Vec<String>,
    /// Pipeline stages by name.
    pub stages: Vec<String>,
    /// Competitors by name.
    pub competitors: Vec<String>,
    pub products: Vec<String>,
    pub industries: Vec<String>,
}

impl StarterArticle {
    /// The article as CreateArticle takes it, its stages and competitors by these ids.
    pub fn content(
        &self,
        stage_ids: Vec<String>,
        competitor_ids: Vec<String>,
    ) -> crm_proto::crm::knowledge::v1::ArticleContent {
        crm_proto::crm::knowledge::v1::ArticleContent {
            title: self.title.clone(),
            summary: self.summary.clone(),
            body: self.body.clone(),
            kind: crate::convert::kind_to_wire(self.kind) as i32,
            language: crate::convert::language_to_wire(self.language) as i32,
            category: self.category.clone(),
            tags: self.tags.clone(),
            stage_ids,
            competitor_ids,
            product_codes: self.products.clone(),
            industries: self.industries.clone(),
        }
    }
}

fn kind<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<ArticleKind, D::Error> {
    let text = String::deserialize(deserializer)?;
    ArticleKind::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("kind {text:?}")))
}

fn language<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Language, D::Error> {
    let text = String::deserialize(deserializer)?;
    Language::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("language {text:?}")))
}

/// A judged query: the article that must come first (`within` 1) or in the first three.
#[derive(Clone, Debug, Deserialize)]
pub struct JudgedQuery {
    pub query: String,
    pub expect: String,
    pub within: usize,
}

/// The starter library.
pub fn articles() -> Vec<StarterArticle> {
    serde_json::from_str(include_str!("../content/starter.json"))
        .expect("the starter library is valid JSON of articles")
}

/// The judged query set.
pub fn judged_queries() -> Vec<JudgedQuery> {
    serde_json::from_str(include_str!("../content/judged_queries.json"))
        .expect("the judged queries are valid JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_and_its_judged_queries_read() {
        let articles = articles();
        assert!(articles.len() >= 20);
        for query in judged_queries() {
            assert!(
                articles.iter().any(|article| article.key == query.expect),
                "{} expects an article the library lacks",
                query.query
            );
            assert!(matches!(query.within, 1 | 3));
        }
    }
}
