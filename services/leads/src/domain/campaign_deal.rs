//! The opportunities service's deals as the campaign funnel keeps them (L7), and the rule that
//! says which campaign a deal counts for.

use chrono::NaiveDate;
use crm_platform::money::Money;
use uuid::Uuid;

pub use crm_platform::deals::DealStatus;

/// A deal as leads keeps it: the newest version of the opportunities service's deal it has seen.
#[derive(Clone, Debug, PartialEq)]
pub struct CampaignDeal {
    pub opportunity_id: Uuid,
    pub campaign_id: Option<Uuid>,
    pub source_lead_id: Option<Uuid>,
    pub status: DealStatus,
    /// In the organisation's corporate currency; `None` while it had none, or no rate for the
    /// deal's currency.
    pub corporate_amount: Option<Money>,
    /// In the deal's own currency.
    pub amount: Option<Money>,
    /// The day it was won or lost; `None` while open.
    pub closed_on: Option<NaiveDate>,
    pub version: i64,
}

/// A deal beside the campaign of the lead it came from, as leads stores that lead.
#[derive(Clone, Debug, PartialEq)]
pub struct DealCandidate {
    pub deal: CampaignDeal,
    pub source_lead_campaign_id: Option<Uuid>,
}

impl DealCandidate {
    /// The campaign this deal counts for, by [`attributed_campaign`].
    pub fn campaign(&self) -> Option<Uuid> {
        attributed_campaign(self.deal.campaign_id, self.source_lead_campaign_id)
    }
}

/// The attribution rule: a deal counts for the campaign it names; a deal that names none counts
/// for the campaign of the lead it came from. The deal's own campaign wins because it is what
/// the seller recorded for this deal (a webinar's lead may be closed through a trade fair, and
/// the deal then names the fair); and one campaign per deal means no revenue is counted twice.
pub fn attributed_campaign(
    deal_campaign: Option<Uuid>,
    source_lead_campaign: Option<Uuid>,
) -> Option<Uuid> {
    deal_campaign.or(source_lead_campaign)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deal_counts_for_the_campaign_it_names_else_for_its_leads() {
        let (expo, webinar) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(attributed_campaign(Some(expo), None), Some(expo));
        assert_eq!(attributed_campaign(None, Some(webinar)), Some(webinar));
        assert_eq!(
            attributed_campaign(Some(expo), Some(webinar)),
            Some(expo),
            "the deal's own campaign wins over its lead's"
        );
        assert_eq!(attributed_campaign(None, None), None);
    }
}
