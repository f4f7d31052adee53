//! Statements (C4) over real PostgreSQL and NATS, the test standing in for the opportunities
//! and forecasting services by publishing their events. Ravi's senior plan pays 5 % up to his
//! monthly quota of 1,000,000.00 and 8 % above it, on payment. Every number is worked out by
//! hand beside it:
//!
//! October: Fabrikam won for 400,000 (5 % → 20,000.00 earned), Contoso won for 1,150,000 —
//! 600,000 up to the quota at 5 % (30,000.00), 550,000 above it at 8 % (44,000.00) — and 30 %
//! of Contoso paid (345,000): 30 % of its 74,000.00 released, 22,200.00. Closed.
//!
//! November: Contoso reopened and lost — what October paid on it, 22,200.00, clawed back; half
//! of Fabrikam paid on 28 October but recorded after the close — a late entry of October,
//! releasing 50 % of 20,000.00 = 10,000.00 in November; a spot bonus of 500.00. Total −11,700.00.

mod support;

use crm_proto::crm::{
    compensation::v1::{
        self as pb, assignment_service_client::AssignmentServiceClient,
        plan_service_client::PlanServiceClient, statement_service_client::StatementServiceClient,
    },
    opportunities::v1::{OpportunityLost, OpportunityReopened, OpportunityStatus, OpportunityWon},
};
use crm_test_support::{TestApp, authorized};
use support::{ADA, MEI, NORA, RAVI, caller, cny, deal, payment, quota, start, when};
use tonic::{Code, transport::Channel};
use uuid::Uuid;

fn tier(from: &str, rate: &str) -> pb::Tier {
    pb::Tier {
        from_attainment: from.into(),
        rate: rate.into(),
    }
}

fn senior_plan() -> pb::SavePlanRequest {
    pb::SavePlanRequest {
        name: "Senior field sales".into(),
        currency_code: "CNY".into(),
        versions: vec![pb::PlanVersion {
            version: 1,
            effective_from: "2026-01-01".into(),
            period: pb::PlanPeriod::Month as i32,
            commission: Some(pb::Commission {
                tiers: vec![tier("0", "5"), tier("100", "8")],
                tiering: pb::Tiering::Marginal as i32,
                payout: pb::Payout::OnPayment as i32,
                ..Default::default()
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

struct Clients {
    plans: PlanServiceClient<Channel>,
    assignments: AssignmentServiceClient<Channel>,
    statements: StatementServiceClient<Channel>,
}

impl Clients {
    async fn new(app: &TestApp) -> Self {
        let channel = app.channel().await;
        Clients {
            plans: PlanServiceClient::new(channel.clone()),
            assignments: AssignmentServiceClient::new(channel.clone()),
            statements: StatementServiceClient::new(channel),
        }
    }

    async fn statement(
        &mut self,
        app: &TestApp,
        as_who: &str,
        of: &str,
        period: &str,
    ) -> Result<pb::Statement, tonic::Status> {
        self.statements
            .get_statement(authorized(
                pb::GetStatementRequest {
                    user_id: of.into(),
                    period: period.into(),
                },
                &app.token(&caller(as_who)),
            ))
            .await
            .map(|reply| reply.into_inner().statement.unwrap())
    }
}

/// (component, deal, tier, amount, late entry of) of every line.
fn lines(statement: &pb::Statement) -> Vec<(pb::Component, String, u32, String, String)> {
    statement
        .lines
        .iter()
        .map(|line| {
            (
                line.component(),
                line.deal_name.clone(),
                line.tier,
                line.amount.as_ref().unwrap().amount.clone(),
                line.adjusts_period.clone(),
            )
        })
        .collect()
}

fn line(
    component: pb::Component,
    deal: &str,
    tier: u32,
    amount: &str,
    late: &str,
) -> (pb::Component, String, u32, String, String) {
    (component, deal.into(), tier, amount.into(), late.into())
}

fn total(statement: &pb::Statement) -> &str {
    &statement.total.as_ref().unwrap().amount
}

#[tokio::test]
async fn the_senior_plan_pays_at_the_quota_boundary_releases_on_payment_and_claws_back_after_the_close()
 {
    let app = start().await;
    let mut clients = Clients::new(&app).await;
    let ada = app.token(&caller(ADA));
    let plan = clients
        .plans
        .save_plan(authorized(senior_plan(), &ada))
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(plan.revision, 1);
    clients
        .assignments
        .assign_plan(authorized(
            pb::AssignPlanRequest {
                user_id: RAVI.into(),
                plan_id: plan.plan_id.clone(),
                from: "2026-01-01".into(),
                until: String::new(),
            },
            &ada,
        ))
        .await
        .unwrap();
    // A second plan over the same days is refused, naming the first.
    let overlapping = clients
        .assignments
        .assign_plan(authorized(
            pb::AssignPlanRequest {
                user_id: RAVI.into(),
                plan_id: plan.plan_id.clone(),
                from: "2026-06-01".into(),
                until: String::new(),
            },
            &ada,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        overlapping.code(),
        Code::FailedPrecondition,
        "{overlapping:?}"
    );
    let details = tonic_types::StatusExt::get_details_bad_request(&overlapping).unwrap();
    assert_eq!(details.field_violations[0].field, "from");
    assert!(
        details.field_violations[0]
            .description
            .contains("must not overlap"),
        "{overlapping:?}"
    );

    for month in ["2026-10", "2026-11"] {
        app.publish_event("compensation", &quota(RAVI, month, "1000000.00", 1))
            .await;
    }
    let fabrikam = Uuid::now_v7();
    let contoso = Uuid::now_v7();
    let won = |id: Uuid, name: &str, amount: &str, day: &str| OpportunityWon {
        opportunity: Some(deal(id, name, amount, 3, OpportunityStatus::Won, day)),
        change: when(day),
        ..Default::default()
    };
    let fabrikam_won = won(fabrikam, "Fabrikam", "400000.00", "2026-10-05");
    let contoso_won = won(
        contoso,
        "Contoso — Line 3 automation",
        "1150000.00",
        "2026-10-20",
    );
    let first_payment = payment(contoso, "345000.00", "2026-10-25");
    app.publish_event("compensation", &fabrikam_won).await;
    app.publish_event("compensation", &contoso_won).await;
    app.publish_event("compensation", &first_payment).await;
    app.handled("compensation", 5).await;

    let october = clients.statement(&app, RAVI, "", "2026-10").await.unwrap();
    use pb::Component::{Adjustment, Clawback, CommissionEarned, CommissionReleased};
    assert_eq!(
        lines(&october),
        [
            line(CommissionEarned, "Fabrikam", 1, "20000.00", ""),
            line(
                CommissionEarned,
                "Contoso — Line 3 automation",
                1,
                "30000.00",
                ""
            ),
            line(
                CommissionEarned,
                "Contoso — Line 3 automation",
                2,
                "44000.00",
                ""
            ),
            line(
                CommissionReleased,
                "Contoso — Line 3 automation",
                0,
                "22200.00",
                ""
            ),
        ]
    );
    assert_eq!(total(&october), "22200.00");
    assert_eq!(october.attainment_percent, "155.00");
    assert_eq!(october.status(), pb::StatementStatus::Open);
    assert_eq!(october.lines[1].base, "600000");
    assert_eq!(october.lines[2].rate, "8");

    // Computing again gives the same statement; Mei reads it, Nora may not.
    assert_eq!(
        clients.statement(&app, MEI, RAVI, "2026-10").await.unwrap(),
        october
    );
    let denied = clients
        .statement(&app, NORA, RAVI, "2026-10")
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    // Only an admin closes, only once, and only an ended period.
    let close = |period: &str, who: &str| {
        authorized(
            pb::ClosePeriodRequest {
                period: period.into(),
            },
            &app.token(&caller(who)),
        )
    };
    assert_eq!(
        clients
            .statements
            .close_period(close("2026-10", MEI))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    let closed = clients
        .statements
        .close_period(close("2026-10", ADA))
        .await
        .unwrap()
        .into_inner()
        .closed
        .unwrap();
    assert_eq!(
        (
            closed.statement_count,
            closed.total.unwrap().amount.as_str()
        ),
        (1, "22200.00")
    );
    let again = clients
        .statements
        .close_period(close("2026-10", ADA))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);
    let unended = clients
        .statements
        .close_period(close("2027-01", ADA))
        .await
        .unwrap_err();
    assert_eq!(unended.code(), Code::FailedPrecondition, "{unended:?}");
    let locked = clients.statement(&app, RAVI, "", "2026-10").await.unwrap();
    assert_eq!(locked.status(), pb::StatementStatus::Closed);
    assert_eq!(lines(&locked), lines(&october));

    // November: Contoso reopened and lost; Fabrikam's late payment of 28 October.
    let reopened = OpportunityReopened {
        opportunity: Some(deal(
            contoso,
            "Contoso — Line 3 automation",
            "1150000.00",
            4,
            OpportunityStatus::Open,
            "",
        )),
        change: when("2026-11-05"),
        previous_status: OpportunityStatus::Won as i32,
        ..Default::default()
    };
    let lost = OpportunityLost {
        opportunity: Some(deal(
            contoso,
            "Contoso — Line 3 automation",
            "1150000.00",
            5,
            OpportunityStatus::Lost,
            "",
        )),
        change: when("2026-11-06"),
        ..Default::default()
    };
    app.publish_event("compensation", &reopened).await;
    app.publish_event("compensation", &lost).await;
    let late = payment(fabrikam, "200000.00", "2026-10-28");
    let late_id = Uuid::now_v7();
    app.publish_event_as("compensation", &late, late_id, &late_id.to_string())
        .await;
    app.handled("compensation", 8).await;
    let adjusted = clients
        .statements
        .adjust_statement(authorized(
            pb::AdjustStatementRequest {
                user_id: RAVI.into(),
                period: "2026-11".into(),
                amount: Some(cny("500.00")),
                note: "spot bonus: the Fabrikam reference visit".into(),
            },
            &ada,
        ))
        .await
        .unwrap()
        .into_inner()
        .statement
        .unwrap();
    assert_eq!(
        lines(&adjusted),
        [
            line(CommissionReleased, "Fabrikam", 0, "10000.00", "2026-10"),
            line(Clawback, "Contoso — Line 3 automation", 0, "-22200.00", ""),
            line(Adjustment, "", 0, "500.00", ""),
        ]
    );
    assert_eq!(total(&adjusted), "-11700.00");
    assert_eq!(adjusted.attainment_percent, "0.00");
    // A closed period takes no adjustment, and its statement did not move.
    let refused = clients
        .statements
        .adjust_statement(authorized(
            pb::AdjustStatementRequest {
                user_id: RAVI.into(),
                period: "2026-10".into(),
                amount: Some(cny("1.00")),
                note: "too late".into(),
            },
            &ada,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(
        clients.statement(&app, RAVI, "", "2026-10").await.unwrap(),
        locked
    );

    // A redelivery, then every event replayed as new events: nothing changes.
    app.publish_event_as("compensation", &late, late_id, "again")
        .await;
    app.publish_event("compensation", &fabrikam_won).await;
    app.publish_event("compensation", &contoso_won).await;
    app.publish_event("compensation", &first_payment).await;
    app.publish_event("compensation", &reopened).await;
    app.publish_event("compensation", &lost).await;
    app.publish_event("compensation", &late).await;
    for month in ["2026-10", "2026-11"] {
        app.publish_event("compensation", &quota(RAVI, month, "1000000.00", 1))
            .await;
    }
    app.handled("compensation", 16).await;
    let november = clients.statement(&app, RAVI, "", "2026-11").await.unwrap();
    assert_eq!(november, adjusted);
    assert_eq!(
        clients.statement(&app, RAVI, "", "2026-10").await.unwrap(),
        locked
    );

    // The document: every line, escaped, the same bytes each time.
    let html = clients
        .statements
        .render_statement(authorized(
            pb::RenderStatementRequest {
                user_id: RAVI.into(),
                period: "2026-10".into(),
            },
            &ada,
        ))
        .await
        .unwrap()
        .into_inner();
    let text = String::from_utf8(html.data).unwrap();
    assert!(text.contains("CNY 44000.00") && text.contains("Senior field sales version 1"));

    // The plan's version paid October: it may end later, never change.
    let mut rerated = senior_plan();
    rerated.plan_id = plan.plan_id.clone();
    rerated.revision = 1;
    rerated.versions[0].commission.as_mut().unwrap().tiers[1].rate = "9".into();
    let refused = clients
        .plans
        .save_plan(authorized(rerated, &ada))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");

    // Mei's team page: Ravi alone has a plan.
    let team = clients
        .statements
        .list_team_statements(authorized(
            pb::ListTeamStatementsRequest {
                team_path: String::new(),
                period: "2026-10".into(),
            },
            &app.token(&caller(MEI)),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(team.statements.len(), 1);
    assert_eq!(
        (team.statements[0].rank, team.statements[0].user_id.as_str()),
        (1, RAVI)
    );
    assert_eq!(team.total.unwrap().amount, "22200.00");
}

#[tokio::test]
async fn a_plan_is_checked_whole_and_every_problem_named() {
    let app = start().await;
    let mut clients = Clients::new(&app).await;
    let mut plan = senior_plan();
    plan.versions[0].commission.as_mut().unwrap().tiers = vec![tier("0", "5"), tier("0", "120")];
    plan.versions.push(pb::PlanVersion {
        version: 3,
        effective_from: "2026-06-01".into(),
        ..plan.versions[0].clone()
    });
    let refused = clients
        .plans
        .save_plan(authorized(plan, &app.token(&caller(ADA))))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let details = tonic_types::StatusExt::get_details_bad_request(&refused).expect("field details");
    let fields: Vec<&str> = details
        .field_violations
        .iter()
        .map(|violation| violation.field.as_str())
        .collect();
    assert!(
        fields.contains(&"versions[0].commission.tiers[1].rate"),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"versions[0].commission.tiers[1].from_attainment"),
        "{fields:?}"
    );
    assert!(fields.contains(&"versions[1].version"), "{fields:?}");
    assert!(fields.contains(&"versions[1].effective_from"), "{fields:?}");
    // Nobody but an admin saves a plan.
    let denied = clients
        .plans
        .save_plan(authorized(senior_plan(), &app.token(&caller(MEI))))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
}
