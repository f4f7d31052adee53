-- The organisation's fiscal calendar (OrgSettings.fiscal_year_start_month / fiscal_year_naming,
-- crm_platform::fiscal): the calendar year until an admin sets another start month.
ALTER TABLE organisation_settings
    ADD COLUMN fiscal_year_start_month integer NOT NULL DEFAULT 1
        CHECK (fiscal_year_start_month BETWEEN 1 AND 12),
    ADD COLUMN fiscal_year_naming text NOT NULL DEFAULT 'starting_year'
        CHECK (fiscal_year_naming IN ('starting_year', 'ending_year'));
