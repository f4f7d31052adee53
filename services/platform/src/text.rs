//! Texts meant for people that the API returns (a score reason, an assignment's explanation),
//! each as a stable code and its parameters beside the English text, so that the console can
//! show them in Chinese and a program can tell them apart without reading English. The wire
//! form is `crm.common.v1.LocalizableText`.
//!
//! And the rule for the text requests carry (no control characters; line breaks only in
//! multi-line fields), which lives in the proto crate because every request is checked with it
//! as it is decoded: re-exported here for domain code that takes text apart from a request
//! (an import's rows), with the violations as the kit's [`FieldViolation`]s.

use std::{collections::BTreeMap, fmt};

use crm_proto::crm::common::v1 as pb;
pub use crm_proto::text::{Lines, RefusedCharacter, check, is_refused};
use serde::{Deserialize, Serialize};

use crate::error::FieldViolation;

/// Text made safe for HTML content and quoted attribute values (the documents the services
/// render: quotes, statements): the five characters HTML
/// gives a meaning (`&`, `<`, `>`, `"`, `'`) as character references.
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Checks every text field of `message` as its request would be checked on decoding (each
/// field by its own `multiline` option), its paths under `prefix` (`row` gives `row.email`).
pub fn check_message<M: prost::Message + prost::Name>(
    message: &M,
    prefix: &str,
) -> Result<(), Vec<FieldViolation>> {
    crm_proto::text::check_message(message, prefix).map_err(|violations| {
        violations
            .into_iter()
            .map(|violation| FieldViolation::new(violation.field, violation.description))
            .collect()
    })
}

/// A text for people: a code naming the message, the values it is made of, its English text and,
/// for a sentence of clauses or a list, the texts it is made of.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalizableText {
    /// `leads.score.engagement_capped`: `<service>.<area>.<message>`, never reused for another
    /// meaning or other parameters.
    pub code: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
    /// The English text.
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<LocalizableText>,
}

impl LocalizableText {
    /// The text `text` under `code`, with no parameters yet.
    pub fn new(code: &str, text: impl Into<String>) -> Self {
        LocalizableText {
            code: code.to_owned(),
            params: BTreeMap::new(),
            text: text.into(),
            parts: Vec::new(),
        }
    }

    /// Adds the parameter `name`, as `text` prints it (`{:.2}` numbers formatted the same way).
    pub fn param(mut self, name: &str, value: impl fmt::Display) -> Self {
        self.params.insert(name.to_owned(), value.to_string());
        self
    }

    /// Adds the texts this one is made of, in order.
    pub fn parts(mut self, parts: impl IntoIterator<Item = LocalizableText>) -> Self {
        self.parts.extend(parts);
        self
    }

    pub fn to_wire(&self) -> pb::LocalizableText {
        pb::LocalizableText {
            code: self.code.clone(),
            params: self
                .params
                .iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
            text: self.text.clone(),
            parts: self.parts.iter().map(LocalizableText::to_wire).collect(),
        }
    }
}

/// The English text.
impl fmt::Display for LocalizableText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_goes_on_the_wire_with_its_code_parameters_and_parts() {
        let text = LocalizableText::new("leads.assignment.rep_not_eligible", "Ravi (inactive)")
            .param("rep", "Ravi")
            .parts([LocalizableText::new("leads.fairness.inactive", "inactive")]);

        let wire = text.to_wire();

        assert_eq!(wire.code, "leads.assignment.rep_not_eligible");
        assert_eq!(wire.params["rep"], "Ravi");
        assert_eq!(wire.text, "Ravi (inactive)");
        assert_eq!(wire.parts[0].code, "leads.fairness.inactive");
        assert_eq!(text.to_string(), "Ravi (inactive)");
    }

    #[test]
    fn a_stored_text_reads_back_the_same() {
        let text = LocalizableText::new("leads.score.engagement_capped", "engagement capped at 40")
            .param("cap", 40);

        let json = serde_json::to_string(&text).unwrap();

        assert_eq!(
            json,
            r#"{"code":"leads.score.engagement_capped","params":{"cap":"40"},"text":"engagement capped at 40"}"#
        );
        assert_eq!(
            serde_json::from_str::<LocalizableText>(&json).unwrap(),
            text
        );
    }
}
