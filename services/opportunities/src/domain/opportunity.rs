//! The opportunity (deal) and its rules (O2, O4, O5): amounts from line items, the effective
//! probability, revenue splits that add up to 100, a buying committee whose influence edges
//! stay inside it, and the field-by-field diff every change is audited with.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{
    auth::TeamPath,
    error::{FieldViolation, Violations, as_refusals, reasons::INCONSISTENT_FIELDS},
    money::{CurrencyCode, Money, round_half_even},
};
use crm_proto::crm::{
    accounts::v1::BuyingRole,
    opportunities::v1::{Attitude, CompetitorStatus, DealTeamRole},
};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::CorporateAmount;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpportunityStatus {
    Open = 1,
    Won = 2,
    Lost = 3,
    Archived = 4,
}

impl TryFrom<i16> for OpportunityStatus {
    type Error = String;
    fn try_from(value: i16) -> Result<Self, String> {
        match value {
            1 => Ok(OpportunityStatus::Open),
            2 => Ok(OpportunityStatus::Won),
            3 => Ok(OpportunityStatus::Lost),
            4 => Ok(OpportunityStatus::Archived),
            other => Err(format!("{other} is not an opportunity status")),
        }
    }
}

impl std::fmt::Display for OpportunityStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OpportunityStatus::Open => "open",
            OpportunityStatus::Won => "won",
            OpportunityStatus::Lost => "lost",
            OpportunityStatus::Archived => "archived",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineItem {
    pub product_code: String,
    pub product_name: String,
    pub quantity: Decimal,
    pub unit_price: Money,
    /// Percent off, 0..=100.
    pub discount_percent: Decimal,
}

impl LineItem {
    /// quantity × unit price × (1 − discount / 100), rounded half to even to the currency's
    /// minor unit (what an invoice line shows): the rule quotes' lines follow too, so an
    /// accepted quote's lines become the deal's without a cent moving
    /// (docs/adr/0014-deal-desk-in-opportunities.md).
    pub fn total(&self) -> Money {
        let gross = self.quantity * self.unit_price.amount;
        let net = gross * (Decimal::ONE_HUNDRED - self.discount_percent) / Decimal::ONE_HUNDRED;
        Money {
            currency: self.unit_price.currency,
            amount: round_half_even(net, self.unit_price.currency.minor_units()),
        }
    }
}

/// The deal's amount when it has line items: the sum of their totals.
pub fn line_items_amount(currency: CurrencyCode, items: &[LineItem]) -> Money {
    Money {
        currency,
        amount: items.iter().map(|item| item.total().amount).sum(),
    }
}

/// The first amount too large for a deal: amounts are written with at most 20 integer digits.
fn largest_amount() -> Decimal {
    Decimal::from(10_u64.pow(19)) * Decimal::TEN
}

/// Quantity × unit price, if it is below [`largest_amount`] (the line's total is at most that).
fn gross(item: &LineItem) -> Option<Decimal> {
    item.quantity
        .checked_mul(item.unit_price.amount)
        .filter(|gross| *gross < largest_amount())
}

/// Checks line items against the deal's currency (`field` names the list), and that their
/// figures stay within what an amount can be (so [`LineItem::total`] never overflows).
pub fn validate_line_items(
    field: &str,
    currency: CurrencyCode,
    items: &[LineItem],
) -> Result<(), Vec<FieldViolation>> {
    let mut violations = Violations::new();
    let mut total = Some(Decimal::ZERO);
    for (index, item) in items.iter().enumerate() {
        let at = format!("{field}[{index}]");
        if item.quantity <= Decimal::ZERO {
            violations.add(format!("{at}.quantity"), "must be above zero");
        }
        if item.discount_percent < Decimal::ZERO || item.discount_percent > Decimal::ONE_HUNDRED {
            violations.add(
                format!("{at}.discount_percent"),
                "must be between 0 and 100",
            );
        }
        if item.unit_price.currency != currency {
            violations.add(
                format!("{at}.unit_price.currency_code"),
                format!("must be the deal's currency, {currency}"),
            );
        }
        match gross(item) {
            // Below the limit, the line's total (at most its gross) cannot overflow.
            Some(_) => total = total.and_then(|sum| sum.checked_add(item.total().amount)),
            None => violations.add(
                format!("{at}.quantity"),
                format!("× the unit price must be below {}", largest_amount()),
            ),
        }
    }
    if total.is_none_or(|sum| sum >= largest_amount()) && violations.is_empty() {
        violations.add(field, format!("add up to {} or more", largest_amount()));
    }
    violations
        .into_result()
        .map_err(|list| as_refusals(INCONSISTENT_FIELDS, list))
}

#[derive(Debug, Clone, PartialEq)]
pub struct TeamMember {
    pub user_id: Uuid,
    pub role: DealTeamRole,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RevenueSplit {
    pub user_id: Uuid,
    /// Percent, at most two decimals.
    pub percent: Decimal,
}

/// The splits of a deal owned by `owner_id` alone.
pub fn owner_split(owner_id: Uuid) -> Vec<RevenueSplit> {
    vec![RevenueSplit {
        user_id: owner_id,
        percent: Decimal::ONE_HUNDRED,
    }]
}

/// Checks a deal team and its splits: team members once each and not the owner; splits each
/// above 0 with at most two decimals, each user once, each the owner or a team member, adding
/// up to exactly 100. An empty split list means the owner holds 100.
pub fn validate_team(
    owner_id: Uuid,
    team: &[TeamMember],
    splits: &[RevenueSplit],
) -> Result<(), Vec<FieldViolation>> {
    let mut violations = Violations::new();
    let mut members = HashSet::new();
    for (index, member) in team.iter().enumerate() {
        if member.user_id == owner_id {
            violations.add(
                format!("team[{index}].user_id"),
                "is the owner, who is on the team already",
            );
        } else if !members.insert(member.user_id) {
            violations.add(format!("team[{index}].user_id"), "is on the team twice");
        }
    }
    let mut credited = HashSet::new();
    for (index, split) in splits.iter().enumerate() {
        let at = format!("splits[{index}]");
        if split.percent <= Decimal::ZERO || split.percent > Decimal::ONE_HUNDRED {
            violations.add(format!("{at}.percent"), "must be above 0 and at most 100");
        } else if split.percent.normalize().scale() > 2 {
            violations.add(format!("{at}.percent"), "has more than two decimals");
        }
        if !credited.insert(split.user_id) {
            violations.add(format!("{at}.user_id"), "has a split already");
        } else if split.user_id != owner_id && !members.contains(&split.user_id) {
            violations.add(
                format!("{at}.user_id"),
                "is neither the owner nor on the deal team",
            );
        }
    }
    let total: Decimal = splits.iter().map(|split| split.percent).sum();
    if !splits.is_empty() && total != Decimal::ONE_HUNDRED {
        violations.add(
            "splits",
            format!("add up to {}, not exactly 100", total.normalize()),
        );
    }
    violations
        .into_result()
        .map_err(|list| as_refusals(INCONSISTENT_FIELDS, list))
}

/// The splits after the deal passes from `old_owner` to `new_owner`: the old owner's share
/// passes to the new owner (added to any share they had), the others stay.
pub fn splits_after_reassignment(
    splits: &[RevenueSplit],
    old_owner: Uuid,
    new_owner: Uuid,
) -> Vec<RevenueSplit> {
    let passed: Decimal = splits
        .iter()
        .filter(|split| split.user_id == old_owner)
        .map(|split| split.percent)
        .sum();
    let mut result: Vec<RevenueSplit> = splits
        .iter()
        .filter(|split| split.user_id != old_owner)
        .cloned()
        .collect();
    if passed > Decimal::ZERO {
        match result.iter_mut().find(|split| split.user_id == new_owner) {
            Some(split) => split.percent += passed,
            None => result.insert(
                0,
                RevenueSplit {
                    user_id: new_owner,
                    percent: passed,
                },
            ),
        }
    }
    result
}

#[derive(Debug, Clone, PartialEq)]
pub struct DealCompetitor {
    pub competitor_id: Uuid,
    pub competitor_name: String,
    pub strengths: String,
    pub weaknesses: String,
    pub status: CompetitorStatus,
}

/// Each competitor once on a deal.
pub fn validate_competitors(competitors: &[DealCompetitor]) -> Result<(), Vec<FieldViolation>> {
    let mut violations = Violations::new();
    let mut seen = HashSet::new();
    for (index, competitor) in competitors.iter().enumerate() {
        if !seen.insert(competitor.competitor_id) {
            violations.add(
                format!("competitors[{index}].competitor_id"),
                "is on the list twice",
            );
        }
    }
    violations
        .into_result()
        .map_err(|list| as_refusals(INCONSISTENT_FIELDS, list))
}

#[derive(Debug, Clone, PartialEq)]
pub struct CommitteeMember {
    pub contact_id: Uuid,
    pub contact_name: String,
    pub role: BuyingRole,
    pub attitude: Attitude,
    /// The members this one influences.
    pub influences: Vec<Uuid>,
    pub note: String,
}

/// A committee's own rules: each contact once; influence edges point at other members of it.
pub fn validate_committee(members: &[CommitteeMember]) -> Result<(), Vec<FieldViolation>> {
    let mut violations = Violations::new();
    let ids: Vec<Uuid> = members.iter().map(|member| member.contact_id).collect();
    let mut seen = HashSet::new();
    for (index, member) in members.iter().enumerate() {
        let at = format!("members[{index}]");
        if !seen.insert(member.contact_id) {
            violations.add(format!("{at}.contact_id"), "is on the committee twice");
        }
        let mut targets = HashSet::new();
        for (edge, target) in member.influences.iter().enumerate() {
            let field = format!("{at}.influences[{edge}]");
            if *target == member.contact_id {
                violations.add(field, "is the member itself");
            } else if !ids.contains(target) {
                violations.add(field, "is not a member of the committee");
            } else if !targets.insert(*target) {
                violations.add(field, "is named twice");
            }
        }
    }
    violations
        .into_result()
        .map_err(|list| as_refusals(INCONSISTENT_FIELDS, list))
}

/// How and when a deal closed.
#[derive(Debug, Clone, PartialEq)]
pub struct CloseOutcome {
    pub close_reason_id: Uuid,
    pub close_reason_label: String,
    pub note: String,
    pub lost_to_competitor_id: Option<Uuid>,
    pub closed_on: NaiveDate,
    pub closed_at: DateTime<Utc>,
    pub closed_by: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Opportunity {
    pub id: Uuid,
    pub name: String,
    pub account_id: Uuid,
    pub owner_id: Uuid,
    pub owner_team_path: TeamPath,
    pub pipeline_id: Uuid,
    pub stage_id: Uuid,
    pub status: OpportunityStatus,
    pub probability_override: Option<u8>,
    /// The override, else the stage's default (kept in step by the service).
    pub effective_probability: u8,
    pub amount: Money,
    pub corporate: Option<CorporateAmount>,
    pub expected_close_date: NaiveDate,
    pub next_step: String,
    pub source_lead_id: Option<Uuid>,
    pub campaign_id: Option<Uuid>,
    pub custom_fields: BTreeMap<String, String>,
    pub line_items: Vec<LineItem>,
    pub team: Vec<TeamMember>,
    /// Never empty: the owner holds 100 until splits are set.
    pub splits: Vec<RevenueSplit>,
    pub competitors: Vec<DealCompetitor>,
    pub committee: Vec<CommitteeMember>,
    pub outcome: Option<CloseOutcome>,
    /// The open stage a closed deal closed from.
    pub closed_from_stage_id: Option<Uuid>,
    pub stage_entered_at: DateTime<Utc>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Opportunity {
    /// Whether the deal's team or its splits name `user_id`: the people who work the deal or
    /// get credit for it, who may read it though it is out of their reach.
    pub fn names_member(&self, user_id: Uuid) -> bool {
        self.team.iter().any(|member| member.user_id == user_id)
            || self.splits.iter().any(|split| split.user_id == user_id)
    }
}

/// The effective probability: the override if set, else the stage's default.
pub fn effective_probability(override_: Option<u8>, stage_default: u8) -> u8 {
    override_.unwrap_or(stage_default)
}

/// One field's change, for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: String,
    pub old_value: String,
    pub new_value: String,
}

impl FieldChange {
    pub fn new(field: impl Into<String>, old: impl ToString, new: impl ToString) -> Self {
        Self {
            field: field.into(),
            old_value: old.to_string(),
            new_value: new.to_string(),
        }
    }
}

/// Money as the audit trail writes it: "CNY 1200000.00".
pub fn money_text(money: &Money) -> String {
    format!("{} {}", money.currency, money.amount)
}

fn optional_text<T: ToString>(value: Option<T>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

/// A partial update of a deal's own fields (UpdateOpportunity).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpportunityChanges {
    pub name: Option<String>,
    pub amount: Option<Money>,
    pub expected_close_date: Option<NaiveDate>,
    /// `Some(None)` clears the override.
    pub probability_override: Option<Option<u8>>,
    pub next_step: Option<String>,
    /// `Some(None)` clears the campaign.
    pub campaign_id: Option<Option<Uuid>>,
    /// Upserts; an empty value removes the key.
    pub custom_fields: BTreeMap<String, String>,
    pub line_items: Option<Vec<LineItem>>,
}

/// Why a change cannot apply to the deal as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeProblem {
    /// Line items set the amount.
    AmountFromLineItems,
    /// Money in another currency than the deal's while it has line items.
    Invalid(Vec<FieldViolation>),
}

/// Applies `changes` to `deal` (the stage's default probability given, for the effective
/// probability), returning the changed deal and the audited field changes (empty: no change).
pub fn apply_changes(
    deal: &Opportunity,
    changes: &OpportunityChanges,
    stage_default_probability: u8,
) -> Result<(Opportunity, Vec<FieldChange>), ChangeProblem> {
    let mut next = deal.clone();
    let mut changed = Vec::new();
    if let Some(name) = &changes.name
        && *name != deal.name
    {
        changed.push(FieldChange::new("name", &deal.name, name));
        next.name = name.clone();
    }
    if let Some(items) = &changes.line_items {
        let currency = changes
            .amount
            .map_or(deal.amount.currency, |amount| amount.currency);
        validate_line_items("patch.line_items.line_items", currency, items)
            .map_err(ChangeProblem::Invalid)?;
        if *items != deal.line_items {
            changed.push(FieldChange::new(
                "line_items",
                format!("{} items", deal.line_items.len()),
                format!("{} items", items.len()),
            ));
            next.line_items = items.clone();
        }
        if !items.is_empty() {
            next.amount = line_items_amount(currency, items);
        }
    }
    if let Some(amount) = changes.amount {
        if !next.line_items.is_empty() && changes.line_items.is_none() {
            return Err(ChangeProblem::AmountFromLineItems);
        }
        if next.line_items.is_empty() {
            next.amount = amount;
        }
    }
    if next.amount != deal.amount {
        changed.push(FieldChange::new(
            "amount",
            money_text(&deal.amount),
            money_text(&next.amount),
        ));
    }
    if let Some(date) = changes.expected_close_date
        && date != deal.expected_close_date
    {
        changed.push(FieldChange::new(
            "expected_close_date",
            deal.expected_close_date,
            date,
        ));
        next.expected_close_date = date;
    }
    if let Some(override_) = changes.probability_override
        && override_ != deal.probability_override
    {
        changed.push(FieldChange::new(
            "probability_override",
            optional_text(deal.probability_override),
            optional_text(override_),
        ));
        next.probability_override = override_;
    }
    next.effective_probability =
        effective_probability(next.probability_override, stage_default_probability);
    if let Some(step) = &changes.next_step
        && *step != deal.next_step
    {
        changed.push(FieldChange::new("next_step", &deal.next_step, step));
        next.next_step = step.clone();
    }
    if let Some(campaign) = changes.campaign_id
        && campaign != deal.campaign_id
    {
        changed.push(FieldChange::new(
            "campaign_id",
            optional_text(deal.campaign_id),
            optional_text(campaign),
        ));
        next.campaign_id = campaign;
    }
    for (key, value) in &changes.custom_fields {
        let old = deal.custom_fields.get(key).cloned().unwrap_or_default();
        if old == *value {
            continue;
        }
        changed.push(FieldChange::new(format!("custom_fields.{key}"), old, value));
        if value.is_empty() {
            next.custom_fields.remove(key);
        } else {
            next.custom_fields.insert(key.clone(), value.clone());
        }
    }
    Ok((next, changed))
}

#[cfg(test)]
#[path = "opportunity_tests.rs"]
mod tests;
