//! How requests are read: ids, page tokens and team paths through the platform kit, so every
//! service answers a malformed request the same way.

mod support;

use crm_proto::crm::{common::v1::PageRequest, leads::v1 as pb};
use crm_test_support::user;
use support::{Harness, li_wei};
use tonic::Code;
use tonic_types::StatusExt;

/// The field and description of the one violation a refusal carries.
fn violation(status: &tonic::Status) -> (String, String) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let details = status.get_error_details();
    let violations = &details
        .bad_request()
        .expect("field violations")
        .field_violations;
    assert_eq!(violations.len(), 1, "{violations:?}");
    (
        violations[0].field.clone(),
        violations[0].description.clone(),
    )
}

#[tokio::test]
async fn an_empty_lead_id_gets_the_same_answer_as_a_malformed_one() {
    let harness = Harness::start().await;
    let ada = user("admin", "/northwind");
    let empty = harness.lead(&ada, "").await.unwrap_err();
    let malformed = harness.lead(&ada, "lead-1").await.unwrap_err();
    assert_eq!(violation(&empty), violation(&malformed));
    assert_eq!(violation(&empty).0, "lead_id");
    assert_eq!(violation(&empty).1, crm_platform::ids::ID_MESSAGE);
}

/// A token in the listing's own format whose key does not parse as the sort column's kind:
/// it used to be read as 1970 (or 0) and the listing started over silently.
#[tokio::test]
async fn a_page_token_whose_key_is_not_of_the_sort_columns_kind_is_refused() {
    let harness = Harness::start().await;
    let ada = user("admin", "/northwind");
    harness.create(&ada, li_wei()).await.unwrap();
    let list = |page_token: String| {
        let mut client = harness.leads.clone();
        let request = harness.auth(
            &ada,
            pb::ListLeadsRequest {
                page: Some(PageRequest {
                    page_size: 1,
                    page_token,
                }),
                ..Default::default()
            },
        );
        async move { client.list_leads(request).await }
    };
    // A real token of this listing is taken.
    harness
        .create(
            &ada,
            pb::LeadInput {
                email: "a@b.cn".into(),
                ..li_wei()
            },
        )
        .await
        .unwrap();
    let first = list(String::new()).await.unwrap().into_inner();
    let token = first.page.unwrap().next_page_token;
    assert!(!token.is_empty());
    assert_eq!(list(token).await.unwrap().into_inner().leads.len(), 1);

    let forged = format!(
        r#"{{"k":"yesterday","i":"{}","s":"created_at:asc"}}"#,
        uuid::Uuid::now_v7()
    );
    let forged: String = forged.bytes().map(|byte| format!("{byte:02x}")).collect();
    // Of a token's form (hexadecimal), but not one the listing made: refused for what it
    // names (FAILED_PRECONDITION), like an id of no record; not of the form: invalid.
    let status = list(forged).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert_eq!(
        status.get_error_details().error_info().unwrap().reason,
        "PAGE_TOKEN_NOT_RECOGNISED"
    );
    let status = list("not a token".into()).await.unwrap_err();
    assert_eq!(violation(&status).0, "page.page_token");
}

/// Team paths are compared as paths: a pool stored without its trailing slash (as rows from
/// before team paths were normalised are) is not worked by a team whose name merely starts
/// the same way.
#[tokio::test]
async fn a_pool_is_not_worked_by_a_team_whose_name_only_starts_like_it() {
    let harness = Harness::start().await;
    let east_manager = user("manager", "/northwind/east");
    let lead = harness
        .create(&east_manager, li_wei())
        .await
        .unwrap()
        .lead
        .unwrap();
    assert_eq!(lead.pool_team_path, "/northwind/east/");
    sqlx::query("UPDATE leads SET pool_team_path = '/northwind/east' WHERE id = $1")
        .bind(uuid::Uuid::parse_str(&lead.id).unwrap())
        .execute(harness.app.pool("leads"))
        .await
        .unwrap();
    let eastern = user("rep", "/northwind/eastern");
    let claim = |caller: &crm_platform::auth::Caller| {
        let mut client = harness.leads.clone();
        let request = harness.auth(
            caller,
            pb::ClaimLeadRequest {
                lead_id: lead.id.clone(),
            },
        );
        async move { client.claim_lead(request).await }
    };
    assert_eq!(claim(&eastern).await.unwrap_err().code(), Code::NotFound);
    assert_eq!(
        harness.lead(&eastern, &lead.id).await.unwrap_err().code(),
        Code::NotFound
    );
    // The east rep still works it.
    let east_rep = user("rep", "/northwind/east/east-1");
    let claimed = claim(&east_rep).await.unwrap().into_inner().lead.unwrap();
    assert_eq!(claimed.owner_id, east_rep.user_id.to_string());
}

/// PostgreSQL refuses NUL in text: a NUL in a lead was a 500. The kit refuses every control
/// character in every request's text as the request is decoded, naming the field.
#[tokio::test]
async fn a_control_character_in_a_leads_text_is_refused_naming_the_field() {
    let harness = Harness::start().await;
    let ada = user("admin", "/northwind");
    let status = harness
        .create(
            &ada,
            pb::LeadInput {
                first_name: "x\u{0}y".into(),
                ..li_wei()
            },
        )
        .await
        .unwrap_err();
    let (field, description) = violation(&status);
    assert_eq!(field, "lead.first_name");
    assert!(description.contains("U+0000"), "{description}");
    // A line break is a control character too where the field is one line.
    let status = harness
        .create(
            &ada,
            pb::LeadInput {
                company: "Contoso\nLtd".into(),
                ..li_wei()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(violation(&status).0, "lead.company");
    assert_eq!(
        harness.count("leads", "SELECT count(*) FROM leads").await,
        0
    );
}

/// A note may hold several lines (`multiline` in the proto), but no other control character;
/// a release reason likewise.
#[tokio::test]
async fn a_multiline_field_takes_line_breaks_and_refuses_other_control_characters() {
    let harness = Harness::start().await;
    // A rep's own capture is theirs to work.
    let ravi = user("rep", support::EAST_1);
    let lead = harness.create(&ravi, li_wei()).await.unwrap().lead.unwrap();
    let log = |note: &str| {
        let mut client = harness.leads.clone();
        let request = harness.auth(
            &ravi,
            pb::LogLeadActivityRequest {
                lead_id: lead.id.clone(),
                kind: pb::ActivityKind::Call as i32,
                note: note.into(),
            },
        );
        async move { client.log_lead_activity(request).await }
    };
    log("called twice:\n\tno answer\r\n").await.unwrap();
    let status = log("a\u{0}b").await.unwrap_err();
    assert_eq!(violation(&status).0, "note");
    let status = log("bell\u{7}").await.unwrap_err();
    assert_eq!(violation(&status).0, "note");

    let status = harness
        .leads
        .clone()
        .release_lead(harness.auth(
            &ravi,
            pb::ReleaseLeadRequest {
                lead_id: lead.id.clone(),
                reason: "gone\u{0}".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violation(&status).0, "reason");
}
