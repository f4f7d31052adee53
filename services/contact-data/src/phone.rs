//! Phone number normalisation to E.164.

use crate::{ContactDataError, text::nfkc};

/// Calling codes whose national numbers keep their leading 0 after the
/// country code (Italy, San Marino, Vatican), so it is not a trunk prefix.
const KEEP_LEADING_ZERO: &[&str] = &["39", "378", "379"];

/// Normalises a phone number to E.164: `+`, then 8 to 15 digits.
///
/// Reads the number in Unicode NFKC first, so full-width digits, `＋`, `（）`, `－` and the
/// ideographic space (`＋８６ １３８－００１３－８０００`, as Chinese input methods type them)
/// are the ASCII they stand for; digits of other scripts are still refused.
///
/// Strips surrounding whitespace, a leading `tel:`, and the separators
/// space, `.`, `-`, `(` and `)`. A number starting with `+` or the `00`
/// international prefix is taken as international. Any other number is
/// national: it gets `default_calling_code` (e.g. `"86"` or `"+86"`) in front
/// after dropping one national trunk prefix `0` (`"020 7946 0018"` with
/// `"44"` becomes `"+442079460018"`); the 0 is kept for Italy, San Marino and
/// the Vatican, where it belongs to the number.
///
/// The length check is the generic E.164 one, not a per-country plan, and a
/// national number that already starts with the country code (`"86138…"`
/// without `+`) is not guessed at: it gets the code prepended again.
///
/// ```
/// use crm_contact_data::normalize_phone;
/// assert_eq!(normalize_phone("+86 138 0013 8000", None).unwrap(), "+8613800138000");
/// assert_eq!(normalize_phone("138 0013 8000", Some("86")).unwrap(), "+8613800138000");
/// assert_eq!(normalize_phone("＋８６ １３８００１３８０００", None).unwrap(), "+8613800138000");
/// assert!(normalize_phone("138 0013 8000", None).is_err());
/// ```
pub fn normalize_phone(
    raw: &str,
    default_calling_code: Option<&str>,
) -> Result<String, ContactDataError> {
    let raw = nfkc(raw);
    let (has_plus, digits) = scan(strip_tel(raw.trim()))?;
    if digits.is_empty() {
        return Err(ContactDataError::PhoneEmpty);
    }
    let international = if has_plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else {
        let code = default_calling_code.ok_or(ContactDataError::PhoneMissingCallingCode)?;
        let code = parse_calling_code(code)?;
        let national = if KEEP_LEADING_ZERO.contains(&code) {
            digits.as_str()
        } else {
            digits.strip_prefix('0').unwrap_or(&digits)
        };
        format!("{code}{national}")
    };
    if international.starts_with('0') {
        return Err(ContactDataError::PhoneCallingCodeStartsWithZero);
    }
    if !(8..=15).contains(&international.len()) {
        return Err(ContactDataError::PhoneDigitCount {
            digits: international.len(),
        });
    }
    Ok(format!("+{international}"))
}

fn strip_tel(s: &str) -> &str {
    match s.get(..4) {
        Some(scheme) if scheme.eq_ignore_ascii_case("tel:") => s[4..].trim_start(),
        _ => s,
    }
}

/// Collects the ASCII digits and whether a `+` preceded them. A `+` is
/// accepted anywhere before the first digit so that "(+86) 138…" works.
fn scan(s: &str) -> Result<(bool, String), ContactDataError> {
    let mut has_plus = false;
    let mut digits = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if !has_plus && digits.is_empty() => has_plus = true,
            '+' => return Err(ContactDataError::PhoneMisplacedPlus),
            '.' | '-' | '(' | ')' => {}
            c if c.is_whitespace() => {}
            c if c.is_alphabetic() => {
                return Err(ContactDataError::PhoneContainsLetter { character: c });
            }
            c => return Err(ContactDataError::PhoneInvalidCharacter { character: c }),
        }
    }
    Ok((has_plus, digits))
}

/// Checks a country calling code as an admin gives it ("86", "+44", "＋８６") and returns its
/// digits ("86"): one to three digits, not starting with 0. The gateway checks the
/// organisation's default calling code with it.
///
/// ```
/// use crm_contact_data::normalize_calling_code;
/// assert_eq!(normalize_calling_code(" +86 ").unwrap(), "86");
/// assert!(normalize_calling_code("086").is_err());
/// ```
pub fn normalize_calling_code(code: &str) -> Result<String, ContactDataError> {
    parse_calling_code(&nfkc(code)).map(str::to_owned)
}

fn parse_calling_code(code: &str) -> Result<&str, ContactDataError> {
    let trimmed = code.trim();
    let digits = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let valid = (1..=3).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if valid {
        Ok(digits)
    } else {
        Err(ContactDataError::InvalidDefaultCallingCode {
            code: code.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ContactDataError::*;
    use proptest::prelude::*;

    #[test]
    fn international_forms() {
        assert_eq!(
            normalize_phone("+86 138 0013 8000", None).unwrap(),
            "+8613800138000"
        );
        assert_eq!(
            normalize_phone("0086 138-0013-8000", None).unwrap(),
            "+8613800138000"
        );
        assert_eq!(
            normalize_phone("(+86) 138.0013.8000", None).unwrap(),
            "+8613800138000"
        );
        assert_eq!(
            normalize_phone("tel:+44-20-7946-0018", None).unwrap(),
            "+442079460018"
        );
        assert_eq!(
            normalize_phone(" TEL: +1 (415) 555-2671 ", Some("86")).unwrap(),
            "+14155552671"
        );
    }

    #[test]
    fn national_numbers_get_the_default_code() {
        assert_eq!(
            normalize_phone("020 7946 0018", Some("44")).unwrap(),
            "+442079460018"
        );
        assert_eq!(
            normalize_phone("138 0013 8000", Some("86")).unwrap(),
            "+8613800138000"
        );
        assert_eq!(
            normalize_phone("010-6552-9988", Some("+86")).unwrap(),
            "+861065529988"
        );
        assert_eq!(
            normalize_phone("(415) 555-2671", Some("1")).unwrap(),
            "+14155552671"
        );
    }

    #[test]
    fn italian_leading_zero_is_kept() {
        assert_eq!(
            normalize_phone("06 6982 1234", Some("39")).unwrap(),
            "+390669821234"
        );
    }

    #[test]
    fn national_number_needs_a_default_code() {
        assert_eq!(
            normalize_phone("138 0013 8000", None),
            Err(PhoneMissingCallingCode)
        );
    }

    #[test]
    fn invalid_default_code() {
        for code in ["", "0", "086", "1234", "8a", "+"] {
            assert_eq!(
                normalize_phone("138 0013 8000", Some(code)),
                Err(InvalidDefaultCallingCode { code: code.into() }),
                "{code:?}"
            );
        }
    }

    #[test]
    fn calling_codes_as_admins_write_them() {
        assert_eq!(normalize_calling_code("86").unwrap(), "86");
        assert_eq!(normalize_calling_code("+44").unwrap(), "44");
        assert_eq!(normalize_calling_code("＋８６").unwrap(), "86");
        assert_eq!(normalize_calling_code(" 1 ").unwrap(), "1");
        for code in ["", "0", "086", "1234", "8a", "+", "+ 86"] {
            assert_eq!(
                normalize_calling_code(code),
                Err(InvalidDefaultCallingCode { code: code.into() }),
                "{code:?}"
            );
        }
    }

    #[test]
    fn rejects_letters_and_symbols() {
        assert_eq!(
            normalize_phone("+1 800 FLOWERS", None),
            Err(PhoneContainsLetter { character: 'F' })
        );
        assert_eq!(
            normalize_phone("+86 138 0013 8000 ext 12", None),
            Err(PhoneContainsLetter { character: 'e' })
        );
        assert_eq!(
            normalize_phone("+86 138 0013 8000#12", None),
            Err(PhoneInvalidCharacter { character: '#' })
        );
        assert_eq!(
            normalize_phone("+86 138 + 0013", None),
            Err(PhoneMisplacedPlus)
        );
        assert_eq!(
            normalize_phone("++86 138 0013 8000", None),
            Err(PhoneMisplacedPlus)
        );
    }

    #[test]
    fn digit_count_limits() {
        assert_eq!(
            normalize_phone("+12345", None),
            Err(PhoneDigitCount { digits: 5 })
        );
        assert_eq!(
            normalize_phone("+12345", None).unwrap_err().to_string(),
            "phone has 5 digits; E.164 needs 8 to 15"
        );
        assert_eq!(
            normalize_phone("+1234567", None),
            Err(PhoneDigitCount { digits: 7 })
        );
        assert_eq!(normalize_phone("+12345678", None).unwrap(), "+12345678");
        assert_eq!(
            normalize_phone("+123456789012345", None).unwrap(),
            "+123456789012345"
        );
        assert_eq!(
            normalize_phone("+1234567890123456", None),
            Err(PhoneDigitCount { digits: 16 })
        );
        assert_eq!(
            normalize_phone("00", None),
            Err(PhoneDigitCount { digits: 0 })
        );
        assert_eq!(
            normalize_phone("0", Some("86")),
            Err(PhoneDigitCount { digits: 2 })
        );
    }

    #[test]
    fn empty_and_zero_codes() {
        assert_eq!(normalize_phone("", Some("86")), Err(PhoneEmpty));
        assert_eq!(normalize_phone(" ( ) - ", Some("86")), Err(PhoneEmpty));
        assert_eq!(normalize_phone("tel:", None), Err(PhoneEmpty));
        assert_eq!(
            normalize_phone("+0 123 456 789", None),
            Err(PhoneCallingCodeStartsWithZero)
        );
        assert_eq!(
            normalize_phone("000 123 456 789", None),
            Err(PhoneCallingCodeStartsWithZero)
        );
    }

    #[test]
    fn full_width_numbers_are_read_as_typed_on_a_chinese_keyboard() {
        assert_eq!(
            normalize_phone("１３８００１３８０００", Some("86")).unwrap(),
            "+8613800138000"
        );
        assert_eq!(
            normalize_phone("+86 １３８ ００１３ ８０００", None).unwrap(),
            "+8613800138000"
        );
        assert_eq!(
            normalize_phone("＋８６　１３８－００１３－８０００", None).unwrap(),
            "+8613800138000"
        );
        assert_eq!(
            normalize_phone("（０１０）６５５２　９９８８", Some("86")).unwrap(),
            "+861065529988"
        );
        // Still refused: letters, also full-width ones, and digits of other scripts.
        assert_eq!(
            normalize_phone("+86 １３８ ａｂｃ", None),
            Err(PhoneContainsLetter { character: 'a' })
        );
        assert_eq!(
            normalize_phone("+٨٦١٣٨٠٠١٣٨٠٠٠", None),
            Err(PhoneInvalidCharacter { character: '٨' })
        );
    }

    /// The full-width (Chinese and Japanese keyboard) form of an ASCII phone string.
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

    fn is_e164(s: &str) -> bool {
        let Some(digits) = s.strip_prefix('+') else {
            return false;
        };
        (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    }

    fn default_code() -> impl Strategy<Value = Option<String>> {
        prop::option::of(prop_oneof![
            Just("86".to_owned()),
            Just("44".to_owned()),
            Just("+1".to_owned()),
            Just("39".to_owned()),
            "\\PC{0,4}"
        ])
    }

    proptest! {
        #[test]
        fn ok_output_is_e164_and_idempotent(
            raw in "(tel:)?\\+?(00)?[0-9 .()-]{0,22}|\\PC{0,20}",
            code in default_code(),
        ) {
            if let Ok(once) = normalize_phone(&raw, code.as_deref()) {
                prop_assert!(is_e164(&once), "{once}");
                prop_assert_eq!(normalize_phone(&once, code.as_deref()), Ok(once.clone()));
                prop_assert_eq!(normalize_phone(&once, None), Ok(once.clone()));
            }
        }

        /// Whatever an ASCII phone string gives, its full-width rendering gives the same:
        /// the same E.164 number, or the same refusal.
        #[test]
        fn full_width_parses_like_ascii(
            raw in "(tel:)?\\+?(00)?[0-9 .()-]{0,22}|[ -~]{0,20}",
            code in default_code(),
        ) {
            let wide = full_width(&raw);
            prop_assert_eq!(
                normalize_phone(&wide, code.as_deref()),
                normalize_phone(&raw, code.as_deref())
            );
        }
    }
}
