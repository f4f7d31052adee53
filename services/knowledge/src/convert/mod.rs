//! Domain ↔ wire: the API's and the events' messages, one mapping for both.

pub mod deals;

use crm_platform::{error::Violations, ids::parse_ids, time::to_timestamp};
use crm_proto::crm::knowledge::v1 as pb;

use crate::{
    domain::{
        article::{ArticleContent, ArticleKind, Language, ReviewAction, VersionStatus},
        diff::{LineChange, VersionDiff},
        render,
        version::{Version, VersionEntry},
    },
    search::index::IndexedArticle,
    service::ShownArticle,
    store::articles::ArticleHead,
};

pub fn kind_to_wire(kind: ArticleKind) -> pb::ArticleKind {
    match kind {
        ArticleKind::Playbook => pb::ArticleKind::Playbook,
        ArticleKind::Battlecard => pb::ArticleKind::Battlecard,
        ArticleKind::ProductSheet => pb::ArticleKind::ProductSheet,
        ArticleKind::ObjectionHandling => pb::ArticleKind::ObjectionHandling,
        ArticleKind::Training => pb::ArticleKind::Training,
    }
}

/// The kind a request names; `None` for UNSPECIFIED or a number no kind has.
pub fn kind_from_wire(value: i32) -> Option<ArticleKind> {
    Some(match pb::ArticleKind::try_from(value).ok()? {
        pb::ArticleKind::Unspecified => return None,
        pb::ArticleKind::Playbook => ArticleKind::Playbook,
        pb::ArticleKind::Battlecard => ArticleKind::Battlecard,
        pb::ArticleKind::ProductSheet => ArticleKind::ProductSheet,
        pb::ArticleKind::ObjectionHandling => ArticleKind::ObjectionHandling,
        pb::ArticleKind::Training => ArticleKind::Training,
    })
}

pub fn language_to_wire(language: Language) -> pb::Language {
    match language {
        Language::En => pb::Language::En,
        Language::Zh => pb::Language::Zh,
        Language::Both => pb::Language::Both,
    }
}

pub fn language_from_wire(value: i32) -> Option<Language> {
    Some(match pb::Language::try_from(value).ok()? {
        pb::Language::Unspecified => return None,
        pb::Language::En => Language::En,
        pb::Language::Zh => Language::Zh,
        pb::Language::Both => Language::Both,
    })
}

pub fn status_to_wire(status: VersionStatus) -> pb::VersionStatus {
    match status {
        VersionStatus::Draft => pb::VersionStatus::Draft,
        VersionStatus::InReview => pb::VersionStatus::InReview,
        VersionStatus::Published => pb::VersionStatus::Published,
        VersionStatus::Archived => pb::VersionStatus::Archived,
    }
}

pub fn status_from_wire(value: i32) -> Option<VersionStatus> {
    Some(match pb::VersionStatus::try_from(value).ok()? {
        pb::VersionStatus::Unspecified => return None,
        pb::VersionStatus::Draft => VersionStatus::Draft,
        pb::VersionStatus::InReview => VersionStatus::InReview,
        pb::VersionStatus::Published => VersionStatus::Published,
        pb::VersionStatus::Archived => VersionStatus::Archived,
    })
}

pub fn action_from_wire(value: i32) -> Option<ReviewAction> {
    Some(match pb::ReviewAction::try_from(value).ok()? {
        pb::ReviewAction::Unspecified => return None,
        pb::ReviewAction::Submit => ReviewAction::Submit,
        pb::ReviewAction::Reject => ReviewAction::Reject,
        pb::ReviewAction::Publish => ReviewAction::Publish,
        pb::ReviewAction::Archive => ReviewAction::Archive,
    })
}

/// A request's content in the domain's form, every broken field named under `field`; the
/// texts' own rules are the domain's ([`ArticleContent::check`]).
pub fn content_from_wire(
    violations: &mut Violations,
    field: &str,
    content: Option<&pb::ArticleContent>,
) -> Option<ArticleContent> {
    let Some(content) = content else {
        violations.add(field, "is required");
        return None;
    };
    let kind = kind_from_wire(content.kind);
    if kind.is_none() {
        violations.add(format!("{field}.kind"), "must be a kind of article");
    }
    let language = language_from_wire(content.language);
    if language.is_none() {
        violations.add(format!("{field}.language"), "must be en, zh or both");
    }
    let stage_ids = violations.take(parse_ids(&format!("{field}.stage_ids"), &content.stage_ids));
    let competitor_ids = violations.take(parse_ids(
        &format!("{field}.competitor_ids"),
        &content.competitor_ids,
    ));
    Some(ArticleContent {
        title: content.title.clone(),
        summary: content.summary.clone(),
        body: content.body.clone(),
        kind: kind?,
        language: language?,
        category: content.category.clone(),
        tags: content.tags.clone(),
        stage_ids: stage_ids?,
        competitor_ids: competitor_ids?,
        product_codes: content.product_codes.clone(),
        industries: content.industries.clone(),
    })
}

pub fn content_to_wire(content: &ArticleContent) -> pb::ArticleContent {
    pb::ArticleContent {
        title: content.title.clone(),
        summary: content.summary.clone(),
        body: content.body.clone(),
        kind: kind_to_wire(content.kind) as i32,
        language: language_to_wire(content.language) as i32,
        category: content.category.clone(),
        tags: content.tags.clone(),
        stage_ids: content.stage_ids.iter().map(ToString::to_string).collect(),
        competitor_ids: content
            .competitor_ids
            .iter()
            .map(ToString::to_string)
            .collect(),
        product_codes: content.product_codes.clone(),
        industries: content.industries.clone(),
    }
}

/// How much of a version a message carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// The Markdown and its rendered HTML: the article page.
    Rendered,
    /// The Markdown only: the events.
    Markdown,
    /// The Markdown without its rendering: lists.
    Left,
}

pub fn version_to_wire(version: &Version, body: Body) -> pb::ArticleVersion {
    let content = content_to_wire(&version.content);
    let body_html = match body {
        Body::Rendered => render::to_html(&version.content.body),
        Body::Markdown => String::new(),
        Body::Left => String::new(),
    };
    pb::ArticleVersion {
        version: version.number,
        status: status_to_wire(version.status) as i32,
        content: Some(content),
        body_html,
        author_id: version.author_id.to_string(),
        created_at: Some(to_timestamp(version.created_at)),
        updated_at: Some(to_timestamp(version.updated_at)),
        published_at: version.published_at.map(to_timestamp),
        published_by: version
            .published_by
            .map(|user| user.to_string())
            .unwrap_or_default(),
        review_comment: version.review_comment.clone(),
    }
}

fn entry_to_wire(entry: &VersionEntry) -> pb::VersionEntry {
    pb::VersionEntry {
        version: entry.number,
        status: status_to_wire(entry.status) as i32,
        title: entry.title.clone(),
        author_id: entry.author_id.to_string(),
        updated_at: Some(to_timestamp(entry.updated_at)),
        published_at: entry.published_at.map(to_timestamp),
    }
}

fn head_to_wire(head: &ArticleHead, version: pb::ArticleVersion) -> pb::Article {
    pb::Article {
        article_id: head.id.to_string(),
        revision: head.revision as u64,
        published_version: head.published_version.unwrap_or(0),
        latest_version: head.latest_version,
        version: Some(version),
        history: Vec::new(),
        created_at: Some(to_timestamp(head.created_at)),
        updated_at: Some(to_timestamp(head.updated_at)),
    }
}

/// The article page's article: the shown version rendered, and the history.
pub fn article_to_wire(article: &ShownArticle) -> pb::Article {
    pb::Article {
        history: article.history.iter().map(entry_to_wire).collect(),
        ..head_to_wire(
            &article.head,
            version_to_wire(&article.version, Body::Rendered),
        )
    }
}

/// A listed article: its version without the body, no history.
pub fn listed_to_wire(head: &ArticleHead, version: &Version) -> pb::Article {
    head_to_wire(head, version_to_wire(version, Body::Left))
}

/// The versions in use, as the events carry them.
pub fn snapshot(head: &ArticleHead, live: &[Version]) -> pb::ArticleSnapshot {
    pb::ArticleSnapshot {
        article_id: head.id.to_string(),
        revision: head.revision as u64,
        versions: live
            .iter()
            .map(|version| version_to_wire(version, Body::Markdown))
            .collect(),
        created_at: Some(to_timestamp(head.created_at)),
    }
}

/// The articles' events' snapshot in the domain's form, for the search index. The producer
/// checked it when it was written, so a field that does not read is a malformed event.
pub fn indexed_from_snapshot(snapshot: &pb::ArticleSnapshot) -> Result<IndexedArticle, String> {
    let id = snapshot
        .article_id
        .parse()
        .map_err(|_| format!("article_id {:?} is not an id", snapshot.article_id))?;
    let versions = snapshot
        .versions
        .iter()
        .map(version_from_wire)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(IndexedArticle {
        id,
        revision: i64::try_from(snapshot.revision).map_err(|_| "revision out of range")?,
        versions,
    })
}

fn version_from_wire(version: &pb::ArticleVersion) -> Result<Version, String> {
    let mut violations = Violations::new();
    let content = content_from_wire(&mut violations, "content", version.content.as_ref());
    let content = content.ok_or_else(|| {
        format!(
            "version {}: {:?}",
            version.version,
            violations.into_result()
        )
    })?;
    let time = |timestamp: Option<&prost_types::Timestamp>| {
        timestamp
            .and_then(crm_platform::time::from_timestamp)
            .ok_or_else(|| format!("version {} has no valid times", version.version))
    };
    let user = |text: &str| text.parse::<uuid::Uuid>().ok();
    Ok(Version {
        number: version.version,
        status: status_from_wire(version.status)
            .ok_or_else(|| format!("version {} has no status", version.version))?,
        content,
        author_id: user(&version.author_id)
            .ok_or_else(|| format!("version {} has no author", version.version))?,
        created_at: time(version.created_at.as_ref())?,
        updated_at: time(version.updated_at.as_ref())?,
        published_at: version
            .published_at
            .as_ref()
            .and_then(crm_platform::time::from_timestamp),
        published_by: user(&version.published_by),
        review_comment: version.review_comment.clone(),
    })
}

pub fn diff_to_wire(from: u32, to: u32, diff: &VersionDiff) -> pb::DiffVersionsResponse {
    pb::DiffVersionsResponse {
        from_version: from,
        to_version: to,
        fields: diff
            .fields
            .iter()
            .map(|change| pb::FieldChange {
                field: change.field.to_owned(),
                from: change.from.clone(),
                to: change.to.clone(),
            })
            .collect(),
        body: diff
            .body
            .iter()
            .map(|hunk| pb::DiffHunk {
                lines: hunk
                    .iter()
                    .map(|line| pb::DiffLine {
                        change: match line.change {
                            LineChange::Same => pb::diff_line::Change::Same,
                            LineChange::Removed => pb::diff_line::Change::Removed,
                            LineChange::Added => pb::diff_line::Change::Added,
                        } as i32,
                        text: line.text.clone(),
                        from_line: line.from_line.unwrap_or(0) as u32,
                        to_line: line.to_line.unwrap_or(0) as u32,
                    })
                    .collect(),
            })
            .collect(),
    }
}
