//! `import`: a streamed import of N leads with dedupe on, against a raw `COPY` of the same
//! rows into the same table.
//!
//! The import runs the leads service in this process and streams generated rows through
//! `ImportLeads` (client-streaming gRPC); its rate is rows sent / wall time from the first
//! send to the summary. The baseline copies the rows the import stores (built by the leads
//! crate's own validation and scoring, so the columns and values are the same) into the
//! `leads` table of a second fresh leads database with one `COPY … FROM STDIN`; the `COPY`
//! text is built before the clock starts, so the baseline is PostgreSQL's ingest rate alone.

use std::time::{Duration, Instant};

use crm_leads::import_baseline::{self, IMPORT_CHUNK};
use crm_proto::crm::leads::v1::{
    self as pb, ImportLeadsRequest, lead_service_client::LeadServiceClient,
};
use crm_test_support::{TestDatabase, nats_url};
use futures::StreamExt;

use crate::{
    report::{Row, ScenarioReport, Target},
    setup,
};

#[derive(Clone, Copy, Debug)]
pub struct ImportOptions {
    /// Rows to stream (and to copy).
    pub rows: u64,
}

/// The importing user and team: an admin's import lands in the `/northwind` pool.
const TEAM: &str = "/northwind";
/// The calling code the COPY baseline reads phones with. The rows' phones carry +86, so the
/// service streamed to needs no organisation setting to read them alike.
const CALLING_CODE: &str = "86";
/// Whose events the leads service consumes.
const CONSUMED_PRODUCERS: [&str; 2] = ["accounts", "gateway"];

pub async fn run(options: ImportOptions) -> anyhow::Result<ScenarioReport> {
    anyhow::ensure!(options.rows > 0, "--rows must be at least 1");
    let admin = crm_test_support::user("admin", TEAM);
    let expected = Expected::of(options.rows);

    // The baseline first, in its own database, then a checkpoint so its WAL is not flushed
    // on the import's time.
    let copy = copy_baseline(options.rows, &admin).await?;
    crate::setup::checkpoint().await?;
    let import = stream_import(options.rows, &admin).await?;

    let mut report = ScenarioReport::new(
        "import",
        format!(
            "streaming import of {} leads with dedupe on, against COPY of the same rows",
            options.rows
        ),
        "gRPC ImportLeads",
        "raw COPY",
    );
    report
        .row(
            Row::new(
                "throughput",
                "rows/s",
                Some(options.rows as f64 / import.elapsed.as_secs_f64()),
                Some(copy.rows as f64 / copy.elapsed.as_secs_f64()),
            )
            .target(Target::RatioAtLeast(0.5)),
        )
        .row(Row::new(
            "wall time",
            "s",
            Some(import.elapsed.as_secs_f64()),
            Some(copy.elapsed.as_secs_f64()),
        ))
        .row(Row::new(
            "leads stored",
            "rows",
            Some(import.summary.created as f64),
            Some(copy.rows as f64),
        ))
        .row(Row::new(
            "flagged duplicates",
            "rows",
            Some(import.summary.flagged_duplicates as f64),
            None,
        ))
        .row(Row::new(
            "rejected",
            "rows",
            Some(import.summary.rejected as f64),
            None,
        ));
    report.note(format!(
        "expected from the generator: {} created, {} flagged (every repeat found), {} rejected",
        expected.created, expected.duplicates, expected.invalid
    ));
    report.note(format!(
        "import: {} rows received, {} created, {} flagged, {} merged, {} rejected in {:.1} s; \
         {} events of the import still in the outbox at the summary (the relay publishes meanwhile)",
        import.summary.rows_received,
        import.summary.created,
        import.summary.flagged_duplicates,
        import.summary.merged_duplicates,
        import.summary.rejected,
        import.elapsed.as_secs_f64(),
        import.unpublished,
    ));
    report.note(format!(
        "dedupe: per chunk of {IMPORT_CHUNK} rows one candidate query (same email, phone or company \
         domain; no company-name branch, see Leads::import_chunks), each row then matched in \
         process against those and the import's earlier rows; duplicate policy Flag (the default); \
         chunk N+1 is matched while chunk N is written"
    ));
    report.note(
        "rows: distinct companies, ~2% repeat an earlier row's email, ~0.5% invalid emails; \
         generated on the fly by the client in this process; the import also writes a history \
         row and an outbox event per lead",
    );
    report.note(format!(
        "COPY: the {} valid rows in stored form (same columns and values the import writes, \
         text built beforehand in {:.1} s, not timed), one COPY statement into an empty leads \
         table with the same indexes",
        copy.rows,
        copy.prepared.as_secs_f64()
    ));
    Ok(report)
}

/// What the generator put in: rows rejected, repeated and created when every repeat is found.
struct Expected {
    invalid: u64,
    duplicates: u64,
    created: u64,
}

impl Expected {
    fn of(rows: u64) -> Self {
        let (mut invalid, mut duplicates) = (0, 0);
        for n in 0..rows {
            match kind(n) {
                Kind::Invalid => invalid += 1,
                Kind::Duplicate(_) => duplicates += 1,
                Kind::Plain => {}
            }
        }
        Expected {
            invalid,
            duplicates,
            created: rows - invalid,
        }
    }
}

struct CopyFigure {
    rows: u64,
    elapsed: Duration,
    prepared: Duration,
}

/// The rows the import would store, copied into a fresh leads database.
async fn copy_baseline(
    rows: u64,
    admin: &crm_platform::auth::Caller,
) -> anyhow::Result<CopyFigure> {
    let database = TestDatabase::create(crm_leads::migrator).await;
    let result = async {
        let prepare_started = Instant::now();
        let mut pieces: Vec<Vec<u8>> = Vec::new();
        let mut piece = Vec::new();
        let mut copied = 0u64;
        for n in 0..rows {
            let mut input = lead_input(n);
            input.source_channel = pb::SourceChannel::Import as i32;
            if !import_baseline::push_row(&mut piece, &input, admin, CALLING_CODE) {
                continue;
            }
            copied += 1;
            if piece.len() >= 8 << 20 {
                pieces.push(std::mem::take(&mut piece));
            }
        }
        pieces.push(piece);
        let prepared = prepare_started.elapsed();

        let mut connection = database.pool.acquire().await?;
        let started = Instant::now();
        let mut copy = connection
            .copy_in_raw(&import_baseline::copy_statement())
            .await?;
        for piece in &pieces {
            copy.send(piece.as_slice()).await?;
        }
        let written = copy.finish().await?;
        let elapsed = started.elapsed();
        anyhow::ensure!(written == copied, "COPY wrote {written} of {copied} rows");
        Ok(CopyFigure {
            rows: copied,
            elapsed,
            prepared,
        })
    }
    .await;
    database.pool.close().await;
    if let Err(error) = setup::drop_database(&database.name).await {
        eprintln!(
            "warning: dropping database {} failed: {error}",
            database.name
        );
    }
    result
}

struct ImportFigure {
    summary: pb::ImportLeadsResponse,
    elapsed: Duration,
    unpublished: i64,
}

/// The rows streamed through `ImportLeads` to the leads service running in this process.
async fn stream_import(
    rows: u64,
    admin: &crm_platform::auth::Caller,
) -> anyhow::Result<ImportFigure> {
    let mut app = crm_test_support::TestApp::spawn_with(
        &[crm_leads::module()],
        &nats_url(),
        &[("CRM_LOG", "warn")],
    )
    .await;
    // The streams the service's consumers read (other services' events), so that they settle
    // instead of retrying; none of them carries anything here.
    let context = app.services.context("leads").expect("leads is hosted");
    let (jetstream, naming) = (context.jetstream.clone(), context.naming.clone());
    let mut streams = vec![naming.stream("leads"), naming.dead_letter_stream()];
    for producer in CONSUMED_PRODUCERS {
        if let Err(error) = crm_platform::events::ensure_stream(
            &jetstream,
            &naming,
            producer,
            app.settings.outbox.duplicate_window,
        )
        .await
        {
            eprintln!("warning: creating stream of {producer} failed: {error:#}");
        }
        streams.push(naming.stream(producer));
    }
    let result = async {
        let channel = app.channel().await;
        let token = app.token(admin);
        let requests = futures::stream::iter(0..rows).map(|n| ImportLeadsRequest {
            campaign_id: String::new(),
            line: n + 2,
            row: Some(lead_input(n)),
        });
        let started = Instant::now();
        let summary = LeadServiceClient::new(channel)
            .max_decoding_message_size(64 << 20)
            .import_leads(crm_test_support::authorized(requests, &token))
            .await?
            .into_inner();
        let elapsed = started.elapsed();
        let unpublished: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox_pending")
            .fetch_one(app.pool("leads"))
            .await?;
        anyhow::ensure!(
            summary.rows_received == rows,
            "the service received {} of {rows} rows",
            summary.rows_received
        );
        Ok(ImportFigure {
            summary,
            elapsed,
            unpublished,
        })
    }
    .await;
    if let Err(error) = app.services.shutdown().await {
        eprintln!("warning: stopping the leads service failed: {error:#}");
    }
    for stream in &streams {
        if let Err(error) = jetstream.delete_stream(stream).await {
            eprintln!("warning: deleting stream {stream} failed: {error}");
        }
    }
    for database in &app.databases {
        database.pool.close().await;
        if let Err(error) = setup::drop_database(&database.name).await {
            eprintln!(
                "warning: dropping database {} failed: {error}",
                database.name
            );
        }
    }
    result
}

// ---------------------------------------------------------------------------------------------
// The rows: deterministic in the row number, so the import and the COPY see the same ones.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Plain,
    /// Repeats row `n`'s person (same email, spelled differently).
    Duplicate(u64),
    /// An email without a domain.
    Invalid,
}

fn hash(n: u64, salt: u64) -> u64 {
    // splitmix64
    let mut z = n
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn kind(n: u64) -> Kind {
    let is_plain = |n: u64| hash(n, 1) % 1000 >= 25;
    match hash(n, 1) % 1000 {
        0..5 => Kind::Invalid,
        5..25 => {
            // An earlier plain row (none before the first few rows: then this one is plain).
            let mut earlier = hash(n, 2) % n.max(1);
            while earlier < n && !is_plain(earlier) {
                earlier = earlier.checked_sub(1).unwrap_or(n);
            }
            if earlier < n {
                Kind::Duplicate(earlier)
            } else {
                Kind::Plain
            }
        }
        _ => Kind::Plain,
    }
}

fn pick<'a>(list: &[&'a str], n: u64, salt: u64) -> &'a str {
    list[(hash(n, salt) % list.len() as u64) as usize]
}

const FIRST_NAMES: &[&str] = &[
    "Wei", "Min", "Jie", "Fang", "Lei", "Jing", "Yan", "Hui", "Qiang", "Li", "Na", "Tao", "Xin",
    "Ying", "Bo", "Chen", "Hao", "Lin", "Mei", "Ping", "Rui", "Shan", "Ting", "Xiu", "Yun", "Zhen",
    "Anna", "David", "Emma", "James", "Laura", "Mark", "Nina", "Oliver", "Paul", "Sara", "Tom",
    "Lucas", "Maria", "Peter", "Julia", "Felix", "Hana", "Kenji", "Priya", "Ravi", "Nora",
];
const LAST_NAMES: &[&str] = &[
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma",
    "Zhu", "Hu", "Guo", "He", "Gao", "Lin", "Luo", "Zheng", "Liang", "Xie", "Song", "Tang", "Han",
    "Feng", "Deng", "Cao", "Peng", "Zeng", "Xiao", "Tian", "Dong", "Pan", "Yuan", "Cai", "Jiang",
    "Smith", "Muller", "Rossi", "Tanaka", "Kim", "Novak", "Silva", "Brown", "Schmidt", "Sato",
];
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ra", "ten", "vo", "shi", "zu", "an", "bel", "cor", "dan", "el", "fin",
    "gar", "hol", "is", "jun", "kel", "lun", "mar", "nor", "ol", "pra", "qin", "ros", "sol", "tri",
    "ul", "ven", "wen", "xi", "yor", "zen", "ber", "cal", "dor", "eri", "fal", "gen", "hua", "ion",
    "jia", "kor", "lin", "mon", "nex", "ori", "pel", "qua",
];
const INDUSTRY_WORDS: &[&str] = &[
    "Precision",
    "Logistics",
    "Automation",
    "Textiles",
    "Robotics",
    "Pharma",
    "Machinery",
    "Electronics",
    "Materials",
    "Packaging",
    "Foods",
    "Instruments",
    "Energy",
    "Chemicals",
    "Optics",
    "Software",
    "Trading",
    "Components",
    "Metals",
    "Plastics",
];
const THIRD_WORDS: &[&str] = &[
    "Group",
    "Technology",
    "International",
    "Systems",
    "Holdings",
];
const LEGAL_FORMS: &[&str] = &["", "Ltd", "Co., Ltd.", "Inc.", "Limited", "Corp."];
const TITLES: &[&str] = &[
    "Purchasing Manager",
    "Plant Director",
    "Head of Automation",
    "Engineer",
    "Operations Manager",
    "CTO",
    "Procurement Lead",
    "Quality Manager",
    "",
];
const INDUSTRIES: &[&str] = &[
    "Manufacturing",
    "Logistics",
    "Retail",
    "Healthcare",
    "Energy",
    "Automotive",
    "",
];
const TERRITORIES: &[&str] = &["East", "North", "South", "West", "Central"];
const PRODUCTS: &[&str] = &["Line 3", "Sensors", "Service plan", "Robot arm", ""];

/// The company of row `n`: a made-up word unique to it, an industry word, sometimes a third
/// word, and a legal form; its domain is the unique word's. Unique up to 50^4 rows.
fn company(n: u64) -> (String, String) {
    // A bijection of n onto 0..50^4, so neighbouring rows get unrelated words.
    const SPACE: u64 = 50 * 50 * 50 * 50;
    let mut code = (n % SPACE * 2_654_435_761 + 97) % SPACE;
    let mut word = String::new();
    for _ in 0..4 {
        word.push_str(SYLLABLES[(code % 50) as usize]);
        code /= 50;
    }
    let mut name = capitalise(&word);
    name.push(' ');
    name.push_str(pick(INDUSTRY_WORDS, n, 11));
    if hash(n, 12).is_multiple_of(3) {
        name.push(' ');
        name.push_str(pick(THIRD_WORDS, n, 13));
    }
    let form = pick(LEGAL_FORMS, n, 14);
    if !form.is_empty() {
        name.push(' ');
        name.push_str(form);
    }
    let tld = match hash(n, 15) % 3 {
        0 => "com",
        1 => "cn",
        _ => "com.cn",
    };
    (name, format!("{word}.{tld}"))
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Row `n` as a plain row.
fn plain_input(n: u64) -> pb::LeadInput {
    let first = pick(FIRST_NAMES, n, 4);
    let last = pick(LAST_NAMES, n, 5);
    let (company, domain) = company(n);
    // A bijection of n onto 0..10^8: every row its own number.
    let number = (n.wrapping_mul(48_271) + 12_345) % 100_000_000;
    let website = if hash(n, 6) % 10 < 3 {
        format!("https://www.{domain}")
    } else {
        String::new()
    };
    pb::LeadInput {
        first_name: first.to_owned(),
        last_name: last.to_owned(),
        email: format!(
            "{}.{}.{n}@{domain}",
            first.to_lowercase(),
            last.to_lowercase()
        ),
        phone: format!(
            "+86 13{} {:04} {:04}",
            hash(n, 7) % 10,
            number / 10_000,
            number % 10_000
        ),
        company,
        title: pick(TITLES, n, 8).to_owned(),
        website,
        industry: pick(INDUSTRIES, n, 9).to_owned(),
        territory: pick(TERRITORIES, n, 10).to_owned(),
        company_size: (hash(n, 16) % 5) as i32,
        product_interest: pick(PRODUCTS, n, 17).to_owned(),
        description: if hash(n, 18).is_multiple_of(4) {
            format!("Met at the Spring Expo, booth {}.", n % 400)
        } else {
            String::new()
        },
        ..Default::default()
    }
}

/// Row `n` as the generator sends it.
fn lead_input(n: u64) -> pb::LeadInput {
    match kind(n) {
        Kind::Plain => plain_input(n),
        Kind::Invalid => {
            let mut input = plain_input(n);
            input.email = input.email.split('@').next().unwrap_or_default().to_owned() + "@";
            input
        }
        Kind::Duplicate(earlier) => {
            // The same person from another list: upper-case email, no phone, a new note.
            let original = plain_input(earlier);
            pb::LeadInput {
                first_name: original.first_name.to_uppercase(),
                last_name: original.last_name.to_uppercase(),
                email: original.email.to_uppercase(),
                phone: String::new(),
                company: original.company,
                title: original.title,
                description: format!("Asked again (row {n})."),
                ..Default::default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_valid_distinct_and_repeat_as_planned() {
        let rows = 20_000;
        let expected = Expected::of(rows);
        assert!(
            (50..=150).contains(&expected.invalid),
            "{}",
            expected.invalid
        );
        assert!((300..=500).contains(&expected.duplicates));
        let mut emails = std::collections::HashSet::new();
        let mut companies = std::collections::HashSet::new();
        let mut phones = std::collections::HashSet::new();
        for n in 0..rows {
            let input = lead_input(n);
            let importer = crm_platform::auth::Caller::user(
                uuid::Uuid::now_v7(),
                crm_platform::auth::Role::Admin,
                crm_platform::auth::TeamPath::parse("/northwind").unwrap(),
            );
            let valid = import_baseline::push_row(&mut Vec::new(), &input, &importer, CALLING_CODE);
            assert_eq!(!valid, kind(n) == Kind::Invalid, "row {n}: {input:?}");
            if kind(n) == Kind::Plain {
                assert!(emails.insert(crm_contact_data::normalize_email(&input.email).unwrap()));
                assert!(phones.insert(
                    crm_contact_data::normalize_phone(&input.phone, Some(CALLING_CODE)).unwrap()
                ));
                assert!(companies.insert(crm_contact_data::normalize_company_name(&input.company)));
            }
        }
    }
}
