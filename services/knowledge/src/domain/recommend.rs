//! "What should I read for this deal" (K3): each published article scored by what it shares
//! with the deal — the deal's stage (a playbook for it counts most), its competitors (a
//! battlecard against one), its products and its industry — every point with the reason it was
//! given, so the rep sees why an article is there. Articles sharing nothing are not
//! recommended. Pure: the deal's context and the articles' links in, the ranking out.

use uuid::Uuid;

use super::article::ArticleKind;

/// What the recommendation knows of a deal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DealContext {
    pub stage_id: Option<Uuid>,
    pub competitor_ids: Vec<Uuid>,
    pub product_codes: Vec<String>,
    pub industry: Option<String>,
}

/// What an article is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArticleLinks {
    pub article_id: Uuid,
    pub kind: ArticleKind,
    pub stage_ids: Vec<Uuid>,
    pub competitor_ids: Vec<Uuid>,
    pub product_codes: Vec<String>,
    pub industries: Vec<String>,
}

/// Why an article is recommended: each is worth its points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// A playbook (or other article) for the deal's stage.
    Stage { stage_id: Uuid, playbook: bool },
    /// About a competitor on the deal (a battlecard counts more).
    Competitor {
        competitor_id: Uuid,
        battlecard: bool,
    },
    /// About one of the deal's products.
    Product { code: String },
    /// For the deal's account's industry.
    Industry { industry: String },
}

impl Reason {
    /// The points a reason gives: the stage's playbook and a battlecard against a competitor
    /// on the deal are what a rep needs most, then a product sheet, then the industry.
    pub fn points(&self) -> u32 {
        match self {
            Reason::Stage { playbook: true, .. } => 40,
            Reason::Stage {
                playbook: false, ..
            } => 15,
            Reason::Competitor {
                battlecard: true, ..
            } => 40,
            Reason::Competitor {
                battlecard: false, ..
            } => 20,
            Reason::Product { .. } => 15,
            Reason::Industry { .. } => 5,
        }
    }
}

/// An article recommended for a deal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recommendation {
    pub article_id: Uuid,
    pub score: u32,
    pub reasons: Vec<Reason>,
}

fn same_text(left: &str, right: &str) -> bool {
    left.trim().eq_ignore_ascii_case(right.trim())
}

/// Why `article` fits `deal` (empty: it does not).
pub fn reasons(deal: &DealContext, article: &ArticleLinks) -> Vec<Reason> {
    let mut reasons = Vec::new();
    if let Some(stage_id) = deal.stage_id
        && article.stage_ids.contains(&stage_id)
    {
        reasons.push(Reason::Stage {
            stage_id,
            playbook: article.kind == ArticleKind::Playbook,
        });
    }
    for &competitor_id in &deal.competitor_ids {
        if article.competitor_ids.contains(&competitor_id) {
            reasons.push(Reason::Competitor {
                competitor_id,
                battlecard: article.kind == ArticleKind::Battlecard,
            });
        }
    }
    for code in &deal.product_codes {
        if article.product_codes.iter().any(|own| same_text(own, code)) {
            reasons.push(Reason::Product { code: code.clone() });
        }
    }
    if let Some(industry) = &deal.industry
        && article
            .industries
            .iter()
            .any(|own| same_text(own, industry))
    {
        reasons.push(Reason::Industry {
            industry: industry.clone(),
        });
    }
    reasons
}

/// The articles that fit the deal, best first (highest score, then the most reasons, then by
/// id so equal ones keep one order), at most `limit`.
pub fn recommend(
    deal: &DealContext,
    articles: &[ArticleLinks],
    limit: usize,
) -> Vec<Recommendation> {
    let mut ranked: Vec<Recommendation> = articles
        .iter()
        .filter_map(|article| {
            let reasons = reasons(deal, article);
            (!reasons.is_empty()).then(|| Recommendation {
                article_id: article.article_id,
                score: reasons.iter().map(Reason::points).sum(),
                reasons,
            })
        })
        .collect();
    ranked.sort_by(|left, right| {
        right
            .score
            .cmp(&left.score)
            .then(right.reasons.len().cmp(&left.reasons.len()))
            .then(left.article_id.cmp(&right.article_id))
    });
    ranked.truncate(limit);
    ranked
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const PROPOSE: Uuid = Uuid::from_u128(0x5a4);
    const QUALIFY: Uuid = Uuid::from_u128(0x5a1);
    const GLOBEX: Uuid = Uuid::from_u128(0xc1);
    const INITECH: Uuid = Uuid::from_u128(0xc2);

    fn article(id: u128, kind: ArticleKind) -> ArticleLinks {
        ArticleLinks {
            article_id: Uuid::from_u128(id),
            kind,
            stage_ids: vec![],
            competitor_ids: vec![],
            product_codes: vec![],
            industries: vec![],
        }
    }

    fn contoso() -> DealContext {
        DealContext {
            stage_id: Some(PROPOSE),
            competitor_ids: vec![GLOBEX],
            product_codes: vec!["LINE3-ROBOT".into()],
            industry: Some("Manufacturing".into()),
        }
    }

    #[test]
    fn the_stage_s_playbook_and_the_competitor_s_battlecard_come_first_with_their_reasons() {
        let playbook = ArticleLinks {
            stage_ids: vec![PROPOSE],
            industries: vec!["manufacturing".into()],
            ..article(1, ArticleKind::Playbook)
        };
        let battlecard = ArticleLinks {
            competitor_ids: vec![GLOBEX],
            stage_ids: vec![PROPOSE],
            product_codes: vec!["line3-robot".into()],
            ..article(2, ArticleKind::Battlecard)
        };
        let other_stage = ArticleLinks {
            stage_ids: vec![QUALIFY],
            ..article(3, ArticleKind::Playbook)
        };
        let other_competitor = ArticleLinks {
            competitor_ids: vec![INITECH],
            ..article(4, ArticleKind::Battlecard)
        };
        let sheet = ArticleLinks {
            product_codes: vec!["LINE3-ROBOT".into()],
            ..article(5, ArticleKind::ProductSheet)
        };
        let ranked = recommend(
            &contoso(),
            &[playbook, battlecard, other_stage, other_competitor, sheet],
            10,
        );
        // Battlecard: 15 (stage, not a playbook) + 40 (battlecard) + 15 (product) = 70;
        // playbook: 40 + 5 (industry) = 45; product sheet: 15.
        let scores: Vec<(u128, u32)> = ranked
            .iter()
            .map(|recommendation| (recommendation.article_id.as_u128(), recommendation.score))
            .collect();
        assert_eq!(scores, [(2, 70), (1, 45), (5, 15)]);
        assert_eq!(
            ranked[0].reasons,
            [
                Reason::Stage {
                    stage_id: PROPOSE,
                    playbook: false
                },
                Reason::Competitor {
                    competitor_id: GLOBEX,
                    battlecard: true
                },
                Reason::Product {
                    code: "LINE3-ROBOT".into()
                },
            ]
        );
    }

    #[test]
    fn a_deal_with_no_context_gets_nothing() {
        let playbook = ArticleLinks {
            stage_ids: vec![PROPOSE],
            ..article(1, ArticleKind::Playbook)
        };
        assert!(recommend(&DealContext::default(), &[playbook], 10).is_empty());
    }

    proptest! {
        /// The score is the sum of the reasons' points, every recommendation has a reason,
        /// the order is by score, and the limit holds.
        #[test]
        fn rankings_add_up_and_are_ordered(
            links in proptest::collection::vec((0u8..5, any::<bool>(), any::<bool>(), any::<bool>()), 0..30),
            limit in 0usize..10,
        ) {
            let articles: Vec<ArticleLinks> = links
                .iter()
                .enumerate()
                .map(|(index, (kind, stage, competitor, product))| ArticleLinks {
                    stage_ids: if *stage { vec![PROPOSE] } else { vec![QUALIFY] },
                    competitor_ids: if *competitor { vec![GLOBEX] } else { vec![] },
                    product_codes: if *product { vec!["LINE3-ROBOT".into()] } else { vec![] },
                    ..article(index as u128, ArticleKind::ALL[*kind as usize])
                })
                .collect();
            let ranked = recommend(&contoso(), &articles, limit);
            prop_assert!(ranked.len() <= limit);
            for recommendation in &ranked {
                prop_assert!(!recommendation.reasons.is_empty());
                prop_assert_eq!(
                    recommendation.score,
                    recommendation.reasons.iter().map(Reason::points).sum::<u32>()
                );
            }
            prop_assert!(ranked.windows(2).all(|pair| pair[0].score >= pair[1].score));
        }
    }
}
