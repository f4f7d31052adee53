//! Accounts: what a valid account is, how a patch changes one, how two merge.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use crm_platform::{
    auth::TeamPath,
    error::{FieldViolation, Violations},
};
use crm_proto::crm::{
    accounts::v1::{AccountInput, AccountPatch},
    common::v1::CompanySize,
};
use uuid::Uuid;

use super::{
    fields::{self, RecordStatus},
    tier::Tiering,
};

/// The longest account plan, in characters.
pub const MAX_ACCOUNT_PLAN: usize = 20_000;

#[derive(Clone, Debug, PartialEq)]
pub struct Account {
    pub id: Uuid,
    pub name: String,
    pub parent_account_id: Option<Uuid>,
    pub industry: String,
    pub region: String,
    pub size: CompanySize,
    pub website: String,
    pub phone: Option<String>,
    pub owner_id: Uuid,
    pub owner_team_path: TeamPath,
    pub tags: Vec<String>,
    pub custom_fields: BTreeMap<String, String>,
    pub status: RecordStatus,
    pub merged_into_account_id: Option<Uuid>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub key_account: bool,
    pub account_plan: String,
    pub tiering: Tiering,
}

impl Account {
    /// Dedupe key of the name ("Contoso Ltd." and "CONTOSO LTD" share one).
    pub fn name_key(&self) -> String {
        crm_contact_data::normalize_company_name(&self.name)
    }

    /// Dedupe key of the website.
    pub fn domain(&self) -> Option<String> {
        website_domain(&self.website)
    }
}

fn website_domain(website: &str) -> Option<String> {
    crm_contact_data::normalize_domain(website)
}

/// The validated fields of a new account.
#[derive(Clone, Debug, PartialEq)]
pub struct NewAccount {
    pub name: String,
    pub parent_account_id: Option<Uuid>,
    pub industry: String,
    pub region: String,
    pub size: CompanySize,
    pub website: String,
    pub phone: Option<String>,
    pub owner_id: Option<Uuid>,
    pub tags: Vec<String>,
    pub custom_fields: BTreeMap<String, String>,
}

/// Checks every field of `input` and reports all violations at once.
pub fn validate_new_account(
    input: &AccountInput,
    default_calling_code: Option<&str>,
) -> Result<NewAccount, Vec<FieldViolation>> {
    let mut violations = Violations::new();
    let account = NewAccount {
        name: fields::required_text(&mut violations, "account.name", &input.name, 200),
        parent_account_id: violations
            .optional_id("account.parent_account_id", &input.parent_account_id),
        industry: fields::optional_text(&mut violations, "account.industry", &input.industry, 100),
        region: fields::optional_text(&mut violations, "account.region", &input.region, 100),
        size: company_size(&mut violations, "account.size", input.size),
        website: website(&mut violations, "account.website", &input.website),
        phone: fields::optional_phone(
            &mut violations,
            "account.phone",
            &input.phone,
            default_calling_code,
        ),
        owner_id: violations.optional_id("account.owner_id", &input.owner_id),
        tags: fields::tags(&mut violations, "account.tags", &input.tags),
        custom_fields: fields::custom_fields(
            &mut violations,
            "account.custom_fields",
            &input.custom_fields,
            false,
        ),
    };
    violations.into_result().map(|()| account)
}

fn company_size(violations: &mut Violations, field: &str, value: i32) -> CompanySize {
    match CompanySize::try_from(value) {
        Ok(size) => size,
        Err(_) => {
            violations.add(field, format!("{value} is not a known company size"));
            CompanySize::Unspecified
        }
    }
}

fn website(violations: &mut Violations, field: &str, value: &str) -> String {
    let value = fields::optional_text(violations, field, value, 2048);
    if !value.is_empty() && website_domain(&value).is_none() {
        violations.add(field, "is not a web address or domain");
    }
    value
}

/// A validated patch: `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AccountChanges {
    pub name: Option<String>,
    /// `Some(None)` clears the parent.
    pub parent_account_id: Option<Option<Uuid>>,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub size: Option<CompanySize>,
    pub website: Option<String>,
    pub phone: Option<Option<String>>,
    pub owner_id: Option<Uuid>,
    pub tags: Option<Vec<String>>,
    /// Keys to set; an empty value removes the key.
    pub custom_fields: BTreeMap<String, String>,
    pub key_account: Option<bool>,
    pub account_plan: Option<String>,
}

pub fn validate_patch(
    patch: &AccountPatch,
    default_calling_code: Option<&str>,
) -> Result<AccountChanges, Vec<FieldViolation>> {
    let mut violations = Violations::new();
    let changes = AccountChanges {
        name: patch
            .name
            .as_deref()
            .map(|name| fields::required_text(&mut violations, "patch.name", name, 200)),
        parent_account_id: patch
            .parent_account_id
            .as_deref()
            .map(|id| violations.optional_id("patch.parent_account_id", id)),
        industry: patch
            .industry
            .as_deref()
            .map(|v| fields::optional_text(&mut violations, "patch.industry", v, 100)),
        region: patch
            .region
            .as_deref()
            .map(|v| fields::optional_text(&mut violations, "patch.region", v, 100)),
        size: patch
            .size
            .map(|v| company_size(&mut violations, "patch.size", v)),
        website: patch
            .website
            .as_deref()
            .map(|v| website(&mut violations, "patch.website", v)),
        phone: patch.phone.as_deref().map(|v| {
            fields::optional_phone(&mut violations, "patch.phone", v, default_calling_code)
        }),
        owner_id: match patch.owner_id.as_deref() {
            Some(id) => violations.id("patch.owner_id", id),
            None => None,
        },
        tags: (patch.replace_tags || !patch.tags.is_empty())
            .then(|| fields::tags(&mut violations, "patch.tags", &patch.tags)),
        custom_fields: fields::custom_fields(
            &mut violations,
            "patch.custom_fields",
            &patch.custom_fields,
            true,
        ),
        key_account: patch.key_account,
        account_plan: patch.account_plan.as_deref().map(|plan| {
            fields::optional_text(
                &mut violations,
                "patch.account_plan",
                plan,
                MAX_ACCOUNT_PLAN,
            )
        }),
    };
    violations.into_result().map(|()| changes)
}

/// The account after `changes`, and the names of the fields that really changed.
/// Tags are added to the set unless the patch replaces it.
pub fn apply_changes(
    account: &Account,
    changes: &AccountChanges,
    replace_tags: bool,
) -> (Account, Vec<&'static str>) {
    let mut updated = account.clone();
    let mut changed = Vec::new();
    macro_rules! set {
        ($field:ident) => {
            if let Some(value) = &changes.$field {
                if updated.$field != *value {
                    updated.$field = value.clone();
                    changed.push(stringify!($field));
                }
            }
        };
    }
    set!(name);
    set!(parent_account_id);
    set!(industry);
    set!(region);
    set!(size);
    set!(website);
    set!(phone);
    set!(key_account);
    set!(account_plan);
    if let Some(owner_id) = changes.owner_id
        && updated.owner_id != owner_id
    {
        updated.owner_id = owner_id;
        changed.push("owner_id");
    }
    if let Some(tags) = &changes.tags {
        let new_tags = if replace_tags {
            tags.clone()
        } else {
            let mut merged = updated.tags.clone();
            merged.extend(
                tags.iter()
                    .filter(|tag| !updated.tags.contains(tag))
                    .cloned(),
            );
            merged
        };
        if new_tags != updated.tags {
            updated.tags = new_tags;
            changed.push("tags");
        }
    }
    let mut custom_fields = updated.custom_fields.clone();
    for (key, value) in &changes.custom_fields {
        if value.is_empty() {
            custom_fields.remove(key);
        } else {
            custom_fields.insert(key.clone(), value.clone());
        }
    }
    if custom_fields != updated.custom_fields {
        updated.custom_fields = custom_fields;
        changed.push("custom_fields");
    }
    (updated, changed)
}

/// Survivorship: the survivor keeps every value it has and takes the duplicate's where its own
/// is empty; tags are united; custom fields the survivor lacks are copied. Returns the new
/// survivor and the names of the fields it gained.
pub fn merge_into_survivor(
    survivor: &Account,
    duplicate: &Account,
) -> (Account, Vec<&'static str>) {
    let mut merged = survivor.clone();
    let mut changed = Vec::new();
    macro_rules! fill_text {
        ($field:ident) => {
            if merged.$field.is_empty() && !duplicate.$field.is_empty() {
                merged.$field = duplicate.$field.clone();
                changed.push(stringify!($field));
            }
        };
    }
    fill_text!(industry);
    fill_text!(region);
    fill_text!(website);
    fill_text!(account_plan);
    if !merged.key_account && duplicate.key_account {
        merged.key_account = true;
        changed.push("key_account");
    }
    // A manager's tier for the duplicate stands for the survivor if it has none of its own.
    if merged.tiering.tier_override.is_none() && duplicate.tiering.tier_override.is_some() {
        merged.tiering.tier_override = duplicate.tiering.tier_override;
        changed.push("tier_override");
    }
    if merged.size == CompanySize::Unspecified && duplicate.size != CompanySize::Unspecified {
        merged.size = duplicate.size;
        changed.push("size");
    }
    if merged.phone.is_none() && duplicate.phone.is_some() {
        merged.phone = duplicate.phone.clone();
        changed.push("phone");
    }
    // The duplicate's parent is taken only if it is not the survivor itself.
    if merged.parent_account_id.is_none()
        && duplicate.parent_account_id.is_some()
        && duplicate.parent_account_id != Some(survivor.id)
    {
        merged.parent_account_id = duplicate.parent_account_id;
        changed.push("parent_account_id");
    }
    // A survivor that hung below the duplicate moves up to the duplicate's parent.
    if merged.parent_account_id == Some(duplicate.id) {
        merged.parent_account_id = duplicate.parent_account_id.filter(|id| *id != survivor.id);
        changed.push("parent_account_id");
    }
    let before_tags = merged.tags.len();
    for tag in &duplicate.tags {
        if !merged.tags.contains(tag) {
            merged.tags.push(tag.clone());
        }
    }
    if merged.tags.len() != before_tags {
        changed.push("tags");
    }
    let before_fields = merged.custom_fields.len();
    for (key, value) in &duplicate.custom_fields {
        merged
            .custom_fields
            .entry(key.clone())
            .or_insert_with(|| value.clone());
    }
    if merged.custom_fields.len() != before_fields {
        changed.push("custom_fields");
    }
    (merged, changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn account(name: &str) -> Account {
        Account {
            id: Uuid::now_v7(),
            name: name.into(),
            parent_account_id: None,
            industry: String::new(),
            region: String::new(),
            size: CompanySize::Unspecified,
            website: String::new(),
            phone: None,
            owner_id: Uuid::now_v7(),
            owner_team_path: TeamPath::parse("/northwind/east/").unwrap(),
            tags: vec![],
            custom_fields: BTreeMap::new(),
            status: RecordStatus::Active,
            merged_into_account_id: None,
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            key_account: false,
            account_plan: String::new(),
            tiering: Tiering::default(),
        }
    }

    #[test]
    fn a_new_account_reports_every_bad_field_at_once() {
        let input = AccountInput {
            name: "  ".into(),
            website: "not a site".into(),
            phone: "12".into(),
            size: 42,
            tags: vec!["".into()],
            custom_fields: [("Bad Key".to_owned(), "x".to_owned())].into(),
            parent_account_id: "nope".into(),
            ..Default::default()
        };
        let violations = validate_new_account(&input, None).unwrap_err();
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        for expected in [
            "account.name",
            "account.website",
            "account.phone",
            "account.size",
            "account.tags[0]",
            "account.custom_fields.Bad Key",
            "account.parent_account_id",
        ] {
            assert!(
                fields.contains(&expected),
                "{expected} missing from {fields:?}"
            );
        }
    }

    #[test]
    fn a_valid_account_is_normalised() {
        let input = AccountInput {
            name: " Contoso Ltd. ".into(),
            website: "https://www.contoso.cn/about".into(),
            phone: "138 0013 8000".into(),
            tags: vec!["Key".into(), "key".into(), "Expo".into()],
            ..Default::default()
        };
        let account = validate_new_account(&input, Some("86")).unwrap();
        assert_eq!(account.name, "Contoso Ltd.");
        assert_eq!(account.phone.as_deref(), Some("+8613800138000"));
        assert_eq!(account.tags, vec!["key", "expo"]);
    }

    #[test]
    fn a_patch_changes_only_what_differs() {
        let current = account("Contoso");
        let patch = AccountPatch {
            name: Some("Contoso".into()),
            industry: Some("Manufacturing".into()),
            tags: vec!["key".into()],
            ..Default::default()
        };
        let changes = validate_patch(&patch, None).unwrap();
        let (updated, changed) = apply_changes(&current, &changes, false);
        assert_eq!(changed, vec!["industry", "tags"]);
        assert_eq!(updated.industry, "Manufacturing");
        assert_eq!(updated.name, "Contoso");
    }

    #[test]
    fn an_empty_custom_field_value_removes_the_key() {
        let mut current = account("Contoso");
        current.custom_fields.insert("erp_id".into(), "42".into());
        let patch = AccountPatch {
            custom_fields: [("erp_id".to_owned(), String::new())].into(),
            ..Default::default()
        };
        let (updated, changed) =
            apply_changes(&current, &validate_patch(&patch, None).unwrap(), false);
        assert!(updated.custom_fields.is_empty());
        assert_eq!(changed, vec!["custom_fields"]);
    }

    #[test]
    fn a_patch_flags_a_key_account_and_writes_its_plan() {
        let current = account("Contoso");
        let patch = AccountPatch {
            key_account: Some(true),
            account_plan: Some("  Expand to Suzhou.\nQBR with the CFO.  ".into()),
            ..Default::default()
        };
        let (updated, changed) =
            apply_changes(&current, &validate_patch(&patch, None).unwrap(), false);
        assert_eq!(changed, vec!["key_account", "account_plan"]);
        assert!(updated.key_account);
        assert_eq!(updated.account_plan, "Expand to Suzhou.\nQBR with the CFO.");

        let too_long = AccountPatch {
            account_plan: Some("x".repeat(MAX_ACCOUNT_PLAN + 1)),
            ..Default::default()
        };
        let violations = validate_patch(&too_long, None).unwrap_err();
        assert_eq!(violations[0].field, "patch.account_plan");
    }

    #[test]
    fn a_merge_keeps_the_survivors_tier_and_plan_and_fills_what_it_lacks() {
        use crate::domain::tier::AccountTier;
        let mut survivor = account("Contoso");
        let mut duplicate = account("Contoso Group");
        duplicate.key_account = true;
        duplicate.account_plan = "the duplicate's plan".into();
        duplicate.tiering.tier_override = Some(AccountTier::A);
        let (merged, changed) = merge_into_survivor(&survivor, &duplicate);
        assert!(merged.key_account);
        assert_eq!(merged.account_plan, "the duplicate's plan");
        assert_eq!(merged.tiering.tier_override, Some(AccountTier::A));
        for field in ["key_account", "account_plan", "tier_override"] {
            assert!(changed.contains(&field), "{field}");
        }

        survivor.account_plan = "the survivor's plan".into();
        survivor.tiering.tier_override = Some(AccountTier::C);
        let (merged, _) = merge_into_survivor(&survivor, &duplicate);
        assert_eq!(merged.account_plan, "the survivor's plan");
        assert_eq!(merged.tiering.tier_override, Some(AccountTier::C));
    }

    #[test]
    fn merging_moves_a_survivor_that_hung_below_the_duplicate() {
        let mut duplicate = account("Contoso Group");
        let grandparent = Uuid::now_v7();
        duplicate.parent_account_id = Some(grandparent);
        let mut survivor = account("Contoso");
        survivor.parent_account_id = Some(duplicate.id);
        let (merged, _) = merge_into_survivor(&survivor, &duplicate);
        assert_eq!(merged.parent_account_id, Some(grandparent));
    }

    fn arbitrary_account() -> impl Strategy<Value = Account> {
        (
            "[a-z]{0,6}",
            "[a-z]{0,6}",
            proptest::option::of("\\+86[0-9]{11}"),
            proptest::collection::vec("[a-c]", 0..4),
            proptest::collection::btree_map("[a-c]", "[x-z]", 0..3),
        )
            .prop_map(|(industry, region, phone, tags, custom_fields)| {
                let mut account = account("x");
                account.industry = industry;
                account.region = region;
                account.phone = phone;
                let mut unique = Vec::new();
                for tag in tags {
                    if !unique.contains(&tag) {
                        unique.push(tag);
                    }
                }
                account.tags = unique;
                account.custom_fields = custom_fields;
                account
            })
    }

    proptest! {
        #[test]
        fn merge_never_overwrites_a_survivor_value(survivor in arbitrary_account(), duplicate in arbitrary_account()) {
            let (merged, _) = merge_into_survivor(&survivor, &duplicate);
            if !survivor.industry.is_empty() { prop_assert_eq!(&merged.industry, &survivor.industry); }
            if !survivor.region.is_empty() { prop_assert_eq!(&merged.region, &survivor.region); }
            if survivor.phone.is_some() { prop_assert_eq!(&merged.phone, &survivor.phone); }
            for (key, value) in &survivor.custom_fields {
                prop_assert_eq!(merged.custom_fields.get(key), Some(value));
            }
            // Tags: the union, each once, survivor's first.
            prop_assert_eq!(&merged.tags[..survivor.tags.len()], &survivor.tags[..]);
            for tag in survivor.tags.iter().chain(&duplicate.tags) {
                prop_assert_eq!(merged.tags.iter().filter(|t| *t == tag).count(), 1);
            }
        }

        #[test]
        fn merge_loses_no_value_of_the_duplicate_where_the_survivor_had_none(survivor in arbitrary_account(), duplicate in arbitrary_account()) {
            let (merged, _) = merge_into_survivor(&survivor, &duplicate);
            if survivor.industry.is_empty() { prop_assert_eq!(&merged.industry, &duplicate.industry); }
            if survivor.phone.is_none() { prop_assert_eq!(&merged.phone, &duplicate.phone); }
            for key in duplicate.custom_fields.keys() {
                prop_assert!(merged.custom_fields.contains_key(key));
            }
        }

        #[test]
        fn applying_a_patch_twice_changes_nothing_the_second_time(current in arbitrary_account(), industry in "[a-z]{0,5}", tag in "[a-c]") {
            let patch = AccountPatch { industry: Some(industry), tags: vec![tag], ..Default::default() };
            let changes = validate_patch(&patch, None).unwrap();
            let (once, _) = apply_changes(&current, &changes, false);
            let (twice, changed) = apply_changes(&once, &changes, false);
            prop_assert_eq!(once, twice);
            prop_assert!(changed.is_empty());
        }
    }
}
