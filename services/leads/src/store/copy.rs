//! Leads in bulk: the text of one `COPY … FROM STDIN`, as an import writes its new leads.

use chrono::{DateTime, Utc};
use crm_platform::auth::TeamPath;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    lead_row::{channel_code, size_code},
    leads::{DerivedKeys, WRITE_COLUMNS},
};
use crate::domain::lead::Lead;

/// `COPY leads (…) FROM STDIN` in text format: the rows [`push_copy_row`] writes.
pub fn copy_statement() -> String {
    format!("COPY leads ({WRITE_COLUMNS}, created_by) FROM STDIN")
}

/// Sends lines written by [`push_copy_row`] with one `COPY`; returns how many rows it wrote.
pub(crate) async fn copy_rows(connection: &mut PgConnection, text: &[u8]) -> sqlx::Result<u64> {
    let mut copy = connection.copy_in_raw(&copy_statement()).await?;
    if let Err(error) = copy.send(text).await {
        let _ = copy.abort("sending the rows failed").await;
        return Err(error);
    }
    copy.finish().await
}

/// Appends a new lead (with its [`DerivedKeys`]) as a line of `COPY … FROM STDIN` text, in
/// the columns of [`copy_statement`]: how an import writes leads in bulk.
pub fn push_copy_row(out: &mut Vec<u8>, lead: &Lead, keys: &DerivedKeys, created_by: Option<Uuid>) {
    let mut row = CopyRow { out, first: true };
    row.uuid(Some(lead.id));
    row.text(Some(&lead.first_name));
    row.text(Some(&lead.last_name));
    row.text(Some(&keys.person_key));
    row.text(lead.email.as_deref());
    row.text(lead.phone.as_deref());
    row.text(Some(&lead.company));
    row.text(Some(&keys.company_key));
    row.text(keys.domain.as_deref());
    row.text(Some(&lead.title));
    row.text(Some(&lead.website));
    row.text(Some(&lead.industry));
    row.text(Some(&lead.territory));
    row.number(i64::from(size_code(lead.company_size)));
    row.text(Some(&lead.product_interest));
    row.text(Some(&lead.description));
    row.number(i64::from(channel_code(lead.source_channel)));
    row.uuid(lead.campaign_id);
    row.text(Some(lead.status.as_str()));
    row.text(lead.disqualify_reason.as_deref());
    row.uuid(lead.owner_id);
    row.text(lead.owner_team_path.as_ref().map(TeamPath::as_str));
    row.raw(if lead.held_by_claim { "t" } else { "f" });
    row.text(Some(lead.pool_team_path.as_str()));
    row.number(i64::from(lead.score.total));
    let score = serde_json::to_string(&lead.score).unwrap_or_else(|_| "{}".to_owned());
    row.text(Some(&score));
    row.uuid(lead.possible_duplicate_of);
    row.number(i64::from(lead.duplicate_score));
    row.uuid(lead.merged_into_lead_id);
    row.uuid(lead.converted_account_id);
    row.uuid(lead.converted_contact_id);
    row.uuid(lead.converted_opportunity_id);
    row.time(lead.converted_at);
    row.time(lead.assigned_at);
    row.time(lead.last_touched_at);
    row.time(lead.recycle_warned_at);
    row.number(lead.version);
    row.time(Some(lead.created_at));
    row.time(Some(lead.updated_at));
    row.uuid(created_by);
    row.out.push(b'\n');
}

/// One line of `COPY` text format: tab-separated, `\N` for NULL, backslash escapes.
struct CopyRow<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl CopyRow<'_> {
    fn separate(&mut self) {
        if !std::mem::take(&mut self.first) {
            self.out.push(b'\t');
        }
    }

    fn raw(&mut self, value: &str) {
        self.separate();
        self.out.extend_from_slice(value.as_bytes());
    }

    fn null(&mut self) {
        self.raw("\\N");
    }

    fn text(&mut self, value: Option<&str>) {
        let Some(value) = value else {
            return self.null();
        };
        self.separate();
        for byte in value.bytes() {
            match byte {
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                other => self.out.push(other),
            }
        }
    }

    fn number(&mut self, value: i64) {
        use std::io::Write;
        self.separate();
        let _ = write!(self.out, "{value}");
    }

    fn uuid(&mut self, value: Option<Uuid>) {
        match value {
            Some(id) => {
                self.separate();
                let mut buffer = Uuid::encode_buffer();
                self.out
                    .extend_from_slice(id.hyphenated().encode_lower(&mut buffer).as_bytes());
            }
            None => self.null(),
        }
    }

    fn time(&mut self, value: Option<DateTime<Utc>>) {
        use std::io::Write;
        match value {
            Some(time) => {
                self.separate();
                let _ = write!(self.out, "{}+00", time.naive_utc());
            }
            None => self.null(),
        }
    }
}
