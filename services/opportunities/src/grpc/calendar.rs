//! The calendar's wire mapping: GetCalendar (which user, which local days in which zone) and
//! the feed's issue on `ActivityService`, and the public `CalendarFeedService`.

use crm_platform::{
    error::{Violations, optional_text},
    time::to_timestamp,
};
use crm_proto::{
    crm::opportunities::v1::{self as pb, calendar_feed_service_server::CalendarFeedService},
    google::api::HttpBody,
};
use tonic::{Request, Response, Status};

use super::deal_input::time_zone;
use crate::{
    convert::activities::calendar_entry,
    domain::calendar::{self, CalendarView},
    error::OpportunitiesError,
    service::{Opportunities, feed_path, new_feed_token},
};

const MAX_TIME_ZONE: usize = 64;
/// What the feed is served as (RFC 5545 §8.1).
const CALENDAR_CONTENT_TYPE: &str = "text/calendar; charset=utf-8";

fn view(violations: &mut Violations, value: i32) -> Option<CalendarView> {
    match pb::CalendarView::try_from(value) {
        Ok(pb::CalendarView::Unspecified | pb::CalendarView::Day) => Some(CalendarView::Day),
        Ok(pb::CalendarView::Week) => Some(CalendarView::Week),
        Err(_) => {
            violations.add("view", format!("{value} is not a calendar view"));
            None
        }
    }
}

/// GetCalendar: the request's range in its zone, the user's entries in it.
pub(super) async fn get_calendar(
    opportunities: &Opportunities,
    caller: &crm_platform::auth::Caller,
    request: pb::GetCalendarRequest,
) -> Result<pb::GetCalendarResponse, Status> {
    let mut violations = Violations::new();
    let user_id = violations.optional_id("user_id", &request.user_id);
    let view = view(&mut violations, request.view);
    let date = violations.optional_date("date", &request.date);
    let zone_name = optional_text(
        &mut violations,
        "time_zone",
        &request.time_zone,
        MAX_TIME_ZONE,
    );
    let zone = time_zone(&mut violations, "time_zone", &zone_name);
    violations.into_result().map_err(OpportunitiesError::from)?;
    let (Some(view), Some(zone)) = (view, zone) else {
        return Err(OpportunitiesError::invalid("view", "is required").into());
    };
    let date = date.unwrap_or_else(|| calendar::today(zone, crm_platform::time::now()));
    let Some(range) = calendar::range(view, date, zone) else {
        return Err(OpportunitiesError::invalid("date", "is out of the calendar's range").into());
    };
    let (user_id, entries) = opportunities.get_calendar(caller, user_id, &range).await?;
    Ok(pb::GetCalendarResponse {
        user_id: user_id.to_string(),
        time_zone: zone.name().to_owned(),
        first_day: range.first_day.to_string(),
        last_day: range.last_day.to_string(),
        range_start: Some(to_timestamp(range.start)),
        range_end: Some(to_timestamp(range.end)),
        entries: entries.iter().map(calendar_entry).collect(),
    })
}

/// IssueCalendarFeed: a new token for the caller's feed, shown once.
pub(super) async fn issue_feed(
    opportunities: &Opportunities,
    caller: &crm_platform::auth::Caller,
) -> Result<pb::IssueCalendarFeedResponse, Status> {
    let token = new_feed_token().map_err(|error| {
        tracing::error!(%error, "no randomness for a calendar feed's token");
        Status::unavailable("no token could be drawn; retry")
    })?;
    let issued_at = opportunities.issue_calendar_feed(caller, &token).await?;
    Ok(pb::IssueCalendarFeedResponse {
        path: feed_path(&token),
        token,
        issued_at: Some(to_timestamp(issued_at)),
    })
}

/// The public feed (`CalendarFeedService`): the token is its only credential.
pub(crate) struct CalendarFeedApi {
    opportunities: Opportunities,
}

impl CalendarFeedApi {
    pub(crate) fn new(opportunities: Opportunities) -> Self {
        Self { opportunities }
    }
}

#[tonic::async_trait]
impl CalendarFeedService for CalendarFeedApi {
    async fn get_calendar_feed(
        &self,
        request: Request<pb::GetCalendarFeedRequest>,
    ) -> Result<Response<HttpBody>, Status> {
        let token = &request.get_ref().token;
        let text = self
            .opportunities
            .calendar_feed(token, crm_platform::time::now())
            .await?;
        Ok(Response::new(HttpBody {
            content_type: CALENDAR_CONTENT_TYPE.into(),
            data: text.into_bytes(),
            extensions: Vec::new(),
        }))
    }
}
