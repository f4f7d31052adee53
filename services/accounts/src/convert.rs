//! Domain records to protobuf messages (for responses and events).

use crm_contact_data::MatchReason as Reason;
use crm_platform::time::to_timestamp;
use crm_proto::crm::accounts::v1 as pb;

use crate::domain::{
    RecordStatus,
    account::Account,
    contact::Contact,
    duplicates::ScoredCandidate,
    tier::{AccountTier, TierSettings},
};

fn optional_id(id: Option<uuid::Uuid>) -> String {
    id.map(|id| id.to_string()).unwrap_or_default()
}

pub fn account(account: &Account) -> pb::Account {
    pb::Account {
        id: account.id.to_string(),
        name: account.name.clone(),
        parent_account_id: optional_id(account.parent_account_id),
        industry: account.industry.clone(),
        region: account.region.clone(),
        size: account.size as i32,
        website: account.website.clone(),
        phone: account.phone.clone().unwrap_or_default(),
        owner_id: account.owner_id.to_string(),
        owner_team_path: account.owner_team_path.to_string(),
        tags: account.tags.clone(),
        custom_fields: account.custom_fields.clone().into_iter().collect(),
        status: match account.status {
            RecordStatus::Active => pb::AccountStatus::Active,
            RecordStatus::Archived => pb::AccountStatus::Archived,
            RecordStatus::Merged => pb::AccountStatus::Merged,
        } as i32,
        merged_into_account_id: optional_id(account.merged_into_account_id),
        version: account.version as u64,
        created_at: Some(to_timestamp(account.created_at)),
        updated_at: Some(to_timestamp(account.updated_at)),
        tier: tier(account.tiering.effective()) as i32,
        tier_override: tier(account.tiering.tier_override) as i32,
        computed_tier: tier(account.tiering.computed_tier) as i32,
        key_account: account.key_account,
        account_plan: account.account_plan.clone(),
        trailing_won_revenue: account
            .tiering
            .trailing_won_revenue
            .map(|money| money.to_message()),
    }
}

pub fn tier(tier: Option<AccountTier>) -> pb::AccountTier {
    match tier {
        None => pb::AccountTier::Unspecified,
        Some(AccountTier::A) => pb::AccountTier::A,
        Some(AccountTier::B) => pb::AccountTier::B,
        Some(AccountTier::C) => pb::AccountTier::C,
    }
}

pub fn tier_settings(settings: &TierSettings) -> pb::TierSettings {
    pb::TierSettings {
        a_threshold: settings.thresholds.map(|t| t.a().to_message()),
        b_threshold: settings.thresholds.map(|t| t.b().to_message()),
        version: settings.version as u64,
        updated_at: settings.updated_at.map(to_timestamp),
    }
}

pub fn contact(contact: &Contact) -> pb::Contact {
    pb::Contact {
        id: contact.id.to_string(),
        account_id: contact.account_id.to_string(),
        full_name: contact.full_name.clone(),
        title: contact.title.clone(),
        email: contact.email.clone().unwrap_or_default(),
        phone: contact.phone.clone().unwrap_or_default(),
        mobile: contact.mobile.clone().unwrap_or_default(),
        wechat: contact.wechat.clone(),
        buying_role: contact.buying_role as i32,
        important_dates: contact
            .important_dates
            .iter()
            .map(|date| pb::ImportantDate {
                kind: date.kind,
                date: date.date.clone(),
                label: date.label.clone(),
            })
            .collect(),
        owner_id: contact.owner_id.to_string(),
        owner_team_path: contact.owner_team_path.to_string(),
        status: match contact.status {
            RecordStatus::Active => pb::ContactStatus::Active,
            RecordStatus::Archived => pb::ContactStatus::Archived,
            RecordStatus::Merged => pb::ContactStatus::Merged,
        } as i32,
        merged_into_contact_id: optional_id(contact.merged_into_contact_id),
        version: contact.version as u64,
        created_at: Some(to_timestamp(contact.created_at)),
        updated_at: Some(to_timestamp(contact.updated_at)),
    }
}

/// A candidate the caller may not see is reported without its id or name: they learn that a
/// duplicate exists (and can ask its owner), not what it is.
/// For contacts the account stands in for the company, so a company match is a same-account match.
pub fn candidate(candidate: &ScoredCandidate, of_contact: bool) -> pb::DuplicateCandidate {
    let (id, display_name) = if candidate.visible {
        (candidate.id.to_string(), candidate.display_name.clone())
    } else {
        (String::new(), "(owned by another team)".to_owned())
    };
    pb::DuplicateCandidate {
        id,
        display_name,
        score: u32::from(candidate.score),
        reasons: candidate
            .reasons
            .iter()
            .map(|reason| match reason {
                Reason::SameCompanyName if of_contact => pb::MatchReason::SameAccount as i32,
                reason => match_reason(reason) as i32,
            })
            .collect(),
    }
}

fn match_reason(reason: &Reason) -> pb::MatchReason {
    match reason {
        Reason::SameEmail => pb::MatchReason::SameEmail,
        Reason::SamePhone => pb::MatchReason::SamePhone,
        Reason::SameDomain => pb::MatchReason::SameDomain,
        Reason::SameCompanyName => pb::MatchReason::SameName,
        Reason::SimilarCompanyName { .. } => pb::MatchReason::SimilarName,
        Reason::SamePersonName => pb::MatchReason::SameName,
    }
}
