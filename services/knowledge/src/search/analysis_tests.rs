use proptest::prelude::*;

use super::*;

fn texts(pieces: &[Piece]) -> Vec<&str> {
    pieces.iter().map(|piece| piece.text.as_str()).collect()
}

#[test]
fn mixed_text_gives_english_and_chinese_words() {
    let analyzer = Analyzer::shared();
    let words = analyzer.words("Globex 竞品 battlecard");
    assert_eq!(texts(&words), ["globex", "竞品", "battlecard"]);
    // Offsets point into the text as written.
    assert_eq!((words[1].from, words[1].to), (7, 13));
}

#[test]
fn the_crm_dictionary_keeps_selling_words_whole() {
    let analyzer = Analyzer::shared();
    let words = analyzer.words("我们的赢单率提升了");
    assert!(texts(&words).contains(&"赢单率"), "{words:?}");
    assert!(texts(&words).contains(&"赢单"), "{words:?}");
    let funnel = analyzer.words("销售漏斗分析");
    assert!(texts(&funnel).contains(&"销售漏斗"), "{funnel:?}");
}

#[test]
fn traditional_and_full_width_text_reads_as_simplified_lower_case() {
    let analyzer = Analyzer::shared();
    assert_eq!(
        texts(&analyzer.words("競品")),
        texts(&analyzer.words("竞品"))
    );
    let wide = analyzer.words("ＧＬＯＢＥＸ");
    assert_eq!(texts(&wide), ["globex"]);
    // The span is the full-width original's: six characters of three bytes.
    assert_eq!((wide[0].from, wide[0].to), (0, 18));
}

#[test]
fn grams_are_each_character_and_each_neighbouring_pair() {
    let analyzer = Analyzer::shared();
    assert_eq!(
        texts(&analyzer.grams("A 报价单 b")),
        ["报", "报价", "价", "价单", "单"]
    );
    // A run cut into dictionary words is found by them; one jieba does not know, by its pairs.
    assert!(analyzer.query_grams("报价单").is_empty());
    assert!(analyzer.query_grams("竞品分析").is_empty());
    assert_eq!(analyzer.query_grams("犇鑫科"), ["犇鑫", "鑫科"]);
    assert_eq!(analyzer.query_grams("单"), ["单"]);
    assert!(analyzer.query_grams("proposal").is_empty());
}

#[test]
fn text_with_nothing_to_change_is_borrowed() {
    let analyzer = Analyzer::shared();
    assert!(matches!(
        analyzer.normalise("proposal 竞品 42").text,
        Cow::Borrowed(_)
    ));
    let mixed = analyzer.normalise("Ｇlobex 報價 Proposal");
    assert_eq!(mixed.text(), "globex 报价 proposal");
    // Only the full-width letter moved (three bytes to one): the Traditional characters keep
    // their length and the ASCII its place.
    assert_eq!(mixed.moved.len(), 1);
    assert_eq!(
        mixed.span(7, 13),
        Span {
            at: 7,
            end: 13,
            from: 9,
            to: 15
        }
    );
}

#[test]
fn punctuation_separates_and_is_dropped() {
    let analyzer = Analyzer::shared();
    assert_eq!(
        texts(&analyzer.words("price-objection, (ROI)!")),
        ["price", "objection", "roi"]
    );
}

proptest! {
    /// Whatever the text, every piece's span lies inside it on character boundaries, pieces
    /// come in the order of where they start, and analysis never panics.
    #[test]
    fn spans_lie_on_the_original(text in "[a-zA-Z0-9 ,.竞品赢单率報價有限公司销售漏斗ＡＢ（）-]{0,40}") {
        let analyzer = Analyzer::shared();
        for pieces in [analyzer.words(&text), analyzer.grams(&text)] {
            prop_assert!(pieces.windows(2).all(|pair| pair[0].from <= pair[1].from));
        }
        for piece in analyzer.words(&text).iter().chain(analyzer.grams(&text).iter()) {
            prop_assert!(piece.from <= piece.to && piece.to <= text.len());
            prop_assert!(text.is_char_boundary(piece.from) && text.is_char_boundary(piece.to));
            prop_assert!(!piece.text.is_empty());
        }
    }

    /// Each piece is what its span of the original normalises to: the characters that moved
    /// (full-width, Traditional, upper case) and those that did not map back to where they
    /// were written.
    #[test]
    fn a_span_normalises_to_its_piece(text in "[a-zA-Z0-9 ,.竞品赢单率報價有限公司销售漏斗ＡＢｃ１（）ﬁ-]{0,40}") {
        let analyzer = Analyzer::shared();
        for piece in analyzer.words(&text).iter().chain(analyzer.grams(&text).iter()) {
            let written = &text[piece.from..piece.to];
            let normalised = analyzer.normalise(written);
            prop_assert_eq!(normalised.text(), piece.text.as_str(), "{:?} in {:?}", written, text);
        }
    }

    /// Analysis does not depend on case.
    #[test]
    fn case_does_not_matter(text in "[a-zA-Z ]{0,30}") {
        let analyzer = Analyzer::shared();
        let upper = analyzer.words(&text.to_uppercase());
        let lower = analyzer.words(&text.to_lowercase());
        prop_assert_eq!(texts(&upper), texts(&lower));
    }
}

/// Skipping OpenCC for a text of stable characters changes nothing: over every Chinese text
/// of the starter library, t2s leaves such a text as it is.
#[test]
fn a_text_of_simplified_characters_is_left_as_it_is() {
    let analyzer = Analyzer::shared();
    let mut checked = 0;
    for article in crate::starter::articles() {
        for text in [&article.title, &article.summary, &article.body] {
            if text.chars().any(is_han) && !text.chars().any(|c| analyzer.converts(c)) {
                assert_eq!(&analyzer.t2s.convert(text), text);
                checked += 1;
            }
        }
    }
    assert!(
        checked > 10,
        "only {checked} Simplified texts in the starter library"
    );
    // And a Traditional character is converted.
    assert!(analyzer.converts('競'));
    assert!(!analyzer.converts('竞'));
}

proptest! {
    /// Phrases of stable characters stay as they are (OpenCC converts phrase by phrase).
    #[test]
    fn phrases_of_stable_characters_are_not_converted(codes in prop::collection::vec(0x4E00u32..0x9FA5, 1..6)) {
        let analyzer = Analyzer::shared();
        let text: String = codes.iter().filter_map(|&code| char::from_u32(code)).collect();
        prop_assume!(!text.chars().any(|c| analyzer.converts(c)));
        prop_assert_eq!(analyzer.t2s.convert(&text), text);
    }
}
