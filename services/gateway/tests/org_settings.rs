//! The organisation's settings: admins change them through the gateway, every role reads them,
//! and the services that read phone numbers learn the default calling code from the gateway's
//! OrgSettingsUpdated event — over real gRPC, PostgreSQL and NATS.

use std::time::Duration;

use crm_platform::auth::{Caller, Role, TeamPath};
use crm_proto::crm::{
    accounts::v1::{
        AccountInput, CreateAccountRequest, account_service_client::AccountServiceClient,
    },
    gateway::v1::{
        self as pb, auth_service_client::AuthServiceClient, org_service_client::OrgServiceClient,
    },
    leads::v1::{CreateLeadRequest, LeadInput, lead_service_client::LeadServiceClient},
};
use crm_test_support::{TestApp, authorized, eventually};
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt;

mod support;

struct Suite {
    app: TestApp,
    org: OrgServiceClient<Channel>,
    admin_token: String,
}

impl Suite {
    async fn start() -> Self {
        let app = TestApp::spawn(&[
            crm_gateway::module(),
            crm_leads::module(),
            crm_accounts::module(),
        ])
        .await;
        support::first_admin(&app).await;
        let channel = app.channel().await;
        let admin_token = AuthServiceClient::new(channel.clone())
            .login(pb::LoginRequest {
                email: "ada@northwind.example".into(),
                password: support::PASSWORD.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .tokens
            .unwrap()
            .access_token;
        Self {
            org: OrgServiceClient::new(channel),
            app,
            admin_token,
        }
    }

    async fn update(
        &self,
        token: &str,
        code: Option<&str>,
        expected_version: u64,
    ) -> Result<pb::OrgSettings, tonic::Status> {
        self.org
            .clone()
            .update_org_settings(authorized(
                pb::UpdateOrgSettingsRequest {
                    default_calling_code: code.map(str::to_owned),
                    expected_version,
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(|response| response.into_inner().settings.unwrap())
    }

    async fn get(&self, token: &str) -> pb::OrgSettings {
        self.org
            .clone()
            .get_org_settings(authorized(pb::GetOrgSettingsRequest {}, token))
            .await
            .unwrap()
            .into_inner()
            .settings
            .unwrap()
    }

    async fn capture(&self, token: &str, phone: &str) -> Result<String, tonic::Status> {
        LeadServiceClient::new(self.app.channel().await)
            .create_lead(authorized(
                CreateLeadRequest {
                    lead: Some(LeadInput {
                        last_name: "Li".into(),
                        phone: phone.into(),
                        ..Default::default()
                    }),
                    lead_id: String::new(),
                },
                token,
            ))
            .await
            .map(|response| response.into_inner().lead.unwrap().phone)
    }

    async fn account_phone(&self, token: &str, phone: &str) -> Result<String, tonic::Status> {
        AccountServiceClient::new(self.app.channel().await)
            .create_account(authorized(
                CreateAccountRequest {
                    account: Some(AccountInput {
                        name: format!("Contoso {phone}"),
                        phone: phone.into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(|response| response.into_inner().account.unwrap().phone)
    }

    /// The code `service` holds, as the org directory last heard it.
    async fn held(&self, service: &str) -> Option<String> {
        sqlx::query_scalar::<_, Option<String>>("SELECT default_calling_code FROM org_settings")
            .fetch_optional(self.app.pool(service))
            .await
            .unwrap()
            .flatten()
    }
}

fn the_violation(status: &tonic::Status) -> (String, String) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    the_field(status)
}

/// The field a refusal names: FAILED_PRECONDITION, for what the organisation holds.
fn the_refused_field(status: &tonic::Status, reason: &str) -> (String, String) {
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert_eq!(
        status.get_error_details().error_info().unwrap().reason,
        reason
    );
    the_field(status)
}

fn the_field(status: &tonic::Status) -> (String, String) {
    let details = status.get_error_details();
    let violation = &details
        .bad_request()
        .expect("field violations")
        .field_violations[0];
    (violation.field.clone(), violation.description.clone())
}

#[tokio::test]
async fn an_admin_sets_the_default_calling_code_and_leads_and_accounts_read_national_numbers_with_it()
 {
    let suite = Suite::start().await;
    let rep = suite.app.token(&Caller::user(
        uuid::Uuid::now_v7(),
        Role::Rep,
        TeamPath::parse("/northwind").unwrap(),
    ));

    // Nothing set: a national number is refused, naming the setting — for what the
    // organisation holds (422), since the number itself is of a valid form.
    let unset = suite.get(&rep).await;
    assert_eq!(
        (unset.default_calling_code.as_str(), unset.version),
        ("", 0)
    );
    let (field, description) = the_refused_field(
        &suite.capture(&rep, "13800138000").await.unwrap_err(),
        "NO_DEFAULT_CALLING_CODE",
    );
    assert_eq!(field, "lead.phone");
    assert!(description.contains("UpdateOrgSettings"), "{description}");
    assert!(
        description.contains("PATCH /v1/orgSettings"),
        "{description}"
    );

    // Only admins change it, and only to a calling code.
    let denied = suite.update(&rep, Some("86"), 0).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    let (field, description) = the_violation(
        &suite
            .update(&suite.admin_token, Some("086"), 0)
            .await
            .unwrap_err(),
    );
    assert_eq!(field, "default_calling_code");
    assert!(description.contains("1 to 3 digits"), "{description}");

    // Written as a Chinese keyboard types it; stored as digits.
    let set = suite
        .update(&suite.admin_token, Some("＋８６"), 0)
        .await
        .unwrap();
    assert_eq!((set.default_calling_code.as_str(), set.version), ("86", 1));
    assert!(set.updated_at.is_some());
    assert_eq!(suite.get(&rep).await, set);
    // The same again changes nothing; a stale version is refused.
    let same = suite
        .update(&suite.admin_token, Some("86"), 1)
        .await
        .unwrap();
    assert_eq!(same.version, 1);
    let stale = suite
        .update(&suite.admin_token, Some("44"), 7)
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "{stale:?}");

    for service in ["leads", "accounts"] {
        eventually(
            Duration::from_secs(15),
            &format!("{service} holds the organisation's calling code"),
            || async { suite.held(service).await.as_deref() == Some("86") },
        )
        .await;
    }
    assert_eq!(
        suite.capture(&rep, "13800138000").await.unwrap(),
        "+8613800138000"
    );
    assert_eq!(
        suite.account_phone(&rep, "010 6552 9988").await.unwrap(),
        "+861065529988"
    );
    let context = suite.app.services.context("gateway").unwrap();
    let _ = context
        .jetstream
        .delete_stream(context.naming.stream("gateway"))
        .await;
}

/// The RPCs' REST routes, from their `google.api.http` annotations.
#[tokio::test]
async fn the_settings_are_read_and_changed_over_http() {
    let suite = Suite::start().await;
    let http = crm_test_support::HttpClient::new(suite.app.http_url());
    let admin = Some(suite.admin_token.as_str());
    let changed = http
        .patch_json(
            "/v1/orgSettings",
            admin,
            &serde_json::json!({"default_calling_code": "+44"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.json());
    assert_eq!(changed.json()["settings"]["default_calling_code"], "44");
    let read = http.get("/v1/orgSettings", admin).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.json()["settings"]["default_calling_code"], "44");
    let refused = http
        .patch_json(
            "/v1/orgSettings",
            admin,
            &serde_json::json!({"default_calling_code": "0"}),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.json());
    assert!(
        refused.json().to_string().contains("default_calling_code"),
        "{}",
        refused.json()
    );
}

#[tokio::test]
async fn an_admin_sets_the_fiscal_calendar_and_the_services_hold_it() {
    let suite = Suite::start().await;
    let admin = suite.admin_token.clone();
    let seeded = suite.get(&admin).await;
    assert_eq!(
        (seeded.fiscal_year_start_month, seeded.fiscal_year_naming()),
        (1, pb::FiscalYearNaming::StartingYear)
    );
    let change = |month: Option<u32>, naming: pb::FiscalYearNaming| {
        let org = suite.org.clone();
        let admin = admin.clone();
        async move {
            org.clone()
                .update_org_settings(authorized(
                    pb::UpdateOrgSettingsRequest {
                        fiscal_year_start_month: month,
                        fiscal_year_naming: naming as i32,
                        ..Default::default()
                    },
                    &admin,
                ))
                .await
                .map(|response| response.into_inner().settings.unwrap())
        }
    };
    let april = change(Some(4), pb::FiscalYearNaming::EndingYear)
        .await
        .unwrap();
    assert_eq!(
        (april.fiscal_year_start_month, april.fiscal_year_naming()),
        (4, pb::FiscalYearNaming::EndingYear)
    );
    assert_eq!(april.version, seeded.version + 1);
    // Unspecified naming and an absent month leave them as they are: no new version.
    let same = change(None, pb::FiscalYearNaming::Unspecified)
        .await
        .unwrap();
    assert_eq!(
        (same.fiscal_year_start_month, same.version),
        (4, april.version)
    );
    // Month 0 is within the schema (at most 12) but is no month: refused, not invalid.
    let zero = change(Some(0), pb::FiscalYearNaming::Unspecified)
        .await
        .unwrap_err();
    assert_eq!(
        the_refused_field(&zero, "INCONSISTENT_FIELDS").0,
        "fiscal_year_start_month"
    );
    let thirteen = change(Some(13), pb::FiscalYearNaming::Unspecified)
        .await
        .unwrap_err();
    assert_eq!(the_violation(&thirteen).0, "fiscal_year_start_month");
    // Every service's org directory learns the calendar from the event.
    for service in ["leads", "accounts"] {
        let pool = suite.app.pool(service);
        eventually(
            Duration::from_secs(10),
            "the calendar in the org directory",
            || async move {
                let held: Option<(i32, String)> = sqlx::query_as(
                    "SELECT fiscal_year_start_month, fiscal_year_naming FROM org_settings",
                )
                .fetch_optional(pool)
                .await
                .unwrap();
                held == Some((4, "ending_year".to_owned()))
            },
        )
        .await;
        let settings = crm_platform::org::OrgDirectory::settings(pool)
            .await
            .unwrap();
        assert_eq!(
            settings.fiscal_calendar,
            crm_platform::fiscal::FiscalCalendar::new(
                4,
                crm_platform::fiscal::FiscalYearNaming::EndingYear
            )
            .unwrap()
        );
    }
}
