//! Who is calling, and what they may see. Every service verifies the caller's JWT itself (not
//! only the gateway), so an internal team calling a service directly meets the same rules.

use std::{
    collections::HashMap,
    fmt,
    str::FromStr,
    sync::{Arc, OnceLock},
    time::Duration,
};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tonic::{Request, Status};
use uuid::Uuid;

use crate::{
    config::JwtSettings,
    scope::{RpcMethod, check_scopes},
};

pub use crate::scope::{Scope, Scopes};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Manager,
    Rep,
}

impl FromStr for Role {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "admin" => Ok(Role::Admin),
            "manager" => Ok(Role::Manager),
            "rep" => Ok(Role::Rep),
            other => Err(format!("{other:?} is not one of admin, manager, rep")),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Rep => "rep",
        })
    }
}

/// A position in the team tree, `/northwind/east/east-1/`: segments of lower-case letters,
/// digits and dashes, always with a trailing slash so that "is in the subtree of" is a plain
/// prefix test (`/east-1/` is not under `/east/`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TeamPath(String);

impl TeamPath {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim().trim_matches('/');
        if trimmed.is_empty() {
            return Err("team path must have at least one segment, like /company/".to_owned());
        }
        for segment in trimmed.split('/') {
            let valid = !segment.is_empty()
                && segment.len() <= 64
                && segment
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid {
                return Err(format!(
                    "team path segment {segment:?} must be 1-64 lower-case letters, digits or dashes"
                ));
            }
        }
        Ok(Self(format!("/{trimmed}/")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `self` is `ancestor` or lies below it.
    pub fn is_within(&self, ancestor: &TeamPath) -> bool {
        self.0.starts_with(&ancestor.0)
    }

    /// The team above this one (`/n/east/e1/` → `/n/east/`); `None` for a top-level team.
    pub fn parent(&self) -> Option<TeamPath> {
        let inner = self.0.trim_end_matches('/');
        let (parent, _) = inner.rsplit_once('/')?;
        TeamPath::parse(parent).ok()
    }

    /// The team and every team above it, the top-level one first (`/n/east/e1/` → `/n/`,
    /// `/n/east/`, `/n/east/e1/`).
    pub fn ancestors(&self) -> Vec<TeamPath> {
        let mut teams = vec![self.clone()];
        while let Some(parent) = teams.last().and_then(TeamPath::parent) {
            teams.push(parent);
        }
        teams.reverse();
        teams
    }
}

impl TryFrom<String> for TeamPath {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        TeamPath::parse(&value)
    }
}

impl From<TeamPath> for String {
    fn from(value: TeamPath) -> Self {
        value.0
    }
}

impl fmt::Display for TeamPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The verified caller of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user_id: Uuid,
    pub role: Role,
    pub team_path: TeamPath,
    /// `None` for a user's session (the role's full rights); the key's scopes for a token
    /// exchanged for an API key, which limit the methods it may call (see [`crate::scope`]).
    pub scopes: Option<Scopes>,
}

/// Which records a caller may see: the rule every service applies to reads and writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Visibility {
    All,
    /// Records owned by anyone whose team lies in this subtree.
    TeamSubtree(TeamPath),
    /// Only records the caller owns.
    Own(Uuid),
}

impl Caller {
    /// A user acting in their own session: no scope limits.
    pub fn user(user_id: Uuid, role: Role, team_path: TeamPath) -> Self {
        Self {
            user_id,
            role,
            team_path,
            scopes: None,
        }
    }

    /// True for a token exchanged for an API key.
    pub fn is_api_key(&self) -> bool {
        self.scopes.is_some()
    }

    /// May this caller use `scope`? Users' sessions may use every scope.
    pub fn has_scope(&self, scope: Scope) -> bool {
        self.scopes.is_none_or(|scopes| scopes.contains(scope))
    }

    pub fn visibility(&self) -> Visibility {
        match self.role {
            Role::Admin => Visibility::All,
            Role::Manager => Visibility::TeamSubtree(self.team_path.clone()),
            Role::Rep => Visibility::Own(self.user_id),
        }
    }

    /// May the caller see (and so change) a record with this owner?
    pub fn can_access(&self, owner_id: Uuid, owner_team_path: &TeamPath) -> bool {
        match self.visibility() {
            Visibility::All => true,
            Visibility::TeamSubtree(path) => owner_team_path.is_within(&path),
            Visibility::Own(user_id) => owner_id == user_id,
        }
    }

    pub fn is_at_least_manager(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Manager)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    role: Role,
    team: TeamPath,
    /// Only in API-key tokens: the key's scopes, space-separated (RFC 8693).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    /// Only in API-key tokens: the key's id (RFC 9068 `client_id`), so the front door can
    /// apply the key's own rate limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_id: Option<Uuid>,
    iss: String,
    aud: String,
    iat: u64,
    exp: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("missing bearer token in the authorization header")]
    MissingToken,
    #[error("token is expired")]
    Expired,
    #[error("token is signed with an unknown key")]
    UnknownKey,
    #[error("token is invalid")]
    Invalid,
}

impl From<AuthError> for Status {
    fn from(error: AuthError) -> Self {
        Status::unauthenticated(error.to_string())
    }
}

/// Verifies tokens against every configured key, selected by the token's `kid`.
pub struct JwtVerifier {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl JwtVerifier {
    pub fn new(settings: &JwtSettings) -> Self {
        let keys = settings
            .verification_keys
            .iter()
            .map(|(kid, secret)| {
                (
                    kid.clone(),
                    DecodingKey::from_secret(secret.expose().as_bytes()),
                )
            })
            .collect();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.leeway = settings.leeway.as_secs();
        Self { keys, validation }
    }

    pub fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        self.verify_with_client(token).map(|(caller, _)| caller)
    }

    /// [`JwtVerifier::verify`], and the API key the token was exchanged for, if it was (see
    /// [`JwtSigner::sign_for_client`]).
    pub fn verify_with_client(&self, token: &str) -> Result<(Caller, Option<Uuid>), AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid)?;
        let kid = header.kid.ok_or(AuthError::UnknownKey)?;
        let key = self.keys.get(&kid).ok_or(AuthError::UnknownKey)?;
        let data =
            jsonwebtoken::decode::<Claims>(token, key, &self.validation).map_err(|error| {
                match error.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                    _ => AuthError::Invalid,
                }
            })?;
        let caller = Caller {
            user_id: data.claims.sub,
            role: data.claims.role,
            team_path: data.claims.team,
            scopes: data.claims.scope.as_deref().map(Scopes::from_claim),
        };
        Ok((caller, data.claims.client_id))
    }

    /// Reads and verifies `authorization: Bearer <token>`.
    pub fn verify_metadata(
        &self,
        metadata: &tonic::metadata::MetadataMap,
    ) -> Result<Caller, AuthError> {
        let header = metadata
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .ok_or(AuthError::MissingToken)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or(AuthError::MissingToken)?;
        self.verify(token.trim())
    }
}

/// Signs tokens. The gateway signs at login; `crm dev-token` and tests sign directly.
pub struct JwtSigner {
    key_id: String,
    key: EncodingKey,
    issuer: String,
    audience: String,
}

impl JwtSigner {
    /// `None` when no signing key id is configured.
    pub fn new(settings: &JwtSettings) -> Option<Self> {
        let key_id = settings.signing_key_id.clone()?;
        let (_, secret) = settings
            .verification_keys
            .iter()
            .find(|(kid, _)| *kid == key_id)?;
        Some(Self {
            key: EncodingKey::from_secret(secret.expose().as_bytes()),
            key_id,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
        })
    }

    pub fn sign(&self, caller: &Caller, ttl: Duration) -> String {
        let now = chrono::Utc::now().timestamp().max(0) as u64;
        self.sign_issued_at(caller, now, ttl)
    }

    /// A token for the API key `client_id`, acting as `caller` (the key's owner with its
    /// scopes).
    pub fn sign_for_client(&self, caller: &Caller, client_id: Uuid, ttl: Duration) -> String {
        let now = chrono::Utc::now().timestamp().max(0) as u64;
        self.encode(caller, Some(client_id), now, ttl)
    }

    /// A token issued at `now` (Unix seconds): tests use it for tokens that have expired.
    pub fn sign_issued_at(&self, caller: &Caller, now: u64, ttl: Duration) -> String {
        self.encode(caller, None, now, ttl)
    }

    fn encode(&self, caller: &Caller, client_id: Option<Uuid>, now: u64, ttl: Duration) -> String {
        let claims = Claims {
            sub: caller.user_id,
            role: caller.role,
            team: caller.team_path.clone(),
            scope: caller.scopes.map(|scopes| scopes.to_string()),
            client_id,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now + ttl.as_secs(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.key_id.clone());
        jsonwebtoken::encode(&header, &claims, &self.key)
            .expect("HS256 signing of serialisable claims cannot fail")
    }
}

/// A tonic interceptor that rejects unauthenticated calls, refuses an API key's token a method
/// its scopes do not cover (by the [`RpcMethod`] the host's layer found), and leaves the
/// [`Caller`] in the request extensions for the handler.
#[derive(Clone, Debug)]
pub struct AuthInterceptor {
    verifier: Arc<JwtVerifier>,
}

impl AuthInterceptor {
    pub fn new(verifier: Arc<JwtVerifier>) -> Self {
        Self { verifier }
    }
}

impl tonic::service::Interceptor for AuthInterceptor {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let caller = self.verifier.verify_metadata(request.metadata())?;
        if let Some(scopes) = caller.scopes {
            check_scopes(scopes, request.extensions().get::<RpcMethod>())?;
        }
        request.extensions_mut().insert(caller);
        Ok(request)
    }
}

/// The caller the interceptor verified.
pub fn caller<T>(request: &Request<T>) -> Result<Caller, Status> {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("request was not authenticated"))
}

/// The service option that declares a gRPC service public (token-free), in `crm.common.v1`.
const PUBLIC_SERVICE_OPTION: &str = "crm.common.v1.public_service";

/// The gRPC services callable without a bearer token, by full name (`crm.gateway.v1.AuthService`),
/// sorted: those whose `.proto` says `option (crm.common.v1.public_service) = true;`, read once
/// from [`crm_proto::FILE_DESCRIPTOR_SET`]. That option is the one list: the host mounts only
/// these without the token check ([`crate::host::ServiceMount::add_public_grpc`]) and the
/// gateway's OpenAPI document marks only these as needing no token.
pub fn public_services() -> &'static [String] {
    static PUBLIC: OnceLock<Vec<String>> = OnceLock::new();
    PUBLIC.get_or_init(|| {
        declared_public_services(crm_proto::FILE_DESCRIPTOR_SET)
            .expect("the compiled descriptor set declares crm.common.v1.public_service")
    })
}

/// Is the gRPC service `full_name` (`crm.leads.v1.WebFormService`) declared public?
pub fn is_public_service(full_name: &str) -> bool {
    public_services()
        .binary_search_by(|public| public.as_str().cmp(full_name))
        .is_ok()
}

fn declared_public_services(descriptor_set: &[u8]) -> Result<Vec<String>, String> {
    let pool = prost_reflect::DescriptorPool::decode(descriptor_set)
        .map_err(|error| format!("the descriptor set does not decode: {error}"))?;
    let marker = pool
        .get_extension_by_name(PUBLIC_SERVICE_OPTION)
        .ok_or_else(|| format!("the descriptor set has no {PUBLIC_SERVICE_OPTION}"))?;
    let mut public: Vec<String> = pool
        .services()
        .filter(|service| service.options().get_extension(&marker).as_bool() == Some(true))
        .map(|service| service.full_name().to_owned())
        .collect();
    public.sort();
    Ok(public)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn settings(keys: &[(&str, &str)], signing: &str) -> JwtSettings {
        JwtSettings {
            verification_keys: keys
                .iter()
                .map(|(k, s)| (k.to_string(), Secret::new(*s)))
                .collect(),
            signing_key_id: Some(signing.to_owned()),
            issuer: "crm-gateway".into(),
            audience: "crm".into(),
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(86_400),
            leeway: Duration::from_secs(30),
        }
    }

    const OLD: &str = "old-secret-0123456789abcdef0123456789";
    const NEW: &str = "new-secret-0123456789abcdef0123456789";

    fn rep() -> Caller {
        Caller::user(
            Uuid::now_v7(),
            Role::Rep,
            TeamPath::parse("/northwind/east/east-1").unwrap(),
        )
    }

    #[test]
    fn a_signed_token_verifies_to_the_same_caller() {
        let settings = settings(&[("k1", OLD)], "k1");
        let token = JwtSigner::new(&settings)
            .unwrap()
            .sign(&rep(), Duration::from_secs(60));
        let caller = JwtVerifier::new(&settings).verify(&token).unwrap();
        assert_eq!(caller.role, Role::Rep);
        assert_eq!(caller.team_path.as_str(), "/northwind/east/east-1/");
    }

    #[test]
    fn an_api_key_token_carries_its_scopes_and_a_session_none() {
        let settings = settings(&[("k1", OLD)], "k1");
        let signer = JwtSigner::new(&settings).unwrap();
        let verifier = JwtVerifier::new(&settings);
        let session = signer.sign(&rep(), Duration::from_secs(60));
        assert_eq!(verifier.verify(&session).unwrap().scopes, None);
        assert!(!claims_of(&session).contains_key("scope"));

        let key = Caller {
            scopes: Some(Scopes::ALL),
            ..rep()
        };
        let token = signer.sign(&key, Duration::from_secs(60));
        assert_eq!(claims_of(&token)["scope"], "read write");
        let verified = verifier.verify(&token).unwrap();
        assert_eq!(verified.scopes, Some(Scopes::ALL));
        assert!(verified.is_api_key() && verified.has_scope(Scope::Write));
        let read_only = Caller {
            scopes: Some(Scopes::READ),
            ..rep()
        };
        assert!(!read_only.has_scope(Scope::Write) && rep().has_scope(Scope::Write));
    }

    #[test]
    fn an_api_key_token_names_its_key_and_a_session_none() {
        let settings = settings(&[("k1", OLD)], "k1");
        let signer = JwtSigner::new(&settings).unwrap();
        let verifier = JwtVerifier::new(&settings);
        let key_id = Uuid::now_v7();
        let integration = Caller {
            scopes: Some(Scopes::READ),
            ..rep()
        };
        let token = signer.sign_for_client(&integration, key_id, Duration::from_secs(60));
        assert_eq!(claims_of(&token)["client_id"], key_id.to_string());
        let (caller, client_id) = verifier.verify_with_client(&token).unwrap();
        assert_eq!((caller, client_id), (integration, Some(key_id)));
        let session = signer.sign(&rep(), Duration::from_secs(60));
        assert_eq!(verifier.verify_with_client(&session).unwrap().1, None);
        assert!(!claims_of(&session).contains_key("client_id"));
    }

    /// The raw claims of a token signed with `OLD`.
    fn claims_of(token: &str) -> serde_json::Map<String, serde_json::Value> {
        let verifier = JwtVerifier::new(&settings(&[("k1", OLD)], "k1"));
        jsonwebtoken::decode(
            token,
            &DecodingKey::from_secret(OLD.as_bytes()),
            &verifier.validation,
        )
        .unwrap()
        .claims
    }

    #[test]
    fn the_interceptor_refuses_a_scoped_token_a_method_outside_its_scopes() {
        use tonic::service::Interceptor;
        let settings = settings(&[("k1", OLD)], "k1");
        let signer = JwtSigner::new(&settings).unwrap();
        let mut interceptor = AuthInterceptor::new(Arc::new(JwtVerifier::new(&settings)));
        let catalog = crate::scope::MethodCatalog::crm();
        let call = |interceptor: &mut AuthInterceptor, caller: &Caller, path: &str| {
            let mut request = Request::new(());
            let token = signer.sign(caller, Duration::from_secs(60));
            request
                .metadata_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
            if let Some(method) = catalog.get(path) {
                request.extensions_mut().insert(method.clone());
            }
            interceptor.call(request).map(|request| {
                request
                    .extensions()
                    .get::<Caller>()
                    .cloned()
                    .expect("caller left for the handler")
            })
        };
        let reader = Caller {
            scopes: Some(Scopes::READ),
            ..rep()
        };
        let get = "/crm.accounts.v1.AccountService/GetAccount";
        let create = "/crm.accounts.v1.AccountService/CreateAccount";
        assert_eq!(
            call(&mut interceptor, &reader, get).unwrap().scopes,
            Some(Scopes::READ)
        );
        let refused = call(&mut interceptor, &reader, create).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::PermissionDenied);
        assert!(
            refused.message().contains("\"write\" scope"),
            "{}",
            refused.message()
        );
        assert!(
            call(&mut interceptor, &rep(), create).is_ok(),
            "sessions are not scoped"
        );
        assert!(
            call(&mut interceptor, &rep(), "/unknown/Path").is_ok(),
            "sessions need no method lookup"
        );
        assert!(call(&mut interceptor, &reader, "/unknown/Path").is_err());
    }

    #[test]
    fn rotation_accepts_tokens_of_every_configured_key() {
        let old_token = JwtSigner::new(&settings(&[("k1", OLD)], "k1"))
            .unwrap()
            .sign(&rep(), Duration::from_secs(60));
        let rotated = settings(&[("k1", OLD), ("k2", NEW)], "k2");
        let verifier = JwtVerifier::new(&rotated);
        assert!(verifier.verify(&old_token).is_ok());
        let new_token = JwtSigner::new(&rotated)
            .unwrap()
            .sign(&rep(), Duration::from_secs(60));
        assert!(verifier.verify(&new_token).is_ok());
        let retired = JwtVerifier::new(&settings(&[("k2", NEW)], "k2"));
        assert_eq!(retired.verify(&old_token), Err(AuthError::UnknownKey));
    }

    #[test]
    fn forged_and_expired_tokens_are_refused() {
        let settings = settings(&[("k1", OLD)], "k1");
        let forger = JwtSigner::new(&settings_with_same_kid_other_secret()).unwrap();
        let forged = forger.sign(&rep(), Duration::from_secs(60));
        assert_eq!(
            JwtVerifier::new(&settings).verify(&forged),
            Err(AuthError::Invalid)
        );

        let expired = JwtSigner::new(&settings)
            .unwrap()
            .sign(&rep(), Duration::ZERO);
        // Zero ttl is inside the 30 s leeway; build one well in the past instead.
        let _ = expired;
        let token = token_issued_and_expired_ago(3600, 600);
        assert_eq!(
            JwtVerifier::new(&settings).verify(&token),
            Err(AuthError::Expired)
        );
        assert_eq!(
            JwtVerifier::new(&settings).verify("garbage"),
            Err(AuthError::Invalid)
        );
    }

    /// A rep's token signed with key `k1` (`OLD`), issued and expired the given seconds ago.
    fn token_issued_and_expired_ago(issued: u64, expired: u64) -> String {
        let now = chrono::Utc::now().timestamp() as u64;
        let claims = Claims {
            sub: Uuid::now_v7(),
            role: Role::Rep,
            team: TeamPath::parse("/a").unwrap(),
            scope: None,
            client_id: None,
            iss: "crm-gateway".into(),
            aud: "crm".into(),
            iat: now - issued,
            exp: now - expired,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(OLD.as_bytes())).unwrap()
    }

    #[test]
    fn a_token_just_past_its_expiry_is_accepted_within_the_configured_leeway() {
        let token = token_issued_and_expired_ago(900, 10);
        let lenient = settings(&[("k1", OLD)], "k1");
        assert!(JwtVerifier::new(&lenient).verify(&token).is_ok());
        let strict = JwtSettings {
            leeway: Duration::from_secs(2),
            ..lenient
        };
        assert_eq!(
            JwtVerifier::new(&strict).verify(&token),
            Err(AuthError::Expired)
        );
    }

    fn settings_with_same_kid_other_secret() -> JwtSettings {
        settings(&[("k1", NEW)], "k1")
    }

    #[test]
    fn visibility_follows_role_and_team_tree() {
        let east = TeamPath::parse("/northwind/east").unwrap();
        let east_1 = TeamPath::parse("/northwind/east/east-1").unwrap();
        let west = TeamPath::parse("/northwind/west").unwrap();
        let ravi = Uuid::now_v7();
        let manager = Caller::user(Uuid::now_v7(), Role::Manager, east.clone());
        assert!(manager.can_access(ravi, &east_1));
        assert!(!manager.can_access(ravi, &west));
        let rep = Caller::user(ravi, Role::Rep, east_1.clone());
        assert!(rep.can_access(ravi, &east_1));
        assert!(!rep.can_access(Uuid::now_v7(), &east_1));
        let admin = Caller::user(
            Uuid::now_v7(),
            Role::Admin,
            TeamPath::parse("/northwind").unwrap(),
        );
        assert!(admin.can_access(ravi, &west));
    }

    #[test]
    fn team_paths_compare_by_whole_segments() {
        let east = TeamPath::parse("/east").unwrap();
        let eastern = TeamPath::parse("/eastern").unwrap();
        assert!(!eastern.is_within(&east));
        assert!(TeamPath::parse("/East").is_err());
        assert!(TeamPath::parse("//").is_err());
    }

    /// Adding a token-free service is a security decision: this list changes with it, in review.
    #[test]
    fn the_public_services_are_the_ones_the_protos_declare() {
        assert_eq!(
            public_services(),
            [
                "crm.gateway.v1.AuthService",
                "crm.leads.v1.WebFormService",
                "crm.opportunities.v1.CalendarFeedService"
            ]
        );
        assert!(is_public_service("crm.leads.v1.WebFormService"));
        assert!(!is_public_service("crm.leads.v1.LeadService"));
        assert!(!is_public_service("crm.gateway.v1"));
    }

    #[test]
    fn a_team_knows_its_parent_and_ancestors() {
        let team = TeamPath::parse("/n/east/e1/").unwrap();
        assert_eq!(team.parent(), Some(TeamPath::parse("/n/east/").unwrap()));
        assert_eq!(TeamPath::parse("/n/").unwrap().parent(), None);
        let ancestors: Vec<String> = team
            .ancestors()
            .iter()
            .map(|team| team.as_str().to_owned())
            .collect();
        assert_eq!(ancestors, ["/n/", "/n/east/", "/n/east/e1/"]);
    }
}
