//! The opportunities service's rows of the matrix (issue #10 item 12), run by the parent file's
//! tests over the same organisation, transports and report.
//!
//! Deals are owned like accounts (docs/api.md, OpportunityService): the same own / team / other
//! cells, with every read and every write the service has. Reopening and reassigning need a
//! manager in reach or an admin, and so does archiving a closed deal. The sales process
//! (PipelineService) is read by every role and changed by admins, the competitor catalogue by
//! managers too; the price book (PriceBookService, its rows in `price_book.rs`) is read by every
//! role and changed by admins alone; a deal's quotes (QuoteService, `quotes.rs`) go with the
//! deal, their discounts decided by a manager above the owner or an admin, and so do its orders
//! (OrderService, `orders.rs`: read with the deal, delivered by whoever may change it), and its
//! plan (DealPlanService, `plans.rs`); an account's deal desk (AccountDeskService,
//! `account_desk.rs`) holds what each caller reads of them. The figures (AnalyticsService) are
//! asked for a scope, and a scope beyond the caller's reach is PERMISSION_DENIED; so is a work
//! report's subject beyond it (WorkReportService, `work_reports.rs`). Care settings and
//! templates (CareService, `care.rs`) are read by every role and changed by admins.
//!
//! Each person's deal is their own, on their own account: the opportunities service knows an
//! account only from the accounts service's events, so the organisation waits for it.

use std::time::Duration;

use crm_proto::crm::{
    accounts::v1::BuyingRole,
    common::v1::Money,
    opportunities::v1::{
        self as pb, opportunity_service_client::OpportunityServiceClient,
        pipeline_service_client::PipelineServiceClient,
    },
};
use crm_test_support::{authorized, eventually};
use tonic::{Code, transport::Channel};

#[path = "account_desk.rs"]
mod account_desk;
#[path = "activities.rs"]
mod activities;
#[path = "opportunity_calls.rs"]
mod calls;
#[path = "care.rs"]
mod care;
#[path = "collections.rs"]
mod collections;
#[path = "expenses.rs"]
mod expenses;
#[path = "orders.rs"]
mod orders;
#[path = "plans.rs"]
mod plans;
#[path = "price_book.rs"]
mod price_book;
#[path = "quotes.rs"]
mod quotes;
#[path = "work_reports.rs"]
mod work_reports;

pub(super) use calls::query;
pub(super) use calls::{Call, Clients, get, grpc, http, update};

use super::{
    DENIED, Expect, Kind, NOT_FOUND, OK, Org, Pool, Refusal, Rel, Report, Role, Transport, Who,
};
use Kind::Opportunity;
use Rel::{Other, Own, Team};
use Role::{Admin, Manager, Rep};

/// The seeded "Direct" pipeline and its stages, and two seeded close reasons
/// (migrations/opportunities).
const DIRECT: &str = "01900000-0000-7000-8000-000000000001";
const DEVELOP: &str = "01900000-0000-7000-8000-000000000012";
const PROPOSE: &str = "01900000-0000-7000-8000-000000000013";
const NEGOTIATE: &str = "01900000-0000-7000-8000-000000000014";
const WON_PRODUCT_FIT: &str = "01900000-0000-7000-8000-000000000101";
const LOST_PRICE: &str = "01900000-0000-7000-8000-000000000111";

// ---- the tables ----

/// Deals. Read = GetOpportunity answers, the deal appears in ListOpportunities, and its
/// ListStageHistory and ListOpportunityChanges answer; write = each of UpdateOpportunity,
/// ChangeStage, SetDealTeam, SetBuyingCommittee and SetDealCompetitors.
#[rustfmt::skip]
const RECORDS: &[(Kind, Role, Rel, Expect, Expect)] = &[
    // kind       role     record  read       write
    (Opportunity, Admin,   Own,    OK,        OK),
    (Opportunity, Admin,   Team,   OK,        OK),
    (Opportunity, Admin,   Other,  OK,        OK),
    (Opportunity, Manager, Own,    OK,        OK),
    (Opportunity, Manager, Team,   OK,        OK),
    (Opportunity, Manager, Other,  NOT_FOUND, NOT_FOUND),
    (Opportunity, Rep,     Own,    OK,        OK),
    (Opportunity, Rep,     Team,   NOT_FOUND, NOT_FOUND),
    (Opportunity, Rep,     Other,  NOT_FOUND, NOT_FOUND),
];

/// What a closed-deal cell starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Open,
    Lost,
}

/// Whose figures an analytics cell asks for (`DealScope`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// Neither field: everything the caller sees (the board: the caller's own deals).
    Unscoped,
    /// `owner_id`: the person [`Who::owner`] places for the actor — themselves, the one of their
    /// team (Ravi, for a rep Nora), or Wes.
    Owner(Rel),
    /// `team_path`: East, the company (`/acme/`) or West.
    Team(Pool),
}

/// Role-gated calls. Each cell that changes something acts on a target made for it alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// OpportunityService/CreateOpportunity: the caller's own deal on their account (`None`),
    /// or one given to this person on their account.
    Create(Option<Who>),
    /// MarkWon / MarkLost of a fresh open deal this person owns.
    MarkWon(Who),
    MarkLost(Who),
    /// ReopenOpportunity of a fresh lost deal this person owns.
    Reopen(Who),
    /// ReassignOpportunity of a fresh open deal of the first person to the second.
    Reassign(Who, Who),
    /// ArchiveOpportunity of a fresh deal this person owns, open or lost.
    Archive(Who, State),
    /// PipelineService: the reads; the creates; the updates of a pipeline, close reason or
    /// competitor the admin made for the cell; the board's settings (close horizon 120 days).
    ListPipelines,
    GetPipeline,
    CreatePipeline,
    UpdatePipeline,
    ListCloseReasons,
    CreateCloseReason,
    UpdateCloseReason,
    ListCompetitors,
    CreateCompetitor,
    UpdateCompetitor,
    GetBoardSettings,
    UpdateBoardSettings,
    /// AnalyticsService, for a scope: GetPriorityBoard, GetFunnel and GetCompetitiveAnalysis of
    /// the Direct pipeline over 2026; CompareReps, which takes a team or nothing.
    Board(Scope),
    Funnel(Scope),
    Competition(Scope),
    CompareReps(Option<Pool>),
}

#[rustfmt::skip]
const ACTIONS: &[(Action, Expect, Expect, Expect)] = &[
    // action                                           admin  manager    rep
    // A deal given to someone else, as for accounts: a manager within the subtree, an admin.
    (Action::Create(None),                              OK,    OK,        OK),
    (Action::Create(Some(Who::Nora)),                   OK,    OK,        DENIED),
    (Action::Create(Some(Who::Wes)),                    OK,    DENIED,    DENIED),
    // Winning and losing are writes.
    (Action::MarkWon(Who::Ravi),                        OK,    OK,        OK),
    (Action::MarkWon(Who::Nora),                        OK,    OK,        NOT_FOUND),
    (Action::MarkWon(Who::Wes),                         OK,    NOT_FOUND, NOT_FOUND),
    (Action::MarkLost(Who::Ravi),                       OK,    OK,        OK),
    (Action::MarkLost(Who::Nora),                       OK,    OK,        NOT_FOUND),
    (Action::MarkLost(Who::Wes),                        OK,    NOT_FOUND, NOT_FOUND),
    // A closed deal carries credit: no rep reopens one, not even their own.
    (Action::Reopen(Who::Mei),                          OK,    OK,        DENIED),
    (Action::Reopen(Who::Ravi),                         OK,    OK,        DENIED),
    (Action::Reopen(Who::Nora),                         OK,    OK,        DENIED),
    (Action::Reopen(Who::Wes),                          OK,    NOT_FOUND, DENIED),
    // Reassigning: managers within their subtree, both ways; admins; never reps.
    (Action::Reassign(Who::Ravi, Who::Nora),            OK,    OK,        DENIED),
    (Action::Reassign(Who::Ravi, Who::Wes),             OK,    DENIED,    DENIED),
    (Action::Reassign(Who::Wes, Who::Nora),             OK,    NOT_FOUND, DENIED),
    // Archiving an open deal is a write; a closed one needs a manager in reach or an admin.
    (Action::Archive(Who::Ravi, State::Open),           OK,    OK,        OK),
    (Action::Archive(Who::Nora, State::Open),           OK,    OK,        NOT_FOUND),
    (Action::Archive(Who::Wes, State::Open),            OK,    NOT_FOUND, NOT_FOUND),
    (Action::Archive(Who::Ravi, State::Lost),           OK,    OK,        DENIED),
    (Action::Archive(Who::Wes, State::Lost),            OK,    NOT_FOUND, NOT_FOUND),
    // The sales process: everyone reads it, admins change it, managers the competitors too.
    (Action::ListPipelines,                             OK,    OK,        OK),
    (Action::GetPipeline,                               OK,    OK,        OK),
    (Action::CreatePipeline,                            OK,    DENIED,    DENIED),
    (Action::UpdatePipeline,                            OK,    DENIED,    DENIED),
    (Action::ListCloseReasons,                          OK,    OK,        OK),
    (Action::CreateCloseReason,                         OK,    DENIED,    DENIED),
    (Action::UpdateCloseReason,                         OK,    DENIED,    DENIED),
    (Action::ListCompetitors,                           OK,    OK,        OK),
    (Action::CreateCompetitor,                          OK,    OK,        DENIED),
    (Action::UpdateCompetitor,                          OK,    OK,        DENIED),
    (Action::GetBoardSettings,                          OK,    OK,        OK),
    (Action::UpdateBoardSettings,                       OK,    DENIED,    DENIED),
    // The figures: a scope within reach — a team only when seen whole (never for a rep), a
    // person when their deals are in view.
    (Action::Board(Scope::Unscoped),                    OK,    OK,        OK),
    (Action::Board(Scope::Owner(Own)),                  OK,    OK,        OK),
    (Action::Board(Scope::Owner(Team)),                 OK,    OK,        DENIED),
    (Action::Board(Scope::Owner(Other)),                OK,    DENIED,    DENIED),
    (Action::Board(Scope::Team(Pool::East)),            OK,    OK,        DENIED),
    (Action::Board(Scope::Team(Pool::Company)),         OK,    DENIED,    DENIED),
    (Action::Board(Scope::Team(Pool::West)),            OK,    DENIED,    DENIED),
    (Action::Funnel(Scope::Unscoped),                   OK,    OK,        OK),
    (Action::Funnel(Scope::Owner(Own)),                 OK,    OK,        OK),
    (Action::Funnel(Scope::Owner(Team)),                OK,    OK,        DENIED),
    (Action::Funnel(Scope::Owner(Other)),               OK,    DENIED,    DENIED),
    (Action::Funnel(Scope::Team(Pool::East)),           OK,    OK,        DENIED),
    (Action::Funnel(Scope::Team(Pool::Company)),        OK,    DENIED,    DENIED),
    (Action::Funnel(Scope::Team(Pool::West)),           OK,    DENIED,    DENIED),
    (Action::Competition(Scope::Unscoped),              OK,    OK,        OK),
    (Action::Competition(Scope::Owner(Own)),            OK,    OK,        OK),
    (Action::Competition(Scope::Owner(Team)),           OK,    OK,        DENIED),
    (Action::Competition(Scope::Owner(Other)),          OK,    DENIED,    DENIED),
    (Action::Competition(Scope::Team(Pool::East)),      OK,    OK,        DENIED),
    (Action::Competition(Scope::Team(Pool::Company)),   OK,    DENIED,    DENIED),
    (Action::Competition(Scope::Team(Pool::West)),      OK,    DENIED,    DENIED),
    (Action::CompareReps(None),                         OK,    OK,        OK),
    (Action::CompareReps(Some(Pool::East)),             OK,    OK,        DENIED),
    (Action::CompareReps(Some(Pool::Company)),          OK,    DENIED,    DENIED),
    (Action::CompareReps(Some(Pool::West)),             OK,    DENIED,    DENIED),
];

// ---- the organisation's deals ----

/// What the record cells pick from the catalogue.
#[derive(Default)]
pub(super) struct Catalogue {
    competitor_id: String,
}

fn cny(amount: &str) -> Option<Money> {
    Some(Money {
        currency_code: "CNY".into(),
        amount: amount.into(),
    })
}

fn deals_client(org: &Org) -> OpportunityServiceClient<Channel> {
    OpportunityServiceClient::new(org.channel.clone())
}

/// A new deal on `owner`'s account with a caller-chosen id (a retry returns the first result):
/// the caller's own (`given` false) or given to `owner`.
fn new_deal(org: &Org, owner: Who, given: bool) -> pb::CreateOpportunityRequest {
    let id = uuid::Uuid::now_v7().to_string();
    pb::CreateOpportunityRequest {
        opportunity: Some(pb::OpportunityInput {
            name: format!("{owner:?} line 3 {}", &id[24..]),
            account_id: org.records[&(Kind::Account, owner)].clone(),
            owner_id: if given {
                org.people[&owner].id.clone()
            } else {
                String::new()
            },
            amount: cny("250000.00"),
            expected_close_date: "2027-03-31".into(),
            ..Default::default()
        }),
        opportunity_id: id,
    }
}

/// `owner`'s contact on the buying committee of their deal.
fn committee(org: &Org, owner: Who, attitude: pb::Attitude) -> Vec<pb::CommitteeMember> {
    vec![pb::CommitteeMember {
        contact_id: org.records[&(Kind::Contact, owner)].clone(),
        role: BuyingRole::DecisionMaker as i32,
        attitude: attitude as i32,
        ..Default::default()
    }]
}

/// Whether a set-up call went through; FAILED_PRECONDITION while an account or contact has not
/// reached the service yet; anything else fails the set-up.
fn through<T>(what: &str, outcome: Result<T, tonic::Status>) -> bool {
    match outcome {
        Ok(_) => true,
        Err(status) if status.code() == Code::FailedPrecondition => false,
        Err(status) => panic!("{what}: {status}"),
    }
}

/// Each person's deal (`org.records`, kind Opportunity) and the catalogue's competitor, once
/// the service has learnt of their account and contact from the accounts service's events.
pub(super) async fn set_up(org: &mut Org) {
    for who in Who::ALL {
        let request = new_deal(org, who, false);
        let what = format!("{who:?}'s account known to the opportunities service");
        eventually(Duration::from_secs(20), &what, || {
            let (request, mut deals) = (request.clone(), deals_client(org));
            let (token, what) = (org.token(who), &what);
            async move {
                let created = deals.create_opportunity(authorized(request, token)).await;
                through(what, created)
            }
        })
        .await;
        org.records
            .insert((Kind::Opportunity, who), request.opportunity_id);
    }
    org.catalogue.competitor_id = PipelineServiceClient::new(org.channel.clone())
        .create_competitor(authorized(
            new_competitor(format!("Rival {}", uuid::Uuid::now_v7().simple())),
            org.token(Who::Ada),
        ))
        .await
        .unwrap()
        .into_inner()
        .competitor
        .unwrap()
        .id;
    // The committee cells name the owner's contact.
    for who in Who::ALL {
        let request = pb::SetBuyingCommitteeRequest {
            opportunity_id: org.records[&(Kind::Opportunity, who)].clone(),
            members: committee(org, who, pb::Attitude::Sceptical),
            expected_version: 0,
        };
        let what = format!("{who:?}'s contact known to the opportunities service");
        eventually(Duration::from_secs(20), &what, || {
            let (request, mut deals) = (request.clone(), deals_client(org));
            let (token, what) = (org.token(Who::Ada), &what);
            async move {
                let set = deals.set_buying_committee(authorized(request, token)).await;
                through(what, set)
            }
        })
        .await;
    }
}

/// A fresh open deal `owner` made of their own.
async fn open_deal(org: &Org, owner: Who) -> String {
    let request = new_deal(org, owner, false);
    deals_client(org)
        .create_opportunity(authorized(request, org.token(owner)))
        .await
        .unwrap_or_else(|status| panic!("{owner:?} creates a deal: {status}"))
        .into_inner()
        .opportunity
        .unwrap()
        .id
}

/// A fresh deal `owner` made and lost.
async fn lost_deal(org: &Org, owner: Who) -> String {
    let id = open_deal(org, owner).await;
    deals_client(org)
        .mark_lost(authorized(lose(&id), org.token(owner)))
        .await
        .unwrap_or_else(|status| panic!("{owner:?} loses their deal: {status}"));
    id
}

fn lose(id: &str) -> pb::MarkLostRequest {
    pb::MarkLostRequest {
        opportunity_id: id.into(),
        close_reason_id: LOST_PRICE.into(),
        note: "Went with the cheaper line".into(),
        ..Default::default()
    }
}

fn new_pipeline(name: String) -> pb::CreatePipelineRequest {
    use pb::{ForecastCategory as Category, StageKind as Stage};
    let stage = |name: &str, kind: pb::StageKind, probability, category: pb::ForecastCategory| {
        pb::StageInput {
            name: name.into(),
            kind: kind as i32,
            default_probability: probability,
            forecast_category: category as i32,
            ..Default::default()
        }
    };
    pb::CreatePipelineRequest {
        name,
        stages: vec![
            stage("Discover", Stage::Open, 20, Category::Pipeline),
            stage("Won", Stage::Won, 100, Category::Closed),
            stage("Lost", Stage::Lost, 0, Category::Omitted),
        ],
        ..Default::default()
    }
}

fn new_close_reason(label: String) -> pb::CreateCloseReasonRequest {
    pb::CreateCloseReasonRequest {
        outcome: pb::CloseOutcomeKind::Lost as i32,
        label,
    }
}

fn new_competitor(name: String) -> pb::CreateCompetitorRequest {
    pb::CreateCompetitorRequest {
        name,
        ..Default::default()
    }
}

fn year_2026() -> Option<pb::MonthRange> {
    Some(pb::MonthRange {
        from_month: "2026-01".into(),
        to_month: "2026-12".into(),
    })
}

/// The call a gated action makes, with a target made for this cell.
async fn prepare(org: &Org, action: Action, role: Role) -> Call {
    let actor = Who::actor(role);
    let cell = format!(
        "{role:?} {}",
        &uuid::Uuid::now_v7().simple().to_string()[20..]
    );
    let admin = || PipelineServiceClient::new(org.channel.clone());
    let scope = |scope: Scope| match scope {
        Scope::Unscoped => None,
        Scope::Owner(rel) => Some(pb::DealScope {
            owner_id: org.people[&Who::owner(role, rel)].id.clone(),
            team_path: String::new(),
        }),
        Scope::Team(pool) => Some(pb::DealScope {
            owner_id: String::new(),
            team_path: org.pool_team(pool).path.clone(),
        }),
    };
    match action {
        Action::Create(None) => Call::CreateOpportunity(new_deal(org, actor, false)),
        Action::Create(Some(owner)) => Call::CreateOpportunity(new_deal(org, owner, true)),
        Action::MarkWon(owner) => Call::MarkWon(pb::MarkWonRequest {
            opportunity_id: open_deal(org, owner).await,
            close_reason_id: WON_PRODUCT_FIT.into(),
            ..Default::default()
        }),
        Action::MarkLost(owner) => Call::MarkLost(lose(&open_deal(org, owner).await)),
        Action::Reopen(owner) => Call::ReopenOpportunity(pb::ReopenOpportunityRequest {
            opportunity_id: lost_deal(org, owner).await,
            stage_id: String::new(),
            reason: "The buyer came back with a budget".into(),
            expected_version: 0,
        }),
        Action::Reassign(from, to) => Call::ReassignOpportunity(pb::ReassignOpportunityRequest {
            opportunity_id: open_deal(org, from).await,
            owner_id: org.people[&to].id.clone(),
            expected_version: 0,
        }),
        Action::Archive(owner, state) => Call::ArchiveOpportunity(pb::ArchiveOpportunityRequest {
            opportunity_id: match state {
                State::Open => open_deal(org, owner).await,
                State::Lost => lost_deal(org, owner).await,
            },
            expected_version: 0,
        }),
        Action::ListPipelines => Call::ListPipelines,
        Action::GetPipeline => Call::GetPipeline(pb::GetPipelineRequest {
            pipeline_id: DIRECT.into(),
        }),
        Action::CreatePipeline => Call::CreatePipeline(new_pipeline(format!("Pipeline {cell}"))),
        Action::UpdatePipeline => Call::UpdatePipeline(pb::UpdatePipelineRequest {
            pipeline_id: admin()
                .create_pipeline(authorized(
                    new_pipeline(format!("To rename {cell}")),
                    org.token(Who::Ada),
                ))
                .await
                .unwrap()
                .into_inner()
                .pipeline
                .unwrap()
                .id,
            name: Some(format!("Renamed {cell}")),
            ..Default::default()
        }),
        Action::ListCloseReasons => Call::ListCloseReasons,
        Action::CreateCloseReason => {
            Call::CreateCloseReason(new_close_reason(format!("Reason {cell}")))
        }
        Action::UpdateCloseReason => Call::UpdateCloseReason(pb::UpdateCloseReasonRequest {
            close_reason_id: admin()
                .create_close_reason(authorized(
                    new_close_reason(format!("To relabel {cell}")),
                    org.token(Who::Ada),
                ))
                .await
                .unwrap()
                .into_inner()
                .close_reason
                .unwrap()
                .id,
            label: Some(format!("Relabelled {cell}")),
            retired: None,
        }),
        Action::ListCompetitors => Call::ListCompetitors,
        Action::CreateCompetitor => Call::CreateCompetitor(new_competitor(format!("Rival {cell}"))),
        Action::UpdateCompetitor => Call::UpdateCompetitor(pb::UpdateCompetitorRequest {
            competitor_id: admin()
                .create_competitor(authorized(
                    new_competitor(format!("To describe {cell}")),
                    org.token(Who::Ada),
                ))
                .await
                .unwrap()
                .into_inner()
                .competitor
                .unwrap()
                .id,
            description: Some("Strong in the south".into()),
            ..Default::default()
        }),
        Action::GetBoardSettings => Call::GetPriorityBoardSettings,
        Action::UpdateBoardSettings => {
            Call::UpdatePriorityBoardSettings(pb::UpdatePriorityBoardSettingsRequest {
                close_horizon_days: Some(120),
                ..Default::default()
            })
        }
        Action::Board(of) => Call::GetPriorityBoard(pb::GetPriorityBoardRequest {
            scope: scope(of),
            ..Default::default()
        }),
        Action::Funnel(of) => Call::GetFunnel(pb::GetFunnelRequest {
            pipeline_id: DIRECT.into(),
            period: year_2026(),
            scope: scope(of),
        }),
        Action::Competition(of) => {
            Call::GetCompetitiveAnalysis(pb::GetCompetitiveAnalysisRequest {
                period: year_2026(),
                scope: scope(of),
                pipeline_id: String::new(),
            })
        }
        Action::CompareReps(team) => Call::CompareReps(pb::CompareRepsRequest {
            pipeline_id: DIRECT.into(),
            period: year_2026(),
            team_path: team
                .map(|pool| org.pool_team(pool).path.clone())
                .unwrap_or_default(),
        }),
    }
}

// ---- the runners ----

async fn call<T: Transport>(
    transport: &T,
    token: &str,
    call: Call,
) -> Result<Vec<String>, Refusal> {
    transport
        .call(token, super::Call::Opportunities(call))
        .await
}

/// One deal seen by one caller: read (Get, the deal in List, its stage history and audit
/// trail) and write (each of `writes`).
#[allow(clippy::too_many_arguments)]
async fn check_deal<T: Transport>(
    transport: &T,
    report: &mut Report,
    cell: &str,
    token: &str,
    id: &str,
    read: Expect,
    write: Expect,
    writes: Vec<(&'static str, Call)>,
) {
    let opportunity_id = || id.to_owned();
    let reads = [
        ("GetOpportunity", get(opportunity_id())),
        (
            "ListStageHistory",
            Call::ListStageHistory(pb::ListStageHistoryRequest {
                opportunity_id: opportunity_id(),
            }),
        ),
        (
            "ListOpportunityChanges",
            Call::ListOpportunityChanges(pb::ListOpportunityChangesRequest {
                opportunity_id: opportunity_id(),
                page: None,
            }),
        ),
    ];
    for (what, request) in reads {
        let outcome = call(transport, token, request).await;
        report.check(&format!("{cell} × read ({what})"), read, &outcome);
    }
    let listed = call(transport, token, Call::ListOpportunities).await;
    report.check_listed(
        &format!("{cell} × read (ListOpportunities)"),
        read,
        &listed,
        id,
    );
    for (what, request) in writes {
        let outcome = call(transport, token, request).await;
        report.check(&format!("{cell} × write ({what})"), write, &outcome);
    }
}

/// Every write of a record cell, each a real change of `owner`'s deal: the stage, team role
/// and attitude differ by role, so the cells acting on one deal (Ravi's) each change it.
fn writes(org: &Org, role: Role, owner: Who, id: &str) -> Vec<(&'static str, Call)> {
    let (stage, team_role, attitude) = match role {
        Admin => (
            DEVELOP,
            pb::DealTeamRole::SalesEngineer,
            pb::Attitude::Supporter,
        ),
        Manager => (
            PROPOSE,
            pb::DealTeamRole::AccountManager,
            pb::Attitude::Favourable,
        ),
        Rep => (NEGOTIATE, pb::DealTeamRole::Support, pb::Attitude::Neutral),
    };
    // Anyone but the owner may join the deal team.
    let member = if owner == Who::Ada {
        Who::Mei
    } else {
        Who::Ada
    };
    vec![
        ("UpdateOpportunity", update(id.into())),
        (
            "ChangeStage",
            Call::ChangeStage(pb::ChangeStageRequest {
                opportunity_id: id.into(),
                stage_id: stage.into(),
                expected_version: 0,
            }),
        ),
        (
            "SetDealTeam",
            Call::SetDealTeam(pb::SetDealTeamRequest {
                opportunity_id: id.into(),
                team: vec![pb::DealTeamMember {
                    user_id: org.people[&member].id.clone(),
                    role: team_role as i32,
                }],
                splits: Vec::new(),
                expected_version: 0,
            }),
        ),
        (
            "SetBuyingCommittee",
            Call::SetBuyingCommittee(pb::SetBuyingCommitteeRequest {
                opportunity_id: id.into(),
                members: committee(org, owner, attitude),
                expected_version: 0,
            }),
        ),
        (
            "SetDealCompetitors",
            Call::SetDealCompetitors(pb::SetDealCompetitorsRequest {
                opportunity_id: id.into(),
                competitors: vec![pb::DealCompetitor {
                    competitor_id: org.catalogue.competitor_id.clone(),
                    strengths: format!("{role:?}: a service team in town"),
                    ..Default::default()
                }],
                expected_version: 0,
            }),
        ),
    ]
}

pub(super) async fn run_records<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    for &(kind, role, rel, read, write) in RECORDS {
        let token = org.token(Who::actor(role));
        let owner = Who::owner(role, rel);
        let id = &org.records[&(kind, owner)];
        let cell = format!("{kind:?} | {role:?} × {rel:?}");
        let writes = writes(org, role, owner, id);
        check_deal(transport, report, &cell, token, id, read, write, writes).await;
    }
}

pub(super) async fn run_actions<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    run_table(org, transport, report, ACTIONS, async |action, role| {
        (prepare(org, action, role).await, None)
    })
    .await;
    price_book::run_actions(org, transport, report).await;
    quotes::run_actions(org, transport, report).await;
    orders::run_actions(org, transport, report).await;
    activities::run_actions(org, transport, report).await;
    collections::run_actions(org, transport, report).await;
    expenses::run_actions(org, transport, report).await;
    account_desk::run_actions(org, transport, report).await;
    plans::run_actions(org, transport, report).await;
    care::run_actions(org, transport, report).await;
    work_reports::run_actions(org, transport, report).await;
}

/// The parent's table runner for the opportunities service's calls.
async fn run_table<A, T>(
    org: &Org,
    transport: &T,
    report: &mut Report,
    table: &[(A, Expect, Expect, Expect)],
    prepare: impl AsyncFn(A, Role) -> (Call, Option<String>),
) where
    A: Copy + std::fmt::Debug,
    T: Transport,
{
    let prepare = async |action, role| {
        let (call, listed) = prepare(action, role).await;
        (super::Call::Opportunities(call), listed)
    };
    super::run_table(org, transport, report, table, prepare).await;
}
