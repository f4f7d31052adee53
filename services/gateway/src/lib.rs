//! The gateway: the organisation (users, teams, roles, lifecycle stages, sales territories) and
//! authentication (login, rotating refresh tokens, API keys) — capabilities G1, G2 (docs/capabilities.md). Owns database
//! `crm_gateway`, publishes org events on stream `CRM_GATEWAY`; and the HTTP/JSON front door to
//! every service (G4, [`http`]) with the views it assembles from them (the account 360, A5).
#![deny(rust_2018_idioms)]
#![forbid(unsafe_code)]

mod convert;
mod domain;
mod error;
mod grpc;
pub mod http;
mod service;
mod store;

use crm_platform::host::{ServiceContext, ServiceModule, ServiceMount};
use crm_proto::crm::gateway::v1::{
    account_view_service_server::AccountViewServiceServer,
    api_key_service_server::ApiKeyServiceServer, auth_service_server::AuthServiceServer,
    org_service_server::OrgServiceServer,
};

// What the command line (`crm create-admin`) and the tests use: the first admin is made
// through the use cases, before anyone can sign in to call the API.
pub use convert::role_to_wire;
pub use domain::user::{NewUser, User};
pub use error::GatewayError;
pub use grpc::new_user;
pub use service::Gateway;

pub const NAME: &str = "gateway";

pub fn module() -> ServiceModule {
    ServiceModule {
        name: NAME,
        migrator,
        mount,
    }
}

pub fn migrator() -> sqlx::migrate::Migrator {
    sqlx::migrate!("../../migrations/gateway")
}

fn mount(context: &ServiceContext, mount: &mut ServiceMount) -> anyhow::Result<()> {
    let gateway = service::Gateway::new(
        context.pool.clone(),
        context.outbox.clone(),
        context.settings.jwt.clone(),
    )?;
    let api = grpc::GatewayApi::new(gateway.clone());
    // Login and refresh come before any token exists.
    mount.add_public_grpc(AuthServiceServer::new(api.clone()))?;
    mount.add_grpc(OrgServiceServer::with_interceptor(
        api.clone(),
        context.auth.clone(),
    ));
    mount.add_grpc(ApiKeyServiceServer::with_interceptor(
        api,
        context.auth.clone(),
    ));
    let settings = http::FrontDoorSettings::from_settings(&context.settings)?;
    let front_door = http::FrontDoor::new(
        &settings,
        &context.settings.jwt,
        context.pool.clone(),
        context.local_grpc.clone(),
    )?;
    // The aggregated views call the services where the front door forwards to them.
    let views = service::AccountViews::new(gateway, front_door.upstreams());
    mount.add_grpc(AccountViewServiceServer::with_interceptor(
        grpc::AccountViewApi::new(views),
        context.auth.clone(),
    ));
    mount.grpc_fallback(http::grpc_proxy::router(front_door.upstreams()));
    mount.spawn(front_door.heartbeat(context.shutdown.clone()));
    mount.serve_http(
        settings.http_addr,
        http::router(std::sync::Arc::new(front_door)),
    )?;
    let pruning = (context.pool.clone(), settings.idempotency_retention);
    crm_platform::schedule::spawn_jobs(context, mount, &pruning, JOBS)?;
    Ok(())
}

/// The front door's periodic jobs: pruning the idempotency keys older than the retention.
const JOBS: &[crm_platform::schedule::Job<(sqlx::PgPool, std::time::Duration)>] =
    &[crm_platform::schedule::Job {
        name: "idempotency-key-pruning",
        interval: ("IDEMPOTENCY_PRUNING_INTERVAL", "1h"),
        run: |(pool, retention), _| {
            Box::pin(async move { Ok(http::idempotency::prune(&pool, retention).await?) })
        },
    }];
