//! The rep roster follows the organisation's directory (the gateway's org events), and the
//! directory decides which team a rep's own new and claimed leads are filed under: a token
//! issued before a team move carries the old team for up to the access-token lifetime.

mod support;

use std::time::Duration;

use crm_platform::{
    auth::Caller,
    events::{self, DomainEvent},
};
use crm_proto::crm::common::v1 as common;
use crm_proto::crm::{
    gateway::v1::{self as gateway_pb, UserCreated, UserUpdated},
    leads::v1 as pb,
};
use crm_test_support::{eventually, user};
use support::Harness;
use tonic::Code;

const EAST_1: &str = "/northwind/east/east-1/";
const WEST_1: &str = "/northwind/west/west-1/";

async fn start() -> Harness {
    let harness = Harness::start().await;
    let context = harness.app.services.context("leads").unwrap();
    // The gateway would create its stream; here the test stands in for it.
    events::ensure_stream(
        &context.jetstream,
        &context.naming,
        "gateway",
        Duration::from_secs(120),
    )
    .await
    .unwrap();
    harness
}

/// Publishes an org event as the gateway would.
async fn publish<E: DomainEvent>(harness: &Harness, event: &E) {
    harness.app.publish_event("leads", event).await;
}

fn directory_user(caller: &Caller, team: &str) -> gateway_pb::User {
    gateway_pb::User {
        id: caller.user_id.to_string(),
        display_name: "Ravi".into(),
        role: gateway_pb::Role::Rep as i32,
        team_path: team.into(),
        started_on: "2023-01-01".into(),
        active: true,
        ..Default::default()
    }
}

/// The rep's team on the roster.
async fn roster_team(harness: &Harness, rep: &Caller) -> Option<String> {
    sqlx::query_scalar("SELECT team_path FROM reps WHERE rep_id = $1")
        .bind(rep.user_id)
        .fetch_optional(harness.app.pool("leads"))
        .await
        .unwrap()
}

async fn wait_for_team(harness: &Harness, rep: &Caller, team: &str) {
    eventually(
        Duration::from_secs(15),
        &format!("the roster puts the rep in {team}"),
        || async { roster_team(harness, rep).await.as_deref() == Some(team) },
    )
    .await;
}

/// A lead in the pool of `manager`'s team.
async fn pool_lead(harness: &Harness, manager: &Caller, name: &str) -> pb::Lead {
    harness
        .create(
            manager,
            pb::LeadInput {
                last_name: name.into(),
                company: format!("{name} Ltd"),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .lead
        .unwrap()
}

#[tokio::test]
async fn a_reps_token_from_before_a_move_does_not_file_their_new_or_claimed_leads_under_the_old_team()
 {
    let harness = start().await;
    let ada = user("admin", "/northwind");
    let east_manager = user("manager", "/northwind/east");

    let ravi = user("rep", EAST_1);
    publish(
        &harness,
        &UserCreated {
            user: Some(gateway_pb::User {
                version: 1,
                ..directory_user(&ravi, EAST_1)
            }),
        },
    )
    .await;
    wait_for_team(&harness, &ravi, EAST_1).await;
    // Ravi's session began in East: his token keeps saying so after the move.
    let before = harness
        .create(
            &ravi,
            pb::LeadInput {
                last_name: "Before".into(),
                company: "Before Ltd".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .lead
        .unwrap();
    assert_eq!(before.owner_team_path, EAST_1);
    publish(
        &harness,
        &UserUpdated {
            user: Some(gateway_pb::User {
                version: 2,
                ..directory_user(&ravi, WEST_1)
            }),
            changed_fields: vec!["team".into()],
            previous_team_path: EAST_1.into(),
        },
    )
    .await;
    wait_for_team(&harness, &ravi, WEST_1).await;
    eventually(
        Duration::from_secs(15),
        "Ravi's lead follows him to West",
        || async {
            harness
                .lead(&ada, &before.id)
                .await
                .is_ok_and(|lead| lead.owner_team_path == WEST_1)
        },
    )
    .await;

    // A lead he captures with the old token is filed under West.
    let captured = harness
        .create(
            &ravi,
            pb::LeadInput {
                last_name: "After".into(),
                company: "After Ltd".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .lead
        .unwrap();
    assert_eq!(captured.owner_team_path, WEST_1, "captured after the move");

    // So is a lead he claims from a pool his (old) token still works.
    let pooled = pool_lead(&harness, &ada, "Pooled").await;
    assert_eq!(pooled.pool_team_path, "/northwind/");
    let claimed = harness
        .leads
        .clone()
        .claim_lead(harness.auth(
            &ravi,
            pb::ClaimLeadRequest {
                lead_id: pooled.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .lead
        .unwrap();
    assert_eq!(claimed.owner_team_path, WEST_1, "claimed after the move");

    // Assigned leads take the roster's team; East's manager no longer reaches him.
    let to_assign = pool_lead(&harness, &east_manager, "Assigned").await;
    let assign = |manager: &Caller| {
        let mut client = harness.leads.clone();
        let request = harness.auth(
            manager,
            pb::AssignLeadRequest {
                lead_id: to_assign.id.clone(),
                rep_id: ravi.user_id.to_string(),
            },
        );
        async move { client.assign_lead(request).await }
    };
    assert_eq!(
        assign(&east_manager).await.unwrap_err().code(),
        Code::PermissionDenied
    );
    let assigned = assign(&ada).await.unwrap().into_inner().lead.unwrap();
    assert_eq!(assigned.owner_team_path, WEST_1, "assigned after the move");

    // Sales operations cannot put him back in East: the directory decides his team.
    let refused = harness
        .admin
        .clone()
        .put_rep(harness.auth(
            &east_manager,
            pb::PutRepRequest {
                rep: Some(pb::Rep {
                    rep_id: ravi.user_id.to_string(),
                    team_path: EAST_1.into(),
                    display_name: "Ravi".into(),
                    stage: common::LifecycleStage::Established as i32,
                    started_on: "2023-01-01".into(),
                    capacity: 50,
                    claim_cap: 20,
                    active: true,
                    open_leads: 0,
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert_eq!(roster_team(&harness, &ravi).await.as_deref(), Some(WEST_1));
}

#[tokio::test]
async fn a_rep_the_directory_has_not_heard_of_is_filed_by_their_token() {
    let harness = start().await;
    let ada = user("admin", "/northwind");
    let wes = user("rep", WEST_1);
    // On the roster by sales operations only: the token's team still decides.
    harness
        .put_rep(
            &ada,
            &wes,
            "Wes",
            common::LifecycleStage::Established,
            "2023-01-01",
            20,
        )
        .await;
    let captured = harness
        .create(
            &wes,
            pb::LeadInput {
                last_name: "Token".into(),
                company: "Token Ltd".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .lead
        .unwrap();
    assert_eq!(captured.owner_team_path, WEST_1);
}

/// Managers' and admins' own captures go to a pool: the directory's team's, like a rep's own
/// leads, not the one a token from before a move carries.
#[tokio::test]
async fn a_managers_capture_goes_to_the_pool_of_the_directorys_team() {
    let harness = start().await;
    let nadia = user("manager", EAST_1);
    publish(
        &harness,
        &UserCreated {
            user: Some(gateway_pb::User {
                role: gateway_pb::Role::Manager as i32,
                version: 1,
                ..directory_user(&nadia, WEST_1)
            }),
        },
    )
    .await;
    eventually(
        Duration::from_secs(15),
        "the directory files Nadia under West",
        || async {
            sqlx::query_scalar::<_, String>("SELECT team_path FROM org_users WHERE user_id = $1")
                .bind(nadia.user_id)
                .fetch_optional(harness.app.pool("leads"))
                .await
                .unwrap()
                .as_deref()
                == Some(WEST_1)
        },
    )
    .await;
    let captured = pool_lead(&harness, &nadia, "Pooled").await;
    assert_eq!(captured.pool_team_path, WEST_1);
    assert!(captured.owner_id.is_empty());
}

/// A roster row the directory fed before org_users existed still files the rep's leads.
#[tokio::test]
async fn a_directory_rep_on_the_roster_from_before_is_in_the_directory() {
    let harness = start().await;
    let ravi = user("rep", EAST_1);
    let pool = harness.app.pool("leads");
    // What the roster held before this release: the directory's team, and no org_users row.
    sqlx::query(
        "INSERT INTO reps (rep_id, team_path, display_name, from_directory) VALUES ($1, $2, 'Ravi', true)",
    )
    .bind(ravi.user_id)
    .bind(WEST_1)
    .execute(pool)
    .await
    .unwrap();
    let migration =
        include_str!("../../../migrations/leads/20261202000001_org_users_from_roster.sql");
    sqlx::raw_sql(sqlx::AssertSqlSafe(migration))
        .execute(pool)
        .await
        .unwrap();
    let captured = harness
        .create(
            &ravi,
            pb::LeadInput {
                last_name: "Carried".into(),
                company: "Carried Ltd".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .lead
        .unwrap();
    assert_eq!(captured.owner_team_path, WEST_1);
}
