//! Work reports' rows of the matrix (WorkReportService, docs/api.md): a rep reads their own
//! reports; a manager theirs, their team subtree's and its reps'; an admin every one. Computing
//! one out of reach is PERMISSION_DENIED; a generated one out of reach does not exist
//! (NOT_FOUND) and is not listed. Run by `opportunities::run_actions` over the same
//! organisation, transports and report.
//!
//! The generated reports are the schedule's, run once on demand for a week of January 2026
//! in which Ravi, Nora and Wes each logged a call: it writes their reports and those of every
//! team above them (East, West and the company).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use crm_platform::time::to_timestamp;
use crm_proto::crm::opportunities::v1::{
    self as pb, activity_service_client::ActivityServiceClient,
    work_report_service_client::WorkReportServiceClient,
};
use crm_test_support::authorized;
use tonic::transport::Channel;
use uuid::Uuid;

use super::super::{
    DENIED, Expect, Http, NOT_FOUND, OK, Org, Pool, Refusal, Report, Transport, Who, no_ids, page,
};
use super::{query, run_table};

/// One work report call: the request as the RPC takes it.
#[derive(Clone, Debug)]
pub(crate) enum Call {
    Compute(pb::ComputeWorkReportRequest),
    /// Answers the report ids listed.
    List(pb::ListWorkReportsRequest),
    Get(pb::GetWorkReportRequest),
}

/// Whose report a cell is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Whose {
    /// Neither `user_id` nor `team_path`: the caller's own.
    Mine,
    Rep(Who),
    /// A team's report: East, the company (`/acme/`) or West.
    Team(Pool),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// ComputeWorkReport of the week, now.
    Compute(Whose),
    /// The generated report: GetWorkReport, and in ListWorkReports.
    Get(Whose),
    List(Whose),
}

#[rustfmt::skip]
const ACTIONS: &[(Action, Expect, Expect, Expect)] = &[
    // action                                           admin  manager    rep
    (Action::Compute(Whose::Mine),                      OK,    OK,        OK),
    (Action::Compute(Whose::Rep(Who::Ravi)),            OK,    OK,        OK),
    (Action::Compute(Whose::Rep(Who::Nora)),            OK,    OK,        DENIED),
    (Action::Compute(Whose::Rep(Who::Wes)),             OK,    DENIED,    DENIED),
    (Action::Compute(Whose::Team(Pool::East)),          OK,    OK,        DENIED),
    (Action::Compute(Whose::Team(Pool::Company)),       OK,    DENIED,    DENIED),
    (Action::Compute(Whose::Team(Pool::West)),          OK,    DENIED,    DENIED),
    (Action::Get(Whose::Rep(Who::Ravi)),                OK,    OK,        OK),
    (Action::Get(Whose::Rep(Who::Nora)),                OK,    OK,        NOT_FOUND),
    (Action::Get(Whose::Rep(Who::Wes)),                 OK,    NOT_FOUND, NOT_FOUND),
    (Action::Get(Whose::Team(Pool::East)),              OK,    OK,        NOT_FOUND),
    (Action::Get(Whose::Team(Pool::Company)),           OK,    NOT_FOUND, NOT_FOUND),
    (Action::Get(Whose::Team(Pool::West)),              OK,    NOT_FOUND, NOT_FOUND),
    (Action::List(Whose::Rep(Who::Ravi)),               OK,    OK,        OK),
    (Action::List(Whose::Rep(Who::Nora)),               OK,    OK,        NOT_FOUND),
    (Action::List(Whose::Rep(Who::Wes)),                OK,    NOT_FOUND, NOT_FOUND),
    (Action::List(Whose::Team(Pool::East)),             OK,    OK,        NOT_FOUND),
    (Action::List(Whose::Team(Pool::Company)),          OK,    NOT_FOUND, NOT_FOUND),
    (Action::List(Whose::Team(Pool::West)),             OK,    NOT_FOUND, NOT_FOUND),
];

/// The reported week (Monday 5 to Sunday 11 January 2026), a moment in it, and the schedule's
/// clock the next day: its last completed week is the reported one.
const WEEK_DAY: &str = "2026-01-07";
const IN_THE_WEEK: &str = "2026-01-07T09:30:00Z";
const SCHEDULE_CLOCK: &str = "2026-01-12T06:00:00Z";

fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

/// The generated reports of the reported week, by whose they are.
async fn generate(org: &Org) -> HashMap<Whose, String> {
    for who in [Who::Ravi, Who::Nora, Who::Wes] {
        let call = pb::LogActivityRequest {
            activity: Some(pb::ActivityInput {
                kind: pb::ActivityKind::Call.into(),
                subject: "Pilot review".into(),
                starts_at: Some(to_timestamp(instant(IN_THE_WEEK))),
                ..Default::default()
            }),
            regarding: Some(pb::Regarding {
                lead_id: Uuid::now_v7().to_string(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let logged = ActivityServiceClient::new(org.channel.clone())
            .log_activity(authorized(call, org.token(who)))
            .await;
        logged.unwrap_or_else(|status| panic!("{who:?} logs a call: {status}"));
    }
    let context = org.app.services.context("opportunities").unwrap();
    let clock = instant(SCHEDULE_CLOCK);
    let generated = crm_opportunities::run_job(context, crm_opportunities::WORK_REPORTS, clock)
        .await
        .unwrap();
    let list = pb::ListWorkReportsRequest {
        page: page(),
        period: pb::WorkReportPeriod::Week.into(),
        ..Default::default()
    };
    let listed = WorkReportServiceClient::new(org.channel.clone())
        .list_work_reports(authorized(list, org.token(Who::Ada)))
        .await
        .unwrap()
        .into_inner()
        .reports;
    let whose = |report: &pb::WorkReport| {
        if report.user_id.is_empty() {
            [Pool::East, Pool::Company, Pool::West]
                .into_iter()
                .find(|&pool| org.pool_team(pool).path == report.team_path)
                .map(Whose::Team)
        } else {
            [Who::Ravi, Who::Nora, Who::Wes]
                .into_iter()
                .find(|&who| org.people[&who].id == report.user_id)
                .map(Whose::Rep)
        }
    };
    let reports: HashMap<Whose, String> = listed
        .iter()
        .filter_map(|report| Some((whose(report)?, report.id.clone())))
        .collect();
    assert_eq!(
        reports.len(),
        6,
        "three reps' and three teams' reports ({generated} generated)"
    );
    reports
}

fn compute(org: &Org, whose: Whose) -> pb::ComputeWorkReportRequest {
    let (user_id, team_path) = match whose {
        Whose::Mine => (String::new(), String::new()),
        Whose::Rep(who) => (org.people[&who].id.clone(), String::new()),
        Whose::Team(pool) => (String::new(), org.pool_team(pool).path.clone()),
    };
    pb::ComputeWorkReportRequest {
        user_id,
        team_path,
        period: pb::WorkReportPeriod::Week.into(),
        date: WEEK_DAY.into(),
        time_zone: String::new(),
    }
}

/// The call an action makes, and for a listing the id it shows exactly when the cell is
/// readable. Nothing here changes anything: every cell reads the same reports.
fn prepare(org: &Org, reports: &HashMap<Whose, String>, action: Action) -> (Call, Option<String>) {
    match action {
        Action::Compute(whose) => (Call::Compute(compute(org, whose)), None),
        Action::Get(whose) => {
            let report_id = reports[&whose].clone();
            (Call::Get(pb::GetWorkReportRequest { report_id }), None)
        }
        Action::List(whose) => {
            let list = pb::ListWorkReportsRequest {
                page: page(),
                ..Default::default()
            };
            (Call::List(list), Some(reports[&whose].clone()))
        }
    }
}

pub(super) async fn run_actions<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    let reports = generate(org).await;
    run_table(org, transport, report, ACTIONS, async |action, _| {
        let (call, listed) = prepare(org, &reports, action);
        (super::Call::WorkReports(call), listed)
    })
    .await;
}

/// A call straight to the service's gRPC API.
pub(crate) async fn grpc(
    client: &WorkReportServiceClient<Channel>,
    token: &str,
    call: Call,
) -> Result<Vec<String>, Refusal> {
    let mut client = client.clone();
    let answered = match call {
        Call::Compute(r) => client
            .compute_work_report(authorized(r, token))
            .await
            .map(no_ids),
        Call::List(r) => client
            .list_work_reports(authorized(r, token))
            .await
            .map(|listed| {
                let listed = listed.into_inner().reports;
                listed.into_iter().map(|report| report.id).collect()
            }),
        Call::Get(r) => client
            .get_work_report(authorized(r, token))
            .await
            .map(no_ids),
    };
    Ok(answered?)
}

/// A call through the gateway's HTTP/JSON front door.
pub(crate) async fn http(door: &Http, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
    use http::Method;
    let path = match call {
        Call::Compute(r) => {
            let fields = [
                ("user_id", r.user_id.as_str()),
                ("team_path", r.team_path.as_str()),
                ("period", "WORK_REPORT_PERIOD_WEEK"),
                ("date", r.date.as_str()),
            ];
            format!("/v1/workReports:compute{}", query(&fields))
        }
        Call::List(_) => {
            return door
                .list("/v1/workReports?page.page_size=500", token, "reports")
                .await;
        }
        Call::Get(r) => format!("/v1/workReports/{}", r.report_id),
    };
    door.send(Method::GET, &path, token, None).await.map(no_ids)
}
