-- The organisation's corporate currency (OrgSettings.corporate_currency, an active ISO 4217
-- code checked by the gateway; NULL: none set yet) and the exchange rates into it
-- (OrgService.SetExchangeRate / ListExchangeRates), published as ExchangeRateSet so that every
-- service can give a deal's amount in the corporate currency too (crm_platform::org).
ALTER TABLE organisation_settings
    ADD COLUMN corporate_currency text CHECK (corporate_currency ~ '^[A-Z]{3}$');

-- Rates are kept per corporate currency: after it changes, the rates into the new one apply,
-- and those into the old one stay what they were (a deal event converted with them says so).
CREATE TABLE exchange_rates (
    corporate_currency text        NOT NULL CHECK (corporate_currency ~ '^[A-Z]{3}$'),
    currency_code      text        NOT NULL CHECK (currency_code ~ '^[A-Z]{3}$'),
    -- The rate applies from this day until the next rate of the same currency.
    effective_on       date        NOT NULL,
    -- Units of the corporate currency per unit of currency_code; at most 10 fraction digits.
    rate               numeric     NOT NULL CHECK (rate > 0 AND scale(rate) <= 10),
    -- Setting a day's rate again replaces it: set_at only grows (the consumers keep the rate
    -- with the latest set_at) and version counts the settings of that day.
    set_at             timestamptz NOT NULL,
    set_by             uuid        NOT NULL,
    version            bigint      NOT NULL DEFAULT 1,
    PRIMARY KEY (corporate_currency, currency_code, effective_on),
    CHECK (currency_code <> corporate_currency)
);
