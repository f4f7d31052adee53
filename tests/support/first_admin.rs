//! The first admin of a new organisation, made as `crm create-admin` makes her: no API can
//! (every call needs a caller), so the journeys call the gateway's use case in process.

use crm_proto::crm::gateway::v1 as gateway_pb;
use crm_test_support::TestApp;

/// Creates the company team `slug` named `company` and its first admin, Ada, with `email` and
/// `password`.
pub async fn first_admin(
    app: &TestApp,
    slug: &str,
    company: &str,
    email: &str,
    password: &str,
) -> crm_gateway::User {
    let context = app.services.context("gateway").expect("gateway hosted");
    let gateway = crm_gateway::Gateway::new(
        context.pool.clone(),
        context.outbox.clone(),
        app.settings.jwt.clone(),
    )
    .unwrap();
    let new = crm_gateway::new_user(gateway_pb::CreateUserRequest {
        email: email.into(),
        display_name: "Ada".into(),
        role: gateway_pb::Role::Admin as i32,
        team_id: uuid::Uuid::nil().to_string(),
        password: password.into(),
        ..Default::default()
    })
    .unwrap();
    gateway
        .create_first_admin(slug, company, new)
        .await
        .unwrap()
}
