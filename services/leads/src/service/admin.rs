//! Sales-operations set-up (managers and admins): the rep roster, assignment rules, policies,
//! campaigns and their funnel, web forms.

use crm_platform::auth::{Caller, Role, TeamPath};
use sqlx::types::Json;
use uuid::Uuid;

use super::{Leads, Policies, Result, load_policies, pool::rules_of, web_forms::hash_form_key};
use crate::{
    domain::{
        assignment::AssignmentRule,
        campaign::{Campaign, WebForm},
        campaign_funnel::CampaignFunnel,
        roster::Rep,
    },
    error::LeadsError,
    store::{self, admin::RuleRow},
};

fn require_manager(caller: &Caller) -> Result<()> {
    if caller.role == Role::Rep {
        return Err(LeadsError::permission_denied("managers and admins only"));
    }
    Ok(())
}

/// A manager acts on their own subtree; an admin anywhere.
fn require_team_in_reach(caller: &Caller, team_path: &TeamPath, field: &str) -> Result<()> {
    require_manager(caller)?;
    if caller.role == Role::Admin || team_path.is_within(&caller.team_path) {
        return Ok(());
    }
    Err(LeadsError::permission_denied(format!(
        "{field} {team_path} is outside your team"
    )))
}

impl Leads {
    /// Puts a rep on the roster. The team of a rep the organisation's directory knows is the
    /// directory's: naming another one is refused (so a manager cannot pull a rep, and the leads
    /// they capture and claim, into their subtree).
    pub async fn put_rep(&self, caller: &Caller, rep: Rep) -> Result<Rep> {
        require_team_in_reach(caller, &rep.team_path, "rep.team_path")?;
        // Every write commits through the kit, so a keyed call keeps its reply with it.
        let mut transaction = self.pool.begin().await?;
        if !store::roster::upsert_rep(&mut transaction, &rep).await? {
            return Err(LeadsError::TeamFromDirectory { rep_id: rep.rep_id });
        }
        self.outbox.commit(transaction).await?;
        Ok(rep)
    }

    /// Reps of a team subtree with their open leads.
    pub async fn reps(&self, caller: &Caller, team_path: &str) -> Result<Vec<(Rep, u32)>> {
        require_manager(caller)?;
        let team = match team_path.trim() {
            "" => caller.team_path.clone(),
            path => TeamPath::parse(path).map_err(|e| LeadsError::invalid("team_path", e))?,
        };
        require_team_in_reach(caller, &team, "team_path")?;
        let mut connection = self.pool.acquire().await?;
        let reps = store::roster::reps_in_subtree(&mut connection, &team).await?;
        let ids: Vec<Uuid> = reps.iter().map(|rep| rep.rep_id).collect();
        let counts = store::leads::open_lead_counts(&mut connection, &ids).await?;
        Ok(reps
            .into_iter()
            .map(|rep| {
                let open = counts.get(&rep.rep_id).map_or(0, |count| count.0);
                (rep, open)
            })
            .collect())
    }

    /// Replaces a team's ordered rules. Every named rep must be on the roster.
    pub async fn put_rules(
        &self,
        caller: &Caller,
        team_path: &str,
        rules: Vec<AssignmentRule>,
    ) -> Result<Vec<AssignmentRule>> {
        let team = TeamPath::parse(team_path).map_err(|e| LeadsError::invalid("team_path", e))?;
        require_team_in_reach(caller, &team, "team_path")?;
        let mut transaction = self.pool.begin().await?;
        let mut rows = Vec::with_capacity(rules.len());
        for (position, rule) in rules.iter().enumerate() {
            if rule.name.trim().is_empty() || rule.name.chars().count() > 100 {
                return Err(LeadsError::invalid(
                    format!("rules[{position}].name"),
                    "must be 1 to 100 characters",
                ));
            }
            if rule.reps.is_empty() {
                return Err(LeadsError::invalid(
                    format!("rules[{position}].rep_ids"),
                    "must name at least one rep",
                ));
            }
            let known = store::roster::reps_by_id(&mut transaction, &rule.reps).await?;
            if let Some(unknown) = rule
                .reps
                .iter()
                .find(|id| !known.iter().any(|rep| rep.rep_id == **id))
            {
                return Err(LeadsError::unusable_reference(
                    format!("rules[{position}].rep_ids"),
                    format!("{unknown} is not on the rep roster"),
                ));
            }
            rows.push(RuleRow {
                id: rule.id,
                position: position as i32,
                name: rule.name.trim().to_owned(),
                criteria: Json(
                    serde_json::to_value(&rule.criteria)
                        .map_err(|e| LeadsError::unreadable("rule criteria", e))?,
                ),
                rep_ids: rule.reps.clone(),
            });
        }
        store::admin::replace_rules(&mut transaction, team.as_str(), &rows).await?;
        let stored = rules_of(&mut transaction, &team).await?;
        self.outbox.commit(transaction).await?;
        Ok(stored)
    }

    pub async fn rules(&self, caller: &Caller, team_path: &str) -> Result<Vec<AssignmentRule>> {
        let team = TeamPath::parse(team_path).map_err(|e| LeadsError::invalid("team_path", e))?;
        require_team_in_reach(caller, &team, "team_path")?;
        let mut connection = self.pool.acquire().await?;
        rules_of(&mut connection, &team).await
    }

    pub async fn update_policies(&self, caller: &Caller, policies: Policies) -> Result<Policies> {
        if caller.role != Role::Admin {
            return Err(LeadsError::permission_denied(
                "only admins change lead policies",
            ));
        }
        policies.validate().map_err(LeadsError::from)?;
        let value = serde_json::to_value(&policies)
            .map_err(|e| LeadsError::unreadable("lead policies", e))?;
        let mut transaction = self.pool.begin().await?;
        store::admin::save_policies(&mut transaction, &value, caller.user_id).await?;
        let stored = load_policies(&mut transaction).await?;
        self.outbox.commit(transaction).await?;
        Ok(stored)
    }

    /// Records a campaign (validated by [`Campaign::new`]).
    pub async fn create_campaign(&self, caller: &Caller, campaign: Campaign) -> Result<Campaign> {
        require_manager(caller)?;
        let mut transaction = self.pool.begin().await?;
        store::campaigns::insert_campaign(&mut transaction, &campaign, caller.user_id).await?;
        self.outbox.commit(transaction).await?;
        Ok(campaign)
    }

    pub async fn campaigns(&self) -> Result<Vec<Campaign>> {
        let mut connection = self.pool.acquire().await?;
        Ok(store::campaigns::campaigns(&mut connection).await?)
    }

    /// The campaign's report: its leads by step, and the deals attributed to it as the
    /// opportunities service's events last described them. Managers and admins only.
    pub async fn campaign_funnel(
        &self,
        caller: &Caller,
        campaign_id: Uuid,
    ) -> Result<CampaignFunnel> {
        require_manager(caller)?;
        // One snapshot, so the lead counts and the deals agree.
        let mut transaction = self.pool.begin().await?;
        crm_platform::db::read_one_snapshot(&mut transaction).await?;
        let Some(campaign) = store::campaigns::get_campaign(&mut transaction, campaign_id).await?
        else {
            return Err(LeadsError::not_found("campaign", campaign_id));
        };
        let leads = store::leads::campaign_lead_counts(&mut transaction, campaign_id).await?;
        let candidates = store::deals::deal_candidates(&mut transaction, campaign_id).await?;
        transaction.commit().await?;
        Ok(CampaignFunnel::of(campaign, leads, &candidates))
    }

    /// Creates a form; the returned key is shown once, only its hash is kept.
    pub async fn create_web_form(
        &self,
        caller: &Caller,
        name: &str,
        campaign_id: Option<Uuid>,
        team_path: &str,
        rate_limit_per_minute: u32,
    ) -> Result<(Uuid, String)> {
        let team = match team_path.trim() {
            "" => caller.team_path.clone(),
            path => TeamPath::parse(path).map_err(|e| LeadsError::invalid("team_path", e))?,
        };
        require_team_in_reach(caller, &team, "team_path")?;
        if name.trim().is_empty() || name.chars().count() > 200 {
            return Err(LeadsError::invalid("name", "must be 1 to 200 characters"));
        }
        let rate = match rate_limit_per_minute {
            0 => 30,
            rate @ 1..=10_000 => rate,
            _ => {
                return Err(LeadsError::invalid(
                    "rate_limit_per_minute",
                    "must be at most 10000",
                ));
            }
        };
        let mut connection = self.pool.acquire().await?;
        if let Some(id) = campaign_id
            && store::campaigns::get_campaign(&mut connection, id)
                .await?
                .is_none()
        {
            return Err(LeadsError::unusable_reference(
                "campaign_id",
                "is not a known campaign",
            ));
        }
        let key = format!("wf_{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
        let form = WebForm {
            id: Uuid::now_v7(),
            name: name.trim().to_owned(),
            campaign_id,
            team_path: team,
            rate_limit_per_minute: rate,
            active: true,
        };
        store::campaigns::insert_web_form(
            &mut connection,
            &form,
            &hash_form_key(&key),
            caller.user_id,
        )
        .await?;
        Ok((form.id, key))
    }
}
