//! Contact use cases.

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
        contact::{self, Contact, ContactChanges, NewContact},
        duplicates::{self, Candidate, ScoredCandidate},
    },
    error::AccountsError,
    store::{self, ContactFilter},
};

use super::accounts::accessible_active_account;

impl Accounts {
    pub async fn create_contact(
        &self,
        caller: &Caller,
        new: NewContact,
        reject_likely_duplicates: bool,
        requested_id: Option<Uuid>,
    ) -> Result<(Contact, Vec<ScoredCandidate>)> {
        let mut transaction = self.pool.begin().await?;
        self.remember(&mut transaction, caller).await?;
        let account = accessible_active_account(
            &mut transaction,
            caller,
            new.account_id,
            "contact.account_id",
        )
        .await?;
        // A contact belongs to the account's owner unless someone else is named.
        let (owner_id, owner_team_path) = match new.owner_id {
            Some(owner_id) => {
                resolve_owner(
                    self,
                    &mut transaction,
                    caller,
                    Some(owner_id),
                    "contact.owner_id",
                )
                .await?
            }
            None => (account.owner_id, account.owner_team_path.clone()),
        };
        let name_key = crm_contact_data::normalize_person_name(&new.full_name);
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('contact:' || $1 || $2))")
            .bind(account.id.to_string())
            .bind(&name_key)
            .execute(&mut *transaction)
            .await?;
        let scored = self
            .scored_contact_candidates(
                &mut transaction,
                caller,
                account.id,
                &new.full_name,
                new.email.as_deref(),
                &[&new.phone, &new.mobile],
                None,
            )
            .await?;
        if reject_likely_duplicates && scored.iter().any(ScoredCandidate::is_likely) {
            return Err(AccountsError::LikelyDuplicate {
                kind: "contact",
                matches: describe_matches(&scored),
            });
        }
        let now = crm_platform::time::now();
        let contact = Contact {
            id: requested_id.unwrap_or_else(Uuid::now_v7),
            account_id: account.id,
            full_name: new.full_name,
            title: new.title,
            email: new.email,
            phone: new.phone,
            mobile: new.mobile,
            wechat: new.wechat,
            buying_role: new.buying_role,
            important_dates: new.important_dates,
            owner_id,
            owner_team_path,
            status: RecordStatus::Active,
            merged_into_contact_id: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        if !store::insert_contact(&mut transaction, &contact, caller.user_id).await? {
            let existing = store::get_contact(&mut transaction, contact.id).await?;
            return match existing {
                Some(existing) if existing.created_by == caller.user_id => {
                    Ok((existing.record, Vec::new()))
                }
                _ => Err(AccountsError::IdTaken {
                    kind: "contact",
                    id: contact.id,
                }),
            };
        }
        self.outbox
            .enqueue_for(
                &mut transaction,
                "contact",
                contact.id,
                contact.version,
                &pb::ContactCreated {
                    contact: Some(convert::contact(&contact)),
                },
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok((contact, scored))
    }

    #[allow(clippy::too_many_arguments)]
    async fn scored_contact_candidates(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        account_id: Uuid,
        full_name: &str,
        email: Option<&str>,
        phones: &[&Option<String>],
        exclude: Option<Uuid>,
    ) -> Result<Vec<ScoredCandidate>> {
        let phones: Vec<String> = phones.iter().filter_map(|phone| (*phone).clone()).collect();
        let probe_phone = phones.first().map(String::as_str);
        let probe = duplicates::contact_points(account_id, full_name, email, probe_phone);
        let name_key = probe.person_key.clone().unwrap_or_default();
        let candidates = store::contact_duplicate_candidates(
            connection, account_id, &name_key, email, &phones, exclude,
        )
        .await?;
        let mut scored = Vec::new();
        for candidate in candidates {
            // Either of a contact's two numbers may be the shared one.
            let best = [candidate.phone.as_deref(), candidate.mobile.as_deref()]
                .into_iter()
                .flat_map(|phone| {
                    duplicates::score_candidates(
                        &probe,
                        vec![Candidate {
                            id: candidate.id,
                            display_name: candidate.full_name.clone(),
                            points: duplicates::contact_points(
                                candidate.account_id,
                                &candidate.full_name,
                                candidate.email.as_deref(),
                                phone,
                            ),
                            visible: caller
                                .can_access(candidate.owner_id, &candidate.owner_team_path),
                        }],
                    )
                })
                .max_by_key(|scored| scored.score);
            scored.extend(best);
        }
        scored.sort_by(|a, b| b.score.cmp(&a.score).then(a.id.cmp(&b.id)));
        Ok(scored)
    }

    pub async fn get_contact(&self, caller: &Caller, id: Uuid) -> Result<Contact> {
        let mut connection = self.pool.acquire().await?;
        let stored = store::get_contact(&mut connection, id).await?;
        visible(caller, id, stored.map(|stored| stored.record))
    }

    pub async fn update_contact(
        &self,
        caller: &Caller,
        id: Uuid,
        changes: ContactChanges,
        replace_important_dates: bool,
        expected_version: Option<i64>,
    ) -> Result<Contact> {
        let mut transaction = self.pool.begin().await?;
        self.remember(&mut transaction, caller).await?;
        let current =
            locked_contact_for_change(&mut transaction, caller, id, expected_version).await?;
        if let Some(account_id) = changes
            .account_id
            .filter(|account| *account != current.account_id)
        {
            accessible_active_account(&mut transaction, caller, account_id, "patch.account_id")
                .await?;
        }
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
        let (mut updated, changed) =
            contact::apply_contact_changes(&current, &changes, replace_important_dates);
        if changed.is_empty() {
            return Ok(current);
        }
        updated.owner_team_path = owner_team_path;
        updated.version += 1;
        updated.updated_at = crm_platform::time::now();
        store::update_contact(&mut transaction, &updated).await?;
        let changed_fields: Vec<String> = changed.iter().map(|field| field.to_string()).collect();
        self.outbox
            .enqueue_for(
                &mut transaction,
                "contact",
                updated.id,
                updated.version,
                &pb::ContactUpdated {
                    contact: Some(convert::contact(&updated)),
                    changed_fields,
                },
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(updated)
    }

    pub async fn archive_contact(
        &self,
        caller: &Caller,
        id: Uuid,
        expected_version: Option<i64>,
    ) -> Result<Contact> {
        let mut transaction = self.pool.begin().await?;
        let mut contact =
            locked_contact_for_change(&mut transaction, caller, id, expected_version).await?;
        if contact.status == RecordStatus::Archived {
            return Err(AccountsError::IllegalTransition {
                kind: "contact",
                id,
                from: contact.status,
                to: RecordStatus::Archived,
            });
        }
        contact.status = RecordStatus::Archived;
        contact.version += 1;
        contact.updated_at = crm_platform::time::now();
        store::update_contact(&mut transaction, &contact).await?;
        self.outbox
            .enqueue_for(
                &mut transaction,
                "contact",
                contact.id,
                contact.version,
                &pb::ContactArchived {
                    contact: Some(convert::contact(&contact)),
                },
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(contact)
    }

    pub async fn list_contacts(
        &self,
        caller: &Caller,
        filter: &ContactFilter,
        page: &Page,
    ) -> Result<Listing<Contact>> {
        let mut connection = self.pool.acquire().await?;
        let rows =
            store::list_contacts(&mut connection, &caller.visibility(), filter, page).await?;
        Ok(Listing::from_rows(rows, page, |record| {
            (
                store::sort_key(
                    page.order,
                    &record.full_name,
                    record.created_at,
                    record.updated_at,
                ),
                record.id,
            )
        }))
    }

    pub async fn merge_contacts(
        &self,
        caller: &Caller,
        survivor_id: Uuid,
        duplicate_id: Uuid,
    ) -> Result<(Contact, Uuid)> {
        let pair = MergePair::new(survivor_id, duplicate_id)?;
        let mut transaction = self.pool.begin().await?;
        let [first, second] = pair.lock_order();
        let first = locked_contact_for_change(&mut transaction, caller, first, None).await?;
        let second = locked_contact_for_change(&mut transaction, caller, second, None).await?;
        let (survivor, duplicate) = pair.sort([first, second], |contact| contact.id);
        for contact in [&survivor, &duplicate] {
            if contact.status != RecordStatus::Active {
                return Err(AccountsError::NotActive {
                    kind: "contact",
                    id: contact.id,
                    status: contact.status,
                });
            }
        }
        let (mut merged, _) = contact::merge_contact_into_survivor(&survivor, &duplicate);
        let now = crm_platform::time::now();
        merged.version += 1;
        merged.updated_at = now;
        let mut retired = duplicate.clone();
        retired.status = RecordStatus::Merged;
        retired.merged_into_contact_id = Some(survivor.id);
        retired.version += 1;
        retired.updated_at = now;
        store::update_contact(&mut transaction, &retired).await?;
        store::update_contact(&mut transaction, &merged).await?;
        let merge_id = Uuid::now_v7();
        store::insert_merge(
            &mut transaction,
            &store::MergeRecord {
                id: merge_id,
                kind: "contact",
                survivor_id: survivor.id,
                duplicate_id: duplicate.id,
                merged_by: caller.user_id,
                survivor_before: contact_snapshot(&survivor),
                duplicate_before: contact_snapshot(&duplicate),
                moved: &json!({}),
            },
        )
        .await?;
        let event = pb::ContactsMerged {
            merge_id: merge_id.to_string(),
            survivor: Some(convert::contact(&merged)),
            duplicate_contact_id: duplicate.id.to_string(),
        };
        self.outbox
            .enqueue_for(
                &mut transaction,
                "contact",
                merged.id,
                merged.version,
                &event,
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok((merged, merge_id))
    }
}

impl OwnedRecord for Contact {
    const KIND: &'static str = "contact";
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
        self.merged_into_contact_id
    }
}

/// Locks a contact the caller may change and checks the expected version.
async fn locked_contact_for_change(
    connection: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    expected_version: Option<i64>,
) -> Result<Contact> {
    locked_for_change(
        caller,
        id,
        store::lock_contact(connection, id).await?,
        expected_version,
    )
}

fn contact_snapshot(contact: &Contact) -> serde_json::Value {
    json!({
        "id": contact.id, "account_id": contact.account_id, "full_name": contact.full_name,
        "title": contact.title, "email": contact.email, "phone": contact.phone,
        "mobile": contact.mobile, "wechat": contact.wechat, "buying_role": contact.buying_role as i32,
        "important_dates": contact.important_dates, "owner_id": contact.owner_id,
        "owner_team_path": contact.owner_team_path, "version": contact.version,
    })
}
