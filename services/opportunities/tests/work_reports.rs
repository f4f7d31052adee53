//! Work reports (`WorkReportService`): a rep's week counted in the time zone's days, a team's
//! as its reps' sum, who may read whose, the current week's deal moves and next steps, and the
//! schedule generating a completed week's reports once with two runs at once — over a real
//! tonic client against real PostgreSQL and NATS.

mod support;

use chrono::{DateTime, TimeZone, Utc};
use crm_platform::{auth::Caller, time::to_timestamp};
use crm_proto::crm::opportunities::v1::{
    self as pb, work_report_service_client::WorkReportServiceClient,
};
use crm_test_support::user;
use support::{log::*, *};
use tonic::{Code, Status, transport::Channel};
use uuid::Uuid;

const DEVELOP: &str = "01900000-0000-7000-8000-000000000012";

fn november(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

struct Reports {
    log: Log,
    client: WorkReportServiceClient<Channel>,
    nora: Caller,
    wes: Caller,
}

impl Reports {
    /// Ravi's calls on the 17th and late on Sunday the 22nd (UTC; Monday 01:00 in Shanghai)
    /// and his visit on the 20th, all on his deal; Nora's call on a lead on the 18th; Wes's
    /// (West) call on the 19th.
    async fn open() -> Self {
        let log = Log::open().await;
        let client = WorkReportServiceClient::new(log.harness.app.channel().await);
        let (nora, wes) = (user("rep", EAST_1), user("rep", "/northwind/west/"));
        let ravi = log.ravi.clone();
        log.log_call(&ravi, "Discovery call", november(17, 2)).await;
        log.log_call(&ravi, "Late call", november(22, 17)).await;
        let visit = pb::LogActivityRequest {
            activity: Some(pb::ActivityInput {
                kind: pb::ActivityKind::Visit.into(),
                ends_at: Some(to_timestamp(november(20, 8))),
                ..call("Plant visit", november(20, 6))
            }),
            regarding: on_deal(&log.deal_id),
            ..Default::default()
        };
        log.log(&ravi, visit).await.unwrap();
        for (rep, day) in [(&nora, 18), (&wes, 19)] {
            let on_lead = pb::LogActivityRequest {
                activity: Some(call("Lead intro", november(day, 3))),
                regarding: Some(pb::Regarding {
                    lead_id: Uuid::now_v7().to_string(),
                    ..Default::default()
                }),
                ..Default::default()
            };
            log.log(rep, on_lead).await.unwrap();
        }
        Self {
            log,
            client,
            nora,
            wes,
        }
    }

    async fn compute(
        &self,
        caller: &Caller,
        request: pb::ComputeWorkReportRequest,
    ) -> Result<pb::WorkReport, Status> {
        let request = self.log.harness.request(caller, request);
        let response = self.client.clone().compute_work_report(request).await?;
        Ok(response.into_inner().report.unwrap())
    }

    async fn listed(&self, caller: &Caller) -> Vec<(String, String)> {
        let request = self
            .log
            .harness
            .request(caller, pb::ListWorkReportsRequest::default());
        let response = self
            .client
            .clone()
            .list_work_reports(request)
            .await
            .unwrap();
        let mut reports: Vec<(String, String)> = response
            .into_inner()
            .reports
            .into_iter()
            .map(|report| (report.user_id, report.team_path))
            .collect();
        reports.sort();
        reports
    }
}

fn week_of(date: &str, zone: &str) -> pb::ComputeWorkReportRequest {
    pb::ComputeWorkReportRequest {
        period: pb::WorkReportPeriod::Week.into(),
        date: date.into(),
        time_zone: zone.into(),
        ..Default::default()
    }
}

fn counts(summary: &Option<pb::WorkSummary>) -> (u32, u32) {
    let summary = summary.as_ref().unwrap();
    (summary.calls, summary.visits)
}

#[tokio::test]
async fn a_week_counts_each_reps_work_in_the_zones_days_and_a_team_adds_its_reps_up() {
    let reports = Reports::open().await;
    let (ravi, mei) = (reports.log.ravi.clone(), reports.log.mei.clone());

    let utc = reports
        .compute(&ravi, week_of("2026-11-18", ""))
        .await
        .unwrap();
    assert_eq!(
        (utc.period_start.as_str(), utc.period_end.as_str()),
        ("2026-11-16", "2026-11-22")
    );
    assert_eq!(
        (utc.user_id.as_str(), utc.time_zone.as_str()),
        (ravi.user_id.to_string().as_str(), "UTC")
    );
    assert_eq!(counts(&utc.summary), (2, 1));
    let subjects: Vec<&str> = utc.activities.iter().map(|a| a.subject.as_str()).collect();
    assert_eq!(subjects, ["Late call", "Plant visit", "Discovery call"]);
    assert_eq!(utc.activities[0].opportunity_id, reports.log.deal_id);
    assert!(utc.reps.is_empty());
    // In Shanghai the late call is on Monday the 23rd: the next week.
    let shanghai = reports
        .compute(&ravi, week_of("2026-11-18", "Asia/Shanghai"))
        .await
        .unwrap();
    assert_eq!(counts(&shanghai.summary), (1, 1));
    let next = reports
        .compute(&ravi, week_of("2026-11-23", "Asia/Shanghai"))
        .await
        .unwrap();
    assert_eq!(counts(&next.summary), (1, 0));

    // East: Ravi's 2 calls and visit and Nora's call, each rep beside; Wes (West) is not in it.
    let team = reports
        .compute(
            &mei,
            pb::ComputeWorkReportRequest {
                team_path: EAST.into(),
                ..week_of("2026-11-18", "")
            },
        )
        .await
        .unwrap();
    assert_eq!(counts(&team.summary), (3, 1));
    assert_eq!(team.user_id, "");
    let mut reps: Vec<(String, (u32, u32))> = team
        .reps
        .iter()
        .map(|rep| (rep.user_id.clone(), counts(&rep.summary)))
        .collect();
    reps.sort();
    let mut expected = vec![
        (ravi.user_id.to_string(), (2, 1)),
        (reports.nora.user_id.to_string(), (1, 0)),
    ];
    expected.sort();
    assert_eq!(reps, expected);
    let of_ravi = pb::ComputeWorkReportRequest {
        user_id: ravi.user_id.to_string(),
        ..week_of("2026-11-18", "")
    };
    assert_eq!(
        counts(&reports.compute(&mei, of_ravi).await.unwrap().summary),
        (2, 1)
    );

    // A rep reads only their own; a manager not another team's rep.
    let east = pb::ComputeWorkReportRequest {
        team_path: EAST.into(),
        ..week_of("2026-11-18", "")
    };
    let of = |caller: &Caller| pb::ComputeWorkReportRequest {
        user_id: caller.user_id.to_string(),
        ..week_of("2026-11-18", "")
    };
    for (who, request) in [
        (&ravi, east),
        (&ravi, of(&reports.nora)),
        (&mei, of(&reports.wes)),
    ] {
        let refused = reports.compute(who, request).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    }
    let mars = reports
        .compute(&ravi, week_of("2026-11-18", "Mars/Olympus_Mons"))
        .await
        .unwrap_err();
    assert_eq!(mars.code(), Code::FailedPrecondition, "{mars:?}");
    assert_eq!(fields(&mars), ["time_zone"]);
    let both = pb::ComputeWorkReportRequest {
        user_id: ravi.user_id.to_string(),
        team_path: EAST.into(),
        ..week_of("2026-11-18", "")
    };
    let both = reports.compute(&ravi, both).await.unwrap_err();
    assert_eq!(fields(&both), ["team_path"]);
}

#[tokio::test]
async fn this_weeks_report_shows_the_deal_created_moved_and_its_next_step() {
    let reports = Reports::open().await;
    let (ravi, harness) = (reports.log.ravi.clone(), &reports.log.harness);
    let mut deals = harness.deals.clone();
    let moved = pb::ChangeStageRequest {
        opportunity_id: reports.log.deal_id.clone(),
        stage_id: DEVELOP.into(),
        expected_version: 0,
    };
    deals
        .change_stage(harness.request(&ravi, moved))
        .await
        .unwrap();
    let next_step = pb::UpdateOpportunityRequest {
        opportunity_id: reports.log.deal_id.clone(),
        patch: Some(pb::OpportunityPatch {
            next_step: Some("Send the proposal".into()),
            ..Default::default()
        }),
        expected_version: 0,
    };
    deals
        .update_opportunity(harness.request(&ravi, next_step))
        .await
        .unwrap();

    let week = reports.compute(&ravi, week_of("", "")).await.unwrap();
    let summary = week.summary.unwrap();
    assert_eq!(
        (
            summary.deals_created,
            summary.deals_moved_forward,
            summary.deals_moved_back
        ),
        (1, 1, 0)
    );
    assert_eq!(week.moves.len(), 1);
    let deal_move = &week.moves[0];
    assert_eq!(
        (
            deal_move.from_stage_name.as_str(),
            deal_move.to_stage_name.as_str(),
            deal_move.forward
        ),
        ("Qualify", "Develop", true)
    );
    assert_eq!(week.next_steps.len(), 1);
    assert_eq!(week.next_steps[0].next_step, "Send the proposal");
    assert_eq!(week.next_steps[0].stage_name, "Develop");
}

#[tokio::test]
async fn the_schedule_generates_a_completed_weeks_reports_once_for_reps_and_their_teams() {
    let reports = Reports::open().await;
    let (ravi, mei) = (reports.log.ravi.clone(), reports.log.mei.clone());
    let context = reports
        .log
        .harness
        .app
        .services
        .context("opportunities")
        .unwrap();
    // On Wednesday the 25th the last completed week is the 16th to the 22nd (and the month
    // October, without work): Ravi's, Nora's and Wes's reports and their teams' —
    // /northwind/, /northwind/east/, /northwind/east/east-1/ and /northwind/west/.
    let now = november(25, 12);
    let (first, second) = tokio::join!(
        crm_opportunities::run_job(context, crm_opportunities::WORK_REPORTS, now),
        crm_opportunities::run_job(context, crm_opportunities::WORK_REPORTS, now),
    );
    assert_eq!(first.unwrap() + second.unwrap(), 7);
    assert_eq!(
        crm_opportunities::run_job(context, crm_opportunities::WORK_REPORTS, now)
            .await
            .unwrap(),
        0
    );
    let events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE event_type = 'crm.opportunities.v1.WorkReportGenerated'",
    )
    .fetch_one(reports.log.harness.app.pool("opportunities"))
    .await
    .unwrap();
    assert_eq!(events, 7);

    let own = (ravi.user_id.to_string(), EAST_1.to_string());
    assert_eq!(reports.listed(&ravi).await, std::slice::from_ref(&own));
    let mut east = vec![
        own,
        (reports.nora.user_id.to_string(), EAST_1.to_string()),
        (String::new(), EAST.to_string()),
        (String::new(), EAST_1.to_string()),
    ];
    east.sort();
    assert_eq!(reports.listed(&mei).await, east);
    let admin = reports.log.harness.admin.clone();
    assert_eq!(reports.listed(&admin).await.len(), 7);

    // The generated report is what computing it gives, kept whole; out of reach, NOT_FOUND.
    let request = reports.log.harness.request(
        &ravi,
        pb::ListWorkReportsRequest {
            user_id: ravi.user_id.to_string(),
            ..Default::default()
        },
    );
    let listed = reports
        .client
        .clone()
        .list_work_reports(request)
        .await
        .unwrap();
    let stored = listed.into_inner().reports.remove(0);
    assert_eq!(counts(&stored.summary), (2, 1));
    let get = |caller: &Caller| {
        reports.log.harness.request(
            caller,
            pb::GetWorkReportRequest {
                report_id: stored.id.clone(),
            },
        )
    };
    let got = reports
        .client
        .clone()
        .get_work_report(get(&mei))
        .await
        .unwrap();
    assert_eq!(got.into_inner().report.unwrap(), stored);
    let hidden = reports
        .client
        .clone()
        .get_work_report(get(&reports.wes))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
}
