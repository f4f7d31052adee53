//! Leads of the demo: the scenario's reps on the roster (Ravi senior, Nora new, Wes in West),
//! the East-territory rule that routes East leads to East-1, the Spring Expo campaign, and
//! leads from the campaign (captured by Ada, routed on capture), Ravi's own from a call and a
//! visitor's through the East team's web form.
//!
//! Roster entries, the rule and the campaign are written only when a lookup does not find
//! them. A lead is captured only while no lead with its email exists (leads from earlier demo
//! versions had no fixed ids), and with a fixed `lead_id`, so a retried create returns the
//! first result.

use std::collections::HashSet;

use anyhow::Context;
use chrono::{Duration, Utc};
use crm_platform::host::LocalGrpc;
use crm_proto::crm::{
    common::v1::{LifecycleStage, Money, PageRequest},
    leads::v1::{
        AssignmentRule, Campaign, CreateCampaignRequest, CreateLeadRequest, CreateWebFormRequest,
        LeadInput, ListAssignmentRulesRequest, ListCampaignsRequest, ListLeadsRequest,
        ListRepsRequest, PutAssignmentRulesRequest, PutRepRequest, Rep, RuleCriteria,
        SourceChannel, SubmitWebFormRequest, lead_admin_service_client::LeadAdminServiceClient,
        lead_service_client::LeadServiceClient, web_form_service_client::WebFormServiceClient,
    },
};
use uuid::Uuid;

use super::{ADA, Api, Member, NORA, RAVI, WES, failed};

/// The team whose pool Ada's captures land in, and whose rules route them.
const COMPANY: &str = "/northwind";
const RULE_ID: u128 = 0x0190_0000_0000_7000_8000_0000_00ca_0002;
const CAMPAIGN: &str = "Spring Expo";

/// The roster: who, their stage, and how many days ago they started.
const REPS: &[(Member, LifecycleStage, i64)] = &[
    (RAVI, LifecycleStage::Senior, 3 * 365),
    (NORA, LifecycleStage::New, 25),
    (WES, LifecycleStage::Established, 400),
];

struct DemoLead {
    id: u128,
    first: &'static str,
    last: &'static str,
    email: &'static str,
    phone: &'static str,
    company: &'static str,
    title: &'static str,
    territory: &'static str,
}

impl DemoLead {
    fn input(&self) -> LeadInput {
        LeadInput {
            first_name: self.first.into(),
            last_name: self.last.into(),
            email: self.email.into(),
            phone: self.phone.into(),
            company: self.company.into(),
            title: self.title.into(),
            industry: "Manufacturing".into(),
            territory: self.territory.into(),
            ..Default::default()
        }
    }
}

/// How many days ago `member` started selling (as the roster says); 0 for someone not on it.
pub(super) fn started_days_ago(member: &Member) -> i64 {
    REPS.iter()
        .find(|(rep, _, _)| rep.user_id() == member.user_id())
        .map_or(0, |(_, _, days)| *days)
}

/// Met at the Spring Expo; Ada captures them into the company pool.
const EXPO: &[DemoLead] = &[
    DemoLead {
        id: 0x0190_0000_0000_7000_8000_0000_01ea_0001,
        first: "Wei",
        last: "Li",
        email: "li.wei@contoso.cn",
        phone: "+86 138 0013 8000",
        company: "Contoso Ltd",
        title: "Head of Automation",
        territory: "East",
    },
    DemoLead {
        id: 0x0190_0000_0000_7000_8000_0000_01ea_0002,
        first: "Jie",
        last: "Chen",
        email: "chen.jie@fabrikam.com",
        phone: "+86 139 0000 1111",
        company: "Fabrikam Industrial",
        title: "Plant Manager",
        territory: "East",
    },
    DemoLead {
        id: 0x0190_0000_0000_7000_8000_0000_01ea_0003,
        first: "Fang",
        last: "Wang",
        email: "wang.fang@tailspin.example",
        phone: "+86 137 2222 3333",
        company: "Tailspin Logistics",
        title: "COO",
        territory: "West",
    },
    DemoLead {
        id: 0x0190_0000_0000_7000_8000_0000_01ea_0004,
        first: "Min",
        last: "Zhou",
        email: "zhou.min@adventure-works.cn",
        phone: "+86 136 4444 5555",
        company: "Adventure Works",
        title: "Engineer",
        territory: "East",
    },
];

/// Ravi's own lead, from a call.
const RAVIS_OWN: DemoLead = DemoLead {
    id: 0x0190_0000_0000_7000_8000_0000_01ea_0005,
    first: "Hua",
    last: "Sun",
    email: "sun.hua@litware.cn",
    phone: "+86 135 6666 7777",
    company: "Litware",
    title: "CTO",
    territory: "East",
};

/// A visitor of the East team's public form (the form gives the lead its id).
const VISITOR: DemoLead = DemoLead {
    id: 0,
    first: "Lei",
    last: "Zhao",
    email: "zhao.lei@northwind-traders.cn",
    phone: "",
    company: "Northwind Traders",
    title: "Buyer",
    territory: "East",
};

pub(super) async fn load(api: &Api) -> anyhow::Result<()> {
    let mut admin = LeadAdminServiceClient::new(api.channel());
    roster(api, &mut admin).await?;
    rule(api, &mut admin).await?;
    let campaign_id = campaign(api, &mut admin).await?;

    let mut leads = LeadServiceClient::new(api.channel());
    let known = lead_emails(api, &mut leads).await?;
    // Admin captures wait in the company pool; East ones are routed to East-1 on capture.
    for lead in EXPO {
        let input = LeadInput {
            campaign_id: campaign_id.clone(),
            source_channel: SourceChannel::Campaign as i32,
            ..lead.input()
        };
        capture(api, &mut leads, &known, &ADA, lead, input).await?;
    }
    capture(
        api,
        &mut leads,
        &known,
        &RAVI,
        &RAVIS_OWN,
        RAVIS_OWN.input(),
    )
    .await?;

    if !known.contains(VISITOR.email) {
        let form = admin
            .create_web_form(api.as_member(
                &ADA,
                CreateWebFormRequest {
                    name: "Contact us (East)".into(),
                    team_path: "/northwind/east".into(),
                    rate_limit_per_minute: 30,
                    ..Default::default()
                },
            ))
            .await
            .map_err(failed("web form"))?
            .into_inner();
        // The public endpoint: no token, the form key stands in for one.
        WebFormServiceClient::new(api.channel())
            .submit_web_form(SubmitWebFormRequest {
                form_key: form.form_key,
                lead: Some(VISITOR.input()),
            })
            .await
            .map_err(failed("web form lead"))?;
    }
    Ok(())
}

/// Puts the reps that are not on the roster yet.
async fn roster(api: &Api, admin: &mut LeadAdminServiceClient<LocalGrpc>) -> anyhow::Result<()> {
    let on_roster: HashSet<String> = admin
        .list_reps(api.as_member(
            &ADA,
            ListRepsRequest {
                team_path: COMPANY.into(),
            },
        ))
        .await
        .map_err(failed("rep roster"))?
        .into_inner()
        .reps
        .into_iter()
        .map(|rep| rep.rep_id)
        .collect();
    for (member, stage, days_ago) in REPS {
        let rep_id = member.user_id().to_string();
        if on_roster.contains(&rep_id) {
            continue;
        }
        let rep = Rep {
            rep_id,
            team_path: member.team_path().to_string(),
            display_name: member.name.into(),
            stage: *stage as i32,
            started_on: (Utc::now() - Duration::days(*days_ago))
                .date_naive()
                .to_string(),
            capacity: 40,
            claim_cap: 15,
            active: true,
            open_leads: 0,
        };
        admin
            .put_rep(api.as_member(&ADA, PutRepRequest { rep: Some(rep) }))
            .await
            .map_err(failed(format!("rep {}", member.name)))?;
    }
    Ok(())
}

/// The East rule first in the company's rules, unless it is there; other rules are kept.
async fn rule(api: &Api, admin: &mut LeadAdminServiceClient<LocalGrpc>) -> anyhow::Result<()> {
    let rule_id = Uuid::from_u128(RULE_ID).to_string();
    let existing = admin
        .list_assignment_rules(api.as_member(
            &ADA,
            ListAssignmentRulesRequest {
                team_path: COMPANY.into(),
            },
        ))
        .await
        .map_err(failed("assignment rules"))?
        .into_inner()
        .rules;
    if existing.iter().any(|rule| rule.id == rule_id) {
        return Ok(());
    }
    let east = AssignmentRule {
        id: rule_id,
        name: "East territory".into(),
        criteria: Some(RuleCriteria {
            territories: vec!["east".into()],
            ..Default::default()
        }),
        rep_ids: vec![RAVI.user_id().to_string(), NORA.user_id().to_string()],
    };
    let rules = std::iter::once(east).chain(existing).collect();
    admin
        .put_assignment_rules(api.as_member(
            &ADA,
            PutAssignmentRulesRequest {
                team_path: COMPANY.into(),
                rules,
            },
        ))
        .await
        .map_err(failed("assignment rule"))?;
    Ok(())
}

/// The Spring Expo campaign's id, creating it when no campaign has its name.
async fn campaign(
    api: &Api,
    admin: &mut LeadAdminServiceClient<LocalGrpc>,
) -> anyhow::Result<String> {
    let campaigns = admin
        .list_campaigns(api.as_member(&ADA, ListCampaignsRequest {}))
        .await
        .map_err(failed("campaigns"))?
        .into_inner()
        .campaigns;
    if let Some(campaign) = campaigns.into_iter().find(|c| c.name == CAMPAIGN) {
        return Ok(campaign.id);
    }
    let campaign = Campaign {
        name: CAMPAIGN.into(),
        channel: SourceChannel::Campaign as i32,
        cost: Some(Money {
            currency_code: "CNY".into(),
            amount: "20000.00".into(),
        }),
        starts_on: "2026-03-10".into(),
        ends_on: "2026-03-12".into(),
        ..Default::default()
    };
    let created = admin
        .create_campaign(api.as_member(
            &ADA,
            CreateCampaignRequest {
                campaign: Some(campaign),
            },
        ))
        .await
        .map_err(failed("campaign"))?
        .into_inner()
        .campaign
        .context("CreateCampaign answers the campaign")?;
    Ok(created.id)
}

/// The emails of every lead there is (Ada sees them all), lower-cased.
async fn lead_emails(
    api: &Api,
    leads: &mut LeadServiceClient<LocalGrpc>,
) -> anyhow::Result<HashSet<String>> {
    let mut emails = HashSet::new();
    let mut page_token = String::new();
    loop {
        let page = leads
            .list_leads(api.as_member(
                &ADA,
                ListLeadsRequest {
                    page: Some(PageRequest {
                        page_size: 500,
                        page_token,
                    }),
                    ..Default::default()
                },
            ))
            .await
            .map_err(failed("leads"))?
            .into_inner();
        emails.extend(page.leads.into_iter().map(|lead| lead.email.to_lowercase()));
        page_token = page
            .page
            .map(|page| page.next_page_token)
            .unwrap_or_default();
        if page_token.is_empty() {
            return Ok(emails);
        }
    }
}

/// Captures `lead` as `member` unless a lead with its email exists.
async fn capture(
    api: &Api,
    leads: &mut LeadServiceClient<LocalGrpc>,
    known: &HashSet<String>,
    member: &Member,
    lead: &DemoLead,
    input: LeadInput,
) -> anyhow::Result<()> {
    if known.contains(lead.email) {
        return Ok(());
    }
    leads
        .create_lead(api.as_member(
            member,
            CreateLeadRequest {
                lead: Some(input),
                lead_id: Uuid::from_u128(lead.id).to_string(),
            },
        ))
        .await
        .map_err(failed(format!("lead {} {}", lead.first, lead.last)))?;
    Ok(())
}
