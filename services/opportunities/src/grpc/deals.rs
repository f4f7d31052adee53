//! OpportunityService: the wire's deals to the domain's and back.

use crm_platform::{
    error::Violations,
    ids::parse_optional_id,
    money::{Money, Sign},
    paging::{KeyKind, Page, SortOrder},
    time::to_timestamp,
};
use crm_proto::crm::{
    common::v1::{PageResponse, SortDirection},
    opportunities::v1::{self as pb, opportunity_service_server::OpportunityService},
};
use tonic::{Request, Response, Status};

use super::{authenticated, deal_input::*};
use crate::{
    convert,
    domain::opportunity::OpportunityChanges,
    error::OpportunitiesError,
    service::{Close, Opportunities},
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
        let close_date_from = violations.optional_date("close_date_from", &request.close_date_from);
        let close_date_to = violations.optional_date("close_date_to", &request.close_date_to);
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
            .and_then(|value| violations.date("patch.expected_close_date", value));
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
            // Priced by the service, from the book where a line leaves its price to it.
            line_items: None,
        };
        let (deal, pipeline) = self
            .opportunities
            .update_opportunity(
                &caller,
                deal_id,
                changes,
                items,
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
        let team = team_members(&mut violations, &request);
        let splits = revenue_splits(&mut violations, &request);
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
        let members = committee_members(&mut violations, &request);
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
        let deals = past_opportunities(&mut violations, &request);
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
