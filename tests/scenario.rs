//! The Northwind sales story, for the services that exist so far: the suite boots in one process, the demo
//! data (Northwind Industrial) loads through the services' public gRPC APIs as a client's
//! would, and each member of the cast sees exactly what their role allows (G3).

use std::time::Duration;

use crm::demo;
use crm_platform::auth::{Caller, Role, TeamPath};
use crm_proto::crm::accounts::v1::{
    ListAccountsRequest, ListContactsRequest, account_service_client::AccountServiceClient,
};
use crm_test_support::{TestApp, authorized, eventually, every_page};

fn cast_member(role: Role, team: &str, user_id: Option<uuid::Uuid>) -> Caller {
    Caller {
        user_id: user_id.unwrap_or_else(|| demo::user_id_for(role)),
        role,
        team_path: TeamPath::parse(team).unwrap(),
        scopes: None,
    }
}

/// The whole suite (each service's pool kept small by the test settings: the tests of this
/// file run side by side, seven services each, against one PostgreSQL).
async fn suite() -> TestApp {
    TestApp::spawn(&crm::all_modules()).await
}

#[tokio::test]
async fn northwind_demo_data_is_visible_by_role_and_published_as_events() {
    let app = suite().await;
    demo::load_into(&app.services, &app.settings).await.unwrap();
    demo::load_into(&app.services, &app.settings)
        .await
        .expect("loading the demo twice is a no-op");

    let mut client = AccountServiceClient::new(app.channel().await);
    let ravi = cast_member(Role::Rep, "/northwind/east/east-1", None);
    let nora = cast_member(
        Role::Rep,
        "/northwind/east/east-1",
        Some(uuid::Uuid::now_v7()),
    );
    let mei = cast_member(Role::Manager, "/northwind/east", None);
    let wes = cast_member(
        Role::Rep,
        "/northwind/west/west-1",
        Some(uuid::Uuid::now_v7()),
    );
    let ada = cast_member(Role::Admin, "/northwind", None);

    let mut visible = Vec::new();
    for caller in [&ravi, &nora, &mei, &wes, &ada] {
        let mut names: Vec<String> = client
            .list_accounts(authorized(
                ListAccountsRequest::default(),
                &app.token(caller),
            ))
            .await
            .unwrap()
            .into_inner()
            .accounts
            .into_iter()
            .map(|account| account.name)
            .collect();
        names.sort();
        visible.push(names);
    }
    let ravis = [
        "Contoso Ltd",
        "Fabrikam Industrial",
        "Lucerne Pharmaceuticals",
        "Proseware Chemicals",
        "Wingtip Foods",
    ];
    let east = [
        "A. Datum Components",
        "Coho Packaging",
        "Contoso Ltd",
        "Fabrikam Industrial",
        "Lucerne Pharmaceuticals",
        "Proseware Chemicals",
        "Wingtip Foods",
    ];
    assert_eq!(visible[0], ravis, "Ravi sees his East accounts");
    assert!(visible[1].is_empty(), "Nora does not see Ravi's accounts");
    assert_eq!(visible[2], east, "Mei sees her team's: Ravi's and Nora's");
    assert!(visible[3].is_empty(), "Wes sees none of East's");
    assert_eq!(visible[4].len(), 13, "Ada sees everything");

    let contacts = client
        .list_contacts(authorized(
            ListContactsRequest::default(),
            &app.token(&ravi),
        ))
        .await
        .unwrap()
        .into_inner()
        .contacts;
    assert_eq!(contacts.len(), 6, "contacts follow their account's owner");

    // 13 accounts and 14 contacts were created: 27 events, published once each.
    let context = app.services.context("accounts").unwrap();
    let stream_name = context.naming.stream("accounts");
    let jetstream = context.jetstream.clone();
    eventually(Duration::from_secs(10), "27 demo events published", || {
        let (jetstream, stream_name) = (jetstream.clone(), stream_name.clone());
        async move {
            match jetstream.get_stream(&stream_name).await {
                Ok(mut stream) => stream
                    .info()
                    .await
                    .map(|info| info.state.messages == 27)
                    .unwrap_or(false),
                Err(_) => false,
            }
        }
    })
    .await;
    let _ = jetstream.delete_stream(&stream_name).await;
}

#[tokio::test]
async fn demo_leads_are_routed_by_the_east_rule_and_the_web_form_lead_waits_in_its_pool() {
    use crm_proto::crm::leads::v1::{
        LeadStatus, ListLeadsRequest, lead_service_client::LeadServiceClient,
    };
    let app = suite().await;
    demo::load_into(&app.services, &app.settings).await.unwrap();
    demo::load_into(&app.services, &app.settings)
        .await
        .expect("loading the demo twice is a no-op");

    let mut leads = LeadServiceClient::new(app.channel().await);
    let ada = cast_member(Role::Admin, "/northwind", None);
    let all = leads
        .list_leads(authorized(ListLeadsRequest::default(), &app.token(&ada)))
        .await
        .unwrap()
        .into_inner()
        .leads;
    assert_eq!(
        all.len(),
        6,
        "4 expo leads, Ravi's own and one from the web form, once each"
    );
    let roster = [
        demo::user_id_for(Role::Rep).to_string(),
        demo::NORA.user_id().to_string(),
        demo::WES.user_id().to_string(),
    ];
    for lead in all.iter().filter(|lead| !lead.campaign_id.is_empty()) {
        assert_eq!(
            lead.status,
            LeadStatus::Assigned as i32,
            "{} routed on capture",
            lead.company
        );
        assert!(
            roster.contains(&lead.owner_id),
            "{} went to a rep on the roster",
            lead.company
        );
    }
    let east_expo_owners: Vec<&str> = all
        .iter()
        .filter(|lead| !lead.campaign_id.is_empty() && lead.territory == "east")
        .map(|lead| lead.owner_id.as_str())
        .collect();
    assert_eq!(east_expo_owners.len(), 3);
    assert!(
        east_expo_owners
            .iter()
            .all(|owner| *owner == roster[0] || *owner == roster[1]),
        "East leads go to East-1"
    );
    let from_form = all
        .iter()
        .find(|lead| lead.company == "Northwind Traders")
        .unwrap();
    assert!(from_form.owner_id.is_empty());
    assert_eq!(from_form.pool_team_path, "/northwind/east/");
}

/// Northwind sells in China: the demo sets the organisation's default calling code to 86, and
/// once the services have heard it, a number typed without +86 (in full width too, as a Chinese
/// input method types it) is stored as the Chinese number it is.
#[tokio::test]
async fn the_demo_company_reads_national_numbers_as_chinese_ones() {
    use crm_proto::crm::{
        gateway::v1::{GetOrgSettingsRequest, org_service_client::OrgServiceClient},
        leads::v1::{CreateLeadRequest, LeadInput, lead_service_client::LeadServiceClient},
    };
    let app = suite().await;
    demo::load_into(&app.services, &app.settings).await.unwrap();
    let ravi = cast_member(Role::Rep, "/northwind/east/east-1", None);
    let token = app.token(&ravi);
    let settings = OrgServiceClient::new(app.channel().await)
        .get_org_settings(authorized(GetOrgSettingsRequest {}, &token))
        .await
        .unwrap()
        .into_inner()
        .settings
        .unwrap();
    assert_eq!(settings.default_calling_code, demo::DEFAULT_CALLING_CODE);
    let capture = |phone: &'static str, email: &'static str| {
        let channel = app.channel();
        let token = token.clone();
        async move {
            LeadServiceClient::new(channel.await)
                .create_lead(authorized(
                    CreateLeadRequest {
                        lead: Some(LeadInput {
                            last_name: "Zhao".into(),
                            email: email.into(),
                            phone: phone.into(),
                            ..Default::default()
                        }),
                        lead_id: String::new(),
                    },
                    &token,
                ))
                .await
                .map(|response| response.into_inner().lead.unwrap().phone)
        }
    };
    eventually(
        Duration::from_secs(15),
        "the leads service reads national numbers with the demo's code",
        || async { capture("13800138000", "zhao.1@fabrikam.cn").await.is_ok() },
    )
    .await;
    assert_eq!(
        capture("１３７ ２２２２ ９９９９", "zhao.2@fabrikam.cn")
            .await
            .unwrap(),
        "+8613722229999"
    );
}

/// Step 6 for deals (G3): Ravi sees his deals, the Contoso deal among them; Nora only hers, not
/// Ravi's; Mei both reps'; Wes none of East's; Ada everyone's.
#[tokio::test]
async fn demo_deals_are_visible_by_role() {
    use std::collections::BTreeSet;

    use crm_proto::crm::{
        common::v1::PageRequest,
        opportunities::v1::{
            ListOpportunitiesRequest, Opportunity,
            opportunity_service_client::OpportunityServiceClient,
        },
    };
    let app = suite().await;
    demo::load_into(&app.services, &app.settings).await.unwrap();

    let client = OpportunityServiceClient::new(app.channel().await);
    let seen_by = async |member: demo::Member| -> Vec<Opportunity> {
        let token = app.token(&member.caller());
        every_page(|page_token| {
            let (mut client, token) = (client.clone(), token.clone());
            async move {
                let request = ListOpportunitiesRequest {
                    page: Some(PageRequest {
                        page_size: 500,
                        page_token,
                    }),
                    ..Default::default()
                };
                let page = client
                    .list_opportunities(authorized(request, &token))
                    .await
                    .unwrap()
                    .into_inner();
                let next = page.page.map(|page| page.next_page_token);
                (page.opportunities, next.unwrap_or_default())
            }
        })
        .await
    };
    let owners = |deals: &[Opportunity]| -> BTreeSet<String> {
        deals.iter().map(|deal| deal.owner_id.clone()).collect()
    };
    let id = |member: demo::Member| BTreeSet::from([member.user_id().to_string()]);
    let is_contoso = |deal: &Opportunity| deal.name == "Contoso — Line 3 automation";

    let ravi = seen_by(demo::RAVI).await;
    assert_eq!(owners(&ravi), id(demo::RAVI), "Ravi sees his own deals");
    assert!(ravi.iter().any(is_contoso), "the Contoso deal among them");
    let nora = seen_by(demo::NORA).await;
    assert_eq!(owners(&nora), id(demo::NORA), "Nora sees hers");
    assert!(!nora.iter().any(is_contoso), "not Ravi's deal");
    let mei = seen_by(demo::member_for(Role::Manager)).await;
    assert_eq!(
        owners(&mei),
        &id(demo::RAVI) | &id(demo::NORA),
        "Mei sees both reps'"
    );
    assert_eq!(mei.len(), ravi.len() + nora.len());
    let wes = seen_by(demo::WES).await;
    assert_eq!(owners(&wes), id(demo::WES), "Wes sees none of East's");
    let ada = seen_by(demo::ADA).await;
    assert_eq!(ada.len(), mei.len() + wes.len(), "Ada sees everyone's");
}
