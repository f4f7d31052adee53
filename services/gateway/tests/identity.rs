//! Organisation and authentication over real gRPC, PostgreSQL and NATS.

use std::time::Duration;

use crm_platform::events::headers;
use crm_proto::crm::{
    accounts::v1::{
        AccountInput, CreateAccountRequest, account_service_client::AccountServiceClient,
    },
    common::v1::LifecycleStage,
    gateway::v1::{
        self as pb, api_key_service_client::ApiKeyServiceClient,
        auth_service_client::AuthServiceClient, org_service_client::OrgServiceClient,
    },
};
use crm_test_support::{TestApp, authorized, eventually};
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt;

mod support;

use support::PASSWORD;

struct Org {
    app: TestApp,
    auth: AuthServiceClient<Channel>,
    org: OrgServiceClient<Channel>,
    keys: ApiKeyServiceClient<Channel>,
    admin_token: String,
    east: pb::Team,
    east_1: pb::Team,
    west: pb::Team,
}

async fn login(
    auth: &AuthServiceClient<Channel>,
    email: &str,
    password: &str,
) -> Result<pb::LoginResponse, tonic::Status> {
    auth.clone()
        .login(pb::LoginRequest {
            email: email.into(),
            password: password.into(),
        })
        .await
        .map(|r| r.into_inner())
}

impl Org {
    /// The suite with the gateway and accounts; Ada created as the first admin (as
    /// `crm create-admin` does), logged in, and the Northwind team tree built.
    async fn start() -> Self {
        Self::start_with(&[crm_gateway::module(), crm_accounts::module()]).await
    }

    async fn start_with(modules: &[crm_platform::host::ServiceModule]) -> Self {
        let app = TestApp::spawn(modules).await;
        let gateway = support::gateway(&app);
        // Spelled as a person might type it: stored normalised.
        let new = support::ada("Ada@Northwind.example");
        gateway
            .create_first_admin("northwind", "Northwind Industrial", new.clone())
            .await
            .unwrap();
        let again = gateway
            .create_first_admin("northwind", "Northwind Industrial", new)
            .await
            .unwrap_err();
        assert!(again.to_string().contains("an admin exists already"));

        let channel = app.channel().await;
        let auth = AuthServiceClient::new(channel.clone());
        let admin_token = login(&auth, "ada@northwind.example", PASSWORD)
            .await
            .unwrap()
            .tokens
            .unwrap()
            .access_token;
        let mut org = OrgServiceClient::new(channel.clone());
        let root = org
            .list_teams(authorized(pb::ListTeamsRequest {}, &admin_token))
            .await
            .unwrap()
            .into_inner()
            .teams
            .remove(0);
        let team = |slug: &str, parent: &str| {
            let request = authorized(
                pb::CreateTeamRequest {
                    slug: slug.into(),
                    name: slug.to_uppercase(),
                    parent_team_id: parent.into(),
                },
                &admin_token,
            );
            let mut org = org.clone();
            async move {
                org.create_team(request)
                    .await
                    .unwrap()
                    .into_inner()
                    .team
                    .unwrap()
            }
        };
        let east = team("east", &root.id).await;
        let east_1 = team("east-1", &east.id).await;
        let west = team("west", &root.id).await;
        Self {
            keys: ApiKeyServiceClient::new(channel),
            app,
            auth,
            org,
            admin_token,
            east,
            east_1,
            west,
        }
    }

    async fn create_user(
        &self,
        token: &str,
        email: &str,
        role: pb::Role,
        team: &pb::Team,
    ) -> Result<pb::User, tonic::Status> {
        self.org
            .clone()
            .create_user(authorized(
                pb::CreateUserRequest {
                    email: email.into(),
                    display_name: email.split('@').next().unwrap().into(),
                    role: role as i32,
                    team_id: team.id.clone(),
                    password: PASSWORD.into(),
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().user.unwrap())
    }

    async fn token_of(&self, email: &str) -> String {
        login(&self.auth, email, PASSWORD)
            .await
            .unwrap()
            .tokens
            .unwrap()
            .access_token
    }
}

#[tokio::test]
async fn a_team_tree_of_users_logs_in_and_managers_act_only_within_their_team() {
    let org = Org::start().await;
    assert_eq!(org.east_1.path, "/northwind/east/east-1/");
    let mei = org
        .create_user(
            &org.admin_token,
            "mei@northwind.example",
            pb::Role::Manager,
            &org.east,
        )
        .await
        .unwrap();
    let mei_token = org.token_of("mei@northwind.example").await;
    let ravi = org
        .create_user(
            &mei_token,
            "ravi@northwind.example",
            pb::Role::Rep,
            &org.east_1,
        )
        .await
        .unwrap();
    assert_eq!(ravi.team_path, "/northwind/east/east-1/");
    assert_eq!(ravi.stage, LifecycleStage::New as i32, "joined today");

    let status = org
        .create_user(
            &mei_token,
            "boss@northwind.example",
            pb::Role::Manager,
            &org.east_1,
        )
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::PermissionDenied,
        "managers create reps only"
    );
    let status = org
        .create_user(
            &mei_token,
            "wes@northwind.example",
            pb::Role::Rep,
            &org.west,
        )
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::PermissionDenied,
        "not outside her team"
    );
    let ravi_token = org.token_of("ravi@northwind.example").await;
    let status = org
        .create_user(
            &ravi_token,
            "x@northwind.example",
            pb::Role::Rep,
            &org.east_1,
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    let me = org
        .org
        .clone()
        .get_me(authorized(pb::GetMeRequest {}, &ravi_token))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(me.id, ravi.id);
    let seen_by_mei: Vec<String> = org
        .org
        .clone()
        .list_users(authorized(pb::ListUsersRequest::default(), &mei_token))
        .await
        .unwrap()
        .into_inner()
        .users
        .into_iter()
        .map(|user| user.email)
        .collect();
    assert_eq!(
        seen_by_mei,
        vec!["mei@northwind.example", "ravi@northwind.example"]
    );
    let _ = mei;

    // The token the gateway issued works on the accounts service, which verifies it itself.
    let mut accounts = AccountServiceClient::new(org.app.channel().await);
    let account = accounts
        .create_account(authorized(
            CreateAccountRequest {
                account: Some(AccountInput {
                    name: "Contoso Ltd".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            &ravi_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    assert_eq!(account.owner_id, ravi.id);
    assert_eq!(account.owner_team_path, "/northwind/east/east-1/");
}

#[tokio::test]
async fn bad_credentials_and_bad_input_are_refused_clearly() {
    let org = Org::start().await;
    org.create_user(
        &org.admin_token,
        "ravi@northwind.example",
        pb::Role::Rep,
        &org.east_1,
    )
    .await
    .unwrap();
    let wrong = login(
        &org.auth,
        "ravi@northwind.example",
        "not the password at all",
    )
    .await
    .unwrap_err();
    let unknown = login(&org.auth, "nobody@northwind.example", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(
        (wrong.code(), unknown.code()),
        (Code::Unauthenticated, Code::Unauthenticated)
    );
    assert_eq!(
        wrong.message(),
        unknown.message(),
        "no hint which emails exist"
    );

    let weak = org
        .org
        .clone()
        .create_user(authorized(
            pb::CreateUserRequest {
                email: "weak@northwind.example".into(),
                display_name: "Weak".into(),
                role: pb::Role::Rep as i32,
                team_id: org.east_1.id.clone(),
                password: "short".into(),
                ..Default::default()
            },
            &org.admin_token,
        ))
        .await
        .unwrap_err();
    // Guessable: a refusal by the password rules, which no schema states, naming the field.
    assert_eq!(weak.code(), Code::FailedPrecondition);
    let details = weak.get_error_details();
    assert_eq!(details.error_info().unwrap().reason, "WEAK_PASSWORD");
    let violation = &details.bad_request().unwrap().field_violations[0];
    assert_eq!(violation.field, "password");
    assert_eq!(violation.description, "must be at least 12 characters");
    let duplicate = org
        .create_user(
            &org.admin_token,
            "RAVI@northwind.example",
            pb::Role::Rep,
            &org.east_1,
        )
        .await
        .unwrap_err();
    assert_eq!(duplicate.code(), Code::AlreadyExists);
    let anonymous = org
        .org
        .clone()
        .get_me(pb::GetMeRequest {})
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_replayed_one_ends_the_session() {
    let org = Org::start().await;
    org.create_user(
        &org.admin_token,
        "ravi@northwind.example",
        pb::Role::Rep,
        &org.east_1,
    )
    .await
    .unwrap();
    let first = login(&org.auth, "ravi@northwind.example", PASSWORD)
        .await
        .unwrap()
        .tokens
        .unwrap();
    let refresh = |token: String| {
        let mut auth = org.auth.clone();
        async move {
            auth.refresh_token(pb::RefreshTokenRequest {
                refresh_token: token,
            })
            .await
            .map(|r| r.into_inner().tokens.unwrap())
        }
    };
    let second = refresh(first.refresh_token.clone()).await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    let third = refresh(second.refresh_token.clone()).await.unwrap();

    // The first token is replayed (stolen): the whole family stops working.
    assert_eq!(
        refresh(first.refresh_token.clone())
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );
    assert_eq!(
        refresh(third.refresh_token.clone())
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );

    // Logout ends a fresh session.
    let fresh = login(&org.auth, "ravi@northwind.example", PASSWORD)
        .await
        .unwrap()
        .tokens
        .unwrap();
    org.auth
        .clone()
        .logout(pb::LogoutRequest {
            refresh_token: fresh.refresh_token.clone(),
        })
        .await
        .unwrap();
    assert_eq!(
        refresh(fresh.refresh_token).await.unwrap_err().code(),
        Code::Unauthenticated
    );
}

#[tokio::test]
async fn a_disabled_user_cannot_log_in_or_refresh_and_moves_are_announced() {
    let org = Org::start().await;
    let ravi = org
        .create_user(
            &org.admin_token,
            "ravi@northwind.example",
            pb::Role::Rep,
            &org.east_1,
        )
        .await
        .unwrap();
    let session = login(&org.auth, "ravi@northwind.example", PASSWORD)
        .await
        .unwrap()
        .tokens
        .unwrap();
    let update = |changes: pb::UpdateUserRequest| {
        let mut client = org.org.clone();
        let request = authorized(changes, &org.admin_token);
        async move {
            client
                .update_user(request)
                .await
                .map(|r| r.into_inner().user.unwrap())
        }
    };
    let moved = update(pb::UpdateUserRequest {
        user_id: ravi.id.clone(),
        team_id: Some(org.west.id.clone()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(moved.team_path, "/northwind/west/");
    update(pb::UpdateUserRequest {
        user_id: ravi.id.clone(),
        active: Some(false),
        expected_version: moved.version,
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        login(&org.auth, "ravi@northwind.example", PASSWORD)
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );
    let refreshed = org
        .auth
        .clone()
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: session.refresh_token,
        })
        .await;
    assert_eq!(refreshed.unwrap_err().code(), Code::Unauthenticated);

    // Team events for the tree, user events for creation, the move and the deactivation.
    let context = org.app.services.context("gateway").unwrap();
    let (jetstream, stream_name) = (context.jetstream.clone(), context.naming.stream("gateway"));
    eventually(Duration::from_secs(10), "org events published", || {
        let (jetstream, stream_name) = (jetstream.clone(), stream_name.clone());
        async move {
            match jetstream.get_stream(&stream_name).await {
                Ok(mut stream) => stream
                    .info()
                    .await
                    .map(|info| info.state.messages == 8)
                    .unwrap_or(false),
                Err(_) => false,
            }
        }
    })
    .await;
    let stream = jetstream.get_stream(&stream_name).await.unwrap();
    let mut found_move = false;
    // 4 teams, Ada and Ravi created, Ravi moved, Ravi disabled.
    for sequence in 1..=8 {
        let message = stream.get_raw_message(sequence).await.unwrap();
        if message.headers.get(headers::EVENT_TYPE).unwrap().as_str()
            == "crm.gateway.v1.UserUpdated"
        {
            let event: pb::UserUpdated = prost::Message::decode(message.payload).unwrap();
            if event.changed_fields.contains(&"team".to_owned()) {
                assert_eq!(event.previous_team_path, "/northwind/east/east-1/");
                assert_eq!(event.user.unwrap().team_path, "/northwind/west/");
                found_move = true;
            }
        }
    }
    assert!(found_move, "the move is announced with the previous team");
    let _ = jetstream.delete_stream(&stream_name).await;
}

#[tokio::test]
async fn an_api_key_is_exchanged_for_a_token_until_it_is_revoked() {
    let org = Org::start().await;
    let ravi = org
        .create_user(
            &org.admin_token,
            "ravi@northwind.example",
            pb::Role::Rep,
            &org.east_1,
        )
        .await
        .unwrap();
    let ravi_token = org.token_of("ravi@northwind.example").await;
    let created = org
        .keys
        .clone()
        .create_api_key(authorized(
            pb::CreateApiKeyRequest {
                name: "ERP sync".into(),
                scopes: vec!["read".into()],
                ..Default::default()
            },
            &ravi_token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        created.api_key.starts_with("crm_") && created.key.as_ref().unwrap().prefix.len() == 12
    );
    let exchanged = org
        .auth
        .clone()
        .exchange_api_key(pb::ExchangeApiKeyRequest {
            api_key: created.api_key.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(exchanged.scopes, vec!["read"]);
    let me = org
        .org
        .clone()
        .get_me(authorized(pb::GetMeRequest {}, &exchanged.access_token))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(me.id, ravi.id);

    let listed = org
        .keys
        .clone()
        .list_api_keys(authorized(pb::ListApiKeysRequest {}, &ravi_token))
        .await
        .unwrap()
        .into_inner()
        .keys;
    assert!(listed[0].last_used_at.is_some());
    org.keys
        .clone()
        .revoke_api_key(authorized(
            pb::RevokeApiKeyRequest {
                api_key_id: listed[0].id.clone(),
            },
            &ravi_token,
        ))
        .await
        .unwrap();
    let status = org
        .auth
        .clone()
        .exchange_api_key(pb::ExchangeApiKeyRequest {
            api_key: created.api_key,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let bad_scope = org
        .keys
        .clone()
        .create_api_key(authorized(
            pb::CreateApiKeyRequest {
                name: "x".into(),
                scopes: vec!["admin".into()],
                ..Default::default()
            },
            &ravi_token,
        ))
        .await
        .unwrap_err();
    assert_eq!(bad_scope.code(), Code::InvalidArgument);
}

/// An API key's token may call what its scopes cover, in every service (each checks itself):
/// `read` the methods declared NO_SIDE_EFFECTS, `write` the others.
#[tokio::test]
async fn an_api_keys_scopes_limit_its_token_in_every_service() {
    use crm_proto::crm::{
        accounts::v1::GetAccountRequest,
        leads::v1::{
            CreateLeadRequest, LeadInput, ListLeadsRequest, lead_service_client::LeadServiceClient,
        },
    };
    let org = Org::start_with(&[
        crm_gateway::module(),
        crm_accounts::module(),
        crm_leads::module(),
    ])
    .await;
    org.create_user(
        &org.admin_token,
        "ravi@northwind.example",
        pb::Role::Rep,
        &org.east_1,
    )
    .await
    .unwrap();
    let ravi_token = org.token_of("ravi@northwind.example").await;
    let channel = org.app.channel().await;
    let accounts = AccountServiceClient::new(channel.clone());
    let leads = LeadServiceClient::new(channel);
    let key_token = |scopes: &[&str]| {
        let request = authorized(
            pb::CreateApiKeyRequest {
                name: format!("integration {}", scopes.join("+")),
                scopes: scopes.iter().map(|scope| scope.to_string()).collect(),
                ..Default::default()
            },
            &ravi_token,
        );
        let (mut keys, mut auth) = (org.keys.clone(), org.auth.clone());
        async move {
            let api_key = keys
                .create_api_key(request)
                .await
                .unwrap()
                .into_inner()
                .api_key;
            let exchanged = auth
                .exchange_api_key(pb::ExchangeApiKeyRequest {
                    api_key: api_key.clone(),
                })
                .await
                .unwrap()
                .into_inner();
            (api_key, exchanged)
        }
    };
    let create_account = |token: &str, name: &str| {
        let request = authorized(
            CreateAccountRequest {
                account: Some(AccountInput {
                    name: name.into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            token,
        );
        let mut accounts = accounts.clone();
        async move {
            accounts
                .create_account(request)
                .await
                .map(|response| response.into_inner().account.unwrap().id)
        }
    };
    let get_account = |token: &str, id: &str| {
        let request = authorized(
            GetAccountRequest {
                account_id: id.into(),
            },
            token,
        );
        let mut accounts = accounts.clone();
        async move { accounts.get_account(request).await.map(|_| ()) }
    };
    let create_lead = |token: &str, company: &str| {
        let request = authorized(
            CreateLeadRequest {
                lead: Some(LeadInput {
                    last_name: "Li".into(),
                    company: company.into(),
                    ..Default::default()
                }),
                lead_id: String::new(),
            },
            token,
        );
        let mut leads = leads.clone();
        async move { leads.create_lead(request).await.map(|_| ()) }
    };
    let list_leads = |token: &str| {
        let request = authorized(ListLeadsRequest::default(), token);
        let mut leads = leads.clone();
        async move { leads.list_leads(request).await.map(|_| ()) }
    };
    let account = create_account(&ravi_token, "Contoso Ltd").await.unwrap();

    // read: the reads of every service, none of the writes.
    let (read_key, read) = key_token(&["read"]).await;
    assert_eq!(read.scopes, vec!["read"]);
    get_account(&read.access_token, &account).await.unwrap();
    list_leads(&read.access_token).await.unwrap();
    let me = org
        .org
        .clone()
        .get_me(authorized(pb::GetMeRequest {}, &read.access_token))
        .await
        .unwrap();
    assert_eq!(
        me.into_inner().user.unwrap().email,
        "ravi@northwind.example"
    );
    for refused in [
        create_account(&read.access_token, "Fabrikam")
            .await
            .map(|_| ()),
        create_lead(&read.access_token, "Fabrikam").await,
    ] {
        let status = refused.unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied);
        assert!(
            status.message().contains("lacks the \"write\" scope"),
            "names the missing scope: {}",
            status.message()
        );
    }

    // read write: both.
    let (_, read_write) = key_token(&["write", "read"]).await;
    assert_eq!(read_write.scopes, vec!["read", "write"]);
    get_account(&read_write.access_token, &account)
        .await
        .unwrap();
    list_leads(&read_write.access_token).await.unwrap();
    create_account(&read_write.access_token, "Fabrikam Industrial")
        .await
        .unwrap();
    create_lead(&read_write.access_token, "Fabrikam Industrial")
        .await
        .unwrap();

    // write alone does not read (a capture-only integration).
    let (_, write) = key_token(&["write"]).await;
    create_lead(&write.access_token, "Northwind Traders")
        .await
        .unwrap();
    let status = list_leads(&write.access_token).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(
        status.message().contains("\"read\" scope"),
        "{}",
        status.message()
    );

    // A key's token cannot mint or revoke keys, whatever its scopes: a key that could would
    // outlive its own revocation.
    let status = org
        .keys
        .clone()
        .create_api_key(authorized(
            pb::CreateApiKeyRequest {
                name: "escalated".into(),
                scopes: vec!["read".into(), "write".into()],
                ..Default::default()
            },
            &read_write.access_token,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    // A revoked key is not exchanged any more.
    let listed = org
        .keys
        .clone()
        .list_api_keys(authorized(pb::ListApiKeysRequest {}, &ravi_token))
        .await
        .unwrap()
        .into_inner()
        .keys;
    let read_key_id = listed
        .iter()
        .find(|key| key.scopes == ["read"])
        .unwrap()
        .id
        .clone();
    org.keys
        .clone()
        .revoke_api_key(authorized(
            pb::RevokeApiKeyRequest {
                api_key_id: read_key_id,
            },
            &ravi_token,
        ))
        .await
        .unwrap();
    let status = org
        .auth
        .clone()
        .exchange_api_key(pb::ExchangeApiKeyRequest { api_key: read_key })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    // Users' sessions are not scoped.
    create_lead(&ravi_token, "Litware").await.unwrap();
    for service in ["gateway", "accounts", "leads"] {
        let context = org.app.services.context(service).unwrap();
        let _ = context
            .jetstream
            .delete_stream(context.naming.stream(service))
            .await;
    }
}

#[tokio::test]
async fn a_team_move_re_scopes_the_users_records_in_other_services() {
    let org = Org::start().await;
    let ravi = org
        .create_user(
            &org.admin_token,
            "ravi@northwind.example",
            pb::Role::Rep,
            &org.east_1,
        )
        .await
        .unwrap();
    org.create_user(
        &org.admin_token,
        "mei@northwind.example",
        pb::Role::Manager,
        &org.east,
    )
    .await
    .unwrap();
    org.create_user(
        &org.admin_token,
        "will@northwind.example",
        pb::Role::Manager,
        &org.west,
    )
    .await
    .unwrap();
    let ravi_token = org.token_of("ravi@northwind.example").await;
    let mut accounts = AccountServiceClient::new(org.app.channel().await);
    let account = accounts
        .create_account(authorized(
            CreateAccountRequest {
                account: Some(AccountInput {
                    name: "Contoso Ltd".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            &ravi_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    let visible_to = |email: &'static str| {
        let org = &org;
        let account_id = account.id.clone();
        async move {
            let token = org.token_of(email).await;
            let mut accounts = AccountServiceClient::new(org.app.channel().await);
            accounts
                .get_account(authorized(
                    crm_proto::crm::accounts::v1::GetAccountRequest { account_id },
                    &token,
                ))
                .await
                .is_ok()
        }
    };
    assert!(visible_to("mei@northwind.example").await);
    assert!(!visible_to("will@northwind.example").await);

    org.org
        .clone()
        .update_user(authorized(
            pb::UpdateUserRequest {
                user_id: ravi.id.clone(),
                team_id: Some(org.west.id.clone()),
                ..Default::default()
            },
            &org.admin_token,
        ))
        .await
        .unwrap();
    eventually(
        Duration::from_secs(15),
        "the account follows Ravi to West",
        || async { visible_to("will@northwind.example").await },
    )
    .await;
    assert!(
        !visible_to("mei@northwind.example").await,
        "East no longer sees it"
    );
    let context = org.app.services.context("gateway").unwrap();
    let _ = context
        .jetstream
        .delete_stream(context.naming.stream("gateway"))
        .await;
}

#[tokio::test]
async fn the_leads_roster_follows_the_organisation() {
    use crm_proto::crm::leads::v1::{self as leads_pb, lead_service_client::LeadServiceClient};
    let org = Org::start_with(&[crm_gateway::module(), crm_leads::module()]).await;
    let twelve_days_ago = (chrono::Utc::now() - chrono::Duration::days(12))
        .date_naive()
        .to_string();
    let nora = org
        .org
        .clone()
        .create_user(authorized(
            pb::CreateUserRequest {
                email: "nora@northwind.example".into(),
                display_name: "Nora".into(),
                role: pb::Role::Rep as i32,
                team_id: org.east_1.id.clone(),
                password: PASSWORD.into(),
                started_on: twelve_days_ago,
                ..Default::default()
            },
            &org.admin_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    let leads_pool = org.app.pool("leads").clone();
    let roster = |pool: sqlx::PgPool, id: String| async move {
        sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(format!(
            "SELECT team_path, stage FROM reps WHERE rep_id = '{id}'"
        )))
        .fetch_optional(&pool)
        .await
        .unwrap()
    };
    eventually(Duration::from_secs(15), "Nora on the leads roster", || {
        let (pool, id) = (leads_pool.clone(), nora.id.clone());
        async move { roster(pool, id).await.is_some() }
    })
    .await;
    assert_eq!(
        roster(leads_pool.clone(), nora.id.clone()).await.unwrap(),
        ("/northwind/east/east-1/".to_owned(), "new".to_owned()),
        "her stage comes from the directory: new on her ramp"
    );

    // Nora's own lead moves with her.
    let nora_token = org.token_of("nora@northwind.example").await;
    let lead = LeadServiceClient::new(org.app.channel().await)
        .create_lead(authorized(
            leads_pb::CreateLeadRequest {
                lead: Some(leads_pb::LeadInput {
                    last_name: "Li".into(),
                    company: "Contoso".into(),
                    ..Default::default()
                }),
                lead_id: String::new(),
            },
            &nora_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .lead
        .unwrap();
    org.org
        .clone()
        .update_user(authorized(
            pb::UpdateUserRequest {
                user_id: nora.id.clone(),
                team_id: Some(org.west.id.clone()),
                ..Default::default()
            },
            &org.admin_token,
        ))
        .await
        .unwrap();
    eventually(
        Duration::from_secs(15),
        "Nora's lead re-scoped to West",
        || {
            let pool = leads_pool.clone();
            let id = lead.id.clone();
            async move {
                let path: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT owner_team_path FROM leads WHERE id = '{id}'"
                )))
                .fetch_one(&pool)
                .await
                .unwrap();
                path.as_deref() == Some("/northwind/west/")
            }
        },
    )
    .await;
    assert_eq!(
        roster(leads_pool, nora.id).await.unwrap().0,
        "/northwind/west/"
    );
    let context = org.app.services.context("gateway").unwrap();
    let _ = context
        .jetstream
        .delete_stream(context.naming.stream("gateway"))
        .await;
}

#[tokio::test]
async fn a_create_with_a_chosen_id_is_idempotent_and_keeps_the_id() {
    let org = Org::start().await;
    let id = "01900000-0000-7000-8000-000000000a71";
    let create = |email: &str, team: &pb::Team| {
        let request = pb::CreateUserRequest {
            user_id: id.into(),
            email: email.into(),
            display_name: "Ravi".into(),
            role: pb::Role::Rep as i32,
            team_id: team.id.clone(),
            password: PASSWORD.into(),
            ..Default::default()
        };
        let mut client = org.org.clone();
        let token = org.admin_token.clone();
        async move {
            client
                .create_user(authorized(request, &token))
                .await
                .map(|reply| reply.into_inner().user.unwrap())
        }
    };
    let ravi = create("ravi@northwind.example", &org.east_1).await.unwrap();
    assert_eq!(ravi.id, id);
    assert_eq!(ravi.version, 1);
    // The retry answers the user as it is: the same version, no second user.
    let again = create("ravi@northwind.example", &org.east_1).await.unwrap();
    assert_eq!(again.id, id);
    assert_eq!(again.version, 1);
    assert_eq!(again.created_at, ravi.created_at);
    // The id with another email is someone else's.
    let taken = create("nora@northwind.example", &org.east_1)
        .await
        .unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists);
    let info = taken.get_details_error_info().expect("an ErrorInfo");
    assert_eq!(info.reason, "USER_ID_TAKEN");
    assert_eq!(info.metadata["user_id"], id);
    // The user signs in with the chosen id in the token.
    let login = login(&org.auth, "ravi@northwind.example", PASSWORD)
        .await
        .unwrap();
    assert_eq!(login.user.unwrap().id, id);
    // A malformed id is the field's problem.
    let mut bad = org.org.clone();
    let status = bad
        .create_user(authorized(
            pb::CreateUserRequest {
                user_id: "not-a-uuid".into(),
                email: "x@northwind.example".into(),
                display_name: "X".into(),
                role: pb::Role::Rep as i32,
                team_id: org.east_1.id.clone(),
                password: PASSWORD.into(),
                ..Default::default()
            },
            &org.admin_token,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = status
        .get_details_bad_request()
        .unwrap()
        .field_violations
        .into_iter()
        .map(|violation| violation.field)
        .collect();
    assert_eq!(fields, ["user_id"]);
}
