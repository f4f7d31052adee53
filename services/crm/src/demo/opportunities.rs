//! Opportunities of the demo: the sales process ([`super::sales_process`]), the reps' live
//! deals — the scenario's "Contoso — Line 3 automation" with its buying committee and Globex
//! among them — and two years of history ([`super::deal_import`]).
//!
//! The live deals have fixed ids (a retried create by the same rep returns the first result);
//! the Contoso deal's committee and competitors are set only while it has none. So a second
//! run writes nothing.
//!
//! The opportunities service learns accounts, contacts and the organisation's currency and
//! rates from other services' events, moments after they are written; a call it refuses for
//! want of one of them (FAILED_PRECONDITION with reason UNUSABLE_REFERENCE or NO_EXCHANGE_RATE)
//! is retried for up to [`KNOWN_WITHIN`]. The reps' own creates come first, so the service
//! knows them (and their teams) when the admin's import gives them deals.

use std::{collections::HashMap, future::Future, time::Duration};

use anyhow::Context;
use chrono::Utc;
use crm_platform::{error::reasons, host::LocalGrpc};
use crm_proto::crm::{
    accounts::v1::BuyingRole,
    common::v1::Money,
    opportunities::v1::{
        Attitude, CommitteeMember, CreateOpportunityRequest, DealCompetitor, GetFunnelRequest,
        GetOpportunityRequest, ListPipelinesRequest, MonthRange, OpportunityInput,
        SetBuyingCommitteeRequest, SetDealCompetitorsRequest,
        analytics_service_client::AnalyticsServiceClient,
        opportunity_service_client::OpportunityServiceClient,
        pipeline_service_client::PipelineServiceClient,
    },
};
use tonic::{Code, Status};
use tonic_types::StatusExt;
use uuid::Uuid;

use super::{
    ADA, Api, Member, NORA, RAVI, WES,
    accounts::{CONTOSO, LI_WEI, ZHANG_MIN},
    deal_history::COMPETITORS,
    deal_import, failed, sales_process,
};

/// The pipeline the opportunities service seeds.
pub(super) const DIRECT: u128 = 0x0190_0000_0000_7000_8000_0000_0000_0001;

/// How long the demo waits for the opportunities service to hear of what other services wrote:
/// usually moments (consumers look for a stream not created yet every half second), but a busy
/// machine can take much longer to relay, deliver and apply the events.
const KNOWN_WITHIN: Duration = Duration::from_secs(90);

/// A deal a rep is working on now, created by the rep.
struct LiveDeal {
    id: u128,
    owner: Member,
    account: u128,
    name: &'static str,
    currency: &'static str,
    amount: &'static str,
    close_in_days: i64,
    next_step: &'static str,
}

/// The scenario's deal, as Ravi enters it.
pub(super) const CONTOSO_LINE_3_ID: u128 = 0x0190_0000_0000_7000_8000_00de_a200_0001;

const CONTOSO_LINE_3: LiveDeal = LiveDeal {
    id: 0x0190_0000_0000_7000_8000_00de_a200_0001,
    owner: RAVI,
    account: CONTOSO,
    name: "Contoso — Line 3 automation",
    currency: "CNY",
    amount: "1200000.00",
    close_in_days: 60,
    next_step: "Ask Li Wei who signs off on Line 3",
};

/// Every live deal; the euro and dollar ones need the organisation's rates.
const LIVE_DEALS: &[LiveDeal] = &[
    CONTOSO_LINE_3,
    LiveDeal {
        id: 0x0190_0000_0000_7000_8000_00de_a200_0002,
        owner: NORA,
        account: 0xacc8,
        name: "A. Datum — SMT line automation",
        currency: "EUR",
        amount: "95000.00",
        close_in_days: 45,
        next_step: "Plant visit with Klaus Becker",
    },
    LiveDeal {
        id: 0x0190_0000_0000_7000_8000_00de_a200_0003,
        owner: WES,
        account: 0xacc9,
        name: "Relecloud — Paint shop robots",
        currency: "USD",
        amount: "180000.00",
        close_in_days: 75,
        next_step: "Send the reference list for paint shops",
    },
];

pub(super) async fn load(api: &Api) -> anyhow::Result<()> {
    let mut pipelines = PipelineServiceClient::new(api.channel());
    let known = pipelines
        .list_pipelines(api.as_member(&ADA, ListPipelinesRequest {}))
        .await
        .map_err(failed("pipelines"))?
        .into_inner()
        .pipelines;
    let direct_id = Uuid::from_u128(DIRECT).to_string();
    let direct = known
        .iter()
        .find(|pipeline| pipeline.id == direct_id)
        .context("the opportunities service seeds the Direct pipeline")?;
    let direct = sales_process::qualify_exit_criteria(api, &mut pipelines, direct).await?;
    let service = sales_process::service_pipeline(api, &mut pipelines, &known).await?;
    let competitor_ids = sales_process::competitors(api, &mut pipelines).await?;

    corporate_currency_known(api).await?;
    let deals = OpportunityServiceClient::new(api.channel());
    for live in LIVE_DEALS {
        live_deal(api, &deals, live).await?;
    }
    deal_import::history(api, &deals, &direct, &service, &competitor_ids).await?;
    contoso_committee_and_competition(api, &deals, &competitor_ids).await
}

/// Waits until the opportunities service has heard of the corporate currency: deals converted
/// before that would carry no corporate amount.
async fn corporate_currency_known(api: &Api) -> anyhow::Result<()> {
    let mut analytics = AnalyticsServiceClient::new(api.channel());
    let month = Utc::now().format("%Y-%m").to_string();
    let deadline = tokio::time::Instant::now() + KNOWN_WITHIN;
    loop {
        let funnel = analytics
            .get_funnel(api.as_member(
                &ADA,
                GetFunnelRequest {
                    pipeline_id: Uuid::from_u128(DIRECT).to_string(),
                    period: Some(MonthRange {
                        from_month: month.clone(),
                        to_month: month.clone(),
                    }),
                    scope: None,
                },
            ))
            .await
            .map_err(failed("funnel"))?
            .into_inner();
        if funnel.corporate_currency == super::CORPORATE_CURRENCY {
            return Ok(());
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "demo: the opportunities service did not hear of the corporate currency {} within {:?} \
             (are the gateway's outbox relay and the opportunities service's consumers running?)",
            super::CORPORATE_CURRENCY,
            KNOWN_WITHIN
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Retries `call` while the opportunities service refuses it for a record, user or rate it has
/// not heard of yet, for up to [`KNOWN_WITHIN`].
pub(super) async fn once_known<T, F, Fut>(what: &str, call: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<tonic::Response<T>, Status>>,
{
    retry_while(what, not_heard_of_yet, call).await
}

/// Retries `call` while its refusal is `pending` (what a service has not heard of yet), for up
/// to [`KNOWN_WITHIN`].
pub(super) async fn retry_while<T, F, Fut>(
    what: &str,
    pending: impl Fn(&Status) -> bool,
    mut call: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<tonic::Response<T>, Status>>,
{
    let deadline = tokio::time::Instant::now() + KNOWN_WITHIN;
    loop {
        match call().await {
            Ok(response) => return Ok(response.into_inner()),
            Err(status) if pending(&status) => {
                if tokio::time::Instant::now() >= deadline {
                    return Err(failed(format!(
                        "{what}, still refused after {KNOWN_WITHIN:?} (are the outbox relays and \
                         the services' consumers running?)"
                    ))(status));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(status) => return Err(failed(what)(status)),
        }
    }
}

/// A refusal that the events on their way to the opportunities service will lift.
/// Decided by the refusal's `ErrorInfo` reason: an id the service has no replica of
/// (UNUSABLE_REFERENCE) or a currency without a rate yet (NO_EXCHANGE_RATE).
fn not_heard_of_yet(status: &Status) -> bool {
    status.code() == Code::FailedPrecondition
        && status.get_details_error_info().is_some_and(|info| {
            info.reason == reasons::UNUSABLE_REFERENCE
                || info.reason == crm_opportunities::reasons::NO_EXCHANGE_RATE
        })
}

/// The budget a deal's Qualify exit criterion asks for, as the audit trail writes amounts.
pub(super) fn budget(currency: &str, amount: &str) -> HashMap<String, String> {
    HashMap::from([("budget".to_owned(), format!("{currency} {amount}"))])
}

/// Creates a live deal as its rep, in Direct's first stage.
async fn live_deal(
    api: &Api,
    deals: &OpportunityServiceClient<LocalGrpc>,
    live: &LiveDeal,
) -> anyhow::Result<()> {
    let close = (Utc::now() + chrono::Duration::days(live.close_in_days)).date_naive();
    let request = CreateOpportunityRequest {
        opportunity: Some(OpportunityInput {
            name: live.name.into(),
            account_id: Uuid::from_u128(live.account).to_string(),
            pipeline_id: Uuid::from_u128(DIRECT).to_string(),
            amount: Some(Money {
                currency_code: live.currency.into(),
                amount: live.amount.into(),
            }),
            expected_close_date: close.to_string(),
            next_step: live.next_step.into(),
            custom_fields: budget(live.currency, live.amount),
            ..Default::default()
        }),
        opportunity_id: Uuid::from_u128(live.id).to_string(),
    };
    once_known(&format!("deal {}", live.name), || {
        let mut deals = deals.clone();
        let request = api.as_member(&live.owner, request.clone());
        async move { deals.create_opportunity(request).await }
    })
    .await?;
    Ok(())
}

/// Contoso's buying committee (Li Wei the champion, Zhang Min the sceptical CFO) and Globex,
/// each set while the deal has none.
async fn contoso_committee_and_competition(
    api: &Api,
    deals: &OpportunityServiceClient<LocalGrpc>,
    competitor_ids: &[String],
) -> anyhow::Result<()> {
    let opportunity_id = Uuid::from_u128(CONTOSO_LINE_3.id).to_string();
    let deal = deals
        .clone()
        .get_opportunity(api.as_member(
            &RAVI,
            GetOpportunityRequest {
                opportunity_id: opportunity_id.clone(),
            },
        ))
        .await
        .map_err(failed("the Contoso deal"))?
        .into_inner()
        .opportunity
        .context("GetOpportunity answers the deal")?;
    let (li_wei, zhang) = (
        Uuid::from_u128(LI_WEI).to_string(),
        Uuid::from_u128(ZHANG_MIN).to_string(),
    );
    if deal.buying_committee.is_empty() {
        let members = vec![
            CommitteeMember {
                contact_id: li_wei,
                role: BuyingRole::Champion as i32,
                attitude: Attitude::Supporter as i32,
                influences: vec![zhang.clone()],
                note: "Wants Line 3 running before the peak season.".into(),
                ..Default::default()
            },
            CommitteeMember {
                contact_id: zhang,
                role: BuyingRole::EconomicBuyer as i32,
                attitude: Attitude::Sceptical as i32,
                note: "Questions the payback period; compares with Globex's price.".into(),
                ..Default::default()
            },
        ];
        once_known("the Contoso buying committee", || {
            let mut deals = deals.clone();
            let request = api.as_member(
                &RAVI,
                SetBuyingCommitteeRequest {
                    opportunity_id: opportunity_id.clone(),
                    members: members.clone(),
                    expected_version: 0,
                },
            );
            async move { deals.set_buying_committee(request).await }
        })
        .await?;
    }
    if deal.competitors.is_empty() {
        let globex = &COMPETITORS[0];
        deals
            .clone()
            .set_deal_competitors(api.as_member(
                &RAVI,
                SetDealCompetitorsRequest {
                    opportunity_id,
                    competitors: vec![DealCompetitor {
                        competitor_id: competitor_ids[0].clone(),
                        strengths: globex.strengths.into(),
                        weaknesses: globex.weaknesses.into(),
                        ..Default::default()
                    }],
                    expected_version: 0,
                },
            ))
            .await
            .map_err(failed("the Contoso deal's competitors"))?;
    }
    Ok(())
}
