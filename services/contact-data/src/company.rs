//! Company name match keys.

use crate::text::word_key;

/// Trailing words that name a legal form rather than the company (after
/// [`word_key`], so "S.A." is "sa", "L.L.C." is "llc", "Co., Ltd." is "co ltd").
const LEGAL_FORM_WORDS: &[&str] = &[
    "ab",
    "ag",
    "bv",
    "co",
    "company",
    "corp",
    "corporation",
    "gmbh",
    "inc",
    "incorporated",
    "kg",
    "kk",
    "limited",
    "llc",
    "llp",
    "lp",
    "ltd",
    "ltda",
    "nv",
    "plc",
    "pte",
    "pty",
    "sa",
    "sarl",
    "spa",
    "srl",
];

/// Chinese legal forms, matched as string suffixes because Chinese names are
/// written without spaces. Longest first, so "股份有限公司" wins over "有限公司".
const CJK_LEGAL_FORMS: &[&str] = &[
    "股份有限公司",
    "有限责任公司",
    "有限責任公司",
    "股份公司",
    "有限公司",
    "集团",
    "集團",
    "公司",
];

/// Countries and regions a company's name is qualified with, the way its
/// Chinese and its English legal name write them: `Contoso（中国）有限公司` is
/// `Contoso (China) Co., Ltd.`. A Chinese one counts only as a word of its own
/// (in brackets, or set off by spaces): in `中国银行` (Bank of China) it is part
/// of the name. Cities (`（上海）`, `（深圳）`) are not translated: their English
/// spellings vary too much to be worth guessing at.
const COUNTRY_QUALIFIERS: &[(&[&str], &str)] = &[
    (&["中国", "中國"], "china"),
    (&["香港"], "hong kong"),
    (&["澳门", "澳門"], "macau"),
    (&["台湾", "台灣", "臺灣"], "taiwan"),
    (&["新加坡"], "singapore"),
    (&["日本"], "japan"),
    (&["韩国", "韓國"], "korea"),
    (&["美国", "美國"], "usa"),
    (&["英国", "英國"], "uk"),
    (&["德国", "德國"], "germany"),
];

/// Builds the key under which company names are compared.
///
/// Reads the name in Unicode NFKC (full-width letters, digits, brackets and
/// punctuation are their ASCII forms), lowercases, turns punctuation into word
/// breaks and collapses whitespace; then a Chinese country qualifier standing
/// as a word of its own becomes the English one (中国 → china, 香港 → hong
/// kong, …), and trailing legal forms are dropped, repeatedly: Ltd, Limited,
/// Inc, Corp, Co, Company, LLC, GmbH, AG, SA, PLC, BV, Pty, Pte and a few more;
/// 有限公司, 股份有限公司, 有限责任公司, 股份公司, 集团, 公司. Legal forms
/// before a trailing country qualifier go too, so `Contoso Co., Ltd. (China)`
/// is `Contoso (China) Co., Ltd.`. CJK and other scripts are kept. A name that
/// consists only of a legal form keeps it, so the key is never emptied by the
/// stripping.
///
/// ```
/// use crm_contact_data::normalize_company_name;
/// assert_eq!(normalize_company_name("Contoso Co., Ltd."), "contoso");
/// assert_eq!(normalize_company_name("CONTOSO LTD"), "contoso");
/// assert_eq!(normalize_company_name("华为技术有限公司"), "华为技术");
/// assert_eq!(
///     normalize_company_name("Contoso（中国）有限公司"),
///     normalize_company_name("Contoso (China) Co., Ltd."),
/// );
/// ```
pub fn normalize_company_name(raw: &str) -> String {
    let words = word_key(raw);
    let translated: Vec<&str> = words.split(' ').map(translate_country).collect();
    let key = strip_legal_forms(translated.join(" "));
    match trailing_country(&key) {
        Some((head, country)) if !head.is_empty() => {
            format!("{} {country}", strip_legal_forms(head.to_owned()))
        }
        _ => key,
    }
}

/// The English qualifier for a Chinese country word, else the word itself.
fn translate_country(word: &str) -> &str {
    COUNTRY_QUALIFIERS
        .iter()
        .find(|(chinese, _)| chinese.contains(&word))
        .map_or(word, |(_, english)| english)
}

/// Splits a trailing country qualifier (in its English form) off a key.
fn trailing_country(key: &str) -> Option<(&str, &str)> {
    COUNTRY_QUALIFIERS.iter().find_map(|(_, english)| {
        let head = key.strip_suffix(english)?;
        match head.strip_suffix(' ') {
            Some(head) => Some((head, *english)),
            None => head.is_empty().then_some((head, *english)),
        }
    })
}

fn strip_legal_forms(mut key: String) -> String {
    while let Some(shorter) = strip_legal_form(&key) {
        key = shorter;
    }
    key
}

fn strip_legal_form(key: &str) -> Option<String> {
    if let Some((head, last)) = key.rsplit_once(' ')
        && LEGAL_FORM_WORDS.contains(&last)
    {
        return Some(head.to_owned());
    }
    let suffix = CJK_LEGAL_FORMS.iter().find(|s| key.ends_with(**s))?;
    let head = key[..key.len() - suffix.len()].trim_end();
    (!head.is_empty()).then(|| head.to_owned())
}

#[cfg(test)]
mod tests {
    use super::normalize_company_name as key;
    use proptest::prelude::*;

    #[test]
    fn spec_examples() {
        assert_eq!(key("Contoso Ltd."), "contoso");
        assert_eq!(key("CONTOSO LTD"), "contoso");
        assert_eq!(key("Contoso Limited"), "contoso");
        assert_eq!(key("Contoso Co., Ltd."), "contoso");
    }

    #[test]
    fn each_legal_form_is_dropped() {
        for form in [
            "Ltd",
            "Limited",
            "Inc.",
            "Incorporated",
            "Corp.",
            "Corporation",
            "Co.",
            "Company",
            "LLC",
            "GmbH",
            "AG",
            "S.A.",
            "PLC",
            "B.V.",
            "Pty",
        ] {
            assert_eq!(key(&format!("Contoso {form}")), "contoso", "{form}");
        }
    }

    #[test]
    fn repeated_forms_are_dropped() {
        assert_eq!(key("Contoso Pty. Ltd."), "contoso");
        assert_eq!(key("Contoso GmbH & Co. KG"), "contoso");
        assert_eq!(key("Contoso Co.,Ltd"), "contoso");
        assert_eq!(key("Contoso Holdings Corp Inc"), "contoso holdings");
    }

    #[test]
    fn only_trailing_forms_are_dropped() {
        assert_eq!(key("Limited Brands Inc"), "limited brands");
        assert_eq!(key("The Co-operative Bank"), "the co operative bank");
    }

    #[test]
    fn chinese_legal_forms() {
        assert_eq!(key("华为技术有限公司"), "华为技术");
        assert_eq!(key("万科企业股份有限公司"), "万科企业");
        assert_eq!(key("腾讯科技（深圳）有限公司"), "腾讯科技 深圳");
        assert_eq!(key("复星集团有限公司"), "复星");
        assert_eq!(key("康托索有限责任公司"), "康托索");
        assert_eq!(
            key("Contoso (China) Co., Ltd. 康托索中国有限公司"),
            "contoso china co ltd 康托索中国"
        );
    }

    #[test]
    fn a_bare_legal_form_is_kept() {
        assert_eq!(key("Ltd."), "ltd");
        assert_eq!(key("Co Ltd"), "co");
        assert_eq!(key("有限公司"), "有限公司");
        assert_eq!(key("集团公司"), "集团");
    }

    #[test]
    fn whitespace_and_punctuation() {
        assert_eq!(key("  Contoso\t  Trading,  Inc. "), "contoso trading");
        assert_eq!(key("AT&T Inc."), "at t");
        assert_eq!(key(""), "");
        assert_eq!(key("!!!"), "");
    }

    #[test]
    fn the_same_company_in_chinese_and_english_legal_forms() {
        for name in [
            "Contoso (China) Co., Ltd.",
            "Contoso（中国）有限公司",
            "Contoso(中国)有限公司",
            "Contoso (中国) 有限责任公司",
            "Contoso（中國）股份有限公司",
            "Contoso【中国】有限公司",
            "ＣＯＮＴＯＳＯ（ＣＨＩＮＡ）ＣＯ．，ＬＴＤ．",
            "Contoso Co., Ltd. (China)",
            "Contoso (China) Limited",
            "CONTOSO CHINA",
        ] {
            assert_eq!(key(name), "contoso china", "{name}");
        }
        assert_eq!(key("Contoso（香港）有限公司"), "contoso hong kong");
        assert_eq!(key("Contoso (Hong Kong) Limited"), "contoso hong kong");
        assert_eq!(key("Contoso（台灣）股份有限公司"), "contoso taiwan");
        assert_eq!(key("康托索（中国）有限公司"), "康托索 china");
    }

    #[test]
    fn cities_and_unbracketed_countries_stay_as_written() {
        assert_eq!(key("腾讯科技（深圳）有限公司"), "腾讯科技 深圳");
        assert_eq!(key("Contoso（上海）有限公司"), "contoso 上海");
        assert_eq!(key("Contoso (Shanghai) Co., Ltd."), "contoso shanghai");
        // Bank of China: the country is part of the name, not a qualifier.
        assert_eq!(key("中国银行股份有限公司"), "中国银行");
        assert_eq!(key("康托索中国有限公司"), "康托索中国");
    }

    #[test]
    fn more_legal_forms_in_both_languages() {
        for name in [
            "Contoso Pte. Ltd.",
            "Contoso L.L.C.",
            "Contoso S.A.R.L.",
            "Contoso Ltda",
            "Contoso K.K.",
            "Contoso有限公司",
            "Contoso 有限責任公司",
            "Contoso股份公司",
            "Contoso 集团股份有限公司",
        ] {
            assert_eq!(key(name), "contoso", "{name}");
        }
    }

    /// Legal forms as people write them, with the punctuation they use.
    const LEGAL_FORMS: &[&str] = &[
        "Co., Ltd.",
        "Co.,Ltd",
        "Ltd.",
        "Limited",
        "Inc.",
        "Corp.",
        "Corporation",
        "LLC",
        "L.L.C.",
        "GmbH",
        "GmbH & Co. KG",
        "AG",
        "S.A.",
        "PLC",
        "Pty Ltd",
        "Pte. Ltd.",
        "有限公司",
        "有限责任公司",
        "有限責任公司",
        "股份有限公司",
        "集团有限公司",
        "公司",
    ];

    /// The full-width form of an ASCII string, as a Chinese keyboard types it.
    fn full_width(ascii: &str) -> String {
        ascii
            .chars()
            .map(|c| match c {
                ' ' => '\u{3000}',
                '!'..='~' => char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap(),
                c => c,
            })
            .collect()
    }

    fn company_name() -> impl Strategy<Value = String> {
        prop_oneof![
            "[A-Za-z][A-Za-z0-9&' ]{0,15}",
            "[\u{4e00}-\u{9fa5}]{1,8}",
            "[A-Za-z]{1,8} ?[(（][\u{4e00}-\u{9fa5}A-Za-z]{1,4}[)）]",
        ]
    }

    proptest! {
        #[test]
        fn appending_legal_forms_keeps_the_key(
            name in company_name(),
            forms in prop::collection::vec(prop::sample::select(LEGAL_FORMS), 1..3),
            separator in prop::sample::select(&[" ", ", ", "　", " - "][..]),
        ) {
            let plain = key(&name);
            prop_assume!(!plain.is_empty());
            let formal = format!("{name}{separator}{}", forms.join(" "));
            prop_assert_eq!(key(&formal), plain);
        }

        #[test]
        fn width_does_not_matter(name in "[ -~]{0,24}") {
            prop_assert_eq!(key(&full_width(&name)), key(&name));
        }

        #[test]
        fn bracket_width_does_not_matter(
            name in "[A-Za-z]{1,10}",
            inner in "[\u{4e00}-\u{9fa5}A-Za-z]{1,4}",
            form in prop::sample::select(LEGAL_FORMS),
        ) {
            prop_assert_eq!(
                key(&format!("{name}（{inner}）{form}")),
                key(&format!("{name} ({inner}) {form}"))
            );
        }

        #[test]
        fn a_chinese_country_qualifier_is_the_english_one(
            name in "[A-Za-z][A-Za-z ]{0,12}",
            (chinese, english) in prop::sample::select(&[
                ("中国", "China"),
                ("中國", "China"),
                ("香港", "Hong Kong"),
                ("台湾", "Taiwan"),
            ][..]),
            chinese_form in prop::sample::select(&["有限公司", "股份有限公司", "有限责任公司"][..]),
            english_form in prop::sample::select(&["Co., Ltd.", "Limited", "Ltd", "Inc."][..]),
        ) {
            prop_assert_eq!(
                key(&format!("{name}（{chinese}）{chinese_form}")),
                key(&format!("{name} ({english}) {english_form}"))
            );
        }

        #[test]
        fn idempotent_on_arbitrary_input(raw in "\\PC{0,30}") {
            let once = key(&raw);
            prop_assert_eq!(key(&once), once.clone());
        }

        #[test]
        fn idempotent_on_company_like_input(
            raw in "[A-Za-z.&' ]{0,12}( (Co|Ltd|Inc|GmbH|S\\.A\\.|limited|有限公司|集团)[.,]?){0,3}[ 。，]?"
        ) {
            let once = key(&raw);
            prop_assert_eq!(key(&once), once.clone());
        }
    }
}
