//! The organisation's settings: every role reads them, admins change them. A change is
//! published as `OrgSettingsUpdated`, which every service's org directory keeps by version.

use crm_platform::{auth::Caller, error::check_version};
use crm_proto::crm::gateway::v1 as pb;

use super::{Gateway, Result, require_admin};
use crate::{
    convert,
    domain::settings::{OrgSettings, SettingsChanges},
    store,
};

impl Gateway {
    pub async fn org_settings(&self, _caller: &Caller) -> Result<OrgSettings> {
        let mut connection = self.pool.acquire().await?;
        Ok(store::get_settings(&mut connection).await?)
    }

    pub async fn update_org_settings(
        &self,
        caller: &Caller,
        changes: SettingsChanges,
        expected_version: Option<i64>,
    ) -> Result<OrgSettings> {
        require_admin(caller)?;
        let mut transaction = self.pool.begin().await?;
        let current = store::lock_settings(&mut transaction).await?;
        check_version(
            "org_settings",
            current.id,
            expected_version,
            current.version,
        )?;
        let mut settings = current.clone();
        let changed = settings.apply(changes);
        if changed.is_empty() {
            return Ok(current);
        }
        settings.version += 1;
        settings.updated_at = Some(crm_platform::time::now());
        store::update_settings(&mut transaction, &settings, caller.user_id).await?;
        let event = pb::OrgSettingsUpdated {
            settings: Some(convert::org_settings(&settings)),
            changed_fields: changed.iter().map(|field| field.to_string()).collect(),
        };
        self.outbox
            .enqueue_for(
                &mut transaction,
                "org_settings",
                settings.id,
                settings.version,
                &event,
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(settings)
    }
}
