//! The campaign funnel and ROI (L7): which deals count for a campaign, and the figures its report
//! shows — leads → qualified → converted → won with the rate of each step, the open, won and lost
//! deals with their corporate amounts in the currency of the campaign's cost, cost per lead and
//! ROI. The deals are the opportunities service's, as its events last described them.

use crm_platform::{
    money::{CurrencyCode, Money, round_commercial},
    text::LocalizableText,
};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{
    campaign::Campaign,
    campaign_deal::{DealCandidate, DealStatus},
};

/// Codes of the texts that say why a campaign's ROI is not given (docs/api.md, "Text codes").
pub mod text_codes {
    /// "the campaign cost nothing: ROI is not defined". No parameters.
    pub const NO_COST: &str = "leads.campaign_roi.no_cost";
    /// "{count} won deals have no corporate amount in {currency}, the currency of the campaign's
    /// cost". `count`; `currency` (the cost's, "CNY").
    pub const WON_DEALS_UNPRICED: &str = "leads.campaign_roi.won_deals_unpriced";
}

/// Places ROI and the step rates are given to.
const RATIO_PLACES: u32 = 4;

/// The campaign's leads by how far they got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeadCounts {
    pub leads: u64,
    /// Qualified now or converted.
    pub qualified: u64,
    pub converted: u64,
}

/// Deals of one status attributed to a campaign, with their corporate amounts in the currency
/// of its cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DealTotal {
    pub count: u64,
    /// The sum over the deals whose corporate amount is in the cost's currency.
    pub amount: Money,
    /// Deals left out of `amount`: no corporate amount, or one in another currency.
    pub unpriced: u64,
}

impl DealTotal {
    fn zero(currency: CurrencyCode) -> Self {
        DealTotal {
            count: 0,
            amount: Money::zero(currency),
            unpriced: 0,
        }
    }

    fn add(&mut self, corporate_amount: Option<&Money>) {
        self.count += 1;
        match corporate_amount {
            Some(money) if money.currency == self.amount.currency => {
                self.amount.amount += money.amount;
            }
            _ => self.unpriced += 1,
        }
    }
}

/// The deals attributed to a campaign, by status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DealFigures {
    pub open: DealTotal,
    pub won: DealTotal,
    pub lost: DealTotal,
}

/// Tallies the candidates that count for `campaign_id` ([`attributed_campaign`]); others are
/// skipped, so the caller may pass any superset.
pub fn deal_figures(
    campaign_id: Uuid,
    cost_currency: CurrencyCode,
    candidates: &[DealCandidate],
) -> DealFigures {
    let mut figures = DealFigures {
        open: DealTotal::zero(cost_currency),
        won: DealTotal::zero(cost_currency),
        lost: DealTotal::zero(cost_currency),
    };
    for candidate in candidates {
        if candidate.campaign() != Some(campaign_id) {
            continue;
        }
        let total = match candidate.deal.status {
            DealStatus::Open => &mut figures.open,
            DealStatus::Won => &mut figures.won,
            DealStatus::Lost => &mut figures.lost,
            DealStatus::Archived => continue,
        };
        total.add(candidate.deal.corporate_amount.as_ref());
    }
    figures
}

/// The rate of a funnel step, `later / earlier`, rounded half away from zero to 4 places;
/// `None` when nothing reached the earlier step.
pub fn step_rate(earlier: u64, later: u64) -> Option<Decimal> {
    (earlier > 0).then(|| ratio(Decimal::from(later), Decimal::from(earlier)))
}

fn ratio(numerator: Decimal, denominator: Decimal) -> Decimal {
    round_commercial(numerator / denominator, RATIO_PLACES)
}

/// Cost / leads, rounded half away from zero to the currency's minor unit; `None` with no leads.
pub fn cost_per_lead(cost: &Money, leads: u64) -> Option<Money> {
    (leads > 0).then(|| Money {
        currency: cost.currency,
        amount: round_commercial(
            cost.amount / Decimal::from(leads),
            cost.currency.minor_units(),
        ),
    })
}

/// (won revenue − cost) / cost, rounded half away from zero to 4 places; or why it cannot be
/// given: a campaign that cost nothing has no ROI, and revenue that leaves out won deals (no
/// corporate amount in the cost's currency) would give a wrong one — rather none, said why.
pub fn roi(cost: &Money, won: &DealTotal) -> Result<Decimal, LocalizableText> {
    if cost.amount <= Decimal::ZERO {
        return Err(LocalizableText::new(
            text_codes::NO_COST,
            "the campaign cost nothing: ROI is not defined",
        ));
    }
    if won.unpriced > 0 {
        return Err(LocalizableText::new(
            text_codes::WON_DEALS_UNPRICED,
            format!(
                "{} won deals have no corporate amount in {}, the currency of the campaign's cost",
                won.unpriced, cost.currency
            ),
        )
        .param("count", won.unpriced)
        .param("currency", cost.currency));
    }
    Ok(ratio(won.amount.amount - cost.amount, cost.amount))
}

/// Everything the campaign's report shows.
#[derive(Clone, Debug, PartialEq)]
pub struct CampaignFunnel {
    pub campaign: Campaign,
    pub leads: LeadCounts,
    pub deals: DealFigures,
    pub lead_to_qualified_rate: Option<Decimal>,
    pub qualified_to_converted_rate: Option<Decimal>,
    /// Won deals against converted leads.
    pub converted_to_won_rate: Option<Decimal>,
    pub cost_per_lead: Option<Money>,
    pub roi: Result<Decimal, LocalizableText>,
}

impl CampaignFunnel {
    /// The report of `campaign` from its lead counts and any superset of its deals.
    pub fn of(campaign: Campaign, leads: LeadCounts, candidates: &[DealCandidate]) -> Self {
        let deals = deal_figures(campaign.id, campaign.cost.currency, candidates);
        CampaignFunnel {
            lead_to_qualified_rate: step_rate(leads.leads, leads.qualified),
            qualified_to_converted_rate: step_rate(leads.qualified, leads.converted),
            converted_to_won_rate: step_rate(leads.converted, deals.won.count),
            cost_per_lead: cost_per_lead(&campaign.cost, leads.leads),
            roi: roi(&campaign.cost, &deals.won),
            campaign,
            leads,
            deals,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use proptest::prelude::*;

    use super::*;
    use crate::domain::campaign_deal::CampaignDeal;

    fn money(currency: &str, amount: &str) -> Money {
        Money {
            currency: currency.parse().unwrap(),
            amount: amount.parse().unwrap(),
        }
    }

    fn cny(amount: &str) -> Money {
        money("CNY", amount)
    }

    fn deal(status: DealStatus, corporate: Option<Money>) -> CampaignDeal {
        CampaignDeal {
            opportunity_id: Uuid::now_v7(),
            campaign_id: None,
            source_lead_id: None,
            status,
            corporate_amount: corporate,
            amount: corporate,
            closed_on: None,
            version: 1,
        }
    }

    /// A deal naming `campaign`, from a lead of `lead_campaign`.
    fn candidate(
        status: DealStatus,
        corporate: Option<Money>,
        campaign: Option<Uuid>,
        lead_campaign: Option<Uuid>,
    ) -> DealCandidate {
        DealCandidate {
            deal: CampaignDeal {
                campaign_id: campaign,
                source_lead_id: lead_campaign.map(|_| Uuid::now_v7()),
                ..deal(status, corporate)
            },
            source_lead_campaign_id: lead_campaign,
        }
    }

    fn campaign(cost: Money) -> Campaign {
        Campaign::new("Spring Expo", None, cost, None, None, Utc::now()).unwrap()
    }

    #[test]
    fn a_step_rate_is_later_over_earlier_to_four_places_half_away_from_zero() {
        assert_eq!(step_rate(8, 6), Some("0.75".parse().unwrap()));
        // 5/6 = 0.83333…
        assert_eq!(step_rate(6, 5), Some("0.8333".parse().unwrap()));
        // 2/3 = 0.66666…
        assert_eq!(step_rate(3, 2), Some("0.6667".parse().unwrap()));
        // 1/32 = 0.03125: the midpoint goes up (banker's rounding would give 0.0312).
        assert_eq!(step_rate(32, 1), Some("0.0313".parse().unwrap()));
        assert_eq!(step_rate(5, 0), Some(Decimal::ZERO));
        // More deals won than leads converted: deals naming the campaign directly.
        assert_eq!(step_rate(2, 3), Some("1.5".parse().unwrap()));
        assert_eq!(step_rate(0, 0), None);
        assert_eq!(step_rate(0, 4), None);
    }

    #[test]
    fn cost_per_lead_is_rounded_to_the_currency_minor_unit() {
        assert_eq!(cost_per_lead(&cny("120000"), 8), Some(cny("15000")));
        // 100 / 3 = 33.333…
        assert_eq!(cost_per_lead(&cny("100"), 3), Some(cny("33.33")));
        // 0.05 / 2 = 0.025: the midpoint goes up.
        assert_eq!(cost_per_lead(&cny("0.05"), 2), Some(cny("0.03")));
        assert_eq!(
            cost_per_lead(&money("JPY", "1000"), 3),
            Some(money("JPY", "333"))
        );
        assert_eq!(
            cost_per_lead(&money("KWD", "10"), 3),
            Some(money("KWD", "3.333"))
        );
        assert_eq!(cost_per_lead(&cny("500"), 0), None);
    }

    fn won(amount: &str, unpriced: u64) -> DealTotal {
        DealTotal {
            count: 2 + unpriced,
            amount: cny(amount),
            unpriced,
        }
    }

    #[test]
    fn roi_is_won_revenue_less_cost_over_cost() {
        // (400000 − 120000) / 120000 = 2.33333…
        assert_eq!(
            roi(&cny("120000"), &won("400000", 0)),
            Ok("2.3333".parse().unwrap())
        );
        assert_eq!(roi(&cny("100000"), &won("100000", 0)), Ok(Decimal::ZERO));
        // Nothing won: the whole cost is lost.
        assert_eq!(roi(&cny("100000"), &won("0", 0)), Ok(Decimal::NEGATIVE_ONE));
        // (1 − 3) / 3 = −0.66666…: half away from zero, so down.
        assert_eq!(roi(&cny("3"), &won("1", 0)), Ok("-0.6667".parse().unwrap()));
    }

    #[test]
    fn roi_is_not_given_for_a_free_campaign_nor_with_won_deals_left_out() {
        let free = roi(&cny("0"), &won("5000", 0)).unwrap_err();
        assert_eq!(free.code, text_codes::NO_COST);
        assert_eq!(free.text, "the campaign cost nothing: ROI is not defined");
        assert!(free.params.is_empty());

        let partial = roi(&money("USD", "10000"), &won("0", 1)).unwrap_err();
        assert_eq!(partial.code, text_codes::WON_DEALS_UNPRICED);
        assert_eq!(
            partial.text,
            "1 won deals have no corporate amount in USD, the currency of the campaign's cost"
        );
        assert_eq!(partial.params["count"], "1");
        assert_eq!(partial.params["currency"], "USD");
    }

    #[test]
    fn deal_figures_sum_the_attributed_deals_by_status_in_the_cost_currency() {
        let (expo, webinar) = (Uuid::now_v7(), Uuid::now_v7());
        let candidates = [
            candidate(DealStatus::Won, Some(cny("250000")), Some(expo), Some(expo)),
            // Names no campaign: counts for its lead's.
            candidate(DealStatus::Won, Some(cny("150000.50")), None, Some(expo)),
            // Names the webinar: not the expo's, though its lead is.
            candidate(DealStatus::Won, Some(cny("999")), Some(webinar), Some(expo)),
            // Won in another corporate currency, and won with no corporate amount.
            candidate(DealStatus::Won, Some(money("USD", "70")), Some(expo), None),
            candidate(DealStatus::Won, None, Some(expo), None),
            candidate(DealStatus::Open, Some(cny("120000")), None, Some(expo)),
            candidate(DealStatus::Open, Some(cny("60000")), Some(expo), None),
            candidate(DealStatus::Open, None, Some(expo), None),
            candidate(DealStatus::Lost, Some(cny("80000")), Some(expo), None),
            candidate(DealStatus::Archived, Some(cny("1000000")), Some(expo), None),
            candidate(DealStatus::Won, Some(cny("1")), None, None),
        ];
        let figures = deal_figures(expo, CurrencyCode::CNY, &candidates);
        assert_eq!(
            figures.won,
            DealTotal {
                count: 4,
                amount: cny("400000.50"),
                unpriced: 2
            }
        );
        assert_eq!(
            figures.open,
            DealTotal {
                count: 3,
                amount: cny("180000"),
                unpriced: 1
            }
        );
        assert_eq!(
            figures.lost,
            DealTotal {
                count: 1,
                amount: cny("80000"),
                unpriced: 0
            }
        );
        let webinar_figures = deal_figures(webinar, CurrencyCode::CNY, &candidates);
        assert_eq!(webinar_figures.won.count, 1);
        assert_eq!(webinar_figures.won.amount, cny("999"));
    }

    #[test]
    fn the_funnel_puts_the_steps_deals_cost_per_lead_and_roi_together() {
        let expo = campaign(cny("120000"));
        let leads = LeadCounts {
            leads: 8,
            qualified: 6,
            converted: 5,
        };
        let candidates = [
            candidate(DealStatus::Won, Some(cny("250000")), Some(expo.id), None),
            candidate(DealStatus::Won, Some(cny("150000")), None, Some(expo.id)),
            candidate(DealStatus::Lost, Some(cny("80000")), Some(expo.id), None),
        ];
        let funnel = CampaignFunnel::of(expo.clone(), leads, &candidates);
        assert_eq!(funnel.lead_to_qualified_rate, Some("0.75".parse().unwrap()));
        assert_eq!(
            funnel.qualified_to_converted_rate,
            Some("0.8333".parse().unwrap())
        );
        assert_eq!(funnel.converted_to_won_rate, Some("0.4".parse().unwrap()));
        assert_eq!(funnel.cost_per_lead, Some(cny("15000")));
        assert_eq!(funnel.deals.won.amount, cny("400000"));
        assert_eq!(funnel.deals.lost.count, 1);
        assert_eq!(funnel.roi, Ok("2.3333".parse().unwrap()));

        let empty = CampaignFunnel::of(expo, LeadCounts::default(), &[]);
        assert_eq!(empty.lead_to_qualified_rate, None);
        assert_eq!(empty.converted_to_won_rate, None);
        assert_eq!(empty.cost_per_lead, None);
        assert_eq!(empty.roi, Ok(Decimal::NEGATIVE_ONE));
    }

    fn arbitrary_candidate(campaigns: [Uuid; 3]) -> impl Strategy<Value = DealCandidate> {
        let status = prop_oneof![
            Just(DealStatus::Open),
            Just(DealStatus::Won),
            Just(DealStatus::Lost),
            Just(DealStatus::Archived),
        ];
        let campaign = prop::option::of(prop::sample::select(campaigns.to_vec()));
        let corporate = prop::option::of((prop::bool::ANY, 0i64..10_000_000)).prop_map(|amount| {
            amount.map(|(in_cny, cents)| Money {
                currency: if in_cny {
                    CurrencyCode::CNY
                } else {
                    "USD".parse().unwrap()
                },
                amount: Decimal::new(cents, 2),
            })
        });
        (status, corporate, campaign.clone(), campaign).prop_map(
            |(status, corporate, deal_campaign, lead_campaign)| {
                candidate(status, corporate, deal_campaign, lead_campaign)
            },
        )
    }

    proptest! {
        #[test]
        fn a_step_rate_reconstructs_the_later_step_within_its_rounding(
            earlier in 1u64..1_000_000,
            share in 0u64..=1_000_000,
        ) {
            let later = earlier * share / 1_000_000;
            let rate = step_rate(earlier, later).unwrap();
            prop_assert!(rate >= Decimal::ZERO && rate <= Decimal::ONE);
            let error = (rate * Decimal::from(earlier) - Decimal::from(later)).abs();
            prop_assert!(error <= Decimal::from(earlier) * Decimal::new(5, 5));
        }

        #[test]
        fn roi_reconstructs_the_revenue_within_its_rounding(
            cost_cents in 1i64..1_000_000_000_000,
            revenue_cents in 0i64..1_000_000_000_000,
        ) {
            let cost = Money { currency: CurrencyCode::CNY, amount: Decimal::new(cost_cents, 2) };
            let revenue = Decimal::new(revenue_cents, 2);
            let won = DealTotal { count: 1, amount: Money { currency: CurrencyCode::CNY, amount: revenue }, unpriced: 0 };
            let roi = roi(&cost, &won).unwrap();
            prop_assert!(roi >= Decimal::NEGATIVE_ONE);
            let error = (roi * cost.amount + cost.amount - revenue).abs();
            prop_assert!(error <= cost.amount * Decimal::new(5, 5), "roi {roi} error {error}");
        }

        /// No deal is counted for two campaigns, none attributed is lost, and the order the
        /// deals come in does not matter.
        #[test]
        fn every_attributed_deal_counts_for_exactly_one_campaign(
            (campaigns, candidates) in prop::array::uniform3(any::<u128>())
                .prop_map(|ids| ids.map(Uuid::from_u128))
                .prop_filter("distinct campaigns", |ids| ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2])
                .prop_flat_map(|campaigns| (Just(campaigns), prop::collection::vec(arbitrary_candidate(campaigns), 0..40)))
        ) {
            let counted: u64 = campaigns
                .iter()
                .map(|id| {
                    let figures = deal_figures(*id, CurrencyCode::CNY, &candidates);
                    figures.open.count + figures.won.count + figures.lost.count
                })
                .sum();
            let attributed = candidates
                .iter()
                .filter(|c| c.campaign().is_some() && c.deal.status != DealStatus::Archived)
                .count() as u64;
            prop_assert_eq!(counted, attributed);
            let mut reversed = candidates.clone();
            reversed.reverse();
            for id in campaigns {
                prop_assert_eq!(
                    deal_figures(id, CurrencyCode::CNY, &candidates),
                    deal_figures(id, CurrencyCode::CNY, &reversed)
                );
                let won = deal_figures(id, CurrencyCode::CNY, &candidates).won;
                prop_assert!(won.unpriced <= won.count);
            }
        }
    }
}
