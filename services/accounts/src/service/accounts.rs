//! Account use cases.

use crm_platform::{
    auth::{Caller, TeamPath},
    ids::MergePair,
    paging::{Listing, Page},
};
use crm_proto::crm::accounts::v1 as pb;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    Accounts, OwnedRecord, Result, describe_matches, locked_for_change, resolve_owner, visible,
};
use crate::{
    convert,
    domain::{
        RecordStatus,
        account::{self, Account, AccountChanges, NewAccount},
        duplicates::{self, Candidate, ScoredCandidate},
        tier::TierChangeReason,
    },
    error::AccountsError,
    store::{self, AccountFilter},
};

impl Accounts {
    pub async fn create_account(
        &self,
        caller: &Caller,
        new: NewAccount,
        reject_likely_duplicates: bool,
        requested_id: Option<Uuid>,
    ) -> Result<(Account, Vec<ScoredCandidate>)> {
        let mut transaction = self.pool.begin().await?;
        self.remember(&mut transaction, caller).await?;
        let (owner_id, owner_team_path) = resolve_owner(
            self,
            &mut transaction,
            caller,
            new.owner_id,
            "account.owner_id",
        )
        .await?;
        if let Some(parent_id) = new.parent_account_id {
            accessible_active_account(
                &mut transaction,
                caller,
                parent_id,
                "account.parent_account_id",
            )
            .await?;
        }
        let name_key = crm_contact_data::normalize_company_name(&new.name);
        // Creates of the same company name queue behind each other, so two concurrent
        // creates cannot both miss each other's duplicate check.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('account:' || $1))")
            .bind(&name_key)
            .execute(&mut *transaction)
            .await?;
        let probe = duplicates::account_points(&new.name, &new.website, new.phone.as_deref());
        let candidates = store::account_duplicate_candidates(
            &mut transaction,
            &name_key,
            probe.domain.as_deref(),
            new.phone.as_deref(),
            None,
        )
        .await?;
        let scored = duplicates::score_candidates(
            &probe,
            candidates
                .into_iter()
                .map(|candidate| Candidate {
                    id: candidate.id,
                    points: duplicates::account_points(
                        &candidate.name,
                        &candidate.website,
                        candidate.phone.as_deref(),
                    ),
                    display_name: candidate.name.clone(),
                    visible: caller.can_access(candidate.owner_id, &candidate.owner_team_path),
                })
                .collect(),
        );
        if reject_likely_duplicates && scored.iter().any(ScoredCandidate::is_likely) {
            return Err(AccountsError::LikelyDuplicate {
                kind: "account",
                matches: describe_matches(&scored),
            });
        }
        let now = crm_platform::time::now();
        let id = requested_id.unwrap_or_else(Uuid::now_v7);
        let account = Account {
            id,
            name: new.name,
            parent_account_id: new.parent_account_id,
            industry: new.industry,
            region: new.region,
            size: new.size,
            website: new.website,
            phone: new.phone,
            owner_id,
            owner_team_path,
            tags: new.tags,
            custom_fields: new.custom_fields,
            status: RecordStatus::Active,
            merged_into_account_id: None,
            version: 1,
            created_at: now,
            updated_at: now,
            key_account: false,
            account_plan: String::new(),
            tiering: self.initial_tiering(&mut transaction, id).await?,
        };
        if !store::insert_account(&mut transaction, &account, caller.user_id).await? {
            // The id exists: a retried create returns the first result, anything else conflicts.
            let existing = store::get_account(&mut transaction, account.id).await?;
            return match existing {
                Some(existing) if existing.created_by == caller.user_id => {
                    Ok((existing.record, Vec::new()))
                }
                _ => Err(AccountsError::IdTaken {
                    kind: "account",
                    id: account.id,
                }),
            };
        }
        self.outbox
            .enqueue_for(
                &mut transaction,
                "account",
                account.id,
                account.version,
                &pb::AccountCreated {
                    account: Some(convert::account(&account)),
                },
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok((account, scored))
    }

    pub async fn get_account(&self, caller: &Caller, id: Uuid) -> Result<Account> {
        let mut connection = self.pool.acquire().await?;
        let stored = store::get_account(&mut connection, id).await?;
        visible(caller, id, stored.map(|stored| stored.record))
    }

    pub async fn update_account(
        &self,
        caller: &Caller,
        id: Uuid,
        changes: AccountChanges,
        replace_tags: bool,
        expected_version: Option<i64>,
    ) -> Result<Account> {
        let mut transaction = self.pool.begin().await?;
        self.remember(&mut transaction, caller).await?;
        let current =
            locked_account_for_change(&mut transaction, caller, id, expected_version).await?;
        let mut owner_team_path = current.owner_team_path.clone();
        if let Some(owner_id) = changes.owner_id.filter(|owner| *owner != current.owner_id) {
            owner_team_path = resolve_owner(
                self,
                &mut transaction,
                caller,
                Some(owner_id),
                "patch.owner_id",
            )
            .await?
            .1;
        }
        if let Some(Some(parent_id)) = changes.parent_account_id {
            accessible_active_account(
                &mut transaction,
                caller,
                parent_id,
                "patch.parent_account_id",
            )
            .await?;
            if store::is_in_subtree(&mut transaction, parent_id, id).await? {
                return Err(AccountsError::invalid(
                    "patch.parent_account_id",
                    "would make the account its own ancestor",
                ));
            }
        }
        let (mut updated, changed) = account::apply_changes(&current, &changes, replace_tags);
        if changed.is_empty() {
            return Ok(current);
        }
        updated.owner_team_path = owner_team_path;
        updated.version += 1;
        updated.updated_at = crm_platform::time::now();
        store::update_account(&mut transaction, &updated).await?;
        let changed_fields: Vec<String> = changed.iter().map(|field| field.to_string()).collect();
        self.outbox
            .enqueue_for(
                &mut transaction,
                "account",
                updated.id,
                updated.version,
                &pb::AccountUpdated {
                    account: Some(convert::account(&updated)),
                    changed_fields,
                },
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(updated)
    }

    pub async fn archive_account(
        &self,
        caller: &Caller,
        id: Uuid,
        expected_version: Option<i64>,
    ) -> Result<Account> {
        let mut transaction = self.pool.begin().await?;
        let mut account =
            locked_account_for_change(&mut transaction, caller, id, expected_version).await?;
        if account.status == RecordStatus::Archived {
            return Err(AccountsError::IllegalTransition {
                kind: "account",
                id,
                from: account.status,
                to: RecordStatus::Archived,
            });
        }
        account.status = RecordStatus::Archived;
        account.version += 1;
        account.updated_at = crm_platform::time::now();
        store::update_account(&mut transaction, &account).await?;
        self.outbox
            .enqueue_for(
                &mut transaction,
                "account",
                account.id,
                account.version,
                &pb::AccountArchived {
                    account: Some(convert::account(&account)),
                },
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(account)
    }

    pub async fn list_accounts(
        &self,
        caller: &Caller,
        filter: &AccountFilter,
        page: &Page,
    ) -> Result<Listing<Account>> {
        let mut connection = self.pool.acquire().await?;
        let rows =
            store::list_accounts(&mut connection, &caller.visibility(), filter, page).await?;
        Ok(Listing::from_rows(rows, page, |record| {
            (
                store::sort_key(
                    page.order,
                    &record.name,
                    record.created_at,
                    record.updated_at,
                ),
                record.id,
            )
        }))
    }

    pub async fn find_duplicate_accounts(
        &self,
        caller: &Caller,
        name: &str,
        website: &str,
        phone: Option<&str>,
    ) -> Result<Vec<ScoredCandidate>> {
        let mut connection = self.pool.acquire().await?;
        let probe = duplicates::account_points(name, website, phone);
        let name_key = probe.company_key.clone().unwrap_or_default();
        let candidates = store::account_duplicate_candidates(
            &mut connection,
            &name_key,
            probe.domain.as_deref(),
            phone,
            None,
        )
        .await?;
        Ok(duplicates::score_candidates(
            &probe,
            candidates
                .into_iter()
                .map(|candidate| Candidate {
                    id: candidate.id,
                    points: duplicates::account_points(
                        &candidate.name,
                        &candidate.website,
                        candidate.phone.as_deref(),
                    ),
                    display_name: candidate.name.clone(),
                    visible: caller.can_access(candidate.owner_id, &candidate.owner_team_path),
                })
                .collect(),
        ))
    }

    /// Merges `duplicate_id` into `survivor_id` (see `domain::account::merge_into_survivor`).
    pub async fn merge_accounts(
        &self,
        caller: &Caller,
        survivor_id: Uuid,
        duplicate_id: Uuid,
    ) -> Result<MergedAccounts> {
        let pair = MergePair::new(survivor_id, duplicate_id)?;
        let mut transaction = self.pool.begin().await?;
        let [first, second] = pair.lock_order();
        let first = locked_active_account(&mut transaction, caller, first).await?;
        let second = locked_active_account(&mut transaction, caller, second).await?;
        let (survivor, duplicate) = pair.sort([first, second], |account| account.id);

        let (mut merged, _) = account::merge_into_survivor(&survivor, &duplicate);
        let moved_contact_ids =
            store::move_contacts(&mut transaction, duplicate.id, survivor.id).await?;
        let moved_child_account_ids =
            store::move_child_accounts(&mut transaction, duplicate.id, survivor.id).await?;
        // The duplicate's deals count for the survivor from now on (the retired duplicate keeps
        // the figures it had, as it keeps its other values).
        store::tiers::move_deals(&mut transaction, duplicate.id, survivor.id).await?;
        let now = crm_platform::time::now();
        merged.version += 1;
        merged.updated_at = now;
        let mut retired = duplicate.clone();
        retired.status = RecordStatus::Merged;
        retired.merged_into_account_id = Some(survivor.id);
        retired.parent_account_id = None;
        retired.version += 1;
        retired.updated_at = now;
        store::update_account(&mut transaction, &retired).await?;
        store::update_account(&mut transaction, &merged).await?;
        let merge_id = Uuid::now_v7();
        let moved =
            json!({ "contacts": moved_contact_ids, "child_accounts": moved_child_account_ids });
        store::insert_merge(
            &mut transaction,
            &store::MergeRecord {
                id: merge_id,
                kind: "account",
                survivor_id: survivor.id,
                duplicate_id: duplicate.id,
                merged_by: caller.user_id,
                survivor_before: account_snapshot(&survivor),
                duplicate_before: account_snapshot(&duplicate),
                moved: &moved,
            },
        )
        .await?;
        let event = pb::AccountsMerged {
            merge_id: merge_id.to_string(),
            survivor: Some(convert::account(&merged)),
            duplicate_account_id: duplicate.id.to_string(),
            moved_contact_ids: moved_contact_ids.iter().map(Uuid::to_string).collect(),
            moved_child_account_ids: moved_child_account_ids
                .iter()
                .map(Uuid::to_string)
                .collect(),
        };
        self.outbox
            .enqueue_for(
                &mut transaction,
                "account",
                merged.id,
                merged.version,
                &event,
            )
            .await?;
        // With the duplicate's wins (and maybe its override) the survivor's tier may change:
        // announced after the merge, at the next version.
        let settings = store::tiers::tier_settings(&mut transaction).await?;
        let merged = self
            .reevaluate(
                &mut transaction,
                merged,
                &settings,
                super::tiers::today(),
                survivor.tiering.effective(),
                TierChangeReason::AccountsMerged,
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(MergedAccounts {
            survivor: merged,
            merge_id,
            contacts_moved: moved_contact_ids.len(),
            child_accounts_moved: moved_child_account_ids.len(),
        })
    }
}

pub struct MergedAccounts {
    pub survivor: Account,
    pub merge_id: Uuid,
    pub contacts_moved: usize,
    pub child_accounts_moved: usize,
}

impl OwnedRecord for Account {
    const KIND: &'static str = "account";
    fn owner_id(&self) -> Uuid {
        self.owner_id
    }
    fn owner_team_path(&self) -> &TeamPath {
        &self.owner_team_path
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn merged_into(&self) -> Option<Uuid> {
        self.merged_into_account_id
    }
}

/// An active account the caller may see, reported as a field problem when it is not.
pub(super) async fn accessible_active_account(
    connection: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    field: &str,
) -> Result<Account> {
    match store::get_account(connection, id).await? {
        Some(stored)
            if stored.record.status == RecordStatus::Active
                && caller.can_access(stored.record.owner_id, &stored.record.owner_team_path) =>
        {
            Ok(stored.record)
        }
        _ => Err(AccountsError::unusable_reference(
            field,
            "is not an active account you can see",
        )),
    }
}

/// Locks an account the caller may change and checks the expected version.
pub(super) async fn locked_account_for_change(
    connection: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    expected_version: Option<i64>,
) -> Result<Account> {
    locked_for_change(
        caller,
        id,
        store::lock_account(connection, id).await?,
        expected_version,
    )
}

async fn locked_active_account(
    connection: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<Account> {
    let account = locked_account_for_change(connection, caller, id, None).await?;
    if account.status != RecordStatus::Active {
        return Err(AccountsError::NotActive {
            kind: "account",
            id,
            status: account.status,
        });
    }
    Ok(account)
}

fn account_snapshot(account: &Account) -> serde_json::Value {
    json!({
        "id": account.id, "name": account.name, "parent_account_id": account.parent_account_id,
        "industry": account.industry, "region": account.region, "size": account.size as i32,
        "website": account.website, "phone": account.phone, "owner_id": account.owner_id,
        "owner_team_path": account.owner_team_path, "tags": account.tags,
        "custom_fields": account.custom_fields, "version": account.version,
        "key_account": account.key_account, "account_plan": account.account_plan,
        "tier_override": account.tiering.tier_override.map(|tier| tier.number()),
    })
}
