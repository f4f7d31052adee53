//! The compensation service's rows of the matrix (docs/api.md, "Compensation"), run by the
//! parent file's tests over the same organisation, transports and report: only an admin writes
//! plans and assignments, closes a period and adjusts a statement; a rep reads their own plan,
//! assignments and statements, a manager their team subtree's reps', an admin everyone's —
//! PERMISSION_DENIED otherwise. Everyone is on one plan (a base salary, so no quota is needed)
//! for the whole year; the rows run in order, the close of last month last.

use std::time::Duration;

use crm_platform::{
    money::CurrencyCode,
    org::{OrgDirectory, OrgSettings},
};
use crm_proto::crm::compensation::v1::{
    self as pb, assignment_service_client::AssignmentServiceClient,
    plan_service_client::PlanServiceClient, statement_service_client::StatementServiceClient,
};
use crm_test_support::{authorized, eventually};
use tonic::transport::Channel;

use super::{DENIED, Expect, Http, OK, Org, Pool, Refusal, Report, Transport, Who, no_ids};

#[derive(Clone, Debug)]
pub(crate) enum Call {
    SavePlan(pb::SavePlanRequest),
    GetPlan(pb::GetPlanRequest),
    ListPlans,
    Assign(pb::AssignPlanRequest),
    ListAssignments(pb::ListAssignmentsRequest),
    Statement(pb::GetStatementRequest),
    Render(pb::GetStatementRequest),
    Team(pb::ListTeamStatementsRequest),
    Adjust(pb::AdjustStatementRequest),
    Close(pb::ClosePeriodRequest),
    ListClosed,
}

/// Whose pay a cell is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Whose {
    Mine,
    Rep(Who),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    SavePlan,
    GetPlan,
    ListPlans,
    /// Next year, which nobody is assigned yet.
    Assign(Who),
    ListAssignments(Whose),
    Statement(Whose),
    Render(Whose),
    Team(Pool),
    Adjust(Who),
    ListClosed,
    /// Last month, closed by the first caller allowed to.
    Close,
}

#[rustfmt::skip]
const ACTIONS: &[(Action, Expect, Expect, Expect)] = &[
    // action                                          admin  manager  rep
    (Action::SavePlan,                                 OK,    DENIED,  DENIED),
    (Action::GetPlan,                                  OK,    OK,      OK),
    (Action::ListPlans,                                OK,    OK,      OK),
    (Action::Assign(Who::Nora),                        OK,    DENIED,  DENIED),
    (Action::ListAssignments(Whose::Mine),             OK,    OK,      OK),
    (Action::ListAssignments(Whose::Rep(Who::Nora)),   OK,    OK,      DENIED),
    (Action::ListAssignments(Whose::Rep(Who::Wes)),    OK,    DENIED,  DENIED),
    (Action::Statement(Whose::Mine),                   OK,    OK,      OK),
    (Action::Statement(Whose::Rep(Who::Ravi)),         OK,    OK,      OK),
    (Action::Statement(Whose::Rep(Who::Nora)),         OK,    OK,      DENIED),
    (Action::Statement(Whose::Rep(Who::Wes)),          OK,    DENIED,  DENIED),
    (Action::Render(Whose::Rep(Who::Nora)),            OK,    OK,      DENIED),
    (Action::Render(Whose::Rep(Who::Wes)),             OK,    DENIED,  DENIED),
    (Action::Team(Pool::East),                         OK,    OK,      DENIED),
    (Action::Team(Pool::West),                         OK,    DENIED,  DENIED),
    (Action::Team(Pool::Company),                      OK,    DENIED,  DENIED),
    (Action::Adjust(Who::Nora),                        OK,    DENIED,  DENIED),
    (Action::ListClosed,                               OK,    OK,      OK),
    (Action::Close,                                    OK,    DENIED,  DENIED),
];

fn this_month() -> chrono::NaiveDate {
    use chrono::Datelike;
    let today = chrono::Utc::now().date_naive();
    today.with_day(1).unwrap()
}

fn label(day: chrono::NaiveDate) -> String {
    day.format("%Y-%m").to_string()
}

fn plan(name: &str) -> pb::SavePlanRequest {
    pb::SavePlanRequest {
        name: name.into(),
        currency_code: "CNY".into(),
        versions: vec![pb::PlanVersion {
            version: 1,
            effective_from: "2020-01-01".into(),
            period: pb::PlanPeriod::Month as i32,
            base_salary: "10000".into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// The corporate currency as compensation knows it, one plan, everyone on it from last month
/// for a year; answers the plan's id.
async fn set_up(org: &Org) -> String {
    let pool = org.app.pool("compensation");
    eventually(
        Duration::from_secs(20),
        "compensation's directory knows everyone",
        || async {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM org_users WHERE from_directory")
                .fetch_one(pool)
                .await
                .unwrap()
                >= 5
        },
    )
    .await;
    let mut connection = pool.acquire().await.unwrap();
    let known = OrgDirectory::settings(&mut *connection).await.unwrap();
    let settings = OrgSettings {
        corporate_currency: Some(CurrencyCode::CNY),
        version: known.version + 1,
        ..known
    };
    OrgDirectory::record_settings(&mut connection, &settings)
        .await
        .unwrap();
    let ada = org.token(Who::Ada);
    let plan = PlanServiceClient::new(org.channel.clone())
        .save_plan(authorized(plan("Field sales"), ada))
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    let last_month = this_month() - chrono::Months::new(1);
    let mut assignments = AssignmentServiceClient::new(org.channel.clone());
    for who in Who::ALL {
        assignments
            .assign_plan(authorized(
                pb::AssignPlanRequest {
                    user_id: org.people[&who].id.clone(),
                    plan_id: plan.plan_id.clone(),
                    from: last_month.to_string(),
                    until: (last_month + chrono::Months::new(12)).to_string(),
                },
                ada,
            ))
            .await
            .unwrap();
    }
    plan.plan_id
}

fn user(org: &Org, whose: Whose) -> String {
    match whose {
        Whose::Mine => String::new(),
        Whose::Rep(who) => org.people[&who].id.clone(),
    }
}

fn prepare(org: &Org, plan_id: &str, action: Action) -> Call {
    let month = label(this_month());
    match action {
        Action::SavePlan => Call::SavePlan(plan("Inside sales")),
        Action::GetPlan => Call::GetPlan(pb::GetPlanRequest {
            plan_id: plan_id.into(),
        }),
        Action::ListPlans => Call::ListPlans,
        Action::Assign(who) => Call::Assign(pb::AssignPlanRequest {
            user_id: org.people[&who].id.clone(),
            plan_id: plan_id.into(),
            from: (this_month() + chrono::Months::new(24)).to_string(),
            until: String::new(),
        }),
        Action::ListAssignments(whose) => Call::ListAssignments(pb::ListAssignmentsRequest {
            user_id: user(org, whose),
        }),
        Action::Statement(whose) => Call::Statement(pb::GetStatementRequest {
            user_id: user(org, whose),
            period: month,
        }),
        Action::Render(whose) => Call::Render(pb::GetStatementRequest {
            user_id: user(org, whose),
            period: month,
        }),
        Action::Team(pool) => Call::Team(pb::ListTeamStatementsRequest {
            team_path: org.pool_team(pool).path.clone(),
            period: month,
        }),
        Action::Adjust(who) => Call::Adjust(pb::AdjustStatementRequest {
            user_id: org.people[&who].id.clone(),
            period: month,
            amount: Some(crm_proto::crm::common::v1::Money {
                currency_code: "CNY".into(),
                amount: "100.00".into(),
            }),
            note: "a correction".into(),
        }),
        Action::ListClosed => Call::ListClosed,
        Action::Close => Call::Close(pb::ClosePeriodRequest {
            period: label(this_month() - chrono::Months::new(1)),
        }),
    }
}

pub(super) async fn run_actions<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    let plan_id = set_up(org).await;
    super::run_table(org, transport, report, ACTIONS, async |action, _| {
        (
            super::Call::Compensation(prepare(org, &plan_id, action)),
            None,
        )
    })
    .await;
}

/// A call straight to the service's gRPC API.
pub(super) async fn grpc(
    channel: &Channel,
    token: &str,
    call: Call,
) -> Result<Vec<String>, Refusal> {
    let mut plans = PlanServiceClient::new(channel.clone());
    let mut assignments = AssignmentServiceClient::new(channel.clone());
    let mut statements = StatementServiceClient::new(channel.clone());
    let answered = match call {
        Call::SavePlan(r) => plans.save_plan(authorized(r, token)).await.map(no_ids),
        Call::GetPlan(r) => plans.get_plan(authorized(r, token)).await.map(no_ids),
        Call::ListPlans => plans
            .list_plans(authorized(pb::ListPlansRequest {}, token))
            .await
            .map(no_ids),
        Call::Assign(r) => assignments
            .assign_plan(authorized(r, token))
            .await
            .map(no_ids),
        Call::ListAssignments(r) => assignments
            .list_assignments(authorized(r, token))
            .await
            .map(no_ids),
        Call::Statement(r) => statements
            .get_statement(authorized(r, token))
            .await
            .map(no_ids),
        Call::Render(r) => statements
            .render_statement(authorized(
                pb::RenderStatementRequest {
                    user_id: r.user_id,
                    period: r.period,
                },
                token,
            ))
            .await
            .map(no_ids),
        Call::Team(r) => statements
            .list_team_statements(authorized(r, token))
            .await
            .map(no_ids),
        Call::Adjust(r) => statements
            .adjust_statement(authorized(r, token))
            .await
            .map(no_ids),
        Call::Close(r) => statements
            .close_period(authorized(r, token))
            .await
            .map(no_ids),
        Call::ListClosed => statements
            .list_closed_periods(authorized(pb::ListClosedPeriodsRequest {}, token))
            .await
            .map(no_ids),
    };
    Ok(answered?)
}

/// `?user_id=…&period=…` of the non-empty ones.
fn query(fields: &[(&str, &str)]) -> String {
    super::opportunities::query(fields)
}

/// A call through the gateway's HTTP/JSON front door.
pub(super) async fn http(door: &Http, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
    use http::Method;
    let get = async |path: String| door.send(Method::GET, &path, token, None).await.map(no_ids);
    let post = async |path: &str, body: Vec<u8>| {
        door.send(Method::POST, path, token, Some(body))
            .await
            .map(no_ids)
    };
    match call {
        Call::SavePlan(r) => post("/v1/compensation/plans", door.json(&r)).await,
        Call::GetPlan(r) => get(format!("/v1/compensation/plans/{}", r.plan_id)).await,
        Call::ListPlans => get("/v1/compensation/plans".into()).await,
        Call::Assign(r) => post("/v1/compensation/assignments", door.json(&r)).await,
        Call::ListAssignments(r) => {
            get(format!(
                "/v1/compensation/assignments{}",
                query(&[("user_id", &r.user_id)])
            ))
            .await
        }
        Call::Statement(r) => {
            let fields = [("user_id", r.user_id.as_str()), ("period", &r.period)];
            get(format!("/v1/compensation/statements{}", query(&fields))).await
        }
        Call::Render(r) => {
            let fields = [("user_id", r.user_id.as_str()), ("period", &r.period)];
            get(format!(
                "/v1/compensation/statements:render{}",
                query(&fields)
            ))
            .await
        }
        Call::Team(r) => {
            let fields = [("team_path", r.team_path.as_str()), ("period", &r.period)];
            get(format!(
                "/v1/compensation/statements:team{}",
                query(&fields)
            ))
            .await
        }
        Call::Adjust(r) => post("/v1/compensation/statements:adjust", door.json(&r)).await,
        Call::Close(r) => post("/v1/compensation/periods:close", door.json(&r)).await,
        Call::ListClosed => get("/v1/compensation/periods".into()).await,
    }
}
