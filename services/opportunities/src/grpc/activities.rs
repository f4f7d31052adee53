//! Activities' and tasks' RPCs (`ActivityService`): requests to domain inputs, every broken
//! field named at once, as the request spells it. What the schema states (required, lengths,
//! ids, times) is INVALID_ARGUMENT here; the cross-field rules (what is regarded, an end before
//! the start, a reminder after the due time) are the service's refusals.

use chrono::{DateTime, SubsecRound, Utc};
use crm_platform::{
    error::{Violations, optional_text, required_text},
    paging::{KeyKind, Page, SortOrder},
};
use crm_proto::crm::{
    common::v1::PageResponse,
    opportunities::v1::{self as pb, activity_service_server::ActivityService},
};
use tonic::{Request, Response, Status};

use super::{
    authenticated,
    deal_input::{id, timestamp, version},
};
use crate::{
    convert::activities::{activity as activity_message, task as task_message},
    domain::activity::{ActivityContent, ActivityKind, Regarding, TaskContent},
    error::OpportunitiesError,
    service::{NewTask, Opportunities},
    store::activities::{ActivityFilter, TaskFilter, TaskState},
};

const MAX_SUBJECT: usize = 200;
const MAX_NOTES: usize = 4000;
const MAX_OUTCOME: usize = 1000;
pub(crate) const ACTIVITIES_BY_TIME: SortOrder = SortOrder::new("starts_at", KeyKind::Time, true);
const TASKS_BY_DUE: SortOrder = SortOrder::new("due_at", KeyKind::Time, false);

pub(crate) struct ActivitiesApi {
    opportunities: Opportunities,
}

impl ActivitiesApi {
    pub(crate) fn new(opportunities: Opportunities) -> Self {
        Self { opportunities }
    }
}

/// An optional time: unset is `None`, one out of range a violation. Kept to the database's
/// precision (microseconds), so what a write returns is what a read returns later.
pub(super) fn optional_time(
    violations: &mut Violations,
    field: &str,
    value: Option<&prost_types::Timestamp>,
) -> Option<DateTime<Utc>> {
    let value = value?;
    let time = crm_platform::time::from_timestamp(value);
    // The schema states a timestamp's parts, not the range of times: a refusal (422).
    if time.is_none() {
        violations.push(crm_platform::error::FieldViolation::refusal(
            crm_platform::error::reasons::INCONSISTENT_FIELDS,
            field,
            "is not a valid time",
        ));
    }
    time.map(|time| time.trunc_subsecs(6))
}

/// A required time, at the database's precision as [`optional_time`].
fn required_time(
    violations: &mut Violations,
    field: &str,
    value: Option<&prost_types::Timestamp>,
) -> Option<DateTime<Utc>> {
    timestamp(violations, field, value).map(|time| time.trunc_subsecs(6))
}

fn kind(violations: &mut Violations, field: &str, value: i32) -> Option<ActivityKind> {
    match pb::ActivityKind::try_from(value) {
        Ok(pb::ActivityKind::Call) => Some(ActivityKind::Call),
        Ok(pb::ActivityKind::Meeting) => Some(ActivityKind::Meeting),
        Ok(pb::ActivityKind::Visit) => Some(ActivityKind::Visit),
        Ok(pb::ActivityKind::Email) => Some(ActivityKind::Email),
        Ok(pb::ActivityKind::Note) => Some(ActivityKind::Note),
        Ok(pb::ActivityKind::Unspecified) => {
            violations.add(field, "is required");
            None
        }
        Err(_) => {
            violations.add(field, format!("{value} is not an activity kind"));
            None
        }
    }
}

pub(super) fn regarding(
    violations: &mut Violations,
    field: &str,
    value: Option<&pb::Regarding>,
) -> Regarding {
    let Some(value) = value else {
        return Regarding::default();
    };
    Regarding {
        opportunity_id: violations
            .optional_id(&format!("{field}.opportunity_id"), &value.opportunity_id),
        account_id: violations.optional_id(&format!("{field}.account_id"), &value.account_id),
        contact_id: violations.optional_id(&format!("{field}.contact_id"), &value.contact_id),
        lead_id: violations.optional_id(&format!("{field}.lead_id"), &value.lead_id),
    }
}

fn activity_content(
    violations: &mut Violations,
    input: Option<&pb::ActivityInput>,
) -> Option<ActivityContent> {
    let Some(input) = input else {
        violations.add("activity", "is required");
        return None;
    };
    let kind = kind(violations, "activity.kind", input.kind);
    let subject = required_text(violations, "activity.subject", &input.subject, MAX_SUBJECT);
    let notes = optional_text(violations, "activity.notes", &input.notes, MAX_NOTES);
    let outcome = optional_text(violations, "activity.outcome", &input.outcome, MAX_OUTCOME);
    let starts_at = required_time(violations, "activity.starts_at", input.starts_at.as_ref());
    let ends_at = optional_time(violations, "activity.ends_at", input.ends_at.as_ref());
    Some(ActivityContent {
        kind: kind?,
        subject,
        notes,
        outcome,
        starts_at: starts_at?,
        ends_at,
    })
}

fn task_content(violations: &mut Violations, input: Option<&pb::TaskInput>) -> Option<TaskContent> {
    let Some(input) = input else {
        violations.add("task", "is required");
        return None;
    };
    let title = required_text(violations, "task.title", &input.title, MAX_SUBJECT);
    let notes = optional_text(violations, "task.notes", &input.notes, MAX_NOTES);
    let due_at = required_time(violations, "task.due_at", input.due_at.as_ref());
    let remind_at = optional_time(violations, "task.remind_at", input.remind_at.as_ref());
    Some(TaskContent {
        title,
        notes,
        due_at: due_at?,
        remind_at,
    })
}

fn invalid(violations: Violations) -> Result<(), OpportunitiesError> {
    violations.into_result().map_err(OpportunitiesError::from)
}

fn task_state(value: i32) -> Result<TaskState, OpportunitiesError> {
    Ok(match pb::TaskState::try_from(value) {
        Ok(pb::TaskState::Unspecified) => TaskState::Any,
        Ok(pb::TaskState::Open) => TaskState::Open,
        Ok(pb::TaskState::Completed) => TaskState::Completed,
        Ok(pb::TaskState::Overdue) => TaskState::OverdueAt(crm_platform::time::now()),
        Err(_) => {
            return Err(OpportunitiesError::invalid(
                "state",
                format!("{value} is not a task state"),
            ));
        }
    })
}

#[tonic::async_trait]
impl ActivityService for ActivitiesApi {
    async fn log_activity(
        &self,
        request: Request<pb::LogActivityRequest>,
    ) -> Result<Response<pb::LogActivityResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let content = activity_content(&mut violations, request.activity.as_ref());
        if request.regarding.is_none() {
            violations.add("regarding", "is required");
        }
        let regarding = regarding(&mut violations, "regarding", request.regarding.as_ref());
        let owner_id = violations.optional_id("owner_id", &request.owner_id);
        let requested_id = violations.optional_id("activity_id", &request.activity_id);
        invalid(violations)?;
        let Some(content) = content else {
            return Err(OpportunitiesError::invalid("activity", "is required").into());
        };
        let activity = self
            .opportunities
            .log_activity(&caller, content, regarding, owner_id, requested_id)
            .await?;
        Ok(Response::new(pb::LogActivityResponse {
            activity: Some(activity_message(&activity)),
        }))
    }

    async fn get_activity(
        &self,
        request: Request<pb::GetActivityRequest>,
    ) -> Result<Response<pb::GetActivityResponse>, Status> {
        let caller = authenticated(&request)?;
        let activity_id = id("activity_id", &request.get_ref().activity_id)?;
        let activity = self
            .opportunities
            .get_activity(&caller, activity_id)
            .await?;
        Ok(Response::new(pb::GetActivityResponse {
            activity: Some(activity_message(&activity)),
        }))
    }

    async fn update_activity(
        &self,
        request: Request<pb::UpdateActivityRequest>,
    ) -> Result<Response<pb::UpdateActivityResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let activity_id = violations.take(crm_platform::ids::parse_id(
            "activity_id",
            &request.activity_id,
        ));
        let content = activity_content(&mut violations, request.activity.as_ref());
        invalid(violations)?;
        let expected = version(request.expected_version)?;
        let (Some(activity_id), Some(content)) = (activity_id, content) else {
            return Err(OpportunitiesError::invalid("activity", "is required").into());
        };
        let activity = self
            .opportunities
            .update_activity(&caller, activity_id, content, expected)
            .await?;
        Ok(Response::new(pb::UpdateActivityResponse {
            activity: Some(activity_message(&activity)),
        }))
    }

    async fn list_activities(
        &self,
        request: Request<pb::ListActivitiesRequest>,
    ) -> Result<Response<pb::ListActivitiesResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let regarding = regarding(&mut violations, "regarding", request.regarding.as_ref());
        let owner_id = violations.optional_id("owner_id", &request.owner_id);
        let kinds = match request.kind {
            0 => Vec::new(),
            value => kind(&mut violations, "kind", value).into_iter().collect(),
        };
        let starts_from =
            optional_time(&mut violations, "starts_from", request.starts_from.as_ref());
        let starts_before = optional_time(
            &mut violations,
            "starts_before",
            request.starts_before.as_ref(),
        );
        invalid(violations)?;
        let page = Page::parse(request.page.as_ref(), ACTIVITIES_BY_TIME)
            .map_err(OpportunitiesError::from)?;
        let filter = ActivityFilter {
            regarding,
            owner_id,
            kinds,
            starts_from,
            starts_before,
            customer: None,
        };
        let listing = self
            .opportunities
            .list_activities(&caller, &filter, &page)
            .await?;
        Ok(Response::new(pb::ListActivitiesResponse {
            activities: listing.records.iter().map(activity_message).collect(),
            page: Some(PageResponse {
                next_page_token: listing.next_page_token,
            }),
        }))
    }

    async fn create_task(
        &self,
        request: Request<pb::CreateTaskRequest>,
    ) -> Result<Response<pb::CreateTaskResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let content = task_content(&mut violations, request.task.as_ref());
        let regarding = regarding(&mut violations, "regarding", request.regarding.as_ref());
        let assignee_id = violations.optional_id("assignee_id", &request.assignee_id);
        let requested_id = violations.optional_id("task_id", &request.task_id);
        invalid(violations)?;
        let Some(content) = content else {
            return Err(OpportunitiesError::invalid("task", "is required").into());
        };
        let new = NewTask {
            content,
            regarding,
            assignee_id,
        };
        let task = self
            .opportunities
            .create_task(&caller, new, requested_id)
            .await?;
        Ok(Response::new(pb::CreateTaskResponse {
            task: Some(task_message(&task)),
        }))
    }

    async fn get_task(
        &self,
        request: Request<pb::GetTaskRequest>,
    ) -> Result<Response<pb::GetTaskResponse>, Status> {
        let caller = authenticated(&request)?;
        let task_id = id("task_id", &request.get_ref().task_id)?;
        let task = self.opportunities.get_task(&caller, task_id).await?;
        Ok(Response::new(pb::GetTaskResponse {
            task: Some(task_message(&task)),
        }))
    }

    async fn update_task(
        &self,
        request: Request<pb::UpdateTaskRequest>,
    ) -> Result<Response<pb::UpdateTaskResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let task_id = violations.take(crm_platform::ids::parse_id("task_id", &request.task_id));
        let content = task_content(&mut violations, request.task.as_ref());
        invalid(violations)?;
        let expected = version(request.expected_version)?;
        let (Some(task_id), Some(content)) = (task_id, content) else {
            return Err(OpportunitiesError::invalid("task", "is required").into());
        };
        let task = self
            .opportunities
            .update_task(&caller, task_id, content, expected)
            .await?;
        Ok(Response::new(pb::UpdateTaskResponse {
            task: Some(task_message(&task)),
        }))
    }

    async fn complete_task(
        &self,
        request: Request<pb::CompleteTaskRequest>,
    ) -> Result<Response<pb::CompleteTaskResponse>, Status> {
        let caller = authenticated(&request)?;
        let task_id = id("task_id", &request.get_ref().task_id)?;
        let expected = version(request.get_ref().expected_version)?;
        let task = self
            .opportunities
            .complete_task(&caller, task_id, expected)
            .await?;
        Ok(Response::new(pb::CompleteTaskResponse {
            task: Some(task_message(&task)),
        }))
    }

    async fn reopen_task(
        &self,
        request: Request<pb::ReopenTaskRequest>,
    ) -> Result<Response<pb::ReopenTaskResponse>, Status> {
        let caller = authenticated(&request)?;
        let task_id = id("task_id", &request.get_ref().task_id)?;
        let expected = version(request.get_ref().expected_version)?;
        let task = self
            .opportunities
            .reopen_task(&caller, task_id, expected)
            .await?;
        Ok(Response::new(pb::ReopenTaskResponse {
            task: Some(task_message(&task)),
        }))
    }

    async fn list_tasks(
        &self,
        request: Request<pb::ListTasksRequest>,
    ) -> Result<Response<pb::ListTasksResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let regarding = regarding(&mut violations, "regarding", request.regarding.as_ref());
        let assignee_id = violations.optional_id("assignee_id", &request.assignee_id);
        invalid(violations)?;
        let page =
            Page::parse(request.page.as_ref(), TASKS_BY_DUE).map_err(OpportunitiesError::from)?;
        let filter = TaskFilter {
            state: task_state(request.state)?,
            assignee_id,
            regarding,
            ..TaskFilter::default()
        };
        let listing = self
            .opportunities
            .list_tasks(&caller, &filter, &page)
            .await?;
        Ok(Response::new(pb::ListTasksResponse {
            tasks: listing.records.iter().map(task_message).collect(),
            page: Some(PageResponse {
                next_page_token: listing.next_page_token,
            }),
        }))
    }

    async fn get_calendar(
        &self,
        request: Request<pb::GetCalendarRequest>,
    ) -> Result<Response<pb::GetCalendarResponse>, Status> {
        let caller = authenticated(&request)?;
        let response =
            super::calendar::get_calendar(&self.opportunities, &caller, request.into_inner())
                .await?;
        Ok(Response::new(response))
    }

    async fn issue_calendar_feed(
        &self,
        request: Request<pb::IssueCalendarFeedRequest>,
    ) -> Result<Response<pb::IssueCalendarFeedResponse>, Status> {
        let caller = authenticated(&request)?;
        let response = super::calendar::issue_feed(&self.opportunities, &caller).await?;
        Ok(Response::new(response))
    }

    async fn revoke_calendar_feed(
        &self,
        request: Request<pb::RevokeCalendarFeedRequest>,
    ) -> Result<Response<pb::RevokeCalendarFeedResponse>, Status> {
        let caller = authenticated(&request)?;
        let revoked = self.opportunities.revoke_calendar_feed(&caller).await?;
        Ok(Response::new(pb::RevokeCalendarFeedResponse { revoked }))
    }
}
