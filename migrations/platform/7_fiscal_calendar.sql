-- The organisation's fiscal calendar as the gateway's OrgSettingsUpdated events carry it
-- (crm_platform::fiscal); the calendar year until they say otherwise.
ALTER TABLE org_settings
    ADD COLUMN fiscal_year_start_month integer NOT NULL DEFAULT 1
        CHECK (fiscal_year_start_month BETWEEN 1 AND 12),
    ADD COLUMN fiscal_year_naming text NOT NULL DEFAULT 'starting_year'
        CHECK (fiscal_year_naming IN ('starting_year', 'ending_year'));
