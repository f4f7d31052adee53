//! Articles (K1): what an article is (its kind, language, category, tags and what it is about:
//! pipeline stages, competitors, products, industries), the checks a version passes before it
//! is saved, and the review workflow every version goes through — authors write, managers and
//! admins publish — with who may read a version in each state. Every version is kept: a
//! published article is changed by a new version, never in place.

use crm_platform::{
    auth::Role,
    error::{FieldViolation, Violations},
};
use uuid::Uuid;

/// What an article is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ArticleKind {
    /// How to work a deal in a pipeline stage.
    Playbook,
    /// How to win against one competitor.
    Battlecard,
    ProductSheet,
    ObjectionHandling,
    Training,
}

impl ArticleKind {
    pub const ALL: [ArticleKind; 5] = [
        ArticleKind::Playbook,
        ArticleKind::Battlecard,
        ArticleKind::ProductSheet,
        ArticleKind::ObjectionHandling,
        ArticleKind::Training,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ArticleKind::Playbook => "playbook",
            ArticleKind::Battlecard => "battlecard",
            ArticleKind::ProductSheet => "product_sheet",
            ArticleKind::ObjectionHandling => "objection_handling",
            ArticleKind::Training => "training",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// The language an article is written in; `Both` holds each text in English and Chinese.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Language {
    En,
    Zh,
    Both,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Zh => "zh",
            Language::Both => "both",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Language::En, Language::Zh, Language::Both]
            .into_iter()
            .find(|language| language.as_str() == text)
    }

    /// Whether a reader asking for `wanted` is served by an article in this language.
    pub fn serves(self, wanted: Language) -> bool {
        self == Language::Both || wanted == Language::Both || self == wanted
    }
}

/// Where a version is in its review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VersionStatus {
    Draft,
    InReview,
    Published,
    Archived,
}

impl VersionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VersionStatus::Draft => "draft",
            VersionStatus::InReview => "in_review",
            VersionStatus::Published => "published",
            VersionStatus::Archived => "archived",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            VersionStatus::Draft,
            VersionStatus::InReview,
            VersionStatus::Published,
            VersionStatus::Archived,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// A step of the review.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewAction {
    /// The author asks for review.
    Submit,
    /// A manager or admin sends it back to its author.
    Reject,
    /// A manager or admin publishes it (from review, or a draft of their own team's directly).
    Publish,
    /// A manager or admin takes a published version out of use.
    Archive,
}

/// Who acts on a version: their role, and whether they wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    pub role: Role,
    pub is_author: bool,
}

impl Actor {
    /// Managers and admins publish.
    pub fn publishes(self) -> bool {
        matches!(self.role, Role::Manager | Role::Admin)
    }
}

/// Why a review step is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRefused {
    #[error("only managers and admins {0} an article")]
    NotAPublisher(&'static str),
    #[error("only the author submits their draft")]
    NotTheAuthor,
    #[error("a {} version cannot be {}", .from.as_str(), .action)]
    NotFrom {
        from: VersionStatus,
        action: &'static str,
    },
}

/// The status `action` moves a version in `from` to, if `actor` may take it.
pub fn review(
    from: VersionStatus,
    action: ReviewAction,
    actor: Actor,
) -> Result<VersionStatus, ReviewRefused> {
    use ReviewAction::*;
    use VersionStatus::*;
    let (allowed_from, to, verb): (&[VersionStatus], VersionStatus, &'static str) = match action {
        Submit => (&[Draft], InReview, "submitted"),
        Reject => (&[InReview], Draft, "sent back"),
        Publish => (&[Draft, InReview], Published, "published"),
        Archive => (&[Published], Archived, "archived"),
    };
    match action {
        Submit if !actor.is_author => return Err(ReviewRefused::NotTheAuthor),
        Reject if !actor.publishes() => return Err(ReviewRefused::NotAPublisher("send back")),
        Publish if !actor.publishes() => return Err(ReviewRefused::NotAPublisher("publish")),
        Archive if !actor.publishes() => return Err(ReviewRefused::NotAPublisher("archive")),
        _ => {}
    }
    if !allowed_from.contains(&from) {
        return Err(ReviewRefused::NotFrom { from, action: verb });
    }
    Ok(to)
}

/// Whether `actor` reads a version in `status`: a published one everyone; drafts, versions in
/// review and archived ones only their author and the publishers.
pub fn readable(status: VersionStatus, actor: Actor) -> bool {
    status == VersionStatus::Published || actor.is_author || actor.publishes()
}

/// One version's content, as an author writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArticleContent {
    pub title: String,
    pub summary: String,
    /// Markdown; rendered to sanitised HTML when shown.
    pub body: String,
    pub kind: ArticleKind,
    pub language: Language,
    pub category: String,
    pub tags: Vec<String>,
    /// What the article is about, for filters and recommendations.
    pub stage_ids: Vec<Uuid>,
    pub competitor_ids: Vec<Uuid>,
    pub product_codes: Vec<String>,
    pub industries: Vec<String>,
}

/// Limits of an article's texts (characters).
pub const TITLE_MAX: usize = 200;
pub const SUMMARY_MAX: usize = 1_000;
/// A body of 50,000 characters is some 8,000 English words: longer material is a course of
/// articles, not one page.
pub const BODY_MAX: usize = 50_000;
pub const TAG_MAX: usize = 50;
pub const TAGS_MAX: usize = 30;

/// A tag as it is kept: trimmed, lower case, inner white space as one `-`.
pub fn normalise_tag(tag: &str) -> String {
    tag.split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
        .to_lowercase()
}

impl ArticleContent {
    /// The content as it is kept: texts trimmed, tags normalised, sorted and without repeats,
    /// the lists sorted and without repeats.
    pub fn normalised(mut self) -> Self {
        self.title = self.title.trim().to_owned();
        self.summary = self.summary.trim().to_owned();
        self.category = self.category.trim().to_owned();
        let mut tags: Vec<String> = self
            .tags
            .iter()
            .map(|tag| normalise_tag(tag))
            .filter(|tag| !tag.is_empty())
            .collect();
        tags.sort();
        tags.dedup();
        self.tags = tags;
        for list in [&mut self.product_codes, &mut self.industries] {
            for item in list.iter_mut() {
                *item = item.trim().to_owned();
            }
            list.retain(|item| !item.is_empty());
            list.sort();
            list.dedup();
        }
        for ids in [&mut self.stage_ids, &mut self.competitor_ids] {
            ids.sort();
            ids.dedup();
        }
        self
    }

    /// Everything wrong with the content's form, each field named.
    pub fn check(&self) -> Result<(), Vec<FieldViolation>> {
        let mut violations = Violations::new();
        let length = |text: &str| text.chars().count();
        if self.title.trim().is_empty() {
            violations.add("title", "must not be empty");
        } else if length(&self.title) > TITLE_MAX {
            violations.add("title", format!("must be at most {TITLE_MAX} characters"));
        }
        if length(&self.summary) > SUMMARY_MAX {
            violations.add(
                "summary",
                format!("must be at most {SUMMARY_MAX} characters"),
            );
        }
        if self.body.trim().is_empty() {
            violations.add("body", "must not be empty");
        } else if length(&self.body) > BODY_MAX {
            violations.add("body", format!("must be at most {BODY_MAX} characters"));
        }
        if self.tags.len() > TAGS_MAX {
            violations.add("tags", format!("at most {TAGS_MAX} tags"));
        }
        for (index, tag) in self.tags.iter().enumerate() {
            if length(tag) > TAG_MAX {
                violations.add(
                    format!("tags[{index}]"),
                    format!("must be at most {TAG_MAX} characters"),
                );
            }
        }
        violations.into_result()
    }

    /// What the article's kind asks of it beyond its form: a battlecard names its competitor,
    /// a playbook its stages, a product sheet its products.
    pub fn check_kind(&self) -> Result<(), Vec<FieldViolation>> {
        let mut violations = Violations::new();
        match self.kind {
            ArticleKind::Battlecard if self.competitor_ids.is_empty() => violations.add(
                "competitor_ids",
                "a battlecard names the competitor it is about",
            ),
            ArticleKind::Playbook if self.stage_ids.is_empty() => violations.add(
                "stage_ids",
                "a playbook names the pipeline stages it is for",
            ),
            ArticleKind::ProductSheet if self.product_codes.is_empty() => {
                violations.add("product_codes", "a product sheet names its products")
            }
            _ => {}
        }
        violations.into_result()
    }
}

/// The number of an article's next version: one more than its highest (1 for a new article).
pub fn next_version(versions: &[u32]) -> u32 {
    versions.iter().max().map_or(1, |highest| highest + 1)
}

#[cfg(test)]
#[path = "article_tests.rs"]
mod tests;
