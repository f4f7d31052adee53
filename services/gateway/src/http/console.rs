//! The web console (`web/`), served at `/` beside the API: the built single-page app, embedded
//! in the binary in release builds and read from `web/dist` in debug builds (rust-embed), so
//! one process serves both and the page's calls to `/v1/…` are same-origin.
//!
//! - Hashed files under `/assets/` are cached for a year (`immutable`): a new build has new
//!   names. A missing asset is a plain 404, never the page (a stale tab asking for last
//!   week's chunk must fail loudly, not parse HTML as JavaScript).
//! - A page route — a path whose last segment has no extension (`/day`, `/leads/8f…`) — is
//!   answered with `index.html`, revalidated on every load, and the client-side router draws
//!   it. Other files of the build (an icon) are served as they are.
//! - Every answer carries a strict Content-Security-Policy: scripts, styles and calls from this
//!   origin only, no inline script or style, no framing.
//! - A gateway built before the console (`cargo build` alone) answers page routes with a page
//!   saying how to build it; the API works either way.

use std::borrow::Cow;

use axum::{body::Body, response::Response};
use http::{HeaderValue, Method, StatusCode, header};
use rust_embed::Embed;

/// The built console. `allow_missing`: a build without Node still compiles (and says so).
#[derive(Embed)]
#[folder = "../../web/dist/"]
#[allow_missing = true]
struct Build;

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const INDEX: &str = "index.html";
const ASSETS: &str = "assets/";

/// Whether `path` is the console's rather than the API's: everything outside `/v1/`.
pub fn serves(path: &str) -> bool {
    !(path == "/v1" || path.starts_with("/v1/"))
}

/// The console's answer to a GET or HEAD of `path`; `None` for another method (the caller
/// answers 405 as for any resource).
pub fn respond(method: &Method, path: &str) -> Option<Response> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let name = path.trim_start_matches('/');
    // The debug build reads files from disk: no way out of the build's directory.
    if name.split('/').any(|segment| segment == "..") || name.contains('\\') {
        let response = plain(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found\n",
        );
        return Some(with_security_headers(response));
    }
    let response = if let Some(file) = (!name.is_empty()).then(|| Build::get(name)).flatten() {
        let cache = if name.starts_with(ASSETS) {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        file_response(file.data, file.metadata.mimetype(), cache)
    } else if name.starts_with(ASSETS) || has_extension(name) {
        plain(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found\n",
        )
    } else {
        match Build::get(INDEX) {
            Some(index) => file_response(index.data, "text/html; charset=utf-8", "no-cache"),
            None => plain(StatusCode::NOT_FOUND, "text/html; charset=utf-8", NOT_BUILT),
        }
    };
    Some(with_security_headers(strip_body_for_head(method, response)))
}

/// A path whose last segment names a file (`favicon.ico`, `app.js.map`).
fn has_extension(name: &str) -> bool {
    name.rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
}

fn file_response(data: Cow<'static, [u8]>, content_type: &str, cache: &'static str) -> Response {
    let mut response = Response::new(Body::from(data));
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

fn plain(status: StatusCode, content_type: &'static str, body: &'static str) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn strip_body_for_head(method: &Method, response: Response) -> Response {
    if method != Method::HEAD {
        return response;
    }
    let (parts, _) = response.into_parts();
    Response::from_parts(parts, Body::empty())
}

fn with_security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

const NOT_BUILT: &str = "<!doctype html>
<html lang=\"en\"><head><meta charset=\"utf-8\"><title>CRM: console not built</title></head>
<body><h1>The console is not built</h1>
<p>This gateway was built without the web console. The API is served as usual under
<code>/v1/</code> (its document at <a href=\"/openapi.json\">/openapi.json</a>).</p>
<p>To build the console, run <code>npm --prefix web ci &amp;&amp; npm --prefix web run build</code>
and build the gateway again (<code>deploy/local/run</code> does both when Node.js is
installed).</p></body></html>
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_is_not_the_consoles() {
        assert!(!serves("/v1/leads"));
        assert!(!serves("/v1"));
        assert!(serves("/"));
        assert!(serves("/day"));
        assert!(serves("/v1leads"));
        assert!(serves("/assets/index-3f2a.js"));
    }

    #[test]
    fn files_are_told_from_pages_by_their_extension() {
        assert!(has_extension("assets/index-3f2a.js"));
        assert!(has_extension("favicon.ico"));
        assert!(!has_extension("leads/8f0e"));
        assert!(!has_extension("day"));
        assert!(!has_extension("v1.2/leads"));
    }

    #[test]
    fn no_path_leaves_the_build() {
        for path in ["/../Cargo.toml", "/assets/../../../etc/passwd", "/a\\..\\b"] {
            let response = respond(&Method::GET, path).unwrap();
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        }
    }

    #[test]
    fn writes_are_not_the_consoles() {
        assert!(respond(&Method::POST, "/day").is_none());
        assert!(respond(&Method::DELETE, "/").is_none());
    }

    #[test]
    fn a_missing_asset_is_a_404_whatever_the_build() {
        let response = respond(&Method::GET, "/assets/gone-0000.js").unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            response.headers()[header::CONTENT_SECURITY_POLICY],
            CONTENT_SECURITY_POLICY
        );
    }
}
