-- The organisation's settings (OrgService.GetOrgSettings / UpdateOrgSettings): one row, here
-- from the start with nothing set at version 0. Each change bumps the version and publishes
-- OrgSettingsUpdated, which every service keeps in its org_settings (crm_platform::org).
CREATE TABLE organisation_settings (
    id                   uuid        PRIMARY KEY,
    -- Digits without "+" ("86"): the country calling code of national phone numbers; NULL: none.
    default_calling_code text        CHECK (default_calling_code ~ '^[1-9][0-9]{0,2}$'),
    version              bigint      NOT NULL DEFAULT 0,
    updated_at           timestamptz,
    updated_by           uuid
);
CREATE UNIQUE INDEX organisation_settings_one_row ON organisation_settings ((true));
INSERT INTO organisation_settings (id) VALUES (gen_random_uuid());
