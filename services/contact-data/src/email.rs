//! Email address normalisation and validation.

use crate::ContactDataError;
use crate::domain::check_domain;
use crate::text::nfkc;

/// Trims and lowercases an email address and checks that it is deliverable
/// in shape. The address is read in Unicode NFKC first, so a full-width one
/// (`ｌｉ＠ｃｏｎｔｏｓｏ．ｃｎ`, as Chinese input methods type it) is the ASCII
/// address it stands for; the result, which is what is stored, is ASCII.
///
/// Rules: exactly one `@`; 1 to 64 characters before it, drawn from the
/// RFC 5322 "atext" set plus non-leading, non-trailing, non-doubled dots;
/// a domain with at least one dot whose labels are `a-z`, `0-9` and `-`
/// (not at either end of a label); an alphabetic top-level domain of at
/// least two letters; at most 254 characters in all; no whitespace.
///
/// The whole address is lowercased, although the part before the `@` is
/// formally case-sensitive: no real provider treats it so, and a
/// case-sensitive key would let duplicates through. Quoted local parts and
/// internationalised (non-ASCII) addresses are rejected; punycode (`xn--`)
/// domains are accepted.
///
/// ```
/// use crm_contact_data::normalize_email;
/// assert_eq!(normalize_email("  Li.Wei@Contoso.CN ").unwrap(), "li.wei@contoso.cn");
/// assert!(normalize_email("li.wei@contoso").is_err());
/// ```
pub fn normalize_email(raw: &str) -> Result<String, ContactDataError> {
    let email = nfkc(raw).trim().to_lowercase();
    if email.is_empty() {
        return Err(ContactDataError::EmailEmpty);
    }
    if email.chars().any(char::is_whitespace) {
        return Err(ContactDataError::EmailContainsWhitespace);
    }
    let length = email.chars().count();
    if length > 254 {
        return Err(ContactDataError::EmailTooLong { length });
    }
    let found = email.matches('@').count();
    let Some((local, domain)) = email.split_once('@').filter(|_| found == 1) else {
        return Err(ContactDataError::EmailAtSignCount { found });
    };
    check_local_part(local)?;
    check_domain(domain)?;
    Ok(email)
}

fn check_local_part(local: &str) -> Result<(), ContactDataError> {
    if local.is_empty() {
        return Err(ContactDataError::EmailLocalPartEmpty);
    }
    if let Some(character) = local.chars().find(|c| !is_local_char(*c)) {
        return Err(ContactDataError::EmailLocalPartInvalidCharacter { character });
    }
    // Only ASCII remains, so bytes are characters.
    if local.len() > 64 {
        return Err(ContactDataError::EmailLocalPartTooLong {
            length: local.len(),
        });
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(ContactDataError::EmailLocalPartDotPlacement);
    }
    Ok(())
}

fn is_local_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ContactDataError::*;
    use proptest::prelude::*;

    #[test]
    fn trims_and_lowercases() {
        assert_eq!(
            normalize_email("  Li.Wei@Contoso.CN\n").unwrap(),
            "li.wei@contoso.cn"
        );
        assert_eq!(
            normalize_email("o'neil+crm@mail.contoso.co.uk").unwrap(),
            "o'neil+crm@mail.contoso.co.uk"
        );
        assert_eq!(
            normalize_email("a@xn--fiqs8s.cn").unwrap(),
            "a@xn--fiqs8s.cn"
        );
    }

    #[test]
    fn at_sign_must_appear_once() {
        assert_eq!(
            normalize_email("li.wei.contoso.cn"),
            Err(EmailAtSignCount { found: 0 })
        );
        assert_eq!(
            normalize_email("li@wei@contoso.cn"),
            Err(EmailAtSignCount { found: 2 })
        );
        assert_eq!(
            normalize_email("a@b@c.cn").unwrap_err().to_string(),
            "email must contain exactly one '@' (found 2)"
        );
    }

    #[test]
    fn full_width_addresses_are_read_as_ascii() {
        assert_eq!(
            normalize_email("ｌｉ．ｗｅｉ＠ｃｏｎｔｏｓｏ．ｃｎ").unwrap(),
            "li.wei@contoso.cn"
        );
        assert_eq!(
            normalize_email("Li.Wei＠Contoso.CN").unwrap(),
            "li.wei@contoso.cn"
        );
        assert_eq!(
            normalize_email("li＠例子．中国"),
            Err(EmailDomainInvalidCharacter { character: '例' })
        );
    }

    #[test]
    fn empty_and_whitespace() {
        assert_eq!(normalize_email("   "), Err(EmailEmpty));
        assert_eq!(
            normalize_email("li wei@contoso.cn"),
            Err(EmailContainsWhitespace)
        );
        assert_eq!(
            normalize_email("li@contoso.cn\u{3000}x"),
            Err(EmailContainsWhitespace)
        );
    }

    #[test]
    fn local_part_rules() {
        assert_eq!(normalize_email("@contoso.cn"), Err(EmailLocalPartEmpty));
        let ok = format!("{}@contoso.cn", "a".repeat(64));
        assert!(normalize_email(&ok).is_ok());
        let long = format!("{}@contoso.cn", "a".repeat(65));
        assert_eq!(
            normalize_email(&long),
            Err(EmailLocalPartTooLong { length: 65 })
        );
        assert_eq!(
            normalize_email(".li@contoso.cn"),
            Err(EmailLocalPartDotPlacement)
        );
        assert_eq!(
            normalize_email("li.@contoso.cn"),
            Err(EmailLocalPartDotPlacement)
        );
        assert_eq!(
            normalize_email("li..wei@contoso.cn"),
            Err(EmailLocalPartDotPlacement)
        );
        assert_eq!(
            normalize_email("li(wei)@contoso.cn"),
            Err(EmailLocalPartInvalidCharacter { character: '(' })
        );
        assert_eq!(
            normalize_email("李伟@contoso.cn"),
            Err(EmailLocalPartInvalidCharacter { character: '李' })
        );
    }

    #[test]
    fn domain_rules() {
        assert_eq!(normalize_email("li@"), Err(EmailDomainEmpty));
        assert_eq!(normalize_email("li@localhost"), Err(EmailDomainMissingDot));
        assert_eq!(
            normalize_email("li@contoso..cn"),
            Err(EmailDomainEmptyLabel)
        );
        assert_eq!(
            normalize_email("li@contoso.cn."),
            Err(EmailDomainEmptyLabel)
        );
        assert_eq!(
            normalize_email("li@-contoso.cn"),
            Err(EmailDomainLabelHyphen {
                label: "-contoso".into()
            })
        );
        assert_eq!(
            normalize_email("li@contoso-.cn"),
            Err(EmailDomainLabelHyphen {
                label: "contoso-".into()
            })
        );
        assert_eq!(
            normalize_email("li@con_toso.cn"),
            Err(EmailDomainInvalidCharacter { character: '_' })
        );
        assert_eq!(
            normalize_email("li@例子.中国"),
            Err(EmailDomainInvalidCharacter { character: '例' })
        );
        assert_eq!(
            normalize_email("li@contoso.c"),
            Err(EmailTldInvalid { tld: "c".into() })
        );
        assert_eq!(
            normalize_email("li@10.0.0.1"),
            Err(EmailTldInvalid { tld: "1".into() })
        );
        assert_eq!(
            normalize_email("li@my-contoso.com.cn").unwrap(),
            "li@my-contoso.com.cn"
        );
    }

    #[test]
    fn total_length_limit() {
        let label = "a".repeat(60);
        let domain = format!("{label}.{label}.{label}.{}.cn", "a".repeat(6));
        let ok = format!("{}@{domain}", "b".repeat(254 - domain.len() - 1));
        assert_eq!(ok.len(), 254);
        assert!(normalize_email(&ok).is_ok());
        let long = format!("b{ok}");
        assert_eq!(normalize_email(&long), Err(EmailTooLong { length: 255 }));
    }

    proptest! {
        #[test]
        fn idempotent_on_arbitrary_input(raw in "\\PC{0,30}") {
            if let Ok(once) = normalize_email(&raw) {
                prop_assert_eq!(normalize_email(&once), Ok(once.clone()));
            }
        }

        #[test]
        fn idempotent_on_plausible_addresses(
            raw in "\\s{0,2}[A-Za-z0-9._+'-]{1,20}@[A-Za-z0-9-]{1,12}(\\.[A-Za-z0-9-]{1,8}){0,2}\\.[A-Za-z]{2,6}\\s{0,2}"
        ) {
            if let Ok(once) = normalize_email(&raw) {
                prop_assert_eq!(&once, &once.to_lowercase());
                prop_assert_eq!(normalize_email(&once), Ok(once.clone()));
            }
        }
    }
}
