//! Writes with an idempotency key at the gRPC level (`crm-idempotency-key`, as the front door
//! forwards an `Idempotency-Key`): one write per key, and every retry answered with the first
//! call's reply — sequential, concurrent, after a conversion, and with a caller that wrongly
//! says it is the first attempt.

mod support;

use crm_platform::{
    auth::Caller,
    replies::{FIRST_ATTEMPT_METADATA, KEY_METADATA, REPLAYED_METADATA},
};
use crm_proto::crm::{common::v1::Money, leads::v1 as pb};
use crm_test_support::{TestApp, user};
use support::{EAST_1, Harness, li_wei};
use tonic::Code;

fn keyed<T>(
    harness: &Harness,
    caller: &Caller,
    message: T,
    key: &str,
    first: bool,
) -> tonic::Request<T> {
    let mut request = harness.auth(caller, message);
    request
        .metadata_mut()
        .insert(KEY_METADATA, key.parse().unwrap());
    if first {
        request
            .metadata_mut()
            .insert(FIRST_ATTEMPT_METADATA, "true".parse().unwrap());
    }
    request
}

/// The leads service alone (the phones here carry their country code).
async fn start() -> Harness {
    Harness::from_app(TestApp::spawn(&[crm_leads::module()]).await).await
}

fn create_request() -> pb::CreateLeadRequest {
    pb::CreateLeadRequest {
        lead: Some(li_wei()),
        lead_id: String::new(),
    }
}

async fn create(
    harness: &Harness,
    caller: &Caller,
    key: &str,
    first: bool,
) -> Result<tonic::Response<pb::CreateLeadResponse>, tonic::Status> {
    harness
        .leads
        .clone()
        .create_lead(keyed(harness, caller, create_request(), key, first))
        .await
}

async fn count(harness: &Harness, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(harness.app.pool("leads"))
        .await
        .unwrap()
}

fn replayed<T>(response: &tonic::Response<T>) -> bool {
    response.metadata().get(REPLAYED_METADATA).is_some()
}

#[tokio::test]
async fn a_key_used_twice_writes_once_and_the_retry_gets_the_first_reply() {
    let harness = start().await;
    let ravi = user("rep", EAST_1);

    let first = create(&harness, &ravi, "capture-1", true).await.unwrap();
    assert!(!replayed(&first));
    for first_attempt in [false, true] {
        // `true` is a caller wrongly saying so: the key is still checked at the commit.
        let again = create(&harness, &ravi, "capture-1", first_attempt)
            .await
            .unwrap();
        assert_eq!(
            again.get_ref(),
            first.get_ref(),
            "the first reply, byte for byte"
        );
        if !first_attempt {
            assert!(replayed(&again), "marked as a stored reply");
        }
    }
    assert_eq!(count(&harness, "SELECT count(*) FROM leads").await, 1);
    assert_eq!(
        count(&harness, "SELECT count(*) FROM outbox").await,
        1,
        "one event: the rolled-back second write left none"
    );

    // Keys are per caller: another caller's same key is another write.
    let nora = user("rep", EAST_1);
    let hers = create(&harness, &nora, "capture-1", false).await.unwrap();
    assert_ne!(
        hers.get_ref().lead.as_ref().unwrap().id,
        first.get_ref().lead.as_ref().unwrap().id
    );

    // The key on another method is refused, and writes nothing.
    let lead_id = first.get_ref().lead.as_ref().unwrap().id.clone();
    let refused = harness
        .leads
        .clone()
        .qualify_lead(keyed(
            &harness,
            &ravi,
            pb::QualifyLeadRequest { lead_id },
            "capture-1",
            false,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(refused.message().contains("another request"), "{refused:?}");

    let bad = create(&harness, &ravi, "with space", false)
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(count(&harness, "SELECT count(*) FROM leads").await, 2);
}

#[tokio::test]
async fn concurrent_calls_with_one_key_write_once_and_all_get_the_same_reply() {
    let harness = start().await;
    let ravi = user("rep", EAST_1);
    let calls: Vec<_> = (0..8)
        .map(|index| {
            let harness = &harness;
            let ravi = &ravi;
            async move { create(harness, ravi, "burst", index % 2 == 0).await }
        })
        .collect();
    let replies = futures::future::join_all(calls).await;
    let first = replies[0].as_ref().unwrap().get_ref();
    for reply in &replies {
        assert_eq!(reply.as_ref().unwrap().get_ref(), first);
    }
    assert_eq!(count(&harness, "SELECT count(*) FROM leads").await, 1);
    assert_eq!(
        count(&harness, "SELECT count(*) FROM request_replies").await,
        1
    );
}

#[tokio::test]
async fn a_retried_conversion_gets_the_first_result_not_already_converted() {
    let harness = start().await;
    let ravi = user("rep", EAST_1);
    let lead = harness.create(&ravi, li_wei()).await.unwrap().lead.unwrap();
    let mut leads = harness.leads.clone();
    leads
        .log_lead_activity(harness.auth(
            &ravi,
            pb::LogLeadActivityRequest {
                lead_id: lead.id.clone(),
                kind: pb::ActivityKind::Call as i32,
                note: "discussed Line 3".into(),
            },
        ))
        .await
        .unwrap();
    leads
        .qualify_lead(harness.auth(
            &ravi,
            pb::QualifyLeadRequest {
                lead_id: lead.id.clone(),
            },
        ))
        .await
        .unwrap();
    let conversion = || pb::ConvertLeadRequest {
        lead_id: lead.id.clone(),
        account_id: String::new(),
        opportunity_name: "Contoso — Line 3 automation".into(),
        opportunity_amount: Some(Money {
            currency_code: "CNY".into(),
            amount: "1200000.00".into(),
        }),
        expected_close_date: "2027-01-22".into(),
    };
    let first = leads
        .convert_lead(keyed(&harness, &ravi, conversion(), "convert-1", true))
        .await
        .unwrap()
        .into_inner();
    for first_attempt in [false, true] {
        // With `true` the handler runs again and finds the lead converted; the first
        // conversion's reply is the answer all the same.
        let again = leads
            .convert_lead(keyed(
                &harness,
                &ravi,
                conversion(),
                "convert-1",
                first_attempt,
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(again, first);
    }
    // Without the key, the second conversion is refused as before.
    let refused = leads
        .convert_lead(harness.auth(&ravi, conversion()))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(
        count(
            &harness,
            "SELECT count(*) FROM outbox WHERE event_type = 'crm.leads.v1.LeadConverted'"
        )
        .await,
        1,
        "converted once"
    );
}
