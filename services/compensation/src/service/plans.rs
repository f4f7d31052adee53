//! Plans (C1) and assignments (C2): saved by an admin, checked whole, never changing what a
//! closed period paid.

use chrono::NaiveDate;
use crm_platform::{
    auth::{Caller, Role},
    error::{FieldViolation, as_refusals, check_version, reasons::INCONSISTENT_FIELDS},
    money::CurrencyCode,
    org::OrgDirectory,
};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Compensation, Result, reach};
use crate::{
    domain::{
        assignment::Assignment,
        plan::{PlanVersion, check_locked, check_versions},
    },
    error::CompensationError,
    store::{
        self,
        plans::{StoredAssignment, StoredPlan},
    },
};

/// A plan to save: new without `plan_id`, else replacing the plan at `revision`.
#[derive(Clone, Debug)]
pub struct PlanInput {
    pub plan_id: Option<Uuid>,
    pub revision: u64,
    pub name: String,
    pub description: String,
    pub currency: CurrencyCode,
    pub versions: Vec<PlanVersion>,
}

/// An assignment to make.
#[derive(Clone, Debug)]
pub struct AssignmentInput {
    pub user_id: Uuid,
    pub plan_id: Uuid,
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

fn refusal(field: &str, description: impl Into<String>) -> CompensationError {
    FieldViolation::refusal(INCONSISTENT_FIELDS, field, description).into()
}

/// The first day not yet paid by a closed period (the end of the latest closed one), after
/// taking the closing lock: a close cannot slip in between this read and the write.
async fn locked_until(connection: &mut PgConnection) -> Result<Option<NaiveDate>> {
    store::statements::lock_closing(connection).await?;
    Ok(store::statements::closed_periods(connection)
        .await?
        .first()
        .map(|closed| closed.ends_on))
}

impl Compensation {
    /// Creates or replaces a plan (admin): every version checked, the versions together, the
    /// currency the organisation's, and nothing a closed period paid changed.
    pub async fn save_plan(&self, caller: &Caller, input: PlanInput) -> Result<StoredPlan> {
        reach::admin(caller)?;
        // The versions' rules go beyond what the schema states: refusals for the data.
        check_versions(&input.versions)
            .map_err(|violations| as_refusals(INCONSISTENT_FIELDS, violations))?;
        let mut transaction = self.pool.begin().await?;
        let settings = OrgDirectory::settings(&mut *transaction).await?;
        if let Some(corporate) = settings.corporate_currency
            && corporate != input.currency
        {
            return Err(refusal(
                "currency_code",
                format!(
                    "must be the organisation's corporate currency ({corporate}): credits are in it"
                ),
            ));
        }
        let locked = locked_until(&mut transaction).await?;
        let (id, revision) = match input.plan_id {
            None => (Uuid::now_v7(), 1),
            Some(id) => {
                let stored = store::plans::get(&mut transaction, id, true)
                    .await?
                    .ok_or_else(|| CompensationError::not_found("plan", id))?;
                check_version("plan", id, Some(input.revision as i64), stored.revision)?;
                if let Some(locked) = locked {
                    check_locked(&stored.versions, &input.versions, locked)
                        .map_err(|violations| as_refusals(INCONSISTENT_FIELDS, violations))?;
                }
                (id, stored.revision + 1)
            }
        };
        let plan = StoredPlan {
            id,
            name: input.name,
            description: input.description,
            currency: input.currency,
            versions: input.versions,
            revision,
            updated_by: Some(caller.user_id),
            updated_at: crm_platform::time::now(),
        };
        store::plans::save(&mut transaction, &plan).await?;
        self.outbox.commit(transaction).await?;
        Ok(plan)
    }

    /// The plans the caller may read: every one for an admin or a manager, a rep's own.
    pub async fn plans(&self, caller: &Caller) -> Result<Vec<StoredPlan>> {
        let mut connection = self.pool.acquire().await?;
        self.know(&mut connection, caller).await?;
        let own: Option<Vec<Uuid>> = match caller.role {
            Role::Admin | Role::Manager => None,
            Role::Rep => Some(
                store::plans::assignments(&mut connection, Some(&[caller.user_id]), (None, None))
                    .await?
                    .into_iter()
                    .map(|stored| stored.assignment.plan_id)
                    .collect(),
            ),
        };
        Ok(store::plans::list(&mut connection, own.as_deref()).await?)
    }

    /// One plan, if the caller may read it (NOT_FOUND otherwise).
    pub async fn plan(&self, caller: &Caller, id: Uuid) -> Result<StoredPlan> {
        self.plans(caller)
            .await?
            .into_iter()
            .find(|plan| plan.id == id)
            .ok_or_else(|| CompensationError::not_found("plan", id))
    }

    /// Puts a rep on a plan (admin), never overlapping another of the rep's assignments nor
    /// reaching into a closed period.
    pub async fn assign(
        &self,
        caller: &Caller,
        input: AssignmentInput,
    ) -> Result<StoredAssignment> {
        reach::admin(caller)?;
        let mut transaction = self.pool.begin().await?;
        if OrgDirectory::team_of(&mut transaction, input.user_id)
            .await?
            .is_none()
        {
            return Err(CompensationError::not_found("user", input.user_id));
        }
        if store::plans::get(&mut transaction, input.plan_id, false)
            .await?
            .is_none()
        {
            return Err(CompensationError::Common(
                crm_platform::error::CommonError::unusable_reference("plan_id", "is not a plan"),
            ));
        }
        if let Some(locked) = locked_until(&mut transaction).await?
            && input.from < locked
        {
            return Err(refusal(
                "from",
                format!("must be on or after {locked}, the end of the last closed period"),
            ));
        }
        let assignment = Assignment {
            id: Uuid::now_v7(),
            user_id: input.user_id,
            plan_id: input.plan_id,
            from: input.from,
            until: input.until,
        };
        self.write_assignment(&mut transaction, caller, &assignment)
            .await?;
        let stored = store::plans::assignment(&mut transaction, assignment.id)
            .await?
            .ok_or_else(|| CompensationError::not_found("assignment", assignment.id))?;
        self.outbox.commit(transaction).await?;
        Ok(stored)
    }

    /// Ends an assignment on `until` (admin), not inside a closed period.
    pub async fn end_assignment(
        &self,
        caller: &Caller,
        id: Uuid,
        until: NaiveDate,
    ) -> Result<StoredAssignment> {
        reach::admin(caller)?;
        let mut transaction = self.pool.begin().await?;
        let locked = locked_until(&mut transaction).await?;
        let mut stored = store::plans::assignment(&mut transaction, id)
            .await?
            .ok_or_else(|| CompensationError::not_found("assignment", id))?;
        if let Some(locked) = locked {
            let ended_in_closed_days = stored
                .assignment
                .until
                .is_some_and(|current| current < locked);
            if ended_in_closed_days || until < locked {
                return Err(refusal(
                    "until",
                    format!("must be on or after {locked}, the end of the last closed period"),
                ));
            }
        }
        stored.assignment.until = Some(until);
        self.write_assignment(&mut transaction, caller, &stored.assignment)
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(stored)
    }

    async fn write_assignment(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        assignment: &Assignment,
    ) -> Result<()> {
        let existing: Vec<Assignment> =
            store::plans::assignments(connection, Some(&[assignment.user_id]), (None, None))
                .await?
                .into_iter()
                .map(|stored| stored.assignment)
                .collect();
        assignment
            .check(&existing)
            .map_err(|violation| refusal(&violation.field, violation.description))?;
        store::plans::save_assignment(connection, assignment, caller.user_id).await?;
        Ok(())
    }

    /// The assignments of `user_id` (every rep in reach when `None`), by rep then day.
    pub async fn assignments(
        &self,
        caller: &Caller,
        user_id: Option<Uuid>,
    ) -> Result<Vec<StoredAssignment>> {
        let mut connection = self.pool.acquire().await?;
        self.know(&mut connection, caller).await?;
        let users: Option<Vec<Uuid>> = match (user_id, caller.role) {
            (Some(user), _) => Some(vec![reach::rep(&mut connection, caller, Some(user)).await?]),
            (None, Role::Admin) => None,
            (None, Role::Manager) => Some(
                store::people::within(&mut connection, caller.team_path.as_str())
                    .await?
                    .into_iter()
                    .map(|person| person.user_id)
                    .collect(),
            ),
            (None, Role::Rep) => Some(vec![caller.user_id]),
        };
        Ok(store::plans::assignments(&mut connection, users.as_deref(), (None, None)).await?)
    }
}
