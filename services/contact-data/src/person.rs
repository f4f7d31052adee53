//! Person name match keys.

use crate::text::word_key;

/// Builds the key under which person names are compared: lowercase,
/// punctuation removed, whitespace collapsed, so "LI  WEI" and "Li Wei"
/// match. Word order is kept on purpose: "Li Wei" and "Wei Li" may well be
/// different people.
///
/// ```
/// use crm_contact_data::normalize_person_name;
/// assert_eq!(normalize_person_name("LI  WEI"), normalize_person_name("Li Wei"));
/// ```
pub fn normalize_person_name(raw: &str) -> String {
    word_key(raw)
}

#[cfg(test)]
mod tests {
    use super::normalize_person_name as key;
    use proptest::prelude::*;

    #[test]
    fn case_and_spacing_do_not_matter() {
        assert_eq!(key("LI  WEI"), "li wei");
        assert_eq!(key("Li Wei"), "li wei");
        assert_eq!(key("\tli\u{3000}wei "), "li wei");
    }

    #[test]
    fn punctuation_is_removed() {
        assert_eq!(key("Wei, Li"), "wei li");
        assert_eq!(key("Mary-Jane O'Neil Jr."), "mary jane oneil jr");
        assert_eq!(key("Dr. J. Smith"), "dr j smith");
    }

    #[test]
    fn full_width_letters_are_ascii_letters() {
        assert_eq!(key("ＬＩ　ＷＥＩ"), "li wei");
        assert_eq!(key("Ｍａｒｙ－Ｊａｎｅ"), "mary jane");
    }

    #[test]
    fn cjk_names_are_kept() {
        assert_eq!(key(" 李伟 "), "李伟");
        assert_eq!(key("李·伟"), "李 伟");
    }

    proptest! {
        #[test]
        fn idempotent(raw in "\\PC{0,30}") {
            let once = key(&raw);
            prop_assert_eq!(key(&once), once.clone());
        }
    }
}
