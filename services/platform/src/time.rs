//! Conversions between `chrono` UTC times and protobuf timestamps, and the one reading of a
//! day on the wire (ISO 8601, `2026-12-03`).

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};

use crate::error::{FieldViolation, Violations};

/// What a day field that is not one is told.
pub const DATE_MESSAGE: &str = "is not an ISO date (YYYY-MM-DD)";

/// A day on the wire: ISO 8601, `2026-12-03`, surrounding white space ignored.
pub fn parse_date(field: &str, text: &str) -> Result<NaiveDate, FieldViolation> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| FieldViolation::new(field, DATE_MESSAGE))
}

impl Violations {
    /// [`parse_date`], collecting the violation.
    pub fn date(&mut self, field: &str, text: &str) -> Option<NaiveDate> {
        self.take(parse_date(field, text))
    }

    /// [`parse_date`] for a day that may be left out: `None` for empty (and for malformed,
    /// collected).
    pub fn optional_date(&mut self, field: &str, text: &str) -> Option<NaiveDate> {
        if text.trim().is_empty() {
            return None;
        }
        self.date(field, text)
    }
}

/// The current time at PostgreSQL's precision (microseconds), so a record returned on create
/// is identical to the same record read back later.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub fn to_timestamp(time: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: time.timestamp(),
        nanos: time.timestamp_subsec_nanos() as i32,
    }
}

pub fn from_timestamp(timestamp: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(timestamp.seconds, u32::try_from(timestamp.nanos).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_has_database_precision() {
        assert_eq!(now().timestamp_subsec_nanos() % 1000, 0);
    }

    #[test]
    fn timestamps_round_trip() {
        let now = Utc::now();
        assert_eq!(from_timestamp(&to_timestamp(now)), Some(now));
        assert_eq!(
            from_timestamp(&prost_types::Timestamp {
                seconds: 0,
                nanos: -1
            }),
            None
        );
    }
}
