//! The REST routes of the HTTP/JSON front door, read from the `google.api.http` annotations of
//! the services' protos: the protos are the one definition of both APIs, and a new service's
//! REST resources appear when its methods are annotated.

use std::collections::HashMap;

use http::Method;
use prost_reflect::{DescriptorPool, DynamicMessage, MethodDescriptor, Value};

use super::transcode::percent_decode;

/// One REST route: an HTTP method and path template bound to a unary RPC.
#[derive(Clone, Debug)]
pub struct Route {
    pub method: Method,
    pub template: PathTemplate,
    pub body: BodyMapping,
    pub rpc: MethodDescriptor,
    /// `/crm.accounts.v1.AccountService/GetAccount`: the gRPC path the route calls.
    pub grpc_path: String,
    /// `accounts`: the service that owns the RPC (from its package `crm.<service>.v1`).
    pub service: String,
}

/// Where the request message comes from, besides the path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyMapping {
    /// No body: every field not bound by the path is a query parameter.
    None,
    /// `body: "*"`: the JSON body is the request message.
    Whole,
    /// `body: "field"`: the JSON body is that field; the rest are query parameters.
    Field(String),
}

/// A path template such as `/v1/accounts/{account_id}:archive`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathTemplate {
    pub segments: Vec<Segment>,
    /// The custom verb after the last segment (`archive`), if any.
    pub verb: Option<String>,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    /// A field path (`rep.user_id`) bound to one path segment.
    Variable(Vec<String>),
}

impl PathTemplate {
    /// Parses a template; only the forms the suite uses: literals and `{field.path}`
    /// variables, each one segment, and an optional `:verb`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let rest = text
            .strip_prefix('/')
            .ok_or_else(|| format!("{text:?} does not start with /"))?;
        let (path, verb) = split_verb(rest);
        let segments = path
            .split('/')
            .map(|segment| {
                if let Some(inner) = segment.strip_prefix('{') {
                    let field = inner
                        .strip_suffix('}')
                        .ok_or_else(|| format!("{text:?}: unclosed variable {segment:?}"))?;
                    if field.contains('=') || field.is_empty() {
                        return Err(format!("{text:?}: unsupported variable {segment:?}"));
                    }
                    Ok(Segment::Variable(
                        field.split('.').map(str::to_owned).collect(),
                    ))
                } else if segment.is_empty() || segment.contains(['{', '}', '*']) {
                    Err(format!("{text:?}: unsupported segment {segment:?}"))
                } else {
                    Ok(Segment::Literal(segment.to_owned()))
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            segments,
            verb: verb.map(str::to_owned),
            text: text.to_owned(),
        })
    }

    /// The variables bound by `path` (percent-decoded), or `None` when it does not match.
    pub fn matches(&self, path: &str) -> Option<Vec<(&[String], String)>> {
        let (path, verb) = split_verb(path.strip_prefix('/')?);
        if verb != self.verb.as_deref() {
            return None;
        }
        let mut parts = path.split('/');
        let mut bound = Vec::new();
        for segment in &self.segments {
            let part = parts.next()?;
            match segment {
                Segment::Literal(literal) if literal == part => {}
                Segment::Literal(_) => return None,
                Segment::Variable(field) => {
                    if part.is_empty() {
                        return None;
                    }
                    bound.push((field.as_slice(), percent_decode(part)?));
                }
            }
        }
        parts.next().is_none().then_some(bound)
    }

    /// The field paths the template binds.
    pub fn variables(&self) -> impl Iterator<Item = &[String]> {
        self.segments.iter().filter_map(|segment| match segment {
            Segment::Variable(field) => Some(field.as_slice()),
            Segment::Literal(_) => None,
        })
    }

    /// The name of each variable as a parameter, in order: the field's own name (`rep_id` for
    /// `{rep.rep_id}`), or its whole path joined with `_` should two variables share a last
    /// name. Never a dot, which OpenAPI tools read as an operator.
    pub fn parameter_names(&self) -> Vec<String> {
        let variables: Vec<&[String]> = self.variables().collect();
        variables
            .iter()
            .map(|path| {
                let last = path.last().map(String::as_str).unwrap_or_default();
                let shared = variables
                    .iter()
                    .filter(|other| other.last().map(String::as_str) == Some(last))
                    .count()
                    > 1;
                if shared {
                    path.join("_")
                } else {
                    last.to_owned()
                }
            })
            .collect()
    }

    /// Literal segments count for more than variables, so `/v1/leads/history` would win over
    /// `/v1/leads/{lead_id}`.
    fn specificity(&self) -> usize {
        self.segments
            .iter()
            .filter(|segment| matches!(segment, Segment::Literal(_)))
            .count()
    }
}

/// Splits `accounts/{id}:archive` into the path and the verb: a `:` in the last segment, outside
/// a variable.
fn split_verb(path: &str) -> (&str, Option<&str>) {
    let last = path.rfind('/').map_or(0, |slash| slash + 1);
    match path[last..].rfind(':') {
        Some(colon) if !path[last + colon..].contains('}') => {
            (&path[..last + colon], Some(&path[last + colon + 1..]))
        }
        _ => (path, None),
    }
}

/// Every annotated unary RPC of the pool, most specific templates first.
#[derive(Clone, Debug)]
pub struct RouteTable {
    routes: Vec<Route>,
    /// Indexes into `routes` by HTTP method.
    by_method: HashMap<Method, Vec<usize>>,
}

/// What a request path matched.
pub enum Matched<'a> {
    Route(&'a Route, Vec<(&'a [String], String)>),
    /// The path exists, with other methods.
    WrongMethod(Vec<Method>),
    NotFound,
}

impl RouteTable {
    /// Reads the `google.api.http` rule of every method in the `crm.*` packages. Streaming
    /// methods cannot be transcoded and are skipped (CSV import has its own endpoint).
    pub fn from_pool(pool: &DescriptorPool) -> Result<Self, String> {
        let extension = pool
            .get_extension_by_name("google.api.http")
            .ok_or("the descriptor set lacks google.api.http")?;
        let mut routes = Vec::new();
        for service in pool.services() {
            let Some(owner) = owning_service(service.package_name()) else {
                continue;
            };
            for rpc in service.methods() {
                let options = rpc.options();
                if !options.has_extension(&extension) {
                    continue;
                }
                if rpc.is_client_streaming() || rpc.is_server_streaming() {
                    continue;
                }
                let value = options.get_extension(&extension);
                let Value::Message(rule) = value.as_ref() else {
                    continue;
                };
                let (method, template, body) =
                    parse_rule(rule).map_err(|error| format!("{}: {error}", rpc.full_name()))?;
                for field in template.variables() {
                    check_field_path(&rpc, field)?;
                }
                if let BodyMapping::Field(name) = &body {
                    check_field_path(&rpc, std::slice::from_ref(name))?;
                }
                routes.push(Route {
                    method,
                    template,
                    body,
                    grpc_path: format!("/{}/{}", service.full_name(), rpc.name()),
                    service: owner.to_owned(),
                    rpc,
                });
            }
        }
        routes.sort_by(|a, b| {
            b.template
                .specificity()
                .cmp(&a.template.specificity())
                .then_with(|| a.template.text.cmp(&b.template.text))
        });
        let mut by_method: HashMap<Method, Vec<usize>> = HashMap::new();
        for (index, route) in routes.iter().enumerate() {
            by_method
                .entry(route.method.clone())
                .or_default()
                .push(index);
        }
        Ok(Self { routes, by_method })
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    pub fn find(&self, method: &Method, path: &str) -> Matched<'_> {
        if let Some(indexes) = self.by_method.get(method) {
            for &index in indexes {
                let route = &self.routes[index];
                if let Some(bound) = route.template.matches(path) {
                    return Matched::Route(route, bound);
                }
            }
        }
        let mut allowed: Vec<Method> = self
            .routes
            .iter()
            .filter(|route| route.template.matches(path).is_some())
            .map(|route| route.method.clone())
            .collect();
        allowed.dedup();
        if allowed.is_empty() {
            Matched::NotFound
        } else {
            Matched::WrongMethod(allowed)
        }
    }
}

/// `crm.accounts.v1` → `accounts`.
pub fn owning_service(package: &str) -> Option<&str> {
    let rest = package.strip_prefix("crm.")?;
    let (service, version) = rest.split_once('.')?;
    (version.starts_with('v') && service != "common").then_some(service)
}

fn parse_rule(rule: &DynamicMessage) -> Result<(Method, PathTemplate, BodyMapping), String> {
    let text = |name: &str| match rule.get_field_by_name(name).as_deref() {
        Some(Value::String(text)) if !text.is_empty() => Some(text.clone()),
        _ => None,
    };
    let (method, path) = [
        ("get", Method::GET),
        ("put", Method::PUT),
        ("post", Method::POST),
        ("delete", Method::DELETE),
        ("patch", Method::PATCH),
    ]
    .into_iter()
    .find_map(|(name, method)| Some((method, text(name)?)))
    .ok_or("the http rule has no get, put, post, delete or patch pattern")?;
    let body = match text("body").as_deref() {
        None => BodyMapping::None,
        Some("*") => BodyMapping::Whole,
        Some(field) => BodyMapping::Field(field.to_owned()),
    };
    Ok((method, PathTemplate::parse(&path)?, body))
}

fn check_field_path(rpc: &MethodDescriptor, path: &[String]) -> Result<(), String> {
    let mut message = rpc.input();
    for (index, name) in path.iter().enumerate() {
        let field = message.get_field_by_name(name).ok_or_else(|| {
            format!(
                "{}: {} has no field {name:?}",
                rpc.full_name(),
                message.full_name()
            )
        })?;
        if index + 1 < path.len() {
            message = field
                .kind()
                .as_message()
                .cloned()
                .ok_or_else(|| format!("{}: {name:?} is not a message", rpc.full_name()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_bind_variables_and_verbs() {
        let template = PathTemplate::parse("/v1/accounts/{account_id}:archive").unwrap();
        assert_eq!(template.verb.as_deref(), Some("archive"));
        let bound = template.matches("/v1/accounts/a%2Fb:archive").unwrap();
        assert_eq!(
            bound,
            vec![(&["account_id".to_owned()][..], "a/b".to_owned())]
        );
        assert!(
            template.matches("/v1/accounts/abc").is_none(),
            "verb missing"
        );
        assert!(template.matches("/v1/accounts/abc:merge").is_none());
        assert!(
            template.matches("/v1/accounts/:archive").is_none(),
            "empty id"
        );
        assert!(template.matches("/v1/accounts/a/b:archive").is_none());

        let collection = PathTemplate::parse("/v1/accounts:findDuplicates").unwrap();
        assert!(
            collection
                .matches("/v1/accounts:findDuplicates")
                .unwrap()
                .is_empty()
        );
        assert!(collection.matches("/v1/accounts").is_none());

        let nested = PathTemplate::parse("/v1/leadReps/{rep.rep_id}").unwrap();
        let bound = nested.matches("/v1/leadReps/42").unwrap();
        assert_eq!(bound[0].0, ["rep".to_owned(), "rep_id".to_owned()]);
        assert_eq!(nested.parameter_names(), ["rep_id"]);
        let shared = PathTemplate::parse("/v1/{a.id}/{b.id}/{c}").unwrap();
        assert_eq!(shared.parameter_names(), ["a_id", "b_id", "c"]);
        assert!(PathTemplate::parse("v1/x").is_err());
        assert!(PathTemplate::parse("/v1/{x=**}").is_err());
        assert!(PathTemplate::parse("/v1//x").is_err());
    }

    #[test]
    fn every_annotated_rpc_of_the_suite_has_a_route() {
        let pool = DescriptorPool::decode(crm_proto::FILE_DESCRIPTOR_SET).unwrap();
        let table = RouteTable::from_pool(&pool).unwrap();
        let get = |path: &str| match table.find(&Method::GET, path) {
            Matched::Route(route, bound) => (route.grpc_path.clone(), bound.len()),
            _ => panic!("GET {path} did not match"),
        };
        assert_eq!(
            get("/v1/accounts/0193"),
            ("/crm.accounts.v1.AccountService/GetAccount".to_owned(), 1)
        );
        assert_eq!(
            get("/v1/accounts:findDuplicates").0,
            "/crm.accounts.v1.AccountService/FindDuplicateAccounts"
        );
        assert_eq!(get("/v1/me").0, "/crm.gateway.v1.OrgService/GetMe");
        match table.find(&Method::DELETE, "/v1/accounts/0193") {
            Matched::WrongMethod(allowed) => {
                assert!(allowed.contains(&Method::GET) && allowed.contains(&Method::PATCH))
            }
            _ => panic!("DELETE should be a wrong method"),
        }
        assert!(matches!(
            table.find(&Method::GET, "/v1/nothing"),
            Matched::NotFound
        ));
        // Every unary RPC of every CRM service is reachable over HTTP.
        for service in pool.services() {
            if owning_service(service.package_name()).is_none() {
                continue;
            }
            for rpc in service.methods() {
                if rpc.is_client_streaming() || rpc.is_server_streaming() {
                    continue;
                }
                assert!(
                    table
                        .routes()
                        .iter()
                        .any(|route| route.rpc.full_name() == rpc.full_name()),
                    "{} has no google.api.http rule",
                    rpc.full_name()
                );
            }
        }
    }
}
