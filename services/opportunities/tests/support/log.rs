//! The activities' tests' log: Ravi's open Contoso deal, with the activity and task calls the
//! tests make.

use chrono::{DateTime, TimeZone, Utc};
use crm_platform::{auth::Caller, time::to_timestamp};
use crm_proto::crm::opportunities::v1 as pb;
use crm_test_support::user;
use tonic::Status;

use super::*;

pub struct Log {
    pub harness: Harness,
    pub ravi: Caller,
    pub mei: Caller,
    pub deal_id: String,
}

pub fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

pub fn call(subject: &str, starts: DateTime<Utc>) -> pb::ActivityInput {
    pb::ActivityInput {
        kind: pb::ActivityKind::Call.into(),
        subject: subject.into(),
        notes: "Asked for the pilot's price".into(),
        outcome: "Pilot agreed".into(),
        starts_at: Some(to_timestamp(starts)),
        ends_at: None,
    }
}

pub fn on_deal(deal_id: &str) -> Option<pb::Regarding> {
    Some(pb::Regarding {
        opportunity_id: deal_id.into(),
        ..Default::default()
    })
}

impl Log {
    pub async fn open() -> Self {
        let harness = Harness::start().await;
        let ravi = user("rep", EAST_1);
        let mei = user("manager", EAST);
        let account_id = harness.publish_account(&ravi).await;
        let create = pb::CreateOpportunityRequest {
            opportunity: Some(pb::OpportunityInput {
                name: "Line 3 automation".into(),
                account_id,
                amount: money("CNY", "900000"),
                expected_close_date: day(60),
                ..Default::default()
            }),
            opportunity_id: String::new(),
        };
        let request = harness.request(&ravi, create);
        let deal = harness.deals.clone().create_opportunity(request).await;
        let deal_id = deal.unwrap().into_inner().opportunity.unwrap().id;
        Self {
            harness,
            ravi,
            mei,
            deal_id,
        }
    }

    pub async fn log(
        &self,
        caller: &Caller,
        request: pb::LogActivityRequest,
    ) -> Result<pb::Activity, Status> {
        let request = self.harness.request(caller, request);
        let response = self
            .harness
            .activities
            .clone()
            .log_activity(request)
            .await?;
        Ok(response.into_inner().activity.unwrap())
    }

    pub async fn log_call(
        &self,
        caller: &Caller,
        subject: &str,
        starts: DateTime<Utc>,
    ) -> pb::Activity {
        let request = pb::LogActivityRequest {
            activity: Some(call(subject, starts)),
            regarding: on_deal(&self.deal_id),
            ..Default::default()
        };
        self.log(caller, request).await.unwrap()
    }

    pub async fn get(&self, caller: &Caller, id: &str) -> Result<pb::Activity, Status> {
        let request = pb::GetActivityRequest {
            activity_id: id.into(),
        };
        let request = self.harness.request(caller, request);
        let response = self
            .harness
            .activities
            .clone()
            .get_activity(request)
            .await?;
        Ok(response.into_inner().activity.unwrap())
    }

    pub async fn list(&self, caller: &Caller, request: pb::ListActivitiesRequest) -> Vec<String> {
        let request = self.harness.request(caller, request);
        let response = self
            .harness
            .activities
            .clone()
            .list_activities(request)
            .await;
        let activities = response.unwrap().into_inner().activities;
        activities
            .into_iter()
            .map(|activity| activity.subject)
            .collect()
    }

    pub async fn create_task(
        &self,
        caller: &Caller,
        request: pb::CreateTaskRequest,
    ) -> Result<pb::Task, Status> {
        let request = self.harness.request(caller, request);
        let response = self.harness.activities.clone().create_task(request).await?;
        Ok(response.into_inner().task.unwrap())
    }

    pub async fn tasks(&self, caller: &Caller, state: pb::TaskState) -> Vec<String> {
        let request = pb::ListTasksRequest {
            state: state.into(),
            ..Default::default()
        };
        let request = self.harness.request(caller, request);
        let response = self.harness.activities.clone().list_tasks(request).await;
        let tasks = response.unwrap().into_inner().tasks;
        tasks.into_iter().map(|task| task.title).collect()
    }

    pub async fn last_activity_at(&self) -> DateTime<Utc> {
        sqlx::query_scalar("SELECT last_activity_at FROM opportunities WHERE id = $1::uuid")
            .bind(&self.deal_id)
            .fetch_one(self.harness.app.pool("opportunities"))
            .await
            .unwrap()
    }
}

pub fn task_input(title: &str, due: DateTime<Utc>, remind: Option<DateTime<Utc>>) -> pb::TaskInput {
    pb::TaskInput {
        title: title.into(),
        notes: String::new(),
        due_at: Some(to_timestamp(due)),
        remind_at: remind.map(to_timestamp),
    }
}
