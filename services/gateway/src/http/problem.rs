//! Errors as RFC 9457 problem documents (`application/problem+json`), with the field
//! violations a service reported, and the request id so that a caller can quote it.

use std::collections::BTreeMap;

use axum::response::{IntoResponse, Response};
use crm_platform::error::{
    ERROR_INFO_DOMAIN, ErrorCode, FieldViolation, OUTAGE_RETRY_AFTER, TEXT_CODE_KEY,
    THROTTLED_RETRY_AFTER, UNAVAILABLE_MESSAGE, reasons,
};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use tonic::Code;
use tonic_types::StatusExt;

/// A failed request, rendered once at the edge.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    /// The gRPC-style code name (`INVALID_ARGUMENT`): the same vocabulary as the gRPC API.
    pub code: Code,
    pub detail: String,
    pub violations: Vec<FieldViolation>,
    /// Seconds, for 429 and 503 (which always get one: see [`Problem::render`]).
    pub retry_after: Option<u64>,
    /// For 405: the methods the path has.
    pub allow: Vec<http::Method>,
    /// A refusal's machine reason, text code and parameters, from the service's
    /// `google.rpc.ErrorInfo` (domain `crm`): rendered as `reason`, and as `text` beside
    /// `detail` so that a console can translate it. Boxed: problems travel in `Result`s and
    /// are rarely refusals.
    pub text: Option<Box<RefusalText>>,
}

/// A refusal's reason (`CLAIM_CAP_REACHED`), the code of its text and the text's parameters
/// (the English is the problem's `detail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusalText {
    pub reason: String,
    /// Empty when the ErrorInfo named no text code.
    pub code: String,
    pub params: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    code: String,
    /// The refusal's machine reason (`CLAIM_CAP_REACHED`), as in the gRPC ErrorInfo.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    request_id: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    field_violations: Vec<Violation<'a>>,
    /// `crm.common.v1.LocalizableText` as JSON: the code, its parameters and `detail`.
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<Text<'a>>,
}

#[derive(Serialize)]
struct Text<'a> {
    code: &'a str,
    params: &'a BTreeMap<String, String>,
    text: &'a str,
}

#[derive(Serialize)]
struct Violation<'a> {
    field: &'a str,
    description: &'a str,
}

impl Problem {
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        Self {
            status: http_status(code),
            code,
            detail: detail.into(),
            violations: Vec::new(),
            retry_after: None,
            allow: Vec::new(),
            text: None,
        }
    }

    /// A 400 naming one field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        let violation = FieldViolation::new(field, description);
        let mut problem = Self::new(Code::InvalidArgument, violation.to_string());
        problem.violations.push(violation);
        problem
    }

    /// A 400 naming every field given (the first one's text is the detail, as in [`Self::invalid`]).
    pub fn invalid_fields(violations: Vec<FieldViolation>) -> Self {
        let detail = match violations.as_slice() {
            [only] => only.to_string(),
            [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
            [] => "the request is invalid".to_owned(),
        };
        let mut problem = Self::new(Code::InvalidArgument, detail);
        problem.violations = violations;
        problem
    }

    /// 503 while a dependency (the gateway's database, an upstream service) is down.
    pub fn unavailable() -> Self {
        let mut problem = Self::new(Code::Unavailable, UNAVAILABLE_MESSAGE);
        problem.retry_after = Some(OUTAGE_RETRY_AFTER.as_secs());
        problem.text = Some(Box::new(RefusalText {
            reason: reasons::SERVICE_UNAVAILABLE.to_owned(),
            code: crm_platform::error::text_codes::UNAVAILABLE.to_owned(),
            params: BTreeMap::new(),
        }));
        problem
    }

    /// 429 for a caller over its rate limit, to retry after `seconds`.
    pub fn rate_limited(seconds: u64) -> Self {
        let mut problem = Self::new(
            Code::ResourceExhausted,
            "too many requests; retry after the time in Retry-After",
        );
        problem.retry_after = Some(seconds.max(1));
        problem.text = Some(Box::new(RefusalText {
            reason: reasons::RATE_LIMITED.to_owned(),
            code: RATE_LIMITED_TEXT.to_owned(),
            params: BTreeMap::new(),
        }));
        problem
    }

    /// A refusal of the front door's own: its machine reason and text code, no parameters.
    pub fn refusal(code: Code, detail: &str, reason: &str, text_code: &str) -> Self {
        let mut problem = Self::new(code, detail);
        problem.text = Some(Box::new(RefusalText {
            reason: reason.to_owned(),
            code: text_code.to_owned(),
            params: BTreeMap::new(),
        }));
        problem
    }

    /// What a failed query of the gateway's own database answers: 503 for an outage (the
    /// database unreachable), else 500; the cause is logged, never sent.
    pub fn database(error: sqlx::Error) -> Self {
        match crm_platform::error::classify_database_error(&error) {
            ErrorCode::Unavailable => {
                tracing::warn!(%error, "front door: the database is unavailable");
                Self::unavailable()
            }
            _ => {
                tracing::error!(%error, "front door failed");
                Self::new(Code::Internal, "internal error")
            }
        }
    }

    /// With an HTTP status that has no gRPC counterpart (413, 415, 405).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The problem a service's gRPC status describes, with its field violations.
    pub fn from_status(status: &tonic::Status) -> Self {
        let mut problem = Self::new(status.code(), status.message());
        let details = status.get_error_details();
        if let Some(bad_request) = details.bad_request() {
            problem.violations = bad_request
                .field_violations
                .iter()
                .map(|violation| FieldViolation::new(&violation.field, &violation.description))
                .collect();
        }
        if let Some(retry) = details.retry_info().and_then(|info| info.retry_delay) {
            problem.retry_after = Some(retry.as_secs().max(1));
        }
        if let Some(info) = details.error_info()
            && info.domain == ERROR_INFO_DOMAIN
        {
            let mut params: BTreeMap<String, String> = info.metadata.clone().into_iter().collect();
            let code = params.remove(TEXT_CODE_KEY).unwrap_or_default();
            problem.text = Some(Box::new(RefusalText {
                reason: info.reason.clone(),
                code,
                params,
            }));
        }
        problem
    }

    /// The problem document (`application/problem+json`).
    pub fn to_json(&self, request_id: &str) -> Vec<u8> {
        let code = format!("{:?}", self.code);
        let body = Body {
            kind: format!("urn:crm:problem:{}", kebab(&code)),
            title: self.status.canonical_reason().unwrap_or("Error"),
            status: self.status.as_u16(),
            detail: &self.detail,
            code: code_name(self.code),
            reason: self.text.as_ref().map(|refusal| refusal.reason.as_str()),
            request_id,
            field_violations: self
                .violations
                .iter()
                .map(|violation| Violation {
                    field: &violation.field,
                    description: &violation.description,
                })
                .collect(),
            text: self
                .text
                .as_ref()
                .filter(|refusal| !refusal.code.is_empty())
                .map(|refusal| Text {
                    code: &refusal.code,
                    params: &refusal.params,
                    text: &self.detail,
                }),
        };
        serde_json::to_vec(&body).expect("a problem serialises")
    }

    pub fn render(&self, request_id: &str) -> Response {
        let json = self.to_json(request_id);
        let mut response = (self.status, json).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        // Throttling and outages always say when to retry, even when the status named no
        // delay (a gRPC status made by a transport, not by a service).
        let retry_after = self.retry_after.or(match self.status {
            StatusCode::TOO_MANY_REQUESTS => Some(THROTTLED_RETRY_AFTER.as_secs()),
            StatusCode::SERVICE_UNAVAILABLE => Some(OUTAGE_RETRY_AFTER.as_secs()),
            _ => None,
        });
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        if !self.allow.is_empty() {
            let allow: Vec<&str> = self.allow.iter().map(http::Method::as_str).collect();
            if let Ok(value) = HeaderValue::from_str(&allow.join(", ")) {
                headers.insert(header::ALLOW, value);
            }
        }
        response
    }
}

/// The text code of the front door's rate limit (no parameters).
pub const RATE_LIMITED_TEXT: &str = "gateway.rate_limited";

/// The HTTP status of a gRPC code: the services' own mapping where they use the code, the
/// usual transcoding one (as grpc-gateway's) for the rest.
pub fn http_status(code: Code) -> StatusCode {
    let status = match ErrorCode::from_grpc_code(code) {
        Some(code) => code.http_status(),
        None => match code {
            Code::Ok => 200,
            Code::Cancelled => 499,
            Code::OutOfRange => 400,
            Code::Unimplemented => 501,
            Code::DeadlineExceeded => 504,
            _ => 500,
        },
    };
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// `InvalidArgument` → `invalid-argument`.
fn kebab(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for (index, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if index > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The gRPC name of a code (`INVALID_ARGUMENT`): a problem document's `code`.
pub fn code_name(code: Code) -> String {
    kebab(&format!("{code:?}"))
        .replace('-', "_")
        .to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_names_follow_the_grpc_codes() {
        assert_eq!(http_status(Code::InvalidArgument), StatusCode::BAD_REQUEST);
        assert_eq!(http_status(Code::NotFound), StatusCode::NOT_FOUND);
        assert_eq!(http_status(Code::Unauthenticated), StatusCode::UNAUTHORIZED);
        assert_eq!(
            http_status(Code::Unimplemented),
            StatusCode::NOT_IMPLEMENTED
        );
        assert_eq!(kebab("InvalidArgument"), "invalid-argument");
        assert_eq!(code_name(Code::InvalidArgument), "INVALID_ARGUMENT");
    }

    #[test]
    fn a_refusals_reason_text_code_and_parameters_come_from_its_error_info() {
        let mut details = tonic_types::ErrorDetails::new();
        let metadata = [
            ("claimed".to_owned(), "3".to_owned()),
            (
                TEXT_CODE_KEY.to_owned(),
                "leads.pool.claim_cap_reached".to_owned(),
            ),
        ];
        details.set_error_info("CLAIM_CAP_REACHED", ERROR_INFO_DOMAIN, metadata);
        let status = tonic::Status::with_error_details(
            Code::FailedPrecondition,
            "claim cap reached: 3 of 3 leads claimed",
            details,
        );

        let problem = Problem::from_status(&status);

        assert_eq!(problem.status, StatusCode::UNPROCESSABLE_ENTITY);
        let text = problem.text.clone().expect("a text");
        assert_eq!(text.reason, "CLAIM_CAP_REACHED");
        assert_eq!(text.code, "leads.pool.claim_cap_reached");
        assert_eq!(
            text.params.keys().collect::<Vec<_>>(),
            ["claimed"],
            "the text code is not a parameter"
        );
        let body: serde_json::Value = serde_json::from_slice(&problem.to_json("r-1")).unwrap();
        assert_eq!(body["reason"], "CLAIM_CAP_REACHED");
        assert_eq!(body["text"]["code"], "leads.pool.claim_cap_reached");
        assert_eq!(body["text"]["params"]["claimed"], "3");
        assert_eq!(body["text"]["text"], body["detail"]);
        let foreign = tonic::Status::with_error_details(
            Code::ResourceExhausted,
            "quota",
            tonic_types::ErrorDetails::with_error_info("QUOTA", "googleapis.com", []),
        );
        assert!(Problem::from_status(&foreign).text.is_none());
    }

    #[test]
    fn throttling_and_outages_always_carry_retry_after() {
        let mut details = tonic_types::ErrorDetails::new();
        details.set_retry_info(Some(std::time::Duration::from_secs(42)));
        let form = tonic::Status::with_error_details(Code::ResourceExhausted, "slow down", details);
        let cases = [
            (Problem::from_status(&form), 429, "42"),
            (
                Problem::from_status(&tonic::Status::resource_exhausted("x")),
                429,
                "1",
            ),
            (
                Problem::from_status(&tonic::Status::unavailable("tcp connect error")),
                503,
                "2",
            ),
            (Problem::unavailable(), 503, "2"),
            (Problem::rate_limited(3), 429, "3"),
        ];
        for (problem, status, seconds) in cases {
            let response = problem.render("r-1");
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(response.headers()[header::RETRY_AFTER], seconds);
        }
        let response = Problem::new(Code::FailedPrecondition, "no").render("r-1");
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
    }

    #[test]
    fn a_database_outage_is_503_and_a_bug_500() {
        assert_eq!(
            Problem::database(sqlx::Error::PoolTimedOut).status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        let bug = Problem::database(sqlx::Error::ColumnNotFound("x".into()));
        assert_eq!(bug.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(bug.detail, "internal error");
    }
}
