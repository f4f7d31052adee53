//! The query side of the search index: who searches, with which filters, and what they find —
//! BM25 over the word fields and, at a lower boost, the character grams, restricted to what
//! the searcher may read, one highlighted hit per article.

use tantivy::{
    Score, TantivyDocument, Term,
    collector::TopDocs,
    query::{BooleanQuery, BoostQuery, Occur, Query, QueryClone, TermQuery},
    schema::{Field, IndexRecordOption, Value},
    snippet::SnippetGenerator,
};
use uuid::Uuid;

use super::{Result, SearchIndex, tokenizers};
use crate::domain::article::{ArticleKind, Language, VersionStatus};

/// Who searches: their id, and whether they publish (managers and admins read every draft).
#[derive(Clone, Copy, Debug)]
pub struct Searcher {
    pub user_id: Uuid,
    pub publishes: bool,
}

/// What a search keeps: each given filter must hold.
#[derive(Clone, Debug, Default)]
pub struct SearchFilters {
    pub kind: Option<ArticleKind>,
    pub language: Option<Language>,
    pub tag: Option<String>,
    pub stage_id: Option<Uuid>,
    pub competitor_id: Option<Uuid>,
    pub product_code: Option<String>,
}

/// A search.
#[derive(Clone, Debug)]
pub struct SearchQuery {
    pub text: String,
    pub by: Searcher,
    pub filters: SearchFilters,
    pub limit: usize,
}

/// An article found, best first: the version found, highlighted.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub article_id: Uuid,
    pub version: u32,
    pub status: VersionStatus,
    pub kind: ArticleKind,
    pub language: Language,
    pub title: String,
    pub summary: String,
    pub score: f32,
    /// The title and a passage of the body with the matched terms in `<mark>`, the rest
    /// escaped: safe to show as HTML.
    pub title_html: String,
    pub snippet_html: String,
}

/// How much each field counts (BM25 scores multiplied): a match in the title weighs most, the
/// character grams least — they are there for what the words miss.
const TITLE_BOOST: Score = 3.0;
const KEYWORDS_BOOST: Score = 2.0;
const BODY_BOOST: Score = 1.0;
const TITLE_GRAMS_BOOST: Score = 0.6;
const BODY_GRAMS_BOOST: Score = 0.25;

/// Longest passage shown (characters).
const SNIPPET_CHARS: usize = 220;

impl SearchIndex {
    /// The articles matching `query` that its searcher reads, best first, one hit per article.
    pub fn search(&self, query: &SearchQuery) -> Result<Vec<Hit>> {
        let fields = self.fields;
        let mut terms: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut should = |field: Field, text: &str, boost: Score| {
            let term = TermQuery::new(
                Term::from_field_text(field, text),
                IndexRecordOption::WithFreqs,
            );
            terms.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(term), boost)),
            ));
        };
        for word in tokenizers::word_terms(&query.text) {
            should(fields.title, &word, TITLE_BOOST);
            should(fields.keywords, &word, KEYWORDS_BOOST);
            should(fields.body, &word, BODY_BOOST);
        }
        for gram in self.analyzer.query_grams(&query.text) {
            should(fields.title_grams, &gram, TITLE_GRAMS_BOOST);
            should(fields.body_grams, &gram, BODY_GRAMS_BOOST);
        }
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let matching: Box<dyn Query> = Box::new(BooleanQuery::new(terms));
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, matching.box_clone())];
        let exact = |field: Field, text: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, text),
                IndexRecordOption::Basic,
            ))
        };
        // Who reads what: published versions everyone; drafts and versions in review their
        // authors and the publishers (archived versions are not indexed, and an article's
        // marker has no words to match). Said as what a rep may not read — the drafts and
        // reviews of others, a short list — so the search never walks the long list of what
        // is published beside the words (an intersection with it cost more than the words).
        if !query.by.publishes {
            let others_unpublished: Vec<(Occur, Box<dyn Query>)> = vec![
                (
                    Occur::Should,
                    exact(fields.status, VersionStatus::Draft.as_str()),
                ),
                (
                    Occur::Should,
                    exact(fields.status, VersionStatus::InReview.as_str()),
                ),
                (
                    Occur::MustNot,
                    exact(fields.author, &query.by.user_id.to_string()),
                ),
            ];
            clauses.push((
                Occur::MustNot,
                Box::new(BooleanQuery::new(others_unpublished)),
            ));
        }
        if let Some(kind) = query.filters.kind {
            clauses.push((Occur::Must, exact(fields.kind, kind.as_str())));
        }
        if let Some(language) = query
            .filters
            .language
            .filter(|language| *language != Language::Both)
        {
            clauses.push((Occur::Must, exact(fields.languages, language.as_str())));
        }
        if let Some(tag) = &query.filters.tag {
            clauses.push((Occur::Must, exact(fields.tags, tag)));
        }
        if let Some(stage) = query.filters.stage_id {
            clauses.push((Occur::Must, exact(fields.stages, &stage.to_string())));
        }
        if let Some(competitor) = query.filters.competitor_id {
            clauses.push((
                Occur::Must,
                exact(fields.competitors, &competitor.to_string()),
            ));
        }
        if let Some(product) = &query.filters.product_code {
            clauses.push((Occur::Must, exact(fields.products, &product.to_lowercase())));
        }
        let filtered = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        // Twice the hits asked for: an author's draft and its published version are one hit.
        let limit = query.limit.max(1);
        let found = searcher.search(&filtered, &TopDocs::with_limit(limit * 2).order_by_score())?;
        let mut body_snippets = SnippetGenerator::create(&searcher, &*matching, fields.body)?;
        body_snippets.set_max_num_chars(SNIPPET_CHARS);
        let mut title_snippets = SnippetGenerator::create(&searcher, &*matching, fields.title)?;
        // Titles are shown whole (at most 200 characters, of up to four bytes).
        title_snippets.set_max_num_chars(1_000);
        let mut hits: Vec<Hit> = Vec::with_capacity(limit);
        for (score, address) in found {
            let document: TantivyDocument = searcher.doc(address)?;
            let Some(hit) = self.hit(&document, score, &title_snippets, &body_snippets) else {
                continue;
            };
            if hits.iter().any(|seen| seen.article_id == hit.article_id) {
                continue;
            }
            hits.push(hit);
            if hits.len() == limit {
                break;
            }
        }
        Ok(hits)
    }

    fn hit(
        &self,
        document: &TantivyDocument,
        score: Score,
        title_snippets: &SnippetGenerator,
        body_snippets: &SnippetGenerator,
    ) -> Option<Hit> {
        let fields = self.fields;
        let text = |field: Field| {
            document
                .get_first(field)
                .and_then(|value| value.as_str().map(str::to_owned))
        };
        let mark = |generator: &SnippetGenerator, fallback: &str| {
            let mut snippet = generator.snippet_from_doc(document);
            snippet.set_snippet_prefix_postfix("<mark>", "</mark>");
            if snippet.is_empty() {
                crm_platform::text::escape_html(fallback)
            } else {
                snippet.to_html()
            }
        };
        // A title is shown whole, its matches marked.
        let mark_whole = |generator: &SnippetGenerator, whole: &str| {
            let mut generator_text = generator.snippet(whole);
            generator_text.set_snippet_prefix_postfix("<mark>", "</mark>");
            let offset = generator_text.fragment_range().start;
            let mut html = String::with_capacity(whole.len() + 16);
            let mut at = 0;
            for range in generator_text.highlighted() {
                let (start, end) = (range.start + offset, range.end + offset);
                if start < at || end > whole.len() {
                    continue;
                }
                html.push_str(&crm_platform::text::escape_html(&whole[at..start]));
                html.push_str("<mark>");
                html.push_str(&crm_platform::text::escape_html(&whole[start..end]));
                html.push_str("</mark>");
                at = end;
            }
            html.push_str(&crm_platform::text::escape_html(&whole[at..]));
            html
        };
        let title = text(fields.title)?;
        let summary = text(fields.summary).unwrap_or_default();
        let body = text(fields.body).unwrap_or_default();
        let leading: String = body.chars().take(SNIPPET_CHARS).collect();
        Some(Hit {
            article_id: text(fields.article_id)?.parse().ok()?,
            version: u32::try_from(document.get_first(fields.version)?.as_u64()?).ok()?,
            status: VersionStatus::parse(&text(fields.status)?)?,
            kind: ArticleKind::parse(&text(fields.kind)?)?,
            language: Language::parse(&text(fields.language)?)?,
            score,
            title_html: mark_whole(title_snippets, &title),
            snippet_html: mark(body_snippets, &leading),
            title,
            summary,
        })
    }
}
