//! The console's side of the front door, over real HTTP: its pages and assets beside the API,
//! and its session — the refresh token in an HttpOnly cookie (ADR 0017).

use crm_test_support::{HttpClient, HttpReply, TestApp};
use http::Method;
use serde_json::json;

mod support;

use support::PASSWORD;

const COOKIE_MODE: (&str, &str) = ("x-crm-session", "cookie");

async fn start() -> (TestApp, HttpClient) {
    let app = TestApp::spawn(&[crm_gateway::module()]).await;
    support::first_admin(&app).await;
    let http = HttpClient::new(app.http_url());
    (app, http)
}

async fn post(http: &HttpClient, path: &str, headers: &[(&str, &str)], body: &str) -> HttpReply {
    http.send(
        Method::POST,
        path,
        None,
        headers,
        Some(body.as_bytes().to_vec()),
    )
    .await
}

/// A console session call, `/v1/auth:{action}` in cookie mode, with the cookie pair if any.
async fn session_call(
    http: &HttpClient,
    action: &str,
    cookie: Option<&str>,
    body: &str,
) -> HttpReply {
    let mut headers = vec![COOKIE_MODE];
    if let Some(cookie) = cookie {
        headers.push(("cookie", cookie));
    }
    post(http, &format!("/v1/auth:{action}"), &headers, body).await
}

/// The `crm_refresh=…` pair of the reply's Set-Cookie, and the whole header.
fn session_cookie(reply: &HttpReply) -> (String, String) {
    let header = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("crm_refresh="))
        .unwrap_or_else(|| panic!("no session cookie: {:?}", reply.headers))
        .to_owned();
    let pair = header.split(';').next().unwrap().to_owned();
    (pair, header)
}

#[tokio::test]
async fn the_refresh_token_lives_in_an_http_only_cookie_and_rotates() {
    let (_app, http) = start().await;
    let credentials = json!({"email": "ada@northwind.example", "password": PASSWORD}).to_string();

    // Without the header, the tokens are in the body, as for any client.
    let plain = post(&http, "/v1/auth:login", &[], &credentials).await;
    assert_eq!(plain.status, 200);
    assert!(plain.json()["tokens"]["refresh_token"].is_string());
    assert!(plain.headers.get("set-cookie").is_none());

    let login = session_call(&http, "login", None, &credentials).await;
    assert_eq!(login.status, 200, "{}", login.json());
    let body = login.json();
    assert!(body["tokens"]["access_token"].is_string());
    assert!(body["tokens"].get("refresh_token").is_none(), "{body}");
    assert!(body["tokens"].get("refresh_expires_at").is_none(), "{body}");
    assert_eq!(body["user"]["email"], "ada@northwind.example");
    let (first, header) = session_cookie(&login);
    assert!(first.len() > "crm_refresh=".len() + 32, "{first}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/v1/;"] {
        assert!(header.contains(attribute), "{header}");
    }
    // 30 days, less the moment the call took.
    let max_age: i64 = header
        .split("Max-Age=")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .and_then(|seconds| seconds.parse().ok())
        .expect("a Max-Age");
    assert!(
        (30 * 86_400 - 60..=30 * 86_400).contains(&max_age),
        "{header}"
    );
    // Served on 127.0.0.1: no Secure, which a plain-HTTP page could not store.
    assert!(!header.contains("Secure"), "{header}");

    let refreshed = session_call(&http, "refresh", Some(&first), "{}").await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.json());
    assert!(refreshed.json()["tokens"]["access_token"].is_string());
    assert!(refreshed.json()["tokens"].get("refresh_token").is_none());
    let (second, _) = session_cookie(&refreshed);
    assert_ne!(first, second, "the refresh token rotates");

    // An empty body is as good as {}.
    let (third, _) = session_cookie(&session_call(&http, "refresh", Some(&second), "").await);

    // The first cookie again: a replayed token revokes the family, and the cookie is cleared.
    let replayed = session_call(&http, "refresh", Some(&first), "{}").await;
    assert_eq!(replayed.status, 401);
    assert_eq!(session_cookie(&replayed).0, "crm_refresh=");
    let revoked = session_call(&http, "refresh", Some(&third), "{}").await;
    assert_eq!(revoked.status, 401, "the whole family is revoked");

    // Without a cookie there is no session to refresh.
    let missing = session_call(&http, "refresh", None, "{}").await;
    assert_eq!(missing.status, 401);
    assert_eq!(
        missing.header("content-type"),
        Some("application/problem+json")
    );
    let not_an_object = session_call(&http, "refresh", Some(&first), "[]").await;
    assert_eq!(not_an_object.status, 400);
}

#[tokio::test]
async fn signing_out_revokes_the_session_and_clears_the_cookie() {
    let (_app, http) = start().await;
    let credentials = json!({"email": "ada@northwind.example", "password": PASSWORD}).to_string();
    let login = session_call(&http, "login", None, &credentials).await;
    let (cookie, _) = session_cookie(&login);

    let logout = session_call(&http, "logout", Some(&cookie), "{}").await;
    assert_eq!(logout.status, 200);
    let (cleared, header) = session_cookie(&logout);
    assert_eq!(cleared, "crm_refresh=");
    assert!(header.contains("Max-Age=0"), "{header}");

    let after = session_call(&http, "refresh", Some(&cookie), "{}").await;
    assert_eq!(
        after.status, 401,
        "the token was revoked, not only forgotten"
    );

    // Signing out again (a second tab) is done already.
    let again = session_call(&http, "logout", None, "{}").await;
    assert_eq!(again.status, 200);
    assert_eq!(session_cookie(&again).0, "crm_refresh=");
}

fn console_built() -> bool {
    std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../web/dist/index.html"
    ))
    .exists()
}

#[tokio::test]
async fn pages_and_assets_are_served_beside_the_api() {
    let (_app, http) = start().await;

    for path in ["/", "/day", "/leads/3f2a9c1e-0000-4000-8000-000000000001"] {
        let page = http.get(path, None).await;
        let policy = page.header("content-security-policy").unwrap_or_default();
        assert!(policy.contains("script-src 'self'"), "{path}: {policy}");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let html = String::from_utf8_lossy(&page.body);
        if console_built() {
            assert_eq!(page.status, 200, "{path}");
            assert_eq!(page.header("cache-control"), Some("no-cache"));
            assert!(html.contains("<div id=\"root\">"), "{path}: {html}");
        } else {
            assert_eq!(page.status, 404, "{path}");
            assert!(html.contains("console is not built"), "{path}: {html}");
        }
    }
    if console_built() {
        // The page's own script is a hashed asset, cached for good.
        let index = String::from_utf8_lossy(&http.get("/", None).await.body).into_owned();
        let script = index
            .split("src=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the page loads a script")
            .to_owned();
        assert!(script.starts_with("/assets/"), "{script}");
        let asset = http.get(&script, None).await;
        assert_eq!(asset.status, 200);
        assert_eq!(
            asset.header("cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        assert!(
            asset
                .header("content-type")
                .is_some_and(|kind| kind.contains("javascript")),
            "{:?}",
            asset.header("content-type")
        );
    }

    // A missing asset is a 404, never the page.
    let missing = http.get("/assets/index-00000000.js", None).await;
    assert_eq!(missing.status, 404);
    assert!(!String::from_utf8_lossy(&missing.body).contains("<html"));
    assert_eq!(http.get("/favicon-missing.ico", None).await.status, 404);

    // The API keeps its own answers: a problem for an unknown resource, the document, health.
    let unknown = http.get("/v1/nothing-here", None).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(http.get("/openapi.json", None).await.status, 200);
    assert_eq!(http.get("/healthz", None).await.status, 200);
    // A write to a page is nobody's resource.
    let write = http.send(Method::POST, "/day", None, &[], None).await;
    assert_eq!(write.status, 404);
    assert_eq!(
        write.header("content-type"),
        Some("application/problem+json")
    );
}
