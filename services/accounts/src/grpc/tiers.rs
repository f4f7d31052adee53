//! The tiering RPCs (A3): a manager's override and the thresholds.

use crm_platform::{
    auth::caller,
    error::Violations,
    ids::{expected_version, parse_id},
    money::Money,
};
use crm_proto::crm::accounts::v1 as pb;
use tonic::{Request, Response, Status};

use crate::{
    convert,
    domain::tier::{AccountTier, TierThresholds},
    error::AccountsError,
    service::Accounts,
};

pub(super) async fn set_account_tier(
    accounts: &Accounts,
    request: Request<pb::SetAccountTierRequest>,
) -> Result<Response<pb::SetAccountTierResponse>, Status> {
    let caller = caller(&request)?;
    let request = request.into_inner();
    let account_id = parse_id("account_id", &request.account_id)?;
    let tier_override = AccountTier::from_number(request.tier_override)
        .map_err(|error| AccountsError::invalid("tier_override", error))?;
    let account = accounts
        .set_account_tier(
            &caller,
            account_id,
            tier_override,
            expected_version("expected_version", request.expected_version)?,
        )
        .await?;
    Ok(Response::new(pb::SetAccountTierResponse {
        account: Some(convert::account(&account)),
    }))
}

pub(super) async fn get_tier_settings(
    accounts: &Accounts,
    request: Request<pb::GetTierSettingsRequest>,
) -> Result<Response<pb::GetTierSettingsResponse>, Status> {
    let caller = caller(&request)?;
    let settings = accounts.tier_settings(&caller).await?;
    Ok(Response::new(pb::GetTierSettingsResponse {
        settings: Some(convert::tier_settings(&settings)),
    }))
}

pub(super) async fn update_tier_settings(
    accounts: &Accounts,
    request: Request<pb::UpdateTierSettingsRequest>,
) -> Result<Response<pb::UpdateTierSettingsResponse>, Status> {
    let caller = caller(&request)?;
    let request = request.into_inner();
    // Every broken field at once: both amounts, then how they relate.
    let mut violations = Violations::new();
    let mut threshold =
        |field: &str, message: Option<&crm_proto::crm::common::v1::Money>| match message {
            None => {
                violations.add(field, "is required");
                None
            }
            Some(message) => violations.take(Money::non_negative(field, message)),
        };
    let a = threshold("a_threshold", request.a_threshold.as_ref());
    let b = threshold("b_threshold", request.b_threshold.as_ref());
    violations.into_result().map_err(AccountsError::from)?;
    let (Some(a), Some(b)) = (a, b) else {
        return Err(AccountsError::invalid("a_threshold", "is required").into());
    };
    let thresholds = TierThresholds::new(a, b).map_err(AccountsError::from)?;
    let settings = accounts
        .update_tier_settings(
            &caller,
            thresholds,
            expected_version("expected_version", request.expected_version)?,
        )
        .await?;
    Ok(Response::new(pb::UpdateTierSettingsResponse {
        settings: Some(convert::tier_settings(&settings)),
    }))
}
