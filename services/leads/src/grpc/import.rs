//! The client-streaming import: rows read from the stream, mapped to the domain and prepared
//! in chunks while the chunks before them are written.

use crm_platform::{auth::Caller, error::FieldViolation};
use crm_proto::crm::leads::v1 as pb;
use tokio_stream::StreamExt;
use tonic::{Status, Streaming};

use crate::{
    convert,
    domain::lead::NewLead,
    service::{
        Leads,
        import::{IMPORT_CHUNK, PreparedChunk},
    },
};
use crm_platform::ids::parse_optional_id;

/// An import row as the import takes it: its text checked by the kit's rule (which its request
/// leaves to the import, so that one bad row does not fail the stream), the import's campaign
/// unless the row names one, the import channel unless the row names one, then validated.
fn import_row(
    row: pb::LeadInput,
    campaign_id: Option<uuid::Uuid>,
    default_calling_code: Option<&str>,
) -> Result<NewLead, Vec<FieldViolation>> {
    crm_platform::text::check_message(&row, "row")?;
    let mut row = row;
    if row.campaign_id.is_empty()
        && let Some(campaign) = campaign_id
    {
        row.campaign_id = campaign.to_string();
    }
    if row.source_channel == 0 {
        row.source_channel = pb::SourceChannel::Import as i32;
    }
    convert::validate_lead_input(&row, default_calling_code, "row")
}

/// Reads an import stream into chunks of [`IMPORT_CHUNK`] rows prepared for
/// [`Leads::import_chunks`], until the stream ends or fails, or the import stops taking them.
pub(super) async fn read_chunks(
    leads: Leads,
    caller: Caller,
    mut stream: Streaming<pb::ImportLeadsRequest>,
    chunks: tokio::sync::mpsc::Sender<PreparedChunk>,
) -> Result<(), Status> {
    // One reading for the whole import: every row is read with the same code.
    let calling_code = leads.default_calling_code().await?;
    let mut campaign_id = None;
    let mut chunk = Vec::with_capacity(IMPORT_CHUNK);
    let mut first = true;
    let mut next_line = 1;
    loop {
        let message = stream.next().await.transpose()?;
        let end = message.is_none();
        if let Some(message) = message {
            if first {
                campaign_id = parse_optional_id("campaign_id", &message.campaign_id)?;
                first = false;
            }
            let line = if message.line == 0 {
                next_line
            } else {
                message.line
            };
            next_line = line + 1;
            if let Some(row) = message.row {
                chunk.push((line, import_row(row, campaign_id, calling_code.as_deref())));
            }
        }
        if chunk.len() == IMPORT_CHUNK || (end && !chunk.is_empty()) {
            let rows = std::mem::take(&mut chunk);
            let prepared = leads.prepare_import(&caller, rows).await?;
            if chunks.send(prepared).await.is_err() {
                // The import failed and says why.
                return Ok(());
            }
        }
        if end {
            return Ok(());
        }
    }
}
