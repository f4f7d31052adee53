//! A service's org directory converts money into the corporate currency with what the gateway
//! published — OrgSettingsUpdated for the currency, ExchangeRateSet for the rates — and stays
//! right when events are redelivered or arrive out of order. Real PostgreSQL and NATS; the test
//! stands in for the gateway and publishes the events.

use std::{str::FromStr, time::Duration};

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{
    db,
    events::{self, DomainEvent},
    host::{ServiceContext, ServiceModule, ServiceMount},
    money::{CorporateAmount, CurrencyCode, Money},
    org::{self, OrgDirectory, OrgDirectoryHandler},
    time::to_timestamp,
};
use crm_proto::crm::gateway::v1::{self as gateway, ExchangeRateSet, OrgSettingsUpdated};
use crm_test_support::{TestApp, eventually, user};
use rust_decimal::Decimal;
use uuid::Uuid;

/// A service that keeps nothing but the org directory, as any service mounts it.
const LEDGER: &str = "ledger";

fn ledger() -> ServiceModule {
    ServiceModule {
        name: LEDGER,
        migrator: db::platform_migrator,
        mount: mount_ledger,
    }
}

fn mount_ledger(context: &ServiceContext, mount: &mut ServiceMount) -> anyhow::Result<()> {
    let directory = context.consumer(org::consumer_spec(LEDGER), OrgDirectoryHandler::new(()));
    mount.spawn(directory.run(context.shutdown.clone()));
    Ok(())
}

async fn start() -> TestApp {
    let app = TestApp::spawn(&[ledger()]).await;
    let context = app.services.context(LEDGER).unwrap();
    // The gateway would create its stream; here the test stands in for it.
    events::ensure_stream(
        &context.jetstream,
        &context.naming,
        "gateway",
        Duration::from_secs(120),
    )
    .await
    .unwrap();
    app
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::from_str(text).unwrap()
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn money(currency: &str, amount: &str) -> Money {
    Money {
        currency: currency.parse().unwrap(),
        amount: Decimal::from_str_exact(amount).unwrap(),
    }
}

fn settings(corporate_currency: &str, version: u64) -> OrgSettingsUpdated {
    OrgSettingsUpdated {
        settings: Some(gateway::OrgSettings {
            corporate_currency: corporate_currency.into(),
            version,
            ..Default::default()
        }),
        changed_fields: vec!["corporate_currency".into()],
    }
}

fn rate(
    currency: &str,
    into: &str,
    effective_on: &str,
    rate: &str,
    set_at: &str,
) -> ExchangeRateSet {
    ExchangeRateSet {
        rate: Some(gateway::ExchangeRate {
            currency_code: currency.into(),
            corporate_currency: into.into(),
            effective_on: effective_on.into(),
            rate: rate.into(),
            set_at: Some(to_timestamp(at(set_at))),
            set_by: Uuid::now_v7().to_string(),
        }),
    }
}

async fn publish<E: DomainEvent>(app: &TestApp, event: &E) {
    app.publish_event(LEDGER, event).await;
}

async fn to_corporate(app: &TestApp, amount: &Money, on: &str) -> Option<CorporateAmount> {
    let mut connection = app.pool(LEDGER).acquire().await.unwrap();
    OrgDirectory::to_corporate(&mut connection, amount, day(on))
        .await
        .unwrap()
}

/// The amount, rate and rate date of a conversion, as text.
async fn converted(app: &TestApp, amount: &Money, on: &str) -> Option<(String, String, String)> {
    to_corporate(app, amount, on).await.map(|corporate| {
        (
            format!("{} {}", corporate.amount.currency, corporate.amount.amount),
            corporate.rate.to_string(),
            corporate.rate_date.to_string(),
        )
    })
}

fn expect(amount: &str, rate: &str, rate_date: &str) -> Option<(String, String, String)> {
    Some((amount.into(), rate.into(), rate_date.into()))
}

/// Events are handled in order: once a user published after the others is in the directory,
/// they were all seen.
async fn wait_for_everything_published(app: &TestApp) {
    let marker = user("rep", "/northwind/east");
    publish(
        app,
        &gateway::UserCreated {
            user: Some(gateway::User {
                id: marker.user_id.to_string(),
                display_name: "Marker".into(),
                role: gateway::Role::Rep as i32,
                team_path: "/northwind/east/".into(),
                started_on: "2024-01-01".into(),
                active: true,
                version: 1,
                ..Default::default()
            }),
        },
    )
    .await;
    eventually(
        Duration::from_secs(15),
        "the marker user is in the directory",
        || async {
            OrgDirectory::team_of(
                &mut app.pool(LEDGER).acquire().await.unwrap(),
                marker.user_id,
            )
            .await
            .unwrap()
            .is_some()
        },
    )
    .await;
}

#[tokio::test]
async fn the_directory_converts_with_the_latest_rate_on_or_before_the_day() {
    let app = start().await;
    let euros = money("EUR", "1000.00");

    // No corporate currency yet: nothing converts, not even with a rate.
    publish(
        &app,
        &rate("EUR", "CNY", "2026-11-01", "7.80", "2026-11-01T08:00:00Z"),
    )
    .await;
    wait_for_everything_published(&app).await;
    assert_eq!(converted(&app, &euros, "2026-12-15").await, None);

    publish(&app, &settings("CNY", 1)).await;
    publish(
        &app,
        &rate("EUR", "CNY", "2026-12-01", "7.85", "2026-12-01T08:00:00Z"),
    )
    .await;
    publish(
        &app,
        &rate("JPY", "CNY", "2026-12-01", "0.0478", "2026-12-01T08:00:00Z"),
    )
    .await;
    // November's rate, known before the corporate currency was, converts as soon as the
    // settings arrive; December's may come moments later.
    eventually(
        Duration::from_secs(15),
        "the directory converts euros at December's rate, and yen",
        || async {
            converted(&app, &euros, "2026-12-15").await
                == expect("CNY 7850.00", "7.85", "2026-12-01")
                && converted(&app, &money("JPY", "1"), "2026-12-15")
                    .await
                    .is_some()
        },
    )
    .await;
    assert_eq!(
        converted(&app, &euros, "2026-12-15").await,
        expect("CNY 7850.00", "7.85", "2026-12-01")
    );
    // On the day itself, and before it November's rate.
    assert_eq!(
        converted(&app, &euros, "2026-12-01").await,
        expect("CNY 7850.00", "7.85", "2026-12-01")
    );
    assert_eq!(
        converted(&app, &euros, "2026-11-30").await,
        expect("CNY 7800.00", "7.8", "2026-11-01")
    );
    // Before any rate, and for a currency without one: none.
    assert_eq!(converted(&app, &euros, "2026-10-31").await, None);
    assert_eq!(
        converted(&app, &money("USD", "1.00"), "2026-12-15").await,
        None
    );
    // 123,457 JPY × 0.0478 = 5,901.2446 → 5,901.24 CNY.
    assert_eq!(
        converted(&app, &money("JPY", "123457"), "2026-12-15").await,
        expect("CNY 5901.24", "0.0478", "2026-12-01")
    );
    // The corporate currency itself: at 1, on the day asked.
    assert_eq!(
        to_corporate(&app, &money("CNY", "1200000.00"), "2026-12-15").await,
        Some(CorporateAmount {
            amount: money("CNY", "1200000.00"),
            rate: Decimal::ONE,
            rate_date: day("2026-12-15"),
        })
    );
}

#[tokio::test]
async fn a_days_rate_set_again_wins_whatever_the_order_and_redelivery_changes_nothing() {
    let app = start().await;
    let euros = money("EUR", "1000.00");
    publish(&app, &settings("CNY", 1)).await;
    let first = rate("EUR", "CNY", "2026-12-01", "7.85", "2026-12-01T08:00:00Z");
    let second = rate("EUR", "CNY", "2026-12-01", "7.90", "2026-12-01T09:30:00Z");

    // The correction arrives first, the rate it replaced after it.
    publish(&app, &second).await;
    publish(&app, &first).await;
    // And the first once more under another message id, as a redelivery would bring it.
    let event_id = Uuid::now_v7();
    app.publish_event_as(LEDGER, &first, event_id, "first")
        .await;
    app.publish_event_as(LEDGER, &first, event_id, "first-again")
        .await;
    wait_for_everything_published(&app).await;
    assert_eq!(
        converted(&app, &euros, "2026-12-02").await,
        expect("CNY 7900.00", "7.9", "2026-12-01")
    );
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM org_exchange_rates")
        .fetch_one(app.pool(LEDGER))
        .await
        .unwrap();
    assert_eq!(kept, 1, "one rate per currency and day");
}

#[tokio::test]
async fn after_a_change_of_corporate_currency_the_rates_into_the_new_one_apply() {
    let app = start().await;
    let yuan = money("CNY", "1200000.00");
    publish(&app, &settings("CNY", 1)).await;
    publish(
        &app,
        &rate("EUR", "CNY", "2026-12-01", "7.85", "2026-12-01T08:00:00Z"),
    )
    .await;
    publish(&app, &settings("EUR", 2)).await;
    wait_for_everything_published(&app).await;

    // Into euros now: a yuan amount needs a CNY→EUR rate; a euro amount is at 1.
    assert_eq!(converted(&app, &yuan, "2026-12-15").await, None);
    assert_eq!(
        converted(&app, &money("EUR", "10.99"), "2026-12-15").await,
        expect("EUR 10.99", "1", "2026-12-15")
    );
    publish(
        &app,
        &rate("CNY", "EUR", "2026-12-01", "0.1385", "2026-12-01T10:00:00Z"),
    )
    .await;
    // The older settings arriving late do not bring the yuan back.
    publish(&app, &settings("CNY", 1)).await;
    wait_for_everything_published(&app).await;
    // 1,200,000.00 × 0.1385 = 166,200.00 EUR.
    assert_eq!(
        converted(&app, &yuan, "2026-12-15").await,
        expect("EUR 166200.00", "0.1385", "2026-12-01")
    );
    let settings = OrgDirectory::settings(app.pool(LEDGER)).await.unwrap();
    assert_eq!(
        (settings.corporate_currency, settings.version),
        (Some(CurrencyCode::from_str("EUR").unwrap()), 2)
    );
}
