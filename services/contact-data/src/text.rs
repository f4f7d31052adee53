//! The word-level canonical form shared by company and person name keys.

/// Lowercases, turns punctuation into word breaks and joins the words with
/// single spaces. Letters of every script (including CJK) and digits survive.
///
/// Two refinements keep common spellings together: apostrophes vanish
/// ("O'Neil" = "ONeil"), and dotted initialisms collapse ("S.A." = "SA",
/// "J.R.R." = "JRR") while other dots still split words ("Co.Ltd" = "co ltd").
pub(crate) fn word_key(raw: &str) -> String {
    // Lowercase first: lowercasing can emit non-alphanumeric characters
    // (e.g. 'İ' -> "i\u{307}"), and classifying afterwards keeps the result
    // stable under a second pass.
    let lowered = raw.to_lowercase();
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
    words.join(" ")
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '`')
}

#[cfg(test)]
mod tests {
    use super::word_key;

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
    fn nothing_wordlike_is_empty() {
        assert_eq!(word_key(" .,-'() "), "");
    }
}
