//! Company name match keys.

use crate::text::word_key;

/// Trailing words that name a legal form rather than the company.
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
    "limited",
    "llc",
    "llp",
    "lp",
    "ltd",
    "nv",
    "plc",
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
    "有限公司",
    "集团",
    "集團",
    "公司",
];

/// Builds the key under which company names are compared.
///
/// Lowercases, turns punctuation into word breaks, collapses whitespace and
/// then repeatedly drops trailing legal forms (Ltd, Limited, Inc, Corp, Co,
/// Company, LLC, GmbH, AG, SA, PLC, BV, Pty and a few more; 有限公司,
/// 股份有限公司, 有限责任公司, 集团, 公司). CJK and other scripts are kept.
/// A name that consists only of a legal form keeps it, so the key is never
/// emptied by the stripping.
///
/// ```
/// use crm_contact_data::normalize_company_name;
/// assert_eq!(normalize_company_name("Contoso Co., Ltd."), "contoso");
/// assert_eq!(normalize_company_name("CONTOSO LTD"), "contoso");
/// assert_eq!(normalize_company_name("华为技术有限公司"), "华为技术");
/// ```
pub fn normalize_company_name(raw: &str) -> String {
    let mut key = word_key(raw);
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

    proptest! {
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
