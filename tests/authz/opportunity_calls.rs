//! The opportunities service's calls over either transport: each one the request its RPC
//! takes, sent by [`grpc`] straight to the service or by [`http`] to the route the contract
//! annotates on the gateway's front door.

use crm_proto::crm::opportunities::v1::{
    self as pb, account_desk_service_client::AccountDeskServiceClient,
    activity_service_client::ActivityServiceClient,
    analytics_service_client::AnalyticsServiceClient, care_service_client::CareServiceClient,
    collection_service_client::CollectionServiceClient,
    deal_plan_service_client::DealPlanServiceClient, expense_service_client::ExpenseServiceClient,
    opportunity_service_client::OpportunityServiceClient, order_service_client::OrderServiceClient,
    pipeline_service_client::PipelineServiceClient,
    price_book_service_client::PriceBookServiceClient, quote_service_client::QuoteServiceClient,
    work_report_service_client::WorkReportServiceClient,
};
use crm_test_support::authorized;
use tonic::transport::Channel;

use super::super::{Http, Refusal, no_ids, page};

/// One call of an opportunities cell: the request as the RPC takes it.
#[derive(Clone, Debug)]
pub(crate) enum Call {
    GetOpportunity(pb::GetOpportunityRequest),
    /// Answers the ids listed (first page of 500).
    ListOpportunities,
    ListStageHistory(pb::ListStageHistoryRequest),
    ListOpportunityChanges(pb::ListOpportunityChangesRequest),
    CreateOpportunity(pb::CreateOpportunityRequest),
    UpdateOpportunity(pb::UpdateOpportunityRequest),
    ChangeStage(pb::ChangeStageRequest),
    MarkWon(pb::MarkWonRequest),
    MarkLost(pb::MarkLostRequest),
    ReopenOpportunity(pb::ReopenOpportunityRequest),
    ArchiveOpportunity(pb::ArchiveOpportunityRequest),
    ReassignOpportunity(pb::ReassignOpportunityRequest),
    SetDealTeam(pb::SetDealTeamRequest),
    SetBuyingCommittee(pb::SetBuyingCommitteeRequest),
    SetDealCompetitors(pb::SetDealCompetitorsRequest),
    ListPipelines,
    GetPipeline(pb::GetPipelineRequest),
    CreatePipeline(pb::CreatePipelineRequest),
    UpdatePipeline(pb::UpdatePipelineRequest),
    ListCloseReasons,
    CreateCloseReason(pb::CreateCloseReasonRequest),
    UpdateCloseReason(pb::UpdateCloseReasonRequest),
    ListCompetitors,
    CreateCompetitor(pb::CreateCompetitorRequest),
    UpdateCompetitor(pb::UpdateCompetitorRequest),
    GetPriorityBoardSettings,
    UpdatePriorityBoardSettings(pb::UpdatePriorityBoardSettingsRequest),
    GetPriorityBoard(pb::GetPriorityBoardRequest),
    GetFunnel(pb::GetFunnelRequest),
    CompareReps(pb::CompareRepsRequest),
    GetCompetitiveAnalysis(pb::GetCompetitiveAnalysisRequest),
    /// PriceBookService (`price_book.rs`).
    PriceBook(super::price_book::Call),
    /// QuoteService (`quotes.rs`).
    Quotes(super::quotes::Call),
    /// OrderService (`orders.rs`).
    Orders(super::orders::Call),
    /// ActivityService (`activities.rs`).
    Activities(super::activities::Call),
    /// CollectionService (`collections.rs`).
    Collections(super::collections::Call),
    /// ExpenseService (`expenses.rs`).
    Expenses(super::expenses::Call),
    /// AccountDeskService (`account_desk.rs`).
    AccountDesk(super::account_desk::Call),
    /// DealPlanService (`plans.rs`).
    Plans(super::plans::Call),
    /// CareService (`care.rs`).
    Care(super::care::Call),
    /// WorkReportService (`work_reports.rs`).
    WorkReports(super::work_reports::Call),
}

fn list_opportunities() -> pb::ListOpportunitiesRequest {
    pb::ListOpportunitiesRequest {
        page: page(),
        ..Default::default()
    }
}

/// The opportunities service's gRPC clients, for the parent file's `Grpc`.
#[derive(Clone)]
pub(crate) struct Clients {
    pipelines: PipelineServiceClient<Channel>,
    deals: OpportunityServiceClient<Channel>,
    analytics: AnalyticsServiceClient<Channel>,
    book: PriceBookServiceClient<Channel>,
    quotes: QuoteServiceClient<Channel>,
    orders: OrderServiceClient<Channel>,
    activities: ActivityServiceClient<Channel>,
    collections: CollectionServiceClient<Channel>,
    expenses: ExpenseServiceClient<Channel>,
    desks: AccountDeskServiceClient<Channel>,
    plans: DealPlanServiceClient<Channel>,
    care: CareServiceClient<Channel>,
    work_reports: WorkReportServiceClient<Channel>,
}

impl Clients {
    pub(crate) fn new(channel: &Channel) -> Self {
        Self {
            pipelines: PipelineServiceClient::new(channel.clone()),
            deals: OpportunityServiceClient::new(channel.clone()),
            analytics: AnalyticsServiceClient::new(channel.clone()),
            book: PriceBookServiceClient::new(channel.clone()),
            quotes: QuoteServiceClient::new(channel.clone()),
            orders: OrderServiceClient::new(channel.clone()),
            activities: ActivityServiceClient::new(channel.clone()),
            collections: CollectionServiceClient::new(channel.clone()),
            expenses: ExpenseServiceClient::new(channel.clone()),
            desks: AccountDeskServiceClient::new(channel.clone()),
            plans: DealPlanServiceClient::new(channel.clone()),
            care: CareServiceClient::new(channel.clone()),
            work_reports: WorkReportServiceClient::new(channel.clone()),
        }
    }
}

/// A call straight to the service's gRPC API.
pub(crate) async fn grpc(
    clients: &Clients,
    token: &str,
    call: Call,
) -> Result<Vec<String>, Refusal> {
    let Clients {
        mut pipelines,
        mut deals,
        mut analytics,
        book,
        quotes,
        orders,
        activities,
        collections,
        expenses,
        desks,
        plans,
        care,
        work_reports,
    } = clients.clone();
    let ids = match call {
        Call::ListOpportunities => deals
            .list_opportunities(authorized(list_opportunities(), token))
            .await?
            .into_inner()
            .opportunities
            .into_iter()
            .map(|deal| deal.id)
            .collect(),
        Call::GetOpportunity(request) => deals
            .get_opportunity(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::ListStageHistory(request) => deals
            .list_stage_history(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::ListOpportunityChanges(request) => deals
            .list_opportunity_changes(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::CreateOpportunity(request) => deals
            .create_opportunity(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::UpdateOpportunity(request) => deals
            .update_opportunity(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::ChangeStage(request) => deals
            .change_stage(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::MarkWon(request) => deals
            .mark_won(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::MarkLost(request) => deals
            .mark_lost(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::ReopenOpportunity(request) => deals
            .reopen_opportunity(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::ArchiveOpportunity(request) => deals
            .archive_opportunity(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::ReassignOpportunity(request) => deals
            .reassign_opportunity(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::SetDealTeam(request) => deals
            .set_deal_team(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::SetBuyingCommittee(request) => deals
            .set_buying_committee(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::SetDealCompetitors(request) => deals
            .set_deal_competitors(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::ListPipelines => pipelines
            .list_pipelines(authorized(pb::ListPipelinesRequest {}, token))
            .await
            .map(no_ids)?,
        Call::GetPipeline(request) => pipelines
            .get_pipeline(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::CreatePipeline(request) => pipelines
            .create_pipeline(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::UpdatePipeline(request) => pipelines
            .update_pipeline(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::ListCloseReasons => pipelines
            .list_close_reasons(authorized(pb::ListCloseReasonsRequest::default(), token))
            .await
            .map(no_ids)?,
        Call::CreateCloseReason(request) => pipelines
            .create_close_reason(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::UpdateCloseReason(request) => pipelines
            .update_close_reason(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::ListCompetitors => pipelines
            .list_competitors(authorized(pb::ListCompetitorsRequest::default(), token))
            .await
            .map(no_ids)?,
        Call::CreateCompetitor(request) => pipelines
            .create_competitor(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::UpdateCompetitor(request) => pipelines
            .update_competitor(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::GetPriorityBoardSettings => pipelines
            .get_priority_board_settings(authorized(pb::GetPriorityBoardSettingsRequest {}, token))
            .await
            .map(no_ids)?,
        Call::UpdatePriorityBoardSettings(request) => pipelines
            .update_priority_board_settings(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::GetPriorityBoard(request) => analytics
            .get_priority_board(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::GetFunnel(request) => analytics
            .get_funnel(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::CompareReps(request) => analytics
            .compare_reps(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::GetCompetitiveAnalysis(request) => analytics
            .get_competitive_analysis(authorized(request, token))
            .await
            .map(no_ids)?,
        Call::PriceBook(call) => super::price_book::grpc(&book, token, call).await?,
        Call::Quotes(call) => super::quotes::grpc(&quotes, token, call).await?,
        Call::Orders(call) => super::orders::grpc(&orders, token, call).await?,
        Call::Activities(call) => super::activities::grpc(&activities, token, call).await?,
        Call::Collections(call) => super::collections::grpc(&collections, token, call).await?,
        Call::Expenses(call) => super::expenses::grpc(&expenses, token, call).await?,
        Call::AccountDesk(call) => super::account_desk::grpc(&desks, token, call).await?,
        Call::Plans(call) => super::plans::grpc(&plans, token, call).await?,
        Call::Care(call) => super::care::grpc(&care, token, call).await?,
        Call::WorkReports(call) => super::work_reports::grpc(&work_reports, token, call).await?,
    };
    Ok(ids)
}

/// A query string of the fields given (empty ones left out), team paths escaped.
pub(crate) fn query(fields: &[(&str, &str)]) -> String {
    let given: Vec<String> = fields
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{name}={}", value.replace('/', "%2F")))
        .collect();
    if given.is_empty() {
        String::new()
    } else {
        format!("?{}", given.join("&"))
    }
}

/// The query fields of a scope and a period.
fn scope_fields<'a>(
    scope: Option<&'a pb::DealScope>,
    period: Option<&'a pb::MonthRange>,
) -> Vec<(&'static str, &'a str)> {
    vec![
        ("scope.owner_id", scope.map_or("", |scope| &scope.owner_id)),
        (
            "scope.team_path",
            scope.map_or("", |scope| &scope.team_path),
        ),
        (
            "period.from_month",
            period.map_or("", |period| &period.from_month),
        ),
        (
            "period.to_month",
            period.map_or("", |period| &period.to_month),
        ),
    ]
}

/// A call through the gateway's HTTP/JSON front door, to the routes the contract annotates.
pub(crate) async fn http(door: &Http, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
    use http::Method;
    let deal = |id: &str, verb: &str| format!("/v1/opportunities/{id}{verb}");
    let (method, path, body) = match call {
        Call::ListOpportunities => {
            return door
                .list(
                    "/v1/opportunities?page.page_size=500",
                    token,
                    "opportunities",
                )
                .await;
        }
        Call::GetOpportunity(request) => (Method::GET, deal(&request.opportunity_id, ""), None),
        Call::ListStageHistory(request) => (
            Method::GET,
            deal(&request.opportunity_id, "/stageHistory"),
            None,
        ),
        Call::ListOpportunityChanges(request) => {
            (Method::GET, deal(&request.opportunity_id, "/changes"), None)
        }
        Call::CreateOpportunity(request) => (
            Method::POST,
            "/v1/opportunities".into(),
            Some(door.json(&request)),
        ),
        Call::UpdateOpportunity(request) => (
            Method::PATCH,
            deal(&request.opportunity_id, ""),
            Some(door.json(&request)),
        ),
        Call::ChangeStage(request) => (
            Method::POST,
            deal(&request.opportunity_id, ":changeStage"),
            Some(door.json(&request)),
        ),
        Call::MarkWon(request) => (
            Method::POST,
            deal(&request.opportunity_id, ":win"),
            Some(door.json(&request)),
        ),
        Call::MarkLost(request) => (
            Method::POST,
            deal(&request.opportunity_id, ":lose"),
            Some(door.json(&request)),
        ),
        Call::ReopenOpportunity(request) => (
            Method::POST,
            deal(&request.opportunity_id, ":reopen"),
            Some(door.json(&request)),
        ),
        Call::ArchiveOpportunity(request) => (
            Method::POST,
            deal(&request.opportunity_id, ":archive"),
            Some(door.json(&request)),
        ),
        Call::ReassignOpportunity(request) => (
            Method::POST,
            deal(&request.opportunity_id, ":reassign"),
            Some(door.json(&request)),
        ),
        Call::SetDealTeam(request) => (
            Method::POST,
            deal(&request.opportunity_id, ":setTeam"),
            Some(door.json(&request)),
        ),
        Call::SetBuyingCommittee(request) => (
            Method::POST,
            deal(&request.opportunity_id, ":setCommittee"),
            Some(door.json(&request)),
        ),
        Call::SetDealCompetitors(request) => (
            Method::POST,
            deal(&request.opportunity_id, ":setCompetitors"),
            Some(door.json(&request)),
        ),
        Call::ListPipelines => (Method::GET, "/v1/pipelines".into(), None),
        Call::GetPipeline(request) => (
            Method::GET,
            format!("/v1/pipelines/{}", request.pipeline_id),
            None,
        ),
        Call::CreatePipeline(request) => (
            Method::POST,
            "/v1/pipelines".into(),
            Some(door.json(&request)),
        ),
        Call::UpdatePipeline(request) => (
            Method::PATCH,
            format!("/v1/pipelines/{}", request.pipeline_id),
            Some(door.json(&request)),
        ),
        Call::ListCloseReasons => (Method::GET, "/v1/closeReasons".into(), None),
        Call::CreateCloseReason(request) => (
            Method::POST,
            "/v1/closeReasons".into(),
            Some(door.json(&request)),
        ),
        Call::UpdateCloseReason(request) => (
            Method::PATCH,
            format!("/v1/closeReasons/{}", request.close_reason_id),
            Some(door.json(&request)),
        ),
        Call::ListCompetitors => (Method::GET, "/v1/competitors".into(), None),
        Call::CreateCompetitor(request) => (
            Method::POST,
            "/v1/competitors".into(),
            Some(door.json(&request)),
        ),
        Call::UpdateCompetitor(request) => (
            Method::PATCH,
            format!("/v1/competitors/{}", request.competitor_id),
            Some(door.json(&request)),
        ),
        Call::GetPriorityBoardSettings => (Method::GET, "/v1/priorityBoardSettings".into(), None),
        Call::UpdatePriorityBoardSettings(request) => (
            Method::PATCH,
            "/v1/priorityBoardSettings".into(),
            Some(door.json(&request)),
        ),
        Call::GetPriorityBoard(request) => {
            let fields = scope_fields(request.scope.as_ref(), None);
            (
                Method::GET,
                format!("/v1/priorityBoard{}", query(&fields)),
                None,
            )
        }
        Call::GetFunnel(request) => {
            let mut fields = vec![("pipeline_id", request.pipeline_id.as_str())];
            fields.extend(scope_fields(
                request.scope.as_ref(),
                request.period.as_ref(),
            ));
            (Method::GET, format!("/v1/funnel{}", query(&fields)), None)
        }
        Call::CompareReps(request) => {
            let mut fields = vec![
                ("pipeline_id", request.pipeline_id.as_str()),
                ("team_path", request.team_path.as_str()),
            ];
            fields.extend(scope_fields(None, request.period.as_ref()));
            let path = format!("/v1/funnel:compareReps{}", query(&fields));
            (Method::GET, path, None)
        }
        Call::GetCompetitiveAnalysis(request) => {
            let mut fields = vec![("pipeline_id", request.pipeline_id.as_str())];
            fields.extend(scope_fields(
                request.scope.as_ref(),
                request.period.as_ref(),
            ));
            let path = format!("/v1/competitiveAnalysis{}", query(&fields));
            (Method::GET, path, None)
        }
        Call::PriceBook(call) => return super::price_book::http(door, token, call).await,
        Call::Quotes(call) => return super::quotes::http(door, token, call).await,
        Call::Orders(call) => return super::orders::http(door, token, call).await,
        Call::Activities(call) => return super::activities::http(door, token, call).await,
        Call::Collections(call) => return super::collections::http(door, token, call).await,
        Call::Expenses(call) => return super::expenses::http(door, token, call).await,
        Call::AccountDesk(call) => return super::account_desk::http(door, token, call).await,
        Call::Plans(call) => return super::plans::http(door, token, call).await,
        Call::Care(call) => return super::care::http(door, token, call).await,
        Call::WorkReports(call) => return super::work_reports::http(door, token, call).await,
    };
    door.send(method, &path, token, body).await.map(no_ids)
}

/// UpdateOpportunity of the deal: a new next step each time, so every allowed one changes it.
pub(crate) fn update(id: String) -> Call {
    Call::UpdateOpportunity(pb::UpdateOpportunityRequest {
        opportunity_id: id,
        patch: Some(pb::OpportunityPatch {
            next_step: Some(format!("Send quote {}", uuid::Uuid::now_v7().simple())),
            ..Default::default()
        }),
        expected_version: 0,
    })
}

pub(crate) fn get(id: String) -> Call {
    Call::GetOpportunity(pb::GetOpportunityRequest { opportunity_id: id })
}
