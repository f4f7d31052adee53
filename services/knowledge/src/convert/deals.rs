//! Deal content, usage and training ↔ wire.

use crm_platform::{text::LocalizableText, time::to_timestamp};
use crm_proto::crm::knowledge::v1 as pb;

use super::{kind_to_wire, language_to_wire};
use crate::{
    domain::{influence::Outcomes, recommend::Reason},
    service::{deals::Recommended, training::Enrollment, usage::Influence},
    store::{
        deals::{Attachment, KnownDeal},
        summaries::ArticleSummary,
        training::{Course, Source},
        usage::{ArticleInfluence, Usage},
    },
};

pub fn summary_to_wire(summary: &ArticleSummary) -> pb::ArticleSummary {
    pb::ArticleSummary {
        article_id: summary.article_id.to_string(),
        version: summary.version,
        kind: kind_to_wire(summary.kind).into(),
        language: language_to_wire(summary.language).into(),
        title: summary.title.clone(),
        summary: summary.summary.clone(),
        category: summary.category.clone(),
        tags: summary.tags.clone(),
    }
}

pub fn deal_to_wire(known: &KnownDeal) -> pb::DealContext {
    let deal = &known.deal;
    pb::DealContext {
        deal_id: deal.id.to_string(),
        deal_name: deal.name.clone(),
        account_id: deal.account_id.to_string(),
        stage_id: deal.stage_id.map(|id| id.to_string()).unwrap_or_default(),
        stage_name: deal.stage_name.clone(),
        competitor_ids: deal
            .competitor_ids
            .iter()
            .map(ToString::to_string)
            .collect(),
        competitor_names: deal.competitor_names.clone(),
        product_codes: deal.product_codes.clone(),
        industry: known.industry.clone(),
        status: deal.status.as_str().to_owned(),
        version: u64::try_from(deal.version).unwrap_or_default(),
    }
}

/// A reason with the names the deal gives its ids, and its text in English (codes in
/// docs/api.md).
fn reason_to_wire(known: &KnownDeal, reason: &Reason) -> pb::RecommendationReason {
    let points = reason.points();
    let mut wire = pb::RecommendationReason {
        points,
        ..Default::default()
    };
    let text = match reason {
        Reason::Stage { stage_id, playbook } => {
            wire.kind = pb::ReasonKind::Stage.into();
            wire.primary = *playbook;
            wire.stage_id = stage_id.to_string();
            wire.stage_name = known.deal.stage_name.clone();
            let (code, english) = if *playbook {
                (
                    "knowledge.recommend.stage_playbook",
                    "Playbook for the deal's stage",
                )
            } else {
                ("knowledge.recommend.stage", "About the deal's stage")
            };
            LocalizableText::new(code, format!("{english} {}", known.deal.stage_name))
                .param("stage", &known.deal.stage_name)
        }
        Reason::Competitor {
            competitor_id,
            battlecard,
        } => {
            wire.kind = pb::ReasonKind::Competitor.into();
            wire.primary = *battlecard;
            wire.competitor_id = competitor_id.to_string();
            wire.competitor_name = known
                .deal
                .competitor_ids
                .iter()
                .position(|id| id == competitor_id)
                .and_then(|at| known.deal.competitor_names.get(at))
                .cloned()
                .unwrap_or_default();
            let (code, english) = if *battlecard {
                (
                    "knowledge.recommend.competitor_battlecard",
                    "Battlecard against",
                )
            } else {
                ("knowledge.recommend.competitor", "About competitor")
            };
            LocalizableText::new(code, format!("{english} {}", wire.competitor_name))
                .param("competitor", &wire.competitor_name)
        }
        Reason::Product { code } => {
            wire.kind = pb::ReasonKind::Product.into();
            wire.product_code = code.clone();
            LocalizableText::new(
                "knowledge.recommend.product",
                format!("About the deal's product {code}"),
            )
            .param("product_code", code)
        }
        Reason::Industry { industry } => {
            wire.kind = pb::ReasonKind::Industry.into();
            wire.industry = industry.clone();
            LocalizableText::new(
                "knowledge.recommend.industry",
                format!("For the account's industry {industry}"),
            )
            .param("industry", industry)
        }
    };
    wire.text = Some(text.param("points", points).to_wire());
    wire
}

pub fn recommended_to_wire(known: &KnownDeal, recommended: &Recommended) -> pb::Recommendation {
    pb::Recommendation {
        article: Some(summary_to_wire(&recommended.article)),
        score: recommended.recommendation.score,
        reasons: recommended
            .recommendation
            .reasons
            .iter()
            .map(|reason| reason_to_wire(known, reason))
            .collect(),
        attached: recommended.attached,
    }
}

pub fn attachment_to_wire(attachment: &Attachment) -> pb::DealArticle {
    pb::DealArticle {
        deal_id: attachment.deal_id.to_string(),
        deal_name: attachment.deal_name.clone(),
        deal_status: attachment.deal_status.as_str().to_owned(),
        article: Some(summary_to_wire(&attachment.article)),
        attached_by: attachment.attached_by.to_string(),
        attached_at: Some(to_timestamp(attachment.attached_at)),
    }
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

pub fn usage_to_wire(article_id: uuid::Uuid, usage: &Usage) -> pb::ArticleUsage {
    pb::ArticleUsage {
        article_id: article_id.to_string(),
        views: count(usage.views),
        readers: count(usage.readers),
        helpful_votes: count(usage.helpful),
        not_helpful_votes: count(usage.not_helpful),
        your_vote: match usage.own_vote {
            None => pb::Vote::Unspecified,
            Some(true) => pb::Vote::Helpful,
            Some(false) => pb::Vote::NotHelpful,
        }
        .into(),
    }
}

fn outcomes_to_wire(outcomes: &Outcomes, min_closed: u32) -> pb::DealOutcomes {
    pb::DealOutcomes {
        deals: outcomes.deals(),
        won: outcomes.won,
        lost: outcomes.lost,
        open: outcomes.open,
        win_rate: outcomes
            .win_rate(min_closed)
            .map(|rate| format!("{rate:.4}"))
            .unwrap_or_default(),
    }
}

fn article_influence_to_wire(
    influence: &ArticleInfluence,
    min_closed: u32,
) -> pb::ArticleInfluence {
    pb::ArticleInfluence {
        article: Some(summary_to_wire(&influence.article)),
        outcomes: Some(outcomes_to_wire(&influence.outcomes, min_closed)),
        views: count(influence.views),
        helpful_votes: count(influence.helpful),
        not_helpful_votes: count(influence.not_helpful),
    }
}

pub fn influence_to_wire(
    influence: &Influence,
    min_closed: u32,
) -> pb::GetContentInfluenceResponse {
    pb::GetContentInfluenceResponse {
        articles: influence
            .articles
            .iter()
            .map(|article| article_influence_to_wire(article, min_closed))
            .collect(),
        kinds: influence
            .kinds
            .iter()
            .map(|(kind, outcomes)| pb::KindInfluence {
                kind: kind_to_wire(*kind).into(),
                outcomes: Some(outcomes_to_wire(outcomes, min_closed)),
            })
            .collect(),
        all_deals: Some(outcomes_to_wire(&influence.all_deals, min_closed)),
        min_closed,
    }
}

pub fn course_to_wire(course: &Course) -> pb::Course {
    pb::Course {
        course_id: course.record.id.to_string(),
        title: course.record.title.clone(),
        description: course.record.description.clone(),
        onboarding: course.record.onboarding,
        lessons: course
            .lessons
            .iter()
            .enumerate()
            .map(|(index, article)| pb::Lesson {
                position: index as u32 + 1,
                article: Some(summary_to_wire(article)),
            })
            .collect(),
        created_by: course.record.created_by.to_string(),
        created_at: Some(to_timestamp(course.record.created_at)),
    }
}

/// An enrolment; `lessons` lesson by lesson (a person's own view) or not (a team's).
pub fn enrollment_to_wire(enrollment: &Enrollment, lessons: bool) -> pb::Enrollment {
    let record = &enrollment.record;
    let progress = enrollment.progress();
    let (source, assigned_by) = match record.source {
        Source::Onboarding => (pb::AssignmentSource::Onboarding, String::new()),
        Source::Manager(by) => (pb::AssignmentSource::Manager, by.to_string()),
    };
    pb::Enrollment {
        course_id: record.course_id.to_string(),
        course_title: enrollment.course.record.title.clone(),
        onboarding: enrollment.course.record.onboarding,
        user_id: record.user_id.to_string(),
        display_name: record.display_name.clone(),
        team_path: record.team_path.clone(),
        source: source.into(),
        assigned_by,
        assigned_at: Some(to_timestamp(record.assigned_at)),
        completed_lessons: progress.completed,
        total_lessons: progress.total,
        percent: progress.percent(),
        completed_at: record.completed_at.map(to_timestamp),
        lessons: if lessons {
            record
                .completions
                .iter()
                .enumerate()
                .map(|(index, (article_id, completed_at))| pb::LessonProgress {
                    position: index as u32 + 1,
                    article_id: article_id.to_string(),
                    title: enrollment
                        .course
                        .lessons
                        .iter()
                        .find(|lesson| lesson.article_id == *article_id)
                        .map(|lesson| lesson.title.clone())
                        .unwrap_or_default(),
                    completed_at: completed_at.map(to_timestamp),
                })
                .collect()
        } else {
            Vec::new()
        },
    }
}
