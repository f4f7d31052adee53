//! The console's session (ADR 0017): the same login, refresh and logout calls as every client,
//! but the refresh token travels in an HttpOnly cookie instead of the JSON body, so the page's
//! script — and anything injected into it — never holds the long-lived credential. The access
//! token (minutes) stays in the page's memory.
//!
//! A browser asks for it with `X-CRM-Session: cookie` on the three calls:
//! - login and refresh answer as usual, less `tokens.refresh_token` and
//!   `tokens.refresh_expires_at`, which become the cookie (`Max-Age` to the token's expiry);
//! - refresh and logout read the token from the cookie (the body may be `{}`);
//! - logout, and a refresh the gateway refuses, clear the cookie.
//!
//! The cookie is `HttpOnly`, `SameSite=Strict` and scoped to `/v1/` (only the three calls read
//! it; a cookie's path cannot name `/v1/auth:…`, see [`COOKIE_PATH`]); `Secure` unless the page is on a loopback host (`http://127.0.0.1:8080` in
//! development; browsers treat loopback as a secure context anyway). A cross-site page cannot
//! send the custom header without a CORS preflight, which the gateway never grants, so the
//! cookie cannot be used from another site either.

use axum::body::Body;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use serde_json::{Map, Value};
use tonic::Code;

use super::problem::Problem;

/// The header a browser sends to use the cookie.
pub const MODE_HEADER: &str = "x-crm-session";
const COOKIE_MODE: &str = "cookie";
/// The cookie holding the refresh token.
pub const COOKIE: &str = "crm_refresh";
/// The API's root, not `/v1/auth`: a cookie's path matches a request's only up to a `/`, so
/// `/v1/auth` would never be sent to `/v1/auth:refresh`. The other calls ignore it.
const COOKIE_PATH: &str = "/v1/";

/// One of the three session calls, asked for in cookie mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exchange {
    Login,
    Refresh,
    Logout,
}

impl Exchange {
    pub fn of(method: &Method, path: &str, headers: &HeaderMap) -> Option<Self> {
        let cookie_mode = headers
            .get(MODE_HEADER)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.trim().eq_ignore_ascii_case(COOKIE_MODE));
        if !cookie_mode || method != Method::POST {
            return None;
        }
        match path {
            "/v1/auth:login" => Some(Self::Login),
            "/v1/auth:refresh" => Some(Self::Refresh),
            "/v1/auth:logout" => Some(Self::Logout),
            _ => None,
        }
    }
}

/// What to do with a cookie-mode request before the call is made.
pub enum Prepared {
    /// Make the call with this request.
    Call(Request<Body>),
    /// Answer at once: logging out without a session is already done.
    Answer(Response<Body>),
}

/// Puts the cookie's refresh token into the body of a refresh or logout (the body read within
/// `limit`); a login passes unchanged.
pub async fn prepare(
    exchange: Exchange,
    request: Request<Body>,
    limit: usize,
) -> Result<Prepared, Problem> {
    if exchange == Exchange::Login {
        return Ok(Prepared::Call(request));
    }
    let Some(token) = cookie(request.headers(), COOKIE).map(str::to_owned) else {
        return match exchange {
            Exchange::Logout => Ok(Prepared::Answer(json_with_cookie(
                StatusCode::OK,
                Bytes::from_static(b"{}"),
                &cleared_cookie(request.headers()),
            ))),
            _ => Err(Problem::new(
                Code::Unauthenticated,
                "no session: sign in again (the session cookie is missing)",
            )),
        };
    };
    let (mut parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, limit).await.map_err(|_| {
        Problem::new(
            Code::InvalidArgument,
            format!("the body is larger than {limit} bytes"),
        )
        .with_status(StatusCode::PAYLOAD_TOO_LARGE)
    })?;
    let mut object = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(object)) => object,
            _ => {
                return Err(Problem::invalid(
                    "body",
                    "in cookie mode the body is a JSON object, such as {}",
                ));
            }
        }
    };
    object.insert("refresh_token".to_owned(), Value::String(token));
    let body = Bytes::from(Value::Object(object).to_string());
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts
        .headers
        .insert(header::CONTENT_LENGTH, body.len().into());
    Ok(Prepared::Call(Request::from_parts(parts, Body::from(body))))
}

/// Moves the refresh token of a login's or refresh's answer into the cookie; clears the cookie
/// when a logout is done or a refresh is refused. `request_headers` tell the host.
pub async fn finish(
    exchange: Exchange,
    request_headers: &HeaderMap,
    response: Response<Body>,
) -> Response<Body> {
    let status = response.status();
    if !status.is_success() {
        if exchange == Exchange::Refresh && status == StatusCode::UNAUTHORIZED {
            return with_cookie(response, &cleared_cookie(request_headers));
        }
        return response;
    }
    if exchange == Exchange::Logout {
        return with_cookie(response, &cleared_cookie(request_headers));
    }
    let (parts, body) = response.into_parts();
    // The gateway's own answer, already whole: no limit is needed to read it back.
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Problem::new(Code::Internal, "the session's answer could not be read").render("");
    };
    let Ok(Value::Object(mut answer)) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let tokens = answer.get_mut("tokens").and_then(Value::as_object_mut);
    let (token, expires_at) = match tokens {
        Some(tokens) => (
            tokens.remove("refresh_token"),
            tokens.remove("refresh_expires_at"),
        ),
        None => (None, None),
    };
    let Some(Value::String(token)) = token else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let max_age = expires_at
        .as_ref()
        .and_then(Value::as_str)
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|at| (at.with_timezone(&Utc) - Utc::now()).num_seconds().max(0));
    let cookie = session_cookie(request_headers, &token, max_age);
    let body = Bytes::from(Value::Object(answer).to_string());
    let mut response = Response::from_parts(parts, Body::from(body.clone()));
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, body.len().into());
    with_cookie(response, &cookie)
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().trim_matches('"'))
        .filter(|value| !value.is_empty())
}

fn session_cookie(request_headers: &HeaderMap, token: &str, max_age: Option<i64>) -> String {
    let mut cookie = format!("{COOKIE}={token}; Path={COOKIE_PATH}; HttpOnly; SameSite=Strict");
    if let Some(seconds) = max_age {
        cookie.push_str(&format!("; Max-Age={seconds}"));
    }
    if !on_loopback(request_headers) {
        cookie.push_str("; Secure");
    }
    cookie
}

fn cleared_cookie(request_headers: &HeaderMap) -> String {
    session_cookie(request_headers, "", Some(0))
}

/// Whether the page is served from this machine (`localhost`, `127.0.0.1`, `[::1]`).
fn on_loopback(headers: &HeaderMap) -> bool {
    let Some(host) = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
    else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.to_ascii_lowercase().ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

fn with_cookie(mut response: Response<Body>, cookie: &str) -> Response<Body> {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn json_with_cookie(status: StatusCode, body: Bytes, cookie: &str) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    with_cookie(response, cookie)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn only_the_three_calls_in_cookie_mode() {
        let cookie_mode = headers(&[("x-crm-session", "Cookie")]);
        assert_eq!(
            Exchange::of(&Method::POST, "/v1/auth:refresh", &cookie_mode),
            Some(Exchange::Refresh)
        );
        assert_eq!(
            Exchange::of(&Method::GET, "/v1/auth:refresh", &cookie_mode),
            None
        );
        assert_eq!(Exchange::of(&Method::POST, "/v1/leads", &cookie_mode), None);
        assert_eq!(
            Exchange::of(&Method::POST, "/v1/auth:login", &HeaderMap::new()),
            None
        );
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let request = headers(&[("cookie", "theme=dark; crm_refresh=rt_0af3 ; x=1")]);
        assert_eq!(cookie(&request, COOKIE), Some("rt_0af3"));
        let two_headers = headers(&[("cookie", "theme=dark"), ("cookie", "crm_refresh=rt_9")]);
        assert_eq!(cookie(&two_headers, COOKIE), Some("rt_9"));
        assert_eq!(
            cookie(&headers(&[("cookie", "crm_refresh=")]), COOKIE),
            None
        );
        assert_eq!(
            cookie(&headers(&[("cookie", "xcrm_refresh=a")]), COOKIE),
            None
        );
    }

    #[test]
    fn secure_everywhere_but_on_loopback() {
        for host in [
            "127.0.0.1:8080",
            "localhost",
            "[::1]:8080",
            "app.localhost:3000",
        ] {
            let request = HeaderMap::from_iter([(header::HOST, HeaderValue::from_static(host))]);
            assert!(on_loopback(&request), "{host}");
            assert!(!session_cookie(&request, "t", None).contains("Secure"));
        }
        for host in ["crm.example.com", "10.0.0.8:8080", "localhost.example.com"] {
            let request = HeaderMap::from_iter([(header::HOST, HeaderValue::from_static(host))]);
            assert!(!on_loopback(&request), "{host}");
            assert!(session_cookie(&request, "t", None).ends_with("; Secure"));
        }
        assert!(!on_loopback(&HeaderMap::new()));
    }

    #[test]
    fn the_cookie_is_scoped_and_hidden_from_script() {
        let cookie = session_cookie(&HeaderMap::new(), "rt_1", Some(600));
        assert_eq!(
            cookie,
            "crm_refresh=rt_1; Path=/v1/; HttpOnly; SameSite=Strict; Max-Age=600; Secure"
        );
        assert!(cleared_cookie(&HeaderMap::new()).starts_with("crm_refresh=; Path=/v1/;"));
        assert!(cleared_cookie(&HeaderMap::new()).contains("Max-Age=0"));
    }
}
