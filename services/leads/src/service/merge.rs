//! Merging duplicate leads (L2): survivorship by the domain rules, every merge recorded with
//! both leads as they were, and undoable.

use crm_platform::{auth::Caller, error::CommonError, ids::MergePair};
use crm_proto::crm::leads::v1 as pb;
use serde::Deserialize;
use serde_json::json;
use sqlx::{PgConnection, types::Json};
use uuid::Uuid;

use super::{History, Leads, Result, can_manage, locked_for_change};
use crate::{
    domain::{
        dedupe::{self, LeadFields, Side},
        lead::Lead,
    },
    error::LeadsError,
    store::{self, admin::MergeRow},
};

/// A field's origin as stored with the merge.
#[derive(Deserialize)]
struct StoredOrigin {
    field: String,
    from: Side,
}

impl Leads {
    pub async fn merge(
        &self,
        caller: &Caller,
        survivor_id: Uuid,
        duplicate_id: Uuid,
    ) -> Result<(Lead, Uuid)> {
        let pair = MergePair::new(survivor_id, duplicate_id)?;
        let mut transaction = self.pool.begin().await?;
        let [first, second] = pair.lock_order();
        let first = locked_for_change(&mut transaction, caller, first, None).await?;
        let second = locked_for_change(&mut transaction, caller, second, None).await?;
        let (_, mut duplicate) = pair.sort([first, second], |lead| lead.id);
        if duplicate.converted_at.is_some() {
            return Err(LeadsError::ConvertedNotMergeable { id: duplicate_id });
        }
        duplicate.merged_into_lead_id = Some(survivor_id);
        let history = History::by(
            "merged",
            Some(caller.user_id),
            format!("merged into lead {survivor_id}"),
        );
        duplicate.version += 1;
        duplicate.updated_at = crm_platform::time::now();
        store::leads::update_lead(&mut transaction, &duplicate).await?;
        history.record(&mut transaction, &duplicate).await?;
        let survivor = record_merge(
            self,
            &mut transaction,
            Some(caller.user_id),
            survivor_id,
            &duplicate,
            "merged by hand",
        )
        .await?;
        let merge_id =
            store::admin::latest_merge(&mut transaction, survivor_id, duplicate_id).await?;
        self.outbox.commit(transaction).await?;
        Ok((survivor, merge_id))
    }

    /// Restores the duplicate and takes back from the survivor what the merge gave it (fields
    /// changed since keep their new values).
    pub async fn undo_merge(&self, caller: &Caller, merge_id: Uuid) -> Result<(Lead, Lead)> {
        let mut transaction = self.pool.begin().await?;
        let Some(merge) = store::admin::lock_merge(&mut transaction, merge_id).await? else {
            return Err(LeadsError::not_found("merge", merge_id));
        };
        let mut survivor =
            locked_for_change(&mut transaction, caller, merge.survivor_id, None).await?;
        // Undoing brings the duplicate back: the caller must be able to change it too, as
        // merging needed (a merge by an admin across teams is not undone by one side).
        let mut duplicate =
            match store::leads::lock_lead(&mut transaction, merge.duplicate_id).await? {
                Some(lead) if can_manage(caller, &lead) => lead,
                _ => {
                    return Err(LeadsError::not_found("lead", merge.duplicate_id));
                }
            };
        if merge.undone_at.is_some() {
            return Err(LeadsError::MergeUndone { id: merge_id });
        }
        let unreadable =
            |what: &str| LeadsError::unreadable(format!("{what} of merge {merge_id}"), "bad JSON");
        let before = store::leads::from_snapshot(merge.survivor_before.0.clone())
            .map_err(|_| unreadable("survivor"))?;
        let merged_fields: LeadFields =
            serde_json::from_value(merge.origins.0.get("merged").cloned().unwrap_or_default())
                .map_err(|_| unreadable("merged fields"))?;
        let origins: Vec<StoredOrigin> =
            serde_json::from_value(merge.origins.0.get("origins").cloned().unwrap_or_default())
                .map_err(|_| unreadable("origins"))?;
        let before_fields = before.fields();
        let mut current = survivor.fields();
        let mut restored = Vec::new();
        for origin in origins
            .iter()
            .filter(|origin| origin.from != Side::Survivor)
        {
            if restore_field(&mut current, &before_fields, &merged_fields, &origin.field) {
                restored.push(origin.field.clone());
            }
        }
        survivor.set_fields(&current);
        duplicate.merged_into_lead_id = None;
        duplicate.version += 1;
        duplicate.updated_at = crm_platform::time::now();
        store::leads::update_lead(&mut transaction, &duplicate).await?;
        History::by(
            "merge_undone",
            Some(caller.user_id),
            format!("restored from merge into lead {}", survivor.id),
        )
        .record(&mut transaction, &duplicate)
        .await?;
        store::admin::mark_merge_undone(&mut transaction, merge_id, caller.user_id).await?;
        let restored_lead = crate::convert::lead(&duplicate);
        let summary = format!(
            "merge of lead {} undone; took back: {}",
            duplicate.id,
            list(&restored)
        );
        self.save(
            &mut transaction,
            &mut survivor,
            History::by("merge_undone", Some(caller.user_id), summary),
            |lead| pb::LeadMergeUndone {
                merge_id: merge_id.to_string(),
                survivor: Some(lead),
                restored: Some(restored_lead),
            },
        )
        .await?;
        self.outbox.commit(transaction).await?;
        Ok((survivor, duplicate))
    }
}

/// Fills the survivor's gaps from `duplicate` (already stored and marked merged), records the
/// merge and announces it. Returns the updated survivor.
pub(crate) async fn record_merge(
    leads: &Leads,
    connection: &mut PgConnection,
    actor: Option<Uuid>,
    survivor_id: Uuid,
    duplicate: &Lead,
    why: &str,
) -> Result<Lead> {
    let Some(mut survivor) = store::leads::lock_lead(connection, survivor_id).await? else {
        return Err(LeadsError::not_found("lead", survivor_id));
    };
    if let Some(into) = survivor.merged_into_lead_id {
        return Err(CommonError::MergedAway {
            kind: "lead",
            id: survivor_id,
            into,
        }
        .into());
    }
    let before = survivor.clone();
    let (merged, origins) = dedupe::merge_leads(&survivor.fields(), &duplicate.fields());
    survivor.set_fields(&merged);
    let merge_id = Uuid::now_v7();
    let serialise = store::leads::snapshot;
    store::admin::insert_merge(
        connection,
        &MergeRow {
            id: merge_id,
            survivor_id,
            duplicate_id: duplicate.id,
            survivor_before: Json(serialise(&before)),
            duplicate_before: Json(serialise(duplicate)),
            origins: Json(json!({ "origins": origins, "merged": merged })),
            undone_at: None,
        },
        actor,
    )
    .await?;
    let filled: Vec<String> = origins
        .iter()
        .filter(|origin| origin.from != Side::Survivor)
        .map(|origin| origin.field.to_owned())
        .collect();
    let summary = format!(
        "lead {} merged into this one ({why}); filled: {}",
        duplicate.id,
        list(&filled)
    );
    let history = History {
        details: json!({ "merge_id": merge_id, "origins": origins }),
        ..History::by("merged", actor, summary)
    };
    let duplicate_id = duplicate.id.to_string();
    leads
        .save(connection, &mut survivor, history, |lead| pb::LeadsMerged {
            merge_id: merge_id.to_string(),
            survivor: Some(lead),
            duplicate_lead_id: duplicate_id,
        })
        .await?;
    Ok(survivor)
}

fn list(fields: &[String]) -> String {
    if fields.is_empty() {
        "nothing".to_owned()
    } else {
        fields.join(", ")
    }
}

/// Puts back the survivor's value of `field` from before the merge, unless the field has been
/// changed since the merge. Returns whether it was restored.
fn restore_field(
    current: &mut LeadFields,
    before: &LeadFields,
    merged: &LeadFields,
    field: &str,
) -> bool {
    macro_rules! restore {
        ($($name:ident),*) => {
            match field {
                $(stringify!($name) => {
                    if current.$name != merged.$name {
                        return false;
                    }
                    current.$name = before.$name.clone();
                    true
                })*
                _ => false,
            }
        };
    }
    restore!(
        first_name,
        last_name,
        email,
        phone,
        company,
        title,
        website,
        industry,
        territory,
        company_size,
        product_interest,
        description
    )
}
