//! Conversions between `chrono` UTC times and protobuf timestamps.

use chrono::{DateTime, Utc};

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
    fn timestamps_round_trip() {
        let now = Utc::now();
        assert_eq!(from_timestamp(&to_timestamp(now)), Some(now));
        assert_eq!(
            from_timestamp(&prost_types::Timestamp { seconds: 0, nanos: -1 }),
            None
        );
    }
}
