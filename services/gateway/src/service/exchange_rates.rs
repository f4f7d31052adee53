//! Exchange rates into the corporate currency: admins set them, every role reads them. A rate
//! is published as `ExchangeRateSet`, which every service's org directory keeps, so that each
//! converts deal amounts itself, with the same rates.

use crm_platform::{auth::Caller, money::CurrencyCode, outbox::Aggregate};
use crm_proto::crm::gateway::v1 as pb;

use super::{Gateway, Result, require_admin};
use crate::{
    convert,
    domain::exchange_rate::{ExchangeRate, NewExchangeRate},
    store,
};

impl Gateway {
    pub async fn set_exchange_rate(
        &self,
        caller: &Caller,
        new: NewExchangeRate,
    ) -> Result<ExchangeRate> {
        require_admin(caller)?;
        let mut transaction = self.pool.begin().await?;
        // Not locked: a rate names the corporate currency it converts into, so one set while
        // an admin changes the corporate currency is still true (a rate into the old one).
        let settings = store::get_settings(&mut transaction).await?;
        let corporate_currency = new.converting_into(settings.corporate_currency)?;
        let rate = store::upsert_exchange_rate(
            &mut transaction,
            corporate_currency,
            &new,
            crm_platform::time::now(),
            caller.user_id,
        )
        .await?;
        let aggregate_id = format!(
            "{}/{}/{}",
            rate.corporate_currency, rate.currency, rate.effective_on
        );
        let event = pb::ExchangeRateSet {
            rate: Some(convert::exchange_rate(&rate)),
        };
        self.outbox
            .enqueue(
                &mut transaction,
                Aggregate {
                    kind: "exchange_rate",
                    id: &aggregate_id,
                    version: rate.version,
                },
                &event,
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(rate)
    }

    /// The rates into the current corporate currency (none while there is none), newest day
    /// first, of `currency` only when given.
    pub async fn exchange_rates(
        &self,
        _caller: &Caller,
        currency: Option<CurrencyCode>,
    ) -> Result<Vec<ExchangeRate>> {
        let mut connection = self.pool.acquire().await?;
        let settings = store::get_settings(&mut connection).await?;
        let Some(corporate_currency) = settings.corporate_currency else {
            return Ok(Vec::new());
        };
        Ok(store::exchange_rates(&mut connection, corporate_currency, currency).await?)
    }
}
