//! The leads use cases. Each is one transaction: check access, apply the domain rules, write
//! the lead, its history and its event (outbox) together.

pub(crate) mod admin;
pub mod capture;
pub mod import;
pub(crate) mod lifecycle;
mod merge;
mod pool;
mod recycling;
mod web_forms;

use std::collections::BTreeMap;

use crm_platform::{
    auth::{Caller, Role, TeamPath},
    error::{CommonError, check_version},
    events::DomainEvent,
    org::OrgDirectory,
    outbox::Outbox,
    paging::{Listing, Page},
};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

pub(crate) use capture::{CaptureOutcome, ImportSummary};
pub(crate) use web_forms::WebFormLimiter;

use crate::{
    domain::{
        dedupe::{self, DuplicatePolicy},
        fairness::FairnessPolicy,
        lead::Lead,
        recycling::RecyclingPolicy,
        scoring::ScoringModel,
    },
    error::LeadsError,
    store,
};

pub(crate) type Result<T> = std::result::Result<T, LeadsError>;

/// The sales-operations policies, stored as one JSON document.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policies {
    pub fairness: FairnessPolicy,
    pub recycling: RecyclingPolicy,
    pub scoring: ScoringModel,
    /// By source channel name; channels not named flag duplicates.
    pub duplicate_actions: BTreeMap<String, DuplicatePolicy>,
}

impl Policies {
    /// Each setting's own rules first (invalid input), then the rules between them — two ramp
    /// steps for one day, a recycling warning not before its deadline — which no schema of
    /// one field can state: FAILED_PRECONDITION ([`INCONSISTENT_FIELDS`]).
    pub fn validate(&self) -> std::result::Result<(), crm_platform::error::CommonError> {
        use crm_platform::error::CommonError;
        let mut each_alone = self.clone();
        each_alone
            .fairness
            .new_rep_weight_ramp
            .dedup_by_key(|step| step.0);
        each_alone.recycling.warn_days_before = 0;
        each_alone
            .check()
            .map_err(|violation| CommonError::Invalid(vec![violation]))?;
        self.check().map_err(|violation| CommonError::Unusable {
            reason: INCONSISTENT_FIELDS,
            violations: vec![violation],
        })
    }

    fn check(&self) -> std::result::Result<(), crm_platform::error::FieldViolation> {
        use crm_platform::error::FieldViolation;
        self.fairness
            .validate()
            .map_err(|e| FieldViolation::new("policies.fairness", e))?;
        self.recycling
            .validate()
            .map_err(|e| FieldViolation::new("policies.recycling", e))?;
        self.scoring
            .validate()
            .map_err(|e| FieldViolation::new("policies.scoring_model_json", e))?;
        Ok(())
    }

    pub fn duplicate_policy(&self, channel: &str) -> DuplicatePolicy {
        dedupe::policy_for_channel(&self.duplicate_actions, channel)
    }
}

/// Settings that are each valid but contradict each other (FAILED_PRECONDITION). `field`.
pub const INCONSISTENT_FIELDS: &str = crm_platform::error::reasons::INCONSISTENT_FIELDS;

/// The leads service's use cases over its database and outbox.
#[derive(Clone)]
pub(crate) struct Leads {
    pool: PgPool,
    outbox: Outbox,
    web_forms: WebFormLimiter,
    /// Which team a user's new and claimed leads are filed under.
    directory: OrgDirectory,
}

impl Leads {
    pub fn new(pool: PgPool, outbox: Outbox) -> Self {
        Self {
            pool,
            outbox,
            web_forms: WebFormLimiter::default(),
            directory: OrgDirectory::default(),
        }
    }

    /// The organisation's default calling code (the gateway's setting, as the org directory
    /// last heard it): what national phone numbers in a capture, a form or an import are read
    /// with. Read per request, so a change applies from the next one.
    /// A validation of phone numbers with the organisation's default calling code, read only
    /// when a national number needs it ([`OrgDirectory::validate_with_calling_code`]).
    pub async fn validate_with_calling_code<T>(
        &self,
        validate: impl Fn(
            Option<&str>,
        ) -> std::result::Result<T, Vec<crm_platform::error::FieldViolation>>,
    ) -> Result<std::result::Result<T, Vec<crm_platform::error::FieldViolation>>> {
        Ok(OrgDirectory::validate_with_calling_code(&self.pool, validate).await?)
    }

    pub async fn default_calling_code(&self) -> Result<Option<String>> {
        Ok(OrgDirectory::settings(&self.pool)
            .await?
            .default_calling_code)
    }

    pub async fn policies(&self) -> Result<Policies> {
        let mut connection = self.pool.acquire().await?;
        load_policies(&mut connection).await
    }

    /// A lead the caller may see.
    pub async fn get_lead(&self, caller: &Caller, id: Uuid) -> Result<Lead> {
        let mut connection = self.pool.acquire().await?;
        match store::leads::get_lead(&mut connection, id).await? {
            Some(lead) if can_see(caller, &lead) => Ok(lead),
            _ => Err(LeadsError::not_found("lead", id)),
        }
    }

    /// A page of the leads the caller may see, and the next page's token.
    pub async fn list(
        &self,
        caller: &Caller,
        filter: &store::LeadFilter,
        sort: store::LeadSort,
        page: &Page,
    ) -> Result<Listing<Lead>> {
        let mut connection = self.pool.acquire().await?;
        Ok(store::leads::list_leads(
            &mut connection,
            &caller.visibility(),
            &caller.team_path,
            filter,
            sort,
            page,
        )
        .await?)
    }

    pub async fn history(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<Vec<store::history::HistoryEntry>> {
        self.get_lead(caller, id).await?;
        let mut connection = self.pool.acquire().await?;
        Ok(store::history::entries(&mut connection, id).await?)
    }

    /// Writes the changed lead (new version), its history line and its event.
    async fn save<E: DomainEvent>(
        &self,
        connection: &mut PgConnection,
        lead: &mut Lead,
        history: History<'_>,
        event: impl FnOnce(crm_proto::crm::leads::v1::Lead) -> E,
    ) -> Result<()> {
        lead.version += 1;
        lead.updated_at = crm_platform::time::now();
        store::leads::update_lead(connection, lead).await?;
        history.record(connection, lead).await?;
        self.publish(connection, lead, event).await
    }

    async fn publish<E: DomainEvent>(
        &self,
        connection: &mut PgConnection,
        lead: &Lead,
        event: impl FnOnce(crm_proto::crm::leads::v1::Lead) -> E,
    ) -> Result<()> {
        self.outbox
            .enqueue_for(
                connection,
                "lead",
                lead.id,
                lead.version,
                &event(crate::convert::lead(lead)),
            )
            .await?;
        Ok(())
    }
}

/// One line of a lead's history.
pub(crate) struct History<'a> {
    pub kind: &'a str,
    pub actor: Option<Uuid>,
    pub from_owner: Option<Uuid>,
    pub to_owner: Option<Uuid>,
    pub summary: String,
    pub details: serde_json::Value,
}

impl History<'_> {
    pub(crate) fn by(kind: &str, actor: Option<Uuid>, summary: impl Into<String>) -> History<'_> {
        History {
            kind,
            actor,
            from_owner: None,
            to_owner: None,
            summary: summary.into(),
            details: serde_json::Value::Null,
        }
    }

    async fn record(self, connection: &mut PgConnection, lead: &Lead) -> Result<()> {
        store::history::record(
            connection,
            lead.id,
            lead.updated_at,
            self.kind,
            self.actor,
            self.from_owner,
            self.to_owner,
            &self.summary,
            if self.details.is_null() {
                serde_json::json!({})
            } else {
                self.details
            },
        )
        .await?;
        Ok(())
    }
}

pub(crate) async fn load_policies(connection: &mut PgConnection) -> Result<Policies> {
    match store::admin::policies(connection).await? {
        Some(stored) => serde_json::from_value(stored.0)
            .map_err(|error| LeadsError::unreadable("lead policies", error)),
        None => Ok(Policies::default()),
    }
}

/// Whether a pool is the caller's: they belong to its team (any depth below it), manage a
/// team that contains it or lies within it, or are an admin.
pub(crate) fn works_pool(caller: &Caller, pool_team_path: &TeamPath) -> bool {
    match caller.role {
        Role::Admin => true,
        Role::Rep => caller.team_path.is_within(pool_team_path),
        Role::Manager => {
            caller.team_path.is_within(pool_team_path)
                || pool_team_path.is_within(&caller.team_path)
        }
    }
}

/// Owned leads follow the owner rules; pool leads are visible to the pool's people.
pub(crate) fn can_see(caller: &Caller, lead: &Lead) -> bool {
    if lead.merged_into_lead_id.is_some() && caller.role == Role::Rep {
        return false;
    }
    match (lead.owner_id, &lead.owner_team_path) {
        (Some(owner), Some(owner_team)) => caller.can_access(owner, owner_team),
        _ => works_pool(caller, &lead.pool_team_path),
    }
}

/// Changing a lead: its owner, the owner's managers, admins; a pool lead: the pool's managers
/// (whose subtree holds the pool — a manager below a pool sees and claims its leads but does
/// not manage them) and admins.
pub(crate) fn can_manage(caller: &Caller, lead: &Lead) -> bool {
    match (lead.owner_id, &lead.owner_team_path) {
        (Some(owner), Some(owner_team)) => caller.can_access(owner, owner_team),
        _ => manages_pool(caller, &lead.pool_team_path),
    }
}

/// Whether the caller manages a pool: an admin, or a manager whose team holds it.
fn manages_pool(caller: &Caller, pool_team_path: &TeamPath) -> bool {
    match caller.role {
        Role::Admin => true,
        Role::Manager => pool_team_path.is_within(&caller.team_path),
        Role::Rep => false,
    }
}

/// Locks a lead the caller may change; merged leads cannot change.
pub(crate) async fn locked_for_change(
    connection: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    expected_version: Option<i64>,
) -> Result<Lead> {
    let lead = match store::leads::lock_lead(connection, id).await? {
        Some(lead) if can_see(caller, &lead) => lead,
        _ => return Err(LeadsError::not_found("lead", id)),
    };
    if !can_manage(caller, &lead) {
        return Err(LeadsError::permission_denied(
            "only the lead's owner, their managers or the pool's managers may change it",
        ));
    }
    if let Some(into) = lead.merged_into_lead_id {
        return Err(CommonError::MergedAway {
            kind: "lead",
            id,
            into,
        }
        .into());
    }
    check_version("lead", id, expected_version, lead.version)?;
    Ok(lead)
}
