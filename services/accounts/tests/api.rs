//! The accounts API over a real tonic client, against real PostgreSQL and NATS.

use std::time::Duration;

use crm_platform::{auth::Caller, events::headers};
use crm_proto::crm::{
    accounts::v1::{self as pb, account_service_client::AccountServiceClient},
    common::v1::{CompanySize, PageRequest, SortDirection},
};
use crm_test_support::{TestApp, authorized, eventually, user};
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt;

const EAST_1: &str = "/northwind/east/east-1";

struct Harness {
    app: TestApp,
    client: AccountServiceClient<Channel>,
}

impl Harness {
    async fn start() -> Self {
        let app = TestApp::spawn(&[crm_accounts::module()]).await;
        let client = AccountServiceClient::new(app.channel().await);
        Self { app, client }
    }

    async fn create(
        &self,
        caller: &Caller,
        input: pb::AccountInput,
    ) -> Result<pb::CreateAccountResponse, tonic::Status> {
        self.client
            .clone()
            .create_account(authorized(
                pb::CreateAccountRequest {
                    account: Some(input),
                    ..Default::default()
                },
                &self.app.token(caller),
            ))
            .await
            .map(|response| response.into_inner())
    }

    async fn create_named(&self, caller: &Caller, name: &str) -> pb::Account {
        self.create(
            caller,
            pb::AccountInput {
                name: name.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .account
        .unwrap()
    }

    async fn get(&self, caller: &Caller, id: &str) -> Result<pb::Account, tonic::Status> {
        self.client
            .clone()
            .get_account(authorized(
                pb::GetAccountRequest {
                    account_id: id.into(),
                },
                &self.app.token(caller),
            ))
            .await
            .map(|response| response.into_inner().account.unwrap())
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(self.app.pool("accounts"))
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn an_account_is_created_read_updated_and_archived() {
    let harness = Harness::start().await;
    let ravi = user("rep", EAST_1);
    let created = harness
        .create(
            &ravi,
            pb::AccountInput {
                name: "Contoso Ltd".into(),
                industry: "Manufacturing".into(),
                website: "https://www.contoso.cn".into(),
                phone: "+86 21 5555 0100".into(),
                tags: vec!["Expo".into()],
                custom_fields: [("erp_id".to_owned(), "C-100".to_owned())].into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .account
        .unwrap();
    assert_eq!(created.owner_id, ravi.user_id.to_string());
    assert_eq!(created.owner_team_path, "/northwind/east/east-1/");
    assert_eq!(created.phone, "+862155550100");
    assert_eq!(created.tags, vec!["expo"]);
    assert_eq!(created.version, 1);

    let read = harness.get(&ravi, &created.id).await.unwrap();
    assert_eq!(read, created);

    let updated = harness
        .client
        .clone()
        .update_account(authorized(
            pb::UpdateAccountRequest {
                account_id: created.id.clone(),
                patch: Some(pb::AccountPatch {
                    region: Some("East".into()),
                    size: Some(CompanySize::Large as i32),
                    ..Default::default()
                }),
                expected_version: 1,
            },
            &harness.app.token(&ravi),
        ))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    assert_eq!(updated.region, "East");
    assert_eq!(updated.version, 2);
    assert_eq!(updated.industry, "Manufacturing", "untouched fields stay");

    let archived = harness
        .client
        .clone()
        .archive_account(authorized(
            pb::ArchiveAccountRequest {
                account_id: created.id.clone(),
                expected_version: 2,
            },
            &harness.app.token(&ravi),
        ))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    assert_eq!(archived.status, pb::AccountStatus::Archived as i32);
    let listed = harness
        .client
        .clone()
        .list_accounts(authorized(
            pb::ListAccountsRequest::default(),
            &harness.app.token(&ravi),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        listed.accounts.is_empty(),
        "archived accounts leave the default listing"
    );
}

#[tokio::test]
async fn invalid_input_is_refused_with_field_violations_and_nothing_is_written() {
    let harness = Harness::start().await;
    let ravi = user("rep", EAST_1);
    let status = harness
        .create(
            &ravi,
            pb::AccountInput {
                name: String::new(),
                website: "not a website".into(),
                phone: "12".into(),
                parent_account_id: "not-a-uuid".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let details = status.get_error_details();
    let fields: Vec<String> = details
        .bad_request()
        .expect("field violations")
        .field_violations
        .iter()
        .map(|v| v.field.clone())
        .collect();
    for field in [
        "account.name",
        "account.website",
        "account.phone",
        "account.parent_account_id",
    ] {
        assert!(
            fields.iter().any(|f| f == field),
            "{field} missing in {fields:?}"
        );
    }
    // An unknown parent is refused for the data, naming the field (FAILED_PRECONDITION): its
    // id is of a valid form, and only the database knows it names nothing.
    let status = harness
        .create(
            &ravi,
            pb::AccountInput {
                name: "Orphan".into(),
                parent_account_id: uuid::Uuid::now_v7().to_string(),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(
        status
            .get_error_details()
            .bad_request()
            .unwrap()
            .field_violations[0]
            .field,
        "account.parent_account_id"
    );
    assert_eq!(harness.count("SELECT count(*) FROM accounts").await, 0);
    assert_eq!(harness.count("SELECT count(*) FROM outbox").await, 0);
}

#[tokio::test]
async fn calls_without_a_valid_token_are_unauthenticated() {
    let harness = Harness::start().await;
    let status = harness
        .client
        .clone()
        .list_accounts(pb::ListAccountsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let status = harness
        .client
        .clone()
        .list_accounts(authorized(
            pb::ListAccountsRequest::default(),
            "eyJhbGciOiJIUzI1NiJ9.e30.forged",
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn duplicates_are_reported_on_create_and_rejected_by_policy() {
    let harness = Harness::start().await;
    let ravi = user("rep", EAST_1);
    let original = harness
        .create(
            &ravi,
            pb::AccountInput {
                name: "Contoso Ltd.".into(),
                website: "contoso.cn".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .account
        .unwrap();

    let second = harness
        .create(
            &ravi,
            pb::AccountInput {
                name: "CONTOSO LTD".into(),
                website: "https://www.CONTOSO.cn/".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let candidate = &second.possible_duplicates[0];
    assert_eq!(candidate.id, original.id);
    assert!(candidate.score >= 70, "score {}", candidate.score);
    assert!(
        candidate
            .reasons
            .contains(&(pb::MatchReason::SameDomain as i32))
    );

    // Another rep's duplicate is reported without revealing it.
    let nora = user("rep", EAST_1);
    let status = harness
        .client
        .clone()
        .create_account(authorized(
            pb::CreateAccountRequest {
                account: Some(pb::AccountInput {
                    name: "Contoso Limited".into(),
                    website: "contoso.cn".into(),
                    ..Default::default()
                }),
                duplicate_policy: pb::DuplicatePolicy::Reject as i32,
                ..Default::default()
            },
            &harness.app.token(&nora),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert!(
        status.message().contains("owned by another team"),
        "{}",
        status.message()
    );
    assert!(!status.message().contains(&original.id));
    assert_eq!(harness.count("SELECT count(*) FROM accounts").await, 2);
}

#[tokio::test]
async fn merging_moves_contacts_and_children_and_keeps_an_audit() {
    let harness = Harness::start().await;
    let mei = user("manager", "/northwind/east");
    let survivor = harness
        .create(
            &mei,
            pb::AccountInput {
                name: "Contoso".into(),
                tags: vec!["key".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .account
        .unwrap();
    let duplicate = harness
        .create(
            &mei,
            pb::AccountInput {
                name: "Contoso Ltd.".into(),
                industry: "Manufacturing".into(),
                tags: vec!["expo".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .account
        .unwrap();
    let child = harness
        .create(
            &mei,
            pb::AccountInput {
                name: "Contoso Shanghai".into(),
                parent_account_id: duplicate.id.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .account
        .unwrap();
    let contact = harness
        .client
        .clone()
        .create_contact(authorized(
            pb::CreateContactRequest {
                contact: Some(pb::ContactInput {
                    account_id: duplicate.id.clone(),
                    full_name: "Li Wei".into(),
                    email: "li.wei@contoso.cn".into(),
                    buying_role: pb::BuyingRole::Champion as i32,
                    ..Default::default()
                }),
                ..Default::default()
            },
            &harness.app.token(&mei),
        ))
        .await
        .unwrap()
        .into_inner()
        .contact
        .unwrap();

    let merged = harness
        .client
        .clone()
        .merge_accounts(authorized(
            pb::MergeAccountsRequest {
                survivor_id: survivor.id.clone(),
                duplicate_id: duplicate.id.clone(),
            },
            &harness.app.token(&mei),
        ))
        .await
        .unwrap()
        .into_inner();
    let kept = merged.survivor.unwrap();
    assert_eq!(
        kept.industry, "Manufacturing",
        "empty survivor fields are filled"
    );
    assert_eq!(kept.name, "Contoso", "survivor values stand");
    assert_eq!(kept.tags, vec!["key", "expo"]);
    assert_eq!((merged.contacts_moved, merged.child_accounts_moved), (1, 1));

    let moved_contact = harness
        .client
        .clone()
        .get_contact(authorized(
            pb::GetContactRequest {
                contact_id: contact.id.clone(),
            },
            &harness.app.token(&mei),
        ))
        .await
        .unwrap()
        .into_inner()
        .contact
        .unwrap();
    assert_eq!(moved_contact.account_id, survivor.id);
    assert_eq!(
        harness
            .get(&mei, &child.id)
            .await
            .unwrap()
            .parent_account_id,
        survivor.id
    );
    let retired = harness.get(&mei, &duplicate.id).await.unwrap();
    assert_eq!(retired.status, pb::AccountStatus::Merged as i32);
    assert_eq!(retired.merged_into_account_id, survivor.id);
    assert_eq!(
        harness
            .count("SELECT count(*) FROM merges WHERE kind = 'account'")
            .await,
        1
    );

    // Merging again is refused: the duplicate is gone.
    let status = harness
        .client
        .clone()
        .merge_accounts(authorized(
            pb::MergeAccountsRequest {
                survivor_id: survivor.id.clone(),
                duplicate_id: duplicate.id.clone(),
            },
            &harness.app.token(&mei),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn each_role_sees_exactly_its_own_team_or_everything() {
    let harness = Harness::start().await;
    let ravi = user("rep", EAST_1);
    let nora = user("rep", EAST_1);
    let wes = user("rep", "/northwind/west/west-1");
    let mei = user("manager", "/northwind/east");
    let ada = user("admin", "/northwind");
    let ravis = harness.create_named(&ravi, "Contoso").await;
    let noras = harness.create_named(&nora, "Fabrikam").await;
    let wes_s = harness.create_named(&wes, "Initech").await;

    let names = |caller: Caller| {
        let harness = &harness;
        async move {
            let mut names: Vec<String> = harness
                .client
                .clone()
                .list_accounts(authorized(
                    pb::ListAccountsRequest::default(),
                    &harness.app.token(&caller),
                ))
                .await
                .unwrap()
                .into_inner()
                .accounts
                .into_iter()
                .map(|a| a.name)
                .collect();
            names.sort();
            names
        }
    };
    assert_eq!(names(ravi.clone()).await, vec!["Contoso"]);
    assert_eq!(names(mei.clone()).await, vec!["Contoso", "Fabrikam"]);
    assert_eq!(
        names(ada.clone()).await,
        vec!["Contoso", "Fabrikam", "Initech"]
    );
    assert_eq!(names(wes.clone()).await, vec!["Initech"]);

    // Reading or changing a record out of reach looks like it does not exist.
    assert_eq!(
        harness.get(&nora, &ravis.id).await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(
        harness.get(&mei, &wes_s.id).await.unwrap_err().code(),
        Code::NotFound
    );
    assert!(harness.get(&mei, &noras.id).await.is_ok());
    let status = harness
        .client
        .clone()
        .update_account(authorized(
            pb::UpdateAccountRequest {
                account_id: ravis.id.clone(),
                patch: Some(pb::AccountPatch {
                    name: Some("Mine now".into()),
                    ..Default::default()
                }),
                expected_version: 0,
            },
            &harness.app.token(&wes),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    // A rep may not give an account away; a manager may, within the team.
    let status = harness
        .client
        .clone()
        .update_account(authorized(
            pb::UpdateAccountRequest {
                account_id: ravis.id.clone(),
                patch: Some(pb::AccountPatch {
                    owner_id: Some(nora.user_id.to_string()),
                    ..Default::default()
                }),
                expected_version: 0,
            },
            &harness.app.token(&ravi),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let reassigned = harness
        .client
        .clone()
        .update_account(authorized(
            pb::UpdateAccountRequest {
                account_id: ravis.id.clone(),
                patch: Some(pb::AccountPatch {
                    owner_id: Some(nora.user_id.to_string()),
                    ..Default::default()
                }),
                expected_version: 0,
            },
            &harness.app.token(&mei),
        ))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    assert_eq!(reassigned.owner_id, nora.user_id.to_string());
    assert_eq!(names(nora).await, vec!["Contoso", "Fabrikam"]);
}

#[tokio::test]
async fn listing_pages_through_every_account_once_in_sort_order() {
    let harness = Harness::start().await;
    let ada = user("admin", "/northwind");
    let mut expected = Vec::new();
    for name in [
        "Delta", "alpha", "Echo", "Charlie", "Bravo", "Golf", "Foxtrot",
    ] {
        harness.create_named(&ada, name).await;
        expected.push(name.to_owned());
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let response = harness
            .client
            .clone()
            .list_accounts(authorized(
                pb::ListAccountsRequest {
                    page: Some(PageRequest {
                        page_size: 3,
                        page_token: token.clone(),
                    }),
                    sort_by: pb::AccountSortField::Name as i32,
                    sort_direction: SortDirection::Descending as i32,
                    ..Default::default()
                },
                &harness.app.token(&ada),
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(response.accounts.len() <= 3);
        seen.extend(response.accounts.into_iter().map(|a| a.name));
        token = response.page.unwrap().next_page_token;
        if token.is_empty() {
            break;
        }
    }
    let database_order: Vec<String> =
        sqlx::query_scalar("SELECT name FROM accounts ORDER BY name DESC, id DESC")
            .fetch_all(harness.app.pool("accounts"))
            .await
            .unwrap();
    assert_eq!(seen, database_order);
    assert_eq!(seen.len(), expected.len());

    let filtered = harness
        .client
        .clone()
        .list_accounts(authorized(
            pb::ListAccountsRequest {
                name_contains: "o".into(),
                ..Default::default()
            },
            &harness.app.token(&ada),
        ))
        .await
        .unwrap()
        .into_inner();
    let mut names: Vec<String> = filtered.accounts.into_iter().map(|a| a.name).collect();
    names.sort();
    assert_eq!(names, vec!["Bravo", "Echo", "Foxtrot", "Golf"]);
}

#[tokio::test]
async fn a_stale_version_is_refused_and_a_retried_create_returns_the_first_result() {
    let harness = Harness::start().await;
    let ravi = user("rep", EAST_1);
    let account = harness.create_named(&ravi, "Contoso").await;
    let update = |version: u64| pb::UpdateAccountRequest {
        account_id: account.id.clone(),
        patch: Some(pb::AccountPatch {
            industry: Some(format!("v{version}")),
            ..Default::default()
        }),
        expected_version: version,
    };
    let mut client = harness.client.clone();
    client
        .update_account(authorized(update(1), &harness.app.token(&ravi)))
        .await
        .unwrap();
    let status = client
        .update_account(authorized(update(1), &harness.app.token(&ravi)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Aborted);

    let id = uuid::Uuid::now_v7().to_string();
    let request = || pb::CreateAccountRequest {
        account: Some(pb::AccountInput {
            name: "Fabrikam".into(),
            ..Default::default()
        }),
        account_id: id.clone(),
        ..Default::default()
    };
    let first = client
        .create_account(authorized(request(), &harness.app.token(&ravi)))
        .await
        .unwrap()
        .into_inner();
    let retry = client
        .create_account(authorized(request(), &harness.app.token(&ravi)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.account, retry.account);
    assert_eq!(
        harness
            .count(&format!(
                "SELECT count(*) FROM outbox WHERE aggregate_id = '{id}'"
            ))
            .await,
        1,
        "one event for one account"
    );
}

#[tokio::test]
async fn contacts_are_validated_deduplicated_and_listed_per_account() {
    let harness = Harness::start().await;
    let ravi = user("rep", EAST_1);
    let account = harness.create_named(&ravi, "Contoso").await;
    let mut client = harness.client.clone();
    let create = |email: &str, name: &str, policy: pb::DuplicatePolicy| pb::CreateContactRequest {
        contact: Some(pb::ContactInput {
            account_id: account.id.clone(),
            full_name: name.into(),
            email: email.into(),
            title: "CFO".into(),
            important_dates: vec![pb::ImportantDate {
                kind: pb::ImportantDateKind::Birthday as i32,
                date: "--03-14".into(),
                label: String::new(),
            }],
            ..Default::default()
        }),
        duplicate_policy: policy as i32,
        ..Default::default()
    };
    let zhang = client
        .create_contact(authorized(
            create("zhang@contoso.cn", "Zhang Wei", pb::DuplicatePolicy::Report),
            &harness.app.token(&ravi),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(zhang.possible_duplicates.is_empty());
    let contact = zhang.contact.unwrap();
    assert_eq!(
        contact.owner_id,
        ravi.user_id.to_string(),
        "a contact belongs to the account's owner"
    );

    let status = client
        .create_contact(authorized(
            create("ZHANG@Contoso.cn", "W. Zhang", pb::DuplicatePolicy::Reject),
            &harness.app.token(&ravi),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);

    let status = client
        .create_contact(authorized(
            create("zhang@", "Zhang", pb::DuplicatePolicy::Report),
            &harness.app.token(&ravi),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status
            .get_error_details()
            .bad_request()
            .unwrap()
            .field_violations[0]
            .field,
        "contact.email"
    );

    let listed = client
        .list_contacts(authorized(
            pb::ListContactsRequest {
                account_id: account.id.clone(),
                ..Default::default()
            },
            &harness.app.token(&ravi),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.contacts.len(), 1);
    assert_eq!(listed.contacts[0].important_dates[0].date, "--03-14");
}

#[tokio::test]
async fn every_change_is_published_as_an_event_in_order() {
    let harness = Harness::start().await;
    let ravi = user("rep", EAST_1);
    let account = harness.create_named(&ravi, "Contoso").await;
    harness
        .client
        .clone()
        .update_account(authorized(
            pb::UpdateAccountRequest {
                account_id: account.id.clone(),
                patch: Some(pb::AccountPatch {
                    industry: Some("Retail".into()),
                    ..Default::default()
                }),
                expected_version: 0,
            },
            &harness.app.token(&ravi),
        ))
        .await
        .unwrap();
    harness
        .client
        .clone()
        .archive_account(authorized(
            pb::ArchiveAccountRequest {
                account_id: account.id.clone(),
                expected_version: 0,
            },
            &harness.app.token(&ravi),
        ))
        .await
        .unwrap();

    let context = harness.app.services.context("accounts").unwrap();
    let stream_name = context.naming.stream("accounts");
    let jetstream = context.jetstream.clone();
    eventually(
        Duration::from_secs(10),
        "three events in the stream",
        || {
            let jetstream = jetstream.clone();
            let stream_name = stream_name.clone();
            async move {
                match jetstream.get_stream(&stream_name).await {
                    Ok(mut stream) => stream
                        .info()
                        .await
                        .map(|info| info.state.messages == 3)
                        .unwrap_or(false),
                    Err(_) => false,
                }
            }
        },
    )
    .await;
    let stream = jetstream.get_stream(&stream_name).await.unwrap();
    let mut types = Vec::new();
    for sequence in 1..=3 {
        let message = stream.get_raw_message(sequence).await.unwrap();
        assert_eq!(
            message.headers.get(headers::AGGREGATE_ID).unwrap().as_str(),
            account.id
        );
        assert_eq!(
            message
                .headers
                .get(headers::AGGREGATE_VERSION)
                .unwrap()
                .as_str(),
            sequence.to_string()
        );
        types.push(
            message
                .headers
                .get(headers::EVENT_TYPE)
                .unwrap()
                .as_str()
                .to_owned(),
        );
        if sequence == 2 {
            let event: pb::AccountUpdated = prost::Message::decode(message.payload).unwrap();
            assert_eq!(event.changed_fields, vec!["industry"]);
            assert_eq!(event.account.unwrap().industry, "Retail");
        }
    }
    assert_eq!(
        types,
        vec![
            "crm.accounts.v1.AccountCreated",
            "crm.accounts.v1.AccountUpdated",
            "crm.accounts.v1.AccountArchived"
        ]
    );
    let _ = jetstream.delete_stream(&stream_name).await;
}

#[tokio::test]
async fn metrics_count_calls_per_method_and_status() {
    let harness = Harness::start().await;
    let ravi = user("rep", EAST_1);
    harness.create_named(&ravi, "Contoso").await;
    let _ = harness.get(&ravi, &uuid::Uuid::now_v7().to_string()).await;
    let addr = harness.app.services.metrics_addr().unwrap();
    let text = http_get(addr, "/metrics").await;
    assert!(
        text.contains(r#"crm_grpc_server_requests_total{service="crm.accounts.v1.AccountService",method="CreateAccount",code="Ok"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"crm_grpc_server_errors_total{service="crm.accounts.v1.AccountService",method="GetAccount",code="NotFound"} 1"#),
        "{text}"
    );
    assert!(text.contains("crm_grpc_server_duration_seconds_bucket"));
}

#[tokio::test]
async fn graceful_shutdown_completes_an_in_flight_call() {
    let mut harness = Harness::start().await;
    let ravi = user("rep", EAST_1);
    // Hold a lock that makes the next create wait inside its transaction.
    let mut blocker = harness.app.test_pool("accounts").begin().await.unwrap();
    sqlx::query("LOCK TABLE org_users IN EXCLUSIVE MODE")
        .execute(&mut *blocker)
        .await
        .unwrap();
    let in_flight = {
        let mut client = harness.client.clone();
        let token = harness.app.token(&ravi);
        tokio::spawn(async move {
            client
                .create_account(authorized(
                    pb::CreateAccountRequest {
                        account: Some(pb::AccountInput {
                            name: "Contoso".into(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    },
                    &token,
                ))
                .await
        })
    };
    let pool = harness.app.test_pool("accounts").clone();
    eventually(Duration::from_secs(5), "the create waits on the lock", || {
        let pool = pool.clone();
        async move {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            waiting > 0
        }
    })
    .await;

    let grpc_addr = harness.app.services.grpc_addr();
    let trigger = harness.app.services.shutdown_trigger();
    trigger.cancel();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Stopped accepting: a new connection is refused while the old call still runs.
    assert!(tokio::net::TcpStream::connect(grpc_addr).await.is_err());
    assert!(!in_flight.is_finished());

    blocker.commit().await.unwrap();
    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight call completes");
    assert_eq!(response.into_inner().account.unwrap().name, "Contoso");
    tokio::time::timeout(Duration::from_secs(10), harness.app.services.wait())
        .await
        .expect("server stops after draining")
        .unwrap();
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}
