//! The analysis ([`super::analysis`]) as tantivy tokenizers: `crm_words` (words, then English
//! stems) and `crm_grams` (Han characters and pairs), registered on every index the service
//! opens — tantivy keeps only their names in the index.

use std::sync::Arc;

use tantivy::{
    Index,
    tokenizer::{
        Language as StemLanguage, RemoveLongFilter, Stemmer, TextAnalyzer, Token, TokenStream,
        Tokenizer,
    },
};

use super::analysis::{Analyzer, Piece};

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

/// The pieces of one text as a tantivy token stream.
struct Pieces {
    pieces: std::vec::IntoIter<Piece>,
    token: Token,
}

impl TokenStream for Pieces {
    fn advance(&mut self) -> bool {
        let Some(piece) = self.pieces.next() else {
            return false;
        };
        self.token.position = self.token.position.wrapping_add(1);
        self.token.offset_from = piece.from;
        self.token.offset_to = piece.to;
        self.token.text = piece.text;
        true
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

impl Tokenizer for CrmTokenizer {
    type TokenStream<'a> = Pieces;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Pieces {
        let pieces = match self.kind {
            Kind::Words => self.analyzer.words(text),
            Kind::Grams => self.analyzer.grams(text),
        };
        Pieces {
            pieces: pieces.into_iter(),
            token: Token::default(),
        }
    }
}

/// The analyzer of the `crm_words` fields.
pub fn words_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(CrmTokenizer {
        analyzer: Analyzer::shared(),
        kind: Kind::Words,
    })
    .filter(RemoveLongFilter::limit(LONGEST_TERM))
    .filter(Stemmer::new(StemLanguage::English))
    .build()
}

/// The analyzer of the `crm_grams` fields.
pub fn grams_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(CrmTokenizer {
        analyzer: Analyzer::shared(),
        kind: Kind::Grams,
    })
    .build()
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

    #[test]
    fn a_term_is_looked_up_once() {
        assert_eq!(word_terms("Globex globex GLOBEX"), ["globex"]);
    }
}
