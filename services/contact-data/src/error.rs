//! The single error type of the validating normalisers.

use std::error::Error;
use std::fmt;

/// Why an email address or phone number was rejected.
///
/// The `Display` text is shown to API callers as a field-violation
/// description, so it names the rule in plain words and never mentions
/// internals. [`ContactDataError::field`] names the offending input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactDataError {
    /// The email is empty after trimming.
    EmailEmpty,
    /// The email contains whitespace inside the address.
    EmailContainsWhitespace,
    /// The email is longer than 254 characters.
    EmailTooLong {
        /// Length in characters after trimming.
        length: usize,
    },
    /// The email does not contain exactly one `@`.
    EmailAtSignCount {
        /// How many `@` were found.
        found: usize,
    },
    /// Nothing before the `@`.
    EmailLocalPartEmpty,
    /// More than 64 characters before the `@`.
    EmailLocalPartTooLong {
        /// Length of the part before the `@`.
        length: usize,
    },
    /// A character outside the supported set before the `@`.
    EmailLocalPartInvalidCharacter {
        /// The first offending character.
        character: char,
    },
    /// The part before the `@` starts or ends with `.` or contains `..`.
    EmailLocalPartDotPlacement,
    /// Nothing after the `@`.
    EmailDomainEmpty,
    /// The domain has no `.`.
    EmailDomainMissingDot,
    /// The domain has an empty label (`..`, or a leading or trailing `.`).
    EmailDomainEmptyLabel,
    /// A domain label is longer than DNS allows.
    EmailDomainLabelTooLong {
        /// Length of the offending label.
        length: usize,
    },
    /// A domain character other than `a-z`, `0-9`, `-` and `.`.
    EmailDomainInvalidCharacter {
        /// The first offending character.
        character: char,
    },
    /// A domain label starts or ends with `-`.
    EmailDomainLabelHyphen {
        /// The offending label.
        label: String,
    },
    /// The top-level domain is not at least two letters.
    EmailTldInvalid {
        /// The offending top-level domain.
        tld: String,
    },
    /// The phone has no digits at all.
    PhoneEmpty,
    /// The phone contains a letter (vanity numbers and extensions are not supported).
    PhoneContainsLetter {
        /// The first offending letter.
        character: char,
    },
    /// The phone contains a character that is neither a digit nor a separator.
    PhoneInvalidCharacter {
        /// The first offending character.
        character: char,
    },
    /// A `+` appears after the first digit, or more than once.
    PhoneMisplacedPlus,
    /// The international number does not have 8 to 15 digits.
    PhoneDigitCount {
        /// Digits counted, including the country calling code.
        digits: usize,
    },
    /// The country calling code starts with 0, which no code does.
    PhoneCallingCodeStartsWithZero,
    /// A national number was given but the organisation has no default calling code.
    PhoneMissingCallingCode,
    /// The configured default calling code is not 1 to 3 digits.
    InvalidDefaultCallingCode {
        /// The rejected code as given.
        code: String,
    },
}

impl ContactDataError {
    /// The input the error is about: `"email"`, `"phone"` or
    /// `"default_calling_code"`, for building field violations.
    pub fn field(&self) -> &'static str {
        use ContactDataError::*;
        match self {
            EmailEmpty
            | EmailContainsWhitespace
            | EmailTooLong { .. }
            | EmailAtSignCount { .. }
            | EmailLocalPartEmpty
            | EmailLocalPartTooLong { .. }
            | EmailLocalPartInvalidCharacter { .. }
            | EmailLocalPartDotPlacement
            | EmailDomainEmpty
            | EmailDomainMissingDot
            | EmailDomainEmptyLabel
            | EmailDomainLabelTooLong { .. }
            | EmailDomainInvalidCharacter { .. }
            | EmailDomainLabelHyphen { .. }
            | EmailTldInvalid { .. } => "email",
            PhoneEmpty
            | PhoneContainsLetter { .. }
            | PhoneInvalidCharacter { .. }
            | PhoneMisplacedPlus
            | PhoneDigitCount { .. }
            | PhoneCallingCodeStartsWithZero
            | PhoneMissingCallingCode => "phone",
            InvalidDefaultCallingCode { .. } => "default_calling_code",
        }
    }
}

impl fmt::Display for ContactDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ContactDataError::*;
        match self {
            EmailEmpty => f.write_str("email must not be empty"),
            EmailContainsWhitespace => f.write_str("email must not contain whitespace"),
            EmailTooLong { length } => {
                write!(f, "email is {length} characters long; the maximum is 254")
            }
            EmailAtSignCount { found } => {
                write!(f, "email must contain exactly one '@' (found {found})")
            }
            EmailLocalPartEmpty => {
                f.write_str("email must have at least one character before the '@'")
            }
            EmailLocalPartTooLong { length } => write!(
                f,
                "email has {length} characters before the '@'; the maximum is 64"
            ),
            EmailLocalPartInvalidCharacter { character } => write!(
                f,
                "email must not contain {character:?} before the '@'; \
                 allowed are letters a-z, digits and .!#$%&'*+/=?^_`{{|}}~-"
            ),
            EmailLocalPartDotPlacement => {
                f.write_str("email must not start or end with '.' before the '@', nor contain '..'")
            }
            EmailDomainEmpty => f.write_str("email must have a domain after the '@'"),
            EmailDomainMissingDot => f.write_str("email domain must contain at least one '.'"),
            EmailDomainEmptyLabel => {
                f.write_str("email domain must not start or end with '.', nor contain '..'")
            }
            EmailDomainLabelTooLong { length } => write!(
                f,
                "email domain has a part of {length} characters between dots; the maximum is 63"
            ),
            EmailDomainInvalidCharacter { character } => write!(
                f,
                "email domain must not contain {character:?}; allowed are letters a-z, \
                 digits, '-' and '.' (internationalised domains are not supported)"
            ),
            EmailDomainLabelHyphen { label } => write!(
                f,
                "email domain part '{label}' must not start or end with '-'"
            ),
            EmailTldInvalid { tld } => write!(
                f,
                "email domain must end in at least two letters a-z after the last '.' (found '{tld}')"
            ),
            PhoneEmpty => f.write_str("phone must not be empty"),
            PhoneContainsLetter { character } => {
                write!(f, "phone must not contain letters (found {character:?})")
            }
            PhoneInvalidCharacter { character } => write!(
                f,
                "phone must not contain {character:?}; allowed are digits, spaces, \
                 '.', '-', '(', ')' and a leading '+'"
            ),
            PhoneMisplacedPlus => {
                f.write_str("phone may contain a single '+' only before the digits")
            }
            PhoneDigitCount { digits } => {
                let unit = if *digits == 1 { "digit" } else { "digits" };
                write!(f, "phone has {digits} {unit}; E.164 needs 8 to 15")
            }
            PhoneCallingCodeStartsWithZero => {
                f.write_str("phone country calling code must not start with 0")
            }
            PhoneMissingCallingCode => f.write_str(
                "phone has no country calling code: start it with '+' and the code \
                 (+86 138 0013 8000), or have an admin set the organisation's default \
                 calling code (OrgService.UpdateOrgSettings, PATCH /v1/orgSettings)",
            ),
            InvalidDefaultCallingCode { code } => write!(
                f,
                "default calling code '{code}' must be 1 to 3 digits not starting with 0"
            ),
        }
    }
}

impl Error for ContactDataError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_plain_words() {
        assert_eq!(
            ContactDataError::EmailAtSignCount { found: 2 }.to_string(),
            "email must contain exactly one '@' (found 2)"
        );
        assert_eq!(
            ContactDataError::PhoneDigitCount { digits: 5 }.to_string(),
            "phone has 5 digits; E.164 needs 8 to 15"
        );
        assert_eq!(
            ContactDataError::PhoneDigitCount { digits: 1 }.to_string(),
            "phone has 1 digit; E.164 needs 8 to 15"
        );
    }

    #[test]
    fn a_national_number_without_a_default_points_at_the_organisation_setting() {
        let message = ContactDataError::PhoneMissingCallingCode.to_string();
        assert!(message.contains("UpdateOrgSettings"), "{message}");
        assert!(message.contains("/v1/orgSettings"), "{message}");
    }

    #[test]
    fn field_names_the_input() {
        assert_eq!(ContactDataError::EmailEmpty.field(), "email");
        assert_eq!(ContactDataError::PhoneMisplacedPlus.field(), "phone");
        let code = ContactDataError::InvalidDefaultCallingCode { code: "x".into() };
        assert_eq!(code.field(), "default_calling_code");
    }

    #[test]
    fn is_a_std_error() {
        let boxed: Box<dyn Error + Send + Sync> = Box::new(ContactDataError::PhoneEmpty);
        assert_eq!(boxed.to_string(), "phone must not be empty");
    }
}
