//! Keyset paging: a page token carries the sort key and id of the last row returned, so the
//! next page continues after it with no OFFSET scan and no skipped or repeated rows when rows
//! are inserted between calls.
//!
//! A listing declares its [`SortOrder`] (column, kind of key, direction); [`Page::parse`]
//! checks a token against it — a token from another listing or sort, or one whose key is not
//! of the column's kind, is refused with a field violation instead of being read as a default
//! — and [`Page::push_keyset`] writes the SQL. [`Listing::from_rows`] trims the extra row
//! fetched to see whether more follow and makes the next token.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use crm_proto::crm::common::v1::PageRequest;
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use crate::error::{CommonError, FieldViolation, Violations, reasons};

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 500;

const TOKEN_FIELD: &str = "page.page_token";
/// The longest page token, in characters.
pub const MAX_TOKEN_CHARS: usize = 2048;

/// A request's `limit` (how many of the top items to return): 0 asks for `default`; above
/// `max` is a violation of the field, and `max` stands in while the others are checked.
pub fn limit(violations: &mut Violations, value: u32, default: u32, max: u32) -> u32 {
    if value > max {
        violations.add("limit", format!("must be at most {max}"));
    }
    if value == 0 { default } else { value.min(max) }
}

/// What the sort column holds, so a token's key is checked and bound with the column's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Text,
    Time,
    Integer,
    Date,
}

/// The sort column's value of one row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SortKey {
    Text(String),
    Time(DateTime<Utc>),
    Integer(i64),
    /// A calendar date (a deal's expected close date).
    Date(NaiveDate),
}

impl SortKey {
    fn kind(&self) -> KeyKind {
        match self {
            SortKey::Text(_) => KeyKind::Text,
            SortKey::Time(_) => KeyKind::Time,
            SortKey::Integer(_) => KeyKind::Integer,
            SortKey::Date(_) => KeyKind::Date,
        }
    }

    fn to_token_text(&self) -> String {
        match self {
            SortKey::Text(text) => text.clone(),
            SortKey::Time(time) => time.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            SortKey::Integer(number) => number.to_string(),
            SortKey::Date(date) => date.to_string(),
        }
    }

    fn from_token_text(kind: KeyKind, text: &str) -> Option<Self> {
        Some(match kind {
            KeyKind::Text => SortKey::Text(text.to_owned()),
            KeyKind::Time => {
                SortKey::Time(DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc))
            }
            KeyKind::Integer => SortKey::Integer(text.parse().ok()?),
            KeyKind::Date => SortKey::Date(text.parse().ok()?),
        })
    }
}

/// How a listing is ordered: by `column` (a trusted SQL identifier), then by `id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SortOrder {
    pub column: &'static str,
    pub kind: KeyKind,
    pub descending: bool,
}

impl SortOrder {
    pub const fn new(column: &'static str, kind: KeyKind, descending: bool) -> Self {
        Self {
            column,
            kind,
            descending,
        }
    }

    /// The name a token is bound to: a token is refused under another order.
    fn name(&self) -> String {
        format!(
            "{}:{}",
            self.column,
            if self.descending { "desc" } else { "asc" }
        )
    }
}

/// Where the previous page stopped, as a token carries it (hex of JSON, opaque to callers).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    #[serde(rename = "k")]
    sort_key: String,
    #[serde(rename = "i")]
    id: Uuid,
    #[serde(rename = "s")]
    sort: String,
}

impl Cursor {
    fn encode(&self) -> String {
        let json = serde_json::to_vec(self).expect("cursor serialises");
        json.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// Whether `token` has the form of a token: pairs of hexadecimal digits, at most 2048
    /// (the OpenAPI document's `TEXT_FORMAT_PAGE_TOKEN`).
    fn is_well_formed(token: &str) -> bool {
        token.len().is_multiple_of(2)
            && token.len() <= MAX_TOKEN_CHARS
            && token.bytes().all(|byte| byte.is_ascii_hexdigit())
    }

    fn decode(token: &str) -> Option<Self> {
        if !Self::is_well_formed(token) {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..token.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(token.get(i..i + 2)?, 16).ok())
            .collect();
        serde_json::from_slice(&bytes?).ok()
    }
}

/// A validated page request of one listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub size: u32,
    pub order: SortOrder,
    after: Option<(SortKey, Uuid)>,
}

impl Page {
    /// The first page of `size` rows.
    pub fn first(size: u32, order: SortOrder) -> Self {
        Self {
            size: size.clamp(1, MAX_PAGE_SIZE),
            order,
            after: None,
        }
    }

    /// Validates size and token against the listing's order. A size over the maximum or a
    /// token not of a token's form (hexadecimal) is invalid input; a token of that form which
    /// this listing in this sort did not make (another listing's or sort's, or made up) is
    /// [`reasons::PAGE_TOKEN_NOT_RECOGNISED`] (FAILED_PRECONDITION): only the server can tell
    /// its tokens, so the document describes their form alone.
    pub fn parse(request: Option<&PageRequest>, order: SortOrder) -> Result<Self, CommonError> {
        let Some(request) = request else {
            return Ok(Self::first(DEFAULT_PAGE_SIZE, order));
        };
        let size = match request.page_size {
            0 => DEFAULT_PAGE_SIZE,
            size if size > MAX_PAGE_SIZE => {
                return Err(CommonError::Invalid(vec![FieldViolation::new(
                    "page.page_size",
                    format!("must be at most {MAX_PAGE_SIZE}"),
                )]));
            }
            size => size,
        };
        if request.page_token.is_empty() {
            return Ok(Self::first(size, order));
        }
        if !Cursor::is_well_formed(&request.page_token) {
            return Err(CommonError::Invalid(vec![FieldViolation::new(
                TOKEN_FIELD,
                "is not a page token: pass back a next_page_token as the listing returned it",
            )]));
        }
        let refused = |description: &str| CommonError::Unusable {
            reason: reasons::PAGE_TOKEN_NOT_RECOGNISED,
            violations: vec![FieldViolation::new(TOKEN_FIELD, description)],
        };
        let not_ours = || refused("is not a token returned by this listing");
        let cursor = Cursor::decode(&request.page_token).ok_or_else(not_ours)?;
        if cursor.sort != order.name() {
            return Err(refused(
                "was made for another sort order; start again without a token",
            ));
        }
        let key = SortKey::from_token_text(order.kind, &cursor.sort_key).ok_or_else(not_ours)?;
        Ok(Self {
            size,
            order,
            after: Some((key, cursor.id)),
        })
    }

    /// Whether this is a later page (a token was given).
    pub fn is_continuation(&self) -> bool {
        self.after.is_some()
    }

    /// Rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.size) + 1
    }

    /// Ends a query whose filters are all pushed: rows after the token's, in order, one more
    /// than the page. The id breaks ties, so rows with equal keys are neither skipped nor
    /// repeated.
    pub fn push_keyset(&self, query: &mut QueryBuilder<Postgres>) {
        let column = self.order.column;
        let (comparison, direction) = if self.order.descending {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        if let Some((key, id)) = &self.after {
            query.push(format!(" AND ({column}, id) {comparison} ("));
            match key {
                SortKey::Text(text) => query.push_bind(text.clone()),
                SortKey::Time(time) => query.push_bind(*time),
                SortKey::Integer(number) => query.push_bind(*number),
                SortKey::Date(date) => query.push_bind(*date),
            };
            query.push(", ").push_bind(*id).push(")");
        }
        query
            .push(format!(
                " ORDER BY {column} {direction}, id {direction} LIMIT "
            ))
            .push_bind(self.fetch_limit());
    }

    /// The token of the page that starts after the row with this key and id.
    pub fn token_after(&self, key: SortKey, id: Uuid) -> String {
        debug_assert_eq!(key.kind(), self.order.kind, "sort key of the wrong kind");
        Cursor {
            sort_key: key.to_token_text(),
            id,
            sort: self.order.name(),
        }
        .encode()
    }
}

/// A page of records and the token of the next page (empty when none follows).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing<T> {
    pub records: Vec<T>,
    pub next_page_token: String,
}

impl<T> Listing<T> {
    /// `rows` as fetched with [`Page::fetch_limit`]: trims the extra row and makes the next
    /// page's token from the last row kept (`key` gives its sort key and id).
    pub fn from_rows(mut rows: Vec<T>, page: &Page, key: impl Fn(&T) -> (SortKey, Uuid)) -> Self {
        if rows.len() <= page.size as usize {
            return Self {
                records: rows,
                next_page_token: String::new(),
            };
        }
        rows.truncate(page.size as usize);
        let next_page_token = rows
            .last()
            .map(|row| {
                let (sort_key, id) = key(row);
                page.token_after(sort_key, id)
            })
            .unwrap_or_default();
        Self {
            records: rows,
            next_page_token,
        }
    }

    pub fn map<U>(self, convert: impl FnMut(T) -> U) -> Listing<U> {
        Listing {
            records: self.records.into_iter().map(convert).collect(),
            next_page_token: self.next_page_token,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::error::{ErrorCode, ServiceError};

    const BY_CREATED: SortOrder = SortOrder::new("created_at", KeyKind::Time, false);
    const BY_SCORE: SortOrder = SortOrder::new("score_total", KeyKind::Integer, true);

    fn request(token: String) -> PageRequest {
        PageRequest {
            page_size: 10,
            page_token: token,
        }
    }

    #[test]
    fn a_limit_of_zero_is_the_default_and_one_above_the_maximum_is_refused() {
        let mut violations = Violations::new();
        assert_eq!(limit(&mut violations, 0, 50, 200), 50);
        assert_eq!(limit(&mut violations, 1, 50, 200), 1);
        assert_eq!(limit(&mut violations, 200, 50, 200), 200);
        assert!(violations.into_result().is_ok());

        let mut violations = Violations::new();
        assert_eq!(limit(&mut violations, 201, 50, 200), 200);
        let refused = violations.into_result().unwrap_err();
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].field, "limit");
        assert_eq!(refused[0].description, "must be at most 200");
    }

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let page = Page::first(10, BY_CREATED);
        let time = "2026-11-23T10:00:00.123456Z".parse().unwrap();
        let token = page.token_after(SortKey::Time(time), Uuid::now_v7());
        let next = Page::parse(Some(&request(token.clone())), BY_CREATED).unwrap();
        assert!(next.is_continuation());
        assert!(Page::parse(Some(&request("zz".into())), BY_CREATED).is_err());
        assert!(Page::parse(Some(&request(token[1..].to_owned())), BY_CREATED).is_err());
    }

    #[test]
    fn page_size_is_bounded_and_token_bound_to_its_sort() {
        let too_big = PageRequest {
            page_size: 501,
            page_token: String::new(),
        };
        let refused = Page::parse(Some(&too_big), BY_CREATED).unwrap_err();
        assert_eq!(refused.code(), ErrorCode::InvalidArgument);
        assert_eq!(refused.field_violations()[0].field, "page.page_size");
        let token = Page::first(10, BY_SCORE).token_after(SortKey::Integer(3), Uuid::now_v7());
        assert!(Page::parse(Some(&request(token.clone())), BY_SCORE).is_ok());
        let reversed = SortOrder::new("score_total", KeyKind::Integer, false);
        assert!(Page::parse(Some(&request(token)), reversed).is_err());
    }

    /// The drift this replaces: a token whose key did not parse was read as 1970 or 0.
    #[test]
    fn a_token_whose_key_is_not_of_the_columns_kind_is_refused() {
        for (order, key) in [(BY_CREATED, "yesterday"), (BY_SCORE, "ten")] {
            let token = Cursor {
                sort_key: key.into(),
                id: Uuid::now_v7(),
                sort: order.name(),
            }
            .encode();
            let error = Page::parse(Some(&request(token)), order).unwrap_err();
            assert_eq!(error.field_violations()[0].field, TOKEN_FIELD);
        }
    }

    /// The document describes a token's form (hexadecimal) and the server tells its own
    /// tokens: a token of that form it did not make is a refusal of the data (422), one not of
    /// that form invalid input (400).
    #[test]
    fn a_well_formed_token_the_listing_did_not_make_is_a_failed_precondition() {
        let other_sort = Page::first(10, BY_SCORE).token_after(SortKey::Integer(3), Uuid::now_v7());
        for token in ["7b7d", "00", &"ab".repeat(1024), &other_sort] {
            let error = Page::parse(Some(&request(token.to_owned())), BY_CREATED).unwrap_err();
            assert_eq!(error.code(), ErrorCode::FailedPrecondition, "{token}");
            assert_eq!(
                error.reason().unwrap().reason,
                reasons::PAGE_TOKEN_NOT_RECOGNISED
            );
            assert_eq!(error.field_violations()[0].field, TOKEN_FIELD);
        }
        for token in ["zz", "abc", "[Filtered]", &"ab".repeat(1025)] {
            let error = Page::parse(Some(&request(token.to_owned())), BY_CREATED).unwrap_err();
            assert_eq!(error.code(), ErrorCode::InvalidArgument, "{token}");
        }
    }

    #[test]
    fn keyset_sql_continues_after_the_token_and_breaks_ties_by_id() {
        let id = Uuid::now_v7();
        let token = Page::first(2, BY_SCORE).token_after(SortKey::Integer(7), id);
        let page = Page::parse(Some(&request(token)), BY_SCORE).unwrap();
        let mut query = QueryBuilder::<Postgres>::new("SELECT id FROM leads WHERE true");
        page.push_keyset(&mut query);
        assert_eq!(
            query.sql().as_str(),
            "SELECT id FROM leads WHERE true AND (score_total, id) < ($1, $2) \
             ORDER BY score_total DESC, id DESC LIMIT $3"
        );
    }

    #[test]
    fn listing_trims_the_extra_row_and_points_after_the_last_kept() {
        let page = Page::first(2, BY_SCORE);
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let rows: Vec<(i64, Uuid)> = vec![(9, ids[0]), (8, ids[1]), (7, ids[2])];
        let listing =
            Listing::from_rows(rows, &page, |(score, id)| (SortKey::Integer(*score), *id));
        assert_eq!(listing.records.len(), 2);
        assert_eq!(
            listing.next_page_token,
            page.token_after(SortKey::Integer(8), ids[1])
        );
        let last = Listing::from_rows(vec![(1, ids[0])], &page, |(s, id)| {
            (SortKey::Integer(*s), *id)
        });
        assert!(last.next_page_token.is_empty());
    }

    proptest! {
        #[test]
        fn any_key_survives_its_token(text in "\\PC{0,40}", number in any::<i64>(), micros in 0i64..4_000_000_000_000_000) {
            let time = DateTime::from_timestamp_micros(micros).unwrap();
            for (order, key) in [
                (SortOrder::new("name", KeyKind::Text, false), SortKey::Text(text.clone())),
                (SortOrder::new("n", KeyKind::Integer, false), SortKey::Integer(number)),
                (BY_CREATED, SortKey::Time(time)),
            ] {
                let id = Uuid::now_v7();
                let token = Page::first(5, order).token_after(key.clone(), id);
                let page = Page::parse(Some(&request(token)), order).unwrap();
                prop_assert_eq!(page.after, Some((key, id)));
            }
        }
    }
}
