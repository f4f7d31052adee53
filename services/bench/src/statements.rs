//! A statement run (issue [compensation] item 8): the compensation service computing last
//! month's statements for 1,000 reps over 100,000 ledger entries — bookings crossing the reps'
//! quotas into higher tiers, payments releasing commission earned on payment, reversals, SPIFF
//! line items and expenses — twice, compared byte for byte, and then the month closed through
//! the API. The baseline is the ledger's plain `GROUP BY` of the same month: reading the
//! entries, without the statements.
//!
//! The plan and the assignments go in through the service's API; the ledger, the quotas and the
//! directory are written straight to its tables (their consumers are measured elsewhere), with
//! amounts derived from each rep's and entry's number, so every run has the same data.

use std::{collections::BTreeMap, time::Duration};

use chrono::{Datelike, Months, NaiveDate, Utc};
use crm_platform::auth::Role;
use crm_proto::crm::compensation::v1::{
    self as pb, assignment_service_client::AssignmentServiceClient,
    plan_service_client::PlanServiceClient, statement_service_client::StatementServiceClient,
};
use crm_test_support::authorized;
use prost::Message;
use tokio::time::Instant;
use uuid::Uuid;

use crate::{
    opportunities::{self, Hosted, Person},
    report::{Row, ScenarioReport, Target},
};

/// Reps on the plan.
const REPS: usize = 1_000;
/// Ledger entries per rep: 50 bookings, 40 payments, 5 reversals, 5 expenses.
const ENTRIES_PER_REP: i32 = 100;
/// The goal of the issue.
const GOAL_SECONDS: f64 = 5.0;

fn tier(from: &str, rate: &str) -> pb::Tier {
    pb::Tier {
        from_attainment: from.into(),
        rate: rate.into(),
    }
}

fn plan() -> pb::SavePlanRequest {
    pb::SavePlanRequest {
        name: "Bench field sales".into(),
        currency_code: "CNY".into(),
        versions: vec![pb::PlanVersion {
            version: 1,
            effective_from: "2020-01-01".into(),
            period: pb::PlanPeriod::Month as i32,
            base_salary: "12000".into(),
            commission: Some(pb::Commission {
                tiers: vec![tier("0", "5"), tier("100", "8"), tier("150", "10")],
                tiering: pb::Tiering::Marginal as i32,
                payout: pb::Payout::OnPayment as i32,
                attainment_ceiling: "300".into(),
                cap_per_period: "400000".into(),
            }),
            spiffs: vec![pb::Spiff {
                name: "Vision inspection push".into(),
                product_codes: vec!["VISION-QC".into()],
                pipeline_ids: Vec::new(),
                amount: Some(pb::spiff::Amount::Percent("2".into())),
            }],
            reimburses_expenses: true,
            expense_cap_per_period: "5000".into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Writes the month's ledger: per rep, 50 bookings of 10,000–99,999 on the month's days, 40
/// payments of 30–100 % of the first 40, the 41st to 45th reversed, 5 expenses; every third
/// booking with a VISION-QC line of 40 %.
async fn write_ledger(
    pool: &sqlx::PgPool,
    reps: &[Person],
    start: NaiveDate,
    days: i32,
) -> anyhow::Result<()> {
    let ids: Vec<Uuid> = reps.iter().map(Person::id).collect();
    sqlx::query(
        "INSERT INTO credits (id, source, user_id, kind, deal_id, deal_name, effective_on, \
         currency, amount, share, reverses, event_id) \
         SELECT md5(e.kind || r.n || ':' || e.k)::uuid, 'bench:' || e.kind || ':' || r.n || ':' || e.k, \
         r.id, e.kind, CASE WHEN e.kind = 'expense' THEN NULL ELSE md5('d' || r.n || ':' || e.deal)::uuid END, \
         'Deal ' || r.n || '-' || e.deal, $2::date + ((e.k * 7 + r.n) % $3)::int, 'CNY', \
         CASE e.kind \
           WHEN 'booking' THEN 10000 + ((r.n * 7919 + e.k * 104729) % 90000) \
           WHEN 'booking_reversal' THEN 10000 + ((r.n * 7919 + e.deal * 104729) % 90000) \
           WHEN 'payment' THEN round((10000 + ((r.n * 7919 + e.deal * 104729) % 90000)) * (3 + (e.k * 13) % 8) / 10.0, 2) \
           ELSE 100 + (r.n * 31 + e.k * 17) % 1900 END, \
         100, CASE WHEN e.kind = 'booking_reversal' THEN md5('booking' || r.n || ':' || e.deal)::uuid END, \
         md5('event' || e.kind || r.n || ':' || e.k)::uuid \
         FROM unnest($1::uuid[]) WITH ORDINALITY AS r(id, n) \
         CROSS JOIN LATERAL (SELECT k, \
           CASE WHEN k < 50 THEN 'booking' WHEN k < 90 THEN 'payment' \
                WHEN k < 95 THEN 'booking_reversal' ELSE 'expense' END AS kind, \
           CASE WHEN k < 50 THEN k WHEN k < 90 THEN k - 50 WHEN k < 95 THEN k - 50 ELSE k END AS deal \
           FROM generate_series(0, $4 - 1) AS k) AS e \
         ORDER BY r.n, e.k",
    )
    .bind(&ids)
    .bind(start)
    .bind(days)
    .bind(ENTRIES_PER_REP)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO booking_lines (credit_id, position, product_code, amount) \
         SELECT id, 1, 'VISION-QC', round(amount * 0.4, 2) FROM credits \
         WHERE kind = 'booking' AND (sequence % 3) = 0 \
         UNION ALL \
         SELECT id, 2, 'CONVEYOR-M', amount - round(amount * 0.4, 2) FROM credits \
         WHERE kind = 'booking' AND (sequence % 3) = 0",
    )
    .execute(pool)
    .await?;
    // Each rep's quota of the month: 1,500,000 (the bookings come to about 2,750,000).
    sqlx::query(
        "INSERT INTO quotas (quota_id, user_id, period_label, currency, amount, version) \
         SELECT md5('quota' || id::text)::uuid, id, $2, 'CNY', 1500000, 1 FROM unnest($1::uuid[]) AS id",
    )
    .bind(&ids)
    .bind(label(start))
    .execute(pool)
    .await?;
    sqlx::query("VACUUM ANALYZE credits").execute(pool).await?;
    Ok(())
}

fn label(start: NaiveDate) -> String {
    start.format("%Y-%m").to_string()
}

pub async fn run(overrides: &BTreeMap<String, String>) -> anyhow::Result<ScenarioReport> {
    let hosted = Hosted::start_modules(
        &[crm_opportunities::module(), crm_compensation::module()],
        4,
        overrides,
    )
    .await?;
    let result = measure(&hosted).await;
    hosted.cleanup().await;
    result
}

async fn measure(hosted: &Hosted) -> anyhow::Result<ScenarioReport> {
    let compensation = hosted.context(crm_compensation::NAME)?;
    let raw = hosted.baseline_pool_of(crm_compensation::NAME, 1).await?;
    let reps = opportunities::reps(REPS)?;
    let admin = Person::new(Role::Admin, "/northwind/", "Bench Admin")?;
    let mut people = reps.clone();
    people.push(admin.clone());
    opportunities::file_users(&raw, &people).await?;
    opportunities::set_corporate_currency(&raw).await?;
    let today = Utc::now().date_naive();
    let this_month = today.with_day(1).expect("a month has a first day");
    let start = this_month - Months::new(1);
    let days = (this_month - start).num_days() as i32;
    let period = label(start);

    let channel = hosted.channel().await?;
    let token = hosted.token(&admin.caller);
    let plan = PlanServiceClient::new(channel.clone())
        .save_plan(authorized(plan(), &token))
        .await?
        .into_inner()
        .plan
        .ok_or_else(|| anyhow::anyhow!("no plan saved"))?;
    let mut assignments = AssignmentServiceClient::new(channel.clone());
    for rep in &reps {
        assignments
            .assign_plan(authorized(
                pb::AssignPlanRequest {
                    user_id: rep.id().to_string(),
                    plan_id: plan.plan_id.clone(),
                    from: "2020-01-01".into(),
                    until: String::new(),
                },
                &token,
            ))
            .await?;
    }
    write_ledger(&raw, &reps, start, days).await?;
    let credits: i64 = sqlx::query_scalar("SELECT count(*) FROM credits")
        .fetch_one(&raw)
        .await?;

    let started = Instant::now();
    let sums: Vec<(Uuid, String, rust_decimal::Decimal)> = sqlx::query_as(
        "SELECT user_id, kind, sum(amount) FROM credits WHERE effective_on >= $1 \
         AND effective_on < $2 GROUP BY user_id, kind",
    )
    .bind(start)
    .bind(this_month)
    .fetch_all(&raw)
    .await?;
    let baseline = started.elapsed();

    let mut runs = Vec::new();
    let mut timings: Vec<Duration> = Vec::new();
    for _ in 0..2 {
        let started = Instant::now();
        runs.push(crm_compensation::run_period(&compensation.pool, &period).await?);
        timings.push(started.elapsed());
    }
    let identical = runs[0] == runs[1];
    let statements = &runs[0];
    let decoded: Vec<pb::Statement> = statements
        .iter()
        .map(|bytes| pb::Statement::decode(bytes.as_slice()))
        .collect::<Result<_, _>>()?;
    let lines: usize = decoded.iter().map(|statement| statement.lines.len()).sum();

    let started = Instant::now();
    StatementServiceClient::new(channel)
        .close_period(authorized(
            pb::ClosePeriodRequest {
                period: period.clone(),
            },
            &token,
        ))
        .await?;
    let closed = started.elapsed();
    let locked: Vec<(Uuid, Vec<u8>)> = sqlx::query_as(
        "SELECT user_id, body FROM statements WHERE period_label = $1 ORDER BY user_id",
    )
    .bind(&period)
    .fetch_all(&raw)
    .await?;
    let locked_lines_match = locked.len() == decoded.len()
        && locked.iter().zip(&decoded).all(|((_, body), open)| {
            pb::Statement::decode(body.as_slice()).is_ok_and(|locked| locked.lines == open.lines)
        });

    let mut report = ScenarioReport::new(
        "statements",
        format!("compensation: {period}'s statements of {REPS} reps over {credits} ledger entries"),
        "compensation service",
        "raw GROUP BY",
    );
    for (index, timing) in timings.iter().enumerate() {
        report.row(
            Row::new(
                format!(
                    "statement run {} ({} statements, {lines} lines)",
                    index + 1,
                    statements.len()
                ),
                "s",
                Some(timing.as_secs_f64()),
                Some(baseline.as_secs_f64()),
            )
            .target(Target::AtMost(GOAL_SECONDS)),
        );
    }
    report.row(Row::new(
        "ClosePeriod (the run, locked, with an event per statement)",
        "s",
        Some(closed.as_secs_f64()),
        Some(baseline.as_secs_f64()),
    ));
    report.note(format!(
        "the two runs' statements are {} ({} bytes); the locked statements' lines are {} the run's; the baseline read {} sums",
        if identical { "byte-identical" } else { "DIFFERENT" },
        statements.iter().map(Vec::len).sum::<usize>(),
        if locked_lines_match { "identical to" } else { "DIFFERENT from" },
        sums.len()
    ));
    anyhow::ensure!(identical, "a repeated statement run gave other statements");
    Ok(report)
}
