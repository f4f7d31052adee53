//! What the gateway's integration tests share: the first admin, made as `crm create-admin`
//! makes her.
#![allow(dead_code)] // each test binary uses its own part

use crm_proto::crm::gateway::v1 as pb;
use crm_test_support::TestApp;

pub const PASSWORD: &str = "correct horse battery staple";

/// The gateway's use cases on `app`'s database, as the CLI builds them.
pub fn gateway(app: &TestApp) -> crm_gateway::Gateway {
    let context = app
        .services
        .context("gateway")
        .expect("the gateway is hosted");
    crm_gateway::Gateway::new(
        context.pool.clone(),
        context.outbox.clone(),
        app.settings.jwt.clone(),
    )
    .expect("gateway")
}

/// Ada, an admin with `PASSWORD`, to be the first user.
pub fn ada(email: &str) -> crm_gateway::NewUser {
    crm_gateway::new_user(pb::CreateUserRequest {
        email: email.into(),
        display_name: "Ada".into(),
        role: pb::Role::Admin as i32,
        team_id: uuid::Uuid::nil().to_string(),
        password: PASSWORD.into(),
        ..Default::default()
    })
    .expect("a valid admin")
}

/// Ada (`ada@northwind.example`) as the first admin of Northwind Industrial (`/northwind/`).
pub async fn first_admin(app: &TestApp) {
    gateway(app)
        .create_first_admin(
            "northwind",
            "Northwind Industrial",
            ada("ada@northwind.example"),
        )
        .await
        .expect("the first admin");
}
