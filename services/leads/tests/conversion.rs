//! Lifecycle and conversion (L6) with the accounts service running: a converted lead becomes
//! an account and contact exactly once, a second lead of the company converts onto the same
//! account, and a conversion made while NATS is down arrives when it is back.

mod support;

use std::time::Duration;

use crm_platform::auth::Caller;
use crm_proto::crm::{common::v1::Money, leads::v1 as pb};
use crm_test_support::{NatsServer, TestApp, eventually, user};
use support::{EAST_1, Harness, li_wei};
use tonic::Code;

async fn work_and_qualify(harness: &Harness, ravi: &Caller, id: &str) {
    let mut leads = harness.leads.clone();
    let lead = leads
        .log_lead_activity(harness.auth(
            ravi,
            pb::LogLeadActivityRequest {
                lead_id: id.into(),
                kind: pb::ActivityKind::Call as i32,
                note: "discussed Line 3".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .lead
        .unwrap();
    assert_eq!(
        lead.status,
        pb::LeadStatus::Working as i32,
        "the first follow-up starts the work"
    );
    leads
        .qualify_lead(harness.auth(ravi, pb::QualifyLeadRequest { lead_id: id.into() }))
        .await
        .unwrap();
}

async fn convert(harness: &Harness, ravi: &Caller, id: &str) -> pb::ConvertLeadResponse {
    harness
        .leads
        .clone()
        .convert_lead(harness.auth(
            ravi,
            pb::ConvertLeadRequest {
                lead_id: id.into(),
                account_id: String::new(),
                opportunity_name: "Contoso — Line 3 automation".into(),
                opportunity_amount: Some(Money {
                    currency_code: "CNY".into(),
                    amount: "1200000.00".into(),
                }),
                expected_close_date: "2027-01-22".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
}

fn account_modules() -> Vec<crm_platform::host::ServiceModule> {
    vec![crm_accounts::module(), crm_leads::module()]
}

#[tokio::test]
async fn a_converted_lead_becomes_one_account_and_a_second_lead_joins_it() {
    let harness = Harness::with_modules(&account_modules()).await;
    let ravi = user("rep", EAST_1);
    let lead = harness.create(&ravi, li_wei()).await.unwrap().lead.unwrap();

    let status = harness
        .leads
        .clone()
        .disqualify_lead(harness.auth(
            &ravi,
            pb::DisqualifyLeadRequest {
                lead_id: lead.id.clone(),
                reason: " ".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::InvalidArgument,
        "disqualifying needs a reason"
    );
    let status = harness
        .leads
        .clone()
        .convert_lead(harness.auth(
            &ravi,
            pb::ConvertLeadRequest {
                lead_id: lead.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::FailedPrecondition,
        "only a qualified lead converts"
    );

    work_and_qualify(&harness, &ravi, &lead.id).await;
    let converted = convert(&harness, &ravi, &lead.id).await;
    assert!(converted.account_is_new);
    assert_eq!(
        converted.lead.unwrap().status,
        pb::LeadStatus::Converted as i32
    );

    let account_id = converted.account_id.clone();
    eventually(
        Duration::from_secs(15),
        "accounts created the account and contact",
        || async {
            harness
                .count(
                    "accounts",
                    &format!("SELECT count(*) FROM contacts WHERE account_id = '{account_id}'"),
                )
                .await
                == 1
        },
    )
    .await;
    let (name, owner): (String, uuid::Uuid) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT name, owner_id FROM accounts WHERE id = '{account_id}'"
    )))
    .fetch_one(harness.app.pool("accounts"))
    .await
    .unwrap();
    assert_eq!((name.as_str(), owner), ("Contoso Ltd", ravi.user_id));

    // "Contoso Ltd." with a dot, another person: converts onto the same account.
    let second = harness
        .create(
            &ravi,
            pb::LeadInput {
                first_name: "Min".into(),
                last_name: "Zhang".into(),
                email: "zhang.min@contoso.cn".into(),
                company: "Contoso Ltd.".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .lead
        .unwrap();
    work_and_qualify(&harness, &ravi, &second.id).await;
    let again = convert(&harness, &ravi, &second.id).await;
    assert!(!again.account_is_new);
    assert_eq!(again.account_id, account_id);
    eventually(
        Duration::from_secs(15),
        "the second contact joined the account",
        || async {
            harness
                .count(
                    "accounts",
                    &format!("SELECT count(*) FROM contacts WHERE account_id = '{account_id}'"),
                )
                .await
                == 2
        },
    )
    .await;
    assert_eq!(
        harness
            .count("accounts", "SELECT count(*) FROM accounts")
            .await,
        1
    );

    let status = harness
        .leads
        .clone()
        .qualify_lead(harness.auth(
            &ravi,
            pb::QualifyLeadRequest {
                lead_id: lead.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains("converted"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn a_conversion_while_nats_is_down_reaches_accounts_when_it_is_back() {
    let mut nats = NatsServer::start().await;
    let app = TestApp::spawn_with_nats(&account_modules(), &nats.url()).await;
    let harness = Harness::from_app(app).await;
    let ravi = user("rep", EAST_1);
    let lead = harness.create(&ravi, li_wei()).await.unwrap().lead.unwrap();
    work_and_qualify(&harness, &ravi, &lead.id).await;

    nats.stop().await;
    let converted = convert(&harness, &ravi, &lead.id).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        harness
            .count("accounts", "SELECT count(*) FROM accounts")
            .await,
        0
    );
    nats.restart().await;

    let account_id = converted.account_id;
    eventually(
        Duration::from_secs(30),
        "the account arrives after the outage",
        || async {
            harness
                .count(
                    "accounts",
                    &format!("SELECT count(*) FROM contacts WHERE account_id = '{account_id}'"),
                )
                .await
                == 1
        },
    )
    .await;
    assert_eq!(
        harness
            .count("accounts", "SELECT count(*) FROM accounts")
            .await,
        1
    );
}

#[tokio::test]
async fn a_negative_or_foreign_opportunity_amount_is_refused_and_nothing_converts() {
    let harness = Harness::with_modules(&account_modules()).await;
    let ravi = user("rep", EAST_1);
    let lead = harness.create(&ravi, li_wei()).await.unwrap().lead.unwrap();
    work_and_qualify(&harness, &ravi, &lead.id).await;

    for (currency, amount, field) in [
        ("CNY", "-5", "opportunity_amount.amount"),
        ("XXX", "5", "opportunity_amount.currency_code"),
        ("JPY", "5.5", "opportunity_amount.amount"),
    ] {
        let status = harness
            .leads
            .clone()
            .convert_lead(harness.auth(
                &ravi,
                pb::ConvertLeadRequest {
                    lead_id: lead.id.clone(),
                    opportunity_name: "Contoso — Line 3".into(),
                    opportunity_amount: Some(Money {
                        currency_code: currency.into(),
                        amount: amount.into(),
                    }),
                    ..Default::default()
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{currency} {amount}");
        let details = tonic_types::StatusExt::get_error_details(&status);
        let violations: Vec<&str> = details
            .bad_request()
            .expect("field violations")
            .field_violations
            .iter()
            .map(|violation| violation.field.as_str())
            .collect();
        assert_eq!(violations, [field], "{currency} {amount}");
    }

    let status: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT status FROM leads WHERE id = '{}'",
        lead.id
    )))
    .fetch_one(harness.app.pool("leads"))
    .await
    .unwrap();
    assert_eq!(status, "qualified", "nothing converted");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        harness
            .count("accounts", "SELECT count(*) FROM accounts")
            .await,
        0
    );
}
