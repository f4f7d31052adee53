//! A small HTTP/1.1 client for tests and benches of the gateway's front door (keep-alive
//! connections, JSON in and out).

use bytes::Bytes;
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};

#[derive(Clone)]
pub struct HttpClient {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
}

/// A response, read whole.
#[derive(Debug)]
pub struct HttpReply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl HttpReply {
    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "status {} body is not JSON ({error}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }
}

impl HttpClient {
    /// `base` is `http://host:port`.
    pub fn new(base: impl Into<String>) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            base: base.into(),
        }
    }

    /// Sends a request; `body` is sent as `application/json` unless a content-type header is
    /// among `headers`.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> HttpReply {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let has_type = headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
        if body.is_some() && !has_type {
            request = request.header("content-type", "application/json");
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .expect("a valid request");
        let response = self.client.request(request).await.expect("HTTP request");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("HTTP body").to_bytes();
        HttpReply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> HttpReply {
        self.send(Method::GET, path, token, &[], None).await
    }

    pub async fn post_json(
        &self,
        path: &str,
        token: Option<&str>,
        json: &serde_json::Value,
    ) -> HttpReply {
        self.send_json(Method::POST, path, token, json).await
    }

    pub async fn patch_json(
        &self,
        path: &str,
        token: Option<&str>,
        json: &serde_json::Value,
    ) -> HttpReply {
        self.send_json(Method::PATCH, path, token, json).await
    }

    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        json: &serde_json::Value,
    ) -> HttpReply {
        self.send(
            method,
            path,
            token,
            &[],
            Some(json.to_string().into_bytes()),
        )
        .await
    }
}
