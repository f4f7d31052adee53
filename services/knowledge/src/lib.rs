//! The knowledge service (capabilities K1–K6, docs/capabilities.md): the sales toolkit at the
//! moment of need — playbooks, battlecards, product sheets, objection handling and training,
//! in English and Chinese. Owns database `crm_knowledge`.
//!
//! The articles (K1) — versions kept and diffable, the review workflow (draft → in review →
//! published → archived), Markdown rendered to sanitised HTML, an event on every change; their
//! search (K2) — each replica's tantivy index kept from the service's own stream;
//! recommendations for a deal and the articles attached to deals (K3, K4) from what the
//! service keeps of the opportunities and accounts services' events; usage and content
//! influence (K5); and training (K6), with the onboarding track from the directory.
#![deny(rust_2018_idioms)]
#![forbid(unsafe_code)]

mod convert;
pub mod domain;
mod error;
mod events;
mod grpc;
pub mod search;
mod service;
pub mod starter;
mod store;

use std::path::PathBuf;

use crm_platform::{
    host::{ServiceContext, ServiceModule, ServiceMount},
    org,
};
use crm_proto::crm::knowledge::v1::{
    article_service_server::ArticleServiceServer,
    deal_content_service_server::DealContentServiceServer,
    search_service_server::SearchServiceServer, training_service_server::TrainingServiceServer,
    usage_service_server::UsageServiceServer,
};
use search::{
    index::SearchIndex,
    keeper::{Keeper, LiveIndex},
};

/// The `google.rpc.ErrorInfo` reasons of the service's own refusals (docs/api.md).
pub use error::reasons;

pub const NAME: &str = "knowledge";

/// How a process hosts the knowledge service.
pub fn module() -> ServiceModule {
    ServiceModule {
        name: NAME,
        migrator,
        mount,
    }
}

pub fn migrator() -> sqlx::migrate::Migrator {
    sqlx::migrate!("../../migrations/knowledge")
}

/// Where this replica keeps its search index (`CRM_KNOWLEDGE_INDEX_DIR`): by default a
/// directory under the system's temporary one named after the database and event namespace,
/// so processes of different deployments on one machine never share one.
fn index_dir(context: &ServiceContext) -> PathBuf {
    if let Some(dir) = context.settings.service(NAME).optional("INDEX_DIR") {
        return PathBuf::from(dir);
    }
    let url = context.settings.database_url(NAME);
    let database = url
        .expose()
        .rsplit('/')
        .next()
        .and_then(|tail| tail.split('?').next())
        .unwrap_or("crm_knowledge")
        .to_owned();
    let namespace = context.naming.stream(NAME).to_ascii_lowercase();
    std::env::temp_dir().join(format!("crm-knowledge-index-{database}-{namespace}"))
}

fn mount(context: &ServiceContext, mount: &mut ServiceMount) -> anyhow::Result<()> {
    let dir = index_dir(context);
    let index = SearchIndex::open(&dir).map_err(|error| {
        anyhow::anyhow!("opening the search index in {}: {error}", dir.display())
    })?;
    let live = LiveIndex::new(index);
    let knowledge =
        service::Knowledge::new(context.pool.clone(), context.outbox.clone(), live.clone());
    mount.add_grpc(ArticleServiceServer::with_interceptor(
        grpc::articles::ArticlesApi::new(knowledge.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(SearchServiceServer::with_interceptor(
        grpc::search::SearchApi::new(knowledge.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(DealContentServiceServer::with_interceptor(
        grpc::deals::DealContentApi::new(knowledge.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(UsageServiceServer::with_interceptor(
        grpc::usage::UsageApi::new(knowledge.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(TrainingServiceServer::with_interceptor(
        grpc::training::TrainingApi::new(knowledge),
        context.auth.clone(),
    ));
    // What the service knows of deals and accounts' industries, and the directory (whose
    // lifecycle stages give new reps the onboarding track; whose teams a manager's view reads).
    let deals = context.consumer(events::deals(), events::DealHandler::new());
    mount.spawn(deals.run(context.shutdown.clone()));
    let accounts = context.consumer(events::accounts(), events::AccountHandler::new());
    mount.spawn(accounts.run(context.shutdown.clone()));
    let directory = context.consumer(
        org::consumer_spec(NAME),
        org::OrgDirectoryHandler::new(events::Onboarding),
    );
    mount.spawn(directory.run(context.shutdown.clone()));
    let keeper = Keeper {
        live,
        pool: context.pool.clone(),
        jetstream: context.jetstream.clone(),
        naming: context.naming.clone(),
        producer: NAME,
    };
    let hold = context.readiness.hold("knowledge-search-index");
    mount.spawn(keeper.run(hold, context.shutdown.clone()));
    Ok(())
}
