//! Lead conversions: the records leads asks accounts to create.

use crm_platform::{
    auth::{Caller, Role, TeamPath},
    ids::parse_id,
    org::OrgDirectory,
};
use crm_proto::crm::accounts::v1 as pb;
use sqlx::PgConnection;

use super::{Accounts, Result};
use crate::{
    convert,
    domain::{
        RecordStatus,
        account::{self, Account},
        contact::{self, Contact},
    },
    error::AccountsError,
    store,
};

impl Accounts {
    /// Creates what a converted lead asks for (leads chose the ids): the account when it is
    /// new, and the contact. Runs inside the event consumer's transaction; a record that
    /// already exists (a redelivery) is left alone.
    pub async fn apply_lead_conversion(
        &self,
        connection: &mut PgConnection,
        event: &crm_proto::crm::leads::v1::LeadConverted,
    ) -> Result<()> {
        let owner_id = parse_id("owner_id", &event.owner_id)?;
        let owner_team_path = TeamPath::parse(&event.owner_team_path)
            .map_err(|e| AccountsError::invalid("owner_team_path", e))?;
        let owner = Caller {
            user_id: owner_id,
            role: Role::Rep,
            team_path: owner_team_path,
            scopes: None,
        };
        self.remember(connection, &owner).await?;
        // The event's team is the lead's at conversion, which may predate a move this service
        // has already applied: the directory decides where the new records are filed.
        let owner_team_path = self.filing_team(connection, &owner).await?;
        let account_id = parse_id("account_id", &event.account_id)?;
        let now = crm_platform::time::now();
        let calling_code = OrgDirectory::settings(&mut *connection)
            .await?
            .default_calling_code;
        if event.account_is_new {
            let input = pb::AccountInput {
                name: event.account_name.clone(),
                website: event.account_website.clone(),
                phone: event.account_phone.clone(),
                industry: event.account_industry.clone(),
                region: event.account_region.clone(),
                ..Default::default()
            };
            let mut new =
                account::validate_new_account(&input, calling_code.as_deref()).or_else(|_| {
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
                owner_team_path: owner_team_path.clone(),
                tags: new.tags,
                custom_fields: Default::default(),
                status: RecordStatus::Active,
                merged_into_account_id: None,
                version: 1,
                created_at: now,
                updated_at: now,
                key_account: false,
                account_plan: String::new(),
                tiering: self.initial_tiering(connection, account_id).await?,
            };
            if store::insert_account(connection, &account, owner_id).await? {
                let event = pb::AccountCreated {
                    account: Some(convert::account(&account)),
                };
                self.outbox
                    .enqueue_for(connection, "account", account.id, account.version, &event)
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
        let contact_id = parse_id("contact_id", &event.contact_id)?;
        let input = pb::ContactInput {
            account_id: target.record.id.to_string(),
            full_name: event.contact_full_name.clone(),
            email: event.contact_email.clone(),
            phone: event.contact_phone.clone(),
            title: event.contact_title.clone(),
            ..Default::default()
        };
        let new = contact::validate_new_contact(&input, calling_code.as_deref()).or_else(|_| {
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
            owner_team_path,
            status: RecordStatus::Active,
            merged_into_contact_id: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        if store::insert_contact(connection, &contact, owner_id).await? {
            let event = pb::ContactCreated {
                contact: Some(convert::contact(&contact)),
            };
            self.outbox
                .enqueue_for(connection, "contact", contact.id, contact.version, &event)
                .await?;
        }
        Ok(())
    }
}
