//! The one rule for the text a request may carry: no control characters (Unicode `Cc` — NUL
//! and the rest of C0, DEL, C1), except tab, line feed and carriage return in a field that
//! allows several lines (`[(crm.common.v1.multiline) = true]`). PostgreSQL refuses NUL in text,
//! and the other control characters are never meant in a name, an email or a note.
//!
//! Every request is checked with it as it is decoded ([`crate::codec::CrmCodec`], from the
//! fields' options); domain code that takes text some other way (an import's rows, checked row
//! by row) calls [`check_message`] or [`check`], never a rule of its own.

use std::{cell::RefCell, fmt};

use crate::request_text;

/// Whether a field may hold several lines (its `crm.common.v1.multiline` option).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lines {
    /// No control character at all.
    Single,
    /// Tab, line feed and carriage return allowed; other control characters refused.
    Multiple,
}

/// Is `character` refused in a field of `lines`?
pub fn is_refused(character: char, lines: Lines) -> bool {
    character.is_control() && !(lines == Lines::Multiple && matches!(character, '\t' | '\n' | '\r'))
}

/// The byte offset of the first refused character in `bytes` (UTF-8 text; invalid sequences
/// are not judged here), or `None`. The check of every request's text: a byte scan, no
/// decoding — C0 and DEL are single bytes, C1 the two bytes `C2 80` to `C2 9F`.
pub fn refused_at(bytes: &[u8], lines: Lines) -> Option<usize> {
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte >= 0x20 && byte != 0x7F && byte != 0xC2 {
            index += 1;
            continue;
        }
        let refused = match byte {
            b'\t' | b'\n' | b'\r' => lines == Lines::Single,
            0xC2 => matches!(bytes.get(index + 1), Some(0x80..=0x9F)),
            _ => true,
        };
        if refused {
            return Some(index);
        }
        index += 1;
    }
    None
}

/// A refused character of a text: which one, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefusedCharacter {
    pub character: char,
    /// 1-based position in characters.
    pub position: usize,
    pub lines: Lines,
}

impl RefusedCharacter {
    /// The refused character at byte `offset` of `bytes` (as [`refused_at`] found it).
    fn at(bytes: &[u8], offset: usize, lines: Lines) -> Self {
        let character = match bytes[offset] {
            0xC2 => char::from_u32(u32::from(bytes[offset + 1])).unwrap_or('\u{80}'),
            byte => char::from(byte),
        };
        // Characters before it: every byte that does not continue a UTF-8 sequence starts one.
        let before = bytes[..offset]
            .iter()
            .filter(|byte| (**byte & 0xC0) != 0x80)
            .count();
        RefusedCharacter {
            character,
            position: before + 1,
            lines,
        }
    }
}

/// What a caller is told, as a field violation's description.
impl fmt::Display for RefusedCharacter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = u32::from(self.character);
        match self.lines {
            Lines::Single => write!(
                f,
                "must not contain control characters (U+{code:04X} at character {}); \
                 this field is one line of text",
                self.position
            ),
            Lines::Multiple => write!(
                f,
                "must not contain control characters other than tab, line feed and carriage \
                 return (U+{code:04X} at character {})",
                self.position
            ),
        }
    }
}

/// Checks one text against the rule.
pub fn check(text: &str, lines: Lines) -> Result<(), RefusedCharacter> {
    match refused_at(text.as_bytes(), lines) {
        None => Ok(()),
        Some(offset) => Err(RefusedCharacter::at(text.as_bytes(), offset, lines)),
    }
}

/// The description of a text field whose bytes are not UTF-8 (a request prost could not
/// decode for that reason).
pub const NOT_UTF8: &str = "is not UTF-8 text";

/// One text field of a message that breaks the rule, as a field violation: the field's path
/// (`lead.first_name`, `rules[2].name`, `account.custom_fields.region`) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub description: String,
}

/// Describes a text found at byte `offset`, for the walker of request bytes.
pub(crate) fn describe(bytes: &[u8], offset: usize, lines: Lines) -> String {
    RefusedCharacter::at(bytes, offset, lines).to_string()
}

/// Checks every text field of `message` (its sub-messages', its lists' and maps') as a request
/// is checked: each field by its own options, so a multi-line field allows line breaks.
/// `prefix` is put before each field path (`row` gives `row.email`); empty gives bare paths.
///
/// For messages a service takes apart from their request, such as an import's rows (whose
/// request leaves them to it, `text_checked_by_service`). It encodes the message into a buffer
/// kept per thread, so checking many rows allocates nothing after the first.
pub fn check_message<M: prost::Message + prost::Name>(
    message: &M,
    prefix: &str,
) -> Result<(), Vec<Violation>> {
    let Some(plan) = request_text::plans().message(M::PACKAGE, M::NAME) else {
        // A message of no crm package has no text the rule knows of.
        return Ok(());
    };
    thread_local! {
        static ENCODED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    ENCODED.with_borrow_mut(|buffer| {
        buffer.clear();
        message
            .encode(buffer)
            .expect("a Vec grows to hold any message");
        let outcome = match request_text::plans().scan(plan, buffer) {
            request_text::Scan::Clean => Ok(()),
            request_text::Scan::Refused | request_text::Scan::Malformed => {
                let violations = request_text::plans().violations(plan, buffer, prefix);
                if violations.is_empty() {
                    Ok(())
                } else {
                    Err(violations)
                }
            }
        };
        // A rare huge message does not keep its buffer for the thread's life.
        if buffer.capacity() > 1 << 16 {
            *buffer = Vec::new();
        }
        outcome
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_and_line_breaks_only_where_lines_are_allowed() {
        assert_eq!(refused_at(b"x\0y", Lines::Single), Some(1));
        assert_eq!(refused_at(b"x\0y", Lines::Multiple), Some(1));
        assert_eq!(refused_at(b"a\nb", Lines::Single), Some(1));
        assert_eq!(refused_at(b"a\nb\tc\r\n", Lines::Multiple), None);
        assert_eq!(refused_at(b"del\x7f", Lines::Multiple), Some(3));
        assert_eq!(refused_at("c1\u{85}".as_bytes(), Lines::Multiple), Some(2));
        assert_eq!(
            refused_at("Zoë 张伟 ¢ \u{a0}".as_bytes(), Lines::Single),
            None
        );
    }

    #[test]
    fn a_refusal_names_the_character_and_its_position_in_characters() {
        let refused = check("张伟\u{1b}x", Lines::Single).unwrap_err();
        assert_eq!((refused.character, refused.position), ('\u{1b}', 3));
        assert_eq!(
            refused.to_string(),
            "must not contain control characters (U+001B at character 3); this field is one \
             line of text"
        );
        let c1 = check("ab\u{9f}", Lines::Multiple).unwrap_err();
        assert_eq!((c1.character, c1.position), ('\u{9f}', 3));
        assert!(c1.to_string().contains("other than tab"), "{c1}");
    }

    proptest::proptest! {
        /// The byte scan of requests and the Unicode category agree on every text.
        #[test]
        fn the_byte_scan_is_the_unicode_rule(text in "\\PC{0,12}|[\\x00-\\x{a0}a-z]{0,12}",
                                              multiple in proptest::bool::ANY) {
            let lines = if multiple { Lines::Multiple } else { Lines::Single };
            let by_character = text
                .char_indices()
                .find(|(_, character)| is_refused(*character, lines))
                .map(|(offset, _)| offset);
            proptest::prop_assert_eq!(refused_at(text.as_bytes(), lines), by_character);
        }
    }
}
