//! The public web-to-lead endpoint: a form key instead of a user token, a rate limit per form.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crm_platform::error::FieldViolation;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Leads, Result, load_policies};
use crate::{
    domain::lead::{NewLead, SourceChannel},
    error::LeadsError,
    store,
};

/// Fixed one-minute windows per form. Per process: with N replicas a form may take up to N
/// times its limit (docs/operations.md).
#[derive(Clone, Default)]
pub struct WebFormLimiter {
    windows: Arc<Mutex<HashMap<Uuid, (Instant, u32)>>>,
}

/// The length of a form's rate-limit window.
const WINDOW: Duration = Duration::from_secs(60);

impl WebFormLimiter {
    /// Counts a submission, or says how long until the form's window opens again.
    fn admit(&self, form_id: Uuid, per_minute: u32) -> std::result::Result<(), Duration> {
        let mut windows = self.windows.lock().expect("limiter lock poisoned");
        let now = Instant::now();
        let window = windows.entry(form_id).or_insert((now, 0));
        if now.duration_since(window.0) >= WINDOW {
            *window = (now, 0);
        }
        if window.1 >= per_minute {
            return Err(WINDOW.saturating_sub(now.duration_since(window.0)));
        }
        window.1 += 1;
        Ok(())
    }
}

/// The stored form of a key: its SHA-256, hex.
pub fn hash_form_key(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

impl Leads {
    /// Captures a lead from a public form (`lead` as read from the wire, or what is wrong with
    /// it: told only to a caller with a good key). The caller learns nothing about other leads.
    pub async fn submit_web_form(
        &self,
        form_key: &str,
        lead: std::result::Result<NewLead, Vec<FieldViolation>>,
    ) -> Result<Uuid> {
        if form_key.trim().is_empty() {
            return Err(LeadsError::FormKey("a form key is required"));
        }
        let mut transaction = self.pool.begin().await?;
        let form = match store::campaigns::web_form_by_key_hash(
            &mut transaction,
            &hash_form_key(form_key.trim()),
        )
        .await?
        {
            Some(form) if form.active => form,
            _ => {
                return Err(LeadsError::FormKey("unknown or inactive form key"));
            }
        };
        if let Err(retry_after) = self
            .web_forms
            .admit(form.id, form.rate_limit_per_minute.max(1))
        {
            return Err(LeadsError::FormRateLimited {
                per_minute: form.rate_limit_per_minute,
                // Whole seconds, rounded up: Retry-After has no fractions.
                retry_after: Duration::from_secs(retry_after.as_secs_f64().ceil().max(1.0) as u64),
            });
        }
        let capture = NewLead {
            source_channel: SourceChannel::WebForm,
            campaign_id: form.campaign_id,
            ..lead?
        };
        let policies = load_policies(&mut transaction).await?;
        self.capture_one(
            &mut transaction,
            None,
            None,
            &form.team_path,
            capture,
            &policies,
        )
        .await?;
        self.outbox.commit(transaction).await?;
        Ok(Uuid::now_v7())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_is_limited_per_minute() {
        let limiter = WebFormLimiter::default();
        let form = Uuid::now_v7();
        assert!((0..3).all(|_| limiter.admit(form, 3).is_ok()));
        let wait = limiter.admit(form, 3).unwrap_err();
        assert!(
            wait > Duration::from_secs(50) && wait <= WINDOW,
            "until the window opens again: {wait:?}"
        );
        assert!(
            limiter.admit(Uuid::now_v7(), 3).is_ok(),
            "another form has its own window"
        );
    }

    #[test]
    fn keys_are_stored_hashed() {
        assert_eq!(hash_form_key("abc").len(), 64);
        assert_ne!(hash_form_key("abc"), hash_form_key("abd"));
    }
}
