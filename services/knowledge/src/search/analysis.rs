//! How text becomes search terms (K2), the same for what is indexed and what is asked:
//!
//! 1. **Normalised**: Traditional Chinese to Simplified (OpenCC's t2s), full-width forms to
//!    their usual ones (NFKC: `ＧＬＯＢＥＸ` is `globex`), lower case. Each normalised character
//!    keeps the span of the original it came from, so highlights fall on the text as written.
//! 2. **Words**: a run of Han characters is segmented by jieba in search mode (the whole word
//!    and the dictionary words inside it: 赢单率 gives 赢单 and 赢单率) with the CRM's own words
//!    added to its dictionary ([`CRM_WORDS`]); any other run of letters and digits is a word.
//!    English words are stemmed by the index's analyzer after this (`proposals` → `propos`).
//! 3. **Grams**: every Han character and every pair of neighbours — the lower-boosted field
//!    that finds words jieba does not know, and one-character queries. A query looks its
//!    grams up only where its words may miss ([`Analyzer::query_grams`]).
//!
//! [`ANALYSIS_VERSION`] names all of this: an index built under another version is rebuilt.

use std::{
    borrow::Cow,
    sync::{Arc, OnceLock},
};

use ferrous_opencc::{OpenCC, config::BuiltinConfig};
use jieba_rs::{Jieba, TokenizeMode};
use unicode_normalization::UnicodeNormalization;

/// Changes whenever the analysis, the dictionary or the index's fields change: an index
/// written under another version is rebuilt from the database.
pub const ANALYSIS_VERSION: u32 = 2;

/// Words of selling jieba's dictionary lacks or splits, with a frequency that keeps each whole.
pub const CRM_WORDS: &[&str] = &[
    "竞品",
    "赢单",
    "赢单率",
    "丢单",
    "打单",
    "销售漏斗",
    "漏斗",
    "商机",
    "线索",
    "回款",
    "报价单",
    "决策人",
    "关键人",
    "异议处理",
    "价格异议",
    "成交",
    "续约",
    "增购",
    "客户成功",
    "竞品分析",
    "作战卡",
    "销售剧本",
    "方案阶段",
    "谈判阶段",
    "高层拜访",
    "试用",
    "演示",
    "采购流程",
    "预算",
    "痛点",
    "价值主张",
    "投资回报",
    "总拥有成本",
    "切换成本",
    "入职培训",
    "新人培训",
];

/// A term and where it came from in the original text (byte offsets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    pub from: usize,
    pub to: usize,
}

/// A term as a range of the normalised text (`at..end`), and where it came from in the
/// original (`from..to`): what the token streams turn into tokens without a string each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub at: usize,
    pub end: usize,
    pub from: usize,
    pub to: usize,
}

/// A character of the normalised text whose bytes do not stand where the original's did
/// (full-width forms, expansions, a Traditional character of another length): its range there
/// and the span of the original character it came from.
#[derive(Clone, Copy, Debug)]
struct Moved {
    at: usize,
    end: usize,
    from: usize,
    to: usize,
}

/// Text after step 1. Most characters keep their place (ASCII, whose case changes in place,
/// and Simplified characters): only those that moved are listed, and between them the
/// normalised text lines up with the original byte for byte, shifted by what the moved ones
/// gained or lost. A text with nothing to change is borrowed as it is.
pub struct Normalised<'a> {
    text: Cow<'a, str>,
    moved: Vec<Moved>,
}

impl Normalised<'_> {
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The original offset of the character starting at normalised byte `at`.
    fn start(&self, at: usize) -> usize {
        let index = self.moved.partition_point(|moved| moved.at <= at);
        match index.checked_sub(1).map(|index| self.moved[index]) {
            Some(moved) if at < moved.end => moved.from,
            Some(moved) => moved.to + (at - moved.end),
            None => at,
        }
    }

    /// The original offset of the end of the character ending at normalised byte `end`.
    fn end(&self, end: usize) -> usize {
        let index = self.moved.partition_point(|moved| moved.at < end);
        match index.checked_sub(1).map(|index| self.moved[index]) {
            Some(moved) if end <= moved.end => moved.to,
            Some(moved) => moved.to + (end - moved.end),
            None => end,
        }
    }

    /// The span of the normalised bytes `at..end`, with its original offsets.
    fn span(&self, at: usize, end: usize) -> Span {
        let from = self.start(at);
        Span {
            at,
            end,
            from,
            to: self.end(end).max(from),
        }
    }
}

/// Whether `c` is a Han ideograph (CJK Unified Ideographs and their extensions, compatibility
/// ideographs).
pub fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2A6DF
        | 0x2A700..=0x2EBEF | 0x2F800..=0x2FA1F | 0x30000..=0x3134F)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Han,
    Word,
    Gap,
}

fn class(c: char) -> Class {
    if is_han(c) {
        Class::Han
    } else if c.is_alphanumeric() {
        Class::Word
    } else {
        Class::Gap
    }
}

/// The analysis: jieba with the CRM's words and the t2s converter, built once per process
/// (loading jieba's dictionary takes a few hundred milliseconds).
pub struct Analyzer {
    jieba: Jieba,
    t2s: OpenCC,
    /// For each character of [`STABLE_HAN`], whether t2s leaves it as it is (one bit each):
    /// a text of such characters only is Simplified already.
    stable: Vec<u64>,
}

/// The Han characters whose stability is looked up (CJK Unified Ideographs and extension A,
/// nearly all text); any other Han character sends its text through OpenCC.
const STABLE_HAN: std::ops::RangeInclusive<u32> = 0x3400..=0x9FFF;

impl Analyzer {
    fn new() -> Self {
        let mut jieba = Jieba::new();
        for word in CRM_WORDS {
            // A high frequency: the word stays whole where the dictionary would split it.
            jieba.add_word(word, Some(50_000), None);
        }
        let t2s =
            OpenCC::from_config(BuiltinConfig::T2s).expect("the built-in t2s configuration loads");
        let mut stable = vec![0u64; STABLE_HAN.clone().count().div_ceil(64)];
        let mut buffer = [0u8; 4];
        for (index, code) in STABLE_HAN.enumerate() {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            if t2s
                .convert(c.encode_utf8(&mut buffer))
                .chars()
                .eq(std::iter::once(c))
            {
                stable[index / 64] |= 1 << (index % 64);
            }
        }
        Self { jieba, t2s, stable }
    }

    /// Whether OpenCC's t2s may change `c` (Han characters outside [`STABLE_HAN`] are assumed
    /// to).
    fn converts(&self, c: char) -> bool {
        if !is_han(c) {
            return false;
        }
        let code = c as u32;
        if !STABLE_HAN.contains(&code) {
            return true;
        }
        let index = (code - STABLE_HAN.start()) as usize;
        self.stable[index / 64] & (1 << (index % 64)) == 0
    }

    /// The process's analyzer.
    pub fn shared() -> Arc<Analyzer> {
        static SHARED: OnceLock<Arc<Analyzer>> = OnceLock::new();
        SHARED.get_or_init(|| Arc::new(Analyzer::new())).clone()
    }

    /// Whether normalising leaves `c` as it is: ASCII but upper case, and Han characters
    /// t2s does not change (NFKC and lower case leave CJK Unified Ideographs alone).
    fn kept(&self, c: char) -> bool {
        if c.is_ascii() {
            !c.is_ascii_uppercase()
        } else {
            STABLE_HAN.contains(&(c as u32)) && !self.converts(c)
        }
    }

    /// Step 1 of `text`.
    pub fn normalise<'a>(&self, text: &'a str) -> Normalised<'a> {
        // Text with nothing to change — English in lower case, Chinese written in Simplified —
        // is borrowed; the rest is built from the first character that changes on.
        let Some(first) = text
            .char_indices()
            .find(|&(_, c)| !self.kept(c))
            .map(|(offset, _)| offset)
        else {
            return Normalised {
                text: Cow::Borrowed(text),
                moved: Vec::new(),
            };
        };
        let rest = &text[first..];
        // OpenCC only changes Traditional characters: a text without any skips its walk over
        // the dictionaries, the most of what normalising costs.
        let simplified: Cow<'_, str> = if rest.chars().any(|c| self.converts(c)) {
            Cow::Owned(self.t2s.convert(rest))
        } else {
            Cow::Borrowed(rest)
        };
        // OpenCC converts phrase by phrase; when a phrase changed length, characters no longer
        // line up with the original, so each character is converted alone instead.
        let aligned = matches!(simplified, Cow::Borrowed(_))
            || simplified.chars().count() == rest.chars().count();
        let mut normalised = String::with_capacity(text.len());
        normalised.push_str(&text[..first]);
        let mut moved = Vec::new();
        let mut simplified_chars = simplified.chars();
        for (offset, original) in rest.char_indices() {
            let from = first + offset;
            let to = from + original.len_utf8();
            let converted = if aligned {
                simplified_chars.next().unwrap_or(original)
            } else if is_han(original) {
                let mut buffer = [0u8; 4];
                self.t2s
                    .convert(original.encode_utf8(&mut buffer))
                    .chars()
                    .next()
                    .unwrap_or(original)
            } else {
                original
            };
            if converted.is_ascii() {
                // NFKC leaves ASCII as it is.
                let at = normalised.len();
                normalised.push(converted.to_ascii_lowercase());
                if original.len_utf8() != 1 {
                    moved.push(Moved {
                        at,
                        end: at + 1,
                        from,
                        to,
                    });
                }
                continue;
            }
            let before = moved.len();
            for folded in std::iter::once(converted).nfkc() {
                for lower in folded.to_lowercase() {
                    let at = normalised.len();
                    normalised.push(lower);
                    moved.push(Moved {
                        at,
                        end: normalised.len(),
                        from,
                        to,
                    });
                }
            }
            // One character of the original's length lines up as the ones before it did.
            if moved.len() == before + 1
                && moved[before].end - moved[before].at == original.len_utf8()
            {
                moved.pop();
            }
        }
        Normalised {
            text: Cow::Owned(normalised),
            moved,
        }
    }

    /// The runs of one class of the normalised text: (class, byte range).
    fn runs(text: &str) -> Vec<(Class, usize, usize)> {
        let mut runs: Vec<(Class, usize, usize)> = Vec::new();
        for (offset, c) in text.char_indices() {
            let kind = class(c);
            let end = offset + c.len_utf8();
            match runs.last_mut() {
                Some((last, _, run_end)) if *last == kind && *run_end == offset => *run_end = end,
                _ => runs.push((kind, offset, end)),
            }
        }
        runs.retain(|(kind, _, _)| *kind != Class::Gap);
        runs
    }

    /// The words of `text` (step 2), in order.
    pub fn words(&self, text: &str) -> Vec<Piece> {
        let normalised = self.normalise(text);
        pieces(&normalised, &self.word_spans(&normalised))
    }

    /// The spans of the words of a normalised text, in the order of where they start.
    pub fn word_spans(&self, normalised: &Normalised<'_>) -> Vec<Span> {
        let text = normalised.text();
        let mut spans = Vec::new();
        for (kind, from, to) in Self::runs(text) {
            match kind {
                Class::Han => {
                    // Search mode gives a long word's parts before the word: in the order of
                    // where they start, as highlighting expects.
                    let mut tokens =
                        self.jieba
                            .tokenize(&text[from..to], TokenizeMode::Search, true);
                    tokens.sort_by_key(|token| (token.byte_start, token.byte_end));
                    spans.extend(tokens.iter().map(|token| {
                        normalised.span(from + token.byte_start, from + token.byte_end)
                    }));
                }
                _ => spans.push(normalised.span(from, to)),
            }
        }
        spans
    }

    /// The Han characters and neighbouring pairs of `text` (step 3), in order.
    pub fn grams(&self, text: &str) -> Vec<Piece> {
        let normalised = self.normalise(text);
        pieces(&normalised, &Self::gram_spans(&normalised))
    }

    /// The spans of the grams of a normalised text, in order.
    pub fn gram_spans(normalised: &Normalised<'_>) -> Vec<Span> {
        let text = normalised.text();
        let mut spans = Vec::new();
        for (kind, from, to) in Self::runs(text) {
            if kind != Class::Han {
                continue;
            }
            let mut chars = text[from..to].char_indices().peekable();
            while let Some((offset, c)) = chars.next() {
                let at = from + offset;
                let end = at + c.len_utf8();
                spans.push(normalised.span(at, end));
                if let Some(&(_, next)) = chars.peek() {
                    spans.push(normalised.span(at, end + next.len_utf8()));
                }
            }
        }
        spans
    }

    /// The grams a query asks for, for the Han runs its words may miss: a run of one
    /// character (the character alone — a query's single characters elsewhere would match
    /// every text holding them), and a run jieba cannot cut wholly into words of its
    /// dictionary (its pairs: a name or a term it does not know). A run cut into known words
    /// is found by them: its grams would only walk the long lists of common characters again.
    pub fn query_grams(&self, text: &str) -> Vec<String> {
        let normalised = self.normalise(text);
        let mut grams = Vec::new();
        for (kind, from, to) in Self::runs(normalised.text()) {
            if kind != Class::Han {
                continue;
            }
            let run = &normalised.text()[from..to];
            let chars: Vec<char> = run.chars().collect();
            if chars.len() == 1 {
                grams.push(chars[0].to_string());
            } else if !self.known_words(run) {
                grams.extend(chars.windows(2).map(|pair| pair.iter().collect::<String>()));
            }
        }
        grams
    }

    /// Whether jieba cuts the Han run `run` into words of its dictionary only, none of them
    /// a single character.
    fn known_words(&self, run: &str) -> bool {
        self.jieba
            .cut(run, true)
            .iter()
            .all(|token| token.word.chars().nth(1).is_some() && self.jieba.has_word(token.word))
    }
}

/// The pieces the spans of a normalised text stand for.
fn pieces(normalised: &Normalised<'_>, spans: &[Span]) -> Vec<Piece> {
    spans
        .iter()
        .map(|span| Piece {
            text: normalised.text()[span.at..span.end].to_owned(),
            from: span.from,
            to: span.to,
        })
        .collect()
}

#[cfg(test)]
#[path = "analysis_tests.rs"]
mod tests;
