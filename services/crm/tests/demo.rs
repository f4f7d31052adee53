//! `crm demo` as `deploy/local/run` runs it: against fresh databases with no suite running, it
//! starts the suite in process and loads through the public APIs; run twice, it loads the data
//! once and the second run writes nothing (no new rows, no new events).

use std::time::Duration;

use crm::demo;
use crm_platform::{auth::JwtSigner, config::Secret, host};
use crm_proto::crm::{
    accounts::v1::{
        ListAccountsRequest, ListContactsRequest, account_service_client::AccountServiceClient,
    },
    gateway::v1::{ListTeamsRequest, org_service_client::OrgServiceClient},
    leads::v1::{
        ListAssignmentRulesRequest, ListCampaignsRequest, ListLeadsRequest, ListRepsRequest,
        lead_admin_service_client::LeadAdminServiceClient, lead_service_client::LeadServiceClient,
    },
};
use crm_test_support::{TestDatabase, authorized, nats_url, test_settings, unique_id};

/// Rows of each database's outbox: every write of the demo enqueues an event.
async fn outbox_rows(databases: &[TestDatabase]) -> Vec<i64> {
    let mut rows = Vec::new();
    for database in databases {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
            .fetch_one(&database.pool)
            .await
            .unwrap();
        rows.push(count);
    }
    rows
}

#[tokio::test]
async fn the_demo_loads_through_the_api_once_however_often_it_runs() {
    let modules = crm::all_modules();
    let mut databases = Vec::new();
    for module in &modules {
        databases.push(TestDatabase::create(module.migrator).await);
    }
    let urls: Vec<(&str, &Secret)> = modules
        .iter()
        .zip(&databases)
        .map(|(module, database)| (module.name, &database.url))
        .collect();
    let namespace = unique_id();
    let settings = test_settings(&namespace, &urls, &nats_url());

    demo::load(&settings).await.expect("the demo loads");
    let after_first = outbox_rows(&databases).await;
    demo::load(&settings)
        .await
        .expect("loading the demo twice is a no-op");
    assert_eq!(
        outbox_rows(&databases).await,
        after_first,
        "the second run changed nothing"
    );

    let mut services = host::start(settings.clone(), &modules).await.unwrap();
    let grpc = services
        .context(crm_gateway::NAME)
        .and_then(|context| context.local_grpc.get().cloned())
        .unwrap();
    let token = JwtSigner::new(&settings.jwt)
        .unwrap()
        .sign(&demo::ADA.caller(), Duration::from_secs(600));

    let mut accounts = AccountServiceClient::new(grpc.clone());
    let accounts_listed = accounts
        .list_accounts(authorized(ListAccountsRequest::default(), &token))
        .await
        .unwrap()
        .into_inner()
        .accounts;
    let mut names: Vec<&str> = accounts_listed.iter().map(|a| a.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["Contoso Ltd", "Fabrikam Industrial", "Tailspin Logistics"]
    );
    let ravi = demo::RAVI.user_id().to_string();
    for account in &accounts_listed {
        let east = account.region == "East";
        assert_eq!(
            account.owner_id == ravi,
            east,
            "{} is Ravi's exactly when it is in East",
            account.name
        );
    }
    let contacts = accounts
        .list_contacts(authorized(ListContactsRequest::default(), &token))
        .await
        .unwrap()
        .into_inner()
        .contacts;
    assert_eq!(contacts.len(), 4);

    let teams = OrgServiceClient::new(grpc.clone())
        .list_teams(authorized(ListTeamsRequest {}, &token))
        .await
        .unwrap()
        .into_inner()
        .teams;
    let mut paths: Vec<&str> = teams.iter().map(|team| team.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "/northwind/",
            "/northwind/east/",
            "/northwind/east/east-1/",
            "/northwind/west/",
            "/northwind/west/west-1/",
        ]
    );

    let mut admin = LeadAdminServiceClient::new(grpc.clone());
    let reps = admin
        .list_reps(authorized(
            ListRepsRequest {
                team_path: "/northwind".into(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .reps;
    assert_eq!(reps.len(), 3, "Ravi, Nora and Wes, once each");
    let rules = admin
        .list_assignment_rules(authorized(
            ListAssignmentRulesRequest {
                team_path: "/northwind".into(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .rules;
    assert_eq!(rules.len(), 1);
    let campaigns = admin
        .list_campaigns(authorized(ListCampaignsRequest {}, &token))
        .await
        .unwrap()
        .into_inner()
        .campaigns;
    assert_eq!(campaigns.len(), 1);
    let leads = LeadServiceClient::new(grpc)
        .list_leads(authorized(ListLeadsRequest::default(), &token))
        .await
        .unwrap()
        .into_inner()
        .leads;
    assert_eq!(
        leads.len(),
        6,
        "4 expo leads, Ravi's own and one from the web form, once each"
    );
    assert!(
        leads
            .iter()
            .all(|lead| lead.possible_duplicate_of.is_empty()),
        "no lead was captured twice"
    );
    let context = services.context(crm_gateway::NAME).unwrap().clone();
    services.shutdown().await.unwrap();
    for module in &modules {
        let _ = context
            .jetstream
            .delete_stream(context.naming.stream(module.name))
            .await;
    }
    let _ = context
        .jetstream
        .delete_stream(context.naming.dead_letter_stream())
        .await;
}
