//! What the end-to-end journeys share: the whole suite in one process, called through the
//! gateway's HTTP front door as the users of the story.
#![allow(dead_code)] // each journey uses part of it

use std::time::Duration;

use crm_platform::auth::Caller;
use crm_test_support::{HttpClient, HttpReply, TestApp};
use serde_json::{Value, json};

/// The body of a 200 reply (the test fails with the body otherwise).
pub fn ok(reply: HttpReply) -> Value {
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

/// An amount in yuan, as the API writes Money.
pub fn cny(amount: &str) -> Value {
    json!({"currency_code": "CNY", "amount": amount})
}

pub struct Suite {
    pub app: TestApp,
    pub http: HttpClient,
}

impl Suite {
    /// Every module of the suite in this process, with its HTTP front door.
    pub async fn start() -> Self {
        let app = TestApp::spawn(&crm::all_modules()).await;
        Self {
            http: HttpClient::new(app.http_url()),
            app,
        }
    }

    pub fn token(&self, caller: &Caller) -> String {
        self.app.token(caller)
    }

    pub async fn post(&self, caller: &Caller, path: &str, body: Value) -> HttpReply {
        self.http
            .post_json(path, Some(&self.token(caller)), &body)
            .await
    }

    pub async fn patch(&self, caller: &Caller, path: &str, body: Value) -> HttpReply {
        self.http
            .patch_json(path, Some(&self.token(caller)), &body)
            .await
    }

    pub async fn get(&self, caller: &Caller, path: &str) -> Value {
        ok(self.http.get(path, Some(&self.token(caller))).await)
    }

    /// Retries a call until it succeeds: what another service learns from events arrives
    /// within moments, not at once.
    pub async fn post_when_known(&self, caller: &Caller, path: &str, body: Value) -> Value {
        let mut last = None;
        for _ in 0..100 {
            let reply = self.post(caller, path, body.clone()).await;
            if reply.status == 200 {
                return reply.json();
            }
            last = Some(String::from_utf8_lossy(&reply.body).into_owned());
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        panic!("{path} never succeeded: {last:?}");
    }

    /// GETs `path` until `view` of the answer is `expected`, and returns the answer: what a
    /// read model learns from events arrives within moments, not at once. After 20 s the test
    /// fails showing the last view against the expected one.
    pub async fn get_when<T, F>(&self, caller: &Caller, path: &str, view: F, expected: T) -> Value
    where
        T: PartialEq + std::fmt::Debug,
        F: Fn(&Value) -> T,
    {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let reply = self.http.get(path, Some(&self.token(caller))).await;
            let late = tokio::time::Instant::now() > deadline;
            if reply.status == 200 {
                let answer = reply.json();
                let seen = view(&answer);
                if seen == expected {
                    return answer;
                }
                assert!(
                    !late,
                    "{path}: {seen:#?}\nis not\n{expected:#?}\nin {answer}"
                );
            } else {
                assert!(
                    !late,
                    "{path} answered {}: {}",
                    reply.status,
                    String::from_utf8_lossy(&reply.body)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs `sql` on a service's database: how a journey lets time pass (a deal's last
    /// activity weeks ago) where no API can.
    pub async fn execute(&self, service: &str, sql: &str) -> u64 {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(self.app.pool(service))
            .await
            .unwrap()
            .rows_affected()
    }

    pub async fn count(&self, service: &str, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(self.app.pool(service))
            .await
            .unwrap()
    }
}
