-- Accounts and contacts (domain.md A1, A2, A4).

-- Trigram similarity for fuzzy duplicate detection on normalised names.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE accounts (
    id                     uuid PRIMARY KEY,
    name                   text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    name_key               text        NOT NULL,   -- normalised company name, for dedupe
    domain                 text,                   -- normalised from the website
    parent_account_id      uuid REFERENCES accounts (id),
    industry               text        NOT NULL DEFAULT '',
    region                 text        NOT NULL DEFAULT '',
    size                   smallint    NOT NULL DEFAULT 0,
    website                text        NOT NULL DEFAULT '',
    phone                  text,                   -- E.164
    owner_id               uuid        NOT NULL,
    owner_team_path        text        NOT NULL,
    tags                   text[]      NOT NULL DEFAULT '{}',
    custom_fields          jsonb       NOT NULL DEFAULT '{}',
    status                 smallint    NOT NULL DEFAULT 1,  -- 1 active, 2 archived, 3 merged
    merged_into_account_id uuid REFERENCES accounts (id),
    version                bigint      NOT NULL DEFAULT 1,
    created_by             uuid        NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX accounts_name_key_trgm ON accounts USING gin (name_key gin_trgm_ops);
CREATE INDEX accounts_domain ON accounts (domain) WHERE domain IS NOT NULL;
CREATE INDEX accounts_phone ON accounts (phone) WHERE phone IS NOT NULL;
CREATE INDEX accounts_owner ON accounts (owner_id);
CREATE INDEX accounts_team ON accounts (owner_team_path text_pattern_ops);
CREATE INDEX accounts_parent ON accounts (parent_account_id) WHERE parent_account_id IS NOT NULL;
CREATE INDEX accounts_created ON accounts (created_at, id);
CREATE INDEX accounts_tags ON accounts USING gin (tags);

CREATE TABLE contacts (
    id                     uuid PRIMARY KEY,
    account_id             uuid        NOT NULL REFERENCES accounts (id),
    full_name              text        NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
    name_key               text        NOT NULL,
    title                  text        NOT NULL DEFAULT '',
    email                  text,                   -- normalised
    phone                  text,                   -- E.164
    mobile                 text,                   -- E.164
    wechat                 text        NOT NULL DEFAULT '',
    buying_role            smallint    NOT NULL DEFAULT 0,
    important_dates        jsonb       NOT NULL DEFAULT '[]',
    owner_id               uuid        NOT NULL,
    owner_team_path        text        NOT NULL,
    status                 smallint    NOT NULL DEFAULT 1,
    merged_into_contact_id uuid REFERENCES contacts (id),
    version                bigint      NOT NULL DEFAULT 1,
    created_by             uuid        NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX contacts_account ON contacts (account_id);
CREATE INDEX contacts_email ON contacts (email) WHERE email IS NOT NULL;
CREATE INDEX contacts_phone ON contacts (phone) WHERE phone IS NOT NULL;
CREATE INDEX contacts_mobile ON contacts (mobile) WHERE mobile IS NOT NULL;
CREATE INDEX contacts_owner ON contacts (owner_id);
CREATE INDEX contacts_team ON contacts (owner_team_path text_pattern_ops);
CREATE INDEX contacts_created ON contacts (created_at, id);
CREATE INDEX contacts_name_key_trgm ON contacts USING gin (name_key gin_trgm_ops);

-- Every merge, with both records as they were, so what was merged can be audited.
CREATE TABLE merges (
    id               uuid PRIMARY KEY,
    kind             text        NOT NULL CHECK (kind IN ('account', 'contact')),
    survivor_id      uuid        NOT NULL,
    duplicate_id     uuid        NOT NULL,
    merged_by        uuid        NOT NULL,
    merged_at        timestamptz NOT NULL DEFAULT now(),
    survivor_before  jsonb       NOT NULL,
    duplicate_before jsonb       NOT NULL,
    moved            jsonb       NOT NULL DEFAULT '{}'
);

CREATE INDEX merges_survivor ON merges (survivor_id);

-- Users this service has seen, with their team: who an owner id belongs to. Fed by callers'
-- tokens now, and by the gateway's org events once they exist.
CREATE TABLE known_users (
    user_id    uuid PRIMARY KEY,
    team_path  text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
