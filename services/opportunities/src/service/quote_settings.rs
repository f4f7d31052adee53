//! The quote settings' use cases (O6): the discount approval threshold, the default tax rate
//! and the seller's name on rendered quotes — a singleton every role reads and admins change.

use crm_platform::{
    auth::{Caller, Role},
    error::{FieldViolation, check_version, reasons::INCONSISTENT_FIELDS},
};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{Opportunities, Result, quotes::refused};
use crate::{
    domain::quote::QuoteSettings, error::OpportunitiesError, store::quotes as store_quotes,
};

/// The quote settings' changes (admins).
#[derive(Debug, Clone, Default)]
pub struct QuoteSettingsChanges {
    pub discount_approval_threshold_percent: Option<Decimal>,
    pub default_tax_percent: Option<Decimal>,
    pub company_name: Option<String>,
}

impl Opportunities {
    /// The quote settings (every role).
    pub async fn quote_settings(&self, _caller: &Caller) -> Result<QuoteSettings> {
        let mut connection = self.pool.acquire().await?;
        Ok(store_quotes::settings(&mut connection, false).await?)
    }

    /// Changes the quote settings (admins), at `expected_version` when given; percentages
    /// within 0..=100 (a refusal otherwise: the schema states a decimal, not its range).
    pub async fn update_quote_settings(
        &self,
        caller: &Caller,
        changes: QuoteSettingsChanges,
        expected_version: Option<i64>,
    ) -> Result<QuoteSettings> {
        if caller.role != Role::Admin {
            return Err(OpportunitiesError::permission_denied(
                "only admins change the quote settings",
            ));
        }
        let mut violations = Vec::new();
        for (value, field) in [
            (
                changes.discount_approval_threshold_percent,
                "discount_approval_threshold_percent",
            ),
            (changes.default_tax_percent, "default_tax_percent"),
        ] {
            if value.is_some_and(|value| !(Decimal::ZERO..=Decimal::ONE_HUNDRED).contains(&value)) {
                violations.push(FieldViolation::refusal(
                    INCONSISTENT_FIELDS,
                    field,
                    "must be between 0 and 100",
                ));
            }
        }
        if !violations.is_empty() {
            return Err(refused(violations));
        }
        let mut transaction = self.pool.begin().await?;
        let current = store_quotes::settings(&mut transaction, true).await?;
        check_version(
            "quote settings",
            Uuid::nil(),
            expected_version,
            current.version,
        )?;
        let mut next = current.clone();
        if let Some(threshold) = changes.discount_approval_threshold_percent {
            next.discount_approval_threshold_percent = threshold;
        }
        if let Some(tax) = changes.default_tax_percent {
            next.default_tax_percent = tax;
        }
        if let Some(name) = changes.company_name {
            next.company_name = name;
        }
        if next == current {
            return Ok(current);
        }
        next.version += 1;
        next.updated_at = crm_platform::time::now();
        next.updated_by = Some(caller.user_id);
        store_quotes::update_settings(&mut transaction, &next).await?;
        self.outbox.commit(transaction).await?;
        Ok(next)
    }
}
