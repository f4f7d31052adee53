//! The compensation of the demo (issue [compensation] item 7): a plan of each kind — Ravi's
//! senior plan (5 % to quota, 8 % above, 10 % beyond 150 %, on payment, a SPIFF on vision
//! inspection systems, a cap), Nora's ramp (a base salary, a decelerator below half the quota,
//! retroactive tiers, a recoverable draw) and Wes's territory plan (a base salary, a flat rate,
//! West's team pool shared by bookings, expenses reimbursed up to a cap) — each rep on theirs
//! since last quarter, last quarter's revenue quotas, and last quarter closed. Once: a second
//! run finds the senior plan and leaves everything as it is.

use std::time::Duration;

use anyhow::Context;
use chrono::{Datelike, Months, NaiveDate, Utc};
use crm_platform::host::RunningServices;
use crm_proto::crm::{
    compensation::v1::{
        AssignPlanRequest, ClosePeriodRequest, Commission, Draw, ListPlansRequest, Payout,
        PlanPeriod, PlanVersion, PoolSplit, SavePlanRequest, Spiff, TeamPool, Tier, Tiering,
        assignment_service_client::AssignmentServiceClient, plan_service_client::PlanServiceClient,
        spiff, statement_service_client::StatementServiceClient,
    },
    forecasting::v1::{
        ForecastScope, SetQuotaRequest, TargetKind, TargetValue,
        quota_service_client::QuotaServiceClient, target_value,
    },
};
use sqlx::PgPool;

use super::{ADA, Api, CORPORATE_CURRENCY, MEI, Member, NORA, RAVI, WES, failed};

/// How long the demo waits for the compensation service to hear of last quarter's quotas.
const CATCH_UP: Duration = Duration::from_secs(60);

/// Each rep's revenue quota of last quarter, in yuan.
const LAST_QUARTER_QUOTAS: [(&Member, &str); 3] =
    [(&RAVI, "1500000"), (&NORA, "600000"), (&WES, "900000")];

fn tier(from: &str, rate: &str) -> Tier {
    Tier {
        from_attainment: from.into(),
        rate: rate.into(),
    }
}

fn quarterly(from: NaiveDate) -> PlanVersion {
    PlanVersion {
        version: 1,
        effective_from: from.to_string(),
        period: PlanPeriod::Quarter.into(),
        ..Default::default()
    }
}

fn plans(from: NaiveDate) -> [(&'static Member, SavePlanRequest); 3] {
    let plan = |name: &str, description: &str, version: PlanVersion| SavePlanRequest {
        name: name.into(),
        description: description.into(),
        currency_code: CORPORATE_CURRENCY.into(),
        versions: vec![version],
        ..Default::default()
    };
    [
        (
            &RAVI,
            plan(
                "Senior field sales",
                "5 % to quota, 8 % above, 10 % beyond 150 %; paid as the customer pays",
                PlanVersion {
                    commission: Some(Commission {
                        tiers: vec![tier("0", "5"), tier("100", "8"), tier("150", "10")],
                        tiering: Tiering::Marginal.into(),
                        payout: Payout::OnPayment.into(),
                        attainment_ceiling: "250".into(),
                        cap_per_period: "400000".into(),
                    }),
                    spiffs: vec![Spiff {
                        name: "Vision inspection push".into(),
                        product_codes: vec!["VISION-QC".into()],
                        pipeline_ids: Vec::new(),
                        amount: Some(spiff::Amount::Percent("2".into())),
                    }],
                    ..quarterly(from)
                },
            ),
        ),
        (
            &NORA,
            plan(
                "New rep ramp",
                "A base salary and a recoverable draw while the pipeline builds",
                PlanVersion {
                    base_salary: "45000".into(),
                    commission: Some(Commission {
                        tiers: vec![tier("0", "3"), tier("50", "5"), tier("100", "6")],
                        tiering: Tiering::Retroactive.into(),
                        payout: Payout::OnBooking.into(),
                        ..Default::default()
                    }),
                    draw: Some(Draw {
                        amount: "15000".into(),
                        recoverable: true,
                    }),
                    ..quarterly(from)
                },
            ),
        ),
        (
            &WES,
            plan(
                "Territory team",
                "A flat rate, West's team pool and travel expenses",
                PlanVersion {
                    base_salary: "60000".into(),
                    commission: Some(Commission {
                        tiers: vec![tier("0", "4")],
                        tiering: Tiering::Marginal.into(),
                        payout: Payout::OnBooking.into(),
                        ..Default::default()
                    }),
                    reimburses_expenses: true,
                    expense_cap_per_period: "8000".into(),
                    team_pool: Some(TeamPool {
                        team_path: "/northwind/west/".into(),
                        rate: "1".into(),
                        split: PoolSplit::ByBookings.into(),
                        weights: Vec::new(),
                    }),
                    ..quarterly(from)
                },
            ),
        ),
    ]
}

/// The first day of the fiscal quarter before this one (Northwind's fiscal year is the
/// calendar year).
fn last_quarter_start() -> NaiveDate {
    let today = Utc::now().date_naive();
    let this_quarter = NaiveDate::from_ymd_opt(today.year(), today.month0() / 3 * 3 + 1, 1)
        .expect("a quarter's first day");
    this_quarter - Months::new(3)
}

fn quarter_label(start: NaiveDate) -> String {
    format!("FY{}-Q{}", start.year(), start.month0() / 3 + 1)
}

pub async fn load(api: &Api, services: &RunningServices) -> anyhow::Result<()> {
    // The cast are token identities: the service knows each from their first call.
    for member in [&ADA, &MEI, &RAVI, &NORA, &WES] {
        PlanServiceClient::new(api.channel())
            .list_plans(api.as_member(member, ListPlansRequest {}))
            .await
            .map_err(failed("the plans"))?;
    }
    let existing = PlanServiceClient::new(api.channel())
        .list_plans(api.as_member(&ADA, ListPlansRequest {}))
        .await
        .map_err(failed("the plans"))?
        .into_inner()
        .plans;
    if existing
        .iter()
        .any(|plan| plan.name == "Senior field sales")
    {
        return Ok(());
    }
    let from = last_quarter_start();
    let label = quarter_label(from);
    for (rep, quota) in LAST_QUARTER_QUOTAS {
        let request = SetQuotaRequest {
            holder: Some(ForecastScope {
                user_id: rep.user_id().to_string(),
                ..Default::default()
            }),
            kind: TargetKind::Revenue.into(),
            period: label.clone(),
            target: Some(TargetValue {
                of: Some(target_value::Of::Amount(
                    crm_proto::crm::common::v1::Money {
                        currency_code: CORPORATE_CURRENCY.into(),
                        amount: quota.into(),
                    },
                )),
            }),
        };
        QuotaServiceClient::new(api.channel())
            .set_quota(api.as_member(&ADA, request))
            .await
            .map_err(failed("last quarter's revenue quota"))?;
    }
    for (rep, request) in plans(from) {
        let plan = PlanServiceClient::new(api.channel())
            .save_plan(api.as_member(&ADA, request))
            .await
            .map_err(failed("a compensation plan"))?
            .into_inner()
            .plan
            .context("a saved plan")?;
        AssignmentServiceClient::new(api.channel())
            .assign_plan(api.as_member(
                &ADA,
                AssignPlanRequest {
                    user_id: rep.user_id().to_string(),
                    plan_id: plan.plan_id,
                    from: from.to_string(),
                    until: String::new(),
                },
            ))
            .await
            .map_err(failed("a plan assignment"))?;
    }
    let pool = services
        .pool(crm_compensation::NAME)
        .cloned()
        .context("the compensation service is hosted")?;
    quotas_heard(&pool, &label).await?;
    StatementServiceClient::new(api.channel())
        .close_period(api.as_member(&ADA, ClosePeriodRequest { period: label }))
        .await
        .map_err(failed("closing last quarter"))?;
    Ok(())
}

/// Waits until the compensation service holds last quarter's quota of every rep.
async fn quotas_heard(pool: &PgPool, label: &str) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + CATCH_UP;
    loop {
        let heard: i64 = sqlx::query_scalar("SELECT count(*) FROM quotas WHERE period_label = $1")
            .bind(label)
            .fetch_one(pool)
            .await?;
        if heard >= LAST_QUARTER_QUOTAS.len() as i64 {
            return Ok(());
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the compensation service did not hear of last quarter's quotas within {CATCH_UP:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
