//! iCalendar (RFC 5545) text: a VCALENDAR of VEVENTs, as subscribed calendars (Google, Apple,
//! Outlook) read them. Pure: the feed's use case gives the events, this writes the lines.
//!
//! TEXT values are escaped (§3.3.11: backslash, `;`, `,` and newlines), content lines are
//! folded at 75 octets without splitting a UTF-8 character (§3.1), lines end in CRLF.

use chrono::{DateTime, Utc};

/// How long a content line may be, in octets, before it is folded.
const MAX_LINE_OCTETS: usize = 75;

/// One event of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Globally unique and stable across versions (`<id>@crm`).
    pub uid: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub summary: String,
    pub description: String,
    pub categories: Vec<String>,
    /// Changes each time the event is rewritten (version − 1).
    pub sequence: i64,
    pub last_modified: DateTime<Utc>,
}

/// A calendar: its name and events, written at `stamp` (every event's DTSTAMP).
#[derive(Debug, Clone)]
pub struct Calendar {
    pub name: String,
    pub stamp: DateTime<Utc>,
    pub events: Vec<Event>,
}

/// A TEXT value escaped (§3.3.11). Carriage returns go: a newline is `\n` whatever ended it.
pub fn escape_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            ';' => escaped.push_str("\\;"),
            ',' => escaped.push_str("\\,"),
            '\n' => escaped.push_str("\\n"),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    escaped.push_str("\\n");
                }
            }
            c => escaped.push(c),
        }
    }
    escaped
}

/// A content line folded (§3.1): at most 75 octets a line, continuations starting with one
/// space, never inside a UTF-8 character; each line ends in CRLF.
pub fn fold(line: &str) -> String {
    let mut folded = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut used = 0;
    for c in line.chars() {
        let width = c.len_utf8();
        if used + width > MAX_LINE_OCTETS {
            folded.push_str("\r\n ");
            // The continuation's leading space counts towards its 75 octets.
            used = 1;
        }
        folded.push(c);
        used += width;
    }
    folded.push_str("\r\n");
    folded
}

/// A UTC date-time value (`20261122T170000Z`).
pub fn utc(time: DateTime<Utc>) -> String {
    time.format("%Y%m%dT%H%M%SZ").to_string()
}

fn line(out: &mut String, name: &str, value: &str) {
    out.push_str(&fold(&format!("{name}:{value}")));
}

/// The whole VCALENDAR, CRLF line ends.
pub fn write(calendar: &Calendar) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN", "VCALENDAR");
    line(&mut out, "PRODID", "-//Northwind CRM//Calendar feed//EN");
    line(&mut out, "VERSION", "2.0");
    line(&mut out, "CALSCALE", "GREGORIAN");
    line(&mut out, "METHOD", "PUBLISH");
    line(&mut out, "X-WR-CALNAME", &escape_text(&calendar.name));
    let stamp = utc(calendar.stamp);
    for event in &calendar.events {
        line(&mut out, "BEGIN", "VEVENT");
        line(&mut out, "UID", &escape_text(&event.uid));
        line(&mut out, "DTSTAMP", &stamp);
        line(&mut out, "DTSTART", &utc(event.starts_at));
        line(&mut out, "DTEND", &utc(event.ends_at));
        line(&mut out, "SUMMARY", &escape_text(&event.summary));
        if !event.description.is_empty() {
            line(&mut out, "DESCRIPTION", &escape_text(&event.description));
        }
        if !event.categories.is_empty() {
            let categories: Vec<String> = event.categories.iter().map(|c| escape_text(c)).collect();
            line(&mut out, "CATEGORIES", &categories.join(","));
        }
        line(&mut out, "SEQUENCE", &event.sequence.max(0).to_string());
        line(&mut out, "LAST-MODIFIED", &utc(event.last_modified));
        line(&mut out, "END", "VEVENT");
    }
    line(&mut out, "END", "VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Unfolding (§3.1): a CRLF followed by one space or tab goes.
    fn unfold(text: &str) -> String {
        text.replace("\r\n ", "").replace("\r\n\t", "")
    }

    fn instant(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn text_escapes_backslashes_separators_and_newlines() {
        assert_eq!(
            escape_text("Price; terms, and a\\path\nnext\r\nlast\rend"),
            "Price\\; terms\\, and a\\\\path\\nnext\\nlast\\nend"
        );
        assert_eq!(escape_text("Plain: colons stay"), "Plain: colons stay");
    }

    #[test]
    fn a_long_line_folds_at_75_octets_with_a_leading_space() {
        let line = format!("SUMMARY:{}", "a".repeat(100));
        let folded = fold(&line);
        let lines: Vec<&str> = folded.trim_end_matches("\r\n").split("\r\n").collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), 75);
        assert_eq!(lines[1], format!(" {}", "a".repeat(108 - 75)));
        assert_eq!(unfold(&folded), format!("{line}\r\n"));
    }

    #[test]
    fn folding_never_splits_a_character() {
        // 8 octets of name, then 3-octet characters: 22 fit in 74 octets, the 23rd would make 77.
        let line = format!("SUMMARY:{}", "会".repeat(30));
        let folded = fold(&line);
        let first = folded.split("\r\n").next().unwrap();
        assert_eq!(first.len(), 8 + 22 * 3);
        assert!(folded.split("\r\n").all(|line| line.len() <= 75));
    }

    #[test]
    fn a_calendar_has_its_header_and_events_in_utc() {
        let calendar = Calendar {
            name: "Ravi's deals".into(),
            stamp: instant("2026-11-20T08:00:00Z"),
            events: vec![Event {
                uid: "0193@crm".into(),
                starts_at: instant("2026-11-22T17:00:00Z"),
                ends_at: instant("2026-11-22T17:30:00Z"),
                summary: "Call, Contoso".into(),
                description: String::new(),
                categories: vec!["Call".into()],
                sequence: 1,
                last_modified: instant("2026-11-20T07:00:00Z"),
            }],
        };
        assert_eq!(
            write(&calendar),
            "BEGIN:VCALENDAR\r\nPRODID:-//Northwind CRM//Calendar feed//EN\r\nVERSION:2.0\r\n\
             CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:Ravi's deals\r\n\
             BEGIN:VEVENT\r\nUID:0193@crm\r\nDTSTAMP:20261120T080000Z\r\n\
             DTSTART:20261122T170000Z\r\nDTEND:20261122T173000Z\r\nSUMMARY:Call\\, Contoso\r\n\
             CATEGORIES:Call\r\nSEQUENCE:1\r\nLAST-MODIFIED:20261120T070000Z\r\nEND:VEVENT\r\n\
             END:VCALENDAR\r\n"
        );
    }

    proptest! {
        #[test]
        fn folded_lines_fit_and_unfold_to_the_line(text in "\\PC{0,300}") {
            let line = format!("DESCRIPTION:{}", escape_text(&text));
            let folded = fold(&line);
            prop_assert!(folded.ends_with("\r\n"));
            for part in folded.trim_end_matches("\r\n").split("\r\n") {
                prop_assert!(part.len() <= 75, "{} octets: {part:?}", part.len());
            }
            prop_assert_eq!(unfold(&folded), format!("{line}\r\n"));
        }
    }
}
