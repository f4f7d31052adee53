//! Tiering use cases (A3): the thresholds, a manager's override, the deals the opportunities
//! service announces, and the periodic re-evaluation that ages wins out of the window.

use chrono::NaiveDate;
use crm_platform::{
    auth::{Caller, Role},
    error::check_version,
};
use crm_proto::crm::accounts::v1 as pb;
use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{Accounts, Result, accounts::locked_account_for_change};
use crate::{
    convert,
    domain::{
        RecordStatus,
        account::Account,
        deal::{self, DealReplica},
        tier::{
            self, AccountTier, TierChangeReason, TierSettings, TierThresholds, Tiering, Uncounted,
        },
    },
    error::AccountsError,
    store::{self, tiers},
};

/// Accounts re-evaluated per transaction by the job.
const REEVALUATION_BATCH: i64 = 200;

/// The UTC day tiering counts from.
pub(super) fn today() -> NaiveDate {
    crm_platform::time::now().date_naive()
}

impl Accounts {
    /// Every role reads the thresholds: the console explains tiers with them.
    pub async fn tier_settings(&self, _caller: &Caller) -> Result<TierSettings> {
        let mut connection = self.pool.acquire().await?;
        Ok(tiers::tier_settings(&mut connection).await?)
    }

    /// Replaces the thresholds (admins only) and wakes the re-evaluation job, which brings every
    /// account to them. Setting the thresholds they have changes nothing.
    pub async fn update_tier_settings(
        &self,
        caller: &Caller,
        thresholds: TierThresholds,
        expected_version: Option<i64>,
    ) -> Result<TierSettings> {
        if caller.role != Role::Admin {
            return Err(AccountsError::permission_denied(
                "only admins change the tier thresholds",
            ));
        }
        let mut transaction = self.pool.begin().await?;
        let current = tiers::lock_tier_settings(&mut transaction).await?;
        check_version(
            "tier_settings",
            Uuid::nil(),
            expected_version,
            current.version,
        )?;
        if current.thresholds == Some(thresholds) {
            return Ok(current);
        }
        let now = crm_platform::time::now();
        let settings = TierSettings {
            thresholds: Some(thresholds),
            version: current.version + 1,
            updated_at: Some(now),
        };
        tiers::save_tier_settings(
            &mut transaction,
            &thresholds,
            settings.version,
            now,
            caller.user_id,
        )
        .await?;
        self.outbox.commit(transaction).await?;
        self.reevaluation.notify_one();
        Ok(settings)
    }

    /// Sets (`Some`) or clears (`None`) the account's manual tier: managers and admins, on
    /// accounts they may change. Reps may not, not even on their own accounts: the tier is
    /// how the organisation ranks them, not how they rank themselves.
    pub async fn set_account_tier(
        &self,
        caller: &Caller,
        id: Uuid,
        tier_override: Option<AccountTier>,
        expected_version: Option<i64>,
    ) -> Result<Account> {
        if caller.role == Role::Rep {
            return Err(AccountsError::permission_denied(
                "only managers and admins set an account's tier",
            ));
        }
        let mut transaction = self.pool.begin().await?;
        let current =
            locked_account_for_change(&mut transaction, caller, id, expected_version).await?;
        if current.tiering.tier_override == tier_override {
            return Ok(current);
        }
        let mut updated = current.clone();
        updated.tiering.tier_override = tier_override;
        updated.version += 1;
        updated.updated_at = crm_platform::time::now();
        store::update_account(&mut transaction, &updated).await?;
        if updated.tiering.effective() != current.tiering.effective() {
            self.announce_tier_change(
                &mut transaction,
                &updated,
                current.tiering.effective(),
                TierChangeReason::for_override(tier_override),
            )
            .await?;
        } else {
            // The tier stays (the override is the computed tier): the override is news only
            // as a changed field.
            let event = pb::AccountUpdated {
                account: Some(convert::account(&updated)),
                changed_fields: vec!["tier_override".to_owned()],
            };
            self.outbox
                .enqueue_for(
                    &mut transaction,
                    "account",
                    updated.id,
                    updated.version,
                    &event,
                )
                .await?;
        }
        self.outbox.commit(transaction).await?;
        Ok(updated)
    }

    /// A deal event (inside the consumer's transaction): keep the deal if its version is newer
    /// than the one kept, then re-evaluate the accounts whose revenue it may change.
    pub async fn apply_deal(
        &self,
        connection: &mut PgConnection,
        mut deal: DealReplica,
    ) -> Result<()> {
        let kept = tiers::lock_deal(connection, deal.opportunity_id).await?;
        if !deal::supersedes(deal.version, kept.as_ref().map(|kept| kept.version)) {
            tracing::debug!(opportunity_id = %deal.opportunity_id, version = deal.version, "deal event not newer than the kept state, ignored");
            return Ok(());
        }
        // An event may still name an account merged away since; its deals count for the
        // survivor.
        if let Some(survivor) = tiers::surviving_account(connection, deal.account_id).await? {
            deal.account_id = survivor;
        }
        tiers::upsert_deal(connection, &deal).await?;
        let accounts = deal::accounts_to_reevaluate(kept.as_ref(), &deal);
        if accounts.is_empty() {
            return Ok(());
        }
        let settings = tiers::tier_settings(connection).await?;
        let today = today();
        for account_id in accounts {
            // A deal of an account not known here yet counts when the account is created.
            let Some(account) = store::lock_account(connection, account_id).await? else {
                continue;
            };
            if account.status == RecordStatus::Merged {
                continue;
            }
            let previous = account.tiering.effective();
            self.reevaluate(
                connection,
                account,
                &settings,
                today,
                previous,
                TierChangeReason::RevenueChanged,
            )
            .await?;
        }
        Ok(())
    }

    /// The figures of a new account with this id (deals may have been announced before it).
    pub(super) async fn initial_tiering(
        &self,
        connection: &mut PgConnection,
        account_id: Uuid,
    ) -> Result<Tiering> {
        let settings = tiers::tier_settings(connection).await?;
        let today = today();
        let evaluation = evaluate(connection, account_id, &settings, today).await?;
        Ok(Tiering::default().evaluated(&evaluation, settings.version))
    }

    /// Recomputes the (locked) account's figures as of `today` and writes them. When its tier
    /// differs from `previous` the account gets a new version and AccountTierChanged; figures
    /// that leave the tier as it was are refreshed in place, as derived data, without one.
    pub(super) async fn reevaluate(
        &self,
        connection: &mut PgConnection,
        mut account: Account,
        settings: &TierSettings,
        today: NaiveDate,
        previous: Option<AccountTier>,
        reason: TierChangeReason,
    ) -> Result<Account> {
        let evaluation = evaluate(connection, account.id, settings, today).await?;
        let tiering = account.tiering.evaluated(&evaluation, settings.version);
        let tier_changed = tiering.effective() != previous;
        if tiering == account.tiering && !tier_changed {
            return Ok(account);
        }
        account.tiering = tiering;
        if tier_changed {
            account.version += 1;
            account.updated_at = crm_platform::time::now();
        }
        store::update_account(connection, &account).await?;
        if tier_changed {
            self.announce_tier_change(connection, &account, previous, reason)
                .await?;
        }
        Ok(account)
    }

    async fn announce_tier_change(
        &self,
        connection: &mut PgConnection,
        account: &Account,
        previous: Option<AccountTier>,
        reason: TierChangeReason,
    ) -> Result<()> {
        let event = pb::AccountTierChanged {
            account: Some(convert::account(account)),
            previous_tier: convert::tier(previous) as i32,
            reason: reason.as_str().to_owned(),
        };
        self.outbox
            .enqueue_for(connection, "account", account.id, account.version, &event)
            .await?;
        Ok(())
    }

    /// Re-evaluates every account that is due on `today` (thresholds it was not evaluated
    /// with, wins that have left the window), in batches. Replicas share the work: each claims
    /// its batch with SKIP LOCKED. Returns how many accounts were re-evaluated.
    pub async fn reevaluate_due(&self, today: NaiveDate) -> Result<u64> {
        let mut reevaluated = 0;
        loop {
            let mut transaction = self.pool.begin().await?;
            let settings = tiers::tier_settings(&mut transaction).await?;
            let due = tiers::claim_due_for_reevaluation(
                &mut transaction,
                settings.version,
                tier::window_start(today),
                REEVALUATION_BATCH,
            )
            .await?;
            let claimed = due.len() as i64;
            for account_id in due {
                let Some(account) = store::lock_account(&mut transaction, account_id).await? else {
                    continue;
                };
                let previous = account.tiering.effective();
                let reason = TierChangeReason::for_reevaluation(&account.tiering, &settings);
                self.reevaluate(
                    &mut transaction,
                    account,
                    &settings,
                    today,
                    previous,
                    reason,
                )
                .await?;
                reevaluated += 1;
            }
            self.outbox.commit(transaction).await?;
            if claimed < REEVALUATION_BATCH {
                return Ok(reevaluated);
            }
        }
    }

    /// Runs [`Accounts::reevaluate_due`] at start, every `interval`, and at once when the
    /// thresholds change, until `shutdown`.
    pub async fn run_reevaluation(
        self,
        interval: std::time::Duration,
        shutdown: CancellationToken,
    ) {
        loop {
            match self.reevaluate_due(today()).await {
                Ok(0) => {}
                Ok(reevaluated) => tracing::info!(reevaluated, "accounts' tiers re-evaluated"),
                Err(error) => {
                    tracing::warn!(error = %crm_platform::error::error_chain(&error), "tier re-evaluation failed, will retry")
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = self.reevaluation.notified() => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }
}

/// The account's figures from its wins in the window, logging the wins it could not count.
async fn evaluate(
    connection: &mut PgConnection,
    account_id: Uuid,
    settings: &TierSettings,
    today: NaiveDate,
) -> Result<tier::Evaluation> {
    let wins = tiers::wins_since(connection, account_id, tier::window_start(today)).await?;
    let evaluation = tier::evaluate(&wins, settings.thresholds.as_ref(), today);
    for (opportunity_id, uncounted) in &evaluation.uncounted {
        match uncounted {
            Uncounted::OtherCurrency(currency) => tracing::warn!(
                %account_id, %opportunity_id, %currency,
                thresholds_currency = %settings.thresholds.map(|t| t.currency().as_str()).unwrap_or_default(),
                "a won deal's corporate amount is not in the tier thresholds' currency; it is not counted (amounts are not converted here)"
            ),
            Uncounted::NoCorporateAmount => tracing::warn!(
                %account_id, %opportunity_id,
                "a won deal has no corporate amount; it is not counted toward the account's tier"
            ),
        }
    }
    Ok(evaluation)
}
