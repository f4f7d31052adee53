//! What a token may do beyond its role: the scopes of API-key tokens, and which gRPC methods
//! need which scope.
//!
//! A user's session token carries no scope and acts with the full rights of the user's role.
//! A token exchanged for an API key carries the key's scopes (the `scope` claim, space-separated
//! as in RFC 8693): `read` allows the methods declared `option idempotency_level =
//! NO_SIDE_EFFECTS;` in their `.proto`, `write` every other method. The two are independent: a
//! `write`-only key (a lead-capture integration) may create but not read. The role's rules
//! (visibility, role-gated actions) apply on top, as for the key's owner.
//!
//! The set of read-only methods is derived once from [`crm_proto::FILE_DESCRIPTOR_SET`], so a
//! method's `.proto` is the only place that says whether it changes anything. The host's
//! [`RpcMethodLayer`] looks up each request's path and leaves an [`RpcMethod`] in the request
//! extensions, where the [`crate::auth::AuthInterceptor`] (which sees no URI) checks it.

use std::{
    collections::HashMap,
    fmt,
    str::FromStr,
    sync::{Arc, OnceLock},
    task::{Context, Poll},
};

use prost::Message;
use prost_types::{FileDescriptorSet, method_options::IdempotencyLevel};
use tonic::Status;

/// One permission an API key can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Methods without side effects (Get*, List*, Find*).
    Read,
    /// Every other method.
    Write,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Scope::Read, Scope::Write];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Scope::Read => 1,
            Scope::Write => 2,
        }
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "read" => Ok(Scope::Read),
            "write" => Ok(Scope::Write),
            other => Err(format!("{other:?} is not one of read, write")),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes; displayed (and carried in tokens) space-separated: `read write`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Scopes(u8);

impl Scopes {
    pub const NONE: Scopes = Scopes(0);
    pub const READ: Scopes = Scopes(1);
    pub const WRITE: Scopes = Scopes(2);
    pub const ALL: Scopes = Scopes(3);

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn with(self, scope: Scope) -> Self {
        Scopes(self.0 | scope.bit())
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL
            .into_iter()
            .filter(move |scope| self.contains(*scope))
    }

    /// The scopes named in a space-separated list (a token's `scope` claim). Names this
    /// version does not know grant nothing.
    pub fn from_claim(claim: &str) -> Self {
        Self::from_names(claim.split_ascii_whitespace())
    }

    /// The known scopes among `names` (unknown names grant nothing).
    pub fn from_names<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        names
            .into_iter()
            .filter_map(|name| name.as_ref().trim().parse::<Scope>().ok())
            .collect()
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<T: IntoIterator<Item = Scope>>(iter: T) -> Self {
        iter.into_iter().fold(Scopes::NONE, Scopes::with)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&names.join(" "))
    }
}

/// A gRPC method of the suite, as the [`RpcMethodLayer`] found it for a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcMethod {
    /// `/crm.accounts.v1.AccountService/GetAccount`
    pub path: Arc<str>,
    /// Declared `option idempotency_level = NO_SIDE_EFFECTS;`.
    pub read_only: bool,
}

impl RpcMethod {
    /// The scope a scoped token needs to call this method.
    pub fn required_scope(&self) -> Scope {
        if self.read_only {
            Scope::Read
        } else {
            Scope::Write
        }
    }

    /// `GetAccount` of `/crm.accounts.v1.AccountService/GetAccount`.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// Every gRPC method of a descriptor set by full path, with whether it is read-only.
#[derive(Clone, Debug, Default)]
pub struct MethodCatalog {
    methods: HashMap<String, RpcMethod>,
}

impl MethodCatalog {
    /// Reads the services of an encoded `FileDescriptorSet`.
    pub fn from_descriptor_set(encoded: &[u8]) -> Result<Self, prost::DecodeError> {
        let set = FileDescriptorSet::decode(encoded)?;
        let mut methods = HashMap::new();
        for file in &set.file {
            let package = file.package();
            for service in &file.service {
                let service_name = if package.is_empty() {
                    service.name().to_owned()
                } else {
                    format!("{package}.{}", service.name())
                };
                for method in &service.method {
                    let path = format!("/{service_name}/{}", method.name());
                    let read_only = method.options.as_ref().is_some_and(|options| {
                        options.idempotency_level() == IdempotencyLevel::NoSideEffects
                    });
                    methods.insert(
                        path.clone(),
                        RpcMethod {
                            path: path.into(),
                            read_only,
                        },
                    );
                }
            }
        }
        Ok(Self { methods })
    }

    /// The suite's methods, from [`crm_proto::FILE_DESCRIPTOR_SET`] (decoded once).
    pub fn crm() -> &'static MethodCatalog {
        static CATALOG: OnceLock<MethodCatalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            MethodCatalog::from_descriptor_set(crm_proto::FILE_DESCRIPTOR_SET)
                .expect("the descriptor set compiled into crm-proto decodes")
        })
    }

    pub fn get(&self, path: &str) -> Option<&RpcMethod> {
        self.methods.get(path)
    }

    /// Full paths of the read-only methods, sorted.
    pub fn read_only_paths(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = self
            .methods
            .values()
            .filter(|method| method.read_only)
            .map(|method| &*method.path)
            .collect();
        paths.sort_unstable();
        paths
    }

    pub fn methods(&self) -> impl Iterator<Item = &RpcMethod> {
        self.methods.values()
    }
}

/// Refuses a scoped token the method it calls unless it holds the scope the method needs.
/// `method` is `None` when the request did not pass the [`RpcMethodLayer`] or called a path
/// outside the suite: a scoped token is then refused (fail closed).
pub fn check_scopes(scopes: Scopes, method: Option<&RpcMethod>) -> Result<(), Status> {
    let Some(method) = method else {
        return Err(Status::permission_denied(format!(
            "this API key's token (scopes: {}) may call only the suite's known methods",
            describe(scopes)
        )));
    };
    let needed = method.required_scope();
    if scopes.contains(needed) {
        return Ok(());
    }
    Err(Status::permission_denied(format!(
        "this API key's token lacks the \"{needed}\" scope, which {} needs (the key has: {}); \
         create a key with the \"{needed}\" scope",
        method.name(),
        describe(scopes)
    )))
}

fn describe(scopes: Scopes) -> String {
    if scopes.is_empty() {
        "none".to_owned()
    } else {
        scopes.to_string()
    }
}

/// A tower layer that leaves the called [`RpcMethod`] in the request's extensions (tonic
/// interceptors see extensions but not the URI). The host puts it in front of every service.
#[derive(Clone, Copy, Debug, Default)]
pub struct RpcMethodLayer;

impl<S> tower::Layer<S> for RpcMethodLayer {
    type Service = RpcMethodService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcMethodService { inner }
    }
}

#[derive(Clone, Debug)]
pub struct RpcMethodService<S> {
    inner: S,
}

impl<S, B> tower::Service<http::Request<B>> for RpcMethodService<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        match MethodCatalog::crm().get(request.uri().path()) {
            Some(method) => {
                request.extensions_mut().insert(method.clone());
            }
            // Nothing set by anyone else may stand in for the lookup.
            None => {
                request.extensions_mut().remove::<RpcMethod>();
            }
        }
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_methods_come_from_the_protos_idempotency_level() {
        let catalog = MethodCatalog::crm();
        let read_only = catalog.read_only_paths();
        for path in [
            "/crm.accounts.v1.AccountService/GetAccount",
            "/crm.accounts.v1.AccountService/ListContacts",
            "/crm.leads.v1.LeadService/ListLeads",
            "/crm.gateway.v1.OrgService/GetUser",
        ] {
            assert!(read_only.contains(&path), "{path} is read-only");
        }
        for path in [
            "/crm.accounts.v1.AccountService/CreateAccount",
            "/crm.accounts.v1.AccountService/UpdateAccount",
            "/crm.leads.v1.LeadService/CreateLead",
            "/crm.leads.v1.LeadService/AssignLead",
            "/crm.gateway.v1.ApiKeyService/CreateApiKey",
        ] {
            let method = catalog.get(path).expect("a method of the suite");
            assert!(!method.read_only, "{path} changes something");
            assert_eq!(method.required_scope(), Scope::Write);
        }
        assert!(
            catalog
                .get("/crm.accounts.v1.AccountService/Nope")
                .is_none()
        );
    }

    #[test]
    fn every_get_list_and_find_method_is_declared_read_only() {
        // A reader that forgot its annotation would be refused to read-only keys.
        let missing: Vec<&str> = MethodCatalog::crm()
            .methods()
            .filter(|method| {
                ["Get", "List", "Find"]
                    .iter()
                    .any(|verb| method.name().starts_with(verb))
                    && !method.read_only
            })
            .map(|method| &*method.path)
            .collect();
        assert!(missing.is_empty(), "not NO_SIDE_EFFECTS: {missing:?}");
    }

    #[test]
    fn scopes_read_and_print_space_separated() {
        assert_eq!(Scopes::from_claim("read write"), Scopes::ALL);
        assert_eq!(Scopes::from_claim(" write  admin "), Scopes::WRITE);
        assert_eq!(Scopes::from_claim(""), Scopes::NONE);
        assert_eq!(Scopes::from_names(["read"]), Scopes::READ);
        assert_eq!(Scopes::ALL.to_string(), "read write");
        assert_eq!(Scopes::READ.to_string(), "read");
    }

    #[test]
    fn a_scoped_token_needs_the_methods_scope() {
        let catalog = MethodCatalog::crm();
        let get = catalog
            .get("/crm.accounts.v1.AccountService/GetAccount")
            .unwrap();
        let create = catalog
            .get("/crm.accounts.v1.AccountService/CreateAccount")
            .unwrap();
        assert!(check_scopes(Scopes::READ, Some(get)).is_ok());
        let refused = check_scopes(Scopes::READ, Some(create)).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::PermissionDenied);
        assert!(
            refused.message().contains("\"write\" scope")
                && refused.message().contains("CreateAccount"),
            "{}",
            refused.message()
        );
        assert!(check_scopes(Scopes::WRITE, Some(create)).is_ok());
        assert!(
            check_scopes(Scopes::WRITE, Some(get)).is_err(),
            "write does not imply read"
        );
        assert!(check_scopes(Scopes::ALL, Some(get)).is_ok());
        assert!(
            check_scopes(Scopes::ALL, None).is_err(),
            "unknown methods fail closed"
        );
    }

    #[tokio::test]
    async fn the_layer_leaves_the_called_method_in_the_extensions() {
        use tower::{Layer, ServiceExt};
        let service =
            RpcMethodLayer.layer(tower::service_fn(|request: http::Request<()>| async move {
                Ok::<_, std::convert::Infallible>(request.extensions().get::<RpcMethod>().cloned())
            }));
        let request = http::Request::builder()
            .uri("http://localhost/crm.leads.v1.LeadService/ListLeads")
            .body(())
            .unwrap();
        let seen = service.clone().oneshot(request).await.unwrap().unwrap();
        assert!(seen.read_only && seen.name() == "ListLeads");

        let mut forged = http::Request::builder()
            .uri("http://localhost/not.a.Service/Method")
            .body(())
            .unwrap();
        forged.extensions_mut().insert(seen);
        assert_eq!(service.oneshot(forged).await.unwrap(), None);
    }
}
