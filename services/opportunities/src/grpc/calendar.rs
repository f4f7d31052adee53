//! The calendar's wire mapping (GetCalendar on `ActivityService`): which user, which local
//! days in which zone.

use crm_platform::{
    error::{Violations, optional_text},
    time::to_timestamp,
};
use crm_proto::crm::opportunities::v1 as pb;
use tonic::Status;

use super::deal_input::{optional_date, time_zone};
use crate::{
    convert::activities::calendar_entry,
    domain::calendar::{self, CalendarView},
    error::OpportunitiesError,
    service::Opportunities,
};

const MAX_TIME_ZONE: usize = 64;

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
    let date = optional_date(&mut violations, "date", &request.date);
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
