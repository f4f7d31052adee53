//! Company domains: extraction from URLs and emails, DNS-shape validation,
//! and the free-mail list that must never identify a company.

use crate::{ContactDataError, text::nfkc};

/// Providers whose addresses say nothing about the employer. Subdomains
/// (e.g. `vip.163.com`) count too.
const FREE_MAIL_DOMAINS: &[&str] = &[
    "126.com",
    "139.com",
    "163.com",
    "189.cn",
    "aliyun.com",
    "aol.com",
    "foxmail.com",
    "gmail.com",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "googlemail.com",
    "hotmail.co.uk",
    "hotmail.com",
    "icloud.com",
    "live.com",
    "mac.com",
    "mail.com",
    "mail.ru",
    "me.com",
    "msn.com",
    "outlook.com",
    "proton.me",
    "protonmail.com",
    "qq.com",
    "sina.cn",
    "sina.com",
    "sohu.com",
    "web.de",
    "yahoo.co.jp",
    "yahoo.co.uk",
    "yahoo.com",
    "yandex.com",
    "yandex.ru",
    "yeah.net",
    "ymail.com",
    "zoho.com",
];

/// Extracts the company domain from a website URL, a bare domain or an email
/// address.
///
/// Reads the input in Unicode NFKC (a full-width `ｗｗｗ．ｃｏｎｔｏｓｏ．ｃｎ` is
/// `www.contoso.cn`), lowercases, then strips a scheme (`https://`, `mailto:`), user info or the
/// email local part, path, query, fragment, port, trailing dots and leading
/// `www.` labels. Returns `None` when what is left is not a DNS name with an
/// alphabetic top-level domain, so IP addresses, `localhost` and
/// internationalised (non-ASCII) domains yield `None`.
///
/// ```
/// use crm_contact_data::normalize_domain;
/// assert_eq!(normalize_domain("https://www.Contoso.cn/about").as_deref(), Some("contoso.cn"));
/// assert_eq!(normalize_domain("li.wei@contoso.cn").as_deref(), Some("contoso.cn"));
/// assert_eq!(normalize_domain("not a domain"), None);
/// ```
pub fn normalize_domain(raw: &str) -> Option<String> {
    let lowered = nfkc(raw).trim().to_lowercase();
    let mut rest = strip_scheme(&lowered);
    if let Some(end) = rest.find(['/', '?', '#']) {
        rest = &rest[..end];
    }
    if let Some((_, host)) = rest.rsplit_once('@') {
        rest = host;
    }
    if let Some((host, _port)) = rest.split_once(':') {
        rest = host;
    }
    let mut host = rest.trim_end_matches('.');
    // Only strip `www.` while a registrable name remains, so "www.cn" is
    // left alone rather than reduced to a bare TLD.
    while let Some(shorter) = host.strip_prefix("www.").filter(|h| h.contains('.')) {
        host = shorter;
    }
    (host.len() <= 253 && check_domain(host).is_ok()).then(|| host.to_owned())
}

/// Whether `domain` belongs to a free mail provider, on which no company can
/// be matched. Accepts anything [`normalize_domain`] accepts, so an email
/// address or URL works too.
///
/// ```
/// use crm_contact_data::is_free_mail_domain;
/// assert!(is_free_mail_domain("QQ.com"));
/// assert!(is_free_mail_domain("li.wei@vip.163.com"));
/// assert!(!is_free_mail_domain("contoso.cn"));
/// ```
pub fn is_free_mail_domain(domain: &str) -> bool {
    let Some(domain) = normalize_domain(domain) else {
        return false;
    };
    FREE_MAIL_DOMAINS.iter().any(|free| {
        domain == *free
            || domain
                .strip_suffix(free)
                .is_some_and(|head| head.ends_with('.'))
    })
}

/// Checks the DNS shape rules shared with email validation; the input must
/// already be lowercase.
pub(crate) fn check_domain(domain: &str) -> Result<(), ContactDataError> {
    if domain.is_empty() {
        return Err(ContactDataError::EmailDomainEmpty);
    }
    if !domain.contains('.') {
        return Err(ContactDataError::EmailDomainMissingDot);
    }
    for label in domain.split('.') {
        check_label(label)?;
    }
    let tld = domain.rsplit('.').next().unwrap_or_default();
    if tld.len() < 2 || !tld.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(ContactDataError::EmailTldInvalid {
            tld: tld.to_owned(),
        });
    }
    Ok(())
}

fn check_label(label: &str) -> Result<(), ContactDataError> {
    if label.is_empty() {
        return Err(ContactDataError::EmailDomainEmptyLabel);
    }
    if let Some(character) = label
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(ContactDataError::EmailDomainInvalidCharacter { character });
    }
    if label.len() > 63 {
        return Err(ContactDataError::EmailDomainLabelTooLong {
            length: label.len(),
        });
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(ContactDataError::EmailDomainLabelHyphen {
            label: label.to_owned(),
        });
    }
    Ok(())
}

/// Strips `scheme://`, `//` or `mailto:`. A `://` only counts as a scheme
/// separator when preceded by a valid scheme name, so a URL embedded in a
/// query string is not mistaken for one.
fn strip_scheme(s: &str) -> &str {
    if let Some((scheme, rest)) = s.split_once("://") {
        let mut chars = scheme.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if valid {
            return rest;
        }
    }
    s.strip_prefix("//")
        .or_else(|| s.strip_prefix("mailto:"))
        .unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn norm(raw: &str) -> Option<String> {
        normalize_domain(raw)
    }

    #[test]
    fn strips_url_parts() {
        assert_eq!(
            norm("https://www.Contoso.cn/about").as_deref(),
            Some("contoso.cn")
        );
        assert_eq!(
            norm("HTTP://contoso.com:8080/x?y=1#z").as_deref(),
            Some("contoso.com")
        );
        assert_eq!(norm("contoso.com.").as_deref(), Some("contoso.com"));
        assert_eq!(
            norm("  www.contoso.co.uk  ").as_deref(),
            Some("contoso.co.uk")
        );
        assert_eq!(
            norm("//cdn.contoso.com/a").as_deref(),
            Some("cdn.contoso.com")
        );
        assert_eq!(
            norm("https://user:pw@contoso.com/").as_deref(),
            Some("contoso.com")
        );
        assert_eq!(
            norm("contoso.com?next=http://evil.com").as_deref(),
            Some("contoso.com")
        );
    }

    #[test]
    fn full_width_is_ascii() {
        assert_eq!(
            norm("ｈｔｔｐｓ：／／ｗｗｗ．Ｃｏｎｔｏｓｏ．ｃｎ／").as_deref(),
            Some("contoso.cn")
        );
        assert_eq!(
            norm("li＠ｃｏｎｔｏｓｏ．ｃｎ").as_deref(),
            Some("contoso.cn")
        );
        assert!(is_free_mail_domain("ｌｉ＠ｑｑ．ｃｏｍ"));
    }

    #[test]
    fn www_is_stripped_only_while_a_name_remains() {
        assert_eq!(norm("www.www.contoso.cn").as_deref(), Some("contoso.cn"));
        assert_eq!(norm("www.cn").as_deref(), Some("www.cn"));
    }

    #[test]
    fn extracts_from_email() {
        assert_eq!(norm("li.wei@contoso.cn").as_deref(), Some("contoso.cn"));
        assert_eq!(
            norm("mailto:Li.Wei@Contoso.CN?subject=hi").as_deref(),
            Some("contoso.cn")
        );
    }

    #[test]
    fn rejects_non_domains() {
        for raw in [
            "",
            "   ",
            "localhost",
            "not a domain",
            "192.168.0.1",
            "http://",
            "[::1]:80",
            "contoso.c",
            "例子.中国",
            "-contoso.com",
        ] {
            assert_eq!(norm(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn free_mail_domains() {
        for d in [
            "gmail.com",
            "Outlook.com",
            "hotmail.com",
            "yahoo.com",
            "qq.com",
            "163.com",
            "126.com",
            "icloud.com",
            "foxmail.com",
            "sina.com",
        ] {
            assert!(is_free_mail_domain(d), "{d}");
        }
        assert!(is_free_mail_domain("vip.qq.com"));
        assert!(is_free_mail_domain("someone@gmail.com"));
        assert!(!is_free_mail_domain("notgmail.com"));
        assert!(!is_free_mail_domain("contoso.cn"));
        assert!(!is_free_mail_domain(""));
    }

    #[test]
    fn free_mail_list_is_normalised() {
        for d in FREE_MAIL_DOMAINS {
            assert_eq!(norm(d).as_deref(), Some(*d));
        }
    }

    #[test]
    fn check_domain_errors() {
        use ContactDataError::*;
        assert_eq!(check_domain("contoso"), Err(EmailDomainMissingDot));
        assert_eq!(check_domain("contoso..cn"), Err(EmailDomainEmptyLabel));
        assert_eq!(
            check_domain("con_toso.cn"),
            Err(EmailDomainInvalidCharacter { character: '_' })
        );
        assert_eq!(
            check_domain("contoso-.cn"),
            Err(EmailDomainLabelHyphen {
                label: "contoso-".into()
            })
        );
        assert_eq!(
            check_domain("contoso.c1"),
            Err(EmailTldInvalid { tld: "c1".into() })
        );
        let long = format!("{}.com", "a".repeat(64));
        assert_eq!(
            check_domain(&long),
            Err(EmailDomainLabelTooLong { length: 64 })
        );
        assert_eq!(check_domain("xn--fiqs8s.cn"), Ok(()));
    }

    proptest! {
        #[test]
        fn normalize_domain_is_idempotent(raw in "\\PC{0,40}|(https?://)?(www\\.)?[a-zA-Z0-9-]{1,10}(\\.[a-zA-Z]{2,4}){1,2}\\.?(:[0-9]{2,4})?(/[a-z]{0,5})?") {
            if let Some(once) = normalize_domain(&raw) {
                prop_assert_eq!(normalize_domain(&once), Some(once.clone()));
            }
        }
    }
}
