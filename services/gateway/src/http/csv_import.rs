//! CSV upload of leads (capability L1): `POST /v1/leads:import` with a `text/csv` body. The
//! header row is mapped to lead fields, by name or alias or as the caller says
//! (`?map.E-Mail%20Adresse=email`), and the rows are streamed into the leads service's
//! `ImportLeads`, which keeps the valid rows and reports the others by line number.

use std::collections::HashMap;

use bytes::Bytes;
use crm_proto::crm::leads::v1::{self as pb, lead_service_client::LeadServiceClient};
use http::{HeaderMap, StatusCode, header};
use prost::Message;
use prost_reflect::{DynamicMessage, MessageDescriptor};
use tonic::{Code, metadata::MetadataMap};

use super::{problem::Problem, transcode};

pub const PATH: &str = "/v1/leads:import";

/// Rows read ahead of the leads service.
const ROWS_IN_FLIGHT: usize = 1024;

/// What the upload's query string says.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct UploadOptions {
    pub campaign_id: String,
    /// Column header → lead field; an empty field ignores the column.
    pub mapping: HashMap<String, String>,
}

impl UploadOptions {
    pub fn parse(query: Option<&str>) -> Result<Self, Problem> {
        let mut options = Self::default();
        for pair in query
            .unwrap_or("")
            .split('&')
            .filter(|pair| !pair.is_empty())
        {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode(name)?;
            let value = decode(value)?;
            if name == "campaign_id" {
                options.campaign_id = value;
            } else if let Some(column) = name.strip_prefix("map.") {
                options.mapping.insert(column.to_owned(), value);
            } else {
                return Err(Problem::invalid(
                    name,
                    "is not an option of the import; use campaign_id or map.<column>=<field>",
                ));
            }
        }
        Ok(options)
    }
}

fn decode(text: &str) -> Result<String, Problem> {
    transcode::form_decode(text)
        .ok_or_else(|| Problem::invalid(text, "is not valid percent-encoded UTF-8"))
}

/// Header spellings understood without a mapping, normalised (lower case, letters and digits
/// only): the field names themselves, common English ones, and the Chinese ones of the lists
/// our users export (姓名 is split by the service's own rules only when mapped explicitly).
const ALIASES: &[(&str, &str)] = &[
    ("firstname", "first_name"),
    ("givenname", "first_name"),
    ("forename", "first_name"),
    ("名", "first_name"),
    ("lastname", "last_name"),
    ("surname", "last_name"),
    ("familyname", "last_name"),
    ("姓", "last_name"),
    ("email", "email"),
    ("emailaddress", "email"),
    ("mail", "email"),
    ("邮箱", "email"),
    ("电子邮件", "email"),
    ("phone", "phone"),
    ("phonenumber", "phone"),
    ("mobile", "phone"),
    ("tel", "phone"),
    ("telephone", "phone"),
    ("电话", "phone"),
    ("手机", "phone"),
    ("company", "company"),
    ("companyname", "company"),
    ("organisation", "company"),
    ("organization", "company"),
    ("account", "company"),
    ("公司", "company"),
    ("公司名称", "company"),
    ("title", "title"),
    ("jobtitle", "title"),
    ("position", "title"),
    ("职位", "title"),
    ("website", "website"),
    ("url", "website"),
    ("web", "website"),
    ("网站", "website"),
    ("industry", "industry"),
    ("行业", "industry"),
    ("territory", "territory"),
    ("region", "territory"),
    ("地区", "territory"),
    ("区域", "territory"),
    ("companysize", "company_size"),
    ("size", "company_size"),
    ("规模", "company_size"),
    ("productinterest", "product_interest"),
    ("product", "product_interest"),
    ("意向产品", "product_interest"),
    ("description", "description"),
    ("notes", "description"),
    ("note", "description"),
    ("comments", "description"),
    ("备注", "description"),
    ("campaignid", "campaign_id"),
    ("campaign", "campaign_id"),
    ("sourcechannel", "source_channel"),
    ("channel", "source_channel"),
    ("source", "source_channel"),
];

fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The lead field of each column (`None`: ignored), or every column that maps to nothing.
pub fn map_columns(
    headers: &[String],
    options: &UploadOptions,
    lead: &MessageDescriptor,
) -> Result<Vec<Option<String>>, Problem> {
    let mut mapped = Vec::with_capacity(headers.len());
    let mut problems = Vec::new();
    for header in headers {
        let field = match options.mapping.get(header) {
            Some(field) if field.is_empty() => None,
            Some(field) => Some(field.clone()),
            None => {
                let key = normalise(header);
                match ALIASES.iter().find(|(alias, _)| *alias == key) {
                    Some((_, field)) => Some((*field).to_owned()),
                    None => {
                        problems.push((
                            format!("columns.{header}"),
                            "matches no lead field; map it with map.<column>=<field>, or ignore it with map.<column>=".to_owned(),
                        ));
                        continue;
                    }
                }
            }
        };
        if let Some(field) = &field
            && lead.get_field_by_name(field).is_none()
        {
            problems.push((
                format!("map.{header}"),
                format!("{field:?} is not a field of {}", lead.full_name()),
            ));
        }
        mapped.push(field);
    }
    for (column, field) in &options.mapping {
        if !headers.contains(column) {
            problems.push((
                format!("map.{column}"),
                format!("no column is named {column:?} (to map it to {field:?})"),
            ));
        }
    }
    if problems.is_empty() {
        return Ok(mapped);
    }
    let mut problem = Problem::new(
        Code::InvalidArgument,
        "the CSV header does not map onto lead fields",
    );
    problem.violations = problems
        .into_iter()
        .map(|(field, description)| crm_platform::error::FieldViolation::new(field, description))
        .collect();
    Err(problem)
}

/// Checks the whole file parses as CSV and is UTF-8 text before any row is sent, so an upload
/// is not cut off half-way by bad bytes on line 90,000; an error names the physical line the
/// bad bytes are on.
pub fn check_syntax(body: &[u8]) -> Result<Vec<String>, Problem> {
    // Untrimmed, so that every line break of a field is there to count.
    let mut reader = reader(body, csv::Trim::None);
    let header_record = reader
        .byte_headers()
        .map_err(|error| csv_problem(&error))?
        .clone();
    let headers = utf8_fields(body, &header_record)?
        .into_iter()
        .map(|header| header.trim().to_owned())
        .collect::<Vec<_>>();
    if headers.iter().all(String::is_empty) {
        return Err(Problem::invalid(
            "body",
            "the CSV has no header row; its first line must name the columns",
        ));
    }
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {
                utf8_fields(body, &record)?;
            }
            Ok(false) => return Ok(headers),
            Err(error) => return Err(csv_problem(&error)),
        }
    }
}

/// The fields of `record` as text, or the problem naming the line of the first bytes that are
/// not UTF-8: the record's first line plus the line breaks before them in its fields (a
/// quoted field may span lines; fields themselves are separated by commas, never newlines).
fn utf8_fields<'a>(body: &[u8], record: &'a csv::ByteRecord) -> Result<Vec<&'a str>, Problem> {
    let mut fields = Vec::with_capacity(record.len());
    let mut line_breaks = 0;
    for field in record {
        match std::str::from_utf8(field) {
            Ok(text) => {
                line_breaks += count_line_breaks(field);
                fields.push(text);
            }
            Err(error) => {
                line_breaks += count_line_breaks(&field[..error.valid_up_to()]);
                let line = record
                    .position()
                    .map_or(0, |position| first_line(body, position) + line_breaks);
                return Err(Problem::invalid(
                    format!("line {line}"),
                    "is not UTF-8 text",
                ));
            }
        }
    }
    Ok(fields)
}

fn count_line_breaks(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|byte| **byte == b'\n').count() as u64
}

/// The physical line (1-based) a record starts on. csv's position of a record is where the
/// reader stood before it — before the line feed of a CRLF (csv ends a record at its CR) and
/// before the blank lines it skips — so the line breaks from there to the record's first byte
/// are added.
fn first_line(body: &[u8], position: &csv::Position) -> u64 {
    let start = usize::try_from(position.byte()).unwrap_or(usize::MAX);
    let skipped = body
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|byte| matches!(byte, b'\r' | b'\n'))
        .filter(|byte| **byte == b'\n')
        .count();
    position.line() + skipped as u64
}

/// The one CSV dialect of uploads, for the syntax check (untrimmed) and for reading the rows
/// (trimmed) alike.
fn reader<R: std::io::Read>(body: R, trim: csv::Trim) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .trim(trim)
        .from_reader(body)
}

/// A failure of the reader itself (not bad text, which [`utf8_fields`] finds first).
fn csv_problem(error: &csv::Error) -> Problem {
    let line = error.position().map_or(0, csv::Position::line);
    Problem::invalid(format!("line {line}"), error.to_string())
}

/// Turns the rows into the `ImportLeads` stream: one request per row, with the physical line
/// it starts on; or the row's error when it cannot even be given to the service (more cells
/// than the header names, a company size that is no size), reported by line with the
/// service's own.
pub fn rows(
    body: Bytes,
    columns: Vec<Option<String>>,
    campaign_id: String,
    lead: MessageDescriptor,
) -> impl Iterator<Item = Result<pb::ImportLeadsRequest, pb::ImportRowError>> {
    let text = body.clone();
    let mut reader = reader(std::io::Cursor::new(body), csv::Trim::Fields);
    let mut record = csv::StringRecord::new();
    std::iter::from_fn(move || {
        // Checked by `check_syntax`, so reading fails only at the end.
        if !reader.read_record(&mut record).ok()? {
            return None;
        }
        let line = record
            .position()
            .map_or(0, |position| first_line(&text, position));
        // A cell past the header's has no column to go to: refused rather than dropped (empty
        // ones, as a trailing comma makes, lose nothing).
        if record.len() > columns.len()
            && record
                .iter()
                .skip(columns.len())
                .any(|cell| !cell.is_empty())
        {
            return Some(Err(pb::ImportRowError {
                line,
                field: "row".to_owned(),
                message: format!("{} cells, the header has {}", record.len(), columns.len()),
            }));
        }
        let mut row = DynamicMessage::new(lead.clone());
        for (value, field) in record.iter().zip(&columns) {
            let Some(field) = field else { continue };
            if value.is_empty() {
                continue;
            }
            if let Err(invalid) = transcode::set_text_field(&mut row, field, value) {
                return Some(Err(pb::ImportRowError {
                    line,
                    field: format!("row.{field}"),
                    message: invalid.message,
                }));
            }
        }
        let input = pb::LeadInput::decode(row.encode_to_vec().as_slice())
            .expect("a LeadInput re-encoded from its own descriptor decodes");
        Some(Ok(pb::ImportLeadsRequest {
            campaign_id: campaign_id.clone(),
            line,
            row: Some(input),
        }))
    })
}

/// Serves an upload: checks it, streams it, and renders the import summary.
pub async fn serve(
    leads: crm_platform::host::LocalGrpc,
    lead: MessageDescriptor,
    summary: MessageDescriptor,
    headers: &HeaderMap,
    query: Option<&str>,
    body: Bytes,
    metadata: MetadataMap,
) -> Result<Vec<u8>, Problem> {
    let is_csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("text/csv"));
    if !is_csv {
        return Err(Problem::new(
            Code::InvalidArgument,
            "an import is a CSV file, sent as Content-Type: text/csv",
        )
        .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
    }
    let options = UploadOptions::parse(query)?;
    let header_row = check_syntax(&body)?;
    let columns = map_columns(&header_row, &options, &lead)?;

    let (sender, receiver) = tokio::sync::mpsc::channel(ROWS_IN_FLIGHT);
    let reading = tokio::spawn(async move {
        let mut refused = Vec::new();
        for row in rows(body, columns, options.campaign_id, lead) {
            match row {
                Ok(row) => {
                    if sender.send(row).await.is_err() {
                        // The call ended early (the service refused it); its status says why.
                        break;
                    }
                }
                Err(error) => refused.push(error),
            }
        }
        refused
    });
    let request = tonic::Request::from_parts(
        metadata,
        Default::default(),
        tokio_stream::wrappers::ReceiverStream::new(receiver),
    );
    let outcome = LeadServiceClient::new(leads).import_leads(request).await;
    let refused = reading.await.unwrap_or_default();
    let mut response = outcome
        .map_err(|status| Problem::from_status(&status))?
        .into_inner();
    let count = refused.len() as u64;
    response.rows_received += count;
    response.rejected += count;
    response.errors.extend(refused);
    response.errors.sort_by_key(|error| error.line);
    let bytes = response.encode_to_vec();
    transcode::response_json(summary, &bytes).map_err(|error| {
        tracing::error!(%error, "the import summary could not be rendered");
        Problem::new(Code::Internal, "internal error")
    })
}

#[cfg(test)]
mod tests {
    use prost_reflect::DescriptorPool;

    use super::*;

    fn lead() -> MessageDescriptor {
        DescriptorPool::decode(crm_proto::FILE_DESCRIPTOR_SET)
            .unwrap()
            .get_message_by_name("crm.leads.v1.LeadInput")
            .unwrap()
    }

    #[test]
    fn headers_map_by_alias_and_by_the_callers_mapping() {
        let headers: Vec<String> = ["First Name", "E-Mail", "公司", "Firma", "Notizen"]
            .map(str::to_owned)
            .to_vec();
        let unmapped = map_columns(&headers, &UploadOptions::default(), &lead()).unwrap_err();
        let fields: Vec<&str> = unmapped
            .violations
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(fields, ["columns.Firma", "columns.Notizen"]);

        let options =
            UploadOptions::parse(Some("map.Firma=company&map.Notizen=&campaign_id=c1")).unwrap();
        assert_eq!(options.campaign_id, "c1");
        let columns = map_columns(&headers, &options, &lead()).unwrap();
        assert_eq!(
            columns,
            [
                Some("first_name".to_owned()),
                Some("email".to_owned()),
                Some("company".to_owned()),
                Some("company".to_owned()),
                None
            ]
        );
        let wrong = UploadOptions::parse(Some("map.Firma=firm")).unwrap();
        assert!(map_columns(&headers, &wrong, &lead()).is_err());
        assert!(UploadOptions::parse(Some("colour=red")).is_err());
    }

    #[test]
    fn rows_keep_their_line_numbers_and_quoted_newlines() {
        let body = "email,company,notes\n\
                    a@x.example,\"Contoso, Ltd\",\"two\nlines\"\n\
                    b@x.example,Fabrikam,\n";
        let header = check_syntax(body.as_bytes()).unwrap();
        let columns = map_columns(&header, &UploadOptions::default(), &lead()).unwrap();
        let rows: Vec<_> = rows(Bytes::from(body), columns, String::new(), lead())
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].row.as_ref().unwrap().company, "Contoso, Ltd");
        assert_eq!(rows[0].row.as_ref().unwrap().description, "two\nlines");
        assert_eq!(rows[1].line, 4, "the quoted newline took a line");
    }

    #[test]
    fn a_value_of_the_wrong_kind_is_that_rows_error() {
        let body = "email,size\na@x.example,huge\nb@x.example,Large\n";
        let header = check_syntax(body.as_bytes()).unwrap();
        let columns = map_columns(&header, &UploadOptions::default(), &lead()).unwrap();
        let rows: Vec<_> = rows(Bytes::from(body), columns, String::new(), lead()).collect();
        let error = rows[0].as_ref().unwrap_err();
        assert_eq!((error.line, error.field.as_str()), (2, "row.company_size"));
        let row = rows[1].as_ref().unwrap().row.clone().unwrap();
        assert_eq!(
            row.company_size,
            crm_proto::crm::common::v1::CompanySize::Large as i32
        );
    }

    /// The lines and outcomes of an upload's rows: the line, and the error's field and
    /// message or the row's email.
    fn outcomes(body: &[u8]) -> Vec<(u64, String)> {
        let header = check_syntax(body).unwrap();
        let columns = map_columns(&header, &UploadOptions::default(), &lead()).unwrap();
        rows(Bytes::copy_from_slice(body), columns, String::new(), lead())
            .map(|row| match row {
                Ok(row) => (row.line, row.row.unwrap().email),
                Err(error) => (error.line, format!("{}: {}", error.field, error.message)),
            })
            .collect()
    }

    #[test]
    fn lines_are_physical_lines_in_crlf_files_and_after_blank_lines() {
        // Windows line ends, a quoted field over two lines, then a row refused for its cells.
        let crlf = b"email,company,notes\r\n\
                     a@x.example,Contoso,\"two\r\nlines\"\r\n\
                     b@x.example,Fabrikam,,extra\r\n\
                     c@x.example,Tailspin,\r\n";
        assert_eq!(
            outcomes(crlf),
            [
                (2, "a@x.example".to_owned()),
                (4, "row: 4 cells, the header has 3".to_owned()),
                (5, "c@x.example".to_owned()),
            ]
        );
        let blank_lines = b"email,company\n\na@x.example,Contoso\n\n\nb@x.example,Fabrikam\n";
        let lines: Vec<u64> = outcomes(blank_lines)
            .iter()
            .map(|(line, _)| *line)
            .collect();
        assert_eq!(lines, [3, 6]);
    }

    #[test]
    fn a_row_with_more_cells_than_the_header_is_refused_naming_the_count() {
        let body = b"email,company,title,notes\n\
                     a@x.example,Contoso,CTO,hi\n\
                     b@x.example,Fabrikam,CEO,hi,lost,too\n\
                     c@x.example,Tailspin,CFO,hi,\n";
        assert_eq!(
            outcomes(body),
            [
                (2, "a@x.example".to_owned()),
                (3, "row: 6 cells, the header has 4".to_owned()),
                // A trailing comma's empty cell loses nothing.
                (4, "c@x.example".to_owned()),
            ]
        );
    }

    #[test]
    fn bad_bytes_are_named_by_the_line_they_are_on() {
        let field = |body: &[u8]| check_syntax(body).unwrap_err().violations[0].field.clone();
        assert_eq!(field(b"email,company\r\na@x.example,Caf\xe9\r\n"), "line 2");
        // On the second line of a quoted field, and after one.
        assert_eq!(
            field(b"email,notes\na@x.example,\"one\ntwo \xe9\"\n"),
            "line 3"
        );
        assert_eq!(
            field(b"email,notes\na@x.example,\"one\ntwo\"\nb@x.example,\xe9\n"),
            "line 4"
        );
        assert_eq!(field(b"email,n\xe9\n"), "line 1");
    }

    #[test]
    fn a_broken_file_is_refused_before_anything_is_sent() {
        let no_header = "\n";
        assert!(check_syntax(no_header.as_bytes()).is_err());
        let latin1 = b"email,company\na@x.example,Caf\xe9\n";
        let problem = check_syntax(latin1).unwrap_err();
        assert_eq!(problem.violations[0].field, "line 2");
    }
}
