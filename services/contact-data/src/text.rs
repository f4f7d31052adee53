//! Unicode compatibility normalisation of every input, and the word-level canonical form
//! shared by company and person name keys.

use std::borrow::Cow;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// The Unicode NFKC form of `raw`: what a Chinese or Japanese keyboard types in full width
/// (`１３８`, `＋`, `（）`, `＠`, `ＣＯ．，ＬＴＤ．`, the ideographic space) becomes the ASCII
/// it stands for, and ligatures and other compatibility characters their plain letters.
/// Canonically equivalent spellings (a precomposed `é` and `e` with a combining accent) become
/// one. ASCII, and most text already in NFKC, is returned as it is without copying: the
/// import path calls this per row and field.
pub(crate) fn nfkc(raw: &str) -> Cow<'_, str> {
    if raw.is_ascii() || is_nfkc_quick(raw.chars()) == IsNormalized::Yes {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(raw.nfkc().collect())
    }
}

/// NFKC, then lowercase, then NFKC again where lowercasing left the normal form (rare, e.g.
/// a capital that lowercases to a letter and a combining mark): a key built from this is the
/// same for every spelling that normalises alike, and stable when built again.
pub(crate) fn folded(raw: &str) -> String {
    let lowered = nfkc(raw).to_lowercase();
    match nfkc(&lowered) {
        Cow::Borrowed(_) => lowered,
        Cow::Owned(renormalised) => renormalised,
    }
}

/// NFKC-normalises and lowercases, turns punctuation into word breaks and joins the words with
/// single spaces. Letters of every script (including CJK) and digits survive.
///
/// Two refinements keep common spellings together: apostrophes vanish
/// ("O'Neil" = "ONeil"), and dotted initialisms collapse ("S.A." = "SA",
/// "J.R.R." = "JRR") while other dots still split words ("Co.Ltd" = "co ltd").
pub(crate) fn word_key(raw: &str) -> String {
    // Lowercase first: lowercasing can emit non-alphanumeric characters
    // (e.g. 'İ' -> "i\u{307}"), and classifying afterwards keeps the result
    // stable under a second pass.
    let lowered = folded(raw);
    let mut words: Vec<String> = Vec::new();
    for token in lowered.split(|c: char| !(c.is_alphanumeric() || c == '.' || is_apostrophe(c))) {
        let token: String = token.chars().filter(|c| !is_apostrophe(*c)).collect();
        let parts: Vec<&str> = token.split('.').filter(|p| !p.is_empty()).collect();
        if parts.iter().all(|p| p.chars().count() == 1) {
            words.push(parts.concat());
        } else {
            words.extend(parts.iter().map(|p| (*p).to_owned()));
        }
    }
    words.retain(|w| !w.is_empty());
    // Dropping an apostrophe can bring combining marks together out of their canonical
    // order (Hebrew points, say): normalise once more, so a key built again is the same.
    let key = words.join(" ");
    match nfkc(&key) {
        Cow::Borrowed(_) => key,
        Cow::Owned(normalised) => normalised,
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '`')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuation_becomes_word_breaks() {
        assert_eq!(word_key("  Smith-Jones,\tLtd  "), "smith jones ltd");
        assert_eq!(word_key("Co.,Ltd."), "co ltd");
        assert_eq!(word_key("Co.Ltd"), "co ltd");
    }

    #[test]
    fn apostrophes_and_initialisms_join() {
        assert_eq!(word_key("O’Neil"), "oneil");
        assert_eq!(word_key("S.p.A."), "spa");
        assert_eq!(word_key("J. R. R. Tolkien"), "j r r tolkien");
        assert_eq!(word_key("J.R.R. Tolkien"), "jrr tolkien");
    }

    #[test]
    fn keeps_cjk_and_digits() {
        assert_eq!(
            word_key("腾讯科技（深圳）有限公司"),
            "腾讯科技 深圳 有限公司"
        );
        assert_eq!(word_key("3M"), "3m");
    }

    #[test]
    fn full_width_is_ascii() {
        assert_eq!(word_key("ＣＯ．，ＬＴＤ．"), "co ltd");
        assert_eq!(word_key("３Ｍ　Ｃｈｉｎａ"), "3m china");
        assert_eq!(word_key("ﬁne"), "fine");
    }

    #[test]
    fn ascii_and_normalised_text_are_not_copied() {
        assert!(matches!(
            nfkc("Contoso (China) Co., Ltd."),
            Cow::Borrowed(_)
        ));
        assert!(matches!(nfkc("康托索有限公司"), Cow::Borrowed(_)));
        assert_eq!(nfkc("（１３８）"), "(138)");
        // A precomposed and a decomposed accent are one spelling.
        assert_eq!(word_key("Cafe\u{301}"), word_key("Café"));
    }

    #[test]
    fn a_key_is_a_key_of_itself() {
        // Found by the person-name property: the apostrophe kept two points apart.
        let once = word_key("\u{fb3e}'\u{5b0}");
        assert_eq!(word_key(&once), once);
    }

    #[test]
    fn nothing_wordlike_is_empty() {
        assert_eq!(word_key(" .,-'() "), "");
    }
}
