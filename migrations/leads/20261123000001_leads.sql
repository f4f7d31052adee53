-- Leads (domain.md L1-L8): capture, dedupe, pool, assignment, recycling, conversion, campaigns.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE campaigns (
    id            uuid PRIMARY KEY,
    name          text          NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    channel       smallint      NOT NULL DEFAULT 0,
    cost_amount   numeric(20,4) NOT NULL DEFAULT 0 CHECK (cost_amount >= 0),
    cost_currency char(3)       NOT NULL DEFAULT 'CNY',
    starts_on     date,
    ends_on       date,
    created_by    uuid          NOT NULL,
    created_at    timestamptz   NOT NULL DEFAULT now()
);

CREATE TABLE leads (
    id                       uuid PRIMARY KEY,
    first_name               text        NOT NULL DEFAULT '',
    last_name                text        NOT NULL DEFAULT '',
    person_key               text        NOT NULL DEFAULT '',   -- normalised full name
    email                    text,                              -- normalised
    phone                    text,                              -- E.164
    company                  text        NOT NULL DEFAULT '',
    company_key              text        NOT NULL DEFAULT '',   -- normalised company name
    domain                   text,                              -- from website or email
    title                    text        NOT NULL DEFAULT '',
    website                  text        NOT NULL DEFAULT '',
    industry                 text        NOT NULL DEFAULT '',
    territory                text        NOT NULL DEFAULT '',
    company_size             smallint    NOT NULL DEFAULT 0,
    product_interest         text        NOT NULL DEFAULT '',
    description              text        NOT NULL DEFAULT '',
    source_channel           smallint    NOT NULL,
    campaign_id              uuid REFERENCES campaigns (id),
    status                   text        NOT NULL DEFAULT 'new',
    disqualify_reason        text,
    owner_id                 uuid,                              -- NULL: in the pool
    owner_team_path          text,
    held_by_claim            boolean     NOT NULL DEFAULT false,  -- counts against the claim cap
    pool_team_path           text        NOT NULL,              -- whose pool it returns to
    score_total              integer     NOT NULL DEFAULT 0,
    score                    jsonb       NOT NULL DEFAULT '{}',
    possible_duplicate_of    uuid,
    duplicate_score          smallint    NOT NULL DEFAULT 0,
    merged_into_lead_id      uuid REFERENCES leads (id),
    converted_account_id     uuid,
    converted_contact_id     uuid,
    converted_opportunity_id uuid,
    converted_at             timestamptz,
    won_at                   timestamptz,
    won_amount               numeric(20,4),
    assigned_at              timestamptz,
    last_touched_at          timestamptz,
    recycle_warned_at        timestamptz,
    version                  bigint      NOT NULL DEFAULT 1,
    created_by               uuid,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX leads_email ON leads (email) WHERE email IS NOT NULL AND merged_into_lead_id IS NULL;
CREATE INDEX leads_phone ON leads (phone) WHERE phone IS NOT NULL AND merged_into_lead_id IS NULL;
CREATE INDEX leads_domain ON leads (domain) WHERE domain IS NOT NULL AND merged_into_lead_id IS NULL;
CREATE INDEX leads_company_key_trgm ON leads USING gin (company_key gin_trgm_ops);
CREATE INDEX leads_owner ON leads (owner_id, status) WHERE owner_id IS NOT NULL;
CREATE INDEX leads_owner_team ON leads (owner_team_path text_pattern_ops);
CREATE INDEX leads_pool ON leads (pool_team_path text_pattern_ops, created_at) WHERE owner_id IS NULL;
CREATE INDEX leads_created ON leads (created_at, id);
CREATE INDEX leads_score ON leads (score_total, id);
CREATE INDEX leads_campaign ON leads (campaign_id) WHERE campaign_id IS NOT NULL;
-- The recycling job's work list: owned leads still being worked.
CREATE INDEX leads_recyclable ON leads (last_touched_at) WHERE status IN ('assigned', 'working');

-- Every hand-over, status change, merge and decision: the lead's audit trail.
CREATE TABLE lead_history (
    id            uuid PRIMARY KEY,
    lead_id       uuid        NOT NULL REFERENCES leads (id),
    at            timestamptz NOT NULL DEFAULT now(),
    kind          text        NOT NULL,
    actor_id      uuid,
    from_owner_id uuid,
    to_owner_id   uuid,
    summary       text        NOT NULL,
    details       jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX lead_history_lead ON lead_history (lead_id, at);
-- The cool-down check: who lost which lead when.
CREATE INDEX lead_history_releases ON lead_history (lead_id, from_owner_id, at) WHERE kind IN ('recycled', 'released');

CREATE TABLE lead_activities (
    id       uuid PRIMARY KEY,
    lead_id  uuid        NOT NULL REFERENCES leads (id),
    kind     text        NOT NULL,
    at       timestamptz NOT NULL DEFAULT now(),
    actor_id uuid,
    note     text        NOT NULL DEFAULT ''
);
CREATE INDEX lead_activities_lead ON lead_activities (lead_id, at);

-- The rep roster as leads needs it (stage, capacity); fed by admins now and by the gateway's
-- org events once they exist.
CREATE TABLE reps (
    rep_id       uuid PRIMARY KEY,
    team_path    text        NOT NULL,
    display_name text        NOT NULL DEFAULT '',
    stage        text        NOT NULL DEFAULT 'established',
    started_on   date        NOT NULL DEFAULT current_date,
    capacity     integer     NOT NULL DEFAULT 50 CHECK (capacity >= 0),
    claim_cap    integer     NOT NULL DEFAULT 20 CHECK (claim_cap >= 0),
    active       boolean     NOT NULL DEFAULT true,
    open_pipeline numeric(20,4) NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reps_team ON reps (team_path text_pattern_ops);

CREATE TABLE assignment_rules (
    id         uuid PRIMARY KEY,
    team_path  text        NOT NULL,
    position   integer     NOT NULL,
    name       text        NOT NULL,
    criteria   jsonb       NOT NULL,
    rep_ids    uuid[]      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (team_path, position)
);

-- Smooth weighted round-robin state per rule group (and per team fallback).
CREATE TABLE assignment_state (
    group_key  text PRIMARY KEY,
    state      jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row: fairness, recycling, scoring and duplicate policies.
CREATE TABLE lead_policies (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    policies   jsonb       NOT NULL,
    updated_by uuid,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE lead_merges (
    id               uuid PRIMARY KEY,
    survivor_id      uuid        NOT NULL REFERENCES leads (id),
    duplicate_id     uuid        NOT NULL REFERENCES leads (id),
    merged_by        uuid,
    merged_at        timestamptz NOT NULL DEFAULT now(),
    survivor_before  jsonb       NOT NULL,
    duplicate_before jsonb       NOT NULL,
    origins          jsonb       NOT NULL,
    undone_at        timestamptz,
    undone_by        uuid
);

CREATE TABLE web_forms (
    id                    uuid PRIMARY KEY,
    name                  text        NOT NULL,
    key_hash              text        NOT NULL UNIQUE,   -- sha-256 of the form key
    campaign_id           uuid REFERENCES campaigns (id),
    team_path             text        NOT NULL,
    rate_limit_per_minute integer     NOT NULL DEFAULT 30 CHECK (rate_limit_per_minute > 0),
    active                boolean     NOT NULL DEFAULT true,
    created_by            uuid        NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now()
);

-- Accounts known to leads (from account events and its own conversions), so a converting lead
-- is matched onto an existing account instead of creating a duplicate.
CREATE TABLE account_directory (
    account_id uuid PRIMARY KEY,
    name       text        NOT NULL,
    name_key   text        NOT NULL,
    domain     text,
    active     boolean     NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_directory_name_key ON account_directory (name_key) WHERE active;
CREATE INDEX account_directory_domain ON account_directory (domain) WHERE active AND domain IS NOT NULL;
