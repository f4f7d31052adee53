//! `crm demo` as `deploy/local/run` runs it: against fresh databases with no suite running, it
//! starts the suite in process and loads through the public APIs; run twice, it loads the data
//! once and the second run writes nothing (no new rows, no new events, no new deals).

use std::time::Duration;

use crm::demo;
use crm_platform::host::LocalGrpc;
use crm_platform::{auth::JwtSigner, config::Secret, host};
use crm_proto::crm::{
    accounts::v1::{
        BuyingRole, ListAccountsRequest, ListContactsRequest,
        account_service_client::AccountServiceClient,
    },
    common::v1::PageRequest,
    gateway::v1::{
        GetOrgSettingsRequest, ListExchangeRatesRequest, ListTeamsRequest,
        org_service_client::OrgServiceClient,
    },
    leads::v1::{
        ListAssignmentRulesRequest, ListCampaignsRequest, ListLeadsRequest, ListRepsRequest,
        lead_admin_service_client::LeadAdminServiceClient, lead_service_client::LeadServiceClient,
    },
    opportunities::v1::{
        Attitude, CompetitorStatus, ListActivitiesRequest, ListCompetitorsRequest,
        ListOpportunitiesRequest, ListPipelinesRequest, ListPriceListsRequest, ListPricesRequest,
        ListProductsRequest, ListTasksRequest, Opportunity, OpportunityStatus, StageKind,
        TaskState, activity_service_client::ActivityServiceClient,
        collection_service_client::CollectionServiceClient,
        expense_service_client::ExpenseServiceClient,
        opportunity_service_client::OpportunityServiceClient,
        pipeline_service_client::PipelineServiceClient,
        price_book_service_client::PriceBookServiceClient,
    },
};
use crm_test_support::{TestDatabase, authorized, every_page, nats_url, test_settings, unique_id};

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

/// Every deal Ada sees (all of them), page by page.
async fn every_deal(grpc: &LocalGrpc, token: &str) -> Vec<Opportunity> {
    let client = OpportunityServiceClient::new(grpc.clone());
    every_page(|page_token| {
        let mut client = client.clone();
        async move {
            let request = ListOpportunitiesRequest {
                page: Some(PageRequest {
                    page_size: 500,
                    page_token,
                }),
                ..Default::default()
            };
            let page = client
                .list_opportunities(authorized(request, token))
                .await
                .unwrap()
                .into_inner();
            let next = page.page.map(|page| page.next_page_token);
            (page.opportunities, next.unwrap_or_default())
        }
    })
    .await
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

    let opportunities_db = &databases[modules
        .iter()
        .position(|module| module.name == "opportunities")
        .unwrap()];
    let deal_rows = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM opportunities")
            .fetch_one(&opportunities_db.pool)
            .await
            .unwrap()
    };

    let started = std::time::Instant::now();
    demo::load(&settings).await.expect("the demo loads");
    println!("the first run took {:?}", started.elapsed());
    let after_first = outbox_rows(&databases).await;
    let deals_after_first = deal_rows().await;
    demo::load(&settings)
        .await
        .expect("loading the demo twice is a no-op");
    assert_eq!(
        outbox_rows(&databases).await,
        after_first,
        "the second run changed nothing"
    );
    assert_eq!(deal_rows().await, deals_after_first, "and added no deal");

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
        [
            "A. Datum Components",
            "Blue Yonder Metals",
            "Coho Packaging",
            "Contoso Ltd",
            "Fabrikam Industrial",
            "Lucerne Pharmaceuticals",
            "Margie's Textiles",
            "Proseware Chemicals",
            "Relecloud Automotive",
            "Southridge Water",
            "Tailspin Logistics",
            "Wingtip Foods",
            "Woodgrove Energy",
        ]
    );
    let id = |member: demo::Member| member.user_id().to_string();
    for account in &accounts_listed {
        let owners = match (account.region.as_str(), account.name.as_str()) {
            (_, "Tailspin Logistics") => vec![id(demo::ADA)],
            ("East", _) => vec![id(demo::RAVI), id(demo::NORA)],
            _ => vec![id(demo::WES)],
        };
        assert!(
            owners.contains(&account.owner_id),
            "{} is entered by a rep of its region",
            account.name
        );
    }
    let contacts = accounts
        .list_contacts(authorized(ListContactsRequest::default(), &token))
        .await
        .unwrap()
        .into_inner()
        .contacts;
    assert_eq!(contacts.len(), 14);

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
    let leads = LeadServiceClient::new(grpc.clone())
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
    the_sales_process_and_deals_are_there(&grpc, &token).await;

    // This week's calls, visits, meetings and emails on the live deals, and the reps' open
    // tasks: once each.
    let mut activities = ActivityServiceClient::new(grpc.clone());
    let logged = activities
        .list_activities(authorized(ListActivitiesRequest::default(), &token))
        .await
        .unwrap()
        .into_inner()
        .activities;
    assert_eq!(
        logged.len(),
        5,
        "three of Ravi's, one of Nora's, one of Wes's"
    );
    let open = ListTasksRequest {
        state: TaskState::Open.into(),
        ..Default::default()
    };
    let tasks = activities
        .list_tasks(authorized(open, &token))
        .await
        .unwrap()
        .into_inner()
        .tasks;
    assert_eq!(tasks.len(), 3, "one open task per rep");
    the_deal_desk_money_is_there(&grpc, &token).await;
    the_forecast_is_there(&grpc, &token).await;
    the_pay_is_there(&grpc, &token).await;
    the_knowledge_is_there(&grpc, &token).await;

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
    let _ = std::fs::remove_dir_all(crm_test_support::scratch_dir(&namespace));
}

/// The starter library, published once however often the demo ran, and found by a rep's
/// English and Chinese searches with its stages and competitors resolved.
async fn the_knowledge_is_there(grpc: &LocalGrpc, token: &str) {
    use crm_proto::crm::knowledge::v1::{
        ListArticlesRequest, SearchArticlesRequest, VersionStatus,
        article_service_client::ArticleServiceClient, search_service_client::SearchServiceClient,
    };
    let articles = ArticleServiceClient::new(grpc.clone())
        .list_articles(authorized(
            ListArticlesRequest {
                page: Some(PageRequest {
                    page_size: 500,
                    page_token: String::new(),
                }),
                ..Default::default()
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .articles;
    assert_eq!(
        articles.len(),
        crm_knowledge::starter::articles().len(),
        "each once"
    );
    assert!(articles.iter().all(|article| {
        article.published_version == 1
            && article.version.as_ref().unwrap().status == VersionStatus::Published as i32
    }));
    let globex = PipelineServiceClient::new(grpc.clone())
        .list_competitors(authorized(ListCompetitorsRequest::default(), token))
        .await
        .unwrap()
        .into_inner()
        .competitors
        .into_iter()
        .find(|competitor| competitor.name == "Globex")
        .unwrap();
    let search = SearchServiceClient::new(grpc.clone());
    for (query, title) in [
        ("Globex battlecard", "Battlecard: Globex"),
        ("Globex 竞品", "竞品分析：Globex"),
    ] {
        let mut found = Vec::new();
        for _ in 0..200 {
            found = match search
                .clone()
                .search_articles(authorized(
                    SearchArticlesRequest {
                        query: query.into(),
                        ..Default::default()
                    },
                    token,
                ))
                .await
            {
                Ok(answer) => answer.into_inner().hits,
                Err(_) => Vec::new(),
            };
            if found.first().is_some_and(|hit| hit.title == title) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            found.first().map(|hit| hit.title.as_str()),
            Some(title),
            "{query}"
        );
    }
    let card = articles
        .iter()
        .find(|article| {
            article
                .version
                .as_ref()
                .unwrap()
                .content
                .as_ref()
                .unwrap()
                .title
                == "Battlecard: Globex"
        })
        .unwrap();
    assert_eq!(
        card.version
            .as_ref()
            .unwrap()
            .content
            .as_ref()
            .unwrap()
            .competitor_ids,
        [globex.id]
    );
}

/// The corporate currency and rates, the pipelines, competitors, the scenario's Contoso deal
/// and the history.
async fn the_sales_process_and_deals_are_there(grpc: &LocalGrpc, token: &str) {
    let mut org = OrgServiceClient::new(grpc.clone());
    let settings = org
        .get_org_settings(authorized(GetOrgSettingsRequest {}, token))
        .await
        .unwrap()
        .into_inner()
        .settings
        .unwrap();
    assert_eq!(settings.corporate_currency, demo::CORPORATE_CURRENCY);
    let rates = org
        .list_exchange_rates(authorized(ListExchangeRatesRequest::default(), token))
        .await
        .unwrap()
        .into_inner()
        .rates;
    let mut currencies: Vec<&str> = rates
        .iter()
        .map(|rate| rate.currency_code.as_str())
        .collect();
    currencies.sort_unstable();
    assert_eq!(currencies, ["EUR", "USD"], "one rate each, set once");

    let mut pipelines = PipelineServiceClient::new(grpc.clone());
    let listed = pipelines
        .list_pipelines(authorized(ListPipelinesRequest {}, token))
        .await
        .unwrap()
        .into_inner()
        .pipelines;
    let names: Vec<&str> = listed
        .iter()
        .map(|pipeline| pipeline.name.as_str())
        .collect();
    assert_eq!(names, ["Direct", "Service contracts"]);
    let qualify = &listed[0].stages[0];
    assert_eq!(qualify.name, "Qualify");
    assert_eq!(
        qualify.exit_criteria,
        ["custom_fields.budget", "buying_committee.decision_maker"]
    );
    let competitors = pipelines
        .list_competitors(authorized(ListCompetitorsRequest::default(), token))
        .await
        .unwrap()
        .into_inner()
        .competitors;
    assert_eq!(
        competitors.len(),
        4,
        "Globex, Initech, Umbrella, Vandelay: once each"
    );

    // The price book: eight products, a list per currency (each its currency's default), and
    // the robot cell at its price since July 2026.
    let mut book = PriceBookServiceClient::new(grpc.clone());
    let products = book
        .list_products(authorized(ListProductsRequest::default(), token))
        .await
        .unwrap()
        .into_inner()
        .products;
    assert_eq!(products.len(), 8);
    let lists = book
        .list_price_lists(authorized(ListPriceListsRequest::default(), token))
        .await
        .unwrap()
        .into_inner()
        .price_lists;
    let mut lists: Vec<(&str, bool)> = lists
        .iter()
        .map(|list| (list.currency_code.as_str(), list.is_default))
        .collect();
    lists.sort_unstable();
    assert_eq!(lists, [("CNY", true), ("EUR", true), ("USD", true)]);
    let cny = book
        .list_price_lists(authorized(
            ListPriceListsRequest {
                currency_code: "CNY".into(),
                include_inactive: false,
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .price_lists;
    let robot = products
        .iter()
        .find(|product| product.code == "LINE3-ROBOT")
        .unwrap();
    let prices = book
        .list_prices(authorized(
            ListPricesRequest {
                price_list_id: cny[0].id.clone(),
                product_id: robot.id.clone(),
                on: String::new(),
                page: None,
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .prices;
    let dated: Vec<(&str, &str)> = prices
        .iter()
        .map(|price| {
            let amount = price.unit_price.as_ref().unwrap().amount.as_str();
            (price.effective_from.as_str(), amount)
        })
        .collect();
    assert_eq!(dated, [("2026-07-01", "500000"), ("2025-01-01", "480000")]);

    let deals = every_deal(grpc, token).await;
    let contoso = deals
        .iter()
        .find(|deal| deal.name == "Contoso — Line 3 automation")
        .expect("the scenario's deal");
    assert_eq!(contoso.owner_id, demo::RAVI.user_id().to_string());
    assert_eq!(contoso.pipeline_name, "Direct");
    assert_eq!(contoso.stage.as_ref().unwrap().name, "Qualify");
    let amount = contoso.amount.as_ref().unwrap();
    // However the service writes the decimal ("1200000" or "1200000.00").
    let yuan = amount.amount.trim_end_matches(".00");
    assert_eq!((amount.currency_code.as_str(), yuan), ("CNY", "1200000"));
    let created = crm_platform::time::from_timestamp(contoso.created_at.as_ref().unwrap()).unwrap();
    assert_eq!(
        contoso.expected_close_date,
        (created + chrono::Duration::days(60))
            .date_naive()
            .to_string()
    );
    assert!(contoso.custom_fields.contains_key("budget"));
    let committee: Vec<(&str, i32, i32)> = contoso
        .buying_committee
        .iter()
        .map(|member| (member.contact_name.as_str(), member.role, member.attitude))
        .collect();
    assert_eq!(
        committee,
        [
            (
                "Li Wei",
                BuyingRole::Champion as i32,
                Attitude::Supporter as i32
            ),
            (
                "Zhang Min",
                BuyingRole::EconomicBuyer as i32,
                Attitude::Sceptical as i32
            ),
        ]
    );
    let rivals: Vec<(&str, i32)> = contoso
        .competitors
        .iter()
        .map(|competitor| (competitor.competitor_name.as_str(), competitor.status))
        .collect();
    assert_eq!(rivals, [("Globex", CompetitorStatus::Active as i32)]);

    assert!((403..=803).contains(&deals.len()), "{} deals", deals.len());
    let count = |status: OpportunityStatus| {
        deals
            .iter()
            .filter(|deal| deal.status == status as i32)
            .count()
    };
    let (won, lost) = (
        count(OpportunityStatus::Won),
        count(OpportunityStatus::Lost),
    );
    let win_permille = won * 1000 / (won + lost);
    assert!(
        (250..=350).contains(&win_permille),
        "won {won}, lost {lost}"
    );
    for pipeline in &listed {
        for stage in pipeline
            .stages
            .iter()
            .filter(|stage| stage.kind == StageKind::Open as i32)
        {
            assert!(
                deals
                    .iter()
                    .any(|deal| deal.status == OpportunityStatus::Open as i32
                        && deal
                            .stage
                            .as_ref()
                            .is_some_and(|at| at.stage_id == stage.id)),
                "an open deal in {} / {}",
                pipeline.name,
                stage.name
            );
        }
    }
    for deal in &deals {
        let corporate = deal
            .corporate_amount
            .as_ref()
            .and_then(|corporate| corporate.amount.as_ref());
        assert_eq!(
            corporate.map(|amount| amount.currency_code.as_str()),
            Some("CNY"),
            "{} is also in yuan",
            deal.name
        );
    }
    assert!(
        deals
            .iter()
            .any(|deal| deal.amount.as_ref().unwrap().currency_code == "USD")
    );
    assert!(
        deals
            .iter()
            .filter(|deal| deal.status == OpportunityStatus::Lost as i32)
            .all(|deal| deal
                .outcome
                .as_ref()
                .is_some_and(|outcome| !outcome.close_reason_id.is_empty())),
        "every lost deal has its reason"
    );
}

/// Ravi's two expenses (one on a won deal, approved by Mei; one waiting on Contoso) and the won
/// deal's 30/70 schedule with its first 30 % paid — once each.
async fn the_deal_desk_money_is_there(grpc: &LocalGrpc, token: &str) {
    use crm_proto::crm::opportunities::v1::{
        ExpenseStatus, GetPaymentScheduleRequest, InstalmentStatus, ListExpensesRequest,
    };
    let mut expenses = ExpenseServiceClient::new(grpc.clone());
    let listed = expenses
        .list_expenses(authorized(ListExpensesRequest::default(), token))
        .await
        .unwrap()
        .into_inner()
        .expenses;
    assert_eq!(listed.len(), 2, "two of Ravi's expenses");
    let approved = listed
        .iter()
        .find(|expense| expense.status() == ExpenseStatus::Approved)
        .expect("one approved");
    assert_eq!(
        approved.audit.as_ref().unwrap().decided_by,
        demo::MEI.user_id().to_string(),
        "by Ravi's manager"
    );
    assert!(
        listed
            .iter()
            .any(|expense| expense.status() == ExpenseStatus::Submitted),
        "one waiting"
    );
    let mut collections = CollectionServiceClient::new(grpc.clone());
    let get = GetPaymentScheduleRequest {
        opportunity_id: approved.opportunity_id.clone(),
    };
    let schedule = collections
        .get_payment_schedule(authorized(get, token))
        .await
        .expect("the won deal has a schedule")
        .into_inner()
        .schedule
        .unwrap();
    let percents: Vec<&str> = schedule
        .instalments
        .iter()
        .map(|instalment| instalment.percent.as_str())
        .collect();
    assert_eq!(percents, ["30", "70"]);
    assert_eq!(schedule.instalments[0].status(), InstalmentStatus::Paid);
    assert_eq!(schedule.instalments[1].status(), InstalmentStatus::Open);
    assert_eq!(schedule.payments.len(), 1, "the down payment once");
}

/// This year's quotas reach every rep and add up, the reps and Mei called this quarter, and
/// the forecast holds the two years of history.
async fn the_forecast_is_there(grpc: &LocalGrpc, token: &str) {
    use chrono::Datelike;
    use crm_proto::crm::forecasting::v1::{
        CheckQuotasRequest, ForecastScope, GetPipelineForecastRequest, ListCallsRequest,
        ListQuotasRequest, TargetKind, forecast_call_service_client::ForecastCallServiceClient,
        forecast_service_client::ForecastServiceClient, quota_service_client::QuotaServiceClient,
    };
    let today = chrono::Utc::now().date_naive();
    let year = format!("FY{}", today.year());
    let quarter = format!("FY{}-Q{}", today.year(), today.month0() / 3 + 1);
    let mut quotas = QuotaServiceClient::new(grpc.clone());
    let listed = quotas
        .list_quotas(authorized(
            ListQuotasRequest {
                scope: None,
                period: year.clone(),
                kind: TargetKind::Revenue.into(),
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .quotas;
    for rep in [demo::RAVI, demo::NORA, demo::WES] {
        assert!(
            listed
                .iter()
                .any(|quota| quota.holder.as_ref().is_some_and(|holder| {
                    holder.of
                        == Some(crm_proto::crm::forecasting::v1::resolved_scope::Of::UserId(
                            rep.user_id().to_string(),
                        ))
                })),
            "every rep has this year's revenue quota"
        );
    }
    let check = quotas
        .check_quotas(authorized(
            CheckQuotasRequest {
                scope: None,
                period: year.clone(),
                kind: TargetKind::Revenue.into(),
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        check.findings.is_empty(),
        "the quotas handed down add up: {:?}",
        check.findings
    );
    let calls = ForecastCallServiceClient::new(grpc.clone())
        .list_calls(authorized(
            ListCallsRequest {
                scope: Some(ForecastScope {
                    team_path: "/northwind/east/".into(),
                    ..Default::default()
                }),
                period: quarter,
                page: None,
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .calls;
    assert_eq!(calls.len(), 3, "Ravi's, Nora's and Mei's calls for East");
    let last_year = ForecastServiceClient::new(grpc.clone())
        .get_pipeline_forecast(authorized(
            GetPipelineForecastRequest {
                scope: None,
                period: format!("FY{}", today.year() - 1),
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .forecast
        .unwrap();
    assert!(
        last_year.closed.unwrap().deal_count > 10,
        "last year's history is in the forecast"
    );
}

/// A plan of each kind with its rep, and last quarter closed with their statements.
async fn the_pay_is_there(grpc: &LocalGrpc, token: &str) {
    use chrono::Datelike;
    use crm_proto::crm::compensation::v1::{
        ListAssignmentsRequest, ListClosedPeriodsRequest, ListPlansRequest,
        assignment_service_client::AssignmentServiceClient, plan_service_client::PlanServiceClient,
        statement_service_client::StatementServiceClient,
    };
    let plans = PlanServiceClient::new(grpc.clone())
        .list_plans(authorized(ListPlansRequest {}, token))
        .await
        .unwrap()
        .into_inner()
        .plans;
    let names: Vec<&str> = plans.iter().map(|plan| plan.name.as_str()).collect();
    assert_eq!(
        names,
        ["New rep ramp", "Senior field sales", "Territory team"]
    );
    let assignments = AssignmentServiceClient::new(grpc.clone())
        .list_assignments(authorized(ListAssignmentsRequest::default(), token))
        .await
        .unwrap()
        .into_inner()
        .assignments;
    assert_eq!(assignments.len(), 3, "Ravi, Nora and Wes, once each");
    let closed = StatementServiceClient::new(grpc.clone())
        .list_closed_periods(authorized(ListClosedPeriodsRequest {}, token))
        .await
        .unwrap()
        .into_inner()
        .periods;
    let today = chrono::Utc::now().date_naive();
    let (year, quarter) = match today.month0() / 3 {
        0 => (today.year() - 1, 4),
        q => (today.year(), q),
    };
    assert_eq!(closed.len(), 1, "last quarter closed, once");
    let period = closed[0].period.as_ref().unwrap();
    assert_eq!(period.label, format!("FY{year}-Q{quarter}"));
    assert_eq!(
        closed[0].statement_count, 3,
        "a statement for each rep on a plan"
    );
}
