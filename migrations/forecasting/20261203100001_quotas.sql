-- Quotas and targets (capability F3): one target per holder (the company, a team, a rep), kind
-- and fiscal period, versioned (every write publishes quota_set with the new version).
CREATE TABLE quotas (
    id               uuid        PRIMARY KEY,
    level            text        NOT NULL CHECK (level IN ('company', 'team', 'rep')),
    -- '' for the company, the team path for a team, the user id for a rep.
    holder_key       text        NOT NULL,
    -- Visibility: the team's own path, the rep's team when set, '' for the company.
    holder_team_path text        NOT NULL,
    kind             text        NOT NULL CHECK (kind IN ('revenue', 'calls_per_week',
                         'meetings_per_week', 'visits_per_week', 'new_accounts',
                         'average_deal_size', 'growth')),
    -- The period as the fiscal calendar named it when set, and its days [start, end).
    period_kind      text        NOT NULL CHECK (period_kind IN ('month', 'quarter', 'year')),
    period_label     text        NOT NULL,
    period_start     date        NOT NULL,
    period_end       date        NOT NULL CHECK (period_end > period_start),
    -- The corporate currency of a money target; NULL for counts, rates and percents.
    currency         text,
    target           numeric     NOT NULL,
    version          bigint      NOT NULL CHECK (version >= 1),
    set_by           uuid        NOT NULL,
    set_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (level, holder_key, kind, period_kind, period_start)
);
CREATE INDEX quotas_by_period ON quotas (period_start, period_kind, kind);

-- The activity log as the opportunities service's activity_logged events describe it (full
-- state, kept by version): what activity targets count.
CREATE TABLE activities (
    id              uuid        PRIMARY KEY,
    version         bigint      NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('call', 'meeting', 'visit', 'email', 'note')),
    owner_id        uuid        NOT NULL,
    owner_team_path text        NOT NULL,
    starts_at       timestamptz NOT NULL
);
CREATE INDEX activities_by_team ON activities (owner_team_path text_pattern_ops, starts_at);
CREATE INDEX activities_by_owner ON activities (owner_id, starts_at);

-- New accounts: each account's first won deal.
CREATE INDEX deals_won_by_account ON deals (account_id, closed_on) WHERE status = 'won';
