//! OpportunityService: the wire's deals to the domain's and back.

use std::{collections::BTreeMap, str::FromStr};

use chrono::NaiveDate;
use crm_platform::{
    error::Violations,
    ids::{expected_version, parse_id, parse_optional_id},
    money::{Money, Sign},
    paging::{KeyKind, Page, SortOrder},
    time::to_timestamp,
};
use crm_proto::crm::{
    accounts::v1::BuyingRole,
    common::v1::{PageResponse, SortDirection},
    opportunities::v1::{self as pb, opportunity_service_server::OpportunityService},
};
use rust_decimal::Decimal;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::authenticated;
use crate::{
    convert,
    domain::{
        opportunity::{
            CommitteeMember, DealCompetitor, LineItem, OpportunityChanges, OpportunityStatus,
            RevenueSplit, TeamMember,
        },
        pipeline::Pipeline,
    },
    error::OpportunitiesError,
    service::{Close, NewOpportunity, Opportunities, PastOpportunity, PastStay},
    store::deals::DealFilter,
};

pub(crate) struct DealsApi {
    opportunities: Opportunities,
}

impl DealsApi {
    pub(crate) fn new(opportunities: Opportunities) -> Self {
        Self { opportunities }
    }
}

type Reply<T> = Result<Response<T>, Status>;

fn text(value: &str) -> String {
    value.trim().to_owned()
}

fn date(violations: &mut Violations, field: &str, value: &str) -> Option<NaiveDate> {
    violations.check(
        field,
        NaiveDate::from_str(value.trim()).map_err(|_| "is not an ISO date (YYYY-MM-DD)"),
    )
}

fn optional_date(violations: &mut Violations, field: &str, value: &str) -> Option<NaiveDate> {
    if value.trim().is_empty() {
        return None;
    }
    date(violations, field, value)
}

fn decimal(violations: &mut Violations, field: &str, value: &str) -> Option<Decimal> {
    violations.check(
        field,
        Decimal::from_str_exact(value.trim()).map_err(|_| "is not a decimal number"),
    )
}

fn probability(violations: &mut Violations, field: &str, value: Option<u32>) -> Option<u8> {
    let value = value?;
    match u8::try_from(value).ok().filter(|value| *value <= 100) {
        Some(value) => Some(value),
        None => {
            violations.add(field, "must be between 0 and 100");
            None
        }
    }
}

fn line_items(violations: &mut Violations, field: &str, items: &[pb::LineItem]) -> Vec<LineItem> {
    items
        .iter()
        .enumerate()
        .filter_map(|(index, item)| {
            let at = format!("{field}[{index}]");
            let quantity = decimal(violations, &format!("{at}.quantity"), &item.quantity);
            let price = match &item.unit_price {
                Some(price) => violations.take(Money::parse(
                    &format!("{at}.unit_price"),
                    price,
                    Sign::NonNegative,
                )),
                None => {
                    violations.add(format!("{at}.unit_price"), "is required");
                    None
                }
            };
            let discount = match item.discount_percent.trim() {
                "" => Some(Decimal::ZERO),
                value => decimal(violations, &format!("{at}.discount_percent"), value),
            };
            if item.product_code.trim().is_empty() {
                violations.add(format!("{at}.product_code"), "is required");
            }
            Some(LineItem {
                product_code: text(&item.product_code),
                product_name: text(&item.product_name),
                quantity: quantity?,
                unit_price: price?,
                discount_percent: discount?,
            })
        })
        .collect()
}

fn custom_fields(fields: &std::collections::HashMap<String, String>) -> BTreeMap<String, String> {
    fields
        .iter()
        .map(|(key, value)| (key.clone(), value.trim().to_owned()))
        .collect()
}

fn reply(deal: crate::domain::opportunity::Opportunity, pipeline: &Pipeline) -> pb::Opportunity {
    convert::opportunity(&deal, pipeline)
}

fn version(value: u64) -> Result<Option<i64>, Status> {
    expected_version("expected_version", value)
        .map_err(|violation| OpportunitiesError::from(violation).into())
}

fn id(field: &str, value: &str) -> Result<Uuid, Status> {
    parse_id(field, value).map_err(|violation| OpportunitiesError::from(violation).into())
}

fn opportunity_status(value: i32) -> Result<Option<OpportunityStatus>, OpportunitiesError> {
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
fn new_opportunity(
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
    let close = date(
        violations,
        &field("expected_close_date"),
        &input.expected_close_date,
    );
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

fn timestamp(
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

fn deal_competitors(
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

#[tonic::async_trait]
impl OpportunityService for DealsApi {
    async fn create_opportunity(
        &self,
        request: Request<pb::CreateOpportunityRequest>,
    ) -> Reply<pb::CreateOpportunityResponse> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let input = request.opportunity.unwrap_or_default();
        let mut violations = Violations::new();
        let requested_id = violations.optional_id("opportunity_id", &request.opportunity_id);
        let new = new_opportunity(&mut violations, "opportunity", &input);
        violations.into_result().map_err(OpportunitiesError::from)?;
        let new = new.expect("checked");
        let (deal, pipeline) = self
            .opportunities
            .create_opportunity(&caller, new, requested_id)
            .await?;
        Ok(Response::new(pb::CreateOpportunityResponse {
            opportunity: Some(reply(deal, &pipeline)),
        }))
    }

    async fn get_opportunity(
        &self,
        request: Request<pb::GetOpportunityRequest>,
    ) -> Reply<pb::GetOpportunityResponse> {
        let caller = authenticated(&request)?;
        let deal_id = id("opportunity_id", &request.get_ref().opportunity_id)?;
        let (deal, pipeline) = self.opportunities.get_opportunity(&caller, deal_id).await?;
        Ok(Response::new(pb::GetOpportunityResponse {
            opportunity: Some(reply(deal, &pipeline)),
        }))
    }

    async fn list_opportunities(
        &self,
        request: Request<pb::ListOpportunitiesRequest>,
    ) -> Reply<pb::ListOpportunitiesResponse> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let account_id = violations.optional_id("account_id", &request.account_id);
        let owner_id = violations.optional_id("owner_id", &request.owner_id);
        let pipeline_id = violations.optional_id("pipeline_id", &request.pipeline_id);
        let stage_id = violations.optional_id("stage_id", &request.stage_id);
        let team_path = match request.team_path.trim() {
            "" => None,
            path => violations.check("team_path", crm_platform::auth::TeamPath::parse(path)),
        };
        let close_date_from =
            optional_date(&mut violations, "close_date_from", &request.close_date_from);
        let close_date_to = optional_date(&mut violations, "close_date_to", &request.close_date_to);
        violations.into_result().map_err(OpportunitiesError::from)?;
        let status = opportunity_status(request.status)?;
        let (column, kind) = match pb::OpportunitySortField::try_from(request.sort_by) {
            Ok(pb::OpportunitySortField::Name) => ("name", KeyKind::Text),
            Ok(pb::OpportunitySortField::ExpectedCloseDate) => {
                ("expected_close_date", KeyKind::Date)
            }
            Ok(pb::OpportunitySortField::UpdatedAt) => ("updated_at", KeyKind::Time),
            Ok(_) => ("created_at", KeyKind::Time),
            Err(_) => {
                return Err(OpportunitiesError::invalid("sort_by", "is not a sort field").into());
            }
        };
        let descending = match SortDirection::try_from(request.sort_direction) {
            Ok(SortDirection::Descending) => true,
            Ok(_) => false,
            Err(_) => {
                return Err(
                    OpportunitiesError::invalid("sort_direction", "is not a direction").into(),
                );
            }
        };
        let page = Page::parse(
            request.page.as_ref(),
            SortOrder::new(column, kind, descending),
        )
        .map_err(OpportunitiesError::from)?;
        let filter = DealFilter {
            account_id,
            owner_id,
            team_path,
            pipeline_id,
            stage_id,
            status,
            close_date_from,
            close_date_to,
            name_contains: Some(request.name_contains.trim().to_owned())
                .filter(|text| !text.is_empty()),
        };
        let (listing, pipelines) = self
            .opportunities
            .list_opportunities(&caller, &filter, &page, column)
            .await?;
        let opportunities = listing
            .records
            .iter()
            .filter_map(|deal| {
                let pipeline = pipelines
                    .iter()
                    .find(|pipeline| pipeline.id == deal.pipeline_id)?;
                Some(convert::opportunity(deal, pipeline))
            })
            .collect();
        Ok(Response::new(pb::ListOpportunitiesResponse {
            opportunities,
            page: Some(PageResponse {
                next_page_token: listing.next_page_token,
            }),
        }))
    }

    async fn update_opportunity(
        &self,
        request: Request<pb::UpdateOpportunityRequest>,
    ) -> Reply<pb::UpdateOpportunityResponse> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let deal_id = id("opportunity_id", &request.opportunity_id)?;
        let patch = request.patch.unwrap_or_default();
        let mut violations = Violations::new();
        if patch
            .name
            .as_deref()
            .is_some_and(|name| name.trim().is_empty())
        {
            violations.add("patch.name", "must not be empty");
        }
        let amount = patch.amount.as_ref().and_then(|amount| {
            violations.take(Money::parse("patch.amount", amount, Sign::NonNegative))
        });
        let close = patch
            .expected_close_date
            .as_deref()
            .and_then(|value| date(&mut violations, "patch.expected_close_date", value));
        let override_ = probability(
            &mut violations,
            "patch.probability_override",
            patch.probability_override,
        );
        let campaign = match patch.campaign_id.as_deref() {
            None => None,
            Some(value) => violations
                .take(parse_optional_id("patch.campaign_id", value))
                .map(Some)
                .unwrap_or(None),
        };
        let items = patch.line_items.as_ref().map(|list| {
            line_items(
                &mut violations,
                "patch.line_items.line_items",
                &list.line_items,
            )
        });
        violations.into_result().map_err(OpportunitiesError::from)?;
        let changes = OpportunityChanges {
            name: patch.name.as_deref().map(text),
            amount,
            expected_close_date: close,
            probability_override: if patch.clear_probability_override {
                Some(None)
            } else {
                override_.map(Some)
            },
            next_step: patch.next_step.as_deref().map(text),
            campaign_id: campaign,
            custom_fields: custom_fields(&patch.custom_fields),
            line_items: items,
        };
        let (deal, pipeline) = self
            .opportunities
            .update_opportunity(
                &caller,
                deal_id,
                changes,
                version(request.expected_version)?,
            )
            .await?;
        Ok(Response::new(pb::UpdateOpportunityResponse {
            opportunity: Some(reply(deal, &pipeline)),
        }))
    }

    async fn change_stage(
        &self,
        request: Request<pb::ChangeStageRequest>,
    ) -> Reply<pb::ChangeStageResponse> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let deal_id = id("opportunity_id", &request.opportunity_id)?;
        let stage_id = id("stage_id", &request.stage_id)?;
        let (deal, pipeline) = self
            .opportunities
            .change_stage(
                &caller,
                deal_id,
                stage_id,
                version(request.expected_version)?,
            )
            .await?;
        Ok(Response::new(pb::ChangeStageResponse {
            opportunity: Some(reply(deal, &pipeline)),
        }))
    }

    async fn mark_won(&self, request: Request<pb::MarkWonRequest>) -> Reply<pb::MarkWonResponse> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let deal_id = id("opportunity_id", &request.opportunity_id)?;
        let reason = id("close_reason_id", &request.close_reason_id)?;
        let final_amount = request
            .final_amount
            .as_ref()
            .map(|amount| Money::parse("final_amount", amount, Sign::NonNegative))
            .transpose()
            .map_err(OpportunitiesError::from)?;
        let close = Close {
            close_reason_id: reason,
            note: request.note.trim().to_owned(),
            final_amount,
            lost_to_competitor_id: None,
        };
        let (deal, pipeline) = self
            .opportunities
            .mark_won(&caller, deal_id, close, version(request.expected_version)?)
            .await?;
        Ok(Response::new(pb::MarkWonResponse {
            opportunity: Some(reply(deal, &pipeline)),
        }))
    }

    async fn mark_lost(
        &self,
        request: Request<pb::MarkLostRequest>,
    ) -> Reply<pb::MarkLostResponse> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let deal_id = id("opportunity_id", &request.opportunity_id)?;
        let reason = id("close_reason_id", &request.close_reason_id)?;
        let lost_to = parse_optional_id("lost_to_competitor_id", &request.lost_to_competitor_id)
            .map_err(OpportunitiesError::from)?;
        let close = Close {
            close_reason_id: reason,
            note: request.note.trim().to_owned(),
            final_amount: None,
            lost_to_competitor_id: lost_to,
        };
        let (deal, pipeline) = self
            .opportunities
            .mark_lost(&caller, deal_id, close, version(request.expected_version)?)
            .await?;
        Ok(Response::new(pb::MarkLostResponse {
            opportunity: Some(reply(deal, &pipeline)),
        }))
    }

    async fn reopen_opportunity(
        &self,
        request: Request<pb::ReopenOpportunityRequest>,
    ) -> Reply<pb::ReopenOpportunityResponse> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let deal_id = id("opportunity_id", &request.opportunity_id)?;
        let stage_id =
            parse_optional_id("stage_id", &request.stage_id).map_err(OpportunitiesError::from)?;
        if request.reason.trim().is_empty() {
            return Err(OpportunitiesError::invalid("reason", "is required").into());
        }
        let (deal, pipeline) = self
            .opportunities
            .reopen(
                &caller,
                deal_id,
                stage_id,
                request.reason.trim().to_owned(),
                version(request.expected_version)?,
            )
            .await?;
        Ok(Response::new(pb::ReopenOpportunityResponse {
            opportunity: Some(reply(deal, &pipeline)),
        }))
    }

    async fn archive_opportunity(
        &self,
        request: Request<pb::ArchiveOpportunityRequest>,
    ) -> Reply<pb::ArchiveOpportunityResponse> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let deal_id = id("opportunity_id", &request.opportunity_id)?;
        let (deal, pipeline) = self
            .opportunities
            .archive(&caller, deal_id, version(request.expected_version)?)
            .await?;
        Ok(Response::new(pb::ArchiveOpportunityResponse {
            opportunity: Some(reply(deal, &pipeline)),
        }))
    }

    async fn reassign_opportunity(
        &self,
        request: Request<pb::ReassignOpportunityRequest>,
    ) -> Reply<pb::ReassignOpportunityResponse> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let deal_id = id("opportunity_id", &request.opportunity_id)?;
        let owner_id = id("owner_id", &request.owner_id)?;
        let (deal, pipeline) = self
            .opportunities
            .reassign_opportunity(
                &caller,
                deal_id,
                owner_id,
                version(request.expected_version)?,
            )
            .await?;
        Ok(Response::new(pb::ReassignOpportunityResponse {
            opportunity: Some(reply(deal, &pipeline)),
        }))
    }

    async fn set_deal_team(
        &self,
        request: Request<pb::SetDealTeamRequest>,
    ) -> Reply<pb::SetDealTeamResponse> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let deal_id = id("opportunity_id", &request.opportunity_id)?;
        let mut violations = Violations::new();
        let team: Vec<TeamMember> = request
            .team
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
            .collect();
        let splits: Vec<RevenueSplit> = request
            .splits
            .iter()
            .enumerate()
            .filter_map(|(index, split)| {
                let user_id = violations.take(parse_id(
                    &format!("splits[{index}].user_id"),
                    &split.user_id,
                ));
                let percent = decimal(
                    &mut violations,
                    &format!("splits[{index}].percent"),
                    &split.percent,
                );
                Some(RevenueSplit {
                    user_id: user_id?,
                    percent: percent?,
                })
            })
            .collect();
        violations.into_result().map_err(OpportunitiesError::from)?;
        let (deal, pipeline) = self
            .opportunities
            .set_deal_team(
                &caller,
                deal_id,
                team,
                splits,
                version(request.expected_version)?,
            )
            .await?;
        Ok(Response::new(pb::SetDealTeamResponse {
            opportunity: Some(reply(deal, &pipeline)),
        }))
    }

    async fn set_buying_committee(
        &self,
        request: Request<pb::SetBuyingCommitteeRequest>,
    ) -> Reply<pb::SetBuyingCommitteeResponse> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let deal_id = id("opportunity_id", &request.opportunity_id)?;
        let mut violations = Violations::new();
        let members: Vec<CommitteeMember> = request
            .members
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
                let influences = violations.take(crm_platform::ids::parse_ids(
                    &format!("{at}.influences"),
                    &member.influences,
                ));
                Some(CommitteeMember {
                    contact_id: contact_id?,
                    contact_name: String::new(),
                    role: role?,
                    attitude: attitude?,
                    influences: influences?,
                    note: member.note.trim().to_owned(),
                })
            })
            .collect();
        violations.into_result().map_err(OpportunitiesError::from)?;
        let (deal, pipeline) = self
            .opportunities
            .set_buying_committee(
                &caller,
                deal_id,
                members,
                version(request.expected_version)?,
            )
            .await?;
        Ok(Response::new(pb::SetBuyingCommitteeResponse {
            opportunity: Some(reply(deal, &pipeline)),
        }))
    }

    async fn set_deal_competitors(
        &self,
        request: Request<pb::SetDealCompetitorsRequest>,
    ) -> Reply<pb::SetDealCompetitorsResponse> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let deal_id = id("opportunity_id", &request.opportunity_id)?;
        let mut violations = Violations::new();
        let competitors = deal_competitors(&mut violations, "competitors", &request.competitors);
        violations.into_result().map_err(OpportunitiesError::from)?;
        let (deal, pipeline) = self
            .opportunities
            .set_deal_competitors(
                &caller,
                deal_id,
                competitors,
                version(request.expected_version)?,
            )
            .await?;
        Ok(Response::new(pb::SetDealCompetitorsResponse {
            opportunity: Some(reply(deal, &pipeline)),
        }))
    }

    async fn import_opportunities(
        &self,
        request: Request<pb::ImportOpportunitiesRequest>,
    ) -> Reply<pb::ImportOpportunitiesResponse> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let deals: Vec<PastOpportunity> = request
            .opportunities
            .iter()
            .enumerate()
            .filter_map(|(index, past)| {
                let at = format!("opportunities[{index}]");
                let id = violations.id(&format!("{at}.opportunity_id"), &past.opportunity_id);
                let deal = match &past.opportunity {
                    Some(input) => {
                        new_opportunity(&mut violations, &format!("{at}.opportunity"), input)
                    }
                    None => {
                        violations.add(format!("{at}.opportunity"), "is required");
                        None
                    }
                };
                let created_at = timestamp(
                    &mut violations,
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
                            stage_id: violations
                                .id(&format!("{field}.stage_id"), &stay.stage_id)?,
                            entered_at: timestamp(
                                &mut violations,
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
                let competitors = deal_competitors(
                    &mut violations,
                    &format!("{at}.competitors"),
                    &past.competitors,
                );
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
            .collect();
        violations.into_result().map_err(OpportunitiesError::from)?;
        let (imported, skipped) = self
            .opportunities
            .import_opportunities(&caller, deals)
            .await?;
        Ok(Response::new(pb::ImportOpportunitiesResponse {
            imported,
            skipped,
        }))
    }

    async fn list_stage_history(
        &self,
        request: Request<pb::ListStageHistoryRequest>,
    ) -> Reply<pb::ListStageHistoryResponse> {
        let caller = authenticated(&request)?;
        let deal_id = id("opportunity_id", &request.get_ref().opportunity_id)?;
        let (stays, pipeline) = self
            .opportunities
            .list_stage_history(&caller, deal_id)
            .await?;
        let now = crm_platform::time::now();
        let entries = stays
            .into_iter()
            .map(|stay| pb::StageHistoryEntry {
                opportunity_id: deal_id.to_string(),
                stage: pipeline.stage(stay.stage_id).map(convert::stage_summary),
                entered_at: Some(to_timestamp(stay.entered_at)),
                entered_by: stay.entered_by.map(|id| id.to_string()).unwrap_or_default(),
                exited_at: stay.exited_at.map(to_timestamp),
                exited_by: stay.exited_by.map(|id| id.to_string()).unwrap_or_default(),
                seconds_in_stage: u64::try_from(
                    (stay.exited_at.unwrap_or(now) - stay.entered_at).num_seconds(),
                )
                .unwrap_or(0),
            })
            .collect();
        Ok(Response::new(pb::ListStageHistoryResponse { entries }))
    }

    async fn list_opportunity_changes(
        &self,
        request: Request<pb::ListOpportunityChangesRequest>,
    ) -> Reply<pb::ListOpportunityChangesResponse> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let deal_id = id("opportunity_id", &request.opportunity_id)?;
        let page = request.page.unwrap_or_default();
        let size = match page.page_size {
            0 => 50,
            size => i64::from(size.min(500)),
        };
        // The token is the last version listed (decimal); changes below it follow.
        let before = match page.page_token.trim() {
            "" => None,
            token => Some(i64::from_str_radix(token, 16).map_err(|_| {
                OpportunitiesError::Common(crm_platform::error::CommonError::Unusable {
                    reason: crm_platform::error::reasons::PAGE_TOKEN_NOT_RECOGNISED,
                    violations: vec![crm_platform::error::FieldViolation::new(
                        "page.page_token",
                        "is not a token this listing made",
                    )],
                })
            })?),
        };
        let entries = self
            .opportunities
            .list_changes(&caller, deal_id, before, size + 1)
            .await?;
        let next_page_token = if entries.len() as i64 > size {
            format!("{:x}", entries[size as usize - 1].version)
        } else {
            String::new()
        };
        let changes = entries
            .into_iter()
            .take(size as usize)
            .map(|entry| pb::OpportunityChange {
                version: entry.version as u64,
                changed_at: Some(to_timestamp(entry.changed_at)),
                changed_by: entry
                    .changed_by
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
                action: entry.action,
                fields: entry
                    .fields
                    .into_iter()
                    .map(|change| pb::FieldChange {
                        field: change.field,
                        old_value: change.old_value,
                        new_value: change.new_value,
                    })
                    .collect(),
                comment: entry.comment,
            })
            .collect();
        Ok(Response::new(pb::ListOpportunityChangesResponse {
            changes,
            page: Some(PageResponse { next_page_token }),
        }))
    }
}
