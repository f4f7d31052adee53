//! The text rule ([`crate::text`]) applied to encoded messages, from the descriptor set: for
//! each message a plan of the fields that hold text (directly, or in sub-messages, lists and
//! maps) and each text field's [`Lines`], built once; then a walk of the wire bytes that scans
//! only those fields. The walk allocates nothing; field paths are built by a second, slower
//! walk, only for a message that breaks the rule.

use std::{collections::HashMap, sync::OnceLock};

use prost_reflect::{
    DescriptorPool, ExtensionDescriptor, FieldDescriptor, Kind, MessageDescriptor,
};

use crate::text::{self, Lines, Violation};

/// `[(crm.common.v1.multiline) = true]`: tab, line feed and carriage return allowed.
const MULTILINE_OPTION: &str = "crm.common.v1.multiline";
/// `[(crm.common.v1.text_checked_by_service) = true]`: not checked on decoding.
const CHECKED_BY_SERVICE_OPTION: &str = "crm.common.v1.text_checked_by_service";
/// Deeper nesting than prost decodes: left to prost to refuse.
const MAX_DEPTH: u32 = 100;

/// The plans of every message of [`crate::FILE_DESCRIPTOR_SET`], built on first use.
pub(crate) fn plans() -> &'static Plans {
    static PLANS: OnceLock<Plans> = OnceLock::new();
    PLANS.get_or_init(|| {
        let pool = DescriptorPool::decode(crate::FILE_DESCRIPTOR_SET)
            .expect("the crate's own descriptor set decodes");
        Plans::new(&pool)
    })
}

/// What the fast walk found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scan {
    Clean,
    /// A text field breaks the rule.
    Refused,
    /// The bytes are not a well-formed message: prost says how when it decodes them.
    Malformed,
}

#[derive(Clone, Copy, Debug)]
enum Check {
    Text(Lines),
    Message(usize),
    /// A map field: its entries are messages of a key (field 1) and a value (field 2).
    Map(usize),
}

#[derive(Debug)]
struct FieldPlan {
    number: u32,
    name: Box<str>,
    list: bool,
    check: Check,
}

#[derive(Debug, Default)]
struct MessagePlan {
    /// The fields that hold text, sorted by number.
    fields: Vec<FieldPlan>,
    /// The input message of some RPC: checked as it is decoded.
    request: bool,
}

impl MessagePlan {
    fn field(&self, number: u32) -> Option<&FieldPlan> {
        self.fields
            .binary_search_by_key(&number, |field| field.number)
            .ok()
            .map(|index| &self.fields[index])
    }
}

#[derive(Debug)]
pub(crate) struct Plans {
    messages: Vec<MessagePlan>,
    /// package → name within it (`LeadInput`, `Outer.Inner`) → plan, as prost's `Name` says.
    by_name: HashMap<String, HashMap<String, usize>>,
}

impl Plans {
    fn new(pool: &DescriptorPool) -> Self {
        let multiline = pool.get_extension_by_name(MULTILINE_OPTION);
        let checked_by_service = pool.get_extension_by_name(CHECKED_BY_SERVICE_OPTION);
        let flag = |field: &FieldDescriptor, option: &Option<ExtensionDescriptor>| {
            option
                .as_ref()
                .is_some_and(|option| field.options().get_extension(option).as_bool() == Some(true))
        };
        let named: Vec<MessageDescriptor> = pool
            .all_messages()
            .filter(|message| !message.is_map_entry())
            .collect();
        let index: HashMap<String, usize> = named
            .iter()
            .enumerate()
            .map(|(index, message)| (message.full_name().to_owned(), index))
            .collect();
        let mut messages: Vec<MessagePlan> = named.iter().map(|_| MessagePlan::default()).collect();
        for (position, message) in named.iter().enumerate() {
            let mut fields = Vec::new();
            for field in message.fields() {
                if flag(&field, &checked_by_service) {
                    continue;
                }
                let lines = if flag(&field, &multiline) {
                    Lines::Multiple
                } else {
                    Lines::Single
                };
                let check = match field.kind() {
                    Kind::String => Check::Text(lines),
                    Kind::Message(entry) if field.is_map() => {
                        let mut entry_fields = Vec::new();
                        for (part, part_lines) in [
                            (entry.map_entry_key_field(), Lines::Single),
                            (entry.map_entry_value_field(), lines),
                        ] {
                            let check = match part.kind() {
                                Kind::String => Check::Text(part_lines),
                                Kind::Message(value) => Check::Message(index[value.full_name()]),
                                _ => continue,
                            };
                            entry_fields.push(FieldPlan {
                                number: part.number(),
                                name: part.name().into(),
                                list: false,
                                check,
                            });
                        }
                        messages.push(MessagePlan {
                            fields: entry_fields,
                            request: false,
                        });
                        Check::Map(messages.len() - 1)
                    }
                    Kind::Message(target) => Check::Message(index[target.full_name()]),
                    _ => continue,
                };
                fields.push(FieldPlan {
                    number: field.number(),
                    name: field.name().into(),
                    list: field.is_list(),
                    check,
                });
            }
            fields.sort_by_key(|field| field.number);
            messages[position].fields = fields;
        }
        prune(&mut messages);
        for service in pool.services() {
            for method in service.methods() {
                messages[index[method.input().full_name()]].request = true;
            }
        }
        let mut by_name: HashMap<String, HashMap<String, usize>> = HashMap::new();
        for (position, message) in named.iter().enumerate() {
            let package = message.package_name();
            let name = message
                .full_name()
                .strip_prefix(package)
                .and_then(|rest| rest.strip_prefix('.'))
                .unwrap_or(message.full_name());
            by_name
                .entry(package.to_owned())
                .or_default()
                .insert(name.to_owned(), position);
        }
        Plans { messages, by_name }
    }

    /// The plan of a message by prost's `Name` (`crm.leads.v1`, `LeadInput`).
    pub(crate) fn message(&self, package: &str, name: &str) -> Option<usize> {
        self.by_name.get(package)?.get(name).copied()
    }

    /// The plan of a message that is the input of some RPC, and has text to check.
    pub(crate) fn request(&self, package: &str, name: &str) -> Option<usize> {
        self.message(package, name).filter(|&plan| {
            let plan = &self.messages[plan];
            plan.request && !plan.fields.is_empty()
        })
    }

    /// Does the encoded message `bytes` of plan `message` keep the rule? Without allocating.
    pub(crate) fn scan(&self, message: usize, bytes: &[u8]) -> Scan {
        self.scan_at(message, bytes, 0)
    }

    fn scan_at(&self, message: usize, mut bytes: &[u8], depth: u32) -> Scan {
        if depth > MAX_DEPTH {
            return Scan::Malformed;
        }
        let plan = &self.messages[message];
        while !bytes.is_empty() {
            let Some((number, payload)) = next_field(&mut bytes) else {
                return Scan::Malformed;
            };
            let (Some(payload), Some(field)) = (payload, plan.field(number)) else {
                continue;
            };
            match field.check {
                Check::Text(lines) => {
                    if text::refused_at(payload, lines).is_some() {
                        return Scan::Refused;
                    }
                }
                Check::Message(target) | Check::Map(target) => {
                    match self.scan_at(target, payload, depth + 1) {
                        Scan::Clean => {}
                        found => return found,
                    }
                }
            }
        }
        Scan::Clean
    }

    /// Every text field of the encoded message that breaks the rule or is not UTF-8, by path
    /// under `prefix`. Stops quietly where the bytes are malformed.
    pub(crate) fn violations(&self, message: usize, bytes: &[u8], prefix: &str) -> Vec<Violation> {
        let mut found = Vec::new();
        self.collect(message, bytes, prefix, 0, &mut found);
        found
    }

    fn collect(
        &self,
        message: usize,
        mut bytes: &[u8],
        path: &str,
        depth: u32,
        found: &mut Vec<Violation>,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        let plan = &self.messages[message];
        // How many items of each list field came so far: the index of the next one.
        let mut items: Vec<(u32, usize)> = Vec::new();
        while !bytes.is_empty() {
            let Some((number, payload)) = next_field(&mut bytes) else {
                return;
            };
            let (Some(payload), Some(field)) = (payload, plan.field(number)) else {
                continue;
            };
            let mut field_path = join(path, &field.name);
            if field.list {
                let item = match items.iter_mut().find(|(seen, _)| *seen == number) {
                    Some((_, count)) => {
                        *count += 1;
                        *count - 1
                    }
                    None => {
                        items.push((number, 1));
                        0
                    }
                };
                field_path = format!("{field_path}[{item}]");
            }
            match field.check {
                Check::Text(lines) => {
                    if let Some(description) = text_violation(payload, lines) {
                        found.push(Violation {
                            field: field_path,
                            description,
                        });
                    }
                }
                Check::Message(target) => {
                    self.collect(target, payload, &field_path, depth + 1, found);
                }
                Check::Map(entry) => self.collect_entry(entry, payload, &field_path, depth, found),
            }
        }
    }

    /// One entry of a map field at `path`: a bad key is the map's violation; a value's path
    /// names its key (`account.custom_fields.region`) when the key is text.
    fn collect_entry(
        &self,
        entry: usize,
        mut bytes: &[u8],
        path: &str,
        depth: u32,
        found: &mut Vec<Violation>,
    ) {
        let plan = &self.messages[entry];
        let mut key: Option<&[u8]> = None;
        let mut value: Option<(&FieldPlan, &[u8])> = None;
        while !bytes.is_empty() {
            let Some((number, payload)) = next_field(&mut bytes) else {
                return;
            };
            let (Some(payload), Some(field)) = (payload, plan.field(number)) else {
                continue;
            };
            if number == 1 {
                key = Some(payload);
            } else {
                value = Some((field, payload));
            }
        }
        let mut value_path = path.to_owned();
        if let Some(key) = key {
            match text_violation(key, Lines::Single) {
                Some(description) => found.push(Violation {
                    field: path.to_owned(),
                    description: format!("has a key that {description}"),
                }),
                None => value_path = join(path, &String::from_utf8_lossy(key)),
            }
        }
        let Some((field, payload)) = value else {
            return;
        };
        match field.check {
            Check::Text(lines) => {
                if let Some(description) = text_violation(payload, lines) {
                    found.push(Violation {
                        field: value_path,
                        description,
                    });
                }
            }
            Check::Message(target) | Check::Map(target) => {
                self.collect(target, payload, &value_path, depth + 1, found);
            }
        }
    }
}

/// Keeps only the fields that can hold text: a message field whose message (recursively) has
/// none is not walked.
fn prune(messages: &mut [MessagePlan]) {
    let mut has_text: Vec<bool> = messages
        .iter()
        .map(|plan| {
            plan.fields
                .iter()
                .any(|field| matches!(field.check, Check::Text(_)))
        })
        .collect();
    loop {
        let mut changed = false;
        for (position, plan) in messages.iter().enumerate() {
            if has_text[position] {
                continue;
            }
            let reaches_text = plan.fields.iter().any(|field| match field.check {
                Check::Text(_) => true,
                Check::Message(target) | Check::Map(target) => has_text[target],
            });
            if reaches_text {
                has_text[position] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for plan in messages.iter_mut() {
        plan.fields.retain(|field| match field.check {
            Check::Text(_) => true,
            Check::Message(target) | Check::Map(target) => has_text[target],
        });
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// What is wrong with a text field's bytes, if anything.
fn text_violation(bytes: &[u8], lines: Lines) -> Option<String> {
    if std::str::from_utf8(bytes).is_err() {
        return Some(text::NOT_UTF8.to_owned());
    }
    text::refused_at(bytes, lines).map(|offset| text::describe(bytes, offset, lines))
}

/// The next field of `bytes`: its number and, when length-delimited, its payload; `None` when
/// the bytes are not well-formed protobuf.
fn next_field<'a>(bytes: &mut &'a [u8]) -> Option<(u32, Option<&'a [u8]>)> {
    let key = varint(bytes)?;
    let number = u32::try_from(key >> 3).ok()?;
    match key & 7 {
        0 => {
            varint(bytes)?;
            Some((number, None))
        }
        1 => skip(bytes, 8).map(|()| (number, None)),
        5 => skip(bytes, 4).map(|()| (number, None)),
        2 => {
            let length = usize::try_from(varint(bytes)?).ok()?;
            if length > bytes.len() {
                return None;
            }
            let (payload, rest) = bytes.split_at(length);
            *bytes = rest;
            Some((number, Some(payload)))
        }
        // Groups (3, 4) are proto2 only; other wire types do not exist.
        _ => None,
    }
}

fn skip(bytes: &mut &[u8], count: usize) -> Option<()> {
    *bytes = bytes.get(count..)?;
    Some(())
}

fn varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (index, byte) in bytes.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7F) << (7 * index);
        if byte & 0x80 == 0 {
            *bytes = &bytes[index + 1..];
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::crm::{accounts::v1 as accounts, leads::v1 as leads};

    fn paths<M: Message + prost::Name>(message: &M) -> Vec<(String, String)> {
        let plan = plans().message(M::PACKAGE, M::NAME).unwrap();
        let bytes = message.encode_to_vec();
        let found = plans().violations(plan, &bytes, "");
        // The fast walk and the slow one agree on valid UTF-8.
        assert_eq!(plans().scan(plan, &bytes) == Scan::Clean, found.is_empty());
        found
            .into_iter()
            .map(|violation| (violation.field, violation.description))
            .collect()
    }

    fn fields(found: &[(String, String)]) -> Vec<&str> {
        found.iter().map(|(field, _)| field.as_str()).collect()
    }

    #[test]
    fn every_request_type_is_planned_and_responses_are_not() {
        assert!(
            plans()
                .request("crm.accounts.v1", "CreateAccountRequest")
                .is_some()
        );
        assert!(
            plans()
                .request("crm.leads.v1", "ImportLeadsRequest")
                .is_some()
        );
        assert!(plans().request("crm.gateway.v1", "LoginRequest").is_some());
        assert!(
            plans()
                .request("crm.accounts.v1", "CreateAccountResponse")
                .is_none()
        );
        // A request with no text at all needs no walk.
        assert!(
            plans()
                .request("crm.leads.v1", "RecycleStaleLeadsRequest")
                .is_none()
        );
    }

    #[test]
    fn a_violation_is_named_by_its_path_through_messages_lists_and_maps() {
        let request = accounts::CreateAccountRequest {
            account: Some(accounts::AccountInput {
                name: "x\0y".into(),
                tags: vec!["ok".into(), "b\u{7f}d".into()],
                custom_fields: [("region".to_owned(), "east\nwest".to_owned())].into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let found = paths(&request);
        assert_eq!(
            fields(&found),
            [
                "account.name",
                "account.tags[1]",
                "account.custom_fields.region"
            ]
        );
        assert!(found[0].1.contains("U+0000 at character 2"), "{found:?}");
    }

    #[test]
    fn a_multiline_field_takes_line_breaks_but_no_other_control_character() {
        let note = |note: &str| leads::LogLeadActivityRequest {
            note: note.into(),
            ..Default::default()
        };
        assert!(paths(&note("called\r\n\tno answer")).is_empty());
        assert_eq!(fields(&paths(&note("a\0b"))), ["note"]);
        let patch = leads::UpdateLeadRequest {
            patch: Some(leads::LeadPatch {
                first_name: Some("Ann\nA".into()),
                description: Some("two\nlines".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(fields(&paths(&patch)), ["patch.first_name"]);
    }

    #[test]
    fn an_import_row_is_left_to_the_import() {
        let request = leads::ImportLeadsRequest {
            campaign_id: String::new(),
            line: 2,
            row: Some(leads::LeadInput {
                email: "a\0@x.example".into(),
                ..Default::default()
            }),
        };
        assert!(paths(&request).is_empty());
        let found = crate::text::check_message(request.row.as_ref().unwrap(), "row").unwrap_err();
        assert_eq!(found[0].field, "row.email");
    }

    #[test]
    fn malformed_bytes_are_left_to_prost() {
        let plan = plans()
            .request("crm.accounts.v1", "CreateAccountRequest")
            .unwrap();
        // Field 1 (account), length 5, but only 2 bytes follow.
        assert_eq!(
            plans().scan(plan, &[0x0A, 0x05, 0x0A, 0x00]),
            Scan::Malformed
        );
        assert!(plans().violations(plan, &[0x0A, 0x05, 0x0A], "").is_empty());
        // Not UTF-8: found on the slow walk, for a better answer than prost's.
        let bytes = [0x0A, 0x03, 0x0A, 0x01, 0xFF];
        assert_eq!(plans().scan(plan, &bytes), Scan::Clean);
        assert_eq!(
            plans().violations(plan, &bytes, "")[0],
            Violation {
                field: "account.name".into(),
                description: text::NOT_UTF8.into()
            }
        );
    }
}
