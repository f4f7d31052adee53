//! JSON ↔ protobuf for the front door: builds an RPC's request message from the path, the query
//! string and the JSON body, and renders its response as JSON — from the descriptors, so that
//! no service needs hand-written HTTP code.
//!
//! The JSON is proto3's canonical mapping with two choices made for HTTP clients: responses use
//! the proto field names (`owner_team_path`, as in the gRPC API and the docs) and 64-bit
//! integers as JSON numbers; requests accept either field name form and either number form.

use prost_reflect::ReflectMessage;
use prost_reflect::{
    DeserializeOptions, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, SerializeOptions,
    Value,
};

use super::{
    field_rules,
    routes::{BodyMapping, Route},
};

/// What is wrong with a request, and where: `field` is a field path (`account.name`), `body`
/// for the body as a whole, or the query parameter as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

impl Invalid {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Why a request was refused before reaching its service: one unreadable part (a body that
/// is not JSON, a bad query parameter), or every field that breaks its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub Vec<Invalid>);

impl From<Invalid> for Refused {
    fn from(invalid: Invalid) -> Self {
        Self(vec![invalid])
    }
}

/// The request message of `route`: the JSON body (as the rule maps it), then the query
/// parameters, then the path variables, which win over anything the body says.
pub fn request_message(
    route: &Route,
    bound: &[(&[String], String)],
    query: Option<&str>,
    body: &[u8],
) -> Result<DynamicMessage, Refused> {
    let input = route.rpc.input();
    // Only a body of no bytes is no body: whitespace alone is a JSON text with nothing in it,
    // which is malformed, and the fuzzer holds the front door to saying so.
    let has_body = !body.is_empty();
    let mut message = match (&route.body, has_body) {
        (BodyMapping::Whole, true) => parse_json(input, body, "body")?,
        (BodyMapping::Field(name), true) => {
            let field = input
                .get_field_by_name(name)
                .expect("checked when the route table was built");
            let mut message = DynamicMessage::new(input);
            let value = match field.kind() {
                Kind::Message(descriptor) => Value::Message(parse_json(descriptor, body, name)?),
                _ => {
                    return Err(Refused::from(Invalid::new(
                        name.as_str(),
                        "is not a message",
                    )));
                }
            };
            message.set_field(&field, value);
            message
        }
        (BodyMapping::None, true) => {
            return Err(Refused::from(Invalid::new(
                "body",
                "this operation takes no body; pass its fields as query parameters",
            )));
        }
        (_, false) => DynamicMessage::new(input),
    };
    if let Some(query) = query.filter(|query| !query.is_empty()) {
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = form_decode(name).ok_or_else(|| Invalid::new(name, "is not valid UTF-8"))?;
            let value =
                form_decode(value).ok_or_else(|| Invalid::new(&name, "is not valid UTF-8"))?;
            if let BodyMapping::Whole = route.body {
                return Err(Refused::from(Invalid::new(
                    name,
                    "query parameters are not accepted here; send the fields in the JSON body",
                )));
            }
            let path: Vec<&str> = name.split('.').collect();
            set_path(&mut message, &path, &value, &name, true)?;
        }
    }
    for (path, value) in bound {
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        field_rules::check_sent(&message, &path)?;
        set_path(&mut message, &path, value, &path.join("."), false)?;
    }
    field_rules::check(&message).map_err(Refused)?;
    Ok(message)
}

/// The message a route answers raw instead of as JSON: its `data` with its `content_type`.
pub const HTTP_BODY: &str = "google.api.HttpBody";

/// What a reply becomes at the front door.
#[derive(Debug)]
pub enum Rendered {
    /// The JSON of the response message.
    Json(Vec<u8>),
    /// A `google.api.HttpBody`'s bytes, served as its content type (`application/octet-stream`
    /// when it names none).
    Raw { content_type: String, data: Vec<u8> },
}

/// Is `output` answered raw ([`Rendered::Raw`])?
pub fn is_http_body(output: &MessageDescriptor) -> bool {
    output.full_name() == HTTP_BODY
}

/// A reply as the front door serves it: raw for a `google.api.HttpBody`, else JSON.
pub fn response_body(output: MessageDescriptor, bytes: &[u8]) -> Result<Rendered, String> {
    if !is_http_body(&output) {
        return response_json(output, bytes).map(Rendered::Json);
    }
    let message = DynamicMessage::decode(output, bytes).map_err(|error| error.to_string())?;
    let content_type = message
        .get_field_by_name("content_type")
        .and_then(|value| value.as_str().map(str::to_owned))
        .filter(|content_type| !content_type.trim().is_empty())
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let data = message
        .get_field_by_name("data")
        .and_then(|value| value.as_bytes().map(|bytes| bytes.to_vec()))
        .unwrap_or_default();
    Ok(Rendered::Raw { content_type, data })
}

/// The JSON of a response message, as bytes.
pub fn response_json(output: MessageDescriptor, bytes: &[u8]) -> Result<Vec<u8>, String> {
    let message = DynamicMessage::decode(output, bytes).map_err(|error| error.to_string())?;
    to_json(&message)
}

pub fn to_json(message: &DynamicMessage) -> Result<Vec<u8>, String> {
    let options = SerializeOptions::new()
        .use_proto_field_name(true)
        .stringify_64_bit_integers(false)
        .skip_default_fields(false);
    let mut out = Vec::with_capacity(256);
    let mut serializer = serde_json::Serializer::new(&mut out);
    message
        .serialize_with_options(&mut serializer, &options)
        .map_err(|error| error.to_string())?;
    Ok(out)
}

fn parse_json(
    descriptor: MessageDescriptor,
    body: &[u8],
    field: &str,
) -> Result<DynamicMessage, Invalid> {
    // What proto3's JSON mapping would let through but the document does not offer: `null` for
    // a field, and an enum as its number. A body that is not JSON is left to the decoder below,
    // which says where it breaks.
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        let prefix = if field == "body" {
            String::new()
        } else {
            format!("{field}.")
        };
        check_json(&descriptor, &json, &prefix)?;
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let message = DynamicMessage::deserialize_with_options(
        descriptor,
        &mut deserializer,
        &DeserializeOptions::new().deny_unknown_fields(true),
    )
    .and_then(|message| deserializer.end().map(|()| message))
    .map_err(|error| Invalid::new(field, describe_json_error(&error)))?;
    Ok(message)
}

/// Walks a JSON body along its message: `null` is refused for every field (leave a field out to
/// leave it unset), and an enum must be one of its value names, not a number. Unknown fields
/// and wrong types are left to the decoder.
fn check_json(
    descriptor: &MessageDescriptor,
    json: &serde_json::Value,
    prefix: &str,
) -> Result<(), Invalid> {
    let serde_json::Value::Object(object) = json else {
        return Ok(());
    };
    for (name, value) in object {
        let Some(field) = descriptor
            .get_field_by_name(name)
            .or_else(|| descriptor.get_field_by_json_name(name))
        else {
            continue;
        };
        let path = format!("{prefix}{}", field.name());
        if value.is_null() {
            return Err(Invalid::new(
                path,
                "must not be null: leave the field out to leave it unset",
            ));
        }
        let kind = if field.is_map() {
            match field.kind() {
                Kind::Message(entry) => entry.map_entry_value_field().kind(),
                kind => kind,
            }
        } else {
            field.kind()
        };
        let items: Vec<(String, &serde_json::Value)> = match value {
            serde_json::Value::Array(items) if field.is_list() => items
                .iter()
                .enumerate()
                .map(|(index, item)| (format!("{path}[{index}]"), item))
                .collect(),
            serde_json::Value::Object(entries) if field.is_map() => entries
                .iter()
                .map(|(key, item)| (format!("{path}.{key}"), item))
                .collect(),
            value => vec![(path.clone(), value)],
        };
        for (path, item) in items {
            if item.is_null() {
                return Err(Invalid::new(path, "must not be null"));
            }
            match &kind {
                Kind::Enum(descriptor) if !item.is_string() => {
                    return Err(Invalid::new(path, enum_names_message(descriptor)));
                }
                Kind::Message(inner) if well_known_json(inner).is_none() => {
                    check_json(inner, item, &format!("{path}."))?;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Message types whose JSON form is not an object of their fields.
fn well_known_json(message: &MessageDescriptor) -> Option<()> {
    message
        .full_name()
        .starts_with("google.protobuf.")
        .then_some(())
}

fn enum_names_message(descriptor: &prost_reflect::EnumDescriptor) -> String {
    let names: Vec<String> = descriptor
        .values()
        .map(|value| value.name().to_owned())
        .collect();
    format!("must be one of {} (a name, not a number)", names.join(", "))
}

/// serde_json's message, which says what was expected and where (line and column).
fn describe_json_error(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match error.classify() {
        Category::Syntax | Category::Eof => format!("is not valid JSON: {error}"),
        Category::Data | Category::Io => error.to_string(),
    }
}

/// Sets the field at `path` from the text of a path variable or query parameter.
fn set_path(
    message: &mut DynamicMessage,
    path: &[&str],
    text: &str,
    shown: &str,
    repeatable: bool,
) -> Result<(), Invalid> {
    let (name, rest) = path.split_first().expect("a path has a first name");
    let descriptor = message.descriptor();
    let field = descriptor
        .get_field_by_name(name)
        .or_else(|| descriptor.get_field_by_json_name(name))
        .ok_or_else(|| {
            Invalid::new(
                shown,
                format!("is not a field of {}", descriptor.full_name()),
            )
        })?;
    if !rest.is_empty() {
        if field.is_list() || field.is_map() || field.kind().as_message().is_none() {
            return Err(Invalid::new(shown, format!("{name} is not a message")));
        }
        let Value::Message(inner) = message.get_field_mut(&field) else {
            unreachable!("a message field holds a message");
        };
        return set_path(inner, rest, text, shown, repeatable);
    }
    if field.is_map() {
        return Err(Invalid::new(
            shown,
            "is a map; send it in a JSON body instead",
        ));
    }
    let value = scalar(&field, text).map_err(|message| Invalid::new(shown, message))?;
    if field.is_list() {
        if !repeatable {
            return Err(Invalid::new(
                shown,
                "is a list; it cannot be a path segment",
            ));
        }
        let Value::List(list) = message.get_field_mut(&field) else {
            unreachable!("a repeated field holds a list");
        };
        list.push(value);
    } else {
        message.set_field(&field, value);
    }
    Ok(())
}

fn scalar(field: &FieldDescriptor, text: &str) -> Result<Value, String> {
    fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
        text.trim()
            .parse()
            .map_err(|_| format!("{text:?} is not {what}"))
    }
    Ok(match field.kind() {
        Kind::String => Value::String(text.to_owned()),
        Kind::Bool => match text {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => return Err(format!("{text:?} is not true or false")),
        },
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(number(text, "an integer")?),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(number(text, "an integer")?),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(number(text, "a non-negative integer")?),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(number(text, "a non-negative integer")?),
        Kind::Float => Value::F32(number(text, "a number")?),
        Kind::Double => Value::F64(number(text, "a number")?),
        Kind::Enum(descriptor) => {
            // Full names (`LEAD_STATUS_NEW`), or the short form a person types in a query
            // string or a spreadsheet (`new`, `Web form`); never a number, which the document
            // does not offer (and which says nothing to a person reading the request).
            if text.trim().parse::<i64>().is_ok() {
                return Err(enum_names_message(&descriptor));
            }
            let found = descriptor.get_value_by_name(text).or_else(|| {
                let prefix = enum_prefix(&descriptor)?;
                let short = text.trim().to_ascii_uppercase().replace([' ', '-'], "_");
                descriptor.get_value_by_name(&format!("{prefix}{short}"))
            });
            match found {
                Some(value) => Value::EnumNumber(value.number()),
                None => {
                    let names: Vec<String> =
                        descriptor.values().map(|v| v.name().to_owned()).collect();
                    return Err(format!("{text:?} is not one of {}", names.join(", ")));
                }
            }
        }
        Kind::Bytes | Kind::Message(_) => {
            return Err("cannot be given as text; send it in a JSON body instead".to_owned());
        }
    })
}

/// `LEAD_STATUS_` for `LeadStatus`: the prefix its values share, by the proto style guide.
fn enum_prefix(descriptor: &prost_reflect::EnumDescriptor) -> Option<String> {
    let first = descriptor.values().next()?;
    let prefix = first.name().strip_suffix("UNSPECIFIED")?;
    Some(prefix.to_owned())
}

/// Sets the field `name` (a proto or JSON field name) of `message` from text, as a query
/// parameter is: for other text inputs, such as the columns of a CSV upload.
pub(crate) fn set_text_field(
    message: &mut DynamicMessage,
    name: &str,
    text: &str,
) -> Result<(), Invalid> {
    let path: Vec<&str> = name.split('.').collect();
    set_path(message, &path, text, name, true)
}

/// Decodes `application/x-www-form-urlencoded` text: `+` is a space, `%XX` a byte; `None`
/// when the bytes are not UTF-8. As browsers do (WHATWG URL), a `%` not followed by two hex
/// digits stands for itself.
pub(crate) fn form_decode(text: &str) -> Option<String> {
    if text.contains('+') {
        percent_decode(&text.replace('+', " "))
    } else {
        percent_decode(text)
    }
}

/// Decodes a percent-encoded path segment (`+` stays a plus).
pub(crate) fn percent_decode(text: &str) -> Option<String> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(std::borrow::Cow::into_owned)
}

#[cfg(test)]
mod tests {
    use http::Method;
    use prost_reflect::DescriptorPool;

    use super::*;
    use crate::http::routes::{Matched, RouteTable};

    const ID: &str = "0190a5c4-7b1e-7c3d-9f00-1a2b3c4d5e6f";
    const OTHER_ID: &str = "0190a5c4-7b1e-7c3d-9f00-00000000000b";

    fn table() -> RouteTable {
        let pool = DescriptorPool::decode(crm_proto::FILE_DESCRIPTOR_SET).unwrap();
        RouteTable::from_pool(&pool).unwrap()
    }

    fn build(
        method: Method,
        path: &str,
        query: Option<&str>,
        body: &str,
    ) -> Result<serde_json::Value, Invalid> {
        let table = table();
        let Matched::Route(route, bound) = table.find(&method, path) else {
            panic!("{method} {path} did not match");
        };
        // The first refusal: these tests name one broken part each.
        let message =
            request_message(route, &bound, query, body.as_bytes()).map_err(|refused| {
                refused
                    .0
                    .into_iter()
                    .next()
                    .expect("a refusal names a field")
            })?;
        Ok(serde_json::from_slice(&to_json(&message).unwrap()).unwrap())
    }

    #[test]
    fn a_body_and_path_make_the_request_and_the_path_wins() {
        let json = build(
            Method::PATCH,
            &format!("/v1/accounts/{ID}"),
            None,
            &format!(r#"{{"account_id": "{OTHER_ID}", "patch": {{"name": "Contoso"}}, "expectedVersion": "3"}}"#),
        )
        .unwrap();
        assert_eq!(json["account_id"], ID);
        assert_eq!(json["patch"]["name"], "Contoso");
        assert_eq!(json["expected_version"], 3);
    }

    /// The path wins over a body that repeats its field, but what the body says must still
    /// keep the field's rules: `{"lead_id": "g30c…"}` was accepted since the path replaced it.
    #[test]
    fn a_path_field_repeated_in_the_body_keeps_its_rules() {
        let path = format!("/v1/leads/{ID}:release");
        let error = build(
            Method::POST,
            &path,
            None,
            r#"{"lead_id": "g30ceecb-11c0-383a-8698-e4242e46e649"}"#,
        )
        .unwrap_err();
        assert_eq!(error.field, "lead_id");
        let json = build(
            Method::POST,
            &path,
            None,
            &format!(r#"{{"lead_id": "{OTHER_ID}"}}"#),
        )
        .unwrap();
        assert_eq!(json["lead_id"], ID);
    }

    #[test]
    fn query_parameters_fill_nested_repeated_and_enum_fields() {
        let json = build(
            Method::GET,
            "/v1/leads",
            Some("page.page_size=10&status=LEAD_STATUS_NEW&inPool=true&page.page_token=7B7D"),
            "",
        )
        .unwrap();
        assert_eq!(json["page"]["page_size"], 10);
        assert_eq!(json["status"], "LEAD_STATUS_NEW");
        assert_eq!(json["in_pool"], true);
        assert_eq!(json["page"]["page_token"], "7B7D");
        let decoded = build(
            Method::GET,
            "/v1/accounts",
            Some("name_contains=a%2Bb+c"),
            "",
        )
        .unwrap();
        assert_eq!(decoded["name_contains"], "a+b c");
        let short = build(Method::GET, "/v1/leads", Some("status=qualified"), "").unwrap();
        assert_eq!(short["status"], "LEAD_STATUS_QUALIFIED");
    }

    #[test]
    fn bad_input_names_the_field_at_fault() {
        let error = build(Method::GET, "/v1/leads", Some("colour=red"), "").unwrap_err();
        assert_eq!(error.field, "colour");
        let error = build(Method::GET, "/v1/leads", Some("page.page_size=ten"), "").unwrap_err();
        assert_eq!(error.field, "page.page_size");
        assert!(error.message.contains("\"ten\""), "{error:?}");
        let error = build(Method::GET, "/v1/leads", Some("status=HOT"), "").unwrap_err();
        assert!(error.message.contains("LEAD_STATUS_NEW"), "{error:?}");

        let error = build(
            Method::POST,
            "/v1/accounts",
            None,
            r#"{"account": {"name": 5}}"#,
        )
        .unwrap_err();
        assert_eq!(error.field, "body");
        let error = build(Method::POST, "/v1/accounts", None, r#"{"acount": {}}"#).unwrap_err();
        assert!(error.message.contains("acount"), "{error:?}");
        let error = build(Method::POST, "/v1/accounts", None, r#"{"account": "#).unwrap_err();
        assert!(error.message.starts_with("is not valid JSON"), "{error:?}");
        let error = build(Method::POST, "/v1/accounts", None, r#"{} {}"#).unwrap_err();
        assert!(error.message.contains("trailing"), "{error:?}");
        let error = build(Method::POST, "/v1/accounts", Some("x=1"), "{}").unwrap_err();
        assert_eq!(error.field, "x");
        let error = build(Method::GET, "/v1/leads", None, "{}").unwrap_err();
        assert_eq!(error.field, "body");
    }

    #[test]
    fn form_text_and_path_segments_are_percent_decoded() {
        assert_eq!(form_decode("a%2Bb+c").as_deref(), Some("a+b c"));
        assert_eq!(percent_decode("a%2Fb+c").as_deref(), Some("a/b+c"));
        assert_eq!(form_decode("%E5%8D%8E%E4%B8%9C").as_deref(), Some("华东"));
        assert_eq!(
            form_decode("100%").as_deref(),
            Some("100%"),
            "a lone % is itself"
        );
        assert_eq!(form_decode("%FF"), None, "not UTF-8");
    }

    #[test]
    fn an_empty_body_is_an_empty_message() {
        let json = build(Method::POST, &format!("/v1/leads/{ID}:claim"), None, "").unwrap();
        assert_eq!(json["lead_id"], ID);
    }

    #[test]
    fn a_body_of_whitespace_alone_is_not_json() {
        for body in ["\t", " ", "\r\n"] {
            let error =
                build(Method::POST, &format!("/v1/leads/{ID}:claim"), None, body).unwrap_err();
            assert_eq!(error.field, "body", "{body:?}");
        }
    }

    #[test]
    fn an_enum_is_a_name_never_a_number_in_the_query_and_in_the_body() {
        for query in ["sort_direction=0", "sort_direction=2", "status=1"] {
            let path = if query.starts_with("status") {
                "/v1/leads"
            } else {
                "/v1/accounts"
            };
            let error = build(Method::GET, path, Some(query), "").unwrap_err();
            assert_eq!(error.field, query.split('=').next().unwrap(), "{query}");
            assert!(error.message.contains("not a number"), "{error:?}");
        }
        let ok = build(
            Method::GET,
            "/v1/accounts",
            Some("sort_direction=SORT_DIRECTION_DESCENDING"),
            "",
        );
        assert_eq!(ok.unwrap()["sort_direction"], "SORT_DIRECTION_DESCENDING");
        let error = build(
            Method::POST,
            &format!("/v1/leads/{ID}/activities"),
            None,
            r#"{"kind": 1}"#,
        )
        .unwrap_err();
        assert_eq!(error.field, "kind");
        let error = build(
            Method::POST,
            "/v1/accounts",
            None,
            r#"{"account": {"name": "Contoso", "size": 2}}"#,
        )
        .unwrap_err();
        assert_eq!(error.field, "account.size");
        let error = build(
            Method::PUT,
            "/v1/leadPolicies",
            None,
            r#"{"policies": {"duplicate_actions": {"import": 1}}}"#,
        )
        .unwrap_err();
        assert_eq!(error.field, "policies.duplicate_actions.import");
    }

    #[test]
    fn null_is_refused_for_every_field() {
        let error = build(
            Method::POST,
            "/v1/auth:logout",
            None,
            r#"{"refresh_token": null}"#,
        )
        .unwrap_err();
        assert_eq!(error.field, "refresh_token");
        assert!(error.message.contains("null"), "{error:?}");
        let error = build(
            Method::POST,
            "/v1/accounts",
            None,
            r#"{"account": {"name": "Contoso", "industry": null}}"#,
        )
        .unwrap_err();
        assert_eq!(error.field, "account.industry");
        let error = build(
            Method::POST,
            "/v1/accounts",
            None,
            r#"{"account": {"name": "Contoso", "tags": ["a", null]}}"#,
        )
        .unwrap_err();
        assert_eq!(error.field, "account.tags[1]");
    }

    #[test]
    fn the_field_rules_are_enforced_before_the_service_is_called() {
        let error = build(
            Method::POST,
            "/v1/auth:logout",
            None,
            r#"{"refresh_token": ""}"#,
        )
        .unwrap_err();
        assert_eq!(error.field, "refresh_token");
        let error = build(Method::GET, "/v1/accounts/not-an-id", None, "").unwrap_err();
        assert_eq!(error.field, "account_id");
        let error = build(Method::PUT, "/v1/leadReps/42", None, r#"{"rep": {}}"#).unwrap_err();
        assert_eq!(
            error.field, "rep.rep_id",
            "the nested field behind a plain parameter name"
        );
        let error = build(Method::GET, "/v1/accounts", Some("page.page_size=501"), "").unwrap_err();
        assert_eq!(error.field, "page.page_size");
        let long = "x".repeat(201);
        let error = build(
            Method::POST,
            "/v1/accounts",
            None,
            &format!(r#"{{"account": {{"name": "{long}"}}}}"#),
        )
        .unwrap_err();
        assert_eq!(error.field, "account.name");
        let error = build(Method::POST, "/v1/accounts", None, "{}").unwrap_err();
        assert_eq!(error.field, "account");
        let patch = build(
            Method::PATCH,
            &format!("/v1/accounts/{ID}"),
            None,
            r#"{"patch": {}}"#,
        );
        assert!(
            patch.is_ok(),
            "an optional field left out keeps no rule: {patch:?}"
        );
    }
}
