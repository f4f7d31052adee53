//! Resolving what a request counts: whose numbers (checked against the caller's reach) and
//! which period of the organisation's fiscal calendar, in which corporate currency. Every
//! forecasting family starts its reads here.

use crm_platform::{
    auth::Caller,
    error::{FieldViolation, reasons::INCONSISTENT_FIELDS},
    fiscal::FiscalPeriod,
    money::CurrencyCode,
    org::OrgDirectory,
};
use sqlx::PgConnection;

use super::{Forecasting, Result};
use crate::{
    domain::scope::{OUT_OF_REACH, RequestedScope, Scope},
    error::ForecastingError,
};

/// What a forecast read counts: a scope the caller reads, a period, the currency.
#[derive(Clone, Debug)]
pub struct Counting {
    pub scope: Scope,
    pub period: FiscalPeriod,
    /// The corporate currency now; `None` while the organisation has none.
    pub currency: Option<CurrencyCode>,
}

impl Forecasting {
    /// Checks `requested` against the caller's reach (PERMISSION_DENIED out of it; NOT_FOUND
    /// for a user the directory does not know) and reads `period` (`period_field` is the
    /// request's field, named in a refusal) in the organisation's fiscal calendar.
    pub async fn counting(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        requested: RequestedScope,
        period_field: &str,
        period: &str,
    ) -> Result<Counting> {
        let scope = self.scope(connection, caller, requested).await?;
        let settings = OrgDirectory::settings(&mut *connection).await?;
        // The label has the form already (the front door and the gRPC parser check it); a
        // year the calendar cannot hold is a refusal for the data.
        let period = settings.fiscal_calendar.parse(period).map_err(|error| {
            ForecastingError::from(FieldViolation::refusal(
                INCONSISTENT_FIELDS,
                period_field,
                error,
            ))
        })?;
        Ok(Counting {
            scope,
            period,
            currency: settings.corporate_currency,
        })
    }

    /// The scope `requested` names, if the caller reads it.
    pub async fn scope(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        requested: RequestedScope,
    ) -> Result<Scope> {
        let scope = match requested {
            RequestedScope::Mine => Scope::mine(caller),
            RequestedScope::Rep(user_id) if user_id == caller.user_id => Scope::Rep {
                user_id,
                team_path: caller.team_path.clone(),
            },
            RequestedScope::Rep(user_id) => {
                let team_path = OrgDirectory::team_of(connection, user_id)
                    .await?
                    .ok_or_else(|| ForecastingError::not_found("user", user_id))?;
                Scope::Rep { user_id, team_path }
            }
            RequestedScope::Team(team) => Scope::Team(team),
            RequestedScope::Company => Scope::Company,
        };
        if !scope.readable_by(caller) {
            return Err(ForecastingError::permission_denied(OUT_OF_REACH));
        }
        Ok(scope)
    }
}
