//! The organisation's directory (the gateway's org events) decides which team a user's records
//! are filed under; a token issued before a team move carries the old team for up to the
//! access-token lifetime and must neither roll the directory back nor file new records there.

use std::time::Duration;

use crm_platform::{
    auth::Caller,
    events::{self, DomainEvent},
};
use crm_proto::crm::{
    accounts::v1::{self as pb, account_service_client::AccountServiceClient},
    gateway::v1::{self as gateway_pb, UserCreated, UserUpdated},
};
use crm_test_support::{TestApp, authorized, eventually, user};
use tonic::{Code, transport::Channel};

const EAST_1: &str = "/northwind/east/east-1/";
const WEST_1: &str = "/northwind/west/west-1/";

struct Harness {
    app: TestApp,
    client: AccountServiceClient<Channel>,
}

impl Harness {
    async fn start() -> Self {
        let app = TestApp::spawn(&[crm_accounts::module()]).await;
        let context = app.services.context("accounts").unwrap();
        // The gateway would create its stream; here the test stands in for it.
        events::ensure_stream(
            &context.jetstream,
            &context.naming,
            "gateway",
            Duration::from_secs(120),
        )
        .await
        .unwrap();
        let client = AccountServiceClient::new(app.channel().await);
        Self { app, client }
    }

    /// Publishes an org event as the gateway would.
    async fn publish<E: DomainEvent>(&self, event: &E) {
        self.app.publish_event("accounts", event).await;
    }

    /// The team this service has for `user`.
    async fn known(&self, user: &Caller) -> Option<String> {
        sqlx::query_scalar("SELECT team_path FROM org_users WHERE user_id = $1")
            .bind(user.user_id)
            .fetch_optional(self.app.pool("accounts"))
            .await
            .unwrap()
    }

    /// Whether that team came from the organisation's directory.
    async fn is_from_directory(&self, user: &Caller) -> bool {
        sqlx::query_scalar("SELECT from_directory FROM org_users WHERE user_id = $1")
            .bind(user.user_id)
            .fetch_one(self.app.pool("accounts"))
            .await
            .unwrap()
    }

    async fn wait_for_team(&self, user: &Caller, team: &str) {
        eventually(
            Duration::from_secs(15),
            &format!("the directory puts the user in {team}"),
            || async { self.known(user).await.as_deref() == Some(team) },
        )
        .await;
    }

    /// Creates an account with `token` (which may carry a stale team), owned by `owner`.
    async fn create(
        &self,
        token: &str,
        name: &str,
        owner: Option<&Caller>,
    ) -> Result<pb::Account, tonic::Status> {
        self.client
            .clone()
            .create_account(authorized(
                pb::CreateAccountRequest {
                    account: Some(pb::AccountInput {
                        name: name.into(),
                        owner_id: owner
                            .map(|owner| owner.user_id.to_string())
                            .unwrap_or_default(),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(|response| response.into_inner().account.unwrap())
    }

    async fn rename(&self, token: &str, account: &pb::Account, name: &str) -> pb::Account {
        self.client
            .clone()
            .update_account(authorized(
                pb::UpdateAccountRequest {
                    account_id: account.id.clone(),
                    patch: Some(pb::AccountPatch {
                        name: Some(name.into()),
                        ..Default::default()
                    }),
                    expected_version: 0,
                },
                token,
            ))
            .await
            .unwrap()
            .into_inner()
            .account
            .unwrap()
    }
}

fn directory_user(caller: &Caller, team: &str) -> gateway_pb::User {
    gateway_pb::User {
        id: caller.user_id.to_string(),
        display_name: "Rep".into(),
        role: gateway_pb::Role::Rep as i32,
        team_path: team.into(),
        started_on: "2024-01-01".into(),
        active: true,
        ..Default::default()
    }
}

fn moved(caller: &Caller, from: &str, to: &str) -> UserUpdated {
    UserUpdated {
        user: Some(directory_user(caller, to)),
        changed_fields: vec!["team".into()],
        previous_team_path: from.into(),
    }
}

#[tokio::test]
async fn a_token_from_before_a_move_neither_rolls_the_directory_back_nor_files_records_under_the_old_team()
 {
    let harness = Harness::start().await;
    let west_manager = user("manager", "/northwind/west");
    let east_manager = user("manager", "/northwind/east");

    // Ravi works through the move: this process has seen his East token before it.
    let ravi = user("rep", EAST_1);
    let ravi_east_token = harness.app.token(&ravi);
    let before = harness
        .create(&ravi_east_token, "Contoso Ltd", None)
        .await
        .unwrap();
    assert_eq!(before.owner_team_path, EAST_1);
    harness.publish(&moved(&ravi, EAST_1, WEST_1)).await;
    harness.wait_for_team(&ravi, WEST_1).await;

    // Nora is known from the directory only; her first call comes after her move, with a
    // token issued before it.
    let nora = user("rep", EAST_1);
    harness
        .publish(&UserCreated {
            user: Some(directory_user(&nora, EAST_1)),
        })
        .await;
    harness.wait_for_team(&nora, EAST_1).await;
    harness.publish(&moved(&nora, EAST_1, WEST_1)).await;
    harness.wait_for_team(&nora, WEST_1).await;
    let nora_east_token = harness.app.token(&nora);

    for (who, rep, token) in [
        ("Ravi", &ravi, &ravi_east_token),
        ("Nora", &nora, &nora_east_token),
    ] {
        let created = harness
            .create(token, &format!("{who}'s new account"), None)
            .await
            .unwrap();
        assert_eq!(
            created.owner_team_path, WEST_1,
            "{who}'s new account is filed under the team the directory says"
        );
        harness
            .rename(token, &created, &format!("{who}'s renamed account"))
            .await;
        assert_eq!(
            harness.known(rep).await.as_deref(),
            Some(WEST_1),
            "{who}'s stale token does not roll the directory back"
        );
        assert!(harness.is_from_directory(rep).await);
        // Managers give records to the user by the directory's team.
        let given = harness
            .create(
                &harness.app.token(&west_manager),
                &format!("{who}'s account from West"),
                Some(rep),
            )
            .await
            .unwrap();
        assert_eq!(given.owner_team_path, WEST_1);
        let refused = harness
            .create(
                &harness.app.token(&east_manager),
                &format!("{who}'s account from East"),
                Some(rep),
            )
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{who}: {refused:?}");
    }

    // Ravi's account from before the move was re-scoped with him.
    let rescoped: String =
        sqlx::query_scalar("SELECT owner_team_path FROM accounts WHERE id = $1::uuid")
            .bind(&before.id)
            .fetch_one(harness.app.pool("accounts"))
            .await
            .unwrap();
    assert_eq!(rescoped, WEST_1);
}

#[tokio::test]
async fn a_user_the_directory_has_not_heard_of_is_filed_by_their_token() {
    let harness = Harness::start().await;
    let wes = user("rep", WEST_1);
    let token = harness.app.token(&wes);
    let created = harness.create(&token, "Fabrikam", None).await.unwrap();
    assert_eq!(created.owner_team_path, WEST_1);
    assert_eq!(harness.known(&wes).await.as_deref(), Some(WEST_1));
    assert!(!harness.is_from_directory(&wes).await);

    // A newer token with another team replaces a team that only a token gave.
    let moved_wes = Caller {
        team_path: crm_platform::auth::TeamPath::parse(EAST_1).unwrap(),
        ..wes.clone()
    };
    let created = harness
        .create(&harness.app.token(&moved_wes), "Fabrikam East", None)
        .await
        .unwrap();
    assert_eq!(created.owner_team_path, EAST_1);
    assert_eq!(harness.known(&wes).await.as_deref(), Some(EAST_1));
    assert!(!harness.is_from_directory(&wes).await);
}

/// Events of one user can arrive out of order (a replay, a redelivery after a later event):
/// the directory keeps the newest version, and an older move neither moves the user back nor
/// re-scopes their records.
#[tokio::test]
async fn an_older_org_event_arriving_late_does_not_move_the_user_back() {
    let harness = Harness::start().await;
    let ravi = user("rep", EAST_1);
    let at = |version: u64, from: &str, to: &str| {
        let mut event = moved(&ravi, from, to);
        event.user.as_mut().unwrap().version = version;
        event
    };
    harness.publish(&at(5, EAST_1, WEST_1)).await;
    harness.wait_for_team(&ravi, WEST_1).await;
    let account = harness
        .create(&harness.app.token(&ravi), "Contoso Ltd", None)
        .await
        .unwrap();
    assert_eq!(account.owner_team_path, WEST_1);

    harness.publish(&at(3, WEST_1, EAST_1)).await;
    // Events are handled in order: once a later marker is in, the stale move has been seen.
    let marker = user("rep", EAST_1);
    harness
        .publish(&UserCreated {
            user: Some(directory_user(&marker, EAST_1)),
        })
        .await;
    harness.wait_for_team(&marker, EAST_1).await;

    assert_eq!(harness.known(&ravi).await.as_deref(), Some(WEST_1));
    let team: String =
        sqlx::query_scalar("SELECT owner_team_path FROM accounts WHERE id = $1::uuid")
            .bind(&account.id)
            .fetch_one(harness.app.pool("accounts"))
            .await
            .unwrap();
    assert_eq!(team, WEST_1, "the stale move did not re-scope the account");
}
