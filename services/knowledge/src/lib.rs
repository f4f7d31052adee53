//! The knowledge service (capabilities K1–K6, docs/capabilities.md): the sales toolkit at the
//! moment of need — playbooks, battlecards, product sheets, objection handling and training,
//! in English and Chinese. Owns database `crm_knowledge`.
//!
//! The issue [knowledge] lands in steps: so far the articles (K1) — versions kept and
//! diffable, the review workflow (draft → in review → published → archived), Markdown rendered
//! to sanitised HTML, and an event on every change — and their search (K2): each replica's
//! tantivy index kept from the service's own stream. Recommendations, usage and training
//! follow.
#![deny(rust_2018_idioms)]
#![forbid(unsafe_code)]

mod convert;
pub mod domain;
mod error;
mod grpc;
pub mod search;
mod service;
pub mod starter;
mod store;

use std::path::PathBuf;

use crm_platform::host::{ServiceContext, ServiceModule, ServiceMount};
use crm_proto::crm::knowledge::v1::{
    article_service_server::ArticleServiceServer, search_service_server::SearchServiceServer,
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
        grpc::search::SearchApi::new(knowledge),
        context.auth.clone(),
    ));
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
