//! Deal plans (`DealPlanService`, O12): Ravi's Line 3 deal planned with milestones and tasks,
//! its progress and slippage as of chosen days, who reads and who writes, versions, events,
//! and the scheduled milestone check publishing a slip once — over a real tonic client against
//! real PostgreSQL and NATS.

mod support;

use chrono::{Days, Utc};
use crm_platform::auth::Caller;
use crm_proto::crm::opportunities::v1::{
    self as pb, deal_plan_service_client::DealPlanServiceClient,
};
use crm_test_support::user;
use support::{desk::Desk, *};
use tonic::{Code, transport::Channel};

struct Planner {
    desk: Desk,
    plans: DealPlanServiceClient<Channel>,
}

impl Planner {
    async fn open() -> Self {
        let desk = Desk::open().await;
        let plans = DealPlanServiceClient::new(desk.harness.app.channel().await);
        Self { desk, plans }
    }

    fn client(&self) -> DealPlanServiceClient<Channel> {
        self.plans.clone()
    }

    async fn create(&self, caller: &Caller) -> Result<pb::DealPlan, tonic::Status> {
        let request = pb::CreateDealPlanRequest {
            opportunity_id: self.desk.deal_id.clone(),
            objective: "Signed by Contoso's board before year end".into(),
        };
        let request = self.desk.harness.request(caller, request);
        Ok(self
            .client()
            .create_deal_plan(request)
            .await?
            .into_inner()
            .plan
            .unwrap())
    }

    async fn milestone(
        &self,
        caller: &Caller,
        name: &str,
        due_in: i64,
        version: u64,
    ) -> Result<pb::AddMilestoneResponse, tonic::Status> {
        let request = pb::AddMilestoneRequest {
            opportunity_id: self.desk.deal_id.clone(),
            milestone: Some(pb::MilestoneInput {
                name: name.into(),
                due_on: day(due_in),
                ..Default::default()
            }),
            expected_version: version,
        };
        let request = self.desk.harness.request(caller, request);
        Ok(self.client().add_milestone(request).await?.into_inner())
    }

    async fn task(
        &self,
        caller: &Caller,
        title: &str,
        due_in: i64,
        milestone_id: &str,
    ) -> Result<pb::AddPlanTaskResponse, tonic::Status> {
        let request = pb::AddPlanTaskRequest {
            opportunity_id: self.desk.deal_id.clone(),
            task: Some(pb::PlanTaskInput {
                title: title.into(),
                due_on: day(due_in),
                milestone_id: milestone_id.into(),
                ..Default::default()
            }),
            expected_version: 0,
        };
        let request = self.desk.harness.request(caller, request);
        Ok(self.client().add_plan_task(request).await?.into_inner())
    }

    async fn get(&self, caller: &Caller, as_of: &str) -> Result<pb::DealPlan, tonic::Status> {
        let request = pb::GetDealPlanRequest {
            opportunity_id: self.desk.deal_id.clone(),
            as_of: as_of.into(),
        };
        let request = self.desk.harness.request(caller, request);
        Ok(self
            .client()
            .get_deal_plan(request)
            .await?
            .into_inner()
            .plan
            .unwrap())
    }

    async fn list(&self, caller: &Caller, slipping_only: bool) -> Vec<String> {
        let request = pb::ListDealPlansRequest {
            slipping_only,
            ..Default::default()
        };
        let request = self.desk.harness.request(caller, request);
        let plans = self.client().list_deal_plans(request).await.unwrap();
        plans
            .into_inner()
            .plans
            .into_iter()
            .map(|p| p.opportunity_id)
            .collect()
    }

    async fn run_check(&self, days_ahead: u64) -> u64 {
        let context = self
            .desk
            .harness
            .app
            .services
            .context("opportunities")
            .unwrap();
        let now = Utc::now().checked_add_days(Days::new(days_ahead)).unwrap();
        crm_opportunities::run_job(context, crm_opportunities::MILESTONE_CHECK, now)
            .await
            .unwrap()
    }
}

fn shape(plan: &pb::DealPlan) -> (u32, u32, u32, u32, u32, u32, pb::PlanStatus) {
    let progress = plan.progress.unwrap();
    let slippage = plan.slippage.unwrap();
    (
        progress.completed_items,
        progress.items,
        progress.percent,
        slippage.late_milestones,
        slippage.max_days_late,
        slippage.overdue_tasks,
        plan.status(),
    )
}

/// Ravi plans Line 3: three milestones (one ten days late), two tasks (one done, one two days
/// overdue); progress 1 of 5 (20%), SLIPPING today, ON_TRACK as of three weeks ago, AT_RISK
/// once the late milestone is reached; every write a version and one deal_plan_changed.
#[tokio::test]
async fn the_line_3_plan_shows_progress_and_slippage_as_of_the_chosen_day() {
    let planner = Planner::open().await;
    let ravi = planner.desk.ravi.clone();
    let created = planner.create(&ravi).await.unwrap();
    assert_eq!(
        (created.version, created.status()),
        (1, pb::PlanStatus::OnTrack)
    );
    let again = planner.create(&ravi).await.unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);

    let technical = planner
        .milestone(&ravi, "Technical win", -10, 1)
        .await
        .unwrap();
    let stale = planner
        .milestone(&ravi, "Commercial terms", 5, 1)
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "{stale:?}");
    planner
        .milestone(&ravi, "Commercial terms", 5, 2)
        .await
        .unwrap();
    let signed = planner
        .milestone(&ravi, "Contract signed", 20, 0)
        .await
        .unwrap();
    let technical_id = technical.milestone_id.clone();
    planner
        .task(&ravi, "Site visit at Contoso", -2, &technical_id)
        .await
        .unwrap();
    let references = planner
        .task(&ravi, "Send two references", 3, "")
        .await
        .unwrap();
    let done = pb::CompletePlanTaskRequest {
        opportunity_id: planner.desk.deal_id.clone(),
        task_id: references.task_id.clone(),
        done: true,
        ..Default::default()
    };
    let request = planner.desk.harness.request(&ravi, done);
    let plan = planner.client().complete_plan_task(request).await.unwrap();
    let plan = plan.into_inner().plan.unwrap();
    assert_eq!(plan.version, 7);
    let names: Vec<(&str, u32)> = plan
        .milestones
        .iter()
        .map(|m| (m.name.as_str(), m.position))
        .collect();
    assert_eq!(
        names,
        [
            ("Technical win", 1),
            ("Commercial terms", 2),
            ("Contract signed", 3)
        ]
    );
    assert_eq!(
        signed.plan.unwrap().milestones[2].owner_id,
        ravi.user_id.to_string()
    );
    // 1 done of 3 milestones + 2 tasks = 20%; today: the technical win 10 days late, the site
    // visit 2 days overdue.
    assert_eq!(shape(&plan), (1, 5, 20, 1, 10, 1, pb::PlanStatus::Slipping));
    let earlier = planner.get(&ravi, &day(-21)).await.unwrap();
    assert_eq!(
        shape(&earlier),
        (1, 5, 20, 0, 0, 0, pb::PlanStatus::OnTrack)
    );
    let later = planner.get(&ravi, &day(10)).await.unwrap();
    assert_eq!(later.as_of, day(10));
    // In ten days: the technical win 20 days late, commercial terms 5; the site visit overdue.
    assert_eq!(
        shape(&later),
        (1, 5, 20, 2, 20, 1, pb::PlanStatus::Slipping)
    );

    let complete = pb::CompleteMilestoneRequest {
        opportunity_id: planner.desk.deal_id.clone(),
        milestone_id: technical_id.clone(),
        expected_version: 7,
        ..Default::default()
    };
    let request = planner.desk.harness.request(&ravi, complete.clone());
    let plan = planner.client().complete_milestone(request).await.unwrap();
    let plan = plan.into_inner().plan.unwrap();
    assert_eq!(shape(&plan), (2, 5, 40, 0, 0, 1, pb::PlanStatus::AtRisk));
    let mut twice = complete;
    twice.expected_version = 0;
    let request = planner.desk.harness.request(&ravi, twice);
    let twice = planner
        .client()
        .complete_milestone(request)
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Code::FailedPrecondition);
    assert_eq!(fields(&twice), ["milestone_id"]);

    // Removing the technical win removes its site visit: 1 of 3 left, nothing overdue.
    let remove = pb::RemoveMilestoneRequest {
        opportunity_id: planner.desk.deal_id.clone(),
        milestone_id: technical_id,
        expected_version: 0,
    };
    let request = planner.desk.harness.request(&ravi, remove);
    let plan = planner.client().remove_milestone(request).await.unwrap();
    let plan = plan.into_inner().plan.unwrap();
    assert_eq!(shape(&plan), (1, 3, 33, 0, 0, 0, pb::PlanStatus::OnTrack));
    assert_eq!(plan.version, 9);
    let events = planner.desk.events(&plan.id).await;
    assert_eq!(events.len(), 9);
    assert!(
        events
            .iter()
            .all(|e| e == "crm.opportunities.v1.DealPlanChanged")
    );
}

/// Mei (Ravi's manager) reads, writes and lists Ravi's plan; a rep of another team neither
/// sees nor lists it; slipping-only lists only plans with a late milestone; a task of a
/// milestone the plan lacks and an owner nobody knows are refused on their fields.
#[tokio::test]
async fn plans_are_seen_by_the_deals_reach_and_listed_most_slipping_first() {
    let planner = Planner::open().await;
    let (ravi, mei) = (planner.desk.ravi.clone(), planner.desk.mei.clone());
    let west = user("rep", "/northwind/west/");
    planner.create(&ravi).await.unwrap();
    let outsider = planner.get(&west, "").await.unwrap_err();
    assert_eq!(outsider.code(), Code::NotFound);
    let write = planner.milestone(&west, "Pilot", 3, 0).await.unwrap_err();
    assert_eq!(write.code(), Code::NotFound);
    planner.milestone(&mei, "Pilot", 3, 0).await.unwrap();
    let deal = planner.desk.deal_id.clone();
    assert_eq!(planner.list(&ravi, false).await, [deal.as_str()]);
    assert_eq!(planner.list(&mei, false).await, [deal.as_str()]);
    assert!(planner.list(&west, false).await.is_empty());
    assert!(planner.list(&mei, true).await.is_empty());
    planner
        .milestone(&ravi, "Budget confirmed", -1, 0)
        .await
        .unwrap();
    assert_eq!(planner.list(&mei, true).await, [deal]);

    let stray = planner
        .task(&ravi, "Call the CFO", 1, &uuid::Uuid::now_v7().to_string())
        .await
        .unwrap_err();
    assert_eq!(stray.code(), Code::FailedPrecondition);
    assert_eq!(fields(&stray), ["task.milestone_id"]);
    let request = pb::AddMilestoneRequest {
        opportunity_id: planner.desk.deal_id.clone(),
        milestone: Some(pb::MilestoneInput {
            name: "Legal review".into(),
            owner_id: uuid::Uuid::now_v7().to_string(),
            due_on: day(9),
            position: 0,
        }),
        expected_version: 0,
    };
    let request = planner.desk.harness.request(&mei, request);
    let unknown = planner.client().add_milestone(request).await.unwrap_err();
    assert_eq!(fields(&unknown), ["milestone.owner_id"]);
    let blank = planner.milestone(&ravi, " ", 1, 0).await.unwrap_err();
    assert_eq!(blank.code(), Code::InvalidArgument);
    assert_eq!(fields(&blank), ["milestone.name"]);
}

/// Two checks at once publish the late milestone's slip once; later checks publish nothing
/// more until it is moved and late again; the board's query counts it.
#[tokio::test]
async fn a_late_milestone_slips_once_whatever_runs_the_check() {
    let planner = Planner::open().await;
    let ravi = planner.desk.ravi.clone();
    planner.create(&ravi).await.unwrap();
    let late = planner
        .milestone(&ravi, "Technical win", -3, 0)
        .await
        .unwrap();
    planner
        .milestone(&ravi, "Contract signed", 30, 0)
        .await
        .unwrap();
    let (first, second) = tokio::join!(planner.run_check(0), planner.run_check(0));
    assert_eq!(first + second, 1);
    assert_eq!(planner.run_check(0).await, 0);
    let plan_id = late.plan.unwrap().id;
    let slipped = |events: Vec<String>| {
        events
            .iter()
            .filter(|e| e.as_str() == "crm.opportunities.v1.MilestoneSlipped")
            .count()
    };
    assert_eq!(slipped(planner.desk.events(&plan_id).await), 1);

    // Moved to yesterday: late again for its new due date, slipped once more.
    let update = pb::UpdateMilestoneRequest {
        opportunity_id: planner.desk.deal_id.clone(),
        milestone_id: late.milestone_id.clone(),
        milestone: Some(pb::MilestoneInput {
            name: "Technical win".into(),
            due_on: day(-1),
            ..Default::default()
        }),
        expected_version: 0,
    };
    let request = planner.desk.harness.request(&ravi, update);
    planner.client().update_milestone(request).await.unwrap();
    assert_eq!(planner.run_check(0).await, 1);
    assert_eq!(planner.run_check(0).await, 0);
    // 40 days on, the contract milestone is late too.
    assert_eq!(planner.run_check(40).await, 1);
    assert_eq!(slipped(planner.desk.events(&plan_id).await), 3);

    let pool = planner.desk.harness.app.pool("opportunities");
    let mut connection = pool.acquire().await.unwrap();
    let deal: uuid::Uuid = planner.desk.deal_id.parse().unwrap();
    let today = Utc::now().date_naive();
    let board = crm_opportunities::late_milestones(&mut connection, &[deal], today)
        .await
        .unwrap();
    assert_eq!(
        board.get(&deal),
        Some(&crm_opportunities::LateMilestones {
            count: 1,
            days_late_max: 1
        })
    );
}
