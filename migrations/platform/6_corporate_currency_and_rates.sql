-- The organisation's corporate currency (OrgSettingsUpdated) and every exchange rate into it
-- (ExchangeRateSet), as this service last heard them from the gateway (crm_platform::org):
-- what OrgDirectory::to_corporate converts deal amounts with.
ALTER TABLE org_settings ADD COLUMN corporate_currency text;

CREATE TABLE org_exchange_rates (
    corporate_currency text        NOT NULL,
    currency_code      text        NOT NULL,
    effective_on       date        NOT NULL,
    rate               numeric     NOT NULL CHECK (rate > 0),
    -- When the admin set it: a day's rate set again replaces the one set before, whatever
    -- order the events arrive in.
    set_at             timestamptz NOT NULL,
    PRIMARY KEY (corporate_currency, currency_code, effective_on)
);
