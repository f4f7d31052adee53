-- The organisation's directory as this service knows it: every user the gateway's org events
-- told it about (from_directory, at the user's version), and users it has so far only seen a
-- token of (their token's team, a fallback until the directory speaks). New records are filed
-- under the team here; see crm_platform::org.
CREATE TABLE org_users (
    user_id        uuid PRIMARY KEY,
    team_path      text        NOT NULL,
    role           text,
    display_name   text        NOT NULL DEFAULT '',
    active         boolean     NOT NULL DEFAULT true,
    from_directory boolean     NOT NULL DEFAULT false,
    -- The user's version in the gateway; 0 for a row fed by a token.
    version        bigint      NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX org_users_team ON org_users (team_path text_pattern_ops);
