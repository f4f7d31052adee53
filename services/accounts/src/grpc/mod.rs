//! The gRPC API: requests to domain inputs, results to responses. Every call is authenticated
//! by the platform interceptor; visibility is enforced in `service`.

mod tiers;

use crm_platform::{
    auth::{Caller, caller},
    error::FieldViolation,
    ids::{expected_version, parse_id, parse_optional_id},
    paging::{KeyKind, Page, SortOrder},
};
use crm_proto::crm::{
    accounts::v1::{self as pb, account_service_server::AccountService},
    common::v1::SortDirection,
};
use tonic::{Request, Response, Status};

use crate::{
    convert,
    domain::{account, contact},
    error::AccountsError,
    service::Accounts,
    store::{AccountFilter, ContactFilter},
};

pub struct AccountsApi {
    accounts: Accounts,
}

impl AccountsApi {
    pub fn new(accounts: Accounts) -> Self {
        Self { accounts }
    }
}

fn optional_text(value: &str) -> Option<String> {
    Some(value.trim().to_owned()).filter(|v| !v.is_empty())
}

fn reject(policy: i32) -> Result<bool, AccountsError> {
    match pb::DuplicatePolicy::try_from(policy) {
        Ok(pb::DuplicatePolicy::Reject) => Ok(true),
        Ok(_) => Ok(false),
        Err(_) => Err(AccountsError::invalid(
            "duplicate_policy",
            format!("{policy} is not a known policy"),
        )),
    }
}

/// The listing's order: `column` in the requested direction.
fn order(column: &'static str, kind: KeyKind, direction: i32) -> Result<SortOrder, AccountsError> {
    let descending = match SortDirection::try_from(direction) {
        Ok(SortDirection::Descending) => true,
        Ok(_) => false,
        Err(_) => {
            return Err(AccountsError::invalid(
                "sort_direction",
                format!("{direction} is not a direction"),
            ));
        }
    };
    Ok(SortOrder::new(column, kind, descending))
}

fn page(
    request: Option<&crm_proto::crm::common::v1::PageRequest>,
    order: SortOrder,
) -> Result<Page, AccountsError> {
    Ok(Page::parse(request, order)?)
}

fn authenticated<T>(request: &Request<T>) -> Result<Caller, Status> {
    caller(request)
}

#[tonic::async_trait]
impl AccountService for AccountsApi {
    async fn create_account(
        &self,
        request: Request<pb::CreateAccountRequest>,
    ) -> Result<Response<pb::CreateAccountResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let input = request
            .account
            .ok_or_else(|| AccountsError::invalid("account", "is required"))?;
        let new = self
            .accounts
            .validate_with_calling_code(|code| account::validate_new_account(&input, code))
            .await?
            .map_err(AccountsError::from)?;
        let requested_id = parse_optional_id("account_id", &request.account_id)?;
        let (account, duplicates) = self
            .accounts
            .create_account(
                &caller,
                new,
                reject(request.duplicate_policy)?,
                requested_id,
            )
            .await?;
        Ok(Response::new(pb::CreateAccountResponse {
            account: Some(convert::account(&account)),
            possible_duplicates: duplicates
                .iter()
                .map(|c| convert::candidate(c, false))
                .collect(),
        }))
    }

    async fn get_account(
        &self,
        request: Request<pb::GetAccountRequest>,
    ) -> Result<Response<pb::GetAccountResponse>, Status> {
        let caller = authenticated(&request)?;
        let account_id = parse_id("account_id", &request.get_ref().account_id)?;
        let account = self.accounts.get_account(&caller, account_id).await?;
        Ok(Response::new(pb::GetAccountResponse {
            account: Some(convert::account(&account)),
        }))
    }

    async fn update_account(
        &self,
        request: Request<pb::UpdateAccountRequest>,
    ) -> Result<Response<pb::UpdateAccountResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let account_id = parse_id("account_id", &request.account_id)?;
        let patch = request.patch.unwrap_or_default();
        let changes = self
            .accounts
            .validate_with_calling_code(|code| account::validate_patch(&patch, code))
            .await?
            .map_err(AccountsError::from)?;
        let account = self
            .accounts
            .update_account(
                &caller,
                account_id,
                changes,
                patch.replace_tags,
                expected_version("expected_version", request.expected_version)?,
            )
            .await?;
        Ok(Response::new(pb::UpdateAccountResponse {
            account: Some(convert::account(&account)),
        }))
    }

    async fn archive_account(
        &self,
        request: Request<pb::ArchiveAccountRequest>,
    ) -> Result<Response<pb::ArchiveAccountResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let account_id = parse_id("account_id", &request.account_id)?;
        let account = self
            .accounts
            .archive_account(
                &caller,
                account_id,
                expected_version("expected_version", request.expected_version)?,
            )
            .await?;
        Ok(Response::new(pb::ArchiveAccountResponse {
            account: Some(convert::account(&account)),
        }))
    }

    async fn list_accounts(
        &self,
        request: Request<pb::ListAccountsRequest>,
    ) -> Result<Response<pb::ListAccountsResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let (column, kind) = match pb::AccountSortField::try_from(request.sort_by) {
            Ok(pb::AccountSortField::Name) => ("name", KeyKind::Text),
            Ok(pb::AccountSortField::UpdatedAt) => ("updated_at", KeyKind::Time),
            Ok(_) => ("created_at", KeyKind::Time),
            Err(_) => {
                return Err(AccountsError::invalid("sort_by", "is not a sortable field").into());
            }
        };
        let page = page(
            request.page.as_ref(),
            order(column, kind, request.sort_direction)?,
        )?;
        let size = match request.size {
            0 => None,
            size => Some(
                crm_proto::crm::common::v1::CompanySize::try_from(size)
                    .map_err(|_| AccountsError::invalid("size", "is not a company size"))?,
            ),
        };
        let filter = AccountFilter {
            name_contains: optional_text(&request.name_contains),
            industry: optional_text(&request.industry),
            region: optional_text(&request.region),
            owner_id: parse_optional_id("owner_id", &request.owner_id)?,
            parent_account_id: parse_optional_id("parent_account_id", &request.parent_account_id)?,
            tag: optional_text(&request.tag),
            size,
            include_archived: request.include_archived,
        };
        let listing = self.accounts.list_accounts(&caller, &filter, &page).await?;
        Ok(Response::new(pb::ListAccountsResponse {
            accounts: listing.records.iter().map(convert::account).collect(),
            page: Some(crm_proto::crm::common::v1::PageResponse {
                next_page_token: listing.next_page_token,
            }),
        }))
    }

    async fn find_duplicate_accounts(
        &self,
        request: Request<pb::FindDuplicateAccountsRequest>,
    ) -> Result<Response<pb::FindDuplicateAccountsResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let phone = match request.phone.trim() {
            "" => None,
            raw => Some(
                crm_contact_data::normalize_phone(
                    raw,
                    self.accounts.default_calling_code().await?.as_deref(),
                )
                .map_err(|error| match error {
                    crm_contact_data::ContactDataError::PhoneMissingCallingCode => {
                        AccountsError::from(FieldViolation::refusal(
                            crm_platform::error::reasons::NO_DEFAULT_CALLING_CODE,
                            "phone",
                            error.to_string(),
                        ))
                    }
                    error => AccountsError::invalid("phone", error.to_string()),
                })?,
            ),
        };
        if request.name.trim().is_empty() && request.website.trim().is_empty() && phone.is_none() {
            // Nothing to compare: no account looks like it.
            return Ok(Response::new(pb::FindDuplicateAccountsResponse::default()));
        }
        let candidates = self
            .accounts
            .find_duplicate_accounts(&caller, &request.name, &request.website, phone.as_deref())
            .await?;
        Ok(Response::new(pb::FindDuplicateAccountsResponse {
            candidates: candidates
                .iter()
                .map(|c| convert::candidate(c, false))
                .collect(),
        }))
    }

    async fn merge_accounts(
        &self,
        request: Request<pb::MergeAccountsRequest>,
    ) -> Result<Response<pb::MergeAccountsResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let survivor_id = parse_id("survivor_id", &request.survivor_id)?;
        let duplicate_id = parse_id("duplicate_id", &request.duplicate_id)?;
        let merged = self
            .accounts
            .merge_accounts(&caller, survivor_id, duplicate_id)
            .await?;
        Ok(Response::new(pb::MergeAccountsResponse {
            survivor: Some(convert::account(&merged.survivor)),
            merge_id: merged.merge_id.to_string(),
            contacts_moved: merged.contacts_moved as u32,
            child_accounts_moved: merged.child_accounts_moved as u32,
        }))
    }

    async fn set_account_tier(
        &self,
        request: Request<pb::SetAccountTierRequest>,
    ) -> Result<Response<pb::SetAccountTierResponse>, Status> {
        tiers::set_account_tier(&self.accounts, request).await
    }

    async fn get_tier_settings(
        &self,
        request: Request<pb::GetTierSettingsRequest>,
    ) -> Result<Response<pb::GetTierSettingsResponse>, Status> {
        tiers::get_tier_settings(&self.accounts, request).await
    }

    async fn update_tier_settings(
        &self,
        request: Request<pb::UpdateTierSettingsRequest>,
    ) -> Result<Response<pb::UpdateTierSettingsResponse>, Status> {
        tiers::update_tier_settings(&self.accounts, request).await
    }

    async fn create_contact(
        &self,
        request: Request<pb::CreateContactRequest>,
    ) -> Result<Response<pb::CreateContactResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let input = request
            .contact
            .ok_or_else(|| AccountsError::invalid("contact", "is required"))?;
        let new = self
            .accounts
            .validate_with_calling_code(|code| contact::validate_new_contact(&input, code))
            .await?
            .map_err(AccountsError::from)?;
        let requested_id = parse_optional_id("contact_id", &request.contact_id)?;
        let (contact, duplicates) = self
            .accounts
            .create_contact(
                &caller,
                new,
                reject(request.duplicate_policy)?,
                requested_id,
            )
            .await?;
        Ok(Response::new(pb::CreateContactResponse {
            contact: Some(convert::contact(&contact)),
            possible_duplicates: duplicates
                .iter()
                .map(|c| convert::candidate(c, true))
                .collect(),
        }))
    }

    async fn get_contact(
        &self,
        request: Request<pb::GetContactRequest>,
    ) -> Result<Response<pb::GetContactResponse>, Status> {
        let caller = authenticated(&request)?;
        let contact_id = parse_id("contact_id", &request.get_ref().contact_id)?;
        let contact = self.accounts.get_contact(&caller, contact_id).await?;
        Ok(Response::new(pb::GetContactResponse {
            contact: Some(convert::contact(&contact)),
        }))
    }

    async fn update_contact(
        &self,
        request: Request<pb::UpdateContactRequest>,
    ) -> Result<Response<pb::UpdateContactResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let contact_id = parse_id("contact_id", &request.contact_id)?;
        let patch = request.patch.unwrap_or_default();
        let changes = self
            .accounts
            .validate_with_calling_code(|code| contact::validate_contact_patch(&patch, code))
            .await?
            .map_err(AccountsError::from)?;
        let contact = self
            .accounts
            .update_contact(
                &caller,
                contact_id,
                changes,
                patch.replace_important_dates,
                expected_version("expected_version", request.expected_version)?,
            )
            .await?;
        Ok(Response::new(pb::UpdateContactResponse {
            contact: Some(convert::contact(&contact)),
        }))
    }

    async fn archive_contact(
        &self,
        request: Request<pb::ArchiveContactRequest>,
    ) -> Result<Response<pb::ArchiveContactResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let contact_id = parse_id("contact_id", &request.contact_id)?;
        let contact = self
            .accounts
            .archive_contact(
                &caller,
                contact_id,
                expected_version("expected_version", request.expected_version)?,
            )
            .await?;
        Ok(Response::new(pb::ArchiveContactResponse {
            contact: Some(convert::contact(&contact)),
        }))
    }

    async fn list_contacts(
        &self,
        request: Request<pb::ListContactsRequest>,
    ) -> Result<Response<pb::ListContactsResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let (column, kind) = match pb::ContactSortField::try_from(request.sort_by) {
            Ok(pb::ContactSortField::FullName) => ("full_name", KeyKind::Text),
            Ok(pb::ContactSortField::UpdatedAt) => ("updated_at", KeyKind::Time),
            Ok(_) => ("created_at", KeyKind::Time),
            Err(_) => {
                return Err(AccountsError::invalid("sort_by", "is not a sortable field").into());
            }
        };
        let page = page(
            request.page.as_ref(),
            order(column, kind, request.sort_direction)?,
        )?;
        let buying_role = match request.buying_role {
            0 => None,
            role => Some(
                pb::BuyingRole::try_from(role)
                    .map_err(|_| AccountsError::invalid("buying_role", "is not a buying role"))?,
            ),
        };
        let email = match request.email.trim() {
            "" => None,
            raw => Some(
                crm_contact_data::normalize_email(raw)
                    .map_err(|error| AccountsError::invalid("email", error.to_string()))?,
            ),
        };
        let filter = ContactFilter {
            account_id: parse_optional_id("account_id", &request.account_id)?,
            name_contains: optional_text(&request.name_contains),
            email,
            buying_role,
            owner_id: parse_optional_id("owner_id", &request.owner_id)?,
            include_archived: request.include_archived,
        };
        let listing = self.accounts.list_contacts(&caller, &filter, &page).await?;
        Ok(Response::new(pb::ListContactsResponse {
            contacts: listing.records.iter().map(convert::contact).collect(),
            page: Some(crm_proto::crm::common::v1::PageResponse {
                next_page_token: listing.next_page_token,
            }),
        }))
    }

    async fn merge_contacts(
        &self,
        request: Request<pb::MergeContactsRequest>,
    ) -> Result<Response<pb::MergeContactsResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let survivor_id = parse_id("survivor_id", &request.survivor_id)?;
        let duplicate_id = parse_id("duplicate_id", &request.duplicate_id)?;
        let (survivor, merge_id) = self
            .accounts
            .merge_contacts(&caller, survivor_id, duplicate_id)
            .await?;
        Ok(Response::new(pb::MergeContactsResponse {
            survivor: Some(convert::contact(&survivor)),
            merge_id: merge_id.to_string(),
        }))
    }
}
