//! An activity as activity targets count it (F3): its kind, owner, team and start, from the
//! full state every activity_logged event of the opportunities service carries, kept by
//! version like the deals.

use chrono::{DateTime, Utc};
use crm_platform::{auth::TeamPath, time::from_timestamp};
use crm_proto::crm::opportunities::v1::{Activity, ActivityKind};
use uuid::Uuid;

/// What an activity was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoggedKind {
    Call,
    Meeting,
    Visit,
    Email,
    Note,
}

impl LoggedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LoggedKind::Call => "call",
            LoggedKind::Meeting => "meeting",
            LoggedKind::Visit => "visit",
            LoggedKind::Email => "email",
            LoggedKind::Note => "note",
        }
    }
}

/// An activity of the log.
#[derive(Clone, Debug, PartialEq)]
pub struct LoggedActivity {
    pub id: Uuid,
    pub version: i64,
    pub kind: LoggedKind,
    pub owner_id: Uuid,
    pub owner_team_path: TeamPath,
    pub starts_at: DateTime<Utc>,
}

impl LoggedActivity {
    /// Reads the activity from an event; an error names what is malformed (it will be as bad
    /// on every delivery).
    pub fn from_activity(activity: &Activity) -> Result<Self, String> {
        let kind = match ActivityKind::try_from(activity.kind) {
            Ok(ActivityKind::Call) => LoggedKind::Call,
            Ok(ActivityKind::Meeting) => LoggedKind::Meeting,
            Ok(ActivityKind::Visit) => LoggedKind::Visit,
            Ok(ActivityKind::Email) => LoggedKind::Email,
            Ok(ActivityKind::Note) => LoggedKind::Note,
            _ => return Err(format!("activity.kind {} is not a kind", activity.kind)),
        };
        let starts_at = activity
            .starts_at
            .as_ref()
            .and_then(from_timestamp)
            .ok_or("activity.starts_at is missing or out of range")?;
        Ok(LoggedActivity {
            id: id("activity.id", &activity.id)?,
            version: i64::try_from(activity.version)
                .ok()
                .filter(|version| *version > 0)
                .ok_or_else(|| format!("activity.version {} is not a version", activity.version))?,
            kind,
            owner_id: id("activity.owner_id", &activity.owner_id)?,
            owner_team_path: TeamPath::parse(&activity.owner_team_path).map_err(|error| {
                format!(
                    "activity.owner_team_path {:?}: {error}",
                    activity.owner_team_path
                )
            })?,
            starts_at,
        })
    }
}

fn id(field: &str, value: &str) -> Result<Uuid, String> {
    Uuid::parse_str(value).map_err(|_| format!("{field} {value:?} is not a UUID"))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use crm_platform::time::to_timestamp;

    use super::*;

    fn activity() -> Activity {
        Activity {
            id: Uuid::now_v7().to_string(),
            kind: ActivityKind::Visit as i32,
            starts_at: Some(to_timestamp(Utc.timestamp_opt(1_796_000_000, 0).unwrap())),
            owner_id: Uuid::now_v7().to_string(),
            owner_team_path: "/northwind/east/".into(),
            version: 2,
            ..Default::default()
        }
    }

    #[test]
    fn an_activity_event_reads_into_what_targets_count() {
        let logged = LoggedActivity::from_activity(&activity()).unwrap();
        assert_eq!(logged.kind, LoggedKind::Visit);
        assert_eq!(logged.version, 2);
        assert_eq!(logged.starts_at.timestamp(), 1_796_000_000);
        assert_eq!(logged.owner_team_path.as_str(), "/northwind/east/");
    }

    #[test]
    fn a_malformed_activity_names_what_is_wrong() {
        let refused = |change: fn(&mut Activity)| {
            let mut event = activity();
            change(&mut event);
            LoggedActivity::from_activity(&event).unwrap_err()
        };
        assert!(refused(|event| event.kind = 0).contains("activity.kind"));
        assert!(refused(|event| event.starts_at = None).contains("starts_at"));
        assert!(refused(|event| event.version = 0).contains("activity.version"));
        assert!(refused(|event| event.owner_id = "x".into()).contains("owner_id"));
        assert!(refused(|event| event.owner_team_path = "/A/".into()).contains("owner_team_path"));
    }
}
