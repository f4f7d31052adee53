//! The pool, fair assignment and recycling (L3, L4, L5), with the demo's cast.

mod support;

use crm_proto::crm::common::v1 as common;
use crm_proto::crm::leads::v1 as pb;
use crm_test_support::user;
use support::{EAST_1, Harness, li_wei};
use tonic::Code;

fn days_ago(days: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days))
        .date_naive()
        .to_string()
}

#[tokio::test]
async fn east_leads_go_to_east_1_with_more_for_the_new_rep_and_a_readable_reason() {
    let harness = Harness::start().await;
    let ada = user("admin", "/northwind");
    let ravi = user("rep", EAST_1);
    let nora = user("rep", EAST_1);
    harness
        .put_rep(
            &ada,
            &ravi,
            "Ravi",
            common::LifecycleStage::Senior,
            &days_ago(3 * 365),
            20,
        )
        .await;
    harness
        .put_rep(
            &ada,
            &nora,
            "Nora",
            common::LifecycleStage::New,
            &days_ago(12),
            20,
        )
        .await;
    harness
        .admin
        .clone()
        .put_assignment_rules(harness.auth(
            &ada,
            pb::PutAssignmentRulesRequest {
                team_path: "/northwind".into(),
                rules: vec![pb::AssignmentRule {
                    id: String::new(),
                    name: "East territory".into(),
                    criteria: Some(pb::RuleCriteria {
                        territories: vec!["east".into()],
                        ..Default::default()
                    }),
                    rep_ids: vec![ravi.user_id.to_string(), nora.user_id.to_string()],
                }],
            },
        ))
        .await
        .unwrap();

    let mut first_id = String::new();
    for index in 0..12 {
        let lead = harness
            .create(
                &ada,
                pb::LeadInput {
                    last_name: format!("Prospect {index}"),
                    company: format!("Company {index}"),
                    territory: "East".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .lead
            .unwrap();
        assert_eq!(
            lead.status,
            pb::LeadStatus::Assigned as i32,
            "assigned on capture"
        );
        if index == 0 {
            first_id = lead.id;
        }
    }
    let owned_by = |rep: uuid::Uuid| {
        let harness = &harness;
        async move {
            harness
                .count(
                    "leads",
                    &format!("SELECT count(*) FROM leads WHERE owner_id = '{rep}'"),
                )
                .await
        }
    };
    let (ravis, noras) = (owned_by(ravi.user_id).await, owned_by(nora.user_id).await);
    assert_eq!(ravis + noras, 12);
    assert!(
        noras > ravis,
        "the new rep gets more on her ramp: Nora {noras}, Ravi {ravis}"
    );

    let history = harness
        .leads
        .clone()
        .get_lead_history(harness.auth(&ada, pb::GetLeadHistoryRequest { lead_id: first_id }))
        .await
        .unwrap()
        .into_inner()
        .entries;
    let assigned = history
        .iter()
        .find(|entry| entry.kind == "assigned")
        .expect("assignment in history");
    assert!(
        assigned.summary.contains("East territory"),
        "{}",
        assigned.summary
    );
    assert!(
        assigned.summary.contains("Nora") && assigned.summary.contains("Ravi"),
        "{}",
        assigned.summary
    );
}

#[tokio::test]
async fn claims_respect_the_cap_and_stale_leads_are_warned_recycled_and_cooled_down() {
    let harness = Harness::start().await;
    let ada = user("admin", "/northwind");
    let ravi = user("rep", EAST_1);
    let nora = user("rep", EAST_1);
    harness
        .put_rep(
            &ada,
            &ravi,
            "Ravi",
            common::LifecycleStage::Senior,
            &days_ago(1000),
            1,
        )
        .await;
    harness
        .put_rep(
            &ada,
            &nora,
            "Nora",
            common::LifecycleStage::New,
            &days_ago(20),
            5,
        )
        .await;
    let first = harness.create(&ada, li_wei()).await.unwrap().lead.unwrap();
    let second = harness
        .create(
            &ada,
            pb::LeadInput {
                last_name: "Zhang".into(),
                company: "Fabrikam".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .lead
        .unwrap();

    let claim = |caller: &crm_platform::auth::Caller, id: &str| {
        let mut client = harness.leads.clone();
        let request = harness.auth(caller, pb::ClaimLeadRequest { lead_id: id.into() });
        async move { client.claim_lead(request).await }
    };
    claim(&ravi, &first.id).await.unwrap();
    let status = claim(&ravi, &second.id).await.unwrap_err();
    assert_eq!(
        status.code(),
        Code::FailedPrecondition,
        "a cap is a rule, not a throttle"
    );
    assert!(
        status.message().contains("claim cap reached: 1 of 1"),
        "{}",
        status.message()
    );
    claim(&nora, &second.id).await.unwrap();
    // Ravi's lead is out of Nora's sight once he owns it.
    assert_eq!(
        claim(&nora, &first.id).await.unwrap_err().code(),
        Code::NotFound
    );

    // Nora does not follow up. Day 5: warned; day 7: back in the pool.
    let backdate = |days: i64| {
        let pool = harness.app.pool("leads").clone();
        let id = second.id.clone();
        async move {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE leads SET assigned_at = now() - interval '{days} days', last_touched_at = now() - interval '{days} days' WHERE id = '{id}'"
            )))
            .execute(&pool)
            .await
            .unwrap();
        }
    };
    let recycle = || {
        let mut client = harness.leads.clone();
        let request = harness.auth(&ada, pb::RecycleStaleLeadsRequest {});
        async move { client.recycle_stale_leads(request).await }
    };
    backdate(5).await;
    let run = recycle().await.unwrap().into_inner();
    assert_eq!((run.warned, run.recycled), (1, 0));
    assert_eq!(
        recycle().await.unwrap().into_inner().warned,
        0,
        "warned once"
    );
    backdate(7).await;
    let run = recycle().await.unwrap().into_inner();
    assert_eq!((run.warned, run.recycled), (0, 1));
    let lead = harness.lead(&ada, &second.id).await.unwrap();
    assert!(lead.owner_id.is_empty());
    assert_eq!(lead.status, pb::LeadStatus::New as i32);

    let status = claim(&nora, &second.id).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status
            .message()
            .contains("you can claim this lead again after"),
        "{}",
        status.message()
    );
    // Ravi releases his first lead, then claims the recycled one.
    harness
        .leads
        .clone()
        .release_lead(harness.auth(
            &ravi,
            pb::ReleaseLeadRequest {
                lead_id: first.id.clone(),
                reason: "out of territory".into(),
            },
        ))
        .await
        .unwrap();
    claim(&ravi, &second.id).await.unwrap();
    let kinds = harness.history_kinds(&ada, &second.id).await;
    assert_eq!(
        kinds,
        vec![
            "captured",
            "claimed",
            "recycle_warning",
            "recycled",
            "claimed"
        ]
    );
    let handovers: i64 = harness
        .count("leads", &format!("SELECT count(*) FROM lead_history WHERE lead_id = '{}' AND (from_owner_id IS NOT NULL OR to_owner_id IS NOT NULL)", second.id))
        .await;
    assert_eq!(handovers, 3, "every hand-over names who gave and who took");
}

#[tokio::test]
async fn reps_see_their_own_leads_and_the_pool_managers_their_team() {
    let harness = Harness::start().await;
    let ravi = user("rep", EAST_1);
    let nora = user("rep", EAST_1);
    let wes = user("rep", "/northwind/west/west-1");
    let mei = user("manager", "/northwind/east");
    let mine = harness.create(&ravi, li_wei()).await.unwrap().lead.unwrap();
    assert_eq!(
        mine.owner_id,
        ravi.user_id.to_string(),
        "a rep's own capture is theirs"
    );
    assert_eq!(
        harness.lead(&nora, &mine.id).await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(
        harness.lead(&wes, &mine.id).await.unwrap_err().code(),
        Code::NotFound
    );
    assert!(harness.lead(&mei, &mine.id).await.is_ok());
    let status = harness
        .leads
        .clone()
        .assign_lead(harness.auth(
            &ravi,
            pb::AssignLeadRequest {
                lead_id: mine.id.clone(),
                rep_id: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
}
