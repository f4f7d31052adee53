//! The accounts use cases: each one a transaction that checks access, applies the domain
//! rules, writes the records and their events (outbox) together.

use crm_platform::{
    auth::{Caller, Role, TeamPath},
    outbox::{Aggregate, Outbox},
    paging::Page,
};
use crm_proto::crm::accounts::v1 as pb;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{
    convert,
    domain::{
        RecordStatus,
        account::{self, Account, AccountChanges, NewAccount},
        contact::{self, Contact, ContactChanges, NewContact},
        duplicates::{self, Candidate, ScoredCandidate},
    },
    error::AccountsError,
    store::{self, AccountFilter, ContactFilter, Sort},
};

type Result<T> = std::result::Result<T, AccountsError>;

/// The accounts service's use cases over its database and outbox.
#[derive(Clone)]
pub struct Accounts {
    pool: PgPool,
    outbox: Outbox,
    /// Users whose team is already recorded as it is (see [`Accounts::remember`]).
    known_users: Arc<Mutex<HashMap<Uuid, TeamPath>>>,
    /// Calling code for national phone numbers ("86"), from `CRM_DEFAULT_CALLING_CODE`.
    default_calling_code: Option<String>,
}

/// A page of records and the cursor of the last one, if more follow.
pub struct Listing<T> {
    pub records: Vec<T>,
    pub next_page_token: String,
}

impl Accounts {
    pub fn new(pool: PgPool, outbox: Outbox, default_calling_code: Option<String>) -> Self {
        Self {
            pool,
            outbox,
            known_users: Arc::default(),
            default_calling_code,
        }
    }

    /// Records the caller's team unless this process has seen it recorded: a database read
    /// saved on nearly every write. Only a committed, confirmed row is cached.
    async fn remember(&self, connection: &mut PgConnection, caller: &Caller) -> Result<()> {
        let cached = self
            .known_users
            .lock()
            .expect("known users lock poisoned")
            .get(&caller.user_id)
            == Some(&caller.team_path);
        if cached {
            return Ok(());
        }
        if store::remember_user(connection, caller).await? {
            self.known_users
                .lock()
                .expect("known users lock poisoned")
                .insert(caller.user_id, caller.team_path.clone());
        }
        Ok(())
    }

    pub fn default_calling_code(&self) -> Option<&str> {
        self.default_calling_code.as_deref()
    }

    // ---- accounts ----

    pub async fn create_account(
        &self,
        caller: &Caller,
        new: NewAccount,
        reject_likely_duplicates: bool,
        requested_id: Option<Uuid>,
    ) -> Result<(Account, Vec<ScoredCandidate>)> {
        let mut transaction = self.pool.begin().await?;
        self.remember(&mut transaction, caller).await?;
        let (owner_id, owner_team_path) =
            resolve_owner(&mut transaction, caller, new.owner_id, "account.owner_id").await?;
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
                    visible: can_access(caller, candidate.owner_id, &candidate.owner_team_path),
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
        let account = Account {
            id: requested_id.unwrap_or_else(Uuid::now_v7),
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
        };
        if !store::insert_account(&mut transaction, &account, caller.user_id).await? {
            // The id exists: a retried create returns the first result, anything else conflicts.
            let existing = store::get_account(&mut transaction, account.id).await?;
            return match existing {
                Some(existing) if existing.created_by == caller.user_id => {
                    Ok((existing.record, Vec::new()))
                }
                _ => Err(AccountsError::AlreadyExists(format!(
                    "account {} already exists",
                    account.id
                ))),
            };
        }
        self.publish_account(&mut transaction, &account, |account| pb::AccountCreated {
            account: Some(account),
        })
        .await?;
        self.outbox.commit(transaction).await?;
        Ok((account, scored))
    }

    pub async fn get_account(&self, caller: &Caller, id: Uuid) -> Result<Account> {
        let mut connection = self.pool.acquire().await?;
        match store::get_account(&mut connection, id).await? {
            Some(stored)
                if can_access(
                    caller,
                    stored.record.owner_id,
                    &stored.record.owner_team_path,
                ) =>
            {
                Ok(stored.record)
            }
            _ => Err(AccountsError::NotFound {
                kind: "account",
                id,
            }),
        }
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
            owner_team_path =
                resolve_owner(&mut transaction, caller, Some(owner_id), "patch.owner_id")
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
        self.publish_account(&mut transaction, &updated, |account| pb::AccountUpdated {
            account: Some(account),
            changed_fields,
        })
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
            return Err(AccountsError::FailedPrecondition(format!(
                "account {id} is already archived"
            )));
        }
        account.status = RecordStatus::Archived;
        account.version += 1;
        account.updated_at = crm_platform::time::now();
        store::update_account(&mut transaction, &account).await?;
        self.publish_account(&mut transaction, &account, |account| pb::AccountArchived {
            account: Some(account),
        })
        .await?;
        self.outbox.commit(transaction).await?;
        Ok(account)
    }

    pub async fn list_accounts(
        &self,
        caller: &Caller,
        filter: &AccountFilter,
        sort: Sort,
        page: &Page,
    ) -> Result<Listing<Account>> {
        let mut connection = self.pool.acquire().await?;
        let mut records =
            store::list_accounts(&mut connection, &caller.visibility(), filter, sort, page).await?;
        let next_page_token = next_page(&mut records, page, |a| {
            store::cursor_after(sort, &a.name, a.created_at, a.updated_at, a.id).encode()
        });
        Ok(Listing {
            records,
            next_page_token,
        })
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
                    visible: can_access(caller, candidate.owner_id, &candidate.owner_team_path),
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
        if survivor_id == duplicate_id {
            return Err(AccountsError::invalid(
                "duplicate_id",
                "must differ from survivor_id",
            ));
        }
        let mut transaction = self.pool.begin().await?;
        // Lock in id order so two merges of the same pair cannot deadlock.
        let (first, second) = if survivor_id < duplicate_id {
            (survivor_id, duplicate_id)
        } else {
            (duplicate_id, survivor_id)
        };
        let first = locked_active_account(&mut transaction, caller, first).await?;
        let second = locked_active_account(&mut transaction, caller, second).await?;
        let (survivor, duplicate) = if first.id == survivor_id {
            (first, second)
        } else {
            (second, first)
        };

        let (mut merged, _) = account::merge_into_survivor(&survivor, &duplicate);
        let moved_contact_ids =
            store::move_contacts(&mut transaction, duplicate.id, survivor.id).await?;
        let moved_child_account_ids =
            store::move_child_accounts(&mut transaction, duplicate.id, survivor.id).await?;
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
        let survivor_id_text = merged.id.to_string();
        self.outbox
            .enqueue(
                &mut transaction,
                Aggregate {
                    kind: "account",
                    id: &survivor_id_text,
                    version: merged.version,
                },
                &event,
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

    /// Creates what a converted lead asks for (leads chose the ids): the account when it is
    /// new, and the contact. Runs inside the event consumer's transaction; a record that
    /// already exists (a redelivery) is left alone.
    pub async fn apply_lead_conversion(
        &self,
        connection: &mut PgConnection,
        event: &crm_proto::crm::leads::v1::LeadConverted,
    ) -> Result<()> {
        let owner_id = Uuid::parse_str(&event.owner_id)
            .map_err(|_| AccountsError::invalid("owner_id", "is not a valid id"))?;
        let owner_team_path = TeamPath::parse(&event.owner_team_path)
            .map_err(|e| AccountsError::invalid("owner_team_path", e))?;
        let owner = Caller {
            user_id: owner_id,
            role: Role::Rep,
            team_path: owner_team_path.clone(),
        };
        self.remember(connection, &owner).await?;
        let account_id = Uuid::parse_str(&event.account_id)
            .map_err(|_| AccountsError::invalid("account_id", "is not a valid id"))?;
        let now = crm_platform::time::now();
        if event.account_is_new {
            let input = pb::AccountInput {
                name: event.account_name.clone(),
                website: event.account_website.clone(),
                phone: event.account_phone.clone(),
                industry: event.account_industry.clone(),
                region: event.account_region.clone(),
                ..Default::default()
            };
            let mut new = account::validate_new_account(&input, self.default_calling_code())
                .or_else(|_| {
                    // Lead data is captured loosely; a bad website or phone must not block the
                    // account itself.
                    account::validate_new_account(
                        &pb::AccountInput {
                            name: input.name.clone(),
                            industry: input.industry.clone(),
                            region: input.region.clone(),
                            ..Default::default()
                        },
                        None,
                    )
                })?;
            new.tags.push("from-lead".to_owned());
            let account = Account {
                id: account_id,
                name: new.name,
                parent_account_id: None,
                industry: new.industry,
                region: new.region,
                size: new.size,
                website: new.website,
                phone: new.phone,
                owner_id,
                owner_team_path: owner_team_path.to_string(),
                tags: new.tags,
                custom_fields: Default::default(),
                status: RecordStatus::Active,
                merged_into_account_id: None,
                version: 1,
                created_at: now,
                updated_at: now,
            };
            if store::insert_account(connection, &account, owner_id).await? {
                self.publish_account(connection, &account, |account| pb::AccountCreated {
                    account: Some(account),
                })
                .await?;
            }
        }
        // The account may have been merged since leads matched it: follow to the survivor.
        let mut target = store::get_account(connection, account_id).await?;
        while let Some(into) = target
            .as_ref()
            .and_then(|stored| stored.record.merged_into_account_id)
        {
            target = store::get_account(connection, into).await?;
        }
        let Some(target) = target else {
            return Err(AccountsError::invalid(
                "account_id",
                format!("account {account_id} does not exist"),
            ));
        };
        let contact_id = Uuid::parse_str(&event.contact_id)
            .map_err(|_| AccountsError::invalid("contact_id", "is not a valid id"))?;
        let input = pb::ContactInput {
            account_id: target.record.id.to_string(),
            full_name: event.contact_full_name.clone(),
            email: event.contact_email.clone(),
            phone: event.contact_phone.clone(),
            title: event.contact_title.clone(),
            ..Default::default()
        };
        let new =
            contact::validate_new_contact(&input, self.default_calling_code()).or_else(|_| {
                contact::validate_new_contact(
                    &pb::ContactInput {
                        account_id: input.account_id.clone(),
                        full_name: input.full_name.clone(),
                        title: input.title.clone(),
                        ..Default::default()
                    },
                    None,
                )
            })?;
        let contact = Contact {
            id: contact_id,
            account_id: target.record.id,
            full_name: new.full_name,
            title: new.title,
            email: new.email,
            phone: new.phone,
            mobile: None,
            wechat: String::new(),
            buying_role: pb::BuyingRole::Unspecified,
            important_dates: Vec::new(),
            owner_id,
            owner_team_path: owner_team_path.to_string(),
            status: RecordStatus::Active,
            merged_into_contact_id: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        if store::insert_contact(connection, &contact, owner_id).await? {
            self.publish_contact(connection, &contact, |contact| pb::ContactCreated {
                contact: Some(contact),
            })
            .await?;
        }
        Ok(())
    }

    async fn publish_account<E: crm_platform::events::DomainEvent>(
        &self,
        connection: &mut PgConnection,
        account: &Account,
        event: impl FnOnce(pb::Account) -> E,
    ) -> Result<()> {
        let id = account.id.to_string();
        self.outbox
            .enqueue(
                connection,
                Aggregate {
                    kind: "account",
                    id: &id,
                    version: account.version,
                },
                &event(convert::account(account)),
            )
            .await?;
        Ok(())
    }

    // ---- contacts ----

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
                resolve_owner(&mut transaction, caller, Some(owner_id), "contact.owner_id").await?
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
                _ => Err(AccountsError::AlreadyExists(format!(
                    "contact {} already exists",
                    contact.id
                ))),
            };
        }
        self.publish_contact(&mut transaction, &contact, |contact| pb::ContactCreated {
            contact: Some(contact),
        })
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
                            visible: can_access(
                                caller,
                                candidate.owner_id,
                                &candidate.owner_team_path,
                            ),
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
        match store::get_contact(&mut connection, id).await? {
            Some(stored)
                if can_access(
                    caller,
                    stored.record.owner_id,
                    &stored.record.owner_team_path,
                ) =>
            {
                Ok(stored.record)
            }
            _ => Err(AccountsError::NotFound {
                kind: "contact",
                id,
            }),
        }
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
            owner_team_path =
                resolve_owner(&mut transaction, caller, Some(owner_id), "patch.owner_id")
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
        self.publish_contact(&mut transaction, &updated, |contact| pb::ContactUpdated {
            contact: Some(contact),
            changed_fields,
        })
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
            return Err(AccountsError::FailedPrecondition(format!(
                "contact {id} is already archived"
            )));
        }
        contact.status = RecordStatus::Archived;
        contact.version += 1;
        contact.updated_at = crm_platform::time::now();
        store::update_contact(&mut transaction, &contact).await?;
        self.publish_contact(&mut transaction, &contact, |contact| pb::ContactArchived {
            contact: Some(contact),
        })
        .await?;
        self.outbox.commit(transaction).await?;
        Ok(contact)
    }

    pub async fn list_contacts(
        &self,
        caller: &Caller,
        filter: &ContactFilter,
        sort: Sort,
        page: &Page,
    ) -> Result<Listing<Contact>> {
        let mut connection = self.pool.acquire().await?;
        let mut records =
            store::list_contacts(&mut connection, &caller.visibility(), filter, sort, page).await?;
        let next_page_token = next_page(&mut records, page, |c| {
            store::cursor_after(sort, &c.full_name, c.created_at, c.updated_at, c.id).encode()
        });
        Ok(Listing {
            records,
            next_page_token,
        })
    }

    pub async fn merge_contacts(
        &self,
        caller: &Caller,
        survivor_id: Uuid,
        duplicate_id: Uuid,
    ) -> Result<(Contact, Uuid)> {
        if survivor_id == duplicate_id {
            return Err(AccountsError::invalid(
                "duplicate_id",
                "must differ from survivor_id",
            ));
        }
        let mut transaction = self.pool.begin().await?;
        let (first, second) = if survivor_id < duplicate_id {
            (survivor_id, duplicate_id)
        } else {
            (duplicate_id, survivor_id)
        };
        let first = locked_contact_for_change(&mut transaction, caller, first, None).await?;
        let second = locked_contact_for_change(&mut transaction, caller, second, None).await?;
        let (survivor, duplicate) = if first.id == survivor_id {
            (first, second)
        } else {
            (second, first)
        };
        for contact in [&survivor, &duplicate] {
            if contact.status != RecordStatus::Active {
                return Err(AccountsError::FailedPrecondition(format!(
                    "contact {} is not active",
                    contact.id
                )));
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
        let survivor_id_text = merged.id.to_string();
        self.outbox
            .enqueue(
                &mut transaction,
                Aggregate {
                    kind: "contact",
                    id: &survivor_id_text,
                    version: merged.version,
                },
                &event,
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok((merged, merge_id))
    }

    async fn publish_contact<E: crm_platform::events::DomainEvent>(
        &self,
        connection: &mut PgConnection,
        contact: &Contact,
        event: impl FnOnce(pb::Contact) -> E,
    ) -> Result<()> {
        let id = contact.id.to_string();
        self.outbox
            .enqueue(
                connection,
                Aggregate {
                    kind: "contact",
                    id: &id,
                    version: contact.version,
                },
                &event(convert::contact(contact)),
            )
            .await?;
        Ok(())
    }
}

pub struct MergedAccounts {
    pub survivor: Account,
    pub merge_id: Uuid,
    pub contacts_moved: usize,
    pub child_accounts_moved: usize,
}

fn can_access(caller: &Caller, owner_id: Uuid, owner_team_path: &str) -> bool {
    match TeamPath::parse(owner_team_path) {
        Ok(path) => caller.can_access(owner_id, &path),
        Err(_) => caller.role == Role::Admin,
    }
}

/// Who will own a record: the caller, or (for managers and admins) a user in their reach.
async fn resolve_owner(
    connection: &mut PgConnection,
    caller: &Caller,
    requested: Option<Uuid>,
    field: &str,
) -> Result<(Uuid, String)> {
    let Some(owner_id) = requested.filter(|owner| *owner != caller.user_id) else {
        return Ok((caller.user_id, caller.team_path.to_string()));
    };
    if caller.role == Role::Rep {
        return Err(AccountsError::PermissionDenied(
            "only managers and admins may give records to someone else".to_owned(),
        ));
    }
    let Some(team_path) = store::user_team(connection, owner_id).await? else {
        return Err(AccountsError::invalid(
            field,
            "is not a user known to this service",
        ));
    };
    if !can_access(caller, owner_id, &team_path) {
        return Err(AccountsError::PermissionDenied(format!(
            "user {owner_id} is outside your team"
        )));
    }
    Ok((owner_id, team_path))
}

/// An active account the caller may see, reported as a field problem when it is not.
async fn accessible_active_account(
    connection: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    field: &str,
) -> Result<Account> {
    match store::get_account(connection, id).await? {
        Some(stored)
            if stored.record.status == RecordStatus::Active
                && can_access(
                    caller,
                    stored.record.owner_id,
                    &stored.record.owner_team_path,
                ) =>
        {
            Ok(stored.record)
        }
        _ => Err(AccountsError::invalid(
            field,
            "is not an active account you can see",
        )),
    }
}

/// Locks an account the caller may change and checks the expected version.
async fn locked_account_for_change(
    connection: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    expected_version: Option<i64>,
) -> Result<Account> {
    let account = match store::lock_account(connection, id).await? {
        Some(account) if can_access(caller, account.owner_id, &account.owner_team_path) => account,
        _ => {
            return Err(AccountsError::NotFound {
                kind: "account",
                id,
            });
        }
    };
    if let Some(into) = account.merged_into_account_id {
        return Err(AccountsError::FailedPrecondition(format!(
            "account {id} was merged into {into}"
        )));
    }
    if let Some(expected) = expected_version
        && expected != account.version
    {
        return Err(AccountsError::VersionConflict {
            kind: "account",
            id,
            expected,
            actual: account.version,
        });
    }
    Ok(account)
}

async fn locked_active_account(
    connection: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<Account> {
    let account = locked_account_for_change(connection, caller, id, None).await?;
    if account.status != RecordStatus::Active {
        return Err(AccountsError::FailedPrecondition(format!(
            "account {id} is not active"
        )));
    }
    Ok(account)
}

async fn locked_contact_for_change(
    connection: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    expected_version: Option<i64>,
) -> Result<Contact> {
    let contact = match store::lock_contact(connection, id).await? {
        Some(contact) if can_access(caller, contact.owner_id, &contact.owner_team_path) => contact,
        _ => {
            return Err(AccountsError::NotFound {
                kind: "contact",
                id,
            });
        }
    };
    if let Some(into) = contact.merged_into_contact_id {
        return Err(AccountsError::FailedPrecondition(format!(
            "contact {id} was merged into {into}"
        )));
    }
    if let Some(expected) = expected_version
        && expected != contact.version
    {
        return Err(AccountsError::VersionConflict {
            kind: "contact",
            id,
            expected,
            actual: contact.version,
        });
    }
    Ok(contact)
}

/// Trims the extra row fetched to detect a next page and returns the next page's token.
fn next_page<T>(records: &mut Vec<T>, page: &Page, cursor: impl Fn(&T) -> String) -> String {
    if records.len() <= page.size as usize {
        return String::new();
    }
    records.truncate(page.size as usize);
    records.last().map(cursor).unwrap_or_default()
}

fn describe_matches(scored: &[ScoredCandidate]) -> String {
    scored
        .iter()
        .filter(|candidate| candidate.is_likely())
        .map(|candidate| {
            if candidate.visible {
                format!(
                    "{} ({}, score {})",
                    candidate.display_name, candidate.id, candidate.score
                )
            } else {
                format!("a record owned by another team (score {})", candidate.score)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn account_snapshot(account: &Account) -> serde_json::Value {
    json!({
        "id": account.id, "name": account.name, "parent_account_id": account.parent_account_id,
        "industry": account.industry, "region": account.region, "size": account.size as i32,
        "website": account.website, "phone": account.phone, "owner_id": account.owner_id,
        "owner_team_path": account.owner_team_path, "tags": account.tags,
        "custom_fields": account.custom_fields, "version": account.version,
    })
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
