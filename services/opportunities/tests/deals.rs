//! A converted lead becomes a deal exactly once, and moves through every stage to won with exit
//! criteria enforced, a committee, competitors and splits — over a real tonic client against
//! real PostgreSQL and NATS.

use std::time::Duration;

use crm_platform::{auth::Caller, events};
use crm_proto::crm::{
    accounts::v1::{self as accounts, BuyingRole, ContactCreated},
    common::v1::Money,
    leads::v1::LeadConverted,
    opportunities::v1::{self as pb, opportunity_service_client::OpportunityServiceClient},
};
use crm_test_support::{TestApp, authorized, eventually, user};
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt;
use uuid::Uuid;

const EAST_1: &str = "/northwind/east/east-1/";
/// The seeded "Direct" pipeline and its stages (migrations/opportunities).
const QUALIFY: &str = "01900000-0000-7000-8000-000000000011";
const DEVELOP: &str = "01900000-0000-7000-8000-000000000012";
const PROPOSE: &str = "01900000-0000-7000-8000-000000000013";
const NEGOTIATE: &str = "01900000-0000-7000-8000-000000000014";
const WON_FOR_PRODUCT_FIT: &str = "01900000-0000-7000-8000-000000000101";
const LOST_TO_COMPETITOR: &str = "01900000-0000-7000-8000-000000000112";

struct Harness {
    app: TestApp,
    client: OpportunityServiceClient<Channel>,
}

fn cny(amount: &str) -> Option<Money> {
    Some(Money {
        currency_code: "CNY".into(),
        amount: amount.into(),
    })
}

impl Harness {
    async fn start() -> Self {
        let app = TestApp::spawn(&[crm_opportunities::module()]).await;
        let context = app.services.context("opportunities").unwrap();
        // The leads and accounts services would create their streams; the test stands in.
        for producer in ["leads", "accounts"] {
            events::ensure_stream(
                &context.jetstream,
                &context.naming,
                producer,
                Duration::from_secs(120),
            )
            .await
            .unwrap();
        }
        let client = OpportunityServiceClient::new(app.channel().await);
        Self { app, client }
    }

    fn client(&self) -> OpportunityServiceClient<Channel> {
        self.client.clone()
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(self.app.pool("opportunities"))
            .await
            .unwrap()
    }

    async fn get(&self, caller: &Caller, id: &str) -> Result<pb::Opportunity, tonic::Status> {
        self.client()
            .get_opportunity(authorized(
                pb::GetOpportunityRequest {
                    opportunity_id: id.into(),
                },
                &self.app.token(caller),
            ))
            .await
            .map(|response| response.into_inner().opportunity.unwrap())
    }

    async fn change_stage(
        &self,
        caller: &Caller,
        id: &str,
        stage: &str,
    ) -> Result<pb::Opportunity, tonic::Status> {
        self.client()
            .change_stage(authorized(
                pb::ChangeStageRequest {
                    opportunity_id: id.into(),
                    stage_id: stage.into(),
                    expected_version: 0,
                },
                &self.app.token(caller),
            ))
            .await
            .map(|response| response.into_inner().opportunity.unwrap())
    }

    /// An account of `owner` as the accounts service would publish it, once the service knows it.
    async fn publish_account(&self, owner: &Caller, name: &str) -> String {
        let account_id = Uuid::now_v7().to_string();
        let created = accounts::AccountCreated {
            account: Some(accounts::Account {
                id: account_id.clone(),
                name: name.into(),
                owner_id: owner.user_id.to_string(),
                owner_team_path: owner.team_path.to_string(),
                status: accounts::AccountStatus::Active.into(),
                version: 1,
                ..Default::default()
            }),
        };
        self.app.publish_event("opportunities", &created).await;
        let known = format!("SELECT count(*) FROM account_replicas WHERE id = '{account_id}'");
        eventually(Duration::from_secs(15), "the account is known", || async {
            self.count(&known).await == 1
        })
        .await;
        account_id
    }

    /// A contact of the account as the accounts service would publish it.
    async fn publish_contact(&self, account_id: &str, name: &str) -> String {
        let id = Uuid::now_v7().to_string();
        let event = ContactCreated {
            contact: Some(accounts::Contact {
                id: id.clone(),
                account_id: account_id.into(),
                full_name: name.into(),
                status: accounts::ContactStatus::Active.into(),
                version: 1,
                ..Default::default()
            }),
        };
        self.app.publish_event("opportunities", &event).await;
        id
    }
}

fn conversion(ravi: &Caller) -> LeadConverted {
    LeadConverted {
        account_id: Uuid::now_v7().to_string(),
        account_is_new: true,
        account_name: "Contoso Ltd".into(),
        contact_id: Uuid::now_v7().to_string(),
        contact_full_name: "Li Wei".into(),
        opportunity_id: Uuid::now_v7().to_string(),
        opportunity_name: "Contoso — Line 3 automation".into(),
        opportunity_amount: cny("1200000.00"),
        expected_close_date: "2027-01-30".into(),
        campaign_id: Uuid::now_v7().to_string(),
        owner_id: ravi.user_id.to_string(),
        owner_team_path: ravi.team_path.to_string(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_converted_lead_becomes_one_deal_with_the_ids_leads_chose() {
    let harness = Harness::start().await;
    let ravi = user("rep", EAST_1);
    let converted = conversion(&ravi);
    let event_id = Uuid::now_v7();
    // Delivered twice (a new Nats-Msg-Id defeats broker dedupe, as after a replay), and once
    // more as a distinct event carrying the same ids.
    harness
        .app
        .publish_event_as("opportunities", &converted, event_id, "copy-1")
        .await;
    harness
        .app
        .publish_event_as("opportunities", &converted, event_id, "copy-2")
        .await;
    harness
        .app
        .publish_event_as("opportunities", &converted, Uuid::now_v7(), "copy-3")
        .await;
    eventually(Duration::from_secs(15), "the deal exists", || async {
        harness
            .count("SELECT count(*) FROM inbox WHERE consumer = 'opportunities-lead-conversions'")
            .await
            == 2
    })
    .await;
    assert_eq!(harness.count("SELECT count(*) FROM opportunities").await, 1);
    assert_eq!(
        harness
            .count("SELECT count(*) FROM outbox WHERE event_type = 'crm.opportunities.v1.OpportunityCreated'")
            .await,
        1
    );
    let deal = harness.get(&ravi, &converted.opportunity_id).await.unwrap();
    assert_eq!(deal.account_id, converted.account_id);
    assert_eq!(deal.owner_id, ravi.user_id.to_string());
    assert_eq!(deal.campaign_id, converted.campaign_id);
    assert_eq!(deal.stage.as_ref().unwrap().stage_id, QUALIFY);
    assert_eq!(deal.effective_probability, 10);
    assert_eq!(deal.amount, cny("1200000"));
    assert_eq!(deal.splits.len(), 1);
    assert_eq!(deal.splits[0].percent, "100");
    assert_eq!(deal.version, 1);
    // Another rep does not see it; it looks like nothing.
    let nora = user("rep", EAST_1);
    assert_eq!(
        harness
            .get(&nora, &converted.opportunity_id)
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
}

#[tokio::test]
async fn a_deal_moves_through_every_stage_to_won_with_exit_criteria_enforced() {
    let harness = Harness::start().await;
    let ravi = user("rep", EAST_1);
    let mei = user("manager", "/northwind/east/");
    let engineer = user("rep", EAST_1);
    // Leaving Qualify needs the budget and a decision maker (the scenario's rule).
    sqlx::query("UPDATE stages SET exit_criteria = '{custom_fields.budget,buying_committee.decision_maker}' WHERE id = $1::uuid")
        .bind(QUALIFY)
        .execute(harness.app.pool("opportunities"))
        .await
        .unwrap();
    let globex = Uuid::now_v7();
    sqlx::query("INSERT INTO competitors (id, name) VALUES ($1, 'Globex')")
        .bind(globex)
        .execute(harness.app.pool("opportunities"))
        .await
        .unwrap();
    let converted = conversion(&ravi);
    harness.app.publish_event("opportunities", &converted).await;
    let id = converted.opportunity_id.clone();
    eventually(Duration::from_secs(15), "the deal exists", || async {
        harness.count("SELECT count(*) FROM opportunities").await == 1
    })
    .await;

    // Refused, naming both missing fields.
    let refused = harness.change_stage(&ravi, &id, DEVELOP).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let details = refused.get_error_details();
    assert_eq!(
        details.error_info().unwrap().reason,
        "EXIT_CRITERIA_NOT_MET"
    );
    let fields: Vec<&str> = details
        .bad_request()
        .unwrap()
        .field_violations
        .iter()
        .map(|violation| violation.field.as_str())
        .collect();
    assert_eq!(
        fields,
        ["custom_fields.budget", "buying_committee.decision_maker"]
    );
    // Skipping ahead passes Qualify too: the same refusal.
    assert_eq!(
        harness
            .change_stage(&ravi, &id, PROPOSE)
            .await
            .unwrap_err()
            .code(),
        Code::FailedPrecondition
    );

    let token = harness.app.token(&ravi);
    let mut patch = pb::OpportunityPatch::default();
    patch
        .custom_fields
        .insert("budget".into(), "approved".into());
    patch.next_step = Some("Site visit".into());
    harness
        .client()
        .update_opportunity(authorized(
            pb::UpdateOpportunityRequest {
                opportunity_id: id.clone(),
                patch: Some(patch),
                expected_version: 1,
            },
            &token,
        ))
        .await
        .unwrap();
    // The committee names contacts the accounts service published (the converted contact is
    // known from the conversion itself).
    let zhang = harness
        .publish_contact(&converted.account_id, "Zhang Min")
        .await;
    eventually(Duration::from_secs(15), "the contact is known", || async {
        harness.count("SELECT count(*) FROM contact_replicas").await == 2
    })
    .await;
    let committee = vec![
        pb::CommitteeMember {
            contact_id: converted.contact_id.clone(),
            role: BuyingRole::Champion.into(),
            attitude: pb::Attitude::Supporter.into(),
            influences: vec![zhang.clone()],
            ..Default::default()
        },
        pb::CommitteeMember {
            contact_id: zhang.clone(),
            role: BuyingRole::DecisionMaker.into(),
            attitude: pb::Attitude::Sceptical.into(),
            ..Default::default()
        },
    ];
    let deal = harness
        .client()
        .set_buying_committee(authorized(
            pb::SetBuyingCommitteeRequest {
                opportunity_id: id.clone(),
                members: committee,
                expected_version: 0,
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    assert_eq!(deal.buying_committee[1].contact_name, "Zhang Min");
    // A contact of another account is refused.
    let stranger = harness
        .publish_contact(&Uuid::now_v7().to_string(), "Someone Else")
        .await;
    eventually(Duration::from_secs(15), "the stranger is known", || async {
        harness.count("SELECT count(*) FROM contact_replicas").await == 3
    })
    .await;
    let refused = harness
        .client()
        .set_buying_committee(authorized(
            pb::SetBuyingCommitteeRequest {
                opportunity_id: id.clone(),
                members: vec![pb::CommitteeMember {
                    contact_id: stranger,
                    role: BuyingRole::User.into(),
                    attitude: pb::Attitude::Neutral.into(),
                    ..Default::default()
                }],
                expected_version: 0,
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);

    harness
        .client()
        .set_deal_competitors(authorized(
            pb::SetDealCompetitorsRequest {
                opportunity_id: id.clone(),
                competitors: vec![pb::DealCompetitor {
                    competitor_id: globex.to_string(),
                    strengths: "Price".into(),
                    weaknesses: "Service in East China".into(),
                    ..Default::default()
                }],
                expected_version: 0,
            },
            &token,
        ))
        .await
        .unwrap();
    // Splits must add up to exactly 100, and go to the owner and the team.
    let team = vec![pb::DealTeamMember {
        user_id: engineer.user_id.to_string(),
        role: pb::DealTeamRole::SalesEngineer.into(),
    }];
    let split = |user: &Caller, percent: &str| pb::RevenueSplit {
        user_id: user.user_id.to_string(),
        percent: percent.into(),
    };
    let refused = harness
        .client()
        .set_deal_team(authorized(
            pb::SetDealTeamRequest {
                opportunity_id: id.clone(),
                team: team.clone(),
                splits: vec![split(&ravi, "70"), split(&engineer, "20")],
                expected_version: 0,
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    harness
        .client()
        .set_deal_team(authorized(
            pb::SetDealTeamRequest {
                opportunity_id: id.clone(),
                team,
                splits: vec![split(&ravi, "70"), split(&engineer, "30")],
                expected_version: 0,
            },
            &token,
        ))
        .await
        .unwrap();

    for stage in [DEVELOP, PROPOSE, NEGOTIATE] {
        let deal = harness.change_stage(&ravi, &id, stage).await.unwrap();
        assert_eq!(deal.stage.unwrap().stage_id, stage);
    }
    let won = harness
        .client()
        .mark_won(authorized(
            pb::MarkWonRequest {
                opportunity_id: id.clone(),
                close_reason_id: WON_FOR_PRODUCT_FIT.into(),
                note: "Line 3 signed".into(),
                final_amount: cny("1150000.00"),
                expected_version: 0,
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    assert_eq!(won.status, pb::OpportunityStatus::Won as i32);
    assert_eq!(won.effective_probability, 100);
    assert_eq!(won.amount, cny("1150000"));
    assert_eq!(
        won.competitors[0].status,
        pb::CompetitorStatus::WonAgainst as i32
    );
    assert_eq!(
        won.outcome.as_ref().unwrap().close_reason_label,
        "Product fit"
    );
    assert_eq!(
        won.splits
            .iter()
            .map(|split| split.percent.as_str())
            .collect::<Vec<_>>(),
        ["70", "30"]
    );
    // A won deal no longer moves, and a rep cannot reopen it.
    let refused = harness.change_stage(&ravi, &id, QUALIFY).await.unwrap_err();
    assert_eq!(
        refused.get_error_details().error_info().unwrap().reason,
        "OPPORTUNITY_STATUS_NOT_ALLOWED"
    );

    // The history: five stays (four open stages and the won stage), the last still open.
    let history = harness
        .client()
        .list_stage_history(authorized(
            pb::ListStageHistoryRequest {
                opportunity_id: id.clone(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .entries;
    let names: Vec<&str> = history
        .iter()
        .map(|entry| entry.stage.as_ref().unwrap().name.as_str())
        .collect();
    assert_eq!(
        names,
        ["Qualify", "Develop", "Propose", "Negotiate", "Closed Won"]
    );
    assert!(
        history[..4]
            .iter()
            .all(|entry| entry.exited_at.is_some() && entry.exited_by == ravi.user_id.to_string())
    );
    assert!(history[4].exited_at.is_none());

    // The audit trail names every change, newest first.
    let changes = harness
        .client()
        .list_opportunity_changes(authorized(
            pb::ListOpportunityChangesRequest {
                opportunity_id: id.clone(),
                page: None,
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .changes;
    let actions: Vec<&str> = changes
        .iter()
        .map(|change| change.action.as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "won",
            "stage_changed",
            "stage_changed",
            "stage_changed",
            "team_set",
            "competitors_set",
            "committee_set",
            "updated",
            "created"
        ]
    );
    let won_change = &changes[0];
    assert!(won_change.fields.iter().any(|field| field.field == "amount"
        && field.old_value == "CNY 1200000.00"
        && field.new_value == "CNY 1150000.00"));

    // Mei reopens it (a manager above the team), and it is lost to Globex instead.
    let mei_token = harness.app.token(&mei);
    let reopened = harness
        .client()
        .reopen_opportunity(authorized(
            pb::ReopenOpportunityRequest {
                opportunity_id: id.clone(),
                stage_id: String::new(),
                reason: "Customer withdrew the PO".into(),
                expected_version: 0,
            },
            &mei_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    assert_eq!(reopened.stage.unwrap().stage_id, NEGOTIATE);
    let lost = harness
        .client()
        .mark_lost(authorized(
            pb::MarkLostRequest {
                opportunity_id: id.clone(),
                close_reason_id: LOST_TO_COMPETITOR.into(),
                note: String::new(),
                lost_to_competitor_id: globex.to_string(),
                expected_version: 0,
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    assert_eq!(
        lost.competitors[0].status,
        pb::CompetitorStatus::LostTo as i32
    );

    // Every change published one or more events, each with the version it made.
    let versions: Vec<(String, i64)> = sqlx::query_as(
        "SELECT event_type, aggregate_version FROM outbox WHERE aggregate_type = 'opportunity' ORDER BY aggregate_version, event_type",
    )
    .fetch_all(harness.app.pool("opportunities"))
    .await
    .unwrap();
    let kinds: Vec<&str> = versions
        .iter()
        .map(|(kind, _)| kind.trim_start_matches("crm.opportunities.v1."))
        .collect();
    assert_eq!(
        kinds,
        [
            "OpportunityCreated",
            "OpportunityUpdated",
            "OpportunityUpdated",
            "OpportunityUpdated",
            "OpportunitySplitsChanged",
            "OpportunityStageChanged",
            "OpportunityStageChanged",
            "OpportunityStageChanged",
            "OpportunityWon",
            "OpportunityReopened",
            "OpportunityLost",
        ]
    );
    assert_eq!(versions.last().unwrap().1, lost.version as i64);
    // The funnel's roll-up saw one deal leave each open stage forward, and the win taken back.
    assert_eq!(
        harness
            .count("SELECT sum(advanced)::bigint FROM funnel_stage_months")
            .await,
        4
    );
    assert_eq!(
        harness
            .count("SELECT sum(won)::bigint FROM funnel_outcome_months")
            .await,
        0
    );
    assert_eq!(
        harness
            .count("SELECT sum(lost)::bigint FROM funnel_outcome_months")
            .await,
        1
    );
}

#[tokio::test]
async fn a_deal_names_only_an_account_its_creator_may_see() {
    let harness = Harness::start().await;
    let wes = user("rep", "/northwind/west/west-1/");
    let ravi = user("rep", EAST_1);
    let account_id = harness.publish_account(&wes, "Globex West").await;
    let create = |caller: &Caller| {
        authorized(
            pb::CreateOpportunityRequest {
                opportunity: Some(pb::OpportunityInput {
                    name: "West expansion".into(),
                    account_id: account_id.clone(),
                    amount: cny("10000"),
                    expected_close_date: "2027-03-31".into(),
                    ..Default::default()
                }),
                opportunity_id: String::new(),
            },
            &harness.app.token(caller),
        )
    };
    // Out of Ravi's reach the account looks like one the service does not know.
    let refused = harness
        .client()
        .create_opportunity(create(&ravi))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let details = refused.get_error_details();
    assert_eq!(details.error_info().unwrap().reason, "UNUSABLE_REFERENCE");
    assert_eq!(
        details.bad_request().unwrap().field_violations[0].description,
        "is not an account known to this service"
    );
    let deal = harness
        .client()
        .create_opportunity(create(&wes))
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    assert_eq!(deal.owner_id, wes.user_id.to_string());
}

/// The people who work a deal or are credited with it read it, though it is another team's:
/// Ravi (East) on Wes's (West) deal team with a 20% split sees the deal, its history and its
/// trail, finds it in his listing, and changes nothing; off the team, it is out of sight again.
#[tokio::test]
async fn a_deal_team_member_reads_the_deal_but_changes_nothing() {
    let started = Harness::start().await;
    // Borrowed, so the closures below can each hand a copy to their futures.
    let harness = &started;
    let wes = user("rep", "/northwind/west/west-1/");
    let ravi = user("rep", EAST_1);
    let nora = user("rep", EAST_1);
    let account_id = harness.publish_account(&wes, "Globex West").await;
    let deal = harness
        .client()
        .create_opportunity(authorized(
            pb::CreateOpportunityRequest {
                opportunity: Some(pb::OpportunityInput {
                    name: "West expansion".into(),
                    account_id,
                    amount: cny("10000"),
                    expected_close_date: "2027-03-31".into(),
                    ..Default::default()
                }),
                opportunity_id: String::new(),
            },
            &harness.app.token(&wes),
        ))
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    let id = deal.id.clone();
    let listed = |caller: &Caller| {
        let request = authorized(
            pb::ListOpportunitiesRequest::default(),
            &harness.app.token(caller),
        );
        async move {
            let page = harness.client().list_opportunities(request).await.unwrap();
            let deals = page.into_inner().opportunities;
            deals.into_iter().map(|deal| deal.id).collect::<Vec<_>>()
        }
    };
    let set_team = |with_ravi: bool| {
        let (team, splits) = if with_ravi {
            (
                vec![pb::DealTeamMember {
                    user_id: ravi.user_id.to_string(),
                    role: pb::DealTeamRole::SalesEngineer.into(),
                }],
                vec![
                    pb::RevenueSplit {
                        user_id: wes.user_id.to_string(),
                        percent: "80".into(),
                    },
                    pb::RevenueSplit {
                        user_id: ravi.user_id.to_string(),
                        percent: "20".into(),
                    },
                ],
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let request = authorized(
            pb::SetDealTeamRequest {
                opportunity_id: id.clone(),
                team,
                splits,
                expected_version: 0,
            },
            &harness.app.token(&wes),
        );
        async move { harness.client().set_deal_team(request).await.unwrap() }
    };
    // Ravi makes a call first, so the service knows him (a team member is a known user).
    assert_eq!(listed(&ravi).await, Vec::<String>::new());
    assert_eq!(
        harness.get(&ravi, &id).await.unwrap_err().code(),
        Code::NotFound
    );

    set_team(true).await;
    assert_eq!(harness.get(&ravi, &id).await.unwrap().id, id);
    assert_eq!(listed(&ravi).await, vec![id.clone()]);
    let history = harness
        .client()
        .list_stage_history(authorized(
            pb::ListStageHistoryRequest {
                opportunity_id: id.clone(),
            },
            &harness.app.token(&ravi),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(history.entries.len(), 1);
    let refused = harness.change_stage(&ravi, &id, DEVELOP).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    // Nobody else in Ravi's team sees it through him.
    assert_eq!(
        harness.get(&nora, &id).await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(listed(&nora).await, Vec::<String>::new());
    // The owner still moves it.
    harness.change_stage(&wes, &id, DEVELOP).await.unwrap();

    set_team(false).await;
    assert_eq!(
        harness.get(&ravi, &id).await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(listed(&ravi).await, Vec::<String>::new());
    assert_eq!(
        harness
            .change_stage(&ravi, &id, QUALIFY)
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
}
