//! The parts of a deal besides its own fields: the deal team and its revenue splits, the buying
//! committee (contacts of the deal's account as the accounts service published them) and the
//! competitors on it (from the catalogue). Each a transaction: the row, the audit entry, the
//! events.

use crm_platform::auth::Caller;
use uuid::Uuid;

use super::{DealEvent, Opportunities, Result, change::Change, deals::pipeline_of};
use crate::{
    domain::{
        opportunity::{
            self, CommitteeMember, DealCompetitor, FieldChange, Opportunity, RevenueSplit,
            TeamMember,
        },
        pipeline::Pipeline,
    },
    store,
};

impl Opportunities {
    pub async fn set_deal_team(
        &self,
        caller: &Caller,
        id: Uuid,
        team: Vec<TeamMember>,
        splits: Vec<RevenueSplit>,
        expected_version: Option<i64>,
    ) -> Result<(Opportunity, Pipeline)> {
        let mut transaction = self.pool.begin().await?;
        let current = self
            .locked(
                &mut transaction,
                caller,
                id,
                expected_version,
                "given a new team",
            )
            .await?;
        opportunity::validate_team(current.owner_id, &team, &splits)?;
        let splits = if splits.is_empty() {
            opportunity::owner_split(current.owner_id)
        } else {
            splits
        };
        let pipeline = pipeline_of(&mut transaction, &current).await?;
        if team == current.team && splits == current.splits {
            return Ok((current, pipeline));
        }
        let describe = |splits: &[RevenueSplit]| {
            splits
                .iter()
                .map(|split| format!("{} {}%", split.user_id, split.percent.normalize()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let describe_team = |team: &[TeamMember]| {
            team.iter()
                .map(|member| format!("{} {}", member.user_id, member.role.as_str_name()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let changed = vec![
            FieldChange::new("team", describe_team(&current.team), describe_team(&team)),
            FieldChange::new("splits", describe(&current.splits), describe(&splits)),
        ];
        let mut next = current.clone();
        next.team = team;
        next.splits = splits;
        let events = vec![DealEvent::SplitsChanged {
            previous: &current.splits,
        }];
        let deal = self
            .save(
                &mut transaction,
                Some(caller.user_id),
                next,
                &pipeline,
                Change {
                    action: "team_set",
                    fields: changed,
                    comment: "",
                    events,
                },
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok((deal, pipeline))
    }

    pub async fn set_buying_committee(
        &self,
        caller: &Caller,
        id: Uuid,
        mut members: Vec<CommitteeMember>,
        expected_version: Option<i64>,
    ) -> Result<(Opportunity, Pipeline)> {
        opportunity::validate_committee(&members)?;
        let mut transaction = self.pool.begin().await?;
        let current = self
            .locked(
                &mut transaction,
                caller,
                id,
                expected_version,
                "given a new committee",
            )
            .await?;
        // Contacts as the accounts service published them: of the deal's account, active.
        let ids: Vec<Uuid> = members.iter().map(|member| member.contact_id).collect();
        let known = store::replicas::get_contacts(&mut transaction, &ids).await?;
        let mut violations = crm_platform::error::Violations::new();
        for (index, member) in members.iter_mut().enumerate() {
            let field = format!("members[{index}].contact_id");
            match known
                .iter()
                .find(|(contact, _)| contact.id == member.contact_id)
            {
                None => violations.add(field, "is not a contact known to this service"),
                Some((contact, _)) if contact.status != 1 => {
                    violations.add(field, "is not an active contact")
                }
                Some((_, account_id)) if *account_id != current.account_id => {
                    violations.add(field, "is a contact of another account")
                }
                Some((contact, _)) => member.contact_name = contact.name.clone(),
            }
        }
        violations.into_references()?;
        let pipeline = pipeline_of(&mut transaction, &current).await?;
        if members == current.committee {
            return Ok((current, pipeline));
        }
        let changed = vec![FieldChange::new(
            "buying_committee",
            format!("{} members", current.committee.len()),
            format!("{} members", members.len()),
        )];
        let mut next = current.clone();
        next.committee = members;
        let events = vec![DealEvent::Updated {
            fields: vec!["buying_committee".into()],
        }];
        let deal = self
            .save(
                &mut transaction,
                Some(caller.user_id),
                next,
                &pipeline,
                Change {
                    action: "committee_set",
                    fields: changed,
                    comment: "",
                    events,
                },
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok((deal, pipeline))
    }

    pub async fn set_deal_competitors(
        &self,
        caller: &Caller,
        id: Uuid,
        mut competitors: Vec<DealCompetitor>,
        expected_version: Option<i64>,
    ) -> Result<(Opportunity, Pipeline)> {
        opportunity::validate_competitors(&competitors)?;
        let mut transaction = self.pool.begin().await?;
        let current = self
            .locked(
                &mut transaction,
                caller,
                id,
                expected_version,
                "given new competitors",
            )
            .await?;
        let ids: Vec<Uuid> = competitors
            .iter()
            .map(|competitor| competitor.competitor_id)
            .collect();
        let names = store::pipelines::competitor_names(&mut transaction, &ids).await?;
        let mut violations = crm_platform::error::Violations::new();
        for (index, competitor) in competitors.iter_mut().enumerate() {
            match names.iter().find(|(id, _)| *id == competitor.competitor_id) {
                Some((_, name)) => competitor.competitor_name = name.clone(),
                None => violations.add(
                    format!("competitors[{index}].competitor_id"),
                    "is not a competitor of the catalogue",
                ),
            }
        }
        violations.into_references()?;
        let pipeline = pipeline_of(&mut transaction, &current).await?;
        if competitors == current.competitors {
            return Ok((current, pipeline));
        }
        let names_of = |list: &[DealCompetitor]| {
            list.iter()
                .map(|competitor| competitor.competitor_name.clone())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let changed = vec![FieldChange::new(
            "competitors",
            names_of(&current.competitors),
            names_of(&competitors),
        )];
        let mut next = current.clone();
        next.competitors = competitors;
        let events = vec![DealEvent::Updated {
            fields: vec!["competitors".into()],
        }];
        let deal = self
            .save(
                &mut transaction,
                Some(caller.user_id),
                next,
                &pipeline,
                Change {
                    action: "competitors_set",
                    fields: changed,
                    comment: "",
                    events,
                },
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok((deal, pipeline))
    }
}
