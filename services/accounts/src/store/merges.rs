//! SQL for the merge log: what each merge changed, kept so a merge can be explained.

use sqlx::PgConnection;
use uuid::Uuid;

pub struct MergeRecord<'a> {
    pub id: Uuid,
    pub kind: &'static str,
    pub survivor_id: Uuid,
    pub duplicate_id: Uuid,
    pub merged_by: Uuid,
    pub survivor_before: serde_json::Value,
    pub duplicate_before: serde_json::Value,
    pub moved: &'a serde_json::Value,
}

pub async fn insert_merge(
    connection: &mut PgConnection,
    merge: &MergeRecord<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO merges (id, kind, survivor_id, duplicate_id, merged_by, survivor_before, duplicate_before, moved) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(merge.id)
    .bind(merge.kind)
    .bind(merge.survivor_id)
    .bind(merge.duplicate_id)
    .bind(merge.merged_by)
    .bind(&merge.survivor_before)
    .bind(&merge.duplicate_before)
    .bind(merge.moved)
    .execute(connection)
    .await?;
    Ok(())
}
