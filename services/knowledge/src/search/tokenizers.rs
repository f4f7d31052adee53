//! The analysis ([`super::analysis`]) as tantivy tokenizers: `crm_words` (words, then English
//! stems) and `crm_grams` (Han characters and pairs), registered on every index the service
//! opens — tantivy keeps only their names in the index.

use std::{cell::RefCell, sync::Arc};

use rustc_hash::FxHashMap;
use tantivy::{
    Index,
    tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer},
};

use super::analysis::{Analyzer, Normalised, Span};

pub const WORDS: &str = "crm_words";
pub const GRAMS: &str = "crm_grams";

/// Longest term kept (bytes): longer ones are noise (a pasted hash, a URL).
const LONGEST_TERM: usize = 64;

#[derive(Clone, Copy)]
enum Kind {
    Words,
    Grams,
}

#[derive(Clone)]
struct CrmTokenizer {
    analyzer: Arc<Analyzer>,
    kind: Kind,
}

/// The spans of one normalised text as a tantivy token stream: each token's text is written
/// into the one token's string (no string per token), a word's stemmed.
pub struct Spans<'a> {
    normalised: Normalised<'a>,
    spans: std::vec::IntoIter<Span>,
    stemmed: bool,
    token: Token,
}

impl TokenStream for Spans<'_> {
    fn advance(&mut self) -> bool {
        for span in self.spans.by_ref() {
            // A term dropped for its length still takes its position.
            self.token.position = self.token.position.wrapping_add(1);
            let text = &self.normalised.text()[span.at..span.end];
            if self.stemmed && text.len() >= LONGEST_TERM {
                continue;
            }
            self.token.offset_from = span.from;
            self.token.offset_to = span.to;
            self.token.text.clear();
            if self.stemmed {
                stem_into(text, &mut self.token.text);
            } else {
                self.token.text.push_str(text);
            }
            return true;
        }
        false
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

impl Tokenizer for CrmTokenizer {
    type TokenStream<'a> = Spans<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Spans<'a> {
        let normalised = self.analyzer.normalise(text);
        let spans = match self.kind {
            Kind::Words => self.analyzer.word_spans(&normalised),
            Kind::Grams => Analyzer::gram_spans(&normalised),
        };
        Spans {
            normalised,
            spans: spans.into_iter(),
            stemmed: matches!(self.kind, Kind::Words),
            token: Token::default(),
        }
    }
}

/// Words stemmed on this thread, remembered: the words of a language are few and come again
/// and again (indexing and highlighting stem every word of every text), and the Snowball
/// stemmer costs more than a look-up. Forgotten all at once when full.
struct Stems {
    stemmer: frostem::Stemmer,
    known: FxHashMap<Box<str>, Box<str>>,
}

/// Words remembered per thread at most.
const STEMS_KEPT: usize = 50_000;

thread_local! {
    static STEMS: RefCell<Stems> = RefCell::new(Stems {
        stemmer: frostem::Stemmer::new(frostem::Algorithm::English),
        known: FxHashMap::default(),
    });
}

/// Appends the English stem of `word` (Porter2, as tantivy's English stemmer) to `out`.
fn stem_into(word: &str, out: &mut String) {
    STEMS.with_borrow_mut(|stems| {
        if let Some(stem) = stems.known.get(word) {
            out.push_str(stem);
            return;
        }
        let stem: Box<str> = stems.stemmer.stem(word).into();
        out.push_str(&stem);
        if stems.known.len() >= STEMS_KEPT {
            stems.known.clear();
        }
        stems.known.insert(word.into(), stem);
    });
}

/// The analyzer of the `crm_words` fields.
/// (Terms of [`LONGEST_TERM`] bytes or more dropped, then stemmed.)
pub fn words_analyzer() -> TextAnalyzer {
    TextAnalyzer::from(CrmTokenizer {
        analyzer: Analyzer::shared(),
        kind: Kind::Words,
    })
}

/// The analyzer of the `crm_grams` fields.
pub fn grams_analyzer() -> TextAnalyzer {
    TextAnalyzer::from(CrmTokenizer {
        analyzer: Analyzer::shared(),
        kind: Kind::Grams,
    })
}

/// Registers both on `index`.
pub fn register(index: &Index) {
    index.tokenizers().register(WORDS, words_analyzer());
    index.tokenizers().register(GRAMS, grams_analyzer());
}

/// The terms `text` gives in a `crm_words` field: what a query looks up.
pub fn word_terms(text: &str) -> Vec<String> {
    let mut analyzer = words_analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut terms = Vec::new();
    while stream.advance() {
        let term = stream.token().text.clone();
        if !terms.contains(&term) {
            terms.push(term);
        }
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_words_are_stemmed_and_chinese_words_kept() {
        assert_eq!(
            word_terms("Handling pricing objections 竞品"),
            ["handl", "price", "object", "竞品"]
        );
    }

    /// tantivy's own filters over the analysis's pieces: what the words analyzer stands for.
    fn filtered_terms(text: &str) -> Vec<(String, usize, usize, usize)> {
        #[derive(Clone)]
        struct Pieces;
        struct Stream(std::vec::IntoIter<super::super::analysis::Piece>, Token);
        impl TokenStream for Stream {
            fn advance(&mut self) -> bool {
                let Some(piece) = self.0.next() else {
                    return false;
                };
                self.1.position = self.1.position.wrapping_add(1);
                (self.1.offset_from, self.1.offset_to, self.1.text) =
                    (piece.from, piece.to, piece.text);
                true
            }
            fn token(&self) -> &Token {
                &self.1
            }
            fn token_mut(&mut self) -> &mut Token {
                &mut self.1
            }
        }
        impl Tokenizer for Pieces {
            type TokenStream<'a> = Stream;
            fn token_stream<'a>(&'a mut self, text: &'a str) -> Stream {
                Stream(Analyzer::shared().words(text).into_iter(), Token::default())
            }
        }
        let mut analyzer = TextAnalyzer::builder(Pieces)
            .filter(tantivy::tokenizer::RemoveLongFilter::limit(LONGEST_TERM))
            .filter(tantivy::tokenizer::Stemmer::new(
                tantivy::tokenizer::Language::English,
            ))
            .build();
        collect(&mut analyzer, text)
    }

    fn collect(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut stream = analyzer.token_stream(text);
        let mut tokens = Vec::new();
        while stream.advance() {
            let token = stream.token();
            tokens.push((
                token.text.clone(),
                token.position,
                token.offset_from,
                token.offset_to,
            ));
        }
        tokens
    }

    proptest::proptest! {
        /// The words stream gives what tantivy's length filter and English stemmer give over
        /// the same pieces — terms, positions, offsets — the remembered stems included (the
        /// same words come again across cases).
        #[test]
        fn the_words_stream_is_tantivys_filters_over_the_pieces(
            text in "[a-zA-Z ,.竞品赢单率報價销售漏斗Ｇ]{0,30}(ies|ing|ed|ational|ly|s)? [a-z]{60,70}",
        ) {
            let mut ours = words_analyzer();
            for _ in 0..2 {
                proptest::prop_assert_eq!(collect(&mut ours, &text), filtered_terms(&text));
            }
        }
    }

    #[test]
    fn a_term_is_looked_up_once() {
        assert_eq!(word_terms("Globex globex GLOBEX"), ["globex"]);
    }
}
