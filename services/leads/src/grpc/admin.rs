use chrono::NaiveDate;
use crm_platform::{
    auth::caller,
    money::{CurrencyCode, Money},
};
use crm_proto::crm::leads::v1::{self as pb, lead_admin_service_server::LeadAdminService};
use rust_decimal::Decimal;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crm_platform::auth::TeamPath;
use crm_platform::ids::{parse_id, parse_optional_id};

use crate::{
    convert,
    domain::{
        assignment::{AssignmentRule, RuleCriteria},
        campaign::Campaign,
        campaign_funnel::CampaignFunnel,
        dedupe::DuplicatePolicy,
        fairness::FairnessPolicy,
        recycling::RecyclingPolicy,
        roster::{MAX_REP_LIMIT, Rep},
    },
    error::LeadsError,
    service::{Leads, Policies},
};

pub struct LeadAdminApi {
    leads: Leads,
}

impl LeadAdminApi {
    pub fn new(leads: Leads) -> Self {
        Self { leads }
    }
}

fn rep_message(rep: &Rep, open_leads: u32) -> pb::Rep {
    pb::Rep {
        rep_id: rep.rep_id.to_string(),
        team_path: rep.team_path.to_string(),
        display_name: rep.display_name.clone(),
        stage: convert::rep_stage_to_wire(rep.stage),
        started_on: rep.started_on.to_string(),
        capacity: rep.capacity,
        claim_cap: rep.claim_cap,
        active: rep.active,
        open_leads,
    }
}

fn rule_message(rule: &AssignmentRule) -> pb::AssignmentRule {
    pb::AssignmentRule {
        id: rule.id.to_string(),
        name: rule.name.clone(),
        criteria: Some(pb::RuleCriteria {
            territories: rule.criteria.territories.clone(),
            industries: rule.criteria.industries.clone(),
            sizes: rule
                .criteria
                .sizes
                .iter()
                .map(|band| convert::size_band_to_wire(*band))
                .collect(),
            products: rule.criteria.products.clone(),
        }),
        rep_ids: rule.reps.iter().map(Uuid::to_string).collect(),
    }
}

fn campaign_message(campaign: &Campaign) -> pb::Campaign {
    pb::Campaign {
        id: campaign.id.to_string(),
        name: campaign.name.clone(),
        channel: campaign
            .channel
            .map_or(pb::SourceChannel::Unspecified, convert::channel_to_wire)
            as i32,
        cost: Some(campaign.cost.to_message()),
        starts_on: campaign
            .starts_on
            .map(|d| d.to_string())
            .unwrap_or_default(),
        ends_on: campaign.ends_on.map(|d| d.to_string()).unwrap_or_default(),
        created_at: Some(crm_platform::time::to_timestamp(campaign.created_at)),
    }
}

fn funnel_message(funnel: &CampaignFunnel) -> pb::GetCampaignFunnelResponse {
    let rate = |rate: Option<Decimal>| rate.map(decimal_text).unwrap_or_default();
    let deals = &funnel.deals;
    pb::GetCampaignFunnelResponse {
        campaign: Some(campaign_message(&funnel.campaign)),
        leads: funnel.leads.leads,
        qualified: funnel.leads.qualified,
        converted: funnel.leads.converted,
        won: deals.won.count,
        won_revenue: Some(deals.won.amount.to_message()),
        cost_per_lead: funnel.cost_per_lead.as_ref().map(Money::to_message),
        roi: funnel
            .roi
            .as_ref()
            .map_or(String::new(), |roi| decimal_text(*roi)),
        open_pipeline: deals.open.count,
        open_pipeline_amount: Some(deals.open.amount.to_message()),
        lost: deals.lost.count,
        lead_to_qualified_rate: rate(funnel.lead_to_qualified_rate),
        qualified_to_converted_rate: rate(funnel.qualified_to_converted_rate),
        converted_to_won_rate: rate(funnel.converted_to_won_rate),
        won_unpriced: deals.won.unpriced,
        open_pipeline_unpriced: deals.open.unpriced,
        roi_unavailable_reason: funnel.roi.as_ref().err().map(|reason| reason.to_wire()),
    }
}

/// A ratio as the API prints it: no trailing zeros ("0.75", "-1").
fn decimal_text(value: Decimal) -> String {
    value.normalize().to_string()
}

/// An optional wire date (`2026-03-14`); empty is none.
fn date(field: &str, value: &str) -> Result<Option<NaiveDate>, LeadsError> {
    match value.trim() {
        "" => Ok(None),
        text => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                LeadsError::invalid(field, format!("{text:?} is not a date like 2026-03-14"))
            }),
    }
}

fn money(amount: Decimal, currency: &str) -> crm_proto::crm::common::v1::Money {
    crm_proto::crm::common::v1::Money {
        currency_code: currency.to_owned(),
        amount: amount.normalize().to_string(),
    }
}

fn policies_message(policies: &Policies) -> pb::LeadPolicies {
    pb::LeadPolicies {
        fairness: Some(pb::FairnessPolicy {
            new_rep_ramp: policies
                .fairness
                .new_rep_weight_ramp
                .iter()
                .map(|(until, multiplier)| pb::RampStep {
                    until_tenure_day: *until,
                    weight_multiplier: *multiplier,
                })
                .collect(),
            thin_pipeline_threshold: Some(money(policies.fairness.thin_pipeline_threshold, "CNY")),
            thin_pipeline_boost: policies.fairness.thin_pipeline_boost,
        }),
        recycling: Some(pb::RecyclingPolicy {
            follow_up_days: policies.recycling.follow_up_days,
            convert_within_days: policies.recycling.convert_within_days,
            warn_days_before: policies.recycling.warn_days_before,
            cooldown_days: policies.recycling.cooldown_days,
        }),
        duplicate_actions: policies
            .duplicate_actions
            .iter()
            .map(|(channel, policy)| {
                let action = match policy {
                    DuplicatePolicy::Flag => pb::DuplicateAction::Flag,
                    DuplicatePolicy::AutoMerge => pb::DuplicateAction::AutoMerge,
                };
                (channel.clone(), action as i32)
            })
            .collect(),
        scoring_model_json: serde_json::to_string(&policies.scoring).unwrap_or_default(),
    }
}

fn policies_from(message: pb::LeadPolicies, current: Policies) -> Result<Policies, LeadsError> {
    let fairness = match message.fairness {
        Some(fairness) => FairnessPolicy {
            // Kept by day: the steps' order in the request carries no meaning.
            new_rep_weight_ramp: {
                let mut ramp: Vec<(u32, f64)> = fairness
                    .new_rep_ramp
                    .iter()
                    .map(|step| (step.until_tenure_day, step.weight_multiplier))
                    .collect();
                ramp.sort_by_key(|step| step.0);
                ramp
            },
            thin_pipeline_threshold: match &fairness.thin_pipeline_threshold {
                Some(threshold) => {
                    Money::non_negative("policies.fairness.thin_pipeline_threshold", threshold)?
                        .amount
                }
                None => current.fairness.thin_pipeline_threshold,
            },
            thin_pipeline_boost: fairness.thin_pipeline_boost,
            ..current.fairness.clone()
        },
        None => current.fairness.clone(),
    };
    let recycling = match message.recycling {
        Some(recycling) => RecyclingPolicy {
            follow_up_days: recycling.follow_up_days,
            convert_within_days: recycling.convert_within_days,
            warn_days_before: recycling.warn_days_before,
            cooldown_days: recycling.cooldown_days,
        },
        None => current.recycling.clone(),
    };
    let scoring = match message.scoring_model_json.trim() {
        "" => current.scoring.clone(),
        json => serde_json::from_str(json).map_err(|e| {
            LeadsError::invalid(
                "policies.scoring_model_json",
                format!("is not a scoring model: {e}"),
            )
        })?,
    };
    let mut duplicate_actions = std::collections::BTreeMap::new();
    for (channel, action) in message.duplicate_actions {
        let policy = match pb::DuplicateAction::try_from(action) {
            Ok(pb::DuplicateAction::AutoMerge) => DuplicatePolicy::AutoMerge,
            Ok(_) => DuplicatePolicy::Flag,
            Err(_) => {
                return Err(LeadsError::invalid(
                    format!("policies.duplicate_actions.{channel}"),
                    "is not an action",
                ));
            }
        };
        duplicate_actions.insert(channel.trim().to_lowercase(), policy);
    }
    Ok(Policies {
        fairness,
        recycling,
        scoring,
        duplicate_actions,
    })
}

#[tonic::async_trait]
impl LeadAdminService for LeadAdminApi {
    async fn put_rep(
        &self,
        request: Request<pb::PutRepRequest>,
    ) -> Result<Response<pb::PutRepResponse>, Status> {
        let caller = caller(&request)?;
        let rep = request
            .into_inner()
            .rep
            .ok_or_else(|| LeadsError::invalid("rep", "is required"))?;
        let started_on = match rep.started_on.trim() {
            "" => crm_platform::time::now().date_naive(),
            text => NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                LeadsError::invalid(
                    "rep.started_on",
                    format!("{text:?} is not a date like 2026-10-01"),
                )
            })?,
        };
        if rep.display_name.chars().count() > 100 {
            return Err(
                LeadsError::invalid("rep.display_name", "must be at most 100 characters").into(),
            );
        }
        let stage = crm_proto::crm::common::v1::LifecycleStage::try_from(rep.stage)
            .map_err(|_| LeadsError::invalid("rep.stage", "is not a rep stage"))?;
        let row = Rep {
            rep_id: parse_id("rep.rep_id", &rep.rep_id)?,
            team_path: TeamPath::parse(&rep.team_path)
                .map_err(|e| LeadsError::invalid("rep.team_path", e))?,
            display_name: rep.display_name.trim().to_owned(),
            stage: convert::rep_stage_from_wire(stage),
            started_on,
            capacity: rep.capacity.min(MAX_REP_LIMIT),
            claim_cap: rep.claim_cap.min(MAX_REP_LIMIT),
            active: rep.active,
            open_pipeline: Decimal::ZERO,
        };
        let stored = self.leads.put_rep(&caller, row).await?;
        Ok(Response::new(pb::PutRepResponse {
            rep: Some(rep_message(&stored, 0)),
        }))
    }

    async fn list_reps(
        &self,
        request: Request<pb::ListRepsRequest>,
    ) -> Result<Response<pb::ListRepsResponse>, Status> {
        let caller = caller(&request)?;
        let reps = self
            .leads
            .reps(&caller, &request.get_ref().team_path)
            .await?;
        Ok(Response::new(pb::ListRepsResponse {
            reps: reps
                .iter()
                .map(|(rep, open)| rep_message(rep, *open))
                .collect(),
        }))
    }

    async fn put_assignment_rules(
        &self,
        request: Request<pb::PutAssignmentRulesRequest>,
    ) -> Result<Response<pb::PutAssignmentRulesResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let mut rules = Vec::with_capacity(request.rules.len());
        for (position, rule) in request.rules.into_iter().enumerate() {
            let criteria = rule.criteria.unwrap_or_default();
            let mut sizes = Vec::new();
            for size in &criteria.sizes {
                let band = convert::size_from_wire(*size).ok().flatten();
                sizes.push(band.ok_or_else(|| {
                    LeadsError::invalid(
                        format!("rules[{position}].criteria.sizes"),
                        format!("{size} is not a size"),
                    )
                })?);
            }
            let mut reps = Vec::new();
            for rep in &rule.rep_ids {
                reps.push(parse_id(&format!("rules[{position}].rep_ids"), rep)?);
            }
            rules.push(AssignmentRule {
                id: parse_optional_id(&format!("rules[{position}].id"), &rule.id)?
                    .unwrap_or_else(Uuid::now_v7),
                name: rule.name,
                position: position as u32,
                criteria: RuleCriteria {
                    territories: criteria
                        .territories
                        .iter()
                        .map(|t| t.trim().to_lowercase())
                        .collect(),
                    industries: criteria.industries,
                    sizes,
                    products: criteria.products,
                },
                reps,
            });
        }
        let stored = self
            .leads
            .put_rules(&caller, &request.team_path, rules)
            .await?;
        Ok(Response::new(pb::PutAssignmentRulesResponse {
            rules: stored.iter().map(rule_message).collect(),
        }))
    }

    async fn list_assignment_rules(
        &self,
        request: Request<pb::ListAssignmentRulesRequest>,
    ) -> Result<Response<pb::ListAssignmentRulesResponse>, Status> {
        let caller = caller(&request)?;
        let rules = self
            .leads
            .rules(&caller, &request.get_ref().team_path)
            .await?;
        Ok(Response::new(pb::ListAssignmentRulesResponse {
            rules: rules.iter().map(rule_message).collect(),
        }))
    }

    async fn get_lead_policies(
        &self,
        request: Request<pb::GetLeadPoliciesRequest>,
    ) -> Result<Response<pb::GetLeadPoliciesResponse>, Status> {
        caller(&request)?;
        let policies = self.leads.policies().await?;
        Ok(Response::new(pb::GetLeadPoliciesResponse {
            policies: Some(policies_message(&policies)),
        }))
    }

    async fn update_lead_policies(
        &self,
        request: Request<pb::UpdateLeadPoliciesRequest>,
    ) -> Result<Response<pb::UpdateLeadPoliciesResponse>, Status> {
        let caller = caller(&request)?;
        let message = request
            .into_inner()
            .policies
            .ok_or_else(|| LeadsError::invalid("policies", "is required"))?;
        let current = self.leads.policies().await?;
        let policies = self
            .leads
            .update_policies(&caller, policies_from(message, current)?)
            .await?;
        Ok(Response::new(pb::UpdateLeadPoliciesResponse {
            policies: Some(policies_message(&policies)),
        }))
    }

    async fn create_campaign(
        &self,
        request: Request<pb::CreateCampaignRequest>,
    ) -> Result<Response<pb::CreateCampaignResponse>, Status> {
        let caller = caller(&request)?;
        let campaign = request
            .into_inner()
            .campaign
            .ok_or_else(|| LeadsError::invalid("campaign", "is required"))?;
        let channel = pb::SourceChannel::try_from(campaign.channel)
            .map_err(|_| LeadsError::invalid("campaign.channel", "is not a channel"))?;
        let cost = match &campaign.cost {
            Some(message) => Money::non_negative("campaign.cost", message)?,
            None => Money::zero(CurrencyCode::CNY),
        };
        let new = Campaign::new(
            &campaign.name,
            convert::channel_from_wire(channel),
            cost,
            date("campaign.starts_on", &campaign.starts_on)?,
            date("campaign.ends_on", &campaign.ends_on)?,
            crm_platform::time::now(),
        )
        .map_err(LeadsError::from)?;
        let stored = self.leads.create_campaign(&caller, new).await?;
        Ok(Response::new(pb::CreateCampaignResponse {
            campaign: Some(campaign_message(&stored)),
        }))
    }

    async fn list_campaigns(
        &self,
        request: Request<pb::ListCampaignsRequest>,
    ) -> Result<Response<pb::ListCampaignsResponse>, Status> {
        caller(&request)?;
        let campaigns = self.leads.campaigns().await?;
        Ok(Response::new(pb::ListCampaignsResponse {
            campaigns: campaigns.iter().map(campaign_message).collect(),
        }))
    }

    async fn get_campaign_funnel(
        &self,
        request: Request<pb::GetCampaignFunnelRequest>,
    ) -> Result<Response<pb::GetCampaignFunnelResponse>, Status> {
        let caller = caller(&request)?;
        let funnel = self
            .leads
            .campaign_funnel(
                &caller,
                parse_id("campaign_id", &request.get_ref().campaign_id)?,
            )
            .await?;
        Ok(Response::new(funnel_message(&funnel)))
    }

    async fn create_web_form(
        &self,
        request: Request<pb::CreateWebFormRequest>,
    ) -> Result<Response<pb::CreateWebFormResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let (form_id, key) = self
            .leads
            .create_web_form(
                &caller,
                &request.name,
                parse_optional_id("campaign_id", &request.campaign_id)?,
                &request.team_path,
                request.rate_limit_per_minute,
            )
            .await?;
        Ok(Response::new(pb::CreateWebFormResponse {
            web_form_id: form_id.to_string(),
            form_key: key,
        }))
    }
}
