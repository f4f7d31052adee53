//! How the leads service refuses over gRPC (docs/api.md, "Error model"): business rules and
//! illegal status changes are FAILED_PRECONDITION with a `google.rpc.ErrorInfo` reason;
//! throttling alone is RESOURCE_EXHAUSTED, with a `google.rpc.RetryInfo`; bad input is
//! INVALID_ARGUMENT naming the field.

mod support;

use std::{collections::HashMap, time::Duration};

use crm_platform::{auth::Caller, error::ERROR_INFO_DOMAIN};
use crm_proto::crm::{common::v1 as common, leads::v1 as pb};
use crm_test_support::user;
use support::{EAST_1, Harness, li_wei};
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// The reason and metadata of a refusal.
fn reason(status: &Status) -> (String, HashMap<String, String>) {
    let details = status.get_error_details();
    let info = details
        .error_info()
        .unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"));
    assert_eq!(info.domain, ERROR_INFO_DOMAIN);
    (info.reason.clone(), info.metadata.clone())
}

async fn claim(harness: &Harness, rep: &Caller, id: &str) -> Result<pb::Lead, Status> {
    harness
        .leads
        .clone()
        .claim_lead(harness.auth(rep, pb::ClaimLeadRequest { lead_id: id.into() }))
        .await
        .map(|reply| reply.into_inner().lead.unwrap())
}

async fn disqualify(harness: &Harness, rep: &Caller, id: &str, why: &str) -> Result<(), Status> {
    harness
        .leads
        .clone()
        .disqualify_lead(harness.auth(
            rep,
            pb::DisqualifyLeadRequest {
                lead_id: id.into(),
                reason: why.into(),
            },
        ))
        .await
        .map(|_| ())
}

async fn work(harness: &Harness, rep: &Caller, id: &str) {
    harness
        .leads
        .clone()
        .log_lead_activity(harness.auth(
            rep,
            pb::LogLeadActivityRequest {
                lead_id: id.into(),
                kind: pb::ActivityKind::Call as i32,
                note: "discussed Line 3".into(),
            },
        ))
        .await
        .unwrap();
}

async fn ravi(harness: &Harness, claim_cap: u32) -> Caller {
    let ravi = user("rep", EAST_1);
    harness
        .put_rep(
            &user("admin", "/northwind"),
            &ravi,
            "Ravi",
            common::LifecycleStage::Senior,
            "2023-01-09",
            claim_cap,
        )
        .await;
    ravi
}

#[tokio::test]
async fn disqualifying_a_qualified_lead_is_an_illegal_transition_not_a_bad_reason() {
    let harness = Harness::start().await;
    let ada = user("admin", "/northwind");
    let ravi = ravi(&harness, 5).await;
    let lead = harness.create(&ada, li_wei()).await.unwrap().lead.unwrap();
    claim(&harness, &ravi, &lead.id).await.unwrap();
    work(&harness, &ravi, &lead.id).await;
    harness
        .leads
        .clone()
        .qualify_lead(harness.auth(
            &ravi,
            pb::QualifyLeadRequest {
                lead_id: lead.id.clone(),
            },
        ))
        .await
        .unwrap();

    let refused = disqualify(&harness, &ravi, &lead.id, "no budget this year")
        .await
        .unwrap_err();

    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let (reason, metadata) = reason(&refused);
    assert_eq!(reason, "LEAD_TRANSITION_NOT_ALLOWED");
    assert_eq!(metadata["action"], "disqualify");
    assert_eq!(metadata["from"], "qualified");
    assert_eq!(metadata["to"], "disqualified");
    assert_eq!(
        metadata["text_code"],
        "leads.lifecycle.transition_not_allowed"
    );
    assert!(refused.get_error_details().bad_request().is_none());

    let other = harness
        .create(
            &ada,
            pb::LeadInput {
                last_name: "Zhang".into(),
                company: "Fabrikam".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .lead
        .unwrap();
    let empty = disqualify(&harness, &ada, &other.id, " ")
        .await
        .unwrap_err();
    assert_eq!(empty.code(), Code::InvalidArgument);
    let details = empty.get_error_details();
    assert_eq!(
        details.bad_request().unwrap().field_violations[0].field,
        "reason"
    );
}

#[tokio::test]
async fn a_claim_over_the_cap_is_a_failed_precondition_without_a_retry_delay() {
    let harness = Harness::start().await;
    let ada = user("admin", "/northwind");
    let ravi = ravi(&harness, 1).await;
    let first = harness.create(&ada, li_wei()).await.unwrap().lead.unwrap();
    let second = harness
        .create(
            &ada,
            pb::LeadInput {
                last_name: "Zhang".into(),
                company: "Fabrikam".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .lead
        .unwrap();
    claim(&harness, &ravi, &first.id).await.unwrap();

    let refused = claim(&harness, &ravi, &second.id).await.unwrap_err();

    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let (reason, metadata) = reason(&refused);
    assert_eq!(reason, "CLAIM_CAP_REACHED");
    assert_eq!(
        (metadata["claimed"].as_str(), metadata["cap"].as_str()),
        ("1", "1")
    );
    assert!(
        refused.get_error_details().retry_info().is_none(),
        "waiting does not lift a cap"
    );
}

#[tokio::test]
async fn a_web_form_over_its_rate_is_throttled_with_a_retry_delay() {
    let harness = Harness::start().await;
    let mei = user("manager", "/northwind/east");
    let form = harness
        .admin
        .clone()
        .create_web_form(harness.auth(
            &mei,
            pb::CreateWebFormRequest {
                name: "Contact us".into(),
                team_path: String::new(),
                rate_limit_per_minute: 1,
                campaign_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let submit = |email: &str| pb::SubmitWebFormRequest {
        form_key: form.form_key.clone(),
        lead: Some(pb::LeadInput {
            last_name: "Visitor".into(),
            email: email.into(),
            ..Default::default()
        }),
    };
    let mut forms = harness.forms.clone();
    forms
        .submit_web_form(submit("a@fabrikam.com"))
        .await
        .unwrap();

    let limited = forms
        .submit_web_form(submit("b@fabrikam.com"))
        .await
        .unwrap_err();

    assert_eq!(limited.code(), Code::ResourceExhausted);
    assert_eq!(reason(&limited).0, "FORM_RATE_LIMITED");
    let delay = limited
        .get_error_details()
        .retry_info()
        .and_then(|info| info.retry_delay)
        .expect("a retry delay");
    assert!(
        delay >= Duration::from_secs(1) && delay <= Duration::from_secs(60),
        "{delay:?}"
    );
}
