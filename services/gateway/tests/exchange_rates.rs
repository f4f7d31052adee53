//! The corporate currency and the exchange rates into it: admins set them through the gateway,
//! every role reads them, and each is published (OrgSettingsUpdated, ExchangeRateSet) in the
//! transaction that makes it — over real gRPC, PostgreSQL and HTTP.

use crm_platform::{
    auth::{Caller, Role, TeamPath},
    time::from_timestamp,
};
use crm_proto::crm::gateway::v1::{
    self as pb, auth_service_client::AuthServiceClient, org_service_client::OrgServiceClient,
};
use crm_test_support::{HttpClient, TestApp, authorized};
use prost::Message;
use serde_json::json;
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt;

mod support;

struct Suite {
    app: TestApp,
    org: OrgServiceClient<Channel>,
    admin: String,
    rep: String,
}

impl Suite {
    async fn start() -> Self {
        let app = TestApp::spawn(&[crm_gateway::module()]).await;
        support::first_admin(&app).await;
        let channel = app.channel().await;
        let admin = AuthServiceClient::new(channel.clone())
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
        let rep = app.token(&Caller::user(
            uuid::Uuid::now_v7(),
            Role::Rep,
            TeamPath::parse("/northwind/east").unwrap(),
        ));
        Self {
            org: OrgServiceClient::new(channel),
            app,
            admin,
            rep,
        }
    }

    async fn set_corporate_currency(
        &self,
        token: &str,
        code: &str,
    ) -> Result<pb::OrgSettings, tonic::Status> {
        self.org
            .clone()
            .update_org_settings(authorized(
                pb::UpdateOrgSettingsRequest {
                    corporate_currency: Some(code.into()),
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(|response| response.into_inner().settings.unwrap())
    }

    async fn set_rate(
        &self,
        token: &str,
        currency: &str,
        effective_on: &str,
        rate: &str,
    ) -> Result<pb::ExchangeRate, tonic::Status> {
        self.org
            .clone()
            .set_exchange_rate(authorized(
                pb::SetExchangeRateRequest {
                    currency_code: currency.into(),
                    effective_on: effective_on.into(),
                    rate: rate.into(),
                },
                token,
            ))
            .await
            .map(|response| response.into_inner().rate.unwrap())
    }

    async fn rates(&self, token: &str, currency: &str) -> Vec<pb::ExchangeRate> {
        self.org
            .clone()
            .list_exchange_rates(authorized(
                pb::ListExchangeRatesRequest {
                    currency_code: currency.into(),
                },
                token,
            ))
            .await
            .unwrap()
            .into_inner()
            .rates
    }

    /// The payloads of the gateway's outbox events of type `M`, oldest first.
    async fn published<M: Message + prost::Name + Default>(&self) -> Vec<(String, i64, M)> {
        let rows: Vec<(String, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT aggregate_id, aggregate_version, payload FROM outbox \
             WHERE event_type = $1 ORDER BY seq",
        )
        .bind(M::full_name())
        .fetch_all(self.app.pool("gateway"))
        .await
        .unwrap();
        rows.into_iter()
            .map(|(id, version, payload)| (id, version, M::decode(payload.as_slice()).unwrap()))
            .collect()
    }
}

/// (currency, day, rate) of each listed rate.
fn listed(rates: &[pb::ExchangeRate]) -> Vec<(&str, &str, &str)> {
    rates
        .iter()
        .map(|rate| {
            (
                rate.currency_code.as_str(),
                rate.effective_on.as_str(),
                rate.rate.as_str(),
            )
        })
        .collect()
}

fn reason(status: &tonic::Status) -> String {
    status
        .get_error_details()
        .error_info()
        .unwrap()
        .reason
        .clone()
}

/// The fields a refusal names, with their descriptions: INVALID_ARGUMENT for a form the schema
/// states, FAILED_PRECONDITION for a value it cannot (a rate of 0, an empty currency).
fn violations(status: &tonic::Status) -> Vec<(String, String)> {
    assert!(
        matches!(
            status.code(),
            Code::InvalidArgument | Code::FailedPrecondition
        ),
        "{status:?}"
    );
    status
        .get_error_details()
        .bad_request()
        .expect("field violations")
        .field_violations
        .iter()
        .map(|violation| (violation.field.clone(), violation.description.clone()))
        .collect()
}

#[tokio::test]
async fn an_admin_sets_the_corporate_currency_and_its_rates_and_every_role_reads_them() {
    let suite = Suite::start().await;

    // No corporate currency yet: no rate can be set, and none is listed.
    let refused = suite
        .set_rate(&suite.admin, "EUR", "2026-11-01", "7.8")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert_eq!(reason(&refused), "NO_CORPORATE_CURRENCY");
    assert!(
        refused.message().contains("UpdateOrgSettings"),
        "{refused:?}"
    );
    assert!(suite.rates(&suite.rep, "").await.is_empty());

    // Only admins set it.
    let denied = suite
        .set_corporate_currency(&suite.rep, "CNY")
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    let settings = suite
        .set_corporate_currency(&suite.admin, "CNY")
        .await
        .unwrap();
    assert_eq!(
        (settings.corporate_currency.as_str(), settings.version),
        ("CNY", 1)
    );

    // Only admins set rates; a rep is refused whatever the rate.
    let denied = suite
        .set_rate(&suite.rep, "EUR", "2026-11-01", "7.8")
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    let november = suite
        .set_rate(&suite.admin, "EUR", "2026-11-01", "7.80")
        .await
        .unwrap();
    assert_eq!(
        (
            november.currency_code.as_str(),
            november.corporate_currency.as_str(),
            november.effective_on.as_str(),
            november.rate.as_str()
        ),
        ("EUR", "CNY", "2026-11-01", "7.8")
    );
    assert!(november.set_at.is_some());
    assert!(!november.set_by.is_empty());
    suite
        .set_rate(&suite.admin, "USD", "2026-11-15", "7.1234567891")
        .await
        .unwrap();
    suite
        .set_rate(&suite.admin, "EUR", "2026-12-01", "7.85")
        .await
        .unwrap();
    suite
        .set_rate(&suite.admin, "JPY", "2026-12-01", "0.0478")
        .await
        .unwrap();

    // Newest day first, by currency within a day; a rep reads them too.
    assert_eq!(
        listed(&suite.rates(&suite.rep, "").await),
        [
            ("EUR", "2026-12-01", "7.85"),
            ("JPY", "2026-12-01", "0.0478"),
            ("USD", "2026-11-15", "7.1234567891"),
            ("EUR", "2026-11-01", "7.8"),
        ]
    );
    assert_eq!(
        listed(&suite.rates(&suite.rep, "EUR").await),
        [("EUR", "2026-12-01", "7.85"), ("EUR", "2026-11-01", "7.8")]
    );

    // The corporate currency has no rate of its own.
    let itself = suite
        .set_rate(&suite.admin, "CNY", "2026-12-01", "1")
        .await
        .unwrap_err();
    assert_eq!(itself.code(), Code::FailedPrecondition, "{itself:?}");
    assert_eq!(reason(&itself), "RATE_OF_CORPORATE_CURRENCY");

    // After a change of corporate currency, the rates into the new one apply: none yet. The
    // old corporate currency now takes a rate; the new one does not.
    let euro = suite
        .set_corporate_currency(&suite.admin, "EUR")
        .await
        .unwrap();
    assert_eq!((euro.corporate_currency.as_str(), euro.version), ("EUR", 2));
    assert!(suite.rates(&suite.rep, "").await.is_empty());
    suite
        .set_rate(&suite.admin, "CNY", "2026-12-01", "0.1385")
        .await
        .unwrap();
    assert_eq!(
        reason(
            &suite
                .set_rate(&suite.admin, "EUR", "2026-12-01", "1")
                .await
                .unwrap_err()
        ),
        "RATE_OF_CORPORATE_CURRENCY"
    );
    let into_euros = suite.rates(&suite.rep, "").await;
    assert_eq!(listed(&into_euros), [("CNY", "2026-12-01", "0.1385")]);
    assert_eq!(into_euros[0].corporate_currency, "EUR");
}

#[tokio::test]
async fn bad_rates_and_currencies_are_invalid_naming_every_field() {
    let suite = Suite::start().await;
    suite
        .set_corporate_currency(&suite.admin, "CNY")
        .await
        .unwrap();
    for (rate, description) in [
        ("0", "must be more than 0"),
        ("-7.8", "must be more than 0"),
        ("0.12345678901", "more than 10 fraction digits"),
        ("7,8", "is not a decimal number"),
        ("", "must not be empty"),
    ] {
        let refused = suite
            .set_rate(&suite.admin, "EUR", "2026-12-01", rate)
            .await
            .unwrap_err();
        let named = violations(&refused);
        let value_refused = matches!(rate, "0" | "-7.8");
        assert_eq!(
            refused.code() == Code::FailedPrecondition,
            value_refused,
            "{rate:?}: {refused:?}"
        );
        assert_eq!(named.len(), 1, "{rate:?}: {named:?}");
        assert_eq!(named[0].0, "rate", "{rate:?}");
        assert!(named[0].1.contains(description), "{rate:?}: {named:?}");
    }
    // Every field at once.
    let refused = suite
        .set_rate(&suite.admin, "XXX", "2026-13-01", "0")
        .await
        .unwrap_err();
    let fields: Vec<String> = violations(&refused)
        .into_iter()
        .map(|(field, _)| field)
        .collect();
    assert_eq!(fields, ["currency_code", "effective_on", "rate"]);
    assert!(
        suite.rates(&suite.admin, "").await.is_empty(),
        "nothing set"
    );

    // A corporate currency is an active ISO 4217 code, and once set is not unset.
    for code in ["XTS", "cny", ""] {
        let refused = suite
            .set_corporate_currency(&suite.admin, code)
            .await
            .unwrap_err();
        assert_eq!(violations(&refused)[0].0, "corporate_currency", "{code:?}");
    }
    let listing = suite
        .org
        .clone()
        .list_exchange_rates(authorized(
            pb::ListExchangeRatesRequest {
                currency_code: "XXX".into(),
            },
            &suite.rep,
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&listing)[0].0, "currency_code");
}

#[tokio::test]
async fn setting_a_days_rate_again_replaces_it_and_publishes_both_in_order() {
    let suite = Suite::start().await;
    let settings = suite
        .set_corporate_currency(&suite.admin, "CNY")
        .await
        .unwrap();
    let first = suite
        .set_rate(&suite.admin, "EUR", "2026-12-01", "7.85")
        .await
        .unwrap();
    let second = suite
        .set_rate(&suite.admin, "EUR", "2026-12-01", "7.9")
        .await
        .unwrap();
    let first_at = from_timestamp(first.set_at.as_ref().unwrap()).unwrap();
    let second_at = from_timestamp(second.set_at.as_ref().unwrap()).unwrap();
    assert!(second_at > first_at, "{first_at} then {second_at}");
    assert_eq!(
        listed(&suite.rates(&suite.rep, "EUR").await),
        [("EUR", "2026-12-01", "7.9")]
    );

    // Each in the transaction that made it: the rate as answered, versioned by the day's key.
    let rates = suite.published::<pb::ExchangeRateSet>().await;
    let published: Vec<(&str, i64, &pb::ExchangeRate)> = rates
        .iter()
        .map(|(id, version, event)| (id.as_str(), *version, event.rate.as_ref().unwrap()))
        .collect();
    assert_eq!(
        published,
        [
            ("CNY/EUR/2026-12-01", 1, &first),
            ("CNY/EUR/2026-12-01", 2, &second)
        ]
    );
    let updates = suite.published::<pb::OrgSettingsUpdated>().await;
    assert_eq!(updates.len(), 1);
    let (_, version, update) = &updates[0];
    assert_eq!(*version, 1);
    assert_eq!(update.changed_fields, ["corporate_currency"]);
    assert_eq!(update.settings.as_ref(), Some(&settings));
    assert_eq!(update.settings.as_ref().unwrap().corporate_currency, "CNY");
}

/// The RPCs' REST routes, from their `google.api.http` annotations; a rate has more fraction
/// digits than any currency, which the front door lets through.
#[tokio::test]
async fn rates_are_set_and_listed_over_http() {
    let suite = Suite::start().await;
    let http = HttpClient::new(suite.app.http_url());
    let admin = Some(suite.admin.as_str());
    let refused = http
        .post_json(
            "/v1/exchangeRates",
            admin,
            &json!({"currency_code": "EUR", "effective_on": "2026-12-01", "rate": "7.85"}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.json());
    assert_eq!(refused.json()["reason"], "NO_CORPORATE_CURRENCY");
    let changed = http
        .patch_json(
            "/v1/orgSettings",
            admin,
            &json!({"corporate_currency": "EUR"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.json());
    assert_eq!(changed.json()["settings"]["corporate_currency"], "EUR");
    let set = http
        .post_json(
            "/v1/exchangeRates",
            admin,
            &json!({"currency_code": "CNY", "effective_on": "2026-12-01", "rate": "0.1385"}),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.json());
    assert_eq!(set.json()["rate"]["rate"], "0.1385");
    let bad = http
        .post_json(
            "/v1/exchangeRates",
            admin,
            &json!({"currency_code": "CNY", "effective_on": "2026-12-01", "rate": "1e-3"}),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.json());
    assert!(bad.json().to_string().contains("rate"), "{}", bad.json());
    let listed = http
        .get(
            "/v1/exchangeRates?currency_code=CNY",
            Some(suite.rep.as_str()),
        )
        .await;
    assert_eq!(listed.status, 200, "{}", listed.json());
    assert_eq!(listed.json()["rates"][0]["corporate_currency"], "EUR");
    assert_eq!(listed.json()["rates"][0]["effective_on"], "2026-12-01");
}
