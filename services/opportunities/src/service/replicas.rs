//! What other services' events change here, in the handler's transaction: the accounts and
//! contacts deals name, merges that move deals and committee members to the survivor, and team
//! moves that re-scope an owner's deals.

use crm_platform::auth::TeamPath;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{DealEvent, Opportunities, Result, change::Change, deals::pipeline_of};
use crate::{
    domain::opportunity::FieldChange,
    store::{self, replicas::ReplicaRecord},
};

/// What care keeps of a contact beside its replica: its owner and the dates it reminds of.
#[derive(Debug, Clone, Default)]
pub(crate) struct ContactCare {
    pub owner: Option<(Uuid, String)>,
    pub important_dates: Vec<store::care::StoredDate>,
}

/// The contact's care data at the version the replica now holds (nothing when it holds a later
/// one).
async fn record_care(
    connection: &mut PgConnection,
    contact: &ReplicaRecord,
    care: &ContactCare,
) -> Result<()> {
    Ok(store::care::record_contact_care(
        connection,
        contact.id,
        contact.version,
        care.owner.as_ref(),
        &care.important_dates,
    )
    .await?)
}

impl Opportunities {
    pub(crate) async fn record_account(
        &self,
        connection: &mut PgConnection,
        account: &ReplicaRecord,
    ) -> Result<()> {
        Ok(store::replicas::upsert_account(connection, account).await?)
    }

    pub(crate) async fn record_contact(
        &self,
        connection: &mut PgConnection,
        contact: &ReplicaRecord,
        account_id: Uuid,
        care: &ContactCare,
    ) -> Result<()> {
        store::replicas::upsert_contact(connection, contact, account_id).await?;
        record_care(connection, contact, care).await
    }

    /// The duplicate account's deals move to the survivor (each a new version, audited and
    /// announced); the duplicate is kept as merged so later references to it are refused.
    pub(crate) async fn merge_accounts(
        &self,
        connection: &mut PgConnection,
        survivor: &ReplicaRecord,
        duplicate: Uuid,
    ) -> Result<()> {
        store::replicas::upsert_account(connection, survivor).await?;
        store::replicas::mark_account_merged(connection, duplicate, survivor.id).await?;
        for deal in store::deals::lock_deals_of_account(connection, duplicate).await? {
            let pipeline = pipeline_of(connection, &deal).await?;
            let changed = vec![FieldChange::new("account_id", deal.account_id, survivor.id)];
            let mut next = deal.clone();
            next.account_id = survivor.id;
            let events = vec![DealEvent::Updated {
                fields: vec!["account_id".into()],
            }];
            self.save(
                connection,
                None,
                next,
                &pipeline,
                Change {
                    action: "account_merged",
                    fields: changed,
                    comment: "",
                    events,
                },
            )
            .await?;
        }
        Ok(())
    }

    /// The duplicate contact's committee places pass to the survivor (dropped where the
    /// survivor sits on the committee already).
    pub(crate) async fn merge_contacts(
        &self,
        connection: &mut PgConnection,
        survivor: &ReplicaRecord,
        account_id: Uuid,
        care: &ContactCare,
        duplicate: Uuid,
    ) -> Result<()> {
        store::replicas::upsert_contact(connection, survivor, account_id).await?;
        record_care(connection, survivor, care).await?;
        store::replicas::mark_contact_merged(connection, duplicate, survivor.id).await?;
        for deal in store::deals::lock_deals_with_committee_member(connection, duplicate).await? {
            let pipeline = pipeline_of(connection, &deal).await?;
            let mut next = deal.clone();
            let survivor_sits = next
                .committee
                .iter()
                .any(|member| member.contact_id == survivor.id);
            if survivor_sits {
                next.committee
                    .retain(|member| member.contact_id != duplicate);
            }
            for member in &mut next.committee {
                if member.contact_id == duplicate {
                    member.contact_id = survivor.id;
                    member.contact_name = survivor.name.clone();
                }
                for influenced in &mut member.influences {
                    if *influenced == duplicate {
                        *influenced = survivor.id;
                    }
                }
                let own = member.contact_id;
                member.influences.retain(|influenced| *influenced != own);
                member.influences.dedup();
            }
            let changed = vec![FieldChange::new("buying_committee", duplicate, survivor.id)];
            let events = vec![DealEvent::Updated {
                fields: vec!["buying_committee".into()],
            }];
            self.save(
                connection,
                None,
                next,
                &pipeline,
                Change {
                    action: "contact_merged",
                    fields: changed,
                    comment: "",
                    events,
                },
            )
            .await?;
        }
        Ok(())
    }

    /// After a team move: the user's deals, their open stays and the funnel's roll-up rows
    /// belong to the new team.
    pub(crate) async fn rescope_owner(
        &self,
        connection: &mut PgConnection,
        owner_id: Uuid,
        team_path: &TeamPath,
    ) -> Result<()> {
        for deal in store::deals::lock_deals_of_owner(connection, owner_id).await? {
            if deal.owner_team_path == *team_path {
                continue;
            }
            let pipeline = pipeline_of(connection, &deal).await?;
            let changed = vec![FieldChange::new(
                "owner_team_path",
                &deal.owner_team_path,
                team_path,
            )];
            let mut next = deal.clone();
            next.owner_team_path = team_path.clone();
            let events = vec![DealEvent::OwnerChanged {
                previous_owner: deal.owner_id,
                previous_team_path: deal.owner_team_path.to_string(),
            }];
            self.save(
                connection,
                None,
                next,
                &pipeline,
                Change {
                    action: "rescoped",
                    fields: changed,
                    comment: "",
                    events,
                },
            )
            .await?;
        }
        store::history::rescope_owner(connection, owner_id, team_path.as_str()).await?;
        store::replicas::rescope_account_owner(connection, owner_id, team_path.as_str()).await?;
        Ok(())
    }
}
