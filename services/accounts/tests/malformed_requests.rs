//! Requests the kit refuses the same way in every service: ids and page tokens.

use crm_proto::crm::{
    accounts::v1::{self as pb, account_service_client::AccountServiceClient},
    common::v1::PageRequest,
};
use crm_test_support::{TestApp, authorized, user};
use tonic::Code;
use tonic_types::StatusExt;

/// The field and description of a refusal's one field violation.
fn violation(status: &tonic::Status) -> (String, String) {
    let details = status.get_error_details();
    let violation = &details
        .bad_request()
        .expect("bad request details")
        .field_violations[0];
    (violation.field.clone(), violation.description.clone())
}

#[tokio::test]
async fn an_empty_id_and_a_malformed_one_get_the_same_answer() {
    let app = TestApp::spawn(&[crm_accounts::module()]).await;
    let mut client = AccountServiceClient::new(app.channel().await);
    let token = app.token(&user("rep", "/northwind/east/east-1"));
    let mut answers = Vec::new();
    for id in ["", "  ", "acc-1"] {
        let status = client
            .get_account(authorized(
                pb::GetAccountRequest {
                    account_id: id.into(),
                },
                &token,
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{id:?}");
        answers.push(violation(&status));
    }
    assert_eq!(answers[0].0, "account_id");
    assert!(
        answers.iter().all(|answer| *answer == answers[0]),
        "{answers:?}"
    );
}

/// A token whose key is not of its column's kind was read as 1970 (or 0) and listed the first
/// page again; it is refused.
#[tokio::test]
async fn a_page_token_with_a_forged_key_is_refused_not_read_as_a_default() {
    let app = TestApp::spawn(&[crm_accounts::module()]).await;
    let mut client = AccountServiceClient::new(app.channel().await);
    let ada = user("admin", "/northwind");
    let token = app.token(&ada);
    for name in ["Contoso", "Fabrikam", "Northwind Traders"] {
        client
            .create_account(authorized(
                pb::CreateAccountRequest {
                    account: Some(pb::AccountInput {
                        name: name.into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                &token,
            ))
            .await
            .unwrap();
    }
    let list = |page_token: String| pb::ListAccountsRequest {
        page: Some(PageRequest {
            page_size: 1,
            page_token,
        }),
        ..Default::default()
    };
    let next = client
        .list_accounts(authorized(list(String::new()), &token))
        .await
        .unwrap()
        .into_inner()
        .page
        .unwrap()
        .next_page_token;
    assert!(!next.is_empty());
    // The same token with its sort key (a creation time) replaced by text.
    let json = String::from_utf8(
        (0..next.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&next[i..i + 2], 16).unwrap())
            .collect(),
    )
    .unwrap();
    let mut cursor: serde_json::Value = serde_json::from_str(&json).unwrap();
    cursor["k"] = "last tuesday".into();
    let forged: String = serde_json::to_vec(&cursor)
        .unwrap()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let status = client
        .list_accounts(authorized(list(forged), &token))
        .await
        .unwrap_err();
    // Of a token's form, not one the listing made: refused for the data (FAILED_PRECONDITION).
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(violation(&status).0, "page.page_token");
}

/// PostgreSQL refuses NUL in text, so a NUL in a name was INTERNAL; the kit refuses every
/// control character in every request's text as it is decoded, naming the field.
#[tokio::test]
async fn a_control_character_in_a_name_is_invalid_argument_naming_the_field() {
    let app = TestApp::spawn(&[crm_accounts::module()]).await;
    let mut client = AccountServiceClient::new(app.channel().await);
    let token = app.token(&user("rep", "/northwind/east/east-1"));
    let create = |name: &str| {
        authorized(
            pb::CreateAccountRequest {
                account: Some(pb::AccountInput {
                    name: name.into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            &token,
        )
    };
    for name in ["x\u{0}y", "x\u{1b}y", "x\u{85}y", "two\nlines"] {
        let status = client.create_account(create(name)).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{name:?}: {status:?}");
        let (field, description) = violation(&status);
        assert_eq!(field, "account.name", "{name:?}");
        assert!(description.contains("control characters"), "{description}");
    }
    let status = client
        .list_accounts(authorized(
            pb::ListAccountsRequest {
                name_contains: "a\u{0}b".into(),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violation(&status).0, "name_contains");
    // Text that is allowed still goes through.
    client
        .create_account(create("Contoso (中国) «Ltd» \u{a0}"))
        .await
        .unwrap();
}
