//! The search index (K2): one tantivy index per replica, in a directory of its own, holding a
//! document per article version in use — published, draft, in review — and a marker for an
//! article with none (so its revision is remembered). PostgreSQL stays the source of truth:
//! the index is written from the service's own events (each carrying the article's versions in
//! use) and can always be rebuilt from the database. Each commit records the analysis version
//! and the stream sequence it reached ([`IndexState`]).

use std::{
    collections::HashMap,
    path::Path,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use tantivy::{
    Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term,
    collector::TopDocs,
    directory::MmapDirectory,
    index::SegmentId,
    query::TermQuery,
    schema::{
        Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
        Value,
    },
};
use uuid::Uuid;

pub use query::{Hit, SearchFilters, SearchQuery, Searcher};

use super::{
    analysis::{ANALYSIS_VERSION, Analyzer},
    tokenizers::{self, GRAMS, WORDS},
};
use crate::domain::{
    article::{ArticleKind, Language, VersionStatus},
    render,
    version::Version,
};

/// What the index's last commit says about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IndexState {
    pub analysis_version: u32,
    /// The last sequence of the service's stream applied (0: none).
    pub sequence: u64,
}

/// An article's versions in use at a revision, as the events and the database give them.
#[derive(Clone, Debug)]
pub struct IndexedArticle {
    pub id: Uuid,
    pub revision: i64,
    pub versions: Vec<Version>,
}

const MARKER_STATUS: &str = "none";

#[derive(Clone, Copy)]
struct Fields {
    key: Field,
    article_id: Field,
    version: Field,
    revision: Field,
    status: Field,
    author: Field,
    kind: Field,
    language: Field,
    languages: Field,
    tags: Field,
    stages: Field,
    competitors: Field,
    products: Field,
    title: Field,
    summary: Field,
    body: Field,
    keywords: Field,
    title_grams: Field,
    body_grams: Field,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text = |tokenizer: &str, stored: bool| {
        let options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let fields = Fields {
        key: builder.add_text_field("key", STRING),
        article_id: builder.add_text_field("article_id", STRING | STORED),
        version: builder.add_u64_field("version", STORED),
        revision: builder.add_u64_field("revision", STORED | INDEXED),
        status: builder.add_text_field("status", STRING | STORED),
        author: builder.add_text_field("author", STRING),
        kind: builder.add_text_field("kind", STRING | STORED),
        language: builder.add_text_field("language", STRING | STORED),
        languages: builder.add_text_field("languages", STRING),
        tags: builder.add_text_field("tags", STRING),
        stages: builder.add_text_field("stages", STRING),
        competitors: builder.add_text_field("competitors", STRING),
        products: builder.add_text_field("products", STRING),
        title: builder.add_text_field("title", text(WORDS, true)),
        // Shown, not searched on its own: its words are in `keywords`.
        summary: builder.add_text_field("summary", STORED),
        body: builder.add_text_field("body", text(WORDS, true)),
        keywords: builder.add_text_field("keywords", text(WORDS, false)),
        title_grams: builder.add_text_field("title_grams", text(GRAMS, false)),
        body_grams: builder.add_text_field("body_grams", text(GRAMS, false)),
    };
    (builder.build(), fields)
}

/// The words a kind is also found by, in English and Chinese.
fn kind_words(kind: ArticleKind) -> &'static str {
    match kind {
        ArticleKind::Playbook => "playbook 销售剧本 打法",
        ArticleKind::Battlecard => "battlecard competitor 竞品 竞品分析 作战卡",
        ArticleKind::ProductSheet => "product sheet 产品 产品资料",
        ArticleKind::ObjectionHandling => "objection handling 异议处理 异议",
        ArticleKind::Training => "training course 培训 课程",
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Directory(String),
    #[error("search index: written without its writer open")]
    NotWriting,
}

type Result<T> = std::result::Result<T, IndexError>;

/// The index, its reader and its one writer.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    /// The one writer, while this process writes ([`SearchIndex::open_writer`]): it holds
    /// the directory's lock, so a process that stops writing lets the next one open it.
    writer: Mutex<Option<IndexWriter<TantivyDocument>>>,
    fields: Fields,
    analyzer: Arc<Analyzer>,
    /// Revisions written since the last commit (the reader does not see them yet).
    pending: Mutex<HashMap<Uuid, i64>>,
    /// Everything was removed since the last commit: what the reader sees is gone.
    cleared: AtomicBool,
}

/// Memory for the writer's indexing buffer (tantivy's minimum is 15 MB).
const WRITER_MEMORY: usize = 32_000_000;

impl SearchIndex {
    fn from_index(index: Index, fields: Fields) -> Result<Self> {
        tokenizers::register(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            index,
            reader,
            writer: Mutex::new(None),
            fields,
            analyzer: Analyzer::shared(),
            pending: Mutex::new(HashMap::new()),
            cleared: AtomicBool::new(false),
        })
    }

    /// An index in memory (tests, and a replica configured without a directory).
    pub fn in_memory() -> Result<Self> {
        let (schema, fields) = schema();
        Self::from_index(Index::create_in_ram(schema), fields)
    }

    /// The index in `dir`, opened as it was left, or new and empty when there was none, it was
    /// written under another analysis version or it does not open: then the caller rebuilds.
    pub fn open(dir: &Path) -> Result<Self> {
        let (schema, fields) = schema();
        std::fs::create_dir_all(dir).map_err(|error| IndexError::Directory(error.to_string()))?;
        let directory =
            MmapDirectory::open(dir).map_err(|error| IndexError::Directory(error.to_string()))?;
        let reusable = Index::exists(&directory).unwrap_or(false)
            && Index::open(directory.clone())
                .ok()
                .filter(|index| index.schema() == schema)
                .and_then(|index| read_state(&index))
                .is_some_and(|state| state.analysis_version == ANALYSIS_VERSION);
        if !reusable {
            // Written by another version, or broken: start again in an empty directory.
            std::fs::remove_dir_all(dir)
                .map_err(|error| IndexError::Directory(error.to_string()))?;
            std::fs::create_dir_all(dir)
                .map_err(|error| IndexError::Directory(error.to_string()))?;
            let index = Index::create_in_dir(dir, schema)?;
            return Self::from_index(index, fields);
        }
        Self::from_index(Index::open(directory)?, fields)
    }

    /// Takes the directory's write lock: applying, clearing and committing need it.
    pub fn open_writer(&self) -> Result<()> {
        let mut writer = self.writer.lock().expect("index writer lock poisoned");
        if writer.is_none() {
            *writer = Some(self.index.writer_with_num_threads(1, WRITER_MEMORY)?);
            self.pending.lock().expect("pending lock poisoned").clear();
        }
        Ok(())
    }

    /// Lets the write lock go, dropping what was applied and not committed.
    pub fn close_writer(&self) {
        self.writer
            .lock()
            .expect("index writer lock poisoned")
            .take();
        self.pending.lock().expect("pending lock poisoned").clear();
        self.cleared.store(false, Ordering::Release);
    }

    fn with_writer<T>(
        &self,
        write: impl FnOnce(&mut IndexWriter<TantivyDocument>) -> Result<T>,
    ) -> Result<T> {
        let mut writer = self.writer.lock().expect("index writer lock poisoned");
        let writer = writer.as_mut().ok_or(IndexError::NotWriting)?;
        write(writer)
    }

    /// What the last commit recorded (`None`: nothing committed yet).
    pub fn state(&self) -> Option<IndexState> {
        read_state(&self.index)
    }

    /// Replaces what the index holds of an article with `article`, unless it holds a later
    /// revision already (an event delivered again, or older than the database the index was
    /// rebuilt from). Seen once the next commit is made.
    pub fn apply(&self, article: &IndexedArticle) -> Result<bool> {
        if self
            .revision_of(article.id)?
            .is_some_and(|held| held >= article.revision)
        {
            return Ok(false);
        }
        let fields = self.fields;
        let live: Vec<&Version> = article
            .versions
            .iter()
            .filter(|version| version.status != VersionStatus::Archived)
            .collect();
        let mut documents: Vec<TantivyDocument> = live
            .iter()
            .map(|version| self.document(article, version))
            .collect();
        if documents.is_empty() {
            let mut marker = TantivyDocument::default();
            marker.add_text(fields.article_id, article.id.to_string());
            marker.add_u64(fields.revision, article.revision as u64);
            marker.add_text(fields.status, MARKER_STATUS);
            documents.push(marker);
        }
        self.with_writer(|writer| {
            writer.delete_term(Term::from_field_text(
                fields.article_id,
                &article.id.to_string(),
            ));
            for document in documents {
                writer.add_document(document)?;
            }
            Ok(())
        })?;
        self.pending
            .lock()
            .expect("pending lock poisoned")
            .insert(article.id, article.revision);
        Ok(true)
    }

    fn document(&self, article: &IndexedArticle, version: &Version) -> TantivyDocument {
        let fields = self.fields;
        let content = &version.content;
        let mut document = TantivyDocument::default();
        document.add_text(fields.key, format!("{}:{}", article.id, version.number));
        document.add_text(fields.article_id, article.id.to_string());
        document.add_u64(fields.version, u64::from(version.number));
        document.add_u64(fields.revision, article.revision as u64);
        document.add_text(fields.status, version.status.as_str());
        document.add_text(fields.author, version.author_id.to_string());
        document.add_text(fields.kind, content.kind.as_str());
        document.add_text(fields.language, content.language.as_str());
        for language in [Language::En, Language::Zh] {
            if content.language.serves(language) {
                document.add_text(fields.languages, language.as_str());
            }
        }
        for tag in &content.tags {
            document.add_text(fields.tags, tag);
        }
        for stage in &content.stage_ids {
            document.add_text(fields.stages, stage.to_string());
        }
        for competitor in &content.competitor_ids {
            document.add_text(fields.competitors, competitor.to_string());
        }
        for product in &content.product_codes {
            document.add_text(fields.products, product.to_lowercase());
        }
        document.add_text(fields.title, &content.title);
        document.add_text(fields.summary, &content.summary);
        let body = render::to_text(&content.body);
        document.add_text(fields.body_grams, &body);
        document.add_text(fields.body, body);
        document.add_text(fields.title_grams, &content.title);
        let keywords = [
            kind_words(content.kind).to_owned(),
            content.tags.join(" ").replace('-', " "),
            content.category.clone(),
            content.industries.join(" "),
            content.product_codes.join(" "),
        ]
        .join(" ");
        // The summary and the words an article is also found by weigh the same: one field, one
        // posting list a word walks instead of two.
        document.add_text(fields.keywords, &content.summary);
        document.add_text(fields.keywords, keywords);
        document
    }

    /// The revision the index holds of an article, committed or pending.
    fn revision_of(&self, id: Uuid) -> Result<Option<i64>> {
        if let Some(&pending) = self.pending.lock().expect("pending lock poisoned").get(&id) {
            return Ok(Some(pending));
        }
        if self.cleared.load(Ordering::Acquire) {
            return Ok(None);
        }
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.fields.article_id, &id.to_string()),
            IndexRecordOption::Basic,
        );
        let found = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
        let Some((_, address)) = found.first() else {
            return Ok(None);
        };
        let document: TantivyDocument = searcher.doc(*address)?;
        Ok(document
            .get_first(self.fields.revision)
            .and_then(|value| value.as_u64())
            .map(|revision| revision as i64))
    }

    /// Everything removed (a rebuild starts with it); seen once committed.
    pub fn clear(&self) -> Result<()> {
        self.with_writer(|writer| Ok(writer.delete_all_documents()?))?;
        self.pending.lock().expect("pending lock poisoned").clear();
        self.cleared.store(true, Ordering::Release);
        Ok(())
    }

    /// Commits what was applied with the stream sequence it reached, and lets searches see it.
    pub fn commit(&self, sequence: u64) -> Result<()> {
        let state = IndexState {
            analysis_version: ANALYSIS_VERSION,
            sequence,
        };
        self.with_writer(|writer| {
            let mut prepared = writer.prepare_commit()?;
            prepared.set_payload(&serde_json::to_string(&state).expect("state serialises"));
            prepared.commit()?;
            Ok(())
        })?;
        self.reader.reload()?;
        self.pending.lock().expect("pending lock poisoned").clear();
        self.cleared.store(false, Ordering::Release);
        Ok(())
    }

    /// Merges the index's segments but its largest into one when it holds more than two (the
    /// largest too once a fifth of its documents are deleted versions), and lets searches see
    /// the result: every segment costs each search its own term look-ups and scorers, and a
    /// knowledge base is written in bursts and searched all day. tantivy's merge policy works
    /// while writing; this is for when the writing stops. The stream sequence the last commit
    /// recorded stays. `Ok(false)`: some segments are in a merge already (try again later).
    pub async fn settle(&self) -> Result<bool> {
        let mut segments = self.index.searchable_segment_metas()?;
        if segments.len() <= 2 {
            return Ok(true);
        }
        segments.sort_by_key(|segment| std::cmp::Reverse(segment.max_doc()));
        let largest = &segments[0];
        let keep_largest = largest.num_deleted_docs() * 5 <= largest.max_doc();
        let ids: Vec<SegmentId> = segments
            .iter()
            .skip(usize::from(keep_largest))
            .map(|segment| segment.id())
            .collect();
        let merging = self.with_writer(|writer| Ok(writer.merge(&ids)))?;
        if merging.await.is_err() {
            return Ok(false);
        }
        self.reader.reload()?;
        Ok(true)
    }

    /// How many segments searches go through now.
    pub fn segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    /// How many documents the index holds now (versions and markers), committed.
    pub fn documents(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}

fn read_state(index: &Index) -> Option<IndexState> {
    let payload = index.load_metas().ok()?.payload?;
    serde_json::from_str(&payload).ok()
}

#[path = "query.rs"]
mod query;

#[cfg(test)]
#[path = "index_tests.rs"]
mod tests;
