//! The forecast of scenario.md section 5 (F1–F7), through the gateway's HTTP front door with
//! the whole suite in one process — real PostgreSQL, real NATS, the forecasting service
//! learning every deal from the opportunities service's events. Ada builds Northwind (East
//! with its sub-team East-1, West), reports in CNY and starts the fiscal year in April, May or
//! June so this month opens a fiscal quarter. Ravi and Nora open the quarter's deals and close
//! one each; Mei reads East's weighted pipeline by category, by month, rolled up and deal by
//! deal, and sees Ravi's category override move it. Ada sets and hands down the quarter's
//! quota, Mei hands East's down with Nora's ramp; the check and attainment follow. The reps
//! and Mei call the quarter; two weekly snapshots around a week of changes show the movement;
//! the leaderboard ranks the reps; imported history feeds the statistical forecast. Every
//! number is computed by hand in the comments.

#[path = "forecast_journey/calls.rs"]
mod calls;
#[path = "forecast_journey/figures.rs"]
mod figures;
#[path = "support/first_admin.rs"]
mod first_admin;
#[path = "forecast_journey/org.rs"]
mod org;
#[path = "forecast_journey/pipeline.rs"]
mod pipeline;
#[path = "forecast_journey/quotas.rs"]
mod quotas;
#[path = "forecast_journey/snapshots.rs"]
mod snapshots;
#[path = "forecast_journey/statistics.rs"]
mod statistics;
#[path = "support/suite.rs"]
mod suite;

use org::Calendar;
use suite::Suite;

#[tokio::test]
async fn east_forecasts_its_quarter_from_pipeline_to_quota_calls_movement_and_history() {
    let suite = Suite::start().await;
    let calendar = Calendar::today();
    let cast = org::northwind(&suite, &calendar).await;

    // F1, F2: the quarter's deals, Mei's pipeline, the override.
    let deals = pipeline::open_the_quarter(&suite, &calendar, &cast).await;
    pipeline::the_manager_reads_the_quarter(&suite, &calendar, &cast, &deals).await;

    // F3: quotas down the tree, their check, attainment.
    quotas::quotas_are_handed_down(&suite, &calendar, &cast).await;

    // F4: the reps' and Mei's calls, her roll-up.
    calls::calls_are_made_and_rolled_up(&suite, &calendar, &cast).await;

    // F5, F7: two weekly snapshots and the movement between them; the leaderboard after.
    snapshots::the_week_moves(&suite, &calendar, &cast, &deals).await;

    // F6: the statistical forecast over imported history (last: the history lies in earlier
    // quarters but possibly in this fiscal year, whose attainment is checked above).
    statistics::history_is_forecast(&suite, &calendar, &cast, &deals).await;
}
