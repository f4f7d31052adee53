//! The default calling code is the organisation's setting: the gateway publishes it
//! (OrgSettingsUpdated), the org directory keeps it by version, and capture reads national
//! numbers with it. Here the test stands in for the gateway and publishes the events.

mod support;

use std::time::Duration;

use crm_platform::events;
use crm_proto::crm::{
    gateway::v1::{self as gateway_pb, OrgSettingsUpdated, UserCreated},
    leads::v1 as pb,
};
use crm_test_support::{TestApp, eventually, user};
use support::Harness;
use tonic::Code;
use tonic_types::StatusExt;

async fn harness() -> Harness {
    let app = TestApp::spawn(&[crm_leads::module()]).await;
    let context = app.services.context("leads").unwrap();
    // The gateway would create its stream; here the test stands in for it.
    events::ensure_stream(
        &context.jetstream,
        &context.naming,
        "gateway",
        Duration::from_secs(120),
    )
    .await
    .unwrap();
    Harness::without_org_settings(app).await
}

fn settings(code: &str, version: u64) -> OrgSettingsUpdated {
    OrgSettingsUpdated {
        settings: Some(gateway_pb::OrgSettings {
            default_calling_code: code.into(),
            version,
            ..Default::default()
        }),
        changed_fields: vec!["default_calling_code".into()],
    }
}

/// The code the leads service holds, and at which version.
async fn held(harness: &Harness) -> Option<(Option<String>, i64)> {
    sqlx::query_as("SELECT default_calling_code, version FROM org_settings")
        .fetch_optional(harness.app.pool("leads"))
        .await
        .unwrap()
}

fn lead(phone: &str, email: &str) -> pb::LeadInput {
    pb::LeadInput {
        last_name: "Li".into(),
        email: email.into(),
        phone: phone.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_national_number_is_read_with_the_organisations_calling_code_and_refused_without_it() {
    let harness = harness().await;
    let ada = user("admin", "/northwind");

    // Without the setting the refusal says where to set it.
    let refused = harness
        .create(&ada, lead("13800138000", "a@contoso.cn"))
        .await
        .unwrap_err();
    // The number is of a valid form; the organisation's missing setting refuses it.
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let details = refused.get_error_details();
    assert_eq!(
        details.error_info().unwrap().reason,
        "NO_DEFAULT_CALLING_CODE"
    );
    let violation = &details
        .bad_request()
        .expect("field violations")
        .field_violations[0];
    assert_eq!(violation.field, "lead.phone");
    assert!(
        violation.description.contains("UpdateOrgSettings")
            && violation.description.contains("/v1/orgSettings"),
        "{}",
        violation.description
    );

    harness.app.publish_event("leads", &settings("86", 5)).await;
    eventually(
        Duration::from_secs(15),
        "the leads service holds the organisation's calling code",
        || async { held(&harness).await == Some((Some("86".into()), 5)) },
    )
    .await;
    let captured = harness
        .create(&ada, lead("13800138000", "b@contoso.cn"))
        .await
        .unwrap()
        .lead
        .unwrap();
    assert_eq!(captured.phone, "+8613800138000");
    // As a Chinese input method types it: full-width digits.
    let wide = harness
        .create(&ada, lead("１３９ ００００ １１１１", "c@contoso.cn"))
        .await
        .unwrap()
        .lead
        .unwrap();
    assert_eq!(wide.phone, "+8613900001111");
}

/// Settings events can arrive out of order (a replay, a redelivery after a later one): the
/// service keeps the newest version.
#[tokio::test]
async fn an_older_settings_event_arriving_late_does_not_overwrite_a_newer_one() {
    let harness = harness().await;
    let ada = user("admin", "/northwind");
    harness.app.publish_event("leads", &settings("86", 5)).await;
    eventually(
        Duration::from_secs(15),
        "the leads service holds version 5",
        || async {
            held(&harness)
                .await
                .is_some_and(|(_, version)| version == 5)
        },
    )
    .await;

    harness.app.publish_event("leads", &settings("44", 3)).await;
    // Events are handled in order: once a later marker is in, the stale settings were seen.
    let marker = user("rep", "/northwind/east");
    harness
        .app
        .publish_event(
            "leads",
            &UserCreated {
                user: Some(gateway_pb::User {
                    id: marker.user_id.to_string(),
                    display_name: "Marker".into(),
                    role: gateway_pb::Role::Rep as i32,
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
            sqlx::query_scalar::<_, bool>(
                "SELECT EXISTS (SELECT 1 FROM org_users WHERE user_id = $1)",
            )
            .bind(marker.user_id)
            .fetch_one(harness.app.pool("leads"))
            .await
            .unwrap()
        },
    )
    .await;

    assert_eq!(held(&harness).await, Some((Some("86".into()), 5)));
    let captured = harness
        .create(&ada, lead("138 0013 8000", "d@contoso.cn"))
        .await
        .unwrap()
        .lead
        .unwrap();
    assert_eq!(captured.phone, "+8613800138000");

    // A newer one that clears the code applies: national numbers are refused again.
    harness.app.publish_event("leads", &settings("", 6)).await;
    eventually(
        Duration::from_secs(15),
        "the leads service holds version 6",
        || async { held(&harness).await == Some((None, 6)) },
    )
    .await;
    let refused = harness
        .create(&ada, lead("138 0013 8000", "e@contoso.cn"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
}
