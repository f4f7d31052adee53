use chrono::NaiveDate;
use crm_platform::{auth::caller, error::FieldViolation, ids, money::Money, paging::Page};
use crm_proto::crm::{
    common::v1::{PageResponse, SortDirection},
    leads::v1::{self as pb, lead_service_server::LeadService},
};
use tonic::{Request, Response, Status, Streaming};

use crate::{
    convert,
    domain::lead::{Lead, LeadChanges},
    error::LeadsError,
    service::{
        CaptureOutcome, ImportSummary, Leads,
        lifecycle::{Conversion, activity_kind},
    },
    store::{LeadFilter, LeadSort},
};
use crm_platform::ids::{parse_id, parse_optional_id};

pub struct LeadsApi {
    leads: Leads,
}

impl LeadsApi {
    pub fn new(leads: Leads) -> Self {
        Self { leads }
    }
}

fn lead_response(lead: &Lead) -> Option<pb::Lead> {
    Some(convert::lead(lead))
}

/// A wire patch as the domain's changes; an unknown company size is refused.
fn lead_changes(patch: pb::LeadPatch) -> Result<LeadChanges, LeadsError> {
    let company_size = patch
        .company_size
        .map(|size| {
            convert::size_from_wire(size).map_err(|violation| {
                FieldViolation::new("patch.company_size", violation.description)
            })
        })
        .transpose()?;
    Ok(LeadChanges {
        first_name: patch.first_name,
        last_name: patch.last_name,
        email: patch.email,
        phone: patch.phone,
        company: patch.company,
        title: patch.title,
        website: patch.website,
        industry: patch.industry,
        territory: patch.territory,
        company_size,
        product_interest: patch.product_interest,
        description: patch.description,
    })
}

#[tonic::async_trait]
impl LeadService for LeadsApi {
    async fn create_lead(
        &self,
        request: Request<pb::CreateLeadRequest>,
    ) -> Result<Response<pb::CreateLeadResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let input = request
            .lead
            .ok_or_else(|| LeadsError::invalid("lead", "is required"))?;
        let mut capture = self
            .leads
            .validate_with_calling_code(|code| convert::validate_lead_input(&input, code, "lead"))
            .await?
            .map_err(LeadsError::from)?;
        capture.requested_id = parse_optional_id("lead_id", &request.lead_id)?;
        let (lead, outcome) = self.leads.create_lead(&caller, capture).await?;
        let (dedupe, score) = match outcome {
            CaptureOutcome::Unique => (pb::DedupeOutcome::Unique, 0),
            CaptureOutcome::Flagged { score, .. } => (pb::DedupeOutcome::Flagged, score),
            CaptureOutcome::Merged { score, .. } => (pb::DedupeOutcome::Merged, score),
        };
        Ok(Response::new(pb::CreateLeadResponse {
            lead: lead_response(&lead),
            dedupe: dedupe as i32,
            duplicate_score: u32::from(score),
        }))
    }

    async fn import_leads(
        &self,
        request: Request<Streaming<pb::ImportLeadsRequest>>,
    ) -> Result<Response<pb::ImportLeadsResponse>, Status> {
        let caller = caller(&request)?;
        // The import fills the pool of the team the directory files the caller under.
        let caller = self.leads.as_filed(caller).await?;
        let stream = request.into_inner();
        // One task reads, validates and builds the rows while the chunks before them are
        // deduplicated and written.
        let (sender, mut chunks) = tokio::sync::mpsc::channel(1);
        let reader = tokio::spawn(super::import::read_chunks(
            self.leads.clone(),
            caller.clone(),
            stream,
            sender,
        ));
        let mut summary = ImportSummary::default();
        let imported = self
            .leads
            .import_chunks(&caller, &mut chunks, &mut summary)
            .await;
        if let Err(error) = imported {
            // The reader may be waiting for the client's next row.
            reader.abort();
            return Err(error.into());
        }
        // The chunks ended: the reader is done, at the stream's end or at its error.
        reader
            .await
            .map_err(|error| Status::internal(format!("reading the import failed: {error}")))??;
        Ok(Response::new(pb::ImportLeadsResponse {
            rows_received: summary.rows_received,
            created: summary.created,
            flagged_duplicates: summary.flagged,
            merged_duplicates: summary.merged,
            rejected: summary.rejected,
            errors: summary
                .errors
                .into_iter()
                .map(|error| pb::ImportRowError {
                    line: error.line,
                    field: error.field,
                    message: error.message,
                })
                .collect(),
        }))
    }

    async fn get_lead(
        &self,
        request: Request<pb::GetLeadRequest>,
    ) -> Result<Response<pb::GetLeadResponse>, Status> {
        let caller = caller(&request)?;
        let lead = self
            .leads
            .get_lead(&caller, parse_id("lead_id", &request.get_ref().lead_id)?)
            .await?;
        Ok(Response::new(pb::GetLeadResponse {
            lead: lead_response(&lead),
        }))
    }

    async fn update_lead(
        &self,
        request: Request<pb::UpdateLeadRequest>,
    ) -> Result<Response<pb::UpdateLeadResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let lead_id = parse_id("lead_id", &request.lead_id)?;
        let changes = lead_changes(request.patch.unwrap_or_default())?;
        let expected = ids::expected_version("expected_version", request.expected_version)
            .map_err(LeadsError::from)?;
        let lead = self
            .leads
            .update(&caller, lead_id, changes, expected)
            .await?;
        Ok(Response::new(pb::UpdateLeadResponse {
            lead: lead_response(&lead),
        }))
    }

    async fn list_leads(
        &self,
        request: Request<pb::ListLeadsRequest>,
    ) -> Result<Response<pb::ListLeadsResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let descending = match SortDirection::try_from(request.sort_direction) {
            Ok(SortDirection::Descending) => true,
            Ok(_) => false,
            Err(_) => {
                return Err(LeadsError::invalid("sort_direction", "is not a direction").into());
            }
        };
        let sort = match pb::LeadSortField::try_from(request.sort_by) {
            Ok(pb::LeadSortField::Score) => LeadSort::Score { descending },
            Ok(_) => LeadSort::CreatedAt { descending },
            Err(_) => return Err(LeadsError::invalid("sort_by", "is not a sortable field").into()),
        };
        let page = Page::parse(request.page.as_ref(), sort.order()).map_err(LeadsError::from)?;
        let status = match request.status {
            0 => None,
            value => Some(
                convert::status_from_wire(value)
                    .ok_or_else(|| LeadsError::invalid("status", "is not a lead status"))?,
            ),
        };
        let source_channel = pb::SourceChannel::try_from(request.source_channel)
            .map(convert::channel_from_wire)
            .map_err(|_| LeadsError::invalid("source_channel", "is not a channel"))?;
        let filter = LeadFilter {
            status,
            owner_id: parse_optional_id("owner_id", &request.owner_id)?,
            in_pool: request.in_pool,
            campaign_id: parse_optional_id("campaign_id", &request.campaign_id)?,
            source_channel,
            flagged_duplicates_only: request.flagged_duplicates_only,
        };
        let listing = self.leads.list(&caller, &filter, sort, &page).await?;
        Ok(Response::new(pb::ListLeadsResponse {
            leads: listing.records.iter().map(convert::lead).collect(),
            page: Some(PageResponse {
                next_page_token: listing.next_page_token,
            }),
        }))
    }

    async fn claim_lead(
        &self,
        request: Request<pb::ClaimLeadRequest>,
    ) -> Result<Response<pb::ClaimLeadResponse>, Status> {
        let caller = caller(&request)?;
        let lead = self
            .leads
            .claim(&caller, parse_id("lead_id", &request.get_ref().lead_id)?)
            .await?;
        Ok(Response::new(pb::ClaimLeadResponse {
            lead: lead_response(&lead),
        }))
    }

    async fn release_lead(
        &self,
        request: Request<pb::ReleaseLeadRequest>,
    ) -> Result<Response<pb::ReleaseLeadResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let lead = self
            .leads
            .release(
                &caller,
                parse_id("lead_id", &request.lead_id)?,
                &request.reason,
            )
            .await?;
        Ok(Response::new(pb::ReleaseLeadResponse {
            lead: lead_response(&lead),
        }))
    }

    async fn assign_lead(
        &self,
        request: Request<pb::AssignLeadRequest>,
    ) -> Result<Response<pb::AssignLeadResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let (lead, explanation) = self
            .leads
            .assign(
                &caller,
                parse_id("lead_id", &request.lead_id)?,
                parse_optional_id("rep_id", &request.rep_id)?,
            )
            .await?;
        Ok(Response::new(pb::AssignLeadResponse {
            lead: lead_response(&lead),
            explanation_text: Some(explanation.to_wire()),
            explanation: explanation.text,
        }))
    }

    async fn log_lead_activity(
        &self,
        request: Request<pb::LogLeadActivityRequest>,
    ) -> Result<Response<pb::LogLeadActivityResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let kind = pb::ActivityKind::try_from(request.kind)
            .ok()
            .and_then(activity_kind)
            .ok_or_else(|| {
                LeadsError::invalid(
                    "kind",
                    "must be a call, email, meeting, note, web visit or email open",
                )
            })?;
        if request.note.chars().count() > 2000 {
            return Err(LeadsError::invalid("note", "must be at most 2000 characters").into());
        }
        let lead = self
            .leads
            .log_activity(
                &caller,
                parse_id("lead_id", &request.lead_id)?,
                kind,
                &request.note,
            )
            .await?;
        Ok(Response::new(pb::LogLeadActivityResponse {
            lead: lead_response(&lead),
        }))
    }

    async fn qualify_lead(
        &self,
        request: Request<pb::QualifyLeadRequest>,
    ) -> Result<Response<pb::QualifyLeadResponse>, Status> {
        let caller = caller(&request)?;
        let lead = self
            .leads
            .qualify(&caller, parse_id("lead_id", &request.get_ref().lead_id)?)
            .await?;
        Ok(Response::new(pb::QualifyLeadResponse {
            lead: lead_response(&lead),
        }))
    }

    async fn disqualify_lead(
        &self,
        request: Request<pb::DisqualifyLeadRequest>,
    ) -> Result<Response<pb::DisqualifyLeadResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let lead = self
            .leads
            .disqualify(
                &caller,
                parse_id("lead_id", &request.lead_id)?,
                &request.reason,
            )
            .await?;
        Ok(Response::new(pb::DisqualifyLeadResponse {
            lead: lead_response(&lead),
        }))
    }

    async fn reopen_lead(
        &self,
        request: Request<pb::ReopenLeadRequest>,
    ) -> Result<Response<pb::ReopenLeadResponse>, Status> {
        let caller = caller(&request)?;
        let lead = self
            .leads
            .reopen(&caller, parse_id("lead_id", &request.get_ref().lead_id)?)
            .await?;
        Ok(Response::new(pb::ReopenLeadResponse {
            lead: lead_response(&lead),
        }))
    }

    async fn convert_lead(
        &self,
        request: Request<pb::ConvertLeadRequest>,
    ) -> Result<Response<pb::ConvertLeadResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let opportunity_amount = request
            .opportunity_amount
            .as_ref()
            .map(|money| Money::non_negative("opportunity_amount", money))
            .transpose()
            .map_err(LeadsError::from)?;
        let expected_close_date = match request.expected_close_date.trim() {
            "" => None,
            text => Some(NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                LeadsError::invalid(
                    "expected_close_date",
                    format!("{text:?} is not a date like 2027-01-22"),
                )
            })?),
        };
        if request.opportunity_name.chars().count() > 200 {
            return Err(
                LeadsError::invalid("opportunity_name", "must be at most 200 characters").into(),
            );
        }
        let converted = self
            .leads
            .convert(
                &caller,
                parse_id("lead_id", &request.lead_id)?,
                Conversion {
                    account_id: parse_optional_id("account_id", &request.account_id)?,
                    opportunity_name: request.opportunity_name,
                    opportunity_amount,
                    expected_close_date,
                },
            )
            .await?;
        Ok(Response::new(pb::ConvertLeadResponse {
            lead: lead_response(&converted.lead),
            account_id: converted.account_id.to_string(),
            account_is_new: converted.account_is_new,
            contact_id: converted.contact_id.to_string(),
            opportunity_id: converted.opportunity_id.to_string(),
        }))
    }

    async fn merge_leads(
        &self,
        request: Request<pb::MergeLeadsRequest>,
    ) -> Result<Response<pb::MergeLeadsResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let (survivor, merge_id) = self
            .leads
            .merge(
                &caller,
                parse_id("survivor_id", &request.survivor_id)?,
                parse_id("duplicate_id", &request.duplicate_id)?,
            )
            .await?;
        Ok(Response::new(pb::MergeLeadsResponse {
            survivor: lead_response(&survivor),
            merge_id: merge_id.to_string(),
        }))
    }

    async fn undo_lead_merge(
        &self,
        request: Request<pb::UndoLeadMergeRequest>,
    ) -> Result<Response<pb::UndoLeadMergeResponse>, Status> {
        let caller = caller(&request)?;
        let (survivor, restored) = self
            .leads
            .undo_merge(&caller, parse_id("merge_id", &request.get_ref().merge_id)?)
            .await?;
        Ok(Response::new(pb::UndoLeadMergeResponse {
            survivor: lead_response(&survivor),
            restored: lead_response(&restored),
        }))
    }

    async fn get_lead_history(
        &self,
        request: Request<pb::GetLeadHistoryRequest>,
    ) -> Result<Response<pb::GetLeadHistoryResponse>, Status> {
        let caller = caller(&request)?;
        let entries = self
            .leads
            .history(&caller, parse_id("lead_id", &request.get_ref().lead_id)?)
            .await?;
        let optional = |id: Option<uuid::Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
        Ok(Response::new(pb::GetLeadHistoryResponse {
            entries: entries
                .into_iter()
                .map(|entry| pb::LeadHistoryEntry {
                    at: Some(crm_platform::time::to_timestamp(entry.at)),
                    kind: entry.kind,
                    actor_id: optional(entry.actor_id),
                    from_owner_id: optional(entry.from_owner_id),
                    to_owner_id: optional(entry.to_owner_id),
                    summary: entry.summary,
                })
                .collect(),
        }))
    }

    async fn recycle_stale_leads(
        &self,
        request: Request<pb::RecycleStaleLeadsRequest>,
    ) -> Result<Response<pb::RecycleStaleLeadsResponse>, Status> {
        let caller = caller(&request)?;
        if caller.role != crm_platform::auth::Role::Admin {
            return Err(LeadsError::permission_denied("only admins run recycling by hand").into());
        }
        let run = self.leads.recycle_stale(crm_platform::time::now()).await?;
        Ok(Response::new(pb::RecycleStaleLeadsResponse {
            warned: run.warned,
            recycled: run.recycled,
        }))
    }
}
