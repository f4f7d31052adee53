//! Wire → domain for the deal API: each request's fields read through the kit's parsers, every
//! broken field collected as a violation named as the request spells it.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use crm_platform::{
    auth::TeamPath,
    error::Violations,
    ids::{expected_version, parse_id},
    money::{Money, Sign},
};
use crm_proto::crm::{accounts::v1::BuyingRole, opportunities::v1 as pb};
use rust_decimal::Decimal;
use tonic::Status;
use uuid::Uuid;

use crate::{
    convert,
    domain::{
        opportunity::{
            CommitteeMember, DealCompetitor, OpportunityStatus, RevenueSplit, TeamMember,
        },
        pipeline::Pipeline,
        price_book::LineItemDraft,
    },
    error::OpportunitiesError,
    service::{NewOpportunity, PastOpportunity, PastStay},
};

pub(super) fn text(value: &str) -> String {
    value.trim().to_owned()
}

/// A team path, if given (its form is the schema's: INVALID_ARGUMENT otherwise).
pub(super) fn optional_team(
    field: &str,
    text: &str,
    violations: &mut Violations,
) -> Option<TeamPath> {
    match text.trim() {
        "" => None,
        text => violations.check(field, TeamPath::parse(text)),
    }
}

/// An IANA time zone ("Asia/Shanghai"), UTC when empty. Which names exist is more than the
/// schema states: an unknown one is a refusal (422) naming the field.
pub(super) fn time_zone(violations: &mut Violations, field: &str, text: &str) -> Option<Tz> {
    match text.trim() {
        "" => Some(Tz::UTC),
        name => match name.parse::<Tz>() {
            Ok(zone) => Some(zone),
            Err(_) => {
                violations.push(crm_platform::error::FieldViolation::refusal(
                    crm_platform::error::reasons::INCONSISTENT_FIELDS,
                    field,
                    format!("{name:?} is not an IANA time zone, such as \"Asia/Shanghai\""),
                ));
                None
            }
        },
    }
}

pub(super) fn decimal(violations: &mut Violations, field: &str, value: &str) -> Option<Decimal> {
    violations.take(crm_platform::money::parse_decimal(field, value))
}

pub(super) fn probability(
    violations: &mut Violations,
    field: &str,
    value: Option<u32>,
) -> Option<u8> {
    let value = value?;
    match u8::try_from(value).ok().filter(|value| *value <= 100) {
        Some(value) => Some(value),
        None => {
            violations.add(field, "must be between 0 and 100");
            None
        }
    }
}

/// Line items as the request gives them; a missing unit price is left to the price book
/// (`service::price_book::priced_line_items`).
pub(super) fn line_items(
    violations: &mut Violations,
    field: &str,
    items: &[pb::LineItem],
) -> Vec<LineItemDraft> {
    items
        .iter()
        .enumerate()
        .filter_map(|(index, item)| {
            let at = format!("{field}[{index}]");
            let quantity = decimal(violations, &format!("{at}.quantity"), &item.quantity);
            let price = match &item.unit_price {
                Some(price) => violations
                    .take(Money::parse(
                        &format!("{at}.unit_price"),
                        price,
                        Sign::NonNegative,
                    ))
                    .map(Some),
                None => Some(None),
            };
            let discount = match item.discount_percent.trim() {
                "" => Some(Decimal::ZERO),
                value => decimal(violations, &format!("{at}.discount_percent"), value),
            };
            if item.product_code.trim().is_empty() {
                violations.add(format!("{at}.product_code"), "is required");
            }
            Some(LineItemDraft {
                product_code: text(&item.product_code),
                product_name: text(&item.product_name),
                quantity: quantity?,
                unit_price: price?,
                discount_percent: discount?,
            })
        })
        .collect()
}

pub(super) fn custom_fields(
    fields: &std::collections::HashMap<String, String>,
) -> BTreeMap<String, String> {
    fields
        .iter()
        .map(|(key, value)| (key.clone(), value.trim().to_owned()))
        .collect()
}

pub(super) fn reply(
    deal: crate::domain::opportunity::Opportunity,
    pipeline: &Pipeline,
) -> pb::Opportunity {
    convert::opportunity(&deal, pipeline)
}

pub(super) fn version(value: u64) -> Result<Option<i64>, Status> {
    expected_version("expected_version", value)
        .map_err(|violation| OpportunitiesError::from(violation).into())
}

pub(super) fn id(field: &str, value: &str) -> Result<Uuid, Status> {
    parse_id(field, value).map_err(|violation| OpportunitiesError::from(violation).into())
}

pub(super) fn opportunity_status(
    value: i32,
) -> Result<Option<OpportunityStatus>, OpportunitiesError> {
    Ok(match pb::OpportunityStatus::try_from(value) {
        Ok(pb::OpportunityStatus::Unspecified) => None,
        Ok(pb::OpportunityStatus::Open) => Some(OpportunityStatus::Open),
        Ok(pb::OpportunityStatus::Won) => Some(OpportunityStatus::Won),
        Ok(pb::OpportunityStatus::Lost) => Some(OpportunityStatus::Lost),
        Ok(pb::OpportunityStatus::Archived) => Some(OpportunityStatus::Archived),
        Err(_) => {
            return Err(OpportunitiesError::invalid(
                "status",
                format!("{value} is not a status"),
            ));
        }
    })
}

/// A deal as CreateOpportunity and ImportOpportunities give it (`at` names the message);
/// `None` when a violation was collected.
pub(super) fn new_opportunity(
    violations: &mut Violations,
    at: &str,
    input: &pb::OpportunityInput,
) -> Option<NewOpportunity> {
    let field = |name: &str| format!("{at}.{name}");
    let account_id = violations.id(&field("account_id"), &input.account_id);
    let owner_id = violations.optional_id(&field("owner_id"), &input.owner_id);
    let pipeline_id = violations.optional_id(&field("pipeline_id"), &input.pipeline_id);
    let stage_id = violations.optional_id(&field("stage_id"), &input.stage_id);
    let source_lead_id = violations.optional_id(&field("source_lead_id"), &input.source_lead_id);
    let campaign_id = violations.optional_id(&field("campaign_id"), &input.campaign_id);
    if input.name.trim().is_empty() {
        violations.add(field("name"), "is required");
    }
    let amount = input.amount.as_ref().and_then(|amount| {
        violations.take(Money::parse(&field("amount"), amount, Sign::NonNegative))
    });
    let close = violations.date(&field("expected_close_date"), &input.expected_close_date);
    let override_ = probability(
        violations,
        &field("probability_override"),
        input.probability_override,
    );
    let items = line_items(violations, &field("line_items"), &input.line_items);
    Some(NewOpportunity {
        name: text(&input.name),
        account_id: account_id?,
        owner_id,
        pipeline_id,
        stage_id,
        amount,
        expected_close_date: close?,
        probability_override: override_,
        next_step: text(&input.next_step),
        source_lead_id,
        campaign_id,
        custom_fields: custom_fields(&input.custom_fields)
            .into_iter()
            .filter(|(_, value)| !value.is_empty())
            .collect(),
        line_items: items,
    })
}

pub(super) fn timestamp(
    violations: &mut Violations,
    field: &str,
    value: Option<&prost_types::Timestamp>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    match value.and_then(crm_platform::time::from_timestamp) {
        Some(time) => Some(time),
        None => {
            violations.add(field, "is required: a valid time");
            None
        }
    }
}

pub(super) fn deal_competitors(
    violations: &mut Violations,
    at: &str,
    list: &[pb::DealCompetitor],
) -> Vec<DealCompetitor> {
    list.iter()
        .enumerate()
        .filter_map(|(index, competitor)| {
            let field = format!("{at}[{index}]");
            let competitor_id = violations.take(parse_id(
                &format!("{field}.competitor_id"),
                &competitor.competitor_id,
            ));
            let status = match pb::CompetitorStatus::try_from(competitor.status) {
                Ok(pb::CompetitorStatus::Unspecified) => Some(pb::CompetitorStatus::Active),
                Ok(status) => Some(status),
                Err(_) => {
                    violations.add(format!("{field}.status"), "is not a status");
                    None
                }
            };
            Some(DealCompetitor {
                competitor_id: competitor_id?,
                competitor_name: String::new(),
                strengths: competitor.strengths.trim().to_owned(),
                weaknesses: competitor.weaknesses.trim().to_owned(),
                status: status?,
            })
        })
        .collect()
}

pub(super) fn team_members(
    violations: &mut Violations,
    list: &pb::SetDealTeamRequest,
) -> Vec<TeamMember> {
    list.team
        .iter()
        .enumerate()
        .filter_map(|(index, member)| {
            let user_id =
                violations.take(parse_id(&format!("team[{index}].user_id"), &member.user_id));
            let role = match pb::DealTeamRole::try_from(member.role) {
                Ok(pb::DealTeamRole::Unspecified) | Err(_) => {
                    violations.add(format!("team[{index}].role"), "is required");
                    None
                }
                Ok(role) => Some(role),
            };
            Some(TeamMember {
                user_id: user_id?,
                role: role?,
            })
        })
        .collect()
}

pub(super) fn revenue_splits(
    violations: &mut Violations,
    list: &pb::SetDealTeamRequest,
) -> Vec<RevenueSplit> {
    list.splits
        .iter()
        .enumerate()
        .filter_map(|(index, split)| {
            let user_id = violations.take(parse_id(
                &format!("splits[{index}].user_id"),
                &split.user_id,
            ));
            let percent = decimal(
                violations,
                &format!("splits[{index}].percent"),
                &split.percent,
            );
            Some(RevenueSplit {
                user_id: user_id?,
                percent: percent?,
            })
        })
        .collect()
}

pub(super) fn committee_members(
    violations: &mut Violations,
    list: &pb::SetBuyingCommitteeRequest,
) -> Vec<CommitteeMember> {
    list.members
        .iter()
        .enumerate()
        .filter_map(|(index, member)| {
            let at = format!("members[{index}]");
            let contact_id =
                violations.take(parse_id(&format!("{at}.contact_id"), &member.contact_id));
            let role = match BuyingRole::try_from(member.role) {
                Ok(BuyingRole::Unspecified) | Err(_) => {
                    violations.add(format!("{at}.role"), "is required");
                    None
                }
                Ok(role) => Some(role),
            };
            let attitude = match pb::Attitude::try_from(member.attitude) {
                Ok(pb::Attitude::Unspecified) | Err(_) => {
                    violations.add(format!("{at}.attitude"), "is required");
                    None
                }
                Ok(attitude) => Some(attitude),
            };
            // Each must name a member of the list, which the schema cannot say: one that is
            // not an id names no member (a refusal, as for an id of a non-member).
            let influences =
                match crm_platform::ids::parse_ids(&format!("{at}.influences"), &member.influences)
                {
                    Ok(ids) => Some(ids),
                    Err(violation) => {
                        violations.push(crm_platform::error::FieldViolation::refusal(
                            crm_platform::error::reasons::INCONSISTENT_FIELDS,
                            violation.field,
                            "is not a member of the committee",
                        ));
                        None
                    }
                };
            Some(CommitteeMember {
                contact_id: contact_id?,
                contact_name: String::new(),
                role: role?,
                attitude: attitude?,
                influences: influences?,
                note: member.note.trim().to_owned(),
            })
        })
        .collect()
}

pub(super) fn past_opportunities(
    violations: &mut Violations,
    list: &pb::ImportOpportunitiesRequest,
) -> Vec<PastOpportunity> {
    list.opportunities
        .iter()
        .enumerate()
        .filter_map(|(index, past)| {
            let at = format!("opportunities[{index}]");
            let id = violations.id(&format!("{at}.opportunity_id"), &past.opportunity_id);
            let deal = match &past.opportunity {
                Some(input) => new_opportunity(violations, &format!("{at}.opportunity"), input),
                None => {
                    violations.add(format!("{at}.opportunity"), "is required");
                    None
                }
            };
            let created_at = timestamp(
                violations,
                &format!("{at}.created_at"),
                past.created_at.as_ref(),
            );
            let stays: Vec<PastStay> = past
                .stays
                .iter()
                .enumerate()
                .filter_map(|(number, stay)| {
                    let field = format!("{at}.stays[{number}]");
                    Some(PastStay {
                        stage_id: violations.id(&format!("{field}.stage_id"), &stay.stage_id)?,
                        entered_at: timestamp(
                            violations,
                            &format!("{field}.entered_at"),
                            stay.entered_at.as_ref(),
                        )?,
                        entered_by: violations
                            .optional_id(&format!("{field}.entered_by"), &stay.entered_by),
                    })
                })
                .collect();
            let close_reason_id =
                violations.optional_id(&format!("{at}.close_reason_id"), &past.close_reason_id);
            let lost_to = violations.optional_id(
                &format!("{at}.lost_to_competitor_id"),
                &past.lost_to_competitor_id,
            );
            let competitors =
                deal_competitors(violations, &format!("{at}.competitors"), &past.competitors);
            Some(PastOpportunity {
                id: id?,
                deal: deal?,
                created_at: created_at?,
                stays,
                close_reason_id,
                close_note: past.close_note.trim().to_owned(),
                lost_to_competitor_id: lost_to,
                competitors,
            })
        })
        .collect()
}
