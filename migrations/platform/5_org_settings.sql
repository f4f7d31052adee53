-- The organisation's settings as this service last heard them from the gateway's
-- OrgSettingsUpdated events (crm_platform::org): one row once the first event arrived, kept at
-- the highest version seen. No row: nothing set (national phone numbers are refused).
CREATE TABLE org_settings (
    singleton            boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    -- Digits without "+" ("86"); NULL: none.
    default_calling_code text,
    version              bigint      NOT NULL,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
