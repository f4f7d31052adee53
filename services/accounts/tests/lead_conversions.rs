//! Accounts consumes `lead_converted` and creates the records exactly once.

use std::time::Duration;

use crm_platform::events;
use crm_proto::crm::{accounts::v1 as pb, leads::v1::LeadConverted};
use crm_test_support::{TestApp, eventually, user};
use uuid::Uuid;

async fn publish(app: &TestApp, event: &LeadConverted, event_id: Uuid, message_id: &str) {
    app.publish_event_as("accounts", event, event_id, message_id)
        .await;
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(app.pool("accounts"))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_converted_lead_becomes_an_account_and_contact_exactly_once() {
    let app = TestApp::spawn(&[crm_accounts::module()]).await;
    let context = app.services.context("accounts").unwrap();
    // The leads service would create its stream; here the test stands in for it.
    events::ensure_stream(
        &context.jetstream,
        &context.naming,
        "leads",
        Duration::from_secs(120),
    )
    .await
    .unwrap();

    let ravi = user("rep", "/northwind/east/east-1");
    let (account_id, contact_id) = (Uuid::now_v7(), Uuid::now_v7());
    let conversion = LeadConverted {
        account_id: account_id.to_string(),
        account_is_new: true,
        account_name: "Contoso Ltd".into(),
        account_website: "contoso.cn".into(),
        account_industry: "Manufacturing".into(),
        contact_id: contact_id.to_string(),
        contact_full_name: "Li Wei".into(),
        contact_email: "li.wei@contoso.cn".into(),
        contact_phone: "+86 138 0013 8000".into(),
        opportunity_id: Uuid::now_v7().to_string(),
        owner_id: ravi.user_id.to_string(),
        owner_team_path: ravi.team_path.to_string(),
        ..Default::default()
    };
    let event_id = Uuid::now_v7();
    // Delivered twice (a new Nats-Msg-Id defeats broker dedupe, as after a replay) ...
    publish(&app, &conversion, event_id, "copy-1").await;
    publish(&app, &conversion, event_id, "copy-2").await;
    // ... and once more as a distinct event carrying the same ids.
    publish(&app, &conversion, Uuid::now_v7(), "copy-3").await;

    eventually(
        Duration::from_secs(15),
        "the account and contact exist",
        || async { count(&app, "SELECT count(*) FROM contacts").await == 1 },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(count(&app, "SELECT count(*) FROM accounts").await, 1);
    assert_eq!(count(&app, "SELECT count(*) FROM contacts").await, 1);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM inbox WHERE consumer = 'accounts-lead-conversions'"
        )
        .await,
        2
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM outbox WHERE event_type IN ('crm.accounts.v1.AccountCreated', 'crm.accounts.v1.ContactCreated')").await,
        2,
        "one AccountCreated and one ContactCreated"
    );
    let (owner, tags): (Uuid, Vec<String>) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT owner_id, tags FROM accounts WHERE id = '{account_id}'"
    )))
    .fetch_one(app.pool("accounts"))
    .await
    .unwrap();
    assert_eq!(
        owner, ravi.user_id,
        "the converting rep owns the new account"
    );
    assert_eq!(tags, vec!["from-lead"]);
    let mobile_or_phone: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT phone FROM contacts WHERE id = '{contact_id}'"
    )))
    .fetch_one(app.pool("accounts"))
    .await
    .unwrap();
    assert_eq!(mobile_or_phone.as_deref(), Some("+8613800138000"));

    // A second lead of the same company converts onto the existing account.
    let second_contact = Uuid::now_v7();
    let onto_existing = LeadConverted {
        account_is_new: false,
        contact_id: second_contact.to_string(),
        contact_full_name: "Zhang Min".into(),
        contact_email: "zhang.min@contoso.cn".into(),
        contact_phone: String::new(),
        ..conversion.clone()
    };
    publish(&app, &onto_existing, Uuid::now_v7(), "second").await;
    eventually(
        Duration::from_secs(15),
        "the second contact exists",
        || async { count(&app, "SELECT count(*) FROM contacts").await == 2 },
    )
    .await;
    assert_eq!(count(&app, "SELECT count(*) FROM accounts").await, 1);
    let account_of_second: Uuid = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT account_id FROM contacts WHERE id = '{second_contact}'"
    )))
    .fetch_one(app.pool("accounts"))
    .await
    .unwrap();
    assert_eq!(account_of_second, account_id);
    let _ = pb::AccountStatus::Active;
    let _ = context
        .jetstream
        .delete_stream(context.naming.stream("leads"))
        .await;
    let _ = context
        .jetstream
        .delete_stream(context.naming.stream("accounts"))
        .await;
}

#[tokio::test]
async fn a_conversion_onto_an_unknown_account_goes_to_dead_letters() {
    let app = TestApp::spawn(&[crm_accounts::module()]).await;
    let context = app.services.context("accounts").unwrap();
    events::ensure_stream(
        &context.jetstream,
        &context.naming,
        "leads",
        Duration::from_secs(120),
    )
    .await
    .unwrap();
    let ravi = user("rep", "/northwind/east/east-1");
    let conversion = LeadConverted {
        account_id: Uuid::now_v7().to_string(),
        account_is_new: false,
        contact_id: Uuid::now_v7().to_string(),
        contact_full_name: "Nobody".into(),
        owner_id: ravi.user_id.to_string(),
        owner_team_path: ravi.team_path.to_string(),
        ..Default::default()
    };
    publish(&app, &conversion, Uuid::now_v7(), "only").await;
    let metrics_addr = app.services.metrics_addr().unwrap();
    eventually(Duration::from_secs(15), "one dead letter", || async move {
        let text = http_get(metrics_addr).await;
        text.contains(r#"crm_consumer_dead_letters_total{consumer="accounts-lead-conversions"} 1"#)
    })
    .await;
    assert_eq!(count(&app, "SELECT count(*) FROM contacts").await, 0);
    let _ = context
        .jetstream
        .delete_stream(context.naming.stream("leads"))
        .await;
    let _ = context
        .jetstream
        .delete_stream(context.naming.dead_letter_stream())
        .await;
}

async fn http_get(addr: std::net::SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}
