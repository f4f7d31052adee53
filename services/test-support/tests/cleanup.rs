//! A test's leftovers are removed when it ends: its database, also when the test panicked,
//! and the streams of its event namespace (only those).

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use crm_test_support::{TestDatabase, cleanup, eventually, nats_url, postgres_url, unique_id};
use sqlx::{Connection, postgres::PgConnection};

/// The database's comment, `None` when there is no such database.
async fn database_comment(name: &str) -> Option<Option<String>> {
    let mut connection = PgConnection::connect(&format!("{}/postgres", postgres_url()))
        .await
        .unwrap();
    sqlx::query_scalar(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
    )
    .bind(name)
    .fetch_optional(&mut connection)
    .await
    .unwrap()
}

/// The database is marked ended at once (or already gone) and dropped soon after.
async fn assert_cleaned_up(name: &str) {
    let comment = database_comment(name).await;
    assert!(
        matches!(&comment, None | Some(Some(_))),
        "{name} is not marked ended: {comment:?}"
    );
    eventually(
        Duration::from_secs(30),
        "the database is dropped",
        || async { database_comment(name).await.is_none() },
    )
    .await;
}

#[tokio::test]
async fn a_test_database_is_dropped_when_it_goes_out_of_scope_even_with_open_connections() {
    if cleanup::keep() {
        return;
    }
    let database = TestDatabase::platform_only().await;
    let name = database.name.clone();
    let _busy = database.pool.acquire().await.unwrap();
    assert_eq!(database_comment(&name).await, Some(None));
    drop(database);
    assert_cleaned_up(&name).await;
}

#[tokio::test]
async fn a_test_that_panics_drops_its_database_too() {
    if cleanup::keep() {
        return;
    }
    let (named, name) = tokio::sync::oneshot::channel();
    let panicked = tokio::spawn(async move {
        let database = TestDatabase::platform_only().await;
        named.send(database.name.clone()).unwrap();
        panic!("the test fails with its database open");
    })
    .await;
    assert!(panicked.unwrap_err().is_panic());
    let name = name.await.unwrap();
    assert_cleaned_up(&name).await;
}

#[tokio::test]
async fn the_streams_of_a_namespace_are_deleted_and_no_others() {
    let client = async_nats::connect(nats_url()).await.unwrap();
    let jetstream = jetstream::new(client);
    let (ours, theirs) = (unique_id(), unique_id());
    let create = |namespace: &str, producer: &str| stream::Config {
        name: format!("{}_CRM_{producer}", namespace.to_ascii_uppercase()),
        subjects: vec![format!("{namespace}.crm.{}.v1.>", producer.to_lowercase())],
        ..Default::default()
    };
    for config in [
        create(&ours, "LEADS"),
        create(&ours, "DEADLETTER"),
        create(&theirs, "LEADS"),
    ] {
        jetstream.create_stream(config).await.unwrap();
    }

    cleanup::delete_streams(nats_url(), ours.clone())
        .await
        .unwrap();

    for (namespace, producer, kept) in [
        (&ours, "LEADS", false),
        (&ours, "DEADLETTER", false),
        (&theirs, "LEADS", true),
    ] {
        let name = format!("{}_CRM_{producer}", namespace.to_ascii_uppercase());
        assert_eq!(jetstream.get_stream(&name).await.is_ok(), kept, "{name}");
    }
    jetstream
        .delete_stream(format!("{}_CRM_LEADS", theirs.to_ascii_uppercase()))
        .await
        .unwrap();
}
