//! Ids and versions as requests carry them: one parser, one message, for every service. An
//! empty id and a malformed one get the same answer, so a caller learns the one rule.

use uuid::Uuid;

use crate::error::{CommonError, FieldViolation, Violations, reasons};

/// What a caller is told about a required id that is empty or not a UUID.
pub const ID_MESSAGE: &str = "must be an id (a UUID such as 0190a5c4-7b1e-7c3d-9f00-1a2b3c4d5e6f)";

/// A required id: surrounding white space is ignored; empty or malformed is refused alike.
pub fn parse_id(field: &str, value: &str) -> Result<Uuid, FieldViolation> {
    Uuid::parse_str(value.trim()).map_err(|_| FieldViolation::new(field, ID_MESSAGE))
}

/// An id that may be left empty (`None`); anything else must be a UUID.
pub fn parse_optional_id(field: &str, value: &str) -> Result<Option<Uuid>, FieldViolation> {
    match value.trim() {
        "" => Ok(None),
        value => parse_id(field, value).map(Some),
    }
}

/// Every id of a repeated field, each named by its position (`rep_ids[2]`).
pub fn parse_ids(field: &str, values: &[String]) -> Result<Vec<Uuid>, FieldViolation> {
    values
        .iter()
        .enumerate()
        .map(|(index, value)| parse_id(&format!("{field}[{index}]"), value))
        .collect()
}

/// An optimistic-concurrency guard: 0 means "whatever the version is now"; a version beyond
/// what a record can reach is refused rather than wrapped.
pub fn expected_version(field: &str, value: u64) -> Result<Option<i64>, FieldViolation> {
    match value {
        0 => Ok(None),
        // A number of the field's type that no record's version reaches: refused for what it
        // names (FAILED_PRECONDITION), as a version of no record.
        value => i64::try_from(value).map(Some).map_err(|_| {
            FieldViolation::refusal(
                reasons::UNUSABLE_REFERENCE,
                field,
                "is not a version any record has",
            )
        }),
    }
}

/// The two records of a merge, checked to differ, and the order every merge locks them in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MergePair {
    pub survivor: Uuid,
    pub duplicate: Uuid,
}

impl MergePair {
    /// A record cannot be merged into itself (`duplicate_id` is at fault): FAILED_PRECONDITION
    /// ([`reasons::MERGE_WITH_ITSELF`]), since the two ids are each of a valid form and the
    /// OpenAPI document cannot say that a path's id and a body's differ.
    pub fn new(survivor: Uuid, duplicate: Uuid) -> Result<Self, CommonError> {
        if survivor == duplicate {
            return Err(CommonError::Unusable {
                reason: reasons::MERGE_WITH_ITSELF,
                violations: vec![FieldViolation::new(
                    "duplicate_id",
                    "must differ from survivor_id",
                )],
            });
        }
        Ok(Self {
            survivor,
            duplicate,
        })
    }

    /// Both ids, lower first: every merge locks its two rows in this order, so two merges of
    /// one pair (either way round) cannot deadlock.
    pub fn lock_order(&self) -> [Uuid; 2] {
        if self.survivor < self.duplicate {
            [self.survivor, self.duplicate]
        } else {
            [self.duplicate, self.survivor]
        }
    }

    /// The two records locked in [`MergePair::lock_order`], as `(survivor, duplicate)`.
    pub fn sort<T>(&self, locked: [T; 2], id: impl Fn(&T) -> Uuid) -> (T, T) {
        let [first, second] = locked;
        if id(&first) == self.survivor {
            (first, second)
        } else {
            (second, first)
        }
    }
}

impl Violations {
    /// [`parse_id`], collecting the violation.
    pub fn id(&mut self, field: &str, value: &str) -> Option<Uuid> {
        self.take(parse_id(field, value))
    }

    /// [`parse_optional_id`], collecting the violation (`None` for empty and for malformed).
    pub fn optional_id(&mut self, field: &str, value: &str) -> Option<Uuid> {
        self.take(parse_optional_id(field, value)).flatten()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::error::ServiceError;

    use super::*;

    #[test]
    fn empty_and_malformed_ids_get_one_message() {
        let empty = parse_id("account_id", "  ").unwrap_err();
        let malformed = parse_id("account_id", "acc-1").unwrap_err();
        assert_eq!(empty, malformed);
        assert_eq!(empty.field, "account_id");
        assert_eq!(empty.description, ID_MESSAGE);
    }

    #[test]
    fn optional_ids_may_be_empty_but_not_malformed() {
        assert_eq!(parse_optional_id("owner_id", " ").unwrap(), None);
        assert!(parse_optional_id("owner_id", "x").is_err());
        let id = Uuid::now_v7();
        assert_eq!(
            parse_optional_id("owner_id", &format!(" {id} ")).unwrap(),
            Some(id)
        );
    }

    #[test]
    fn repeated_ids_name_the_position_at_fault() {
        let good = Uuid::now_v7().to_string();
        let error = parse_ids("rep_ids", &[good.clone(), "nope".into()]).unwrap_err();
        assert_eq!(error.field, "rep_ids[1]");
        assert_eq!(parse_ids("rep_ids", &[good]).unwrap().len(), 1);
    }

    #[test]
    fn versions_beyond_i64_are_refused_not_wrapped() {
        assert_eq!(expected_version("expected_version", 0).unwrap(), None);
        assert_eq!(expected_version("expected_version", 7).unwrap(), Some(7));
        let beyond = expected_version("expected_version", u64::MAX).unwrap_err();
        assert_eq!(beyond.reason, Some(reasons::UNUSABLE_REFERENCE));
        let refused = CommonError::Invalid(vec![beyond]);
        assert_eq!(refused.code(), crate::error::ErrorCode::FailedPrecondition);
    }

    #[test]
    fn violations_collect_id_errors() {
        let mut violations = Violations::new();
        assert!(violations.id("a", "").is_none());
        assert!(violations.optional_id("b", "").is_none());
        assert!(violations.optional_id("c", "zz").is_none());
        assert_eq!(violations.into_result().unwrap_err().len(), 2);
    }

    #[test]
    fn a_merge_locks_its_pair_in_one_order_whichever_way_round() {
        let (low, high) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let forward = MergePair::new(low, high).unwrap();
        let backward = MergePair::new(high, low).unwrap();
        assert_eq!(forward.lock_order(), backward.lock_order());
        let (survivor, duplicate) = backward.sort(backward.lock_order(), |id| *id);
        assert_eq!((survivor, duplicate), (high, low));
        let itself = MergePair::new(low, low).unwrap_err();
        assert_eq!(itself.code(), crate::error::ErrorCode::FailedPrecondition);
        assert_eq!(itself.field_violations()[0].field, "duplicate_id");
        assert_eq!(itself.reason().unwrap().reason, reasons::MERGE_WITH_ITSELF);
    }

    proptest! {
        #[test]
        fn every_uuid_round_trips(bits in any::<u128>()) {
            let id = Uuid::from_u128(bits);
            prop_assert_eq!(parse_id("id", &id.to_string()).unwrap(), id);
            prop_assert_eq!(parse_id("id", &id.hyphenated().to_string().to_uppercase()).unwrap(), id);
        }
    }
}
