//! The forecast of the demo (issue [forecasting] item 10): the forecasting service learns the
//! two years of deal history and the live deals from the opportunities service's events, so
//! the demo waits until its read model holds them all; then Ada sets this fiscal year's and
//! this quarter's revenue quotas for the company and hands them down the team tree by last
//! year's bookings (evenly where nobody below booked), each rep gets a weekly calls target,
//! after Ravi, Nora and Wes called this quarter from their pipelines and Mei called East's with
//! a cautious adjustment; and this week's snapshot is taken. Once: a second run finds this year's company
//! quota and leaves the forecast as it is (the snapshot is once a week by itself).

use std::time::Duration;

use anyhow::Context;
use chrono::{Datelike, Utc};
use crm_platform::host::RunningServices;
use crm_proto::crm::{
    common::v1::Money,
    forecasting::v1::{
        CallNumbers, DecomposeQuotaRequest, DecompositionBasis, ForecastScope,
        GetPipelineForecastRequest, ListQuotasRequest, PipelineForecast, SetQuotaRequest,
        SubmitCallRequest, TargetKind, TargetValue,
        forecast_call_service_client::ForecastCallServiceClient,
        forecast_service_client::ForecastServiceClient, quota_service_client::QuotaServiceClient,
        resolved_scope, target_value,
    },
    opportunities::v1::ForecastCategory,
};
use rust_decimal::Decimal;
use tonic::Code;

use super::{ADA, Api, CORPORATE_CURRENCY, MEI, Member, NORA, RAVI, WES, failed};

/// How long the demo waits for the forecasting service to hear of every deal.
const CATCH_UP: Duration = Duration::from_secs(120);

/// This year's target over last year's bookings.
const GROWTH_PERCENT: i64 = 15;

/// Calls a week each rep is asked to log this quarter.
const CALLS_PER_WEEK: &str = "15";

pub async fn load(api: &Api, services: &RunningServices) -> anyhow::Result<()> {
    caught_up(services).await?;
    let today = Utc::now().date_naive();
    // Northwind's fiscal year is the calendar year (org_settings).
    let year = format!("FY{}", today.year());
    let quarter = format!("FY{}-Q{}", today.year(), today.month0() / 3 + 1);
    let set = QuotaServiceClient::new(api.channel())
        .list_quotas(api.as_member(
            &ADA,
            ListQuotasRequest {
                scope: Some(company()),
                period: year.clone(),
                kind: TargetKind::Revenue.into(),
            },
        ))
        .await
        .map_err(failed("this year's quotas"))?
        .into_inner()
        .quotas;
    if !set.is_empty() {
        return Ok(());
    }
    // The cast are token identities (mod.rs): the forecasting service knows each from their
    // first call, so the calls come first and the quotas can then reach every rep.
    for rep in [&RAVI, &NORA, &WES] {
        let pipeline = forecast(api, rep, None, &quarter).await?;
        let numbers = call_from(&pipeline);
        let request = SubmitCallRequest {
            period: quarter.clone(),
            numbers: Some(numbers),
            note: "From my pipeline as it stands".into(),
            ..Default::default()
        };
        ForecastCallServiceClient::new(api.channel())
            .submit_call(api.as_member(rep, request))
            .await
            .map_err(failed("a rep's forecast call"))?;
    }
    // Mei holds East's commit back by 5 % until the Contoso expansion signs.
    let east = forecast(api, &MEI, None, &quarter).await?;
    let held_back = (amount(east.commit_total) * Decimal::new(5, 2)).round_dp(0);
    let request = SubmitCallRequest {
        period: quarter.clone(),
        adjustment: Some(CallNumbers {
            commit: Some(cny(-held_back)),
            best_case: Some(cny(Decimal::ZERO)),
            pipeline: Some(cny(Decimal::ZERO)),
        }),
        note: "Commit held back 5 % until the Contoso expansion is signed".into(),
        ..Default::default()
    };
    ForecastCallServiceClient::new(api.channel())
        .submit_call(api.as_member(&MEI, request))
        .await
        .map_err(failed("East's forecast call"))?;
    let last_year = forecast(api, &ADA, None, &format!("FY{}", today.year() - 1)).await?;
    let booked = amount(last_year.closed.and_then(|closed| closed.amount));
    // Rounded up to ten thousand yuan; a first year without bookings gets a round 10 M.
    let target = if booked.is_zero() {
        Decimal::from(10_000_000)
    } else {
        let raised = booked * Decimal::from(100 + GROWTH_PERCENT) / Decimal::ONE_HUNDRED;
        (raised / Decimal::from(10_000)).ceil() * Decimal::from(10_000)
    };
    for (period, share) in [(&year, Decimal::ONE), (&quarter, Decimal::new(25, 2))] {
        set_revenue(api, company(), period, target * share).await?;
        hand_down(api, company(), period).await?;
    }
    for rep in [&RAVI, &NORA, &WES] {
        let request = SetQuotaRequest {
            holder: Some(rep_scope(rep)),
            kind: TargetKind::CallsPerWeek.into(),
            period: quarter.clone(),
            target: Some(TargetValue {
                of: Some(target_value::Of::Value(CALLS_PER_WEEK.to_owned())),
            }),
        };
        QuotaServiceClient::new(api.channel())
            .set_quota(api.as_member(&ADA, request))
            .await
            .map_err(failed("a weekly calls target"))?;
    }
    let context = services
        .context(crm_forecasting::NAME)
        .context("the forecasting service is hosted")?;
    crm_forecasting::run_job(context, crm_forecasting::WEEKLY_SNAPSHOT, Utc::now()).await?;
    Ok(())
}

/// Waits until the forecasting service's read model holds every deal of the opportunities
/// service.
async fn caught_up(services: &RunningServices) -> anyhow::Result<()> {
    let pool = |name: &str| {
        services
            .pool(name)
            .cloned()
            .with_context(|| format!("the {name} service is hosted"))
    };
    let (deals, replica) = (pool(crm_opportunities::NAME)?, pool(crm_forecasting::NAME)?);
    let started = std::time::Instant::now();
    loop {
        let made: i64 = sqlx::query_scalar("SELECT count(*) FROM opportunities")
            .fetch_one(&deals)
            .await?;
        let heard: i64 = sqlx::query_scalar("SELECT count(*) FROM deals")
            .fetch_one(&replica)
            .await?;
        if heard >= made {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < CATCH_UP,
            "the forecasting service holds {heard} of {made} deals after {CATCH_UP:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn company() -> ForecastScope {
    ForecastScope {
        company: true,
        ..Default::default()
    }
}

fn rep_scope(member: &Member) -> ForecastScope {
    ForecastScope {
        user_id: member.user_id().to_string(),
        ..Default::default()
    }
}

fn cny(amount: Decimal) -> Money {
    Money {
        currency_code: CORPORATE_CURRENCY.to_owned(),
        amount: amount.normalize().to_string(),
    }
}

fn amount(money: Option<Money>) -> Decimal {
    money
        .and_then(|money| money.amount.parse().ok())
        .unwrap_or_default()
}

async fn forecast(
    api: &Api,
    member: &Member,
    scope: Option<ForecastScope>,
    period: &str,
) -> anyhow::Result<PipelineForecast> {
    let request = GetPipelineForecastRequest {
        scope,
        period: period.to_owned(),
    };
    ForecastServiceClient::new(api.channel())
        .get_pipeline_forecast(api.as_member(member, request))
        .await
        .map_err(failed("a pipeline forecast"))?
        .into_inner()
        .forecast
        .context("a forecast in the answer")
}

async fn set_revenue(
    api: &Api,
    holder: ForecastScope,
    period: &str,
    target: Decimal,
) -> anyhow::Result<()> {
    let request = SetQuotaRequest {
        holder: Some(holder),
        kind: TargetKind::Revenue.into(),
        period: period.to_owned(),
        target: Some(TargetValue {
            of: Some(target_value::Of::Amount(cny(target))),
        }),
    };
    QuotaServiceClient::new(api.channel())
        .set_quota(api.as_member(&ADA, request))
        .await
        .map_err(failed("a revenue quota"))?;
    Ok(())
}

/// Splits `parent`'s revenue quota among its children by last year's bookings (evenly where
/// none of them booked), and theirs among their children, down to the reps.
async fn hand_down(api: &Api, parent: ForecastScope, period: &str) -> anyhow::Result<()> {
    let mut parents = vec![parent];
    while let Some(parent) = parents.pop() {
        let mut decomposed = None;
        for basis in [
            DecompositionBasis::LastYearBookings,
            DecompositionBasis::Evenly,
        ] {
            let request = DecomposeQuotaRequest {
                parent: Some(parent.clone()),
                kind: TargetKind::Revenue.into(),
                period: period.to_owned(),
                basis: basis.into(),
                ..Default::default()
            };
            match QuotaServiceClient::new(api.channel())
                .decompose_quota(api.as_member(&ADA, request))
                .await
            {
                Ok(answer) => {
                    decomposed = Some(answer.into_inner());
                    break;
                }
                // Nobody below booked last year, or the team has nobody to hand down to.
                Err(status) if status.code() == Code::FailedPrecondition => continue,
                Err(status) => return Err(failed("a quota decomposition")(status)),
            }
        }
        let Some(decomposed) = decomposed else {
            continue;
        };
        for child in decomposed.children {
            if let Some(resolved_scope::Of::TeamPath(team_path)) =
                child.holder.and_then(|holder| holder.of)
            {
                parents.push(ForecastScope {
                    team_path,
                    ..Default::default()
                });
            }
        }
    }
    Ok(())
}

/// A rep's call from their pipeline: commit and best case as the pipeline has them, the
/// pipeline number with the pipeline category's deals on top.
fn call_from(pipeline: &PipelineForecast) -> CallNumbers {
    let commit = amount(pipeline.commit_total.clone());
    let best_case = amount(pipeline.best_case_total.clone());
    let open_pipeline = pipeline
        .open_by_category
        .iter()
        .find(|totals| totals.category == ForecastCategory::Pipeline as i32)
        .and_then(|totals| totals.totals.clone())
        .and_then(|totals| totals.amount);
    CallNumbers {
        commit: Some(cny(commit)),
        best_case: Some(cny(best_case)),
        pipeline: Some(cny(best_case + amount(open_pipeline))),
    }
}
